"""Two `inetkit serve` processes on one shared state directory (two nodes),
and one serve with two worker processes (workers = auto on a 2-CPU host): IMAP sessions on both keep polling INBOX (NOOP)
while mail arrives. No client deletes anything, so no session may be told
of an EXPUNGE and every message keeps the UID it first got: 60 messages,
UIDs 1 to 60, no "-" record in the index.

This was the race of issue 18: a sync that listed the Maildir before
taking the index lock could find a record another process had just
appended ("+ UID" for a message it moved from new/ to cur/) missing from
its older list, and append "- UID": the message was reported expunged and
came back with a new UID. The listing is now made under the index lock
(mail_index_sync_scan), new/ read before cur/. Racy by nature: a pass
here is evidence, not proof; tests/unit/test_mail_index.c checks the
ordering itself."""
import os
import re
import smtplib
import subprocess
import threading

import pytest

from conftest import BIN, free_port, run, wait_port
from imapd_env import PASSWORD, Raw

MESSAGES = 60


def start_node(base, state, k, workers):
    iport, sport = free_port(), free_port()
    conf = os.path.join(base, "node%d.conf" % k)
    with open(conf, "w") as f:
        f.write("[serve]\nstate_dir = %s\nuser = root\nworkers = %d\nlog_level = info\n"
                "[accounts]\nhash_cost = 1\nfailure_delay = 0\n"
                "[smtp]\nlisten = 127.0.0.1:%d\ndomains = localhost\n"
                "[imap]\nlisten = 127.0.0.1:%d\nlogin_plaintext = yes\n"
                % (state, workers, sport, iport))
    proc = subprocess.Popen([BIN, "serve", "--config", conf],
                            stdout=open(conf + ".log", "ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    wait_port(iport, proc=proc)
    wait_port(sport, proc=proc)
    return proc, iport, sport


@pytest.mark.parametrize("nodes,workers", [(2, 0), (1, 2)], ids=["two-nodes", "two-workers"])
def test_two_processes_keep_uids(tmp_path, nodes, workers):
    state = str(tmp_path / "state")
    os.makedirs(state)
    run("user", "add", "alice", "--db", os.path.join(state, "accounts.db"),
        "--password-stdin", input=PASSWORD + "\n", check=0)
    count, nodes = nodes, []
    try:
        for k in range(count):
            nodes.append(start_node(str(tmp_path), state, k, workers))
        stop = threading.Event()
        expunges = []

        def poll(port):
            r = Raw(port)
            r.login()
            r.cmd("s SELECT INBOX")
            while not stop.is_set():
                expunges.extend(x for x in r.cmd("n NOOP") if x.endswith(" EXPUNGE"))
            r.cmd("z LOGOUT")
            r.close()

        threads = [threading.Thread(target=poll, args=(nodes[i % count][1],)) for i in range(4)]
        for t in threads:
            t.start()
        try:
            for i in range(MESSAGES):
                with smtplib.SMTP("127.0.0.1", nodes[i % count][2], timeout=10) as s:
                    s.sendmail("me@example.org", ["alice@localhost"],
                               "Subject: m%d\r\n\r\nx\r\n" % i)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
        r = Raw(nodes[0][1])
        r.login()
        r.cmd("s SELECT INBOX")
        got = r.cmd("f UID FETCH 1:* (UID)")
        r.close()
        uids = [int(m.group(1)) for m in map(re.compile(r"UID (\d+)").search, got) if m]
        with open(os.path.join(state, "mail", "alice", "inetkit-index")) as f:
            removed = [x for x in f.read().splitlines() if x.startswith("- ")]
        assert (expunges, removed, uids) == ([], [], list(range(1, MESSAGES + 1)))
    finally:
        for proc, _, _ in nodes:
            proc.terminate()
            proc.wait(timeout=15)

"""Durable before acknowledged: `kill -9` the server (and its workers)
while 20 clients send, restart it on the same state directory, and check
that every message that got a 250 is stored complete in its Maildir or in
the queue, that no file in new/ is partial, and that what the crash left
in the spool is gone after the restart."""
import os
import random
import re
import smtplib
import threading
import time

from smtpd_env import CLIENT, Smtpd, body_of, lf, read, split_trace

END_RX = re.compile(rb"\nEND (t\d+-\d+)\n\Z")
RECIPIENTS = ["alice@localhost", "bob@localhost", "far@example.org"]


def crash_message(token, rnd):
    lines = ["%s line %d %s" % (token, i, "".join(rnd.choice("abcdefghij .") for _ in range(70)))
             for i in range(rnd.randint(1, 300))]
    return ("From: <sender@example.org>\r\nSubject: crash %s\r\n\r\n%s\r\nEND %s\r\n"
            % (token, "\r\n".join(lines), token)).encode()


def sender(port, n, stop, acked, errors):
    rnd = random.Random(n)
    i = 0
    while not stop.is_set():
        try:
            s = smtplib.SMTP("127.0.0.1", port, local_hostname=CLIENT, timeout=20)
        except OSError:
            return
        try:
            s.ehlo()
            while not stop.is_set():
                i += 1
                token = "t%d-%d" % (n, i)
                to = RECIPIENTS[i % len(RECIPIENTS)]
                msg = crash_message(token, rnd)
                r1 = s.mail("sender@example.org")
                r2 = s.rcpt(to)
                if r1[0] != 250 or r2[0] != 250:
                    errors.append((token, "MAIL/RCPT refused: %s %s" % (r1, r2)))
                    return
                code, resp = s.data(msg)
                if code == 250:
                    acked.append((token, to, resp.decode("utf-8", "replace"), msg))
                else:
                    errors.append((token, "%d %s" % (code, resp)))
                    return
        except (OSError, smtplib.SMTPException):
            return          # the server is gone
        finally:
            try:
                s.close()
            except OSError:
                pass


def stored_by_token(srv):
    """{token: [paths]} over every mailbox's new/ and the queue's .msg files;
    asserts that each file is whole (ends with its END line)."""
    found = {}
    paths = []
    for name in srv.mailboxes():
        paths += srv.new_files(name)
    q = srv.queue_dir()
    if os.path.isdir(q):
        paths += [os.path.join(q, f) for f in os.listdir(q) if f.endswith(".msg")]
    for p in paths:
        data = read(p)
        m = END_RX.search(data)
        assert m, "partial or foreign file %s (%d bytes), ends %r" % (p, len(data), data[-80:])
        split_trace(data)
        found.setdefault(m.group(1).decode(), []).append(p)
    return found


def test_kill_9_while_20_clients_send(tmp_path):
    srv = Smtpd(tmp_path, smtp={"relay_networks": "127.0.0.0/8"}, users=("alice", "bob"),
                workers=2, log_level="info")
    stop = threading.Event()
    acked, errors = [], []
    threads = [threading.Thread(target=sender, args=(srv.port, n, stop, acked, errors),
                                daemon=True) for n in range(20)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        # let them run for a while, and at least until some mail is acknowledged
        time.sleep(1.5)
        while len(acked) < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        srv.kill9()
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors[:5]
    assert len(acked) >= 20, "only %d messages acknowledged before the kill" % len(acked)

    # straight after the crash: nothing partial is visible
    stored_by_token(srv)

    srv.start()
    try:
        assert srv.spool_files() == [], "crash leftovers not removed: %s" % srv.spool_files()
        q = srv.queue_dir()
        names = os.listdir(q) if os.path.isdir(q) else []
        envs = {n[:-4] for n in names if n.endswith(".env")}
        msgs = {n[:-4] for n in names if n.endswith(".msg")}
        assert envs == msgs, "queue entries without their pair: %s" % (envs ^ msgs)
        assert all(n.endswith((".env", ".msg")) for n in names), names
        found = stored_by_token(srv)
        lost = []
        for token, to, resp, msg in acked:
            paths = found.get(token, [])
            if not paths:
                lost.append((token, to, resp))
                continue
            assert len(paths) == 1, "%s stored %d times: %s" % (token, len(paths), paths)
            path = paths[0]
            if to.endswith("@localhost"):
                assert "/mail/%s/new/" % to.split("@")[0] in path, (token, path)
            else:
                assert path.startswith(q), (token, path)
            assert body_of(path) == lf(msg), "%s differs from what was sent" % token
            qid = re.search(r"queued as (\S+)", resp)
            if qid:
                assert qid.group(1) in os.path.basename(path), (resp, path)
        assert not lost, "%d acknowledged messages lost, e.g. %s" % (len(lost), lost[:5])
        # and the restarted server works on the same state
        with smtplib.SMTP("127.0.0.1", srv.port, local_hostname=CLIENT, timeout=20) as s:
            s.sendmail("sender@example.org", ["alice@localhost"],
                       crash_message("t99-1", random.Random(1)))
        assert "t99-1" in stored_by_token(srv)
    finally:
        srv.stop()

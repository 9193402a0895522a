"""`inetkit queue list | show | delete`: the outbound queue smtpd fills.

Entries are written here as smtpd writes them, in the envelope format that
src/smtp/smtp_queue_env.c documents (and inetkit-queue(1)): ID.env beside
ID.msg in STATE_DIR/queue. Each test gets its own state directory."""
import json
import os

import pytest

from conftest import run

TRY = "Try 'inetkit queue --help'.\n"
ENV = {"TZ": "UTC", "NO_COLOR": "1"}

ID1 = "1700000000.M000123P4242Q1"
ID2 = "1600000000.M999999P17Q12"
ID3 = "1700000000.M000123P4242Q2"


def queue(*args, check=None):
    return run("queue", *args, check=check, env=ENV)


def esc(value):
    """A value as the envelope file writes it."""
    if value is None:
        return "-"
    if value == "":
        return "<>"
    if value == "-":
        return "%2D"
    out = []
    for b in value.encode():
        if b <= 0x20 or b == 0x7F or chr(b) in "%<>":
            out.append("%%%02X" % b)
        else:
            out.append(chr(b))
    return "".join(out).encode("latin-1").decode("utf-8")


def add_entry(state, qid, sender, rcpts, arrival, body=b"Subject: x\n\nhello\n", extra=()):
    """rcpts: [(notify, address, orcpt)]."""
    qdir = os.path.join(state, "queue")
    os.makedirs(qdir, mode=0o700, exist_ok=True)
    lines = ["inetkit-queue 1", "from " + esc(sender)]
    lines += ["rcpt %s %s %s" % (n, esc(a), esc(o)) for n, a, o in rcpts]
    lines += list(extra)
    lines += ["arrival %d" % arrival, "size %d" % len(body)]
    with open(os.path.join(qdir, qid + ".msg"), "wb") as f:
        f.write(body)
    with open(os.path.join(qdir, qid + ".env"), "wb") as f:
        f.write(("\n".join(lines) + "\n").encode())


@pytest.fixture
def state(tmp_path):
    d = tmp_path / "state"
    d.mkdir()
    return str(d)


@pytest.fixture
def full(state):
    add_entry(state, ID1, "alice@example.org",
              [("failure,delay", "bob@example.net", "rfc822;bob@example.net"),
               ("-", "j\u00fcrgen@b\u00fccher.example", None)], 1700000000,
              extra=["ret hdrs", "envid QQ%20314159", "body 8bitmime", "smtputf8 yes",
                     "auth alice", "client 127.0.0.1:40312", "helo laptop.example.org",
                     "tls TLSv1.3%20TLS_AES_256_GCM_SHA384", "attempts 2", "next 1700000600"])
    add_entry(state, ID2, "", [("never", "postmaster@example.com", None)], 1600000000,
              body=b"bounce\n")
    return state


def test_help():
    p = queue("--help", check=0)
    assert p.stdout.startswith("Usage: inetkit queue VERB [ID] [OPTIONS]\n")
    for verb in ("list [--json]", "show ID [--json]", "delete ID", "--state-dir DIR",
                 "--config FILE"):
        assert verb in p.stdout
    p = run("help", "queue", env={"MANWIDTH": "80"}, check=0)
    assert "inetkit-queue" in p.stdout or "INETKIT-QUEUE" in p.stdout


def test_list_oldest_first_with_total(full):
    p = queue("list", "--state-dir", full, check=0)
    assert p.stderr == ""
    assert p.stdout == (
        "ID                                ARRIVAL                     SIZE  RCPTS  FROM\n"
        "1600000000.M999999P17Q12          2020-09-13T12:26:40Z           7      1  <>\n"
        "1700000000.M000123P4242Q1         2023-11-14T22:13:20Z          18      2  "
        "alice@example.org\n"
        "total: 2 messages, 25 bytes, 3 recipients\n")


def test_list_json(full):
    p = queue("list", "--json", "--state-dir", full, check=0)
    assert json.loads(p.stdout) == [
        {"id": ID2, "arrival": "2020-09-13T12:26:40Z", "size": 7, "from": "",
         "recipients": 1, "to": ["postmaster@example.com"], "attempts": 0, "hold": False},
        {"id": ID1, "arrival": "2023-11-14T22:13:20Z", "size": 18, "from": "alice@example.org",
         "recipients": 2, "to": ["bob@example.net", "j\u00fcrgen@b\u00fccher.example"],
         "attempts": 2, "hold": False},
    ]


def test_same_arrival_ordered_by_id(state):
    add_entry(state, ID3, "b@x", [("-", "c@y", None)], 1700000000)
    add_entry(state, ID1, "a@x", [("-", "c@y", None)], 1700000000)
    p = queue("list", "--json", "--state-dir", state, check=0)
    assert [e["id"] for e in json.loads(p.stdout)] == [ID1, ID3]


def test_show(full):
    p = queue("show", ID1, "--state-dir", full, check=0)
    assert p.stdout == (
        "id:           1700000000.M000123P4242Q1\n"
        "arrival:      2023-11-14T22:13:20Z\n"
        "size:         18 bytes\n"
        "from:         <alice@example.org>\n"
        "recipients:   2\n"
        "              <bob@example.net>  notify failure,delay  orcpt rfc822;bob@example.net\n"
        "              <j\u00fcrgen@b\u00fccher.example>\n"
        "envid:        QQ 314159\n"
        "return:       headers only\n"
        "body:         8BITMIME, SMTPUTF8\n"
        "client:       127.0.0.1:40312\n"
        "helo:         laptop.example.org\n"
        "auth:         alice\n"
        "tls:          TLSv1.3 TLS_AES_256_GCM_SHA384\n"
        "attempts:     2\n"
        "next attempt: 2023-11-14T22:23:20Z\n"
        "message:      %s/queue/%s.msg\n" % (full, ID1))


def test_show_json(full):
    p = queue("show", ID2, "--json", "--state-dir", full, check=0)
    assert json.loads(p.stdout) == {
        "id": ID2, "arrival": "2020-09-13T12:26:40Z", "size": 7, "from": "",
        "recipients": [{"address": "postmaster@example.com", "notify": "never", "orcpt": None}],
        "ret": None, "envid": None, "body": "7bit", "smtputf8": False, "auth_user": None,
        "client": None, "helo": None, "tls": None, "attempts": 0, "hold": False,
        "last_error": None, "next_attempt": None, "message": "%s/queue/%s.msg" % (full, ID2)}
    p = queue("show", ID1, "--json", "--state-dir", full, check=0)
    got = json.loads(p.stdout)
    assert got["recipients"][0] == {"address": "bob@example.net", "notify": "failure,delay",
                                    "orcpt": "rfc822;bob@example.net"}
    assert (got["ret"], got["envid"], got["tls"]) == ("hdrs", "QQ 314159",
                                                      "TLSv1.3 TLS_AES_256_GCM_SHA384")


def test_show_control_bytes_are_not_sent_to_the_terminal(state):
    add_entry(state, ID1, "evil\x1b[2J@example.org", [("-", "a@b", None)], 1700000000)
    p = queue("show", ID1, "--state-dir", state, check=0)
    assert "from:         <evil?[2J@example.org>\n" in p.stdout
    p = queue("list", "--state-dir", state, check=0)
    assert "evil?[2J@example.org" in p.stdout and "\x1b" not in p.stdout


def test_delete(full):
    p = queue("delete", ID1, "--state-dir", full, check=0)
    assert p.stdout == "deleted %s\n" % ID1
    qdir = os.path.join(full, "queue")
    assert sorted(os.listdir(qdir)) == [ID2 + ".env", ID2 + ".msg"]
    p = queue("delete", ID1, "--state-dir", full, check=1)
    assert p.stderr == ("inetkit queue: no such queue entry %s (see inetkit queue list)\n"
                        % ID1)
    p = queue("show", ID1, "--state-dir", full, check=1)
    assert p.stderr == ("inetkit queue: no such queue entry %s (see inetkit queue list)\n"
                        % ID1)


def test_empty_queue(state):
    # No queue directory yet (no mail was queued): empty, and nothing made.
    p = queue("list", "--state-dir", state, check=0)
    assert p.stdout == "The queue is empty (%s/queue).\n" % state
    assert not os.path.exists(os.path.join(state, "queue"))
    p = queue("list", "--json", "--state-dir", state, check=0)
    assert json.loads(p.stdout) == []
    os.mkdir(os.path.join(state, "queue"))
    p = queue("list", "--state-dir", state, check=0)
    assert p.stdout == "The queue is empty (%s/queue).\n" % state
    p = queue("delete", ID1, "--state-dir", state, check=1)
    assert p.stderr == ("inetkit queue: no such queue entry %s (see inetkit queue list)\n"
                        % ID1)


def test_state_dir_from_config(full, tmp_path):
    conf = tmp_path / "inetkit.conf"
    conf.write_text("[serve]\nstate_dir = %s\n" % full)
    p = queue("list", "--config", str(conf), check=0)
    assert p.stdout.endswith("total: 2 messages, 25 bytes, 3 recipients\n")


def test_malformed_envelope_is_listed_and_named(full):
    path = os.path.join(full, "queue", ID3 + ".env")
    with open(path, "w") as f:
        f.write("inetkit-queue 1\nfrom a@b\nrcpt - c@d -\narrival yesterday\nsize 1\n")
    p = queue("list", "--state-dir", full, check=1)
    err = ("inetkit queue: %s line 4: arrival: 'yesterday' is not a number from 0 to "
           "9223372036854775807\n" % path)
    assert p.stderr == err
    assert "%-32s  (unreadable envelope: see the error)\n" % ID3 in p.stdout
    assert p.stdout.endswith("total: 3 messages, 25 bytes, 3 recipients\n")
    p = queue("list", "--json", "--state-dir", full, check=1)
    assert json.loads(p.stdout)[0] == {"id": ID3, "error": err[len("inetkit queue: "):-1]}
    p = queue("show", ID3, "--state-dir", full, check=1)
    assert p.stderr == err
    queue("delete", ID3, "--state-dir", full, check=0)
    queue("list", "--state-dir", full, check=0)


@pytest.mark.parametrize("args, msg", [
    ([], "missing verb (list, show, delete, flush, hold or release)"),
    (["lst"], "unknown verb 'lst' (use list, show, delete, flush, hold or release)\nDid you mean 'list'?"),
    (["show"], "'queue show' needs a queue ID (see inetkit queue list)"),
    (["delete", ID1, ID2], "unexpected argument '%s'" % ID2),
    (["list", "extra"], "unexpected argument 'extra'"),
    (["show", "../accounts"], "'../accounts' is not a queue id (such as "
     "1700000000.M123456P42Q1)"),
    (["delete", ".hidden"], "'.hidden' is not a queue id (such as 1700000000.M123456P42Q1)"),
    (["delete", ID1, "--json"], "option --json does not apply to 'queue delete'"),
    (["list", "--jsn"], "unknown option '--jsn'\nDid you mean '--json'?"),
    (["list", "--state-dir"], "option '--state-dir' needs a value"),
    (["list", "--state-dir", "x", "--config", "y"], "give --state-dir or --config, not both"),
])
def test_bad_input(args, msg):
    p = queue(*args, check=2)
    assert p.stderr == "inetkit queue: %s\n%s" % (msg, TRY)


def test_missing_state_dir(tmp_path):
    missing = str(tmp_path / "nope")
    p = queue("list", "--state-dir", missing, check=1)
    assert p.stderr == ("inetkit queue: the state directory %s does not exist; name the one "
                        "smtpd uses with --state-dir DIR or --config FILE\n" % missing)


def test_hold_release_flush(full):
    p = queue("hold", ID1, "--state-dir", full, check=0)
    assert p.stdout == "held %s\n" % ID1
    got = json.loads(queue("show", ID1, "--json", "--state-dir", full, check=0).stdout)
    assert got["hold"] is True
    assert "hold:         yes" in queue("show", ID1, "--state-dir", full, check=0).stdout
    p = queue("release", ID1, "--state-dir", full, check=0)
    assert p.stdout == "released %s\n" % ID1
    got = json.loads(queue("show", ID1, "--json", "--state-dir", full, check=0).stdout)
    assert got["hold"] is False and got["next_attempt"] is None
    # the runner's control file: woken, not signalled
    assert os.path.exists(os.path.join(full, "queue", ".wake"))
    os.unlink(os.path.join(full, "queue", ".wake"))
    p = queue("flush", "--state-dir", full, check=0)
    assert p.stdout == "flushed 2 messages\n"
    assert os.path.exists(os.path.join(full, "queue", ".wake"))
    # the control files are not entries
    assert len(json.loads(queue("list", "--json", "--state-dir", full, check=0).stdout)) == 2
    queue("hold", "1111.M1P1Q1", "--state-dir", full, check=1)

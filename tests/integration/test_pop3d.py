"""`inetkit pop3d` with the clients people read mail with: Python's poplib
(every method of the classic "POP3 to fetch mail" lesson), curl pop3:// and
pop3s://, fetchmail and mutt; mail sent with smtplib through inetkit smtpd
read back byte for byte; the Maildir semantics (UPDATE only at QUIT, the
session lock, mail delivered during a session, new/ -> cur/ with W=).
Exact replies are asserted."""
import os
import poplib
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from pop3d_env import PASSWORD, NO_LOCKOUT, Pop3d, Raw, tls_context

MSG1 = b"From: bob@example.org\nTo: alice@localhost\nSubject: one\n\nfirst line\n.dot line\n..two dots\nlast\n"
MSG2 = b"Subject: two\n\nbody of two\n"


def crlf_size(body):
    return len(body.replace(b"\n", b"\r\n"))


def lines_of(body):
    """What poplib's retr() gives for a message stored as body."""
    return body.rstrip(b"\n").split(b"\n")


@pytest.fixture
def pop(tmp_path):
    with Pop3d(tmp_path) as p:
        yield p


def test_the_classic_lesson_with_poplib(pop):
    b1 = pop.deliver(MSG1)
    b2 = pop.deliver(MSG2)
    p = poplib.POP3("127.0.0.1", pop.port, timeout=15)
    assert p.getwelcome() == b"+OK inetkit POP3 server ready"
    # Before STLS: no USER, no SASL; a plaintext login is refused naming STLS.
    assert p.capa() == {"TOP": [], "UIDL": [], "RESP-CODES": [], "AUTH-RESP-CODE": [],
                        "PIPELINING": [], "STLS": [], "IMPLEMENTATION": ["inetkit"]}
    with pytest.raises(poplib.error_proto) as e:
        p.user("alice")
    assert e.value.args[0] == (b"-ERR [AUTH] Plaintext authentication is disallowed on "
                               b"non-secure connections; send STLS first")
    with pytest.raises(poplib.error_proto) as e:
        p.rpop("alice")
    assert e.value.args[0] == b"-ERR RPOP is not supported; use USER and PASS, or AUTH"
    assert p.stls(tls_context()) == b"+OK Begin TLS negotiation"
    assert p.capa() == {"TOP": [], "UIDL": [], "RESP-CODES": [], "AUTH-RESP-CODE": [],
                        "PIPELINING": [], "USER": [], "SASL": ["PLAIN", "LOGIN"],
                        "IMPLEMENTATION": ["inetkit"]}
    assert p.user("alice") == b"+OK Send PASS"
    total = crlf_size(MSG1) + crlf_size(MSG2)
    assert p.pass_(PASSWORD) == b"+OK Logged in; 2 messages (%d octets)" % total
    assert p.stat() == (2, total)
    assert p.list() == (b"+OK 2 messages (%d octets)" % total,
                        [b"1 %d" % crlf_size(MSG1), b"2 %d" % crlf_size(MSG2)],
                        len(b"1 %d" % crlf_size(MSG1)) + len(b"2 %d" % crlf_size(MSG2)) + 4)
    assert p.list(2) == b"+OK 2 %d" % crlf_size(MSG2)
    assert p.uidl() == (b"+OK Unique-ID listing follows",
                        [b"1 " + b1.encode(), b"2 " + b2.encode()],
                        len(b1) + len(b2) + 8)
    assert p.uidl(1) == b"+OK 1 " + b1.encode()
    resp, lines, octets = p.retr(1)
    assert resp == b"+OK %d octets" % crlf_size(MSG1)
    assert lines == lines_of(MSG1)          # dot-stuffing undone by poplib
    assert octets == crlf_size(MSG1)        # the size LIST gave is what was sent
    resp, lines, _ = p.top(1, 1)
    assert resp == b"+OK Top of message 1 follows"
    assert lines == [b"From: bob@example.org", b"To: alice@localhost", b"Subject: one", b"",
                     b"first line"]
    assert p.top(2, 0)[1] == [b"Subject: two", b""]
    assert p.dele(1) == b"+OK Message 1 deleted"
    with pytest.raises(poplib.error_proto) as e:
        p.retr(1)
    assert e.value.args[0] == b"-ERR Message 1 is deleted"
    with pytest.raises(poplib.error_proto) as e:
        p.dele(9)
    assert e.value.args[0] == b"-ERR No such message; the maildrop has 2"
    assert p.stat() == (1, crlf_size(MSG2))
    assert p.rset() == b"+OK Maildrop has 2 messages (%d octets)" % total
    assert p.noop() == b"+OK"
    assert p.dele(2) == b"+OK Message 2 deleted"
    assert p.quit() == b"+OK inetkit POP3 server signing off (1 messages deleted)"
    # UPDATE removed message 2 only; message 1 (retrieved) is in cur/ with W=
    # and the S flag, as Dovecot leaves it.
    assert pop.files(sub="new") == []
    assert pop.files() == ["%s,S=%d,W=%d:2,S" % (b1, len(MSG1), crlf_size(MSG1))]
    pop.wait_log("user=alice tls=\"TLSv1.3")
    line = [l for l in pop.sessions_logged() if "user=alice" in l][-1]
    assert re.search(r"messages=2 retrieved=1 deleted=1 expired=0 message_octets=\d+ bytes_in=\d+ "
                     r"bytes_out=\d+ errors=4 result=quit$",
                     line), line


def test_implicit_tls_and_auth_plain_and_login(pop):
    pop.deliver(MSG2)
    p = pop.login(implicit=True)
    assert p.stat() == (1, crlf_size(MSG2))
    assert p.quit() == b"+OK inetkit POP3 server signing off (0 messages deleted)"
    r = Raw(pop.tls_port, implicit=True)
    import base64
    tok = base64.b64encode(b"\0alice\0" + PASSWORD.encode()).decode()
    assert r.cmd("AUTH PLAIN " + tok).startswith("+OK Logged in; 1 messages")
    assert r.cmd("QUIT") == "+OK inetkit POP3 server signing off (0 messages deleted)"
    r = Raw(pop.tls_port, implicit=True)
    assert r.cmd("AUTH") == "+OK"
    assert r.lines() == [b"PLAIN\r\n", b"LOGIN\r\n"]
    assert r.cmd("AUTH LOGIN") == "+ VXNlcm5hbWU6"
    assert r.cmd(base64.b64encode(b"alice").decode()) == "+ UGFzc3dvcmQ6"
    assert r.cmd(base64.b64encode(PASSWORD.encode()).decode()).startswith("+OK Logged in")
    r.close()
    r = Raw(pop.tls_port, implicit=True)
    assert r.cmd("AUTH PLAIN") == "+ "
    assert r.cmd("*") == "-ERR Authentication cancelled"
    assert r.cmd("AUTH CRAM-MD5") == ("-ERR Unsupported authentication mechanism; use one of: "
                                      "PLAIN LOGIN")
    r.close()


def test_wrong_password_and_app_password(pop):
    r = Raw(pop.tls_port, implicit=True)
    assert r.login(password="wrong") == "-ERR [AUTH] Authentication failed"
    assert r.cmd("PASS again") == "-ERR No name given; send USER first"
    r.close()
    token = pop.add_token("alice", "phone", "pop3")
    assert token
    p = pop.login(password=token, implicit=True)
    assert p.stat() == (0, 0)
    p.quit()
    smtp_only = pop.add_token("alice", "laptop", "smtp")
    with pytest.raises(poplib.error_proto) as e:
        pop.login(password=smtp_only, implicit=True)
    assert e.value.args[0] == b"-ERR [AUTH] Authentication failed"


def test_second_session_is_in_use(pop):
    pop.deliver(MSG2)
    p = pop.login()
    with pytest.raises(poplib.error_proto) as e:
        pop.login(implicit=True)
    assert e.value.args[0] == (b"-ERR [IN-USE] Mailbox is locked by another POP3 session; "
                               b"try again when it has ended")
    p.quit()
    q = pop.login(implicit=True)
    assert q.stat() == (1, crlf_size(MSG2))
    q.quit()


def test_dropped_connection_after_dele_deletes_nothing(pop):
    pop.deliver(MSG1)
    pop.deliver(MSG2)
    p = pop.login()
    assert p.dele(1) == b"+OK Message 1 deleted"
    assert p.dele(2) == b"+OK Message 2 deleted"
    p.file.close()                           # no QUIT
    p.sock.close()
    pop.wait_log("user=alice")
    q = pop.login()
    assert q.stat()[0] == 2
    q.quit()
    assert len(pop.files()) == 2


def test_mail_delivered_during_a_session_waits_for_the_next(tmp_path):
    with Pop3d(tmp_path, smtp=True) as pop:
        pop.deliver(MSG2)
        p = pop.login()
        assert p.stat() == (1, crlf_size(MSG2))
        with smtplib.SMTP("127.0.0.1", pop.smtp_port) as s:
            s.sendmail("bob@example.org", ["alice@localhost"], b"Subject: late\r\n\r\nlate\r\n")
        assert len(pop.files(sub="new")) == 1    # delivered, not seen by this session
        assert p.stat() == (1, crlf_size(MSG2))
        assert p.dele(1) == b"+OK Message 1 deleted"
        assert p.quit() == b"+OK inetkit POP3 server signing off (1 messages deleted)"
        q = pop.login()
        count, _ = q.stat()
        assert count == 1
        assert b"late" in b"\n".join(q.retr(1)[1])
        q.quit()


def test_smtplib_to_pop3_is_byte_identical(tmp_path):
    body = (b"From: bob@example.org\r\nTo: alice@localhost\r\nSubject: bytes\r\n\r\n"
            b".starts with a dot\r\n..two\r\n\xc3\xa9t\xc3\xa9 8bit\r\n.\r\n \r\nend\r\n")
    with Pop3d(tmp_path, smtp=True) as pop:
        with smtplib.SMTP("127.0.0.1", pop.smtp_port) as s:
            s.sendmail("bob@example.org", ["alice@localhost"], body)
        r = Raw(pop.port)
        r.stls()
        assert r.login().startswith("+OK Logged in; 1 messages")
        size = int(r.cmd("LIST 1").split()[2])
        assert r.cmd("RETR 1") == "+OK %d octets" % size
        got = b"".join(r.lines())
        # undo the dot-stuffing as a client does
        unstuffed = b"".join(l[1:] if l.startswith(b".") else l for l in got.splitlines(True))
        assert len(unstuffed) == size
        # smtpd adds its trace headers (Return-Path, Received) on top
        assert unstuffed.endswith(body)
        assert unstuffed.startswith(b"Return-Path: <bob@example.org>\r\nReceived: ")
        assert r.cmd("QUIT").startswith("+OK")


def test_long_lines_and_no_final_newline(pop):
    """poplib caps a line at 2048 bytes (_MAXLINE): a message holding a
    longer line makes retr() raise error_proto('line too long') and leaves
    that session unusable. The server sends the line whole (RFC 1939 has
    no line limit for a message): a raw reader and curl get all of it."""
    long_line = b"x" * 3000
    body = b"Subject: long\n\n" + long_line + b"\nend"     # no final newline
    pop.deliver(body)
    p = pop.login()
    size = crlf_size(body) + 2               # the last line gets its CRLF on the wire
    assert p.list(1) == b"+OK 1 %d" % (size - 2)
    with pytest.raises(poplib.error_proto) as e:
        p.retr(1)
    assert e.value.args[0] == "line too long"
    p.file.close()
    p.sock.close()
    pop.wait_log("user=alice")
    r = Raw(pop.tls_port, implicit=True)
    assert r.login().startswith("+OK")
    assert r.cmd("RETR 1") == "+OK %d octets" % (size - 2)
    assert r.lines() == [b"Subject: long\r\n", b"\r\n", long_line + b"\r\n", b"end\r\n"]
    assert r.cmd("TOP 1 0") == "+OK Top of message 1 follows"
    assert r.lines() == [b"Subject: long\r\n", b"\r\n"]
    r.cmd("QUIT")
    out = subprocess.run(["curl", "-sk", "pop3s://127.0.0.1:%d/1" % pop.tls_port, "-u",
                          "alice:" + PASSWORD], capture_output=True, timeout=30)
    assert out.returncode == 0
    assert long_line in out.stdout


def test_curl_pop3_and_pop3s(pop):
    pop.deliver(MSG1)
    pop.deliver(MSG2)
    url = "pop3s://127.0.0.1:%d/" % pop.tls_port
    out = subprocess.run(["curl", "-sk", url, "-u", "alice:" + PASSWORD],
                         capture_output=True, timeout=30)
    assert out.returncode == 0
    assert out.stdout == b"1 %d\r\n2 %d\r\n" % (crlf_size(MSG1), crlf_size(MSG2))
    out = subprocess.run(["curl", "-sk", url + "1", "-u", "alice:" + PASSWORD],
                         capture_output=True, timeout=30)
    assert out.stdout == MSG1.replace(b"\n", b"\r\n")
    out = subprocess.run(["curl", "-sk", "--ssl-reqd", "pop3://127.0.0.1:%d/2" % pop.port,
                          "-u", "alice:" + PASSWORD], capture_output=True, timeout=30)
    assert out.returncode == 0
    assert out.stdout == MSG2.replace(b"\n", b"\r\n")
    # Without TLS curl finds no way to log in (CAPA offers neither USER
    # nor SASL before STLS) and stops: 67, "login denied".
    out = subprocess.run(["curl", "-sv", "pop3://127.0.0.1:%d/1" % pop.port, "-u",
                          "alice:" + PASSWORD], capture_output=True, timeout=30)
    assert out.returncode == 67
    assert b"No known authentication mechanisms supported" in out.stderr
    out = subprocess.run(["curl", "-sk", url, "-u", "alice:" + PASSWORD, "-X", "DELE 1",
                          "-I"], capture_output=True, timeout=30)
    assert out.returncode == 0
    assert len(pop.files()) == 1


@pytest.mark.skipif(shutil.which("fetchmail") is None, reason="fetchmail not installed")
def test_fetchmail_keeps_mail_by_uidl_and_reads_over_ssl(pop, tmp_path):
    pop.deliver(MSG1)
    pop.deliver(MSG2)
    home = tmp_path / "home"
    home.mkdir()
    rc = home / ".fetchmailrc"
    mda_out = tmp_path / "got"
    rc.write_text("poll 127.0.0.1 service %d protocol pop3 uidl:\n"
                  "  user alice there with password \"%s\" is alice here\n"
                  "  ssl no sslcertck keep mda \"cat >> %s\"\n"
                  % (pop.tls_port, PASSWORD, mda_out))
    rc.chmod(0o600)
    env = dict(os.environ, HOME=str(home), FETCHMAILHOME=str(home))

    def fetch():
        return subprocess.run(["fetchmail", "-f", str(rc), "-v", "--nosyslog"],
                              capture_output=True, timeout=60, env=env)
    out = fetch()
    assert out.returncode == 0, out.stdout + out.stderr
    got = mda_out.read_bytes()
    assert b"Subject: one" in got and b"Subject: two" in got
    assert b"2 messages for alice" in out.stdout + out.stderr
    # keep + UIDL: a second run sees both as old and fetches nothing
    out = fetch()
    assert out.returncode == 1, out.stdout + out.stderr     # 1: no new mail
    assert mda_out.read_bytes() == got
    pop.deliver(b"Subject: three\n\nthree\n")
    out = fetch()
    assert out.returncode == 0
    assert mda_out.read_bytes().count(b"Subject: ") == 3
    assert len(pop.files()) == 3                    # kept on the server


@pytest.mark.skipif(shutil.which("mutt") is None, reason="mutt not installed")
def test_mutt_reads_the_mailbox_in_batch_mode(pop, tmp_path):
    pop.deliver(MSG1)
    home = tmp_path / "mhome"
    home.mkdir()
    (home / "Mail").mkdir()
    muttrc = home / ".muttrc"
    muttrc.write_text("set ssl_verify_host=no\nset ssl_verify_dates=no\n"
                      "set certificate_file=%s/certs\nset pop_pass=\"%s\"\n"
                      "set pop_delete=no\nset mbox_type=mbox\nset move=no\n"
                      "set header_cache=\"\"\n"
                      % (home, PASSWORD))
    # accept the self-signed certificate: mutt asks, batch mode cannot answer;
    # fetch-mail (pop_last) is simplest through `mutt -f pop3s://` in tmux
    if shutil.which("tmux") is None:
        pytest.skip("tmux not installed")
    sock = str(tmp_path / "tmux.sock")
    url = "pops://alice@127.0.0.1:%d/" % pop.tls_port
    subprocess.run(["tmux", "-S", sock, "new-session", "-d", "-x", "120", "-y", "30",
                    "env", "HOME=%s" % home, "TERM=xterm", "mutt", "-n", "-F", str(muttrc),
                    "-f", url], check=True)
    try:
        deadline = time.monotonic() + 30
        screen = ""
        accepted = False
        while time.monotonic() < deadline:
            screen = subprocess.run(["tmux", "-S", sock, "capture-pane", "-p"],
                                    capture_output=True, text=True).stdout
            if not accepted and ("(r)eject" in screen or "reject" in screen):
                subprocess.run(["tmux", "-S", sock, "send-keys", "a"])
                accepted = True
            if "one" in screen and "bob@example.org" in screen:
                break
            time.sleep(0.3)
        assert "bob@example.org" in screen and "one" in screen, screen
        subprocess.run(["tmux", "-S", sock, "send-keys", "q"])
        time.sleep(0.5)
        subprocess.run(["tmux", "-S", sock, "send-keys", "y"])
    finally:
        subprocess.run(["tmux", "-S", sock, "kill-server"], capture_output=True)
    pop.wait_log("user=alice")
    assert len(pop.all_files()) == 1


def test_retrieved_mail_is_seen_for_imap_after_quit(pop):
    """As Dovecot: what a session retrieved (RETR, or TOP of all of it) and
    kept gets the Maildir S flag (IMAP \\Seen) at QUIT; other flags stay;
    a dropped session changes nothing."""
    b1 = pop.deliver(MSG1)
    b2 = pop.deliver(MSG2)
    b3 = pop.deliver(MSG2)
    b4 = pop.deliver(MSG2)
    r = Raw(pop.tls_port, implicit=True)
    assert r.login().startswith("+OK Logged in")
    assert r.cmd("RETR 1").startswith("+OK")
    r.lines()
    r.close()
    pop.wait_log("event=pop3_session", 3)   # two probes, this one
    assert sorted(pop.files()) == sorted(f for f in pop.files() if f.endswith(":2,"))
    # An IMAP client flagged message 2 meanwhile.
    name2 = [f for f in pop.files() if f.startswith(b2)][0]
    os.rename(os.path.join(pop.mailbox(), "cur", name2),
              os.path.join(pop.mailbox(), "cur", name2 + "F"))
    p = pop.login()
    p.retr(1)
    p.retr(2)
    p.top(3, 0)         # the header only: not a retrieval
    p.top(4, 10)        # all of it
    p.dele(4)
    assert p.quit() == b"+OK inetkit POP3 server signing off (1 messages deleted)"
    flags = {f.split(",")[0]: f.rsplit(":2,", 1)[1] for f in pop.files()}
    assert flags == {b1: "S", b2: "FS", b3: ""}


def test_uidl_is_stable_and_sizes_come_from_names(pop):
    b = pop.deliver(MSG1, size_field=False)     # no S=: stat'ed, then W= cached
    p = pop.login()
    first = p.uidl()[1]
    assert first == [b"1 " + b.encode()]
    p.quit()
    assert pop.files() == ["%s,W=%d:2," % (b, crlf_size(MSG1))]
    q = pop.login()
    assert q.uidl()[1] == first
    assert q.list()[1] == [b"1 %d" % crlf_size(MSG1)]
    q.quit()
    # A flag set by another client (IMAP, mutt) is kept; the message stays.
    name = pop.files()[0]
    os.rename(os.path.join(pop.mailbox(), "cur", name),
              os.path.join(pop.mailbox(), "cur", name + "S"))
    q = pop.login()
    assert q.uidl()[1] == first
    assert q.retr(1)[1] == lines_of(MSG1)
    q.quit()
    assert pop.files() == [name + "S"]


def test_a_message_removed_meanwhile(pop):
    pop.deliver(MSG1)
    p = pop.login()
    name = pop.files()[0]
    os.unlink(os.path.join(pop.mailbox(), "cur", name))
    with pytest.raises(poplib.error_proto) as e:
        p.retr(1)
    assert e.value.args[0] == b"-ERR [SYS/PERM] Message 1 was removed by another client"
    assert p.dele(1) == b"+OK Message 1 deleted"
    assert p.quit() == b"+OK inetkit POP3 server signing off (1 messages deleted)"


def test_large_maildrop_and_large_message_stream(pop):
    for i in range(3000):
        pop.deliver(b"Subject: m%d\n\n%s\n" % (i, b"y" * 40))
    big = b"Subject: big\n\n" + (b"z" * 99 + b"\n") * 40000    # 4 MB
    pop.deliver(big)
    p = pop.login()
    count, size = p.stat()
    assert count == 3001
    assert len(p.uidl()[1]) == 3001
    assert len(p.list()[1]) == 3001
    resp, lines, octets = p.retr(3001)
    assert octets == crlf_size(big)
    assert len(lines) == 40002
    p.quit()


def test_apop_when_configured(tmp_path):
    import hashlib
    secrets = tmp_path / "apop"
    secrets.write_text("alice apop-secret\n")
    secrets.chmod(0o600)
    with Pop3d(tmp_path, pop3={"apop": "yes", "apop_secrets": str(secrets),
                               "allow_plaintext_auth": "yes"}) as pop:
        pop.deliver(MSG2)
        p = poplib.POP3("127.0.0.1", pop.port, timeout=15)
        assert re.fullmatch(rb"\+OK inetkit POP3 server ready <\d+\.\d+\.\d+@.+>",
                            p.getwelcome())
        assert p.apop("alice", "apop-secret").startswith(b"+OK Logged in; 1 messages")
        p.quit()
        p = poplib.POP3("127.0.0.1", pop.port, timeout=15)
        with pytest.raises(poplib.error_proto) as e:
            p.apop("alice", "wrong")
        assert e.value.args[0] == b"-ERR [AUTH] Authentication failed"
        p.quit()
    with Pop3d(tmp_path / "off") as pop:
        r = Raw(pop.port)
        assert r.cmd("APOP alice " + hashlib.md5(b"x").hexdigest()) == (
            "-ERR APOP is not enabled on this server; use USER and PASS, or AUTH")


def apop_digest(greeting, secret):
    import hashlib
    stamp = re.search(r"<[^>]+>", greeting).group(0)
    return hashlib.md5((stamp + secret).encode()).hexdigest()


def test_apop_is_a_login_of_the_accounts_module(tmp_path):
    """APOP failures count towards the account's lockout like PASS and AUTH
    (any service), a locked, disabled or unknown account is refused even
    with the right digest, and every attempt is in the login log."""
    secrets = tmp_path / "apop"
    secrets.write_text("alice apop-secret\nghost ghost-secret\n")
    secrets.chmod(0o600)
    with Pop3d(tmp_path, pop3={"apop": "yes", "apop_secrets": str(secrets),
                               "allow_plaintext_auth": "yes", "auth_attempts": "10"},
               accounts={"lockout_failures": "3", "lockout_ip_failures": "0"},
               users=("alice", "bob")) as pop:
        r = Raw(pop.port)
        # An account not in the accounts database: no login, whatever the file says.
        assert r.cmd("APOP ghost " + apop_digest(r.greeting, "ghost-secret")) == (
            "-ERR [AUTH] Authentication failed")
        # A malformed digest is a failed login too (counted), not a syntax error.
        assert r.cmd("APOP alice 1234") == "-ERR [AUTH] Authentication failed"
        assert r.cmd("APOP alice " + apop_digest(r.greeting, "wrong")) == (
            "-ERR [AUTH] Authentication failed")
        # The account's password is no APOP secret.
        assert r.cmd("APOP alice " + apop_digest(r.greeting, PASSWORD)) == (
            "-ERR [AUTH] Authentication failed")
        # Three failures: locked now: the right digest, and PASS, are refused.
        assert r.cmd("APOP alice " + apop_digest(r.greeting, "apop-secret")) == (
            "-ERR [AUTH] Too many failed logins for this account or address; try again later")
        assert r.login() == (
            "-ERR [AUTH] Too many failed logins for this account or address; try again later")
        r.close()
        # Another account is not affected; PASS failures count against APOP.
        r = Raw(pop.port)
        for _ in range(3):
            assert r.login("bob", "bad").startswith("-ERR [AUTH]")
        r.close()
        secrets.write_text("alice apop-secret\nbob bob-secret\n")
        r = Raw(pop.port)
        assert r.cmd("APOP bob " + apop_digest(r.greeting, "bob-secret")) == (
            "-ERR [AUTH] Too many failed logins for this account or address; try again later")
        r.close()
        # `user enable` unlocks; a disabled account is refused with the right digest.
        from conftest import run
        run("user", "enable", "alice", "--db", pop.db)
        run("user", "disable", "bob", "--db", pop.db)
        run("user", "enable", "bob", "--db", pop.db)
        run("user", "disable", "bob", "--db", pop.db)
        r = Raw(pop.port)
        assert r.cmd("APOP bob " + apop_digest(r.greeting, "bob-secret")) == (
            "-ERR [AUTH] Authentication failed: account disabled")
        r.close()
        r = Raw(pop.port)
        assert r.cmd("APOP ALICE " + apop_digest(r.greeting, "apop-secret").upper()) == (
            "+OK Logged in; 0 messages (0 octets)")
        assert r.cmd("QUIT").startswith("+OK")
        pop.wait_log("via=apop", 2)
        log = pop.log()
        assert re.search(r"event=login service=pop3 user=alice peer=127\.0\.0\.1 "
                         r"result=bad_password via=apop", log)
        assert re.search(r"event=login service=pop3 user=alice peer=127\.0\.0\.1 "
                         r"result=locked via=apop", log)
        assert re.search(r"event=login service=pop3 user=ALICE peer=127\.0\.0\.1 "
                         r"result=ok via=apop", log)
        assert re.search(r"event=pop3_auth session=\d+ peer=127\.0\.0\.1 user=alice via=apop",
                         log)
        assert "apop-secret" not in log
        hist = run("user", "log", "alice", "--db", pop.db, "--limit", "50").stdout
        results = [l.split()[-1] for l in hist.splitlines()[1:]]
        assert results == ["ok", "locked", "locked"] + ["bad_password"] * 3, hist


def test_apop_waits_out_the_failure_delay(tmp_path):
    """A wrong APOP digest is answered after [accounts] failure_delay, as PASS is."""
    secrets = tmp_path / "apop"
    secrets.write_text("alice apop-secret\n")
    secrets.chmod(0o600)
    with Pop3d(tmp_path, pop3={"apop": "yes", "apop_secrets": str(secrets),
                               "allow_plaintext_auth": "yes"},
               accounts={"failure_delay": "1s"}) as pop:
        r = Raw(pop.port)
        r.sock.settimeout(0.5)
        r.send("APOP alice " + apop_digest(r.greeting, "wrong") + "\r\n")
        # Nothing within half a second: the answer is held for the delay.
        with pytest.raises(socket.timeout):
            r.f.readline()
        r.close()
        r = Raw(pop.port)
        r.sock.settimeout(15)
        assert r.cmd("APOP alice " + apop_digest(r.greeting, "wrong")) == (
            "-ERR [AUTH] Authentication failed")
        r.close()


def test_login_delay_and_expire(tmp_path):
    with Pop3d(tmp_path, pop3={"login_delay": "1h", "expire": "0"}) as pop:
        pop.deliver(MSG1)
        pop.deliver(MSG2)
        p = poplib.POP3_SSL("127.0.0.1", pop.tls_port, context=tls_context(), timeout=15)
        caps = p.capa()
        # Server-wide values: no USER tag (RFC 2449 6.5, 6.7).
        assert caps["LOGIN-DELAY"] == ["3600"]
        assert caps["EXPIRE"] == ["0"]
        p.user("alice")
        p.pass_(PASSWORD)
        assert p.capa()["LOGIN-DELAY"] == ["3600"]
        p.retr(1)
        assert p.quit() == b"+OK inetkit POP3 server signing off (1 messages deleted)"
        with pytest.raises(poplib.error_proto) as e:
            pop.login(implicit=True)
        assert re.fullmatch(rb"-ERR \[LOGIN-DELAY\] Logged in too recently; wait \d+ seconds",
                            e.value.args[0])


def retrieved_file(pop, name="alice"):
    """The EXPIRE retrieval times: {base: unix time}."""
    path = os.path.join(pop.mailbox(name), "inetkit-pop3-retrieved")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return {l.split(" ", 1)[1].rstrip("\n"): int(l.split(" ", 1)[0]) for l in f}


def backdate(pop, base, seconds, name="alice"):
    """Set the clock of one retrieval back (what N days of waiting would do)."""
    times = retrieved_file(pop, name)
    times[base] -= seconds
    path = os.path.join(pop.mailbox(name), "inetkit-pop3-retrieved")
    with open(path, "w") as f:
        f.writelines("%d %s\n" % (t, b) for b, t in times.items())


def test_expire_days_deletes_retrieved_mail_at_a_later_quit(tmp_path):
    """EXPIRE 3: a message retrieved (RETR, or TOP of all of it) in a session
    that ended with QUIT is removed at the QUIT of the first session 3 days
    later; the retrieval time is kept in the Maildir (and survives a
    restart); nothing is deleted during a session or by a dropped one."""
    day = 86400
    pop = Pop3d(tmp_path, pop3={"expire": "3"})
    try:
        b1 = pop.deliver(MSG1)
        b2 = pop.deliver(MSG2)
        b3 = pop.deliver(b"Subject: three\n\nl1\nl2\nl3\n")
        b4 = pop.deliver(b"Subject: four\n\nfour\n")
        p = pop.login()
        assert p.capa()["EXPIRE"] == ["3"]
        p.retr(1)
        p.top(2, 50)            # all of it: a retrieval
        p.top(3, 1)             # one line of three: not
        before = int(time.time())
        assert p.quit() == b"+OK inetkit POP3 server signing off (0 messages deleted)"
        times = retrieved_file(pop)
        assert sorted(times) == sorted([b1, b2])
        assert all(before - 2 <= t <= time.time() + 1 for t in times.values())
        # A dropped session records nothing.
        ended = pop.log().count("event=pop3_session")
        r = Raw(pop.tls_port, implicit=True)
        assert r.login().startswith("+OK Logged in")
        assert r.cmd("RETR 4").startswith("+OK")
        r.lines()
        r.close()
        pop.wait_log("event=pop3_session", ended + 1)
        assert sorted(retrieved_file(pop)) == sorted([b1, b2])
        # Not yet 3 days: nothing goes; a second retrieval does not restart the clock.
        backdate(pop, b1, 3 * day - 60)
        old = retrieved_file(pop)[b1]
        p = pop.login()
        p.retr(1)
        assert p.quit() == b"+OK inetkit POP3 server signing off (0 messages deleted)"
        assert retrieved_file(pop)[b1] == old
        assert len(pop.all_files()) == 4
        # 3 days passed (and a restart): still listed in the session, removed at its QUIT.
        backdate(pop, b1, 120)
        pop.stop()
        pop.start()
        p = pop.login()
        assert p.stat() == (4, sum(crlf_size(m) for m in (
            MSG1, MSG2, b"Subject: three\n\nl1\nl2\nl3\n", b"Subject: four\n\nfour\n")))
        assert p.quit() == b"+OK inetkit POP3 server signing off (1 messages deleted)"
        assert not any(f.startswith(b1) for f in pop.all_files())
        assert sorted(retrieved_file(pop)) == [b2]
        pop.wait_log(" expired=1 ")    # the session's line follows its last reply
        assert re.search(r"event=pop3_session .* deleted=1 expired=1 ", pop.log())
        # A session that only drops its connection expires nothing.
        backdate(pop, b2, 5 * day)
        ended = pop.log().count("event=pop3_session")
        r = Raw(pop.tls_port, implicit=True)
        assert r.login() == "+OK Logged in; 3 messages (%d octets)" % sum(crlf_size(m) for m in (
            MSG2, b"Subject: three\n\nl1\nl2\nl3\n", b"Subject: four\n\nfour\n"))
        r.close()
        pop.wait_log("event=pop3_session", ended + 1)
        assert any(f.startswith(b2) for f in pop.all_files())
        # DELE of an expired one and RSET: it still expires at QUIT.
        p = pop.login()
        p.dele(1)
        p.rset()
        assert p.quit() == b"+OK inetkit POP3 server signing off (1 messages deleted)"
        assert not any(f.startswith(b2) for f in pop.all_files())
        assert retrieved_file(pop) == {}
        assert not os.path.exists(os.path.join(pop.mailbox(), "inetkit-pop3-retrieved"))
        assert sorted(f.split(",")[0] for f in pop.all_files()) == sorted([b3, b4])
    finally:
        pop.stop()


DOVECOT_IMAP = "/usr/lib/dovecot/imap"


@pytest.mark.skipif(not os.path.exists(DOVECOT_IMAP), reason="dovecot-imapd not installed")
def test_dovecot_reads_the_maildir_pop3d_leaves(tmp_path):
    """The files pop3d keeps in a Maildir (the session lock stamp, the
    EXPIRE retrieval times) and the names and flags it gives messages are
    read by Dovecot's IMAP server as one INBOX, flags included."""
    import pwd
    with Pop3d(tmp_path / "srv", pop3={"expire": "30"}) as pop:
        pop.deliver(MSG1)
        pop.deliver(MSG2)
        p = pop.login()
        p.retr(1)
        assert p.quit().startswith(b"+OK")
        assert len(retrieved_file(pop)) == 1
        # Dovecot runs as nobody: a directory it can reach (pytest's are 0700).
        import tempfile
        work = tempfile.mkdtemp(prefix="ik-pop3-dovecot-")
        md = os.path.join(work, "md")
        shutil.copytree(pop.mailbox(), md)
    try:
        nobody = pwd.getpwnam("nobody")
        for root, dirs, files in os.walk(work):
            for n in dirs + files:
                os.lchown(os.path.join(root, n), nobody.pw_uid, nobody.pw_gid)
        os.lchown(work, nobody.pw_uid, nobody.pw_gid)
        os.chmod(work, 0o755)
        conf = os.path.join(work, "dovecot.conf")
        with open(conf, "w") as f:
            f.write("base_dir = %s/run\nstate_dir = %s/state\nlog_path = /dev/stderr\n"
                    "mail_location = maildir:%s\n" % (work, work, md))
        env = dict(os.environ, USER="nobody", HOME=md, MAIL="maildir:" + md)
        out = subprocess.run([DOVECOT_IMAP, "-c", conf, "-o", "mail_uid=%d" % nobody.pw_uid,
                              "-o", "mail_gid=%d" % nobody.pw_gid],
                             input=b'a SELECT INBOX\r\nb FETCH 1:* (FLAGS RFC822.SIZE)\r\n'
                                   b'c LIST "" "*"\r\nd LOGOUT\r\n',
                             capture_output=True, env=env, timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = out.stdout.decode()
    assert "* 2 EXISTS" in text, text + out.stderr.decode()
    assert re.search(r"\* 1 FETCH \(FLAGS \(\\Seen( \\Recent)?\) RFC822\.SIZE %d\)"
                     % crlf_size(MSG1), text), text
    assert re.search(r"\* 2 FETCH \(FLAGS \((\\Recent)?\) RFC822\.SIZE %d\)"
                     % crlf_size(MSG2), text), text
    assert [l for l in text.splitlines() if l.startswith("* LIST")] == [
        '* LIST (\\HasNoChildren) "." INBOX'], text


def test_expire_never_and_unset_delete_nothing(tmp_path):
    for value, capa in (("never", ["NEVER"]), (None, None)):
        base = tmp_path / (value or "unset")
        keys = {"expire": value} if value else {}
        with Pop3d(base, pop3=keys) as pop:
            b1 = pop.deliver(MSG1)
            # A times file left from an earlier EXPIRE N setting is not acted on.
            with open(os.path.join(pop.mailbox(), "inetkit-pop3-retrieved"), "w") as f:
                f.write("1000 %s\n" % b1)
            p = pop.login()
            assert p.capa().get("EXPIRE") == capa
            p.retr(1)
            assert p.quit() == b"+OK inetkit POP3 server signing off (0 messages deleted)"
            assert len(pop.all_files()) == 1
            assert retrieved_file(pop) == {b1: 1000}


def test_limits(tmp_path):
    with Pop3d(tmp_path, pop3={"max_commands_before_login": "3", "max_errors": "3",
                               "max_sessions_per_ip": "2", "auth_attempts": "2"}) as pop:
        r = Raw(pop.port)
        assert r.cmd("CAPA") == "+OK Capability list follows"
        r.lines()
        assert r.cmd("NOOP") == "-ERR NOOP needs a login first: USER and PASS, or AUTH"
        assert r.cmd("CAPA").startswith("+OK")
        r.lines()
        assert r.cmd("CAPA") == "-ERR Too many commands before login; closing"
        assert r.closed()
        r = Raw(pop.port)
        assert r.cmd("A" * 600) == "-ERR Line too long (the limit is 512 bytes with CRLF)"
        assert r.cmd("FOO") == "-ERR Unknown command"
        assert r.cmd("BAR") == "-ERR Unknown command"
        assert r.line() == "-ERR Too many errors; closing"
        assert r.closed()
        a, b = Raw(pop.port), Raw(pop.port)
        c = socket.create_connection(("127.0.0.1", pop.port), timeout=10)
        assert c.makefile("rb").readline() == (b"-ERR [SYS/TEMP] Too many connections from "
                                               b"your address; try again later\r\n")
        c.close()
        a.close()
        b.close()


def test_failed_logins_close_the_session(tmp_path):
    with Pop3d(tmp_path, pop3={"auth_attempts": "2"}, accounts=NO_LOCKOUT) as pop:
        r = Raw(pop.tls_port, implicit=True)
        assert r.login(password="bad") == "-ERR [AUTH] Authentication failed"
        assert r.login(password="bad") == "-ERR [AUTH] Too many failed logins; closing"
        assert r.closed()


def test_stls_discards_pipelined_plaintext(pop):
    r = Raw(pop.port)
    r.send("STLS\r\nUSER alice\r\n")
    assert r.line() == "+OK Begin TLS negotiation"
    r.sock = tls_context().wrap_socket(r.sock)
    r.f = r.sock.makefile("rb")
    # the USER sent before the handshake was dropped: PASS has no name
    assert r.cmd("PASS " + PASSWORD) == "-ERR No name given; send USER first"
    assert r.cmd("STLS") == "-ERR TLS is already active"


def test_timeout_in_authorization(tmp_path):
    with Pop3d(tmp_path, pop3={"auth_timeout": "1s"}) as pop:
        r = Raw(pop.port)
        assert r.line() == "-ERR Disconnected for inactivity; nothing was deleted"
        assert r.closed()


def test_check_and_help_and_bad_options(tmp_path):
    from conftest import run
    p = run("pop3d", "--help", check=0)
    assert p.returncode == 0 and "Usage: inetkit pop3d" in p.stdout
    p = run("pop3d", "--frob", check=2)
    assert p.returncode == 2
    assert p.stderr == "inetkit pop3d: unknown option '--frob'\nTry 'inetkit pop3d --help'.\n"
    conf = tmp_path / "c.conf"
    conf.write_text("[serve]\nstate_dir = %s\nuser = root\n[pop3]\nidle_timeout = 1m\n"
                    % tmp_path)
    p = run("pop3d", "--config", conf, "--check", check=2)
    assert "[pop3] idle_timeout: at least 10m (RFC 1939 3" in p.stderr
    conf.write_text("[serve]\nstate_dir = %s\nuser = root\n[pop3]\napop = yes\n" % tmp_path)
    p = run("pop3d", "--config", conf, "--check", check=2)
    assert "APOP needs apop_secrets" in p.stderr
    conf.write_text("[serve]\nstate_dir = %s\nuser = root\n[pop3]\nlisten = 127.0.0.1:1\n"
                    % tmp_path)
    p = run("pop3d", "--config", conf, "--check", check=0)
    assert p.returncode == 0, p.stderr

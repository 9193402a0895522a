"""`inetkit smtpd`: the basics with real clients (Python's smtplib, swaks)
and raw sockets: EHLO, local delivery into Maildir (trace headers, then
the body byte for byte with LF line ends), unknown users, relay rules, the
submission roles (STARTTLS, AUTH PLAIN and LOGIN, implicit TLS), the
queue, BDAT, bare line ends, sizes, pipelining. The exhaustive suite
(smuggling variants, crash test, transcripts, curl, smtp-source) is
test_smtpd_*.py.
"""
import os
import smtplib
import ssl
import subprocess

import pytest

from conftest import run
from smtpd_env import PASSWORD, Raw, Smtpd, split_message, tls_context


@pytest.fixture
def srv(tmp_path):
    s = Smtpd(tmp_path)
    yield s
    s.stop()


BODY = (b"From: Me <me@example.org>\r\nTo: alice@localhost\r\nSubject: hi\r\n\r\n"
        b"line one\r\n.starts with a dot\r\n..two dots\r\n\r\nlast line\r\n")


def stored_body(srv, user="alice"):
    (msg,) = srv.messages(user)
    return split_message(msg)


def test_ehlo_keywords(srv):
    with srv.smtp() as s:
        code, text = s.ehlo()
        assert code == 250
        assert text.split(b"\n")[0] == b"mx.example.test Hello client.example"
        for kw in ("pipelining", "size", "8bitmime", "enhancedstatuscodes", "smtputf8",
                   "chunking", "dsn", "starttls"):
            assert s.has_extn(kw), kw
        assert s.esmtp_features["size"] == "26214400"
        # AUTH only over TLS (auth_plaintext = no).
        assert not s.has_extn("auth")
        s.starttls(context=tls_context())
        s.ehlo()
        assert s.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
        assert not s.has_extn("starttls")


def test_greeting_help_vrfy_noop_quit(srv):
    c = Raw(srv.port)
    assert c.greeting == "220 mx.example.test ESMTP inetkit\r\n"
    assert c.cmd("NOOP") == "250 2.0.0 Ok\r\n"
    assert c.cmd("VRFY alice") == ("252 2.0.0 Cannot VRFY user, but will accept message and "
                                   "attempt delivery\r\n")
    assert c.cmd("EXPN staff") == "502 5.5.1 Error: EXPN is not implemented\r\n"
    assert c.cmd("MAIL FROM:<a@example.org>") == "503 5.5.1 Error: send EHLO first\r\n"
    assert c.cmd("HELP MAIL").startswith("214 2.0.0 Syntax: MAIL FROM:<address>")
    assert c.cmd("FOO") == "500 5.5.2 Error: command not recognized\r\n"
    assert c.cmd("HELO client.example") == "250 mx.example.test\r\n"
    assert c.cmd("RCPT TO:<alice@localhost>") == "503 5.5.1 Error: need MAIL before RCPT\r\n"
    assert c.cmd("QUIT") == "221 2.0.0 Bye\r\n"
    c.close()


def test_send_to_a_local_user_lands_in_maildir(srv):
    with srv.smtp() as s:
        assert s.sendmail("me@example.org", ["alice@localhost"], BODY) == {}
    trace, body = stored_body(srv)
    assert trace[0] == b"Return-Path: <me@example.org>"
    assert trace[1] == b"Received: from client.example ([127.0.0.1])"
    assert trace[2].startswith(b"\tby mx.example.test (inetkit) with ESMTP id ")
    assert trace[-2] == b"\tfor <alice@localhost>;"
    # What the client meant, byte for byte, with LF line ends.
    assert body == BODY.replace(b"\r\n", b"\n")
    assert srv.maildir("alice", "tmp") == []
    log = srv.log()
    assert "event=smtp_message" in log and "result=queued" in log
    assert "line one" not in log        # never a body in the log


def test_several_local_users_get_one_file_linked(srv):
    srv.add_user("bob")
    with srv.smtp() as s:
        s.sendmail("me@example.org", ["alice@localhost", "bob@example.test",
                                      "Alice@LOCALHOST"], BODY)
    (a,) = srv.maildir("alice")
    (b,) = srv.maildir("bob")
    assert os.stat(a).st_ino == os.stat(b).st_ino        # stored once, hard-linked
    trace, body = stored_body(srv, "bob")
    assert not any(t.startswith(b"\tfor ") for t in trace)   # "for" only with one recipient
    assert body == BODY.replace(b"\r\n", b"\n")


def test_postmaster_always_exists(srv):
    with srv.smtp() as s:
        s.sendmail("me@example.org", ["postmaster@localhost"], BODY)
        s.sendmail("me@example.org", ["Postmaster"], BODY)
    assert len(srv.messages("postmaster")) == 2


def test_unknown_user_is_refused_at_rcpt(srv):
    with srv.smtp() as s:
        s.ehlo()
        s.mail("me@example.org")
        assert s.rcpt("nobody@localhost") == (550, b"5.1.1 <nobody@localhost>: Recipient "
                                              b"address rejected: no such user in domain "
                                              b"localhost")
        assert s.rcpt("alice@localhost") == (250, b"2.1.5 Ok")
        assert s.data(BODY)[0] == 250
    assert len(srv.messages("alice")) == 1


def test_relay_is_denied_without_auth(srv):
    with srv.smtp() as s:
        s.ehlo()
        s.mail("me@example.org")
        assert s.rcpt("bob@example.com") == (554, b"5.7.1 <bob@example.com>: Relay access "
                                             b"denied")
        assert s.rcpt("bob@[127.0.0.1]")[0] == 554
        assert s.docmd("DATA") == (554, b"5.5.1 Error: no valid recipients")
    assert srv.queue() == []


def test_relay_networks_may_relay(tmp_path):
    with Smtpd(tmp_path, extra="relay_networks = 127.0.0.0/8\n") as srv:
        with srv.smtp() as s:
            s.sendmail("me@example.org", ["bob@example.com"], BODY)
        assert len(srv.queue()) == 1


def test_submission_requires_starttls_then_auth(srv):
    with srv.smtp(port=srv.sub_port) as s:
        s.ehlo()
        assert not s.has_extn("auth")
        assert s.docmd("MAIL FROM:<alice@localhost>") == (530, b"5.7.0 Must issue a STARTTLS "
                                                          b"command first")
        assert s.docmd("AUTH PLAIN AGFsaWNlAHg=") == (530, b"5.7.0 Must issue a STARTTLS "
                                                      b"command first")
        s.starttls(context=tls_context())
        s.ehlo()
        assert s.docmd("MAIL FROM:<alice@localhost>") == (530, b"5.7.0 Authentication "
                                                          b"required")
        s.login("alice", PASSWORD)
        assert s.sendmail("alice@localhost", ["bob@example.com"], BODY) == {}
    (qid,) = srv.queue()
    p = run("queue", "show", qid, "--json", "--state-dir", srv.state, check=0)
    assert "bob@example.com" in p.stdout and '"auth_user": "alice"' in p.stdout.replace(
        '"auth_user":"alice"', '"auth_user": "alice"')
    with open(os.path.join(srv.state, "queue", qid + ".msg"), "rb") as f:
        trace, body = split_message(f.read())
    assert body == BODY.replace(b"\r\n", b"\n")
    assert any(b"(authenticated as alice)" in t for t in trace)
    assert any(t.startswith(b"\t(TLSv1.3 ") for t in trace)
    assert b"with ESMTPSA id " + qid.encode() in b"\n".join(trace)


def test_auth_plain_and_login_and_wrong_password(srv):
    for mech in ("PLAIN", "LOGIN"):
        with srv.smtp(port=srv.sub_port) as s:
            s.starttls(context=tls_context())
            s.ehlo()
            s.user, s.password = "alice", PASSWORD
            auth = s.auth_plain if mech == "PLAIN" else s.auth_login
            assert s.auth(mech, auth, initial_response_ok=(mech == "PLAIN")) == (
                235, b"2.7.0 Authentication successful")
            assert s.docmd("AUTH PLAIN") == (503, b"5.5.1 Error: already authenticated")
    with srv.smtp(port=srv.sub_port) as s:
        s.starttls(context=tls_context())
        with pytest.raises(smtplib.SMTPAuthenticationError) as exc:
            s.login("alice", "wrong-password")
        assert exc.value.smtp_code == 535
        assert exc.value.smtp_error == b"5.7.8 Error: authentication failed"
    assert PASSWORD not in srv.log()


def test_auth_attempts_then_421(srv):
    c = Raw(srv.port)
    c.cmd("EHLO client.example")
    c.starttls()
    c.cmd("EHLO client.example")
    bad = "AUTH PLAIN AGFsaWNlAHdyb25n"      # alice / wrong
    assert c.cmd(bad).startswith("535 5.7.8")
    assert c.cmd(bad).startswith("535 5.7.8")
    assert c.cmd(bad) == ("421 4.7.0 mx.example.test Error: too many failed authentication "
                          "attempts; closing\r\n")
    assert c.f.readline() == b""
    c.close()


def test_auth_needs_tls_on_port_25(srv):
    c = Raw(srv.port)
    c.cmd("EHLO client.example")
    assert c.cmd("AUTH PLAIN AGFsaWNlAHg=") == ("538 5.7.11 Encryption required for requested "
                                                "authentication mechanism; send STARTTLS "
                                                "first\r\n")
    c.close()


def test_implicit_tls_on_submissions(srv):
    with smtplib.SMTP_SSL("127.0.0.1", srv.subs_port, local_hostname="client.example",
                          context=tls_context(), timeout=20) as s:
        s.ehlo()
        assert not s.has_extn("starttls")
        s.login("alice", PASSWORD)
        s.sendmail("alice@localhost", ["alice@localhost"], BODY)
    trace, body = stored_body(srv)
    assert b"with ESMTPSA id" in b"\n".join(trace)
    assert body == BODY.replace(b"\r\n", b"\n")


def test_starttls_drops_pipelined_plaintext(srv):
    c = Raw(srv.port)
    c.cmd("EHLO client.example")
    # CVE-2011-0411: what follows STARTTLS in the same packet never runs.
    c.send("STARTTLS\r\nMAIL FROM:<evil@example.org>\r\n")
    assert c.reply() == "220 2.0.0 Ready to start TLS\r\n"
    c.sock = tls_context().wrap_socket(c.sock)
    c.f = c.sock.makefile("rb")
    # Everything starts again: EHLO first, and no MAIL was taken.
    assert c.cmd("RCPT TO:<alice@localhost>") == "503 5.5.1 Error: send EHLO first\r\n"
    assert c.cmd("EHLO client.example").startswith("250-mx.example.test")
    assert c.cmd("RCPT TO:<alice@localhost>") == "503 5.5.1 Error: need MAIL before RCPT\r\n"
    c.close()


def test_bdat_chunks(srv):
    c = Raw(srv.port)
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<me@example.org>") == "250 2.1.0 Ok\r\n"
    assert c.cmd("RCPT TO:<alice@localhost>") == "250 2.1.5 Ok\r\n"
    one, two = BODY[:40], BODY[40:]
    c.send(b"BDAT %d\r\n" % len(one) + one)
    assert c.reply() == "250 2.0.0 Ok: %d octets received\r\n" % len(one)
    assert c.cmd("DATA").startswith("503 5.5.1 Error: DATA cannot be mixed with BDAT")
    c.send(b"BDAT %d LAST\r\n" % len(two) + two)
    r = c.reply()
    assert r.startswith("250 2.0.0 Ok: queued as ")
    # A chunk out of sequence is read and dropped, never run as commands.
    c.send(b"BDAT 6 LAST\r\nQUIT\r\n")
    assert c.reply() == "503 5.5.1 Error: need MAIL before BDAT\r\n"
    assert c.cmd("NOOP") == "250 2.0.0 Ok\r\n"
    c.close()
    _, body = stored_body(srv)
    assert body == BODY.replace(b"\r\n", b"\n")


def test_bare_lf_refuses_the_whole_message(srv):
    c = Raw(srv.port)
    c.cmd("EHLO client.example")
    c.cmd("MAIL FROM:<me@example.org>")
    c.cmd("RCPT TO:<alice@localhost>")
    assert c.cmd("DATA").startswith("354 ")
    c.send("Subject: x\r\n\r\nhello\n.\nMAIL FROM:<evil@example.org>\r\n.\r\n")
    assert c.reply() == ("550 5.6.11 Bare CR or LF in message: message refused (RFC 5321 "
                         "2.3.8)\r\n")
    # The transaction is over; the session goes on.
    assert c.cmd("RCPT TO:<alice@localhost>") == "503 5.5.1 Error: need MAIL before RCPT\r\n"
    c.close()
    assert srv.maildir("alice") == [] and srv.maildir("alice", "tmp") == []
    assert os.listdir(os.path.join(srv.state, "mail", ".spool")) == []


def test_bare_newline_normalize(tmp_path):
    with Smtpd(tmp_path, extra="bare_newline = normalize\n") as srv:
        c = Raw(srv.port)
        c.cmd("EHLO client.example")
        c.cmd("MAIL FROM:<me@example.org>")
        c.cmd("RCPT TO:<alice@localhost>")
        c.cmd("DATA")
        c.send("Subject: x\r\n\r\none\ntwo\rthree\r\n.\r\n")
        assert c.reply().startswith("250 2.0.0 Ok: queued as ")
        c.close()
        _, body = stored_body(srv)
        assert body == b"Subject: x\n\none\ntwo\nthree\n"


def test_size_limits(tmp_path):
    with Smtpd(tmp_path, extra="max_size = 2k\n") as srv:
        with srv.smtp() as s:
            s.ehlo()
            assert s.esmtp_features["size"] == "2048"
            code, text = s.docmd("MAIL FROM:<me@example.org> SIZE=100000")
            assert (code, text[:6]) == (552, b"5.3.4 ")
            s.rset()
            s.mail("me@example.org")
            s.rcpt("alice@localhost")
            code, text = s.data(b"Subject: big\r\n\r\n" + b"x" * 70 + b"\r\n" * 50 +
                                b"y" * 3000 + b"\r\n")
            assert (code, text) == (552, b"5.3.4 Error: message too big: the limit is 2048 "
                                    b"bytes")
        assert srv.maildir("alice") == []


def test_too_many_recipients(tmp_path):
    with Smtpd(tmp_path, extra="max_recipients = 2\n") as srv:
        with srv.smtp() as s:
            s.ehlo()
            s.mail("me@example.org")
            assert s.rcpt("alice@localhost")[0] == 250
            assert s.rcpt("postmaster@localhost")[0] == 250
            assert s.rcpt("alice@example.test") == (452, b"4.5.3 Error: too many recipients "
                                                    b"(the limit is 2)")


def test_quota_mailbox_full(tmp_path):
    with Smtpd(tmp_path, users=[("carol", "--quota", "2k"), ("dave", "--quota", "2k")]) as srv:
        msg = b"Subject: a\r\n\r\n" + b"z" * 1200 + b"\r\n"
        with srv.smtp() as s:
            s.sendmail("me@example.org", ["carol@localhost"], msg)
            # It fitted; the next would not: refused after DATA, for now.
            with pytest.raises(smtplib.SMTPDataError) as exc:
                s.sendmail("me@example.org", ["carol@localhost"], msg)
            assert (exc.value.smtp_code, exc.value.smtp_error) == (
                452, b"4.2.2 Error: mailbox of carol is full; try again later")
            # Bigger than the quota itself: refused for good.
            with pytest.raises(smtplib.SMTPDataError) as exc:
                s.sendmail("me@example.org", ["dave@localhost"], msg * 2)
            assert exc.value.smtp_code == 552 and exc.value.smtp_error.startswith(b"5.2.2 ")
        assert len(srv.messages("carol")) == 1 and srv.messages("dave") == []
        # A mailbox already over its quota is full at RCPT time.
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(srv.state, "mail", "dave", sub), exist_ok=True)
        with open(os.path.join(srv.state, "mail", "dave", "new", "1.x.y"), "wb") as f:
            f.write(b"x" * 3000)
        with srv.smtp() as s:
            s.ehlo()
            s.mail("me@example.org")
            assert s.rcpt("dave@localhost") == (452, b"4.2.2 <dave@localhost>: Mailbox full")


def test_pipelined_burst_gets_its_replies_together(srv):
    """RFC 2920: a group sent in one write is answered in one write, even
    though each RCPT waits for the accounts database off the loop."""
    c = Raw(srv.port)
    c.cmd("EHLO client.example")
    c.send("MAIL FROM:<me@example.org>\r\nRCPT TO:<alice@localhost>\r\n"
           "RCPT TO:<nobody@localhost>\r\nRCPT TO:<postmaster@localhost>\r\nDATA\r\n")
    first = c.sock.recv(65536).decode()
    assert first == ("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <nobody@localhost>: Recipient "
                     "address rejected: no such user in domain localhost\r\n250 2.1.5 Ok\r\n"
                     "354 End data with <CR><LF>.<CR><LF>\r\n")
    c.send(BODY + b".\r\nQUIT\r\n")
    rest = c.sock.recv(65536).decode()
    while "221" not in rest:
        more = c.sock.recv(65536).decode()
        assert more, rest
        rest += more
    assert rest.startswith("250 2.0.0 Ok: queued as ") and rest.endswith("221 2.0.0 Bye\r\n")
    c.close()
    assert len(srv.messages("alice")) == 1 and len(srv.messages("postmaster")) == 1


def test_swaks_pipeline_and_submission(srv):
    out = srv.swaks("--server", "127.0.0.1:%d" % srv.port, "--pipeline",
                    "--from", "me@example.org", "--to", "alice@localhost,postmaster@localhost")
    assert "<** " not in out and "250 2.0.0 Ok: queued as" in out
    out = srv.swaks("--server", "127.0.0.1:%d" % srv.sub_port, "-tls", "--auth", "LOGIN",
                    "--auth-user", "alice", "--auth-password", PASSWORD,
                    "--from", "alice@localhost", "--to", "someone@example.net")
    assert "235 2.7.0 Authentication successful" in out
    out = srv.swaks("--server", "127.0.0.1:%d" % srv.subs_port, "--tls-on-connect",
                    "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", PASSWORD,
                    "--from", "alice@localhost", "--to", "alice@localhost")
    assert "250 2.0.0 Ok: queued as" in out
    assert len(srv.messages("alice")) == 2 and len(srv.queue()) == 1


def test_too_many_errors_closes(tmp_path):
    with Smtpd(tmp_path, extra="max_errors = 3\n") as srv:
        c = Raw(srv.port)
        assert c.cmd("FOO").startswith("500 ")
        assert c.cmd("BAR").startswith("500 ")
        assert c.cmd("BAZ") == ("500 5.5.2 Error: command not recognized\r\n")
        assert c.reply() == "421 4.7.0 mx.example.test Error: too many errors; closing\r\n"
        assert c.f.readline() == b""
        c.close()


def test_long_line_is_refused(srv):
    c = Raw(srv.port)
    assert c.cmd("NOOP " + "x" * 1000) == ("500 5.5.2 Error: line too long (the limit is 1000 "
                                           "bytes with CRLF)\r\n")
    assert c.cmd("NOOP " + "x" * 993) == "250 2.0.0 Ok\r\n"     # 1000 with CRLF
    c.close()


def test_check_and_help():
    p = run("smtpd", "--help", check=0)
    assert p.stdout.startswith("Usage: inetkit smtpd --config FILE")
    p = run("smtpd", "--check", "--listen", "127.0.0.1:2525", "--domain", "example.org",
            check=0)
    assert p.stdout == "(inetkit smtpd options): valid\n"
    p = run("smtpd", "--check", "--relay-network", "10.0.0.1/8", check=2)
    assert "relay_networks" in p.stderr and "10.0.0.0/8" in p.stderr
    p = run("smtpd", "--check", "--domain", "bad domain!", check=2)
    p = run("smtpd", "--check", "--domain", "under_score!", check=2)
    assert "is not a domain name" in p.stderr


def test_timeouts_answer_421(tmp_path):
    with Smtpd(tmp_path, extra="command_timeout = 1s\ndata_timeout = 1s\n") as srv:
        c = Raw(srv.port)
        assert c.reply() == "421 4.4.2 mx.example.test Error: timeout exceeded; closing\r\n"
        c.close()
        c = Raw(srv.port)
        c.cmd("EHLO client.example")
        c.cmd("MAIL FROM:<me@example.org>")
        c.cmd("RCPT TO:<alice@localhost>")
        assert c.cmd("DATA").startswith("354 ")
        c.send("Subject: half a message\r\n")
        assert c.reply() == "421 4.4.2 mx.example.test Error: timeout exceeded; closing\r\n"
        # Dropped before the reply: nothing is left in the spool.
        assert os.listdir(os.path.join(srv.state, "mail", ".spool")) == []
        c.close()
        assert srv.maildir("alice") == []

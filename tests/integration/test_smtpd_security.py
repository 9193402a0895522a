"""The SMTP server against hostile clients: SMTP smuggling (every published
end-of-data variant), STARTTLS command injection (CVE-2011-0411), open
relay attempts, CR/LF/NUL in addresses and headers, shell metacharacters
in addresses (the OpenSMTPD CVE-2020-7247 class), and every limit: line
length, recipients, errors, message size, sessions per address and in
total, command and DATA timeouts, AUTH attempts, VRFY without user
enumeration, unknown users and quotas.

Each test asserts the exact reply (basic code + enhanced code, the text
only where the server's wording carries the meaning) and that nothing was
stored: no new file in any Maildir, nothing in the queue."""
import base64
import os
import re
import time

import pytest

from smtpd_env import (CLIENT, HOSTNAME, NO_LOCKOUT, PASSWORD, Closed, Conn, Smtpd, assert_reply, body_of,
                       message, read, tls_context)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Smtpd(tmp_path_factory.mktemp("smtpd-sec"),
              smtp={"max_size": "100k", "relay_networks": "127.0.0.2/32"}, tls=True,
              accounts=NO_LOCKOUT, users=("alice", "bob", "carol", ("quinn", "--quota", "8k"),
                                          ("quentin", "--quota", "8k")))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def normalizing(tmp_path_factory):
    s = Smtpd(tmp_path_factory.mktemp("smtpd-norm"), smtp={"bare_newline": "normalize"},
              users=("alice", "bob"))
    yield s
    s.stop()


def opened(srv, **kw):
    c = Conn(srv.port, **kw)
    assert_reply(c.banner, 220, rx=HOSTNAME)
    c.ehlo()
    return c


def mail_rcpt(c, frm="sender@example.org", to="alice@localhost"):
    assert_reply(c.cmd("MAIL FROM:<%s>" % frm), 250, "2.1.0")
    assert_reply(c.cmd("RCPT TO:<%s>" % to), 250, "2.1.5")


def ends_session(c):
    """After a refusal the session is either closed or still answers QUIT
    with 221: nothing else (no reply to a smuggled command) comes first."""
    try:
        c.send(b"QUIT\r\n")
    except OSError:
        return
    try:
        r = c.reply()
    except Closed:
        return
    assert_reply(r, 221, "2.0.0")
    assert c.closed()


# ---- SMTP smuggling ----

SMUGGLE_ENDS = [b"\n.\n", b"\r.\r", b"\r.\n", b"\n.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n",
                b"\r\n.\r", b"\r\n.\r\r\n", b"\r\r\n.\r\r\n", b"\r\n\x00.\r\n", b"\r\n.\x00\r\n"]
SMUGGLE_IDS = [e.decode("latin-1").replace("\r", "CR").replace("\n", "LF").replace("\0", "NUL")
               for e in SMUGGLE_ENDS]

SMUGGLED = (b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<bob@localhost>\r\nDATA\r\n"
            b"From: <evil@example.org>\r\nTo: <bob@localhost>\r\nSubject: smuggled\r\n\r\n"
            b"smuggled body")


def smuggling_payload(end):
    return (b"From: <sender@example.org>\r\nTo: <alice@localhost>\r\nSubject: first\r\n\r\n"
            b"first body" + end + SMUGGLED + b"\r\n.\r\n")


def test_smuggling_control_is_delivered(srv):
    """The payload without a smuggling end is one ordinary message: the
    refusals below are for the bare CR/LF/NUL and nothing else."""
    n = len(srv.new_files("alice"))
    c = opened(srv)
    mail_rcpt(c)
    assert_reply(c.data(smuggling_payload(b"\r\n")), 250, "2.0.0")
    assert_reply(c.cmd("QUIT"), 221, "2.0.0")
    files = srv.new_files("alice")
    assert len(files) == n + 1
    assert b"smuggled body" in read(files[-1])


@pytest.mark.parametrize("end", SMUGGLE_ENDS, ids=SMUGGLE_IDS)
def test_smuggling_refused(srv, end):
    snap = srv.snapshot()
    c = opened(srv)
    mail_rcpt(c)
    assert_reply(c.cmd("DATA"), 354)
    c.send(smuggling_payload(end))
    r = c.reply()
    assert 500 <= r.code <= 599, "a smuggling end was not refused:\n%s" % r
    assert_reply(r, 550, "5.6.11", rx="bare CR or LF" if b"\0" not in end else "NUL")
    ends_session(c)
    c.close()
    srv.assert_nothing_stored(snap)
    assert srv.spool_files() == []


@pytest.mark.parametrize("end", [e for e in SMUGGLE_ENDS if b"\0" not in e],
                         ids=[i for i, e in zip(SMUGGLE_IDS, SMUGGLE_ENDS) if b"\0" not in e])
def test_smuggling_normalized_is_one_message(normalizing, end):
    snap = normalizing.snapshot()
    c = opened(normalizing)
    mail_rcpt(c)
    assert_reply(c.cmd("DATA"), 354)
    c.send(smuggling_payload(end))
    assert_reply(c.reply(), 250, "2.0.0")
    assert_reply(c.cmd("QUIT"), 221, "2.0.0")
    c.close()
    added = normalizing.added_since(snap)
    assert len(added) == 1 and "/mail/alice/new/" in added[0], added
    data = body_of(added[0])
    # the smuggled commands are text of the one message, never commands
    assert b"MAIL FROM:<evil@example.org>" in data and data.endswith(b"smuggled body\n")
    assert b"\r" not in data
    assert normalizing.new_files("bob") == []


@pytest.mark.parametrize("end", [b"\r\n\x00.\r\n", b"\r\n.\x00\r\n"], ids=["CRLFNUL.CRLF",
                                                                           "CRLF.NULCRLF"])
def test_smuggling_nul_never_two_messages_when_normalizing(normalizing, end):
    snap = normalizing.snapshot()
    c = opened(normalizing)
    mail_rcpt(c)
    assert_reply(c.cmd("DATA"), 354)
    c.send(smuggling_payload(end))
    r = c.reply()
    assert r.code == 250 or 500 <= r.code <= 599, r
    ends_session(c)
    added = normalizing.added_since(snap)
    assert len(added) == (1 if r.code == 250 else 0), added
    assert normalizing.new_files("bob") == []


def test_dot_unstuffing(srv):
    n = len(srv.new_files("alice"))
    c = opened(srv)
    mail_rcpt(c)
    body = (b"Subject: dots\r\n\r\n..leading dot\r\n...two dots\r\n..\r\n"
            b"not.a.dot\r\n.\r\n")
    assert_reply(c.data(body), 250, "2.0.0")
    c.close()
    files = srv.new_files("alice")
    assert len(files) == n + 1
    assert body_of(files[-1]) == b"Subject: dots\n\n.leading dot\n..two dots\n.\nnot.a.dot\n"


# ---- STARTTLS command injection (CVE-2011-0411) ----

@pytest.mark.parametrize("role", ["listen", "submission"])
def test_starttls_injection_rset(srv, role):
    c = Conn(srv.port if role == "listen" else srv.sub_port)
    c.ehlo()
    c.send(b"STARTTLS\r\nRSET\r\n")
    assert_reply(c.reply(), 220, "2.0.0")
    # the injected RSET is not answered in plaintext (that would break the
    # handshake) nor inside TLS: the first reply there is the EHLO's
    assert c.buf == b""
    c.sock = tls_context().wrap_socket(c.sock)
    r = c.cmd("EHLO " + CLIENT)
    assert_reply(r, 250)
    assert len(r.lines) > 1 and r.lines[0].startswith("250-" + HOSTNAME), r
    assert_reply(c.cmd("NOOP"), 250, "2.0.0")
    c.close()


def test_starttls_injection_transaction(srv):
    snap = srv.snapshot()
    c = Conn(srv.port)
    c.ehlo()
    c.send(b"STARTTLS\r\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<alice@localhost>\r\n"
           b"DATA\r\nSubject: injected\r\n\r\ninjected\r\n.\r\n")
    assert_reply(c.reply(), 220, "2.0.0")
    c.sock = tls_context().wrap_socket(c.sock)
    r = c.cmd("EHLO " + CLIENT)
    assert r.lines[0].startswith("250-" + HOSTNAME), r
    # the plaintext MAIL was never run: there is no transaction
    assert_reply(c.cmd("RCPT TO:<alice@localhost>"), 503, "5.5.1")
    assert_reply(c.cmd("DATA"), 503, "5.5.1")
    c.close()
    srv.assert_nothing_stored(snap)


def test_starttls_resets_state(srv):
    """STARTTLS is refused inside a transaction; after it, what the client
    said before is forgotten (RFC 3207 4.2): EHLO is needed again."""
    c = Conn(srv.port)
    c.ehlo()
    assert_reply(c.cmd("MAIL FROM:<sender@example.org>"), 250, "2.1.0")
    assert_reply(c.cmd("STARTTLS"), 503, "5.5.1", rx="transaction in progress")
    assert_reply(c.cmd("RSET"), 250, "2.0.0")
    c.starttls()
    # EHLO is required again
    assert_reply(c.cmd("MAIL FROM:<sender@example.org>"), 503, "5.5.1")
    c.ehlo()
    assert_reply(c.cmd("RCPT TO:<alice@localhost>"), 503, "5.5.1")
    # and STARTTLS is no longer offered nor accepted
    r = c.ehlo()
    assert not any("STARTTLS" in line for line in r.lines), r
    assert_reply(c.cmd("STARTTLS"), 554, "5.5.1", rx="TLS already active")
    c.close()


# ---- open relay ----

def test_no_open_relay(srv):
    snap = srv.snapshot()
    c = opened(srv)   # 127.0.0.1: outside relay_networks (127.0.0.2/32), no AUTH
    assert_reply(c.cmd("MAIL FROM:<sender@example.org>"), 250, "2.1.0")
    for to in ("someone@example.org", "someone@EXAMPLE.ORG", "@localhost:someone@example.org",
               "@a.example,@localhost:someone@example.org", "someone@[192.0.2.1]",
               "someone@sub.localhost", "postmaster@example.org"):
        assert_reply(c.cmd("RCPT TO:<%s>" % to), 554, "5.7.1", rx="relay")
    assert_reply(c.cmd("DATA"), 554, "5.5.1", rx="no valid recipients")
    c.close()
    # the old tricks name a local user that does not exist, or are no address
    c = opened(srv)
    assert_reply(c.cmd("MAIL FROM:<sender@example.org>"), 250, "2.1.0")
    for to in ("someone%example.org@localhost", "\"someone@example.org\"@localhost",
               "someone!example.org@localhost"):
        assert_reply(c.cmd("RCPT TO:<%s>" % to), 550, "5.1.1")
    assert_reply(c.cmd("RCPT TO:<someone@example.org@localhost>"), 501, "5.1.3")
    assert_reply(c.cmd("DATA"), 554, "5.5.1", rx="no valid recipients")
    c.close()
    srv.assert_nothing_stored(snap)
    assert srv.queue_ids() == []


def test_no_relay_on_submission_without_auth(srv):
    c = Conn(srv.sub_port)
    c.ehlo()
    c.starttls()
    c.ehlo()
    assert_reply(c.cmd("MAIL FROM:<alice@localhost>"), 530, "5.7.0")
    assert_reply(c.cmd("RCPT TO:<someone@example.org>"), 503, "5.5.1")
    c.close()


def test_relay_network_may_relay(srv):
    snap = srv.snapshot()
    c = opened(srv, source="127.0.0.2")
    assert_reply(c.cmd("MAIL FROM:<sender@example.org>"), 250, "2.1.0")
    assert_reply(c.cmd("RCPT TO:<someone@example.org>"), 250, "2.1.5")
    assert_reply(c.data(message("relayed", to="someone@example.org") + b".\r\n"), 250, "2.0.0")
    c.close()
    added = srv.added_since(snap)
    assert [os.path.basename(p)[-4:] for p in added] == [".env", ".msg"], added
    qid = os.path.basename(added[0])[:-4]
    env = srv.queue_show(qid)
    assert [r["address"] for r in env["recipients"]] == ["someone@example.org"]
    assert env["from"] == "sender@example.org"
    assert body_of(srv.queue_path(qid)).endswith(b"Hello.\n")
    srv.queue_delete(qid)


# ---- CR, LF and NUL in addresses, names and headers ----

@pytest.mark.parametrize("line,code,enh", [
    (b"MAIL FROM:<a\x00b@example.org>", 500, "5.5.2"),
    (b"MAIL FROM:<a\rb@example.org>", 501, "5.5.2"),
    (b"MAIL FROM:<sender@exam\x00ple.org>", 500, "5.5.2"),
    (b"EHLO a\x00b", 500, "5.5.2"),
    (b"EHLO a\rX-Injected: yes", 501, "5.5.4"),
], ids=["mail-nul", "mail-cr", "domain-nul", "ehlo-nul", "ehlo-cr"])
def test_cr_nul_in_command_refused(srv, line, code, enh):
    c = opened(srv)
    assert_reply(c.cmd(line), code, enh)
    # the session goes on, with no sender taken
    assert_reply(c.cmd("RCPT TO:<alice@localhost>"), 503, "5.5.1")
    assert_reply(c.cmd("NOOP"), 250, "2.0.0")
    c.close()


def test_bare_lf_in_command_refused(srv):
    """A line ended by a bare LF is refused, not run: the MAIL before it is
    never taken (what follows is a line of its own)."""
    snap = srv.snapshot()
    c = opened(srv)
    c.send(b"MAIL FROM:<a@example.org>\nRCPT TO:<alice@localhost>\r\n")
    assert_reply(c.reply(), 500, "5.5.2", rx="bare LF")
    assert_reply(c.reply(), 503, "5.5.1")
    c.send(b"NOOP\nNOOP\r\n")
    assert_reply(c.reply(), 500, "5.5.2", rx="bare LF")
    assert_reply(c.reply(), 250, "2.0.0")
    assert_reply(c.cmd("NOOP"), 250, "2.0.0")
    c.close()
    srv.assert_nothing_stored(snap)


@pytest.mark.parametrize("header", [
    b"Subject: a\x00b\r\n",
    b"Subject: a\rBcc: victim@example.org\r\n",
    b"Subject: a\nBcc: victim@example.org\r\n",
], ids=["nul", "bare-cr", "bare-lf"])
def test_cr_lf_nul_in_header_refused(srv, header):
    snap = srv.snapshot()
    c = opened(srv)
    mail_rcpt(c)
    r = c.data(b"From: <sender@example.org>\r\n" + header + b"\r\nbody\r\n.\r\n")
    assert_reply(r, r.code, None)
    assert 500 <= r.code <= 599, r
    ends_session(c)
    srv.assert_nothing_stored(snap)


# ---- no shell, ever (the OpenSMTPD CVE-2020-7247 class) ----

def test_shell_metacharacters_in_sender_refused(srv):
    snap = srv.snapshot()
    c = opened(srv)
    assert_reply(c.cmd("MAIL FROM:<;sleep 3;>"), 501, "5.1.7")
    assert_reply(c.cmd("MAIL FROM:<;sleep 3;@localhost>"), 501, "5.1.7")
    assert_reply(c.cmd("MAIL FROM:<a@b;sleep 3;>"), 501, "5.1.7")
    assert_reply(c.cmd("MAIL FROM:<sender@example.org>"), 250, "2.1.0")
    assert_reply(c.cmd("RCPT TO:<;sleep 3;@localhost>"), 501, "5.1.3")
    assert_reply(c.cmd("RCPT TO:<`id`@localhost>"), 550, "5.1.1")
    assert_reply(c.cmd("RCPT TO:<$(id)@localhost>"), 501, "5.1.3")
    assert_reply(c.cmd("RCPT TO:<|id@localhost>"), 550, "5.1.1")
    c.close()
    srv.assert_nothing_stored(snap)


def test_shell_metacharacters_delivered_as_text(srv, tmp_path):
    """A sender full of shell syntax is a valid address: the message is
    delivered, and nothing ran."""
    marker = "/tmp/ik-pwned-%d" % os.getpid()
    n = len(srv.new_files("alice"))
    c = opened(srv)
    for frm in ("`touch${IFS}%s`@example.org" % marker, '"`touch %s`"@example.org' % marker,
                '"$(touch %s)"@example.org' % marker):
        assert_reply(c.cmd("MAIL FROM:<%s>" % frm), 250, "2.1.0")
        assert_reply(c.cmd("RCPT TO:<alice@localhost>"), 250, "2.1.5")
        assert_reply(c.data(message("shell") + b".\r\n"), 250, "2.0.0")
    c.close()
    files = srv.new_files("alice")
    assert len(files) == n + 3
    assert read(files[-1]).startswith(b"Return-Path: <")
    assert not os.path.exists(marker)


# ---- limits ----

def test_command_line_length(srv):
    c = opened(srv)
    # 1000 octets with the CRLF is allowed (RFC 5321 4.5.3.1.6)...
    assert_reply(c.cmd("NOOP " + "x" * 993), 250, "2.0.0")
    # ...one more is not
    assert_reply(c.cmd("NOOP " + "x" * 994), 500, "5.5.2", rx="long")
    assert_reply(c.cmd("MAIL FROM:<%s@example.org>" % ("a" * 2000)), 500, "5.5.2")
    # a huge line gets one reply, and the session goes on
    c.send(b"NOOP " + b"y" * 200000 + b"\r\n")
    assert_reply(c.reply(), 500, "5.5.2")
    assert_reply(c.cmd("NOOP"), 250, "2.0.0")
    assert c.buf == b""
    c.close()


def test_recipient_limit(srv):
    c = opened(srv, source="127.0.0.2")
    assert_reply(c.cmd("MAIL FROM:<sender@example.org>"), 250, "2.1.0")
    for i in range(1, 101):
        assert_reply(c.cmd("RCPT TO:<r%d@example.org>" % i), 250, "2.1.5")
    assert_reply(c.cmd("RCPT TO:<r101@example.org>"), 452, "4.5.3")
    assert_reply(c.cmd("RCPT TO:<alice@localhost>"), 452, "4.5.3")
    assert_reply(c.data(message("many", to="r1@example.org") + b".\r\n"), 250, "2.0.0")
    c.close()
    qid = srv.queue_ids()[-1]
    env = srv.queue_show(qid)
    assert [r["address"] for r in env["recipients"]] == ["r%d@example.org" % i
                                                         for i in range(1, 101)]
    srv.queue_delete(qid)


def test_recipient_limit_pipelined(srv):
    """The same, with all 101 RCPTs in one write (PIPELINING)."""
    c = opened(srv, source="127.0.0.2")
    c.send(b"MAIL FROM:<sender@example.org>\r\n" +
           b"".join(b"RCPT TO:<r%d@example.org>\r\n" % i for i in range(1, 102)) + b"RSET\r\n")
    assert_reply(c.reply(), 250, "2.1.0")
    for _ in range(100):
        assert_reply(c.reply(), 250, "2.1.5")
    assert_reply(c.reply(), 452, "4.5.3")
    assert_reply(c.reply(), 250, "2.0.0")
    c.close()


def test_too_many_errors(srv):
    c = opened(srv)
    for _ in range(10):
        assert_reply(c.cmd("XYZZY"), 500, "5.5.2", rx="not recognized")
    r = c.cmd("XYZZY")
    assert_reply(r, 421, "4.7.0", rx="error")
    assert c.closed()


def test_errors_count_across_kinds(srv):
    """Syntax errors and bad sequence count too."""
    c = opened(srv)
    bad = ["XYZZY", "MAIL", "RCPT TO:<alice@localhost>", "DATA", "MAIL FROM:alice",
           "VRFY", "EHLO", "HELO", "AUTH", "RCPT TO:<nosuchuser@localhost>"]
    for line in bad:
        r = c.cmd(line)
        assert 500 <= r.code <= 599, "%s -> %s" % (line, r)
    assert_reply(c.cmd("XYZZY"), 421, "4.7.0")
    assert c.closed()


def test_max_size_at_mail(srv):
    c = Conn(srv.port)
    r = c.ehlo()
    assert "250-SIZE 102400" in r.lines or "250 SIZE 102400" in r.lines, r
    assert_reply(c.cmd("MAIL FROM:<sender@example.org> SIZE=102401"), 552, "5.3.4")
    assert_reply(c.cmd("MAIL FROM:<sender@example.org> SIZE=102400"), 250, "2.1.0")
    c.close()


def test_max_size_while_receiving(srv):
    snap = srv.snapshot()
    c = opened(srv)
    mail_rcpt(c)
    big = b"Subject: big\r\n\r\n" + (b"x" * 78 + b"\r\n") * 2000     # 160 KB
    assert_reply(c.data(big + b".\r\n"), 552, "5.3.4")
    # the session goes on: the transaction is over, a new one works
    assert_reply(c.cmd("RCPT TO:<alice@localhost>"), 503, "5.5.1")
    assert_reply(c.cmd("NOOP"), 250, "2.0.0")
    c.close()
    srv.assert_nothing_stored(snap)
    assert srv.spool_files() == []


def test_max_size_declared_small_sent_big(srv):
    snap = srv.snapshot()
    c = opened(srv)
    assert_reply(c.cmd("MAIL FROM:<sender@example.org> SIZE=100"), 250, "2.1.0")
    assert_reply(c.cmd("RCPT TO:<alice@localhost>"), 250, "2.1.5")
    assert_reply(c.data(b"Subject: big\r\n\r\n" + b"y" * 200000 + b"\r\n.\r\n"), 552, "5.3.4")
    c.close()
    srv.assert_nothing_stored(snap)


def test_max_size_bdat(srv):
    snap = srv.snapshot()
    c = opened(srv)
    mail_rcpt(c)
    chunk = b"z" * 60000
    c.send(b"BDAT 60000\r\n" + chunk)
    assert_reply(c.reply(), 250, "2.0.0")
    c.send(b"BDAT 60000 LAST\r\n" + chunk)
    assert_reply(c.reply(), 552, "5.3.4")
    assert_reply(c.cmd("NOOP"), 250, "2.0.0")
    c.close()
    srv.assert_nothing_stored(snap)


def test_vrfy_no_enumeration(srv):
    c = opened(srv)
    replies = [c.cmd("VRFY " + who) for who in ("alice", "alice@localhost", "nosuchuser",
                                                "nosuchuser@localhost", "postmaster", "root")]
    for r in replies:
        assert_reply(r, 252, "2.0.0")
    assert len({str(r) for r in replies}) == 1, replies
    assert "alice" not in str(replies[0])
    r = c.cmd("EXPN staff")
    assert r.code in (252, 502), r
    assert_reply(c.cmd("EXPN alice"), r.code)
    c.close()


def test_unknown_user(srv):
    snap = srv.snapshot()
    c = opened(srv)
    assert_reply(c.cmd("MAIL FROM:<sender@example.org>"), 250, "2.1.0")
    for to in ("nosuchuser@localhost", "nosuchuser@example.test", "NOSUCHUSER@LOCALHOST",
               "al.ice@localhost", "alice-x@localhost"):
        assert_reply(c.cmd("RCPT TO:<%s>" % to), 550, "5.1.1")
    assert_reply(c.cmd("DATA"), 554, "5.5.1", rx="no valid recipients")
    # postmaster always exists, with or without a domain (RFC 5321 4.5.1)
    assert_reply(c.cmd("RCPT TO:<postmaster@localhost>"), 250, "2.1.5")
    assert_reply(c.cmd("RCPT TO:<Postmaster>"), 250, "2.1.5")
    assert_reply(c.cmd("RSET"), 250, "2.0.0")
    c.close()
    srv.assert_nothing_stored(snap)


def test_auth_attempts(srv):
    """auth_attempts (default 3) failed AUTHs per session: the last one is
    answered 421 and the session ends."""
    c = Conn(srv.subs_port, tls=True)
    c.ehlo()
    for _ in range(2):
        assert_reply(c.auth("bob", "wrong-password"), 535, "5.7.8")
    assert_reply(c.auth("bob", "wrong-password"), 421, "4.7.0",
                 rx="too many failed authentication attempts")
    assert c.closed()


def test_auth_attempts_login_mechanism(srv):
    c = Conn(srv.subs_port, tls=True)
    c.ehlo()
    for code, enh in ((535, "5.7.8"), (535, "5.7.8"), (421, "4.7.0")):
        assert_reply(c.cmd("AUTH LOGIN"), 334, None)
        assert_reply(c.cmd(base64.b64encode(b"bob").decode()), 334, None)
        assert_reply(c.cmd(base64.b64encode(b"nope-nope").decode()), code, enh)
    assert c.closed()


def test_auth_cancelled_and_malformed(srv):
    c = Conn(srv.subs_port, tls=True)
    c.ehlo()
    assert_reply(c.cmd("AUTH PLAIN"), 334, None)
    assert_reply(c.cmd("*"), 501, "5.7.0", rx="cancel")
    assert_reply(c.cmd("AUTH PLAIN !!!notbase64"), 501, "5.5.2")
    assert_reply(c.cmd("AUTH CRAM-MD5"), 504, "5.5.4")
    assert_reply(c.auth("alice"), 235, "2.7.0")
    assert_reply(c.auth("alice"), 503, "5.5.1")
    c.close()


FIVE_K = b"Subject: quota\r\n\r\n" + (b"q" * 98 + b"\r\n") * 50      # ~5 KB


def test_quota_message_would_exceed(srv):
    """quinn (quota 8k) holds ~5 KB: another 5 KB would go over, refused
    with 552 5.2.2 at the end of the data; a small one still fits."""
    snap = srv.snapshot()
    c = opened(srv)
    mail_rcpt(c, to="quinn@localhost")
    assert_reply(c.data(FIVE_K + b".\r\n"), 250, "2.0.0")
    assert len(srv.new_files("quinn")) == 1
    mail_rcpt(c, to="quinn@localhost")
    assert_reply(c.data(FIVE_K + b".\r\n"), 552, "5.2.2")
    assert len(srv.new_files("quinn")) == 1
    mail_rcpt(c, to="quinn@localhost")
    assert_reply(c.data(b"Subject: small\r\n\r\nsmall\r\n.\r\n"), 250, "2.0.0")
    c.close()
    assert len(srv.new_files("quinn")) == 2
    assert len(srv.added_since(snap)) == 2


def test_quota_full_at_rcpt(srv):
    """quota lowered under what the mailbox holds: full, said at RCPT with
    452 4.2.2; the other recipients are not affected."""
    c = opened(srv)
    mail_rcpt(c, to="quentin@localhost")
    assert_reply(c.data(FIVE_K + b".\r\n"), 250, "2.0.0")
    c.close()
    snap = srv.snapshot()
    srv.set_quota("quentin", 1024)
    try:
        c = opened(srv)
        assert_reply(c.cmd("MAIL FROM:<sender@example.org>"), 250, "2.1.0")
        assert_reply(c.cmd("RCPT TO:<quentin@localhost>"), 452, "4.2.2", rx="full")
        assert_reply(c.cmd("RCPT TO:<alice@localhost>"), 250, "2.1.5")
        assert_reply(c.cmd("RSET"), 250, "2.0.0")
        c.close()
    finally:
        srv.set_quota("quentin", 8192)
    srv.assert_nothing_stored(snap)


def test_quota_message_larger_than_quota(srv):
    snap = srv.snapshot()
    c = opened(srv)
    mail_rcpt(c, to="quinn@localhost")
    assert_reply(c.data(b"Subject: huge\r\n\r\n" + b"h" * 20000 + b"\r\n.\r\n"), 552, "5.2.2")
    c.close()
    srv.assert_nothing_stored(snap)


# ---- limits that need their own server ----

@pytest.mark.parametrize("workers", [0, 2])
def test_sessions_per_ip_and_total(tmp_path, workers):
    """The limits hold across worker processes too (one count for all)."""
    s = Smtpd(tmp_path, smtp={"max_sessions": "4", "max_sessions_per_ip": "3"}, workers=workers)
    conns = []
    try:
        for _ in range(3):
            c = Conn(s.port)
            assert_reply(c.banner, 220)
            conns.append(c)
        c = Conn(s.port, banner=False)
        assert_reply(c.reply(), 421, "4.7.0", rx="address|per.ip|from your")
        assert c.closed()
        c.close()
        # another address still gets in, up to the total
        c = Conn(s.port, source="127.0.0.2")
        assert_reply(c.banner, 220)
        conns.append(c)
        c = Conn(s.port, source="127.0.0.3", banner=False)
        assert_reply(c.reply(), 421, "4.7.0")
        assert c.closed()
        c.close()
        # sessions that end free their place
        assert_reply(conns[0].cmd("QUIT"), 221, "2.0.0")
        assert conns[0].closed()
        deadline = time.monotonic() + 10
        while True:
            c = Conn(s.port, banner=False)
            r = c.reply()
            if r.code == 220:
                break
            c.close()
            assert time.monotonic() < deadline, "the place of a closed session stays taken"
            time.sleep(0.05)
        assert_reply(c.cmd("QUIT"), 221, "2.0.0")
        c.close()
    finally:
        for c in conns:
            c.close()
        s.stop()


def test_command_and_data_timeouts(tmp_path):
    s = Smtpd(tmp_path, smtp={"command_timeout": "1s", "data_timeout": "1s"})
    try:
        c = Conn(s.port, timeout=20)
        r = c.reply()
        assert_reply(r, 421, "4.4.2", rx="time")
        assert c.closed()
        c.close()
        c = Conn(s.port, timeout=20)
        c.ehlo()
        mail_rcpt(c)
        assert_reply(c.cmd("DATA"), 354)
        c.send(b"Subject: slow\r\n\r\nhalf a mess")
        assert_reply(c.reply(), 421, "4.4.2")
        assert c.closed()
        c.close()
        assert s.all_stored() == []
        assert s.spool_files() == []
    finally:
        s.stop()


def test_log_has_no_body_or_password(srv):
    """One line per session and per message, with the envelope; never the
    message body, a header value, or a password (even a wrong one)."""
    marker = "body-marker-%d" % os.getpid()
    c = Conn(srv.subs_port, tls=True)
    c.ehlo()
    assert_reply(c.auth("alice", "wrong-" + PASSWORD), 535, "5.7.8")
    assert_reply(c.auth("alice"), 235, "2.7.0")
    assert_reply(c.cmd("MAIL FROM:<alice@localhost>"), 250, "2.1.0")
    assert_reply(c.cmd("RCPT TO:<bob@localhost>"), 250, "2.1.5")
    assert_reply(c.data(message("subject-" + marker, body=marker + "\r\n") + b".\r\n"),
                 250, "2.0.0")
    assert_reply(c.cmd("QUIT"), 221, "2.0.0")
    assert c.closed()
    log = srv.log()
    assert marker not in log
    assert PASSWORD not in log
    assert base64.b64encode(b"\0alice\0" + PASSWORD.encode()).decode() not in log
    msg_lines = [ln for ln in log.splitlines() if "event=smtp_message" in ln and "to=bob@localhost"
                 in ln and "auth=alice" in ln and 'tls="TLSv1.' in ln and "result=queued" in ln]
    assert msg_lines, log[-2000:]
    assert re.search(r"event=smtp_message .*\bid=\S+ from=alice@localhost nrcpt=1 "
                     r"to=bob@localhost size=\d+ ", msg_lines[-1]), msg_lines[-1]

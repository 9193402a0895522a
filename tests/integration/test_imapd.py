"""inetkit imapd with real clients: Python's imaplib, curl (imap://,
imaps://), and raw sockets for exact replies, literals and IDLE. Mail is
sent through inetkit smtpd with smtplib and read back over IMAP."""
import email
import imaplib
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import BIN, free_port, run
from imapd_env import PASSWORD, Imapd, Raw, tls_context, uid_of

CAPS = ("IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE CHILDREN "
        "SPECIAL-USE ESEARCH CONDSTORE QRESYNC UTF8=ACCEPT STATUS=SIZE")

MULTIPART = (
    "From: Alice Example <alice@example.org>\r\n"
    "To: Bob <bob@localhost>, carol@example.net\r\n"
    "Cc: undisclosed-recipients:;\r\n"
    "Subject: =?UTF-8?Q?caf=C3=A9?= report\r\n"
    "Date: Sat, 05 Dec 2026 10:00:00 +0100\r\n"
    "Message-ID: <m1@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--XYZ\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Hello Bob,\r\nthe numbers.\r\n"
    "--XYZ\r\n"
    "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
    "\r\n"
    "AAECAwQF\r\n"
    "--XYZ--\r\n")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Imapd(tmp_path_factory.mktemp("imapd"))
    yield s
    s.stop()


def client(srv, user="alice"):
    m = imaplib.IMAP4("127.0.0.1", srv.port)
    m.starttls(tls_context())
    m.login(user, PASSWORD)
    return m


def fresh_user(srv, name):
    run("user", "add", name, "--db", srv.db, "--password-stdin", input=PASSWORD + "\n",
        check=0)
    return name


# ---- greeting, capabilities, login ---------------------------------------

def test_greeting_and_capability_before_tls(srv):
    r = Raw(srv.port)
    assert r.greeting == ("* OK [CAPABILITY %s STARTTLS LOGINDISABLED] inetkit IMAP ready."
                          % CAPS)
    assert r.cmd("a CAPABILITY") == ["* CAPABILITY %s STARTTLS LOGINDISABLED" % CAPS,
                                     "a OK Capability completed."]
    assert r.cmd('b LOGIN alice "%s"' % PASSWORD) == [
        "b NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure "
        "connections; use STARTTLS first"]
    assert r.cmd("c AUTHENTICATE PLAIN") == [
        "c NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure "
        "connections; use STARTTLS first"]
    r.starttls()
    assert r.cmd("d CAPABILITY") == ["* CAPABILITY %s AUTH=PLAIN" % CAPS,
                                     "d OK Capability completed."]
    assert r.cmd("e STARTTLS") == ["e BAD TLS is already active"]
    assert r.cmd('f LOGIN alice "%s"' % PASSWORD) == [
        "f OK [CAPABILITY %s] Logged in" % CAPS]
    assert r.cmd("g LOGOUT") == ["* BYE Logging out", "g OK Logout completed."]
    r.close()


def test_implicit_tls_and_authenticate_plain(srv):
    import base64
    r = Raw(srv.tls_port, tls=True)
    assert r.greeting == "* OK [CAPABILITY %s AUTH=PLAIN] inetkit IMAP ready." % CAPS
    token = base64.b64encode(b"\0alice\0" + PASSWORD.encode()).decode()
    r.send("a AUTHENTICATE PLAIN\r\n")
    assert r.line() == "+ "
    r.send(token + "\r\n")
    assert r.line() == "a OK [CAPABILITY %s] Logged in" % CAPS
    r.close()
    # SASL-IR: the response on the command line; a wrong password
    r = Raw(srv.tls_port, tls=True)
    bad = base64.b64encode(b"\0alice\0wrong").decode()
    assert r.cmd("b AUTHENTICATE PLAIN " + bad) == [
        "b NO [AUTHENTICATIONFAILED] Authentication failed."]
    assert r.cmd("c AUTHENTICATE PLAIN " + token)[-1].startswith("c OK [CAPABILITY")
    r.close()
    # imaplib over implicit TLS
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.tls_port, ssl_context=tls_context())
    assert m.login("alice", PASSWORD)[0] == "OK"
    m.logout()


def test_failed_logins_end_with_bye(srv):
    r = Raw(srv.tls_port, tls=True)
    for tag in ("a", "b"):
        assert r.cmd('%s LOGIN alice "nope"' % tag) == [
            "%s NO [AUTHENTICATIONFAILED] Authentication failed." % tag]
    r.send('c LOGIN alice "nope"\r\n')
    assert r.line() == "* BYE Too many failed logins."
    with pytest.raises(EOFError):
        r.line()


def test_commands_refused_by_state(srv):
    r = Raw(srv.tls_port, tls=True)
    assert r.cmd("a SELECT INBOX") == ["a BAD SELECT: log in first"]
    assert r.cmd("b FETCH 1 FLAGS") == ["b BAD FETCH: log in first"]
    r.login()
    assert r.cmd("c FETCH 1 FLAGS") == ["c BAD FETCH: no mailbox selected"]
    assert r.cmd("d LOGIN a b") == ["d BAD LOGIN: already logged in"]
    assert r.cmd("e FROB") == ["e BAD Unknown command FROB"]
    assert r.cmd("f SELECT") == ["f BAD Syntax: SELECT mailbox"]
    assert r.cmd("g NOOP extra") == ["g BAD Syntax: NOOP"]
    r.send("\r\n")
    assert r.line() == "* BAD Empty command line"
    r.send("h\r\n")
    assert r.line() == "h BAD Missing command"
    r.send("+x NOOP\r\n")
    assert r.line() == "* BAD Invalid tag"
    r.close()


# ---- bad input: literals, syntax ----------------------------------------

def test_literals(srv):
    r = Raw(srv.tls_port, tls=True)
    # synchronizing literal: "+" go-ahead, then the bytes
    r.send("a LOGIN {5}\r\n")
    assert r.line() == "+ OK"
    r.send("alice {%d}\r\n" % len(PASSWORD))
    assert r.line() == "+ OK"
    r.send(PASSWORD + "\r\n")
    assert r.line().startswith("a OK [CAPABILITY")
    # LITERAL+: no go-ahead
    r.send("b SELECT {5+}\r\nINBOX\r\n")
    assert r.until("b")[-1] == "b OK [READ-WRITE] Select completed."
    # {4294967295} is answered at once, nothing read
    assert r.cmd("c APPEND INBOX {4294967295}") == [
        "c NO [TOOBIG] Literal too large (the limit is 52428800 bytes)"]
    assert r.cmd("d APPEND INBOX {4294967296}") == ["d BAD Invalid literal size"]
    # a refused non-synchronizing literal is read and dropped, not run
    r.send("e APPEND INBOX {60000000+}\r\n")
    r.send(b"x LOGOUT\r\n" * 6000000)
    r.send("\r\n")
    assert r.line() == "e BAD [TOOBIG] Literal too large"
    assert r.cmd("f NOOP") == ["f OK NOOP completed."]
    r.close()


def test_literal_before_login_is_small(srv):
    r = Raw(srv.tls_port, tls=True)
    assert r.cmd("a LOGIN {9000}") == [
        "a NO [TOOBIG] Literal too large (the limit is 8192 bytes)"]
    r.close()


def test_syntax_errors_are_exact(srv):
    r = Raw(srv.tls_port, tls=True)
    r.login()
    r.cmd("s SELECT INBOX")
    cases = [
        ("a FETCH 1:* (FLAGS", "a BAD Missing ')'"),
        ("b FETCH 1 (FLAGS FOO)", "b BAD Unknown FETCH attribute"),
        ("c FETCH x FLAGS", "c BAD Invalid sequence set"),
        ("d FETCH 1 BODY[MIME]", "d BAD MIME needs a part number"),
        ("e FETCH 1 BODY[]<1.0>", "e BAD Bad partial <offset.length>"),
        ("f STORE 1 +FLAGS (\\Recent)", "f BAD Invalid flag"),
        ("g SEARCH FOO", "g BAD Unknown search key"),
        ("h SEARCH SINCE 31-Feb-2020", "h BAD Invalid search date"),
        ('i SEARCH CHARSET KOI8-R ALL', "i NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset"),
        ('j LOGIN "a', "j BAD LOGIN: already logged in"),
        ('k SELECT "INBOX', "k BAD Missing '\"'"),
        ("l FETCH 9999 FLAGS", "l BAD Invalid sequence number (the mailbox holds %d messages)"),
    ]
    count = int([x for x in r.cmd("n NOOP") if x.endswith("EXISTS")][0].split()[1]) \
        if False else None
    sel = r.cmd("s2 SELECT INBOX")
    exists = int([x for x in sel if x.endswith(" EXISTS")][0].split()[1])
    for cmd, want in cases:
        if "%d" in want:
            want = want % exists
        if exists == 0 and cmd.startswith(("a ", "b ", "d ", "e ", "f ")):
            continue
        got = r.cmd(cmd)
        assert got[-1] == want, (cmd, got)
    r.close()


def test_too_many_errors_bye(tmp_path):
    with Imapd(tmp_path, imap={"max_errors": "3"}) as s:
        r = Raw(s.port)
        assert r.cmd("a FROB") == ["a BAD Unknown command FROB"]
        assert r.cmd("b FROB") == ["b BAD Unknown command FROB"]
        r.send("c FROB\r\n")
        assert r.line() == "c BAD Unknown command FROB"
        assert r.line() == "* BYE Too many invalid IMAP commands."
        with pytest.raises(EOFError):
            r.line()


# ---- mail through smtpd, read back ---------------------------------------

def test_smtp_mail_is_read_back_byte_identical(srv):
    user = fresh_user(srv, "dora")
    body = ("From: Me <me@example.org>\r\nTo: dora@localhost\r\nSubject: exact\r\n\r\n"
            "line one\r\n\r\n  indented line\r\n.dot line\r\nlast\r\n")
    srv.send("dora@localhost", body)
    m = client(srv, user)
    typ, data = m.select("INBOX")
    assert data == [b"1"]
    typ, data = m.fetch("1", "(RFC822.SIZE BODY.PEEK[])")
    head, raw = data[0]
    size = int(re.search(rb"RFC822.SIZE (\d+)", head).group(1))
    assert size == len(raw)
    # what smtpd added (Return-Path, Received) comes first; the rest is ours
    assert raw.startswith(b"Return-Path: <me@example.org>\r\nReceived: ")
    assert raw.endswith(body.encode())
    # the stored file has LF line ends; IMAP gives CRLF
    typ, data = m.fetch("1", "(BODY.PEEK[TEXT] BODY.PEEK[HEADER.FIELDS (SUBJECT TO)])")
    assert data[0][1] == b"line one\r\n\r\n  indented line\r\n.dot line\r\nlast\r\n"
    assert data[1][1] == b"To: dora@localhost\r\nSubject: exact\r\n\r\n"
    m.logout()


def test_select_list_and_special_use(srv):
    user = fresh_user(srv, "erin")
    r = Raw(srv.tls_port, tls=True)
    r.login(user)
    assert r.cmd('a LIST "" "*"') == [
        '* LIST (\\HasNoChildren) "." "INBOX"',
        '* LIST (\\HasNoChildren \\Archive) "." "Archive"',
        '* LIST (\\HasNoChildren \\Drafts) "." "Drafts"',
        '* LIST (\\HasNoChildren \\Junk) "." "Junk"',
        '* LIST (\\HasNoChildren \\Sent) "." "Sent"',
        '* LIST (\\HasNoChildren \\Trash) "." "Trash"',
        "a OK List completed."]
    assert r.cmd('b LIST "" ""') == ['* LIST (\\Noselect) "." ""', "b OK List completed."]
    sel = r.cmd("c SELECT INBOX")
    assert sel[0] == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"
    assert sel[1] == ("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] "
                      "Flags permitted.")
    assert sel[2:4] == ["* 0 EXISTS", "* 0 RECENT"]
    assert re.fullmatch(r"\* OK \[UIDVALIDITY \d+\] UIDs valid", sel[4])
    assert sel[5] == "* OK [UIDNEXT 1] Predicted next UID"
    assert re.fullmatch(r"\* OK \[HIGHESTMODSEQ \d+\] Highest", sel[6])
    assert sel[7] == "c OK [READ-WRITE] Select completed."
    assert r.cmd("d EXAMINE Nope") == ["d NO [NONEXISTENT] Mailbox doesn't exist: Nope"]
    # a failed SELECT leaves no mailbox selected
    assert r.cmd("e FETCH 1 FLAGS") == ["e BAD FETCH: no mailbox selected"]
    assert r.cmd("f CREATE Work") == ["f OK Create completed."]
    assert r.cmd("g CREATE Work.Projects") == ["g OK Create completed."]
    assert r.cmd("h CREATE Work") == ["h NO [ALREADYEXISTS] Mailbox already exists"]
    assert r.cmd('i LIST "" "Work%"') == ['* LIST (\\HasChildren) "." "Work"', "i OK List completed."]
    assert r.cmd('j LIST "Work." "%"') == ['* LIST (\\HasNoChildren) "." "Work.Projects"',
                                          "j OK List completed."]
    assert r.cmd("k DELETE Work") == ["k NO [INUSE] Mailbox has children; delete them first"]
    assert r.cmd("l RENAME Work.Projects Work.Done") == ["l OK Rename completed."]
    assert r.cmd("m DELETE Work.Done") == ["m OK Delete completed."]
    assert r.cmd("n DELETE INBOX") == ["n NO INBOX cannot be deleted or renamed"]
    assert r.cmd("o CREATE ../evil") == [
        "o NO Invalid mailbox name: '/', '..' and a leading or trailing '.' are not allowed"]
    assert r.cmd("p SUBSCRIBE Work") == ["p OK Subscribe completed."]
    assert r.cmd('q LSUB "" "*"') == ['* LSUB (\\HasNoChildren) "." "Work"', "q OK Lsub completed."]
    assert r.cmd("r UNSUBSCRIBE Work") == ["r OK Unsubscribe completed."]
    assert r.cmd('s LSUB "" "*"') == ["s OK Lsub completed."]
    assert r.cmd("t STATUS Sent (MESSAGES UIDNEXT UNSEEN)") == [
        "* STATUS Sent (MESSAGES 0 UIDNEXT 1 UNSEEN 0)", "t OK Status completed."]
    assert r.cmd("u NAMESPACE") == ['* NAMESPACE (("" ".")) NIL NIL', "u OK Namespace completed."]
    assert os.path.isdir(os.path.join(srv.maildir(user, "Work"), "cur"))
    r.close()


def test_fetch_every_item(srv):
    user = fresh_user(srv, "frank")
    srv.send("frank@localhost", MULTIPART)
    m = client(srv, user)
    m.select("INBOX")
    typ, data = m.fetch("1", "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)")
    line = data[0].decode()
    assert re.search(r'INTERNALDATE "\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d \+0000"', line)
    assert "FLAGS (\\Recent)" in line and "UID 1 " in line
    assert ('ENVELOPE ("Sat, 05 Dec 2026 10:00:00 +0100" "=?UTF-8?Q?caf=C3=A9?= report" '
            '(("Alice Example" NIL "alice" "example.org")) '
            '(("Alice Example" NIL "alice" "example.org")) '
            '(("Alice Example" NIL "alice" "example.org")) '
            '(("Bob" NIL "bob" "localhost")(NIL NIL "carol" "example.net")) '
            '((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL NIL '
            '"<m1@example.org>")') in line
    # computed once, kept in the folder's cache file, served from it after
    with open(os.path.join(srv.maildir(user), "inetkit-cache"), "rb") as f:
        assert b'"=?UTF-8?Q?caf=C3=A9?= report"' in f.read()
    assert m.fetch("1", "(ENVELOPE)")[1][0].decode().endswith('"<m1@example.org>"))')
    typ, data = m.fetch("1", "(BODYSTRUCTURE)")
    # as Dovecot writes it: the sender's case, lines = line ends in the part
    assert data[0].decode().endswith(
        'BODYSTRUCTURE (("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 24 1 NIL NIL NIL NIL)'
        '("application" "octet-stream" ("name" "data.bin") NIL NIL "base64" 8 NIL '
        '("attachment" ("filename" "data.bin")) NIL NIL) "mixed" ("boundary" "XYZ") NIL NIL NIL))')
    typ, data = m.fetch("1", "(BODY)")
    assert data[0].decode().endswith(
        'BODY (("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 24 1)'
        '("application" "octet-stream" ("name" "data.bin") NIL NIL "base64" 8) "mixed"))')
    typ, data = m.fetch("1", "(BODY.PEEK[1] BODY.PEEK[2] BODY.PEEK[2.MIME] BODY.PEEK[]<0.20>)")
    # the CRLF before a boundary is the boundary's (RFC 2046 5.1.1)
    assert data[0][1] == b"Hello Bob,\r\nthe numbers."
    assert data[1][1] == b"AAECAwQF"
    assert data[2][1] == (b"Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
                          b"Content-Transfer-Encoding: base64\r\n"
                          b"Content-Disposition: attachment; filename=\"data.bin\"\r\n\r\n")
    assert data[3][0].endswith(b"BODY[]<0> {20}")
    assert data[3][1] == b"Return-Path: <me@exa"
    typ, data = m.fetch("1", "(RFC822.HEADER)")
    assert data[0][1].endswith(b"boundary=\"XYZ\"\r\n\r\n")
    typ, data = m.fetch("1", "FLAGS")
    assert data == [b"1 (FLAGS (\\Recent))"]          # PEEK left \Seen alone
    typ, data = m.fetch("1", "(RFC822.TEXT)")
    assert data[0][1].startswith(b"preamble\r\n--XYZ\r\n")
    typ, data = m.fetch("1", "FLAGS")
    assert data == [b"1 (FLAGS (\\Seen \\Recent))"]
    typ, data = m.fetch("1", "FAST")
    assert re.fullmatch(rb'1 \(FLAGS \(\\Seen \\Recent\) INTERNALDATE "[^"]+" RFC822.SIZE \d+\)',
                        data[0])
    m.logout()


def test_store_search_copy_move_expunge_uid(srv):
    user = fresh_user(srv, "gina")
    for i in range(1, 6):
        srv.send("gina@localhost", "Subject: note %d\r\nFrom: x%d@example.org\r\n\r\nbody %s\r\n"
                 % (i, i, "needle" if i % 2 else "hay"))
    m = client(srv, user)
    assert m.select("INBOX") == ("OK", [b"5"])
    assert m.store("2:3", "+FLAGS", "(\\Flagged)") == (
        "OK", [b"2 (FLAGS (\\Flagged \\Recent))", b"3 (FLAGS (\\Flagged \\Recent))"])
    assert m.store("3", "-FLAGS.SILENT", "(\\Flagged)") == ("OK", [None])
    assert m.search(None, "FLAGGED") == ("OK", [b"2"])
    assert m.search(None, "UNFLAGGED") == ("OK", [b"1 3 4 5"])
    assert m.search(None, "BODY", "needle") == ("OK", [b"1 3 5"])
    assert m.search(None, "OR", "SUBJECT", '"note 2"', "FROM", "x4") == ("OK", [b"2 4"])
    assert m.search(None, "NOT", "2:4") == ("OK", [b"1 5"])
    assert m.search(None, "LARGER", "1", "SMALLER", "100000") == ("OK", [b"1 2 3 4 5"])
    assert m.search(None, "SINCE", "1-Jan-2000", "BEFORE", "1-Jan-2100") == (
        "OK", [b"1 2 3 4 5"])
    assert m.uid("SEARCH", "UID", "4:*") == ("OK", [b"4 5"])
    assert m.uid("FETCH", "5", "(FLAGS)") == ("OK", [b"5 (UID 5 FLAGS (\\Recent))"])
    typ, data = m.uid("STORE", "1", "+FLAGS", "(\\Answered)")
    assert data == [b"1 (UID 1 FLAGS (\\Answered \\Recent))"]
    # ESEARCH
    typ, data = m._simple_command("SEARCH", "RETURN", "(MIN MAX COUNT ALL)", "BODY", "needle")
    typ, data = m._untagged_response(typ, data, "ESEARCH")
    assert re.fullmatch(rb'\(TAG "[A-Z0-9]+"\) MIN 1 MAX 5 COUNT 3 ALL 1,3,5', data[0])
    # COPY with COPYUID; MOVE
    typ, data = m.copy("1:2", "Trash")
    assert typ == "OK"
    assert re.fullmatch(rb"\[COPYUID \d+ 1,2 1,2\] Copy completed.", data[0])
    typ, data = m.uid("MOVE", "3", "Archive")
    assert typ == "OK"
    assert m.response("EXPUNGE") == ("EXPUNGE", [b"3"])
    assert m.status("Trash", "(MESSAGES)") == ("OK", [b"Trash (MESSAGES 2)"])
    assert m.status("Archive", "(MESSAGES)") == ("OK", [b"Archive (MESSAGES 1)"])
    assert m.copy("1", "Nowhere")[0] == "NO"
    # EXPUNGE: the deleted ones go, with untagged EXPUNGE replies
    m.store("1,3", "+FLAGS.SILENT", "(\\Deleted)")     # UIDs 1 and 4
    typ, data = m.expunge()
    assert data == [b"1", b"2"]                         # each renumbers the rest
    assert m.search(None, "ALL") == ("OK", [b"1 2"])
    assert m.fetch("1:*", "(UID)")[1] == [b"1 (UID 2)", b"2 (UID 5)"]
    # UID EXPUNGE removes only the named deleted ones
    m.store("1:2", "+FLAGS.SILENT", "(\\Deleted)")
    typ, data = m.uid("EXPUNGE", "5")
    assert typ == "OK"
    assert m.fetch("1:*", "(UID)")[1] == [b"1 (UID 2)"]
    assert m.close() == ("OK", [b"Close completed."])
    assert m.select("INBOX") == ("OK", [b"0"])
    m.logout()


def test_append_non_ascii_and_flags(srv):
    user = fresh_user(srv, "hugo")
    msg = "Subject: Grüße\r\nFrom: ö@example.org\r\n\r\nÄpfel und Birnen\r\n".encode()
    m = client(srv, user)
    typ, data = m.append("Drafts", "(\\Draft \\Seen)", '"05-Dec-2026 10:20:30 +0100"', msg)
    assert typ == "OK"
    assert re.fullmatch(rb"\[APPENDUID \d+ 1\] Append completed.", data[0])
    m.select("Drafts")
    typ, data = m.fetch("1", "(FLAGS INTERNALDATE BODY.PEEK[])")
    assert data[0][0] == (b'1 (FLAGS (\\Draft \\Seen) INTERNALDATE '
                          b'"05-Dec-2026 09:20:30 +0000" BODY[] {%d}' % len(msg))
    assert data[0][1] == msg
    assert m.append("Nope", None, None, b"x\r\n\r\ny\r\n")[0] == "NO"
    # stored with LF line ends, in cur/ with its flags in the name
    cur = os.path.join(srv.maildir(user, "Drafts"), "cur")
    (name,) = os.listdir(cur)
    assert name.endswith(":2,DS")
    with open(os.path.join(cur, name), "rb") as f:
        assert f.read() == msg.replace(b"\r\n", b"\n")
    m.logout()


def test_two_sessions_see_each_other(srv):
    user = fresh_user(srv, "ivy")
    for i in range(3):
        srv.send("ivy@localhost", "Subject: s%d\r\n\r\nx\r\n" % i)
    a, b = Raw(srv.tls_port, tls=True), Raw(srv.tls_port, tls=True)
    a.login(user)
    b.login(user)
    a.cmd("s SELECT INBOX")
    b.cmd("s SELECT INBOX")
    assert a.cmd("a1 STORE 2 +FLAGS (\\Flagged)") == ["* 2 FETCH (FLAGS (\\Flagged \\Recent))",
                                                     "a1 OK Store completed."]
    assert b.cmd("b1 NOOP") == ["* 2 FETCH (UID 2 FLAGS (\\Flagged))", "b1 OK NOOP completed."]
    a.cmd("a2 STORE 1 +FLAGS.SILENT (\\Deleted)")
    assert a.cmd("a3 EXPUNGE") == ["* 1 EXPUNGE", "a3 OK Expunge completed."]
    assert b.cmd("b2 NOOP") == ["* 1 EXPUNGE", "b2 OK NOOP completed."]
    srv.send("ivy@localhost", "Subject: new\r\n\r\nx\r\n")
    assert b.cmd("b3 NOOP") == ["* 3 EXISTS", "* 1 RECENT", "b3 OK NOOP completed."]
    assert a.cmd("a4 NOOP") == ["* 3 EXISTS", "* 2 RECENT", "a4 OK NOOP completed."]
    a.close()
    b.close()


def test_idle(srv):
    user = fresh_user(srv, "jack")
    r = Raw(srv.tls_port, tls=True)
    r.login(user)
    r.cmd("s SELECT INBOX")
    r.send("i IDLE\r\n")
    assert r.line() == "+ idling"
    srv.send("jack@localhost", "Subject: during idle\r\n\r\nx\r\n")
    # pushed while idling, without a command (RFC 2177)
    assert r.line() == "* 1 EXISTS"
    assert r.line() == "* 1 RECENT"
    # a flag another session sets is pushed too
    other = Raw(srv.tls_port, tls=True)
    other.login(user)
    other.cmd("s SELECT INBOX")
    other.cmd("f STORE 1 +FLAGS.SILENT (\\Flagged)")
    assert r.line() == "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))"
    other.close()
    r.send("DONE\r\n")
    assert r.until("i") == ["i OK Idle completed."]
    r.send("j IDLE\r\n")
    assert r.line() == "+ idling"
    r.send("NOPE\r\n")
    assert r.line() == "j BAD Expected DONE."
    r.close()


def test_messages_other_tools_wrote_are_picked_up(srv):
    user = fresh_user(srv, "kate")
    m = client(srv, user)
    m.select("INBOX")
    new = os.path.join(srv.maildir(user), "new")
    with open(os.path.join(new, "1700000000.cp.host"), "wb") as f:
        f.write(b"Subject: copied\n\nby cp\n")
    m.noop()
    assert m.response("EXISTS")[1][-1] == b"1"
    typ, data = m.fetch("1", "(UID BODY.PEEK[])")
    assert data[0][1] == b"Subject: copied\r\n\r\nby cp\r\n"
    # mutt sets a flag by renaming the file (here from new/, where it
    # stays while this session holds its \Recent): the next sync shows it
    cur = os.path.join(srv.maildir(user), "cur")
    assert os.listdir(cur) == [] and os.listdir(new) == ["1700000000.cp.host"]
    os.rename(os.path.join(new, "1700000000.cp.host"),
              os.path.join(cur, "1700000000.cp.host:2,F"))
    m.noop()
    assert m.response("FETCH") == ("FETCH", [b"1 (UID 1 FLAGS (\\Flagged \\Recent))"])
    m.logout()


def test_uids_persist_and_index_rebuild(tmp_path):
    with Imapd(tmp_path) as s:
        for i in range(3):
            s.send("alice@localhost", "Subject: p%d\r\n\r\nx\r\n" % i)
        m = client(s)
        typ, data = m.select("INBOX")
        uv = m.untagged_responses["UIDVALIDITY"][0]
        m.store("2", "+FLAGS.SILENT", "(\\Deleted)")
        m.expunge()
        assert m.fetch("1:*", "(UID)")[1] == [b"1 (UID 1)", b"2 (UID 3)"]
        m.logout()
        s.restart()
        m = client(s)
        m.select("INBOX")
        assert m.untagged_responses["UIDVALIDITY"][0] == uv
        assert m.fetch("1:*", "(UID)")[1] == [b"1 (UID 1)", b"2 (UID 3)"]
        m.logout()
        os.unlink(os.path.join(s.maildir("alice"), "inetkit-index"))
        time.sleep(1.1)                                 # UIDVALIDITY is a time
        m = client(s)
        m.select("INBOX")
        assert int(m.untagged_responses["UIDVALIDITY"][0]) > int(uv)
        assert m.fetch("1:*", "(UID)")[1] == [b"1 (UID 1)", b"2 (UID 2)"]
        m.logout()


# ---- curl ----------------------------------------------------------------

def curl(*args, check=True):
    p = subprocess.run(["curl", "-sS", "--max-time", "20", "-k", "--user",
                        "alice:" + PASSWORD] + list(args), capture_output=True)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def test_curl_imap_and_imaps(srv):
    srv.send("alice@localhost", "Subject: for curl\r\n\r\ncurl body\r\n")
    p = curl("--ssl-reqd", "imap://127.0.0.1:%d/" % srv.port)
    assert b'* LIST (\\HasNoChildren) "." "INBOX"\r\n' in p.stdout
    assert b'* LIST (\\HasNoChildren \\Sent) "." "Sent"\r\n' in p.stdout
    n = curl("--ssl-reqd", "imap://127.0.0.1:%d/INBOX" % srv.port, "-X", "SEARCH ALL")
    last = n.stdout.split()[-1].decode()
    p = curl("imaps://127.0.0.1:%d/INBOX;MAILINDEX=%s" % (srv.tls_port, last))
    assert p.stdout.endswith(b"Subject: for curl\r\n\r\ncurl body\r\n")
    # APPEND by upload
    up = os.path.join(srv.base, "up.eml")
    with open(up, "wb") as f:
        f.write(b"Subject: uploaded\r\n\r\nby curl\r\n")
    curl("--ssl-reqd", "-T", up, "imap://127.0.0.1:%d/Sent" % srv.port)
    p = curl("imaps://127.0.0.1:%d/Sent;MAILINDEX=1" % srv.tls_port)
    assert p.stdout == b"Subject: uploaded\r\n\r\nby curl\r\n"
    # without TLS, curl's login is refused (LOGINDISABLED)
    p = curl("imap://127.0.0.1:%d/" % srv.port, check=False)
    assert p.returncode != 0


def test_imapd_standalone_quick_options(tmp_path):
    state = tmp_path / "st"
    os.makedirs(state)
    run("user", "add", "alice", "--db", str(state / "accounts.db"), "--password-stdin",
        input=PASSWORD + "\n", check=0)
    port, tport = free_port(), free_port()
    p = subprocess.Popen([BIN, "imapd", "--state-dir", str(state), "--listen",
                          "127.0.0.1:%d" % port, "--implicit-tls", "127.0.0.1:%d" % tport,
                          "--login-plaintext", "--user", "root"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                m = imaplib.IMAP4("127.0.0.1", port)
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert "LOGINDISABLED" not in m.capabilities
        assert m.login("alice", PASSWORD)[0] == "OK"
        assert m.select("INBOX") == ("OK", [b"0"])
        m.logout()
        m = imaplib.IMAP4_SSL("127.0.0.1", tport, ssl_context=tls_context())
        assert m.login("alice", PASSWORD)[0] == "OK"
        m.logout()
    finally:
        p.terminate()
        p.wait(timeout=15)
    h = run("imapd", "--help", check=0)
    assert h.stdout.startswith("Usage: inetkit imapd --config FILE")
    e = run("imapd", "--frob", check=2)
    assert "unknown option '--frob'" in e.stderr


# ---- mutt, driven in a terminal -----------------------------------------

def test_mutt_reads_deletes_and_moves(srv, tmp_path):
    """mutt (a real terminal client, in a pty) opens the INBOX over IMAP
    with STARTTLS, shows the messages, deletes one, moves one to Trash."""
    pexpect = pytest.importorskip("pexpect")
    user = fresh_user(srv, "muttie")
    srv.send("muttie@localhost", "Subject: first for mutt\r\n\r\none\r\n")
    srv.send("muttie@localhost", "Subject: second for mutt\r\n\r\ntwo\r\n")
    srv.send("muttie@localhost", "Subject: third for mutt\r\n\r\nthree\r\n")
    rc = tmp_path / "muttrc"
    rc.write_text(
        "set imap_user=%s\nset imap_pass=%s\nset ssl_starttls=yes\nset ssl_force_tls=yes\n"
        "set certificate_file=%s\nset ssl_verify_host=no\nset ssl_verify_dates=no\n"
        "set folder=imap://127.0.0.1:%d/\nset spoolfile=+INBOX\nset record=\n"
        "set sort=date-sent\nset confirmappend=no\nset delete=yes\nset mark_old=no\n"
        "set header_cache=\nset message_cachedir=\nset move=no\nset timeout=1\n"
        "set imap_check_subscribed=no\n"
        % (user, PASSWORD, tmp_path / "certs", srv.port))
    env = dict(os.environ, TERM="xterm", HOME=str(tmp_path), LANG="C.UTF-8")
    child = pexpect.spawn("mutt", ["-n", "-F", str(rc)], env=env, timeout=20,
                          dimensions=(40, 120), encoding="utf-8")
    try:
        # the certificate prompt: accept once
        i = child.expect([r"\(r\)eject, accept \(o\)nce", "first for mutt"])
        if i == 0:
            child.send("o")
            child.expect("first for mutt")
        child.expect("third for mutt")
        # delete the first message, sync ($)
        child.send("1\r")
        child.send("d")
        child.send("$")
        time.sleep(1)
        # save (move) the next one to Trash
        child.send("s")
        child.expect("Save to mailbox")
        child.send("\x15=Trash\r")
        time.sleep(1)
        child.send("$")
        time.sleep(1)
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    m = client(srv, user)
    typ, data = m.select("INBOX")
    subjects = []
    for i in range(1, int(data[0]) + 1):
        subjects.append(m.fetch(str(i), "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")[1][0][1])
    assert b"Subject: first for mutt\r\n\r\n" not in subjects
    assert b"Subject: third for mutt\r\n\r\n" in subjects
    assert m.status("Trash", "(MESSAGES)")[1] == [b"Trash (MESSAGES 1)"]
    m.logout()

"""inetkit imapd: the extensions beyond the base (QRESYNC, keywords kept as
Dovecot keeps them, UTF8=ACCEPT, decoded SEARCH, sessions per user) and the
clients of issue 15 not covered in test_imapd.py (fetchmail, mutt driven
through tmux). Exact replies over raw sockets; mail sent
through inetkit smtpd."""
import imaplib
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import run
from imapd_env import PASSWORD, Imapd, Raw, tls_context


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Imapd(tmp_path_factory.mktemp("imapext"))
    yield s
    s.stop()


def fresh_user(srv, name, messages=0):
    run("user", "add", name, "--db", srv.db, "--password-stdin", input=PASSWORD + "\n",
        check=0)
    for i in range(messages):
        srv.send("%s@localhost" % name, "Subject: m%d\r\n\r\nbody %d\r\n" % (i + 1, i + 1))
    return name


def session(srv, user):
    r = Raw(srv.tls_port, tls=True)
    r.login(user)
    return r


def select_values(lines):
    uv = int(re.search(r"UIDVALIDITY (\d+)", "\n".join(lines)).group(1))
    hm = int(re.search(r"HIGHESTMODSEQ (\d+)", "\n".join(lines)).group(1))
    return uv, hm


# ---- QRESYNC (RFC 7162) ----------------------------------------------------

def test_qresync_enable_select_and_vanished(srv):
    user = fresh_user(srv, "qr1", messages=5)
    a = session(srv, user)
    assert a.cmd("e ENABLE QRESYNC") == ["* ENABLED QRESYNC", "e OK Enabled."]
    # enabling twice lists nothing new (RFC 5161 3.1)
    assert a.cmd("e2 ENABLE QRESYNC CONDSTORE") == ["* ENABLED", "e2 OK Enabled."]
    uv, hm = select_values(a.cmd("s SELECT INBOX"))
    # another session changes a flag and expunges two messages
    b = session(srv, user)
    b.cmd("s SELECT INBOX")
    b.cmd("f STORE 1 +FLAGS.SILENT (\\Flagged)")
    b.cmd("d STORE 2,4 +FLAGS.SILENT (\\Deleted)")
    b.cmd("x EXPUNGE")
    b.close()
    # an expunge reaches a QRESYNC session as VANISHED, not EXPUNGE
    lines = a.cmd("n NOOP")
    assert lines[0] == "* VANISHED 2,4"
    assert "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent) MODSEQ (%d))" % (hm + 1) in lines
    assert lines[-1] == "n OK NOOP completed."
    a.cmd("u UNSELECT")
    # a resync from the state before: what vanished, what changed
    lines = a.cmd("q SELECT INBOX (QRESYNC (%d %d))" % (uv, hm))
    assert "* VANISHED (EARLIER) 2,4" in lines
    fetch = [l for l in lines if " FETCH " in l]
    assert fetch == ["* 1 FETCH (UID 1 FLAGS (\\Flagged) MODSEQ (%d))" % (hm + 1)]
    assert lines[-1] == "q OK [READ-WRITE] Select completed."
    # known UIDs narrow the VANISHED; an up-to-date client gets nothing;
    # the previous mailbox is reported [CLOSED]
    uv2, hm2 = select_values(lines)
    lines = a.cmd("r SELECT INBOX (QRESYNC (%d %d 3:5))" % (uv, hm))
    assert lines[0] == "* OK [CLOSED] Previous mailbox closed."
    assert "* VANISHED (EARLIER) 4" in lines
    lines = a.cmd("t SELECT INBOX (QRESYNC (%d %d 1:5 (1:3 1:3)))" % (uv2, hm2))
    assert not [l for l in lines if "VANISHED" in l or " FETCH " in l]
    # a wrong UIDVALIDITY: a plain SELECT
    lines = a.cmd("w SELECT INBOX (QRESYNC (%d %d))" % (uv + 1, 1))
    assert not [l for l in lines if "VANISHED" in l or " FETCH " in l]
    # UID FETCH ... (CHANGEDSINCE n VANISHED)
    lines = a.cmd("v UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % hm)
    assert lines == ["* VANISHED (EARLIER) 2,4",
                     "* 1 FETCH (UID 1 FLAGS (\\Flagged) MODSEQ (%d))" % (hm + 1),
                     "v OK Fetch completed."]
    assert a.cmd("v2 UID FETCH 3:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % hm2) == [
        "v2 OK Fetch completed."]
    a.close()


def test_qresync_refusals(srv):
    user = fresh_user(srv, "qr2", messages=1)
    a = session(srv, user)
    assert a.cmd("s SELECT INBOX (QRESYNC (1 1))") == [
        "s BAD QRESYNC is not enabled (ENABLE QRESYNC first)"]
    a.cmd("s2 SELECT INBOX")
    assert a.cmd("f UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)") == [
        "f BAD VANISHED needs UID FETCH and ENABLE QRESYNC"]
    a.cmd("e ENABLE QRESYNC")
    assert a.cmd("g FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)") == [
        "g BAD VANISHED needs UID FETCH and ENABLE QRESYNC"]
    assert a.cmd("h SELECT INBOX (QRESYNC (1))") == [
        "h BAD Syntax: QRESYNC (uidvalidity modseq [known-uids [(seqs uids)]])"]
    assert a.cmd("i SELECT INBOX (FROB)") == ["i BAD Unknown SELECT parameter"]
    a.close()


def test_condstore_fetch_flags_carry_modseq(srv):
    user = fresh_user(srv, "cs1", messages=1)
    a = session(srv, user)
    a.cmd("e ENABLE CONDSTORE")
    a.cmd("s SELECT INBOX")
    lines = a.cmd("f FETCH 1 (FLAGS)")
    assert re.fullmatch(r"\* 1 FETCH \(FLAGS \(\\Recent\) MODSEQ \(\d+\)\)", lines[0]), lines
    a.close()


# ---- keywords, as Dovecot keeps them --------------------------------------

def test_keywords_are_permanent_and_dovecot_compatible(srv):
    user = fresh_user(srv, "kw1", messages=2)
    a = session(srv, user)
    a.cmd("s SELECT INBOX")
    lines = a.cmd("k STORE 1 +FLAGS ($Forwarded Work)")
    assert lines == [
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded Work)",
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded Work \\*)]"
        " Flags permitted.",
        "* 1 FETCH (FLAGS (\\Recent $Forwarded Work))",
        "k OK Store completed."]
    # Dovecot's file and letters: "0 $Forwarded", "1 Work"; letters a, b
    md = srv.maildir(user)
    with open(os.path.join(md, "dovecot-keywords")) as f:
        assert f.read() == "0 $Forwarded\n1 Work\n"
    # message 2 is still in new/ (this session holds its \Recent)
    assert len(os.listdir(os.path.join(md, "new"))) == 1
    names = os.listdir(os.path.join(md, "cur"))
    assert sorted(n.split(":2,")[1] for n in names) == ["ab"]
    # flags compare without case; SEARCH KEYWORD / UNKEYWORD
    assert a.cmd("k2 STORE 2 +FLAGS.SILENT (work)") == ["k2 OK Store completed."]
    assert a.cmd("q SEARCH KEYWORD WORK") == ["* SEARCH 1 2", "q OK Search completed."]
    assert a.cmd("q2 SEARCH UNKEYWORD $Forwarded") == ["* SEARCH 2", "q2 OK Search completed."]
    assert a.cmd("q3 SEARCH KEYWORD Nope") == ["* SEARCH", "q3 OK Search completed."]
    assert a.cmd("r STORE 1 -FLAGS (Work)") == ["* 1 FETCH (FLAGS (\\Recent $Forwarded))",
                                                 "r OK Store completed."]
    assert a.cmd("r2 STORE 2 FLAGS (\\Seen)") == ["* 2 FETCH (FLAGS (\\Seen \\Recent))",
                                                   "r2 OK Store completed."]
    # a keyword Dovecot (or another session) named and set by a rename
    with open(os.path.join(md, "dovecot-keywords"), "w") as f:
        f.write("0 $Forwarded\n1 Work\n3 Later\n")
    cur = os.path.join(md, "cur")
    (two,) = [n for n in os.listdir(cur) if n.endswith(":2,S")]
    os.rename(os.path.join(cur, two), os.path.join(cur, two[:-len(":2,S")] + ":2,Sd"))
    lines = a.cmd("n NOOP")
    assert "* 2 FETCH (UID 2 FLAGS (\\Seen \\Recent Later))" in lines, lines
    # the names survive a new session and a COPY to a folder with its own file
    b = session(srv, user)
    lines = b.cmd("s SELECT INBOX")
    assert lines[0] == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded Work Later)"
    assert b.cmd("c COPY 2 Archive")[-1].startswith("c OK [COPYUID")
    with open(os.path.join(srv.maildir(user, "Archive"), "dovecot-keywords")) as f:
        assert f.read() == "0 Later\n"
    b.cmd("x SELECT Archive")
    assert b.cmd("y FETCH 1 (FLAGS)")[0] == "* 1 FETCH (FLAGS (\\Seen Later))"
    # APPEND with a keyword names it in the target folder
    msg = "Subject: kw\r\n\r\nx\r\n"
    b.send("ap APPEND Drafts (\\Draft Todo) {%d+}\r\n%s\r\n" % (len(msg), msg))
    assert b.until("ap")[-1].startswith("ap OK [APPENDUID")
    with open(os.path.join(srv.maildir(user, "Drafts"), "dovecot-keywords")) as f:
        assert f.read() == "0 Todo\n"
    (d,) = os.listdir(os.path.join(srv.maildir(user, "Drafts"), "cur"))
    assert d.endswith(":2,Da")
    b.close()
    a.close()


def test_keyword_limit_and_invalid(srv):
    user = fresh_user(srv, "kw2", messages=1)
    a = session(srv, user)
    a.cmd("s SELECT INBOX")
    words = " ".join("k%02d" % i for i in range(26))
    lines = a.cmd("a STORE 1 +FLAGS.SILENT (%s)" % words)
    # the 26th fills the folder: \* goes away from PERMANENTFLAGS
    assert lines[1].endswith(" k25)] Flags permitted."), lines
    assert lines[-1] == "a OK Store completed."
    assert a.cmd("b STORE 1 +FLAGS (one-more)") == [
        "b NO [LIMIT] A mailbox holds at most 26 keywords"]
    assert a.cmd("c STORE 1 +FLAGS (\\Bogus)") == ["c BAD Invalid flag"]
    a.close()


# ---- UTF8=ACCEPT (RFC 6855) -------------------------------------------------

def test_utf8_accept_append(srv):
    user = fresh_user(srv, "u8")
    a = session(srv, user)
    msg = "Subject: Grüße\r\nFrom: Jürgen <j@example.org>\r\n\r\nÄpfel\r\n".encode()
    a.send(b"x APPEND INBOX UTF8 (~{%d+}\r\n" % len(msg) + msg + b")\r\n")
    assert a.until("x") == ["x BAD APPEND UTF8 needs ENABLE UTF8=ACCEPT"]
    assert a.cmd("e ENABLE UTF8=ACCEPT") == ["* ENABLED UTF8=ACCEPT", "e OK Enabled."]
    a.send(b"y APPEND INBOX UTF8 (~{%d+}\r\n" % len(msg) + msg + b")\r\n")
    assert a.until("y")[-1].startswith("y OK [APPENDUID")
    a.cmd("s SELECT INBOX")
    a.send("f FETCH 1 (BODY.PEEK[])\r\n")
    assert a.line() == "* 1 FETCH (BODY[] {%d}" % len(msg)
    assert a.f.read(len(msg)) == msg
    assert a.until("f")[-1] == "f OK Fetch completed."
    # UTF-8 in a quoted search string
    assert a.cmd('g SEARCH CHARSET UTF-8 BODY "Äpfel"') == ["* SEARCH 1",
                                                            "g OK Search completed."]
    a.close()


# ---- fetchmail --------------------------------------------------------------

def test_fetchmail_fetches_over_imap(srv, tmp_path):
    user = fresh_user(srv, "fm", messages=2)
    out = tmp_path / "mda.out"
    rc = tmp_path / "fetchmailrc"
    rc.write_text(
        "set no syslog\n"
        "poll 127.0.0.1 service %d protocol IMAP auth password\n"
        "  user \"%s\" password \"%s\" is \"x\" here\n"
        "  sslproto tls1.2+ no sslcertck\n"
        "  fetchall\n"
        "  mda \"/bin/sh -c 'cat >> %s'\"\n" % (srv.port, user, PASSWORD, out))
    rc.chmod(0o600)
    env = dict(os.environ, HOME=str(tmp_path), FETCHMAILHOME=str(tmp_path))
    p = subprocess.run(["fetchmail", "-f", str(rc), "-v", "--nosyslog"], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    data = out.read_text()
    assert "Subject: m1" in data and "body 2" in data
    # fetched mail is deleted on the server (no keep)
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.tls_port, ssl_context=tls_context())
    m.login(user, PASSWORD)
    assert m.select("INBOX") == ("OK", [b"0"])
    m.logout()


def test_utf8_accept_mailbox_names(srv):
    """A UTF8=ACCEPT client names folders in UTF-8; they are stored in
    modified UTF-7 (".Entw&APw-rfe", as Dovecot stores them), so a client
    without UTF8=ACCEPT sees the modified UTF-7 name of the same folder."""
    user = fresh_user(srv, "u8box")
    a = session(srv, user)
    a.cmd("e ENABLE UTF8=ACCEPT")
    assert a.cmd('c CREATE "Entwürfe"') == ["c OK Create completed."]
    assert os.path.isdir(os.path.join(srv.maildir(user), ".Entw&APw-rfe"))
    assert a.cmd('l LIST "" "Entw*"') == ['* LIST (\\HasNoChildren) "." "Entwürfe"',
                                          "l OK List completed."]
    assert a.cmd('s STATUS "Entwürfe" (MESSAGES)') == ['* STATUS "Entwürfe" (MESSAGES 0)',
                                                      "s OK Status completed."]
    assert a.cmd('x SELECT "Entwürfe"')[-1] == "x OK [READ-WRITE] Select completed."
    assert a.cmd('d CREATE "A&B 😀"') == ["d OK Create completed."]
    assert os.path.isdir(os.path.join(srv.maildir(user), ".A&-B &2D3eAA-"))
    b = session(srv, user)
    assert b.cmd('l LIST "" "*"').count('* LIST (\\HasNoChildren) "." "Entw&APw-rfe"') == 1
    assert b.cmd('s SELECT "Entw&APw-rfe"')[-1] == "s OK [READ-WRITE] Select completed."
    b.close()
    a.close()


def test_sessions_per_user_are_limited(tmp_path):
    with Imapd(tmp_path, imap={"max_sessions_per_user": "2"}) as s:
        a, b, c = (Raw(s.tls_port, tls=True) for _ in range(3))
        a.login()
        b.login()
        lines = c.cmd('l0 LOGIN alice "%s"' % PASSWORD)
        assert lines == ["l0 NO [LIMIT] Too many sessions of this user "
                         "(max_sessions_per_user 2)"]
        # another user is not counted against alice; a freed slot is usable
        c.login("bob")
        a.cmd("x LOGOUT")
        a.close()
        d = Raw(s.tls_port, tls=True)
        deadline = time.monotonic() + 10
        while True:
            lines = d.cmd('l1 LOGIN alice "%s"' % PASSWORD)
            if lines[-1].startswith("l1 OK") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert lines[-1].startswith("l1 OK"), lines
        assert "imap_login_refused" in s.log()
        for r in (b, c, d):
            r.close()


def test_search_text_is_decoded(srv):
    """SEARCH BODY / TEXT find words in base64, quoted-printable and
    ISO-8859-1 bodies and in encoded-word headers, in any case."""
    user = fresh_user(srv, "srch")
    msgs = [
        "Subject: qp\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\nUn caf=C3=A9 cr=C3=A8me\r\n",
        "Subject: b64\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n"
        "\r\nR3LDvMOfZSBhdXMgS8O2bG4=\r\n--b--\r\n",
        "Subject: latin1\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\nna\xefve\r\n",
        "Subject: =?UTF-8?Q?R=C3=A9union?= demain\r\n\r\nplain body\r\n",
    ]
    a = session(srv, user)
    for m in msgs:
        data = m.encode("latin-1") if "\xef" in m else m.encode()
        a.send(b"ap APPEND INBOX {%d+}\r\n" % len(data) + data + b"\r\n")
        assert a.until("ap")[-1].startswith("ap OK")
    a.cmd("s SELECT INBOX")
    def search(q):
        lines = a.cmd("q SEARCH CHARSET UTF-8 " + q)
        assert lines[-1] == "q OK Search completed.", lines
        return lines[0]
    assert search('BODY "CAFÉ"') == "* SEARCH 1"
    assert search('BODY "grüße aus köln"') == "* SEARCH 2"
    assert search('BODY "naïve"') == "* SEARCH 3"
    assert search('TEXT "réunion"') == "* SEARCH 4"
    assert search('BODY "réunion"') == "* SEARCH"          # header only: not BODY
    assert search('TEXT "plain BODY"') == "* SEARCH 4"     # the raw path still works
    a.close()


# ---- mutt in tmux -------------------------------------------------------------

class Tmux:
    """A private tmux server (its own socket) running one program in a
    120x40 window; keys sent, the screen read back."""

    def __init__(self, sock, argv, env):
        self.base = ["tmux", "-S", str(sock)]
        subprocess.run(self.base + ["new-session", "-d", "-s", "t", "-x", "120", "-y", "40"]
                       + argv, check=True, env=env)

    def keys(self, *keys):
        subprocess.run(self.base + ["send-keys", "-t", "t"] + list(keys), check=True)

    def screen(self):
        p = subprocess.run(self.base + ["capture-pane", "-p", "-t", "t"], capture_output=True,
                           text=True)
        return p.stdout

    def wait_for(self, *texts, timeout=20):
        """The screen once it shows one of texts."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.screen()
            if any(t in s for t in texts):
                return s
            time.sleep(0.1)
        raise AssertionError("%r not on the screen:\n%s" % (texts, self.screen()))

    def stop(self):
        subprocess.run(self.base + ["kill-server"], capture_output=True)


@pytest.mark.skipif(shutil.which("tmux") is None or shutil.which("mutt") is None,
                    reason="needs tmux and mutt")
def test_mutt_in_tmux_reads_deletes_and_moves(srv, tmp_path):
    user = fresh_user(srv, "tmuxmutt")
    for n in ("first", "second", "third"):
        srv.send("%s@localhost" % user, "Subject: %s in tmux\r\n\r\nbody of the %s one\r\n"
                 % (n, n))
    rc = tmp_path / "muttrc"
    rc.write_text(
        "set imap_user=%s\nset imap_pass=%s\nset ssl_starttls=yes\nset ssl_force_tls=yes\n"
        "set certificate_file=%s\nset ssl_verify_host=no\nset ssl_verify_dates=no\n"
        "set folder=imap://127.0.0.1:%d/\nset spoolfile=+INBOX\nset record=\n"
        "set sort=date-sent\nset confirmappend=no\nset delete=yes\nset mark_old=no\n"
        "set header_cache=\nset message_cachedir=\nset move=no\nset timeout=1\n"
        "set imap_check_subscribed=no\nset pager_stop=yes\nset wait_key=no\n"
        % (user, PASSWORD, tmp_path / "certs", srv.port))
    env = dict(os.environ, HOME=str(tmp_path), LANG="C.UTF-8", TERM="screen")
    t = Tmux(tmp_path / "tmux.sock", ["mutt", "-n", "-F", str(rc)], env)
    try:
        s = t.wait_for("in tmux", "accept (o)nce")
        if "accept (o)nce" in s:
            t.keys("o")
        t.wait_for("third in tmux")
        # read the first message in the pager, back to the index
        t.keys("1", "Enter", "Enter")
        t.wait_for("body of the first one")
        t.keys("i")
        t.wait_for("third in tmux")
        # delete the second, move the third to Trash, sync
        t.keys("2", "Enter", "d")
        t.keys("3", "Enter", "s")
        t.wait_for("Save to mailbox")
        t.keys("C-u", "=Trash", "Enter")
        time.sleep(1)
        t.keys("$")
        time.sleep(1)
        t.keys("q")
        deadline = time.monotonic() + 20
        while "in tmux" in t.screen() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        t.stop()
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.tls_port, ssl_context=tls_context())
    m.login(user, PASSWORD)
    typ, data = m.select("INBOX")
    assert data == [b"1"]
    typ, data = m.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"\\Seen" in data[0][0]
    assert data[0][1] == b"Subject: first in tmux\r\n\r\n"
    assert m.status("Trash", "(MESSAGES)")[1] == [b"Trash (MESSAGES 1)"]
    m.select("Trash")
    typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert data[0][1] == b"Subject: third in tmux\r\n\r\n"
    m.logout()


def test_other_sessions_hear_of_new_keywords(srv):
    user = fresh_user(srv, "kw3", messages=1)
    a, b = session(srv, user), session(srv, user)
    a.cmd("s SELECT INBOX")
    b.cmd("s SELECT INBOX")
    a.cmd("k STORE 1 +FLAGS.SILENT (Shared)")
    assert b.cmd("n NOOP") == [
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Shared)",
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Shared \\*)]"
        " Flags permitted.",
        "* 1 FETCH (UID 1 FLAGS (Shared))",
        "n OK NOOP completed."]
    assert b.cmd("n2 NOOP") == ["n2 OK NOOP completed."]
    a.close()
    b.close()


def test_esearch_with_modseq(srv):
    user = fresh_user(srv, "es1", messages=3)
    a = session(srv, user)
    a.cmd("s SELECT INBOX (CONDSTORE)")
    lines = a.cmd("f STORE 2 +FLAGS (\\Flagged)")
    ms = int(re.search(r"MODSEQ \((\d+)\)", lines[0]).group(1))
    assert a.cmd("e UID SEARCH RETURN (MIN COUNT) MODSEQ %d" % ms) == [
        '* ESEARCH (TAG "e") UID MIN 2 COUNT 1 MODSEQ %d' % ms, "e OK Search completed."]
    assert a.cmd("g SEARCH MODSEQ %d" % ms) == ["* SEARCH 2 (MODSEQ %d)" % ms,
                                                 "g OK Search completed."]
    a.close()


def test_every_search_key(srv):
    """Each SEARCH key of RFC 3501 6.4.4 (and MODSEQ) against four known
    messages: exact hit lists."""
    user = fresh_user(srv, "every")
    a = session(srv, user)
    msgs = [
        ("(\\Answered \\Seen)", "01-Jan-2026 10:00:00 +0000",
         "From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nCc: carol@example.org\r\n"
         "Bcc: dave@example.org\r\nSubject: alpha\r\nDate: Thu, 01 Jan 2026 10:00:00 +0000\r\n"
         "\r\none\r\n"),
        ("(\\Flagged \\Draft Work)", "15-Feb-2026 10:00:00 +0000",
         "From: bob@example.org\r\nTo: alice@example.org\r\nSubject: beta\r\n"
         "Date: Sun, 15 Feb 2026 10:00:00 +0000\r\n\r\n" + "x" * 2000 + "\r\n"),
        ("(\\Deleted)", "20-Mar-2026 10:00:00 +0000",
         "From: carol@example.org\r\nSubject: gamma\r\nX-Custom: yes\r\n"
         "Date: Fri, 20 Mar 2026 10:00:00 +0000\r\n\r\nthree\r\n"),
    ]
    for flags, date, text in msgs:
        a.send('ap APPEND INBOX %s "%s" {%d+}\r\n%s\r\n' % (flags, date, len(text), text))
        assert a.until("ap")[-1].startswith("ap OK")
    srv.send("%s@localhost" % user, "Subject: delta\r\nDate: Mon, 06 Apr 2026 10:00:00 +0000"
             "\r\n\r\nfour\r\n")
    a.cmd("s SELECT INBOX")
    cases = {
        "ALL": "1 2 3 4", "ANSWERED": "1", "UNANSWERED": "2 3 4",
        "BCC dave": "1", "CC carol": "1", "TO alice": "2", "FROM carol": "3",
        "SUBJECT gamma": "3", "HEADER X-Custom yes": "3", "HEADER X-Custom \"\"": "3",
        "BODY three": "3", "TEXT alpha": "1",
        "BEFORE 15-Feb-2026": "1", "ON 15-Feb-2026": "2", "SINCE 20-Mar-2026": "3 4",
        "SENTBEFORE 15-Feb-2026": "1", "SENTON 20-Mar-2026": "3",
        "SENTSINCE 20-Mar-2026": "3 4",
        "DELETED": "3", "UNDELETED": "1 2 4", "DRAFT": "2", "UNDRAFT": "1 3 4",
        "FLAGGED": "2", "UNFLAGGED": "1 3 4", "SEEN": "1", "UNSEEN": "2 3 4",
        "KEYWORD Work": "2", "UNKEYWORD Work": "1 3 4",
        "LARGER 1000": "2", "SMALLER 150": "3",
        "RECENT": "4", "NEW": "4", "OLD": "1 2 3",
        "NOT SEEN": "2 3 4", "OR ANSWERED FLAGGED": "1 2",
        "(FLAGGED DRAFT)": "2", "2:3": "2 3", "UID 1,4": "1 4",
        "1:* NOT (OR DELETED SEEN)": "2 4", "MODSEQ 1": "1 2 3 4",
    }
    got = {}
    for key, want in cases.items():
        lines = a.cmd("q SEARCH " + key)
        assert lines[-1] == "q OK Search completed.", (key, lines)
        got[key] = re.sub(r" \(MODSEQ \d+\)$", "", lines[0])[len("* SEARCH "):]
    assert got == cases
    a.close()


def test_status_size_and_deleted(srv):
    user = fresh_user(srv, "st1", messages=3)
    a = session(srv, user)
    a.cmd("s SELECT INBOX")
    a.cmd("d STORE 2 +FLAGS.SILENT (\\Deleted)")
    sizes = [int(re.search(r"RFC822.SIZE (\d+)", l).group(1))
             for l in a.cmd("f FETCH 1:* (RFC822.SIZE)")[:-1]]
    a.cmd("u UNSELECT")
    assert a.cmd("t STATUS INBOX (MESSAGES SIZE DELETED)") == [
        "* STATUS INBOX (MESSAGES 3 SIZE %d DELETED 1)" % sum(sizes),
        "t OK Status completed."]
    a.close()


def test_qresync_vanished_is_exact(srv):
    """Expunges are dated in the index: a client is told only of those
    after its MODSEQ, also after the server restarted."""
    user = fresh_user(srv, "qr3", messages=5)
    a = session(srv, user)
    a.cmd("e ENABLE QRESYNC")
    a.cmd("s SELECT INBOX")
    a.cmd("d STORE 2 +FLAGS.SILENT (\\Deleted)")
    a.cmd("x EXPUNGE")
    uv, hm1 = select_values(a.cmd("s2 SELECT INBOX"))
    a.cmd("d2 UID STORE 4 +FLAGS.SILENT (\\Deleted)")
    a.cmd("x2 EXPUNGE")
    a.cmd("u UNSELECT")
    lines = a.cmd("q SELECT INBOX (QRESYNC (%d %d))" % (uv, hm1))
    assert [l for l in lines if "VANISHED" in l] == ["* VANISHED (EARLIER) 4"]
    assert a.cmd("f UID FETCH 1:* (UID) (CHANGEDSINCE %d VANISHED)" % hm1) == [
        "* VANISHED (EARLIER) 4", "f OK Fetch completed."]
    # an older state: both
    assert a.cmd("g UID FETCH 1:* (UID) (CHANGEDSINCE 1 VANISHED)")[0] == \
        "* VANISHED (EARLIER) 2,4"
    a.close()
    b = session(srv, user)                  # a new session reads the log
    b.cmd("e ENABLE QRESYNC")
    lines = b.cmd("q SELECT INBOX (QRESYNC (%d %d 1:5))" % (uv, hm1))
    assert [l for l in lines if "VANISHED" in l] == ["* VANISHED (EARLIER) 4"]
    b.close()

"""STORE on a message whose Maildir file another process renamed since the
session last looked: a flag set by mutt or a second IMAP server, the move
from new/ to cur/ that POP3 makes. The server must find the file again by
its unique base name (in new/ or cur/), keep the flags it did not touch and
lose no message."""
import imaplib
import os
import time

import pytest

from imapd_env import PASSWORD, Imapd, Raw, tls_context


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Imapd(tmp_path_factory.mktemp("imap_store_rename"))
    yield s
    s.stop()


_users = iter(range(1000))


def fresh(srv, n=1):
    """A new user with n messages delivered through smtpd."""
    from conftest import run
    user = "sr%d" % next(_users)
    run("user", "add", user, "--db", srv.db, "--password-stdin", input=PASSWORD + "\n",
        check=0)
    for i in range(n):
        srv.send(user + "@localhost", "Subject: m%d\r\n\r\nbody %d\r\n" % (i, i))
    return user


def client(srv, user):
    m = imaplib.IMAP4("127.0.0.1", srv.port)
    m.starttls(tls_context())
    m.login(user, PASSWORD)
    return m


def files(srv, user):
    """{base: (subdir, name)} of every message file of the INBOX."""
    out = {}
    for sub in ("new", "cur"):
        for name in os.listdir(os.path.join(srv.maildir(user), sub)):
            base = name.split(":")[0].split(",")[0]
            assert base not in out, "two files for one message: %s" % name
            out[base] = (sub, name)
    return out


def flags_of(name):
    return name.split(":2,", 1)[1] if ":2," in name else ""


def rename_behind(srv, user, base, sub, flags):
    """Move the message base to sub/ with the given flag letters, as mutt
    or POP3 would, without the server knowing."""
    d = srv.maildir(user)
    old_sub, old = files(srv, user)[base]
    prefix = old.split(":")[0]
    new = prefix + ":2," + flags
    os.rename(os.path.join(d, old_sub, old), os.path.join(d, sub, new))
    return new


def body(srv, user, base):
    sub, name = files(srv, user)[base]
    with open(os.path.join(srv.maildir(user), sub, name), "rb") as f:
        return f.read()


def only_base(srv, user):
    (base,) = files(srv, user)
    return base


def test_store_after_another_tool_added_a_flag(srv):
    user = fresh(srv)
    m = client(srv, user)
    m.select("INBOX")
    base = only_base(srv, user)
    before = body(srv, user, base)
    rename_behind(srv, user, base, "cur", "F")
    typ, data = m.store("1", "+FLAGS", "(\\Seen)")
    assert typ == "OK", data
    assert b"\\Flagged" in data[0] and b"\\Seen" in data[0], data
    sub, name = files(srv, user)[base]
    assert (sub, flags_of(name)) == ("cur", "FS")
    assert body(srv, user, base) == before
    typ, data = m.fetch("1", "(FLAGS BODY.PEEK[])")
    assert typ == "OK" and data[0][1] == before.replace(b"\n", b"\r\n")
    m.logout()


def test_store_after_the_file_went_back_to_new_and_out_again(srv):
    # POP3 and other readers move a message between new/ and cur/ (and
    # add ",W="): wherever the file is now, STORE finds it by its base.
    user = fresh(srv)
    m = client(srv, user)
    m.select("INBOX")
    base = only_base(srv, user)
    d = srv.maildir(user)
    sub, name = files(srv, user)[base]
    os.rename(os.path.join(d, sub, name), os.path.join(d, "new", name.split(":")[0]))
    typ, data = m.store("1", "+FLAGS", "(\\Answered)")
    assert typ == "OK", data
    sub, name = files(srv, user)[base]
    assert (sub, flags_of(name)) == ("cur", "R")
    # and from new/ to cur/ with flags, as POP3's RETR then mutt would
    rename_behind(srv, user, base, "cur", "RS")
    typ, data = m.store("1", "+FLAGS", "(\\Flagged)")
    assert typ == "OK", data
    sub, name = files(srv, user)[base]
    assert (sub, flags_of(name)) == ("cur", "FRS")
    m.logout()


def test_store_removes_a_flag_set_behind_its_back(srv):
    user = fresh(srv)
    m = client(srv, user)
    m.select("INBOX")
    base = only_base(srv, user)
    rename_behind(srv, user, base, "cur", "FS")
    # the session's view has no \Flagged yet: the file on disk decides
    typ, data = m.store("1", "-FLAGS", "(\\Flagged)")
    assert typ == "OK", data
    sub, name = files(srv, user)[base]
    assert flags_of(name) == "S"
    typ, data = m.fetch("1", "(FLAGS)")
    assert b"\\Flagged" not in data[0] and b"\\Seen" in data[0], data
    m.logout()


def test_silent_store_still_reports_a_change_made_elsewhere(srv):
    user = fresh(srv)
    r = Raw(srv.tls_port, tls=True)
    r.login(user)
    r.cmd("s SELECT INBOX")
    base = only_base(srv, user)
    rename_behind(srv, user, base, "cur", "F")
    # RFC 3501 6.4.6: .SILENT suppresses only what this STORE itself did
    assert r.cmd("a STORE 1 +FLAGS.SILENT (\\Seen)") == [
        "* 1 FETCH (FLAGS (\\Flagged \\Seen \\Recent))", "a OK Store completed."]
    assert r.cmd("b STORE 1 +FLAGS.SILENT (\\Answered)") == ["b OK Store completed."]
    assert flags_of(files(srv, user)[base][1]) == "FRS"
    r.close()


def test_two_sessions_store_without_syncing(srv):
    user = fresh(srv, 3)
    a, b = Raw(srv.tls_port, tls=True), Raw(srv.tls_port, tls=True)
    a.login(user)
    b.login(user)
    a.cmd("s SELECT INBOX")
    b.cmd("s SELECT INBOX")
    assert a.cmd("a1 STORE 1:3 +FLAGS.SILENT (\\Flagged)") == ["a1 OK Store completed."]
    # b has not synced: its STORE must keep a's \Flagged on every file
    lines = b.cmd("b1 STORE 1:3 +FLAGS (\\Seen)")
    assert lines[-1] == "b1 OK Store completed.", lines
    for i in (1, 2, 3):
        assert "* %d FETCH (FLAGS (\\Flagged \\Seen))" % i in lines, lines
    got = files(srv, user)
    assert len(got) == 3
    assert sorted(flags_of(n) for _, n in got.values()) == ["FS", "FS", "FS"]
    assert a.cmd("a2 STORE 2 -FLAGS.SILENT (\\Seen)") == ["a2 OK Store completed."]
    assert b.cmd("b2 UID STORE 2 +FLAGS (\\Deleted)")[-1] == "b2 OK Store completed."
    # b's view still says \Seen on message 2: the file says otherwise
    assert sorted(flags_of(n) for _, n in files(srv, user).values()) == ["FS", "FS", "FT"]
    a.close()
    b.close()


def test_store_on_a_message_removed_behind_its_back(srv):
    user = fresh(srv, 2)
    m = client(srv, user)
    m.select("INBOX")
    d = srv.maildir(user)
    got = files(srv, user)
    base = sorted(got)[0]
    sub, name = got[base]
    os.unlink(os.path.join(d, sub, name))
    # the message is gone: STORE answers (OK or NO) and touches nothing else
    typ, data = m.store("1:2", "+FLAGS", "(\\Seen)")
    assert typ in ("OK", "NO"), data
    rest = files(srv, user)
    assert len(rest) == 1
    assert flags_of(list(rest.values())[0][1]) == "S"
    m.logout()


def test_first_select_renames_nothing(srv):
    # The first SELECT of a new/ full of mail reads and renames no file:
    # the message stays in new/ while this session holds its \Recent; W=
    # (the CR LF size) is learnt when a FETCH reads it and written by the
    # next rename; sizes are right all along.
    user = fresh(srv, 0)
    m = client(srv, user)
    m.select("INBOX")
    d = srv.maildir(user)
    data = b"Subject: lf only\n\nline one\nline two\n"
    with open(os.path.join(d, "new", "1790000000.M1P1Q1.tool"), "wb") as f:
        f.write(data)
    typ, got = m.select("INBOX")
    assert m.response("RECENT") == ("RECENT", [b"1"])
    (base,) = files(srv, user)
    assert files(srv, user)[base] == ("new", "1790000000.M1P1Q1.tool")
    crlf = data.replace(b"\n", b"\r\n")
    typ, got = m.fetch("1", "(RFC822.SIZE)")
    assert got[0] == b"1 (RFC822.SIZE %d)" % len(crlf)
    typ, got = m.fetch("1", "(BODY.PEEK[])")
    assert got[0][1] == crlf
    assert files(srv, user)[base][0] == "new"
    typ, got = m.store("1", "+FLAGS", "(\\Seen)")
    assert typ == "OK"
    assert got == [b"1 (FLAGS (\\Seen \\Recent))"]
    sub, name = files(srv, user)[base]
    assert (sub, name) == ("cur", "1790000000.M1P1Q1.tool,W=%d:2,S" % len(crlf))
    typ, got = m.fetch("1", "(RFC822.SIZE BODY.PEEK[])")
    assert got[0][0].startswith(b"1 (RFC822.SIZE %d " % len(crlf)) and got[0][1] == crlf
    m.logout()


def test_recent_messages_leave_new_when_the_session_ends(srv):
    # The session that holds their \Recent moves them to cur/ when it lets
    # the folder go (here: LOGOUT); a read-only EXAMINE neither takes
    # their \Recent nor moves them; a second session never sees them
    # \Recent, even when they are still in new/.
    user = fresh(srv, 3)
    ro = client(srv, user)
    ro.select("INBOX", readonly=True)
    assert ro.response("RECENT") == ("RECENT", [b"0"])
    ro.logout()
    assert sorted(sub for sub, _ in files(srv, user).values()) == ["new"] * 3
    a = client(srv, user)
    a.select("INBOX")
    assert a.response("RECENT") == ("RECENT", [b"3"])
    b = client(srv, user)
    b.select("INBOX")
    assert b.response("RECENT") == ("RECENT", [b"0"])
    assert sorted(sub for sub, _ in files(srv, user).values()) == ["new"] * 3
    typ, got = b.fetch("1:*", "(FLAGS)")
    assert got == [b"1 (FLAGS ())", b"2 (FLAGS ())", b"3 (FLAGS ())"]
    a.logout()
    # moved a batch per loop turn, after the LOGOUT's reply
    for _ in range(100):
        if sorted(sub for sub, _ in files(srv, user).values()) == ["cur"] * 3:
            break
        time.sleep(0.05)
    assert sorted(name.split(":2,")[1] for _, name in files(srv, user).values()) == [""] * 3
    typ, got = b.fetch("1:*", "(FLAGS BODY.PEEK[TEXT])")
    assert [x[1] for x in got if isinstance(x, tuple)] == [b"body %d\r\n" % i for i in range(3)]
    b.logout()
    c = client(srv, user)
    c.select("INBOX")
    assert c.response("RECENT") == ("RECENT", [b"0"])
    c.logout()

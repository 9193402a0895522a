"""`inetkit user`: every verb end to end, --json, and every bad input's exact
message and exit code. Each test gets its own accounts.db."""
import json
import os
import re
import sqlite3
import time

import pytest

from conftest import BIN, run

TRY = "Try 'inetkit user --help'.\n"
ENV = {"TZ": "UTC", "NO_COLOR": "1"}


@pytest.fixture
def db(tmp_path):
    # --db makes the file, not its directory (see test_db_in_a_missing_directory).
    (tmp_path / "state").mkdir()
    return str(tmp_path / "state" / "accounts.db")


def user(*args, input=None, check=None, env=None):
    e = dict(ENV)
    if env:
        e.update(env)
    return run("user", *args, input=input, check=check, env=e)


def add(db, name, pw="password1", *extra, check=0):
    return user("add", name, "--db", db, "--password-stdin", *extra, input=pw + "\n", check=check)


def verify(db, name, pw, service="ftp", *extra, check=None):
    return user("verify", name, "--service", service, "--password-stdin", "--db", db, *extra,
                input=pw + "\n", check=check)


def usage(p, msg):
    assert p.returncode == 2, p.stderr
    assert p.stderr == "inetkit user: %s\n%s" % (msg, TRY), p.stderr


def fail(p, msg):
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert p.stderr == "inetkit user: %s\n" % msg, p.stderr


# --- the happy paths -------------------------------------------------------

def test_help():
    p = user("--help", check=0)
    assert p.stdout.startswith("Usage: inetkit user VERB")
    for verb in ("add NAME", "list", "show NAME", "del NAME", "passwd NAME", "token add NAME",
                 "token list NAME", "token revoke NAME", "log [NAME]", "verify NAME"):
        assert verb in p.stdout
    p = run("help", "user", check=0)
    assert "inetkit-user" in p.stdout or "INETKIT-USER" in p.stdout


def test_add_list_show_del(db, tmp_path):
    state = os.path.dirname(db)
    p = add(db, "alice")
    assert p.stdout == "added real account alice (home %s/home/alice)\n" % state
    assert os.path.isdir(os.path.join(state, "home", "alice"))
    assert os.stat(db).st_mode & 0o777 == 0o600
    p = add(db, "bob", "guestpass", "--class", "guest", "--expires", "2099-12-31",
            "--rights", "upload", "--quota", "10M", "--home", str(tmp_path / "drop"))
    assert p.stdout == ("added guest account bob (rights upload, expires 2100-01-01T00:00:00Z, "
                        "home %s)\n" % (tmp_path / "drop"))
    p = user("list", "--db", db, check=0)
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["NAME", "CLASS", "RIGHTS", "STATE", "EXPIRES", "QUOTA", "HOME"]
    assert lines[1].split() == ["alice", "real", "rw", "active", "never", "-",
                                "%s/home/alice" % state]
    assert lines[2].split() == ["bob", "guest", "upload", "active", "2100-01-01T00:00:00Z", "10M",
                                str(tmp_path / "drop")]
    data = json.loads(user("list", "--json", "--db", db, check=0).stdout)
    assert [a["name"] for a in data] == ["alice", "bob"]
    bob = data[1]
    assert bob["class"] == "guest" and bob["rights"] == "upload"
    assert bob["quota"] == 10 * 1024 * 1024 and bob["expires"] == "2100-01-01T00:00:00Z"
    assert bob["disabled"] is False and bob["state"] == "active"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", bob["created"])
    assert data[0]["expires"] is None and data[0]["quota"] == 0

    p = user("show", "alice", "--db", db, check=0)
    assert "name:          alice\n" in p.stdout
    assert "class:         real\n" in p.stdout
    assert "quota:         none\n" in p.stdout
    assert "last login:    never\n" in p.stdout
    verify(db, "alice", "password1", "imap", "--peer", "192.0.2.1", check=0)
    s = json.loads(user("show", "alice", "--json", "--db", db, check=0).stdout)
    assert s["name"] == "alice" and s["app_passwords"] == 0 and s["locked_until"] is None
    assert s["last_login"]["service"] == "imap" and s["last_login"]["peer"] == "192.0.2.1"
    assert s["last_login"]["result"] == "ok"

    p = user("del", "alice", "--db", db, check=0)
    assert p.stdout == "deleted account alice (its home %s/home/alice is left in place)\n" % state
    fail(user("show", "alice", "--db", db), "no account named 'alice'")
    fail(user("del", "alice", "--db", db), "no account named 'alice'")
    assert [a["name"] for a in json.loads(user("list", "--json", "--db", db).stdout)] == ["bob"]


def test_empty_list(db):
    add(db, "x1")
    user("del", "x1", "--db", db, check=0)
    p = user("list", "--db", db, check=0)
    assert p.stdout.startswith("NAME ")
    assert "no accounts yet" in p.stderr
    assert user("list", "--json", "--db", db, check=0).stdout == "[]\n"


def test_passwd_disable_enable(db):
    add(db, "carol", "first-pass")
    verify(db, "carol", "first-pass", check=0)
    p = user("passwd", "carol", "--db", db, "--password-stdin", input="second-pass\n", check=0)
    assert p.stdout == "changed the password of carol\n"
    fail(verify(db, "carol", "first-pass"), "login refused: wrong password for carol")
    p = verify(db, "carol", "second-pass", check=0)
    assert p.stdout.startswith("ok: real account carol, rights rw, home ")
    assert user("disable", "carol", "--db", db, check=0).stdout == "disabled account carol\n"
    fail(verify(db, "carol", "second-pass"), "login refused: account carol is disabled")
    assert json.loads(user("show", "carol", "--json", "--db", db).stdout)["state"] == "disabled"
    # A wrong password still says only "wrong password".
    fail(verify(db, "carol", "nope"), "login refused: wrong password for carol")
    assert user("enable", "carol", "--db", db, check=0).stdout == "enabled account carol\n"
    verify(db, "carol", "second-pass", check=0)
    fail(user("passwd", "nobody", "--db", db, "--password-stdin", input="whatever1\n"),
         "no account named 'nobody'")


def test_tokens(db):
    add(db, "dave")
    p = user("token", "add", "dave", "--label", "phone", "--services", "imap,smtp", "--db", db,
             check=0)
    tok = p.stdout.strip()
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){4}", tok)
    assert p.stderr == ("inetkit user: new app password 'phone' (id 1) for dave, valid for "
                        "smtp,imap; it is shown only this once\n")
    j = json.loads(user("token", "add", "dave", "--label", "laptop", "--json", "--db", db,
                        check=0).stdout)
    assert j["id"] == 2 and j["label"] == "laptop" and j["user"] == "dave"
    assert j["services"] == ["ftp", "smtp", "pop3", "imap"]
    tok2 = j["password"]
    # Valid for its services only; also typed with spaces and capitals.
    p = verify(db, "dave", tok, "imap", check=0)
    assert p.stdout.endswith(", with app password 'phone'\n")
    verify(db, "dave", tok.upper().replace("-", " "), "smtp", check=0)
    fail(verify(db, "dave", tok, "ftp"),
         "login refused: that app password of dave is not valid for ftp")
    verify(db, "dave", tok2, "ftp", check=0)
    lst = json.loads(user("token", "list", "dave", "--json", "--db", db, check=0).stdout)
    assert [t["label"] for t in lst] == ["phone", "laptop"]
    assert lst[0]["services"] == ["smtp", "imap"]
    assert lst[0]["last_used"]["service"] == "smtp" and lst[0]["last_used"]["peer"] == "local"
    assert lst[1]["last_used"]["service"] == "ftp"
    p = user("token", "list", "dave", "--db", db, check=0)
    assert p.stdout.splitlines()[0].split() == ["ID", "LABEL", "SERVICES", "CREATED", "LAST", "USED"]
    assert re.search(r"^1 +phone +smtp,imap +\S+ +\S+ smtp from local$", p.stdout, re.M)
    assert json.loads(user("show", "dave", "--json", "--db", db).stdout)["app_passwords"] == 2
    # Revoke by label and by id.
    p = user("token", "revoke", "dave", "phone", "--db", db, check=0)
    assert p.stdout == "revoked app password 'phone' (id 1) of dave\n"
    fail(verify(db, "dave", tok, "imap"), "login refused: wrong password for dave")
    p = user("token", "revoke", "dave", "2", "--db", db, check=0)
    assert p.stdout == "revoked app password 'laptop' (id 2) of dave\n"
    fail(verify(db, "dave", tok2, "ftp"), "login refused: wrong password for dave")
    fail(user("token", "revoke", "dave", "2", "--db", db),
         "dave has no app password with label or id '2' (see 'inetkit user token list dave')")
    # The main password is untouched.
    verify(db, "dave", "password1", "imap", check=0)
    # Deleting the account deletes its app passwords.
    user("token", "add", "dave", "--label", "x", "--db", db, check=0)
    user("del", "dave", "--db", db, check=0)
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM tokens").fetchone()[0] == 0
    con.close()


def test_token_errors(db):
    add(db, "erin")
    usage(user("token", "add", "erin", "--db", db),
          "'user token add' needs --label LABEL (say which client it is for, e.g. --label phone)")
    usage(user("token", "add", "erin", "--label", "", "--db", db),
          "invalid label '': use 1-64 characters")
    usage(user("token", "add", "erin", "--label", "a\tb", "--db", db),
          "invalid label: control characters are not allowed")
    usage(user("token", "add", "erin", "--label", "x", "--services", "ftp,www", "--db", db),
          "--services: unknown service 'www' (known: ftp, smtp, pop3, imap)")
    usage(user("token", "add", "erin", "--label", "x", "--services", ",", "--db", db),
          "--services: empty service list (known: ftp, smtp, pop3, imap)")
    user("token", "add", "erin", "--label", "x", "--db", db, check=0)
    fail(user("token", "add", "erin", "--label", "x", "--db", db),
         "erin already has an app password labelled 'x'; revoke it first or choose another label")
    fail(user("token", "add", "zed", "--label", "x", "--db", db), "no account named 'zed'")
    fail(user("token", "list", "zed", "--db", db), "no account named 'zed'")
    usage(user("token", "revoke", "erin", "--db", db), "'user token revoke' needs NAME and LABEL|ID")
    usage(user("token", "--db", db), "token needs a verb: add, list or revoke")
    usage(user("token"), "token needs a verb: add, list or revoke")
    usage(user("token", "frob", "erin"), "unknown verb 'token frob' (use add, list or revoke)")


def test_log(db):
    add(db, "fred")
    verify(db, "fred", "password1", "pop3", "--peer", "198.51.100.1")
    verify(db, "fred", "wrong-typed", "imap", "--peer", "198.51.100.2")
    verify(db, "ghost", "x", "ftp", "--peer", "::1")
    logs = json.loads(user("log", "--json", "--db", db, check=0).stdout)
    assert [(r["user"], r["service"], r["peer"], r["result"]) for r in logs] == [
        ("ghost", "ftp", "::1", "unknown"),
        ("fred", "imap", "198.51.100.2", "bad_password"),
        ("fred", "pop3", "198.51.100.1", "ok")]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["time"]) for r in logs)
    logs = json.loads(user("log", "fred", "--json", "--limit", "1", "--db", db, check=0).stdout)
    assert [(r["user"], r["result"]) for r in logs] == [("fred", "bad_password")]
    p = user("log", "--db", db, check=0)
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["TIME", "SERVICE", "USER", "PEER", "RESULT"]
    assert lines[1].split()[1:] == ["ftp", "ghost", "::1", "unknown"]
    assert len(lines) == 4
    usage(user("log", "--limit", "0", "--db", db), "--limit '0' is not a number from 1 to 10000")
    usage(user("log", "--limit", "x", "--db", db), "--limit 'x' is not a number from 1 to 10000")
    usage(user("log", "--limit", "10001", "--db", db),
          "--limit '10001' is not a number from 1 to 10000")
    # No password, right or wrong, is ever written to the store.
    for suffix in ("", "-wal"):
        if os.path.exists(db + suffix):
            data = open(db + suffix, "rb").read()
            assert b"password1" not in data and b"wrong-typed" not in data


def test_guest_expiry_and_rights(db):
    p = add(db, "gina", "guestpass", "--class", "guest", "--expires", "2s")
    assert "added guest account gina (rights ro, expires " in p.stdout
    p = verify(db, "gina", "guestpass", check=0)
    assert p.stdout.startswith("ok: guest account gina, rights ro, home ")
    time.sleep(2.2)
    fail(verify(db, "gina", "guestpass"), "login refused: account gina has expired")
    # Only someone with the password learns that it expired.
    fail(verify(db, "gina", "wrongpass"), "login refused: wrong password for gina")
    assert json.loads(user("show", "gina", "--json", "--db", db).stdout)["state"] == "expired"
    add(db, "hank", "guestpass", "--class", "guest", "--expires", "1w", "--rights", "rw")
    assert verify(db, "hank", "guestpass", check=0).stdout.startswith(
        "ok: guest account hank, rights rw, home ")


def test_lockout_and_its_end(tmp_path):
    conf = tmp_path / "ik.conf"
    conf.write_text("[serve]\nstate_dir = %s\n[accounts]\nlockout_failures = 3\n"
                    "lockout_ip_failures = 4\nlockout_time = 5s\nlockout_window = 1m\n"
                    % (tmp_path / "st"))
    c = ["--config", str(conf)]
    user("add", "ivan", "--password-stdin", *c, input="ivan-pass\n", check=0)
    for i in range(3):
        fail(user("verify", "ivan", "--service", "ftp", "--password-stdin", "--peer",
                  "10.0.0.%d" % i, *c, input="wrong\n"), "login refused: wrong password for ivan")
    p = user("verify", "ivan", "--service", "ftp", "--password-stdin", "--peer", "10.0.0.9", *c,
             input="ivan-pass\n")
    assert p.returncode == 1
    assert re.fullmatch(r"inetkit user: login refused: locked after too many failed logins, "
                        r"until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n", p.stderr)
    s = json.loads(user("show", "ivan", "--json", *c).stdout)
    assert s["locked_until"] is not None
    assert "locked until:  " in user("show", "ivan", *c).stdout
    # 5 s: long enough that a loaded machine (each command a sanitizer
    # build's start) still finds the lock in place above
    time.sleep(5.2)
    user("verify", "ivan", "--service", "ftp", "--password-stdin", "--peer", "10.0.0.9", *c,
         input="ivan-pass\n", check=0)
    # Per address: 4 failures from one address over several names.
    for name in ("n1", "n2", "n3", "n4"):
        fail(user("verify", name, "--service", "imap", "--password-stdin", "--peer", "10.9.9.9", *c,
                  input="x\n"), "login refused: no account named '%s'" % name)
    p = user("verify", "ivan", "--service", "imap", "--password-stdin", "--peer", "10.9.9.9", *c,
             input="ivan-pass\n")
    assert "locked after too many failed logins" in p.stderr
    user("verify", "ivan", "--service", "imap", "--password-stdin", "--peer", "10.9.9.8", *c,
         input="ivan-pass\n", check=0)
    # An administrator unlocks with enable.
    for i in range(3):
        user("verify", "ivan", "--service", "ftp", "--password-stdin", *c, input="wrong\n")
    assert "locked" in user("verify", "ivan", "--service", "ftp", "--password-stdin", *c,
                            input="ivan-pass\n").stderr
    user("enable", "ivan", *c, check=0)
    user("verify", "ivan", "--service", "ftp", "--password-stdin", *c, input="ivan-pass\n", check=0)


def test_anonymous_from_config(tmp_path):
    conf = tmp_path / "ik.conf"
    st = tmp_path / "st"
    conf.write_text("[serve]\nstate_dir = %s\n[ftp]\nanonymous = yes\nanonymous_upload = incoming\n"
                    % st)
    user("add", "judy", "--password-stdin", "--config", str(conf), input="judy-pass\n", check=0)
    p = user("verify", "anonymous", "--service", "ftp", "--password-stdin", "--config", str(conf),
             input="me@example.org\n", check=0)
    assert p.stdout == "ok: anonymous, read-only root %s/ftp, upload directory incoming\n" % st
    user("verify", "FTP", "--service", "ftp", "--password-stdin", "--config", str(conf),
         input="me@example.org\n", check=0)
    fail(user("verify", "anonymous", "--service", "imap", "--password-stdin", "--config",
              str(conf), input="me@example.org\n"),
         "login refused: anonymous login is not enabled for imap")
    db = str(st / "accounts.db")
    fail(verify(db, "anonymous", "me@example.org"),
         "login refused: anonymous login is not enabled for ftp")


V1_SCHEMA = """
    CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
      class TEXT NOT NULL CHECK (class IN ('real', 'guest')), hash TEXT NOT NULL,
      home TEXT NOT NULL, rights TEXT NOT NULL DEFAULT 'rw'
      CHECK (rights IN ('rw', 'ro', 'upload')), expires INTEGER NOT NULL DEFAULT 0,
      disabled INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL);
    CREATE TABLE logins (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, service TEXT NOT NULL,
      user TEXT NOT NULL, peer TEXT NOT NULL, result TEXT NOT NULL);
    PRAGMA user_version = 1;
"""


def test_migrates_a_v1_store(tmp_path):
    # A yescrypt hash made by inetkit itself, to put into the old file.
    (tmp_path / "scratch").mkdir()
    scratch = str(tmp_path / "scratch" / "accounts.db")
    add(scratch, "kim", "kim-pass")
    con = sqlite3.connect(scratch)
    hash_ = con.execute("SELECT hash FROM accounts WHERE name = 'kim'").fetchone()[0]
    con.close()
    db = str(tmp_path / "old.db")
    con = sqlite3.connect(db)
    con.executescript(V1_SCHEMA)
    con.execute("INSERT INTO accounts (name, class, hash, home, rights, expires, created) "
                "VALUES ('kim', 'guest', ?, '/srv/kim', 'ro', 4102444800, 1600000000)", (hash_,))
    con.execute("INSERT INTO logins (time, service, user, peer, result) "
                "VALUES (1600000000, 'ftp', 'kim', '127.0.0.1', 'ok')")
    con.commit()
    con.close()
    data = json.loads(user("list", "--json", "--db", db, check=0).stdout)
    assert data == [{"name": "kim", "class": "guest", "rights": "ro", "home": "/srv/kim",
                     "quota": 0, "expires": "2100-01-01T00:00:00Z",
                     "created": "2020-09-13T12:26:40Z", "disabled": False, "state": "active"}]
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 2
    # v1 kept login times in seconds, v2 in milliseconds.
    assert con.execute("SELECT time FROM logins").fetchone()[0] == 1600000000000
    con.close()
    logs = json.loads(user("log", "--json", "--db", db).stdout)
    assert logs[0]["time"] == "2020-09-13T12:26:40Z"
    verify(db, "kim", "kim-pass", check=0)
    user("token", "add", "kim", "--label", "t", "--db", db, check=0)


def test_refuses_newer_store(tmp_path):
    db = str(tmp_path / "new.db")
    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version = 7")
    con.close()
    fail(user("list", "--db", db),
         "%s has schema version 7, newer than this inetkit knows (2); use a newer inetkit" % db)


# --- bad input: exact messages and exit codes -------------------------------

def test_usage_errors(db):
    usage(user(), "missing verb (add, list, show, del, passwd, disable, enable, token, log, verify, migrate)")
    usage(user("frob"), "unknown verb 'frob'")
    usage(user("list", "--frob"), "unknown option '--frob'\nDid you mean '--from'?")
    usage(user("add", "x", "--class"), "option '--class' needs a value")
    usage(user("list", "--json", "--json"), "option --json is given twice")
    usage(user("list", "--label", "x"), "option --label does not apply to 'user list'")
    usage(user("show", "x", "--password-stdin"),
          "option --password-stdin does not apply to 'user show'")
    usage(user("show"), "'user show' needs NAME")
    usage(user("list", "extra"), "unexpected argument 'extra'")
    usage(user("list", "--db", db, "--config", "x.conf"), "give --db or --config, not both")


def test_add_errors(db):
    usage(add(db, "Bad", check=None), "invalid account name 'Bad': use a-z, 0-9, '.', '_' and "
          "'-', starting with a letter or digit")
    usage(add(db, "a" * 33, check=None), "invalid account name '%s': use 1-32 characters" % ("a" * 33))
    usage(add(db, "anonymous", check=None), "invalid account name 'anonymous': it is reserved for "
          "anonymous login (enable it with anonymous = yes in the service's section)")
    usage(add(db, "x", "password1", "--class", "admin", check=None),
          "--class 'admin' is not real or guest")
    usage(add(db, "x", "password1", "--rights", "ro", check=None),
          "--rights applies to guest accounts only (real accounts always have rw)")
    usage(add(db, "x", "password1", "--class", "guest", "--expires", "1d", "--rights", "wo",
              check=None), "--rights 'wo' is not ro, rw or upload")
    usage(add(db, "x", "password1", "--class", "guest", check=None),
          "a guest account needs --expires (a date such as 2026-12-31 or a duration such as 7d)")
    usage(add(db, "x", "password1", "--class", "guest", "--expires", "soon", check=None),
          "--expires 'soon' is not a date (2026-12-31, 2026-12-31T18:00, with Z or +02:00 for a "
          "zone) or a duration (30m, 12h, 7d, 2w)")
    usage(add(db, "x", "password1", "--class", "guest", "--expires", "2001-01-01", check=None),
          "--expires '2001-01-01' is in the past")
    usage(add(db, "x", "password1", "--quota", "12x", check=None),
          "--quota '12x' is not a size (examples: 512, 64k, 10M, 2G)")
    usage(add(db, "x", "password1", "--home", "", check=None), "--home is empty")
    usage(add(db, "x", "short", check=None), "password too short: use at least 8 characters")
    usage(add(db, "x", "p" * 300, check=None), "password too long: at most 256 bytes")
    usage(user("add", "x", "--db", db, "--password-stdin", input=""),
          "no password on standard input")
    usage(user("add", "x", "--db", db, input="password1\n"),
          "standard input is not a terminal: give the password on it with --password-stdin")
    add(db, "x")
    fail(add(db, "x", check=None), "an account named 'x' already exists")


def test_verify_errors(db):
    add(db, "lee")
    usage(user("verify", "lee", "--db", db, "--password-stdin", input="x\n"),
          "'user verify' needs --service (ftp, smtp, pop3 or imap)")
    usage(user("verify", "lee", "--service", "www", "--db", db, "--password-stdin", input="x\n"),
          "--service 'www' is not one of ftp, smtp, pop3, imap")
    usage(user("verify", "lee", "--service", "ftp,imap", "--db", db, "--password-stdin",
               input="x\n"), "--service 'ftp,imap' is not one of ftp, smtp, pop3, imap")
    fail(verify(db, "nobody", "x"), "login refused: no account named 'nobody'")


def test_store_errors(tmp_path):
    missing = str(tmp_path / "none" / "accounts.db")
    fail(user("list", "--db", missing), "no account store at %s; create one with 'inetkit user "
         "add' or by starting 'inetkit serve'" % missing)
    junk = tmp_path / "junk.db"
    junk.write_text("not a database at all, really not. " * 40)
    fail(user("list", "--db", str(junk)),
         "%s is not an SQLite database (is --db the accounts.db file?)" % junk)
    fail(user("list", "--db", str(tmp_path)),
         "%s is not a file; --db names the accounts.db file" % tmp_path)


def test_db_in_a_missing_directory(tmp_path):
    """--db names a file: a mistyped directory is an error, not a new tree
    with an empty store (and a home) in it."""
    db = tmp_path / "nonexistent" / "dir" / "a.db"
    usage(add(str(db), "erin", check=None),
          "--db %s: the directory %s does not exist; create it first (mkdir -p %s), or name "
          "a file in an existing directory" % (db, db.parent, db.parent))
    assert not (tmp_path / "nonexistent").exists()
    afile = tmp_path / "file"
    afile.write_text("x\n")
    usage(add(str(afile / "a.db"), "erin", check=None),
          "--db %s: %s is not a directory; name a file in an existing directory"
          % (afile / "a.db", afile))
    # In an existing directory the file itself is made.
    add(str(tmp_path / "a.db"), "erin")
    assert (tmp_path / "a.db").is_file()


def test_config_state_dir_is_made(tmp_path):
    """With --config, the state directory is made as serve makes it on its
    first start (`make run` before or after `user add`)."""
    conf = tmp_path / "ik.conf"
    state = tmp_path / "new" / "var"
    conf.write_text("[serve]\nstate_dir = %s\n" % state)
    p = user("add", "erin", "--config", str(conf), "--password-stdin", input="password1\n",
             check=0)
    assert p.stdout == "added real account erin (home %s/home/erin)\n" % state
    assert (state / "accounts.db").is_file()


def test_home_in_a_missing_tree(db, tmp_path):
    """As useradd -m: the directories above the home are made (0755), the
    home itself is 0750."""
    home = tmp_path / "srv" / "ftp" / "erin"
    p = add(db, "erin", "password1", "--home", str(home))
    assert p.stdout == "added real account erin (home %s)\n" % home
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(tmp_path / "srv").st_mode & 0o777 == 0o755 & ~umask
    assert os.stat(tmp_path / "srv" / "ftp").st_mode & 0o777 == 0o755 & ~umask
    assert os.stat(home).st_mode & 0o777 == 0o750 & ~umask


def test_config_errors_name_file_and_line(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("[serve]\nstate_dir = %s\n[accounts]\nlockout_failures = lots\n" % tmp_path)
    p = user("list", "--config", str(conf))
    assert p.returncode == 2
    assert p.stderr == ("inetkit user: %s:4: [accounts] lockout_failures: 'lots' is not a whole "
                        "number from 0 to 1000000\n" % conf)
    p = user("list", "--config", str(tmp_path / "nope.conf"))
    assert p.returncode == 2
    assert p.stderr == ("inetkit user: cannot read config file %s: No such file or directory\n"
                        % (tmp_path / "nope.conf"))


def test_password_prompt_on_a_terminal(db):
    pexpect = pytest.importorskip("pexpect")
    env = dict(os.environ)
    env.update(ENV)
    child = pexpect.spawn(BIN, ["user", "add", "mia", "--db", db], env=env, timeout=30)
    child.expect_exact("Password: ")
    child.sendline("mia-password")
    child.expect_exact("Password again: ")
    child.sendline("mia-password")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert b"mia-password" not in child.before  # never echoed
    verify(db, "mia", "mia-password", check=0)
    child = pexpect.spawn(BIN, ["user", "passwd", "mia", "--db", db], env=env, timeout=30)
    child.expect_exact("Password: ")
    child.sendline("one-password")
    child.expect_exact("Password again: ")
    child.sendline("another-password")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert b"the two passwords differ; nothing changed" in child.before
    verify(db, "mia", "mia-password", check=0)

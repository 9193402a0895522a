"""Accounts on PostgreSQL ([accounts] store = postgresql://...): a
throwaway cluster (pg_env.py) shared by two inetkit nodes, A on 127.0.0.1
and B on 127.0.0.2, each with its own state directory. A user added
through A's config logs in on B; a lockout earned on A holds on B; app
passwords work across nodes; `inetkit user` works against the database
and never prints its password; `inetkit user migrate` copies a SQLite
store (accounts, app passwords, login log) into it."""
import ftplib
import os

import pytest

import pg_env
from conftest import free_port, run
from test_serve import Serve

pytestmark = pytest.mark.skipif(not pg_env.available(), reason="postgresql-15 not installed")

PASSWORD = "correct-horse-1"


@pytest.fixture(scope="module")
def pg():
    p = pg_env.Postgres()
    yield p
    p.stop()


def node_conf(base, host, port, url, extra=""):
    os.makedirs(base, exist_ok=True)
    conf = os.path.join(base, "inetkit.conf")
    with open(conf, "w") as f:
        f.write("[serve]\nstate_dir = %s\nworkers = 1\nuser = root\nlog_level = debug\n"
                "grace = 1s\n[accounts]\nstore = %s\nhash_cost = 1\nfailure_delay = 0\n"
                "lockout_failures = 3\n%s[ftp]\nlisten = %s:%d\nanonymous = no\n"
                % (os.path.join(base, "state"), url, extra, host, port))
    return conf


class Node(Serve):
    def __init__(self, conf, host, port):
        self.host, self.port = host, port
        d = os.path.dirname(conf)
        self.out_path = os.path.join(d, "serve.out")
        self.err_path = os.path.join(d, "serve.err")
        import subprocess
        from conftest import BIN, wait_port
        self.proc = subprocess.Popen([BIN, "serve", "--config", conf],
                                     stdout=open(self.out_path, "wb"),
                                     stderr=open(self.err_path, "wb"))
        wait_port(port, host=host, proc=self.proc)


def ftp_login(node, user, password):
    """The reply to PASS (its text), through Python's ftplib."""
    f = ftplib.FTP()
    f.connect(node.host, node.port, timeout=10)
    try:
        return f.login(user, password)
    except ftplib.error_perm as ex:
        return str(ex)
    finally:
        f.close()


@pytest.fixture
def nodes(tmp_path, pg):
    pg.sql("DROP TABLE IF EXISTS tokens, failures, logins, accounts, inetkit_schema CASCADE")
    url = pg.url(password="s3cret-pw")
    started = []
    for name, host in (("a", "127.0.0.1"), ("b", "127.0.0.2")):
        port = free_port()
        conf = node_conf(str(tmp_path / name), host, port, url)
        started.append((conf, Node(conf, host, port)))
    yield started
    for _, n in started:
        n.stop()


def test_user_added_on_a_logs_in_on_b_and_lockout_is_shared(nodes, tmp_path, pg):
    (conf_a, a), (conf_b, b) = nodes
    home = tmp_path / "home-bob"
    home.mkdir()
    p = run("user", "add", "bob", "--config", conf_a, "--home", home, "--password-stdin",
            input=PASSWORD + "\n", check=0)
    assert "added real account bob" in p.stdout
    assert ftp_login(b, "bob", PASSWORD).startswith("230")
    assert ftp_login(a, "bob", PASSWORD).startswith("230")
    # the row is in PostgreSQL, not in either node's state directory
    assert pg.sql("SELECT name, class FROM accounts") == "bob|real\n"
    assert not os.path.exists(tmp_path / "a" / "state" / "accounts.db")
    # three failures on A lock the name; B refuses the right password
    for _ in range(3):
        assert ftp_login(a, "bob", "wrong-password").startswith("530")
    assert ftp_login(b, "bob", PASSWORD).startswith("530")
    assert pg.sql("SELECT count(*) FROM failures WHERE key = 'user:bob' AND "
                  "locked_until > 0") == "1\n"
    # `user enable` (through B's config) ends the lock for both
    run("user", "enable", "bob", "--config", conf_b, check=0)
    assert ftp_login(a, "bob", PASSWORD).startswith("230")
    # the login log is shared: both nodes' logins in one list
    log = run("user", "log", "bob", "--config", conf_a, "--json", check=0).stdout
    assert log.count('"result":"ok"') >= 3 or log.count('"result": "ok"') >= 3
    # an app password made through A works on B
    token = run("user", "token", "add", "bob", "--label", "phone", "--services", "ftp",
                "--config", conf_a, check=0).stdout.strip().split()[-1]
    assert ftp_login(b, "bob", token).startswith("230")
    # the database password is never printed
    for text in (a.log(), b.log(), a.out(), b.out(), log):
        assert "s3cret-pw" not in text


def test_store_errors_name_the_database_without_its_password(tmp_path):
    p = run("user", "list", "--db", "postgresql://inetkit:hunter2@127.0.0.1:1/none", check=1)
    assert "cannot open the account store postgresql://inetkit:***@127.0.0.1:1/none" in p.stderr
    assert "hunter2" not in p.stderr
    conf = tmp_path / "c.conf"
    conf.write_text("[serve]\nstate_dir = %s\n[accounts]\nstore = mysql://x\n" % tmp_path)
    p = run("user", "list", "--config", conf, check=2)
    assert "[accounts] store: 'mysql://x' is not sqlite:PATH or a postgresql:// URI" in p.stderr


def test_migrate_sqlite_to_postgresql(tmp_path, pg):
    pg.sql("DROP TABLE IF EXISTS tokens, failures, logins, accounts, inetkit_schema CASCADE")
    db = tmp_path / "accounts.db"
    for name in ("carol", "dave"):
        run("user", "add", name, "--db", db, "--password-stdin", input=PASSWORD + "\n",
            check=0)
    token = run("user", "token", "add", "carol", "--label", "laptop", "--db", db,
                check=0).stdout.strip().split()[-1]
    run("user", "verify", "carol", "--service", "smtp", "--db", db, "--password-stdin",
        input="nope\n", check=1)
    url = pg.url(password="s3cret-pw")
    p = run("user", "migrate", "--from", "sqlite:%s" % db, "--to", url, check=0)
    assert p.stdout == ("Copied 2 accounts, 1 app password and 1 login log row from sqlite:%s "
                        "to %s.\n" % (db, pg.url(password="***")))
    assert "s3cret-pw" not in p.stdout
    lst = run("user", "list", "--db", url, check=0).stdout
    assert "carol" in lst and "dave" in lst
    run("user", "verify", "carol", "--service", "smtp", "--db", url, "--password-stdin",
        input=PASSWORD + "\n", check=0)
    run("user", "verify", "carol", "--service", "smtp", "--db", url, "--password-stdin",
        input=token + "\n", check=0)
    assert "bad_password" in run("user", "log", "carol", "--db", url, check=0).stdout
    # again: the names are taken, and nothing is half-copied
    p = run("user", "migrate", "--from", db, "--to", url, check=1)
    assert "already has an account named 'carol'" in p.stderr
    assert pg.sql("SELECT count(*) FROM accounts") == "2\n"
    p = run("user", "migrate", "--from", db, check=2)
    assert "needs --from STORE and --to STORE" in p.stderr

"""Started as root, `serve` and `ftpd` drop to an unprivileged user: what
they open afterwards (the xferlog again on SIGHUP, the account store, the
anonymous root) must be that user's to open, and what it cannot reach is
refused once at start, naming the path, the user and the fix, instead of
failing later in every worker or at every login."""
import ftplib
import io
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest

from conftest import BIN, ROOT, free_port
from test_serve import serve_proc  # noqa: F401 (a fixture: serve or ftpd, stopped at the end)

ENV = {"TZ": "UTC", "NO_COLOR": "1"}
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (the privilege drop)")
PASSWORD = "erin-password-1"


@pytest.fixture
def base():
    """A directory the service user can reach (pytest's own is root's alone)."""
    d = tempfile.mkdtemp(prefix="ik-priv-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def inetkit(*args, cwd, input=None):
    e = dict(os.environ)
    e.update(ENV)
    return subprocess.run([BIN] + [str(a) for a in args], cwd=cwd, env=e, input=input,
                          capture_output=True, text=True, timeout=60)


def retr(f, path):
    b = io.BytesIO()
    f.retrbinary("RETR " + path, b.write)
    return b.getvalue()


def login(port, user="anonymous", password="me@example.org"):
    f = ftplib.FTP(timeout=10)
    f.connect("127.0.0.1", port)
    f.login(user, password)
    return f


def serve_conf(ftp_port, state="./var", user="nobody", workers=2, ftp=""):
    return ("[serve]\nstate_dir = %s\nskeleton = %s\nworkers = %d\ngrace = 1s\nuser = %s\n"
            "[accounts]\nfailure_delay = 0\n"
            "[ftp]\nlisten = 127.0.0.1:%d\nanonymous = yes\n%s"
            % (state, os.path.join(ROOT, "examples", "var-skel"), workers, user, ftp_port, ftp))


# ---- what the service user writes after the drop ----------------------------

@as_root
def test_serve_reload_as_the_service_user_keeps_ftp_working(base, serve_proc):
    """The `make run` layout (relative state_dir and xferlog) with [serve]
    user = nobody: the xferlog root made before the drop is nobody's, so a
    SIGHUP reopens it in every worker, and FTP works after the reload."""
    nobody = pwd.getpwnam("nobody")
    port = free_port()
    conf = os.path.join(base, "ik.conf")
    with open(conf, "w") as f:
        f.write(serve_conf(port, ftp="xferlog = ./var/xferlog\n"))
    s = serve_proc(conf, port, cwd=base)
    s.wait_log("event=worker_ready", 2)
    var = os.path.join(base, "var")
    assert os.stat(os.path.join(var, "xferlog")).st_uid == nobody.pw_uid
    # An account root adds while serve runs: its home and the store stay
    # usable by nobody.
    p = inetkit("user", "add", "erin", "--config", "ik.conf", "--password-stdin", cwd=base,
                input=PASSWORD + "\n")
    assert p.returncode == 0, p.stderr
    for name in ("accounts.db", "accounts.db-wal", "accounts.db-shm", "home/erin"):
        path = os.path.join(var, name)
        if os.path.exists(path):
            assert os.stat(path).st_uid == nobody.pw_uid, path

    s.proc.send_signal(signal.SIGHUP)
    s.wait_log("event=reloaded config=%s services=1" % conf, 2)
    assert "reload_failed" not in s.log()

    f = login(port)
    assert retr(f, "pub/hello.txt") == b"Hello from the inetkit anonymous FTP area.\n"
    f.quit()
    f = login(port, "erin", PASSWORD)
    f.storbinary("STOR note.txt", io.BytesIO(b"written as nobody\n"))
    assert retr(f, "note.txt") == b"written as nobody\n"
    f.quit()
    assert os.stat(os.path.join(var, "home", "erin", "note.txt")).st_uid == nobody.pw_uid
    # The files the reload opened again are written to.
    s.wait_log("event=ftp_transfer", 3)
    with open(os.path.join(var, "xferlog")) as x:
        lines = x.read().splitlines()
    assert [l.split()[8] for l in lines] == ["/pub/hello.txt", "/note.txt", "/note.txt"]
    assert s.stop() == 0


@as_root
def test_ftpd_reload_as_the_service_user(base, serve_proc):
    """`inetkit ftpd --config` as root: the same for the standalone server."""
    nobody = pwd.getpwnam("nobody")
    port = free_port()
    os.makedirs(os.path.join(base, "pub"))
    with open(os.path.join(base, "pub", "a.txt"), "w") as f:
        f.write("alone\n")
    conf = os.path.join(base, "ftpd.conf")
    with open(conf, "w") as f:
        f.write("[serve]\nstate_dir = %s\nuser = nobody\nworkers = 1\n"
                "[ftp]\nlisten = 127.0.0.1:%d\nanonymous = yes\nanonymous_root = %s\n"
                "xferlog = %s\n" % (os.path.join(base, "state"), port,
                                    os.path.join(base, "pub"), os.path.join(base, "x.log")))
    s = serve_proc(conf, port, cwd=base, cmd="ftpd")
    s.wait_log("event=worker_ready")
    assert os.stat(os.path.join(base, "x.log")).st_uid == nobody.pw_uid
    s.proc.send_signal(signal.SIGHUP)
    s.wait_log("event=reloaded config=%s service=ftp" % conf)
    assert "reload_failed" not in s.log()
    f = login(port)
    assert retr(f, "a.txt") == b"alone\n"
    f.quit()
    s.wait_log("event=ftp_transfer")
    with open(os.path.join(base, "x.log")) as x:
        assert " /a.txt b _ o a " in x.read()
    assert s.stop() == 0


# ---- what the service user cannot reach: refused once, at start --------------

@as_root
def test_serve_state_dir_out_of_the_service_users_reach(base):
    locked = os.path.join(base, "locked")
    os.mkdir(locked, 0o700)
    port = free_port()
    conf = os.path.join(base, "ik.conf")
    with open(conf, "w") as f:
        f.write(serve_conf(port, state=os.path.join(locked, "var")))
    msg = ("inetkit serve: %s:2: [serve] state_dir: %s/var: user nobody cannot search %s "
           "(mode 0700, owner root); allow it (chmod o+x %s) or choose another state_dir\n"
           % (conf, locked, locked, locked))
    p = inetkit("serve", "--check", "--config", conf, cwd=base)
    assert (p.returncode, p.stderr) == (2, msg)
    # Once, before anything is made, bound or forked.
    p = inetkit("serve", "--config", conf, cwd=base)
    assert (p.returncode, p.stderr) == (2, msg)
    assert not os.path.exists(os.path.join(locked, "var"))
    # The fix the message names.
    os.chmod(locked, 0o701)
    p = inetkit("serve", "--check", "--config", conf, cwd=base)
    assert (p.returncode, p.stderr) == (0, "")


@as_root
def test_serve_xferlog_directory_out_of_reach(base):
    locked = os.path.join(base, "logs")
    os.mkdir(locked, 0o700)
    port = free_port()
    conf = os.path.join(base, "ik.conf")
    with open(conf, "w") as f:
        f.write(serve_conf(port, ftp="xferlog = %s/xferlog\n" % locked))
    p = inetkit("serve", "--config", conf, cwd=base)
    assert p.returncode == 2
    assert p.stderr == ("inetkit serve: %s:12: [ftp] xferlog: user nobody cannot search %s "
                        "(mode 0700, owner root); allow it (chmod o+x %s) or name another "
                        "file (it is opened again, as that user, on SIGHUP)\n"
                        % (conf, locked, locked))
    with socket.socket() as c:
        assert c.connect_ex(("127.0.0.1", port)) != 0  # nothing was bound


def test_serve_anonymous_root_missing(base):
    port = free_port()
    conf = os.path.join(base, "ik.conf")
    with open(conf, "w") as f:
        f.write("[serve]\nstate_dir = %s/var\nuser = root\n[ftp]\nlisten = 127.0.0.1:%d\n"
                "anonymous = yes\n" % (base, port))
    p = inetkit("serve", "--config", conf, cwd=base)
    assert p.returncode == 2
    assert p.stderr == ("inetkit serve: %s: [ftp] anonymous_root: %s/var/ftp does not exist; "
                        "create it (mkdir -p %s/var/ftp) or name the directory anonymous "
                        "users should see\n" % (conf, base, base))


def test_ftpd_root_missing_or_not_a_directory(base):
    port = free_port()
    missing = os.path.join(base, "nonexistent")
    p = inetkit("ftpd", "--root", missing, "--listen", "127.0.0.1:%d" % port, cwd=base)
    assert p.returncode == 2
    assert p.stderr == ("inetkit ftpd: (inetkit ftpd options):4: [ftp] anonymous_root: %s "
                        "does not exist; create it (mkdir -p %s) or name the directory "
                        "anonymous users should see\n" % (missing, missing))
    afile = os.path.join(base, "file.txt")
    with open(afile, "w") as f:
        f.write("x\n")
    p = inetkit("ftpd", "--root", afile, "--listen", "127.0.0.1:%d" % port, cwd=base)
    assert p.returncode == 2
    assert p.stderr == ("inetkit ftpd: (inetkit ftpd options):4: [ftp] anonymous_root: %s is "
                        "not a directory; name the directory anonymous users should see\n"
                        % afile)
    # The same [ftp] section from a file names its line.
    conf = os.path.join(base, "ftpd.conf")
    with open(conf, "w") as f:
        f.write("[serve]\nuser = root\nstate_dir = %s\n[ftp]\nlisten = 127.0.0.1:%d\n"
                "anonymous = yes\nanonymous_root = %s\n" % (base, port, missing))
    p = inetkit("ftpd", "--config", conf, cwd=base)
    assert p.returncode == 2
    assert p.stderr.startswith("inetkit ftpd: %s:7: [ftp] anonymous_root: %s does not exist"
                               % (conf, missing)), p.stderr


@as_root
def test_ftpd_root_the_service_user_cannot_read(base):
    root = os.path.join(base, "private")
    os.mkdir(root, 0o700)
    p = inetkit("ftpd", "--root", root, "--listen", "127.0.0.1:%d" % free_port(), cwd=base)
    assert p.returncode == 2
    assert p.stderr == ("inetkit ftpd: (inetkit ftpd options):4: [ftp] anonymous_root: user "
                        "nobody has no rx permission on %s (mode 0700, owner root); allow it "
                        "(chmod o+rx %s)\n" % (root, root))


@as_root
def test_ftpd_accounts_the_service_user_cannot_open(base):
    """An accounts.db root made in its own directory: `inetkit ftpd` (which,
    unlike serve, gives nothing away) stops at once instead of failing in
    every worker."""
    state = os.path.join(base, "state")
    os.mkdir(state, 0o755)
    pub = os.path.join(base, "pub")
    os.mkdir(pub, 0o755)
    p = inetkit("user", "add", "erin", "--db", os.path.join(state, "accounts.db"),
                "--password-stdin", cwd=base, input=PASSWORD + "\n")
    assert p.returncode == 0, p.stderr
    p = inetkit("ftpd", "--root", pub, "--state-dir", state, "--workers", "2",
                "--listen", "127.0.0.1:%d" % free_port(), cwd=base)
    assert p.returncode == 2
    assert p.stderr == ("inetkit ftpd: (inetkit ftpd options):2: [serve] state_dir: user "
                        "nobody cannot read and write %s; give the directory and its files to "
                        "user nobody (chown -R nobody %s), or start `inetkit serve` once, "
                        "which does\n" % (state, state))
    assert "worker_start" not in p.stderr

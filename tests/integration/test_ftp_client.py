"""inetkit ftp (the client) against real servers from Debian -- vsftpd (LIST
only) and pure-ftpd (MLSD, UTF8) -- on loopback, and against a scripted
fake server for the faults real servers do not make."""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import BIN, free_port, run, server
import ftp_peers
from ftp_peers import FakeFtp, PureFtpd, FtpUser, Vsftpd, make_ca, PASSWORD, USER

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not ftp_peers.have_vsftpd(),
                                reason="needs root (useradd) and vsftpd")


# ---- fixtures ----

@pytest.fixture(scope="module")
def work():
    d = tempfile.mkdtemp(prefix="inetkit-ftpc-")
    os.chmod(d, 0o755)
    os.makedirs(os.path.join(d, "home-env"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def user(work):
    u = FtpUser(work)
    yield u
    u.remove()


@pytest.fixture(scope="module")
def certs(work):
    d = os.path.join(work, "tls")
    os.makedirs(d)
    return make_ca(d)


@pytest.fixture(scope="module")
def anon_root(work):
    d = os.path.join(work, "anon")
    os.makedirs(os.path.join(d, "pub"))
    with open(os.path.join(d, "pub", "hello.txt"), "w") as f:
        f.write("hello anonymous\n")
    os.chmod(d, 0o755)
    return d


@pytest.fixture(scope="module")
def vsftpd(work, user, anon_root):
    s = Vsftpd(work, user, anon_root=anon_root)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def pureftpd(work, user):
    binary = ftp_peers.ensure_pure_ftpd()
    if binary is None:
        pytest.skip("pure-ftpd could not be unpacked (scripts/peers-pure-ftpd)")
    s = PureFtpd(work, user, binary=binary)
    yield s
    s.stop()


@pytest.fixture(params=["vsftpd", "pure-ftpd"])
def peer(request):
    return request.getfixturevalue("vsftpd" if request.param == "vsftpd" else "pureftpd")


@pytest.fixture
def rdir(request, user, peer):
    """A fresh remote directory for one test on one server: (relative name, local path)."""
    name = "t-%s-%s" % (request.node.originalname, peer.name)
    path = os.path.join(user.home, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    user.chown_tree(path)
    return name, path


@pytest.fixture
def local(tmp_path):
    os.chmod(tmp_path, 0o755)
    return tmp_path


def ftp(work, *args, **kw):
    env = {"HOME": os.path.join(work, "home-env")}
    env.update(kw.pop("env", {}))
    return run("ftp", *args, env=env, **kw)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode) as f:
        f.write(data)


def digest_tree(root):
    out = {}
    for d, dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = hashlib.sha256(fh.read()).hexdigest()
        for x in dirs:
            out[os.path.relpath(os.path.join(d, x), root) + "/"] = "dir"
    return out


def make_tree(root, n=300):
    """n small files over a few directories, some with Chinese names."""
    for i in range(n):
        sub = ["", "a", "a/b", "文件夹", "文件夹/深"][i % 5]
        name = ("数据%03d.txt" % i) if i % 3 == 0 else ("f%03d.bin" % i)
        write(os.path.join(root, sub, name), ("%d " % i).encode() * (i % 17 + 1))


# ---- usage and bad input ----

def test_help():
    p = run("ftp", "--help", check=0)
    assert p.stdout.splitlines()[0].startswith("Usage: inetkit ftp ")


@pytest.mark.parametrize("url,msg", [
    ("http://h/x", "malformed URL 'http://h/x': scheme 'http' is not ftp:// or ftps://"),
    ("ftp:///x", "malformed URL 'ftp:///x': missing host name"),
    ("ftp://h:0/x", "malformed URL 'ftp://h:0/x': port '0' is not a number from 1 to 65535"),
    ("ftp://u:secret@h:x/", "malformed URL 'ftp://u:****@h:x/': port 'x' is not a number from 1 to 65535"),
    ("ftp://[::1/x", "malformed URL 'ftp://[::1/x': missing ']' after the IPv6 address in the host"),
    ("ftp://h/a%0D%0ADELE%20b", "malformed URL 'ftp://h/a%0D%0ADELE%20b': the path has a control character (CR, LF, NUL ... cannot be sent to a server)"),
    ("ftp://h/%zz", "malformed URL 'ftp://h/%zz': the path has a '%' that is not followed by two hex digits"),
])
def test_malformed_url(work, url, msg):
    p = ftp(work, "ls", url, check=2)
    assert p.stderr == "inetkit ftp: %s\n" % msg


def test_usage_errors(work):
    assert ftp(work, check=2).stderr.startswith("inetkit ftp: missing verb")
    assert "unknown verb 'frob'" in ftp(work, "frob", check=2).stderr
    assert "'put' needs 2 arguments" in ftp(work, "put", "x", check=2).stderr
    assert "option -o does not apply to 'ls'" in ftp(work, "ls", "-o", "x", "ftp://h/", check=2).stderr
    assert "--limit-rate 'fast'" in ftp(work, "get", "--limit-rate", "fast", "ftp://h/x", check=2).stderr


def test_unknown_host(work):
    p = ftp(work, "ls", "ftp://nosuchhost.invalid/", check=1)
    assert p.stderr.startswith("inetkit ftp: ") and "nosuchhost.invalid" in p.stderr


def test_refused(work):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    p = ftp(work, "ls", "ftp://127.0.0.1:%d/" % port, check=1)
    assert p.stderr == "inetkit ftp: connect to 127.0.0.1:%d: Connection refused\n" % port


def test_not_an_ftp_server_silent(work):
    """An echo server waits for us to speak: not an FTP server, said at once."""
    port = free_port()
    with server("tcp", "listen", "127.0.0.1:%d" % port, port=port):
        url = "ftp://127.0.0.1:%d/" % port
        p = ftp(work, "--greeting-timeout", "1s", "ls", url, check=1, timeout=30)
        assert p.stderr == (
            "inetkit ftp: 127.0.0.1:%d did not greet like an FTP server: it sent no reply "
            "line within 1s; is it an FTP server? (a slow one: raise --greeting-timeout)\n" % port)
        # a --timeout shorter than the greeting timeout bounds it too
        p = ftp(work, "--timeout", "500ms", "ls", url, check=1, timeout=30)
        assert "did not greet like an FTP server: it sent no reply line within 500ms;" in p.stderr
        # the shell says the same and keeps going at its prompt
        p = ftp(work, "--greeting-timeout", "1s", "open", url, "-c", "ls", check=1, timeout=30)
        assert "did not greet like an FTP server" in p.stderr


def test_not_an_ftp_server_ssh(work):
    """A first line that is no FTP reply ends the attempt at once."""
    fake = FakeFtp(greeting=b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
    try:
        # a long greeting timeout: failing at once does not wait for it
        p = ftp(work, "--greeting-timeout", "50s", "ls", fake.url(), check=1, timeout=20)
        assert p.stderr == (
            "inetkit ftp: 127.0.0.1:%d did not greet like an FTP server: it sent "
            "'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3'; is it an FTP server?\n" % fake.port)
    finally:
        fake.stop()


def test_wrong_password(work, peer):
    url = "ftp://%s:wrong@127.0.0.1:%d/" % (USER, peer.port)
    p = ftp(work, "ls", url, check=1)
    assert p.stderr.startswith("inetkit ftp: 530 ")


# ---- one-liners against both servers ----

def test_ls_forms(work, peer, rdir):
    name, path = rdir
    write(os.path.join(path, "b.txt"), "bee\n")
    write(os.path.join(path, "a.txt"), "a\n")
    os.makedirs(os.path.join(path, "sub"))
    peer_user = ftp_peers.pwd.getpwnam(USER)
    for d, _, files in os.walk(path):
        os.chown(d, peer_user.pw_uid, peer_user.pw_gid)
        for f in files:
            os.chown(os.path.join(d, f), peer_user.pw_uid, peer_user.pw_gid)
    p = ftp(work, "ls", peer.url(name + "/"), check=0)
    assert p.stdout == "a.txt\nb.txt\nsub\n"
    p = ftp(work, "ls", "-l", peer.url(name), check=0)
    lines = p.stdout.splitlines()
    assert lines[0].startswith("-rw-r--r--") and lines[0].endswith(" a.txt")
    assert " 4 " in lines[1] and lines[1].endswith(" b.txt")
    assert lines[2].startswith("d") and lines[2].endswith(" sub")
    items = json.loads(ftp(work, "ls", "--json", peer.url(name), check=0).stdout)
    assert [(i["name"], i["type"], i["size"]) for i in items[:2]] == [
        ("a.txt", "file", 2), ("b.txt", "file", 4)]
    assert items[2]["type"] == "dir"
    assert items[0]["modify"].endswith("Z")
    # one file
    assert ftp(work, "ls", peer.url(name + "/b.txt"), check=0).stdout == "b.txt\n"
    # a path that is not there
    p = ftp(work, "ls", peer.url(name + "/nope"), check=1)
    assert p.stderr.startswith("inetkit ftp: 5")


def test_get_put_cat(work, peer, rdir, local):
    name, path = rdir
    data = os.urandom(300 * 1024 + 7)
    src = local / "up.bin"
    src.write_bytes(data)
    ftp(work, "put", str(src), peer.url(name + "/"), check=0)
    with open(os.path.join(path, "up.bin"), "rb") as f:
        assert f.read() == data
    ftp(work, "put", str(src), peer.url(name + "/renamed.bin"), check=0)
    out = local / "down.bin"
    ftp(work, "get", peer.url(name + "/renamed.bin"), "-o", str(out), check=0)
    assert out.read_bytes() == data
    p = subprocess.run([BIN, "ftp", "cat", peer.url(name + "/up.bin")], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60, env=dict(os.environ, HOME=work))
    assert p.returncode == 0 and p.stdout == data
    # default local name: the remote base name, in the current directory
    p = subprocess.run([BIN, "ftp", "get", peer.url(name + "/up.bin")], cwd=str(local),
                       stderr=subprocess.PIPE, timeout=60, env=dict(os.environ, HOME=work))
    assert p.returncode == 0 and (local / "up.bin").read_bytes() == data
    # a missing file: the server's reply, and no empty local file left behind
    p = ftp(work, "get", peer.url(name + "/nope.bin"), "-o", str(local / "nope.bin"), check=1)
    assert p.stderr.startswith("inetkit ftp: 550 ")
    assert not (local / "nope.bin").exists()


def test_rm_mkdir_rmdir_mv(work, peer, rdir):
    name, path = rdir
    ftp(work, "mkdir", peer.url(name + "/d1"), check=0)
    assert os.path.isdir(os.path.join(path, "d1"))
    ftp(work, "mkdir", "-p", peer.url(name + "/d2/x/y"), check=0)
    assert os.path.isdir(os.path.join(path, "d2/x/y"))
    ftp(work, "mkdir", "-p", peer.url(name + "/d2/x/y"), check=0)  # already there: fine
    p = ftp(work, "mkdir", peer.url(name + "/d1"), check=1)
    assert p.stderr.startswith("inetkit ftp: 550 ")
    write(os.path.join(path, "f.txt"), "x")
    os.chown(os.path.join(path, "f.txt"), ftp_peers.pwd.getpwnam(USER).pw_uid, -1)
    ftp(work, "mv", peer.url(name + "/f.txt"), "g.txt", check=0)
    assert os.path.exists(os.path.join(path, "g.txt"))
    ftp(work, "mv", peer.url(name + "/g.txt"), "d1/h.txt", check=0)
    assert os.path.exists(os.path.join(path, "d1/h.txt"))
    p = ftp(work, "rmdir", peer.url(name + "/d1"), check=1)
    assert p.stderr.startswith("inetkit ftp: 550 ")
    ftp(work, "rm", peer.url(name + "/d1/h.txt"), check=0)
    ftp(work, "rmdir", peer.url(name + "/d1"), check=0)
    assert not os.path.exists(os.path.join(path, "d1"))
    p = ftp(work, "rm", peer.url(name + "/nope"), check=1)
    assert p.stderr.startswith("inetkit ftp: 550 ")
    p = ftp(work, "mv", peer.url(name + "/nope"), "x", check=1)
    assert p.stderr.startswith("inetkit ftp: 550 ")


def test_rm_directory(work, user, peer, rdir):
    """rm on a directory names our commands for it; rm -r deletes a tree."""
    name, path = rdir
    make_tree(os.path.join(path, "d"), n=12)
    user.chown_tree(path)
    p = ftp(work, "rm", peer.url(name + "/d"), check=1)
    assert p.stderr == ("inetkit ftp: '%s/d' is a directory: use 'inetkit ftp rmdir URL' "
                        "when it is empty, or 'inetkit ftp rm -r URL' to delete it with "
                        "everything in it\n" % name)
    assert os.path.isdir(os.path.join(path, "d", "a"))
    inside = sorted(k.rstrip("/") for k in digest_tree(os.path.join(path, "d", "a")))
    assert inside == ["b", "b/f002.bin", "b/f007.bin", "f001.bin", "f011.bin", "数据006.txt"]
    p = ftp(work, "rm", "-r", "-v", peer.url(name + "/d/a"), check=0)
    assert sorted(p.stdout.splitlines()) == ["delete " + x for x in inside]
    # deepest first
    assert p.stdout.index("delete b/f002.bin") < p.stdout.index("delete b\n")
    assert sorted(os.listdir(os.path.join(path, "d"))) == [
        "f005.bin", "f010.bin", "数据000.txt", "文件夹"]
    ftp(work, "rm", "-r", peer.url(name + "/d"), check=0)
    assert os.listdir(path) == []
    # a file goes with or without -r; what is not there is the server's 550
    write(os.path.join(path, "f.txt"), "f")
    user.chown_tree(path)
    ftp(work, "rm", "-r", peer.url(name + "/f.txt"), check=0)
    assert os.listdir(path) == []
    p = ftp(work, "rm", "-r", peer.url(name + "/nope"), check=1)
    assert p.stderr.startswith("inetkit ftp: 550 ")
    assert "option -r does not apply to 'ls'" in ftp(work, "ls", "-r", peer.url(""), check=2).stderr


def test_active_mode(work, peer, rdir, local):
    name, path = rdir
    write(os.path.join(path, "act.txt"), "active\n")
    assert ftp(work, "--active", "ls", peer.url(name), check=0).stdout == "act.txt\n"
    ftp(work, "--active", "get", peer.url(name + "/act.txt"), "-o", str(local / "a"), check=0)
    assert (local / "a").read_text() == "active\n"
    ftp(work, "--active", "put", str(local / "a"), peer.url(name + "/b.txt"), check=0)
    with open(os.path.join(path, "b.txt")) as f:
        assert f.read() == "active\n"


def test_mirror_both_ways(work, peer, rdir, local):
    name, path = rdir
    src = local / "src"
    make_tree(str(src))
    # up: a new remote tree
    p = ftp(work, "mirror", "-R", "-v", "--parallel", "3", str(src), peer.url(name + "/up"),
            check=0)
    assert "mirror: 300 of 300 files transferred" in p.stdout
    assert digest_tree(os.path.join(path, "up")) == digest_tree(str(src))
    # down: into an empty local directory
    dst = local / "dst"
    p = ftp(work, "mirror", "-v", peer.url(name + "/up"), str(dst), check=0)
    assert "mirror: 300 of 300 files transferred" in p.stdout
    assert digest_tree(str(dst)) == digest_tree(str(src))
    # again: nothing changed, nothing moves (either way)
    p = ftp(work, "mirror", "-v", "--parallel", "2", peer.url(name + "/up"), str(dst), check=0)
    assert "mirror: 0 of 300 files transferred" in p.stdout
    p = ftp(work, "mirror", "-R", "-v", str(src), peer.url(name + "/up"), check=0)
    assert "mirror: 0 of 300 files transferred" in p.stdout
    # a changed file (new size) and a removed one
    victim = os.path.join(path, "up", "a", "f001.bin")
    with open(victim, "ab") as f:
        f.write(b"more")
    gone = os.path.join(path, "up", "文件夹", "数据003.txt")
    os.unlink(gone)
    p = ftp(work, "mirror", "-v", peer.url(name + "/up"), str(dst), check=0)
    assert "get a/f001.bin" in p.stdout
    assert "mirror: 1 of 299 files transferred" in p.stdout
    assert (dst / "文件夹" / "数据003.txt").exists()
    p = ftp(work, "mirror", "-v", "--delete", peer.url(name + "/up"), str(dst), check=0)
    assert "delete 文件夹/数据003.txt" in p.stdout
    assert digest_tree(str(dst)) == digest_tree(os.path.join(path, "up"))
    # reverse with --delete removes the remote extra
    write(os.path.join(path, "up", "extra.txt"), "x")
    p = ftp(work, "mirror", "-R", "-v", "--delete", str(dst), peer.url(name + "/up"), check=0)
    assert "delete extra.txt" in p.stdout
    assert digest_tree(os.path.join(path, "up")) == digest_tree(str(dst))


SUMMARY = (r"mirror: %d of %d files transferred \([0-9.]+ (B|KiB|MiB)\) in [0-9.]+s, "
           r"[0-9.]+ (B|KiB|MiB|GiB)/s; 0 deleted, 0 skipped")


def test_mirror_progress_and_summary(work, vsftpd, user, local):
    """A summary line always; a progress bar only on a terminal; -q: neither."""
    pexpect = pytest.importorskip("pexpect")
    name = "t-mirror-progress"
    path = os.path.join(user.home, name)
    shutil.rmtree(path, ignore_errors=True)
    for i in range(3):
        write(os.path.join(path, "d" if i else "", "f%d.bin" % i), os.urandom(200 * 1024))
    user.chown_tree(path)
    url = vsftpd.url(name)
    # not a terminal: the summary alone, on stdout
    p = ftp(work, "mirror", url, str(local / "a"), check=0)
    assert re.fullmatch(SUMMARY % (3, 3) + "\n", p.stdout), p.stdout
    assert p.stderr == ""
    p = ftp(work, "mirror", "--parallel", "2", url, str(local / "a"), check=0)
    assert re.fullmatch(SUMMARY % (0, 3) + "\n", p.stdout), p.stdout
    # --quiet: nothing at all
    p = ftp(work, "-q", "mirror", url, str(local / "b"), check=0)
    assert p.stdout == "" and p.stderr == ""
    assert digest_tree(str(local / "b")) == digest_tree(path)
    # a terminal: the bar (files done of all, bytes, rate), erased before the summary
    env = dict(os.environ, HOME=os.path.join(work, "home-env"), TERM="dumb")
    child = pexpect.spawn(BIN, ["ftp", "mirror", url, str(local / "c")], env=env, timeout=30,
                          encoding="utf-8")
    try:
        child.expect(r"\rmirror: 0/3 files +0% +0 B +[0-9.]+ (B|KiB|MiB|GiB)/s")
        child.expect(r"\r\x1b\[K" + SUMMARY % (3, 3) + r"\r\n")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    child = pexpect.spawn(BIN, ["ftp", "-q", "mirror", url, str(local / "d")], env=env,
                          timeout=30, encoding="utf-8")
    try:
        child.expect(pexpect.EOF)
        assert child.before == ""
    finally:
        child.close(force=True)
    assert digest_tree(str(local / "d")) == digest_tree(path)


def test_mirror_parallel_with_connection_limit(work, user, local):
    """A server that allows fewer connections than --parallel asks for."""
    s = Vsftpd(os.path.dirname(user.home), user, extra={"max_per_ip": "2"})
    try:
        name = "t-limit"
        for i in range(20):
            write(os.path.join(user.home, name, "f%02d" % i), "x" * i)
        user.chown_tree(os.path.join(user.home, name))
        p = ftp(work, "mirror", "--parallel", "4", s.url(name), str(local / "m"), check=0)
        assert "going on with fewer" in p.stderr and "421 " in p.stderr
        assert digest_tree(str(local / "m")) == digest_tree(os.path.join(user.home, name))
    finally:
        s.stop()


def test_netrc(work, peer, rdir, local):
    name, path = rdir
    write(os.path.join(path, "n.txt"), "netrc\n")
    netrc = local / "netrc"
    netrc.write_text("machine 127.0.0.1 login %s password %s\n" % (USER, PASSWORD))
    os.chmod(netrc, 0o600)
    url = "ftp://127.0.0.1:%d/%s/" % (peer.port, name)
    assert ftp(work, "--netrc-file", str(netrc), "ls", url, check=0).stdout == "n.txt\n"
    # the default file, ~/.netrc
    home = local / "home"
    home.mkdir()
    shutil.copy(str(netrc), str(home / ".netrc"))
    os.chmod(home / ".netrc", 0o600)
    assert ftp(work, "ls", url, env={"HOME": str(home)}, check=0).stdout == "n.txt\n"
    os.chmod(home / ".netrc", 0o644)
    p = ftp(work, "ls", url, env={"HOME": str(home)}, check=2)
    assert "holds a password and others can read it; run 'chmod 600" in p.stderr
    p = ftp(work, "--netrc-file", str(local / "missing"), "ls", url, check=2)
    assert "No such file or directory" in p.stderr


def test_user_password_stdin(work, peer, rdir):
    name, path = rdir
    write(os.path.join(path, "s.txt"), "s")
    url = "ftp://127.0.0.1:%d/%s/" % (peer.port, name)
    p = ftp(work, "--user", USER, "--password-stdin", "ls", url, input=PASSWORD + "\n", check=0)
    assert p.stdout == "s.txt\n"
    p = ftp(work, "--user", USER, "--password-stdin", "ls", url, input="bad\n", check=1)
    assert p.stderr.startswith("inetkit ftp: 530 ")


def test_anonymous_default(work, vsftpd):
    url = "ftp://127.0.0.1:%d/pub/hello.txt" % vsftpd.port
    p = ftp(work, "--trace", "cat", url, check=0)
    assert p.stdout == "hello anonymous\n"
    assert "> USER anonymous" in p.stderr and "> PASS ****" in p.stderr
    assert "anonymous@" not in p.stderr


def test_trace_masks_password(work, peer):
    p = ftp(work, "--trace", "ls", peer.url(""), check=0)
    assert "> PASS ****" in p.stderr
    assert PASSWORD not in p.stderr
    if peer.mlsd:
        assert "> OPTS UTF8 ON" in p.stderr and "> MLSD" in p.stderr
    else:
        assert "> LIST" in p.stderr


def test_ipv6(work, user):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    name = "t-ipv6"
    write(os.path.join(user.home, name, "six.txt"), "6")
    user.chown_tree(os.path.join(user.home, name))
    s = Vsftpd(os.path.dirname(user.home), user, host="::1")
    try:
        assert ftp(work, "ls", s.url(name), check=0).stdout == "six.txt\n"
        assert ftp(work, "--active", "ls", s.url(name), check=0).stdout == "six.txt\n"
    finally:
        s.stop()


# ---- resume ----

def test_resume_download(work, vsftpd, user, local):
    name = "t-resume-down"
    path = os.path.join(user.home, name)
    os.makedirs(path, exist_ok=True)
    data = os.urandom(3 * 1024 * 1024)
    write(os.path.join(path, "big.bin"), data)
    user.chown_tree(path)
    out = local / "big.bin"
    env = dict(os.environ, HOME=work)
    proc = subprocess.Popen([BIN, "ftp", "get", "--limit-rate", "1M",
                             vsftpd.url(name + "/big.bin"), "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if out.exists() and out.stat().st_size >= 512 * 1024:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    have = out.stat().st_size
    assert 0 < have < len(data)
    # vsftpd logs the cut transfer when it notices; wait for that line
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
            p.endswith(name + "/big.bin") for _, p in vsftpd.xfer_bytes()):
        time.sleep(0.05)
    before = len(vsftpd.xfer_bytes())
    ftp(work, "get", "--continue", vsftpd.url(name + "/big.bin"), "-o", str(out), check=0)
    assert out.read_bytes() == data
    # vsftpd logged only the rest for the resumed transfer
    logged = vsftpd.xfer_bytes()[before:]
    assert logged[-1][0] == len(data) - have
    # resuming a complete file transfers nothing
    ftp(work, "get", "--continue", vsftpd.url(name + "/big.bin"), "-o", str(out), check=0)
    assert len(vsftpd.xfer_bytes()) == before + 1


def test_resume_upload(work, peer, rdir, local):
    name, path = rdir
    data = os.urandom(700 * 1024)
    part = local / "part.bin"
    part.write_bytes(data[:250 * 1024])
    ftp(work, "put", str(part), peer.url(name + "/up.bin"), check=0)
    full = local / "up.bin"
    full.write_bytes(data)
    p = ftp(work, "--trace", "put", "--continue", str(full), peer.url(name + "/"), check=0)
    assert "> APPE " in p.stderr
    with open(os.path.join(path, "up.bin"), "rb") as f:
        assert f.read() == data
    if isinstance(peer, Vsftpd):
        assert peer.xfer_bytes()[-1][0] == len(data) - 250 * 1024


def test_server_closes_mid_transfer(work, local):
    data = os.urandom(200 * 1024)
    fake = FakeFtp(retr_data=data, cut_after=50 * 1024)
    try:
        out = local / "file.bin"
        p = ftp(work, "get", fake.url("file.bin"), "-o", str(out), check=1)
        assert "partial file %s kept: run again with --continue" % out in p.stderr
        assert out.stat().st_size == 50 * 1024
    finally:
        fake.stop()


# ---- TLS ----

def test_tls_explicit_vsftpd(work, user, certs, local):
    s = Vsftpd(os.path.dirname(user.home), user, tls=certs)
    try:
        name = "t-tls-explicit"
        path = os.path.join(user.home, name)
        os.makedirs(path, exist_ok=True)
        write(os.path.join(path, "secret.txt"), "over tls\n")
        user.chown_tree(path)
        # plain login is refused by this server
        p = ftp(work, "ls", s.url(name), check=1)
        assert p.stderr.startswith("inetkit ftp: 530 ")
        p = ftp(work, "--tls", "--cacert", certs["ca"], "--trace", "ls", s.url(name), check=0)
        assert p.stdout == "secret.txt\n"
        assert "> AUTH TLS" in p.stderr and "> PBSZ 0" in p.stderr and "> PROT P" in p.stderr
        assert "session reused" in p.stderr  # the data channel resumed the control session
        src = local / "u.bin"
        src.write_bytes(os.urandom(200000))
        ftp(work, "--tls", "--cacert", certs["ca"], "put", str(src), s.url(name + "/"), check=0)
        ftp(work, "--tls", "--cacert", certs["ca"], "get", s.url(name + "/u.bin"),
            "-o", str(local / "d.bin"), check=0)
        assert (local / "d.bin").read_bytes() == src.read_bytes()
        # the system store does not know the test CA
        p = ftp(work, "--tls", "ls", s.url(name), check=1)
        assert "certificate" in p.stderr and "--cacert FILE" in p.stderr
        ftp(work, "--tls", "--insecure", "ls", s.url(name), check=0)
        # a name the certificate does not carry
        url = s.url(name).replace("127.0.0.1", "localhost")
        ftp(work, "--tls", "--cacert", certs["ca"], "-4", "ls", url, check=0)
    finally:
        s.stop()


def test_tls_implicit_vsftpd(work, user, certs):
    s = Vsftpd(os.path.dirname(user.home), user, tls=certs, implicit=True)
    try:
        name = "t-tls-implicit"
        path = os.path.join(user.home, name)
        os.makedirs(path, exist_ok=True)
        write(os.path.join(path, "i.txt"), "implicit\n")
        user.chown_tree(path)
        url = s.url(name + "/i.txt", scheme="ftps")
        p = ftp(work, "--cacert", certs["ca"], "--trace", "cat", url, check=0)
        assert p.stdout == "implicit\n"
        assert "> AUTH TLS" not in p.stderr and "> PROT P" in p.stderr
        p = ftp(work, "cat", url, check=1)
        assert "certificate" in p.stderr
    finally:
        s.stop()


def test_tls_pureftpd(work, user, certs, local):
    binary = ftp_peers.ensure_pure_ftpd()
    if binary is None:
        pytest.skip("no pure-ftpd")
    s = PureFtpd(os.path.dirname(user.home), user, tls=certs, binary=binary)
    try:
        name = "t-tls-pure"
        path = os.path.join(user.home, name)
        os.makedirs(path, exist_ok=True)
        write(os.path.join(path, "p.txt"), "pure tls\n")
        user.chown_tree(path)
        p = ftp(work, "--tls", "--cacert", certs["ca"], "cat", s.url(name + "/p.txt"), check=0)
        assert p.stdout == "pure tls\n"
    finally:
        s.stop()


# ---- the shell, scripted ----

SHELL_SCRIPT = """\
# every shell command once
status
help get
pwd
cd {name}
pwd
mkdir newdir
ls
dir
put {local}/one.txt
put {local}/one.txt two.txt
mput {local}/m*.dat
ls
binary
get one.txt {local}/got1.txt
ascii
get two.txt {local}/got2.txt
binary
lcd {local}/lcd
mget m*.dat two.txt
rename two.txt three.txt
delete three.txt
passive off
ls
passive on
rmdir newdir
user {user} {password}
pwd
bye
ls
"""


def test_shell_script(work, peer, rdir, local):
    name, path = rdir
    (local / "one.txt").write_text("one\n")
    (local / "m1.dat").write_text("m1")
    (local / "m2.dat").write_text("m2")
    (local / "lcd").mkdir()
    script = local / "script.txt"
    script.write_text(SHELL_SCRIPT.format(name=name, local=str(local), user=USER,
                                          password=PASSWORD))
    p = ftp(work, "open", peer.url(""), "-f", str(script), check=0)
    out = p.stdout.splitlines()
    assert "/" in out[0] or out[0].startswith("Not connected") or "Connected" in out[0]
    assert "/%s" % name in p.stdout
    assert "newdir" in out
    assert (local / "got1.txt").read_text() == "one\n"
    assert (local / "got2.txt").read_text() == "one\n"
    assert (local / "lcd" / "m1.dat").read_text() == "m1"
    assert (local / "lcd" / "m2.dat").read_text() == "m2"
    assert (local / "lcd" / "two.txt").read_text() == "one\n"
    assert sorted(os.listdir(path)) == ["m1.dat", "m2.dat", "one.txt"]


def test_shell_c_stops_at_failure(work, peer, rdir, local):
    name, path = rdir
    write(os.path.join(path, "x.txt"), "x")
    p = ftp(work, "open", peer.url(name), "-c", "ls; get nope.txt; mkdir never", check=1)
    assert p.stdout == "x.txt\n"
    assert p.stderr.startswith("inetkit ftp: 550 ")
    assert not os.path.exists(os.path.join(path, "never"))
    # quotes and a name with spaces
    write(os.path.join(path, "a b.txt"), "ab")
    p = ftp(work, "open", peer.url(name), "-c", "get \"a b.txt\" %s/ab; bye" % local, check=0)
    assert (local / "ab").read_text() == "ab"
    p = ftp(work, "open", peer.url(name), "-c", "frobnicate", check=2)
    assert p.stderr == "inetkit ftp: unknown command 'frobnicate' (try 'help')\n"
    p = ftp(work, "-c", "ls", "open", check=1)
    assert p.stderr == "inetkit ftp: not connected (use 'open HOST')\n"


def test_shell_ls_options(work, user, peer, rdir):
    """ls/dir take ls(1) options; a word starting with '-' is never sent as a path."""
    name, path = rdir
    write(os.path.join(path, "a.txt"), "a\n")
    write(os.path.join(path, ".hidden"), "h\n")
    os.makedirs(os.path.join(path, "sub"))
    user.chown_tree(path)

    def sh(cmds, check=0):
        return ftp(work, "open", peer.url(name), "-c", cmds, check=check)

    assert sh("ls").stdout == "a.txt\nsub\n"
    assert sh("ls -1").stdout == "a.txt\nsub\n"
    assert sh("ls -a").stdout == ".hidden\na.txt\nsub\n"
    assert sh("ls .hidden").stdout == ".hidden\n"
    for cmd in ("ls -l", "dir", "ls -l -1 .", "ls -- ."):
        lines = sh(cmd).stdout.splitlines()
        if cmd == "ls -- .":
            assert lines == ["a.txt", "sub"]
            continue
        assert [l.split()[-1] for l in lines] == ["a.txt", "sub"], cmd
        assert lines[0].startswith("-rw-r--r--") and lines[1].startswith("d"), cmd
    for cmd in ("ls -la", "ls -al", "dir -a", "ls -a -l"):
        lines = sh(cmd).stdout.splitlines()
        assert [l.split()[-1] for l in lines] == [".hidden", "a.txt", "sub"], cmd
        assert lines[0].startswith("-rw-r--r--"), cmd
    # two paths: a heading for each
    assert sh("ls sub .").stdout == "sub:\n\n.:\na.txt\nsub\n"
    p = sh("ls -x", check=2)
    assert p.stderr == ("inetkit ftp: ls: unknown option '-x' (it takes -l, -a, -1; put -- "
                        "before a name that starts with '-')\n")
    p = sh("dir --long", check=2)
    assert "dir: unknown option '--long'" in p.stderr


def test_shell_local_commands(work, peer, rdir, local):
    """!cmd, lls, lcd, lpwd."""
    name, path = rdir
    (local / "here.txt").write_text("x" * 5)
    (local / ".dot").write_text("d")
    (local / "sub").mkdir()
    script = ("lcd {l}; !echo made > made.txt; !echo bang; lls; lls -a; lls -l here.txt; "
              "lcd sub; lpwd; lls ..; !").format(l=local)
    p = ftp(work, "open", peer.url(name), "-c", script, input="echo from-a-shell\n",
            env={"SHELL": "/bin/sh"}, check=0)
    out = p.stdout.splitlines()
    assert out[0] == "bang"
    assert out[1:4] == ["here.txt", "made.txt", "sub"]
    assert out[4:8] == [".dot", "here.txt", "made.txt", "sub"]
    assert re.fullmatch(r"-rw-r--r-- +5 \d{4}-\d\d-\d\d \d\d:\d\d here\.txt", out[8]), out[8]
    assert out[9] == str(local / "sub")
    assert out[10:13] == ["here.txt", "made.txt", "sub"]
    assert out[13] == "from-a-shell"
    assert (local / "made.txt").read_text() == "made\n"
    # a failing command stops a script, with its status
    p = ftp(work, "open", peer.url(name), "-c", "!exit 3; ls", check=1)
    assert p.stdout == ""
    assert p.stderr == "inetkit ftp: 'exit 3' exited with status 3\n"
    p = ftp(work, "open", peer.url(name), "-c", "lls /nonexistent", check=1)
    assert p.stderr == "inetkit ftp: lls: cannot read /nonexistent: No such file or directory\n"
    # the local commands need no connection
    p = ftp(work, "open", "-c", "lcd %s; lls; !echo ok" % local, check=0)
    assert p.stdout == "here.txt\nmade.txt\nsub\nok\n"


def test_shell_mirror_and_rm_r(work, user, peer, rdir, local):
    name, path = rdir
    make_tree(os.path.join(path, "tree"), n=20)
    os.makedirs(os.path.join(path, "tree", "empty"))
    user.chown_tree(path)
    m = local / "m"
    script = ("mirror tree {m}; mirror -R -P 2 {m} copy; cd copy; mirror -v . {m2}; cd ..; "
              "rm tree; rm -r tree; rm -r copy/a; ls").format(m=m, m2=local / "m2")
    p = ftp(work, "open", peer.url(name), "-c", script, check=1)
    out = p.stdout.splitlines()
    assert re.fullmatch(SUMMARY % (20, 20), out[0]), out[0]
    assert re.fullmatch(SUMMARY % (20, 20), out[1]), out[1]
    assert "get a/b/f002.bin" in out
    assert digest_tree(str(m)) == digest_tree(os.path.join(path, "tree"))
    assert digest_tree(str(local / "m2")) == digest_tree(os.path.join(path, "tree"))
    assert digest_tree(os.path.join(path, "copy")) == digest_tree(os.path.join(path, "tree"))
    # rm on a directory names the commands that remove it; the script stops there
    assert p.stderr == ("inetkit ftp: 'tree' is a directory: use 'rmdir tree' when it is "
                        "empty, or 'rm -r tree' to delete it with everything in it\n")
    p = ftp(work, "open", peer.url(name), "-c", "rm -r tree; rm -r copy/a; delete -r copy/文件夹; ls",
            check=0)
    assert p.stdout == "copy\n"
    assert not os.path.exists(os.path.join(path, "tree"))
    assert sorted(os.listdir(os.path.join(path, "copy"))) == sorted(
        ["empty"] + [x for x in os.listdir(str(m)) if os.path.isfile(str(m / x))])
    p = ftp(work, "open", peer.url(name), "-c", "rm -r nope", check=1)
    assert p.stderr.startswith("inetkit ftp: 550 ")


def test_shell_help_lists_commands(work):
    p = ftp(work, "open", "-c", "help", check=0)
    names = [l.split()[0] for l in p.stdout.splitlines()]
    for cmd in ("ls", "dir", "lls", "lcd", "lpwd", "!COMMAND", "mirror", "delete", "rmdir"):
        assert cmd in names, cmd
    assert "delete [-r] PATH" in p.stdout and "ls [-l] [-a] [-1] [PATH...]" in p.stdout


def test_shell_piped_stdin(work, peer, rdir):
    name, path = rdir
    write(os.path.join(path, "p.txt"), "p")
    p = ftp(work, "open", peer.url(name), input="ls\nbye\n", check=0)
    assert p.stdout == "p.txt\n"


def test_shell_interactive_completion(work, peer, rdir, local):
    pexpect = pytest.importorskip("pexpect")
    name, path = rdir
    write(os.path.join(path, "completion-target.txt"), "done\n")
    write(os.path.join(path, "other.txt"), "o\n")
    env = dict(os.environ, HOME=work, TERM="dumb")
    child = pexpect.spawn(BIN, ["ftp", "open", peer.url(name)], env=env, cwd=str(local),
                          timeout=20, encoding="utf-8")
    # the prompt names the remote directory
    here = r"ftp 127\.0\.0\.1:/\S*%s> " % re.escape(name)
    try:
        child.expect(here)
        child.send("get comp\t")
        child.expect("completion-target.txt")
        child.send("\r")
        # on a terminal, a progress line ends the transfer
        child.expect("completion-target.txt +100% ")
        child.expect(here)
        child.send("pw\t")
        child.expect("pwd ")
        child.send("\r")
        child.expect("/%s" % name)
        child.expect(here)
        # ls options, aliases among the completions, a local command
        child.send("ls -l\r")
        child.expect(r"-rw-r--r-- +5 [-0-9]+ [0-9:]+ completion-target\.txt")
        child.expect(here)
        child.send("lp\t")
        child.expect("lpwd ")
        child.send("\r")
        child.expect(str(local))
        child.expect(here)
        child.send("!echo from-sh-$((6*7))\r")
        child.expect("from-sh-42")
        child.expect(here)
        child.send("cd ..\r")
        child.expect(r"ftp 127\.0\.0\.1:(/\S*)> ")
        assert not child.match.group(1).endswith(name)
        child.send("bye\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert (local / "completion-target.txt").read_text() == "done\n"


# ---- faults from a hostile or broken server ----

def test_reply_line_of_100k(work):
    fake = FakeFtp(greeting=b"220 " + b"x" * (100 * 1024) + b"\r\n")
    try:
        p = ftp(work, "ls", fake.url(), check=1)
        assert "sent a reply line longer than 16384 bytes" in p.stderr
    finally:
        fake.stop()


def test_endless_multiline_reply(work):
    fake = FakeFtp(greeting=b"220-start\r\n", endless=True)
    try:
        t0 = time.monotonic()
        p = ftp(work, "--timeout", "1s", "ls", fake.url(), check=1)
        assert ("no complete reply from" in p.stderr or "sent a reply longer than" in p.stderr)
        assert time.monotonic() - t0 < 30
    finally:
        fake.stop()


def test_multiline_reply_that_stalls(work):
    fake = FakeFtp(greeting=b"220-start\r\n")
    try:
        p = ftp(work, "--timeout", "500ms", "ls", fake.url(), check=1)
        assert "no complete reply from 127.0.0.1:%d within 500 ms" % fake.port in p.stderr
    finally:
        fake.stop()


def test_pasv_third_party_address_ignored(work):
    fake = FakeFtp(pasv_addr="127,0,0,2", list_data=b"-rw-r--r-- 1 u g 3 Mar 10 12:34 safe.txt\r\n")
    trap = socket.socket()
    trap.bind(("127.0.0.2", fake.dport))
    trap.listen(1)
    trap.setblocking(False)
    try:
        p = ftp(work, "--trace", "ls", fake.url(), check=0)
        assert p.stdout == "safe.txt\n"
        assert "ignoring the address 127.0.0.2 in the PASV reply" in p.stderr
        assert fake.data_peers == ["127.0.0.1"]
        with pytest.raises(BlockingIOError):
            trap.accept()
    finally:
        trap.close()
        fake.stop()


ODD_LISTING = (
    b"total 42\r\n"
    b"-rw-r--r-- 1 u g 10 Mar 10 12:34 good.txt\r\n"
    b"garbage line that is no listing\r\n"
    b"\r\n"
    b"11-22-26  01:54PM       <DIR>          DosDir\r\n"
    b"11-22-26  01:54PM                 1234 dos file.txt\r\n"
    b"-rw-r--r-- 1 u g 10 Xyz 10 12:34 badmonth\r\n"
    b"lrwxrwxrwx 1 u g 7 Mar 10 12:34 ln -> target\r\n"
    b"-rw-r--r-- 1 u g 10 Mar 10 12:34 \x1b[2Jescape\r\n"
    + b"-rw-r--r-- 1 u g 10 Mar 10 12:34 " + b"L" * 5000 + b"\r\n"
    + b"no newline at the end"
)


def test_odd_listing(work):
    fake = FakeFtp(list_data=ODD_LISTING)
    try:
        p = ftp(work, "ls", fake.url(), check=0)
        assert p.stdout.splitlines() == ["?[2Jescape", "DosDir", "dos file.txt", "good.txt", "ln"]
        assert "4 listing lines could not be read and were skipped" in p.stderr
        items = json.loads(ftp(work, "ls", "--json", fake.url(), check=0).stdout)
        dos = [i for i in items if i["name"] == "dos file.txt"][0]
        assert dos["size"] == 1234 and dos["modify"] == "2026-11-22T13:54:00Z"
    finally:
        fake.stop()


def test_mirror_refuses_unsafe_names(work, local):
    listing = (b"type=file;size=3; ../evil.txt\r\n"
               b"type=file;size=3; ok.txt\r\n"
               b"type=dir; ..\r\n")
    fake = FakeFtp(list_data=listing, retr_data=b"abc", mlsd=True)
    try:
        dst = local / "m"
        p = ftp(work, "mirror", "-v", fake.url(), str(dst), check=0)
        assert "skip remote ../evil.txt (unsafe name)" in p.stdout
        assert os.listdir(dst) == ["ok.txt"]
        assert not (local / "evil.txt").exists()
    finally:
        fake.stop()


def test_ascii_mode(work, local):
    fake = FakeFtp(retr_data=b"line1\r\nline2\r\n")
    try:
        out = local / "file.bin"
        ftp(work, "--ascii", "--trace", "get", fake.url("file.bin"), "-o", str(out), check=0)
        assert out.read_bytes() == b"line1\nline2\n"
        assert "TYPE A" in "\n".join(fake.commands)
    finally:
        fake.stop()

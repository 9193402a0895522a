"""`inetkit ftpd`: the FTP server with real clients (Python's ftplib, curl,
lftp): anonymous, real and guest logins, directory commands, listings,
transfers in both TYPEs, resume, rename/delete, active and passive modes,
the xferlog, and the [ftp] service of `inetkit serve`."""
import ftplib
import io
import os
import random
import shutil
import signal
import subprocess
import time

import pytest

from conftest import BIN, ROOT, free_port, run, wait_port
from ftpd_env import PASSWORD, Ftpd, cmd, data_bytes, login_raw, raw, reply


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Ftpd(tmp_path_factory.mktemp("ftpd"), users=["alice", ("gina", "--class", "guest",
                                                                 "--expires", "7d",
                                                                 "--rights", "ro")])
    yield s
    s.stop()


# ---- command line ----

def test_help():
    p = run("ftpd", "--help", check=0)
    assert p.stdout.startswith("Usage: inetkit ftpd ")


def test_bad_option():
    p = run("ftpd", "--bogus", check=2)
    assert "unknown option '--bogus'" in p.stderr


def test_config_and_quick_options_conflict(tmp_path):
    p = run("ftpd", "--config", tmp_path / "x.conf", "--root", tmp_path, check=2)
    assert "--config cannot be combined" in p.stderr


def test_check_reports_unknown_key(tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text("[serve]\nstate_dir = %s\n[ftp]\nlisten = 127.0.0.1:2121\nbogus = 1\n" % tmp_path)
    p = run("ftpd", "--config", conf, "--check", check=2)
    assert "c.conf:5: [ftp] unknown key 'bogus'" in p.stderr


def test_check_bad_value(tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text("[serve]\nstate_dir = %s\n[ftp]\npasv_ports = 10-5\n" % tmp_path)
    p = run("ftpd", "--config", conf, "--check", check=2)
    assert "[ftp] pasv_ports" in p.stderr and "40000-40999" in p.stderr


def test_check_data_send_buffer_limit(tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text("[serve]\nstate_dir = %s\n[ftp]\ndata_send_buffer = 65M\n" % tmp_path)
    p = run("ftpd", "--config", conf, "--check", check=2)
    assert p.stderr == ("inetkit ftpd: %s:4: [ftp] data_send_buffer: at most 64M; 0 leaves "
                        "the size to the kernel\n" % conf)


def test_download_with_kernel_sized_send_buffer(tmp_path):
    with Ftpd(tmp_path, extra="data_send_buffer = 0\n") as srv:
        blob = os.urandom(3 << 20)
        with open(os.path.join(srv.root, "pub", "blob.bin"), "wb") as fh:
            fh.write(blob)
        f = srv.ftp()
        got = io.BytesIO()
        f.retrbinary("RETR pub/blob.bin", got.write)
        f.quit()
        assert got.getvalue() == blob


def test_check_no_ftp_section(tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text("[serve]\nstate_dir = %s\n" % tmp_path)
    p = run("ftpd", "--config", conf, "--check", check=2)
    assert "has no [ftp] section" in p.stderr


def test_check_the_example_config():
    p = run("ftpd", "--config", os.path.join(ROOT, "examples", "inetkit.conf"), "--check",
            check=0)
    assert p.stdout.endswith("inetkit.conf: valid\n")


def test_quick_start_root(tmp_path):
    root = tmp_path / "pub"
    root.mkdir()
    (root / "a.txt").write_text("quick\n")
    port = free_port()
    p = subprocess.Popen([BIN, "ftpd", "--root", str(root), "--listen", "127.0.0.1:%d" % port,
                          "--state-dir", str(tmp_path / "nostate"), "--user", "root"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_port(port, proc=p)
        out = subprocess.run(["curl", "-sS", "ftp://127.0.0.1:%d/a.txt" % port],
                             stdout=subprocess.PIPE, timeout=20).stdout
        assert out == b"quick\n"
        f = ftplib.FTP()
        f.connect("127.0.0.1", port, timeout=10)
        with pytest.raises(ftplib.error_perm, match="530 Login failed: login incorrect"):
            f.login("alice", "whatever")
        f.close()
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=15)
    assert p.returncode == 0
    assert b"only anonymous logins" in err


# ---- ftplib ----

def test_anonymous_browse(srv):
    f = srv.ftp()
    assert f.pwd() == "/"
    f.cwd("pub")
    assert f.pwd() == "/pub"
    assert sorted(f.nlst()) == ["docs", "hello.txt"]
    lines = []
    f.dir(lines.append)
    assert any(l.startswith("-rw-r--r--") and l.endswith(" hello.txt") for l in lines)
    assert any(l.startswith("d") and l.endswith(" docs") for l in lines)
    facts = dict(f.mlsd())
    assert facts["hello.txt"]["type"] == "file" and facts["hello.txt"]["size"] == "13"
    assert facts["docs"]["type"] == "dir"
    assert facts["."]["type"] == "cdir"
    f.cwd("..")
    assert f.pwd() == "/"
    f.quit()


def test_retr_binary_and_ascii(srv):
    f = srv.ftp()
    assert data_bytes(f, "RETR /pub/hello.txt") == b"hello, world\n"
    lines = []
    f.retrlines("RETR /pub/docs/lines.txt", lines.append)
    assert lines == ["one", "two", "three"]
    f.voidcmd("TYPE I")
    assert f.size("/pub/docs/lines.txt") == 14
    f.voidcmd("TYPE A")
    assert f.size("/pub/docs/lines.txt") == 17   # CRLF on the wire
    f.quit()


def test_ascii_conversion_on_the_wire(srv):
    s, fh = login_raw(srv.port)
    assert cmd(s, fh, "TYPE A").startswith("200")
    r = cmd(s, fh, "PASV")
    from ftpd_env import pasv_port
    import socket
    d = socket.create_connection(("127.0.0.1", pasv_port(r)), timeout=10)
    s.sendall(b"RETR /pub/docs/lines.txt\r\n")
    assert reply(fh).startswith("150")
    got = b""
    while True:
        b = d.recv(65536)
        if not b:
            break
        got += b
    d.close()
    assert got == b"one\r\ntwo\r\nthree\r\n"
    assert reply(fh).startswith("226")
    s.close()


def test_real_user_read_write(srv):
    f = srv.ftp("alice", PASSWORD)
    assert f.pwd() == "/"
    assert f.mkd("dir one") == "/dir one"
    f.cwd("dir one")
    data = os.urandom(300000)
    f.storbinary("STOR blob.bin", io.BytesIO(data))
    assert f.size("blob.bin") == len(data)
    assert data_bytes(f, "RETR blob.bin") == data
    f.storlines("STOR text.txt", io.BytesIO(b"a\r\nb\r\n"))
    with open(os.path.join(srv.homes["alice"], "dir one", "text.txt"), "rb") as fh:
        assert fh.read() == b"a\nb\n"     # TYPE A upload: CRLF -> LF
    f.rename("blob.bin", "renamed.bin")
    assert sorted(f.nlst()) == ["renamed.bin", "text.txt"]
    f.delete("renamed.bin")
    f.delete("text.txt")
    f.cwd("/")
    f.rmd("dir one")
    assert "dir one" not in f.nlst()
    # no temporary file left behind by the uploads
    assert not [n for n in os.listdir(srv.homes["alice"]) if n.startswith(".inetkit-upload-")]
    f.quit()


def test_site_chmod(srv):
    f = srv.ftp("alice", PASSWORD)
    f.storbinary("STOR mode.txt", io.BytesIO(b"m"))
    assert f.sendcmd("SITE CHMOD 600 mode.txt") == "200 SITE CHMOD command ok."
    assert os.stat(os.path.join(srv.homes["alice"], "mode.txt")).st_mode & 0o7777 == 0o600
    with pytest.raises(ftplib.error_perm, match="501 SITE CHMOD: the mode must be octal"):
        f.sendcmd("SITE CHMOD 999 mode.txt")
    f.delete("mode.txt")
    f.quit()


def test_mkd_quotes_path(srv):
    f = srv.ftp("alice", PASSWORD)
    r = f.sendcmd('MKD say "hi"')
    assert r == '257 "/say ""hi""" created'
    f.rmd('say "hi"')
    f.quit()


def test_rest_resume_download(srv):
    data = bytes(range(256)) * 1000
    with open(os.path.join(srv.homes["alice"], "big.bin"), "wb") as fh:
        fh.write(data)
    f = srv.ftp("alice", PASSWORD)
    f.voidcmd("TYPE I")
    # a download cut after the first chunk
    conn = f.transfercmd("RETR big.bin")
    part = conn.recv(1000)
    conn.close()
    try:
        f.voidresp()
    except ftplib.error_temp:
        pass        # 426: the client closed the data connection early
    got = part + data_bytes(f, "RETR big.bin", rest=len(part))
    assert got == data
    f.quit()


def test_rest_resume_upload(srv):
    data = os.urandom(200000)
    f = srv.ftp("alice", PASSWORD)
    f.voidcmd("TYPE I")
    conn = f.transfercmd("STOR resumed.bin")
    conn.sendall(data[:70000])
    conn.close()                 # cut: the server keeps what came
    f.voidresp()
    have = f.size("resumed.bin")
    assert have == 70000
    f.storbinary("STOR resumed.bin", io.BytesIO(data[have:]), rest=have)
    assert data_bytes(f, "RETR resumed.bin") == data
    f.delete("resumed.bin")
    f.quit()


def test_appe_and_stou(srv):
    f = srv.ftp("alice", PASSWORD)
    f.storbinary("STOR log.txt", io.BytesIO(b"one\n"))
    f.storbinary("APPE log.txt", io.BytesIO(b"two\n"))
    assert data_bytes(f, "RETR log.txt") == b"one\ntwo\n"
    r = f.storbinary("STOU log.txt", io.BytesIO(b"unique\n"))
    assert r.startswith("226") and "stored as log.txt.1" in r
    assert data_bytes(f, "RETR log.txt.1") == b"unique\n"
    f.delete("log.txt")
    f.delete("log.txt.1")
    f.quit()


def test_guest_read_only(srv):
    with open(os.path.join(srv.homes["gina"], "readme.txt"), "w") as fh:
        fh.write("for guests\n")
    f = srv.ftp("gina", PASSWORD)
    assert data_bytes(f, "RETR readme.txt") == b"for guests\n"
    with pytest.raises(ftplib.error_perm, match="550 Permission denied: this account is read-only"):
        f.storbinary("STOR x.txt", io.BytesIO(b"x"))
    with pytest.raises(ftplib.error_perm, match="550 Permission denied"):
        f.delete("readme.txt")
    f.quit()
    assert os.path.exists(os.path.join(srv.homes["gina"], "readme.txt"))


def test_commands_and_replies(srv):
    s, fh = raw(srv.port)
    assert cmd(s, fh, "SYST") == "215 UNIX Type: L8\r\n"
    feat = cmd(s, fh, "FEAT")
    assert feat.startswith("211-") and " UTF8\r\n" in feat and " EPSV\r\n" in feat
    assert " AUTH TLS\r\n" in feat and " REST STREAM\r\n" in feat and " MLST type*;" in feat
    assert cmd(s, fh, "PWD").startswith("530 ")
    assert cmd(s, fh, "PASS x").startswith("503 Send USER first")
    assert cmd(s, fh, "ACCT x").startswith("502 ")
    assert cmd(s, fh, "FOO").startswith("500 ")
    assert cmd(s, fh, "HOST localhost").startswith("220 ")
    assert cmd(s, fh, "OPTS UTF8 ON").startswith("200 ")
    assert cmd(s, fh, "USER anonymous").startswith("331 ")
    assert cmd(s, fh, "PASS me@example.org").startswith("230 ")
    assert cmd(s, fh, "HOST other").startswith("503 ")
    assert cmd(s, fh, "TYPE E").startswith("504 ")
    assert cmd(s, fh, "MODE B").startswith("504 ")
    assert cmd(s, fh, "STRU R").startswith("504 ")
    assert cmd(s, fh, "MODE S").startswith("200 ")
    assert cmd(s, fh, "STRU F").startswith("200 ")
    assert cmd(s, fh, "ALLO 100").startswith("202 ")
    assert cmd(s, fh, "REST 10").startswith("350 ")
    assert cmd(s, fh, "NOOP") == "200 NOOP ok.\r\n"
    assert cmd(s, fh, "CWD /nonexistent").startswith("550 /nonexistent: No such file")
    assert cmd(s, fh, "XPWD") == '257 "/" is the current directory\r\n'
    assert cmd(s, fh, "RNTO x").startswith("503 ")
    assert cmd(s, fh, "RETR /pub/hello.txt").startswith("425 Use PORT")
    help_ = cmd(s, fh, "HELP")
    assert help_.startswith("214-") and help_.endswith("214 HELP <command> shows its syntax.\r\n")
    assert cmd(s, fh, "HELP RETR") == "214 Syntax: RETR <sp> pathname\r\n"
    assert cmd(s, fh, "SITE HELP").startswith("214-SITE commands:")
    assert cmd(s, fh, "SITE FOO").startswith("500 ")
    stat = cmd(s, fh, "STAT")
    assert stat.startswith("211-") and "Logged in as anonymous" in stat
    st = cmd(s, fh, "STAT /pub")
    assert st.startswith("213-") and " hello.txt\r\n" in st and st.endswith("213 End of status.\r\n")
    mlst = cmd(s, fh, "MLST /pub/hello.txt")
    assert mlst.startswith("250-") and "type=file;size=13;" in mlst and "; /pub/hello.txt\r\n" in mlst
    assert cmd(s, fh, "MDTM /pub/hello.txt").startswith("213 2")
    assert cmd(s, fh, "EPSV ALL").startswith("200 ")
    assert cmd(s, fh, "PASV").startswith("503 Only EPSV")
    assert cmd(s, fh, "QUIT") == "221 Goodbye.\r\n"
    assert fh.readline() == b""
    s.close()


def test_glob_listing(srv):
    f = srv.ftp("alice", PASSWORD)
    for n in ("a1.txt", "a2.txt", "b.dat", "*literal"):
        f.storbinary("STOR " + n, io.BytesIO(b"x"))
    assert sorted(f.nlst("a*.txt")) == ["a1.txt", "a2.txt"]
    assert f.nlst("*literal") == ["*literal"]     # the literal name wins
    lines = []
    f.dir("-l ?.dat", lines.append)
    assert len(lines) == 1 and lines[0].endswith(" b.dat")
    with pytest.raises(ftplib.error_perm, match="no names match"):
        f.nlst("zz*")
    for n in ("a1.txt", "a2.txt", "b.dat", "*literal"):
        f.delete(n)
    f.quit()


def test_xferlog_written(srv):
    f = srv.ftp()
    data_bytes(f, "RETR /pub/hello.txt")
    f.quit()
    deadline = time.time() + 5
    while time.time() < deadline:
        with open(srv.xferlog) as fh:
            lines = [l for l in fh if " /pub/hello.txt " in l]
        if lines:
            break
        time.sleep(0.05)
    parts = lines[-1].split()
    # current-time(5) transfer-time host size name type flag direction mode user service ...
    assert parts[6:9] == ["127.0.0.1", "13", "/pub/hello.txt"]
    assert parts[9:14] == ["b", "_", "o", "a", "anonymous"]
    assert parts[-1] == "c"


def test_passwords_never_logged(srv):
    f = srv.ftp("alice", PASSWORD)
    f.quit()
    assert PASSWORD not in srv.log()


# ---- curl ----

def test_curl_list_download_upload(srv, tmp_path):
    out = srv.curl(srv.url("pub/")).stdout.decode()
    assert "hello.txt" in out and "docs" in out
    assert srv.curl(srv.url("pub/hello.txt")).stdout == b"hello, world\n"
    src = tmp_path / "up.bin"
    src.write_bytes(os.urandom(100000))
    srv.curl("-T", str(src), srv.url("curl/up.bin", user="alice"), "--ftp-create-dirs")
    with open(os.path.join(srv.homes["alice"], "curl", "up.bin"), "rb") as fh:
        assert fh.read() == src.read_bytes()


@pytest.mark.parametrize("mode", [["--ftp-pasv"], ["--ftp-port", "127.0.0.1"],
                                  ["--disable-epsv"], ["--ftp-port", "127.0.0.1", "--disable-eprt"]])
def test_curl_modes(srv, mode):
    assert srv.curl(*mode, srv.url("pub/hello.txt")).stdout == b"hello, world\n"


def test_curl_resume(srv, tmp_path):
    data = os.urandom(150000)
    with open(os.path.join(srv.homes["alice"], "r.bin"), "wb") as fh:
        fh.write(data)
    dst = tmp_path / "r.bin"
    dst.write_bytes(data[:50000])
    srv.curl("-C", "-", "-o", str(dst), srv.url("r.bin", user="alice"))
    assert dst.read_bytes() == data
    # upload resume: the server has a cut copy
    with open(os.path.join(srv.homes["alice"], "u.bin"), "wb") as fh:
        fh.write(data[:30000])
    src = tmp_path / "u.bin"
    src.write_bytes(data)
    srv.curl("-C", "-", "-T", str(src), srv.url("u.bin", user="alice"))
    with open(os.path.join(srv.homes["alice"], "u.bin"), "rb") as fh:
        assert fh.read() == data


# ---- lftp ----

def make_tree(top, n=200):
    rnd = random.Random(7)
    for i in range(n):
        d = os.path.join(top, "目录%d" % (i % 5), "子%d" % (i % 3))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "文件-%03d.bin" % i), "wb") as fh:
            fh.write(rnd.randbytes(rnd.randint(0, 5000)))


def same_tree(a, b):
    p = subprocess.run(["diff", "-r", a, b], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert p.returncode == 0, p.stdout.decode(errors="replace")[:2000]


@pytest.mark.parametrize("tls", [False, True])
def test_lftp_mirror_both_ways(srv, tmp_path, tls):
    src = str(tmp_path / "src")
    back = str(tmp_path / "back")
    make_tree(src)
    sets = "set ssl:verify-certificate no; set ftp:ssl-force yes; set ftp:ssl-protect-data yes" \
        if tls else "set ftp:ssl-allow no"
    remote = "tree-tls" if tls else "tree"
    srv.lftp("%s; mirror -R %s %s; mirror %s %s" % (sets, src, remote, remote, back),
             user="alice", password=PASSWORD)
    same_tree(src, os.path.join(srv.homes["alice"], remote))
    same_tree(src, back)
    shutil.rmtree(os.path.join(srv.homes["alice"], remote))


# ---- serve ----

def test_serve_ftp_section(tmp_path):
    port = free_port()
    state = tmp_path / "var"
    conf = tmp_path / "serve.conf"
    conf.write_text("[serve]\nstate_dir = %s\nskeleton = %s\nworkers = 1\nuser = root\n"
                    "[accounts]\nfailure_delay = 0\n"
                    "[ftp]\nlisten = 127.0.0.1:%d\nanonymous = yes\n"
                    % (state, os.path.join(ROOT, "examples", "var-skel"), port))
    p = subprocess.Popen([BIN, "serve", "--config", str(conf)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        wait_port(port, proc=p)
        out = subprocess.run(["curl", "-sS", "ftp://127.0.0.1:%d/pub/" % port],
                             stdout=subprocess.PIPE, timeout=20).stdout.decode()
        assert "hello.txt" in out and "README.txt" in out and "docs" in out
    finally:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=20)
    assert p.returncode == 0, err.decode()
    assert "try: curl ftp://127.0.0.1:%d/pub/" % port in out.decode()

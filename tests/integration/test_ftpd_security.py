"""The FTP server against hostile clients: path traversal and symlinks
(core/jail keeps every access beneath the user's root), the FTP bounce
attack and data-port theft (RFC 2577), anonymous and guest limits,
expired guests, brute force and lockout, malformed command lines, the
per-address connection limit, abandoned passive ports, and the loop
staying responsive while passwords are hashed. Each test asserts the
exact reply and that nothing outside the root was read or written."""
import ftplib
import io
import os
import select
import socket
import time

import pytest

from ftpd_env import PASSWORD, Ftpd, cmd, data_bytes, login_raw, pasv_port, raw, reply

SECRET = b"outside the root: must never be served\n"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    base = tmp_path_factory.mktemp("ftpd-sec")
    with open(os.path.join(base, "secret.txt"), "wb") as fh:
        fh.write(SECRET)
    s = Ftpd(base, extra="accept_timeout = 1s\nmax_per_ip = 20\n",
             accounts="lockout_failures = 3\nlockout_ip_failures = 0\n",
             users=["alice", "bob", ("gina", "--class", "guest", "--expires", "7d"),
                    ("ulla", "--class", "guest", "--expires", "7d", "--rights", "upload")])
    home = s.homes["alice"]
    os.symlink("/", os.path.join(home, "rootlink"))
    os.symlink("../secret.txt", os.path.join(home, "up.txt"))
    os.symlink(os.path.join(base, "secret.txt"), os.path.join(home, "abs.txt"))
    with open(os.path.join(home, "mine.txt"), "w") as fh:
        fh.write("mine\n")
    yield s
    s.stop()


def outside_untouched(srv):
    base = srv.base
    with open(os.path.join(base, "secret.txt"), "rb") as fh:
        assert fh.read() == SECRET
    for name in ("x.txt", "evil.txt", "etc"):
        assert not os.path.exists(os.path.join(base, name))
        assert not os.path.exists(os.path.join("/", name)) or name == "etc"


@pytest.mark.parametrize("path,code,text", [
    ("../secret.txt", "550", "/secret.txt: No such file or directory."),
    ("/../../secret.txt", "550", "/secret.txt: No such file or directory."),
    ("../../../../etc/passwd", "550", "/etc/passwd: No such file or directory."),
    ("%2e%2e/secret.txt", "550", "/%2e%2e/secret.txt: No such file or directory."),
    ("rootlink/etc/passwd", "550", "/rootlink/etc/passwd: Path leads outside your root."),
    ("up.txt", "550", "/up.txt: Path leads outside your root."),
    ("abs.txt", "550", "/abs.txt: Path leads outside your root."),
])
def test_traversal_retr(srv, path, code, text):
    s, f = login_raw(srv.port, "alice", PASSWORD)
    cmd(s, f, "PASV")
    assert cmd(s, f, "RETR " + path) == "%s %s\r\n" % (code, text)
    assert cmd(s, f, "SIZE " + path).startswith(code)
    s.close()
    outside_untouched(srv)


def test_traversal_cwd_list_and_write(srv):
    f = srv.ftp("alice", PASSWORD)
    f.cwd("../../..")
    assert f.pwd() == "/"
    with pytest.raises(ftplib.error_perm, match="550 /rootlink: Path leads outside your root"):
        f.cwd("rootlink")
    with pytest.raises(ftplib.error_perm, match="550 /rootlink/etc: Path leads outside"):
        f.nlst("rootlink/etc")
    with pytest.raises(ftplib.error_perm, match="550 /rootlink/tmp: Path leads outside"):
        f.mkd("rootlink/tmp")
    with pytest.raises(ftplib.error_perm, match="550 /up.txt: Path leads outside"):
        f.storbinary("APPE up.txt", io.BytesIO(b"appended"))
    # a plain STOR over the link replaces the link, never writes through it
    f.storbinary("STOR ../x.txt", io.BytesIO(b"stays inside"))
    assert os.path.exists(os.path.join(srv.homes["alice"], "x.txt"))
    f.delete("x.txt")
    with pytest.raises(ftplib.error_perm, match="553 File name too long"):
        f.sendcmd("SIZE " + "a" * 300)
    with pytest.raises(ftplib.error_perm, match="550 /rootlink/etc/passwd: Path leads outside your root"):
        f.sendcmd("SITE CHMOD 777 rootlink/etc/passwd")
    f.quit()
    outside_untouched(srv)
    assert os.stat("/etc/passwd").st_mode & 0o777 != 0o777


def test_symlink_swapped_during_transfer(srv):
    home = srv.homes["alice"]
    data = os.urandom(8 * 1024 * 1024)
    path = os.path.join(home, "swap.bin")
    with open(path, "wb") as fh:
        fh.write(data)
    f = srv.ftp("alice", PASSWORD)
    f.voidcmd("TYPE I")
    conn = f.transfercmd("RETR swap.bin")
    got = conn.recv(1000)
    os.symlink(os.path.join(srv.base, "secret.txt"), path + ".new")
    os.rename(path + ".new", path)     # the name now points outside
    while True:
        b = conn.recv(1 << 20)
        if not b:
            break
        got += b
    conn.close()
    f.voidresp()
    assert got == data                 # the open file, not the new target
    with pytest.raises(ftplib.error_perm, match="550 /swap.bin: Path leads outside"):
        data_bytes(f, "RETR swap.bin")
    # a directory swapped for a symlink after CWD
    os.makedirs(os.path.join(home, "d"))
    f.cwd("d")
    os.rename(os.path.join(home, "d"), os.path.join(home, "d.old"))
    os.symlink("/etc", os.path.join(home, "d"))
    with pytest.raises(ftplib.error_perm, match="550 /d: Path leads outside"):
        f.nlst()
    with pytest.raises(ftplib.error_perm, match="550 /d/passwd: Path leads outside"):
        data_bytes(f, "RETR passwd")
    f.quit()
    outside_untouched(srv)


def listening(host):
    s = socket.socket()
    s.bind((host, 0))
    s.listen(4)
    s.settimeout(0)
    return s, s.getsockname()[1]


def nobody_connected(lsock):
    r, _, _ = select.select([lsock], [], [], 0.3)
    return not r


def test_bounce_refused(srv):
    other, oport = listening("127.0.0.2")
    low = 80
    s, f = login_raw(srv.port)
    port_arg = "127,0,0,2,%d,%d" % (oport >> 8, oport & 255)
    assert cmd(s, f, "PORT " + port_arg).startswith("504 ")
    assert cmd(s, f, "EPRT |1|127.0.0.2|%d|" % oport).startswith("504 ")
    assert cmd(s, f, "PORT 127,0,0,1,0,%d" % low).startswith("504 ")
    assert cmd(s, f, "EPRT |1|127.0.0.1|%d|" % low).startswith("504 ")
    assert cmd(s, f, "PORT 1,2,3").startswith("501 ")
    assert cmd(s, f, "EPRT |3|x|1|").startswith("522 ")
    # nothing was accepted for a transfer either
    assert cmd(s, f, "RETR /pub/hello.txt").startswith("425 ")
    assert nobody_connected(other)
    other.close()
    s.close()
    assert "ftp_bounce_refused" in srv.log()


def test_data_port_theft_refused(srv):
    s, f = login_raw(srv.port)
    assert cmd(s, f, "TYPE I").startswith("200")
    port = pasv_port(cmd(s, f, "PASV"))
    thief = socket.socket()
    thief.bind(("127.0.0.2", 0))
    thief.settimeout(5)
    thief.connect(("127.0.0.1", port))
    # the server drops it: EOF or reset, and no data
    try:
        assert thief.recv(100) == b""
    except ConnectionResetError:
        pass
    thief.close()
    d = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"RETR /pub/hello.txt\r\n")
    assert reply(f).startswith("150")
    got = b""
    while True:
        b = d.recv(1000)
        if not b:
            break
        got += b
    assert got == b"hello, world\n"
    assert reply(f).startswith("226")
    d.close()
    s.close()
    assert "ftp_data_refused" in srv.log() and "from=127.0.0.2" in srv.log()


def test_anonymous_limits(srv):
    f = srv.ftp()
    for c, arg in (("STOR", "/pub/evil.txt"), ("APPE", "/pub/hello.txt"), ("STOR", "/evil.txt")):
        with pytest.raises(ftplib.error_perm, match="550 Permission denied: anonymous users may "
                           "only upload into /incoming"):
            f.storbinary("%s %s" % (c, arg), io.BytesIO(b"x"))
    with pytest.raises(ftplib.error_perm, match="550 Permission denied: anonymous"):
        f.delete("/pub/hello.txt")
    with pytest.raises(ftplib.error_perm, match="550 Permission denied: anonymous"):
        f.mkd("/pub/newdir")
    with pytest.raises(ftplib.error_perm, match="550 Permission denied: anonymous"):
        f.rename("/pub/hello.txt", "/pub/x")
    with pytest.raises(ftplib.error_perm, match="550 Permission denied: anonymous"):
        f.sendcmd("SITE CHMOD 777 /pub/hello.txt")
    f.storbinary("STOR /incoming/drop.txt", io.BytesIO(b"dropped"))
    with pytest.raises(ftplib.error_perm, match="550 /incoming/drop.txt: File exists"):
        f.storbinary("STOR /incoming/drop.txt", io.BytesIO(b"again"))
    with pytest.raises(ftplib.error_perm, match="550 Permission denied: /incoming is write-only"):
        data_bytes(f, "RETR /incoming/drop.txt")
    with pytest.raises(ftplib.error_perm, match="550 Permission denied: /incoming is write-only"):
        f.nlst("/incoming")
    with pytest.raises(ftplib.error_perm, match="550 Permission denied: uploads cannot be changed"):
        f.delete("/incoming/drop.txt")
    with pytest.raises(ftplib.error_perm, match="550 Permission denied: uploads cannot be changed"):
        f.mkd("/incoming/sub")
    f.quit()
    with open(os.path.join(srv.root, "incoming", "drop.txt"), "rb") as fh:
        assert fh.read() == b"dropped"
    with open(os.path.join(srv.root, "pub", "hello.txt"), "rb") as fh:
        assert fh.read() == b"hello, world\n"
    assert not os.path.exists(os.path.join(srv.root, "pub", "evil.txt"))
    assert not os.path.exists(os.path.join(srv.root, "evil.txt"))


def test_guest_upload_rights(srv):
    home = srv.homes["ulla"]
    with open(os.path.join(home, "theirs.txt"), "w") as fh:
        fh.write("someone else's\n")
    f = srv.ftp("ulla", PASSWORD)
    f.storbinary("STOR new.txt", io.BytesIO(b"new"))
    for action in (lambda: data_bytes(f, "RETR theirs.txt"), lambda: f.nlst(),
                   lambda: f.sendcmd("SIZE theirs.txt")):
        with pytest.raises(ftplib.error_perm, match="550 Permission denied: this account is "
                           "write-only"):
            action()
    with pytest.raises(ftplib.error_perm, match="550 /theirs.txt: File exists, and this account "
                       "may not replace files"):
        f.storbinary("STOR theirs.txt", io.BytesIO(b"overwrite"))
    with pytest.raises(ftplib.error_perm, match="550 Permission denied: this account may upload "
                       "new files but not change or delete any"):
        f.delete("theirs.txt")
    with pytest.raises(ftplib.error_perm, match="550 Permission denied: this account may upload"):
        f.storbinary("APPE theirs.txt", io.BytesIO(b"more"))
    f.quit()
    with open(os.path.join(home, "theirs.txt")) as fh:
        assert fh.read() == "someone else's\n"


def test_guest_after_expiry(srv):
    f = srv.ftp("gina", PASSWORD)
    f.quit()
    srv.set_expired("gina")
    f = srv.ftp(login=False)
    with pytest.raises(ftplib.error_perm, match="530 Login failed: account expired."):
        f.login("gina", PASSWORD)
    f.close()


def test_brute_force_lockout(srv):
    for _ in range(3):
        f = srv.ftp(login=False)
        with pytest.raises(ftplib.error_perm, match="530 Login failed: login incorrect."):
            f.login("bob", "wrong-password")
        f.close()
    f = srv.ftp(login=False)
    with pytest.raises(ftplib.error_perm, match="530 Login failed: too many failed logins; "
                       "try again later."):
        f.login("bob", PASSWORD)     # even the right password, while locked
    f.close()
    assert "result=locked" in srv.log()


def test_login_failures_per_connection(srv):
    s, f = raw(srv.port)
    for i in range(3):
        assert cmd(s, f, "USER nosuch").startswith("331")
        r = cmd(s, f, "PASS bad")
        if i < 2:
            assert r == "530 Login failed: login incorrect.\r\n"
    assert r == "530 Login failed: login incorrect. Too many failures; closing.\r\n"
    assert f.readline() == b""
    s.close()


def test_long_nul_and_bare_lf_lines(srv):
    s, f = raw(srv.port)
    s.sendall(b"USER " + b"a" * (100 * 1024) + b"\r\n")
    assert reply(f) == "500 Command line too long (the limit is 8192 bytes).\r\n"
    s.sendall(b"NOOP\x00x\r\n")
    assert reply(f) == "500 Command line holds a NUL byte.\r\n"
    s.sendall(b"NOOP\n")
    assert reply(f) == "500 Command lines must end with CRLF, not a bare LF.\r\n"
    s.sendall(b"USER anonymous\nPASS x\r\n")
    assert reply(f).startswith("500 Command lines must end with CRLF")
    assert reply(f).startswith("503 Send USER first")
    assert cmd(s, f, "NOOP") == "200 NOOP ok.\r\n"
    s.close()


def test_connection_limit_per_address(tmp_path):
    srv = Ftpd(tmp_path, extra="max_per_ip = 20\n")
    socks, codes = [], []
    try:
        for _ in range(200):
            c = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            socks.append(c)
            codes.append(c.makefile("rb").readline())
        assert codes.count(b"220 inetkit FTP server ready.\r\n") == 20
        assert codes.count(b"421 Too many connections from your address (limit 20); close "
                           b"some and try again.\r\n") == 180
        assert "max_per_ip 20 reached" in srv.log()
        for c in socks:
            c.close()
        socks = []
        deadline = time.time() + 10
        while True:                    # the limit frees up as they go
            try:
                f = srv.ftp()
                f.quit()
                break
            except ftplib.error_temp:
                assert time.time() < deadline
                time.sleep(0.1)
    finally:
        for c in socks:
            c.close()
        srv.stop()


def test_abandoned_pasv_times_out(srv):
    s, f = login_raw(srv.port)
    port = pasv_port(cmd(s, f, "PASV"))
    s.sendall(b"RETR /pub/hello.txt\r\n")
    assert reply(f) == "425 No data connection: nothing connected within 1 seconds.\r\n"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)
    # a passive port nobody uses is closed too, and said so
    port = pasv_port(cmd(s, f, "EPSV"))
    time.sleep(1.5)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)
    assert cmd(s, f, "LIST").startswith("425 The passive port timed out")
    assert cmd(s, f, "NOOP").startswith("200")
    s.close()


def test_abor_and_quit_during_transfer(srv):
    with open(os.path.join(srv.homes["alice"], "big.bin"), "wb") as fh:
        fh.write(os.urandom(16 * 1024 * 1024))
    f = srv.ftp("alice", PASSWORD)
    f.voidcmd("TYPE I")
    conn = f.transfercmd("RETR big.bin")
    conn.recv(1000)
    stat = f.sendcmd("STAT")
    assert "Transferring /big.bin" in stat
    assert f.sendcmd("NOOP").startswith("200")
    with pytest.raises(ftplib.error_perm, match="503 CWD is not allowed during a transfer"):
        f.sendcmd("CWD /")
    assert f.abort().startswith("426 ")          # ftplib sends ABOR as urgent data
    assert f.getresp() == "226 ABOR successful."
    conn.close()
    assert f.sendcmd("NOOP").startswith("200")
    # QUIT waits for the transfer: 226, then 221
    conn = f.transfercmd("RETR big.bin")
    f.putcmd("QUIT")
    n = 0
    while True:
        b = conn.recv(1 << 20)
        if not b:
            break
        n += len(b)
    conn.close()
    assert n == 16 * 1024 * 1024
    assert f.getresp().startswith("226")
    assert f.getresp() == "221 Goodbye."
    f.close()


def test_noop_answered_while_logins_hash(tmp_path):
    srv = Ftpd(tmp_path, accounts="hash_cost = 5\nhash_threads = 1\nlockout_failures = 0\n"
               "lockout_ip_failures = 0\n", users=["carol"])
    try:
        slow = []
        for _ in range(20):
            s, f = raw(srv.port)
            s.sendall(b"USER carol\r\nPASS wrong-password\r\n")
            slow.append((s, f))
        for s, f in slow:
            assert reply(f).startswith("331")
        q, qf = raw(srv.port)
        assert cmd(q, qf, "NOOP") == "200 NOOP ok.\r\n"
        # at that moment most of the 20 answers were still to come
        pending = [s for s, _ in slow if not select.select([s], [], [], 0)[0]]
        assert len(pending) >= 10
        for s, f in slow:
            assert reply(f) == "530 Login failed: login incorrect.\r\n"
            s.close()
        q.close()
    finally:
        srv.stop()

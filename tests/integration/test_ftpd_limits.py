"""Limits of the FTP server: upload quotas (452, the partial file
removed), idle and login timeouts (421), the total session limit, the STAT
output cap, the glob result cap, bandwidth limits, and IPv6 (EPSV/EPRT;
PASV cannot describe an IPv6 address)."""
import ftplib
import io
import os
import signal
import socket
import subprocess
import time

import pytest

from ftpd_env import PASSWORD, Ftpd, cmd, data_bytes, login_raw, raw, reply


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Ftpd(tmp_path_factory.mktemp("ftpd-lim"),
             extra="idle_timeout = 1s\nlogin_timeout = 1s\nstat_max = 2k\nglob_max = 5\n"
                   "download_rate = 256k\nupload_rate = 256k\ndata_timeout = 1s\n"
                   "pasv_ports = 61500-61509\npasv_address = 127.0.0.3\n",
             users=[("quentin", "--quota", "100k")], ipv6=True)
    yield s
    s.stop()


def test_quota(srv):
    home = srv.homes["quentin"]
    with open(os.path.join(home, "old.bin"), "wb") as fh:
        fh.write(b"o" * 40000)
    f = srv.ftp("quentin", PASSWORD)
    f.storbinary("STOR a.bin", io.BytesIO(os.urandom(50000)))
    with pytest.raises(ftplib.error_temp, match="452 Quota exceeded \\(102400 bytes allowed\\); "
                       "the upload was removed."):
        f.storbinary("STOR b.bin", io.BytesIO(os.urandom(30000)))
    assert sorted(n for n in os.listdir(home)) == ["a.bin", "old.bin"]
    with pytest.raises(ftplib.error_temp, match="452 Quota exceeded"):
        f.storbinary("APPE old.bin", io.BytesIO(os.urandom(30000)))
    assert os.path.getsize(os.path.join(home, "old.bin")) == 40000   # given back
    f.delete("a.bin")                      # room again
    f.storbinary("STOR b.bin", io.BytesIO(os.urandom(30000)))
    f.quit()


def test_idle_timeout(srv):
    s, f = login_raw(srv.port)
    assert reply(f) == "421 Timeout: idle for 1 seconds; closing control connection.\r\n"
    assert f.readline() == b""
    s.close()
    s, f = raw(srv.port)
    time.sleep(0.5)
    assert cmd(s, f, "NOOP").startswith("200")     # commands do not extend it
    assert reply(f) == "421 Timeout: no login within 1 seconds; closing.\r\n"
    s.close()


def test_stat_output_is_capped(srv):
    d = os.path.join(srv.root, "pub", "many")
    os.makedirs(d, exist_ok=True)
    for i in range(100):
        open(os.path.join(d, "file-%03d.txt" % i), "w").close()
    s, f = login_raw(srv.port)
    r = cmd(s, f, "STAT /pub/many")
    assert r.startswith("213-") and "file-000.txt" in r and "file-099.txt" not in r
    assert "(output cut at the STAT limit; use LIST for the rest)" in r
    assert cmd(s, f, "PASV").startswith("227")
    assert cmd(s, f, "NLST /pub/many/*.txt") == \
        "550 The pattern matches more than 5 names; narrow it down.\r\n"
    s.close()


def test_rate_limited_transfers_complete(srv):
    data = os.urandom(300000)
    with open(os.path.join(srv.root, "pub", "r.bin"), "wb") as fh:
        fh.write(data)
    f = srv.ftp()
    assert data_bytes(f, "RETR /pub/r.bin") == data
    f.storbinary("STOR /incoming/r.bin", io.BytesIO(data))
    f.quit()
    with open(os.path.join(srv.root, "incoming", "r.bin"), "rb") as fh:
        assert fh.read() == data


def test_ipv6(srv):
    f = ftplib.FTP()
    f.connect("::1", srv.port6, timeout=10)
    f.login()
    with pytest.raises(ftplib.error_perm, match="522 PASV cannot describe an IPv6 address; "
                       "use EPSV."):
        f.sendcmd("PASV")
    assert data_bytes(f, "RETR /pub/hello.txt") == b"hello, world\n"   # ftplib uses EPSV
    f.quit()
    out = subprocess.run(["curl", "-sS", "-g", "--ftp-port", "::1",
                          "ftp://[::1]:%d/pub/hello.txt" % srv.port6],
                         stdout=subprocess.PIPE, timeout=30).stdout
    assert out == b"hello, world\n"


def test_session_limit_total(tmp_path):
    s = Ftpd(tmp_path, extra="max_sessions = 2\n")
    try:
        held = []
        while len(held) < 2:           # the start-up probe may still be counted
            c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            if c.makefile("rb").readline().startswith(b"220"):
                held.append(c)
            else:
                c.close()
                time.sleep(0.05)
        a, b = held
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        line = c.makefile("rb").readline()
        assert line == (b"421 Too many users: the server is full (2 sessions); try again "
                        b"later.\r\n")
        for x in (a, b, c):
            x.close()
    finally:
        s.stop()


def test_pasv_range_and_address(srv):
    s, f = login_raw(srv.port)
    for _ in range(3):
        r = cmd(s, f, "PASV")
        assert r.startswith("227 Entering Passive Mode (127,0,0,3,")
        nums = r[r.index("(") + 1:r.index(")")].split(",")
        assert 61500 <= int(nums[4]) * 256 + int(nums[5]) <= 61509
        r = cmd(s, f, "EPSV")
        assert 61500 <= int(r.split("|||")[1].split("|")[0]) <= 61509
    s.close()


def test_data_timeout(srv):
    f = srv.ftp()
    conn = f.transfercmd("STOR /incoming/stalled.bin")
    conn.sendall(b"x" * 1000)          # then nothing more, connection kept open
    with pytest.raises(ftplib.error_temp, match="426 Data connection timed out \\(1 s without "
                       "progress\\); transfer aborted."):
        f.voidresp()
    conn.close()
    f.quit()
    assert not os.path.exists(os.path.join(srv.root, "incoming", "stalled.bin"))


def _hold(port, n, deadline=10.0):
    """n control connections that got the greeting (a refused one, e.g.
    while the start-up probe is still counted, is retried)."""
    held, end = [], time.monotonic() + deadline
    while len(held) < n:
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        if c.makefile("rb").readline().startswith(b"220"):
            held.append(c)
        else:
            c.close()
            assert time.monotonic() < end, "could not open %d sessions" % n
            time.sleep(0.05)
    return held


PER_IP_421 = b"421 Too many connections from your address (limit 3); close some and try again.\r\n"


def test_per_ip_limit_holds_across_workers(tmp_path):
    s = Ftpd(tmp_path, extra="max_per_ip = 3\n", workers=2)
    try:
        held = _hold(s.port, 3)
        # With SO_REUSEPORT these land on either worker: each must refuse.
        for _ in range(3):
            c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            assert c.makefile("rb").readline() == PER_IP_421
            c.close()
        held.pop().close()
        held += _hold(s.port, 1)       # the freed place is taken again
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        assert c.makefile("rb").readline() == PER_IP_421
        c.close()
        for x in held:
            x.close()
    finally:
        s.stop()


def test_session_limit_total_across_workers(tmp_path):
    s = Ftpd(tmp_path, extra="max_sessions = 2\n", workers=2)
    try:
        held = _hold(s.port, 2)
        for _ in range(6):             # spread over both workers
            c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            assert c.makefile("rb").readline() == (
                b"421 Too many users: the server is full (2 sessions); try again later.\r\n")
            c.close()
        for x in held:
            x.close()
    finally:
        s.stop()


def _children(pid):
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as fh:
                    st = fh.read()
            except OSError:
                continue
            if int(st.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(d))
    return kids


def test_killed_worker_counts_are_cleared(tmp_path):
    s = Ftpd(tmp_path, extra="max_per_ip = 3\n", workers=2)
    try:
        held = _hold(s.port, 3)
        kids = _children(s.proc.pid)
        assert len(kids) == 2
        os.kill(kids[0], signal.SIGKILL)
        alive = []
        for c in held:                 # the killed worker's sessions end with it
            c.settimeout(0.5)
            try:
                gone = c.recv(1) == b""
            except socket.timeout:
                gone = False
            except OSError:
                gone = True
            if gone:
                c.close()
            else:
                alive.append(c)
        # Its replacement clears what it held: the whole limit is free again.
        held = alive + _hold(s.port, 3 - len(alive))
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        assert c.makefile("rb").readline() == PER_IP_421
        c.close()
        for x in held:
            x.close()
    finally:
        s.stop()

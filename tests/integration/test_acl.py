"""allow/deny by client address, for every service: `inetkit ftpd`
([ftp] and --allow/--deny), `tcp listen`, `udp listen` and serve's
[tcp-echo], [udp-echo] and [ftp]. 127.0.0.1 and 127.0.0.2 are both
loopback: a client socket bound to 127.0.0.2 is a second source address.
A refused TCP client is closed before any byte is sent (no greeting, no
session slot), counted and logged; a refused datagram gets no answer.
SIGHUP puts new lists in force."""
import os
import re
import signal
import socket
import subprocess
import time

from conftest import BIN, free_port, run
from ftpd_env import Ftpd
from test_reload_gaps import wait_for
from test_serve import Serve, conf_text, echo_tcp
from test_tcp import listen
from test_udp import udp_listen

OTHER = "127.0.0.2"


def connect_from(port, src):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def first_bytes(port, src):
    """What a client from src reads first: a line, or b"" when it is
    closed without a word."""
    with connect_from(port, src) as s:
        out = b""
        try:
            while not out.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                out += chunk
        except ConnectionResetError:
            pass
        return out


def echo_from(port, src, data=b"ping\n"):
    with connect_from(port, src) as s:
        return echo_tcp(port, data, sock=s)


def udp_from(port, src, data=b"ping"):
    """The answer to one datagram from src."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((src, 0))
        s.settimeout(5)
        s.sendto(data, ("127.0.0.1", port))
        return s.recvfrom(2048)[0]


def udp_unanswered(port, src, served):
    """Whether a datagram from src goes unanswered. No waiting for a
    silence: a datagram from served follows it, and once that one's
    answer is back the server has dealt with the first (in order, and
    loopback delivers at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((src, 0))
        s.sendto(b"first", ("127.0.0.1", port))
        assert udp_from(port, served, b"second") == b"second"
        s.setblocking(False)
        try:
            s.recvfrom(2048)
            return False
        except BlockingIOError:
            return True


# ---- inetkit ftpd ------------------------------------------------------------

def test_ftpd_deny_closes_before_the_greeting(tmp_path):
    # one session at most: refused clients must not take it
    s = Ftpd(tmp_path, extra="deny = %s\nmax_sessions = 1\n" % OTHER)
    try:
        for _ in range(3):
            assert first_bytes(s.port, OTHER) == b""
        assert first_bytes(s.port, "127.0.0.1") == b"220 inetkit FTP server ready.\r\n"
        wait_for(lambda: s.log().count("event=refused ") == 3, s.log)
        assert re.search(r"level=notice event=refused service=ftp reason=deny "
                         r"client=127\.0\.0\.2:\d+ refused=3\n", s.log()), s.log()
        assert "event=ftp_refused" not in s.log()      # not a session limit
    finally:
        s.stop()


def test_ftpd_allow_and_reload(tmp_path):
    s = Ftpd(tmp_path, extra="allow = 127.0.0.1/32, ::1\n")
    try:
        assert first_bytes(s.port, OTHER) == b""
        assert "reason=not_allowed client=127.0.0.2:" in s.log()
        assert first_bytes(s.port, "127.0.0.1").startswith(b"220 ")
        # SIGHUP: now everyone but 127.0.0.1
        with open(s.conf) as f:
            text = f.read()
        with open(s.conf, "w") as f:
            f.write(text.replace("allow = 127.0.0.1/32, ::1\n", "deny = 127.0.0.1\n"))
        s.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "event=reloaded" in s.log(), s.log)
        assert first_bytes(s.port, OTHER).startswith(b"220 ")
        assert first_bytes(s.port, "127.0.0.1") == b""
        # the count goes on across the reload
        wait_for(lambda: "reason=deny client=127.0.0.1:" in s.log(), s.log)
        assert re.search(r"reason=deny client=127\.0\.0\.1:\d+ refused=2\n", s.log())
    finally:
        s.stop()


def test_ftpd_quick_options(tmp_path):
    port = free_port()
    root = tmp_path / "pub"
    root.mkdir()
    p = run("ftpd", "--root", root, "--listen", "127.0.0.1:%d" % port, "--allow",
            "127.0.0.0/8", "--deny", OTHER, "--state-dir", tmp_path / "none", "--user", "root",
            "--check", check=0)
    assert p.stdout == "(inetkit ftpd options): valid\n"
    p = run("ftpd", "--root", root, "--deny", "127.0.0.2/8", check=2)
    assert p.stderr == ("inetkit ftpd: --deny: '127.0.0.2/8' has host bits set: write "
                        "127.0.0.0/8 (or the address alone for one host)\n"
                        "Try 'inetkit ftpd --help'.\n")
    p = run("ftpd", "--config", tmp_path / "x.conf", "--allow", "127.0.0.1", check=2)
    assert "--config cannot be combined with the quick options" in p.stderr
    log = open(tmp_path / "log", "wb")
    proc = subprocess.Popen([BIN, "ftpd", "--root", str(root), "--listen",
                             "127.0.0.1:%d" % port, "--deny", OTHER, "--state-dir",
                             str(tmp_path / "none"), "--user", "root"], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                got = first_bytes(port, "127.0.0.1")
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        assert got.startswith(b"220 ")
        assert first_bytes(port, OTHER) == b""
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
    assert "event=refused service=ftp reason=deny client=127.0.0.2:" in \
        (tmp_path / "log").read_text()


# ---- tcp listen, udp listen --------------------------------------------------

def test_tcp_listen_allow_deny():
    with listen("--allow", "127.0.0.0/8", "--deny", OTHER, "--log") as srv:
        assert echo_from(srv.port, "127.0.0.1") == b"ping\n"
        assert first_bytes(srv.port, OTHER) == b""
        srv.wait_log(r"event=refused service=tcp reason=deny client=127\.0\.0\.2:\d+ refused=1$")
    with listen("--allow", "127.0.0.1") as srv:
        assert first_bytes(srv.port, OTHER) == b""
        assert echo_from(srv.port, "127.0.0.1") == b"ping\n"
        srv.wait_log(r"event=refused service=tcp reason=not_allowed client=127\.0\.0\.2:")


def test_tcp_listen_bad_cidr_is_usage_error():
    p = run("tcp", "listen", "--allow", "10.0.0.0/40", "127.0.0.1:0", check=2)
    assert p.stderr.startswith("inetkit tcp: --allow: '10.0.0.0/40' is not a CIDR or an "
                               "address: ")
    p = run("tcp", "listen", "--help", check=0)
    assert "  --allow CIDR      take only clients in CIDR" in p.stdout
    assert "  --deny CIDR       refuse clients in CIDR" in p.stdout


def test_udp_listen_drops_refused_datagrams():
    with udp_listen("--deny", OTHER) as srv:
        assert udp_from(srv.port, "127.0.0.1") == b"ping"
        assert udp_unanswered(srv.port, OTHER, "127.0.0.1")
        _, _, err = srv.stop()
    assert "event=udp_stats proto=udp datagrams=2 truncated=0 dropped=0 refused=1" in err
    with udp_listen("--allow", "127.0.0.1") as srv:
        assert udp_unanswered(srv.port, OTHER, "127.0.0.1")
    p = run("udp", "listen", "--deny", "nope", "127.0.0.1:0", check=2)
    assert p.stderr.startswith("inetkit udp: --deny: 'nope' is not a CIDR or an address: ")


# ---- serve: every service section ------------------------------------------

def test_serve_sections_and_reload(tmp_path):
    port, ftp_port = free_port(), free_port()
    conf = tmp_path / "ik.conf"

    def text(tcp, udp, ftp):
        return conf_text(tmp_path / "var", port, extra="[ftp]\nlisten = 127.0.0.1:%d\n%s"
                         % (ftp_port, ftp)).replace(
            "[udp-echo]\n", "[udp-echo]\n" + udp).replace("[tcp-echo]\n", "[tcp-echo]\n" + tcp)
    conf.write_text(text("deny = 127.0.0.2\n", "deny = 127.0.0.2\n", "allow = 127.0.0.1\n"))
    s = Serve(conf, port)
    try:
        s.wait_log("event=worker_ready")
        assert echo_from(port, "127.0.0.1") == b"ping\n"
        assert first_bytes(port, OTHER) == b""
        assert udp_unanswered(port, OTHER, "127.0.0.1")
        assert first_bytes(ftp_port, "127.0.0.1").startswith(b"220 ")
        assert first_bytes(ftp_port, OTHER) == b""
        s.wait_log("event=refused service=tcp-echo reason=deny client=127.0.0.2:")
        s.wait_log("event=refused service=ftp reason=not_allowed client=127.0.0.2:")
        # The lists swap over: 127.0.0.2 in, 127.0.0.1 out.
        conf.write_text(text("allow = 127.0.0.2\n", "allow = 127.0.0.2/32\n",
                             "deny = 127.0.0.1\n"))
        s.proc.send_signal(signal.SIGHUP)
        s.wait_log("event=reloaded config=%s services=3" % conf)
        assert echo_from(port, OTHER) == b"ping\n"
        assert first_bytes(port, "127.0.0.1") == b""
        assert udp_unanswered(port, "127.0.0.1", OTHER)
        assert first_bytes(ftp_port, OTHER).startswith(b"220 ")
        assert first_bytes(ftp_port, "127.0.0.1") == b""
        # An invalid list: the whole reload is refused, the lists stay.
        conf.write_text(text("allow = 127.0.0.2\n", "allow = 127.0.0.2/32\n",
                             "deny = 127.0.0.1/8\n"))
        s.proc.send_signal(signal.SIGHUP)
        s.wait_log("event=reload_failed")
        assert ("[ftp] deny: '127.0.0.1/8' has host bits set: write 127.0.0.0/8 (or the "
                "address alone for one host)") in s.log()
        assert echo_from(port, OTHER) == b"ping\n"
        assert first_bytes(ftp_port, "127.0.0.1") == b""
        assert s.stop() == 0
    finally:
        if s.proc.poll() is None:
            s.stop()


def test_serve_check_names_the_bad_entry(tmp_path):
    conf = tmp_path / "ik.conf"
    conf.write_text(conf_text(tmp_path / "var", 9).replace(
        "[udp-echo]\n", "[udp-echo]\nallow = 127.0.0.1, fe80::1%lo\n"))
    p = run("serve", "--check", "--config", conf, check=2)
    assert p.stderr == ("inetkit serve: %s:12: [udp-echo] allow: 'fe80::1%%lo': a zone id "
                        "cannot be matched here; write the address without '%%lo'\n" % conf)
    assert os.path.exists(conf)

"""inetkit tcp relay and udp relay: port forwarders between real clients
(Python sockets and ssl, curl, socat) and real servers (Python's
http.server, a Python echo, inetkit's own TLS listener): bytes intact both
ways, half-close, a target that is down, limits, TLS on either side, UNIX
sockets, and the log line per connection."""
import hashlib
import os
import re
import select
import socket
import ssl
import subprocess
import sys
import threading
import time

import pytest

from conftest import BIN, free_port, run
from test_tcp import LOCAL, Listener, listen, pki, recv_all, recv_until  # noqa: F401 (pki: fixture)

MIB16 = 16 * 1024 * 1024


def relay(*args, port=None, host=LOCAL):
    """`inetkit tcp relay ARGS HOST:PORT TARGET`: args end with the target."""
    port = port or free_port()
    args = [str(a) for a in args]
    spec = "%s:%d" % (host, port)
    return Listener(["tcp", "relay"] + args[:-1] + [spec, args[-1]], port)


class PyServer:
    """A textbook threaded TCP server on loopback; handler(conn) per client."""

    def __init__(self, handler, family=socket.AF_INET, path=None):
        self.ls = socket.socket(family, socket.SOCK_STREAM)
        if path is not None:
            self.ls.bind(path)
            self.target = "unix:" + path
        else:
            self.ls.bind((LOCAL, 0))
            self.port = self.ls.getsockname()[1]
            self.target = "%s:%d" % (LOCAL, self.port)
        self.ls.listen(16)
        self.handler = handler
        self.peers = []
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        while True:
            try:
                c, peer = self.ls.accept()
            except OSError:
                return
            self.peers.append(peer)
            threading.Thread(target=self.handle, args=(c,), daemon=True).start()

    def handle(self, c):
        try:
            self.handler(c)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        try:
            self.ls.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.ls.close()


def echo(c):
    while True:
        data = c.recv(65536)
        if not data:
            return
        c.sendall(data)


def send_and_collect(s, data):
    """Send data and half-close while reading everything back."""
    got = []
    t = threading.Thread(target=lambda: got.append(recv_all(s, limit=len(data) + 1)))
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(60)
    return got[0] if got else None


# ---- usage ----------------------------------------------------------------

def first_line(p):
    return p.stderr.splitlines()[0] if p.stderr else ""


def test_help_and_usage_errors():
    p = run("tcp", "relay", "--help", check=0)
    assert p.stdout.startswith("Usage: inetkit tcp relay [OPTIONS] LISTEN... TARGET\n")
    p = run("tcp", "relay", "127.0.0.1:9", check=2)
    assert first_line(p) == ("inetkit tcp: missing the TARGET address (HOST:PORT or unix:PATH) "
                        "after LISTEN")
    p = run("tcp", "relay", "127.0.0.1:0", "8080", check=2)
    assert first_line(p) == "inetkit tcp: target '8080': name the host, as HOST:PORT (or unix:PATH)"
    p = run("tcp", "relay", "127.0.0.1:0", "127.0.0.1:70000", check=2)
    assert first_line(p) == ("inetkit tcp: target: '127.0.0.1:70000': port '70000' is not a number "
                        "from 0 to 65535")
    p = run("tcp", "relay", "-s", "::1", "127.0.0.1:0", "127.0.0.1:80", check=2)
    assert first_line(p) == ("inetkit tcp: --source ::1 is IPv6 but the target 127.0.0.1:80 has no "
                        "IPv6 address")
    p = run("tcp", "relay", "--insecure", "--cacert", "x.pem", "127.0.0.1:0", "127.0.0.1:80",
            check=2)
    assert "--insecure and --cacert contradict each other" in p.stderr
    p = run("udp", "relay", "--help", check=0)
    assert p.stdout.startswith("Usage: inetkit udp relay [OPTIONS] LISTEN... TARGET\n")


# ---- bytes, half-close, the log line -------------------------------------

def test_16mib_both_ways_intact_and_logged():
    data = os.urandom(MIB16)
    back = PyServer(echo)
    try:
        with relay("--log", back.target) as r:
            with socket.create_connection((LOCAL, r.port), timeout=30) as s:
                got = send_and_collect(s, data)
            assert got is not None and hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
            m = r.wait_log(r"event=relay proto=tcp .*")
    finally:
        back.close()
    assert re.search(r"event=relay proto=tcp client=127\.0\.0\.1:\d+ target=%s up=16777216 "
                     r"down=16777216 ms=\d+ end=eof$" % re.escape(back.target), m.group(0)), m.group(0)


def test_half_close_reaches_the_target_and_the_answer_comes_back():
    """The client's FIN becomes the target's EOF; the target then answers
    on the direction that is still open."""
    def count_then_answer(c):
        n = len(recv_all(c))
        c.sendall(b"got %d bytes\n" % n)

    back = PyServer(count_then_answer)
    try:
        with relay(back.target) as r:
            with socket.create_connection((LOCAL, r.port), timeout=10) as s:
                s.sendall(b"x" * 300000)
                s.shutdown(socket.SHUT_WR)
                assert recv_all(s) == b"got 300000 bytes\n"
    finally:
        back.close()


def test_socat_client_through_the_relay():
    back = PyServer(echo)
    try:
        with relay(back.target) as r:
            p = subprocess.run(["socat", "-t", "5", "-", "TCP:127.0.0.1:%d" % r.port],
                               input=b"through socat and the relay\n", stdout=subprocess.PIPE,
                               timeout=20)
            assert p.stdout == b"through socat and the relay\n"
    finally:
        back.close()


def test_curl_through_the_relay_to_python_http_server(tmp_path):
    body = os.urandom(3 * 1024 * 1024)
    (tmp_path / "blob.bin").write_bytes(body)
    port = free_port()
    http = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", LOCAL, str(port)],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from conftest import wait_port
        wait_port(port, proc=http)
        with relay("--log", "%s:%d" % (LOCAL, port)) as r:
            p = subprocess.run(["curl", "-sS", "--max-time", "20",
                                "http://127.0.0.1:%d/blob.bin" % r.port],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            assert p.returncode == 0, p.stderr
            assert p.stdout == body
            m = r.wait_log(r"event=relay .*")
        assert re.search(r"down=3145\d{3} ", m.group(0)), m.group(0)
    finally:
        http.terminate()
        http.wait()


# ---- faults and limits ----------------------------------------------------

def test_target_down_closes_client_and_logs():
    port = free_port()
    with relay("--log", "%s:%d" % (LOCAL, port)) as r:
        with socket.create_connection((LOCAL, r.port), timeout=10) as s:
            s.sendall(b"anyone there?\n")
            assert recv_all(s) == b""
        r.wait_log(r"event=relay ")
        _, _, err = r.stop()
    assert re.search(r"level=warning event=relay_failed proto=tcp client=127\.0\.0\.1:\d+ "
                     r"target=127\.0\.0\.1:%d reason=\"connection refused\"" % port, err), err
    assert re.search(r"level=info event=relay proto=tcp client=127\.0\.0\.1:\d+ "
                     r"target=127\.0\.0\.1:%d up=0 down=0 ms=\d+ end=\"cannot connect to the "
                     r"target: connection refused\"" % port, err), err


def test_max_conns_refuses_the_next_client():
    hold = threading.Event()

    def wait_then_echo(c):
        hold.wait(10)
        echo(c)

    back = PyServer(wait_then_echo)
    try:
        with relay("--max-conns", "1", back.target) as r:
            first = socket.create_connection((LOCAL, r.port), timeout=10)
            first.sendall(b"first\n")
            time.sleep(0.3)
            second = socket.create_connection((LOCAL, r.port), timeout=10)
            try:
                assert second.recv(10) == b""
            except ConnectionResetError:
                pass
            second.close()
            hold.set()
            assert recv_until(first, b"\n") == b"first\n"
            first.close()
            r.wait_log(r"event=refuse")
            _, _, err = r.stop()
    finally:
        hold.set()
        back.close()
    assert re.search(r"level=warning event=refuse proto=tcp peer=127\.0\.0\.1:\d+ "
                     r"reason=\"max-conns 1 reached\"", err), err
    assert len(back.peers) == 1     # the refused client never reached the target


def test_target_reset_closes_the_client():
    def reset(c):
        c.recv(10)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    back = PyServer(reset)
    try:
        with relay("--log", back.target) as r:
            with socket.create_connection((LOCAL, r.port), timeout=10) as s:
                s.sendall(b"boom\n")
                try:
                    assert recv_all(s) == b""
                except ConnectionResetError:
                    pass
            m = r.wait_log(r"event=relay .*")
    finally:
        back.close()
    assert 'end="target: read error: connection reset by peer"' in m.group(0), m.group(0)


def test_stop_with_open_relay_exits_0():
    back = PyServer(echo)
    try:
        r = relay(back.target)
        s = socket.create_connection((LOCAL, r.port), timeout=10)
        s.sendall(b"x\n")
        assert recv_until(s, b"\n") == b"x\n"
        code, _, _ = r.stop()
        assert code == 0
        s.close()
    finally:
        back.close()


# ---- TLS -----------------------------------------------------------------


def tls_exchange(s, data, timeout=30):
    """Send data over the TLS socket s while reading what comes back, from
    one thread, until as many bytes came back as were sent."""
    s.setblocking(False)
    sent, got = 0, bytearray()
    deadline = time.monotonic() + timeout
    while len(got) < len(data) and time.monotonic() < deadline:
        want_w = sent < len(data)
        r, w, _ = select.select([s], [s] if want_w else [], [], 1.0)
        if r or s.pending():
            try:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
        if w and sent < len(data):
            try:
                sent += s.send(data[sent:sent + 16384])
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
    s.setblocking(True)
    return bytes(got)


def test_tls_listen_python_ssl_client(pki):
    back = PyServer(echo)
    try:
        with relay("--log", "--cert", pki / "good.pem", "--key", pki / "good.key",
                   back.target) as r:
            ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
            with socket.create_connection((LOCAL, r.port), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    # One thread: an SSL object must not be read and written
                    # from two threads at once (that made this test flaky).
                    data = os.urandom(1024 * 1024)
                    got = tls_exchange(s, data)
                    assert got == data
                    assert s.version() in ("TLSv1.3", "TLSv1.2")
            m = r.wait_log(r"event=relay .*")
    finally:
        back.close()
    assert "up=1048576 down=1048576" in m.group(0), m.group(0)


def test_tls_target_verified_and_refused(pki):
    with listen("--cert", pki / "good.pem", "--key", pki / "good.key") as tls_echo:
        target = "localhost:%d" % tls_echo.port
        with relay("--tls-target", "--cacert", pki / "ca.pem", target) as r:
            p = run("tcp", "connect", LOCAL, r.port, input="plain in, TLS out\n", check=0)
            assert p.stdout == "plain in, TLS out\n"
        with relay("--log", "--tls-target", target) as r:    # the system CAs: not ours
            with socket.create_connection((LOCAL, r.port), timeout=10) as s:
                s.sendall(b"x\n")
                assert recv_all(s) == b""
            m = r.wait_log(r"event=relay .*")
    assert 'end="target: tls: certificate verify failed: unable to get local issuer ' \
           'certificate"' in m.group(0), m.group(0)


# ---- UNIX-domain sockets and the source address ---------------------------

def test_unix_listen_to_tcp_and_tcp_to_unix(tmp_path):
    path = str(tmp_path / "back.sock")
    back = PyServer(echo, family=socket.AF_UNIX, path=path)
    front = str(tmp_path / "front.sock")
    try:
        # TCP clients to a UNIX-socket server.
        with relay(back.target) as r:
            with socket.create_connection((LOCAL, r.port), timeout=10) as s:
                assert send_and_collect(s, b"tcp to unix\n") == b"tcp to unix\n"
        # A UNIX-socket front for a TCP server; the socket file goes at exit.
        tcp_back = PyServer(echo)
        port = free_port()
        r = Listener(["tcp", "relay", "--log", "unix:" + front, tcp_back.target], port)
        try:
            assert oct(os.stat(front).st_mode & 0o777) == "0o600"
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(10)
                s.connect(front)
                assert send_and_collect(s, b"unix to tcp\n") == b"unix to tcp\n"
            m = r.wait_log(r"event=relay .*")
            assert re.search(r"client=unix: target=127\.0\.0\.1:\d+ up=12 down=12 ", m.group(0))
        finally:
            r.stop()
            tcp_back.close()
        assert not os.path.exists(front)
    finally:
        back.close()


def test_source_address_seen_by_target():
    back = PyServer(echo)
    try:
        with relay("-s", "127.0.0.2", back.target) as r:
            with socket.create_connection((LOCAL, r.port), timeout=10) as s:
                assert send_and_collect(s, b"from .2\n") == b"from .2\n"
    finally:
        back.close()
    assert back.peers[0][0] == "127.0.0.2"


# ---- UDP -----------------------------------------------------------------

def udp_relay(*args):
    port = free_port(kind=socket.SOCK_DGRAM)
    args = [str(a) for a in args]
    return Listener(["udp", "relay"] + args[:-1] + ["%s:%d" % (LOCAL, port), args[-1]], port), port


def test_udp_relay_each_client_its_own_socket_then_idle():
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.bind((LOCAL, 0))
    back.settimeout(5)
    r, port = udp_relay("--log", "--idle-timeout", "1", "%s:%d" % back.getsockname())
    try:
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for s in (a, b):
            s.settimeout(5)
        a.sendto(b"from a", (LOCAL, port))
        data, pa = back.recvfrom(100)
        assert data == b"from a"
        b.sendto(b"from b", (LOCAL, port))
        data, pb = back.recvfrom(100)
        assert data == b"from b" and pa != pb     # one upstream socket per client
        back.sendto(b"to a", pa)
        back.sendto(b"to b", pb)
        assert a.recvfrom(100) == (b"to a", (LOCAL, port))
        assert b.recvfrom(100) == (b"to b", (LOCAL, port))
        m = r.wait_log(r"event=relay proto=udp .*end=idle", timeout=10)
        assert re.search(r"up=6 down=4 up_datagrams=1 down_datagrams=1 ms=\d+ end=idle",
                         m.group(0)), m.group(0)
        a.close()
        b.close()
    finally:
        r.stop()
        back.close()


def test_udp_relay_target_refused_logged():
    dead = free_port(kind=socket.SOCK_DGRAM)
    r, port = udp_relay("%s:%d" % (LOCAL, dead))
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"hello?", (LOCAL, port))
            r.wait_log(r"event=relay_failed")
    finally:
        _, _, err = r.stop()
    assert re.search(r"level=warning event=relay_failed proto=udp client=127\.0\.0\.1:\d+ "
                     r"target=127\.0\.0\.1:%d reason=\"connection refused \(ICMP port "
                     r"unreachable\)\"" % dead, err), err

"""inetkit udp: the server against Python's textbook UDP client, the
client against a Python UDP server, the datagram size limits, truncation
reports and the load generator."""
import json
import os
import re
import select
import signal
import socket
import threading
import time

from conftest import Server, free_port, run

LOCAL = "127.0.0.1"


class UdpListener(Server):
    """`inetkit udp listen ...`, ready once it logs event=listen."""

    def __init__(self, args, port):
        super().__init__(["udp", "listen"] + [str(a) for a in args], port=port, wait=False)
        self.early = ""
        deadline = time.monotonic() + 10
        while "event=listen" not in self.early:
            line = self.proc.stderr.readline().decode("utf-8", "replace")
            if not line:
                raise RuntimeError("server exited: %s" % self.early)
            self.early += line
            assert time.monotonic() < deadline

    def read_stdout_line(self, timeout=5):
        """One line of stdout (read from the fd, not Python's buffer)."""
        buf = getattr(self, "outbuf", b"")
        deadline = time.monotonic() + timeout
        while b"\n" not in buf:
            r, _, _ = select.select([self.proc.stdout.fileno()], [], [],
                                    max(0, deadline - time.monotonic()))
            assert r, "no output from the server"
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            assert chunk, "server closed stdout"
            buf += chunk
        line, _, self.outbuf = buf.partition(b"\n")
        return line.decode("utf-8", "replace") + "\n"

    def stop(self, sig=signal.SIGTERM, timeout=10):
        code, out, err = super().stop(sig, timeout)
        self.stderr = self.early + err
        return code, out, self.stderr


def udp_listen(*args, host=LOCAL):
    port = free_port(kind=socket.SOCK_DGRAM)
    spec = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
    return UdpListener(list(args) + [spec], port)


class PyUdpServer:
    """The textbook UDP server: recvfrom, answer in upper case."""

    def __init__(self, family=socket.AF_INET, host=LOCAL, answer=True):
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.got = []
        self.answer = answer
        self.stop_flag = False
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        self.sock.settimeout(0.1)
        while not self.stop_flag:
            try:
                data, peer = self.sock.recvfrom(70000)
            except socket.timeout:
                continue
            self.got.append(data)
            if self.answer:
                self.sock.sendto(data.upper(), peer)

    def close(self):
        self.stop_flag = True
        self.t.join()
        self.sock.close()


def test_help():
    p = run("udp", "--help", check=0)
    assert p.stdout.startswith("Usage: inetkit udp listen")
    for action in ("listen", "send", "relay", "scan", "bench"):
        p = run("udp", action, "--help", check=0)
        assert p.stdout.startswith("Usage: inetkit udp %s" % action)
    p = run("help", "udp", env={"MANWIDTH": "80"}, check=0)
    assert "65,507" in p.stdout


def test_python_client_gets_echo():
    with udp_listen() as srv:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(5)
            for msg in (b"hello", b"", b"x" * 65507):
                s.sendto(msg, (LOCAL, srv.port))
                data, peer = s.recvfrom(70000)
                assert data == msg and peer == (LOCAL, srv.port)


def test_echo_ipv6():
    with udp_listen(host="::1") as srv:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.settimeout(5)
            s.sendto(b"six", ("::1", srv.port))
            assert s.recvfrom(100)[0] == b"six"
        p = run("udp", "send", "--timeout", "500ms", "::1", srv.port, "via send", check=0)
        assert p.stdout == "via send\n"


def test_send_to_python_server():
    py = PyUdpServer()
    try:
        p = run("udp", "send", "--timeout", "500ms", LOCAL, py.port, "hello udp", check=0)
        assert p.stdout == "HELLO UDP\n"
        p = run("udp", "send", "--timeout", "500ms", LOCAL, py.port, input="one\ntwo\r\nthree",
                check=0)
        assert p.stdout == "ONE\nTWO\nTHREE\n"
        assert py.got == [b"hello udp", b"one", b"two", b"three"]
    finally:
        py.close()


def test_oversized_message_refused_nothing_sent():
    py = PyUdpServer()
    try:
        p = run("udp", "send", LOCAL, py.port, "x" * 65508, check=2)
        assert p.stderr == ("inetkit udp: the message is 65508 bytes; one UDP datagram over IPv4 "
                            "holds at most 65507 bytes; nothing was sent\n")
        p = run("udp", "send", LOCAL, py.port, input="ok\n" + "y" * 70000 + "\n", check=2)
        assert p.stderr == ("inetkit udp: line 2 of stdin is more than 65507 bytes; one UDP "
                            "datagram over IPv4 holds at most 65507 bytes; nothing of it was sent\n")
        time.sleep(0.3)
        assert py.got == [b"ok"]
        # The largest datagram that fits goes through whole.
        p = run("udp", "send", "--timeout", "500ms", LOCAL, py.port, "z" * 65507, check=0)
        assert p.stdout == "Z" * 65507 + "\n"
    finally:
        py.close()


def test_oversized_ipv6_limit():
    py = PyUdpServer(socket.AF_INET6, "::1", answer=False)
    try:
        p = run("udp", "send", "::1", py.port, "x" * 65528, check=2)
        assert p.stderr == ("inetkit udp: the message is 65528 bytes; one UDP datagram over IPv6 "
                            "holds at most 65527 bytes; nothing was sent\n")
        time.sleep(0.2)
        assert py.got == []
    finally:
        py.close()


def test_send_nobody_listening_exit_1():
    port = free_port(kind=socket.SOCK_DGRAM)
    p = run("udp", "send", LOCAL, port, "anyone?", check=1)
    assert p.stderr == ("inetkit udp: nothing listens on 127.0.0.1:%d (port unreachable: "
                        "connection refused)\n" % port)


def test_port_errors_exit_2():
    p = run("udp", "send", LOCAL, "65536", "x", check=2)
    assert "port '65536' is not a number from 1 to 65535" in p.stderr
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOCAL, 0))
        port = s.getsockname()[1]
        p = run("udp", "listen", "%s:%d" % (LOCAL, port), check=2)
    assert p.stderr.startswith(
        "inetkit udp: cannot listen on 127.0.0.1:%d (udp): address already in use" % port)


def test_print_mode():
    with udp_listen("--print") as srv:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            me = None
            for msg in (b"plain text\n", b"tab\there\\ and \x01 ctl"):
                s.sendto(msg, (LOCAL, srv.port))
                me = s.getsockname()[1]
            assert srv.read_stdout_line() == "[127.0.0.1:%d] plain text\n" % me
            assert srv.read_stdout_line() == "[127.0.0.1:%d] tab\there\\\\ and \\x01 ctl\n" % me


def test_truncated_datagram_reported():
    with udp_listen("--print", "--buffer", "16") as srv:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"0123456789abcdefTHE REST IS CUT", (LOCAL, srv.port))
            me = s.getsockname()[1]
            assert srv.read_stdout_line() == \
                "[127.0.0.1:%d] 0123456789abcdef [truncated: 16 of 31 bytes]\n" % me
        _, _, err = srv.stop()
    assert re.search(r"level=warning event=truncated proto=udp peer=127\.0\.0\.1:%d got=16 "
                     r"size=31 hint=\"raise --buffer\"" % me, err), err


def test_truncated_datagram_not_echoed():
    with udp_listen("--buffer", "8") as srv:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.5)
            s.sendto(b"too long for eight", (LOCAL, srv.port))
            s.sendto(b"fits", (LOCAL, srv.port))
            assert s.recvfrom(100)[0] == b"fits"    # the cut one never comes back
        _, _, err = srv.stop()
    assert "event=truncated proto=udp" in err and "got=8 size=18" in err


def test_bench_quick_json():
    with udp_listen() as srv:
        p = run("udp", "bench", "--conns", "4", "--requests", "400", "--json", LOCAL, srv.port,
                check=0)
    j = json.loads(p.stdout)
    assert j["proto"] == "udp" and j["requests"] == 400 and j["errors"] == 0
    assert j["bytes_received"] == 400 * 64


def test_many_clients_at_once():
    with udp_listen() as srv:
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(50)]
        try:
            for i, s in enumerate(socks):
                s.sendto(b"client %d" % i, (LOCAL, srv.port))
            for i, s in enumerate(socks):
                s.settimeout(5)
                assert s.recvfrom(100)[0] == b"client %d" % i
        finally:
            for s in socks:
                s.close()


def test_stop_exit_0():
    with udp_listen() as srv:
        code, _, _ = srv.stop()
    assert code == 0
    assert os.path.exists("/proc/self")


def test_scan_open_closed_and_silent():
    """An echo answers (open), nobody bound gets ICMP port unreachable
    (closed), a socket that never answers stays open|filtered."""
    silent = None
    with udp_listen() as srv:
        # The silent socket next to the echo, so that the range scanned is
        # a few ports, not thousands another program may bind meanwhile.
        near = sorted(range(max(1024, srv.port - 8), min(65535, srv.port + 8) + 1),
                      key=lambda p: abs(p - srv.port))
        for port in near:
            if port == srv.port:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind((LOCAL, port))
                silent = s
                break
            except OSError:
                s.close()
        assert silent is not None
        quiet = silent.getsockname()[1]
        ports = sorted([srv.port, quiet])
        low, high = ports[0] - 1, ports[1] + 1
        # What else is bound in the range now (another test) must count too.
        others = set()
        for port in range(low, high + 1):
            if port in ports:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                try:
                    probe.bind((LOCAL, port))
                except OSError:
                    others.add(port)
        p = run("udp", "scan", "--timeout", "300ms", LOCAL, "%d-%d" % (low, high), check=0)
        lines = p.stdout.splitlines()
        assert "%d open" % srv.port in lines
        assert "%d open|filtered" % quiet in lines
        closed = high - low + 1 - 2 - len(others)
        assert re.match(r"scanned %d UDP ports of 127\.0\.0\.1 in \d+ ms: 1 open, %d closed, "
                        r"1 open\|filtered \(no answer\)\n" % (high - low + 1, closed),
                        p.stderr) or others, p.stderr
        p = run("udp", "scan", "--json", "--timeout", "300ms", "--retries", "0", LOCAL,
                "%d-%d" % (low, high), check=0)
        j = json.loads(p.stdout)
        assert j["proto"] == "udp" and srv.port in j["open"] and quiet in j["open_filtered"]
        assert j["closed"] == closed or others
    silent.close()
    # Nothing there at all: every port closed, exit 1.
    p = run("udp", "scan", LOCAL, "%d-%d" % (quiet, quiet), check=1)
    assert p.stdout == ""
    assert re.match(r"scanned 1 UDP port of 127\.0\.0\.1 in \d+ ms: 0 open, 1 closed, "
                    r"0 open\|filtered \(no answer\)\n", p.stderr), p.stderr


def test_scan_usage():
    p = run("udp", "scan", LOCAL, check=2)
    assert p.stderr.startswith("inetkit udp: missing HOST and LOW-HIGH")
    p = run("udp", "scan", LOCAL, "9-1", check=2)
    assert p.stderr.startswith("inetkit udp: port range '9-1': the range must go from low to high")
    p = run("udp", "scan", "--help", check=0)
    assert p.stdout.startswith("Usage: inetkit udp scan [OPTIONS] HOST LOW-HIGH")

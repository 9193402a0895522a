"""inetkit tcp: servers against real clients (Python sockets, socat,
openssl s_client), the client against real servers (Python, openssl
s_server), and the faults: bad ports, refusals, timeouts, slow readers,
limits, TLS verification."""
import json
import os
import re
import select
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import BIN, Server, free_port, run, server, wait_port

LOCAL = "127.0.0.1"


class Listener(Server):
    """`inetkit tcp listen ...` started without probing its port (a probe
    would be a client: --once, --max-conns and chat would see it). Ready
    when it logs event=listen; stderr read so far is kept."""

    def __init__(self, args, port):
        super().__init__(args, port=port, wait=False)
        self.early = ""
        self.pending = ""     # read by wait_log, not yet a whole line
        self.wait_log(r"event=listen")

    def wait_log(self, pattern, timeout=10):
        """Read stderr until a line matches pattern; returns the match.
        Lines come from the descriptor itself: a buffered readline() could
        hold a second line where select() cannot see it."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stderr.fileno()
        while True:
            while "\n" in self.pending:
                line, self.pending = self.pending.split("\n", 1)
                self.early += line + "\n"
                m = re.search(pattern, line)
                if m:
                    return m
            left = deadline - time.monotonic()
            r, _, _ = select.select([fd], [], [], max(left, 0))
            if not r:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            self.pending += chunk.decode("utf-8", "replace")
        raise AssertionError("no log line like %r in:\n%s" % (pattern, self.early + self.pending))

    def stop(self, sig=signal.SIGTERM, timeout=10):
        code, out, err = super().stop(sig, timeout)
        self.stderr = self.early + self.pending + err
        return code, out, self.stderr


def listen(*args, port=None, host=LOCAL):
    """`inetkit tcp listen ARGS HOST:PORT` as a running Listener."""
    port = port or free_port()
    spec = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
    return Listener(["tcp", "listen"] + [str(a) for a in args] + [spec], port)


def connect(port, host=LOCAL, timeout=5):
    s = socket.create_connection((host, port), timeout=timeout)
    return s


def recv_all(s, limit=1 << 24):
    out = b""
    while len(out) < limit:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    return out


def recv_until(s, marker, timeout=5):
    s.settimeout(timeout)
    out = b""
    while marker not in out:
        chunk = s.recv(4096)
        if not chunk:
            break
        out += chunk
    return out


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


# ---- help and usage ------------------------------------------------------

def test_help():
    p = run("tcp", "--help", check=0)
    assert p.stdout.startswith("Usage: inetkit tcp listen")
    for action in ("listen", "relay", "connect", "bench"):
        p = run("tcp", action, "--help", check=0)
        assert p.stdout.startswith("Usage: inetkit tcp %s" % action)
    assert os.path.exists(os.path.join(os.path.dirname(__file__), "..", "..", "docs",
                                       "inetkit-tcp.1"))
    p = run("help", "tcp", env={"MANWIDTH": "80"}, check=0)
    assert "END OF FILE (HALF-CLOSE)" in p.stdout or "END OF FILE (HALF‐CLOSE)" in p.stdout


def test_listen_port_out_of_range_exit_2():
    p = run("tcp", "listen", "127.0.0.1:70000", check=2)
    assert p.stderr.startswith("inetkit tcp: bad listen address: ")
    assert "port '70000' is not a number from 0 to 65535" in p.stderr


def test_connect_port_out_of_range_exit_2():
    p = run("tcp", "connect", LOCAL, "70000", check=2)
    assert p.stderr == ("inetkit tcp: port '70000' is not a number from 1 to 65535\n"
                        "Try 'inetkit tcp --help'.\n")


def test_listen_port_in_use_exit_2_names_it():
    with socket.socket() as s:
        s.bind((LOCAL, 0))
        s.listen()
        port = s.getsockname()[1]
        p = run("tcp", "listen", "%s:%d" % (LOCAL, port), check=2)
    assert p.stderr.startswith(
        "inetkit tcp: cannot listen on 127.0.0.1:%d (tcp): address already in use" % port)


def test_two_modes_is_usage_error():
    p = run("tcp", "listen", "--echo", "--chat", "127.0.0.1:1", check=2)
    assert "choose one mode" in p.stderr


def test_exec_command_not_found_exit_2():
    p = run("tcp", "listen", "--exec", "no-such-program-xyz", "127.0.0.1:1", check=2)
    assert p.stderr.startswith(
        "inetkit tcp: --exec: 'no-such-program-xyz' is not found in PATH; give its full path")


def test_connect_refused_exit_1():
    port = free_port()
    p = run("tcp", "connect", LOCAL, port, input="", check=1)
    assert p.stderr == "inetkit tcp: cannot connect to 127.0.0.1:%d: connection refused\n" % port


def test_connect_unknown_host_exit_1():
    p = run("tcp", "connect", "no-such-host.invalid", "80", input="", check=1)
    assert p.stderr.startswith("inetkit tcp: cannot resolve 'no-such-host.invalid'")


def test_connect_timeout_exit_1():
    # A listener whose accept queue is full drops new SYNs: connect hangs.
    with socket.socket() as ls:
        ls.bind((LOCAL, 0))
        ls.listen(0)
        port = ls.getsockname()[1]
        fillers = []
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex((LOCAL, port))
            fillers.append(c)
        time.sleep(0.2)
        p = run("tcp", "connect", "--timeout", "1", LOCAL, port, input="", check=1)
        for c in fillers:
            c.close()
    assert p.stderr == "inetkit tcp: cannot connect to 127.0.0.1:%d: timed out after 1000 ms\n" % port


# ---- echo with the textbook clients --------------------------------------

def test_python_client_gets_echo():
    with listen() as srv:
        with connect(srv.port) as s:
            s.sendall(b"hello, echo\n")
            assert recv_until(s, b"\n") == b"hello, echo\n"


def test_ipv4_and_ipv6_at_once():
    port = free_port()
    v6 = "[::1]:%d" % port
    with Listener(["tcp", "listen", v6, "127.0.0.1:%d" % port], port):
        for host in (LOCAL, "::1"):
            with connect(port, host) as s:
                s.sendall(host.encode() + b"\n")
                assert recv_until(s, b"\n") == host.encode() + b"\n"


def test_connect_to_python_server():
    """The textbook server: accept, greet, echo in upper case, close."""
    ls = socket.socket()
    ls.bind((LOCAL, 0))
    ls.listen()
    port = ls.getsockname()[1]
    got = {}

    def serve():
        c, _ = ls.accept()
        c.sendall(b"hi from python\n")
        got["data"] = recv_all(c)    # until our client half-closes
        c.sendall(got["data"].upper())
        c.close()

    t = threading.Thread(target=serve)
    t.start()
    p = run("tcp", "connect", LOCAL, port, input="one\ntwo\n", check=0)
    t.join()
    ls.close()
    assert got["data"] == b"one\ntwo\n"
    assert p.stdout == "hi from python\nONE\nTWO\n"


def test_connect_crlf_and_hex():
    ls = socket.socket()
    ls.bind((LOCAL, 0))
    ls.listen()
    port = ls.getsockname()[1]
    got = {}

    def serve():
        c, _ = ls.accept()
        got["data"] = recv_all(c)
        c.sendall(b"ok")
        c.close()

    t = threading.Thread(target=serve)
    t.start()
    p = run("tcp", "connect", "--crlf", "--hex", LOCAL, port, input="a\nb\r\nc", check=0)
    t.join()
    ls.close()
    assert got["data"] == b"a\r\nb\r\nc"
    assert p.stdout == (
        "> 00000000  61 0a 62 0d 0a 63                                 |a.b..c|\n"
        "< 00000000  6f 6b                                             |ok|\n")


def test_socat_peer():
    with listen() as srv:
        p = subprocess.run(["socat", "-t", "2", "-", "TCP:127.0.0.1:%d" % srv.port],
                           input=b"through socat\n", stdout=subprocess.PIPE, timeout=20)
        assert p.stdout == b"through socat\n"


def test_our_client_against_our_server_half_close():
    data = os.urandom(300000)
    with listen() as srv:
        p = subprocess.run([BIN, "tcp", "connect", LOCAL, str(srv.port)], input=data,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        assert p.returncode == 0, p.stderr
        assert p.stdout == data


def test_half_close_echoes_everything():
    data = os.urandom(2 * 1024 * 1024)
    with listen("--log") as srv:
        with connect(srv.port) as s:
            got = []

            def reader():
                got.append(recv_all(s, limit=len(data) + 1))

            t = threading.Thread(target=reader)
            t.start()
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            t.join(30)
        assert got[0] == data
        _, _, err = srv.stop()
    assert re.search(r"event=close proto=tcp session=\d+ peer=127\.0\.0\.1:\d+ in=2097152 "
                     r"out=2097152 ms=\d+ refused_lines=0 reason=eof", err), err


def test_discard():
    with listen("--discard") as srv:
        with connect(srv.port) as s:
            s.sendall(b"x" * 100000)
            s.shutdown(socket.SHUT_WR)
            assert recv_all(s) == b""


# ---- modes ----------------------------------------------------------------

def test_chat_three_clients():
    with listen("--chat") as srv:
        cs = [connect(srv.port) for _ in range(3)]
        try:
            # Each client sees its welcome, then the joins of those after
            # it: client i waits for exactly 2 - i join notices, however the
            # bytes happen to be split into reads.
            for i, c in enumerate(cs):
                c.settimeout(5)
                seen = b""
                while (b"here; /help for commands\n" not in seen
                       or seen.count(b"joined\n") < 2 - i):
                    chunk = c.recv(4096)
                    assert chunk, "server closed the chat early"
                    seen += chunk
            names = ["[%s:%d]" % c.getsockname() for c in cs]
            cs[0].sendall(b"hello from zero\n")
            for i in (1, 2):
                assert recv_until(cs[i], b"\n") == ("%s hello from zero\n" % names[0]).encode()
            cs[2].sendall(b"and two\r\n")
            for i in (0, 1):
                assert recv_until(cs[i], b"\n") == ("%s and two\n" % names[2]).encode()
            # The sender never gets its own line back.
            cs[0].settimeout(0.3)
            with pytest.raises(socket.timeout):
                cs[0].recv(100)
        finally:
            for c in cs:
                c.close()


def test_chat_over_long_line():
    with listen("--chat", "--max-line", "16") as srv:
        a, b = connect(srv.port), connect(srv.port)
        try:
            recv_until(a, b"joined\n")
            recv_until(b, b"commands\n")
            a.sendall(b"x" * 40 + b"\nshort\n")
            assert recv_until(a, b"\n") == b"* line too long (the limit is 16 bytes): not sent\n"
            # The other client gets only the line within the limit.
            assert recv_until(b, b"\n") == ("[%s:%d] short\n" % a.getsockname()).encode()
        finally:
            a.close()
            b.close()


def test_exec_cat_and_tr():
    with listen("--exec", "/bin/cat") as srv:
        with connect(srv.port) as s:
            s.sendall(b"through cat\n")
            s.shutdown(socket.SHUT_WR)
            assert recv_all(s) == b"through cat\n"
    with listen("--exec", "/usr/bin/tr a-z A-Z") as srv:
        with connect(srv.port) as s:
            s.sendall(b"make me loud\n")
            s.shutdown(socket.SHUT_WR)
            assert recv_all(s) == b"MAKE ME LOUD\n"


def test_exec_environment():
    with listen("--exec", "/usr/bin/env") as srv:
        with connect(srv.port) as s:
            s.shutdown(socket.SHUT_WR)
            env = recv_all(s).decode()
            port = s.getsockname()[1]
    assert "INETKIT_REMOTE_ADDR=127.0.0.1\n" in env
    assert "INETKIT_REMOTE_PORT=%d\n" % port in env
    assert "INETKIT_PROTO=TCP\n" in env


def test_once_serves_one_client_then_exits():
    port = free_port()
    srv = Listener(["tcp", "listen", "--once", "%s:%d" % (LOCAL, port)], port)
    with connect(port) as s:
        s.sendall(b"only one\n")
        s.shutdown(socket.SHUT_WR)
        assert recv_all(s) == b"only one\n"
    assert srv.proc.wait(timeout=10) == 0


def test_send_file(tmp_path):
    data = os.urandom(1500000)
    f = tmp_path / "out.bin"
    f.write_bytes(data)
    port = free_port()
    srv = Listener(["tcp", "listen", "--send", str(f), "%s:%d" % (LOCAL, port)], port)
    p = subprocess.run([BIN, "tcp", "connect", LOCAL, str(port)], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout == data
    assert srv.proc.wait(timeout=10) == 0
    srv.stop()
    assert "event=transfer proto=tcp file=%s" % f in srv.stderr and "result=ok" in srv.stderr


def test_recv_file(tmp_path):
    data = os.urandom(1200000)
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    dst = tmp_path / "got.bin"
    port = free_port()
    srv = Listener(["tcp", "listen", "--recv", str(dst), "%s:%d" % (LOCAL, port)], port)
    with open(src, "rb") as f:
        p = subprocess.run([BIN, "tcp", "connect", LOCAL, str(port)], stdin=f,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, p.stderr
    assert srv.proc.wait(timeout=10) == 0
    assert dst.read_bytes() == data


def test_recv_cut_short_exit_1(tmp_path):
    dst = tmp_path / "got.bin"
    port = free_port()
    srv = Listener(["tcp", "listen", "--recv", str(dst), "--idle-timeout", "1",
                    "%s:%d" % (LOCAL, port)], port)
    s = connect(port)
    s.sendall(b"partial")
    assert srv.proc.wait(timeout=10) == 1
    s.close()
    srv.stop()
    assert "stopped after 7 bytes: idle timeout (1000 ms)" in srv.stderr


# ---- TLS -----------------------------------------------------------------

@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A test CA, a server certificate for localhost / 127.0.0.1, and one
    for another name."""
    d = tmp_path_factory.mktemp("pki")

    def sh(*args):
        subprocess.run(args, cwd=d, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    sh("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
       "-subj", "/CN=inetkit test CA")
    for name, san in (("good", "DNS:localhost,IP:127.0.0.1"), ("wrong", "DNS:wrong.example")):
        (d / (name + ".ext")).write_text("subjectAltName=%s\n" % san)
        sh("openssl", "req", *ec, "-keyout", name + ".key", "-out", name + ".csr",
           "-subj", "/CN=" + name)
        sh("openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
           "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext")
    return d


def s_server(pki, cert, port):
    p = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-4",
                          "-cert", str(pki / (cert + ".pem")), "-key", str(pki / (cert + ".key")),
                          "-rev", "-quiet"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_port(port, proc=p)
    return p


def test_connect_tls_cacert_against_s_server(pki):
    port = free_port()
    srv = s_server(pki, "good", port)
    try:
        p = run("tcp", "connect", "--tls", "--cacert", pki / "ca.pem", "--timeout", "5",
                LOCAL, port, input="hello tls\n")
    finally:
        srv.kill()
        srv.wait()
    assert p.returncode == 0, p.stderr
    assert "slt olleh" in p.stdout


def test_connect_tls_wrong_name_fails_verification(pki):
    port = free_port()
    srv = s_server(pki, "wrong", port)
    try:
        p = run("tcp", "connect", "--tls", "--cacert", pki / "ca.pem", LOCAL, port, input="x\n")
    finally:
        srv.kill()
        srv.wait()
    assert p.returncode == 1
    assert p.stderr == ("inetkit tcp: TLS handshake with 127.0.0.1:%d failed: certificate verify "
                        "failed: IP address mismatch (--cacert FILE trusts another CA; --insecure "
                        "skips the check)\n" % port)


def test_connect_tls_unknown_ca_fails(pki):
    port = free_port()
    srv = s_server(pki, "good", port)
    try:
        p = run("tcp", "connect", "--tls", LOCAL, port, input="x\n")
    finally:
        srv.kill()
        srv.wait()
    assert p.returncode == 1
    assert "certificate verify failed: unable to get local issuer certificate" in p.stderr


def test_tls_listen_self_signed_with_s_client():
    with listen("--tls") as srv:
        p = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:%d" % srv.port,
                              "-quiet"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            p.stdin.write(b"hello s_client\n")
            p.stdin.flush()
            assert p.stdout.readline() == b"hello s_client\n"
        finally:
            p.kill()
            p.wait()


def test_tls_listen_with_cert_and_eof_policy(pki):
    """Python's ssl client: the certificate verifies, and our EOF policy
    over TLS: the client's close_notify is answered with ours."""
    with listen("--cert", pki / "good.pem", "--key", pki / "good.key", "--log") as srv:
        ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        raw = connect(srv.port)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        s.sendall(b"over tls\n")
        assert recv_until(s, b"\n") == b"over tls\n"
        plain = s.unwrap()      # sends close_notify, waits for the server's
        assert plain.recv(10) == b""    # then our FIN
        plain.close()
        _, _, err = srv.stop()
    assert re.search(r"event=close .* in=9 out=9 .* reason=eof", err), err


def test_tls_client_against_tls_listen():
    with listen("--tls") as srv:
        p = run("tcp", "connect", "--tls", "--insecure", LOCAL, srv.port, input="secret\n", check=0)
        assert p.stdout == "secret\n"


# ---- scan ----------------------------------------------------------------

def test_scan_finds_exactly_the_open_ports():
    base = free_port()
    lo, hi = max(1024, base - 10), min(65535, base + 10)
    opened = []
    for port in range(lo, hi + 1):
        if len(opened) == 3:
            break
        s = socket.socket()
        try:
            s.bind((LOCAL, port))
            s.listen()
            opened.append(s)
        except OSError:
            s.close()
    try:
        ports = {s.getsockname()[1] for s in opened}
        # Whatever else is open in the range right now (another test's
        # server) must be found too; probe it the plain way.
        truth = set()
        for port in range(lo, hi + 1):
            with socket.socket() as c:
                c.settimeout(1)
                if c.connect_ex((LOCAL, port)) == 0:
                    truth.add(port)
        assert ports <= truth
        p = run("tcp", "connect", "--scan", "%d-%d" % (lo, hi), LOCAL, check=0)
        found = {int(line.split()[0]) for line in p.stdout.splitlines()}
        assert found == truth
        assert re.match(r"scanned %d ports of 127\.0\.0\.1 in \d+ ms: %d open, %d closed, "
                        r"0 filtered\n" % (hi - lo + 1, len(truth), hi - lo + 1 - len(truth)),
                        p.stderr)
        p = run("tcp", "connect", "--scan", "%d-%d" % (lo, hi), "--json", LOCAL, check=0)
        j = json.loads(p.stdout)
        assert set(j["open"]) == truth and j["closed"] == hi - lo + 1 - len(truth)
    finally:
        for s in opened:
            s.close()


def test_scan_bad_range_exit_2():
    p = run("tcp", "connect", "--scan", "90-80", LOCAL, check=2)
    assert p.stderr.startswith("inetkit tcp: --scan '90-80': the range must go from low to high")
    p = run("tcp", "connect", "--scan", "1-70000", LOCAL, check=2)
    assert "is not a port range LOW-HIGH of ports 1 to 65535" in p.stderr


# ---- faults and limits ---------------------------------------------------

def test_client_that_never_reads_is_dropped_others_served():
    with listen("--write-timeout", "1", "--idle-timeout", "30") as srv:
        hog = connect(srv.port)
        hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        hog.setblocking(False)
        chunk = b"z" * 65536
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                hog.send(chunk)
            except BlockingIOError:
                break   # the server stopped reading us: back-pressure
        # The server stopped reading the hog, yet answers others at once.
        with connect(srv.port) as other:
            other.sendall(b"still here\n")
            assert recv_until(other, b"\n", timeout=2) == b"still here\n"
        # And drops the hog after its write timeout, with a log line.
        srv.wait_log(r"level=warning event=drop proto=tcp session=\d+ peer=127\.0\.0\.1:%d "
                     r"reason=\"client not reading: \d+ bytes unsent for \d+ ms\"" %
                     hog.getsockname()[1])
        hog.setblocking(True)
        hog.settimeout(5)
        with pytest.raises(ConnectionResetError):
            while hog.recv(1 << 20):
                pass
        hog.close()


def test_thousand_connections_no_fd_leak():
    with listen() as srv:
        time.sleep(0.2)
        before = fd_count(srv.pid)
        for i in range(1000):
            s = socket.create_connection((LOCAL, srv.port))
            if i % 2:
                s.sendall(b"x")
            s.close()
        # Let the server see every close.
        deadline = time.monotonic() + 10
        while fd_count(srv.pid) != before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert fd_count(srv.pid) == before


def test_max_conns():
    with listen("--max-conns", "2") as srv:
        a, b = connect(srv.port), connect(srv.port)
        for s in (a, b):
            s.sendall(b"in\n")
            assert recv_until(s, b"\n") == b"in\n"
        c = connect(srv.port)
        c.settimeout(5)
        try:
            assert c.recv(10) == b""
        except ConnectionResetError:
            pass
        c.close()
        a.close()
        time.sleep(0.3)
        with connect(srv.port) as d:
            d.sendall(b"again\n")
            assert recv_until(d, b"\n") == b"again\n"
        b.close()
        _, _, err = srv.stop()
    assert re.search(r"level=warning event=refuse proto=tcp peer=127\.0\.0\.1:\d+ "
                     r"reason=\"max-conns 2 reached\"", err), err


def test_idle_timeout():
    with listen("--idle-timeout", "1", "--log") as srv:
        with connect(srv.port) as s:
            s.settimeout(10)
            t0 = time.monotonic()
            assert s.recv(10) == b""
            assert time.monotonic() - t0 < 9
        _, _, err = srv.stop()
    assert 'reason="idle timeout (1000 ms)"' in err


def test_workers_restart_and_stop():
    port = free_port()
    srv = Listener(["tcp", "listen", "--workers", "2", "%s:%d" % (LOCAL, port)], port)
    try:
        for _ in range(4):
            with connect(port) as s:
                s.sendall(b"w\n")
                assert recv_until(s, b"\n") == b"w\n"
        kids = [int(x) for x in open("/proc/%d/task/%d/children" % (srv.pid, srv.pid)).read().split()]
        assert len(kids) == 2
        os.kill(kids[0], signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            now = open("/proc/%d/task/%d/children" % (srv.pid, srv.pid)).read().split()
            if len(now) == 2 and str(kids[0]) not in now:
                break
            time.sleep(0.05)
        for _ in range(4):
            with connect(port) as s:
                s.sendall(b"again\n")
                assert recv_until(s, b"\n") == b"again\n"
    finally:
        code, _, err = srv.stop()
    assert code == 0
    assert re.search(r"level=warning event=worker_restart name=tcp index=\d pid=%d "
                     r"status=signal_9\(Killed\) delay_ms=100" % kids[0], err), err


def test_stop_with_open_client_exits_0():
    with listen() as srv:
        s = connect(srv.port)
        s.sendall(b"x\n")
        recv_until(s, b"\n")
        code, _, _ = srv.stop()
        assert code == 0
        s.close()


def test_bench_quick_json():
    with listen() as srv:
        p = run("tcp", "bench", "--conns", "4", "--requests", "400", "--size", "100", "--json",
                LOCAL, srv.port, check=0)
    j = json.loads(p.stdout)
    assert j["requests"] == 400 and j["errors"] == 0
    assert j["bytes_sent"] == 40000 and j["bytes_received"] == 40000
    assert 0 < j["latency_ms"]["p50"] <= j["latency_ms"]["p99"] <= j["latency_ms"]["max"]


def test_bench_refused_exit_1():
    port = free_port()
    p = run("tcp", "bench", "--conns", "2", "--duration", "1", LOCAL, port, check=1)
    assert p.stderr == "inetkit tcp: cannot connect to 127.0.0.1:%d: connection refused\n" % port


def test_chat_slow_reader_dropped():
    with listen("--chat", "--write-timeout", "30") as srv:
        slow = connect(srv.port)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        talker = connect(srv.port)
        recv_until(slow, b"joined\n")
        line = b"y" * 1000 + b"\n"
        # The slow one never reads: what waits for it passes 256 KiB
        # (after the kernel's buffers fill) and it is dropped at once.
        talker.settimeout(10)
        for _ in range(12000):
            talker.sendall(line)
        srv.wait_log(r"level=warning event=drop proto=tcp session=\d+ peer=127\.0\.0\.1:%d "
                     r"reason=\"slow reader: more than 262144 bytes queued\"" %
                     slow.getsockname()[1], timeout=20)
        # The talker is not held up: it still gets the others' lines.
        with connect(srv.port) as third:
            recv_until(third, b"commands\n")
            third.sendall(b"after\n")
            assert b"] after\n" in recv_until(talker, b"] after\n")
        slow.close()
        talker.close()


def test_connect_idle_timeout_exit_1():
    ls = socket.socket()
    ls.bind((LOCAL, 0))
    ls.listen()
    port = ls.getsockname()[1]
    try:
        p = run("tcp", "connect", "--timeout", "1", LOCAL, port, input="", check=1)
    finally:
        ls.close()
    assert p.stderr == ("inetkit tcp: nothing sent or received for 1000 ms; closing "
                        "(--timeout)\n")


# ---- UNIX-domain sockets and the source address ---------------------------

def unix_listener(path, *args):
    return Listener(["tcp", "listen"] + [str(a) for a in args] + ["unix:" + path], None)


def test_unix_listen_and_connect(tmp_path):
    path = str(tmp_path / "echo.sock")
    srv = unix_listener(path, "--log")
    try:
        st = os.stat(path)
        assert oct(st.st_mode & 0o777) == "0o600"
        p = run("tcp", "connect", "unix:" + path, input="over a unix socket\n", check=0)
        assert p.stdout == "over a unix socket\n"
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(path)
            s.sendall(b"python\n")
            assert recv_until(s, b"\n") == b"python\n"
        # A second server on a live socket is refused, and leaves it alone.
        p = run("tcp", "listen", "unix:" + path, check=2)
        assert p.stderr.startswith("inetkit tcp: cannot listen on unix:%s: address already in "
                                   "use; another program serves this socket" % path)
        assert os.path.exists(path)
    finally:
        code, _, err = srv.stop()
    assert code == 0
    assert not os.path.exists(path)     # removed at exit
    assert re.search(r"event=close proto=tcp session=\d+ peer=unix: in=19 out=19 ", err), err


def test_unix_stale_socket_replaced_other_file_kept(tmp_path):
    path = str(tmp_path / "s.sock")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()                       # the file stays, nobody listens
    with unix_listener(path):
        p = run("tcp", "connect", "unix:" + path, input="fresh\n", check=0)
        assert p.stdout == "fresh\n"
    other = str(tmp_path / "notes.txt")
    with open(other, "w") as f:
        f.write("keep me")
    p = run("tcp", "listen", "unix:" + other, check=2)
    assert p.stderr.startswith("inetkit tcp: cannot listen on unix:%s: '%s' exists and is not a "
                               "socket; remove it or choose another path" % (other, other))
    assert open(other).read() == "keep me"
    p = run("tcp", "connect", "unix:" + str(tmp_path / "none.sock"), input="", check=1)
    assert p.stderr == ("inetkit tcp: cannot connect to unix:%s: no such socket file\n"
                        % (tmp_path / "none.sock"))


def test_connect_source_address_seen_by_server():
    ls = socket.socket()
    ls.bind((LOCAL, 0))
    ls.listen()
    port = ls.getsockname()[1]
    seen = {}

    def serve():
        c, peer = ls.accept()
        seen["peer"] = peer
        recv_all(c)
        c.close()

    t = threading.Thread(target=serve)
    t.start()
    p = run("tcp", "connect", "-s", "127.0.0.2", LOCAL, port, input="hi\n", check=0)
    t.join(10)
    ls.close()
    assert seen["peer"][0] == "127.0.0.2"
    p = run("tcp", "connect", "--source", "192.0.2.1", LOCAL, port, input="", check=1)
    assert p.stderr == ("inetkit tcp: cannot connect to 127.0.0.1:%d: cannot use source address "
                        "192.0.2.1: this machine has no such address\n" % port)
    p = run("tcp", "connect", "-s", "127.0.0.2:x", LOCAL, port, check=2)
    assert p.stderr.startswith("inetkit tcp: source address: '127.0.0.2:x': port 'x' is not a "
                               "number from 0 to 65535")

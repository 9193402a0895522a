"""The echo server's stream path: a client that streams gets its bytes
back through a pipe with splice(2) (never through user space); the
bytes, their order, the counts in the log, the end-of-file policy and the
"client not reading" drop must be the same as on the buffered path. And
the load generator's --zerocopy sending."""
import hashlib
import json
import os
import socket
import threading

from conftest import run
from test_tcp import LOCAL, connect, listen, recv_until

MIB = 1 << 20


def pipes_of(pid):
    """How many pipes the process has open."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("pipe:")
        except OSError:
            pass
    return n


def test_stream_echo_is_byte_exact_and_spliced():
    data = os.urandom(4 * MIB) * 8          # 32 MiB, not one repeated small pattern
    half = len(data) // 2
    with listen("--log") as srv:
        with connect(srv.port) as c:     # the loop runs: its own pipes are made
            c.sendall(b"first\n")
            assert recv_until(c, b"\n") == b"first\n"
        before = pipes_of(srv.pid)
        s = connect(srv.port, timeout=20)
        go_on = threading.Event()

        def send():
            for i in range(0, half, 65536):
                s.sendall(data[i:i + 65536])
            go_on.wait(20)
            for i in range(half, len(data), 65536):
                s.sendall(data[i:i + 65536])
            s.shutdown(socket.SHUT_WR)

        t = threading.Thread(target=send)
        t.start()
        got = hashlib.sha256()
        n = 0
        while n < half:
            b = s.recv(1 << 20)
            assert b, "closed after %d bytes" % n
            got.update(b)
            n += len(b)
        # The stream moved to a pipe of its own (two descriptors).
        assert pipes_of(srv.pid) == before + 2
        go_on.set()
        while True:
            b = s.recv(1 << 20)
            if not b:
                break               # our FIN came back after the last byte
            got.update(b)
            n += len(b)
        t.join()
        s.close()
        assert n == len(data)
        assert got.hexdigest() == hashlib.sha256(data).hexdigest()
        srv.wait_log(r"event=close proto=tcp session=\d+ peer=127\.0\.0\.1:\d+ in=%d out=%d "
                     r"ms=\d+ refused_lines=0 reason=eof" % (len(data), len(data)))
        # The pipe went with the connection.
        assert pipes_of(srv.pid) == before
        # Small exchanges still work on a new connection, and on the same
        # server after a stream.
        with connect(srv.port) as c:
            c.sendall(b"after the stream\n")
            assert recv_until(c, b"\n") == b"after the stream\n"


def test_interactive_then_stream_then_interactive_on_one_connection():
    with listen() as srv:
        s = connect(srv.port, timeout=20)
        s.sendall(b"hello\n")
        assert recv_until(s, b"\n") == b"hello\n"
        blob = os.urandom(8 * MIB)
        t = threading.Thread(target=s.sendall, args=(blob,))
        t.start()
        back = bytearray()
        while len(back) < len(blob):
            b = s.recv(1 << 20)
            assert b
            back += b
        t.join()
        assert bytes(back) == blob
        s.sendall(b"still echoing\n")
        assert recv_until(s, b"\n") == b"still echoing\n"
        s.close()


def test_streaming_client_that_never_reads_is_dropped_others_served():
    with listen("--write-timeout", "1", "--idle-timeout", "30") as srv:
        hog = connect(srv.port)
        hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        hog.setblocking(False)
        chunk = os.urandom(65536)
        sent = 0
        while True:
            try:
                sent += hog.send(chunk)
            except BlockingIOError:
                break   # pipe and socket buffers full: the server stopped reading
        assert sent > 65536
        with connect(srv.port) as other:
            other.sendall(b"still here\n")
            assert recv_until(other, b"\n", timeout=2) == b"still here\n"
        srv.wait_log(r"level=warning event=drop proto=tcp session=\d+ peer=127\.0\.0\.1:%d "
                     r"reason=\"client not reading: \d+ bytes unsent for \d+ ms\"" %
                     hog.getsockname()[1])
        hog.close()


def test_bench_stream_zerocopy_against_echo():
    with listen() as srv:
        p = run("tcp", "bench", "--stream", "--zerocopy", "--conns", "2", "--duration", "1",
                "--json", LOCAL, srv.port, check=0)
    j = json.loads(p.stdout)
    assert j["errors"] == 0
    assert j["bytes_received"] > 0 and j["bytes_sent"] >= j["bytes_received"]


def test_bench_zerocopy_needs_stream():
    p = run("tcp", "bench", "--zerocopy", LOCAL, "7", check=2)
    assert p.stderr == ("inetkit tcp: --zerocopy goes with --stream (requests are small)\n"
                        "Try 'inetkit tcp --help'.\n")

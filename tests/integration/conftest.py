"""Shared fixtures for the integration tests.

Every test drives the real `inetkit` binary (INETKIT_BIN, built with
AddressSanitizer and UBSan by `make test`). Sanitizer reports are written to
files in a per-session directory; any report fails the test that produced it.
Servers bind loopback only, on free ports, and are always stopped.
"""
import contextlib
import glob
import os
import random
import shutil
import signal
import socket
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("INETKIT_BIN") or os.path.join(ROOT, "build-test", "inetkit")


def _sanitizer_dir():
    d = os.environ.get("INETKIT_SAN_DIR")
    if not d:
        d = os.path.join("/tmp", "inetkit-san-%d" % os.getpid())
        os.environ["INETKIT_SAN_DIR"] = d
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d, exist_ok=True)
        for var, default in (("ASAN_OPTIONS", "halt_on_error=1:detect_leaks=1"),
                             ("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")):
            opts = os.environ.get(var, default)
            name = var.split("_")[0].lower()
            os.environ[var] = opts + ":log_path=" + os.path.join(d, name)
    return d


SAN_DIR = _sanitizer_dir()


@pytest.fixture(autouse=True)
def no_sanitizer_reports():
    """Fail the test if the binary wrote any sanitizer report while it ran."""
    before = set(glob.glob(os.path.join(SAN_DIR, "*")))
    yield
    new = sorted(set(glob.glob(os.path.join(SAN_DIR, "*"))) - before)
    if new:
        text = ""
        for path in new:
            with open(path, errors="replace") as f:
                text += "==> %s\n%s\n" % (path, f.read()[-4000:])
        pytest.fail("sanitizer report(s):\n" + text)


@pytest.fixture(scope="session")
def inetkit():
    assert os.access(BIN, os.X_OK), "inetkit binary not found at %s (run make test)" % BIN
    return BIN


def run(*args, input=None, timeout=60, env=None, check=None):
    """Run inetkit with args; returns CompletedProcess with text output.
    check: expected exit code (asserted, with stderr shown on mismatch)."""
    e = dict(os.environ)
    if env:
        e.update(env)
    if isinstance(input, str):
        input = input.encode()
    p = subprocess.run([BIN] + [str(a) for a in args], input=input,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, env=e)
    p.stdout = p.stdout.decode("utf-8", "replace")
    p.stderr = p.stderr.decode("utf-8", "replace")
    if check is not None:
        assert p.returncode == check, "exit %d (wanted %d)\nstdout:\n%s\nstderr:\n%s" % (
            p.returncode, check, p.stdout, p.stderr)
    return p


def _port_pool():
    """Ports below the kernel's ephemeral range: no outgoing connection can
    take one of them between the check here and the server's bind."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return range(max(1024, low - 12000), low) if low > 13024 else None


_rng = random.Random(os.getpid())


def free_port(family=socket.AF_INET, kind=socket.SOCK_STREAM):
    """A port that is free for both TCP and UDP on loopback right now."""
    host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    pool = _port_pool()
    for _ in range(200):
        port = _rng.choice(pool) if pool else 0
        try:
            with socket.socket(family, kind) as s:
                s.bind((host, port))
                port = s.getsockname()[1]
            other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
            with socket.socket(family, other) as s2:
                s2.bind((host, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port")


def wait_port(port, host="127.0.0.1", timeout=10.0, proc=None):
    """Wait until a TCP port accepts connections."""
    deadline = time.monotonic() + timeout
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited with %s before listening" % proc.returncode)
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            try:
                s.connect((host, port))
                return
            except OSError:
                time.sleep(0.05)
    raise TimeoutError("nothing listening on %s:%d after %.0fs" % (host, port, timeout))


class Server:
    """A running `inetkit ...` server process; stopped with SIGTERM on exit."""

    def __init__(self, args, port=None, host="127.0.0.1", env=None, wait=True, **popen):
        e = dict(os.environ)
        if env:
            e.update(env)
        self.args = [BIN] + [str(a) for a in args]
        self.proc = subprocess.Popen(self.args, stdout=popen.pop("stdout", subprocess.PIPE),
                                     stderr=subprocess.PIPE, env=e, **popen)
        self.port = port
        if wait and port is not None:
            wait_port(port, host, proc=self.proc)

    @property
    def pid(self):
        return self.proc.pid

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stop the server; returns (exit code, stdout, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        self.stdout = (out or b"").decode("utf-8", "replace")
        self.stderr = (err or b"").decode("utf-8", "replace")
        return self.proc.returncode, self.stdout, self.stderr

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


@contextlib.contextmanager
def server(*args, **kw):
    s = Server(list(args), **kw)
    try:
        yield s
    finally:
        s.stop()

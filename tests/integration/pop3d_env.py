"""The POP3 server under test: `inetkit pop3d --config FILE` with a config,
a state directory (accounts.db, mail/) and accounts made here in a temporary
directory, on free loopback ports for its two roles (listen: STLS;
implicit_tls_listen: TLS from the first byte). With smtp=True the same
config has an [smtp] section and `inetkit smtpd --config FILE` runs beside
it on the same state directory, so that mail sent with smtplib is read back
over POP3. Shared by test_pop3d*.py and the pop3/ transcripts.

Helpers: deliver() writes a message into a Maildir's new/ the way smtpd
does (via tmp/, LF line ends, `,S=SIZE`), login() opens a poplib session
(STLS first unless plaintext is allowed), Raw is a socket speaking POP3
line by line, for what poplib cannot send.
"""
import os
import poplib
import signal
import socket
import ssl
import subprocess
import time

from conftest import BIN, free_port, run

PASSWORD = "correct-horse-1"
NO_LOCKOUT = {"lockout_failures": "0", "lockout_ip_failures": "0"}


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


_counter = [0]


class Pop3d:
    """A running server; .stop() (or the with-block) ends it. pop3: keys of
    [pop3] (a value None drops a default key); accounts: keys of
    [accounts] (hash_cost 1 and failure_delay 0 unless given)."""

    def __init__(self, base, pop3=None, accounts=None, users=("alice",), smtp=False,
                 workers=0, start=True):
        self.base = str(base)
        self.state = os.path.join(self.base, "state")
        os.makedirs(self.state, exist_ok=True)
        self.port = free_port()
        self.tls_port = free_port()
        self.smtp_port = free_port() if smtp else None
        self.db = os.path.join(self.state, "accounts.db")
        keys = {"listen": "127.0.0.1:%d" % self.port,
                "implicit_tls_listen": "127.0.0.1:%d" % self.tls_port}
        keys.update(pop3 or {})
        keys = {k: v for k, v in keys.items() if v is not None}
        if "listen" not in keys:
            self.port = None
        if "implicit_tls_listen" not in keys:
            self.tls_port = None
        acc = {"hash_cost": "1", "failure_delay": "0"}
        acc.update(accounts or {})
        text = ("[serve]\nstate_dir = %s\nuser = root\nworkers = %d\nlog_level = debug\n"
                % (self.state, workers))
        text += "[accounts]\n" + "".join("%s = %s\n" % kv for kv in acc.items())
        text += "[pop3]\n" + "".join("%s = %s\n" % kv for kv in keys.items())
        if smtp:
            text += ("[smtp]\nlisten = 127.0.0.1:%d\ndomains = localhost example.test\n"
                     "hostname = mx.example.test\n" % self.smtp_port)
        self.conf = os.path.join(self.base, "inetkit.conf")
        with open(self.conf, "w") as f:
            f.write(text)
        for u in users:
            self.add_user(u)
        self.log_path = os.path.join(self.base, "pop3d.log")
        self.smtp_log_path = os.path.join(self.base, "smtpd.log")
        self.proc = self.smtp_proc = None
        self.logf = self.smtp_logf = None
        if start:
            self.start()

    def add_user(self, name, *args):
        run("user", "add", name, "--db", self.db, "--password-stdin", *args,
            input=PASSWORD + "\n", check=0)

    def add_token(self, name, label, services="pop3"):
        p = run("user", "token", "add", name, "--label", label, "--services", services,
                "--db", self.db, check=0)
        return p.stdout.strip()

    # ---- processes ----

    def start(self):
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BIN, "pop3d", "--config", self.conf],
                                     stdout=self.logf, stderr=self.logf,
                                     start_new_session=True)
        if self.smtp_port:
            self.smtp_logf = open(self.smtp_log_path, "ab")
            self.smtp_proc = subprocess.Popen([BIN, "smtpd", "--config", self.conf],
                                              stdout=self.smtp_logf, stderr=self.smtp_logf,
                                              start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _probe(self, port, implicit):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            if implicit:
                s = tls_context().wrap_socket(s)
            f = s.makefile("rb")
            line = f.readline()
            if not line.startswith(b"+OK"):
                raise OSError("banner: %r" % line)
            s.sendall(b"QUIT\r\n")
            while f.readline():
                pass
        finally:
            s.close()

    def _wait_ready(self):
        deadline = time.monotonic() + 20
        done = self.log().count("event=pop3_session")
        probes = 0
        for port, implicit in ((self.port, False), (self.tls_port, True)):
            if port is None:
                continue
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError("pop3d exited with %s before listening:\n%s"
                                       % (self.proc.returncode, self.log()[-3000:]))
                try:
                    self._probe(port, implicit)
                    probes += 1
                    break
                except (OSError, ssl.SSLError):
                    if time.monotonic() > deadline:
                        raise TimeoutError("pop3d not answering on port %d:\n%s"
                                           % (port, self.log()[-3000:]))
                    time.sleep(0.05)
        while self.log().count("event=pop3_session") < done + probes:
            if time.monotonic() > deadline:
                raise TimeoutError("the probe sessions never closed:\n" + self.log()[-3000:])
            time.sleep(0.02)
        if self.smtp_port:
            while True:
                try:
                    socket.create_connection(("127.0.0.1", self.smtp_port), timeout=5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or self.smtp_proc.poll() is not None:
                        raise TimeoutError("smtpd not answering")
                    time.sleep(0.05)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, text, count=1, timeout=10):
        deadline = time.monotonic() + timeout
        while self.log().count(text) < count:
            if time.monotonic() > deadline:
                raise TimeoutError("%r not logged %d times:\n%s" % (text, count,
                                                                    self.log()[-3000:]))
            time.sleep(0.02)

    def sessions_logged(self):
        return [l for l in self.log().splitlines() if "event=pop3_session" in l]

    def _stop_proc(self, proc, timeout):
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        return proc.returncode if proc else None

    def stop(self, timeout=15):
        rc = self._stop_proc(self.proc, timeout)
        self._stop_proc(self.smtp_proc, timeout)
        for f in (self.logf, self.smtp_logf):
            if f:
                f.close()
        self.logf = self.smtp_logf = None
        return rc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # ---- mail ----

    def mailbox(self, name="alice"):
        return os.path.join(self.state, "mail", name)

    def deliver(self, body, name="alice", base=None, size_field=True):
        """Store body (bytes, LF line ends as smtpd stores) in NAME's new/
        as smtpd does: written in tmp/, renamed into new/. Returns the base."""
        md = self.mailbox(name)
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(md, sub), exist_ok=True)
        if base is None:
            _counter[0] += 1
            base = "%d.M%06dP%dQ%d.testhost" % (int(time.time()), _counter[0], os.getpid(),
                                                _counter[0])
        fname = base + (",S=%d" % len(body) if size_field else "")
        tmp = os.path.join(md, "tmp", fname)
        with open(tmp, "wb") as f:
            f.write(body)
        os.rename(tmp, os.path.join(md, "new", fname))
        return base

    def files(self, name="alice", sub="cur"):
        d = os.path.join(self.mailbox(name), sub)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def all_files(self, name="alice"):
        return self.files(name, "new") + self.files(name, "cur")

    # ---- clients ----

    def login(self, user="alice", password=PASSWORD, implicit=False, stls=True):
        if implicit:
            p = poplib.POP3_SSL("127.0.0.1", self.tls_port, context=tls_context(), timeout=15)
        else:
            p = poplib.POP3("127.0.0.1", self.port, timeout=15)
            if stls:
                p.stls(tls_context())
        p.user(user)
        p.pass_(password)
        return p


class Raw:
    """A POP3 connection line by line: cmd() sends one line and returns the
    first reply line; lines() reads a multi-line reply up to ".". tls wraps
    it (implicit TLS) or is done later with stls()."""

    def __init__(self, port, implicit=False, timeout=15):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if implicit:
            self.sock = tls_context().wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")
        self.greeting = self.line()

    def line(self):
        return self.f.readline().decode("latin-1").rstrip("\r\n")

    def raw_line(self):
        return self.f.readline()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.line()

    def lines(self):
        """The body of a multi-line reply as raw bytes lines (CRLF kept),
        the "." line excluded."""
        out = []
        while True:
            l = self.f.readline()
            if l in (b".\r\n", b""):
                return out
            out.append(l)

    def stls(self):
        r = self.cmd("STLS")
        assert r == "+OK Begin TLS negotiation", r
        self.sock = tls_context().wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")

    def login(self, user="alice", password=PASSWORD):
        assert self.cmd("USER " + user) == "+OK Send PASS"
        return self.cmd("PASS " + password)

    def closed(self):
        """True when the server closed the connection (EOF)."""
        try:
            return self.f.readline() == b""
        except (ConnectionResetError, ssl.SSLError):
            return True

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass

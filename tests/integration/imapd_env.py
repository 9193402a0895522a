"""The IMAP server under test: `inetkit serve --config FILE` running [imap]
(a STARTTLS listener and an implicit-TLS one) beside [smtp] (so that mail
sent with smtplib lands in the Maildirs IMAP reads), with a state directory
(accounts.db, mail/) and accounts made here in a temporary directory, on
free loopback ports. Shared by test_imapd.py and the imap/ transcripts.

Clients are the real ones: Python's imaplib, curl; a raw socket (Raw) where
a client cannot say what a test needs (exact replies, literals, IDLE).
"""
import os
import re
import smtplib
import socket
import ssl
import subprocess
import time

from conftest import BIN, free_port, run

PASSWORD = "correct-horse-1"


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Imapd:
    """A running serve with [smtp] and [imap]; .stop() or the with-block ends
    it. imap: keys of [imap] (a value None drops a default key)."""

    def __init__(self, base, imap=None, users=("alice", "bob"), log_level="debug"):
        self.base = str(base)
        self.state = os.path.join(self.base, "state")
        os.makedirs(self.state, exist_ok=True)
        self.port = free_port()
        self.tls_port = free_port()
        self.smtp_port = free_port()
        self.db = os.path.join(self.state, "accounts.db")
        keys = {"listen": "127.0.0.1:%d" % self.port,
                "tls_listen": "127.0.0.1:%d" % self.tls_port}
        keys.update(imap or {})
        keys = {k: v for k, v in keys.items() if v is not None}
        text = ("[serve]\nstate_dir = %s\nuser = root\nworkers = 0\nlog_level = %s\n"
                "[accounts]\nhash_cost = 1\nfailure_delay = 0\nlockout_failures = 0\n"
                "lockout_ip_failures = 0\n"
                "[smtp]\nlisten = 127.0.0.1:%d\ndomains = localhost\n"
                % (self.state, log_level, self.smtp_port))
        text += "[imap]\n" + "".join("%s = %s\n" % kv for kv in keys.items())
        self.conf = os.path.join(self.base, "inetkit.conf")
        with open(self.conf, "w") as f:
            f.write(text)
        for u in users:
            run("user", "add", u, "--db", self.db, "--password-stdin",
                input=PASSWORD + "\n", check=0)
        self.log_path = os.path.join(self.base, "serve.log")
        self.proc = None
        self.logf = None
        self.start()

    def start(self):
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BIN, "serve", "--config", self.conf],
                                     stdout=self.logf, stderr=self.logf,
                                     start_new_session=True)
        deadline = time.monotonic() + 20
        for port, implicit in ((self.port, False), (self.tls_port, True)):
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError("serve exited before listening:\n" + self.log()[-3000:])
                try:
                    s = socket.create_connection(("127.0.0.1", port), timeout=5)
                    if implicit:
                        s = tls_context().wrap_socket(s)
                    f = s.makefile("rb")
                    if not f.readline().startswith(b"* OK"):
                        raise OSError("no banner")
                    s.sendall(b"x LOGOUT\r\n")
                    while f.readline():
                        pass
                    s.close()
                    break
                except (OSError, ssl.SSLError):
                    if time.monotonic() > deadline:
                        raise TimeoutError("imapd not answering:\n" + self.log()[-3000:])
                    time.sleep(0.05)
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.smtp_port), timeout=5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        if self.logf:
            self.logf.close()
            self.logf = None
        return self.proc.returncode if self.proc else None

    def restart(self):
        self.stop()
        self.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def maildir(self, user, folder=None):
        d = os.path.join(self.state, "mail", user)
        return os.path.join(d, "." + folder) if folder else d

    def send(self, to, text, sender="me@example.org"):
        """Deliver text through inetkit smtpd (smtplib)."""
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as s:
            s.sendmail(sender, [to], text)


class Raw:
    """A raw IMAP connection: lines as text, exact bytes sent."""

    def __init__(self, port, tls=False, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            self.sock = tls_context().wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")
        self.greeting = self.line()

    def line(self):
        line = self.f.readline()
        if not line:
            raise EOFError("connection closed")
        assert line.endswith(b"\r\n"), line
        return line[:-2].decode("utf-8", "replace")

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def cmd(self, text):
        """Send one command line; return every line up to the tagged reply
        (the tag is the command's first word)."""
        tag = text.split(" ", 1)[0]
        self.send(text + "\r\n")
        return self.until(tag)

    def until(self, tag):
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line.startswith(tag + " "):
                return lines

    def starttls(self):
        assert self.cmd("t0 STARTTLS") == ["t0 OK Begin TLS negotiation now."]
        self.sock = tls_context().wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")

    def login(self, user="alice"):
        lines = self.cmd('l0 LOGIN %s "%s"' % (user, PASSWORD))
        assert lines[-1].startswith("l0 OK"), lines

    def close(self):
        self.sock.close()


def uid_of(fetch_line):
    m = re.search(r"UID (\d+)", fetch_line)
    return int(m.group(1)) if m else None

"""The SMTP server under test: `inetkit smtpd --config FILE` with a config,
a state directory (accounts.db, mail/, queue/) and accounts made here in a
temporary directory, on free loopback ports (the three roles: port 25,
submission, submissions). Shared by the test_smtpd*.py files. Clients are
the real ones: Python's smtplib, swaks, and raw sockets where a client
cannot say what a test needs (BDAT, bare LF, pipelined bursts).
"""
import glob
import os
import smtplib
import socket
import ssl
import subprocess
import time

from conftest import BIN, free_port, run, wait_port

PASSWORD = "correct-horse-1"


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Smtpd:
    """A running server; .stop() (or the with-block) ends it."""

    def __init__(self, base, extra="", accounts="", users=("alice",), workers=0,
                 domains="localhost example.test"):
        self.base = str(base)
        self.state = os.path.join(self.base, "state")
        os.makedirs(self.state, exist_ok=True)
        self.port = free_port()
        self.sub_port = free_port()
        self.subs_port = free_port()
        self.conf = os.path.join(self.base, "inetkit.conf")
        if "hash_cost" not in accounts:
            accounts = "hash_cost = 1\n" + accounts
        text = ("[serve]\nstate_dir = %s\nuser = root\nworkers = %d\nlog_level = debug\n"
                "[accounts]\nfailure_delay = 0\n%s\n"
                "[smtp]\nlisten = 127.0.0.1:%d\nsubmission_listen = 127.0.0.1:%d\n"
                "submissions_listen = 127.0.0.1:%d\nhostname = mx.example.test\n"
                "domains = %s\n%s"
                % (self.state, workers, accounts, self.port, self.sub_port, self.subs_port,
                   domains, extra))
        with open(self.conf, "w") as f:
            f.write(text)
        for u in users:
            self.add_user(*u) if isinstance(u, tuple) else self.add_user(u)
        self.log_path = os.path.join(self.base, "smtpd.log")
        self.proc = None
        self.start()

    def add_user(self, name, *args):
        run("user", "add", name, "--config", self.conf, "--password-stdin", *args,
            input=PASSWORD + "\n", check=0)

    def start(self):
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BIN, "smtpd", "--config", self.conf],
                                     stdout=self.logf, stderr=self.logf)
        try:
            for port in (self.port, self.sub_port, self.subs_port):
                wait_port(port, proc=self.proc)
            # the probes of wait_port are gone before a test counts sessions
            deadline = time.monotonic() + 10
            while self.log().count("event=close proto=smtp") < 3:
                assert time.monotonic() < deadline, self.log()
                time.sleep(0.02)
        except BaseException:
            self.stop()
            raise

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # ---- where mail lands ----

    def maildir(self, name, sub="new"):
        """Sorted paths of the messages in a mailbox's new/ (or cur/, tmp/)."""
        return sorted(glob.glob(os.path.join(self.state, "mail", name, sub, "*")))

    def messages(self, name):
        out = []
        for p in self.maildir(name):
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def queue(self):
        """Queue ids (the ID of each ID.env)."""
        return sorted(os.path.basename(p)[:-4]
                      for p in glob.glob(os.path.join(self.state, "queue", "*.env")))

    # ---- clients ----

    def smtp(self, port=None, timeout=20):
        return smtplib.SMTP("127.0.0.1", port or self.port, local_hostname="client.example",
                            timeout=timeout)

    def submission(self, user="alice", password=PASSWORD, timeout=20):
        s = smtplib.SMTP("127.0.0.1", self.sub_port, local_hostname="client.example",
                         timeout=timeout)
        s.starttls(context=tls_context())
        s.login(user, password)
        return s

    def swaks(self, *args, check=True, timeout=60):
        p = subprocess.run(["swaks", "--helo", "client.example"] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        out = p.stdout.decode("utf-8", "replace")
        if check:
            assert p.returncode == 0, "swaks %s: exit %d\n%s\n--- server log:\n%s" % (
                args, p.returncode, out, self.log()[-3000:])
        return out


def split_message(data):
    """(trace header lines, the rest) of a stored message: the two lines
    the server adds (Return-Path, then Received with its folded lines)."""
    lines = data.split(b"\n")
    assert lines[0].startswith(b"Return-Path: <"), data[:200]
    assert lines[1].startswith(b"Received: from "), data[:300]
    i = 2
    while lines[i].startswith(b"\t"):
        i += 1
    return lines[:i], b"\n".join(lines[i:])


class Raw:
    """A bare SMTP connection: send bytes exactly, read whole replies."""

    def __init__(self, port, host="127.0.0.1", timeout=10, tls=False):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if tls:
            self.sock = tls_context().wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")
        self.greeting = self.reply()

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def reply(self):
        """One whole reply (multi-line aware) as text."""
        line = self.f.readline().decode("utf-8", "replace")
        assert len(line) >= 4, "connection closed: %r" % line
        out = line
        while line[3] == "-":
            line = self.f.readline().decode("utf-8", "replace")
            assert line, "connection closed inside a multi-line reply"
            out += line
        return out

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def starttls(self):
        assert self.cmd("STARTTLS").startswith("220 2.0.0")
        self.sock = tls_context().wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")

    def close(self):
        self.f.close()
        self.sock.close()

"""The FTP server under test: `inetkit ftpd --config FILE` with a config,
a state directory (accounts.db), roots and accounts made here in a
temporary directory, on free loopback ports. Shared by the test_ftpd*.py
files. Clients are the real ones: Python's ftplib, curl, lftp.
"""
import ftplib
import io
import os
import socket
import sqlite3
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


class Ftpd:
    """A running server; .stop() (or the with-block) ends it."""

    def __init__(self, base, extra="", accounts="", anonymous=True, upload="incoming",
                 implicit=False, workers=0, users=(), ipv6=False):
        self.base = str(base)
        self.state = os.path.join(self.base, "state")
        self.root = os.path.join(self.base, "anon")
        self.port = free_port()
        self.port6 = free_port(socket.AF_INET6)
        self.implicit_port = free_port() if implicit else None
        self.xferlog = os.path.join(self.base, "xferlog")
        os.makedirs(os.path.join(self.root, "pub", "docs"), exist_ok=True)
        if upload:
            os.makedirs(os.path.join(self.root, upload), exist_ok=True)
        with open(os.path.join(self.root, "pub", "hello.txt"), "w") as f:
            f.write("hello, world\n")
        with open(os.path.join(self.root, "pub", "docs", "lines.txt"), "w") as f:
            f.write("one\ntwo\nthree\n")
        self.conf = os.path.join(self.base, "inetkit.conf")
        if "hash_cost" not in accounts:
            accounts = "hash_cost = 1\n" + accounts
        text = ("[serve]\nstate_dir = %s\nuser = root\nworkers = %d\nlog_level = debug\n"
                "[accounts]\nfailure_delay = 0\n%s\n"
                "[ftp]\nlisten = 127.0.0.1:%d%s\nanonymous = %s\nanonymous_root = %s\n"
                "xferlog = %s\n" % (self.state, workers, accounts, self.port,
                                    ", [::1]:%d" % self.port6 if ipv6 else "",
                                    "yes" if anonymous else "no", self.root, self.xferlog))
        if upload:
            text += "anonymous_upload = %s\n" % upload
        if implicit:
            text += "implicit_tls_listen = 127.0.0.1:%d\n" % self.implicit_port
        text += extra
        with open(self.conf, "w") as f:
            f.write(text)
        self.homes = {}
        for u in users:
            self.add_user(*u) if isinstance(u, tuple) else self.add_user(u)
        self.log_path = os.path.join(self.base, "ftpd.log")
        self.proc = None
        self.start()

    def add_user(self, name, *args):
        home = os.path.join(self.base, "home-" + name)
        os.makedirs(home, exist_ok=True)
        run("user", "add", name, "--config", self.conf, "--home", home, "--password-stdin",
            *args, input=PASSWORD + "\n", check=0)
        self.homes[name] = home
        return home

    def set_expired(self, name):
        """Move an account's expiry into the past (no CLI can: it must be future)."""
        db = sqlite3.connect(os.path.join(self.state, "accounts.db"))
        db.execute("UPDATE accounts SET expires = ? WHERE name = ?", (int(time.time()) - 60, name))
        db.commit()
        db.close()

    def start(self):
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BIN, "ftpd", "--config", self.conf],
                                     stdout=self.logf, stderr=self.logf)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self):
        wait_port(self.port, proc=self.proc)
        probes = 1
        if self.implicit_port:
            wait_port(self.implicit_port, proc=self.proc)
            probes += 1
        # wait_port's probe connections must be gone before a test counts
        # sessions (the per-address and total limits)
        deadline = time.monotonic() + 10
        while self.log().count("event=close proto=ftp") < probes:
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.02)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self, timeout=15):
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

    # ---- clients ----

    def ftp(self, user="anonymous", password="guest@example.org", login=True, timeout=20):
        f = ftplib.FTP()
        f.connect("127.0.0.1", self.port, timeout=timeout)
        if login:
            f.login(user, password)
        return f

    def ftps(self, user="anonymous", password="guest@example.org", prot_p=True, timeout=20):
        f = ftplib.FTP_TLS(context=tls_context())
        f.connect("127.0.0.1", self.port, timeout=timeout)
        f.auth()
        f.login(user, password)
        if prot_p:
            f.prot_p()
        return f

    def url(self, path="", user=None, scheme="ftp", port=None):
        auth = "%s:%s@" % (user, PASSWORD) if user else ""
        return "%s://%s127.0.0.1:%d/%s" % (scheme, auth, port or self.port, path)

    def curl(self, *args, check=True, timeout=60):
        p = subprocess.run(["curl", "-sS", "--max-time", str(timeout)] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout + 5)
        if check:
            assert p.returncode == 0, "curl %s: exit %d\n%s\n--- server log:\n%s" % (
                args, p.returncode, p.stderr.decode(errors="replace"), self.log()[-3000:])
        return p

    def lftp(self, script, user="anonymous", password="guest@example.org", timeout=120):
        p = subprocess.run(["lftp", "-u", "%s,%s" % (user, password), "-e",
                            "set net:max-retries 1; set net:timeout 20; " + script + "; quit",
                            "127.0.0.1:%d" % self.port],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        assert p.returncode == 0, "lftp: exit %d\n%s\n%s" % (
            p.returncode, p.stderr.decode(errors="replace"), self.log()[-3000:])
        return p


def raw(port, host="127.0.0.1", timeout=10):
    """A bare control connection: returns (socket, file) after the banner."""
    s = socket.create_connection((host, port), timeout=timeout)
    f = s.makefile("rb")
    line = f.readline()
    assert line.startswith(b"220"), line
    return s, f


def reply(f):
    """One whole reply (multi-line aware) as text."""
    line = f.readline().decode("utf-8", "replace")
    assert len(line) >= 4, "connection closed: %r" % line
    out = line
    if line[3] == "-":
        code = line[:3]
        while True:
            line = f.readline().decode("utf-8", "replace")
            assert line, "connection closed inside a multi-line reply"
            out += line
            if line.startswith(code + " "):
                break
    return out


def cmd(s, f, text):
    s.sendall(text.encode() + b"\r\n")
    return reply(f)


def login_raw(port, user="anonymous", password="x@y"):
    s, f = raw(port)
    assert cmd(s, f, "USER " + user).startswith("331")
    r = cmd(s, f, "PASS " + password)
    assert r.startswith("230"), r
    return s, f


def pasv_port(text):
    """The port of a 227 or 229 reply."""
    if text.startswith("229"):
        return int(text.split("|||")[1].split("|")[0])
    nums = text[text.index("(") + 1:text.index(")")].split(",")
    return int(nums[4]) * 256 + int(nums[5])


def data_bytes(f, cmdline, store=None, rest=None):
    """retrbinary into bytes."""
    b = io.BytesIO()
    f.retrbinary(cmdline, b.write, rest=rest)
    return b.getvalue()

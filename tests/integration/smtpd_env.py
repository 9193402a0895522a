"""The SMTP server under test: `inetkit smtpd --config FILE` with a config,
a state directory (accounts.db, mail/, queue/) and accounts made here in a
temporary directory (and, when asked, a self-signed certificate; else the
server's in-memory one), on free loopback ports for the three roles
(listen: port 25, submission: 587 with STARTTLS, submissions: 465 with
implicit TLS). Shared by the test_smtpd*.py files and the smtp/ transcripts.
Clients are the real ones: Python's smtplib, swaks, curl, and raw sockets
where a client cannot say what a test needs (BDAT, bare LF, pipelining).

Besides the server: two raw SMTP connections (Raw: replies as text; Conn:
replies as Reply objects, bytes sent exactly), reply assertions on the basic
and enhanced codes (assert_reply), and readers for what the server stored:
the Maildirs (STATE/mail/NAME/new), the queue (STATE/queue/ID.env + ID.msg)
and the spool (STATE/mail/.spool).
"""
import base64
import glob
import json
import os
import re
import signal
import smtplib
import socket
import sqlite3
import ssl
import subprocess
import time

from conftest import BIN, free_port, run

PASSWORD = "correct-horse-1"
HOSTNAME = "mx.example.test"
CLIENT = "client.example"
# [accounts] for tests that fail logins on purpose and then log in
NO_LOCKOUT = {"lockout_failures": "0", "lockout_ip_failures": "0"}


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def make_cert(directory, name=HOSTNAME):
    """A self-signed EC certificate and key (PEM) in directory."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def plain_token(user, password=PASSWORD):
    """The AUTH PLAIN initial response for user/password."""
    return base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()


class Smtpd:
    """A running server; .stop() (or the with-block) ends it.

    The [smtp] section: the three listeners, hostname, domains, then extra
    (text, key = value lines) and smtp (a dict of keys; a value None drops
    a default key such as a listener). accounts: [accounts] lines (text) or
    keys (dict); hash_cost 1 and failure_delay 0 unless given. users: names,
    or tuples (name, extra `user add` args such as "--quota", "8k"). tls:
    write [tls] with a certificate made here (default: the server's
    in-memory self-signed one)."""

    def __init__(self, base, extra="", accounts="", users=("alice",), workers=0,
                 domains="localhost example.test", smtp=None, tls=False, start=True,
                 log_level="debug"):
        self.base = str(base)
        self.state = os.path.join(self.base, "state")
        os.makedirs(self.state, exist_ok=True)
        self.port = free_port()
        self.sub_port = free_port()
        self.subs_port = free_port()
        self.db = os.path.join(self.state, "accounts.db")
        keys = {"listen": "127.0.0.1:%d" % self.port,
                "submission_listen": "127.0.0.1:%d" % self.sub_port,
                "submissions_listen": "127.0.0.1:%d" % self.subs_port,
                "hostname": HOSTNAME,
                "domains": domains,
                # the queue stays as the server wrote it unless a test
                # runs the relay (test_relay_out.py)
                "relay_enabled": "no",
                # SPF/DKIM/DMARC on the listen role would add a header to
                # what the other tests compare: test_mailauth.py turns them on
                "mail_auth": "no"}
        keys.update(smtp or {})
        keys = {k: v for k, v in keys.items() if v is not None}
        if "listen" not in keys:
            self.port = None
        if "submission_listen" not in keys:
            self.sub_port = None
        if "submissions_listen" not in keys:
            self.subs_port = None
        if isinstance(accounts, dict):
            accounts = "".join("%s = %s\n" % kv for kv in accounts.items())
        for key, value in (("hash_cost", "1"), ("failure_delay", "0")):
            if key not in accounts:
                accounts = "%s = %s\n" % (key, value) + accounts
        text = ("[serve]\nstate_dir = %s\nuser = root\nworkers = %d\nlog_level = %s\n"
                % (self.state, workers, log_level))
        if tls:
            self.cert, self.key = make_cert(self.base)
            text += "[tls]\ncert = %s\nkey = %s\n" % (self.cert, self.key)
        text += "[accounts]\n" + accounts
        if not text.endswith("\n"):
            text += "\n"
        text += "[smtp]\n" + "".join("%s = %s\n" % kv for kv in keys.items()) + extra
        self.conf = os.path.join(self.base, "inetkit.conf")
        with open(self.conf, "w") as f:
            f.write(text)
        for u in users:
            if isinstance(u, tuple):
                self.add_user(*u)
            else:
                self.add_user(u)
        self.log_path = os.path.join(self.base, "smtpd.log")
        self.proc = None
        self.logf = None
        if start:
            self.start()

    # ---- accounts ----

    def add_user(self, name, *args):
        run("user", "add", name, "--db", self.db, "--password-stdin", *args,
            input=PASSWORD + "\n", check=0)

    def add_token(self, name, label, services="smtp"):
        p = run("user", "token", "add", name, "--label", label, "--services", services,
                "--db", self.db, check=0)
        return p.stdout.strip()

    def set_quota(self, name, quota):
        """Change an account's quota in place (no `user` verb does that)."""
        db = sqlite3.connect(self.db)
        db.execute("UPDATE accounts SET quota = ? WHERE name = ?", (quota, name))
        db.commit()
        db.close()

    # ---- process ----

    def start(self):
        self.logf = open(self.log_path, "ab")
        # its own process group: the crash test kills it and its workers at once
        self.proc = subprocess.Popen([BIN, "smtpd", "--config", self.conf],
                                     stdout=self.logf, stderr=self.logf,
                                     start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _probe(self, port, implicit):
        """Connect, read the banner, QUIT, read to the end: the session is
        over on the server's side too when this returns."""
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            if implicit:
                s = tls_context().wrap_socket(s)
            f = s.makefile("rb")
            line = f.readline()
            if not line.startswith(b"220"):
                raise OSError("banner: %r" % line)
            s.sendall(b"QUIT\r\n")
            while f.readline():
                pass
        finally:
            s.close()

    def _wait_ready(self):
        deadline = time.monotonic() + 20
        closed = self.log().count("event=close proto=smtp")
        probes = 0
        for port, implicit in ((self.port, False), (self.sub_port, False),
                               (self.subs_port, True)):
            if port is None:
                continue
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError("smtpd exited with %s before listening:\n%s"
                                       % (self.proc.returncode, self.log()[-3000:]))
                try:
                    self._probe(port, implicit)
                    probes += 1
                    break
                except (OSError, ssl.SSLError):
                    if time.monotonic() > deadline:
                        raise TimeoutError("smtpd not answering on port %d:\n%s"
                                           % (port, self.log()[-3000:]))
                    time.sleep(0.05)
        # the probes' sessions are gone on the server's side before a test
        # counts sessions (the per-address and total limits)
        while self.log().count("event=close proto=smtp") < closed + probes:
            if time.monotonic() > deadline:
                raise TimeoutError("the probe sessions never closed:\n" + self.log()[-3000:])
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
                self.kill9()
        if self.logf:
            self.logf.close()
            self.logf = None
        return self.proc.returncode if self.proc else None

    def kill9(self):
        """SIGKILL the server and every worker (its process group)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        if self.logf:
            self.logf.close()
            self.logf = None

    def restart(self):
        self.stop()
        self.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # ---- what the server stored ----

    def mailbox(self, name):
        """NAME's Maildir (STATE/mail/NAME)."""
        return os.path.join(self.state, "mail", name)

    def maildir(self, name, sub="new"):
        """Sorted paths of the messages in a mailbox's new/ (or cur/, tmp/)."""
        return sorted(glob.glob(os.path.join(self.state, "mail", name, sub, "*")))

    def messages(self, name):
        """The bytes of each message in NAME's new/."""
        return [read(p) for p in self.maildir(name)]

    def queue(self):
        """Queue ids (the ID of each ID.env)."""
        return self.queue_ids()

    def new_files(self, name):
        """Paths of the messages in NAME's new/, oldest name first."""
        d = os.path.join(self.mailbox(name), "new")
        if not os.path.isdir(d):
            return []
        return sorted(os.path.join(d, n) for n in os.listdir(d))

    def mailboxes(self):
        d = os.path.join(self.state, "mail")
        if not os.path.isdir(d):
            return []
        return sorted(n for n in os.listdir(d) if not n.startswith("."))

    def all_stored(self):
        """Every message file anywhere: each mailbox's new/ and cur/, and
        the queue (envelopes and messages)."""
        out = []
        for name in self.mailboxes():
            for sub in ("new", "cur"):
                d = os.path.join(self.mailbox(name), sub)
                if os.path.isdir(d):
                    out += [os.path.join(d, n) for n in os.listdir(d)]
        q = self.queue_dir()
        if os.path.isdir(q):
            out += [os.path.join(q, n) for n in os.listdir(q)]
        return sorted(out)

    def snapshot(self):
        return frozenset(self.all_stored())

    def added_since(self, snap):
        return sorted(set(self.all_stored()) - snap)

    def assert_nothing_stored(self, snap):
        added = self.added_since(snap)
        assert not added, "stored although refused: %s" % added

    def queue_dir(self):
        return os.path.join(self.state, "queue")

    def queue_ids(self):
        q = self.queue_dir()
        if not os.path.isdir(q):
            return []
        return sorted(n[:-4] for n in os.listdir(q) if n.endswith(".env"))

    def queue_msg(self, qid):
        with open(os.path.join(self.queue_dir(), qid + ".msg"), "rb") as f:
            return f.read()

    def queue_path(self, qid):
        return os.path.join(self.queue_dir(), qid + ".msg")

    def queue_delete(self, qid):
        run("queue", "delete", qid, "--state-dir", self.state, check=0)
        assert qid not in self.queue_ids()

    def queue_show(self, qid):
        """One queue entry's envelope as a dict, through `inetkit queue show
        ID --json` (the tool users have)."""
        p = run("queue", "show", qid, "--json", "--state-dir", self.state)
        assert p.returncode == 0, "queue show %s: exit %d\n%s%s" % (
            qid, p.returncode, p.stdout, p.stderr)
        return json.loads(p.stdout)

    def spool_files(self):
        d = os.path.join(self.state, "mail", ".spool")
        if not os.path.isdir(d):
            return []
        return sorted(os.listdir(d))

    # ---- clients ----

    def smtp(self, port=None, timeout=20):
        return smtplib.SMTP("127.0.0.1", port or self.port, local_hostname=CLIENT,
                            timeout=timeout)

    def submission(self, user="alice", password=PASSWORD, timeout=20):
        s = smtplib.SMTP("127.0.0.1", self.sub_port, local_hostname=CLIENT, timeout=timeout)
        s.starttls(context=tls_context())
        s.login(user, password)
        return s

    def swaks(self, *args, check=True, timeout=60):
        p = subprocess.run(["swaks", "--helo", CLIENT] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        out = p.stdout.decode("utf-8", "replace")
        if check:
            assert p.returncode == 0, "swaks %s: exit %d\n%s\n--- server log:\n%s" % (
                args, p.returncode, out, self.log()[-3000:])
        return out

    def wait_stored(self, name, count, timeout=10):
        """NAME's new/ holds count messages (delivery is before the 250, so
        this only waits for a client that did not wait for its reply)."""
        deadline = time.monotonic() + timeout
        while len(self.new_files(name)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.new_files(name)


# ---- reading stored messages ----

TRACE_RX = re.compile(rb"\AReturn-Path: <[^\r\n]*>\n(Received: [^\n]*\n(?:[ \t][^\n]*\n)*)")


def split_trace(data):
    """(Received header, the rest) of a stored message that must start with
    exactly the two trace headers the server adds: Return-Path, Received."""
    m = TRACE_RX.match(data)
    assert m, "the stored message does not start with Return-Path + Received:\n%r" % data[:600]
    rest = data[m.end():]
    assert not rest.startswith(b"Return-Path:") and not rest.startswith(b"Received: from"), \
        "more than two trace headers were added:\n%r" % data[:800]
    return m.group(1).decode("utf-8", "replace"), rest


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


def read(path):
    with open(path, "rb") as f:
        return f.read()


def body_of(path):
    """A stored message without the server's two trace headers."""
    return split_trace(read(path))[1]


def lf(data):
    """What the server stores for network bytes: CRLF as LF."""
    return data.replace(b"\r\n", b"\n")


def return_path(path):
    m = re.match(rb"Return-Path: <([^>\n]*)>\n", read(path))
    return m.group(1).decode() if m else None


def message(subject="test", body="Hello.\r\n", frm="sender@example.org", to="alice@localhost",
            extra=""):
    """A small RFC 5322 message with CRLF line ends, as bytes."""
    text = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\n%s\r\n%s"
            % (frm, to, subject, re.sub(r"[^A-Za-z0-9]", "", subject) or "x", extra, body))
    return text.encode()


# ---- a raw connection ----

class Reply:
    """One whole reply: .code (int), .lines (each without CRLF), .text (the
    last line's text after the code)."""

    def __init__(self, lines):
        self.lines = lines
        self.code = int(lines[-1][:3])
        self.text = lines[-1][4:]

    def __str__(self):
        return "\n".join(self.lines)

    __repr__ = __str__


def assert_reply(r, code, enh=None, rx=None):
    """r has the basic code (int), every line the enhanced code enh (when
    given), and its text matches regex rx (re.search, any case)."""
    assert isinstance(r, Reply), "no reply: %r" % (r,)
    assert r.code == code, "expected %s %s, got:\n%s" % (code, enh or "", r)
    for i, line in enumerate(r.lines):
        sep = " " if i == len(r.lines) - 1 else "-"
        assert line[:4] == "%d%s" % (code, sep), "malformed reply line %r" % line
        if enh:
            assert line[4:].startswith(enh + " ") or line[4:] == enh, \
                "expected enhanced code %s in %r" % (enh, line)
    if rx:
        assert re.search(rx, "\n".join(r.lines), re.I), "reply %r does not match /%s/" % (
            str(r), rx)
    return r


class Raw:
    """A bare SMTP connection: send bytes exactly, read whole replies as text."""

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


class Closed(Exception):
    pass


class Conn:
    """A bare SMTP connection. Sends bytes exactly as given; reads replies
    line by line as the server sent them."""

    def __init__(self, port, tls=False, host="127.0.0.1", source=None, timeout=10,
                 banner=True):
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.timeout = timeout
        if tls:
            self.sock = tls_context().wrap_socket(self.sock)
        self.buf = b""
        self.banner = self.reply() if banner else None

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def readline(self):
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                chunk = b""
            if not chunk:
                raise Closed("connection closed; unread: %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        assert line.endswith(b"\r"), "reply line without CRLF: %r" % line
        return line[:-1].decode("utf-8", "replace")

    def reply(self):
        lines = [self.readline()]
        while len(lines[-1]) >= 4 and lines[-1][3] == "-":
            lines.append(self.readline())
        assert re.match(r"[2-5][0-9][0-9]( |$)", lines[-1]), "malformed reply: %r" % lines
        return Reply(lines)

    def cmd(self, line):
        self.send(line.encode() if isinstance(line, str) else line)
        self.send(b"\r\n")
        return self.reply()

    def ehlo(self, name=CLIENT):
        return assert_reply(self.cmd("EHLO " + name), 250)

    def starttls(self):
        assert_reply(self.cmd("STARTTLS"), 220, "2.0.0")
        assert self.buf == b"", "bytes after the STARTTLS go-ahead: %r" % self.buf
        self.sock = tls_context().wrap_socket(self.sock)

    def auth(self, user="alice", password=PASSWORD):
        return self.cmd("AUTH PLAIN " + plain_token(user, password))

    def data(self, payload):
        """DATA, then payload (bytes, sent as they are, ending included)."""
        assert_reply(self.cmd("DATA"), 354)
        self.send(payload)
        return self.reply()

    def send_mail(self, frm, rcpts, msg):
        """One whole transaction with a CRLF message (dot-stuffed here);
        returns the reply to the end of data."""
        assert_reply(self.cmd("MAIL FROM:<%s>" % frm), 250)
        for r in rcpts:
            assert_reply(self.cmd("RCPT TO:<%s>" % r), 250)
        return self.data(dot_stuff(msg) + b".\r\n")

    def closed(self, timeout=None):
        """True when the server has closed the connection (and sent nothing
        more)."""
        self.sock.settimeout(timeout or self.timeout)
        if self.buf:
            return False
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
        finally:
            self.sock.settimeout(self.timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def dot_stuff(msg):
    """msg (CRLF lines, ending in CRLF) as DATA carries it: a leading dot doubled."""
    if not msg.endswith(b"\r\n"):
        msg += b"\r\n"
    out = re.sub(rb"(?m)^\.", b"..", msg)
    return out

"""Transcript tests: exact protocol dialogues replayed against a live server.

A transcript is a text file of directives, one per line (tests/transcripts/README.md):

  # text               a comment; the first one is the dialogue's title
  @config LINE         a line added to the service's config section (before start)
  @user NAME           an account made with the tests' password
  @port ROLE           the listener to connect to, for services with several
                       (smtp: listen, submission, submissions; default: the first)
  C: TEXT              a command the client sends (CRLF added)
  S: PATTERN           one line the server must answer, matched whole
  D: TEXT              one line expected on the data connection of the next command
  U: TEXT              one line the client sends on the data connection of the next command
  = closed             the server must have closed the connection
  = tls                the client starts TLS on the control connection now
  = pause MS           wait before the next directive

Patterns are literal text with placeholders: {*} any text, {n} digits,
{pasv} an FTP h1,h2,h3,h4,p1,p2 tuple and {epsv} |||port| (both remembered:
the next D:/U: block connects there), {port} the server's control port.
In C: lines, {password} is the tests' password and {active} a PORT
argument for a socket the runner listens on.

A mismatch fails with the transcript's line number, the expected pattern and
the line the server sent, so a change of wording or order reads as a diff.
"""
import os
import re
import socket
import ssl
import threading
import time

PLACEHOLDERS = {
    "{*}": ".*",
    "{n}": "[0-9]+",
    "{pasv}": "(?P<pasv>[0-9]+,[0-9]+,[0-9]+,[0-9]+,[0-9]+,[0-9]+)",
    "{epsv}": r"\|\|\|(?P<epsv>[0-9]+)\|",
}


class Transcript:
    def __init__(self, path):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.title = ""
        self.config = []
        self.users = []
        self.port = None  # the listener's role (@port); None: the service's first
        self.steps = []  # (lineno, kind, text)
        with open(path, encoding="utf-8") as f:
            for no, raw in enumerate(f, 1):
                line = raw.rstrip("\n")
                if not line.strip():
                    continue
                if line.startswith("#"):
                    if not self.title:
                        self.title = line.lstrip("# ").strip()
                    continue
                if line.startswith("@config "):
                    self.config.append(line[len("@config "):])
                elif line.startswith("@user "):
                    self.users.append(line[len("@user "):].strip())
                elif line.startswith("@port "):
                    self.port = line[len("@port "):].strip()
                elif line[:3] in ("C: ", "S: ", "D: ", "U: ") or line in ("C:", "S:", "D:", "U:"):
                    self.steps.append((no, line[0], line[3:]))
                elif line.startswith("= "):
                    self.steps.append((no, "=", line[2:].strip()))
                else:
                    raise ValueError("%s:%d: not a transcript directive: %r" % (path, no, line))


def compile_pattern(pattern, port):
    out = ""
    i = 0
    while i < len(pattern):
        for ph, rx in PLACEHOLDERS.items():
            if pattern.startswith(ph, i):
                out += rx
                i += len(ph)
                break
        else:
            if pattern.startswith("{port}", i):
                out += str(port)
                i += len("{port}")
            else:
                out += re.escape(pattern[i])
                i += 1
    return re.compile(out + r"\Z", re.S)


class Mismatch(AssertionError):
    pass


class Replay:
    """Plays one transcript over a fresh control connection to host:port."""

    def __init__(self, transcript, host, port, password, timeout=10):
        self.t = transcript
        self.host = host
        self.port = port
        self.password = password
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.data_addr = None
        self.active = None
        self.got = []  # what the dialogue really was, for the failure message

    def fail(self, no, why):
        shown = "\n".join(self.got[-12:])
        raise Mismatch("%s:%d: %s\n--- dialogue so far:\n%s" % (self.t.path, no, why, shown))

    def readline(self, no):
        while b"\r\n" not in self.buf:
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                self.fail(no, "no line from the server within %ds" % self.timeout)
            except (ConnectionResetError, ssl.SSLError) as e:
                chunk = b""
                self.got.append("(connection error: %s)" % e)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        text = line.decode("utf-8", "replace")
        self.got.append("S: " + text)
        return text

    def send(self, text):
        text = text.replace("{password}", self.password)
        if "{active}" in text:
            ls = socket.socket()
            ls.bind(("127.0.0.1", 0))
            ls.listen(1)
            ls.settimeout(self.timeout)
            p = ls.getsockname()[1]
            self.active = ls
            self.data_addr = None
            text = text.replace("{active}", "127,0,0,1,%d,%d" % (p >> 8, p & 255))
        self.got.append("C: " + text)
        self.sock.sendall(text.encode() + b"\r\n")

    def data_socket(self):
        if self.active is not None:
            s, _ = self.active.accept()
            self.active.close()
            self.active = None
            return s
        if self.data_addr is None:
            raise AssertionError("D:/U: lines without a PASV/EPSV/PORT before them")
        return socket.create_connection(self.data_addr, timeout=self.timeout)

    def start_data(self, down, up):
        """Connect (or accept) the data connection in the background."""
        result = {}

        def work():
            try:
                s = self.data_socket()
                s.settimeout(self.timeout)
                if up is not None:
                    s.sendall("".join(line + "\r\n" for line in up).encode())
                    s.close()
                    return
                chunks = []
                while True:
                    c = s.recv(65536)
                    if not c:
                        break
                    chunks.append(c)
                s.close()
                result["data"] = b"".join(chunks)
            except Exception as e:  # reported by the caller
                result["error"] = e

        th = threading.Thread(target=work, daemon=True)
        th.start()
        return th, result

    def run(self):
        steps = self.t.steps
        i = 0
        pending = None  # (thread, result, expected-lines, lineno)
        while i < len(steps):
            no, kind, text = steps[i]
            if kind == "C":
                # the data lines that follow belong to this command
                j = i + 1
                down, up = [], None
                while j < len(steps) and steps[j][1] in ("D", "U"):
                    if steps[j][1] == "D":
                        down.append(steps[j][2])
                    else:
                        up = (up or []) + [steps[j][2]]
                    j += 1
                self.send(text)
                if down or up is not None:
                    th, res = self.start_data(down, up)
                    pending = (th, res, down if up is None else None, steps[i + 1][0])
                i = j
                continue
            if kind == "S":
                line = self.readline(no)
                if line is None:
                    self.fail(no, "expected %r, but the server closed the connection" % text)
                m = compile_pattern(text, self.port).match(line)
                if not m:
                    self.fail(no, "expected %r\n     got %r" % (text, line))
                gd = m.groupdict()
                if gd.get("pasv"):
                    n = [int(x) for x in gd["pasv"].split(",")]
                    self.data_addr = ("%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5])
                if gd.get("epsv"):
                    self.data_addr = (self.host, int(gd["epsv"]))
                # a data transfer is over once its final reply has come
                if pending and line[:1] in "2345" and line[3:4] == " ":
                    self.finish_data(pending)
                    pending = None
            elif kind == "=":
                self.directive(no, text)
            i += 1
        if pending:
            self.finish_data(pending)
        self.sock.close()

    def finish_data(self, pending):
        th, res, down, no = pending
        th.join(self.timeout)
        if "error" in res:
            self.fail(no, "data connection: %s" % res["error"])
        if down is not None:
            got = res.get("data", b"").decode("utf-8", "replace")
            # TYPE A data has CRLF line ends, TYPE I the file's own
            lines = [ln[:-1] if ln.endswith("\r") else ln for ln in got.split("\n")]
            if lines and lines[-1] == "":
                lines.pop()
            for k, want in enumerate(down):
                if k >= len(lines):
                    self.fail(no + k, "data: expected %r, the data ended" % want)
                if not compile_pattern(want, self.port).match(lines[k]):
                    self.fail(no + k, "data: expected %r\n           got %r" % (want, lines[k]))
            if len(lines) > len(down):
                self.fail(no + len(down), "data: unexpected extra line %r" % lines[len(down)])

    def directive(self, no, text):
        if text == "closed":
            self.sock.settimeout(self.timeout)
            try:
                extra = self.buf or self.sock.recv(4096)
            except (ConnectionResetError, ssl.SSLError):
                extra = b""
            if extra:
                self.fail(no, "expected the connection closed, got %r" % extra)
            self.got.append("(closed)")
        elif text == "tls":
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            if self.buf:
                self.fail(no, "bytes after the TLS go-ahead: %r" % self.buf)
            self.sock = ctx.wrap_socket(self.sock)
            self.got.append("(TLS started)")
        elif text.startswith("pause "):
            time.sleep(int(text.split()[1]) / 1000.0)
        else:
            self.fail(no, "unknown directive '= %s'" % text)

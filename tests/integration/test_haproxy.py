"""Two inetkit nodes behind Debian's HAProxy (send-proxy-v2), sharing one
PostgreSQL accounts store (pg_env.py) and one mail directory (the same
state_dir). Node A listens on 127.0.0.1, node B on 127.0.0.2; HAProxy
takes clients on 127.0.0.3 and connects to the nodes from 127.0.0.9, the
only address in proxy_trusted; its health checks are GET /health on each
node's [metrics] port. Clients bind their own loopback source addresses
(127.0.0.5, 127.0.0.6) so that the nodes can tell them apart.

Asserted: the per-IP session limit counts the client's address, not
HAProxy's; a PROXY header straight from a client is refused; killing the
node that holds a session loses no mail it acknowledged (the message is
in the shared Maildir) and HAProxy sends the next client to the other
node, which delivers into the same mailbox.

[imap] and [pop3] run on both nodes too, behind HAProxy with
send-proxy-v2 like [smtp]: mail delivered by one node is read over IMAP on
both with the same UIDVALIDITY and UIDs (the per-folder index file under
flock, src/mailstore/mail_index.c, shared through the common state_dir),
a message delivered while a session on the other node has the folder
selected appears there with the next UID, a POP3 session on one node
locks the maildrop against the other (on this local filesystem only: the
lock is a flock on the Maildir directory, which Linux NFS clients keep
local; docs/scale-out.md), the real client address reaches the
pop3/imap logs and per-IP limits, and a PROXY header straight from a
client is refused by both. Besides the balanced frontends HAProxy has one
frontend per service pinned to each node, so that a test can choose the
node; the client still connects through HAProxy."""
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import time
import urllib.request

import pytest

import pg_env
from conftest import BIN, free_port, run, wait_port

pytestmark = [
    pytest.mark.skipif(not pg_env.available(), reason="postgresql-15 not installed"),
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy not installed"),
]

PASSWORD = "correct-horse-1"
FRONT = "127.0.0.3"
HAPROXY_SRC = "127.0.0.9"


class Node:
    def __init__(self, state, host, url):
        self.host = host
        self.port = free_port()
        self.mport = free_port()
        self.iport = free_port()
        self.pport = free_port()
        # the port of each service, for HAProxy's frontends; imaps and
        # pop3s: the implicit-TLS listeners of [imap] and [pop3]
        self.ports = {"smtp": self.port, "imap": self.iport, "pop3": self.pport,
                      "imaps": free_port(), "pop3s": free_port()}
        self.dir = os.path.join(state, "..", "node-" + host)
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "inetkit.conf")
        with open(self.conf, "w") as f:
            f.write("[serve]\nstate_dir = %s\nworkers = 1\nuser = root\nlog_level = debug\n"
                    "grace = 1s\n[accounts]\nstore = %s\nhash_cost = 1\nfailure_delay = 0\n"
                    "[smtp]\nlisten = %s:%d\nhostname = %s.example.test\n"
                    "domains = example.test\nmax_sessions_per_ip = 1\n"
                    "proxy_protocol = yes\nproxy_trusted = %s\n"
                    "[metrics]\nlisten = %s:%d\n"
                    "[imap]\nlisten = %s:%d\ntls_listen = %s:%d\nlogin_plaintext = yes\n"
                    "max_sessions_per_ip = 1\nproxy_protocol = yes\nproxy_trusted = %s\n"
                    "[pop3]\nlisten = %s:%d\nimplicit_tls_listen = %s:%d\n"
                    "allow_plaintext_auth = yes\n"
                    "max_sessions_per_ip = 1\nproxy_protocol = yes\nproxy_trusted = %s\n"
                    % (state, url, host, self.port, host.replace(".", "-"), HAPROXY_SRC,
                       host, self.mport, host, self.iport, host, self.ports["imaps"],
                       HAPROXY_SRC, host, self.pport, host, self.ports["pop3s"], HAPROXY_SRC))
        self.log_path = os.path.join(self.dir, "serve.log")
        self.proc = subprocess.Popen([BIN, "serve", "--config", self.conf],
                                     stdout=open(self.log_path, "ab"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(self.mport, host=host, proc=self.proc)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def kill(self):
        """SIGKILL to the whole process group: supervisor and workers."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class HAProxy:
    def __init__(self, base, nodes):
        self.port = free_port()
        self.cfg = os.path.join(base, "haproxy.cfg")
        servers = "".join(
            "    server %s %s:%d send-proxy-v2 check port %d inter 200ms fall 1 rise 1\n"
            % (name, n.host, n.port, n.mport) for name, n in zip("ab", nodes))
        # (service, node index or None for both) -> HAProxy's port for it
        self.ports = {("smtp", None): self.port}
        more = ""
        for svc in ("smtp", "imap", "pop3", "imaps", "pop3s"):
            for i in (None, 0, 1):
                if (svc, i) in self.ports:
                    continue
                port = self.ports[(svc, i)] = free_port()
                pick = range(len(nodes)) if i is None else [i]
                more += ("listen %s-%s\n    bind %s:%d\n    balance source\n    source %s\n"
                         % (svc, "ab"[i] if i is not None else "both", FRONT, port,
                            HAPROXY_SRC))
                more += "".join("    server %s %s:%d send-proxy-v2\n"
                                % ("ab"[k], nodes[k].host, nodes[k].ports[svc]) for k in pick)
        with open(self.cfg, "w") as f:
            f.write("global\n    maxconn 200\n"
                    "defaults\n    mode tcp\n    timeout connect 2s\n"
                    "    timeout client 30s\n    timeout server 30s\n"
                    "    retries 3\n    option redispatch\n"
                    "frontend smtp\n    bind %s:%d\n    default_backend nodes\n"
                    "backend nodes\n    balance source\n    source %s\n"
                    "    option httpchk GET /health\n%s%s"
                    % (FRONT, self.port, HAPROXY_SRC, servers, more))
        self.log_path = os.path.join(base, "haproxy.log")
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", self.cfg],
                                     stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT)
        wait_port(self.port, host=FRONT, proc=self.proc)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Smtp:
    """A raw SMTP client from a chosen source address."""

    def __init__(self, src, port=None, host=FRONT):
        self.s = socket.socket()
        self.s.bind((src, 0))
        self.s.settimeout(15)
        self.s.connect((host, port))
        self.f = self.s.makefile("rb")
        self.banner = self.line()

    def line(self):
        out = self.f.readline().decode()
        while out[3:4] == "-":
            out = self.f.readline().decode()
        return out

    def cmd(self, text):
        self.s.sendall(text.encode() + b"\r\n")
        return self.line()

    def send(self, subject):
        assert self.cmd("EHLO client.example").startswith("250")
        assert self.cmd("MAIL FROM:<x@client.example>").startswith("250")
        assert self.cmd("RCPT TO:<alice@example.test>").startswith("250")
        assert self.cmd("DATA").startswith("354")
        self.s.sendall(("Subject: %s\r\n\r\nbody\r\n.\r\n" % subject).encode())
        return self.line()

    def close(self):
        self.s.close()


def checked(node):
    """Whether HAProxy's health checks reached node's [metrics] port (a
    second session besides the one this asks on)."""
    url = "http://%s:%d/metrics" % (node.host, node.mport)
    with urllib.request.urlopen(url, timeout=10) as r:
        text = r.read().decode()
    for line in text.splitlines():
        if line.startswith('inetkit_sessions_total{service="metrics"}'):
            return int(line.split()[-1]) >= 3
    return False


@pytest.fixture
def cluster(tmp_path):
    pg = pg_env.Postgres()
    url = pg.url(password="s3cret-pw")
    state = str(tmp_path / "shared-state")
    os.makedirs(state)
    nodes = []
    hap = None
    try:
        nodes.append(Node(state, "127.0.0.1", url))
        nodes.append(Node(state, "127.0.0.2", url))
        run("user", "add", "alice", "--config", nodes[0].conf, "--password-stdin",
            input=PASSWORD + "\n", check=0)
        hap = HAProxy(str(tmp_path), nodes)
        # both servers up in HAProxy's eyes: each answered a health check
        deadline = time.monotonic() + 20
        while not all(checked(n) for n in nodes):
            assert time.monotonic() < deadline, [n.log()[-2000:] for n in nodes]
            time.sleep(0.1)
        yield state, nodes, hap
    finally:
        if hap is not None:
            hap.stop()
        for n in nodes:
            n.stop()
        pg.stop()


def messages(state):
    new = os.path.join(state, "mail", "alice", "new")
    out = []
    for name in sorted(os.listdir(new)) if os.path.isdir(new) else []:
        with open(os.path.join(new, name), errors="replace") as f:
            out.append(f.read())
    return out


def serving_node(nodes, client):
    """The node whose log shows a session from client."""
    for n in nodes:
        if client in n.log():
            return n
    return None


def test_per_ip_limit_sees_the_client_not_haproxy(cluster):
    state, nodes, hap = cluster
    first = Smtp("127.0.0.5", hap.port)
    assert first.banner.startswith("220 "), first.banner
    # the same client again (balance source: the same node): over the limit
    again = Smtp("127.0.0.5", hap.port)
    assert again.banner.startswith("421 "), again.banner
    again.close()
    # another client behind the same HAProxy address is served
    other = Smtp("127.0.0.6", hap.port)
    assert other.banner.startswith("220 "), other.banner
    assert other.send("from six").startswith("250 ")
    assert other.cmd("QUIT").startswith("221")
    other.close()
    assert first.cmd("QUIT").startswith("221")
    first.close()
    msg = messages(state)[0]
    assert "([127.0.0.6])" in msg and HAPROXY_SRC not in msg


def test_proxy_header_from_a_client_is_refused(cluster):
    state, nodes, hap = cluster
    a = nodes[0]
    s = socket.socket()
    s.bind(("127.0.0.5", 0))
    s.settimeout(10)
    s.connect((a.host, a.port))
    s.sendall(b"PROXY TCP4 192.0.2.1 127.0.0.1 1 25\r\n")
    try:
        assert s.recv(100) == b""
    except ConnectionResetError:
        pass
    s.close()
    deadline = time.monotonic() + 10
    while 'proxy=127.0.0.5:' not in a.log():
        assert time.monotonic() < deadline, a.log()[-2000:]
        time.sleep(0.05)
    assert 'reason="not in proxy_trusted"' in a.log()


def test_killing_a_node_loses_no_acknowledged_mail(cluster):
    state, nodes, hap = cluster
    c = Smtp("127.0.0.5", hap.port)
    assert c.banner.startswith("220 ")
    reply = c.send("before the crash")
    assert reply.startswith("250 "), reply
    victim = serving_node(nodes, "127.0.0.5")
    assert victim is not None
    survivor = nodes[1] if victim is nodes[0] else nodes[0]
    # the message is durable before the 250: it is in the shared Maildir
    assert any("Subject: before the crash" in m for m in messages(state))
    victim.kill()     # mid-session: the client has not said QUIT
    try:
        c.cmd("NOOP")
    except OSError:
        pass
    c.close()
    # the same client is sent to the other node (redispatch, health check)
    deadline = time.monotonic() + 20
    while True:
        try:
            d = Smtp("127.0.0.5", hap.port)
            if d.banner.startswith("220 "):
                break
            d.close()
        except OSError:
            pass
        assert time.monotonic() < deadline, "the survivor never took over"
        time.sleep(0.2)
    assert d.send("after the crash").startswith("250 ")
    assert d.cmd("QUIT").startswith("221")
    d.close()
    got = messages(state)
    assert any("Subject: before the crash" in m for m in got)
    assert any("Subject: after the crash" in m for m in got)
    assert "127.0.0.5" in survivor.log()


# ---- IMAP and POP3 on both nodes --------------------------------------------


class Lines:
    """A raw line-protocol client (IMAP or POP3) from a chosen source
    address, connected through HAProxy; tls: TLS from the first byte."""

    def __init__(self, src, port, host=FRONT, tls=False):
        self.s = socket.socket()
        self.s.bind((src, 0))
        self.s.settimeout(15)
        self.s.connect((host, port))
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self.s = ctx.wrap_socket(self.s)
        self.f = self.s.makefile("rb")
        self.greeting = self.line()

    def line(self):
        raw = self.f.readline()
        if not raw:
            raise EOFError("connection closed")
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    def send(self, text):
        self.s.sendall(text.encode() + b"\r\n")

    def imap(self, text):
        """An IMAP command; every line up to its tagged reply."""
        tag = text.split(" ", 1)[0]
        self.send(text)
        out = []
        while True:
            out.append(self.line())
            if out[-1].startswith(tag + " "):
                return out

    def pop3(self, text, multi=False):
        self.send(text)
        out = [self.line()]
        if multi and out[0].startswith("+OK"):
            while out[-1] != ".":
                out.append(self.line())
        return out

    def close(self):
        self.s.close()


def imap_login(hap, node_index, src):
    c = Lines(src, hap.ports[("imap", node_index)])
    assert c.greeting.startswith("* OK"), c.greeting
    got = c.imap('a LOGIN alice "%s"' % PASSWORD)
    assert got[-1].startswith("a OK"), got
    return c


def selected(c):
    """SELECT INBOX: (UIDVALIDITY, EXISTS)."""
    got = c.imap("s SELECT INBOX")
    assert got[-1].startswith("s OK"), got
    uidvalidity = exists = None
    for line in got:
        m = re.match(r"\* OK \[UIDVALIDITY (\d+)\]", line)
        if m:
            uidvalidity = int(m.group(1))
        m = re.match(r"\* (\d+) EXISTS$", line)
        if m:
            exists = int(m.group(1))
    return uidvalidity, exists


def uids_by_subject(c):
    """{subject: UID} of the selected folder, read with UID FETCH."""
    got = c.imap("f UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert got[-1].startswith("f OK"), got
    out = {}
    uid = None
    for line in got:
        m = re.match(r"\* \d+ FETCH \(.*UID (\d+)", line)
        if m:
            uid = int(m.group(1))
        m = re.match(r"Subject: (.*)", line)
        if m and uid is not None:
            out[m.group(1)] = uid
    return out


def deliver_via(hap, node_index, src, subject):
    c = Smtp(src, hap.ports[("smtp", node_index)])
    assert c.banner.startswith("220 "), c.banner
    reply = c.send(subject)
    assert reply.startswith("250 "), reply
    assert c.cmd("QUIT").startswith("221")
    c.close()


def wait_for(get, text, timeout=10):
    deadline = time.monotonic() + timeout
    while text not in get():
        assert time.monotonic() < deadline, "no %r in:\n%s" % (text, get()[-3000:])
        time.sleep(0.05)


def test_imap_on_both_nodes_same_uids(cluster):
    state, nodes, hap = cluster
    a, b = nodes
    # a session on B selects the empty INBOX first: it makes the index
    on_b = imap_login(hap, 1, "127.0.0.5")
    validity_b, exists = selected(on_b)
    assert validity_b is not None and exists == 0
    deliver_via(hap, 0, "127.0.0.7", "one")
    wait_for(a.log, "127.0.0.7")       # delivered by node A indeed
    # A's session sees the message B's index knows nothing of yet
    on_a = imap_login(hap, 0, "127.0.0.6")
    validity_a, exists = selected(on_a)
    assert (validity_a, exists) == (validity_b, 1)
    assert uids_by_subject(on_a) == {"one": 1}
    # B, with INBOX selected all along, is told of it with the same UID
    got = on_b.imap("n NOOP")
    assert "* 1 EXISTS" in got, got
    assert uids_by_subject(on_b) == {"one": 1}
    # delivered by B while both nodes have the folder selected: the next
    # UID on each
    deliver_via(hap, 1, "127.0.0.8", "two")
    wait_for(b.log, "127.0.0.8")
    got = on_a.imap("n NOOP")
    assert "* 2 EXISTS" in got, got
    assert uids_by_subject(on_a) == {"one": 1, "two": 2}
    got = on_b.imap("n NOOP")
    assert "* 2 EXISTS" in got, got
    assert uids_by_subject(on_b) == {"one": 1, "two": 2}
    # a flag set on A is seen on B at its next NOOP (as between two
    # sessions on one node)
    got = on_a.imap("t UID STORE 2 +FLAGS (\\Seen)")
    assert got[-1].startswith("t OK"), got
    got = on_b.imap("n NOOP")
    assert got[-1].startswith("n OK"), got
    got = on_b.imap("g UID FETCH 2 (FLAGS)")
    assert any("\\Seen" in line and "UID 2" in line for line in got), got
    for c in (on_a, on_b):
        assert c.imap("z LOGOUT")[-1].startswith("z OK")
        c.close()
    # a fresh session on either node: the same UIDVALIDITY and UIDs
    for i, src in ((0, "127.0.0.5"), (1, "127.0.0.6")):
        c = imap_login(hap, i, src)
        assert selected(c) == (validity_b, 2)
        assert uids_by_subject(c) == {"one": 1, "two": 2}
        c.imap("z LOGOUT")
        c.close()
    assert "peer=127.0.0.5:" in b.log() and "peer=127.0.0.6:" in a.log()


def test_pop3_on_both_nodes_one_maildrop_lock(cluster):
    state, nodes, hap = cluster
    a, b = nodes
    deliver_via(hap, 0, "127.0.0.7", "one")
    deliver_via(hap, 1, "127.0.0.8", "two")
    uidls = []
    for i, src in ((0, "127.0.0.5"), (1, "127.0.0.6")):
        c = Lines(src, hap.ports[("pop3", i)])
        assert c.greeting.startswith("+OK"), c.greeting
        assert c.pop3("USER alice")[0].startswith("+OK")
        got = c.pop3("PASS " + PASSWORD)
        assert got[0].startswith("+OK"), got
        uidls.append(c.pop3("UIDL", multi=True))
        assert c.pop3("QUIT")[0].startswith("+OK")
        c.close()
    assert uidls[0] == uidls[1] and len(uidls[0]) == 4, uidls
    # a session on A holds the maildrop: B refuses a second one
    c = Lines("127.0.0.5", hap.ports[("pop3", 0)])
    c.pop3("USER alice")
    assert c.pop3("PASS " + PASSWORD)[0].startswith("+OK")
    d = Lines("127.0.0.6", hap.ports[("pop3", 1)])
    d.pop3("USER alice")
    got = d.pop3("PASS " + PASSWORD)
    assert got[0].startswith("-ERR [IN-USE]"), got
    d.close()
    assert c.pop3("QUIT")[0].startswith("+OK")
    c.close()


@pytest.mark.parametrize("svc,bye", [("imap", "* BYE"), ("pop3", "-ERR")])
def test_pop3_imap_per_ip_limit_sees_the_client(cluster, svc, bye):
    state, nodes, hap = cluster
    port = hap.ports[(svc, None)]
    first = Lines("127.0.0.5", port)
    assert first.greeting.startswith("* OK" if svc == "imap" else "+OK"), first.greeting
    # the node that read HAProxy's header naming this client
    mark = re.compile(r"event=proxy service=%s proxy=%s:\d+ client=127\.0\.0\.5:"
                      % (svc, re.escape(HAPROXY_SRC)))
    deadline = time.monotonic() + 10
    while not any(mark.search(n.log()) for n in nodes):
        assert time.monotonic() < deadline, [n.log()[-2000:] for n in nodes]
        time.sleep(0.05)
    served = next(n for n in nodes if mark.search(n.log()))
    # balance source: the same client lands on the same node, over its limit
    again = Lines("127.0.0.5", port)
    assert again.greeting.startswith(bye), again.greeting
    again.close()
    wait_for(served.log, "event=%s_refused peer=127.0.0.5:" % svc)
    # another client behind the same HAProxy address is served
    other = Lines("127.0.0.6", port)
    assert not other.greeting.startswith(bye), other.greeting
    other.close()
    first.close()
    for n in nodes:
        assert "peer=%s" % HAPROXY_SRC not in n.log()


@pytest.mark.parametrize("svc", ["imap", "pop3"])
def test_pop3_imap_proxy_header_from_a_client_is_refused(cluster, svc):
    state, nodes, hap = cluster
    b = nodes[1]
    s = socket.socket()
    s.bind(("127.0.0.5", 0))
    s.settimeout(10)
    s.connect((b.host, b.ports[svc]))
    body = socket.inet_aton("192.0.2.1") + socket.inet_aton(b.host) + struct.pack(">HH", 1, 143)
    s.sendall(b"\r\n\r\n\x00\r\nQUIT\n\x21\x11" + struct.pack(">H", len(body)) + body)
    try:
        assert s.recv(100) == b""
    except ConnectionResetError:
        pass
    s.close()
    wait_for(b.log, "event=proxy_refused service=%s proxy=127.0.0.5:" % svc)
    assert "192.0.2.1" not in b.log()


@pytest.mark.parametrize("svc", ["imaps", "pop3s"])
def test_implicit_tls_behind_haproxy(cluster, svc):
    """HAProxy in TCP mode passes TLS through: the PROXY header comes
    first, then the client's TLS handshake; the node logs the client."""
    state, nodes, hap = cluster
    b = nodes[1]
    c = Lines("127.0.0.6", hap.ports[(svc, 1)], tls=True)
    if svc == "imaps":
        assert c.greeting.startswith("* OK"), c.greeting
        got = c.imap('a LOGIN alice "%s"' % PASSWORD)
        assert got[-1].startswith("a OK"), got
        assert c.imap("z LOGOUT")[-1].startswith("z OK")
        c.close()
        wait_for(b.log, "event=imap_connect")
        assert re.search(r"event=imap_connect session=\d+ peer=127\.0\.0\.6:\d+ "
                         r"tls=implicit", b.log()), b.log()[-2000:]
    else:
        assert c.greeting.startswith("+OK"), c.greeting
        assert c.pop3("USER alice")[0].startswith("+OK")
        assert c.pop3("PASS " + PASSWORD)[0].startswith("+OK")
        assert c.pop3("QUIT")[0].startswith("+OK")
        c.close()
        wait_for(b.log, "event=pop3_session")
        assert re.search(r"event=pop3_session session=\d+ peer=127\.0\.0\.6:\d+ "
                         r"user=alice tls=\"TLSv1", b.log()), b.log()[-2000:]

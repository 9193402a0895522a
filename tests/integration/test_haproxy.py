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
node, which delivers into the same mailbox. Not covered here: reading the
mail over IMAP on the other node with the same UIDs (IMAP is not part of
this tree yet)."""
import os
import shutil
import signal
import socket
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
                    % (state, url, host, self.port, host.replace(".", "-"), HAPROXY_SRC,
                       host, self.mport))
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
        with open(self.cfg, "w") as f:
            f.write("global\n    maxconn 200\n"
                    "defaults\n    mode tcp\n    timeout connect 2s\n"
                    "    timeout client 30s\n    timeout server 30s\n"
                    "    retries 3\n    option redispatch\n"
                    "frontend smtp\n    bind %s:%d\n    default_backend nodes\n"
                    "backend nodes\n    balance source\n    source %s\n"
                    "    option httpchk GET /health\n%s"
                    % (FRONT, self.port, HAPROXY_SRC, servers))
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

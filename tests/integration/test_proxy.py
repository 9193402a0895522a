"""PROXY protocol v1 and v2 (HAProxy's send-proxy / send-proxy-v2) on the
TCP listeners of every service: [tcp-echo] under serve, [smtp], [ftp], and
[pop3] and [imap] run alone (test_haproxy.py has them under serve, behind
HAProxy).
Headers are written here byte for byte (as HAProxy writes them); the
balancer is a socket bound to a loopback source address listed in
proxy_trusted, and the client address the header names then drives
allow/deny, the per-IP limits, logs, SMTP's Received: and relay decisions
and FTP's data-peer check. A connection from anyone else, a malformed
header and a header that does not arrive in proxy_timeout are closed
without a byte and logged (event=proxy_refused)."""
import os
import socket
import struct
import subprocess
import time

import pytest

from conftest import BIN, free_port, wait_port
from ftpd_env import Ftpd, cmd, pasv_port, reply
from smtpd_env import Smtpd, tls_context
from test_serve import conf_text, serve_proc  # noqa: F401 (a fixture)

BALANCER = "127.0.0.2"
V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v1(client, cport, server="127.0.0.1", sport=25):
    fam = "TCP6" if ":" in client else "TCP4"
    return ("PROXY %s %s %s %d %d\r\n" % (fam, client, server, cport, sport)).encode()


def v2(client, cport, server="127.0.0.1", sport=25, local=False):
    if local:
        return V2_SIG + b"\x20\x00\x00\x00"
    if ":" in client:
        body = (socket.inet_pton(socket.AF_INET6, client)
                + socket.inet_pton(socket.AF_INET6, server) + struct.pack(">HH", cport, sport))
        return V2_SIG + b"\x21\x21" + struct.pack(">H", len(body)) + body
    body = socket.inet_aton(client) + socket.inet_aton(server) + struct.pack(">HH", cport, sport)
    return V2_SIG + b"\x21\x11" + struct.pack(">H", len(body)) + body


def connect(port, src=BALANCER, header=b""):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    if header:
        s.sendall(header)
    return s


def closed_silently(s):
    """The server closed s without sending a byte."""
    try:
        return s.recv(100) == b""
    except ConnectionResetError:
        return True
    finally:
        s.close()


def wait_log(get, text, count=1, timeout=10):
    deadline = time.monotonic() + timeout
    while get().count(text) < count:
        assert time.monotonic() < deadline, "no %r in:\n%s" % (text, get()[-3000:])
        time.sleep(0.05)


# ---- serve, [tcp-echo] --------------------------------------------------------

PROXY_KEYS = "proxy_protocol = yes\nproxy_trusted = %s\n" % BALANCER


@pytest.fixture
def echo(tmp_path, serve_proc):
    port = free_port()
    conf = tmp_path / "inetkit.conf"
    text = conf_text(tmp_path / "state", port, level="debug")
    text = text.replace("[udp-echo]", PROXY_KEYS + "proxy_timeout = 300ms\n"
                        "deny = 192.0.2.99\n[udp-echo]")
    conf.write_text(text)
    s = serve_proc(conf, port)
    # wait_port's probe came straight from 127.0.0.1: refused
    s.wait_log("event=proxy_refused")
    return s, port


def echo_through(port, header, data=b"ping\n", want=None):
    """What comes back: want bytes (default: as many as data)."""
    want = len(data) if want is None else want
    with connect(port, header=header) as s:
        s.sendall(data)
        got = b""
        while len(got) < want:
            chunk = s.recv(100)
            if not chunk:
                break
            got += chunk
        return got


def test_echo_v1_v2_local_and_unknown(echo):
    s, port = echo
    assert echo_through(port, v1("192.0.2.7", 5555)) == b"ping\n"
    assert echo_through(port, v2("192.0.2.8", 6666)) == b"ping\n"
    assert echo_through(port, v2("2001:db8::5", 7777, server="::1")) == b"ping\n"
    assert echo_through(port, v2("", 0, local=True)) == b"ping\n"
    assert echo_through(port, b"PROXY UNKNOWN\r\n") == b"ping\n"
    # what the client sent right behind the header, in one segment, is kept
    assert echo_through(port, v1("192.0.2.7", 5555) + b"same segment\n",
                        data=b"x\n", want=15) == b"same segment\nx\n"
    s.wait_log("client=192.0.2.7:5555 version=1")
    s.wait_log("client=192.0.2.8:6666 version=2")
    s.wait_log("client=[2001:db8::5]:7777 version=2")
    s.wait_log("version=2 local=yes")


def test_echo_refusals(echo):
    s, port = echo
    # the real client is in deny: refused as if it had connected itself
    assert closed_silently(connect(port, header=v1("192.0.2.99", 1234)))
    s.wait_log("event=refused service=tcp-echo reason=deny client=192.0.2.99:1234")
    # a header from an address not in proxy_trusted
    assert closed_silently(connect(port, src="127.0.0.1", header=v1("192.0.2.7", 1)))
    s.wait_log('proxy=127.0.0.1:', count=2)
    s.wait_log('reason="not in proxy_trusted"', count=2)
    # malformed, and not a header at all
    assert closed_silently(connect(port, header=b"PROXY TCP4 192.0.2.7 x 1 2\r\nping\n"))
    s.wait_log('reason="v1 address is not an IPv4 address"')
    assert closed_silently(connect(port, header=b"ping\n"))
    s.wait_log('reason="not a PROXY header"')
    bad_v2 = V2_SIG + b"\x21\x11\x00\x08" + bytes(8)
    assert closed_silently(connect(port, header=bad_v2))
    s.wait_log('reason="v2 address block shorter than its family needs"')
    # too slow: half a header, then nothing until proxy_timeout
    t0 = time.monotonic()
    assert closed_silently(connect(port, header=b"PROXY TCP4 192.0"))
    assert time.monotonic() - t0 < 4.5
    s.wait_log('reason="no complete PROXY header in time"')
    # and the service still serves
    assert echo_through(port, v1("192.0.2.7", 5555)) == b"ping\n"


def test_config_errors(tmp_path):
    from test_serve import serve
    port = free_port()
    conf = tmp_path / "inetkit.conf"
    text = conf_text(tmp_path / "state", port)
    conf.write_text(text.replace("[udp-echo]", "proxy_protocol = yes\n[udp-echo]"))
    p = serve("--check", "--config", str(conf), check=2)
    assert "proxy_trusted" in p.stderr and "list the balancers" in p.stderr
    conf.write_text(text.replace("[udp-echo]", PROXY_KEYS.replace(BALANCER, "10.0.0.1/8")
                                 + "[udp-echo]"))
    p = serve("--check", "--config", str(conf), check=2)
    assert "host bits" in p.stderr


# ---- smtpd --------------------------------------------------------------------

class ProxiedSmtpd(Smtpd):
    """Its readiness probes come through the balancer, with a LOCAL header."""

    def _probe(self, port, implicit):
        s = connect(port, header=v2("", 0, local=True))
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


def smtp_line(f):
    line = f.readline()
    while line[3:4] == b"-":
        line = f.readline()
    return line.decode()


def smtp_session(port, client, helo="client.example"):
    s = connect(port, header=v2(client, 40000))
    f = s.makefile("rb")
    banner = smtp_line(f)
    return s, f, banner


def say(s, f, text):
    s.sendall(text.encode() + b"\r\n")
    return smtp_line(f)


@pytest.fixture
def smtpd(tmp_path):
    extra = PROXY_KEYS + "relay_networks = 192.0.2.0/24\nmax_sessions_per_ip = 1\n"
    srv = ProxiedSmtpd(tmp_path, extra=extra)
    yield srv
    srv.stop()


def test_smtp_received_relay_and_per_ip(smtpd):
    s, f, banner = smtp_session(smtpd.port, "192.0.2.7")
    assert banner.startswith("220 ")
    assert say(s, f, "EHLO client.example").startswith("250 ")
    assert say(s, f, "MAIL FROM:<a@client.example>").startswith("250 ")
    # 192.0.2.7 is in relay_networks: a remote recipient is taken
    assert say(s, f, "RCPT TO:<bob@remote.example>").startswith("250 ")
    assert say(s, f, "RCPT TO:<alice@example.test>").startswith("250 ")
    # per-IP: a second session of the same client is over the limit ...
    t, g, b2 = smtp_session(smtpd.port, "192.0.2.7")
    assert b2.startswith("421 "), b2
    t.close()
    # ... while another client behind the same balancer is not
    u, h, b3 = smtp_session(smtpd.port, "198.51.100.9")
    assert b3.startswith("220 ")
    assert say(u, h, "EHLO other.example").startswith("250 ")
    assert say(u, h, "MAIL FROM:<a@other.example>").startswith("250 ")
    # 198.51.100.9 is not in relay_networks
    r = say(u, h, "RCPT TO:<bob@remote.example>")
    assert r.startswith("554 ") or r.startswith("550 "), r
    assert say(u, h, "QUIT").startswith("221 ")
    u.close()
    assert say(s, f, "DATA").startswith("354 ")
    s.sendall(b"Subject: through the balancer\r\n\r\nhi\r\n.\r\n")
    assert smtp_line(f).startswith("250 ")
    assert say(s, f, "QUIT").startswith("221 ")
    s.close()
    new = os.path.join(smtpd.state, "mail", "alice", "new")
    deadline = time.monotonic() + 10
    while not os.listdir(new):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    msg = open(os.path.join(new, os.listdir(new)[0]), "rb").read().decode()
    assert "Received: from client.example ([192.0.2.7])" in msg, msg
    assert "127.0.0.2" not in msg.split("\n\n")[0] or "[127.0.0.2]" not in msg
    log = smtpd.log()
    assert "192.0.2.7" in log and "198.51.100.9" in log


# ---- ftpd ---------------------------------------------------------------------

class ProxiedFtpd(Ftpd):
    def _wait_ready(self):
        wait_port(self.port, proc=self.proc)
        wait_log(self.log, "event=proxy_refused")


def test_ftp_pasv_data_peer_is_the_real_client(tmp_path):
    """The balancer (127.0.0.2) says the client is 127.0.0.3; with the
    passive ports reachable directly, the client's data connection comes
    from 127.0.0.3 and is taken, one from elsewhere is not."""
    srv = ProxiedFtpd(tmp_path, extra=PROXY_KEYS)
    try:
        s = connect(srv.port, header=v1("127.0.0.3", 40001, sport=srv.port))
        f = s.makefile("rb")
        assert reply(f).startswith("220")
        assert cmd(s, f, "USER anonymous").startswith("331")
        assert cmd(s, f, "PASS x@y").startswith("230")
        assert cmd(s, f, "TYPE I").startswith("200")
        port = pasv_port(cmd(s, f, "PASV"))
        thief = socket.socket()
        thief.bind(("127.0.0.1", 0))
        thief.settimeout(5)
        thief.connect(("127.0.0.1", port))
        assert closed_silently(thief)
        d = socket.socket()
        d.bind(("127.0.0.3", 0))
        d.settimeout(5)
        d.connect(("127.0.0.1", port))
        s.sendall(b"RETR /pub/hello.txt\r\n")
        assert reply(f).startswith("150")
        got = b""
        while True:
            b = d.recv(1000)
            if not b:
                break
            got += b
        assert got == b"hello, world\n"
        assert reply(f).startswith("226")
        d.close()
        s.close()
        log = srv.log()
        assert "ftp_data_refused" in log and "from=127.0.0.1" in log
        assert "127.0.0.3" in log
    finally:
        srv.stop()


# ---- pop3d and imapd, run alone ------------------------------------------------

@pytest.mark.parametrize("sub,section,greeting", [("pop3d", "pop3", b"+OK"),
                                                  ("imapd", "imap", b"* OK")])
def test_pop3d_imapd_alone_read_the_header(tmp_path, sub, section, greeting):
    """`inetkit pop3d` and `inetkit imapd` take the proxy_ keys of their
    section as under serve: the header's client is the session's peer, a
    header from an address not in proxy_trusted is refused."""
    port = free_port()
    conf = tmp_path / "inetkit.conf"
    conf.write_text("[serve]\nstate_dir = %s\nuser = root\nlog_level = debug\n"
                    "[%s]\nlisten = 127.0.0.1:%d\n%s"
                    % (tmp_path / "state", section, port, PROXY_KEYS))
    log_path = tmp_path / "log"
    with open(log_path, "wb") as logf:
        p = subprocess.Popen([BIN, sub, "--config", str(conf)], stdout=logf,
                             stderr=subprocess.STDOUT)
    try:
        # the probe comes straight from 127.0.0.1, not the balancer
        wait_port(port, proc=p)
        get = lambda: log_path.read_text(errors="replace")
        wait_log(get, "event=proxy_refused service=%s proxy=127.0.0.1:" % section)
        with connect(port, header=v2("192.0.2.7", 4444, sport=port)) as s:
            assert s.recv(200).startswith(greeting)
        wait_log(get, "service=%s proxy=%s:" % (section, BALANCER))
        assert "client=192.0.2.7:4444 version=2" in get()
        assert closed_silently(connect(port, src="127.0.0.3",
                                       header=v2("192.0.2.8", 5555, sport=port)))
        wait_log(get, "event=proxy_refused service=%s proxy=127.0.0.3:" % section)
        assert "192.0.2.8" not in get()
    finally:
        p.terminate()
        p.wait(timeout=15)

"""Outbound delivery: the relay of `inetkit smtpd` (issue 13), not `inetkit
tcp relay` (that is test_relay.py).

The remote side is real: Postfix's smtp-sink (answering 250, or 4xx/5xx to
chosen commands with -r/-f, or 421 with -Q, or waiting before its DATA
reply with -w), or a second inetkit smtpd on 127.0.0.2 with a submission
account (the relayhost with AUTH). Names come from a DNS server this test
runs on loopback (Python dnslib, Debian python3-dnslib): MX, A, AAAA and
NXDOMAIN as each test needs; the relay is pointed at it with dns_servers.
Sinks that MX routing reaches listen on port 25 of an address of
127.0.0.0/8 that no other test uses (the MX path has no port).
Bounces to our own users land in their Maildir (local domains never leave
the machine) and are parsed with Python's email package.
"""
import email
import glob
import os
import random
import shutil
import tempfile
import smtplib
import socket
import subprocess
import threading
import time

import pytest

from conftest import BIN, free_port, run
from smtpd_env import PASSWORD, Smtpd, make_cert

dnslib = pytest.importorskip("dnslib")
from dnslib import server as dnsserver  # noqa: E402

SINK = "/usr/sbin/smtp-sink"
pytestmark = pytest.mark.skipif(not os.path.exists(SINK), reason="postfix's smtp-sink missing")


class Zone:
    """name -> list of (type, value); a name absent is NXDOMAIN."""

    def __init__(self, records):
        self.records = {k.lower().rstrip("."): v for k, v in records.items()}

    def resolve(self, request, handler):
        reply = request.reply()
        q = request.q
        name = str(q.qname).lower().rstrip(".")
        qtype = dnslib.QTYPE[q.qtype]
        if name not in self.records:
            reply.header.rcode = dnslib.RCODE.NXDOMAIN
            return reply
        for rtype, value in self.records[name]:
            if rtype != qtype:
                continue
            if rtype == "A":
                rd = dnslib.A(value)
            elif rtype == "AAAA":
                rd = dnslib.AAAA(value)
            elif rtype == "MX":
                pref, host = value
                rd = dnslib.MX(host, pref)
            else:
                rd = dnslib.TXT(value)
            reply.add_answer(dnslib.RR(q.qname, getattr(dnslib.QTYPE, rtype), rdata=rd, ttl=5))
        return reply


class Dns:
    def __init__(self, records):
        self.port = free_port()
        self.zone = Zone(records)
        self.server = dnsserver.DNSServer(self.zone, port=self.port, address="127.0.0.1",
                                          logger=dnsserver.DNSLogger("-request,-reply,-truncated,"
                                                                     "-data,-recv,-send"))
        self.server.start_thread()

    @property
    def servers(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        self.server.stop()


def unused_loopback():
    """An address of 127.0.0.0/8 for a port-25 sink, unlikely to be taken."""
    while True:
        addr = "127.%d.%d.%d" % (random.randint(100, 250), random.randint(1, 250),
                                 random.randint(2, 250))
        s = socket.socket()
        try:
            s.bind((addr, 25))
            return addr
        except OSError:
            continue
        finally:
            s.close()


class Sink:
    """smtp-sink on host:port, dumping every message to its own file."""

    def __init__(self, base, host, port, *opts):
        self.host, self.port = host, port
        # smtp-sink runs as nobody: its dump folder cannot be under
        # pytest's tmp_path (mode 0700)
        self.dir = tempfile.mkdtemp(prefix="inetkit-sink-")
        os.chmod(self.dir, 0o777)
        self.proc = subprocess.Popen([SINK, "-u", "nobody", "-d", self.dir + "/%H%M%S.", *opts,
                                      "%s:%d" % (host, port), "50"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((host, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def messages(self):
        out = []
        for p in sorted(glob.glob(os.path.join(self.dir, "*"))):
            with open(p, "rb") as f:
                data = f.read()
            # the sink opens its dump file at MAIL: a transaction whose
            # recipients were all refused, on a connection the relay keeps
            # open for the next message, leaves an empty one, no message
            if data:
                out.append(data)
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_for(cond, what, timeout=30, server=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s\n%s" % (what, server.log()[-4000:] if server
                                                             else ""))


def relay_conf(dns, **extra):
    keys = {"relay_enabled": "yes", "relay_networks": "127.0.0.0/8", "dns_servers": dns.servers,
            "queue_retry": "1s", "queue_retry_max": "2s", "relay_connect_timeout": "2s"}
    keys.update(extra)
    return keys


def send(server, sender, rcpts, subject="relay test", mid=None):
    mid = mid or "<%d.%d@client.example>" % (time.time_ns(), random.randint(0, 1 << 30))
    msg = ("From: <%s>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: %s\r\n\r\nhello from the relay "
           "test\r\n.leading dot line\r\n" % (sender or "nobody@example.test",
                                              ", ".join(rcpts), subject, mid))
    with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as c:
        c.sendmail(sender, rcpts, msg)
    return mid


@pytest.fixture
def env(tmp_path):
    made = []

    def dns(records):
        d = Dns(records)
        made.append(d)
        return d

    def sink(host, port, *opts):
        s = Sink(tmp_path, host, port, *opts)
        made.append(s)
        return s

    def smtpd(base, **kw):
        s = Smtpd(base, **kw)
        made.append(s)
        return s

    yield dns, sink, smtpd
    for m in reversed(made):
        m.cleanup() if isinstance(m, Sink) else m.stop()


def queue_json(server):
    import json
    p = run("queue", "list", "--json", "--config", server.conf, check=0)
    return json.loads(p.stdout)


def test_delivery_by_mx_with_fallback_to_the_next_mx(env, tmp_path):
    dns, sink, smtpd = env
    good = unused_loopback()
    dead = unused_loopback()
    d = dns({"remote.test": [("MX", (5, "dead.remote.test")), ("MX", (10, "mx.remote.test"))],
             "dead.remote.test": [("A", dead)],
             "mx.remote.test": [("A", good)]})
    remote = sink(good, 25)
    srv = smtpd(tmp_path / "a", smtp=relay_conf(d))
    mid = send(srv, "alice@example.test", ["bob@remote.test", "carol@remote.test"])
    got = wait_for(remote.messages, "the sink to receive the message", server=srv)
    assert len(got) == 1
    assert mid.encode() in got[0]
    # dot-stuffing undone by the remote: the line is as it was written
    assert b"\n.leading dot line" in got[0]
    wait_for(lambda: queue_json(srv) == [], "the queue to empty", server=srv)
    log = srv.log()
    assert log.count("event=smtp_relay") >= 2 and "status=sent" in log
    assert "to=bob@remote.test status=sent code=250" in log


def test_retry_after_4xx_then_success(env, tmp_path):
    dns, sink, smtpd = env
    host = unused_loopback()
    d = dns({"soft.test": [("MX", (10, "mx.soft.test"))], "mx.soft.test": [("A", host)]})
    first = sink(host, 25, "-r", "RCPT")
    srv = smtpd(tmp_path / "a", smtp=relay_conf(d, queue_retry="30s", queue_retry_max="1h"))
    mid = send(srv, "alice@example.test", ["bob@soft.test"])
    q = wait_for(lambda: [e for e in queue_json(srv) if e["attempts"] >= 1],
                 "a deferred attempt", server=srv)
    qid = q[0]["id"]
    import json
    shown = json.loads(run("queue", "show", qid, "--json", "--config", srv.conf, check=0).stdout)
    assert shown["last_error"].startswith("4")
    assert shown["next_attempt"] is not None
    assert first.messages() == []
    first.stop()
    second = sink(host, 25)
    # the next attempt is 30 s away: flush makes it now
    assert run("queue", "flush", "--config", srv.conf, check=0).stdout == "flushed 1 message\n"
    got = wait_for(second.messages, "the retried delivery", server=srv)
    assert mid.encode() in got[0]
    wait_for(lambda: queue_json(srv) == [], "the queue to empty", server=srv)
    assert srv.messages("alice") == []          # no report: it was delivered


def parse_report(raw):
    msg = email.message_from_bytes(raw)
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = msg.get_payload()
    assert [p.get_content_type() for p in parts][:2] == ["text/plain", "message/delivery-status"]
    # message/delivery-status: the per-message block, then one per recipient
    blocks = parts[1].get_payload()
    return msg, parts, blocks


def test_bounce_after_5xx_is_an_rfc3464_report(env, tmp_path):
    dns, sink, smtpd = env
    host = unused_loopback()
    d = dns({"hard.test": [("MX", (10, "mx.hard.test"))], "mx.hard.test": [("A", host)]})
    sink(host, 25, "-f", "RCPT")
    srv = smtpd(tmp_path / "a", smtp=relay_conf(d))
    mid = send(srv, "alice@example.test", ["nobody@hard.test"], subject="will bounce")
    reports = wait_for(lambda: srv.messages("alice"), "the bounce in alice's Maildir", server=srv)
    assert len(reports) == 1
    msg, parts, blocks = parse_report(reports[0])
    assert msg["From"].startswith("Mail Delivery System <MAILER-DAEMON@")
    assert msg["Auto-Submitted"] == "auto-replied"
    assert blocks[0]["Reporting-MTA"].startswith("dns; ")
    assert blocks[1]["Final-Recipient"] == "rfc822; nobody@hard.test"
    assert blocks[1]["Action"] == "failed"
    assert blocks[1]["Status"].startswith("5.")
    assert blocks[1]["Remote-MTA"] == "dns; mx.hard.test"
    assert blocks[1]["Diagnostic-Code"].startswith("smtp; ")
    # the message returned whole (no RET given)
    assert parts[2].get_content_type() == "message/rfc822"
    assert parts[2].get_payload()[0]["Message-ID"] == mid
    wait_for(lambda: queue_json(srv) == [], "the queue to empty", server=srv)


def test_no_bounce_for_the_null_sender(env, tmp_path):
    dns, sink, smtpd = env
    host = unused_loopback()
    d = dns({"hard.test": [("MX", (10, "mx.hard.test"))], "mx.hard.test": [("A", host)]})
    sink(host, 25, "-f", "RCPT")
    srv = smtpd(tmp_path / "a", smtp=relay_conf(d))
    send(srv, "", ["nobody@hard.test"])
    wait_for(lambda: "status=bounced" in srv.log(), "the permanent failure", server=srv)
    wait_for(lambda: queue_json(srv) == [], "the queue to empty", server=srv)
    time.sleep(1)
    assert queue_json(srv) == []
    assert "event=smtp_dsn" not in srv.log()
    assert srv.messages("alice") == []


def test_null_mx_and_nxdomain_bounce_at_once(env, tmp_path):
    dns, sink, smtpd = env
    d = dns({"nomail.test": [("MX", (0, "."))]})
    srv = smtpd(tmp_path / "a", smtp=relay_conf(d))
    send(srv, "alice@example.test", ["x@nomail.test"])
    send(srv, "alice@example.test", ["y@nowhere.test"])
    reports = wait_for(lambda: len(srv.messages("alice")) >= 2 and srv.messages("alice"),
                       "two bounces", server=srv)
    statuses = sorted(parse_report(r)[2][1]["Status"] for r in reports)
    assert statuses == ["5.1.10", "5.1.2"]


def test_tls_required_is_refused_by_a_plaintext_remote(env, tmp_path):
    dns, sink, smtpd = env
    port = free_port()
    remote = sink("127.0.0.2", port)
    d = dns({})
    srv = smtpd(tmp_path / "a", smtp=relay_conf(d, relayhost="[127.0.0.2]:%d" % port,
                                                queue_retry="1h"))
    send(srv, "alice@example.test", ["bob@elsewhere.test"])
    q = wait_for(lambda: [e for e in queue_json(srv) if e["attempts"] >= 1],
                 "the refused attempt", server=srv)
    import json
    shown = json.loads(run("queue", "show", q[0]["id"], "--json", "--config", srv.conf,
                           check=0).stdout)
    assert "TLS is required" in shown["last_error"]
    assert remote.messages() == []


def test_relayhost_with_auth_over_verified_tls(env, tmp_path):
    dns, sink, smtpd = env
    # the relayhost: a second inetkit on 127.0.0.2, submission with STARTTLS
    # and the account bob, a certificate for its name (mx.example.test,
    # smtpd_env's), which the relaying side trusts through SSL_CERT_FILE
    d = dns({"mx.example.test": [("A", "127.0.0.2")]})
    (tmp_path / "b").mkdir()
    b_sub = free_port()
    b = Smtpd(tmp_path / "b", tls=True, users=("bob", "carol"), domains="final.test",
              smtp={"listen": "127.0.0.2:%d" % free_port(),
                    "submission_listen": "127.0.0.2:%d" % b_sub,
                    "submissions_listen": None}, start=False)
    b.logf = open(b.log_path, "ab")
    b.proc = subprocess.Popen([BIN, "smtpd", "--config", b.conf], stdout=b.logf,
                              stderr=b.logf, start_new_session=True)
    try:
        wait_for(lambda: _connects("127.0.0.2", b_sub), "the relayhost to listen", server=b)
        pw = tmp_path / "relay-password"
        pw.write_text(PASSWORD + "\n")
        old = os.environ.get("SSL_CERT_FILE")
        os.environ["SSL_CERT_FILE"] = b.cert
        try:
            a = smtpd(tmp_path / "a", smtp=relay_conf(
                d, relayhost="[mx.example.test]:%d" % b_sub, relayhost_auth="bob %s" % pw))
        finally:
            if old is None:
                del os.environ["SSL_CERT_FILE"]
            else:
                os.environ["SSL_CERT_FILE"] = old
        mid = send(a, "alice@example.test", ["carol@final.test"])
        got = wait_for(lambda: b.messages("carol"), "carol's copy at the relayhost", server=a)
        assert mid.encode() in got[0]
        wait_for(lambda: queue_json(a) == [], "the queue to empty", server=a)
        assert "bob" in b.log()
    finally:
        b.stop()


def _connects(host, port):
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def test_kill9_during_delivery_loses_nothing(env, tmp_path):
    dns, sink, smtpd = env
    host = unused_loopback()
    d = dns({"slow.test": [("MX", (10, "mx.slow.test"))], "mx.slow.test": [("A", host)]})
    slow = sink(host, 25, "-w", "3")
    srv = smtpd(tmp_path / "a", smtp=relay_conf(d))
    mid = send(srv, "alice@example.test", ["bob@slow.test"])
    # the relay is in DATA (the sink waits 3 s before its reply): kill -9
    wait_for(lambda: _sink_busy(slow), "the relay to connect", server=srv)
    time.sleep(0.5)
    srv.kill9()
    slow.stop()
    fast = sink(host, 25)
    srv.start()
    wait_for(lambda: queue_json(srv) == [], "the queue to empty after the restart", server=srv)
    got = slow.messages() + fast.messages()
    assert any(mid.encode() in m for m in got), "lost"
    assert sum(m.count(mid.encode()) > 0 for m in got) <= 2


def _sink_busy(s):
    out = subprocess.run(["ss", "-Htn", "state", "established", "( sport = :25 )"],
                         stdout=subprocess.PIPE, text=True).stdout
    return s.host in out


def test_local_domains_never_leave_the_machine(env, tmp_path):
    dns, sink, smtpd = env
    # example.test is local; DNS would send it elsewhere if it were asked
    host = unused_loopback()
    d = dns({"example.test": [("MX", (10, "mx.example.test"))], "mx.example.test": [("A", host)]})
    remote = sink(host, 25)
    srv = smtpd(tmp_path / "a", smtp=relay_conf(d))
    send(srv, "someone@other.test", ["alice@example.test"])
    wait_for(lambda: srv.messages("alice"), "local delivery", server=srv)
    time.sleep(1)
    assert remote.messages() == []
    assert queue_json(srv) == []


@pytest.mark.parametrize("key,value,why", [
    ("dns_servers", "ns.example:53", "not an IP address"),
    ("relayhost", "[host:25", "without its ']'"),
    ("relayhost_auth", "bob", "USER PASSWORD_FILE"),
    ("transport", "example.org", "pairs"),
])
def test_bad_relay_keys_are_refused(tmp_path, key, value, why):
    s = Smtpd(tmp_path, smtp={key: value}, start=False)
    p = subprocess.run([BIN, "smtpd", "--config", s.conf], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=20)
    assert p.returncode != 0
    assert key in p.stderr and why in p.stderr, p.stderr


def test_notify_success_gets_a_delivered_report(env, tmp_path):
    dns, sink, smtpd = env
    host = unused_loopback()
    d = dns({"ok.test": [("MX", (10, "mx.ok.test"))], "mx.ok.test": [("A", host)]})
    remote = sink(host, 25)
    srv = smtpd(tmp_path / "a", smtp=relay_conf(d))
    msg = "Subject: dsn\r\nMessage-ID: <dsn@client.example>\r\n\r\nbody\r\n"
    with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as c:
        c.ehlo("client.example")
        c.sendmail("alice@example.test", ["bob@ok.test"], msg, mail_options=["RET=HDRS"],
                   rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
    reports = wait_for(lambda: srv.messages("alice"), "the success report", server=srv)
    msg, parts, blocks = parse_report(reports[0])
    assert msg["Subject"] == "Successful Mail Delivery Report"
    assert blocks[1]["Action"] == "delivered" and blocks[1]["Status"].startswith("2.")
    assert parts[2].get_content_type() == "text/rfc822-headers"
    # the remote was told what the sender asked (DSN parameters passed on)
    got = remote.messages()[0]
    assert b"NOTIFY=SUCCESS,FAILURE" in got and b"RET=HDRS" in got


def test_delay_warning_once_then_still_retried(env, tmp_path):
    dns, sink, smtpd = env
    host = unused_loopback()
    d = dns({"soft.test": [("MX", (10, "mx.soft.test"))], "mx.soft.test": [("A", host)]})
    sink(host, 25, "-r", "RCPT")
    srv = smtpd(tmp_path / "a", smtp=relay_conf(d, delay_warning="1s"))
    send(srv, "alice@example.test", ["bob@soft.test"])
    reports = wait_for(lambda: srv.messages("alice"), "the delay notice", server=srv)
    msg, parts, blocks = parse_report(reports[0])
    assert msg["Subject"] == "Delayed Mail (still being retried)"
    assert blocks[1]["Action"] == "delayed" and blocks[1]["Status"].startswith("4.")
    assert blocks[1]["Will-Retry-Until"]
    # more attempts, no second notice, still queued
    wait_for(lambda: [e for e in queue_json(srv) if e["attempts"] >= 3], "more attempts",
             server=srv)
    assert len(srv.messages("alice")) == 1
    assert len(queue_json(srv)) == 1


def test_expiry_returns_the_message(env, tmp_path):
    dns, sink, smtpd = env
    host = unused_loopback()
    d = dns({"soft.test": [("MX", (10, "mx.soft.test"))], "mx.soft.test": [("A", host)]})
    sink(host, 25, "-r", "RCPT")
    srv = smtpd(tmp_path / "a", smtp=relay_conf(d, max_queue_lifetime="2s",
                                                delay_warning="0"))
    send(srv, "alice@example.test", ["bob@soft.test"])
    reports = wait_for(lambda: srv.messages("alice"), "the expiry report", server=srv)
    msg, parts, blocks = parse_report(reports[0])
    assert blocks[1]["Action"] == "failed" and blocks[1]["Status"] == "4.4.7"
    wait_for(lambda: queue_json(srv) == [], "the queue to empty", server=srv)


def test_one_runner_among_workers(env, tmp_path):
    dns, sink, smtpd = env
    host = unused_loopback()
    d = dns({"ok.test": [("MX", (10, "mx.ok.test"))], "mx.ok.test": [("A", host)]})
    remote = sink(host, 25)
    srv = smtpd(tmp_path / "a", workers=2, smtp=relay_conf(d))
    mids = [send(srv, "alice@example.test", ["u%d@ok.test" % i]) for i in range(6)]
    got = wait_for(lambda: len(remote.messages()) >= 6 and remote.messages(),
                   "six deliveries", server=srv)
    time.sleep(1)
    assert len(remote.messages()) == 6          # nothing sent twice
    assert all(any(m.encode() in g for g in got) for m in mids)
    # the flock elected one queue runner for the service
    assert srv.log().count("runner=started") == 1


def _postfix(base, port, domain, user):
    """Debian's Postfix as plain processes (see /work/shared/PEERS.md): its
    own config folder, smtpd on 127.0.0.1:port, virtual(8) Maildir delivery
    of user@domain. Returns (conf dir, the Maildir's new/)."""
    import pwd
    w = tempfile.mkdtemp(prefix="ik-postfix-", dir="/var/tmp")
    os.chmod(w, 0o755)
    conf, queue, data, mail = (os.path.join(w, d) for d in ("conf", "queue", "data", "mail"))
    for d in (conf, queue, data, mail):
        os.makedirs(d)
    owner = pwd.getpwnam("nobody")
    os.chown(data, pwd.getpwnam("postfix").pw_uid, -1)
    os.chown(mail, owner.pw_uid, owner.pw_gid)
    with open(os.path.join(conf, "vmailbox"), "w") as f:
        f.write("%s@%s %s/\n" % (user, domain, user))
    keys = [("compatibility_level", "3.6"), ("queue_directory", queue),
            ("data_directory", data), ("myhostname", "postfix.test"),
            ("inet_interfaces", "127.0.0.1"), ("inet_protocols", "ipv4"),
            ("mydestination", ""), ("alias_maps", ""), ("alias_database", ""),
            ("mynetworks", "127.0.0.0/8"), ("virtual_mailbox_domains", domain),
            ("virtual_mailbox_base", mail),
            ("virtual_mailbox_maps", "texthash:" + os.path.join(conf, "vmailbox")),
            ("virtual_uid_maps", "static:%d" % owner.pw_uid),
            ("virtual_gid_maps", "static:%d" % owner.pw_gid),
            ("maillog_file_prefixes", w), ("maillog_file", os.path.join(w, "maillog"))]
    with open(os.path.join(conf, "main.cf"), "w") as f:
        f.write("".join("%s = %s\n" % kv for kv in keys))
    out = []
    with open("/etc/postfix/master.cf") as f:
        for line in f:
            fields = line.split()
            if line[:1] in ("#", " ", "\t") or len(fields) < 8:
                out.append(line)
                continue
            if fields[0] == "smtp" and fields[1] == "inet":
                fields[0] = "127.0.0.1:%d" % port
            fields[4] = "n"
            out.append(" ".join(fields) + "\n")
    with open(os.path.join(conf, "master.cf"), "w") as f:
        f.writelines(out)
    p = subprocess.run(["script", "-qec", "postfix -c %s start" % conf, "/dev/null"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert p.returncode == 0, p.stdout
    return w, conf, os.path.join(mail, user, "new")


@pytest.mark.skipif(not shutil.which("postfix"), reason="Debian's postfix missing")
def test_delivery_to_postfix_as_the_receiving_mta(env, tmp_path):
    dns, sink, smtpd = env
    port = free_port()
    w, conf, new = _postfix(tmp_path, port, "dest.test", "dora")
    try:
        wait_for(lambda: _connects("127.0.0.1", port), "postfix to listen")
        d = dns({})
        srv = smtpd(tmp_path / "a", smtp=relay_conf(
            d, transport="dest.test [127.0.0.1]:%d" % port))
        mid = send(srv, "alice@example.test", ["dora@dest.test"])
        files = wait_for(lambda: os.path.isdir(new) and os.listdir(new),
                         "the message in Postfix's Maildir", server=srv)
        data = open(os.path.join(new, files[0]), "rb").read()
        assert mid.encode() in data
        assert b"by mx.example.test (inetkit)" in data          # our Received: line
        assert b"\n.leading dot line" in data
        wait_for(lambda: queue_json(srv) == [], "the queue to empty", server=srv)
        assert "to=dora@dest.test status=sent code=250" in srv.log()
    finally:
        subprocess.run(["postfix", "-c", conf, "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(w, ignore_errors=True)


def test_smtputf8_message_to_a_server_without_it_is_returned(env, tmp_path):
    dns, sink, smtpd = env
    host = unused_loopback()
    d = dns({"utf.test": [("MX", (10, "mx.utf.test"))], "mx.utf.test": [("A", host)]})
    remote = sink(host, 25)                     # smtp-sink offers no SMTPUTF8
    srv = smtpd(tmp_path / "a", smtp=relay_conf(d))
    msg = "Subject: gr\u00fc\u00dfe\r\n\r\nhallo\r\n".encode()
    with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as c:
        c.ehlo("client.example")
        c.sendmail("alice@example.test", ["j\u00fcrgen@utf.test"], msg,
                   mail_options=["SMTPUTF8"])
    reports = wait_for(lambda: srv.messages("alice"), "the report", server=srv)
    msg, parts, blocks = parse_report(reports[0])
    assert blocks[1]["Action"] == "failed" and blocks[1]["Status"] == "5.6.7"
    assert "SMTPUTF8" in blocks[1]["Diagnostic-Code"]
    assert remote.messages() == []


def test_destination_concurrency_one_delivers_everything_in_turn(env, tmp_path):
    dns, sink, smtpd = env
    host = unused_loopback()
    d = dns({"ok.test": [("MX", (10, "mx.ok.test"))], "mx.ok.test": [("A", host)]})
    remote = sink(host, 25)
    srv = smtpd(tmp_path / "a", smtp=relay_conf(d, relay_destination_concurrency="1",
                                                relay_enabled="no"))
    mids = [send(srv, "alice@example.test", ["u%d@ok.test" % i]) for i in range(8)]
    # all eight queued first, then one runner sees them at once
    srv.stop()
    text = open(srv.conf).read().replace("relay_enabled = no", "relay_enabled = yes")
    open(srv.conf, "w").write(text)
    srv.start()
    got = wait_for(lambda: len(remote.messages()) >= 8 and remote.messages(),
                   "eight deliveries through one slot", server=srv)
    assert all(any(m.encode() in g for g in got) for m in mids)
    wait_for(lambda: queue_json(srv) == [], "the queue to empty", server=srv)


def _queued_then_relayed(srv):
    """Restart srv with the relay on: everything queued meanwhile is seen at
    once by the runner."""
    srv.stop()
    text = open(srv.conf).read().replace("relay_enabled = no", "relay_enabled = yes")
    open(srv.conf, "w").write(text)
    srv.start()


def _uses(log):
    import re
    return [int(n) for n in re.findall(r"status=sent .*?conn_use=(\d+)", log)]


def test_connections_are_reused_with_rset_then_closed_when_idle(env, tmp_path):
    dns, sink, smtpd = env
    port = free_port()
    remote = sink("127.0.0.1", port)
    d = dns({})
    srv = smtpd(tmp_path / "a", smtp=relay_conf(d, transport="ok.test [127.0.0.1]:%d" % port,
                                                relay_destination_concurrency="1",
                                                relay_enabled="no"))
    mids = [send(srv, "alice@example.test", ["u%d@ok.test" % i, "v%d@ok.test" % i])
            for i in range(5)]
    _queued_then_relayed(srv)
    got = wait_for(lambda: len(remote.messages()) >= 5 and remote.messages(),
                   "five deliveries", server=srv)
    assert all(sum(m.encode() in g for g in got) == 1 for m in mids)
    # both recipients of a message in one transaction
    for i, m in enumerate(mids):
        g = [g for g in got if m.encode() in g][0]
        assert b"X-Rcpt-Args: <u%d@ok.test>" % i in g and b"X-Rcpt-Args: <v%d@ok.test>" % i in g
    wait_for(lambda: queue_json(srv) == [], "the queue to empty", server=srv)
    # one connection, one slot: the messages after the first went after RSET
    assert sorted(set(_uses(srv.log()))) == [1, 2, 3, 4, 5]
    # idle for 2 s: closed (QUIT), nothing left established to the sink
    wait_for(lambda: _established_to(port) == 0, "the idle connection to close", timeout=15,
             server=srv)


def _established_to(port):
    out = subprocess.run(["ss", "-Htn", "state", "established"], stdout=subprocess.PIPE,
                         text=True).stdout
    return sum(1 for line in out.splitlines()
               if len(line.split()) >= 4 and line.split()[3].endswith(":%d" % port))


def test_a_kept_connection_that_refuses_rset_is_replaced(env, tmp_path):
    dns, sink, smtpd = env
    port = free_port()
    remote = sink("127.0.0.1", port, "-Q", "RSET")     # 421 and hang up at RSET
    d = dns({})
    srv = smtpd(tmp_path / "a", smtp=relay_conf(d, transport="ok.test [127.0.0.1]:%d" % port,
                                                relay_destination_concurrency="1",
                                                relay_enabled="no"))
    mids = [send(srv, "alice@example.test", ["u%d@ok.test" % i]) for i in range(3)]
    _queued_then_relayed(srv)
    got = wait_for(lambda: len(remote.messages()) >= 3 and remote.messages(),
                   "three deliveries", server=srv)
    assert all(any(m.encode() in g for g in got) for m in mids)
    wait_for(lambda: queue_json(srv) == [], "the queue to empty", server=srv)
    log = srv.log()
    # each went on a new connection at once, not deferred
    assert _uses(log) == [1, 1, 1] and "status=deferred" not in log


def test_421_from_the_remote_is_retried(env, tmp_path):
    dns, sink, smtpd = env
    port = free_port()
    first = sink("127.0.0.1", port, "-Q", "MAIL")
    d = dns({})
    srv = smtpd(tmp_path / "a", smtp=relay_conf(d, transport="ok.test [127.0.0.1]:%d" % port,
                                                queue_retry="1h"))
    mid = send(srv, "alice@example.test", ["bob@ok.test"])
    q = wait_for(lambda: [e for e in queue_json(srv) if e["attempts"] >= 1],
                 "the deferred attempt", server=srv)
    import json
    shown = json.loads(run("queue", "show", q[0]["id"], "--json", "--config", srv.conf,
                           check=0).stdout)
    assert "421" in shown["last_error"]
    assert first.messages() == []
    first.stop()
    second = sink("127.0.0.1", port)
    assert run("queue", "flush", "--config", srv.conf, check=0).stdout == "flushed 1 message\n"
    got = wait_for(second.messages, "the retried delivery", server=srv)
    assert mid.encode() in got[0]
    wait_for(lambda: queue_json(srv) == [], "the queue to empty", server=srv)


def test_bdat_chunks_to_a_remote_that_offers_chunking(env, tmp_path):
    dns, sink, smtpd = env
    b, b_port = _start_remote(smtpd, tmp_path / "b", "final.test", ("carol",))
    d = dns({})
    a = smtpd(tmp_path / "a", smtp=relay_conf(
        d, transport="final.test [127.0.0.2]:%d" % b_port, relay_destination_concurrency="1",
        relay_enabled="no"))
    # a small message and one of several chunks, with lines that begin
    # with a dot (BDAT sends them as they are) and no final line end
    big = "".join(".line %06d %s\r\n" % (i, "x" * 60) for i in range(5000)) + ".last"
    small = send(a, "alice@example.test", ["carol@final.test"], subject="small")
    msg = "Subject: big\r\nMessage-ID: <big@client.example>\r\n\r\n" + big
    with smtplib.SMTP("127.0.0.1", a.port, timeout=30) as c:
        c.sendmail("alice@example.test", ["carol@final.test"], msg)
    _queued_then_relayed(a)
    got = wait_for(lambda: len(b.messages("carol")) >= 2 and b.messages("carol"),
                   "both messages at the remote", timeout=60, server=a)
    bigs = [m for m in got if b"<big@client.example>" in m]
    assert len(bigs) == 1 and any(small.encode() in m for m in got)
    body = bigs[0].split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in bigs[0] else \
        bigs[0].split(b"\n\n", 1)[1]
    assert body.replace(b"\r\n", b"\n") == (big + "\r\n").replace("\r\n", "\n").encode()
    wait_for(lambda: queue_json(a) == [], "the queue to empty", server=a)
    log = a.log()
    assert log.count("body=bdat") == 2 and "body=data" not in log
    assert sorted(_uses(log)) == [1, 2]


def test_metrics_count_deferred_and_bounced_recipients(env, tmp_path):
    from test_metrics import Served, scrape, values
    dns, sink, smtpd = env
    soft, hard = free_port(), free_port()
    sink("127.0.0.1", soft, "-r", "RCPT")
    sink("127.0.0.1", hard, "-f", "RCPT")
    d = dns({})
    mport = free_port()
    srv = Served(tmp_path / "a", extra="[metrics]\nlisten = 127.0.0.1:%d\n" % mport,
                 smtp=relay_conf(d, transport="soft.test [127.0.0.1]:%d, hard.test "
                                 "[127.0.0.1]:%d" % (soft, hard), queue_retry="1h"))
    try:
        key = 'inetkit_messages_total{service="smtp",outcome="%s"}'
        before = values(scrape(mport)[2])
        assert before[key % "deferred"] == 0 and before[key % "bounced"] == 0
        send(srv, "alice@example.test", ["a@soft.test", "b@soft.test", "c@hard.test"])
        wait_for(lambda: srv.messages("alice"), "the bounce", server=srv)
        wait_for(lambda: values(scrape(mport)[2])[key % "deferred"] == 2,
                 "two deferred recipients", server=srv)
        after = values(scrape(mport)[2])
        assert after[key % "bounced"] == 1
        assert after[key % "accepted"] == 1
    finally:
        srv.stop()


def _start_remote(smtpd, base, domains, users):
    """A second inetkit on 127.0.0.2 as the receiving MTA (it offers
    PIPELINING and CHUNKING). Returns (server, port)."""
    port = free_port()
    b = smtpd(base, users=users, domains=domains,
              smtp={"listen": "127.0.0.2:%d" % port, "submission_listen": None,
                    "submissions_listen": None}, start=False)
    b.logf = open(b.log_path, "ab")
    b.proc = subprocess.Popen([BIN, "smtpd", "--config", b.conf], stdout=b.logf,
                              stderr=b.logf, start_new_session=True)
    wait_for(lambda: _connects("127.0.0.2", port), "the remote to listen", server=b)
    return b, port


def test_dkim_signature_survives_the_relay_and_dkimpy_verifies_it_at_the_remote(env, tmp_path):
    import dkim
    from test_mailauth import MESSAGE, SELECTOR, dnsfunc_for, keygen
    dns, sink, smtpd = env
    b, port = _start_remote(smtpd, tmp_path / "b", "remote.example", ("bob",))
    d = dns({})
    (tmp_path / "a").mkdir()
    key, txt = keygen(tmp_path / "a", "rsa")
    a = smtpd(tmp_path / "a", tls=True, smtp=relay_conf(
        d, transport="remote.example [127.0.0.2]:%d" % port, dkim_selector=SELECTOR,
        dkim_key=key))
    c = a.submission()
    try:
        c.sendmail("alice@example.test", ["bob@remote.example"], MESSAGE)
    finally:
        c.quit()
    got = wait_for(lambda: b.messages("bob"), "the message at the remote", server=a)
    wait_for(lambda: queue_json(a) == [], "the queue to empty", server=a)
    stored = got[0]
    assert b"DKIM-Signature: v=1; a=rsa-sha256;" in stored
    # the remote stores LF line ends; on the wire, and for the verifier, CRLF
    wire = stored.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert dkim.verify(wire, dnsfunc=dnsfunc_for(txt))
    assert "body=bdat" in a.log()


def test_a_remote_that_never_answers_is_deferred_after_relay_reply_timeout(env, tmp_path):
    dns, sink, smtpd = env
    # a listening socket that is never accepted: the TCP connection is
    # made (the kernel's backlog), no greeting ever comes
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(8)
    port = hang.getsockname()[1]
    try:
        d = dns({})
        srv = smtpd(tmp_path / "a", smtp=relay_conf(
            d, transport="hang.test [127.0.0.1]:%d" % port, relay_reply_timeout="1s",
            queue_retry="1h"))
        send(srv, "alice@example.test", ["bob@hang.test"])
        q = wait_for(lambda: [e for e in queue_json(srv) if e["attempts"] >= 1],
                     "the timed-out attempt", server=srv)
        import json
        shown = json.loads(run("queue", "show", q[0]["id"], "--json", "--config", srv.conf,
                               check=0).stdout)
        assert shown["last_error"].startswith("4.4.2") and "no answer in time" in \
            shown["last_error"], shown
    finally:
        hang.close()


def test_a_slow_data_reply_within_the_timeout_is_waited_for(env, tmp_path):
    dns, sink, smtpd = env
    port = free_port()
    remote = sink("127.0.0.1", port, "-w", "2")     # 2 s before its DATA reply
    d = dns({})
    srv = smtpd(tmp_path / "a", smtp=relay_conf(
        d, transport="slow.test [127.0.0.1]:%d" % port, relay_reply_timeout="10s"))
    mid = send(srv, "alice@example.test", ["bob@slow.test"])
    got = wait_for(remote.messages, "the slow delivery", server=srv)
    assert mid.encode() in got[0]
    wait_for(lambda: queue_json(srv) == [], "the queue to empty", server=srv)
    assert "status=deferred" not in srv.log()


def test_hold_keeps_an_entry_from_the_running_relay_until_release(env, tmp_path):
    import json
    dns, sink, smtpd = env
    port = free_port()
    remote = sink("127.0.0.1", port)
    d = dns({})
    srv = smtpd(tmp_path / "a", smtp=relay_conf(d, transport="ok.test [127.0.0.1]:%d" % port,
                                                relay_enabled="no"))
    mid = send(srv, "alice@example.test", ["bob@ok.test"])
    qid = queue_json(srv)[0]["id"]
    assert run("queue", "hold", qid, "--config", srv.conf, check=0).stdout == "held %s\n" % qid
    _queued_then_relayed(srv)
    time.sleep(2)                               # ten ticks of the runner
    assert remote.messages() == []
    entry = json.loads(run("queue", "show", qid, "--json", "--config", srv.conf,
                           check=0).stdout)
    assert entry["hold"] is True and entry["attempts"] == 0
    assert run("queue", "release", qid, "--config", srv.conf,
               check=0).stdout == "released %s\n" % qid
    got = wait_for(remote.messages, "the released delivery", server=srv)
    assert mid.encode() in got[0]
    wait_for(lambda: queue_json(srv) == [], "the queue to empty", server=srv)


def test_transport_domains_do_not_go_to_the_relayhost_nor_share_its_connections(env, tmp_path):
    import json
    dns, sink, smtpd = env
    tport, rport = free_port(), free_port()
    direct = sink("127.0.0.1", tport)
    smarthost = sink("127.0.0.2", rport)       # plaintext: the relayhost needs TLS
    d = dns({})
    srv = smtpd(tmp_path / "a", smtp=relay_conf(
        d, transport="direct.test [127.0.0.1]:%d" % tport, relayhost="[127.0.0.2]:%d" % rport,
        queue_retry="1h"))
    # the transport recipient first, then one for the relayhost, in one message
    mid = send(srv, "alice@example.test", ["t@direct.test", "r@else.test"])
    got = wait_for(direct.messages, "the transport delivery", server=srv)
    assert mid.encode() in got[0]
    assert b"X-Rcpt-Args: <t@direct.test>" in got[0] and b"r@else.test>" not in got[0]
    # then, with the transport's connection still open, one for the relayhost
    send(srv, "alice@example.test", ["r2@else.test"])
    wait_for(lambda: len([e for e in queue_json(srv) if e["attempts"] >= 1]) == 2,
             "both relayhost entries deferred", server=srv)
    for e in queue_json(srv):
        shown = json.loads(run("queue", "show", e["id"], "--json", "--config", srv.conf,
                               check=0).stdout)
        assert "TLS is required" in shown["last_error"]
    assert len(direct.messages()) == 1 and smarthost.messages() == []

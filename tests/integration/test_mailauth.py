"""Mail authentication through the real server.

Outbound: `inetkit dkim keygen` makes the key and prints the record; smtpd
signs what an authenticated user submits (smtplib, STARTTLS + AUTH) from a
local domain; the message is read from STATE/queue/ID.msg and verified by
an independent verifier, Debian's python3-dkim (dkimpy), with a dnsfunc
that serves the record keygen printed. Both key types.
"""
import os
import re

import dkim
import pytest

from conftest import run
from smtpd_env import Smtpd, split_trace

DOMAIN = "example.test"
SELECTOR = "sel2026"

MESSAGE = (
    "From: Alice <alice@example.test>\r\n"
    "To: Bob <bob@remote.example>\r\n"
    "Subject: signed by inetkit\r\n"
    "Date: Sat, 05 Dec 2026 03:00:00 +0000\r\n"
    "Message-ID: <dkim-test-1@example.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Hello Bob,\r\n"
    "  a line with  spaces   and a tab\there.  \r\n"
    "\r\n"
    "..a line that starts with a dot\r\n"
    "\r\n"
    "\r\n")


def keygen(tmp_path, keytype):
    """(key file, TXT record text) from `inetkit dkim keygen`."""
    key = str(tmp_path / ("dkim-%s.pem" % keytype))
    p = run("dkim", "keygen", DOMAIN, SELECTOR, "--key", key, "--type", keytype, check=0)
    line = p.stdout
    assert line.startswith("%s._domainkey.%s. IN TXT (" % (SELECTOR, DOMAIN)), line
    txt = "".join(re.findall(r'"([^"]*)"', line))
    assert txt.startswith("v=DKIM1; k=%s; p=" % keytype), txt
    assert os.stat(key).st_mode & 0o777 == 0o600
    assert "private key written to %s" % key in p.stderr
    return key, txt


def dnsfunc_for(txt):
    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        if name.rstrip(".") == "%s._domainkey.%s" % (SELECTOR, DOMAIN):
            return txt.encode()
        return None
    return dnsfunc


def wire(stored):
    """A stored message (LF) as it goes on the wire (CRLF)."""
    return stored.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def submit(s, sender="alice@example.test", rcpt=("bob@remote.example",), msg=MESSAGE):
    c = s.submission()
    try:
        c.sendmail(sender, list(rcpt), msg)
    finally:
        c.quit()


@pytest.mark.parametrize("keytype", ["rsa", "ed25519"])
def test_submission_is_signed_and_dkimpy_verifies_it(tmp_path, keytype):
    key, txt = keygen(tmp_path, keytype)
    with Smtpd(tmp_path, smtp={"dkim_selector": SELECTOR, "dkim_key": key},
               tls=True) as s:
        submit(s)
        ids = s.queue_ids()
        assert len(ids) == 1
        stored = s.queue_msg(ids[0])
        log = s.log()
    assert "event=smtp_dkim_signed" in log and "d=%s s=%s" % (DOMAIN, SELECTOR) in log
    # The signature follows the two trace fields.
    received, rest = split_trace(stored)
    assert rest.startswith(b"DKIM-Signature: v=1; a=%s-sha256; c=relaxed/relaxed; d=%s; s=%s;"
                           % (keytype.encode(), DOMAIN.encode(), SELECTOR.encode())), rest[:300]
    assert b"h=from:from:" in rest	# From oversigned
    assert dkim.verify(wire(stored), dnsfunc=dnsfunc_for(txt))
    # And dkimpy rejects the same message changed after signing.
    tampered = wire(stored).replace(b"Hello Bob", b"Hello Eve")
    assert not dkim.verify(tampered, dnsfunc=dnsfunc_for(txt))
    tampered = wire(stored).replace(b"Subject: signed", b"Subject: forged")
    assert not dkim.verify(tampered, dnsfunc=dnsfunc_for(txt))


def test_local_delivery_of_a_submission_is_signed_too(tmp_path):
    key, txt = keygen(tmp_path, "rsa")
    with Smtpd(tmp_path, smtp={"dkim_selector": SELECTOR, "dkim_key": key},
               users=("alice", "bob"), tls=True) as s:
        submit(s, rcpt=["bob@example.test", "carol@remote.example"])
        files = s.wait_stored("bob", 1)
        with open(files[0], "rb") as f:
            local = f.read()
        queued = s.queue_msg(s.queue_ids()[0])
    assert local == queued	# one file, linked into both places
    assert dkim.verify(wire(local), dnsfunc=dnsfunc_for(txt))


def test_not_signed_other_from_domain_or_unauthenticated(tmp_path):
    key, _ = keygen(tmp_path, "ed25519")
    with Smtpd(tmp_path, smtp={"dkim_selector": SELECTOR, "dkim_key": key},
               users=("alice", "bob"), tls=True) as s:
        # Authenticated, but From names a domain that is not ours.
        submit(s, msg=MESSAGE.replace("alice@example.test", "alice@elsewhere.example"))
        stored = s.queue_msg(s.queue_ids()[0])
        assert b"DKIM-Signature:" not in stored
        # Not authenticated (port 25, to a local user).
        c = s.smtp()
        c.sendmail("someone@remote.example", ["bob@example.test"], MESSAGE)
        c.quit()
        with open(s.wait_stored("bob", 1)[0], "rb") as f:
            assert b"DKIM-Signature:" not in f.read()
        assert "event=smtp_dkim_signed" not in s.log()


def test_dkim_config_errors(tmp_path):
    key, _ = keygen(tmp_path, "rsa")
    s = Smtpd(tmp_path / "a", smtp={"dkim_selector": SELECTOR}, start=False)
    p = run("smtpd", "--config", s.conf)
    assert p.returncode != 0
    assert "dkim_selector and dkim_key go together: set both, or neither" in p.stderr
    s = Smtpd(tmp_path / "b", smtp={"dkim_selector": SELECTOR,
                                   "dkim_key": str(tmp_path / "missing.pem")}, start=False)
    p = run("smtpd", "--config", s.conf)
    assert p.returncode != 0
    assert "cannot open the DKIM key %s" % (tmp_path / "missing.pem") in p.stderr
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key\n")
    s = Smtpd(tmp_path / "c", smtp={"dkim_selector": SELECTOR, "dkim_key": str(bad)},
              start=False)
    p = run("smtpd", "--config", s.conf)
    assert p.returncode != 0
    assert "%s is not a PEM private key (make one with `inetkit dkim keygen`)" % bad in p.stderr
    s = Smtpd(tmp_path / "d", smtp={"dkim_selector": "bad selector!", "dkim_key": key},
              start=False)
    p = run("smtpd", "--config", s.conf)
    assert p.returncode != 0
    assert "'bad selector!' is not a selector" in p.stderr


def test_keygen_usage(tmp_path):
    key = tmp_path / "k.pem"
    p = run("dkim", "keygen", DOMAIN, SELECTOR, "--key", key, "--type", "ed25519")
    assert p.returncode == 0
    p = run("dkim", "keygen", DOMAIN, SELECTOR, "--key", key)
    assert p.returncode == 1
    assert p.stderr == ("inetkit dkim: %s exists already; a key is never overwritten (remove "
                        "it first): File exists\n" % key)
    p = run("dkim", "keygen", DOMAIN, SELECTOR, "--key", tmp_path / "r.pem", "--bits", "512")
    assert p.returncode == 2
    assert p.stderr.startswith("inetkit dkim: --bits 512: an RSA key for DKIM has 1024 to "
                               "8192 bits (2048 advised)\n")
    p = run("dkim", "keygen", DOMAIN, "--key", tmp_path / "x.pem")
    assert p.returncode == 2
    assert p.stderr.startswith("inetkit dkim: keygen takes DOMAIN and SELECTOR\n")
    p = run("dkim", "keygen", DOMAIN, SELECTOR, "--key", tmp_path / "y.pem", "--type", "dsa")
    assert p.returncode == 2
    assert "--type 'dsa': rsa or ed25519" in p.stderr
    p = run("dkim", "--help")
    assert p.returncode == 0 and p.stdout.startswith("Usage: inetkit dkim keygen DOMAIN")
    p = run("dkim", "keygn")
    assert p.returncode == 2 and "Did you mean 'keygen'?" in p.stderr


# ---- inbound: SPF, DKIM, DMARC on the listen role ----
#
# A DNS server on loopback (dnslib, as the relay tests use) serves the
# records; smtpd's dns_servers points at it. Mail comes from smtplib on
# 127.0.0.1, so SPF records name 127.0.0.1 or not.

import smtplib
import threading

from dnslib import QTYPE, RCODE, RR, TXT, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from conftest import free_port
from smtpd_env import HOSTNAME


class Zone(BaseResolver):
    """name -> [(type, data)]; a name with no entry is NXDOMAIN; "SERVFAIL"
    as the data of any entry makes every question about it fail."""

    def __init__(self, records):
        self.records = {k.lower(): v for k, v in records.items()}
        self.asked = []

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        self.asked.append((qtype, name))
        rrs = self.records.get(name)
        if rrs is None:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for t, data in rrs:
            if data == "SERVFAIL":
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            if t != qtype:
                continue
            if t == "TXT":
                raw = data.encode()
                chunks = [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""]
                reply.add_answer(RR(name, QTYPE.TXT, rdata=TXT(chunks), ttl=60))
            elif t == "A":
                reply.add_answer(RR(name, QTYPE.A, rdata=A(data), ttl=60))
        return reply


class Dns:
    def __init__(self, records):
        self.zone = Zone(records)
        self.port = free_port()
        self.server = DNSServer(self.zone, port=self.port, address="127.0.0.1",
                                logger=DNSLogger(logf=lambda text: None))
        self.server.start_thread()

    def stop(self):
        self.server.stop()

    @property
    def servers(self):
        return "127.0.0.1:%d" % self.port


def sender_key(tmp_path):
    """An RSA key (PEM) for sender.example and its record, from keygen."""
    key = str(tmp_path / "sender.pem")
    p = run("dkim", "keygen", "sender.example", "s1", "--key", key)
    assert p.returncode == 0
    return key, "".join(re.findall(r'"([^"]*)"', p.stdout))


def records(txt_key):
    return {
        "sender.example": [("TXT", "v=spf1 ip4:127.0.0.0/8 -all")],
        "s1._domainkey.sender.example": [("TXT", txt_key)],
        "_dmarc.sender.example": [("TXT", "v=DMARC1; p=reject")],
        "bank.example": [("TXT", "v=spf1 ip4:192.0.2.0/24 -all")],
        "_dmarc.bank.example": [("TXT", "v=DMARC1; p=reject; rua=mailto:d@bank.example")],
        "soft.example": [("TXT", "v=spf1 ~all")],
        "_dmarc.soft.example": [("TXT", "v=DMARC1; p=none")],
        "broken.example": [("TXT", "SERVFAIL")],
        "_dmarc.broken.example": [("TXT", "SERVFAIL")],
    }


def signed(key, body="Hello.\r\n", frm="bob@sender.example", extra=""):
    msg = ("From: Bob <%s>\r\nTo: alice@example.test\r\nSubject: inbound\r\n"
           "Message-ID: <in-1@sender.example>\r\n%s\r\n%s" % (frm, extra, body)).encode()
    with open(key, "rb") as f:
        sig = dkim.sign(msg, b"s1", frm.split("@")[1].encode(), f.read(),
                        include_headers=[b"from", b"to", b"subject"])
    return sig + msg


def inbound(tmp_path, dns, enforce="no", users=("alice",)):
    return Smtpd(tmp_path, smtp={"dns_servers": dns.servers, "mail_auth": "yes",
                                 "dmarc_enforce": enforce}, users=users)


def ar_of(stored):
    """The Authentication-Results field right after the trace fields."""
    _, rest = split_trace(stored)
    assert rest.startswith(b"Authentication-Results: "), rest[:300]
    end = re.search(rb"\n(?![ \t])", rest).end()
    return rest[:end].decode(), rest[end:]


def send25(s, sender, msg, rcpt="alice@example.test"):
    c = s.smtp()
    try:
        return c.sendmail(sender, [rcpt], msg)
    finally:
        c.quit()


def test_inbound_pass_all_three(tmp_path):
    key, txt = sender_key(tmp_path)
    dns = Dns(records(txt))
    try:
        with inbound(tmp_path / "s", dns) as s:
            msg = signed(key)
            send25(s, "bob@sender.example", msg)
            stored = open(s.wait_stored("alice", 1)[0], "rb").read()
            log = s.log()
    finally:
        dns.stop()
    b = re.search(rb"\bb=([A-Za-z0-9+/]{8})", msg.split(b"bh=")[1]).group(1).decode()
    ar, rest = ar_of(stored)
    assert ar == ("Authentication-Results: %s;\n"
                  "\tspf=pass smtp.mailfrom=bob@sender.example;\n"
                  "\tdkim=pass header.d=sender.example header.s=s1 header.a=rsa-sha256 "
                  "header.b=%s;\n"
                  "\tdmarc=pass (p=reject) header.from=sender.example\n" % (HOSTNAME, b))
    # The rest is the message as sent, and still verifies.
    assert rest == msg.replace(b"\r\n", b"\n")
    assert "event=smtp_auth" in log and "spf=pass dkim=pass dmarc=pass" in log


def test_inbound_spoofed_from_fails_dmarc_header_only_by_default(tmp_path):
    dns = Dns(records("v=DKIM1; p="))
    try:
        with inbound(tmp_path / "s", dns) as s:
            send25(s, "ceo@bank.example",
                   "From: CEO <ceo@bank.example>\r\nSubject: wire money\r\n\r\nnow\r\n")
            stored = open(s.wait_stored("alice", 1)[0], "rb").read()
    finally:
        dns.stop()
    ar, _ = ar_of(stored)
    assert ar == ("Authentication-Results: %s;\n"
                  "\tspf=fail smtp.mailfrom=ceo@bank.example;\n"
                  "\tdkim=none;\n"
                  "\tdmarc=fail (p=reject) header.from=bank.example\n" % HOSTNAME)


def test_inbound_dmarc_enforce_refuses_p_reject_failure(tmp_path):
    key, txt = sender_key(tmp_path)
    dns = Dns(records(txt))
    try:
        with inbound(tmp_path / "s", dns, enforce="yes") as s:
            snap = s.snapshot()
            c = s.smtp()
            c.ehlo()
            c.mail("ceo@bank.example")
            c.rcpt("alice@example.test")
            code, text = c.data(b"From: CEO <ceo@bank.example>\r\nSubject: x\r\n\r\nx\r\n")
            assert (code, text) == (550, b"5.7.1 Message rejected: it fails the DMARC policy "
                                         b"(p=reject) of bank.example")
            # The session goes on: a good message is taken.
            c.rset()
            assert c.sendmail("bob@sender.example", ["alice@example.test"],
                              signed(key)) == {}
            c.quit()
            # p=none and a SPF softfail: delivered, marked.
            send25(s, "x@soft.example", "From: x@soft.example\r\nSubject: y\r\n\r\ny\r\n")
            files = s.wait_stored("alice", 2)
            assert len(files) == 2
            texts = sorted(ar_of(open(f, "rb").read())[0] for f in files)
            assert "dmarc=pass (p=reject) header.from=sender.example" in texts[0] + texts[1]
            assert any("spf=softfail smtp.mailfrom=x@soft.example" in t and
                       "dmarc=fail (p=none) header.from=soft.example" in t for t in texts)
            assert not any(b"ceo@bank" in open(f, "rb").read() for f in files)
            assert len(s.added_since(snap)) == 2
    finally:
        dns.stop()


def test_inbound_forged_results_removed_and_temperror(tmp_path):
    key, txt = sender_key(tmp_path)
    dns = Dns(records(txt))
    try:
        with inbound(tmp_path / "s", dns) as s:
            forged = ("Authentication-Results: %s; spf=pass smtp.mailfrom=x@broken.example\r\n"
                      "Authentication-Results: other.example; dkim=pass\r\n" % HOSTNAME)
            send25(s, "x@broken.example",
                   "From: x@broken.example\r\n%sSubject: t\r\n\r\nt\r\n" % forged)
            stored = open(s.wait_stored("alice", 1)[0], "rb").read()
    finally:
        dns.stop()
    ar, rest = ar_of(stored)
    assert ar.startswith("Authentication-Results: %s;\n\tspf=temperror "
                         "smtp.mailfrom=x@broken.example;\n\tdkim=none;\n\tdmarc=temperror "
                         "header.from=broken.example\n" % HOSTNAME), ar
    assert rest.count(b"Authentication-Results:") == 1
    assert b"Authentication-Results: other.example; dkim=pass\n" in rest


def test_inbound_checks_off_and_config_errors(tmp_path):
    dns = Dns({})
    try:
        with Smtpd(tmp_path / "s", smtp={"dns_servers": dns.servers, "mail_auth": "no"}) as s:
            send25(s, "x@soft.example", "From: x@soft.example\r\nSubject: y\r\n\r\ny\r\n")
            stored = open(s.wait_stored("alice", 1)[0], "rb").read()
            assert b"Authentication-Results:" not in stored
        assert dns.zone.asked == []
    finally:
        dns.stop()
    s = Smtpd(tmp_path / "b", smtp={"dns_servers": "not a server:99999"}, start=False)
    p = run("smtpd", "--config", s.conf)
    assert p.returncode != 0 and "dns_servers" in p.stderr

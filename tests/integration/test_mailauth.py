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

"""`inetkit mail`, the bullets of issue 16 that test_mail.py leaves out:
send -> fetch end to end (inetkit's smtpd/pop3d/imapd sharing one state
directory, and Postfix -> Dovecot), composing details (body encodings,
multipart/alternative, MIME types, RFC 2231 names, Bcc-only), exit status
and JSON with refused recipients, ~/.netrc, password_command failures,
--folder, a killed IMAP fetch resumed, the journal inside a Maildir++
folder, the progress bar on a terminal, --trace on every verb, STARTTLS
required against a plaintext POP3 server, hostile SMTP servers.

Helpers and fixtures come from test_mail.py; every check is on exact
output (or on the bytes Python's email package parses back), none on
timing."""
import email.utils
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import BIN, free_port
from smtpd_env import PASSWORD, Smtpd
from test_mail import (CHINESE_NAME, CHINESE_SUBJECT, Hostile, account_conf,  # noqa: F401
                       composed, dovecot, dovecot_missing, endless, fetched_count, files,
                       imapd, ip_cert, mail, maildir_files, netrc_for, parse, pop3d,
                       postfix_missing, smtpd)

SECOND_NAME = "数据 表（二）.csv"


def _banner(port, prefix, bye):
    """Wait until port answers with prefix; then say bye and read to the end."""
    deadline = time.monotonic() + 20
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            f = s.makefile("rb")
            line = f.readline()
            if not line.startswith(prefix):
                raise OSError("banner %r" % line)
            s.sendall(bye)
            while f.readline():
                pass
            s.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Suite:
    """inetkit smtpd (MX, submission with STARTTLS and AUTH, submissions),
    pop3d and imapd on one state directory and one [tls] certificate made
    for 127.0.0.1: what `mail send` submits, `mail fetch` reads back."""

    def __init__(self, base):
        self.smtpd = Smtpd(base, users=("alice", "bob"), tls=True, start=False)
        self.cert = ip_cert(self.smtpd.base)
        self.pop3_port, self.pop3s_port = free_port(), free_port()
        self.imap_port, self.imaps_port = free_port(), free_port()
        with open(self.smtpd.conf, "a") as f:
            f.write("[pop3]\nlisten = 127.0.0.1:%d\nimplicit_tls_listen = 127.0.0.1:%d\n"
                    "[imap]\nlisten = 127.0.0.1:%d\ntls_listen = 127.0.0.1:%d\n"
                    % (self.pop3_port, self.pop3s_port, self.imap_port, self.imaps_port))
        self.procs = []
        self.smtpd.start()
        self.logf = open(os.path.join(self.smtpd.base, "readers.log"), "ab")
        for verb in ("pop3d", "imapd"):
            self.procs.append(subprocess.Popen([BIN, verb, "--config", self.smtpd.conf],
                                               stdout=self.logf, stderr=self.logf,
                                               start_new_session=True))
        _banner(self.pop3_port, b"+OK", b"QUIT\r\n")
        _banner(self.imap_port, b"* OK", b"a LOGOUT\r\n")

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        self.logf.close()
        self.smtpd.stop()


@pytest.fixture
def suite(tmp_path):
    s = Suite(tmp_path / "suite")
    yield s
    s.stop()


@pytest.fixture
def two_files(files):
    """The Chinese-named binary of test_mail's files fixture and a second
    file with a Chinese name, a space and full-width parentheses."""
    d, blob = files
    second = "名,值\r\n一,1\r\n".encode("utf-8")
    (d / SECOND_NAME).write_bytes(second)
    return d, {CHINESE_NAME: blob, SECOND_NAME: second}


def check_attachments(data, expected):
    atts = list(parse(data).iter_attachments())
    assert [a.get_filename() for a in atts] == list(expected)
    for a in atts:
        assert a.get_payload(decode=True) == expected[a.get_filename()]


# ---- send -> fetch, end to end ----

def test_send_then_fetch_over_pop3_and_imap_from_inetkit(suite, two_files, tmp_path):
    d, expected = two_files
    md_pop, md_imap = str(tmp_path / "MailPOP"), str(tmp_path / "MailIMAP")
    conf = account_conf(tmp_path / "mail.conf", user="alice",
                        **{"from": "Zhang San <alice@example.test>",
                           "smtp_server": "127.0.0.1:%d" % suite.smtpd.sub_port,
                           "server": "127.0.0.1:%d" % suite.pop3_port, "protocol": "pop3",
                           "cacert": suite.cert, "maildir": md_pop})
    p = mail("send", "--config", conf, "--to", "Alice <alice@example.test>",
             "--subject", CHINESE_SUBJECT, "--body", "正文 body\n",
             "--attach", str(d / CHINESE_NAME), "--attach", str(d / SECOND_NAME))
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    m = re.fullmatch(r"sent (<[^>]+>) to 1 of 1 recipient via 127\.0\.0\.1:%d\n"
                     % suite.smtpd.sub_port, out)
    assert m, out
    mid = m.group(1)
    suite.smtpd.wait_stored("alice", 1)
    [stored] = suite.smtpd.messages("alice")

    # POP3 over STLS, everything from the account
    p = mail("fetch", "--config", conf)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == "fetched 1 new message into %s\n" % md_pop
    # IMAP over STARTTLS, into another Maildir
    imap = ["fetch", "--config", conf, "--protocol", "imap", "--server",
            "127.0.0.1:%d" % suite.imap_port, "--maildir", md_imap]
    p = mail(*imap)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == "fetched 1 new message into %s\n" % md_imap

    [f_pop] = maildir_files(md_pop)
    [f_imap] = maildir_files(md_imap)
    got_pop, got_imap = open(f_pop, "rb").read(), open(f_imap, "rb").read()
    assert got_pop == stored and got_imap == stored     # byte-identical, LF line ends
    msg = parse(got_pop)
    assert str(msg["subject"]) == CHINESE_SUBJECT and msg["message-id"] == mid
    check_attachments(got_pop, expected)

    # the second fetch of each finds nothing new
    p = mail("fetch", "--config", conf)
    assert p.stdout.decode() == "fetched 0 new messages into %s\n" % md_pop
    p = mail(*imap)
    assert p.stdout.decode() == "fetched 0 new messages into %s\n" % md_imap

    # read the local copy back, attachments saved under their own names
    saved = tmp_path / "saved"
    saved.mkdir()
    p = mail("read", "1", "--maildir", md_imap, "--save-attachments", str(saved))
    assert p.returncode == 0, p.stderr
    text = p.stdout.decode()
    assert "Subject: %s\n" % CHINESE_SUBJECT in text
    assert "From: Zhang San <alice@example.test>\n" in text
    assert "\n正文 body\n" in text
    assert ("[attachment 1] %s (application/octet-stream, %d bytes) saved as %s\n"
            % (CHINESE_NAME, len(expected[CHINESE_NAME]), CHINESE_NAME)) in text
    assert ("[attachment 2] %s (text/csv, %d bytes) saved as %s\n"
            % (SECOND_NAME, len(expected[SECOND_NAME]), SECOND_NAME)) in text
    assert sorted(os.listdir(saved)) == sorted(expected)
    for name, data in expected.items():
        assert (saved / name).read_bytes() == data


@postfix_missing
@dovecot_missing
def test_send_through_postfix_then_fetch_from_dovecot(dovecot, two_files, tmp_path):
    from test_relay_out import _connects, _postfix
    d, expected = two_files
    port = free_port()
    w, conf, new = _postfix(tmp_path, port, "dest.test", "dora")
    try:
        deadline = time.monotonic() + 30
        while not _connects("127.0.0.1", port):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        empty = tmp_path / "empty-netrc"
        empty.write_text("")
        p = mail("send", "--server", "127.0.0.1:%d" % port, "--no-tls", "--netrc-file",
                 str(empty), "--from", "Zhang San <alice@example.test>",
                 "--to", "dora@dest.test", "--bcc", "dora@dest.test",
                 "--subject", CHINESE_SUBJECT, "--body", "via Postfix\n",
                 "--attach", str(d / CHINESE_NAME), "--attach", str(d / SECOND_NAME))
        assert p.returncode == 0, p.stderr
        assert p.stdout.decode().endswith(" to 2 of 2 recipients via 127.0.0.1:%d\n" % port)
        deadline = time.monotonic() + 30
        while not (os.path.isdir(new) and os.listdir(new)):
            assert time.monotonic() < deadline, "nothing delivered by postfix"
            time.sleep(0.1)
        [name] = os.listdir(new)       # one recipient twice: one delivery
        delivered = open(os.path.join(new, name), "rb").read()
    finally:
        subprocess.run(["postfix", "-c", conf, "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(w, ignore_errors=True)
    assert b"Bcc" not in delivered and b"bcc" not in delivered.lower().split(b"\n\n")[0]
    # Postfix's Maildir file handed to Dovecot's mailbox as it is
    dovecot.deliver(delivered)
    netrc = netrc_for(tmp_path, dovecot.user, dovecot.password)
    for proto, port in (("pop3", dovecot.pop3_port), ("imap", dovecot.imap_port)):
        md = str(tmp_path / ("Mail-" + proto))
        args = ["fetch", "--protocol", proto, "--server", "127.0.0.1:%d" % port, "--no-tls",
                "--user", dovecot.user, "--netrc-file", netrc, "--maildir", md]
        p = mail(*args)
        assert p.returncode == 0, p.stderr + dovecot.log().encode()
        assert p.stdout.decode() == "fetched 1 new message into %s\n" % md
        [f] = maildir_files(md)
        got = open(f, "rb").read()
        assert got == delivered, proto
        assert str(parse(got)["subject"]) == CHINESE_SUBJECT
        check_attachments(got, expected)
        p = mail(*args)
        assert p.stdout.decode() == "fetched 0 new messages into %s\n" % md

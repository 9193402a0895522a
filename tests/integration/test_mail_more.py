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

from conftest import BIN, ROOT, free_port
from smtpd_env import PASSWORD, Smtpd
from test_mail import (CHINESE_NAME, CHINESE_SUBJECT, Hostile, account_conf,  # noqa: F401
                       dovecot, dovecot_missing, endless, fetched_count, files,
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


# ---- composing (--dry-run prints exactly what would be sent) ----

def dry(*args, input=b""):
    p = mail("send", "-n", "--from", "a@example.test", *args, input=input)
    assert p.returncode == 0, p.stderr
    return p.stdout


def headers_of(data):
    return data.split(b"\n\n", 1)[0].decode()


def test_body_encoding_is_chosen_by_content(tmp_path):
    # plain ASCII in short lines: 7bit, nothing to encode
    out = dry("--to", "b@example.test", "--subject", "s", input=b"plain ascii text\n")
    assert headers_of(out).endswith("Content-Type: text/plain; charset=us-ascii")
    assert out.endswith(b"\n\nplain ascii text\n")
    # mostly CJK, from --body-file: base64 (quoted-printable would triple it)
    zh = "你好世界，这是一封测试邮件。\n第二行，还是中文。\n"
    body = tmp_path / "body.txt"
    body.write_text(zh, encoding="utf-8")
    out = dry("--to", "b@example.test", "--body-file", str(body))
    assert "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64" in \
        headers_of(out)
    assert parse(out).get_content() == zh
    assert all(b < 0x80 for b in out)
    # stdin, mostly ASCII with one accent: quoted-printable
    out = dry("--to", "b@example.test", input="Le café est prêt.\n".encode())
    assert "Content-Transfer-Encoding: quoted-printable" in headers_of(out)
    # GMime names the smallest charset that holds the text
    assert "Content-Type: text/plain; charset=iso-8859-1" in headers_of(out)
    assert out.endswith(b"\n\nLe caf=E9 est pr=EAt.\n")
    assert parse(out).get_content() == "Le café est prêt.\n"
    # a body that is not UTF-8 is refused, naming where it came from
    body.write_bytes(b"caf\xe9\n")
    p = mail("send", "-n", "--from", "a@example.test", "--to", "b@example.test",
             "--body-file", str(body))
    assert p.returncode == 2 and p.stdout == b""
    assert p.stderr.decode() == ("inetkit mail: --body-file: the text is not UTF-8 (attach a "
                                 "binary file with --attach)\n")


def test_html_alternative_and_attachments_structure(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<p>Grüße</p>\n", encoding="utf-8")
    out = dry("--to", "b@example.test", "--body", "text part\n", "--html", str(page))
    msg = parse(out)
    assert [p.get_content_type() for p in msg.walk()] == [
        "multipart/alternative", "text/plain", "text/html"]
    assert msg.get_body(("plain",)).get_content() == "text part\n"
    assert msg.get_body(("html",)).get_content() == "<p>Grüße</p>\n"
    names = ["report.pdf", "photo.PNG", "notes.txt", "archive.tar.gz", "data.bin", "README",
             "很长的中文文件名称用于测试折叠参数编码是否正确 — final version (2).png"]
    for i, n in enumerate(names):
        (tmp_path / n).write_bytes(bytes([i]) * (i + 1) + b"\r\n\x00")
    out = dry("--to", "b@example.test", "--body", "x\n", "--html", str(page),
              *sum((["--attach", str(tmp_path / n)] for n in names), []))
    msg = parse(out)
    assert [p.get_content_type() for p in msg.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html",
        "application/pdf", "image/png", "text/plain", "application/gzip",
        "application/octet-stream", "application/octet-stream", "image/png"]
    atts = list(msg.iter_attachments())
    assert [a.get_filename() for a in atts] == names
    for i, a in enumerate(atts):
        assert a["content-disposition"].split(";")[0] == "attachment"
        assert a["content-transfer-encoding"] == "base64"
        assert a.get_payload(decode=True) == bytes([i]) * (i + 1) + b"\r\n\x00"
    # a long UTF-8 name: RFC 2231 continuations, filename*0*=UTF-8''...
    text = out.decode()
    assert "filename*0*=UTF-8''%E5%BE%88%E9%95%BF" in text
    assert "filename*1*=" in text
    assert all(b < 0x80 for b in out)


def test_message_id_date_utf8_header_and_bcc_only():
    out = dry("--bcc", "hidden@example.test", "--subject", "only bcc", "--body", "x\n",
              "--header", "X-Note: café au lait", "--header", "Reply-To: r@example.test")
    h = headers_of(out)
    msg = parse(out)
    # Bcc recipients are in the envelope only: no To, no Cc, no Bcc header
    assert msg["to"] is None and msg["cc"] is None and msg["bcc"] is None
    assert b"hidden" not in out
    assert "\nX-Note: =?UTF-8?" in "\n" + h and str(msg["x-note"]) == "café au lait"
    assert msg["reply-to"] == "r@example.test"
    mid = msg["message-id"]
    assert re.fullmatch(r"<[^<>@\s]+@example\.test>", mid), mid
    when = email.utils.parsedate_to_datetime(msg["date"])
    assert when.tzinfo is not None
    assert abs(time.time() - when.timestamp()) < 86400
    again = parse(dry("--to", "b@example.test", "--body", "x\n"))
    assert again["message-id"] != mid


@pytest.mark.parametrize("header,why", [
    ("Content-Type: text/html", "--header Content-Type: the MIME structure is written by "
                                "inetkit"),
    ("Message-ID: <x@y>", "--header Message-ID: use the option for it, not --header "
                          "(Message-ID is written by inetkit)"),
    ("X-A: one\rBcc: evil@example.test", "--header 'X-A: one...': CR and LF are not allowed "
                                          "(one header per --header; folding is done for you)"),
])
def test_header_refusals_say_why(header, why):
    p = mail("send", "-n", "--from", "a@example.test", "--to", "b@example.test", "--body", "x",
             "--header", header)
    assert p.returncode == 2 and p.stdout == b""
    assert p.stderr.decode().split("\n")[0] == "inetkit mail: " + why


def test_no_password_option_exists():
    # passwords never on the command line: there is no option for one
    p = mail("send", "-n", "--password", "secret", "--from", "a@example.test", "--to",
             "b@example.test", "--body", "x")
    assert p.returncode == 2
    assert p.stderr.decode().splitlines()[0] == "inetkit mail: unknown option '--password'"


# ---- sending: exit status, JSON, credentials ----

def sub_conf(smtpd, tmp_path, **keys):
    keys.setdefault("user", "alice")
    keys.setdefault("insecure", "yes")
    return account_conf(tmp_path / "mail.conf", smtp_server="127.0.0.1:%d" % smtpd.sub_port,
                        **keys)


def test_send_every_recipient_refused_is_exit_1_and_each_named(smtpd, tmp_path):
    conf = sub_conf(smtpd, tmp_path)
    snap = smtpd.snapshot()
    base = ["send", "--config", conf, "--from", "alice@example.test",
            "--to", "nosuch@example.test", "--cc", "nobody@example.test", "--body", "x"]
    p = mail(*base)
    assert p.returncode == 1 and p.stdout == b""
    reason = "550 5.1.1 <%s>: Recipient address rejected: no such user in domain example.test"
    assert p.stderr.decode() == "".join(
        "inetkit mail: refused %s: %s\n" % (a, reason % a)
        for a in ("nosuch@example.test", "nobody@example.test"))
    p = mail(*base, "--json")
    assert p.returncode == 1 and p.stderr == b""
    res = json.loads(p.stdout)
    assert res["ok"] is False and res["accepted"] == []
    assert res["refused"] == [{"address": a, "code": 550, "reply": (reason % a)[4:]}
                              for a in ("nosuch@example.test", "nobody@example.test")]
    smtpd.assert_nothing_stored(snap)


def test_send_json_names_the_refused_and_the_accepted(smtpd, tmp_path):
    conf = sub_conf(smtpd, tmp_path)
    p = mail("send", "--config", conf, "--json", "--from", "alice@example.test",
             "--to", "bob@example.test", "--bcc", "ghost@example.test", "--body", "x")
    assert p.returncode == 1
    res = json.loads(p.stdout)
    assert res["ok"] is False and res["server"] == "127.0.0.1:%d" % smtpd.sub_port
    assert res["accepted"] == ["bob@example.test"]
    assert [(r["address"], r["code"]) for r in res["refused"]] == [("ghost@example.test", 550)]
    smtpd.wait_stored("bob", 1)
    assert b"ghost" not in smtpd.messages("bob")[0]


def test_send_declares_the_size_it_sends(smtpd, tmp_path):
    # RFC 1870: SIZE counts the message as sent, CR LF line ends included
    conf = sub_conf(smtpd, tmp_path)
    body = "line\n" * 50
    p = mail("send", "--config", conf, "--trace", "--json", "--from", "alice@example.test",
             "--to", "bob@example.test", "--body", body)
    assert p.returncode == 0, p.stderr
    err = p.stderr.decode()
    size = int(re.search(r"> MAIL FROM:<alice@example.test> SIZE=(\d+)", err).group(1))
    chunks = [int(n) for n in re.findall(r"> BDAT (\d+)", err)]
    assert chunks and sum(chunks) == size
    assert json.loads(p.stdout)["size"] == size
    smtpd.wait_stored("bob", 1)


def test_send_with_home_netrc_and_cacert(smtpd, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text("machine 127.0.0.1 login alice password %s\n" % PASSWORD)
    (home / ".netrc").chmod(0o600)
    env = dict(os.environ, HOME=str(home))
    p = mail("send", "--server", "127.0.0.1:%d" % smtpd.sub_port, "--cacert",
             os.path.join(smtpd.base, "cert.pem"), "--trace", "--from", "alice@example.test",
             "--to", "bob@example.test", "--body", "x", env=env)
    assert p.returncode == 0, p.stderr
    err = p.stderr.decode()
    steps = [l[len("* step: "):].split(" (")[0] for l in err.splitlines()
             if l.startswith("* step: ")]
    assert steps == ["greeting", "capability", "TLS", "capability", "authentication",
                     "envelope", "data", "end"]
    assert "> AUTH PLAIN ****" in err and PASSWORD not in err
    smtpd.wait_stored("bob", 1)


def test_password_command_failures_send_nothing(smtpd, tmp_path):
    snap = smtpd.snapshot()
    for cmd, why in (("exit 3", "password_command failed (exit status 3)"),
                     ("true", "password_command printed nothing")):
        path = tmp_path / ("conf-" + cmd.replace(" ", "_"))
        conf = account_conf(path, user="alice", password_command=cmd, insecure="yes",
                            smtp_server="127.0.0.1:%d" % smtpd.sub_port)
        p = mail("send", "--config", conf, "--from", "alice@example.test", "--to",
                 "bob@example.test", "--body", "x")
        assert p.returncode == 1 and p.stdout == b""
        assert p.stderr.decode() == "inetkit mail: %s\n" % why
    smtpd.assert_nothing_stored(snap)


# ---- fetch: folders, the journal, resuming, the terminal ----

def imap_fill(imapd, folder, messages):
    """APPEND (data, flags) to folder of alice's mailbox over imaplib."""
    import imaplib
    from imapd_env import tls_context
    m = imaplib.IMAP4_SSL("127.0.0.1", imapd.tls_port, ssl_context=tls_context())
    m.login("alice", PASSWORD)
    if folder != "INBOX":
        m.create(folder)
    for data, flags in messages:
        typ, _ = m.append(folder, flags, None, data.replace(b"\n", b"\r\n"))
        assert typ == "OK"
    m.logout()


def imap_args(imapd, tmp_path, md):
    return ["fetch", "--protocol", "imap", "--server", "127.0.0.1:%d" % imapd.port, "-k",
            "--netrc-file", netrc_for(tmp_path), "--maildir", md]


def test_fetch_imap_folder_option_flags_kept(imapd, tmp_path):
    imap_fill(imapd, "INBOX", [(b"Subject: inbox\n\nin\n", "")])
    imap_fill(imapd, "Work", [(b"Subject: w1\n\none\n", r"(\Seen \Flagged)"),
                              (b"Subject: w2\n\ntwo\n", ""),
                              (b"Subject: w3\n\nthree\n", r"(\Answered \Seen)")])
    md = str(tmp_path / "Mail")
    args = imap_args(imapd, tmp_path, md)
    p = mail(*args, "--folder", "Work")
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == "fetched 3 new messages into %s\n" % md
    assert maildir_files(md) == []                      # INBOX not asked for
    work = os.path.join(md, ".Work")
    assert sorted(os.path.basename(f).split(":2,")[1] for f in maildir_files(work, "cur")) \
        == ["FS", "RS"]
    [unseen] = maildir_files(work, "new")
    assert parse(open(unseen, "rb").read())["subject"] == "w2"
    # both folders named: only INBOX is new
    p = mail(*args, "--folder", "INBOX", "--folder", "Work")
    assert p.stdout.decode() == "fetched 1 new message into %s\n" % md
    [f] = maildir_files(md)
    assert parse(open(f, "rb").read())["subject"] == "inbox"
    # list and read a local Maildir++ folder with --folder
    p = mail("list", "--maildir", md, "--folder", "Work", "--json")
    assert sorted((e["subject"], e["flags"]) for e in json.loads(p.stdout)) == [
        ("w1", "FS"), ("w2", "N"), ("w3", "RS")]


def test_journal_settles_a_crash_inside_a_folder(imapd, tmp_path):
    """A crash between the rename into .Work/cur and the journal's "+": the
    next run finds the file in the folder it went to (no second copy); a
    crash before the rename: the folder's tmp/ file is removed."""
    imap_fill(imapd, "Work", [(b"Subject: w%d\nMessage-ID: <w%d@x>\n\nbody\n" % (i, i),
                               r"(\Seen)") for i in range(3)])
    md = str(tmp_path / "Mail")
    args = imap_args(imapd, tmp_path, md) + ["--folder", "Work"]
    p = mail(*args)
    assert p.stdout.decode() == "fetched 3 new messages into %s\n" % md
    work = os.path.join(md, ".Work")
    jdir = os.path.join(md, ".inetkit-fetch")
    [jname] = os.listdir(jdir)
    jpath = os.path.join(jdir, jname)
    keys = sorted(l.split()[1] for l in open(jpath).read().splitlines())
    assert [k.rsplit("/", 1)[1] for k in keys] == ["1", "2", "3"]
    by_id = {parse(open(f, "rb").read())["message-id"]: f for f in maildir_files(work)}
    done_name = os.path.basename(by_id["<w0@x>"]).split(":")[0].split(",")[0]
    os.unlink(by_id["<w1@x>"])
    with open(os.path.join(work, "tmp", "crashed.tmpname"), "w") as f:
        f.write("partial")
    with open(jpath, "w") as f:
        f.write("+ %s -\n" % keys[2])
        f.write("? %s .Work/%s\n" % (keys[0], done_name))
        f.write("? %s .Work/crashed.tmpname\n" % keys[1])
    p = mail(*args)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == "fetched 1 new message into %s\n" % md
    ids = sorted(parse(open(f, "rb").read())["message-id"] for f in maildir_files(work))
    assert ids == ["<w0@x>", "<w1@x>", "<w2@x>"]
    assert os.listdir(os.path.join(work, "tmp")) == []
    assert os.listdir(os.path.join(md, "tmp")) == []


@dovecot_missing
def test_fetch_from_dovecot_imap_killed_then_resumed(dovecot, tmp_path):
    n = 400
    for i in range(n):
        dovecot.deliver(b"Subject: m%d\nMessage-ID: <i%d@x>\n\n%s\n" % (i, i, b"y" * 3000),
                        folder="Work" if i % 2 else None)
    md = str(tmp_path / "Mail")
    args = ["fetch", "--protocol", "imap", "--server", "127.0.0.1:%d" % dovecot.imap_port,
            "--no-tls", "--user", dovecot.user, "--all-folders",
            "--netrc-file", netrc_for(tmp_path, dovecot.user, dovecot.password),
            "--maildir", md]
    proc = subprocess.Popen([BIN, "mail", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    # killed once something is in and before everything is
    while len(maildir_files(md)) < 10 and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.kill()
    proc.communicate()

    def all_ids():
        return [parse(open(f, "rb").read())["message-id"]
                for f in maildir_files(md) + maildir_files(os.path.join(md, ".Work"))]
    # (on a fast machine the kill may come late; what follows holds either way)
    first = len(all_ids())
    p = mail(*args)
    assert p.returncode == 0, p.stderr
    assert fetched_count(p) == n - first
    ids = all_ids()
    assert len(ids) == n and len(set(ids)) == n
    for d in (md, os.path.join(md, ".Work")):
        assert os.listdir(os.path.join(d, "tmp")) == []
    assert fetched_count(mail(*args)) == 0


BAR = re.compile(r"\r(?P<label>.{30}) (?P<pct>.{3,4}) +(?P<done>\S+( \S+)?) +\S+( \S+)?/s"
                 r"( ETA \d\d:\d\d:\d\d| in \d+\.\ds)\x1b\[K")


def on_terminal(argv):
    """Run argv with standard error on a pseudo-terminal (standard output a
    pipe); returns (exit status, stdout, what the terminal got)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    tty = b""
    while True:
        r, _, _ = select.select([master], [], [], 120)
        assert r, "no output from %s" % argv
        try:
            chunk = os.read(master, 65536)
        except OSError:          # EIO: the other side is closed
            break
        if not chunk:
            break
        tty += chunk
    out = p.stdout.read()
    p.wait()
    os.close(master)
    return p.returncode, out, tty.decode()


def test_progress_bar_on_a_terminal_only(pop3d, imapd, tmp_path):
    for i in range(5):
        pop3d.deliver(b"Subject: p%d\n\n%s\n" % (i, b"z" * 999))
    imap_fill(imapd, "INBOX", [(b"Subject: q\n\n" + b"q" * 2000 + b"\n", "")])
    md = str(tmp_path / "M")
    pop = ["fetch", "--protocol", "pop3", "--server", "127.0.0.1:%d" % pop3d.port, "-k",
           "--netrc-file", netrc_for(tmp_path), "--maildir", md]
    rc, out, tty = on_terminal([BIN, "mail", *pop])
    assert rc == 0, tty
    assert out.decode() == "fetched 5 new messages into %s\n" % md
    bars = list(BAR.finditer(tty))
    assert bars, repr(tty)
    last = bars[-1]
    assert last.group("label").rstrip() == "fetch" and last.group("pct").strip() == "100%"
    assert " in " in last.group(0) and tty.endswith("\x1b[K\r\n")
    # IMAP: one bar per folder, labelled with its name
    rc, out, tty = on_terminal([BIN, "mail", *imap_args(imapd, tmp_path, str(tmp_path / "I"))])
    assert rc == 0, tty
    assert BAR.search(tty).group("label").rstrip() == "INBOX"
    # not on a pipe, and not with --quiet
    p = mail(*pop)
    assert p.stderr == b"" and p.stdout.decode() == "fetched 0 new messages into %s\n" % md
    rc, out, tty = on_terminal([BIN, "mail", *pop, "--quiet"])
    assert rc == 0 and out == b"" and tty == ""


def test_fetch_pop3_keep_is_the_default_and_explicit(pop3d, tmp_path):
    pop3d.deliver(b"Subject: k\n\nkeep me\n")
    md = str(tmp_path / "M")
    args = ["fetch", "--protocol", "pop3", "--server", "127.0.0.1:%d" % pop3d.port, "-k",
            "--netrc-file", netrc_for(tmp_path), "--maildir", md]
    before = pop3d.all_files()
    p = mail(*args, "--keep")
    assert p.stdout.decode() == "fetched 1 new message into %s\n" % md
    # still on the server (the server itself moved it to cur/, seen)
    assert [f.split(",")[0] for f in pop3d.all_files()] == [before[0].split(",")[0]]
    for bad, why in ((["--keep", "--delete"], "--keep and --delete exclude each other"),
                     (["--folder", "X"], "--folder and --all-folders are IMAP's")):
        p = mail(*args, *bad)
        assert p.returncode == 2
        assert p.stderr.decode().splitlines()[0] == "inetkit mail: " + why
    p = mail("fetch", "--protocol", "imap", "--delete", "--server", "127.0.0.1:1",
             "--maildir", md)
    assert p.returncode == 2
    assert p.stderr.decode().splitlines()[0] == ("inetkit mail: --delete is POP3's (IMAP "
                                                 "fetch keeps the mail)")


# ---- --trace on every verb ----

def steps_of(err):
    return [l[len("* step: "):].split(" (")[0] for l in err.splitlines()
            if l.startswith("* step: ")]


def test_trace_on_imap_fetch_list_and_read(imapd, tmp_path):
    msg = (b"From: Li Lei <li@example.cn>\nDate: Wed, 02 Dec 2026 10:00:00 +0000\n"
           b"Subject: secret subject\n\nsecret body text\n")
    imap_fill(imapd, "INBOX", [(msg, r"(\Flagged)")])
    md = str(tmp_path / "M")
    remote = ["--protocol", "imap", "--server", "127.0.0.1:%d" % imapd.port, "-k",
              "--netrc-file", netrc_for(tmp_path), "--trace"]
    p = mail("fetch", *remote, "--maildir", md)
    assert p.returncode == 0, p.stderr
    err = p.stderr.decode()
    assert steps_of(err) == ["greeting", "capability", "TLS", "authentication", "folder",
                             "listing", "retrieval", "end"], err
    assert re.search(r"^> \S+ LOGIN \*\*\*\*$", err, re.M), err
    assert PASSWORD not in err and "secret body" not in err and "secret subject" not in err
    assert re.search(r"^> \S+ UID FETCH 1 \(UID FLAGS BODY\.PEEK\[\]\)$", err, re.M), err

    p = mail("list", *remote, env=dict(os.environ, TZ="UTC"))
    assert p.returncode == 0, p.stderr
    err = p.stderr.decode()
    assert steps_of(err) == ["greeting", "capability", "TLS", "authentication", "folder",
                             "listing", "end"], err
    assert PASSWORD not in err and re.search(r"^> \S+ LOGIN \*\*\*\*$", err, re.M)
    line = p.stdout.decode()
    size = len(msg) + msg.count(b"\n")           # as the server counts it, CR LF
    assert line == "   1  2026-12-02 10:00  %-28s  %-5s %9s  secret subject\n" % (
        "Li Lei <li@example.cn>", "F", "%d B" % size)

    p = mail("read", "1", *remote, env=dict(os.environ, TZ="UTC"))
    assert p.returncode == 0, p.stderr
    err = p.stderr.decode()
    assert steps_of(err) == ["greeting", "capability", "TLS", "authentication", "folder",
                             "listing", "retrieval", "end"], err
    assert "secret body" not in err and PASSWORD not in err
    assert p.stdout.decode() == ("Date: 2026-12-02 10:00\nFrom: Li Lei <li@example.cn>\n"
                                 "Subject: secret subject\n\nsecret body text\n")


@dovecot_missing
def test_stls_required_and_refused_by_a_plaintext_pop3_server(dovecot, tmp_path):
    dovecot.deliver(b"Subject: x\n\nx\n")
    md = str(tmp_path / "M")
    p = mail("fetch", "--protocol", "pop3", "--server", "127.0.0.1:%d" % dovecot.pop3_port,
             "--user", dovecot.user, "--netrc-file",
             netrc_for(tmp_path, dovecot.user, dovecot.password), "--maildir", md, "--trace")
    assert p.returncode == 1
    err = p.stderr.decode()
    assert err.splitlines()[-1] == ("inetkit mail: TLS is required but 127.0.0.1 does not "
                                    "offer STLS (use --no-tls to allow plaintext)"), err
    # nothing of the credentials went out
    assert "> USER" not in err and "> PASS" not in err and "> AUTH" not in err
    assert maildir_files(md) == []


# ---- hostile SMTP servers ----

def smtp_script(ehlo_reply):
    def script(line):
        verb = line.split(" ")[0].upper()
        if verb in ("EHLO", "HELO"):
            return ehlo_reply() if callable(ehlo_reply) else ehlo_reply
        if verb == "QUIT":
            return b"221 bye\r\n"
        if verb in ("MAIL", "RCPT"):
            return b"250 ok\r\n"
        return b"500 what\r\n"
    return script


def send_hostile(tmp_path, srv):
    """`inetkit mail send` to a hostile server: exit status, stderr and the
    peak RSS (KiB) of that one process (wait4)."""
    errpath = tmp_path / "send.err"
    empty = tmp_path / "empty-netrc"
    empty.write_text("")
    with open(errpath, "wb") as err:
        p = subprocess.Popen([BIN, "mail", "send", "--server", "127.0.0.1:%d" % srv.port,
                              "--no-tls", "--netrc-file", str(empty), "--from",
                              "a@example.test", "--to", "b@example.test", "--body", "x",
                              "--timeout", "20s"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    timer = threading.Timer(120, p.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(p.pid, 0)
    finally:
        timer.cancel()
    srv.close()
    return os.waitstatus_to_exitcode(status), errpath.read_bytes().decode(), usage.ru_maxrss


def test_hostile_smtp_endless_line(tmp_path):
    srv = Hostile(b"220 hi\r\n", smtp_script(lambda: endless()))
    rc, err, rss = send_hostile(tmp_path, srv)
    assert rc == 1, err
    assert err == ("inetkit mail: not sent: 127.0.0.1 sent a reply line over 4096 "
                   "bytes\n"), err
    assert srv.sent < 300 * 1024 * 1024
    assert rss < 200 * 1024


def test_hostile_smtp_endless_multiline_reply(tmp_path):
    srv = Hostile(b"220 hi\r\n", smtp_script(
        lambda: endless(b"250-PIPELINING\r\n" * 4096, 300 * 1024 * 1024)))
    rc, err, rss = send_hostile(tmp_path, srv)
    assert rc == 1, err
    assert err == ("inetkit mail: not sent: 127.0.0.1 sent a reply over 65536 bytes\n"), err
    assert srv.sent < 300 * 1024 * 1024
    assert rss < 200 * 1024


def test_hostile_smtp_bogus_multiline_and_garbage(tmp_path):
    # a continuation whose code changes half-way, then a greeting that is not SMTP
    for greeting, reply, why in (
            (b"220 hi\r\n", b"250-one\r\n550 two\r\n",
             "127.0.0.1 sent a malformed multi-line reply (a line not starting with 250)"),
            (b"220 hi\r\n", b"250-one\r\nfree text\r\n250 end\r\n",
             "127.0.0.1 sent a malformed multi-line reply (a line not starting with 250)"),
            (b"+OK POP3 here\r\n", b"",
             "malformed SMTP reply '+OK POP3 here' (expected a 3-digit code from 100 to 599)")):
        srv = Hostile(greeting, smtp_script(reply))
        rc, err, _ = send_hostile(tmp_path, srv)
        assert rc == 1, err
        # no waiting for the time-out: the reply is refused as it comes
        assert err == "inetkit mail: not sent: %s\n" % why


# ---- the manual ----

def test_manual_documents_every_option():
    p = subprocess.run([BIN, "mail", "--help"], capture_output=True)
    options = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-z46])\b", p.stdout.decode()))
    assert "--save-attachments" in options and "-k" in options and "-4" in options
    with open(os.path.join(ROOT, "docs", "inetkit-mail.1")) as f:
        page = f.read()
    text = page.replace("\\-", "-")
    missing = sorted(o for o in options | {"--help"}
                     if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), text))
    assert missing == []
    for section in (".SH LIMITS", ".SH EXIT STATUS", ".SH ACCOUNTS"):
        assert section in page


def test_fetch_certificates_checked_and_implicit_tls_pop3(suite, tmp_path):
    empty = tmp_path / "empty-netrc"
    empty.write_text("")
    # no login: the MX listener takes mail for its own users
    p = mail("send", "--server", "127.0.0.1:%d" % suite.smtpd.port, "--no-tls",
             "--netrc-file", str(empty),
             "--from", "x@example.test", "--to", "alice@example.test", "--body", "over 25\n")
    assert p.returncode == 0, p.stderr
    suite.smtpd.wait_stored("alice", 1)
    md = str(tmp_path / "M")
    base = ["fetch", "--netrc-file", netrc_for(tmp_path), "--maildir", md]
    # the system store does not know the test certificate: refused, nothing fetched
    for proto, port in (("pop3", suite.pop3s_port), ("imap", suite.imap_port)):
        p = mail(*base, "--protocol", proto, "--server", "127.0.0.1:%d" % port,
                 *(["--implicit-tls"] if proto == "pop3" else []))
        assert p.returncode == 1
        assert p.stderr.decode() == (
            "inetkit mail: TLS handshake with 127.0.0.1:%d: certificate verify failed: "
            "self-signed certificate (use --cacert FILE for a private CA, or --insecure to "
            "skip the check)\n" % port)
        assert maildir_files(md) == []
    # POP3 over implicit TLS (RFC 8314), the certificate checked with --cacert
    p = mail(*base, "--protocol", "pop3", "--server", "127.0.0.1:%d" % suite.pop3s_port,
             "--implicit-tls", "--cacert", suite.cert, "--trace")
    assert p.returncode == 0, p.stderr
    assert steps_of(p.stderr.decode())[:2] == ["TLS", "greeting"]
    assert p.stdout.decode() == "fetched 1 new message into %s\n" % md
    [f] = maildir_files(md)
    assert parse(open(f, "rb").read()).get_content() == "over 25\n"


def test_send_trace_over_data_masks_the_body(tmp_path):
    """A server without CHUNKING: the message goes with DATA; the trace
    shows the dialogue line by line and the message only as its size."""
    got = []

    def script(line):
        if got and got[-1] is not None:          # inside DATA
            got.append(line)
            if line == ".":
                got.append(None)
                return b"250 2.0.0 queued\r\n"
            return b""
        verb = line.split(" ")[0].upper()
        if verb == "EHLO":
            return b"250-sink.test\r\n250 8BITMIME\r\n"
        if verb in ("MAIL", "RCPT"):
            return b"250 ok\r\n"
        if verb == "DATA":
            got.append("")
            return b"354 go ahead\r\n"
        if verb == "QUIT":
            return b"221 bye\r\n"
        return b"500 what\r\n"
    srv = Hostile(b"220 sink.test ESMTP\r\n", script)
    empty = tmp_path / "empty-netrc"
    empty.write_text("")
    p = mail("send", "--server", "127.0.0.1:%d" % srv.port, "--no-tls", "--netrc-file",
             str(empty), "--trace", "--from", "a@example.test", "--to", "b@example.test",
             "--subject", "hidden subject", "--body", "hidden body\n.dot line\n")
    srv.close()
    assert p.returncode == 0, p.stderr
    err = p.stderr.decode()
    sent = "".join(l + "\r\n" for l in got[1:-2])
    assert "hidden body" in sent and "\r\n..dot line\r\n" in sent      # dot-stuffed
    assert "hidden" not in err
    dialogue = [l for l in err.splitlines() if l[:2] in ("> ", "< ")]
    assert re.fullmatch(r"> EHLO \S+", dialogue[1])
    assert dialogue[:1] + dialogue[2:] == [
        "< 220 sink.test ESMTP", "< 250-sink.test", "< 250 8BITMIME",
        "> MAIL FROM:<a@example.test>", "< 250 ok", "> RCPT TO:<b@example.test>", "< 250 ok",
        "> DATA", "< 354 go ahead", "> .", "< 250 2.0.0 queued", "> QUIT"]
    assert "* sent a message of %d bytes (dot-stuffed, CR LF line ends)\n" % len(sent) in err
    assert steps_of(err) == ["greeting", "capability", "envelope", "data", "end"]

"""`inetkit mail`: the mail client, against inetkit's own smtpd/pop3d/imapd
and Debian's Postfix and Dovecot started on loopback.

Messages are parsed back with Python's `email` package (the reference
reader here): subject, addresses, every part, attachment bytes and names."""
import email
import email.policy
import json
import os
import shutil
import socket
import subprocess
import time

import pytest

from conftest import BIN, free_port, run
from smtpd_env import PASSWORD, Smtpd


def mail(*args, input=None, timeout=60, env=None):
    return subprocess.run([BIN, "mail", *args], input=input, capture_output=True,
                          timeout=timeout, env=env)


def parse(data):
    return email.message_from_bytes(data, policy=email.policy.default)


def ip_cert(directory):
    """A self-signed certificate for 127.0.0.1 (so --cacert verifies the
    chain and the address), written where Smtpd(tls=True) reads it."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert


def account_conf(path, name="test", **keys):
    keys.setdefault("password_command", "echo %s" % PASSWORD)
    with open(path, "a") as f:
        f.write("[account %s]\n" % name)
        for k, v in keys.items():
            f.write("%s = %s\n" % (k, v))
    return str(path)


CHINESE_SUBJECT = "你好，世界 — 测试邮件"
CHINESE_NAME = "报告 2026（终稿）.bin"


@pytest.fixture
def files(tmp_path):
    d = tmp_path / "files"
    d.mkdir()
    blob = bytes(range(256)) * 40 + b"\r\n.\r\nend\n\x00"
    (d / CHINESE_NAME).write_bytes(blob)
    (d / "table.csv").write_bytes(b"a,b\r\n1,2\r\n")
    (d / "page.html").write_text("<p>Grüße <b>bold</b></p>\n", encoding="utf-8")
    return d, blob


def compose_args(d):
    return ["--from", "Zhang San <alice@example.test>", "--to", "Bob <bob@example.test>",
            "--cc", "carol@example.test", "--bcc", "hidden@example.test",
            "--subject", CHINESE_SUBJECT, "--body", "Héllo wörld\n你好\n.leading dot\n",
            "--html", str(d / "page.html"),
            "--attach", str(d / CHINESE_NAME), "--attach", str(d / "table.csv"),
            "--header", "X-Mailer-Test: yes"]


def check_composed(msg, blob):
    assert str(msg["subject"]) == CHINESE_SUBJECT
    assert msg["from"].addresses[0].addr_spec == "alice@example.test"
    assert msg["from"].addresses[0].display_name == "Zhang San"
    assert msg["to"].addresses[0].addr_spec == "bob@example.test"
    assert msg["cc"].addresses[0].addr_spec == "carol@example.test"
    assert msg["bcc"] is None and b"hidden" not in msg.as_bytes()
    assert msg["x-mailer-test"] == "yes"
    assert msg["message-id"].startswith("<") and msg["date"] is not None
    assert msg.get_content_type() == "multipart/mixed"
    body = msg.get_body(preferencelist=("plain",))
    assert body.get_content() == "Héllo wörld\n你好\n.leading dot\n"
    html = msg.get_body(preferencelist=("html",))
    assert "Grüße" in html.get_content()
    atts = list(msg.iter_attachments())
    assert [a.get_filename() for a in atts] == [CHINESE_NAME, "table.csv"]
    assert atts[0].get_content_type() == "application/octet-stream"
    assert atts[0].get_payload(decode=True) == blob
    assert atts[1].get_content_type() == "text/csv"
    assert atts[1].get_payload(decode=True) == b"a,b\r\n1,2\r\n"


# ---- composing ----

def test_dry_run_parses_back_with_python_email(files):
    d, blob = files
    p = mail("send", "-n", *compose_args(d))
    assert p.returncode == 0, p.stderr
    check_composed(parse(p.stdout), blob)
    # the subject is RFC 2047-encoded, the file name RFC 2231 (filename*)
    assert b"Subject: =?UTF-8?" in p.stdout
    assert b"filename*" in p.stdout
    assert all(b < 0x80 for b in p.stdout)


def test_body_from_stdin_and_quoted_printable_for_mostly_ascii():
    text = "A long line of mostly plain text with one accent: café.\n" * 3
    p = mail("send", "-n", "--from", "a@example.test", "--to", "b@example.test",
             "--subject", "plain", input=text.encode())
    assert p.returncode == 0, p.stderr
    assert b"Content-Transfer-Encoding: quoted-printable" in p.stdout
    assert parse(p.stdout).get_content() == text


@pytest.mark.parametrize("header", ["X-A: one\r\nBcc: evil@example.test", "X-A: a\nb",
                                    "Bcc: x@example.test", "Bad Name: v", "NoColon"])
def test_bad_headers_are_refused(header):
    p = mail("send", "-n", "--from", "a@example.test", "--to", "b@example.test",
             "--body", "x", "--header", header)
    assert p.returncode == 2
    assert p.stdout == b""
    assert p.stderr.startswith(b"inetkit mail: --header")


def test_bad_input_is_refused_before_anything():
    p = mail("send", "-n", "--to", "b@example.test", "--body", "x")
    assert p.returncode == 2 and b"no sender" in p.stderr
    p = mail("send", "-n", "--from", "a@example.test", "--body", "x")
    assert p.returncode == 2 and b"no recipient" in p.stderr
    p = mail("send", "-n", "--from", "a@example.test", "--to", "not an address", "--body", "x")
    assert p.returncode == 2 and b"not an address" in p.stderr
    p = mail("send", "-n", "--from", "a@example.test", "--to", "b@example.test",
             "--subject", "two\nlines", "--body", "x")
    assert p.returncode == 2
    p = mail("send", "--maildir", "x")
    assert p.returncode == 2 and b"--maildir does not apply to mail send" in p.stderr


def test_help():
    p = subprocess.run([BIN, "mail", "--help"], capture_output=True)
    assert p.returncode == 0 and b"Usage: inetkit mail VERB" in p.stdout


# ---- sending through inetkit smtpd ----

@pytest.fixture
def smtpd(tmp_path):
    srv = Smtpd(tmp_path / "smtpd", users=("alice", "bob", "carol", "hidden"), tls=True,
                start=False)
    ip_cert(srv.base)            # replaces the certificate Smtpd made
    srv.start()
    yield srv
    srv.stop()


def test_send_submission_starttls_auth_verified(smtpd, files, tmp_path):
    d, blob = files
    conf = account_conf(tmp_path / "mail.conf", user="alice",
                        smtp_server="127.0.0.1:%d" % smtpd.sub_port,
                        cacert=os.path.join(smtpd.base, "cert.pem"))
    p = mail("send", "--config", conf, "--json", *compose_args(d)[:-2],
             "--to", "carol@localhost")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["ok"] is True and res["refused"] == []
    assert res["accepted"] == ["bob@example.test", "carol@localhost", "carol@example.test",
                               "hidden@example.test"]
    for user in ("bob", "carol", "hidden"):
        smtpd.wait_stored(user, 2 if user == "carol" else 1)
    data = smtpd.messages("hidden")[0]
    msg = parse(data)
    assert str(msg["subject"]) == CHINESE_SUBJECT
    assert msg["bcc"] is None and b"hidden@" not in data.split(b"\n\n", 1)[1]
    atts = list(msg.iter_attachments())
    assert atts[0].get_filename() == CHINESE_NAME
    assert atts[0].get_payload(decode=True) == blob
    assert msg["message-id"] == res["message_id"]
    log = smtpd.log()
    assert "tls=TLSv1.3" in log or "TLSv1.3" in log


def test_send_implicit_tls_and_trace_masks_secrets(smtpd, tmp_path):
    conf = account_conf(tmp_path / "mail.conf", user="alice", tls="implicit",
                        smtp_server="127.0.0.1:%d" % smtpd.subs_port, insecure="yes")
    p = mail("send", "--config", conf, "--trace", "--from", "alice@example.test",
             "--to", "bob@example.test", "--subject", "traced", "--body", "secret body text")
    assert p.returncode == 0, p.stderr
    err = p.stderr.decode()
    for step in ("step: TLS (implicit", "step: greeting", "step: capability",
                 "step: authentication", "step: envelope", "step: data"):
        assert step in err, err
    assert "> AUTH PLAIN ****" in err
    assert PASSWORD not in err
    import base64
    assert base64.b64encode(b"\0alice\0" + PASSWORD.encode()).decode() not in err
    assert "secret body text" not in err
    assert "< 235" in err and "> MAIL FROM:<alice@example.test>" in err
    smtpd.wait_stored("bob", 1)


def test_refused_recipients_are_named_and_the_rest_delivered(smtpd, tmp_path):
    conf = account_conf(tmp_path / "mail.conf", user="alice",
                        smtp_server="127.0.0.1:%d" % smtpd.sub_port, insecure="yes")
    p = mail("send", "--config", conf, "--from", "alice@example.test",
             "--to", "bob@example.test", "--to", "nosuchuser@example.test",
             "--body", "partly")
    assert p.returncode == 1
    err = p.stderr.decode()
    assert err.startswith("inetkit mail: refused nosuchuser@example.test: 550"), err
    assert "sent <" in p.stdout.decode() and "to 1 of 2 recipients" in p.stdout.decode()
    smtpd.wait_stored("bob", 1)


def test_closed_port_is_a_clean_temporary_failure():
    # Nothing listens: the connect (core/connector) is refused; each
    # recipient is named with the 451 and nothing hangs.
    port = free_port()
    p = mail("send", "--server", "127.0.0.1:%d" % port, "--no-tls", "--from", "a@example.test",
             "--to", "b@example.test", "--body", "x", timeout=30)
    assert p.returncode == 1
    assert p.stderr.decode() == "inetkit mail: not sent: 4.4.1 127.0.0.1: connection refused\n"
    p = mail("send", "--server", "127.0.0.1:%d" % port, "--no-tls", "--from", "a@example.test",
             "--to", "b@example.test", "--to", "c@example.test", "--body", "x", "--json",
             timeout=30)
    assert p.returncode == 1
    r = json.loads(p.stdout)
    assert (r["ok"], r["code"], r["accepted"]) == (False, 451, [])
    assert [x["reply"] for x in r["refused"]] == ["4.4.1 127.0.0.1: connection refused"] * 2


def test_wrong_password_and_unverified_certificate_fail_cleanly(smtpd, tmp_path):
    conf = account_conf(tmp_path / "bad.conf", user="alice", password_command="echo wrong",
                        smtp_server="127.0.0.1:%d" % smtpd.sub_port, insecure="yes")
    snap = smtpd.snapshot()
    p = mail("send", "--config", conf, "--from", "alice@example.test", "--to",
             "bob@example.test", "--body", "x")
    assert p.returncode == 1
    assert p.stderr.decode().startswith("inetkit mail: not sent: AUTH refused"), p.stderr
    # the system store does not know the self-signed certificate
    empty = tmp_path / "empty-netrc"
    empty.write_text("")
    p = mail("send", "--server", "127.0.0.1:%d" % smtpd.sub_port, "--user", "alice",
             "--netrc-file", str(empty), "--from", "alice@example.test", "--to",
             "bob@example.test", "--body", "x", input=b"")
    assert p.returncode == 1
    assert b"no password" in p.stderr
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login alice password %s\n" % PASSWORD)
    netrc.chmod(0o600)
    p = mail("send", "--server", "127.0.0.1:%d" % smtpd.sub_port, "--netrc-file", str(netrc),
             "--from", "alice@example.test", "--to", "bob@example.test", "--body", "x")
    assert p.returncode == 1
    assert b"certificate verify failed" in p.stderr, p.stderr
    smtpd.assert_nothing_stored(snap)


def test_accounts_file_errors(tmp_path):
    conf = tmp_path / "mail.conf"
    conf.write_text("[account a]\nsmtp_server = h:1\nbogus = 1\n")
    p = mail("send", "--config", str(conf), "-n", "--from", "a@b.c", "--to", "d@e.f",
             "--body", "x")
    assert p.returncode == 2 and b"bogus" in p.stderr
    conf.write_text("[account a]\nfrom = a@example.test\n[account b]\nfrom = b@example.test\n")
    p = mail("send", "--config", str(conf), "-n", "--to", "d@e.f", "--body", "x")
    assert p.returncode == 2 and b"--account" in p.stderr
    p = mail("send", "--config", str(conf), "--account", "b", "-n", "--to", "d@e.f",
             "--body", "x")
    assert p.returncode == 0 and b"From: b@example.test" in p.stdout
    p = mail("send", "--config", str(conf), "--account", "zz", "-n", "--to", "d@e.f",
             "--body", "x")
    assert p.returncode == 2 and b"no [account zz]" in p.stderr


# ---- Postfix ----

postfix_missing = pytest.mark.skipif(not shutil.which("postfix"),
                                     reason="Debian's postfix missing")


@postfix_missing
def test_send_to_postfix_and_starttls_required_refused_by_it(tmp_path, files):
    from test_relay_out import _postfix, _connects
    d, blob = files
    port = free_port()
    w, conf, new = _postfix(tmp_path, port, "dest.test", "dora")
    try:
        deadline = time.monotonic() + 30
        while not _connects("127.0.0.1", port):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        empty = tmp_path / "empty-netrc"
        empty.write_text("")
        base = ["--server", "127.0.0.1:%d" % port, "--netrc-file", str(empty),
                "--from", "alice@example.test", "--to", "dora@dest.test",
                "--subject", CHINESE_SUBJECT, "--body", "to postfix",
                "--attach", str(d / CHINESE_NAME)]
        # Postfix here offers no STARTTLS: TLS is required by default
        p = mail("send", "--trace", *base)
        assert p.returncode == 1
        assert p.stderr.decode().splitlines()[-1] == (
            "inetkit mail: not sent: 4.7.5 TLS is required for 127.0.0.1 but the server "
            "does not offer STARTTLS")
        assert "MAIL FROM" not in p.stderr.decode()
        p = mail("send", "--no-tls", *base)
        assert p.returncode == 0, p.stderr
        deadline = time.monotonic() + 30
        while not (os.path.isdir(new) and os.listdir(new)):
            assert time.monotonic() < deadline, "nothing delivered by postfix"
            time.sleep(0.1)
        assert len(os.listdir(new)) == 1
        msg = parse(open(os.path.join(new, os.listdir(new)[0]), "rb").read())
        assert str(msg["subject"]) == CHINESE_SUBJECT
        att = next(msg.iter_attachments())
        assert att.get_filename() == CHINESE_NAME and att.get_payload(decode=True) == blob
    finally:
        subprocess.run(["postfix", "-c", conf, "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


# ---- fetch ----

def netrc_for(tmp_path, user="alice", password=PASSWORD, host="127.0.0.1"):
    p = tmp_path / ("netrc-" + user)
    p.write_text("machine %s login %s password %s\n" % (host, user, password))
    p.chmod(0o600)
    return str(p)


def maildir_files(md, sub=None):
    out = []
    for s in ([sub] if sub else ["new", "cur"]):
        d = os.path.join(md, s)
        if os.path.isdir(d):
            out += sorted(os.path.join(d, n) for n in os.listdir(d))
    return out


def composed(files, n):
    """A message made by `inetkit mail send -n` (Chinese subject and
    attachment name), as bytes."""
    d, blob = files
    p = mail("send", "-n", "--from", "alice@example.test", "--to", "bob@example.test",
             "--subject", "%s %d" % (CHINESE_SUBJECT, n), "--body", "message %d\n" % n,
             "--attach", str(d / CHINESE_NAME))
    assert p.returncode == 0, p.stderr
    return p.stdout


def fetched_count(p):
    line = p.stdout.decode().strip().splitlines()[-1]
    assert line.startswith("fetched "), p.stdout
    return int(line.split()[1])


@pytest.fixture
def pop3d(tmp_path):
    from pop3d_env import Pop3d
    srv = Pop3d(tmp_path / "pop3d")
    yield srv
    srv.stop()


def test_fetch_pop3_stls_idempotent_then_delete(pop3d, files, tmp_path):
    msgs = [composed(files, i) for i in range(3)]
    for m in msgs:
        pop3d.deliver(m)
    md = str(tmp_path / "Mail")
    args = ["fetch", "--protocol", "pop3", "--server", "127.0.0.1:%d" % pop3d.port, "-k",
            "--netrc-file", netrc_for(tmp_path), "--maildir", md]
    p = mail(*args)
    assert p.returncode == 0, p.stderr
    assert fetched_count(p) == 3
    got = sorted(open(f, "rb").read() for f in maildir_files(md, "new"))
    assert got == sorted(msgs)                      # byte-identical, LF line ends
    for data in got:
        att = next(parse(data).iter_attachments())
        assert att.get_filename() == CHINESE_NAME and att.get_payload(decode=True) == files[1]
    assert not os.listdir(os.path.join(md, "tmp"))
    # fetch twice fetches nothing new; the server still has everything
    p = mail(*args)
    assert p.returncode == 0 and fetched_count(p) == 0
    pop3d.deliver(composed(files, 9))
    p = mail(*args, "--delete")
    assert p.returncode == 0 and fetched_count(p) == 1
    assert len(maildir_files(md)) == 4
    assert pop3d.all_files() == []                   # DELE'd at QUIT
    p = mail(*args)
    assert p.returncode == 0 and fetched_count(p) == 0


def test_fetch_trace_labels_steps_and_masks(pop3d, tmp_path):
    pop3d.deliver(b"Subject: secret subject\n\nsecret body\n")
    p = mail("fetch", "--protocol", "pop3", "--server", "127.0.0.1:%d" % pop3d.port, "-k",
             "--netrc-file", netrc_for(tmp_path), "--maildir", str(tmp_path / "M"), "--trace")
    assert p.returncode == 0, p.stderr
    err = p.stderr.decode()
    for step in ("step: greeting", "step: capability", "step: TLS (STLS", "step: authentication",
                 "step: listing", "step: retrieval", "step: end"):
        assert step in err, err
    assert "> PASS ****" in err and PASSWORD not in err
    assert "secret body" not in err and "secret subject" not in err


def test_fetch_journal_settles_a_crash_between_rename_and_record(pop3d, tmp_path):
    # pop3d's UIDLs are its Maildir base names: the journal's keys
    uidl = [pop3d.deliver(b"Subject: m%d\nMessage-ID: <m%d@x>\n\nbody\n" % (i, i))
            for i in range(3)]
    md = str(tmp_path / "Mail")
    args = ["fetch", "--protocol", "pop3", "--server", "127.0.0.1:%d" % pop3d.port, "-k",
            "--netrc-file", netrc_for(tmp_path), "--maildir", md]
    assert fetched_count(mail(*args)) == 3
    jdir = os.path.join(md, ".inetkit-fetch")
    [jname] = os.listdir(jdir)
    jpath = os.path.join(jdir, jname)
    lines = open(jpath).read().splitlines()
    assert sorted(lines) == sorted("+ %s -" % u for u in uidl)
    local = {parse(open(f, "rb").read())["message-id"]: f for f in maildir_files(md)}
    # A crash after the rename (the file is in new/) but before "+": settled
    # as done. A crash before the rename: tmp/ file removed, fetched again.
    done_name = os.path.basename(local["<m0@x>"]).split(",")[0]
    os.unlink(local["<m1@x>"])
    open(os.path.join(md, "tmp", "crashed.tmpname"), "w").write("partial")
    with open(jpath, "w") as f:
        f.write("+ %s -\n" % uidl[2])
        f.write("? %s %s\n" % (uidl[0], done_name))
        f.write("? %s crashed.tmpname\n" % uidl[1])
        f.write("+ torn-line-without-newline")
    p = mail(*args)
    assert p.returncode == 0, p.stderr
    assert fetched_count(p) == 1
    ids = sorted(parse(open(f, "rb").read())["message-id"] for f in maildir_files(md))
    assert ids == ["<m0@x>", "<m1@x>", "<m2@x>"]
    assert os.listdir(os.path.join(md, "tmp")) == []
    assert fetched_count(mail(*args)) == 0


@pytest.fixture
def imapd(tmp_path):
    from imapd_env import Imapd
    srv = Imapd(tmp_path / "imapd", users=("alice",))
    yield srv
    srv.stop()


def test_fetch_imap_starttls_incremental_and_implicit_tls(imapd, files, tmp_path):
    msgs = [composed(files, i) for i in range(2)]
    for m in msgs:
        imapd.send("alice@localhost", m.replace(b"\n", b"\r\n"))
    md = str(tmp_path / "Mail")
    base = ["fetch", "--protocol", "imap", "-k", "--netrc-file", netrc_for(tmp_path),
            "--maildir", md]
    p = mail(*base, "--server", "127.0.0.1:%d" % imapd.port)
    assert p.returncode == 0, p.stderr
    assert fetched_count(p) == 2
    for f in maildir_files(md):
        msg = parse(open(f, "rb").read())
        att = next(msg.iter_attachments())
        assert att.get_filename() == CHINESE_NAME and att.get_payload(decode=True) == files[1]
    imapd.send("alice@localhost", composed(files, 5).replace(b"\n", b"\r\n"))
    # the same mailbox over implicit TLS: one journal, only the new one
    p = mail(*base, "--server", "127.0.0.1:%d" % imapd.tls_port, "--implicit-tls")
    assert p.returncode == 0, p.stderr
    assert fetched_count(p) == 1
    p = mail(*base, "--server", "127.0.0.1:%d" % imapd.port)
    assert fetched_count(p) == 0
    assert len(maildir_files(md)) == 3


# ---- Dovecot ----

dovecot_missing = pytest.mark.skipif(not os.path.exists("/usr/sbin/dovecot"),
                                     reason="Debian's dovecot missing")


@pytest.fixture
def dovecot():
    from mail_peers import Dovecot
    d = Dovecot()
    yield d
    d.stop()


@dovecot_missing
def test_fetch_from_dovecot_imap_all_folders_flags_kept(dovecot, files, tmp_path):
    dovecot.deliver(composed(files, 1))
    dovecot.deliver(b"Subject: seen\n\nold\n", flags="FS")
    dovecot.deliver(b"Subject: in work\n\nx\n", folder="Work", flags="R")
    md = str(tmp_path / "Mail")
    args = ["fetch", "--protocol", "imap", "--server", "127.0.0.1:%d" % dovecot.imap_port,
            "--no-tls", "--user", dovecot.user,
            "--netrc-file", netrc_for(tmp_path, dovecot.user, dovecot.password),
            "--maildir", md, "--all-folders"]
    p = mail(*args)
    assert p.returncode == 0, p.stderr + dovecot.log().encode()
    assert fetched_count(p) == 3
    new = maildir_files(md, "new")
    cur = maildir_files(md, "cur")
    assert len(new) == 1 and len(cur) == 1
    assert cur[0].endswith(":2,FS")
    assert parse(open(cur[0], "rb").read())["subject"] == "seen"
    work = maildir_files(os.path.join(md, ".Work"), "cur")
    assert len(work) == 1 and work[0].endswith(":2,R")
    att = next(parse(open(new[0], "rb").read()).iter_attachments())
    assert att.get_payload(decode=True) == files[1]
    # BODY.PEEK and EXAMINE: the message in new/ on the server stays unseen
    assert len(os.listdir(os.path.join(dovecot.maildir, "new"))) + len(
        [n for n in os.listdir(os.path.join(dovecot.maildir, "cur")) if not n.endswith("S")]) == 1
    assert fetched_count(mail(*args)) == 0
    # TLS is the default: Dovecot here offers none
    p = mail("fetch", "--protocol", "imap", "--server", "127.0.0.1:%d" % dovecot.imap_port,
             "--user", dovecot.user, "--netrc-file",
             netrc_for(tmp_path, dovecot.user, dovecot.password), "--maildir", md)
    assert p.returncode == 1
    assert p.stderr.decode().strip() == (
        "inetkit mail: TLS is required but 127.0.0.1 does not offer STARTTLS (use --no-tls "
        "to allow plaintext)")


@dovecot_missing
def test_fetch_from_dovecot_pop3_killed_then_resumed(dovecot, tmp_path):
    n = 300
    for i in range(n):
        dovecot.deliver(b"Subject: m%d\nMessage-ID: <k%d@x>\n\n%s\n" % (i, i, b"x" * 2000))
    md = str(tmp_path / "Mail")
    args = ["fetch", "--protocol", "pop3", "--server", "127.0.0.1:%d" % dovecot.pop3_port,
            "--no-tls", "--user", dovecot.user,
            "--netrc-file", netrc_for(tmp_path, dovecot.user, dovecot.password),
            "--maildir", md]
    proc = subprocess.Popen([BIN, "mail", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(maildir_files(md)) < 20 and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.kill()
    proc.communicate()
    first = len(maildir_files(md))
    p = mail(*args)
    assert p.returncode == 0, p.stderr
    assert fetched_count(p) == n - first
    ids = [parse(open(f, "rb").read())["message-id"] for f in maildir_files(md)]
    assert len(ids) == n and len(set(ids)) == n
    assert os.listdir(os.path.join(md, "tmp")) == []
    assert fetched_count(mail(*args)) == 0


# ---- list and read ----

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mail_corpus")


def python_made_message():
    """A message composed by Python's email package (the third sample
    besides the Thunderbird- and mutt-style files of tests/mail_corpus)."""
    from email.message import EmailMessage
    m = EmailMessage()
    m["From"] = "Li Lei <li@example.cn>"
    m["To"] = "bob@example.org"
    m["Subject"] = "会议纪要 (minutes)"
    m["Date"] = "Wed, 02 Dec 2026 10:00:00 +0800"
    m.set_content("第一项：预算。\nSecond: schedule.\n")
    m.add_attachment(b"\x89PNG\r\n\x1a\n" + bytes(100), maintype="image", subtype="png",
                     filename="图表.png")
    return m.as_bytes()


def make_maildir(path, messages):
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    for i, (data, flags) in enumerate(messages):
        name = "%d.M%dP1.test" % (1796000000 + i, i)
        if flags is None:
            p = os.path.join(path, "new", name)
        else:
            p = os.path.join(path, "cur", name + ":2," + flags)
        with open(p, "wb") as f:
            f.write(data)
        os.utime(p, (1796000000 + i, 1796000000 + i))


def test_list_and_read_a_corpus_of_other_clients_messages(tmp_path):
    md = str(tmp_path / "Mail")
    make_maildir(md, [(open(os.path.join(CORPUS, "thunderbird.eml"), "rb").read(), "S"),
                      (open(os.path.join(CORPUS, "mutt.eml"), "rb").read(), None),
                      (python_made_message(), "RS")])
    p = mail("list", "--maildir", md, "--json")
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert [(e["n"], e["subject"], e["flags"]) for e in got] == [
        (1, "Grüße aus Köln", "S"), (2, "Résumé and a long attachment name", "N"),
        (3, "会议纪要 (minutes)", "RS")]
    assert got[0]["from"] == "Jürgen Müller <juergen@example.net>"
    assert got[0]["date"] == "2026-12-03 18:04"
    p = mail("list", "--maildir", md)
    lines = p.stdout.decode().splitlines()
    assert len(lines) == 3 and lines[0].startswith("   1  2026-12-03 18:04  Jürgen Müller")
    assert lines[2].endswith("会议纪要 (minutes)")
    out = tmp_path / "saved"
    out.mkdir()
    p = mail("read", "1", "--maildir", md, "--save-attachments", str(out))
    assert p.returncode == 0, p.stderr
    text = p.stdout.decode()
    assert "Subject: Grüße aus Köln\n" in text
    assert "viele Grüße aus Köln. Die Datei hängt an." in text
    assert "[attachment 1] Übersicht.txt (text/plain, 20 bytes) saved as Übersicht.txt" in text
    assert (out / "Übersicht.txt").read_bytes() == "Übersicht: 1, 2, 3\n".encode()
    p = mail("read", "2", "--maildir", md, "--save-attachments", str(out))
    text = p.stdout.decode()
    assert "Voilà mon résumé." in text                 # iso-8859-1 QP -> UTF-8
    assert (out / "简历 — Anne.pdf").read_bytes().startswith(b"%PDF-1.4")
    p = mail("read", "3", "--maildir", md, "--save-attachments", str(out))
    assert "第一项：预算。" in p.stdout.decode()
    assert (out / "图表.png").read_bytes() == b"\x89PNG\r\n\x1a\n" + bytes(100)
    p = mail("read", "4", "--maildir", md)
    assert p.returncode == 1 and b"no message 4 (there are 3)" in p.stderr


def test_saved_attachment_names_are_sanitised_and_never_replace(tmp_path):
    from email.message import EmailMessage
    m = EmailMessage()
    m["From"] = "x@example.org"
    m["Subject"] = "hostile names"
    m.set_content("see attachments\x1b[31m red?\n")
    for name in ("../../etc/passwd", ".bashrc", "a\\b\\c.txt", "..", "bell\x07.txt"):
        m.add_attachment(b"data for " + name.encode(), maintype="application",
                         subtype="octet-stream", filename=name)
    md = str(tmp_path / "Mail")
    make_maildir(md, [(m.as_bytes(), None)])
    out = tmp_path / "out"
    out.mkdir()
    (out / "passwd").write_bytes(b"already here")
    p = mail("read", "1", "--maildir", md, "--save-attachments", str(out))
    assert p.returncode == 0, p.stderr
    assert b"\x1b" not in p.stdout and b"\x07" not in p.stdout
    assert sorted(os.listdir(out)) == ["attachment-4", "bashrc", "bell_.txt", "c.txt",
                                       "passwd", "passwd (1)"]
    assert (out / "passwd").read_bytes() == b"already here"
    assert (out / "passwd (1)").read_bytes() == b"data for ../../etc/passwd"
    assert not os.path.exists(tmp_path / "etc")


def test_list_and_read_a_remote_imap_folder(imapd, files, tmp_path):
    imapd.send("alice@localhost", composed(files, 7).replace(b"\n", b"\r\n"))
    args = ["--protocol", "imap", "--server", "127.0.0.1:%d" % imapd.port, "-k",
            "--netrc-file", netrc_for(tmp_path)]
    p = mail("list", "--json", *args)
    assert p.returncode == 0, p.stderr
    [e] = json.loads(p.stdout)
    assert e["subject"] == "%s 7" % CHINESE_SUBJECT and e["from"] == "alice@example.test"
    assert e["uid"] == 1 and e["size"] > 1000
    out = tmp_path / "saved"
    out.mkdir()
    p = mail("read", "1", *args, "--save-attachments", str(out))
    assert p.returncode == 0, p.stderr
    assert "message 7" in p.stdout.decode()
    assert (out / CHINESE_NAME).read_bytes() == files[1]
    # read used BODY.PEEK: still unseen
    p = mail("list", "--json", *args)
    assert "S" not in json.loads(p.stdout)[0]["flags"]


# ---- hostile servers ----

class Hostile:
    """A scripted server on loopback: greeting, then for each command line
    received, script(line) returns bytes to send, or an iterator of chunks
    (an endless stream), or None to close."""

    def __init__(self, greeting, script):
        import threading
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.greeting, self.script = greeting, script
        self.sent = 0
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def _serve(self):
        try:
            c, _ = self.sock.accept()
        except OSError:
            return
        try:
            c.sendall(self.greeting)
            f = c.makefile("rb")
            while True:
                line = f.readline()
                if not line:
                    return
                out = self.script(line.rstrip(b"\r\n").decode("latin-1"))
                if out is None:
                    return
                if isinstance(out, bytes):
                    c.sendall(out)
                    continue
                for chunk in out:
                    c.sendall(chunk)
                    self.sent += len(chunk)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.sock.close()


def endless(chunk=b"x" * 65536, limit=300 * 1024 * 1024):
    n = 0
    while n < limit:
        yield chunk
        n += len(chunk)


def pop3_script(uidl_body):
    def script(line):
        verb = line.split(" ")[0].upper()
        if verb == "CAPA":
            return b"+OK\r\nUSER\r\n.\r\n"
        if verb in ("USER", "PASS", "QUIT"):
            return b"+OK\r\n"
        if verb == "UIDL":
            return uidl_body() if callable(uidl_body) else uidl_body
        return b"-ERR what\r\n"
    return script


def imap_script(fetch_reply):
    def script(line):
        tag, _, rest = line.partition(" ")
        verb = rest.split(" ")[0].upper()
        if verb == "CAPABILITY":
            return b"* CAPABILITY IMAP4rev1\r\n" + tag.encode() + b" OK\r\n"
        if verb in ("LOGIN", "LOGOUT"):
            return tag.encode() + b" OK\r\n"
        if verb == "EXAMINE":
            return (b"* 1 EXISTS\r\n* OK [UIDVALIDITY 5] x\r\n" + tag.encode() +
                    b" OK [READ-ONLY] done\r\n")
        if rest.upper().startswith("UID SEARCH"):
            return b"* SEARCH 1\r\n" + tag.encode() + b" OK\r\n"
        if rest.upper().startswith("UID FETCH"):
            return fetch_reply(tag.encode())
        return tag.encode() + b" BAD what\r\n"
    return script


def run_hostile(tmp_path, proto, srv):
    """Runs `inetkit mail fetch` against a hostile server; returns its
    stderr and the peak RSS (KiB) of that one process, read with wait4 so
    that no other child of the test run counts."""
    import threading
    errpath = tmp_path / "fetch.err"
    with open(errpath, "wb") as err:
        p = subprocess.Popen([BIN, "mail", "fetch", "--protocol", proto, "--server",
                              "127.0.0.1:%d" % srv.port, "--no-tls", "--user", "alice",
                              "--netrc-file", netrc_for(tmp_path), "--maildir",
                              str(tmp_path / "Mail")],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    timer = threading.Timer(120, p.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(p.pid, 0)
    finally:
        timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    srv.close()
    assert p.returncode == 1
    assert os.listdir(tmp_path / "Mail" / "new") == []
    assert os.listdir(tmp_path / "Mail" / "tmp") == []
    return errpath.read_bytes().decode(), usage.ru_maxrss


def test_hostile_endless_line_fails_cleanly_in_bounded_memory(tmp_path):
    srv = Hostile(b"+OK hi\r\n", pop3_script(lambda: endless()))
    err, rss = run_hostile(tmp_path, "pop3", srv)
    assert err.startswith("inetkit mail: 127.0.0.1:%d sent a reply line longer than" % srv.port)
    assert srv.sent < 300 * 1024 * 1024      # gave up long before the end
    assert rss < 200 * 1024                  # KiB: far below what was sent


def test_hostile_endless_multiline_body_is_bounded(tmp_path):
    srv = Hostile(b"+OK hi\r\n", pop3_script(
        lambda: iter([b"+OK\r\n"] + list(endless(b"1 abc\r\n" * 8192, 100 * 1024 * 1024)))))
    err, rss = run_hostile(tmp_path, "pop3", srv)
    assert "sent a body longer than 67108864 bytes" in err, err
    assert rss < 300 * 1024


def test_hostile_bogus_multiline_listing(tmp_path):
    srv = Hostile(b"+OK hi\r\n", pop3_script(b"+OK\r\n1 good\r\nnot a pair\r\n.\r\n"))
    err, _ = run_hostile(tmp_path, "pop3", srv)
    assert err.strip() == "inetkit mail: 127.0.0.1 sent a malformed UIDL listing"


def test_hostile_garbage_instead_of_pop3(tmp_path):
    srv = Hostile(b"220 smtp.example ESMTP\r\n", pop3_script(b""))
    err, _ = run_hostile(tmp_path, "pop3", srv)
    assert err.strip() == ("inetkit mail: 127.0.0.1:%d: not a POP3 reply: '220 smtp.example "
                           "ESMTP'" % srv.port)


def test_hostile_huge_literal_refused_before_reading(tmp_path):
    srv = Hostile(b"* OK hi\r\n", imap_script(
        lambda tag: iter([b"* 1 FETCH (UID 1 BODY[] {300000000000}\r\n"] +
                         list(endless(limit=8 * 1024 * 1024)))))
    err, rss = run_hostile(tmp_path, "imap", srv)
    assert "announced a literal of 300000000000 bytes, more than the 268435456 allowed" in err
    assert rss < 200 * 1024


def test_hostile_literal_cut_short_leaves_nothing(tmp_path):
    srv = Hostile(b"* OK hi\r\n", imap_script(
        lambda tag: iter([b"* 1 FETCH (UID 1 BODY[] {1000}\r\nSubject: x\r\n\r\nonly this"])))
    srv_close = srv.script

    def script(line):
        out = srv_close(line)
        if line.split(" ")[1:2] == ["UID"] and "FETCH" in line:
            return iter(list(out) + [b""])
        return out
    srv.script = script
    import threading
    threading.Timer(3, srv.close).start()
    p = mail("fetch", "--protocol", "imap", "--server", "127.0.0.1:%d" % srv.port, "--no-tls",
             "--user", "alice", "--netrc-file", netrc_for(tmp_path), "--maildir",
             str(tmp_path / "Mail"), "--timeout", "2s", timeout=60)
    assert p.returncode == 1
    assert os.listdir(tmp_path / "Mail" / "new") == []
    assert os.listdir(tmp_path / "Mail" / "tmp") == []


def test_account_paths_expand_home_and_smtputf8_is_used(smtpd, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    conf = account_conf(tmp_path / "mail.conf", user="alice", insecure="yes",
                        smtp_server="127.0.0.1:%d" % smtpd.sub_port, maildir="~/Mail")
    env = dict(os.environ, HOME=str(home))
    p = mail("list", "--config", conf, env=env)
    assert p.returncode == 1 and ("%s/Mail/new" % home).encode() in p.stderr
    # a UTF-8 local part: the message goes with SMTPUTF8 (RFC 6531)
    p = mail("send", "--config", conf, "--trace", "--from", "用户@example.test",
             "--to", "bob@example.test", "--body", "utf8", env=env)
    assert p.returncode == 0, p.stderr
    assert "> MAIL FROM:<用户@example.test> SIZE=" in p.stderr.decode()
    assert " SMTPUTF8" in p.stderr.decode()
    smtpd.wait_stored("bob", 1)

"""The SMTP server with the clients people really use: Python's smtplib,
swaks, curl, mutt (reading the Maildir), Postfix's smtp-source (load), and
raw sockets where no client speaks the feature (BDAT, pipelined bursts,
DSN parameters). Every message is checked where it landed: byte-identical
after the two trace headers the server adds, with LF line ends."""
import email
import email.policy
import io
import os
import random
import re
import shutil
import smtplib
import subprocess
from email.generator import BytesGenerator
from email.message import EmailMessage

import pytest

from smtpd_env import (CLIENT, NO_LOCKOUT, HOSTNAME, PASSWORD, Conn, Smtpd, assert_reply, body_of, lf,
                       message, read, return_path, split_trace, tls_context)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    base = tmp_path_factory.mktemp("smtpd-clients")
    aliases = os.path.join(str(base), "aliases")
    with open(aliases, "w") as f:
        f.write("# test aliases\nsales: alice, bob\nteam:\n  alice,\n  carol\n")
    s = Smtpd(base, smtp={"aliases": aliases}, tls=True, accounts=NO_LOCKOUT,
              users=("alice", "bob", "carol", "dave", "erin", "frank"))
    yield s
    s.stop()


def delivered(srv, name, before):
    """The one message that arrived in NAME's new/ since `before` files."""
    files = srv.new_files(name)
    assert len(files) == before + 1, "%s has %d messages, expected %d\n%s" % (
        name, len(files), before + 1, srv.log()[-2000:])
    return files[-1]


def count(srv, name):
    return len(srv.new_files(name))


def received(path):
    return split_trace(read(path))[0]


def sample_message(subject="sample", lines=40):
    """A CRLF message with what must survive unchanged: a leading dot, a
    line that is a lone dot's neighbour, trailing spaces, a tab, 8-bit
    text and a line of 998 octets."""
    rnd = random.Random(subject)
    body = ["Hello,", "", ".a line with a leading dot", "..two", "trailing spaces   ",
            "\ttab", "x" * 998, "Grüße, ✓"]
    body += ["line %d %s" % (i, "".join(rnd.choice("abcdefgh ") for _ in range(60)))
             for i in range(lines)]
    head = ("From: Sender <sender@example.org>\r\nTo: Alice <alice@localhost>\r\n"
            "Subject: %s\r\nMessage-ID: <%s@example.org>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            % (subject, subject))
    return (head + "\r\n".join(body) + "\r\n").encode()


# ---- smtplib ----

def test_smtplib_sendmail(srv):
    n = count(srv, "alice")
    msg = sample_message("smtplib-sendmail")
    with smtplib.SMTP("127.0.0.1", srv.port, local_hostname=CLIENT, timeout=20) as s:
        assert s.sendmail("sender@example.org", ["alice@localhost"], msg) == {}
    path = delivered(srv, "alice", n)
    assert body_of(path) == lf(msg)
    assert return_path(path) == "sender@example.org"
    rcv = received(path)
    assert re.match(r"Received: from %s \(.*127\.0\.0\.1.*\)\n\s+by %s" % (CLIENT, HOSTNAME),
                    rcv), rcv
    assert "alice@localhost" in rcv or "for <alice@localhost>" in rcv
    assert re.search(r";\s+\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\n\Z", rcv), rcv


def test_smtplib_sendmail_several_and_refused(srv):
    na, nb = count(srv, "alice"), count(srv, "bob")
    msg = message("several")
    with smtplib.SMTP("127.0.0.1", srv.port, local_hostname=CLIENT, timeout=20) as s:
        refused = s.sendmail("", ["alice@localhost", "nosuch@localhost", "bob@localhost"], msg)
    assert list(refused) == ["nosuch@localhost"]
    code, text = refused["nosuch@localhost"]
    assert code == 550 and text.startswith(b"5.1.1 "), refused
    pa, pb = delivered(srv, "alice", na), delivered(srv, "bob", nb)
    assert return_path(pa) == ""
    assert body_of(pa) == body_of(pb) == lf(msg)


def test_smtplib_send_message_non_ascii_headers(srv):
    """Non-ASCII headers without SMTPUTF8: the email package encodes them
    (RFC 2047); they arrive as sent."""
    n = count(srv, "alice")
    m = EmailMessage(policy=email.policy.SMTP)
    m["From"] = "Jörg Müller <joerg@example.org>"
    m["To"] = "Alice <alice@localhost>"
    m["Subject"] = "Grüße aus Köln — ✓"
    m.set_content("Käsekuchen für alle.\n")
    with smtplib.SMTP("127.0.0.1", srv.port, local_hostname=CLIENT, timeout=20) as s:
        s.send_message(m)
    path = delivered(srv, "alice", n)
    want = io.BytesIO()
    BytesGenerator(want, policy=m.policy).flatten(m, linesep="\r\n")
    assert body_of(path) == lf(want.getvalue())
    got = email.message_from_bytes(body_of(path), policy=email.policy.default)
    assert got["Subject"] == "Grüße aus Köln — ✓"
    assert got.get_content() == "Käsekuchen für alle.\n"


def test_smtplib_send_message_smtputf8(srv):
    """A UTF-8 sender address and raw UTF-8 headers (RFC 6531): smtplib
    sends SMTPUTF8 and BODY=8BITMIME by itself."""
    n = count(srv, "alice")
    with smtplib.SMTP("127.0.0.1", srv.port, local_hostname=CLIENT, timeout=20) as s:
        s.ehlo()
        assert s.has_extn("smtputf8") and s.has_extn("8bitmime")
        m = EmailMessage(policy=email.policy.SMTPUTF8)
        m["From"] = "Jörg <jörg@exämple.org>"
        m["To"] = "alice@localhost"
        m["Subject"] = "Ünïcödé ✓ 日本語"
        m.set_content("Grüße\n")
        s.send_message(m, from_addr="jörg@exämple.org", to_addrs=["alice@localhost"])
    path = delivered(srv, "alice", n)
    assert return_path(path) == "jörg@exämple.org"
    want = io.BytesIO()
    BytesGenerator(want, policy=m.policy.clone(utf8=True)).flatten(m, linesep="\r\n")
    assert body_of(path) == lf(want.getvalue())
    assert "Subject: Ünïcödé ✓ 日本語\n".encode() in body_of(path)


def test_utf8_address_needs_smtputf8(srv):
    c = Conn(srv.port)
    c.ehlo()
    assert_reply(c.cmd("MAIL FROM:<jörg@exämple.org>"), 553, "5.6.7")
    assert_reply(c.cmd("MAIL FROM:<jörg@exämple.org> SMTPUTF8"), 250, "2.1.0")
    c.close()


def test_smtplib_starttls_login_submission(srv):
    nb = count(srv, "bob")
    q0 = set(srv.queue_ids())
    msg = message("submitted", frm="alice@localhost", to="bob@localhost")
    with smtplib.SMTP("127.0.0.1", srv.sub_port, local_hostname=CLIENT, timeout=20) as s:
        s.ehlo()
        assert s.has_extn("starttls")
        assert not s.has_extn("auth"), "AUTH offered before TLS: %s" % s.esmtp_features
        s.starttls(context=tls_context())
        s.ehlo()
        assert s.has_extn("auth")
        assert set(s.esmtp_features["auth"].split()) >= {"PLAIN", "LOGIN"}
        assert s.login("alice", PASSWORD)[0] == 235
        refused = s.sendmail("alice@localhost", ["bob@localhost", "friend@example.org",
                                                 "ünï@exämple.org"], msg,
                             mail_options=["SMTPUTF8"])
        assert refused == {}
    path = delivered(srv, "bob", nb)
    assert body_of(path) == lf(msg)
    rcv = received(path)
    assert re.search(r"TLSv1\.[23]", rcv) and "alice" in rcv, rcv
    # the other domains' recipients are queued, once, with who sent them
    new = sorted(set(srv.queue_ids()) - q0)
    assert len(new) == 1, new
    env = srv.queue_show(new[0])
    assert sorted(r["address"] for r in env["recipients"]) == ["friend@example.org",
                                                               "ünï@exämple.org"]
    assert env["auth_user"] == "alice" and env["smtputf8"] is True
    assert re.match(r"TLSv1\.[23] ", env["tls"]), env
    assert body_of(srv.queue_path(new[0])) == lf(msg)
    srv.queue_delete(new[0])


def test_smtplib_login_on_submissions(srv):
    n = count(srv, "carol")
    with smtplib.SMTP_SSL("127.0.0.1", srv.subs_port, local_hostname=CLIENT, timeout=20,
                          context=tls_context()) as s:
        s.login("alice", PASSWORD)
        s.sendmail("alice@localhost", ["carol@localhost"], message("implicit"))
    assert delivered(srv, "carol", n)


def test_smtplib_app_password(srv):
    token = srv.add_token("alice", "x", "smtp")
    other = srv.add_token("alice", "mail-reader", "imap")
    assert token and other and token != other
    n = count(srv, "bob")
    with smtplib.SMTP("127.0.0.1", srv.sub_port, local_hostname=CLIENT, timeout=20) as s:
        s.starttls(context=tls_context())
        assert s.login("alice", token)[0] == 235
        s.sendmail("alice@localhost", ["bob@localhost"], message("token"))
    assert delivered(srv, "bob", n)
    # an app password for another service is no password here
    with smtplib.SMTP("127.0.0.1", srv.sub_port, local_hostname=CLIENT, timeout=20) as s:
        s.starttls(context=tls_context())
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            s.login("alice", other)
        assert e.value.smtp_code == 535 and e.value.smtp_error.startswith(b"5.7.8 ")


def test_smtplib_wrong_password(srv):
    for user, pw in (("alice", "wrong-password"), ("nosuchuser", PASSWORD)):
        with smtplib.SMTP("127.0.0.1", srv.sub_port, local_hostname=CLIENT, timeout=20) as s:
            s.starttls(context=tls_context())
            with pytest.raises(smtplib.SMTPAuthenticationError) as e:
                s.login(user, pw)
            assert e.value.smtp_code == 535, e.value
            assert e.value.smtp_error.startswith(b"5.7.8 "), e.value
            # and no mail without a login
            with pytest.raises(smtplib.SMTPSenderRefused) as e:
                s.sendmail(user + "@localhost", ["bob@localhost"], message("nope"))
            assert e.value.smtp_code == 530 and e.value.smtp_error.startswith(b"5.7.0 ")


def test_default_in_memory_certificate(tmp_path):
    """No [tls] files: STARTTLS works with the server's own self-signed
    certificate."""
    s = Smtpd(tmp_path, users=("alice", "bob"))
    try:
        with smtplib.SMTP("127.0.0.1", s.sub_port, local_hostname=CLIENT, timeout=20) as c:
            c.starttls(context=tls_context())
            c.login("bob", PASSWORD)
            c.sendmail("bob@localhost", ["alice@localhost"], message("default cert"))
        assert len(s.new_files("alice")) == 1
    finally:
        s.stop()


def test_pipelined_burst(srv):
    """A whole session in one write (RFC 2920): every reply in order."""
    na, nb = count(srv, "alice"), count(srv, "bob")
    c = Conn(srv.port)
    r = c.ehlo()
    assert "250-PIPELINING" in r.lines
    m1, m2 = message("burst one"), message("burst two")
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<alice@localhost>\r\n"
           b"RCPT TO:<nobody@localhost>\r\nRCPT TO:<bob@localhost>\r\nDATA\r\n")
    assert_reply(c.reply(), 250, "2.1.0")
    assert_reply(c.reply(), 250, "2.1.5")
    assert_reply(c.reply(), 550, "5.1.1")
    assert_reply(c.reply(), 250, "2.1.5")
    assert_reply(c.reply(), 354)
    c.send(m1 + b".\r\nRSET\r\nMAIL FROM:<b@example.org>\r\nRCPT TO:<alice@localhost>\r\nDATA\r\n")
    assert_reply(c.reply(), 250, "2.0.0")
    assert_reply(c.reply(), 250, "2.0.0")
    assert_reply(c.reply(), 250, "2.1.0")
    assert_reply(c.reply(), 250, "2.1.5")
    assert_reply(c.reply(), 354)
    c.send(m2 + b".\r\nNOOP\r\nQUIT\r\n")
    assert_reply(c.reply(), 250, "2.0.0")
    assert_reply(c.reply(), 250, "2.0.0")
    assert_reply(c.reply(), 221, "2.0.0")
    assert c.closed()
    files = srv.new_files("alice")
    assert len(files) == na + 2 and count(srv, "bob") == nb + 1
    assert sorted(body_of(p) for p in files[-2:]) == sorted([lf(m1), lf(m2)])


def test_pipelined_data_group_failure(srv):
    """All RCPTs refused in a pipelined group: DATA gets 554 5.5.1 (RFC 2920
    3.1), and the message lines after it are not run as commands."""
    snap = srv.snapshot()
    c = Conn(srv.port)
    c.ehlo()
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<nobody@localhost>\r\nDATA\r\n")
    assert_reply(c.reply(), 250, "2.1.0")
    assert_reply(c.reply(), 550, "5.1.1")
    assert_reply(c.reply(), 554, "5.5.1")
    assert_reply(c.cmd("NOOP"), 250, "2.0.0")
    c.close()
    srv.assert_nothing_stored(snap)


# ---- swaks ----

def swaks(srv, *args, port=None, check=True):
    cmd = ["swaks", "--server", "127.0.0.1", "--port", str(port or srv.port),
           "--helo", CLIENT, "--timeout", "30"] + list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    out = p.stdout.decode("utf-8", "replace")
    if check:
        assert p.returncode == 0, "swaks %s: exit %d\n%s\n--- server log:\n%s" % (
            args, p.returncode, out[-4000:], srv.log()[-2000:])
    return p.returncode, out


def write(tmp_path, name, data):
    path = os.path.join(str(tmp_path), name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def data_file(tmp_path, msg, name="m.eml"):
    """A --data file for msg (LF lines): swaks sends each line with CRLF,
    dot-stuffed, and ends the last one itself, so the file goes without the
    final newline."""
    assert msg.endswith(b"\n")
    return "@" + write(tmp_path, name, msg[:-1])


def test_swaks_plain(srv, tmp_path):
    n = count(srv, "alice")
    msg = lf(sample_message("swaks-plain"))
    swaks(srv, "--from", "sender@example.org", "--to", "alice@localhost",
          "--data", data_file(tmp_path, msg))
    assert body_of(delivered(srv, "alice", n)) == msg


def test_swaks_starttls(srv, tmp_path):
    n = count(srv, "alice")
    msg = lf(sample_message("swaks-tls"))
    _, out = swaks(srv, "--tls", "--from", "sender@example.org", "--to", "alice@localhost",
                   "--data", data_file(tmp_path, msg))
    assert "<-  220 2.0.0" in out and "<~  250 2.0.0" in out, out
    path = delivered(srv, "alice", n)
    assert body_of(path) == msg
    assert re.search(r"TLSv1\.[23]", received(path))


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_swaks_auth_submission(srv, tmp_path, mech):
    n = count(srv, "bob")
    msg = lf(sample_message("swaks-auth-" + mech))
    _, out = swaks(srv, "--tls", "--auth", mech, "--auth-user", "alice", "--auth-password",
                   PASSWORD, "--from", "alice@localhost", "--to", "bob@localhost",
                   "--data", data_file(tmp_path, msg), port=srv.sub_port)
    assert re.search(r"<~  235 2\.7\.0 ", out), out
    path = delivered(srv, "bob", n)
    assert body_of(path) == msg
    assert "alice" in received(path)


def test_swaks_tls_on_connect(srv, tmp_path):
    n = count(srv, "carol")
    msg = lf(sample_message("swaks-tlsc"))
    _, out = swaks(srv, "--tlsc", "--auth", "PLAIN", "--auth-user", "alice", "--auth-password",
                   PASSWORD, "--from", "alice@localhost", "--to", "carol@localhost",
                   "--data", data_file(tmp_path, msg), port=srv.subs_port)
    assert "<~  220 " in out
    assert body_of(delivered(srv, "carol", n)) == msg


def test_swaks_wrong_password(srv):
    snap = srv.snapshot()
    rc, out = swaks(srv, "--tls", "--auth", "PLAIN", "--auth-user", "alice", "--auth-password",
                    "wrong-password", "--to", "bob@localhost", port=srv.sub_port, check=False)
    assert rc != 0
    assert re.search(r"<~\* +535 5\.7\.8 ", out), out
    srv.assert_nothing_stored(snap)


def test_swaks_pipeline(srv, tmp_path):
    na, nb = count(srv, "alice"), count(srv, "bob")
    msg = lf(sample_message("swaks-pipeline"))
    _, out = swaks(srv, "--pipeline", "--from", "sender@example.org",
                   "--to", "alice@localhost,nobody@localhost,bob@localhost",
                   "--data", data_file(tmp_path, msg))
    assert "250-PIPELINING" in out
    # swaks writes MAIL, the RCPTs and DATA at once, then reads the replies
    sent = [m.group(1) for m in re.finditer(r"(?m)^ -> (MAIL|RCPT|DATA)", out)]
    assert sent == ["MAIL", "RCPT", "RCPT", "RCPT", "DATA"], out
    codes = [m.group(1).strip() for m in
             re.finditer(r"(?m)^(?:<-|<\*\*) +(\d{3}(?: [245]\.\d+\.\d+)?)", out)]
    i = codes.index("250 2.1.0")
    assert codes[i:i + 5] == ["250 2.1.0", "250 2.1.5", "550 5.1.1", "250 2.1.5", "354"], codes
    assert body_of(delivered(srv, "alice", na)) == msg
    assert body_of(delivered(srv, "bob", nb)) == msg


def test_swaks_attach(srv, tmp_path):
    n = count(srv, "dave")
    blob = random.Random(7).randbytes(100_000)
    att = write(tmp_path, "blob.bin", blob)
    swaks(srv, "--from", "sender@example.org", "--to", "dave@localhost",
          "--header", "Subject: with attachment", "--body", "See the file.", "--attach",
          "@" + att)
    got = email.message_from_bytes(body_of(delivered(srv, "dave", n)),
                                   policy=email.policy.default)
    assert got["Subject"] == "with attachment"
    parts = [p for p in got.iter_attachments()]
    assert len(parts) == 1 and parts[0].get_filename() == "blob.bin"
    assert parts[0].get_content() == blob


def test_swaks_5mb(srv, tmp_path):
    n = count(srv, "erin")
    rnd = random.Random(5)
    lines = ["".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789 .") for _ in range(76))
             for _ in range(5 * 1024 * 1024 // 77)]
    msg = ("Subject: five megabytes\n\n" + "\n".join(lines) + "\n").encode()
    assert len(msg) > 5 * 1000 * 1000
    swaks(srv, "--from", "sender@example.org", "--to", "erin@localhost",
          "--data", data_file(tmp_path, msg, "big.eml"))
    assert body_of(delivered(srv, "erin", n)) == msg


# ---- curl ----

def curl(*args, check=True):
    p = subprocess.run(["curl", "-sS", "--max-time", "60"] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
    if check:
        assert p.returncode == 0, "curl %s: exit %d\n%s" % (args, p.returncode,
                                                           p.stderr.decode(errors="replace"))
    return p


def test_curl_smtp(srv, tmp_path):
    n = count(srv, "alice")
    msg = sample_message("curl-smtp")
    curl("smtp://127.0.0.1:%d/%s" % (srv.port, CLIENT), "--mail-from", "sender@example.org",
         "--mail-rcpt", "alice@localhost", "--upload-file", write(tmp_path, "m.eml", msg))
    assert body_of(delivered(srv, "alice", n)) == lf(msg)


def test_curl_bare_lf_refused_then_crlf(srv, tmp_path):
    """curl sends a LF-only file as it is: bare LFs, refused whole; with
    --crlf it is converted and accepted."""
    snap = srv.snapshot()
    msg = lf(sample_message("curl-lf"))
    path = write(tmp_path, "m.eml", msg)
    p = curl("-v", "smtp://127.0.0.1:%d/%s" % (srv.port, CLIENT), "--mail-from",
             "sender@example.org", "--mail-rcpt", "alice@localhost", "--upload-file", path,
             check=False)
    assert p.returncode != 0
    assert b"\n< 550 5.6.11 " in p.stderr, p.stderr
    srv.assert_nothing_stored(snap)
    n = count(srv, "alice")
    curl("smtp://127.0.0.1:%d/%s" % (srv.port, CLIENT), "--mail-from", "sender@example.org",
         "--mail-rcpt", "alice@localhost", "--upload-file", path, "--crlf")
    assert body_of(delivered(srv, "alice", n)) == msg


def test_curl_smtps_submissions(srv, tmp_path):
    n = count(srv, "bob")
    msg = sample_message("curl-smtps")
    curl("smtps://127.0.0.1:%d/%s" % (srv.subs_port, CLIENT), "-k", "--user",
         "alice:" + PASSWORD, "--mail-from", "alice@localhost", "--mail-rcpt", "bob@localhost",
         "--upload-file", write(tmp_path, "m.eml", msg))
    assert body_of(delivered(srv, "bob", n)) == lf(msg)


def test_curl_starttls_submission(srv, tmp_path):
    n = count(srv, "bob")
    msg = sample_message("curl-starttls")
    curl("smtp://127.0.0.1:%d/%s" % (srv.sub_port, CLIENT), "--ssl-reqd", "-k", "--user",
         "alice:" + PASSWORD, "--mail-from", "alice@localhost", "--mail-rcpt", "bob@localhost",
         "--upload-file", write(tmp_path, "m.eml", msg))
    path = delivered(srv, "bob", n)
    assert body_of(path) == lf(msg)
    assert re.search(r"TLSv1\.[23]", received(path))


def test_curl_submission_without_login_refused(srv, tmp_path):
    snap = srv.snapshot()
    p = curl("smtp://127.0.0.1:%d/%s" % (srv.sub_port, CLIENT), "--ssl-reqd", "-k",
             "--mail-from", "alice@localhost", "--mail-rcpt", "bob@localhost",
             "--upload-file", write(tmp_path, "m.eml", message("nologin")), check=False)
    assert p.returncode != 0
    assert b"530" in p.stderr, p.stderr
    srv.assert_nothing_stored(snap)


# ---- BDAT (RFC 3030), by raw socket: no common client sends it ----

def test_bdat_chunks(srv):
    n = count(srv, "alice")
    c = Conn(srv.port)
    r = c.ehlo()
    assert "250-CHUNKING" in r.lines or "250 CHUNKING" in r.lines, r
    assert_reply(c.cmd("MAIL FROM:<sender@example.org>"), 250, "2.1.0")
    assert_reply(c.cmd("RCPT TO:<alice@localhost>"), 250, "2.1.5")
    chunks = [b"Subject: chunked\r\n\r\nfirst part, then a CRLF split over chunks\r",
              b"\n.a leading dot is not stuffed in BDAT\r\n", b"binary-ish \x01\x7f\xff\r\n"]
    for ch in chunks:
        c.send(b"BDAT %d\r\n" % len(ch) + ch)
        assert_reply(c.reply(), 250, "2.0.0", rx=str(len(ch)))
    c.send(b"BDAT 0 LAST\r\n")
    assert_reply(c.reply(), 250, "2.0.0")
    assert_reply(c.cmd("QUIT"), 221, "2.0.0")
    assert body_of(delivered(srv, "alice", n)) == lf(b"".join(chunks))


def test_bdat_last_pipelined(srv):
    """Chunks and commands in one write; BDAT n LAST ends the message."""
    n = count(srv, "alice")
    c = Conn(srv.port)
    c.ehlo()
    body = b"Subject: one chunk\r\n\r\nall at once\r\n"
    c.send(b"MAIL FROM:<sender@example.org>\r\nRCPT TO:<alice@localhost>\r\n"
           b"BDAT %d LAST\r\n" % len(body) + body + b"NOOP\r\n")
    assert_reply(c.reply(), 250, "2.1.0")
    assert_reply(c.reply(), 250, "2.1.5")
    assert_reply(c.reply(), 250, "2.0.0")
    assert_reply(c.reply(), 250, "2.0.0")
    c.close()
    assert body_of(delivered(srv, "alice", n)) == lf(body)


def test_bdat_sequence_errors(srv):
    snap = srv.snapshot()
    c = Conn(srv.port)
    c.ehlo()
    # no MAIL: refused, and the chunk is read and dropped, never run
    c.send(b"BDAT 12\r\nRSET\r\nRSET\r\n")
    assert_reply(c.reply(), 503, "5.5.1")
    assert_reply(c.cmd("NOOP"), 250, "2.0.0")
    assert_reply(c.cmd("MAIL FROM:<sender@example.org>"), 250, "2.1.0")
    c.send(b"BDAT 6 LAST\r\nNOOP\r\n")      # no RCPT yet
    assert_reply(c.reply(), 503, "5.5.1")
    assert_reply(c.cmd("NOOP"), 250, "2.0.0")
    assert_reply(c.cmd("RCPT TO:<alice@localhost>"), 250, "2.1.5")
    c.send(b"BDAT 4\r\nabc\n")
    assert_reply(c.reply(), 250, "2.0.0")
    # DATA cannot follow BDAT in one transaction
    assert_reply(c.cmd("DATA"), 503, "5.5.1")
    assert_reply(c.cmd("RSET"), 250, "2.0.0")
    c.close()
    srv.assert_nothing_stored(snap)


@pytest.mark.parametrize("line", ["BDAT x", "BDAT 5 FIRST", "BDAT", "BDAT -1",
                                  "BDAT 99999999999999999999999"])
def test_bdat_bad_size_closes(srv, line):
    """After a BDAT whose size cannot be read, the server cannot tell the
    chunk from the next commands: it says so and closes (the chunk is never
    run as commands)."""
    snap = srv.snapshot()
    c = Conn(srv.port)
    c.ehlo()
    assert_reply(c.cmd("MAIL FROM:<sender@example.org>"), 250, "2.1.0")
    assert_reply(c.cmd("RCPT TO:<alice@localhost>"), 250, "2.1.5")
    c.send(line + "\r\nRSET\r\n")
    assert_reply(c.reply(), 501, "5.5.4", rx="closing")
    assert c.closed()
    srv.assert_nothing_stored(snap)


# ---- DSN parameters (RFC 3461) kept in the queue envelope ----

def notify(rcpt):
    return set((rcpt["notify"] or "").upper().split(",")) - {""}


def test_dsn_parameters_in_queue(srv):
    q0 = set(srv.queue_ids())
    c = Conn(srv.subs_port, tls=True)
    r = c.ehlo()
    assert "250-DSN" in r.lines or "250 DSN" in r.lines, r
    assert_reply(c.auth("alice"), 235, "2.7.0")
    assert_reply(c.cmd("MAIL FROM:<alice@localhost> RET=HDRS ENVID=QQ+2B314159"), 250, "2.1.0")
    assert_reply(c.cmd("RCPT TO:<r1@example.net> NOTIFY=SUCCESS,FAILURE "
                       "ORCPT=rfc822;r1+2Bx@example.net"), 250, "2.1.5")
    assert_reply(c.cmd("RCPT TO:<r2@example.net> NOTIFY=NEVER"), 250, "2.1.5")
    assert_reply(c.cmd("RCPT TO:<r3@example.net> NOTIFY=DELAY"), 250, "2.1.5")
    assert_reply(c.cmd("RCPT TO:<r4@example.net> NOTIFY=NEVER,SUCCESS"), 501, "5.5.4")
    assert_reply(c.cmd("RCPT TO:<r4@example.net> NOTIFY=SOMETIMES"), 501, "5.5.4")
    assert_reply(c.cmd("RCPT TO:<r4@example.net> FOO=BAR"), 555, "5.5.4")
    assert_reply(c.data(message("dsn", to="r1@example.net") + b".\r\n"), 250, "2.0.0")
    c.close()
    new = sorted(set(srv.queue_ids()) - q0)
    assert len(new) == 1, new
    env = srv.queue_show(new[0])
    assert env["from"] == "alice@localhost"
    assert env["ret"].upper() == "HDRS"
    assert env["envid"] == "QQ+314159"
    rc = {r["address"]: r for r in env["recipients"]}
    assert sorted(rc) == ["r1@example.net", "r2@example.net", "r3@example.net"]
    assert notify(rc["r1@example.net"]) == {"SUCCESS", "FAILURE"}
    assert rc["r1@example.net"]["orcpt"] == "rfc822;r1+x@example.net"
    assert notify(rc["r2@example.net"]) == {"NEVER"}
    assert notify(rc["r3@example.net"]) == {"DELAY"}
    assert not rc["r2@example.net"].get("orcpt")
    assert env["auth_user"] == "alice"
    srv.queue_delete(new[0])


# ---- storage ----

def test_one_message_many_users_stored_once(srv):
    before = {u: count(srv, u) for u in ("alice", "bob", "carol")}
    msg = sample_message("hardlinks")
    with smtplib.SMTP("127.0.0.1", srv.port, local_hostname=CLIENT, timeout=20) as s:
        s.sendmail("sender@example.org", ["alice@localhost", "bob@localhost", "carol@localhost"],
                   msg)
    paths = [delivered(srv, u, before[u]) for u in ("alice", "bob", "carol")]
    st = [os.stat(p) for p in paths]
    assert len({(s.st_dev, s.st_ino) for s in st}) == 1, "stored %d times" % len(
        {s.st_ino for s in st})
    assert st[0].st_nlink == 3          # the three mailboxes, nothing left in the spool
    assert body_of(paths[0]) == lf(msg)
    assert srv.spool_files() == []


def test_alias_expansion(srv):
    na, nb, nc = count(srv, "alice"), count(srv, "bob"), count(srv, "carol")
    with smtplib.SMTP("127.0.0.1", srv.port, local_hostname=CLIENT, timeout=20) as s:
        s.sendmail("sender@example.org", ["sales@localhost"], message("to sales"))
        s.sendmail("sender@example.org", ["team@example.test"], message("to team"))
    assert count(srv, "alice") == na + 2 and count(srv, "bob") == nb + 1
    assert count(srv, "carol") == nc + 1


def test_postmaster_mailbox(srv):
    n = count(srv, "postmaster")
    with smtplib.SMTP("127.0.0.1", srv.port, local_hostname=CLIENT, timeout=20) as s:
        s.sendmail("sender@example.org", ["postmaster@localhost"], message("hi postmaster"))
    assert delivered(srv, "postmaster", n)


def test_mutt_reads_the_maildir(srv, tmp_path):
    """mutt (in a pseudo-terminal, driven by a push macro) opens the
    mailbox, lists the message and pipes it out exactly as stored."""
    if shutil.which("mutt") is None:
        pytest.skip("mutt is not installed")
    pexpect = pytest.importorskip("pexpect")
    n = count(srv, "frank")
    msg = sample_message("for mutt")
    with smtplib.SMTP("127.0.0.1", srv.port, local_hostname=CLIENT, timeout=20) as s:
        s.sendmail("sender@example.org", ["frank@localhost"], msg)
    path = delivered(srv, "frank", n)
    out = os.path.join(str(tmp_path), "piped.eml")
    env = dict(os.environ, HOME=str(tmp_path), TERM="xterm")
    # a folder that exists, or mutt asks first whether to make ~/Mail
    p = pexpect.spawn("mutt", ["-n", "-F", "/dev/null", "-R", "-f", srv.mailbox("frank"),
                               "-e", "set folder=%s mbox_type=Maildir" % srv.mailbox("frank"),
                               "-e", "set pipe_decode=no wait_key=no",
                               "-e", 'push "<pipe-message>cat > %s<Enter><exit>"' % out],
                      env=env, timeout=30, dimensions=(40, 200))
    p.expect(pexpect.EOF)
    screen = p.before.decode("utf-8", "replace")
    p.close()
    assert p.exitstatus == 0, screen[-2000:]
    assert "for mutt" in screen and "Msgs:%d" % (n + 1) in screen, screen[-2000:]
    assert read(out) == read(path)


def test_smtp_source_load(srv):
    """Postfix's load generator: 10 sessions, 200 messages of 2 KB, all
    stored."""
    tool = shutil.which("smtp-source") or (
        "/usr/sbin/smtp-source" if os.access("/usr/sbin/smtp-source", os.X_OK) else None)
    if tool is None:
        pytest.skip("smtp-source (Debian package postfix) is not installed")
    srv.add_user("loadtest")
    p = subprocess.run([tool, "-s", "10", "-m", "200", "-l", "2048", "-f", "sender@example.org",
                        "-t", "loadtest@localhost", "-M", CLIENT, "127.0.0.1:%d" % srv.port],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    assert p.returncode == 0, p.stdout.decode(errors="replace")
    files = srv.new_files("loadtest")
    assert len(files) == 200
    for path in files:
        data = body_of(path)
        assert b"\r" not in data and len(data) >= 2048
    assert srv.spool_files() == []

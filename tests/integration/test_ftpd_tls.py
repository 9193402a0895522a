"""FTPS (RFC 4217): explicit AUTH TLS with PBSZ/PROT, implicit FTPS, the
data connection bound to the control connection's TLS session (522
otherwise, saying why), ALPN, TLS required for logins or data, and
commands pipelined before AUTH TLS, which are never executed."""
import ftplib
import io
import os
import socket
import ssl

import pytest

from conftest import ROOT, free_port, run, server
from ftpd_env import PASSWORD, Ftpd, cmd, pasv_port, raw, reply, tls_context


@pytest.fixture(scope="module")
def loose(tmp_path_factory):
    """Session reuse off: for clients that cannot resume (Python's FTP_TLS)."""
    s = Ftpd(tmp_path_factory.mktemp("ftpd-loose"), extra="tls_data_reuse = no\n",
             users=["alice", ("gina", "--class", "guest", "--expires", "7d", "--rights", "rw")])
    yield s
    s.stop()


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    """The default: reuse required; implicit FTPS on a second port."""
    s = Ftpd(tmp_path_factory.mktemp("ftpd-strict"), implicit=True, users=["alice"])
    yield s
    s.stop()


class ResumingFTP(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume a chosen TLS session (by
    default the control connection's, as curl and lftp do)."""
    data_session = None

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            session = self.data_session or self.sock.session
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=session)
        return conn, size


def resuming(srv, user="alice", ctx=None):
    f = ResumingFTP(context=ctx or tls_context())
    f.connect("127.0.0.1", srv.port, timeout=20)
    f.auth()
    f.login(user, PASSWORD)
    f.prot_p()
    return f


@pytest.mark.parametrize("who", ["anonymous", "alice", "gina"])
def test_ftp_tls_prot_p_logins(loose, who):
    pw = "me@example.org" if who == "anonymous" else PASSWORD
    f = loose.ftps(who, pw)
    assert f.sock.version() in ("TLSv1.3", "TLSv1.2")
    if who == "anonymous":
        assert "/pub/hello.txt" in f.nlst("/pub")
        b = io.BytesIO()
        f.retrbinary("RETR /pub/hello.txt", b.write)
        assert b.getvalue() == b"hello, world\n"
    else:
        f.mkd("tls")
        f.cwd("tls")
        assert f.pwd() == "/tls"
        data = os.urandom(250000)
        f.storbinary("STOR a.bin", io.BytesIO(data))
        assert f.size("a.bin") == len(data)
        b = io.BytesIO()
        f.retrbinary("RETR a.bin", b.write)
        assert b.getvalue() == data
        f.storlines("STOR t.txt", io.BytesIO(b"x\r\ny\r\n"))
        lines = []
        f.retrlines("RETR t.txt", lines.append)
        assert lines == ["x", "y"]
        listing = []
        f.dir(listing.append)
        assert any(l.endswith(" a.bin") for l in listing)
        assert dict(f.mlsd())["a.bin"]["size"] == str(len(data))
        f.rename("a.bin", "b.bin")
        assert sorted(f.nlst()) == ["b.bin", "t.txt"]
        f.delete("b.bin")
        f.delete("t.txt")
        f.cwd("/")
        f.rmd("tls")
    f.quit()


def test_ftp_tls_rest_resume(loose):
    data = os.urandom(120000)
    f = loose.ftps("alice", PASSWORD)
    f.voidcmd("TYPE I")
    conn = f.transfercmd("STOR cut.bin")
    conn.sendall(data[:40000])
    conn.unwrap().close()
    f.voidresp()
    have = f.size("cut.bin")
    f.storbinary("STOR cut.bin", io.BytesIO(data[have:]), rest=have)
    b = io.BytesIO()
    f.retrbinary("RETR cut.bin", b.write, rest=1000)
    assert b.getvalue() == data[1000:]
    f.delete("cut.bin")
    f.quit()


REUSE_REFUSED = ("522 TLS session reuse required (tls_data_reuse): the data connection did "
                 "not resume the control connection's TLS session; use a client that resumes "
                 "it (curl, lftp).")


@pytest.mark.parametrize("what", ["upload", "big upload", "download", "listing"])
def test_python_ftp_tls_sees_why_reuse_refused(strict, what):
    # Python's FTP_TLS cannot resume: whatever it does, it reads the 522
    # that names the setting, not an SSLEOFError or a reset, and the
    # session goes on in step.
    with open(os.path.join(strict.homes["alice"], "d.bin"), "wb") as fh:
        fh.write(os.urandom(1 << 20))
    f = strict.ftps("alice", PASSWORD)
    with pytest.raises(ftplib.error_perm) as ei:
        if what == "upload":
            f.storbinary("STOR p.bin", io.BytesIO(b"hello\n"))
        elif what == "big upload":
            f.storbinary("STOR p.bin", io.BytesIO(os.urandom(3 << 20)))
        elif what == "download":
            f.retrbinary("RETR d.bin", io.BytesIO().write)
        else:
            f.nlst()
    assert str(ei.value) == REUSE_REFUSED
    assert f.voidcmd("NOOP") == "200 NOOP ok."
    assert not os.path.exists(os.path.join(strict.homes["alice"], "p.bin"))
    f.quit()


def test_example_config_works_with_python_ftp_tls(tmp_path):
    """`make run`'s config (examples/inetkit.conf, its addresses and paths
    moved into tmp_path) takes Python's FTP_TLS uploads and downloads."""
    port, ftp_port = free_port(), free_port()
    with open(os.path.join(ROOT, "examples", "inetkit.conf")) as fh:
        text = fh.read()
    moves = {"state_dir = ./var": "state_dir = %s" % (tmp_path / "var"),
             "skeleton = ./examples/var-skel":
                 "skeleton = %s" % os.path.join(ROOT, "examples", "var-skel"),
             "; user = nobody": "user = root ;",
             "listen = 127.0.0.1:2007": "listen = 127.0.0.1:%d" % port,
             "listen = 127.0.0.1:2121": "listen = 127.0.0.1:%d" % ftp_port,
             "implicit_tls_listen = 127.0.0.1:2990": "",
             "pasv_ports = 40000-40999": "",
             "xferlog = ./var/xferlog": "xferlog = %s" % (tmp_path / "xferlog")}
    for old, new in moves.items():
        assert old in text, old
        text = text.replace(old, new)
    conf = tmp_path / "inetkit.conf"
    conf.write_text(text)
    home = tmp_path / "alice"
    home.mkdir()
    run("user", "add", "alice", "--config", conf, "--home", home, "--password-stdin",
        input=PASSWORD + "\n", check=0)
    with server("serve", "--config", conf, port=ftp_port):
        f = ftplib.FTP_TLS(context=tls_context())
        f.connect("127.0.0.1", ftp_port, timeout=20)
        f.auth()
        f.login("alice", PASSWORD)
        f.prot_p()
        data = os.urandom(200000)
        assert f.storbinary("STOR up.bin", io.BytesIO(data)).startswith("226 ")
        b = io.BytesIO()
        f.retrbinary("RETR up.bin", b.write)
        assert b.getvalue() == data
        f.quit()
    assert (home / "up.bin").read_bytes() == data


def test_reuse_required_refuses_non_resuming_client(strict):
    f = strict.ftps("alice", PASSWORD)
    port = pasv_port(f.sendcmd("EPSV"))
    plain = socket.create_connection(("127.0.0.1", port), timeout=10)
    f.putcmd("NLST")
    assert f.getresp().startswith("150")
    d = tls_context().wrap_socket(plain)
    assert not d.session_reused
    try:
        assert d.recv(100) == b""        # no listing for a fresh session
    except (ssl.SSLError, OSError):
        pass
    d.close()
    with pytest.raises(ftplib.error_perm) as ei:
        f.getresp()
    assert str(ei.value) == REUSE_REFUSED
    assert f.voidcmd("NOOP").startswith("200")
    f.quit()


def test_reuse_required_resuming_client(strict):
    f = resuming(strict)
    data = os.urandom(100000)
    f.storbinary("STOR r.bin", io.BytesIO(data))
    b = io.BytesIO()
    f.retrbinary("RETR r.bin", b.write)
    assert b.getvalue() == data
    f.delete("r.bin")
    f.quit()


def test_reuse_of_another_sessions_ticket_refused(strict):
    ctx = tls_context()
    a = resuming(strict, ctx=ctx)
    a.nlst()                     # the control session has its tickets by now
    b = resuming(strict, ctx=ctx)
    b.data_session = a.sock.session
    with pytest.raises(ftplib.Error) as ei:
        b.nlst()
    # the other session's ticket is not honoured: a full handshake instead
    assert str(ei.value) == REUSE_REFUSED
    a.quit()
    b.close()


def test_curl_ssl_reqd_resumes(strict, tmp_path):
    url = strict.url("pub/", user="alice").replace("alice:%s@" % PASSWORD, "")
    out = strict.curl("--ssl-reqd", "-k", strict.url("pub/")).stdout.decode()
    assert "hello.txt" in out
    assert strict.curl("--ssl-reqd", "-k", strict.url("pub/hello.txt")).stdout == \
        b"hello, world\n"
    assert strict.curl("--ssl-reqd", "-k", "--tls-max", "1.2",
                       strict.url("pub/hello.txt")).stdout == b"hello, world\n"
    src = tmp_path / "c.bin"
    src.write_bytes(os.urandom(80000))
    strict.curl("--ssl-reqd", "-k", "-T", str(src), strict.url("c.bin", user="alice"))
    with open(os.path.join(strict.homes["alice"], "c.bin"), "rb") as fh:
        assert fh.read() == src.read_bytes()
    assert url


def test_tls_active_mode(strict):
    # the server connects out and is still the TLS server (RFC 4217 9);
    # lftp resumes the session there too (curl 7.88 cannot do active FTPS)
    p = strict.lftp("set ssl:verify-certificate no; set ftp:ssl-force yes; "
                    "set ftp:ssl-protect-data yes; set ftp:passive-mode no; "
                    "cat /pub/hello.txt")
    assert p.stdout == b"hello, world\n"
    assert "dir=out path=/pub/hello.txt bytes=13 " in strict.log()
    assert "tls=yes result=complete" in strict.log()


def test_implicit_ftps(strict):
    u = strict.url("pub/hello.txt", scheme="ftps", port=strict.implicit_port)
    assert strict.curl("-k", u).stdout == b"hello, world\n"
    listing = strict.curl("-k", strict.url("pub/", scheme="ftps",
                                           port=strict.implicit_port)).stdout.decode()
    assert "hello.txt" in listing
    # the implicit port speaks TLS first: a plain FTP client hears no banner
    s = socket.create_connection(("127.0.0.1", strict.implicit_port), timeout=5)
    s.settimeout(1)
    try:
        assert s.recv(100) == b""
    except socket.timeout:
        pass
    s.close()


def test_commands_pipelined_before_auth_tls_are_dropped(strict):
    s, f = raw(strict.port)
    s.sendall(b"AUTH TLS\r\nUSER anonymous\r\nPASS x@y\r\n")
    assert reply(f) == "234 Proceed with TLS negotiation.\r\n"
    t = tls_context().wrap_socket(s)
    tf = t.makefile("rb")
    # had USER/PASS run after the upgrade, PWD would answer 257
    assert cmd(t, tf, "PWD").startswith("530 ")
    assert "starttls_discard" in strict.log()
    assert cmd(t, tf, "USER anonymous").startswith("331")
    assert cmd(t, tf, "PASS x@y").startswith("230")
    assert cmd(t, tf, "PWD").startswith('257 "/"')
    t.close()


def test_alpn_other_protocol_refused(strict):
    s, f = raw(strict.port)
    assert cmd(s, f, "AUTH TLS").startswith("234")
    ctx = tls_context()
    ctx.set_alpn_protocols(["http/1.1"])
    with pytest.raises(OSError):      # the handshake fails
        ctx.wrap_socket(s)
    s.close()
    s, f = raw(strict.port)
    assert cmd(s, f, "AUTH TLS").startswith("234")
    ctx = tls_context()
    ctx.set_alpn_protocols(["ftp"])
    t = ctx.wrap_socket(s)
    assert t.selected_alpn_protocol() == "ftp"
    t.close()


def test_tls_commands_and_replies(strict):
    s, f = raw(strict.port)
    assert cmd(s, f, "PBSZ 0").startswith("503 Send AUTH TLS first")
    assert cmd(s, f, "AUTH KERBEROS").startswith("504")
    assert cmd(s, f, "AUTH TLS").startswith("234")
    t = tls_context().wrap_socket(s)
    tf = t.makefile("rb")
    assert cmd(t, tf, "AUTH TLS") == "503 Already using TLS.\r\n"
    assert cmd(t, tf, "PBSZ 0") == "200 PBSZ=0\r\n"
    assert cmd(t, tf, "PROT S").startswith("536")
    assert cmd(t, tf, "PROT P") == "200 Protection level set to Private.\r\n"
    assert cmd(t, tf, "USER anonymous").startswith("331")
    assert cmd(t, tf, "PASS a@b").startswith("230")
    stat = cmd(t, tf, "STAT")
    assert "Control connection: TLS; data connections: TLS (PROT P)" in stat
    t.close()


@pytest.fixture(scope="module")
def required(tmp_path_factory):
    s = Ftpd(tmp_path_factory.mktemp("ftpd-req"),
             extra="require_tls_login = yes\nrequire_tls_data = yes\ntls_data_reuse = no\n")
    yield s
    s.stop()


def test_require_tls_login_and_data(required):
    s, f = raw(required.port)
    assert cmd(s, f, "USER anonymous") == \
        "530 This server requires TLS for logins: send AUTH TLS first.\r\n"
    s.close()
    t = required.ftps(prot_p=False)
    assert t.sendcmd("PBSZ 0") == "200 PBSZ=0"
    with pytest.raises(ftplib.error_perm, match="534 Data connections must use TLS here"):
        t.sendcmd("PROT C")
    t.sendcmd("PASV")
    with pytest.raises(ftplib.error_perm, match="521 Data connections must be encrypted"):
        t.sendcmd("RETR /pub/hello.txt")
    t.prot_p()
    assert "/pub/hello.txt" in t.nlst("/pub")
    t.quit()

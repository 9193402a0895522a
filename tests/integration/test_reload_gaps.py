"""SIGHUP outside serve, and udp listen --workers:

- `inetkit ftpd --config FILE` re-reads FILE (checked whole first; an
  invalid one is logged with file:line and the running settings stay), new
  sessions get the new settings while open ones go on, and with --workers
  every worker reloads; with the quick options SIGHUP re-reads --cert/--key.
- `inetkit tcp listen --cert` re-reads the certificate files for new
  connections; open connections keep theirs.
- `inetkit udp listen --workers N`: N processes with SO_REUSEPORT sockets.

Clients are the real ones: ftplib, Python's ssl, openssl s_client, sockets."""
import ftplib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest

from conftest import BIN, free_port, run, wait_port
from ftpd_env import Ftpd, tls_context
from test_tcp import pki  # noqa: F401 (a fixture: the test CA and its certificates)

LOCAL = "127.0.0.1"


def wait_for(cond, what, timeout=15):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what()
        time.sleep(0.05)


def der(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def use_pair(pki, name, cert, key):
    """Put pki's NAME pair at cert/key, the way an admin replaces them."""
    shutil.copyfile(pki / (name + ".pem"), cert)
    shutil.copyfile(pki / (name + ".key"), key)


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


# ---- inetkit ftpd --config ---------------------------------------------------

def reload_ftpd(srv, count):
    """SIGHUP, then wait for the count-th reload outcome in the log."""
    srv.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: len(re.findall(r"event=reload(ed|_failed) ", srv.log())) >= count,
             srv.log)


def rewrite(srv, old, new):
    with open(srv.conf) as f:
        text = f.read()
    assert old in text, text
    with open(srv.conf, "w") as f:
        f.write(text.replace(old, new))


def banner(srv):
    f = ftplib.FTP()
    try:
        return f.connect(LOCAL, srv.port, timeout=20)
    finally:
        f.close()


def logged_in_once_others_gone(srv):
    """A session, as soon as the closed ones no longer count (their end is
    seen by the server a moment after the client's)."""
    deadline = time.monotonic() + 15
    while True:
        try:
            return srv.ftp()
        except ftplib.error_temp:
            assert time.monotonic() < deadline, srv.log()
            time.sleep(0.05)


def test_ftpd_config_reload_new_sessions_get_it(tmp_path):
    other = tmp_path / "other-root"
    (other / "pub").mkdir(parents=True)
    (other / "pub" / "new.txt").write_text("from the new root\n")
    with Ftpd(tmp_path, extra="banner = first banner\nmax_sessions = 10\n") as srv:
        held = srv.ftp()
        assert "pub/hello.txt" in held.nlst("pub")
        rewrite(srv, "banner = first banner\n", "banner = second banner\n")
        rewrite(srv, "anonymous_root = %s\n" % srv.root, "anonymous_root = %s\n" % other)
        reload_ftpd(srv, 1)
        assert "event=reloaded config=%s service=ftp\n" % srv.conf in srv.log()
        assert "restart inetkit ftpd" not in srv.log()
        assert "second banner" in banner(srv)
        fresh = srv.ftp()
        assert fresh.nlst("pub") == ["pub/new.txt"]
        fresh.quit()
        # The open session keeps its root and settings.
        assert "pub/hello.txt" in held.nlst("pub")
        assert held.pwd() == "/"
        held.quit()
        # max_sessions = 1 from now on: one session in, the next refused.
        rewrite(srv, "max_sessions = 10\n", "max_sessions = 1\n")
        reload_ftpd(srv, 2)
        first = logged_in_once_others_gone(srv)
        with pytest.raises(ftplib.error_temp) as err:
            srv.ftp()
        assert str(err.value).startswith("421 Too many users")
        first.quit()
        assert srv.stop() == 0


def test_ftpd_config_reload_invalid_file_keeps_running(tmp_path):
    with Ftpd(tmp_path, extra="banner = first banner\n") as srv:
        held = srv.ftp()
        rewrite(srv, "banner = first banner\n", "banner = second banner\nmax_sessions = lots\n")
        with open(srv.conf) as f:
            line = f.read().splitlines().index("max_sessions = lots") + 1
        p = run("ftpd", "--config", srv.conf, "--check", check=2)
        why = p.stderr.split("inetkit ftpd: ", 1)[1].rstrip("\n")
        assert why.startswith("%s:%d: [ftp] max_sessions: " % (srv.conf, line)), why
        reload_ftpd(srv, 1)
        assert ("level=warning event=reload_failed config=%s reason=\"%s\" keeping=old\n"
                % (srv.conf, why)) in srv.log()
        assert "event=reloaded" not in srv.log()
        assert srv.proc.poll() is None
        assert "first banner" in banner(srv)
        assert "pub/hello.txt" in held.nlst("pub")
        # No [ftp] section at all: refused the same way.
        with open(srv.conf) as f:
            text = f.read()
        with open(srv.conf, "w") as f:
            f.write(text[:text.index("[ftp]")])
        reload_ftpd(srv, 2)
        assert ("event=reload_failed config=%s reason=\"%s has no [ftp] section; add one (see "
                "inetkit-ftpd(8))\" keeping=old\n" % (srv.conf, srv.conf)) in srv.log()
        # A [tls] certificate that does not load: refused, with its line.
        valid = text.replace("max_sessions = lots\n", "")
        with open(srv.conf, "w") as f:
            f.write(valid + "[tls]\ncert = %s\n" % (tmp_path / "gone.pem"))
        reload_ftpd(srv, 3)
        line = len(valid.splitlines()) + 2
        assert re.search(r"event=reload_failed config=%s reason=\"%s:%d: \[tls\] cert: .+\" "
                         r"keeping=old\n" % (re.escape(srv.conf), re.escape(srv.conf), line),
                         srv.log()), srv.log()
        assert "first banner" in banner(srv)
        # Valid again, with a new listen address: logged, not bound.
        with open(srv.conf, "w") as f:
            f.write(valid)
        extra = free_port()
        rewrite(srv, "listen = 127.0.0.1:%d\n" % srv.port,
                "listen = 127.0.0.1:%d, 127.0.0.1:%d\n" % (srv.port, extra))
        reload_ftpd(srv, 4)
        assert ("event=reload service=ftp reason=\"listen addresses changed: restart "
                "inetkit ftpd to apply them\"") in srv.log()
        assert "second banner" in banner(srv)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((LOCAL, extra), timeout=5).close()
        assert held.pwd() == "/"
        held.quit()
        assert srv.stop() == 0


def test_ftpd_config_reload_reaches_every_worker(tmp_path):
    with Ftpd(tmp_path, extra="banner = first banner\n", workers=2) as srv:
        wait_for(lambda: srv.log().count("event=worker_ready") >= 2, srv.log)
        assert len(children(srv.proc.pid)) == 2
        held = [srv.ftp() for _ in range(4)]
        rewrite(srv, "banner = first banner\n", "banner = second banner\n")
        srv.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: srv.log().count("event=reloaded config=") >= 2, srv.log)
        assert srv.log().count("event=reloaded config=") == 2
        # Whichever worker takes a connection, it has the new banner.
        for _ in range(6):
            assert "second banner" in banner(srv)
        for f in held:
            assert "pub/hello.txt" in f.nlst("pub")
            f.quit()
        # A worker restarted after the reload reads the file as the others did.
        os.kill(children(srv.proc.pid)[0], signal.SIGKILL)
        wait_for(lambda: srv.log().count("event=worker_ready") >= 3, srv.log)
        assert srv.log().count("event=reloaded config=") == 3
        for _ in range(6):
            assert "second banner" in banner(srv)
        assert srv.stop() == 0


class Proc:
    """An inetkit server with its output in files, read while it runs (two
    workers' lines may come at once: a file never hides one)."""

    def __init__(self, tmp_path, name, args, ready="event=listen"):
        self.out_path = tmp_path / (name + ".out")
        self.log_path = tmp_path / (name + ".log")
        self.proc = subprocess.Popen([BIN] + [str(a) for a in args],
                                     stdout=open(self.out_path, "wb"),
                                     stderr=open(self.log_path, "wb"))
        self.wait_log(ready)

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, text, count=1):
        def seen():
            assert self.proc.poll() is None, "exited %s:\n%s" % (self.proc.returncode,
                                                                 self.log())
            return self.log().count(text) >= count
        wait_for(seen, lambda: "no %r (%d times) in:\n%s" % (text, count, self.log()))

    def hup(self, text, count=1):
        """SIGHUP, then wait for the count-th line holding text."""
        self.proc.send_signal(signal.SIGHUP)
        self.wait_log(text, count)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


class QuickFtpd(Proc):
    """`inetkit ftpd` with the quick options."""

    def __init__(self, tmp_path, *args):
        self.port = free_port()
        (tmp_path / "root").mkdir(exist_ok=True)
        # Its own state directory: no accounts, no pair that serve made.
        super().__init__(tmp_path, "ftpd", ["ftpd", "--root", tmp_path / "root",
                                            "--listen", "%s:%d" % (LOCAL, self.port),
                                            "--state-dir", tmp_path / "state",
                                            "--user", "root"] + list(args))
        wait_port(self.port, proc=self.proc)

    def ftps(self):
        f = ftplib.FTP_TLS(context=tls_context(), timeout=20)
        f.connect(LOCAL, self.port)
        f.auth()
        return f


def test_ftpd_quick_reload_rereads_certificate(tmp_path, pki):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    use_pair(pki, "good", cert, key)
    srv = QuickFtpd(tmp_path, "--cert", cert, "--key", key)
    try:
        held = srv.ftps()
        assert held.sock.getpeercert(binary_form=True) == der(cert)
        held.login()
        use_pair(pki, "wrong", cert, key)
        srv.hup("event=reloaded")
        assert "event=reloaded cert=%s key=%s service=ftp\n" % (cert, key) in srv.log()
        fresh = srv.ftps()
        assert fresh.sock.getpeercert(binary_form=True) == der(pki / "wrong.pem")
        fresh.login()
        fresh.quit()
        assert held.pwd() == "/"
        held.quit()
        # A certificate that does not load: logged, and the last one stays.
        cert.write_text("not a certificate\n")
        srv.hup("event=reload_failed")
        assert re.search(r"level=warning event=reload_failed cert=%s key=%s reason=\".+\" "
                         r"keeping=old\n" % (re.escape(str(cert)), re.escape(str(key))),
                         srv.log()), srv.log()
        again = srv.ftps()
        assert again.sock.getpeercert(binary_form=True) == der(pki / "wrong.pem")
        again.close()
    finally:
        assert srv.stop() == 0


def test_ftpd_quick_reload_without_files(tmp_path):
    srv = QuickFtpd(tmp_path)
    try:
        held = srv.ftps()
        pinned = held.sock.getpeercert(binary_form=True)
        srv.hup("nothing to reload")
        assert ("level=notice event=reload service=ftp reason=\"nothing to reload: no --config "
                "file and no --cert file\"\n") in srv.log()
        fresh = srv.ftps()
        assert fresh.sock.getpeercert(binary_form=True) == pinned
        fresh.close()
        held.close()
    finally:
        assert srv.stop() == 0


def test_ftpd_help_mentions_reload():
    p = run("ftpd", "--help", check=0)
    assert "SIGHUP\nreloads: FILE again" in p.stdout


# ---- inetkit tcp listen --cert -----------------------------------------------

def tls_connect(port):
    raw = socket.create_connection((LOCAL, port), timeout=10)
    return tls_context().wrap_socket(raw, server_hostname="localhost")


def echo(sock, data):
    sock.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = sock.recv(4096)
        assert chunk, "closed after %r" % got
        got += chunk
    return got


def s_client_cert(port):
    """The certificate openssl s_client is shown, as DER."""
    p = subprocess.run(["openssl", "s_client", "-connect", "%s:%d" % (LOCAL, port)],
                       input=b"", stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    text = p.stdout.decode("utf-8", "replace")
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", text, re.S)
    assert m, text + p.stderr.decode("utf-8", "replace")
    return ssl.PEM_cert_to_DER_cert(m.group(0))


def tcp_listen(tmp_path, *args):
    port = free_port()
    srv = Proc(tmp_path, "tcp", ["tcp", "listen"] + list(args) + ["%s:%d" % (LOCAL, port)])
    srv.port = port
    return srv


def test_tcp_listen_reload_rereads_certificate(tmp_path, pki):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    use_pair(pki, "good", cert, key)
    srv = tcp_listen(tmp_path, "--cert", cert, "--key", key)
    try:
        held = tls_connect(srv.port)
        assert held.getpeercert(binary_form=True) == der(pki / "good.pem")
        assert echo(held, b"one\n") == b"one\n"
        use_pair(pki, "wrong", cert, key)
        srv.hup("event=reloaded")
        assert "level=info event=reloaded proto=tcp cert=%s key=%s\n" % (cert, key) in srv.log()
        assert s_client_cert(srv.port) == der(pki / "wrong.pem")
        with tls_connect(srv.port) as fresh:
            assert fresh.getpeercert(binary_form=True) == der(pki / "wrong.pem")
            assert echo(fresh, b"two\n") == b"two\n"
        # The open connection keeps its session and certificate.
        assert echo(held, b"three\n") == b"three\n"
        assert held.getpeercert(binary_form=True) == der(pki / "good.pem")
        # A key that does not match: logged, and the last pair stays.
        shutil.copyfile(pki / "good.key", key)
        srv.hup("event=reload_failed")
        assert re.search(r"level=warning event=reload_failed proto=tcp reason=\"\[tcp\] cert: "
                         r".+\" keeping=old\n", srv.log()), srv.log()
        assert s_client_cert(srv.port) == der(pki / "wrong.pem")
        assert echo(held, b"four\n") == b"four\n"
        held.close()
    finally:
        assert srv.stop() == 0


def test_tcp_listen_reload_reaches_every_worker(tmp_path, pki):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    use_pair(pki, "good", cert, key)
    srv = tcp_listen(tmp_path, "--cert", cert, "--key", key, "--workers", "2")
    try:
        srv.wait_log("event=worker_start", 2)
        held = [tls_connect(srv.port) for _ in range(4)]
        use_pair(pki, "wrong", cert, key)
        srv.hup("event=reloaded proto=tcp ", 2)
        for _ in range(6):
            with tls_connect(srv.port) as fresh:
                assert fresh.getpeercert(binary_form=True) == der(pki / "wrong.pem")
        for i, h in enumerate(held):
            assert echo(h, b"held %d\n" % i) == b"held %d\n" % i
            h.close()
        assert srv.log().count("event=reloaded") == 2
    finally:
        assert srv.stop() == 0


@pytest.mark.parametrize("tls", [True, False], ids=["self-signed", "plain"])
def test_tcp_listen_reload_without_files(tmp_path, tls):
    srv = tcp_listen(tmp_path, *(["--tls"] if tls else []))

    def connect():
        raw = socket.create_connection((LOCAL, srv.port), timeout=10)
        return tls_context().wrap_socket(raw, server_hostname="localhost") if tls else raw
    try:
        # At once after the listen line: held until the loop handles it.
        srv.hup("nothing to reload")
        assert ("level=notice event=reload proto=tcp reason=\"nothing to reload: no --cert "
                "file\"\n") in srv.log()
        with connect() as s:
            assert echo(s, b"before\n") == b"before\n"
            pinned = s.getpeercert(binary_form=True) if tls else None
        srv.hup("nothing to reload", 2)
        with connect() as s:
            assert echo(s, b"after\n") == b"after\n"
            if tls:
                assert s.getpeercert(binary_form=True) == pinned
    finally:
        assert srv.stop() == 0


def test_tcp_listen_help_mentions_reload():
    p = run("tcp", "listen", "--help", check=0)
    assert "SIGHUP reads the --cert and --key files again" in p.stdout


# ---- inetkit udp listen --workers --------------------------------------------

def udp_listen(tmp_path, *args):
    port = free_port(kind=socket.SOCK_DGRAM)
    srv = Proc(tmp_path, "udp", ["udp", "listen"] + list(args) + ["%s:%d" % (LOCAL, port)])
    srv.port = port
    return srv


def test_udp_listen_workers_spread_and_stop(tmp_path):
    srv = udp_listen(tmp_path, "--workers", "2", "--echo")
    socks = []
    try:
        srv.wait_log("event=worker_start", 2)
        workers = children(srv.pid)
        # The process tree: the supervisor and its two workers.
        assert len(workers) == 2
        for pid in workers:
            with open("/proc/%d/status" % pid) as f:
                assert "PPid:\t%d\n" % srv.pid in f.read()
        # Many source sockets: the kernel spreads them over the workers
        # (by address and port); each gets its own datagram back.
        for i in range(64):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(10)
            s.bind((LOCAL, 0))
            socks.append(s)
            s.sendto(b"datagram %d" % i, (LOCAL, srv.port))
        for i, s in enumerate(socks):
            data, peer = s.recvfrom(2048)
            assert (data, peer) == (b"datagram %d" % i, (LOCAL, srv.port))
    finally:
        for s in socks:
            s.close()
        code = srv.stop()
    log = srv.log()
    assert code == 0, log
    for pid in workers:
        assert not os.path.exists("/proc/%d" % pid), log
    assert "event=listen proto=udp addr=%s:%d mode=echo workers=2\n" % (LOCAL, srv.port) in log
    # Each worker counted its own share: both had some, 64 in all.
    counts = [int(n) for n in re.findall(r"event=udp_stats proto=udp datagrams=(\d+) ", log)]
    assert len(counts) == 2 and sum(counts) == 64 and min(counts) > 0, log


def test_udp_listen_workers_zero_is_this_process(tmp_path):
    srv = udp_listen(tmp_path, "--workers", "0")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(10)
            s.sendto(b"ping", (LOCAL, srv.port))
            assert s.recvfrom(2048)[0] == b"ping"
        assert children(srv.pid) == []
    finally:
        assert srv.stop() == 0
    assert "event=udp_stats proto=udp datagrams=1 " in srv.log()


@pytest.mark.parametrize("value", ["x", "257", "-1"])
def test_udp_listen_bad_workers(value):
    p = run("udp", "listen", "--workers", value, "127.0.0.1:9", check=2)
    assert p.stderr == ("inetkit udp: --workers '%s' must be a number from 0 to 256\n"
                        "Try 'inetkit udp --help'.\n" % value)


def test_udp_listen_help_and_manual_show_workers():
    p = run("udp", "listen", "--help", check=0)
    assert "  --workers N     N processes sharing the port (SO_REUSEPORT" in p.stdout
    p = run("help", "udp", env={"MANWIDTH": "80"}, check=0)
    assert "--workers N" in p.stdout

"""`inetkit serve`: config checking with file:line errors, start-up (state
directory, skeleton, self-signed pair, privilege drop), the tcp and udp echo
services on their ports, worker restart after kill -9, graceful SIGTERM,
SIGHUP reload (a changed value takes effect, an open connection survives,
an invalid new file is refused; tcp-echo, udp-echo and ftp take their new
settings and certificates for new sessions only)."""
import ftplib
import os
import pwd
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import BIN, ROOT, free_port, run, wait_port

ENV = {"TZ": "UTC", "NO_COLOR": "1"}


def conf_text(state, port, workers=1, level="info", extra=""):
    return ("[serve]\nstate_dir = %s\nworkers = %d\nlog_level = %s\ngrace = 1s\nuser = root\n"
            "[accounts]\nfailure_delay = 0\n"
            "[tcp-echo]\nlisten = 127.0.0.1:%d\n"
            "[udp-echo]\nlisten = 127.0.0.1:%d\n%s" % (state, workers, level, port, port, extra))


class Serve:
    """inetkit serve (or cmd, e.g. ftpd) with its output in files (read
    while it runs)."""

    def __init__(self, conf, port, cwd=None, cmd="serve"):
        d = os.path.dirname(str(conf))
        self.out_path = os.path.join(d, "serve.out")
        self.err_path = os.path.join(d, "serve.err")
        e = dict(os.environ)
        e.update(ENV)
        self.proc = subprocess.Popen([BIN, cmd, "--config", str(conf)],
                                     stdout=open(self.out_path, "wb"),
                                     stderr=open(self.err_path, "wb"), env=e, cwd=cwd)
        wait_port(port, proc=self.proc)

    def log(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def out(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def wait_log(self, text, count=1, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log().count(text) >= count:
                return
            assert self.proc.poll() is None, "serve exited:\n" + self.log()
            time.sleep(0.05)
        raise AssertionError("no %r in the log:\n%s" % (text, self.log()))

    def workers(self):
        try:
            with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                return [int(x) for x in f.read().split()]
        except FileNotFoundError:
            return []

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


@pytest.fixture
def serve_proc():
    started = []

    def start(conf, port, cwd=None, cmd="serve"):
        s = Serve(conf, port, cwd, cmd)
        started.append(s)
        return s
    yield start
    for s in started:
        if s.proc.poll() is None:
            s.stop()


def echo_tcp(port, data=b"hello\n", sock=None):
    own = sock is None
    if own:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        sock.sendall(data)
        got = b""
        while len(got) < len(data):
            chunk = sock.recv(4096)
            if not chunk:
                break
            got += chunk
        return got
    finally:
        if own:
            sock.close()


def echo_udp(port, data=b"ping"):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(data, ("127.0.0.1", port))
        return s.recvfrom(2048)[0]


def serve(*args, check=None):
    return run("serve", *args, check=check, env=ENV)


def usage(p, msg):
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stderr == "inetkit serve: %s\n" % msg, p.stderr


# --- the command line and config checking ------------------------------------

def test_help():
    p = serve("--help", check=0)
    assert p.stdout.startswith("Usage: inetkit serve [--config FILE] [--check | --defaults]\n")
    p = run("help", "serve", check=0)
    assert "inetkit-serve" in p.stdout or "INETKIT-SERVE" in p.stdout


def test_bad_arguments():
    p = serve("--frob")
    assert p.returncode == 2
    assert p.stderr == "inetkit serve: unknown option '--frob'\nTry 'inetkit serve --help'.\n"
    p = serve("--config")
    assert p.stderr == ("inetkit serve: option '--config' needs a value\n"
                        "Try 'inetkit serve --help'.\n")
    p = serve("extra")
    assert p.stderr == "inetkit serve: unexpected argument 'extra'\nTry 'inetkit serve --help'.\n"


def test_check_the_example_config():
    p = run("serve", "--check", "--config", os.path.join(ROOT, "examples", "inetkit.conf"),
            check=0)
    assert p.stdout.endswith("inetkit.conf: valid; 6 services enabled (tcp-echo, udp-echo, ftp, "
                             "smtp, pop3, imap)\n")


def test_check(tmp_path):
    conf = tmp_path / "ik.conf"
    conf.write_text(conf_text(tmp_path / "var", 9))
    p = serve("--check", "--config", conf, check=0)
    assert p.stdout == "%s: valid; 2 services enabled (tcp-echo, udp-echo)\n" % conf
    assert not (tmp_path / "var").exists()  # --check creates nothing


@pytest.mark.parametrize("text,line,msg", [
    ("[serve]\nworkers = many\n", 2,
     "[serve] workers: 'many' is not auto or a number from 0 (no worker processes) to 256"),
    ("[serve]\nlog_level = loud\n", 2,
     "[serve] log_level: 'loud' is not one of: error, warning, notice, info, debug"),
    ("[serve]\n\nlog = carrier-pigeon\n", 3,
     "[serve] log: 'carrier-pigeon' is not one of: stderr, syslog, none"),
    ("[serve]\ngrace = soon\n", 2,
     "[serve] grace: 'soon' is not a duration (examples: 30s, 5m, 2h, 250ms)"),
    ("[tls]\nkey = /x.pem\n", 2,
     "[tls] key: set without cert; give both, or neither for a self-signed certificate"),
    ("[accounts]\nlockout_time = forever\n", 2,
     "[accounts] lockout_time: 'forever' is not a duration (examples: 30s, 5m, 2h, 250ms)"),
    ("[tcp-echo]\nenabled = maybe\n", 2, "[tcp-echo] enabled: 'maybe' is not yes or no"),
    ("[udp-echo]\nmode = shout\n", 2, "[udp-echo] mode: 'shout' is not one of: echo, print"),
])
def test_bad_values_name_file_line_and_key(tmp_path, text, line, msg):
    conf = tmp_path / "bad.conf"
    conf.write_text(text)
    usage(serve("--check", "--config", conf), "%s:%d: %s" % (conf, line, msg))
    usage(serve("--config", conf), "%s:%d: %s" % (conf, line, msg))


def test_unknown_keys_and_sections(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("[serve]\nworkers = 1\n[tcp-echo]\nlisten = 127.0.0.1:9\nlistn = x\n")
    usage(serve("--check", "--config", conf), "%s:5: [tcp-echo] unknown key 'listn'; see "
          "inetkit.conf(5) for the keys of [tcp-echo]" % conf)
    conf.write_text("[serve]\nworkers = 1\n\n[gopher]\nport = 70\n")
    usage(serve("--check", "--config", conf),
          "%s:4: unknown section [gopher]; see inetkit.conf(5) for the sections" % conf)
    conf.write_text("[accounts]\nfailure_dely = 1s\n")
    usage(serve("--check", "--config", conf), "%s:2: [accounts] unknown key 'failure_dely'; see "
          "inetkit.conf(5) for the keys of [accounts]" % conf)


def test_missing_file_and_nothing_enabled(tmp_path):
    usage(serve("--config", tmp_path / "none.conf"),
          "cannot read config file %s: No such file or directory" % (tmp_path / "none.conf"))
    conf = tmp_path / "empty.conf"
    conf.write_text("[serve]\nstate_dir = %s\nuser = root\n[tcp-echo]\nenabled = no\n"
                    % (tmp_path / "v"))
    usage(serve("--config", conf), "%s: no service is enabled; add a section such as "
          "[tcp-echo] (see inetkit.conf(5))" % conf)
    p = serve("--check", "--config", conf, check=0)
    assert p.stdout == "%s: valid; 0 services enabled\n" % conf


def test_tls_files_are_checked(tmp_path):
    for name in ("a", "b"):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
                        "-days", "2", "-keyout", str(tmp_path / (name + ".key")),
                        "-out", str(tmp_path / (name + ".crt"))],
                       check=True, capture_output=True)
    conf = tmp_path / "ik.conf"
    conf.write_text("[serve]\nstate_dir = %s\nuser = root\n[tls]\ncert = %s\nkey = %s\n"
                    "[tcp-echo]\nlisten = 127.0.0.1:9\n"
                    % (tmp_path / "v", tmp_path / "a.crt", tmp_path / "a.key"))
    serve("--check", "--config", conf, check=0)
    conf.write_text("[serve]\nstate_dir = %s\nuser = root\n[tls]\ncert = %s\nkey = %s\n"
                    "[tcp-echo]\nlisten = 127.0.0.1:9\n"
                    % (tmp_path / "v", tmp_path / "a.crt", tmp_path / "b.key"))
    p = serve("--check", "--config", conf)
    assert p.returncode == 2
    assert p.stderr.startswith("inetkit serve: %s:5: [tls] cert: " % conf), p.stderr


def test_port_in_use(tmp_path):
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        s.listen()
        conf = tmp_path / "ik.conf"
        conf.write_text(conf_text(tmp_path / "var", port))
        p = serve("--config", conf)
    assert p.returncode == 1
    assert p.stderr.endswith(
        "inetkit serve: [tcp-echo]: cannot listen on 127.0.0.1:%d (tcp): address already in use; "
        "another program has this port (see: ss -lnp 'sport = :%d') or choose another port\n"
        % (port, port))


# --- running ------------------------------------------------------------------

def test_starts_answers_and_stops(tmp_path, serve_proc):
    port = free_port()
    conf = tmp_path / "ik.conf"
    skel = tmp_path / "skel"
    (skel / "ftp" / "pub").mkdir(parents=True)
    (skel / "ftp" / "pub" / "hello.txt").write_text("hello\n")
    conf.write_text(conf_text(tmp_path / "var", port, workers=2,
                              extra="").replace("grace = 1s\n",
                                                "grace = 1s\nskeleton = %s\n" % skel))
    s = serve_proc(conf, port)
    assert echo_tcp(port) == b"hello\n"
    assert echo_udp(port) == b"ping"
    out = s.out()
    assert out.startswith("inetkit serve ")
    assert ": 2 services, 2 workers, state in %s\n" % (tmp_path / "var") in out
    assert "try: inetkit tcp connect 127.0.0.1 %d\n" % port in out
    assert "try: inetkit udp send 127.0.0.1 %d hello\n" % port in out
    assert "accounts: inetkit user add NAME --config %s\n" % conf in out
    s.wait_log("event=worker_ready", 2)
    # The state directory, with the skeleton, the store and a self-signed pair.
    var = tmp_path / "var"
    assert (var / "ftp" / "pub" / "hello.txt").read_text() == "hello\n"
    assert (var / "accounts.db").exists()
    assert stat.S_IMODE(os.stat(var / "tls" / "key.pem").st_mode) == 0o600
    assert (var / "tls" / "cert.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert "event=login" not in s.log()
    # The store is usable by `user` at once.
    run("user", "add", "zoe", "--config", conf, "--password-stdin", input="zoe-pass1\n", check=0)
    assert s.stop() == 0
    log = s.log()
    assert "event=serve_exit code=0" in log
    assert "level=error" not in log


def test_restart_keeps_state_and_pair(tmp_path, serve_proc):
    port = free_port()
    conf = tmp_path / "ik.conf"
    conf.write_text(conf_text(tmp_path / "var", port))
    s = serve_proc(conf, port)
    s.wait_log("event=worker_ready")
    cert = (tmp_path / "var" / "tls" / "cert.pem").read_text()
    assert s.stop() == 0
    s = serve_proc(conf, port)
    s.wait_log("event=worker_ready")
    assert (tmp_path / "var" / "tls" / "cert.pem").read_text() == cert
    assert "tls_self_signed" not in s.log()
    assert s.stop() == 0


def test_worker_killed_is_restarted(tmp_path, serve_proc):
    port = free_port()
    conf = tmp_path / "ik.conf"
    conf.write_text(conf_text(tmp_path / "var", port, workers=1))
    s = serve_proc(conf, port)
    s.wait_log("event=worker_ready")
    assert echo_tcp(port) == b"hello\n"
    (victim,) = s.workers()
    os.kill(victim, signal.SIGKILL)
    s.wait_log("event=worker_restart")
    s.wait_log("event=worker_ready", 2)
    assert "pid=%d status=signal_9" % victim in s.log()
    (new,) = s.workers()
    assert new != victim
    # The service answers again.
    deadline = time.monotonic() + 10
    while True:
        try:
            assert echo_tcp(port) == b"hello\n"
            assert echo_udp(port) == b"ping"
            break
        except (OSError, AssertionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    assert s.stop() == 0


def test_sigterm_is_graceful(tmp_path, serve_proc):
    port = free_port()
    conf = tmp_path / "ik.conf"
    conf.write_text(conf_text(tmp_path / "var", port, workers=1))
    s = serve_proc(conf, port)
    s.wait_log("event=worker_ready")
    polite = socket.create_connection(("127.0.0.1", port), timeout=10)
    stubborn = socket.create_connection(("127.0.0.1", port), timeout=10)
    assert echo_tcp(port, b"x\n", sock=polite) == b"x\n"
    assert echo_tcp(port, b"y\n", sock=stubborn) == b"y\n"
    s.proc.send_signal(signal.SIGTERM)
    # Sessions are ended cleanly (the service half-closes them) ...
    assert polite.recv(16) == b""
    polite.close()
    assert stubborn.recv(16) == b""
    # ... and one whose client never closes is cut when the grace is over.
    assert s.proc.wait(timeout=15) == 0
    stubborn.close()
    log = s.log()
    assert "event=workers_stop name=serve signal=15" in log
    assert "event=stop index=0 signal=15 grace_ms=1000" in log
    assert 'reason="grace period over: closing the rest"' in log
    assert "event=serve_exit code=0" in log
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_sigterm_without_sessions_stops_at_once(tmp_path, serve_proc):
    port = free_port()
    conf = tmp_path / "ik.conf"
    conf.write_text(conf_text(tmp_path / "var", port, workers=2).replace("grace = 1s",
                                                                           "grace = 1h"))
    s = serve_proc(conf, port)
    s.wait_log("event=worker_ready", 2)
    assert echo_tcp(port) == b"hello\n"
    # With no session open, nobody waits for the (long) grace period.
    assert s.stop(signal.SIGTERM, timeout=20) == 0
    assert "grace period over" not in s.log()


def test_in_process_mode(tmp_path, serve_proc):
    port = free_port()
    conf = tmp_path / "ik.conf"
    conf.write_text(conf_text(tmp_path / "var", port, workers=0))
    s = serve_proc(conf, port)
    assert echo_tcp(port) == b"hello\n"
    assert s.workers() == []
    assert ": 2 services, 0 workers, " in s.out()
    assert s.stop() == 0


def test_sighup_reloads_and_keeps_connections(tmp_path, serve_proc):
    port = free_port()
    conf = tmp_path / "ik.conf"
    conf.write_text(conf_text(tmp_path / "var", port, workers=2, level="warning"))
    s = serve_proc(conf, port)
    held = socket.create_connection(("127.0.0.1", port), timeout=5)
    assert echo_tcp(port, b"before\n", sock=held) == b"before\n"
    assert "event=worker_ready" not in s.log()  # info is below "warning"
    # A changed value: log_level = info, which the reload itself then shows.
    conf.write_text(conf_text(tmp_path / "var", port, workers=2, level="info"))
    s.proc.send_signal(signal.SIGHUP)
    s.wait_log("event=reloaded config=%s" % conf, 2)
    assert echo_tcp(port, b"during\n", sock=held) == b"during\n"
    assert echo_tcp(port) == b"hello\n"
    assert echo_udp(port) == b"ping"
    # An invalid new file is refused; the running config stays.
    conf.write_text(conf_text(tmp_path / "var", port, workers=2, level="info",
                              extra="[accounts2]\nx = 1\n"))
    s.proc.send_signal(signal.SIGHUP)
    s.wait_log("event=reload_failed", 2)
    assert ("event=reload_failed config=%s reason=\"%s:13: unknown section [accounts2]; see "
            "inetkit.conf(5) for the sections\" keeping=old" % (conf, conf)) in s.log()
    assert echo_tcp(port, b"after\n", sock=held) == b"after\n"
    held.close()
    assert echo_tcp(port) == b"hello\n"
    assert s.stop() == 0


def test_restarted_worker_follows_a_reload(tmp_path, serve_proc):
    port = free_port()
    conf = tmp_path / "ik.conf"
    conf.write_text(conf_text(tmp_path / "var", port, workers=1, level="warning"))
    s = serve_proc(conf, port)
    conf.write_text(conf_text(tmp_path / "var", port, workers=1, level="info"))
    s.proc.send_signal(signal.SIGHUP)
    s.wait_log("event=reloaded")
    (victim,) = s.workers()
    os.kill(victim, signal.SIGKILL)
    # The new worker logs at info too: it read the reloaded file.
    s.wait_log("event=worker_ready")
    assert s.stop() == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_drops_privileges_as_root(serve_proc):
    nobody = pwd.getpwnam("nobody")
    base = tempfile.mkdtemp(prefix="ik-serve-")
    try:
        os.chmod(base, 0o755)  # nobody must reach the state directory
        port = free_port()
        conf = os.path.join(base, "ik.conf")
        with open(conf, "w") as f:
            f.write(conf_text(os.path.join(base, "var"), port).replace("user = root",
                                                                       "user = nobody"))
        os.chmod(conf, 0o644)
        s = serve_proc(conf, port)
        s.wait_log("event=worker_ready")
        assert echo_tcp(port) == b"hello\n"
        assert "event=privileges user=nobody uid=%d" % nobody.pw_uid in s.log()
        var = os.path.join(base, "var")
        for p in (var, os.path.join(var, "accounts.db"), os.path.join(var, "tls", "key.pem")):
            assert os.stat(p).st_uid == nobody.pw_uid, p
        for pid in [s.proc.pid] + s.workers():
            with open("/proc/%d/status" % pid) as f:
                uids = [l for l in f if l.startswith("Uid:")][0].split()[1:]
            assert uids == [str(nobody.pw_uid)] * 4, (pid, uids)
        # An account added by root afterwards stays usable by the service user.
        run("user", "add", "root-made", "--config", conf, "--password-stdin",
            input="password1\n", check=0)
        assert os.stat(os.path.join(var, "accounts.db")).st_uid == nobody.pw_uid
        assert os.stat(os.path.join(var, "home", "root-made")).st_uid == nobody.pw_uid
        assert s.stop() == 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_unknown_user_as_root(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    conf = tmp_path / "ik.conf"
    conf.write_text(conf_text(tmp_path / "var", 9).replace("user = root", "user = no-such-user-x"))
    usage(serve("--check", "--config", conf),
          "%s:6: [serve] user: no user 'no-such-user-x' on this system; create it "
          "(useradd --system no-such-user-x) or name another" % conf)


# --- reload of the services' own settings -------------------------------------

def make_cert(path):
    """A self-signed P-256 pair in path.crt / path.key; returns the DER."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost", "-days", "2",
                    "-keyout", "%s.key" % path, "-out", "%s.crt" % path],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open("%s.crt" % path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def tls_client():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def tls_connect(port):
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return tls_client().wrap_socket(raw, server_hostname="localhost")


def tcp_conf(state, port, tcp, extra=""):
    return ("[serve]\nstate_dir = %s\nworkers = 1\nlog_level = info\ngrace = 1s\nuser = root\n"
            "[accounts]\nfailure_delay = 0\n"
            "[tcp-echo]\nlisten = 127.0.0.1:%d\n%s"
            "[udp-echo]\nlisten = 127.0.0.1:%d\n%s" % (state, port, tcp, port, extra))


def reload(s, conf, text, count):
    conf.write_text(text)
    s.proc.send_signal(signal.SIGHUP)
    s.wait_log("event=reloaded config=%s" % conf, count)


def test_reload_tcp_echo_certificate_and_mode(tmp_path, serve_proc):
    a = make_cert(tmp_path / "a")
    b = make_cert(tmp_path / "b")
    port = free_port()
    conf = tmp_path / "ik.conf"
    tls = "tls = yes\ncert = %s.crt\nkey = %s.key\n"
    conf.write_text(tcp_conf(tmp_path / "var", port, tls % (tmp_path / "a", tmp_path / "a")))
    s = serve_proc(conf, port)
    s.wait_log("event=worker_ready")
    held = tls_connect(port)
    assert held.getpeercert(binary_form=True) == a
    assert echo_tcp(port, b"one\n", sock=held) == b"one\n"
    # New certificate files: new connections get them, the open one goes on.
    reload(s, conf, tcp_conf(tmp_path / "var", port, tls % (tmp_path / "b", tmp_path / "b")), 1)
    with tls_connect(port) as fresh:
        assert fresh.getpeercert(binary_form=True) == b
        assert echo_tcp(port, b"two\n", sock=fresh) == b"two\n"
    assert echo_tcp(port, b"three\n", sock=held) == b"three\n"
    # A certificate that cannot be read: logged, and B is still served.
    reload(s, conf, tcp_conf(tmp_path / "var", port,
                             tls % (tmp_path / "gone", tmp_path / "gone")), 2)
    log = s.log()
    assert ("event=reload_failed service=tcp-echo reason=\"[tcp-echo] cert: cannot load the "
            "certificate '%s.crt': " % (tmp_path / "gone")) in log
    assert "(give a PEM file, leaf certificate first)\"\n" in log
    assert "event=reloaded config=%s services=1\n" % conf in log
    with tls_connect(port) as fresh:
        assert fresh.getpeercert(binary_form=True) == b
        assert echo_tcp(port, b"four\n", sock=fresh) == b"four\n"
    # Discard without TLS from now on; the open connection still echoes over TLS.
    reload(s, conf, tcp_conf(tmp_path / "var", port, "mode = discard\n"), 3)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as plain:
        plain.sendall(b"into the void\n")
        plain.shutdown(socket.SHUT_WR)
        assert plain.recv(4096) == b""  # discarded, then closed at our EOF
    assert echo_tcp(port, b"five\n", sock=held) == b"five\n"
    held.close()
    # Same listen addresses all along: nothing to restart for.
    assert "restart serve" not in s.log()
    assert s.stop() == 0


def test_reload_tcp_echo_chat_switch_waits_for_connections(tmp_path, serve_proc):
    port = free_port()
    conf = tmp_path / "ik.conf"
    conf.write_text(tcp_conf(tmp_path / "var", port, ""))
    s = serve_proc(conf, port)
    s.wait_log("event=worker_ready")
    held = socket.create_connection(("127.0.0.1", port), timeout=5)
    assert echo_tcp(port, b"x\n", sock=held) == b"x\n"
    reload(s, conf, tcp_conf(tmp_path / "var", port, "mode = chat\n"), 1)
    assert ("event=reload_failed service=tcp-echo reason=\"[tcp-echo] mode: cannot switch "
            "from echo to chat while 1 connections are open; reload again once they have "
            "closed, or restart serve\"") in s.log()
    assert echo_tcp(port, b"y\n", sock=held) == b"y\n"
    held.close()
    assert s.stop() == 0


def test_reload_udp_echo_mode_and_listen(tmp_path, serve_proc):
    port = free_port()
    other = free_port(kind=socket.SOCK_DGRAM)
    conf = tmp_path / "ik.conf"
    conf.write_text(tcp_conf(tmp_path / "var", port, ""))
    s = serve_proc(conf, port)
    s.wait_log("event=worker_ready")
    assert echo_udp(port) == b"ping"
    # Print instead of echo, from the next datagram on.
    reload(s, conf, tcp_conf(tmp_path / "var", port, "", "mode = print\n"), 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.sendto(b"printed", ("127.0.0.1", port))
        deadline = time.monotonic() + 10
        while "] printed\n" not in s.out():
            assert time.monotonic() < deadline, s.out()
            time.sleep(0.05)
    assert "restart serve" not in s.log()
    # A new listen address is not bound: the log says so, the service goes on.
    reload(s, conf, tcp_conf(tmp_path / "var", port, "").replace(
        "[udp-echo]\nlisten = 127.0.0.1:%d\n" % port,
        "[udp-echo]\nlisten = 127.0.0.1:%d, 127.0.0.1:%d\n" % (port, other)), 2)
    assert ("event=reload service=udp-echo reason=\"listen addresses changed: restart serve "
            "to apply them\"") in s.log()
    assert "service=tcp-echo reason=\"listen" not in s.log()
    assert echo_udp(port) == b"ping"
    assert s.stop() == 0


def ftp_conf(state, port, ftp_port, cert, ftp):
    return ("[serve]\nstate_dir = %s\nskeleton = %s\nworkers = 1\nlog_level = info\n"
            "grace = 1s\nuser = root\n[tls]\ncert = %s.crt\nkey = %s.key\n"
            "[accounts]\nfailure_delay = 0\n"
            "[tcp-echo]\nlisten = 127.0.0.1:%d\n"
            "[ftp]\nlisten = 127.0.0.1:%d\n%s"
            % (state, os.path.join(ROOT, "examples", "var-skel"), cert, cert, port, ftp_port,
               ftp))


def test_reload_ftp_settings_and_certificate(tmp_path, serve_proc):
    a = make_cert(tmp_path / "a")
    b = make_cert(tmp_path / "b")
    port, ftp_port = free_port(), free_port()
    conf = tmp_path / "ik.conf"
    conf.write_text(ftp_conf(tmp_path / "var", port, ftp_port, tmp_path / "a",
                             "anonymous = yes\nbanner = first banner\n"))
    s = serve_proc(conf, port)
    wait_port(ftp_port, proc=s.proc)
    s.wait_log("event=worker_ready")
    held = ftplib.FTP_TLS(context=tls_client(), timeout=10)
    assert "first banner" in held.connect("127.0.0.1", ftp_port)
    held.auth()
    assert held.sock.getpeercert(binary_form=True) == a
    held.login("anonymous", "me@example.org")
    assert "pub/hello.txt" in held.nlst("pub")
    lingering = ftplib.FTP(timeout=10)
    lingering.connect("127.0.0.1", ftp_port)
    lingering.login("anonymous", "me@example.org")
    # Anonymous off, another banner, certificate B: for new sessions only.
    reload(s, conf, ftp_conf(tmp_path / "var", port, ftp_port, tmp_path / "b",
                             "anonymous = no\nbanner = second banner\n"), 1)
    fresh = ftplib.FTP_TLS(context=tls_client(), timeout=10)
    assert "second banner" in fresh.connect("127.0.0.1", ftp_port)
    fresh.auth()
    assert fresh.sock.getpeercert(binary_form=True) == b
    with pytest.raises(ftplib.error_perm) as err:
        fresh.login("anonymous", "me@example.org")
    assert str(err.value).startswith("530")
    fresh.close()
    # The open session keeps its login, its settings and its TLS.
    assert "pub/hello.txt" in held.nlst("pub")
    assert held.pwd() == "/"
    # A [tls] certificate that cannot be read: the whole reload is refused.
    reload_count = s.log().count("event=reloaded")
    conf.write_text(ftp_conf(tmp_path / "var", port, ftp_port, tmp_path / "gone",
                             "anonymous = yes\nbanner = third banner\n"))
    s.proc.send_signal(signal.SIGHUP)
    s.wait_log("event=reload_failed config=%s" % conf)
    assert s.log().count("event=reloaded") == reload_count
    fresh = ftplib.FTP_TLS(context=tls_client(), timeout=10)
    assert "second banner" in fresh.connect("127.0.0.1", ftp_port)
    fresh.auth()
    assert fresh.sock.getpeercert(binary_form=True) == b
    fresh.close()
    held.quit()
    assert "restart serve" not in s.log()
    # A session of the old settings still open at SIGTERM is ended like any.
    assert s.stop() == 0
    assert lingering.getline().startswith("421 ")
    lingering.close()


# ---- serve --defaults ------------------------------------------------------

def parse_defaults(text):
    """[(section, key, value)] of `serve --defaults` output."""
    keys, sec = [], None
    for line in text.splitlines():
        if line.startswith("["):
            sec = line.strip("[]")
        elif line and not line.startswith(";"):
            key, _, value = line.partition("=")
            keys.append((sec, key.strip(), value.strip()))
    return keys


def test_defaults_is_a_valid_config_of_every_section(tmp_path):
    p = run("serve", "--defaults", check=0)
    keys = parse_defaults(p.stdout)
    sections = [s for s, _, _ in keys]
    for sec in ("serve", "tls", "accounts", "tcp-echo", "udp-echo", "ftp", "smtp", "pop3"):
        assert sec in sections
    assert len(set(keys)) == len(keys)                  # each key once
    assert ("ftp", "data_send_buffer", "4M") in keys
    assert ("ftp", "max_sessions", "2000") in keys
    assert ("tcp-echo", "listen", "127.0.0.1:2007") in keys
    assert ("accounts", "lockout_time", "15m") in keys
    conf = tmp_path / "defaults.conf"
    # (pytest's directory is root's alone: the service user stays root.)
    conf.write_text(p.stdout.replace("state_dir = /var/lib/inetkit",
                                     "state_dir = %s" % tmp_path)
                    .replace("user = nobody", "user = root"))
    p = run("serve", "--config", conf, "--check", check=0)
    assert p.stdout == ("%s: valid; 7 services enabled (tcp-echo, udp-echo, ftp, smtp, pop3, imap, metrics)\n"
                        % conf)


def test_defaults_describe_every_key():
    """Each key of --defaults comes under a one-line description comment."""
    text = run("serve", "--defaults", check=0).stdout
    lines = text.splitlines()
    undescribed = [line for prev, line in zip([""] + lines, lines)
                   if line and line[0] not in "[;" and not prev.startswith("; ")]
    assert undescribed == []
    assert max(len(line) for line in lines) < 200       # a config line's limit
    assert "; Sessions from one client address; 0: no limit\nmax_per_ip = 50\n" in text
    assert ("[tcp-echo]\n; Run this service\nenabled = yes\n; Addresses to listen on: "
            "HOST:PORT, [IPV6]:PORT, *:PORT or PORT\nlisten = 127.0.0.1:2007\n") in text


def test_every_key_is_in_the_config_manual():
    """The config reference lists every key the code reads."""
    import re
    with open(os.path.join(ROOT, "docs", "inetkit.conf.5")) as f:
        manual = f.read()
    keys = parse_defaults(run("serve", "--defaults", check=0).stdout)
    missing = ["[%s] %s" % (s, k) for s, k, _ in keys
               if not re.search(r"\b%s\b" % re.escape(k), manual)]
    assert missing == []


def test_unix_socket_listener_works_and_is_removed_at_exit(tmp_path, serve_proc):
    port = free_port()
    sock = str(tmp_path / "echo.sock")
    conf = tmp_path / "inetkit.conf"
    conf.write_text(conf_text(str(tmp_path / "state"), port).replace(
        "[tcp-echo]\nlisten = 127.0.0.1:%d\n" % port,
        "[tcp-echo]\nlisten = 127.0.0.1:%d, unix:%s\n" % (port, sock)))
    s = serve_proc(conf, port)
    assert stat.S_ISSOCK(os.stat(sock).st_mode)
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(10)
        c.connect(sock)
        c.sendall(b"over unix\n")
        assert c.recv(100) == b"over unix\n"
    assert s.stop() == 0
    assert not os.path.exists(sock)

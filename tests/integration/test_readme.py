"""Every command of README.md runs as written, in order, on a new machine.

The ```sh blocks are read from the README itself, so a command that stops
working (or a README line that never worked) fails here. Each line runs in
a scratch directory holding a copy of examples/ (the README's relative
paths and `serve --config examples/inetkit.conf` write only there), with
`inetkit` on PATH and HOME in the scratch directory.

- Servers (a line ending in `&`, `tcp listen`, `udp listen`, `ftpd`, `serve`
  without --check/--defaults) start in the background on the ports they
  name, stay up for the commands after them (as in a second terminal), and
  are stopped with SIGTERM when a later server wants the same port, and at
  the end; each must still be running then and exit 0.
- Interactive lines get the dialogue in INTERACTIVE, on a terminal.
- Every other line runs with `bash -c`, standard input empty, and must exit 0.
- EXCLUDED lines are not run; each says why.
"""
import configparser
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import BIN, ROOT, run, wait_port

PASSWORD = "readme-pass-1"

# Lines not run, with the reason.
EXCLUDED = {
    r"^make run\b": "the contract command itself (installs packages, runs in the foreground)",
    r"^make test\b": "the contract command itself (this test is part of it)",
    r"^dpkg-buildpackage\b": "builds the package: test_deb.py builds it in a copy of the tree",
    r"^apt install \.\./inetkit_": "installs into this machine: test_deb.py installs it in a throw-away root",
}

# Lines that talk to a user: (expect, send) pairs on a terminal, then the
# command must end with exit 0. None: expect nothing / send nothing; EOF:
# type Ctrl-D.
EOF = object()
INTERACTIVE = {
    r"^inetkit user add (?!.*--password-stdin)": [
        ("Password: ", PASSWORD), ("Password again: ", PASSWORD)],
    r"^inetkit ftp \w+ .*ftp://alice@": [("Password for alice@127.0.0.1: ", PASSWORD)],
    r"^inetkit ftp open ": [("ftp 127.0.0.1:/> ", "ls"), ("pub", None),
                            ("ftp 127.0.0.1:/> ", "bye")],
    r"^inetkit tcp connect 127\.0\.0\.1 7000\b": [(None, "hello"), (None, EOF), ("HELLO", None)],
    r"^curl -k pop3s://127\.0\.0\.1:2995/1 -u alice\b": [
        ("Enter host password for user 'alice':", PASSWORD), ("Subject: ", None)],
}


def readme_blocks():
    """The ```sh blocks of README.md: [[line, ...], ...]."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    return [b.splitlines() for b in re.findall(r"^```sh\n(.*?)^```$", text, re.S | re.M)]


def words(line):
    """The line without its comment, as argv; a trailing & kept as a word."""
    return shlex.split(line, comments=True)


def is_server(argv):
    if argv and argv[-1] == "&":
        return True
    if len(argv) < 2 or argv[0] != "inetkit":
        return False
    if argv[1] in ("tcp", "udp") and argv[2:3] in (["listen"], ["relay"]):
        return True
    if argv[1] in ("ftpd", "smtpd", "imapd"):
        return True
    return argv[1] == "serve" and not {"--check", "--defaults", "--help"} & set(argv)


def endpoint(text):
    """'127.0.0.1:7000' or '[::1]:7000' -> (host, port)."""
    m = re.fullmatch(r"\[([^]]+)\]:(\d+)|([^:]+):(\d+)", text)
    assert m, "cannot read a listen address from %r" % text
    return (m.group(1), int(m.group(2))) if m.group(1) else (m.group(3), int(m.group(4)))


def serve_ports(argv, cwd):
    """(proto, host, port) of every listener a `serve --config FILE` opens:
    the file's listen keys, else the defaults of `serve --defaults`."""
    defaults = configparser.ConfigParser(interpolation=None, comment_prefixes=("#", ";"))
    defaults.read_string(run("serve", "--defaults", check=0).stdout)
    conf = configparser.ConfigParser(interpolation=None, comment_prefixes=("#", ";"),
                                     inline_comment_prefixes=(";",))
    conf.read(os.path.join(cwd, argv[argv.index("--config") + 1]))
    ports = []
    for sec in conf.sections():
        if not defaults.has_section(sec) or conf[sec].get("enabled", "yes") == "no":
            continue
        proto = "udp" if sec.startswith("udp") else "tcp"
        for key in ("listen", "implicit_tls_listen", "submission_listen", "submissions_listen",
                    "tls_listen"):
            value = conf[sec].get(key, defaults[sec].get(key, ""))
            for item in re.split(r"[,\s]+", value.strip()):
                if item:
                    ports.append((proto,) + endpoint(item))
    return ports


def server_ports(argv, cwd):
    if argv[1] == "serve":
        return serve_ports(argv, cwd)
    if argv[1] in ("ftpd", "smtpd", "imapd"):
        return [("tcp",) + endpoint(argv[argv.index("--listen") + 1])]
    addrs = [a for a in argv[3:] if re.fullmatch(r"\[[^]]+\]:\d+|[^-][^:]*:\d+|unix:.+", a)]
    if argv[2] == "relay":
        addrs = addrs[:-1]	# LISTEN... TARGET
    return [("unix", a[5:], 0) if a.startswith("unix:") else (argv[1],) + endpoint(a)
            for a in addrs]


def wait_unix(path, proc, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("exited with %s" % proc.returncode)
        with socket.socket(socket.AF_UNIX) as s:
            try:
                s.connect(path)
                return
            except OSError:
                time.sleep(0.05)
    raise TimeoutError("nothing listening on %s" % path)


def bound(proto, host, port):
    """True if something holds proto/port on host (our bind fails)."""
    if proto == "unix":
        return False	# the server replaces a stale socket file itself
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    with socket.socket(family, kind) as s:
        # as the servers do: connections of an earlier run in TIME_WAIT
        # do not hold the port
        if kind == socket.SOCK_STREAM:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


class Readme:
    def __init__(self, tmp):
        # Started as root, the servers drop to nobody, who must be able to
        # reach the files: the scratch directory is world-readable like a
        # checkout in /home or /srv (pytest's own tmp_path is 0700).
        self.cwd = str(tmp)
        os.chmod(self.cwd, 0o755)
        shutil.copytree(os.path.join(ROOT, "examples"), os.path.join(self.cwd, "examples"))
        bindir = os.path.join(self.cwd, ".bin")
        os.mkdir(bindir)
        os.symlink(BIN, os.path.join(bindir, "inetkit"))
        self.env = dict(os.environ, HOME=self.cwd, TERM="dumb",
                        PATH=bindir + os.pathsep + os.environ["PATH"])
        self.servers = []   # [(line, Popen, ports)]

    def fail(self, line, why, out=""):
        pytest.fail("README command failed: %s\n%s\n%s" % (line, why, out[-4000:]))

    def start(self, line, argv):
        if argv[-1] == "&":
            argv = argv[:-1]
        ports = server_ports(argv, self.cwd)
        assert ports, "README server names no port: %s" % line
        for old in [s for s in self.servers if {(p, n) for p, _, n in s[2]} &
                    {(p, n) for p, _, n in ports}]:
            self.stop(old)
        for proto, host, port in ports:
            if bound(proto, host, port):
                pytest.fail("port %s/%d on %s is taken by another program; the README's "
                            "command needs it: %s" % (proto, port, host, line))
        proc = subprocess.Popen([BIN] + argv[1:], cwd=self.cwd, env=self.env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        self.servers.append((line, proc, ports))
        for proto, host, port in ports:
            deadline = time.monotonic() + 20
            while proto == "udp" and not bound(proto, host, port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            try:
                if proto == "tcp":
                    wait_port(port, host, timeout=20, proc=proc)
                elif proto == "unix":
                    wait_unix(host, proc)
                elif proc.poll() is not None:
                    raise RuntimeError("exited with %s" % proc.returncode)
            except (RuntimeError, TimeoutError) as exc:
                proc.kill()
                self.fail(line, "server did not start: %s" % exc,
                          proc.communicate()[0].decode("utf-8", "replace"))

    def stop(self, entry):
        line, proc, _ = entry
        self.servers.remove(entry)
        if proc.poll() is not None:
            self.fail(line, "server exited early with %s" % proc.returncode,
                      proc.communicate()[0].decode("utf-8", "replace"))
        proc.send_signal(signal.SIGTERM)
        try:
            out = proc.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            out = proc.communicate()[0]
        if proc.returncode != 0:
            self.fail(line, "server exited with %s when stopped" % proc.returncode,
                      out.decode("utf-8", "replace"))

    def stop_all(self):
        while self.servers:
            self.stop(self.servers[-1])

    def interact(self, line, dialogue):
        import pexpect
        child = pexpect.spawn("bash", ["-c", line], cwd=self.cwd, env=self.env, timeout=60,
                              encoding="utf-8")
        try:
            for expect, send in dialogue:
                if expect is not None:
                    child.expect_exact(expect)
                if send is EOF:
                    child.sendeof()
                elif send is not None:
                    child.sendline(send)
            child.expect(pexpect.EOF)
        except (pexpect.TIMEOUT, pexpect.EOF) as exc:
            self.fail(line, "dialogue stopped: %s" % type(exc).__name__, child.before or "")
        finally:
            child.close()
        if child.exitstatus != 0:
            self.fail(line, "exit %s (signal %s)" % (child.exitstatus, child.signalstatus),
                      child.before or "")

    def command(self, line):
        p = subprocess.run(["bash", "-c", line], cwd=self.cwd, env=self.env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        if p.returncode != 0:
            self.fail(line, "exit %d" % p.returncode, p.stdout.decode("utf-8", "replace"))

    def line(self, line):
        argv = words(line)
        if not argv:
            return
        if any(re.search(rx, line) for rx in EXCLUDED):
            return
        if is_server(argv):
            self.start(line, argv)
            return
        for rx, dialogue in INTERACTIVE.items():
            if re.search(rx, line):
                self.interact(line, dialogue)
                return
        self.command(line)


@pytest.fixture
def scratch():
    d = tempfile.mkdtemp(prefix="inetkit-readme-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_readme_commands_run_in_order(scratch):
    r = Readme(scratch)
    try:
        for block in readme_blocks():
            for line in block:
                r.line(line)
        r.stop_all()
    finally:
        for _, proc, _ in r.servers:
            proc.kill()
            proc.wait()


def test_readme_lists_are_used():
    """Each EXCLUDED and INTERACTIVE pattern matches a README line, and
    only the contract's make lines and the package build/install (which
    test_deb.py runs) are excluded."""
    lines = [line for block in readme_blocks() for line in block if words(line)]
    for rx in list(EXCLUDED) + list(INTERACTIVE):
        assert any(re.search(rx, line) for line in lines), "no README line matches %r" % rx
    excluded = [line for line in lines if any(re.search(rx, line) for rx in EXCLUDED)]
    assert all(line.startswith(("make ", "dpkg-buildpackage ", "apt install ../inetkit_"))
               for line in excluded)

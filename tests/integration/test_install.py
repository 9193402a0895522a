"""`meson install` (what `make install` runs) into a DESTDIR: the binary,
the manual pages, the systemd unit with the install's paths, the sysusers.d
file and the default config, and nothing else (nothing under /var: serve
makes its state directory itself). A second install keeps a config that
was edited. The installed config is valid, and serve started as root from
it gives its state directory to [serve] user even when systemd's
StateDirectory= made it first, as root."""
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile

import pytest

from conftest import BIN, ROOT, free_port, run, wait_port

BUILD = os.path.dirname(os.path.abspath(BIN))


def build_options():
    p = subprocess.run(["meson", "introspect", "--buildoptions", BUILD],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        pytest.skip("%s is not a meson build directory" % BUILD)
    o = {x["name"]: x["value"] for x in json.loads(p.stdout)}
    prefix = o["prefix"]
    unitdir = o["systemdunitdir"] or os.path.join(prefix, "lib", "systemd", "system")
    return {
        "bindir": os.path.join(prefix, o["bindir"]),
        "mandir": os.path.join(prefix, o["mandir"]),
        "sysconfdir": os.path.join(prefix, o["sysconfdir"]),
        "localstatedir": os.path.join(prefix, o["localstatedir"]),
        "unitdir": unitdir,
        "sysusersdir": os.path.join(prefix, "lib", "sysusers.d"),
    }


def meson_install(dest):
    p = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--quiet",
                        "--destdir", str(dest)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    assert p.returncode == 0, p.stdout


def files_under(dest):
    out = set()
    for d, _, names in os.walk(dest):
        for n in names:
            out.add("/" + os.path.relpath(os.path.join(d, n), dest))
    return out


def expected_files(o):
    pages = sorted(glob.glob(os.path.join(ROOT, "docs", "*.[1-8]")))
    assert pages
    want = {os.path.join(o["bindir"], "inetkit"),
            os.path.join(o["unitdir"], "inetkit.service"),
            os.path.join(o["sysusersdir"], "inetkit.conf"),
            os.path.join(o["sysconfdir"], "inetkit", "inetkit.conf")}
    for p in pages:
        name = os.path.basename(p)
        want.add(os.path.join(o["mandir"], "man" + name[-1], name))
    return want


def default_conf_text():
    with open(os.path.join(ROOT, "docs", "inetkit-default.conf")) as f:
        return f.read()


def test_installs_binary_pages_unit_and_config_and_nothing_under_var(tmp_path):
    o = build_options()
    dest = tmp_path / "dest"
    meson_install(dest)
    assert files_under(dest) == expected_files(o)
    assert not os.path.exists(str(dest) + o["localstatedir"])
    assert not (dest / "var").exists()

    conf = str(dest) + os.path.join(o["sysconfdir"], "inetkit", "inetkit.conf")
    with open(conf) as f:
        assert f.read() == default_conf_text()
    assert stat.S_IMODE(os.stat(conf).st_mode) == 0o644

    with open(str(dest) + os.path.join(o["unitdir"], "inetkit.service")) as f:
        unit = f.read()
    cfg = os.path.join(o["sysconfdir"], "inetkit", "inetkit.conf")
    exe = os.path.join(o["bindir"], "inetkit")
    assert "\nExecStartPre=%s serve --check --config %s\n" % (exe, cfg) in unit
    assert "\nExecStart=%s serve --config %s\n" % (exe, cfg) in unit
    assert "@" not in unit
    with open(str(dest) + os.path.join(o["sysusersdir"], "inetkit.conf")) as f:
        assert "\nu inetkit - \"inetkit services\" /var/lib/inetkit /usr/sbin/nologin\n" \
            in f.read()


def test_second_install_keeps_an_edited_config(tmp_path):
    o = build_options()
    dest = tmp_path / "dest"
    meson_install(dest)
    conf = str(dest) + os.path.join(o["sysconfdir"], "inetkit", "inetkit.conf")
    unit = str(dest) + os.path.join(o["unitdir"], "inetkit.service")
    edited = default_conf_text().replace("listen = 127.0.0.1:21", "listen = 0.0.0.0:21")
    with open(conf, "w") as f:
        f.write(edited)
    os.chmod(conf, 0o640)
    os.unlink(unit)     # the second install must really run: it puts this back
    meson_install(dest)
    assert os.path.exists(unit)
    with open(conf) as f:
        assert f.read() == edited
    assert stat.S_IMODE(os.stat(conf).st_mode) == 0o640
    assert files_under(dest) == expected_files(o)

    # A config that is a dangling symbolic link is kept too.
    os.unlink(conf)
    os.symlink("/nonexistent/inetkit.conf", conf)
    meson_install(dest)
    assert os.readlink(conf) == "/nonexistent/inetkit.conf"


def test_installed_config_is_valid(tmp_path):
    o = build_options()
    dest = tmp_path / "dest"
    meson_install(dest)
    conf = str(dest) + os.path.join(o["sysconfdir"], "inetkit", "inetkit.conf")
    p = run("serve", "--check", "--config", conf)
    try:
        pwd.getpwnam("inetkit")
        has_user = True
    except KeyError:
        has_user = False
    if os.geteuid() != 0 or has_user:
        assert (p.returncode, p.stdout) == (0, "%s: valid; 1 service enabled (ftp)\n" % conf)
    else:
        # As root, the user the package or systemd-sysusers makes must exist.
        line = default_conf_text().split("\n").index("user = inetkit") + 1
        assert p.returncode == 2
        assert p.stderr == ("inetkit serve: %s:%d: [serve] user: no user 'inetkit' on this "
                            "system; create it (useradd --system inetkit) or name another\n"
                            % (conf, line))
    with open(conf, "w") as f:
        f.write(default_conf_text().replace("user = inetkit", "user = nobody"))
    p = run("serve", "--check", "--config", conf, check=0)
    assert p.stdout == "%s: valid; 1 service enabled (ftp)\n" % conf


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_serve_gives_a_root_made_state_dir_to_its_user():
    """systemd's StateDirectory= makes /var/lib/inetkit as root before serve
    starts; serve, from the installed config, gives it to [serve] user."""
    nobody = pwd.getpwnam("nobody")
    base = tempfile.mkdtemp(prefix="ik-install-")
    try:
        os.chmod(base, 0o755)   # nobody must reach the state directory
        state = os.path.join(base, "var", "lib", "inetkit")
        os.makedirs(state, 0o750)
        os.chown(state, 0, 0)
        port = free_port()
        conf = os.path.join(base, "inetkit.conf")
        with open(conf, "w") as f:
            f.write(default_conf_text()
                    .replace("state_dir = /var/lib/inetkit", "state_dir = %s" % state)
                    .replace("user = inetkit", "user = nobody")
                    .replace("listen = 127.0.0.1:21", "listen = 127.0.0.1:%d" % port)
                    .replace("workers = auto", "workers = 1"))
        os.chmod(conf, 0o644)
        err = open(os.path.join(base, "serve.err"), "wb")
        proc = subprocess.Popen([BIN, "serve", "--config", conf], stdout=subprocess.DEVNULL,
                                stderr=err)
        try:
            wait_port(port, proc=proc)
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                assert s.recv(100) == b"220 inetkit FTP server ready.\r\n"
            for p in (state, os.path.join(state, "accounts.db"),
                      os.path.join(state, "tls"), os.path.join(state, "tls", "key.pem")):
                st = os.stat(p)
                assert (st.st_uid, st.st_gid) == (nobody.pw_uid, nobody.pw_gid), p
            assert stat.S_IMODE(os.stat(state).st_mode) == 0o750
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                assert proc.wait(timeout=15) == 0
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                err.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)

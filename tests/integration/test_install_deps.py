"""scripts/install-deps on a new machine: packages missing, apt available.

The real apt tools are replaced by stand-ins on PATH: dpkg-query reports
every package missing, apt-get records what it was asked and succeeds
(`apt-get download PKG` leaves a PKG_1_amd64.deb that the stand-in `dpkg -x`
"unpacks" into the binary the peer scripts look for), debconf-set-selections
records what it was fed. The script must then install, exit 0, and leave a
policy-rc.d that was already there exactly as it was (these machines ship
one), or remove the one it made.
"""
import os
import stat
import subprocess

from conftest import ROOT

SCRIPT = os.path.join(ROOT, "scripts", "install-deps")


def _shim(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "apt.log"
    tools = {
        "dpkg-query": "exit 1\n",
        "apt-get": 'echo "apt-get $*" >> "%s"\n'
                   '[ "$1" = download ] && : > "$3"_1_amd64.deb\n'
                   '[ -x "$INETKIT_POLICY_RC_D" ] && "$INETKIT_POLICY_RC_D" start; '
                   'echo "policy=$?" >> "%s"\nexit 0\n' % (log, log),
        "debconf-set-selections": 'echo "debconf-set-selections $(cat)" >> "%s"\n' % log,
        # dpkg -x ./PKG_*.deb DEST: the daemon each peer script checks for
        "dpkg": 'if [ "$1" = -x ]; then case "$2" in\n'
                '*pure-ftpd_*) b=usr/sbin/pure-ftpd ;; *opensmtpd_*) b=usr/sbin/smtpd ;;\n'
                'esac; mkdir -p "$(dirname "$3/$b")"; printf "#!/bin/sh\\n" > "$3/$b"; '
                'chmod 755 "$3/$b"; echo "dpkg $*" >> "%s"; fi\nexit 0\n' % log,
        "id": 'if [ "$1" = -u ]; then echo 0; else exec /usr/bin/id "$@"; fi\n',
    }
    for name, body in tools.items():
        p = bindir / name
        p.write_text("#!/bin/sh\n" + body)
        p.chmod(0o755)
    # pure-ftpd and opensmtpd already unpacked: the peer step has nothing
    # to fetch.
    peers = tmp_path / "peers"
    for rel in ("pure-ftpd/usr/sbin/pure-ftpd", "opensmtpd/usr/sbin/smtpd"):
        pf = peers / rel
        pf.parent.mkdir(parents=True)
        pf.write_text("#!/bin/sh\n")
        pf.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = "%s:%s" % (bindir, env.get("PATH", "/usr/bin:/bin"))
    env["INETKIT_PEERS"] = str(peers)
    env["INETKIT_POLICY_RC_D"] = str(tmp_path / "policy-rc.d")
    return env, log


def _run(env):
    return subprocess.run(["sh", SCRIPT], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)


def test_existing_policy_rc_d_is_kept_and_exit_is_zero(tmp_path):
    env, log = _shim(tmp_path)
    policy = tmp_path / "policy-rc.d"
    original = "#!/bin/sh\n# the machine's own\nexit 101\n"
    policy.write_text(original)
    policy.chmod(0o750)
    p = _run(env)
    assert p.returncode == 0, p.stderr
    assert "install-deps: done" in p.stdout
    assert policy.read_text() == original
    assert stat.S_IMODE(policy.stat().st_mode) == 0o750
    calls = log.read_text()
    assert "apt-get install" in calls and "libevent-dev" in calls
    # services stayed off while apt ran
    assert "policy=101" in calls


def test_no_policy_rc_d_one_is_made_for_apt_then_removed(tmp_path):
    env, log = _shim(tmp_path)
    policy = tmp_path / "policy-rc.d"
    p = _run(env)
    assert p.returncode == 0, p.stderr
    assert "policy=101" in log.read_text()
    assert not policy.exists()


def test_failed_apt_is_reported_and_policy_removed(tmp_path):
    env, log = _shim(tmp_path)
    (tmp_path / "bin" / "apt-get").write_text("#!/bin/sh\necho 'E: no network' >&2\nexit 100\n")
    p = _run(env)
    assert p.returncode != 0
    assert not (tmp_path / "policy-rc.d").exists()


def test_nothing_missing_is_quiet(tmp_path):
    env, log = _shim(tmp_path)
    (tmp_path / "bin" / "dpkg-query").write_text("#!/bin/sh\necho 'install ok installed'\n")
    p = _run(env)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "" and not log.exists()


def test_postfix_is_preseeded_before_apt_installs_it(tmp_path):
    env, log = _shim(tmp_path)
    p = _run(env)
    assert p.returncode == 0, p.stderr
    calls = log.read_text().splitlines()
    preseed = "debconf-set-selections postfix postfix/main_mailer_type select No configuration"
    assert preseed in calls
    install = [i for i, c in enumerate(calls) if c.startswith("apt-get install")]
    assert len(install) == 1 and calls.index(preseed) < install[0]
    assert " postfix " in calls[install[0]] + " " and " mutt " in calls[install[0]] + " "


def test_postfix_present_is_not_preseeded_again(tmp_path):
    env, log = _shim(tmp_path)
    (tmp_path / "bin" / "dpkg-query").write_text(
        '#!/bin/sh\n[ "$3" = postfix ] && echo "install ok installed"\nexit 0\n')
    p = _run(env)
    assert p.returncode == 0, p.stderr
    calls = log.read_text()
    assert "postfix/main_mailer_type" not in calls
    assert "apt-get install" in calls and " postfix" not in calls


def test_opensmtpd_is_unpacked_into_the_peers_cache(tmp_path):
    env, log = _shim(tmp_path)
    (tmp_path / "bin" / "dpkg-query").write_text("#!/bin/sh\necho 'install ok installed'\n")
    smtpd = tmp_path / "peers" / "opensmtpd" / "usr" / "sbin" / "smtpd"
    smtpd.unlink()
    p = _run(env)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "" and p.stderr == ""
    assert os.access(smtpd, os.X_OK)
    calls = log.read_text()
    assert "apt-get download -qq opensmtpd" in calls
    assert "apt-get install" not in calls and "pure-ftpd" not in calls
    # a second run finds it and fetches nothing
    log.unlink()
    p = _run(env)
    assert p.returncode == 0 and p.stdout == "" and not log.exists()


def test_dns_packages_are_installed(tmp_path):
    # c-ares (core/dns, the relay's MX lookups) and dnslib (the loopback
    # DNS server of the relay tests) come from Debian on a new machine.
    env, log = _shim(tmp_path)
    p = _run(env)
    assert p.returncode == 0, p.stderr
    install = [c for c in log.read_text().splitlines() if c.startswith("apt-get install")]
    assert len(install) == 1
    words = install[0].split()
    assert "libc-ares-dev" in words and "python3-dnslib" in words


def test_pop3_clients_and_peers_are_installed(tmp_path):
    """fetchmail and mutt (in tmux) read inetkit pop3d in test_pop3d.py;
    Dovecot's POP3 server and postal's rabid are bench/pop3's peers."""
    env, log = _shim(tmp_path)
    p = _run(env)
    assert p.returncode == 0, p.stderr
    install = [c for c in log.read_text().splitlines() if c.startswith("apt-get install")]
    assert len(install) == 1
    for pkg in ("fetchmail", "tmux", "mutt", "dovecot-core", "dovecot-pop3d", "postal"):
        assert " %s " % pkg in install[0] + " ", pkg


def test_trace_packages_installed_and_tshark_preseeded(tmp_path):
    """inetkit trace: libpcap-dev to build, tshark and tcpdump to check
    against; tshark's setuid question is answered before apt asks it."""
    env, log = _shim(tmp_path)
    p = _run(env)
    assert p.returncode == 0, p.stderr
    calls = log.read_text().splitlines()
    preseed = ("debconf-set-selections wireshark-common "
               "wireshark-common/install-setuid boolean false")
    assert preseed in calls
    install = [i for i, c in enumerate(calls) if c.startswith("apt-get install")]
    assert len(install) == 1 and calls.index(preseed) < install[0]
    line = calls[install[0]] + " "
    for pkg in ("libpcap-dev", "tshark", "tcpdump"):
        assert " %s " % pkg in line


def test_dkim_verifier_is_installed(tmp_path):
    # dkimpy (python3-dkim) is the independent verifier of the DKIM tests
    # (test_mailauth.py): it comes from Debian on a new machine.
    env, log = _shim(tmp_path)
    p = _run(env)
    assert p.returncode == 0, p.stderr
    install = [c for c in log.read_text().splitlines() if c.startswith("apt-get install")]
    assert len(install) == 1
    assert "python3-dkim" in install[0].split()


def test_postgresql_accounts_store_packages_are_installed(tmp_path):
    """The PostgreSQL accounts store builds with libpq-dev; its tests start
    a throwaway cluster with postgresql's initdb and pg_ctl."""
    env, log = _shim(tmp_path)
    p = _run(env)
    assert p.returncode == 0, p.stderr
    installs = [line for line in log.read_text().splitlines()
                if line.startswith("apt-get install")]
    assert installs and all(" libpq-dev " in line + " " and " postgresql " in line + " "
                            for line in installs[-1:])


def test_dovecot_imapd_is_installed(tmp_path):
    # Dovecot's IMAP server: the peer of bench/imap (a plain process on
    # loopback; policy-rc.d keeps the system service from starting).
    env, log = _shim(tmp_path)
    p = _run(env)
    assert p.returncode == 0, p.stderr
    install = [c for c in log.read_text().splitlines() if c.startswith("apt-get install")]
    assert len(install) == 1
    assert "dovecot-imapd" in install[0].split()


def test_nftables_for_the_trace_loss_test_is_installed(tmp_path):
    """nft makes the packet loss of test_trace.py's retransmission test
    where the kernel has no sch_netem (nf_tables is built in)."""
    env, log = _shim(tmp_path)
    p = _run(env)
    assert p.returncode == 0, p.stderr
    install = [c for c in log.read_text().splitlines() if c.startswith("apt-get install")]
    assert len(install) == 1
    assert "nftables" in install[0].split()


def test_mail_client_peers_are_installed(tmp_path):
    # bench/mail-client compares `inetkit mail send` with msmtp and
    # `inetkit mail fetch` with fetchmail and getmail6.
    env, log = _shim(tmp_path)
    p = _run(env)
    assert p.returncode == 0, p.stderr
    install = [c for c in log.read_text().splitlines() if c.startswith("apt-get install")]
    assert len(install) == 1
    words = install[0].split()
    assert "msmtp" in words and "getmail6" in words and "fetchmail" in words

"""The Debian package: `dpkg-buildpackage -us -uc -b`, run in a copy of the
tree (the .deb lands in the copy's parent, the repository stays clean),
builds an inetkit .deb with the binary, the manual pages, the unit and the
default config as a conffile; lintian finds no error or warning beyond the
commented overrides in debian/inetkit.lintian-overrides. Installed (in a
throw-away overlay of this machine, when the kernel allows one), it makes
the inetkit user, its config checks valid, serve starts from it and makes
/var/lib/inetkit for that user, an edited config survives an upgrade and
purge removes it. The build skips the unit tests (nocheck): a slow test."""
import glob
import gzip
import io
import os
import re
import shutil
import subprocess
import tarfile

import pytest

from conftest import ROOT

DOCS = os.path.join(ROOT, "docs")


def meson_version():
    with open(os.path.join(ROOT, "meson.build")) as f:
        return re.search(r"version\s*:\s*'([^']+)'", f.read()).group(1)


def source_files():
    """The files of the tree as git sees them (edits included), else all
    files but build directories."""
    p = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others",
                        "--exclude-standard"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if p.returncode == 0:
        names = [n for n in p.stdout.decode().split("\0") if n]
        return [n for n in names if os.path.lexists(os.path.join(ROOT, n))]
    out = []
    for d, dirs, names in os.walk(ROOT):
        dirs[:] = [x for x in dirs if x != ".git" and not x.startswith("build")
                   and not os.path.exists(os.path.join(d, x, "meson-info"))]
        out += [os.path.relpath(os.path.join(d, n), ROOT) for n in names]
    return out


def clean_env():
    env = dict(os.environ)
    # `make test` runs pytest: its jobserver is not for dpkg-buildpackage's make.
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "DEB_BUILD_PROFILES"):
        env.pop(k, None)
    env["DEB_BUILD_OPTIONS"] = "nocheck parallel=%d" % (os.cpu_count() or 1)
    env["LC_ALL"] = "C.UTF-8"
    return env


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    for tool in ("dpkg-buildpackage", "dh", "lintian", "dpkg-deb"):
        if shutil.which(tool) is None:
            pytest.fail("%s is missing: run scripts/install-deps (as root)" % tool)
    top = tmp_path_factory.mktemp("deb")
    src = top / "inetkit"
    for name in source_files():
        dst = src / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(ROOT, name), str(dst), follow_symlinks=False)
    p = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=str(src), env=clean_env(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    assert p.returncode == 0, p.stdout.decode(errors="replace")[-6000:]
    version = meson_version()
    debs = sorted(os.path.basename(x) for x in glob.glob(str(top / "*.deb")))
    arch = subprocess.run(["dpkg", "--print-architecture"], stdout=subprocess.PIPE,
                          text=True, check=True).stdout.strip()
    deb = "inetkit_%s_%s.deb" % (version, arch)
    assert deb in debs, debs
    return {"top": top, "deb": top / deb, "changes": top / ("inetkit_%s_%s.changes"
                                                             % (version, arch))}


def deb_paths(deb):
    out = subprocess.run(["dpkg-deb", "-c", str(deb)], stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    paths = set()
    for line in out.splitlines():
        path = line.split(None, 5)[5].split(" -> ")[0]
        if not path.endswith("/"):
            paths.add(path[1:])         # ./usr/bin/inetkit -> /usr/bin/inetkit
    return paths


def deb_file(deb, path):
    data = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE,
                          check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        m = t.getmember("." + path)
        return m, t.extractfile(m).read()


def deb_field(deb, field):
    return subprocess.run(["dpkg-deb", "-f", str(deb), field], stdout=subprocess.PIPE,
                          text=True, check=True).stdout.strip()


def test_package_contents(built):
    deb = built["deb"]
    want = {"/usr/bin/inetkit",
            "/lib/systemd/system/inetkit.service",
            "/usr/lib/sysusers.d/inetkit.conf",
            "/etc/inetkit/inetkit.conf",
            "/usr/share/doc/inetkit/changelog.gz",
            "/usr/share/doc/inetkit/copyright",
            "/usr/share/lintian/overrides/inetkit"}
    for page in glob.glob(os.path.join(DOCS, "*.[1-8]")):
        name = os.path.basename(page)
        want.add("/usr/share/man/man%s/%s.gz" % (name[-1], name))
    assert deb_paths(deb) == want
    assert deb_field(deb, "Package") == "inetkit"
    assert deb_field(deb, "Version") == meson_version()
    assert "adduser" in [d.strip().split()[0] for d in deb_field(deb, "Depends").split(",")]

    info = subprocess.run(["dpkg-deb", "-I", str(deb), "conffiles"], stdout=subprocess.PIPE,
                          text=True, check=True).stdout
    assert info == "/etc/inetkit/inetkit.conf\n"

    m, conf = deb_file(deb, "/etc/inetkit/inetkit.conf")
    with open(os.path.join(DOCS, "inetkit-default.conf"), "rb") as f:
        assert conf == f.read()
    assert m.mode & 0o777 == 0o644 and (m.uname, m.gname) == ("root", "root")
    _, unit = deb_file(deb, "/lib/systemd/system/inetkit.service")
    assert b"\nExecStart=/usr/bin/inetkit serve --config /etc/inetkit/inetkit.conf\n" in unit
    m, exe = deb_file(deb, "/usr/bin/inetkit")
    assert m.mode & 0o777 == 0o755 and exe[:4] == b"\x7fELF"
    _, page = deb_file(deb, "/usr/share/man/man1/inetkit-serve.1.gz")
    with open(os.path.join(DOCS, "inetkit-serve.1"), "rb") as f:
        assert gzip.decompress(page) == f.read()

    # The user is made before debhelper's part of postinst starts the unit.
    ctl = built["top"] / "control"
    subprocess.run(["dpkg-deb", "-e", str(deb), str(ctl)], check=True)
    postinst = (ctl / "postinst").read_text()
    assert postinst.index("adduser --system --group") < postinst.index("inetkit.service")


def test_lintian_clean_apart_from_commented_overrides(built):
    p = subprocess.run(["lintian", "--display-info", "--fail-on", "error,warning",
                        str(built["changes"])], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=300)
    tags = [l for l in p.stdout.splitlines() if re.match(r"[EWIXPO]: ", l)]
    bad = [l for l in tags if l[0] in "EW" or "unused-override" in l
           or "mismatched-override" in l]
    assert bad == [] and p.returncode == 0, p.stdout
    # Every override says why, in a comment just above it.
    with open(os.path.join(ROOT, "debian", "inetkit.lintian-overrides")) as f:
        lines = [l.rstrip("\n") for l in f]
    for i, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert i > 0 and lines[i - 1].startswith("#"), "no comment for: " + line


SANDBOX = r"""
set -eu
new=$1 deb=$2
mount -t overlay overlay -o "lowerdir=/,upperdir=$new/upper,workdir=$new/work" "$new/root"
mount -t proc proc "$new/root/proc"
mount --rbind /dev "$new/root/dev"
mount -t tmpfs tmpfs "$new/root/run"
mount -t tmpfs tmpfs "$new/root/tmp"
cp "$deb" "$new/root/tmp/inetkit.deb"
ip link set lo up
exec chroot "$new/root" /bin/sh -eu -c '
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
dpkg -i /tmp/inetkit.deb >/dev/null
echo "user: $(getent passwd inetkit | cut -d: -f1,6,7)"
inetkit serve --check
test ! -e /var/lib/inetkit && echo "no state dir yet"
inetkit serve >/tmp/serve.out 2>/tmp/serve.err &
pid=$!
i=0
until python3 -c "import socket; socket.create_connection((\"127.0.0.1\", 21), 1)" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat /tmp/serve.err; exit 1; }; sleep 0.1
done
python3 -c "import ftplib; f = ftplib.FTP_TLS(\"127.0.0.1\"); print(f.getwelcome()); f.auth(); f.quit()"
echo "state dir: $(stat -c "%U %G %a" /var/lib/inetkit)"
kill $pid; wait $pid || true
echo "; edited" >> /etc/inetkit/inetkit.conf
dpkg -i /tmp/inetkit.deb >/dev/null
echo "after upgrade: $(tail -1 /etc/inetkit/inetkit.conf)"
dpkg --purge inetkit >/dev/null
test ! -e /etc/inetkit && echo "purged"
'
"""


def test_installs_makes_user_and_keeps_edited_config(built, tmp_path):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare for a throw-away overlay of /")
    sandbox = tmp_path / "sb"
    for d in ("upper", "work", "root"):
        (sandbox / d).mkdir(parents=True)
    # Own mount, network and process namespaces: nothing reaches this
    # machine's files, ports or processes; port 21 is the sandbox's own.
    p = subprocess.run(["unshare", "--mount", "--net", "--pid", "--fork", "sh", "-c", SANDBOX,
                        "sandbox", str(sandbox), str(built["deb"])],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    if p.returncode != 0 and "mount" in p.stderr and "user:" not in p.stdout:
        pytest.skip("no overlay of / here: " + p.stderr.strip())
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout == ("user: inetkit:/var/lib/inetkit:/usr/sbin/nologin\n"
                        "/etc/inetkit/inetkit.conf: valid; 1 service enabled (ftp)\n"
                        "no state dir yet\n"
                        "220 inetkit FTP server ready.\n"
                        "state dir: inetkit inetkit 750\n"
                        "after upgrade: ; edited\n"
                        "purged\n"), p.stderr

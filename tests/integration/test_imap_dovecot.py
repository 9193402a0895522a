"""inetkit imapd beside Dovecot (Debian's dovecot-imapd, started as a plain
process as bench/imap starts it): the same tricky MIME messages
(mime_corpus/: nested multiparts, RFC 2231 names, broken and missing
boundaries, message/rfc822, odd Content-Type) give the same BODYSTRUCTURE,
BODY and ENVELOPE; and keywords one server sets are the other's (the
Maildir letters and the dovecot-keywords file)."""
import imaplib
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import free_port, run
from imapd_env import PASSWORD, Imapd, tls_context

DOVECOT = "/usr/sbin/dovecot"
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mime_corpus")
NOBODY = 65534

pytestmark = pytest.mark.skipif(not os.access(DOVECOT, os.X_OK) or os.geteuid() != 0,
                                reason="needs Debian's dovecot-imapd and root")


class Dovecot:
    """Dovecot on a free loopback port, one user "dove" (uid nobody) whose
    Maildir is self.maildir; plain LOGIN allowed (loopback only)."""

    def __init__(self, base):
        self.base = str(base)
        os.chmod(self.base, 0o755)
        self.port = free_port()
        home = os.path.join(self.base, "home")
        self.maildir = os.path.join(home, "Maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.maildir, sub))
        pw = os.path.join(self.base, "passwd")
        with open(pw, "w") as f:
            f.write("dove:{PLAIN}%s:%d:%d::%s::\n" % (PASSWORD, NOBODY, NOBODY, home))
        conf = os.path.join(self.base, "dovecot.conf")
        with open(conf, "w") as f:
            f.write("""base_dir = {b}/run
state_dir = {b}/state
instance_name = test{p}
log_path = {b}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
first_valid_uid = 100
default_login_user = dovenull
default_internal_user = dovecot
passdb {{
  driver = passwd-file
  args = {pw}
}}
userdb {{
  driver = passwd-file
  args = {pw}
}}
service imap-login {{
  inet_listener imap {{
    port = {p}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""".format(b=self.base, p=self.port, pw=pw))
        self.home = home
        self.chown()
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("dovecot did not start")
                time.sleep(0.05)

    def chown(self):
        for d, dirs, files in os.walk(self.home):
            os.chown(d, NOBODY, NOBODY)
            for n in files:
                os.chown(os.path.join(d, n), NOBODY, NOBODY)

    def client(self):
        m = imaplib.IMAP4("127.0.0.1", self.port)
        m.login("dove", PASSWORD)
        return m

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=15)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    # Dovecot's auth and mail processes run as other users: pytest's
    # folders (0700, root) are closed to them, so a folder of our own
    base = tempfile.mkdtemp(prefix="inetkit-dovecot-")
    d = Dovecot(base)
    s = Imapd(tmp_path_factory.mktemp("imapdove"), users=("alice",))
    yield d, s
    s.stop()
    d.stop()
    shutil.rmtree(base, ignore_errors=True)


def ours(srv):
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.tls_port, ssl_context=tls_context())
    m.login("alice", PASSWORD)
    return m


def corpus():
    return sorted(n for n in os.listdir(CORPUS) if n.endswith(".eml"))


def put_corpus(maildir, names):
    """Each message into new/ in corpus order, as a delivery would (one
    second apart in the name so both servers keep the order)."""
    for i, n in enumerate(names):
        with open(os.path.join(CORPUS, n), "rb") as f:
            data = f.read()
        with open(os.path.join(maildir, "new", "%d.M%dP1.corpus" % (1700000000 + i, i)),
                  "wb") as f:
            f.write(data)


def fetch_all(m, item):
    typ, data = m.select("INBOX")
    assert typ == "OK"
    out = []
    n = int(data[0])
    for i in range(1, n + 1):
        typ, d = m.fetch(str(i), "(%s)" % item)
        assert typ == "OK", d
        # literals (non-ASCII strings) come back as tuples: join them
        parts = []
        for x in d:
            if isinstance(x, tuple):
                parts.append(x[0] + x[1])
            else:
                parts.append(x)
        out.append(b"".join(parts))
    return out


def test_mime_structure_as_dovecot(servers):
    dove, srv = servers
    names = corpus()
    put_corpus(dove.maildir, names)
    dove.chown()
    os.makedirs(srv.maildir("alice"), exist_ok=True)
    ours(srv).logout()                       # the Maildir exists once logged in
    put_corpus(srv.maildir("alice"), names)
    d, o = dove.client(), ours(srv)
    try:
        diffs = []
        for item in ("BODYSTRUCTURE", "BODY", "ENVELOPE"):
            theirs, mine = fetch_all(d, item), fetch_all(o, item)
            assert len(theirs) == len(mine) == len(names)
            for name, t, m in zip(names, theirs, mine):
                if t != m:
                    diffs.append("%s %s\n  dovecot: %s\n  inetkit: %s" % (name, item, t, m))
        assert not diffs, "\n".join(diffs)
    finally:
        d.logout()
        o.logout()


def test_keywords_shared_with_dovecot(servers, tmp_path):
    dove, srv = servers
    d = dove.client()
    d.create("Kw")
    d.append("Kw", None, None, b"Subject: kw from dovecot\r\n\r\nx\r\n")
    d.select("Kw")
    assert d.store("1", "+FLAGS", "(Project-X $Label1 \\Flagged)")[0] == "OK"
    d.logout()
    # Dovecot's folder, files and keyword file, copied into our user's
    # Maildir as another folder: we read Dovecot's letters by name
    src = os.path.join(dove.maildir, ".Kw")
    dst = srv.maildir("alice", "FromDovecot")
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("dovecot.index*", "dovecot-uidlist"))
    o = ours(srv)
    typ, data = o.select("FromDovecot")
    assert typ == "OK"
    flags = o.untagged_responses["FLAGS"][0]
    assert b"Project-X" in flags and b"$Label1" in flags
    typ, data = o.fetch("1", "(FLAGS)")
    got = data[0].decode()
    assert "Project-X" in got and "$Label1" in got and "\\Flagged" in got, got
    # we add one; Dovecot, given our folder back, sees all three
    assert o.store("1", "+FLAGS", "(Ours)")[0] == "OK"
    o.logout()
    back = os.path.join(dove.maildir, ".FromInetkit")
    shutil.copytree(dst, back, ignore=shutil.ignore_patterns("inetkit-*"))
    dove.chown()
    d = dove.client()
    typ, data = d.select("FromInetkit")
    assert typ == "OK", data
    typ, data = d.fetch("1", "(FLAGS)")
    got = data[0].decode()
    for kw in ("Project-X", "$Label1", "Ours", "\\Flagged"):
        assert kw in got, got
    d.logout()


SECTIONS = ["HEADER", "TEXT", "1", "1.MIME", "2", "2.MIME", "1.1", "1.2", "2.1", "2.2",
            "2.HEADER", "2.TEXT", "1.2.1", "HEADER.FIELDS (SUBJECT FROM)", "1<2.5>"]


def test_sections_as_dovecot(servers):
    """BODY[section] of every corpus message, part numbers and MIME/HEADER/
    TEXT of parts included, byte for byte as Dovecot sends them."""
    dove, srv = servers
    names = corpus()
    d, o = dove.client(), ours(srv)
    try:
        n = len(names)
        assert d.select("INBOX")[1] == [str(n).encode()]
        assert o.select("INBOX")[1] == [str(n).encode()]
        diffs = []
        for i, name in enumerate(names, 1):
            for sec in SECTIONS:
                item = "BODY.PEEK[%s]" % sec if "<" not in sec else \
                    "BODY.PEEK[%s]<%s" % tuple(sec.split("<"))
                t = d.fetch(str(i), "(%s)" % item)
                m = o.fetch(str(i), "(%s)" % item)
                if t != m:
                    diffs.append("%s %s\n  dovecot: %r\n  inetkit: %r" % (name, sec, t, m))
        assert not diffs, "\n".join(diffs)
    finally:
        d.logout()
        o.logout()

"""Debian's Dovecot 2.3 as a plain process on loopback (see
/work/shared/PEERS.md), serving POP3 and IMAP without TLS for one user whose
Maildir a test fills directly: the peer `inetkit mail fetch` is tested
against. Its folder lives under /var/tmp (mode 0755): Dovecot's mail
processes run as nobody and cannot enter pytest's 0700 tmp_path."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

if "pytest" in sys.modules:
    from conftest import free_port      # the tests' port pool
else:                                   # bench/mail-client imports this file too
    def free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

DOVECOT = "/usr/sbin/dovecot"
NOBODY = 65534


class Dovecot:
    def __init__(self, user="dora", password="dovecot-pass-1", parent="/var/tmp"):
        self.user, self.password = user, password
        self.base = tempfile.mkdtemp(prefix="ik-dovecot-", dir=parent)
        os.chmod(self.base, 0o755)
        self.imap_port = free_port()
        self.pop3_port = free_port()
        self.home = os.path.join(self.base, "home")
        self.maildir = os.path.join(self.home, "Maildir")
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(self.maildir, sub))
        self._chown()
        pw = os.path.join(self.base, "passwd")
        with open(pw, "w") as f:
            f.write("%s:{PLAIN}%s:%d:%d::%s::\n" % (user, password, NOBODY, NOBODY, self.home))
        conf = os.path.join(self.base, "dovecot.conf")
        with open(conf, "w") as f:
            f.write("""base_dir = {b}/run
state_dir = {b}/state
instance_name = ikmail{p}
log_path = {b}/dovecot.log
listen = 127.0.0.1
protocols = imap pop3
ssl = no
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
first_valid_uid = 100
default_login_user = dovenull
default_internal_user = dovecot
pop3_uidl_format = %08Xu%08Xv
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
service pop3-login {{
  inet_listener pop3 {{
    port = {q}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
""".format(b=self.base, p=self.imap_port, q=self.pop3_port, pw=pw))
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        for port in (self.imap_port, self.pop3_port):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("dovecot did not start: %s" % self.log())
                    time.sleep(0.05)

    def _chown(self):
        for d, dirs, files in os.walk(self.home):
            os.chown(d, NOBODY, NOBODY)
            for n in files:
                os.chown(os.path.join(d, n), NOBODY, NOBODY)

    _n = [0]

    def deliver(self, data, folder=None, flags=None):
        """data (bytes, LF line ends) into the Maildir's new/ (or cur/ with
        ':2,FLAGS'); folder: a Maildir++ folder name."""
        md = self.maildir if not folder else os.path.join(self.maildir, "." + folder)
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(md, sub), exist_ok=True)
        Dovecot._n[0] += 1
        name = "%d.M%dP%d.test" % (int(time.time()), Dovecot._n[0], os.getpid())
        tmp = os.path.join(md, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(data)
        if flags is None:
            os.rename(tmp, os.path.join(md, "new", name))
        else:
            os.rename(tmp, os.path.join(md, "cur", name + ":2," + flags))
        self._chown()

    def log(self):
        try:
            with open(os.path.join(self.base, "dovecot.log"), errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
        shutil.rmtree(self.base, ignore_errors=True)

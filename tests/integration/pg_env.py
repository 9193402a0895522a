"""A throwaway PostgreSQL cluster from Debian's postgresql-15 for the tests
of the PostgreSQL accounts store: initdb and pg_ctl in a temporary
directory, on a free loopback port, run as an unprivileged user (the
server refuses to run as root): `nobody` when the tests run as root, else
the current user. Trust authentication on 127.0.0.1 only; a URI may carry
a password anyway (it is ignored), to check that none is ever printed.
Stopped (pg_ctl stop -m immediate) and removed by .stop()."""
import os
import pwd
import shutil
import subprocess
import tempfile

from conftest import free_port

PG_BIN = "/usr/lib/postgresql/15/bin"
USER = "inetkit"


def available():
    return os.path.exists(os.path.join(PG_BIN, "initdb"))


def _as_user():
    return "nobody" if os.geteuid() == 0 else None


class Postgres:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="inetkit-pg-", dir="/tmp")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.user = _as_user()
        if self.user is not None:
            pw = pwd.getpwnam(self.user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self._run(os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U", USER,
                  "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
        self._run(os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-l",
                  os.path.join(self.dir, "log"), "-w", "-t", "60", "start", "-o",
                  "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "
                  "-c max_connections=200" % (self.port, self.dir))

    def _run(self, *args):
        p = subprocess.run(list(args), user=self.user, cwd=self.dir, capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 0, "%s failed:\n%s%s" % (args[0], p.stdout, p.stderr)
        return p

    def url(self, password=None, db="postgres"):
        cred = USER + (":" + password if password else "")
        return "postgresql://%s@127.0.0.1:%d/%s" % (cred, self.port, db)

    def sql(self, text):
        """Run SQL with psql; its output, unaligned, tuples only."""
        p = self._run(os.path.join(PG_BIN, "..", "..", "..", "..", "bin", "psql")
                      if not os.path.exists(os.path.join(PG_BIN, "psql"))
                      else os.path.join(PG_BIN, "psql"),
                      "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-d", "postgres",
                      "-At", "-c", text)
        return p.stdout

    def stop(self):
        subprocess.run([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-m", "immediate",
                        "-w", "stop"], user=self.user, cwd=self.dir, capture_output=True,
                       timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)

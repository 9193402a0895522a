"""FTP servers for the client's tests: vsftpd and pure-ftpd from Debian,
started as plain foreground processes on loopback with configs written
here, plus a small scripted fake server for faults real servers do not
make (huge or endless replies, third-party PASV addresses, a connection
cut mid-transfer, odd listings).

Real servers log in a local test user made with useradd (removed at the
end) whose home is a temporary directory; each server chroots it there.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from conftest import ROOT, free_port, wait_port

PEERS_SCRIPT = os.path.join(ROOT, "scripts", "peers-pure-ftpd")
PURE_FTPD = os.path.join(os.environ.get("INETKIT_PEERS", "/var/cache/inetkit-peers"),
                         "pure-ftpd", "usr", "sbin", "pure-ftpd")
# One user per test run, so that runs in parallel (several people, or
# several builds, on one machine) never share or delete each other's.
USER = "ikftpc%d" % (os.getpid() % 100000)
PASSWORD = "ik-Secret-7"


def have_vsftpd():
    return shutil.which("vsftpd") is not None


def ensure_pure_ftpd():
    """Unpack pure-ftpd into the peers cache (idempotent); its path or None."""
    if not os.access(PURE_FTPD, os.X_OK):
        subprocess.run([PEERS_SCRIPT], check=False, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=300)
    if not os.access(PURE_FTPD, os.X_OK):
        return None
    # Unpacked, not installed: its libraries (libsodium23 ...) may be missing.
    ok = subprocess.run([PURE_FTPD, "--help"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode == 0
    return PURE_FTPD if ok else None


class FtpUser:
    """A local account for the servers' real-user logins."""

    def __init__(self, base):
        self.name, self.password = USER, PASSWORD
        self.home = os.path.join(base, "home")
        os.makedirs(self.home, exist_ok=True)
        os.chmod(base, 0o755)
        try:
            pwd.getpwnam(USER)
            subprocess.run(["userdel", USER], check=False, stderr=subprocess.DEVNULL)
        except KeyError:
            pass
        subprocess.run(["useradd", "-M", "-d", self.home, "-s", "/bin/sh", USER], check=True)
        subprocess.run(["chpasswd"], input=("%s:%s\n" % (USER, PASSWORD)).encode(), check=True)
        pw = pwd.getpwnam(USER)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        os.chown(self.home, self.uid, self.gid)
        os.chmod(self.home, 0o755)

    def chown_tree(self, path):
        for d, dirs, files in os.walk(path):
            os.chown(d, self.uid, self.gid)
            for f in files:
                os.chown(os.path.join(d, f), self.uid, self.gid)

    def remove(self):
        subprocess.run(["userdel", USER], check=False, stderr=subprocess.DEVNULL)


def make_ca(d):
    """A test CA and a server certificate for localhost/127.0.0.1/::1."""
    def ossl(*args):
        subprocess.run(["openssl"] + list(args), check=True, cwd=d,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=inetkit test CA")
    ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
    with open(os.path.join(d, "combined.pem"), "w") as out:
        for name in ("server.pem", "server.key"):
            with open(os.path.join(d, name)) as f:
                out.write(f.read())
    return {"ca": os.path.join(d, "ca.pem"), "cert": os.path.join(d, "server.pem"),
            "key": os.path.join(d, "server.key"),
            "combined": os.path.join(d, "combined.pem")}


class Peer:
    """A running server process."""

    name = "peer"
    mlsd = False

    def __init__(self, argv, port, host="127.0.0.1", cwd=None):
        self.port = port
        self.host = host
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     cwd=cwd, start_new_session=True)
        try:
            wait_port(port, host, proc=self.proc)
        except Exception:
            self.stop()
            raise

    def url(self, path="", user=True, scheme="ftp"):
        auth = "%s:%s@" % (USER, PASSWORD) if user else ""
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s://%s%s:%d/%s" % (scheme, auth, host, self.port, path)

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


class Vsftpd(Peer):
    name = "vsftpd"

    def __init__(self, workdir, user, anon_root=None, tls=None, implicit=False, host="127.0.0.1",
                 extra=None):
        self.dir = tempfile.mkdtemp(prefix="vsftpd-", dir=workdir)
        empty = os.path.join(self.dir, "empty")
        os.makedirs(empty)
        os.chmod(empty, 0o755)
        self.xferlog = os.path.join(self.dir, "xferlog")
        port = free_port(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.root = user.home
        conf = {
            "background": "NO", "listen": "NO" if ":" in host else "YES",
            "listen_ipv6": "YES" if ":" in host else "NO",
            "listen_port": str(port),
            "anonymous_enable": "YES" if anon_root else "NO",
            "local_enable": "YES", "write_enable": "YES", "local_umask": "022",
            "chroot_local_user": "YES", "allow_writeable_chroot": "YES",
            "secure_chroot_dir": empty, "seccomp_sandbox": "NO",
            "xferlog_enable": "YES", "xferlog_std_format": "YES", "xferlog_file": self.xferlog,
            "vsftpd_log_file": os.path.join(self.dir, "vsftpd.log"),
            "pasv_enable": "YES", "port_enable": "YES", "connect_from_port_20": "NO",
            "utf8_filesystem": "YES", "pam_service_name": "vsftpd",
            "max_per_ip": "0", "max_clients": "0",
        }
        conf["listen_address6" if ":" in host else "listen_address"] = host
        if anon_root:
            conf.update({"anon_root": anon_root, "no_anon_password": "NO",
                         "anon_upload_enable": "NO"})
        if tls:
            conf.update({"ssl_enable": "YES", "rsa_cert_file": tls["cert"],
                         "rsa_private_key_file": tls["key"], "ssl_ciphers": "HIGH",
                         "force_local_logins_ssl": "YES", "force_local_data_ssl": "YES",
                         "allow_anon_ssl": "YES", "require_ssl_reuse": "YES",
                         "ssl_tlsv1": "NO", "ssl_sslv2": "NO", "ssl_sslv3": "NO"})
            if implicit:
                conf["implicit_ssl"] = "YES"
        conf.update(extra or {})
        path = os.path.join(self.dir, "vsftpd.conf")
        with open(path, "w") as f:
            f.write("".join("%s=%s\n" % kv for kv in conf.items()))
        super().__init__(["vsftpd", path], port, host)

    def xfer_bytes(self):
        """Bytes of each transfer in xferlog order (field 8 of the standard format)."""
        if not os.path.exists(self.xferlog):
            return []
        out = []
        with open(self.xferlog) as f:
            for line in f:
                parts = line.split()
                if len(parts) > 8:
                    out.append((int(parts[7]), parts[8]))
        return out


class PureFtpd(Peer):
    name = "pure-ftpd"
    mlsd = True

    def __init__(self, workdir, user, tls=None, binary=None):
        port = free_port()
        self.root = user.home
        self.dir = tempfile.mkdtemp(prefix="pureftpd-", dir=workdir)
        argv = [binary or PURE_FTPD, "-S", "127.0.0.1,%d" % port, "-l", "unix", "-E", "-A",
                "-H", "-U", "022:022", "-c", "100", "-C", "100", "-u", "1",
                "-O", "clf:%s" % os.path.join(self.dir, "transfer.log")]
        if tls:
            argv += ["-Y", "2", "-2", tls["combined"]]
        super().__init__(argv, port)


# ---- A scripted fake server ----

class FakeFtp(threading.Thread):
    """Speaks just enough FTP to log in, list and send a file, with faults:

    greeting:  bytes sent instead of "220 fake\\r\\n" (then silence)
    endless:   after the greeting, keep sending "220-..." lines
    pasv_addr: the address PASV names ("127,0,0,2")
    list_data: what LIST sends; retr_data: what RETR sends
    cut_after: RETR sends this many bytes, then closes every connection
    """

    def __init__(self, greeting=None, endless=False, pasv_addr="127,0,0,1",
                 list_data=b"", retr_data=b"", cut_after=None, mlsd=False):
        super().__init__(daemon=True)
        self.greeting = greeting
        self.endless = endless
        self.pasv_addr = pasv_addr
        self.list_data = list_data
        self.retr_data = retr_data
        self.cut_after = cut_after
        self.mlsd = mlsd
        self.commands = []
        self.data_peers = []
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.port = self.lsock.getsockname()[1]
        self.dsock = socket.socket()
        self.dsock.bind(("127.0.0.1", 0))
        self.dsock.listen(4)
        self.dport = self.dsock.getsockname()[1]
        self.stopping = False
        self.start()

    def url(self, path=""):
        return "ftp://u:p@127.0.0.1:%d/%s" % (self.port, path)

    def run(self):
        self.lsock.settimeout(0.2)
        while not self.stopping:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                continue
            try:
                self.session(c)
            except OSError:
                pass
            finally:
                c.close()

    def send_data(self, data, cut=None):
        self.dsock.settimeout(10)
        d, peer = self.dsock.accept()
        self.data_peers.append(peer[0])
        try:
            d.sendall(data if cut is None else data[:cut])
        finally:
            d.close()

    def session(self, c):
        c.settimeout(15)
        if self.greeting is not None:
            c.sendall(self.greeting)
            if self.endless:
                try:
                    while not self.stopping:
                        c.sendall(b"220-still going\r\n")
                        time.sleep(0.01)
                except OSError:
                    return
            # silence until the client gives up
            try:
                while c.recv(4096):
                    pass
            except OSError:
                pass
            return
        c.sendall(b"220 fake\r\n")
        f = c.makefile("rb")
        for raw in f:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.commands.append(line)
            verb = line.split(" ", 1)[0].upper()
            arg = line.split(" ", 1)[1] if " " in line else ""
            if verb == "USER":
                c.sendall(b"331 pass\r\n")
            elif verb == "PASS":
                c.sendall(b"230 ok\r\n")
            elif verb == "FEAT":
                c.sendall(b"211-Features:\r\n SIZE\r\n" + (b" MLST type*;size*;\r\n" if self.mlsd else b"") + b"211 End\r\n")
            elif verb == "PWD":
                c.sendall(b'257 "/" here\r\n')
            elif verb in ("TYPE", "CWD"):
                c.sendall(b"200 ok\r\n" if verb == "TYPE" else b"250 ok\r\n")
            elif verb == "EPSV":
                c.sendall(b"500 not here\r\n")
            elif verb == "PASV":
                p = self.dport
                c.sendall(("227 Entering Passive Mode (%s,%d,%d).\r\n" % (
                    self.pasv_addr, p >> 8, p & 255)).encode())
            elif verb == "SIZE":
                if arg.endswith("file.bin") and self.retr_data:
                    c.sendall(b"213 %d\r\n" % len(self.retr_data))
                else:
                    c.sendall(b"550 no\r\n")
            elif verb in ("LIST", "MLSD"):
                c.sendall(b"150 here\r\n")
                self.send_data(self.list_data)
                c.sendall(b"226 done\r\n")
            elif verb == "RETR":
                c.sendall(b"150 here\r\n")
                if self.cut_after is not None:
                    self.send_data(self.retr_data, self.cut_after)
                    return  # and the control connection closes too
                self.send_data(self.retr_data)
                c.sendall(b"226 done\r\n")
            elif verb == "QUIT":
                c.sendall(b"221 bye\r\n")
                return
            else:
                c.sendall(b"502 no\r\n")

    def stop(self):
        self.stopping = True
        self.join(timeout=5)
        self.lsock.close()
        self.dsock.close()

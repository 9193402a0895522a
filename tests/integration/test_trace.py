"""inetkit trace on real loopback sessions, captured as root.

Sessions: the textbook Python socket programs (socket, bind, listen,
accept, recv, send, close), inetkit tcp listen/connect, inetkit ftp against
inetkit ftpd, UDP and IPv6. Each is captured by `inetkit trace -w` into a
pcap (the corpus lives in the test's tmp dir), then read back: the
handshake and close labels are checked, and every decoded header field of
every packet is compared with `tshark -T json` on the same file. Also:
truncated captures (snaplen), retransmissions made by packet loss on a
veth pair between two network namespaces (tc netem where the kernel has
sch_netem, else an nftables drop rule), `trace -- COMMAND`, the privilege
error, and hostile bytes in a capture file.
"""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time

import pytest

from conftest import BIN, free_port, run, wait_port
from ftpd_env import Ftpd

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="capturing needs root")

SERVER = r'''
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
print("ready", flush=True)
conn, addr = s.accept()
data = conn.recv(1024)
conn.sendall(data.upper())
conn.recv(1024)          # b"" once the client has closed
conn.close()
s.close()
'''

CLIENT = r'''
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
c = socket.socket(fam, socket.SOCK_STREAM)
c.connect((sys.argv[1], int(sys.argv[2])))
c.sendall(sys.argv[3].encode() if len(sys.argv) > 3 else b"hello\r\n")
print(c.recv(1024))
c.close()
'''


class Capture:
    """`inetkit trace -q -w FILE [opts] FILTER` running until stop()."""

    def __init__(self, path, filt, *opts, netns=None):
        self.path = str(path)
        cmd = [BIN, "trace", "-q", "-w", self.path] + list(opts) + filt.split()
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stderr.readline()
        assert "listening on" in line, line + self.p.stderr.read()

    def stop(self):
        # The last segments of a close are on their way when the client
        # returns; the capture sees them within a few ms.
        time.sleep(0.3)
        self.p.send_signal(signal.SIGINT)
        out, err = self.p.communicate(timeout=30)
        assert self.p.returncode == 0, err
        return self.path


def textbook_session(tmp_path, host="127.0.0.1", msg="hello\r\n"):
    port = free_port()
    srv = tmp_path / "server.py"
    cli = tmp_path / "client.py"
    srv.write_text(SERVER)
    cli.write_text(CLIENT)
    s = subprocess.Popen([sys.executable, str(srv), host, str(port)], stdout=subprocess.PIPE,
                         text=True)
    assert s.stdout.readline().strip() == "ready"
    c = subprocess.run([sys.executable, str(cli), host, str(port), msg], stdout=subprocess.PIPE,
                       text=True, timeout=30)
    assert c.returncode == 0
    assert s.wait(timeout=30) == 0
    return port, str(cli)


def trace_read(path, *opts):
    p = run("trace", "-r", path, *opts, check=0)
    return p.stdout


def packets(path):
    return [json.loads(l) for l in trace_read(path, "--json").splitlines()]


def labels(path):
    return [p.get("label") for p in packets(path)]


HANDSHAKE = ["handshake 1/3 SYN", "handshake 2/3 SYN-ACK", "handshake 3/3 ACK"]


def assert_lifecycle(labs, closer_first=True):
    assert labs[:3] == HANDSHAKE, labs
    assert "close 1/4 FIN" in labs, labs
    assert "close 4/4 ACK" in labs, labs
    assert any(l in ("close 2/4 ACK", "close 2+3/4 FIN-ACK (ACK and FIN together)") for l in labs)
    assert labs.index("close 1/4 FIN") < labs.index("close 4/4 ACK")


def test_textbook_python_socket_session(tmp_path):
    port = free_port()
    cap = Capture(tmp_path / "py.pcap", "tcp port %d" % port)
    srv = tmp_path / "server.py"
    srv.write_text(SERVER)
    (tmp_path / "client.py").write_text(CLIENT)
    s = subprocess.Popen([sys.executable, str(srv), "127.0.0.1", str(port)],
                         stdout=subprocess.PIPE, text=True)
    assert s.stdout.readline().strip() == "ready"
    subprocess.run([sys.executable, str(tmp_path / "client.py"), "127.0.0.1", str(port)],
                   check=True, timeout=30, stdout=subprocess.PIPE)
    assert s.wait(timeout=30) == 0
    path = cap.stop()
    labs = labels(path)
    assert_lifecycle(labs)
    text = trace_read(path)
    assert "the client closed first (active close); TIME_WAIT on the client side" in text
    assert "client→server 7 in" in text and "server→client 7 in" in text
    assert "handshake: RTT" in text
    d = trace_read(path, "--dialogue")
    assert "C: hello" in d and "S: HELLO" in d
    lay = trace_read(path, "--layers")
    assert "OSI 2 data link · TCP/IP link" in lay
    assert "OSI 3 network · TCP/IP internet" in lay
    assert "OSI 4 transport · TCP/IP transport" in lay
    assert "header checksum" in lay and "verified, ok" in lay
    svg = tmp_path / "py.svg"
    run("trace", "-r", path, "-q", "--svg", svg, check=0)
    body = svg.read_text()
    assert body.startswith("<?xml") and "handshake 1/3 SYN" in body and "</svg>" in body
    cross_check(path)


def test_pcapng_reads_as_pcap(tmp_path):
    port = free_port()
    cap = Capture(tmp_path / "a.pcap", "tcp port %d" % port)
    textbook_session_port(tmp_path, "127.0.0.1", port)
    path = cap.stop()
    ng = tmp_path / "a.pcapng"
    subprocess.run(["editcap", "-F", "pcapng", path, str(ng)], check=True)
    assert open(ng, "rb").read(4) == b"\x0a\x0d\x0d\x0a"
    assert trace_read(str(ng), "--json") == trace_read(path, "--json")


def test_inetkit_tcp_listen_and_connect(tmp_path):
    port = free_port()
    cap = Capture(tmp_path / "tcp.pcap", "tcp port %d" % port)
    srv = subprocess.Popen([BIN, "tcp", "listen", "127.0.0.1:%d" % port],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_port(port, proc=srv)
        p = run("tcp", "connect", "127.0.0.1", port, input="ping\n", timeout=30)
        assert "ping" in p.stdout
    finally:
        srv.send_signal(signal.SIGTERM)
        srv.wait(timeout=30)
    path = cap.stop()
    conns = {}
    for pk in packets(path):
        if "conn" in pk:
            conns.setdefault(pk["conn"], []).append(pk["label"])
    # wait_port's probe is a connection too: every one has the whole life
    for labs in conns.values():
        if labs[1:2] == ["RST (connection refused)"]:
            continue        # a probe before the server was listening
        assert labs[:3] == HANDSHAKE, labs
        assert "close 4/4 ACK" in labs or any("RST" in l for l in labs), labs
    assert any("data" in labs for labs in conns.values())
    cross_check(path)


def test_ftp_session_dialogue_masks_password_and_links_data(tmp_path):
    with Ftpd(tmp_path / "ftpd") as srv:
        cap = Capture(tmp_path / "ftp.pcap", "tcp")
        # anonymous login: its password is masked like any other
        run("ftp", "get", "ftp://127.0.0.1:%d/pub/hello.txt" % srv.port, "-o",
            tmp_path / "hello.txt", check=0, timeout=60)
        path = cap.stop()
    d = trace_read(path, "--dialogue")
    lines = [l.split(" ", 1)[1] for l in d.splitlines() if " " in l]
    assert any(l.startswith("S: 220") for l in lines), d
    assert "C: USER anonymous" in lines, d
    assert "C: PASS ****" in lines, d
    assert "[FTP data connection" in d, d
    assert "guest@" not in d and "anonymous@" not in d.split("USER")[0]
    conv = trace_read(path)
    assert "FTP data connection of #" in conv
    assert "ftp: USER anonymous" in conv
    cross_check(path)


def test_ipv6_and_udp(tmp_path):
    port = free_port()
    cap = Capture(tmp_path / "v6.pcap", "port %d" % port)
    textbook_session_port(tmp_path, "::1", port)
    import socket
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    r = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    r.bind(("::1", port))
    u.sendto(b"x" * 1000, ("::1", port))
    assert len(r.recv(2000)) == 1000
    u.close()
    r.close()
    path = cap.stop()
    pk = packets(path)
    assert all(p["ip"]["version"] == 6 for p in pk)
    assert_lifecycle([p["label"] for p in pk if "tcp" in p])
    udp = [p for p in pk if "udp" in p]
    assert udp and udp[0]["udp"]["length"] == 1008 and udp[0]["label"] == "datagram 1000 bytes"
    assert udp[0]["udp"]["checksum_status"] in ("ok", "bad")
    cross_check(path)


def textbook_session_port(tmp_path, host, port):
    srv = tmp_path / "server.py"
    cli = tmp_path / "client.py"
    srv.write_text(SERVER)
    cli.write_text(CLIENT)
    s = subprocess.Popen([sys.executable, str(srv), host, str(port)], stdout=subprocess.PIPE,
                         text=True)
    assert s.stdout.readline().strip() == "ready"
    subprocess.run([sys.executable, str(cli), host, str(port)], check=True, timeout=30,
                   stdout=subprocess.PIPE)
    assert s.wait(timeout=30) == 0


def test_truncated_capture_snaplen(tmp_path):
    port = free_port()
    cap = Capture(tmp_path / "cut.pcap", "tcp port %d" % port, "-s", "70")
    textbook_session_port(tmp_path, "127.0.0.1", port)
    path = cap.stop()
    pk = packets(path)
    data = [p for p in pk if p.get("label") == "data"]
    assert data and all(p["status"] == "truncated" for p in data)
    # the SYN's 40-byte header does not fit in 70 - 14 - 20 = 36 bytes
    assert pk[0]["tcp"]["status"] == "truncated"
    text = trace_read(path)
    assert "[truncated: " in text
    trace_read(path, "--layers")
    trace_read(path, "--dialogue")
    cross_check(path)


def test_trace_command_keeps_only_its_packets(tmp_path):
    port = free_port()
    other = free_port()
    srv = tmp_path / "server.py"
    cli = tmp_path / "client.py"
    srv.write_text(SERVER)
    cli.write_text(CLIENT)
    s = subprocess.Popen([sys.executable, str(srv), "127.0.0.1", str(port)],
                         stdout=subprocess.PIPE, text=True)
    s2 = subprocess.Popen([sys.executable, str(srv), "127.0.0.1", str(other)],
                          stdout=subprocess.PIPE, text=True)
    assert s.stdout.readline().strip() == "ready"
    assert s2.stdout.readline().strip() == "ready"
    # traffic that is not the command's, on the same interface, at the same time
    bg = subprocess.Popen([sys.executable, "-c",
                           "import time,subprocess,sys\ntime.sleep(0.2)\n"
                           "subprocess.run([sys.executable, %r, '127.0.0.1', '%d'])" % (str(cli), other)])
    p = run("trace", "-i", "lo", "--json", "-w", tmp_path / "cmd.pcap", "--",
            sys.executable, "-c", "import time,subprocess,sys\ntime.sleep(0.5)\n"
            "subprocess.run([sys.executable, %r, '127.0.0.1', '%d'], check=True)" % (str(cli), port),
            timeout=60)
    assert p.returncode == 0, p.stderr
    bg.wait(timeout=30)
    s.wait(timeout=30)
    s2.wait(timeout=30)
    pk = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    assert pk, p.stderr
    assert all(port in (x["tcp"]["sport"], x["tcp"]["dport"]) for x in pk)
    assert_lifecycle([x["label"] for x in pk])


def test_exit_status_of_the_command(tmp_path):
    p = run("trace", "-q", "-i", "lo", "--", "sh", "-c", "exit 3", timeout=60)
    assert p.returncode == 3


def test_without_privilege_names_cap_net_raw_and_sudo():
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv not installed")
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", "--bounding-set=-all", BIN, "trace", "-c", "1"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    assert p.returncode == 1, p.stderr
    assert "CAP_NET_RAW" in p.stderr and "sudo" in p.stderr


def test_hostile_capture_file_never_crashes(tmp_path):
    import random
    rng = random.Random(1234)
    path = tmp_path / "junk.pcap"
    with open(path, "wb") as f:
        for linktype in (1,):
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype))
        base = bytes.fromhex("000000000000000000000000080045000034") + bytes(40)
        for i in range(3000):
            b = bytearray(base[:rng.randint(0, len(base))] + os.urandom(rng.randint(0, 80)))
            for _ in range(rng.randint(0, 6)):
                if b:
                    b[rng.randrange(len(b))] = rng.randrange(256)
            f.write(struct.pack("<IIII", i, 0, len(b), len(b) + rng.randint(0, 30)))
            f.write(bytes(b))
    for view in ([], ["--layers"], ["--dialogue"], ["--json"]):
        p = run("trace", "-r", path, *view, timeout=120)
        assert p.returncode == 0, p.stderr
    js = [json.loads(l) for l in trace_read(path, "--json").splitlines()]
    assert len(js) == 3000
    assert {"ok", "truncated", "malformed"} >= {j["status"] for j in js}


def has_netem():
    """Whether this kernel has the netem qdisc (sch_netem): asked in a
    throwaway namespace, on its loopback."""
    ns = "iktq%d" % os.getpid()
    if subprocess.run(["ip", "netns", "add", ns], stderr=subprocess.DEVNULL).returncode != 0:
        return False
    try:
        return subprocess.run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "lo",
                               "root", "netem", "loss", "1%"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0
    finally:
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def tshark_frames(path, field):
    t = subprocess.run(["tshark", "-r", path, "-Y", field, "-T", "fields", "-e",
                        "frame.number"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    assert t.returncode == 0, t.stderr
    return {int(x) for x in t.stdout.split()}


def test_retransmissions_with_loss_on_veth(tmp_path):
    """300 kB over a veth pair between two namespaces the test makes, with
    packet loss, captured on the sender's side (namespace a, va).

    netem (when the kernel has sch_netem): `tc qdisc ... netem loss 15%`
    on va. The qdisc runs before the capture point, so a lost segment is
    never captured; what the capture shows is the gap and the resent copy.

    nftables (where the kernel has no sch_netem but nf_tables, as on the
    machine this was written on; never a skip): a rule in namespace b's input hook drops the
    third data-carrying segment that arrives (`numgen inc mod 1000 == 2`:
    exactly one, deterministic). The capture in a has seen it leave, so it
    holds both copies: the original and the sender's retransmission.

    Either way every label `retransmission` is checked against tshark's
    TCP analysis of the same file, and every header field is cross-checked
    (cross_check)."""
    for tool in ("ip", "tc", "nft"):
        if shutil.which(tool) is None:
            pytest.fail("%s missing: scripts/install-deps installs it" % tool)
    loss = "netem" if has_netem() else "nftables"
    tag = "ikt%d" % os.getpid()
    a, b = tag + "a", tag + "b"
    made = subprocess.run(["ip", "netns", "add", a], stderr=subprocess.PIPE, text=True)
    assert made.returncode == 0, "network namespaces unavailable: " + made.stderr.strip()
    try:
        sh = lambda *c: subprocess.run(list(c), check=True, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
        sh("ip", "netns", "add", b)
        sh("ip", "link", "add", "va", "netns", a, "type", "veth", "peer", "name", "vb", "netns", b)
        sh("ip", "-n", a, "addr", "add", "10.77.0.1/24", "dev", "va")
        sh("ip", "-n", b, "addr", "add", "10.77.0.2/24", "dev", "vb")
        sh("ip", "-n", a, "link", "set", "va", "up")
        sh("ip", "-n", b, "link", "set", "vb", "up")
        sh("ip", "-n", a, "link", "set", "lo", "up")
        sh("ip", "-n", b, "link", "set", "lo", "up")
        if loss == "netem":
            sh("ip", "netns", "exec", a, "tc", "qdisc", "add", "dev", "va", "root",
               "netem", "loss", "15%")
        else:
            nft = ["ip", "netns", "exec", b, "nft"]
            sh(*nft, "add", "table", "inet", "ikt")
            sh(*nft, "add", "chain", "inet", "ikt", "in",
               "{ type filter hook input priority 0; }")
            # meta length > 200: segments that carry data (not bare ACKs)
            sh(*nft, "add", "rule", "inet", "ikt", "in", "tcp", "dport", "5001", "meta",
               "length", ">", "200", "numgen", "inc", "mod", "1000", "==", "2", "counter",
               "drop")
        srv = tmp_path / "sink.py"
        srv.write_text("import socket\ns=socket.socket()\ns.bind(('10.77.0.2',5001))\n"
                       "s.listen()\nprint('ready',flush=True)\nc,_=s.accept()\n"
                       "n=0\nwhile True:\n d=c.recv(65536)\n if not d: break\n n+=len(d)\n"
                       "c.sendall(str(n).encode())\nc.close()\n")
        cli = tmp_path / "src.py"
        cli.write_text("import socket\nc=socket.create_connection(('10.77.0.2',5001),timeout=60)\n"
                       "c.sendall(b'x'*300000)\nc.shutdown(socket.SHUT_WR)\nprint(c.recv(100))\n"
                       "c.close()\n")
        cap = Capture(tmp_path / "loss.pcap", "tcp port 5001", "-i", "va", netns=a)
        s = subprocess.Popen(["ip", "netns", "exec", b, sys.executable, str(srv)],
                             stdout=subprocess.PIPE, text=True)
        assert s.stdout.readline().strip() == "ready"
        out = subprocess.run(["ip", "netns", "exec", a, sys.executable, str(cli)],
                             stdout=subprocess.PIPE, text=True, timeout=120, check=True)
        assert "300000" in out.stdout
        s.wait(timeout=60)
        path = cap.stop()
        pk = packets(path)
        ours = {i + 1 for i, p in enumerate(pk)
                if (p.get("label") or "").startswith("retransmission")}
        assert ours, [p.get("label") for p in pk][:60]
        assert "retransmissions" in trace_read(path)
        # tshark's TCP analysis calls a segment below the next expected
        # sequence number a retransmission, or "out-of-order" when it comes
        # sooner after the previous segment than the measured RTT, which a
        # fast retransmit on a veth pair (tens of microseconds) does. Both
        # are its name for what we label retransmission.
        theirs = (tshark_frames(path, "tcp.analysis.retransmission")
                  | tshark_frames(path, "tcp.analysis.out_of_order"))
        if loss == "nftables":
            rules = sh("ip", "netns", "exec", b, "nft", "list", "chain", "inet", "ikt", "in")
            assert "counter packets 1 " in rules.stdout, rules.stdout
            # both copies captured: the same frames as tshark, and each
            # repeats the sequence number of an earlier frame of its sender
            assert ours == theirs, (sorted(ours), sorted(theirs))
            for n in ours:
                t = pk[n - 1]["tcp"]
                assert any(p["tcp"]["seq"] == t["seq"] and p["tcp"]["sport"] == t["sport"]
                           for p in pk[:n - 1]), n
        else:
            # the lost copy was never captured (netem runs before the
            # capture point): tshark sees the resent copy only
            assert ours <= theirs, (sorted(ours), sorted(theirs))
        cross_check(path)
    finally:
        subprocess.run(["ip", "netns", "del", a], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "netns", "del", b], stderr=subprocess.DEVNULL)


def test_retransmission_in_a_resent_segment(tmp_path):
    """The same data segment twice in a real capture (as a sender's
    retransmission puts it on the wire): labelled, counted, and tshark
    agrees it is one."""
    port = free_port()
    cap = Capture(tmp_path / "orig.pcap", "tcp port %d" % port)
    textbook_session_port(tmp_path, "127.0.0.1", port)
    path = cap.stop()
    raw = open(path, "rb").read()
    hdr, off, recs = raw[:24], 24, []
    while off < len(raw):
        caplen = struct.unpack("<I", raw[off + 8:off + 12])[0]
        recs.append(raw[off:off + 16 + caplen])
        off += 16 + caplen
    labs = labels(path)
    i = labs.index("data")
    again = recs[:i + 2] + [recs[i]] + recs[i + 2:]
    out = tmp_path / "retrans.pcap"
    out.write_bytes(hdr + b"".join(again))
    labs2 = labels(str(out))
    assert labs2[i + 2] == "retransmission", labs2
    assert labs2.count("retransmission") == 1
    assert "1 retransmissions" in trace_read(str(out))
    t = subprocess.run(["tshark", "-r", str(out), "-Y", "tcp.analysis.retransmission",
                        "-T", "fields", "-e", "frame.number"], stdout=subprocess.PIPE, text=True)
    assert t.stdout.split() == [str(i + 3)]
    cross_check(str(out))


# --- cross-check with tshark ------------------------------------------------

def _first(layer, key):
    v = layer.get(key)
    if isinstance(v, list):
        v = v[0]
    return v


def _int(v):
    return int(v, 16) if isinstance(v, str) and v.startswith("0x") else int(v)


def _find(d, key):
    """The first value of key anywhere under d (tshark nests options)."""
    if isinstance(d, dict):
        if key in d:
            return d[key]
        for v in d.values():
            r = _find(v, key)
            if r is not None:
                return r
    elif isinstance(d, list):
        for v in d:
            r = _find(v, key)
            if r is not None:
                return r
    return None


def cross_check(path):
    if shutil.which("tshark") is None:
        pytest.fail("tshark missing: scripts/install-deps installs it")
    t = subprocess.run(["tshark", "-r", path, "-T", "json", "-o", "tcp.relative_sequence_numbers:FALSE"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    assert t.returncode == 0, t.stderr
    theirs = json.loads(t.stdout)
    ours = packets(path)
    assert len(theirs) == len(ours)
    checked = 0
    for o, th in zip(ours, theirs):
        L = th["_source"]["layers"]
        fr = L["frame"]
        assert o["caplen"] == _int(fr["frame.cap_len"])
        assert o["len"] == _int(fr["frame.len"])
        if "ip" in L and o.get("ip", {}).get("version") == 4:
            ip = L["ip"]
            assert o["ip"]["src"] == ip["ip.src"]
            assert o["ip"]["dst"] == ip["ip.dst"]
            assert o["ip"]["ttl"] == _int(ip["ip.ttl"])
            assert o["ip"]["id"] == _int(ip["ip.id"])
            assert o["ip"]["proto"] == _int(ip["ip.proto"])
            assert o["ip"]["total_len"] == _int(ip["ip.len"])
            assert o["ip"]["checksum"] == _int(ip["ip.checksum"])
            assert o["ip"]["hdr_len"] == _int(ip["ip.hdr_len"])
            checked += 1
        if "ipv6" in L and o.get("ip", {}).get("version") == 6:
            ip6 = L["ipv6"]
            assert o["ip"]["src"] == ip6["ipv6.src"]
            assert o["ip"]["dst"] == ip6["ipv6.dst"]
            assert o["ip"]["ttl"] == _int(ip6["ipv6.hlim"])
            assert o["ip"]["total_len"] - 40 == _int(ip6["ipv6.plen"])
            checked += 1
        if "tcp" in L and o.get("tcp", {}).get("status") in ("ok", "malformed"):
            tc = L["tcp"]
            assert o["tcp"]["sport"] == _int(tc["tcp.srcport"])
            assert o["tcp"]["dport"] == _int(tc["tcp.dstport"])
            assert o["tcp"]["seq"] == _int(tc.get("tcp.seq_raw", tc["tcp.seq"]))
            assert o["tcp"]["ack"] == _int(tc.get("tcp.ack_raw", tc["tcp.ack"]))
            assert o["tcp"]["window"] == _int(tc["tcp.window_size_value"])
            assert o["tcp"]["hdr_len"] == _int(tc["tcp.hdr_len"])
            assert o["tcp"]["flags"] == _int(tc["tcp.flags"]) & 0xff
            assert o["tcp"]["checksum"] == _int(tc["tcp.checksum"])
            opts = o["tcp"]["options"]
            for ours_k, theirs_k in (("mss", "tcp.options.mss_val"),
                                     ("wscale", "tcp.options.wscale.shift"),
                                     ("ts_val", "tcp.options.timestamp.tsval"),
                                     ("ts_ecr", "tcp.options.timestamp.tsecr")):
                v = _find(tc, theirs_k)
                if v is not None:
                    assert opts.get(ours_k) == _int(_first({"x": v}, "x")), (ours_k, opts, v)
                else:
                    assert ours_k not in opts, (ours_k, opts)
            assert ("sack_perm" in opts) == (_find(tc, "tcp.options.sack_perm") is not None)
            checked += 1
        if "udp" in L and o.get("udp", {}).get("status") == "ok":
            u = L["udp"]
            assert o["udp"]["sport"] == _int(u["udp.srcport"])
            assert o["udp"]["dport"] == _int(u["udp.dstport"])
            assert o["udp"]["length"] == _int(u["udp.length"])
            assert o["udp"]["checksum"] == _int(u["udp.checksum"])
            checked += 1
    assert checked > 0

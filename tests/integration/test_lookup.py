"""inetkit lookup: host, addr, service, proto and hostname.

Outside a namespace only names that resolve without DNS are used: localhost,
names already in /etc/hosts, numeric addresses, /etc/services and
/etc/protocols. Results are compared with what Python's socket module (the
same C library calls) says for the same input.

Tests that need their own /etc/hosts, a resolver that refuses, or a DNS
server that never answers run in a private mount + network + UTS namespace
(`unshare`, needs root): its only interface is loopback, so no query can
leave the machine, and the black-hole "DNS server" is a Python socket bound
to 127.0.0.1:53 inside it. Without unshare those tests are skipped; the
timeout logic is also covered by tests/unit/test_lookup.c with a fake
resolver.
"""
import json
import os
import pty
import shutil
import socket
import subprocess
import sys

import pytest

from conftest import BIN, run

USAGE_TAIL = "\nTry 'inetkit lookup --help'.\n"


def lk(*args, **kw):
    return run("lookup", *args, **kw)


def lk_json(*args):
    p = lk(*args, "--json", check=0)
    assert p.stdout.endswith("\n") and p.stdout.count("\n") == 1
    return json.loads(p.stdout)


def unique_addresses(name, family=0):
    """Python's getaddrinfo, de-duplicated the way inetkit does."""
    seen = []
    for fam, _, _, _, sa in socket.getaddrinfo(name, None, family):
        item = (sa[0], "ipv4" if fam == socket.AF_INET else "ipv6")
        if item not in seen:
            seen.append(item)
    return seen


def canonical_name(name, family=0):
    return socket.getaddrinfo(name, None, family, 0, 0, socket.AI_CANONNAME)[0][3]


def gai_message(name, family=0):
    with pytest.raises(socket.gaierror) as exc:
        socket.getaddrinfo(name, None, family)
    return exc.value.strerror


def db_entries(path):
    """Lines of /etc/services or /etc/protocols as (name, value, aliases)."""
    out = []
    with open(path) as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if len(words) >= 2:
                out.append((words[0], words[1], words[2:]))
    return out


def service_aliases(name, proto):
    for n, portproto, aliases in db_entries("/etc/services"):
        if portproto.endswith("/" + proto) and (n == name or name in aliases):
            return aliases
    return None


def hosts_names():
    names = set()
    with open("/etc/hosts") as f:
        for line in f:
            names.update(line.split("#", 1)[0].split()[1:])
    return names


# ---- help and usage ---------------------------------------------------------

@pytest.mark.parametrize("args", [["--help"], ["-h"], ["host", "--help"],
                                  ["service", "80", "-h"], ["hostname", "--help"]])
def test_help(args):
    p = lk(*args, check=0)
    assert p.stdout.startswith("Usage: inetkit lookup host NAME")
    for verb in ("host", "addr", "service", "proto", "hostname"):
        assert "inetkit lookup %s" % verb in p.stdout
    assert p.stderr == ""


@pytest.mark.parametrize("args,message", [
    ([], "say what to look up: host, addr, service, proto or hostname"),
    (["--json"], "say what to look up: host, addr, service, proto or hostname"),
    (["dns", "x"], "unknown lookup 'dns': use host, addr, service, proto or hostname"),
    (["host"], "missing NAME: inetkit lookup host NAME"),
    (["addr", "--json"], "missing IP: inetkit lookup addr IP"),
    (["service"], "missing NAME|PORT: inetkit lookup service NAME|PORT"),
    (["proto"], "missing NAME|NUMBER: inetkit lookup proto NAME|NUMBER"),
    (["host", "localhost", "extra"], "unexpected argument 'extra'"),
    (["hostname", "vm"], "unexpected argument 'vm'"),
    (["service", "http", "-4"], "unexpected argument '-4'"),
    (["host", "-4", "-6", "localhost"], "-4 and -6 together: give one, or neither for both"),
    (["host", "--proto", "tcp", "localhost"], "unknown option '--proto' for 'lookup host'"),
    (["addr", "-4", "127.0.0.1"], "unknown option '-4' for 'lookup addr'"),
    (["proto", "--frob", "tcp"], "unknown option '--frob' for 'lookup proto'"),
    (["host", "localhost", "--timeout"], "option --timeout needs a value"),
    (["service", "http", "--proto"], "option --proto needs a value"),
])
def test_usage_errors(args, message):
    p = lk(*args, check=2)
    assert p.stderr == "inetkit lookup: " + message + USAGE_TAIL
    assert p.stdout == ""


@pytest.mark.parametrize("value", ["0", "abc", "-1", "3601", "1.5s", ""])
def test_bad_timeout(value):
    p = lk("host", "localhost", "--timeout", value, check=2)
    assert p.stderr == ("inetkit lookup: invalid timeout '%s': give seconds from 0.001 "
                        "to 3600, e.g. 5, 0.5 or 500ms\n" % value)


@pytest.mark.parametrize("opt", [["--timeout", "2"], ["--timeout", "0.5"],
                                 ["--timeout=500ms"], ["--timeout", "3600"]])
def test_timeout_accepted(opt):
    for verb, arg in (("host", "localhost"), ("addr", "127.0.0.1"), ("service", "http"),
                      ("proto", "tcp")):
        lk(verb, arg, *opt, check=0)


# ---- host -------------------------------------------------------------------

def test_host_localhost_human():
    p = lk("host", "localhost", check=0)
    lines = p.stdout.splitlines()
    assert lines[0] == "name       localhost"
    assert lines[1] == "canonical  " + canonical_name("localhost")
    want = ["%-9s  %s" % (fam, addr) for addr, fam in unique_addresses("localhost")]
    assert lines[2:] == want
    assert "\x1b" not in p.stdout


@pytest.mark.parametrize("family,flag", [(0, None), (socket.AF_INET, "-4")])
def test_host_localhost_json_matches_python(family, flag):
    args = ["host", "localhost"] + ([flag] if flag else [])
    got = lk_json(*args)
    assert set(got) == {"query", "canonical_name", "addresses"}
    assert got["query"] == "localhost"
    assert got["canonical_name"] == canonical_name("localhost", family)
    assert [(a["address"], a["family"]) for a in got["addresses"]] == \
        unique_addresses("localhost", family)


def test_host_names_from_etc_hosts():
    for name in sorted(hosts_names() - {"localhost"})[:3]:
        if not all(c.isalnum() or c in "-." for c in name):
            continue
        got = lk_json("host", name)
        assert [(a["address"], a["family"]) for a in got["addresses"]] == unique_addresses(name)
        assert got["canonical_name"] == canonical_name(name)


@pytest.mark.parametrize("addr,flag,family", [
    ("127.0.0.1", "-4", "ipv4"), ("::1", "-6", "ipv6"), ("0:0::1", None, "ipv6"),
])
def test_host_numeric(addr, flag, family):
    got = lk_json("host", addr, *([flag] if flag else []))
    want = unique_addresses(addr)
    assert [(a["address"], a["family"]) for a in got["addresses"]] == want
    assert want[0][1] == family
    assert got["canonical_name"] == canonical_name(addr)


@pytest.mark.parametrize("addr,flag,family,words", [
    ("127.0.0.1", "-6", socket.AF_INET6, "IPv6"),
    ("::1", "-4", socket.AF_INET, "IPv4"),
])
def test_host_wrong_family_exit_2(addr, flag, family, words):
    p = lk("host", flag, addr, check=2)
    assert p.stderr == "inetkit lookup: cannot resolve '%s' as %s: %s\n" % (
        addr, words, gai_message(addr, family))


def test_host_bad_names():
    p = lk("host", "", check=2)
    assert p.stderr == ("inetkit lookup: empty host name: give a name such as localhost "
                        "or an address\n")
    p = lk("host", "a b", check=2)
    assert p.stderr == "inetkit lookup: host name 'a b' contains a space or control character\n"
    p = lk("host", "a" * 254, check=2)
    assert p.stderr == "inetkit lookup: host name is 254 bytes long; the limit is 253\n"


# ---- addr -------------------------------------------------------------------

def test_addr_ipv4():
    name = socket.getnameinfo(("127.0.0.1", 0), socket.NI_NAMEREQD)[0]
    p = lk("addr", "127.0.0.1", check=0)
    assert p.stdout == "address  127.0.0.1\nname     %s\n" % name
    got = lk_json("addr", "127.0.0.1")
    assert got == {"query": "127.0.0.1", "address": "127.0.0.1", "family": "ipv4",
                   "name": name}


@pytest.mark.parametrize("arg,message", [
    ("127.1", "'127.1' is not an IPv4 or IPv6 address"),
    ("localhost", "'localhost' is not an IPv4 or IPv6 address"),
    ("256.1.1.1", "'256.1.1.1' is not an IPv4 or IPv6 address"),
    ("::1::2", "'::1::2' is not an IPv4 or IPv6 address"),
    ("fe80::1%nosuchif0", "unknown interface 'nosuchif0' in 'fe80::1%nosuchif0'"),
    ("fe80::1%", "empty zone after '%' in 'fe80::1%': name an interface, e.g. fe80::1%lo"),
])
def test_addr_bad_input(arg, message):
    p = lk("addr", arg, check=2)
    assert p.stderr == "inetkit lookup: " + message + "\n"


# ---- service ----------------------------------------------------------------

SERVICES = ["http", "ssh", "domain", "smtp", "ntp", "exec", "biff"]


@pytest.mark.parametrize("name", SERVICES)
def test_service_by_name_matches_python(name):
    want = []
    for proto in ("tcp", "udp"):
        try:
            want.append((proto, socket.getservbyname(name, proto)))
        except OSError:
            pass
    if not want:
        pytest.skip("%s not in /etc/services" % name)
    got = lk_json("service", name)
    assert set(got) == {"query", "port", "range", "range_first", "range_last", "services"}
    assert [(s["protocol"], s["port"]) for s in got["services"]] == want
    assert got["port"] == want[0][1]
    for s in got["services"]:
        assert socket.getservbyport(s["port"], s["protocol"]) == s["name"]
        assert s["aliases"] == service_aliases(s["name"], s["protocol"])


def test_service_http_human():
    port = socket.getservbyname("http", "tcp")
    aliases = service_aliases("http", "tcp")
    p = lk("service", "http", "--proto", "tcp", check=0)
    want = ("port       %d\nrange      well-known (0-1023)\n%-9s  http" %
            (port, "%d/tcp" % port))
    want += ("  aliases: " + ", ".join(aliases) if aliases else "") + "\n"
    assert p.stdout == want


def test_service_port_with_two_names():
    try:
        tcp, udp = socket.getservbyport(512, "tcp"), socket.getservbyport(512, "udp")
    except OSError:
        pytest.skip("512/tcp or 512/udp not in /etc/services")
    got = lk_json("service", "512")
    assert got["port"] == 512 and got["range"] == "well-known"
    assert [(s["name"], s["protocol"]) for s in got["services"]] == [(tcp, "tcp"), (udp, "udp")]
    p = lk("service", "512", check=0)
    assert "512/tcp    %s\n" % tcp in p.stdout
    assert p.stdout.splitlines()[3].startswith("512/udp    %s" % udp)


@pytest.mark.parametrize("proto", ["tcp", "udp"])
def test_service_proto_filter(proto):
    try:
        socket.getservbyport(53, proto)
    except OSError:
        pytest.skip("53/%s not in /etc/services" % proto)
    got = lk_json("service", "domain", "--proto", proto)
    assert [(s["protocol"], s["port"]) for s in got["services"]] == \
        [(proto, socket.getservbyname("domain", proto))]
    got = lk_json("service", "--proto=%s" % proto, "53")
    assert [s["name"] for s in got["services"]] == [socket.getservbyport(53, proto)]


def free_service_port(lo, hi):
    for port in range(lo, hi):
        try:
            socket.getservbyport(port, "tcp")
            continue
        except OSError:
            pass
        try:
            socket.getservbyport(port, "udp")
        except OSError:
            return port
    pytest.skip("every port in %d-%d has a service" % (lo, hi))


@pytest.mark.parametrize("lo,hi,rng,first,last", [
    (0, 1024, "well-known", 0, 1023),
    (1024, 49152, "registered", 1024, 49151),
    (49152, 65536, "dynamic", 49152, 65535),
])
def test_service_port_without_entry_prints_range(lo, hi, rng, first, last):
    port = free_service_port(lo, hi)
    got = lk_json("service", str(port))
    assert got == {"query": str(port), "port": port, "range": rng, "range_first": first,
                   "range_last": last, "services": []}
    p = lk("service", str(port), check=0)
    assert p.stdout == ("port       %d\nrange      %s (%d-%d)\nservice    none in "
                        "/etc/services\n" % (port, rng, first, last))


@pytest.mark.parametrize("port,rng", [(0, "well-known"), (1023, "well-known"),
                                      (1024, "registered"), (49151, "registered"),
                                      (49152, "dynamic"), (65535, "dynamic")])
def test_port_range_boundaries(port, rng):
    assert lk_json("service", str(port))["range"] == rng


def test_service_other_protocol_fallback():
    ddp = [n for n, pp, _ in db_entries("/etc/services") if pp.endswith("/ddp")]
    if not ddp:
        pytest.skip("no ddp services")
    name = ddp[0]
    got = lk_json("service", name)
    assert [(s["name"], s["protocol"], s["port"]) for s in got["services"]] == \
        [(name, "ddp", socket.getservbyname(name))]


@pytest.mark.parametrize("args,message", [
    (["nosuchsvc"], "no such service 'nosuchsvc' in /etc/services"),
    (["nosuchsvc", "--proto", "tcp"], "no such service 'nosuchsvc' for tcp in /etc/services"),
    (["--proto", "udp", "nosuchsvc"], "no such service 'nosuchsvc' for udp in /etc/services"),
    (["70000"], "port 70000 is out of range 0-65535"),
    (["65536"], "port 65536 is out of range 0-65535"),
    (["-1"], "port -1 is out of range 0-65535"),
    (["99999999999999999999"], "port 99999999999999999999 is out of range 0-65535"),
    ([""], "empty service name: give a name or a number"),
    (["http/tcp"], "invalid service name 'http/tcp': names in /etc/services have no "
                   "spaces, '/' or '#'"),
    (["http", "--proto", "icmp"], "unknown protocol 'icmp' for --proto: use tcp or udp"),
])
def test_service_errors(args, message):
    p = lk("service", *args, check=2)
    assert p.stderr == "inetkit lookup: " + message + "\n"
    assert p.stdout == ""


def test_service_json_error_has_no_stdout():
    p = lk("service", "nosuchsvc", "--json", check=2)
    assert p.stdout == ""


# ---- proto ------------------------------------------------------------------

def protocol_line(key):
    for name, number, aliases in db_entries("/etc/protocols"):
        if key in (name, number) or key in aliases:
            return name, int(number), aliases
    return None


@pytest.mark.parametrize("query", ["tcp", "udp", "icmp", "ipv6-icmp", "TCP", "6", "17", "0"])
def test_proto_matches_python(query):
    name, number, aliases = protocol_line(query)
    if not query.isdigit():
        assert socket.getprotobyname(query) == number
    got = lk_json("proto", query)
    assert got == {"query": query, "name": name, "number": number, "aliases": aliases}


def test_proto_human():
    name, number, aliases = protocol_line("tcp")
    p = lk("proto", "tcp", check=0)
    assert p.stdout == "name     %s\nnumber   %d\naliases  %s\n" % (
        name, number, ", ".join(aliases) or "-")


def test_proto_errors():
    p = lk("proto", "nosuchproto", check=2)
    assert p.stderr == "inetkit lookup: no such protocol 'nosuchproto' in /etc/protocols\n"
    p = lk("proto", "--", "-tcp", check=2)
    assert p.stderr == "inetkit lookup: no such protocol '-tcp' in /etc/protocols\n"
    for n in ("256", "-1", "1000"):
        p = lk("proto", n, check=2)
        assert p.stderr == "inetkit lookup: protocol number %s is out of range 0-255\n" % n
    unused = next(n for n in range(255, 0, -1) if protocol_line(str(n)) is None)
    p = lk("proto", str(unused), check=2)
    assert p.stderr == "inetkit lookup: no protocol number %d in /etc/protocols\n" % unused


# ---- hostname ---------------------------------------------------------------

def test_hostname():
    host = socket.gethostname()
    if host not in hosts_names():
        pytest.skip("this host's name is not in /etc/hosts; looking it up would ask DNS")
    fqdn = canonical_name(host)
    got = lk_json("hostname")
    domain = fqdn.split(".", 1)[1] if "." in fqdn else None
    assert got == {"hostname": host, "fqdn": fqdn, "domain": domain}
    p = lk("hostname", check=0)
    assert p.stdout == "hostname  %s\nfqdn      %s\ndomain    %s\n" % (host, fqdn, domain or "-")


# ---- colour -----------------------------------------------------------------

def run_on_pty(args, env_extra):
    env = dict(os.environ, TERM="xterm", **env_extra)
    if env_extra.get("NO_COLOR") is None:
        env.pop("NO_COLOR", None)
    master, slave = pty.openpty()
    try:
        p = subprocess.run([BIN] + args, stdout=slave, stderr=subprocess.PIPE, env=env,
                           timeout=30)
        os.close(slave)
        slave = None
        out = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    assert p.returncode == 0, p.stderr
    return out.decode()


def test_colour_only_on_terminal():
    out = run_on_pty(["lookup", "service", "http"], {})
    assert "\x1b[1mport" in out and "\x1b[0m" in out
    out = run_on_pty(["lookup", "service", "http"], {"NO_COLOR": "1"})
    assert "\x1b" not in out
    out = run_on_pty(["lookup", "service", "http", "--json"], {})
    assert "\x1b" not in out
    json.loads(out)


# ---- in a private namespace: own /etc/hosts, refusing and silent DNS --------

NS_DRIVER = r'''
import json, os, socket, subprocess, sys, tempfile
cfg = json.loads(sys.argv[1])
tmp = tempfile.mkdtemp()
for path, text in cfg["files"].items():
    local = os.path.join(tmp, os.path.basename(path))
    with open(local, "w") as f:
        f.write(text)
    subprocess.run(["mount", "--bind", local, path], check=True)
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
socket.sethostname(cfg.get("hostname", "nshost"))
keep = []
if cfg.get("blackhole"):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 53))
        if kind == socket.SOCK_STREAM:
            s.listen(16)
        keep.append(s)
out = {"runs": [], "python": []}
for argv in cfg.get("runs", []):
    p = subprocess.run([cfg["bin"]] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=20)
    out["runs"].append([p.returncode, p.stdout.decode(), p.stderr.decode()])
for name, family in cfg.get("python", []):
    try:
        res = socket.getaddrinfo(name, None, family, 0, 0, socket.AI_CANONNAME)
        out["python"].append({"canon": res[0][3], "addrs": [
            [sa[0], "ipv4" if fam == socket.AF_INET else "ipv6"] for fam, _, _, _, sa in res]})
    except socket.gaierror as e:
        out["python"].append({"error": e.strerror, "errno": e.errno})
print(json.dumps(out))
'''

NS_HOSTS = ("127.0.0.1 localhost\n"
            "::1 localhost ip6-localhost\n"
            "127.0.0.2 multi\n"
            "127.0.0.3 multi multi-alias\n"
            "::1 multi\n"
            "127.0.1.1 box.example.test box\n")
FILES_ONLY = "hosts: files\nservices: files\nprotocols: files\n"
FILES_DNS = "hosts: files dns\nservices: files\nprotocols: files\n"
# A single slow try: if inetkit's own timeout did not work, the driver's 20 s
# limit would be hit, failing the test rather than hanging it.
RESOLV = "nameserver 127.0.0.1\noptions timeout:30 attempts:1\n"


@pytest.fixture(scope="module")
def namespace():
    unshare = shutil.which("unshare")
    if unshare is None or shutil.which("ip") is None or shutil.which("mount") is None:
        pytest.skip("needs unshare, ip and mount")
    probe = subprocess.run([unshare, "--mount", "--net", "--uts", "true"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if probe.returncode != 0:
        pytest.skip("cannot create namespaces here (needs root)")

    def in_ns(runs, nsswitch=FILES_ONLY, hosts=NS_HOSTS, hostname="nshost",
              blackhole=False, python=()):
        cfg = {"bin": BIN, "runs": runs, "hostname": hostname, "blackhole": blackhole,
               "python": list(python),
               "files": {"/etc/hosts": hosts, "/etc/nsswitch.conf": nsswitch,
                         "/etc/resolv.conf": RESOLV}}
        p = subprocess.run([unshare, "--mount", "--net", "--uts", "--", sys.executable,
                            "-c", NS_DRIVER, json.dumps(cfg)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        assert p.returncode == 0, p.stderr.decode()
        return json.loads(p.stdout)
    return in_ns


def pairs(got):
    return [(a["address"], a["family"]) for a in got["addresses"]]


def test_ns_host_dedup_both_families(namespace):
    r = namespace([["lookup", "host", "multi", "--json"],
                   ["lookup", "host", "multi", "-4", "--json"],
                   ["lookup", "host", "multi", "-6", "--json"],
                   ["lookup", "host", "multi"]],
                  python=[("multi", 0), ("multi", socket.AF_INET), ("multi", socket.AF_INET6)])
    for (rc, out, err), py in zip(r["runs"][:3], r["python"]):
        assert rc == 0, err
        got = json.loads(out)
        want = []
        for a in py["addrs"]:
            if tuple(a) not in want:
                want.append(tuple(a))
        assert pairs(got) == want
        assert got["canonical_name"] == py["canon"]
    assert set(pairs(json.loads(r["runs"][0][1]))) == {
        ("127.0.0.2", "ipv4"), ("127.0.0.3", "ipv4"), ("::1", "ipv6")}
    assert pairs(json.loads(r["runs"][2][1])) == [("::1", "ipv6")]
    rc, out, err = r["runs"][3]
    lines = out.splitlines()
    assert lines[:2] == ["name       multi", "canonical  multi"]
    assert sorted(lines[2:]) == ["ipv4       127.0.0.2", "ipv4       127.0.0.3",
                                 "ipv6       ::1"]


def test_ns_canonical_name_of_alias(namespace):
    r = namespace([["lookup", "host", "multi-alias", "--json"]], python=[("multi-alias", 0)])
    got = json.loads(r["runs"][0][1])
    assert got["canonical_name"] == r["python"][0]["canon"] == "multi"
    assert pairs(got) == [("127.0.0.3", "ipv4")]


def test_ns_reverse_ipv6_and_ipv4(namespace):
    r = namespace([["lookup", "addr", "::1", "--json"], ["lookup", "addr", "127.0.0.3"],
                   ["lookup", "addr", "0:0:0:0:0:0:0:1"]])
    assert json.loads(r["runs"][0][1]) == {"query": "::1", "address": "::1", "family": "ipv6",
                                           "name": "localhost"}
    assert r["runs"][1][1] == "address  127.0.0.3\nname     multi\n"
    assert r["runs"][2][1] == "address  ::1\nname     localhost\n"


def test_ns_unknown_names_exit_2(namespace):
    r = namespace([["lookup", "host", "nosuch.test"],
                   ["lookup", "host", "-6", "box"],
                   ["lookup", "addr", "127.0.0.9"],
                   ["lookup", "addr", "::2", "--json"]],
                  python=[("nosuch.test", 0), ("box", socket.AF_INET6)])
    why = r["python"][0]["error"]
    assert r["runs"][0] == [2, "", "inetkit lookup: cannot resolve 'nosuch.test': %s\n" % why]
    assert r["runs"][1] == [2, "", "inetkit lookup: cannot resolve 'box' as IPv6: %s\n" %
                            r["python"][1]["error"]]
    assert r["runs"][2] == [2, "", "inetkit lookup: no name for address 127.0.0.9: %s\n" % why]
    assert r["runs"][3] == [2, "", "inetkit lookup: no name for address ::2: %s\n" % why]


def test_ns_hostname_fqdn(namespace):
    r = namespace([["lookup", "hostname", "--json"], ["lookup", "hostname"]], hostname="box")
    assert json.loads(r["runs"][0][1]) == {"hostname": "box", "fqdn": "box.example.test",
                                           "domain": "example.test"}
    assert r["runs"][1] == [0, "hostname  box\nfqdn      box.example.test\n"
                               "domain    example.test\n", ""]


def test_ns_hostname_unknown_exit_1(namespace):
    r = namespace([["lookup", "hostname"]], hostname="lonely", python=[("lonely", 0)])
    assert r["runs"][0] == [1, "", "inetkit lookup: cannot find the fully qualified name of "
                                   "this host: cannot resolve 'lonely': %s\n" %
                            r["python"][0]["error"]]


def test_ns_resolver_unavailable_exit_1(namespace):
    # DNS is consulted, but nothing listens on 127.0.0.1:53: the resolver
    # gets "connection refused" at once and answers EAI_AGAIN.
    r = namespace([["lookup", "host", "nosuch.test"], ["lookup", "addr", "127.0.0.9"],
                   ["lookup", "hostname"], ["lookup", "host", "localhost", "--json"]],
                  nsswitch=FILES_DNS, hostname="lonely", python=[("nosuch.test", 0)])
    why = r["python"][0]["error"]
    assert r["python"][0]["errno"] == socket.EAI_AGAIN
    tail = ": %s; try again later\n" % why
    assert r["runs"][0] == [1, "", "inetkit lookup: cannot resolve 'nosuch.test'" + tail]
    assert r["runs"][1] == [1, "", "inetkit lookup: no name for address 127.0.0.9" + tail]
    assert r["runs"][2] == [1, "", "inetkit lookup: cannot find the fully qualified name of "
                                   "this host: cannot resolve 'lonely'" + tail]
    assert r["runs"][3][0] == 0     # /etc/hosts still answers first


def test_ns_timeout_exit_1(namespace):
    # A "DNS server" that reads queries and never answers.
    r = namespace([["lookup", "host", "nosuch.test", "--timeout", "0.5"],
                   ["lookup", "addr", "127.0.0.9", "--timeout=300ms", "--json"],
                   ["lookup", "hostname", "--timeout", "1"],
                   ["lookup", "host", "box", "--timeout", "0.5"]],
                  nsswitch=FILES_DNS, hostname="lonely", blackhole=True)
    assert r["runs"][0] == [1, "", "inetkit lookup: timed out after 0.5 s looking up "
                                   "'nosuch.test'\n"]
    assert r["runs"][1] == [1, "", "inetkit lookup: timed out after 0.3 s looking up "
                                   "'127.0.0.9'\n"]
    assert r["runs"][2] == [1, "", "inetkit lookup: timed out after 1 s looking up 'lonely'\n"]
    assert r["runs"][3][0] == 0

"""inetkit addr: the address calculator, cross-checked against Python's ipaddress.

The big test feeds >= 10,000 seeded random inputs (IPv4 and IPv6, random
prefixes, biased towards the special-purpose ranges) through ONE batch
`--json` run and compares every record with what Python's ipaddress says.
Where we differ from Python on purpose, the difference is listed below (and
in docs/inetkit-addr.1, "DIFFERENCES FROM PYTHON") and the test expects OUR
value for exactly those inputs; everything else must agree exactly.

Deliberate differences from Python 3.11's ipaddress (the Debian 12 build,
which has the IANA-aligned is_private/is_global of CVE-2024-4032's fix):

  id  where                          key(s)                    Python says            we say (why)
  D1  224.0.0.0/24, 239.0.0.0/8      is_global, is_private     global                 not global: local network control
                                                                                      and admin-scoped blocks (RFC 5771,
                                                                                      RFC 2365) never leave their scope
  D2  ff00::/8 with scope != e       is_global, is_private     global                 only global-scope multicast is
                                                                                      globally reachable (RFC 7346)
  D3  ::ffff:0:0/96 (IPv4-mapped)    is_global, is_private     those of the IPv4      the registry row: not globally
                                                               address inside         reachable (never on the wire)
  D4  2002::/16 (6to4)               is_global, is_private     private, not global    those of the embedded IPv4 address
                                                                                      (registry: N/A; RFC 3056 §2)
  D5  2001:1::3/128                  is_global, is_private     private                global (registry row, RFC 9665;
                                                                                      newer than Python's table)
  D6  3fff::/20, 5f00::/16,          is_global, is_private     global                 not global (registry rows RFC 9637,
      100:0:0:1::/64, 192.88.99.2/32                                                  RFC 9602, RFC 9780, RFC 6751)
  D7  fec0::/10                      is_reserved               False                  True (IPv6 Address Space registry:
                                                                                      "Reserved by IETF", RFC 3879)
  D8  IPv4 /31 and /32; all IPv6     broadcast                 the last address       null: /31 has no broadcast
                                                                                      (RFC 3021), nor has /32 or IPv6
  D9  ::ffff:0:0/96, 64:ff9b::/96    address text              hex (::ffff:102:304)   dotted tail (::ffff:1.2.3.4),
                                                                                      as RFC 5952 §5 recommends
  D10 "/024" (prefix, leading 0)     input                     accepted               refused, like leading zeros in
                                                                                      octets (test_prefix_leading_zero)
Not differences: "addresses" is Python's num_addresses and "hosts" is
len(list(hosts())) - usable hosts, with /31 and /127 both usable (RFC 3021,
RFC 6164) and IPv6 leaving out only the Subnet-Router anycast address.
"""
import ipaddress
import json
import os
import pty
import random
import re
import select
import socket
import subprocess

import pytest

from conftest import BIN, run


def addr(*args, **kw):
    return run("addr", *args, **kw)

ALL_KEYS = [
    "input", "address", "version", "zone", "prefix", "cidr", "network", "netmask",
    "wildcard", "broadcast", "first_host", "last_host", "addresses", "hosts", "class",
    "type", "type_name", "rfc", "registry_block", "is_private", "is_global",
    "is_loopback", "is_multicast", "is_link_local", "is_reserved", "is_unspecified",
    "embedded_ipv4", "embedded_kind", "reverse_dns", "integer", "hex", "binary",
    "expanded",
]
FLAGS = ["is_private", "is_global", "is_loopback", "is_multicast", "is_link_local",
         "is_reserved", "is_unspecified"]

SPECIAL_V4 = [
    "0.0.0.0/8", "0.0.0.0/32", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
    "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.0.0/29", "192.0.0.8/32",
    "192.0.0.9/32", "192.0.0.10/32", "192.0.0.170/31", "192.0.2.0/24", "192.31.196.0/24",
    "192.52.193.0/24", "192.88.99.0/24", "192.88.99.2/32", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "224.0.0.0/24",
    "232.0.0.0/8", "233.252.0.0/24", "239.0.0.0/8", "240.0.0.0/4", "255.255.255.255/32",
    "100.0.0.0/9", "172.0.0.0/10",
]
SPECIAL_V6 = [
    "::/128", "::1/128", "::/96", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48",
    "100::/64", "100:0:0:1::/64", "2001::/23", "2001::/32", "2001:1::1/128",
    "2001:1::2/128", "2001:1::3/128", "2001:1::/124", "2001:2::/48", "2001:3::/32",
    "2001:4:112::/48", "2001:10::/28", "2001:20::/28", "2001:30::/28", "2001:db8::/32",
    "2002::/16", "2620:4f:8000::/48", "3fff::/20", "3ff0::/12", "5f00::/16", "fc00::/7",
    "fe80::/10", "fec0::/10", "fe00::/9", "ff00::/8", "ff02::/16", "ff05::/16",
    "ff0e::/16", "ff1e::/16", "2000::/3",
]
ZONES = ["eth0", "1", "wlan-0", "br.lan", "en0_1"]


def net_(cidr):
    return ipaddress.ip_network(cidr)


def within(a, cidr):
    n = net_(cidr)
    return a.version == n.version and a in n


def canon(a):
    """Our text for an address: Python's, but with the dotted tail of D9."""
    if a.version == 6:
        v = int(a)
        if v >> 32 == 0xFFFF:
            return "::ffff:%s" % ipaddress.IPv4Address(v & 0xFFFFFFFF)
        if v >> 32 == 0x64FF9B << 64:
            return "64:ff9b::%s" % ipaddress.IPv4Address(v & 0xFFFFFFFF)
    return str(a)


def expected_flags(a, hits):
    """Python's booleans, with the deliberate differences D1-D7 applied."""
    f = {k: getattr(a, k) for k in FLAGS}
    if a.version == 4:
        if within(a, "224.0.0.0/24") or within(a, "239.0.0.0/8"):
            hits["D1"] += 1
            f.update(is_global=False, is_private=True)
        elif within(a, "192.88.99.2/32"):
            hits["D6"] += 1
            f.update(is_global=False, is_private=True)
        return f
    if a.is_multicast:
        if (int(a) >> 112) & 0xF != 0xE:
            hits["D2"] += 1
            f.update(is_global=False, is_private=True)
    elif within(a, "::ffff:0:0/96"):
        hits["D3"] += 1
        f.update(is_global=False, is_private=True)
    elif within(a, "2002::/16"):
        hits["D4"] += 1
        inner = expected_flags(a.sixtofour, hits)
        f.update(is_global=inner["is_global"], is_private=inner["is_private"])
    elif within(a, "2001:1::3/128"):
        hits["D5"] += 1
        f.update(is_global=True, is_private=False)
    elif any(within(a, c) for c in ("3fff::/20", "5f00::/16", "100:0:0:1::/64")):
        hits["D6"] += 1
        f.update(is_global=False, is_private=True)
    if within(a, "fec0::/10"):
        hits["D7"] += 1
        f["is_reserved"] = True
    return f


def expected_hosts(net):
    """(first, last, count) of usable hosts, from Python's hosts()."""
    if net.num_addresses <= 1024:
        hs = list(net.hosts())
        return hs[0], hs[-1], len(hs)
    first = next(iter(net.hosts()))
    if net.version == 4:  # hosts() is range(network + 1, broadcast)
        return first, net.broadcast_address - 1, net.num_addresses - 2
    return first, net.broadcast_address, net.num_addresses - 1


def expected_embedded(a):
    if a.version == 4:
        return None, None
    if a.ipv4_mapped is not None:
        return str(a.ipv4_mapped), "ipv4-mapped"
    if within(a, "64:ff9b::/96"):
        return str(ipaddress.IPv4Address(int(a) & 0xFFFFFFFF)), "nat64"
    if a.sixtofour is not None:
        return str(a.sixtofour), "6to4"
    if a.teredo is not None:
        return str(a.teredo[1]), "teredo"
    return None, None


def binary_of(a):
    if a.version == 4:
        return ".".join("{:08b}".format(b) for b in a.packed)
    bits = "{:0128b}".format(int(a))
    return ":".join(bits[i:i + 16] for i in range(0, 128, 16))


def v6_text(r, a):
    """Python's text of an IPv6 address in one of the RFC 4291 forms."""
    choice = r.random()
    if choice < 0.45:
        return str(a)
    if choice < 0.65:
        return a.exploded
    if choice < 0.8:
        return str(a).upper()
    if choice < 0.9:  # form 3: the last 32 bits as a dotted quad
        head = a.exploded.split(":")[:6]
        return ":".join(head) + ":" + str(ipaddress.IPv4Address(int(a) & 0xFFFFFFFF))
    return ":".join(g.lstrip("0") or "0" for g in a.exploded.split(":"))


def random_in(r, cidr):
    n = net_(cidr)
    host_bits = n.max_prefixlen - n.prefixlen
    value = int(n.network_address) | (r.getrandbits(host_bits) if host_bits else 0)
    return ipaddress.ip_address(value), n.prefixlen


def random_prefix(r, bits, block_prefix):
    pick = r.random()
    if pick < 0.15:
        return r.choice([0, bits, bits - 1, bits - 2, 1])
    if pick < 0.35 and block_prefix is not None:
        return min(bits, block_prefix + r.randint(0, 4))
    return r.randint(0, bits)


def generate(count, seed=20261122):
    r = random.Random(seed)
    out = []
    while len(out) < count:
        kind = r.random()
        block = None
        if kind < 0.25:
            a = ipaddress.IPv4Address(r.getrandbits(32))
        elif kind < 0.45:
            a = ipaddress.IPv6Address(r.getrandbits(128))
        elif kind < 0.70:
            a, block = random_in(r, r.choice(SPECIAL_V4))
        elif kind < 0.92:
            a, block = random_in(r, r.choice(SPECIAL_V6))
        else:  # an IPv4 special address inside an IPv6 one (D3, D4, NAT64, Teredo)
            v4, _ = random_in(r, r.choice(SPECIAL_V4 + ["0.0.0.0/0"]))
            wrap = r.choice(["mapped", "6to4", "nat64", "teredo"])
            v = int(v4)
            if wrap == "mapped":
                a = ipaddress.IPv6Address(0xFFFF << 32 | v)
            elif wrap == "6to4":
                a = ipaddress.IPv6Address(0x2002 << 112 | v << 80 | r.getrandbits(80))
            elif wrap == "nat64":
                a = ipaddress.IPv6Address(0x64FF9B << 96 | v)
            else:
                a = ipaddress.IPv6Address(0x20010000 << 96 | r.getrandbits(64) << 32 | v ^ 0xFFFFFFFF)
        bits = a.max_prefixlen
        text = str(a) if a.version == 4 else v6_text(r, a)
        if a.version == 6 and within(a, "fe80::/10") and r.random() < 0.4:
            text += "%" + r.choice(ZONES)
        elif a.version == 6 and r.random() < 0.03:
            text += "%" + r.choice(ZONES)
        if r.random() < 0.1:
            out.append(text)  # no prefix: a host
            continue
        prefix = random_prefix(r, bits, block)
        if a.version == 4 and r.random() < 0.2:
            out.append("%s/%s" % (text, ipaddress.IPv4Network("0.0.0.0/%d" % prefix).netmask))
        else:
            out.append("%s/%d" % (text, prefix))
    return out


def check_record(text, rec, hits):
    """Compare one JSON record with Python; returns a list of mismatches."""
    bad = []

    def eq(key, want):
        if rec[key] != want:
            bad.append("%s: %r, Python/expected %r" % (key, rec[key], want))

    addr_text, _, _ = text.partition("/")
    zone = addr_text.partition("%")[2] or None
    a = ipaddress.ip_address(addr_text.partition("%")[0])
    iface = ipaddress.ip_interface(addr_text.partition("%")[0] + text[len(addr_text):])
    net = iface.network
    eq("input", text)
    eq("address", canon(a) + ("%" + zone if zone else ""))
    eq("zone", zone)
    eq("version", a.version)
    eq("prefix", net.prefixlen)
    eq("cidr", "%s/%d" % (canon(net.network_address), net.prefixlen))
    eq("network", canon(net.network_address))
    eq("netmask", canon(net.netmask))
    eq("wildcard", canon(net.hostmask))
    has_bcast = net.version == 4 and net.prefixlen <= 30  # D8
    eq("broadcast", canon(net.broadcast_address) if has_bcast else None)
    first, last, count = expected_hosts(net)
    eq("first_host", canon(first))
    eq("last_host", canon(last))
    eq("hosts", count)
    eq("addresses", net.num_addresses)
    first_octet = a.packed[0]
    eq("class", None if a.version == 6 else "A" if first_octet < 128 else
       "B" if first_octet < 192 else "C" if first_octet < 224 else
       "D" if first_octet < 240 else "E")
    for key, want in expected_flags(a, hits).items():
        eq(key, want)
    emb, kind = expected_embedded(a)
    eq("embedded_ipv4", emb)
    eq("embedded_kind", kind)
    eq("reverse_dns", a.reverse_pointer)
    eq("integer", int(a))
    eq("hex", "0x%0*x" % (a.max_prefixlen // 4, int(a)))
    eq("binary", binary_of(a))
    eq("expanded", a.exploded + ("%" + zone if zone else ""))
    if rec["registry_block"] is not None and a not in net_(rec["registry_block"]):
        bad.append("registry_block %s does not hold %s" % (rec["registry_block"], a))
    typed = {"loopback": "is_loopback", "link-local": "is_link_local",
             "multicast": "is_multicast", "unspecified": "is_unspecified"}
    if rec["type"] in typed and not rec[typed[rec["type"]]]:
        bad.append("type %s without %s" % (rec["type"], typed[rec["type"]]))
    if rec["type"] == "private" and not any(within(a, c) for c in
                                            ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")):
        bad.append("type private outside RFC 1918")
    return bad


@pytest.mark.skipif(not hasattr(ipaddress.IPv4Address._constants, "_private_networks_exceptions"),
                    reason="needs the IANA-aligned ipaddress of /usr/bin/python3 (Debian 12) "
                           "or CPython >= 3.11.10; the differences table is written against it")
def test_cross_check_with_python_ipaddress():
    inputs = generate(12000)
    p = addr("--json", "-", input="\n".join(inputs) + "\n", check=0)
    assert p.stderr == ""
    lines = p.stdout.splitlines()
    assert len(lines) == len(inputs)
    hits = {k: 0 for k in ("D1", "D2", "D3", "D4", "D5", "D6", "D7")}
    failures = []
    for text, line in zip(inputs, lines):
        rec = json.loads(line)
        assert list(rec) == ALL_KEYS
        bad = check_record(text, rec, hits)
        if bad:
            failures.append("%s:\n    %s" % (text, "\n    ".join(bad)))
    assert not failures, "%d of %d differ from Python:\n%s" % (
        len(failures), len(inputs), "\n".join(failures[:20]))
    # every deliberate difference was exercised, so none is dead text
    for key, n in hits.items():
        assert n >= 5, "difference %s was hit only %d times" % (key, n)
    v4 = sum(1 for t in inputs if ":" not in t)
    assert 3000 < v4 < 9000


def test_prefix_leading_zero_is_refused_unlike_python():
    """D10: Python reads '/024' as /24; a leading zero is refused here, as in octets."""
    assert ipaddress.ip_interface("10.0.0.1/024").network.prefixlen == 24
    p = addr("10.0.0.1/024", check=2)
    assert p.stderr == "inetkit addr: '10.0.0.1/024': leading zero in prefix '024'; write 24\n"


# ---- human output -----------------------------------------------------------

def test_human_ipv4_table():
    p = addr("192.168.1.10/24", check=0)
    assert p.stdout == (
        "Address:       192.168.1.10\n"
        "Version:       IPv4\n"
        "Class:         C\n"
        "Type:          private (Private-Use, RFC 1918, block 192.168.0.0/16)\n"
        "Flags:         private\n"
        "Network:       192.168.1.0/24\n"
        "Netmask:       255.255.255.0 = /24\n"
        "Wildcard:      0.0.0.255\n"
        "Broadcast:     192.168.1.255\n"
        "First host:    192.168.1.1\n"
        "Last host:     192.168.1.254\n"
        "Hosts:         254\n"
        "Addresses:     256 (2^8)\n"
        "Reverse DNS:   10.1.168.192.in-addr.arpa\n"
        "Integer:       3232235786\n"
        "Hex:           0xc0a8010a\n"
        "Binary:        11000000.10101000.00000001.00001010\n")
    assert p.stderr == ""


def test_human_ipv6_table_and_several_inputs():
    p = addr("::ffff:192.0.2.1/96", "10.0.0.1/31", check=0)
    first, second = p.stdout.split("\n\n")
    assert first.splitlines() == [
        "Address:       ::ffff:192.0.2.1",
        "Expanded:      0000:0000:0000:0000:0000:ffff:c000:0201",
        "Version:       IPv6",
        "Type:          ipv4-mapped (IPv4-mapped Address, RFC 4291, block ::ffff:0:0/96)",
        "Flags:         private, reserved",
        "Embedded IPv4: 192.0.2.1 (ipv4-mapped)",
        "Network:       ::ffff:0.0.0.0/96",
        "Netmask:       ffff:ffff:ffff:ffff:ffff:ffff:: = /96",
        "Wildcard:      ::ffff:ffff",
        "First host:    ::ffff:0.0.0.1",
        "Last host:     ::ffff:255.255.255.255",
        "Hosts:         4294967295",
        "Addresses:     4294967296 (2^32)",
        "Reverse DNS:   1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
        "Integer:       281473902969345",
        "Hex:           0x00000000000000000000ffffc0000201",
        "Binary:        0000000000000000:0000000000000000:0000000000000000:0000000000000000:"
        "0000000000000000:1111111111111111:1100000000000000:0000001000000001",
    ]
    assert "Broadcast:     none (/31, RFC 3021)\n" in second
    assert "Hosts:         2\n" in second


def test_shared_space_is_neither_private_nor_global():
    p = addr("100.64.1.1", check=0)
    assert "Flags:         none (neither private nor globally reachable)\n" in p.stdout


def test_no_colour_on_a_pipe():
    p = addr("10.0.0.1", check=0)
    assert "\x1b[" not in p.stdout


def _run_on_tty(args, env=None):
    master, slave = pty.openpty()
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    e["TERM"] = "xterm"
    e.update(env or {})
    proc = subprocess.Popen([BIN] + args, stdout=slave, stderr=subprocess.PIPE, env=e)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 10)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=10)
    os.close(master)
    return proc.returncode, out.decode()


def test_colour_only_on_a_terminal():
    rc, out = _run_on_tty(["addr", "10.0.0.1"])
    assert rc == 0
    assert "\x1b[1mAddress:" in out and "\x1b[0m" in out
    rc, out = _run_on_tty(["addr", "10.0.0.1"], env={"NO_COLOR": "1"})
    assert rc == 0 and "\x1b[" not in out
    rc, out = _run_on_tty(["addr", "--json", "10.0.0.1"])
    assert rc == 0 and "\x1b[" not in out


# ---- JSON -----------------------------------------------------------------------

def test_json_keys_are_stable_and_documented():
    p = addr("--json", "10.0.0.1/8", "fe80::1%eth0/64", check=0)
    recs = [json.loads(line) for line in p.stdout.splitlines()]
    assert [list(r) for r in recs] == [ALL_KEYS, ALL_KEYS]
    man = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs",
                            "inetkit-addr.1")).read()
    for key in ALL_KEYS:
        assert re.search(r"^\.B %s$|\\fB%s\\fR" % (key, key), man, re.M), \
            "JSON key %s is not in the man page" % key
    assert recs[1]["zone"] == "eth0" and recs[1]["address"] == "fe80::1%eth0"
    assert recs[1]["cidr"] == "fe80::/64"


def test_json_edge_prefixes():
    p = addr("--json", "0.0.0.0/0", "::/0", "1.2.3.4/32", "::1/128", "2001:db8::/127", check=0)
    r = [json.loads(line) for line in p.stdout.splitlines()]
    assert r[0]["addresses"] == 2 ** 32 and r[0]["hosts"] == 2 ** 32 - 2
    assert r[0]["broadcast"] == "255.255.255.255"
    assert r[1]["addresses"] == 2 ** 128 and r[1]["hosts"] == 2 ** 128 - 1
    assert r[1]["first_host"] == "::1" and r[1]["last_host"] == "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
    assert (r[2]["hosts"], r[2]["broadcast"], r[2]["first_host"]) == (1, None, "1.2.3.4")
    assert (r[3]["hosts"], r[3]["type"], r[3]["is_loopback"]) == (1, "loopback", True)
    assert (r[4]["hosts"], r[4]["first_host"], r[4]["last_host"]) == (2, "2001:db8::", "2001:db8::1")


# ---- bad input -------------------------------------------------------------------

BAD = [
    ("192.168.1.256", "octet 256 is out of range 0\u2013255"),
    ("1::2::3", "'::' may appear only once"),
    ("010.1.1.1", "leading zero in octet '010' is ambiguous (octal in inet_aton); write 10"),
    ("", "empty input"),
    ("1.2.3.4/33", "prefix 33 is out of range 0\u201332"),
    ("2001:db8::/129", "prefix 129 is out of range 0\u2013128"),
    ("10.0.0.1/255.0.255.0", "netmask 255.0.255.0 is not contiguous (its 1 bits must all come first)"),
    ("10.0.0.1/0.0.0.255", "netmask 0.0.0.255 is not contiguous (it looks like a wildcard mask; "
                           "the netmask is its inverse)"),
    ("10.0.0.1/", "missing prefix length after '/'"),
    ("1.2.3", "only 3 octets; an IPv4 address has 4 (for short forms such as 127.1 see "
              "'inetkit addr aton')"),
    ("0x7f000001", "hexadecimal '0x7f000001' is not a dotted quad (for inet_aton forms see "
                   "'inetkit addr aton')"),
    ("12345::1", "group '12345' has more than 4 hex digits"),
    ("1:2:3:4:5:6:7", "only 7 groups and no '::'; an IPv6 address has 8"),
    ("::1.2.3.256", "embedded IPv4 '1.2.3.256': octet 256 is out of range 0\u2013255"),
    ("fe80::1%", "empty zone id after '%'"),
    ("10.0.0.1%eth0", "a zone id ('%...') is allowed only on IPv6 addresses"),
    ("host.example", "unexpected 'h' at position 1; expected a digit or '.'; addr takes "
                     "addresses, names are resolved with 'inetkit lookup host host.example'"),
    ("1.2.3.4\x01", "unexpected byte 0x01 at position 8; expected a digit or '.'"),
]


@pytest.mark.parametrize("text,why", BAD)
def test_bad_input_message_and_exit_2(text, why):
    p = addr(text, check=2)
    shown = text.replace("\x01", "\\x01")
    assert p.stderr == "inetkit addr: '%s': %s\n" % (shown, why)
    assert p.stdout == ""


def test_bad_argument_does_not_stop_the_others():
    p = addr("--json", "10.0.0.1", "10.0.0.256", "10.0.0.2", check=2)
    assert [json.loads(x)["address"] for x in p.stdout.splitlines()] == ["10.0.0.1", "10.0.0.2"]
    assert p.stderr == "inetkit addr: '10.0.0.256': octet 256 is out of range 0\u2013255\n"


def test_usage_errors():
    p = addr(check=2)
    assert p.stderr == ("inetkit addr: no address given (use - to read them from stdin)\n"
                        "Try 'inetkit addr --help'.\n")
    p = addr("--frob", "1.2.3.4", check=2)
    assert p.stderr.startswith("inetkit addr: unknown option '--frob'\n")
    p = addr("-x", "1.2.3.4", check=2)
    assert p.stderr.startswith("inetkit addr: unknown option '-x'\n")
    p = addr("--prefix", "24", "1.2.3.4", check=2)
    assert p.stderr.startswith("inetkit addr: option --prefix needs a verb (split, ntoa, ...)\n")
    p = addr("contains", "--prefix", "24", "10.0.0.0/8", "10.0.0.1", check=2)
    assert p.stderr.startswith("inetkit addr: option --prefix does not apply to 'contains'\n")
    p = addr("split", "10.0.0.0/8", "--prefix", check=2)
    assert p.stderr.startswith("inetkit addr: option '--prefix' needs a value\n")
    p = addr("1.2.3.4", "split", check=2)
    assert "'split' is a verb; it must be the first operand: inetkit addr split ..." in p.stderr


def test_help():
    p = addr("--help", check=0)
    assert p.stdout.startswith("Usage: inetkit addr ")
    for verb in ("split", "contains", "summarize", "aton", "ntoa"):
        assert "inetkit addr %s " % verb in p.stdout
    p = addr("split", "--help", check=0)
    assert p.stdout.startswith("Usage: inetkit addr ")


# ---- batch mode ----------------------------------------------------------------

def test_batch_bad_line_in_the_middle():
    text = "10.0.0.1\n192.168.1.256\n\n# a comment\n  2001:db8::1/64  \r\n1::2::3\n10.0.0.3"
    p = addr("--json", "-", input=text, check=2)
    recs = [json.loads(x) for x in p.stdout.splitlines()]
    assert [r["input"] for r in recs] == ["10.0.0.1", "2001:db8::1/64", "10.0.0.3"]
    assert p.stderr == (
        "inetkit addr: line 2: '192.168.1.256': octet 256 is out of range 0\u2013255\n"
        "inetkit addr: line 6: '1::2::3': '::' may appear only once\n")


def test_batch_mixes_with_arguments():
    p = addr("10.0.0.1", "-", "10.0.0.3", input="10.0.0.2\n", check=0)
    assert [x for x in p.stdout.splitlines() if x.startswith("Address:")] == [
        "Address:       10.0.0.1", "Address:       10.0.0.2", "Address:       10.0.0.3"]


def test_batch_line_length_limit():
    # 256 bytes (padding included, line ending not counted) is the limit
    ok = "10.0.0.1" + " " * (256 - 8)
    over = "10.0.0.2" + " " * (257 - 8)
    huge = "1" * (3 << 20)  # longer than the read block: skipped, not buffered
    text = ok + "\n" + over + "\r\n" + huge + "\n" + "10.0.0.4\n" + ok + "\r\n"
    p = addr("--json", "-", input=text, check=2)
    assert [json.loads(x)["address"] for x in p.stdout.splitlines()] == [
        "10.0.0.1", "10.0.0.4", "10.0.0.1"]
    assert p.stderr == (
        "inetkit addr: line 2: '10.0.0.2%s...': longer than the batch line limit of 256 bytes\n"
        "inetkit addr: line 3: '%s...': longer than the batch line limit of 256 bytes\n"
        % (" " * 56, "1" * 64))


def test_batch_empty_input_and_unterminated_huge_line():
    p = addr("--json", "-", input="", check=0)
    assert p.stdout == "" and p.stderr == ""
    p = addr("-", input="2" * (2 << 20), check=2)
    assert p.stderr == ("inetkit addr: line 1: '%s...': longer than the batch line limit "
                        "of 256 bytes\n" % ("2" * 64))


def test_batch_nul_byte_in_a_line():
    p = addr("-", input=b"10.0.0.1\x00junk\n10.0.0.2\n", check=2)
    assert p.stderr == ("inetkit addr: line 1: '10.0.0.1\\x00junk': unexpected byte 0x00 at "
                        "position 9; expected a digit or '.'\n")


# ---- split ---------------------------------------------------------------------

def test_split_by_prefix_and_count():
    p = addr("split", "192.168.1.77/24", "--prefix", "26", check=0)
    assert p.stdout == "192.168.1.0/26\n192.168.1.64/26\n192.168.1.128/26\n192.168.1.192/26\n"
    p = addr("split", "192.168.1.0/24", "--count", "3", check=0)
    assert p.stdout.count("\n") == 4
    assert p.stderr == "inetkit addr: note: 3 is not a power of two; listing 4 subnets of /26\n"
    p = addr("split", "2001:db8::/32", "-n", "2", check=0)
    assert p.stdout == "2001:db8::/33\n2001:db8:8000::/33\n"
    p = addr("--json", "split", "10.0.0.0/30", "--prefix", "31", check=0)
    assert [json.loads(x) for x in p.stdout.splitlines()] == [
        {"cidr": "10.0.0.0/31", "network": "10.0.0.0", "prefix": 31, "first_host": "10.0.0.0",
         "last_host": "10.0.0.1", "broadcast": None, "hosts": 2},
        {"cidr": "10.0.0.2/31", "network": "10.0.0.2", "prefix": 31, "first_host": "10.0.0.2",
         "last_host": "10.0.0.3", "broadcast": None, "hosts": 2}]


def test_split_matches_python_subnets():
    for net, newp in (("10.20.0.0/14", 18), ("2001:db8:40::/42", 47), ("0.0.0.0/0", 3)):
        p = addr("split", net, "--prefix", newp, check=0)
        assert p.stdout.split() == [str(s) for s in net_(net).subnets(new_prefix=newp)]


def test_split_limits():
    p = addr("split", "10.0.0.0/8", "--prefix", "32", check=2)
    assert p.stderr == ("inetkit addr: '10.0.0.0/8' split into /32 gives 2^24 = 16777216 "
                        "subnets, more than the limit of 2^20 = 1048576; use a shorter "
                        "prefix, or --force to list them all\n")
    p = addr("split", "::/0", "--prefix", "128", check=2)
    assert "gives 2^128 subnets, more than the limit" in p.stderr
    p = addr("split", "2001:db8::/108", "--prefix", "128", check=0)  # exactly 2^20
    assert p.stdout.count("\n") == 1 << 20
    assert p.stdout.endswith("2001:db8::f:ffff/128\n")
    p = addr("split", "10.0.0.0/11", "--prefix", "32", "--force", check=0)
    assert p.stdout.count("\n") == 1 << 21
    p = addr("split", "10.0.0.0/24", "--prefix", "23", check=2)
    assert p.stderr == ("inetkit addr: '10.0.0.0/24': prefix /23 is shorter than the "
                        "network's /24; a split needs a longer prefix\n")
    p = addr("split", "10.0.0.0/30", "--count", "8", check=2)
    assert p.stderr == ("inetkit addr: cannot split /30 into 8 subnets: it holds at most "
                        "2^2 addresses\n")
    p = addr("split", "10.0.0.0/24", check=2)
    assert p.stderr.startswith("inetkit addr: split needs exactly one of --prefix N or --count N\n")
    p = addr("split", "10.0.0.0/24", "--count", "0", check=2)
    assert p.stderr.startswith("inetkit addr: --count '0' is not a number from 1 to 2^62\n")
    p = addr("split", "fe80::%eth0/64", "--prefix", "65", check=2)
    assert p.stderr == "inetkit addr: 'fe80::%eth0/64': a zone id has no place in split\n"


# ---- contains ------------------------------------------------------------------

def test_contains_all_inside():
    p = addr("contains", "192.168.1.0/24", "192.168.1.10", "192.168.1.128/25", check=0)
    assert p.stdout == ("192.168.1.10 is in 192.168.1.0/24\n"
                        "192.168.1.128/25 is in 192.168.1.0/24\n")


def test_contains_some_outside():
    p = addr("contains", "192.168.1.99/24", "192.168.1.10", "10.0.0.1", "::1", check=1)
    assert p.stdout == ("192.168.1.10 is in 192.168.1.0/24\n"
                        "10.0.0.1 is not in 192.168.1.0/24\n"
                        "::1 is not in 192.168.1.0/24 (an IPv6 address, an IPv4 network)\n")
    p = addr("contains", "-q", "10.0.0.0/8", "10.1.1.1", "11.0.0.1", check=1)
    assert p.stdout == ""
    p = addr("--json", "contains", "2001:db8::/32", "2001:db8::1", "2001:db9::1", check=1)
    assert [json.loads(x) for x in p.stdout.splitlines()] == [
        {"address": "2001:db8::1", "network": "2001:db8::/32", "contained": True},
        {"address": "2001:db9::1", "network": "2001:db8::/32", "contained": False}]


def test_contains_bad_input_and_stdin():
    p = addr("contains", "10.0.0.0/8", "10.0.0.1", "10.0.0.300", check=2)
    assert p.stdout == "10.0.0.1 is in 10.0.0.0/8\n"
    assert p.stderr == "inetkit addr: '10.0.0.300': octet 300 is out of range 0\u2013255\n"
    p = addr("contains", "10.0.0.0/33", "10.0.0.1", check=2)
    assert p.stderr == "inetkit addr: '10.0.0.0/33': prefix 33 is out of range 0\u201332\n"
    p = addr("contains", "10.0.0.0/8", "-", input="10.1.2.3\nbad\n10.2.3.4\n", check=2)
    assert p.stdout == "10.1.2.3 is in 10.0.0.0/8\n10.2.3.4 is in 10.0.0.0/8\n"
    assert p.stderr == ("inetkit addr: line 2: 'bad': unexpected 'b' at position 1; "
                        "expected a digit or '.'\n")
    p = addr("contains", "10.0.0.0/8", check=2)
    assert "contains needs a network and at least one address" in p.stderr


# ---- summarize -------------------------------------------------------------------

def test_summarize_networks_and_ranges():
    p = addr("summarize", "192.168.0.0/24", "192.168.1.0/24", "10.0.0.1-10.0.0.10",
            "2001:db8::/33", "2001:db8:8000::/33", check=0)
    assert p.stdout.split() == ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/30", "10.0.0.8/31",
                                "10.0.0.10/32", "192.168.0.0/23", "2001:db8::/32"]


def test_summarize_matches_python():
    r = random.Random(7)
    for cls in (ipaddress.IPv4Address, ipaddress.IPv6Address):
        bits = 32 if cls is ipaddress.IPv4Address else 128
        items, nets = [], []
        for _ in range(60):
            # cluster half of them so that they overlap and touch
            base = r.getrandbits(bits) if r.random() < 0.5 else 0
            lo = (base & ~((1 << 20) - 1)) | r.getrandbits(20)
            if r.random() < 0.5:
                hi = min(lo + r.getrandbits(r.randint(0, 14)), 2 ** bits - 1)
                items.append("%s-%s" % (cls(lo), cls(hi)))
                nets.extend(ipaddress.summarize_address_range(cls(lo), cls(hi)))
            else:
                n = ipaddress.ip_network((cls(lo), r.randint(bits - 20, bits)), strict=False)
                items.append(str(n))
                nets.append(n)
        p = addr("summarize", *items, check=0)
        assert p.stdout.split() == [str(n) for n in ipaddress.collapse_addresses(nets)]


def test_summarize_stdin_and_errors():
    p = addr("summarize", "-", input="10.0.0.0/25\n10.0.0.128/25\n", check=0)
    assert p.stdout == "10.0.0.0/24\n"
    p = addr("summarize", "10.0.0.9-10.0.0.1", "10.1.0.0/16", check=2)
    assert p.stdout == "10.1.0.0/16\n"
    assert p.stderr == ("inetkit addr: '10.0.0.9-10.0.0.1': range start 10.0.0.9 comes after "
                        "its end 10.0.0.1\n")
    p = addr("summarize", "10.0.0.1-::2", check=2)
    assert p.stderr == "inetkit addr: '10.0.0.1-::2': a range must not mix IPv4 and IPv6\n"
    p = addr("--json", "summarize", "10.0.0.0/31", check=0)
    assert json.loads(p.stdout)["cidr"] == "10.0.0.0/31"


# ---- aton / ntoa -------------------------------------------------------------------

def test_aton_legacy_forms_with_note():
    p = addr("aton", "127.1", check=0)
    assert p.stdout == (
        "Input:    127.1\n"
        "Address:  127.0.0.1\n"
        "Integer:  2130706433\n"
        "Hex:      0x7f000001\n"
        "Bytes:    7f 00 00 01 (network order)\n"
        "Python:   b'\\x7f\\x00\\x00\\x01'\n"
        "Note:     legacy inet_aton form (a.b: the last part fills the low 24 bits); "
        "ambiguous, as other programs read it differently or refuse it: write 127.0.0.1\n")
    forms = ["127.1", "0x7f000001", "017700000001", "10.010.0x10.1", "192.168.1", "1.2.3.4"]
    p = addr("--json", "aton", *forms, check=0)
    recs = [json.loads(x) for x in p.stdout.splitlines()]
    for text, rec in zip(forms, recs):
        assert rec["address"] == socket.inet_ntoa(socket.inet_aton(text))
        assert rec["legacy"] == (text != "1.2.3.4")
    assert recs[2]["forms"] == ["short", "octal"]
    assert recs[3]["forms"] == ["octal", "hex"]
    assert recs[5]["note"] == "not a legacy form"


def test_aton_errors():
    p = addr("aton", "1.2.3.256", "09", "1.2.3.4.5", check=2)
    assert p.stderr == (
        "inetkit addr: '1.2.3.256': last part 256 is out of range 0\u2013255 for the a.b.c.d form\n"
        "inetkit addr: '09': part '09' is not octal (a leading 0 means octal; '9' is not an "
        "octal digit)\n"
        "inetkit addr: '1.2.3.4.5': more than 4 parts; inet_aton takes 1 to 4\n")


def test_ntoa():
    p = addr("--json", "ntoa", "0xc0a8010a", "3232235786", check=0)
    assert [json.loads(x)["address"] for x in p.stdout.splitlines()] == [
        "192.168.1.10", "192.168.1.10"]
    p = addr("--json", "ntoa", "-6", "1", "4294967296", check=0)
    assert [json.loads(x)["address"] for x in p.stdout.splitlines()] == ["::1", "::1:0:0"]
    p = addr("ntoa", "12x", check=2)
    assert p.stderr == "inetkit addr: '12x': number '12x': unexpected 'x'\n"


def test_ntoa_above_32_bits_needs_6():
    """A number above 32 bits is no IPv4 address: it is IPv6 only with -6."""
    want = ("inetkit addr: '4294967296': number '4294967296' is more than 32 bits, too large "
            "for an IPv4 address; give -6 to read it as an IPv6 address\n")
    for args in (("ntoa", "4294967296"), ("ntoa", "-4", "4294967296")):
        p = addr(*args, check=2)
        assert (p.stdout, p.stderr) == ("", want)


def test_aton_shows_the_bytes_in_network_order():
    """The classic socket example: inet_aton("198.168.1.2") is b'\\xc6\\xa8\\x01\\x02'."""
    p = addr("aton", "198.168.1.2", check=0)
    assert p.stdout == (
        "Input:    198.168.1.2\n"
        "Address:  198.168.1.2\n"
        "Integer:  3332899074\n"
        "Hex:      0xc6a80102\n"
        "Bytes:    c6 a8 01 02 (network order)\n"
        "Python:   b'\\xc6\\xa8\\x01\\x02'\n"
        "Note:     not a legacy form\n")
    texts = ["198.168.1.2", "65.66.67.68", "65.66.39.10", "39.34.9.13", "92.127.32.126",
             "127.1", "0.0.0.0"]
    p = addr("--json", "aton", *texts, check=0)
    for text, line in zip(texts, p.stdout.splitlines()):
        rec = json.loads(line)
        packed = socket.inet_aton(text)
        assert rec["bytes"] == " ".join("%02x" % b for b in packed)
        assert rec["python"] == repr(packed)        # exactly what Python prints


def test_ntoa_reads_what_users_copy():
    """ntoa takes the bytes as a hex dump or Python shows them, and gives
    the address back (the other half of the classic example)."""
    copies = ["c6a80102", "C6A80102", "c6 a8 01 02", "'\\xc6\\xa8\\x01\\x02'",
              "b'\\xc6\\xa8\\x01\\x02'", "b\\xc6\\xa8\\x01\\x02", repr(socket.inet_aton("198.168.1.2"))]
    p = addr("--json", "ntoa", *copies, check=0)
    recs = [json.loads(x) for x in p.stdout.splitlines()]
    assert [r["address"] for r in recs] == ["198.168.1.2"] * len(copies)
    assert [r["forms"] for r in recs] == [["bytes"]] * 3 + [["python"]] * 4
    assert {r["note"] for r in recs} == {"hex bytes in network order",
                                        "Python bytes in network order"}
    assert all(r["legacy"] is False for r in recs)
    # Python's own repr of any address reads back, IPv4 and IPv6
    for text in ("65.66.39.10", "39.34.9.13", "92.127.32.126", "10.0.0.92"):
        p = addr("--json", "ntoa", repr(socket.inet_aton(text)), check=0)
        assert json.loads(p.stdout)["address"] == text
    packed = socket.inet_pton(socket.AF_INET6, "2001:db8::1")
    p = addr("--json", "ntoa", repr(packed), packed.hex(), check=0)
    assert [json.loads(x)["address"] for x in p.stdout.splitlines()] == ["2001:db8::1"] * 2
    p = addr("ntoa", "b'\\xc6\\xa8\\x01\\x02'", check=0)
    assert p.stdout.splitlines()[1] == "Address:  198.168.1.2"


def test_ntoa_bytes_errors():
    p = addr("ntoa", "c6", "c6 a8 1 02", "-6", "c6a80102", check=2)
    assert p.stderr == (
        "inetkit addr: 'c6': 1 byte; an IPv4 address is 4 bytes (8 hex digits), an IPv6 "
        "address 16 (32 hex digits)\n"
        "inetkit addr: 'c6 a8 1 02': '1' has an odd number of hex digits; write whole bytes, "
        "two digits each (c6 a8 01 02), or a number with 0x\n"
        "inetkit addr: 'c6a80102': 4 bytes make an IPv4 address; drop -6\n")
    p = addr("ntoa", "b'\\xc6\\xa8\\x01", check=2)
    # the report shows a backslash of the input as \x5c, as every unsafe byte
    assert p.stderr == ("inetkit addr: 'b'\\x5cxc6\\x5cxa8\\x5cx01': a Python bytes literal ends "
                        "with the quote it starts with (')\n")


def test_names_point_to_lookup():
    p = addr("example.com", check=2)
    assert p.stderr == (
        "inetkit addr: 'example.com': unexpected 'e' at position 1; expected a digit or '.'; "
        "addr takes addresses, names are resolved with 'inetkit lookup host example.com'\n")
    p = addr("-", input="localhost\n", check=2)
    assert p.stderr.endswith("names are resolved with 'inetkit lookup host localhost'\n")


def test_typo_of_a_verb_or_option_gets_a_suggestion():
    p = addr("splt", "10.0.0.0/24", "--prefix", "26", check=2)
    assert p.stderr == (
        "inetkit addr: 'splt' is neither an address nor a verb (split, contains, summarize, "
        "aton, ntoa)\nDid you mean 'split'?\nTry 'inetkit addr --help'.\n")
    p = addr("ntao", "1", check=2)
    assert "Did you mean 'ntoa'?" in p.stderr
    p = addr("--jsn", "10.0.0.1", check=2)
    assert p.stderr == ("inetkit addr: unknown option '--jsn'\nDid you mean '--json'?\n"
                        "Try 'inetkit addr --help'.\n")
#!/usr/bin/python3
"""The Python ipaddress peer of `inetkit addr --json -`: one JSON object per
input line with the same facts (network, masks, broadcast, host range and
count, flags, reverse name, integer, hex, expanded form). Used by
bench/addr/run; reads stdin, writes stdout."""
import ipaddress
import json
import sys


def report(text):
    iface = ipaddress.ip_interface(text)
    a, net = iface.ip, iface.network
    v4 = a.version == 4
    n = net.num_addresses
    if v4 and net.prefixlen <= 30:
        first, last, hosts = net.network_address + 1, net.broadcast_address - 1, n - 2
    elif v4 or net.prefixlen >= 127:
        first, last, hosts = net.network_address, net.broadcast_address, n
    else:
        first, last, hosts = net.network_address + 1, net.broadcast_address, n - 1
    return {
        "input": text, "address": str(a), "version": a.version,
        "prefix": net.prefixlen, "cidr": str(net), "network": str(net.network_address),
        "netmask": str(net.netmask), "wildcard": str(net.hostmask),
        "broadcast": str(net.broadcast_address) if v4 and net.prefixlen <= 30 else None,
        "first_host": str(first), "last_host": str(last), "addresses": n, "hosts": hosts,
        "is_private": a.is_private, "is_global": a.is_global, "is_loopback": a.is_loopback,
        "is_multicast": a.is_multicast, "is_link_local": a.is_link_local,
        "is_reserved": a.is_reserved, "is_unspecified": a.is_unspecified,
        "reverse_dns": a.reverse_pointer, "integer": int(a),
        "hex": "0x%0*x" % (a.max_prefixlen // 4, int(a)), "expanded": a.exploded,
    }


def main():
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if line:
            out.write(json.dumps(report(line)) + "\n")


if __name__ == "__main__":
    main()

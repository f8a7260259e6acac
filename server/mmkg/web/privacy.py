"""What the logs keep of a client's address: the privacy setting `--log-addresses`."""

from __future__ import annotations

import ipaddress

# Prefixes kept by "network": an IPv4 /24 and an IPv6 /48 name a network, not a person.
NETWORK_PREFIX = {4: 24, 6: 48}


def loggable_address(address: str | None, keep: str) -> str:
    """`address` as the logs may keep it: "-" for none, its network, or in full."""
    if not address or keep == "none":
        return "-"
    if keep == "full":
        return address
    try:
        parsed = ipaddress.ip_address(address.split("%")[0])
    except ValueError:  # a Unix socket path or a proxy's name: nothing personal to cut
        return "-"
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:
        parsed = parsed.ipv4_mapped
    network = ipaddress.ip_network(f"{parsed}/{NETWORK_PREFIX[parsed.version]}", strict=False)
    return str(network.network_address)

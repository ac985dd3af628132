"""Network addresses given as flags (`--serve`, `--osc`): `[HOST:]PORT`, loopback unless a host is given.

An IPv6 host goes in brackets, as in URLs: `[::1]:8080`; `family(host)` says which socket family it needs.
"""

from __future__ import annotations

import ipaddress
import re
import socket

from realtime.errors import UserError

LOOPBACK = ("localhost",)


def parse_address(text: str, flag: str) -> tuple[str, int]:
    """'[HOST:]PORT' -> (host, port); host 127.0.0.1 unless given. A bad one is a UserError naming `flag`."""
    text = str(text)
    host, _, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host or _is_ipv6(text):
        raise UserError(f"{flag}: an IPv6 address goes in brackets with its port, such as [::1]:9000; got {text!r}")
    if not re.fullmatch(r"[0-9]{1,5}", port) or not 0 <= int(port) < 65536 or "[" in host or "]" in host:
        raise UserError(f"{flag} takes [HOST:]PORT such as 9000, 0.0.0.0:9000 or [::1]:9000, got {text!r}")
    return host or "127.0.0.1", int(port)


def _is_ipv6(text: str) -> bool:
    try:
        return ipaddress.ip_address(text.strip("[]")).version == 6
    except ValueError:
        return False


def family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if _is_ipv6(host) else socket.AF_INET


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in LOOPBACK


def url_host(host: str) -> str:
    """The host as a URL writes it: IPv6 in brackets."""
    return f"[{host}]" if _is_ipv6(host) else host

"""Network addresses given as flags (`--serve`, `--osc`): `[HOST:]PORT`, loopback unless a host is given."""
from __future__ import annotations

from realtime.errors import UserError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def parse_address(text: str, flag: str) -> tuple[str, int]:
    """'[HOST:]PORT' -> (host, port); host 127.0.0.1 unless given. A bad one is a UserError naming `flag`."""
    host, _, port = str(text).rpartition(":")
    if not port.isdigit() or not 0 <= int(port) < 65536:
        raise UserError(f"{flag} takes [HOST:]PORT such as 9000 or 0.0.0.0:9000, got {text!r}")
    return host or "127.0.0.1", int(port)


def is_loopback(host: str) -> bool:
    return host in LOOPBACK

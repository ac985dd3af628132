"""sd_notify: tell systemd that a show is up and alive, where it runs one as a `Type=notify` service
(`deepdream service install` writes such a unit).

systemd names a socket in NOTIFY_SOCKET; each message is one datagram to it: READY=1 once the first
frame is shown, WATCHDOG=1 with each heartbeat (realtime.run.watchdog.Heartbeat), STATUS=... with what
the watchdog is doing. Without NOTIFY_SOCKET nothing is sent. The protocol is these few lines of
Python's socket, so no package (sdnotify, systemd-python) is needed for it. A message that cannot be
sent (systemd restarting, its queue full) is dropped, said once, and never stops or slows the show.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger("deepdream.notify")


class Notifier:
    """The datagram socket to systemd's NOTIFY_SOCKET (a leading @: Linux's abstract namespace)."""

    def __init__(self, address: str):
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.setblocking(False)  # a full queue drops a beat instead of stalling the frame loop
        self._said = False

    @classmethod
    def from_environment(cls) -> Notifier | None:
        """The notifier systemd asked for, or None where it asked for none (or one this does not speak)."""
        address = os.environ.get("NOTIFY_SOCKET", "")
        if not address:
            return None
        if not address.startswith(("/", "@")):  # vsock: addresses are for virtual machines' managers
            log.warning("NOTIFY_SOCKET %r is not a Unix socket: systemd is not told the show runs", address)
            return None
        return cls(address)

    def send(self, message: str) -> None:
        try:
            self.socket.sendto(message.encode(), self.address)
        except OSError as exc:
            if not self._said:
                log.warning("cannot tell systemd %s (%s); the show goes on", message.split("=")[0], exc)
                self._said = True

    def close(self) -> None:
        self.socket.close()

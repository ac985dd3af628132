"""The HTTP server's bounds, so that nobody without the token can lock the operator out.

A connection gets a thread while fewer than `Limits.heads` are still sending their request (past that:
a 503 at once, with no thread). The whole request, head and body, must arrive within `Limits.head_s`
however it trickles in (`DeadlineReader`): a byte every few seconds no longer keeps a connection.
Only once the request is read and its token checked does it take a slot: streams (the MJPEG stream,
the control page's events) from one pool, everything else (pages, figures, commands) from another,
so a room full of viewers or open control pages never makes a command wait.
"""

from __future__ import annotations

import io
import logging
import socket
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import ThreadingHTTPServer

log = logging.getLogger("deepdream.serve")
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 26\r\n"
    b"Connection: close\r\n\r\ntoo many viewers; try later\n"
)


@dataclass(frozen=True)
class Limits:
    head_s: float = 10.0  # a request's head and body, however slowly sent: a phone on bad Wi-Fi takes far less
    idle_s: float = 30.0  # a reply that cannot be written this long (a stalled reader) is given up
    heads: int = 100  # connections still sending their request, before any token is known
    streams: int = 100  # open streams and control pages: a room full of phones, far below a machine's threads
    requests: int = 32  # pages, figures and commands answered at once (each takes milliseconds)


class DeadlineReader(io.RawIOBase):
    """A socket's reads for one request: every byte by `head_s` from the start, not `head_s` per read.
    Between reads the socket keeps the idle timeout, which the replies' writes go by."""

    def __init__(self, sock: socket.socket, limits: Limits):
        self._sock, self._idle = sock, limits.idle_s
        self._deadline = time.monotonic() + limits.head_s

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request was not sent in time")
        self._sock.settimeout(left)
        try:
            return self._sock.recv_into(buffer)
        finally:
            self._sock.settimeout(self._idle)


class BoundedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, limits: Limits):
        self.limits = limits
        self._heads = threading.BoundedSemaphore(limits.heads)
        self._pools = {
            "stream": threading.BoundedSemaphore(limits.streams),
            "request": threading.BoundedSemaphore(limits.requests),
        }
        self._reading: set = set()  # connections holding a head slot
        self._open, self._counting = 0, threading.Lock()
        self._said: set[str] = set()
        super().__init__(address, handler)

    def open_connections(self) -> int:
        """Connections being served now (each on its thread)."""
        with self._counting:
            return self._open

    def process_request(self, request, client_address) -> None:
        """A thread per connection while fewer than `heads` are being read; past that a 503, with no thread."""
        if not self._heads.acquire(blocking=False):
            try:
                request.settimeout(1.0)
                request.sendall(BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            self._say_once(
                "heads",
                f"serve: {self.limits.heads} connections are sending their requests; more are "
                "refused with 503 until some finish",
            )
            return
        with self._counting:
            self._open += 1
            self._reading.add(request)
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread for it (the system's limit): its slot and count go back
            self.head_read(request)
            with self._counting:
                self._open -= 1
            raise

    def head_read(self, request) -> None:
        """The request is in: its head slot goes back (a stream or request slot is taken, if any, after the token)."""
        with self._counting:
            if request not in self._reading:
                return
            self._reading.discard(request)
        self._heads.release()

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.head_read(request)
            with self._counting:
                self._open -= 1

    @contextmanager
    def slot(self, kind: str):
        """A "stream" or "request" slot for the block, if one is free (yields whether it got one)."""
        pool = self._pools[kind]
        got = pool.acquire(blocking=False)
        if not got:
            limit = self.limits.streams if kind == "stream" else self.limits.requests
            self._say_once(kind, f"serve: {limit} {kind}s open; more are refused with 503 until some close")
        try:
            yield got
        finally:
            if got:
                pool.release()

    def _say_once(self, what: str, line: str) -> None:
        if what not in self._said:
            self._said.add(what)
            log.warning(line)

    def handle_error(self, request, client_address) -> None:
        """A viewer that leaves mid-reply is normal (a closed tab, a phone asleep): no traceback for it."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)):
            log.debug("viewer %s left mid-reply", client_address[0])
        else:
            log.exception("serve: error answering %s", client_address[0])


class BoundedServer6(BoundedServer):
    address_family = socket.AF_INET6

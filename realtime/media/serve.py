"""Dreamed frames over HTTP: an MJPEG stream, a viewer page and a control page, for browsers, phones and headsets.

`FrameHub` keeps only the newest JPEG and the show's figures; each connection waits for the next
and sends it, so a slow viewer skips frames and never holds up the loop or other viewers.
`ServeSink` is the loop's side (encode and publish); `start_server` runs the HTTP server on its own
threads, answering the paths of realtime.media.routes. At most `CONNECTIONS` connections are
served at once (a thread each); past that a connection gets a 503 and is closed without a thread,
and one that sends nothing for `IDLE_S` is closed.
"""
from __future__ import annotations

import json
import logging
import math
import socket
import threading
import time
from http.server import ThreadingHTTPServer

import cv2
import numpy as np

from realtime.addresses import family, is_loopback, url_host
from realtime.errors import UserError

log = logging.getLogger("deepdream.serve")
CONNECTIONS = 100  # viewers and requests at once: a room full of phones, far below the threads a machine has
IDLE_S = 30.0  # a connection silent this long (half a request, a stalled reader) is closed
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 26\r\n"
        b"Connection: close\r\n\r\ntoo many viewers; try later\n")

class FrameHub:
    """The newest JPEG and the show's figures, for every connection; and, for the control page, what the
    show can be steered with (`schema`) and how (`control(kind, name, value) -> (True, {"value": in force,
    "frame": first showing it}) or (False, why)`, set by the command that runs the show; None: read-only)."""

    def __init__(self):
        self._cond = threading.Condition()
        self.jpeg: bytes | None = None
        self.count = 0
        self.status = {"fps": 0.0, "model": "", "frames": 0, "projection": "flat", "stereo": False}
        self.status_count = 0  # figures published so far: the control page's events wait on it
        self.closed = False
        self.schema: dict = {}
        self.control = None

    def publish(self, jpeg: bytes):
        with self._cond:
            self.jpeg, self.count = jpeg, self.count + 1
            self.status["frames"] = self.count
            self._cond.notify_all()

    def publish_status(self, status: dict) -> None:
        """The show's figures after a frame (model and scene switches included) for /status.json."""
        # Only what JSON can carry: a page's JSON.parse refuses NaN and Infinity, and would drop every update.
        shown = {k: v for k, v in status.items() if isinstance(v, (str, int)) or isinstance(v, float) and math.isfinite(v)}
        with self._cond:
            self.status.update({**shown, "model": status["model_name"], "frames": self.count,
                                "model_number": status.get("model", 0)})
            self.status_count += 1
            self._cond.notify_all()

    def next_status_after(self, seen: int, timeout: float) -> tuple[int, bytes] | None:
        """(count, figures as JSON) once newer than `seen`, or None on timeout/close."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.status_count > seen or self.closed, timeout) or self.closed:
                return None
            return self.status_count, json.dumps(self.status).encode()

    def status_json(self) -> bytes:
        with self._cond:  # the loop updates it while a request reads it
            return json.dumps(self.status).encode()

    def next_after(self, seen: int, timeout: float = 5.0):
        """(count, jpeg) of a frame newer than `seen`, or None on timeout/close."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.count > seen or self.closed, timeout):
                return None
            return None if self.closed else (self.count, self.jpeg)

    def wait_closed(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds, returning at once (True) when the hub closes."""
        with self._cond:
            return self._cond.wait_for(lambda: self.closed, timeout)

    def close(self):
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class ServeSink:
    def __init__(self, hub: FrameHub, quality: int = 85):
        self.hub, self.quality = hub, quality
        self._started, self._frames = time.monotonic(), 0

    def write(self, frame: np.ndarray):
        ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if ok:
            self._frames += 1
            self.hub.status["fps"] = self._frames / max(time.monotonic() - self._started, 1e-6)
            self.hub.publish(jpeg.tobytes())

    def close(self):
        self.hub.close()


class _Server(ThreadingHTTPServer):
    def __init__(self, *args, **kwargs):
        self._slots = threading.BoundedSemaphore(CONNECTIONS)
        self._open, self._counting = 0, threading.Lock()
        super().__init__(*args, **kwargs)

    def open_connections(self) -> int:
        """Connections being served now (each on its thread)."""
        with self._counting:
            return self._open

    def process_request(self, request, client_address) -> None:
        """A thread per connection while there are slots; past that a 503, with no thread."""
        if not self._slots.acquire(blocking=False):
            try:
                request.settimeout(1.0)
                request.sendall(BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            if not getattr(self, "_said_busy", False):
                self._said_busy = True
                log.warning("serve: %d connections open; more are refused with 503 until some close", CONNECTIONS)
            return
        with self._counting:
            self._open += 1
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._counting:
                self._open -= 1
            self._slots.release()

    def handle_error(self, request, client_address) -> None:
        """A viewer that leaves mid-reply is normal (a closed tab, a phone asleep): no traceback for it."""
        import sys

        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)):
            log.debug("viewer %s left mid-reply", client_address[0])
        else:
            log.exception("serve: error answering %s", client_address[0])


class _Server6(_Server):
    address_family = socket.AF_INET6


def check_serve(host: str, port: int, token: str | None) -> None:
    """Everything that can refuse --serve, before the model loads: the host, the port, the token rule."""
    try:
        with socket.socket(family(host), socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise UserError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    if not is_loopback(host) and not token:
        raise UserError(f"serving on {host} reaches beyond this machine: give --token SECRET too")


def start_server(hub: FrameHub, host: str, port: int, token: str | None) -> ThreadingHTTPServer:
    from realtime.media.routes import make_handler

    if not is_loopback(host) and not token:
        raise UserError(f"serving on {host} reaches beyond this machine: give --token SECRET too")
    try:
        server = (_Server if family(host) == _Server.address_family else _Server6)(
            (host, port), make_handler(hub, token, IDLE_S))
    except OSError as exc:
        raise UserError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="serve", daemon=True).start()
    if not is_loopback(host):
        log.warning("serving beyond this machine on %s:%d; every request needs the token", host, port)
    address = f"http://{url_host(host)}:{server.server_address[1]}"
    log.info("viewer at %s/%s", address, f"?token={token}" if token else "")
    log.info("controls at %s/control%s", address, f"?token={token}" if token else "")
    return server

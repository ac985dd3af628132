"""Dreamed frames over HTTP: an MJPEG stream and a viewer page, for browsers, phones and headsets.

`FrameHub` keeps only the newest JPEG; each viewer's connection waits for the next one and sends
it, so a slow viewer skips frames and never holds up the loop or other viewers. `ServeSink` is the
loop's side (encode and publish); `start_server` runs the HTTP server on its own threads.
Paths: `/` (the viewer page: WebGL, flat or 360-degree, stereo, WebXR), its scripts `/viewer.js`
and `/glview.js`, `/stream.mjpg`, `/status.json` (figures, and the stream's projection and
stereo layout, which the page reads); anything else is 404. With a token, every request must carry `?token=...` (403 otherwise).
At most `CONNECTIONS` connections are served at once (a thread each); past that a connection gets a
503 and is closed without a thread, and one that sends nothing for `IDLE_S` is closed.
"""
from __future__ import annotations

import hmac
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import cv2
import numpy as np

from realtime.addresses import family, is_loopback, url_host
from realtime.errors import UserError

log = logging.getLogger("deepdream.serve")
BOUNDARY = "deepdreamframe"
CONNECTIONS = 100  # viewers and requests at once: a room full of phones, far below the threads a machine has
IDLE_S = 30.0  # a connection silent this long (half a request, a stalled reader) is closed
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 26\r\n"
        b"Connection: close\r\n\r\ntoo many viewers; try later\n")

VIEWER = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>deepdream-live</title><style>
html,body{margin:0;height:100%;background:#000;color:#ccc;font:13px sans-serif;overflow:hidden}
#view{display:block;width:100%;height:100%;touch-action:none;cursor:grab}
#bar{position:fixed;left:8px;bottom:8px;background:#0008;padding:4px 8px;border-radius:4px}
button{background:#333;color:#ddd;border:0;padding:3px 8px;margin-left:8px}</style></head>
<body><canvas id="view"></canvas>
<div id="bar"><span id="status">connecting</span><button id="stereo">stereo</button>
<button id="vr" hidden>Enter VR</button></div>
<script type="module">
import(`./viewer.js${location.search}`).catch((e) => {
  document.getElementById("status").textContent = "this browser cannot show the stream: " + e.message; });
</script></body></html>"""
STATIC = {"viewer.js", "glview.js"}  # the page's own WebGL modules (realtime/media/static), no CDN


class FrameHub:
    def __init__(self):
        self._cond = threading.Condition()
        self.jpeg: bytes | None = None
        self.count = 0
        self.status = {"fps": 0.0, "model": "", "frames": 0, "projection": "flat", "stereo": False}
        self.closed = False

    def publish(self, jpeg: bytes):
        with self._cond:
            self.jpeg, self.count = jpeg, self.count + 1
            self.status["frames"] = self.count
            self._cond.notify_all()

    def publish_status(self, status: dict) -> None:
        """The show's figures after a frame (model and scene switches included) for /status.json."""
        shown = {k: v for k, v in status.items() if isinstance(v, (str, int, float, bool)) and v == v}
        with self._cond:
            self.status.update({**shown, "model": status["model_name"], "frames": self.count})

    def status_json(self) -> bytes:
        with self._cond:  # the loop updates it while a request reads it
            return json.dumps(self.status).encode()

    def next_after(self, seen: int, timeout: float = 5.0):
        """(count, jpeg) of a frame newer than `seen`, or None on timeout/close."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.count > seen or self.closed, timeout):
                return None
            return None if self.closed else (self.count, self.jpeg)

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


def _static(name: str) -> bytes:
    from importlib.resources import files

    return (files("realtime.media") / "static" / name).read_bytes()


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
    if not is_loopback(host) and not token:
        raise UserError(f"serving on {host} reaches beyond this machine: give --token SECRET too")

    class Handler(BaseHTTPRequestHandler):
        timeout = IDLE_S  # socket timeout: an idle or half-sent request does not hold its thread for ever

        def log_message(self, fmt, *args):  # the default writes every request to stderr
            log.debug(fmt, *args)

        def do_GET(self):
            url = urlparse(self.path)
            # Bytes, not str: compare_digest refuses non-ASCII str, which failed every request.
            given = parse_qs(url.query, errors="surrogateescape").get("token", [""])[0]
            if token and not hmac.compare_digest(given.encode("utf-8", "surrogateescape"),
                                                 token.encode("utf-8", "surrogateescape")):
                return self._send(403, "text/plain", b"forbidden\n")
            if url.path in ("/", "/index.html"):
                return self._send(200, "text/html; charset=utf-8", VIEWER.encode())
            if url.path == "/status.json":
                return self._send(200, "application/json", hub.status_json())
            if url.path == "/stream.mjpg":
                return self._stream()
            if url.path.lstrip("/") in STATIC:
                return self._send(200, "text/javascript; charset=utf-8", _static(url.path.lstrip("/")))
            return self._send(404, "text/plain", b"not found\n")

        def _send(self, code, kind, body):
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _stream(self):
            self.send_response(200)
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            seen = 0
            try:
                while True:
                    item = hub.next_after(seen)
                    if item is None:
                        if hub.closed:
                            return
                        continue
                    seen, jpeg = item
                    self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}"
                                     "\r\n\r\n".encode() + jpeg + b"\r\n")
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                return

    try:
        server = _Server((host, port), Handler) if family(host) == _Server.address_family else \
            _Server6((host, port), Handler)
    except OSError as exc:
        raise UserError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="serve", daemon=True).start()
    if not is_loopback(host):
        log.warning("serving beyond this machine on %s:%d; every request needs the token", host, port)
    log.info("viewer at http://%s:%d/%s", url_host(host), server.server_address[1], f"?token={token}" if token else "")
    return server

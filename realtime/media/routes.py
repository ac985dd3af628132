"""What the HTTP server answers: the viewer, the stream, the figures, the control page and its API.

GET `/` (the viewer page: WebGL, flat or 360-degree, stereo, WebXR), `/control` (the control page),
their scripts (`/viewer.js`, `/glview.js`, `/control.js`, `/rows.js`, `/picture.js`: ours, no CDN),
`/stream.mjpg`, `/frame.jpg` (the newest frame), `/status.json`
(figures, and the stream's projection and stereo layout), `/control/state.json` (what can be
steered, and the figures) and `/control/events` (the figures as server-sent events, for every open
control page), `/metrics` (Prometheus) and `/health` (200 or 503: realtime.media.metrics); POST
`/control/set` and `/control/command` (realtime.media.control_api). With a token, every request
carries it, `?token=...` or an `X-Deepdream-Token` header (403 otherwise).
Without one the server listens on loopback only, and a request must also name a loopback host
(`Host:`), so a web page whose name was made to point at 127.0.0.1 (DNS rebinding) gets 403 too.
A request whose URL, Host or Origin cannot be read is a 400; anything else is 404. Streams and
everything else take their slots (realtime.media.slots) only once the token is checked.
"""

from __future__ import annotations

import hmac
import io
import logging
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

from realtime.addresses import is_loopback

log = logging.getLogger("deepdream.serve")
BOUNDARY = "deepdreamframe"
PAGES = {"/": "viewer.html", "/index.html": "viewer.html", "/control": "control.html"}  # realtime/media/static
SCRIPTS = {"/viewer.js", "/glview.js", "/control.js", "/rows.js", "/picture.js"}
STREAMS = {"/stream.mjpg", "/control/events"}  # held open: they take a stream slot, never a command's


def static(name: str) -> bytes:
    from importlib.resources import files

    return (files("realtime.media") / "static" / name).read_bytes()


def make_handler(hub, token: str | None, limits):
    """The request handler for one server, within `limits` (realtime.media.slots.Limits)."""
    from realtime.media import control_api, metrics
    from realtime.media.slots import DeadlineReader

    registry = metrics.registry(hub)  # this server's own: a process may run several

    class Handler(BaseHTTPRequestHandler):
        timeout = limits.idle_s  # a reply nobody reads does not hold a thread for ever

        def setup(self):
            super().setup()
            self.rfile.close()  # reads go by one deadline for the whole request instead
            self.rfile = io.BufferedReader(DeadlineReader(self.connection, limits))

        def log_message(self, fmt, *args):  # the default writes every request to stderr
            log.debug(fmt, *args)

        def parse_request(self) -> bool:
            """The head, read; one that names no readable URL, host or origin is a 400 and one log line."""
            if not super().parse_request():
                return False
            try:
                self.url = urlparse(self.path)
                self.host = urlparse(f"//{self.headers.get('Host') or 'localhost'}").hostname or ""
                urlparse(self.headers.get("Origin") or "")
            except ValueError as exc:
                log.warning(
                    "serve: a request from %s that names no readable address (%s): answered 400",
                    self.client_address[0],
                    str(exc)[:80],
                )
                self.send_body(400, "text/plain", b"bad request: an unreadable URL, Host or Origin\n")
                return False
            self.server.head_read(self.request)
            return True

        def do_GET(self):
            if not self._allowed(self.url):
                return self.send_body(403, "text/plain", b"forbidden\n")
            with self.server.slot("stream" if self.url.path in STREAMS else "request") as got:
                if not got:
                    return self.send_body(503, "text/plain", b"too many viewers; try later\n")
                self._get(self.url)

        def _get(self, url):
            if url.path in PAGES:
                return self.send_body(200, "text/html; charset=utf-8", static(PAGES[url.path]))
            if url.path in SCRIPTS:
                return self.send_body(200, "text/javascript; charset=utf-8", static(url.path.lstrip("/")))
            if url.path == "/status.json":
                return self.send_body(200, "application/json", hub.status_json())
            if url.path == "/metrics":
                return self.send_body(200, *metrics.exposition(registry, self.headers.get("Accept")))
            if url.path == "/health":
                code, body = metrics.health(hub)
                return self.send_body(code, "application/json", body)
            if url.path == "/stream.mjpg":
                return self._stream()
            if url.path == "/frame.jpg":  # the newest frame alone: a page's picture where a stream costs too much
                item = hub.next_after(0)
                if item is None:
                    return self.send_body(503, "text/plain", b"no frame yet\n")
                return self.send_body(200, "image/jpeg", item[1])
            if url.path == "/control/state.json":
                return self.send_body(200, "application/json", control_api.state(hub))
            if url.path == "/control/events":
                return control_api.events(self, hub)
            if url.path in ("/control/set", "/control/command"):
                return self._refuse_method()
            return self.send_body(404, "text/plain", b"not found\n")

        def do_POST(self):
            if not self._allowed(self.url):
                return self.send_body(403, "application/json", b'{"error": "forbidden: no or a wrong token"}\n')
            if self.url.path not in ("/control/set", "/control/command"):
                return self.send_body(404, "application/json", b'{"error": "not found"}\n')
            with self.server.slot("request") as got:
                if not got:
                    return self.send_body(503, "application/json", b'{"error": "busy; try again"}\n')
                control_api.post(self, hub, self.url.path.rsplit("/", 1)[1])

        def do_HEAD(self):
            self.send_response(405)
            self.end_headers()

        def _refuse_method(self):
            self.send_body(405, "application/json", b'{"error": "GET the pages and figures, POST the controls"}\n')

        do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method

        def _allowed(self, url) -> bool:
            """The token (query or header) where one is set, else a loopback Host. Bytes, not str: compare_digest
            refuses non-ASCII str."""
            if not token:
                return is_loopback(self.host)
            header = self.headers.get("X-Deepdream-Token")  # http.server decodes headers as latin-1: undo that
            given = (
                header.encode("latin-1").decode("utf-8", "surrogateescape")
                if header
                else parse_qs(url.query, errors="surrogateescape").get("token", [""])[0]
            )
            return hmac.compare_digest(
                given.encode("utf-8", "surrogateescape"), token.encode("utf-8", "surrogateescape")
            )

        def send_body(self, code: int, kind: str, body: bytes) -> None:
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
                    self.wfile.write(
                        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
                        + jpeg
                        + b"\r\n"
                    )
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                return

    return Handler

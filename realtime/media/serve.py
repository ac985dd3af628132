"""Dreamed frames over HTTP: an MJPEG stream, a viewer page and a control page, for browsers, phones and headsets.

`FrameHub` keeps only the newest frame and the show's figures; each connection waits for the next
and sends it, so a slow viewer skips frames and never holds up the loop or other viewers. A frame
is encoded as JPEG only when a connection asks for it, once however many ask: with no viewer the
display thread only hands the hub a reference. `ServeSink` is the loop's side; `start_server` runs
the HTTP server on its own threads, answering the paths of realtime.media.routes, within the bounds
of realtime.media.slots (a deadline for each request, separate slots for streams and for commands).
"""

from __future__ import annotations

import json
import logging
import math
import socket
import threading
import time
from urllib.parse import quote

import cv2
import numpy as np

from realtime.addresses import family, is_loopback, url_host
from realtime.errors import UserError
from realtime.media.slots import BoundedServer, BoundedServer6, Limits

log = logging.getLogger("deepdream.serve")


class FrameHub:
    """The newest frame (encoded when asked for) and the show's figures, for every connection; and, for the
    control page, what the show can be steered with (`schema`) and how (`control(kind, name, value) -> (True,
    {"value": in force, "frame": first showing it}) or (False, why)`, set by the command that runs the show;
    None: read-only)."""

    def __init__(self, clock=time.monotonic):
        """`clock`: what frames are stamped with, for /health and /metrics (a test's own, to move at will)."""
        self._cond = threading.Condition()  # guards every field below; viewers wait on it for the next frame
        self._encoding = threading.Lock()  # one connection encodes a new frame, the others take its JPEG
        self._newest: tuple = (0, None, _as_is)  # (count, frame, encode) of the newest frame
        self._jpeg: tuple[int, bytes | None] = (0, None)  # (count, JPEG) of the last frame encoded
        self.count = 0
        self.status = {"fps": 0.0, "model": "", "frames": 0, "projection": "flat", "stereo": False}
        self.status_count = 0  # figures published so far: the control page's events wait on it
        self.closed = False
        self.schema: dict = {}
        self.control = None
        self.clock = clock
        self.started, self.frame_at = clock(), None  # when the hub began, and had its newest frame

    def publish(self, jpeg: bytes) -> None:
        """A frame already encoded as JPEG."""
        self.offer(jpeg, _as_is)

    def offer(self, frame, encode, fps: float | None = None) -> None:
        """The newest frame, kept by reference: `encode(frame) -> JPEG bytes` runs only when a connection asks
        for it, so the caller must not write to `frame` afterwards. `fps`: the rate frames come at, if known."""
        with self._cond:
            self.count += 1
            self._newest = (self.count, frame, encode)
            self.frame_at = self.clock()
            self.status["frames"] = self.count
            if fps is not None:
                self.status["fps"] = fps
            self._cond.notify_all()

    def publish_status(self, status: dict) -> None:
        """The show's figures after a frame (model and scene switches included) for /status.json."""
        # Only what JSON can carry: a page's JSON.parse refuses NaN and Infinity, and would drop every update.
        shown = {
            k: v for k, v in status.items() if isinstance(v, (str, int)) or isinstance(v, float) and math.isfinite(v)
        }
        with self._cond:
            self.status.update(
                {**shown, "model": status["model_name"], "frames": self.count, "model_number": status.get("model", 0)}
            )
            self.status_count += 1
            self._cond.notify_all()

    def next_status_after(self, seen: int, timeout: float) -> tuple[int, bytes] | None:
        """(count, figures as JSON) once newer than `seen`, or None on timeout/close."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.status_count > seen or self.closed, timeout) or self.closed:
                return None
            return self.status_count, json.dumps(self.status).encode()

    def figures(self) -> tuple[dict, float | None]:
        """A copy of the figures, taken as one, and the seconds since the newest frame (None: none yet)."""
        with self._cond:
            return dict(self.status), None if self.frame_at is None else self.clock() - self.frame_at

    def status_json(self) -> bytes:
        with self._cond:  # the loop updates it while a request reads it
            return json.dumps(self.status).encode()

    def next_after(self, seen: int, timeout: float = 5.0):
        """(count, jpeg) of a frame newer than `seen`, or None on timeout/close."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.count > seen or self.closed, timeout) or self.closed:
                return None
        return self._encoded()

    def _encoded(self) -> tuple[int, bytes]:
        """The newest frame's (count, JPEG), encoded by the first connection to ask. It encodes outside the
        hub's lock, so the display thread never waits for it; others asking meanwhile wait on `_encoding`
        and then take its JPEG, unless a newer frame came (then the next of them encodes that one)."""
        with self._encoding:
            with self._cond:
                (count, frame, encode), done = self._newest, self._jpeg
            if done[0] == count:
                return done
            jpeg = encode(frame)
            with self._cond:
                self._jpeg = (count, jpeg)
            return count, jpeg

    def wait_closed(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds, returning at once (True) when the hub closes."""
        with self._cond:
            return self._cond.wait_for(lambda: self.closed, timeout)

    def close(self):
        with self._cond:
            self.closed = True
            self._cond.notify_all()


def _as_is(jpeg: bytes) -> bytes:
    return jpeg


def encode_jpeg(frame: np.ndarray, quality: int) -> bytes:
    """An RGB frame as JPEG bytes."""
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"cannot encode a frame of shape {frame.shape} as JPEG")
    return jpeg.tobytes()


class ServeSink:
    """The loop's side: each frame goes to the hub by reference, with the rate so far; viewers encode it."""

    def __init__(self, hub: FrameHub, quality: int = 85):
        self.hub, self.quality = hub, quality
        self._started, self._frames = time.monotonic(), 0

    def write(self, frame: np.ndarray):
        self._frames += 1
        self.hub.offer(frame, self._encode, self._frames / max(time.monotonic() - self._started, 1e-6))

    def _encode(self, frame: np.ndarray) -> bytes:
        return encode_jpeg(frame, self.quality)

    def close(self):
        self.hub.close()


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


def start_server(hub: FrameHub, host: str, port: int, token: str | None, limits: Limits = Limits()) -> BoundedServer:
    from realtime.media.routes import make_handler

    if not is_loopback(host) and not token:
        raise UserError(f"serving on {host} reaches beyond this machine: give --token SECRET too")
    try:
        server = (BoundedServer if family(host) == BoundedServer.address_family else BoundedServer6)(
            (host, port), make_handler(hub, token, limits), limits
        )
    except OSError as exc:
        raise UserError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    threading.Thread(target=server.serve_forever, name="serve", daemon=True).start()
    if not is_loopback(host):
        log.warning("serving beyond this machine on %s:%d; every request needs the token", host, port)
    address = f"http://{url_host(host)}:{server.server_address[1]}"
    query = f"?token={quote(token, safe='')}" if token else ""  # any UTF-8, & and # too, survives the URL
    log.info("viewer at %s/%s", address, query)
    log.info("controls at %s/control%s", address, query)
    return server

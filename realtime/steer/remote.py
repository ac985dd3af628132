"""Remote control over OSC: a show-control program (QLab, TouchDesigner, Max, a script) drives the loop.

A python-osc UDP server runs on its own thread and only queues what arrives; the loop drains the
queue between frames and applies each message on its own thread, so the stream's controls never
change halfway through a frame and need no lock. A bundle with a time tag is applied when it is due
(up to an hour ahead). A malformed datagram, an unknown address or a bad value is logged and
dropped: the show goes on.

Address space (all under /deepdream; scenes and models count from 1, as in the HUD):
  /deepdream/set NAME VALUE        set a live parameter (realtime.steer.requests.parameters()); /deepdream/NAME too
  /deepdream/scene N|NAME          jump to a playlist scene (and give every parameter back to the playlist)
  /deepdream/release               give parameters set over OSC back to the playlist
  /deepdream/pause [0|1]           pause / resume (no argument: toggle)
  /deepdream/snapshot              save the shown frame as a PNG (in --snapshots)
  /deepdream/record [0|1]          start / stop recording (no argument: toggle)
  /deepdream/status [PORT]         reply /deepdream/status KEY VALUE KEY VALUE ... to the sender (or PORT on its host)
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pythonosc import dispatcher, osc_packet, osc_server
from pythonosc.osc_message_builder import build_msg

from realtime.errors import UserError

log = logging.getLogger("deepdream.live")
PREFIX = "/deepdream"
LATEST_S = 3600.0  # a bundle timed further ahead than this is a mistake (or mischief): dropped, with a line
WAITING = 1000  # messages timed for later held at most; more are dropped, with a line (one a burst)


@dataclass(frozen=True)
class Message:
    address: str
    args: tuple
    sender: tuple[str, int]
    due: float = field(default=0.0, compare=False)  # time.monotonic() when to apply it (a timed bundle's)


class Remote(dispatcher.Dispatcher):
    """`Remote(host, port)` listens; `messages()` returns what is due since the last call, in order.

    The server's thread only parses and queues (python-osc's own dispatcher would sleep on its
    thread until a bundle's time, stopping every later message and the server's shutdown); a
    bundle timed in the future waits in a heap that the loop's thread drains when it is due."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__()  # python-osc's server calls only `call_handlers_for_packet`, answered here
        self._queue: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self._later: list[tuple[float, int, Message]] = []  # (due, n, Message): the loop's thread's alone
        self._order = itertools.count()
        try:
            self.server = _Server((host, port), self)
        except OSError as exc:
            raise UserError(f"cannot listen for OSC on {host}:{port}: {exc.strerror or exc}") from None
        self.address = self.server.server_address
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.2,), name="osc", daemon=True)
        self._thread.start()

    def call_handlers_for_packet(self, data: bytes, sender: tuple[Any, ...]) -> list:  # (host, port[, IPv6's])
        """python-osc's dispatcher interface, on the server's thread: parse, check the address, queue."""
        try:
            packet = osc_packet.OscPacket(data)
        except osc_packet.ParseError as exc:
            log.warning("osc: malformed message from %s:%s (%s; ignored)", *sender[:2], exc)
            return []
        now, monotonic = time.time(), time.monotonic()
        for timed in packet.messages:
            address, args = timed.message.address, tuple(timed.message.params)
            ahead = timed.time - now
            if not address.startswith(PREFIX + "/"):
                log.warning("osc: unknown address %s from %s:%s (ignored)", address, *sender[:2])
            elif any(isinstance(arg, list) for arg in args):  # no address takes one; nested deep, it defeats repr
                log.warning(
                    "osc: %s from %s:%s holds an array; addresses take numbers and text (ignored)", address, *sender[:2]
                )
            elif ahead > LATEST_S:
                log.warning(
                    "osc: %s %s from %s:%s is timed %.0f s ahead, more than %.0f s (ignored)",
                    address,
                    list(args),
                    *sender[:2],
                    ahead,
                    LATEST_S,
                )
            else:
                self._queue.put(Message(address, args, (sender[0], sender[1]), monotonic + max(0.0, ahead)))
        return []

    def messages(self) -> list[Message]:
        """On the loop's thread: every message due by now, in the order due (arrival for ties)."""
        now, dropped = time.monotonic(), 0
        while True:
            try:
                message = self._queue.get_nowait()
            except queue.Empty:
                break
            if message.due > now and len(self._later) >= WAITING:  # only the future is capped: now always passes
                dropped += 1
                continue
            heapq.heappush(self._later, (message.due, next(self._order), message))
        if dropped:
            log.warning("osc: %d messages timed for later already wait; %d more dropped", WAITING, dropped)
        out = []
        while self._later and self._later[0][0] <= now:
            out.append(heapq.heappop(self._later)[2])
        return out

    def reply(self, sender: tuple[str, int], address: str, args: list[object]) -> None:
        self.server.socket.sendto(build_msg(address, args).dgram, sender)

    def close(self) -> None:
        self.server.shutdown()  # serve_forever polls every 0.2 s: returns at once
        self.server.server_close()


class _Server(osc_server.BlockingOSCUDPServer):  # handlers only queue: no thread per datagram
    def verify_request(self, request: Any, client_address: Any) -> bool:  # socketserver's own types
        if super().verify_request(request, client_address):
            return True
        log.warning("osc: a datagram from %s:%s that is not OSC (ignored)", *client_address[:2])
        return False

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("osc: error handling a message from %s:%s (ignored)", *client_address[:2])

"""Remote control over OSC: a show-control program (QLab, TouchDesigner, Max, a script) drives the loop.

A python-osc UDP server runs on its own thread and only queues what arrives; the loop drains the
queue between frames and applies each message on its own thread, so the stream's controls never
change halfway through a frame and need no lock. A malformed datagram, an unknown address or a bad
value is logged and dropped: the show goes on.

Address space (all under /deepdream; scenes and models count from 1, as in the HUD):
  /deepdream/set NAME VALUE        set a live parameter (realtime.show.control.PARAMS); /deepdream/NAME VALUE too
  /deepdream/scene N|NAME          jump to a playlist scene (and give every parameter back to the playlist)
  /deepdream/release               give parameters set over OSC back to the playlist
  /deepdream/pause [0|1]           pause / resume (no argument: toggle)
  /deepdream/snapshot              save the shown frame as a PNG (in --snapshots)
  /deepdream/record [0|1]          start / stop recording (no argument: toggle)
  /deepdream/status [PORT]         reply /deepdream/status KEY VALUE KEY VALUE ... to the sender (or PORT on its host)
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

from pythonosc import dispatcher, osc_packet, osc_server
from pythonosc.osc_message_builder import build_msg

from realtime.errors import UserError

log = logging.getLogger("deepdream.live")
PREFIX = "/deepdream"


@dataclass(frozen=True)
class Message:
    address: str
    args: tuple
    sender: tuple[str, int]


class Remote:
    """`Remote(host, port)` listens; `messages()` drains what came in since the last call."""

    def __init__(self, host: str, port: int):
        self._queue: queue.SimpleQueue[Message] = queue.SimpleQueue()
        table = dispatcher.Dispatcher()
        table.map(f"{PREFIX}/*", self._received, needs_reply_address=True)
        table.set_default_handler(lambda sender, address, *args: log.warning(
            "osc: unknown address %s from %s:%s (ignored)", address, *sender), needs_reply_address=True)
        try:
            self.server = _Server((host, port), _LoggingDispatcher(table))
        except OSError as exc:
            raise UserError(f"cannot listen for OSC on {host}:{port}: {exc.strerror or exc}") from None
        self.address = self.server.server_address
        self._thread = threading.Thread(target=self.server.serve_forever, name="osc", daemon=True)
        self._thread.start()

    def _received(self, sender, address: str, *args) -> None:
        self._queue.put(Message(address, args, sender))

    def messages(self) -> list[Message]:
        out = []
        while not self._queue.empty():
            out.append(self._queue.get_nowait())
        return out

    def reply(self, sender: tuple[str, int], address: str, args: list) -> None:
        self.server.socket.sendto(build_msg(address, args).dgram, sender)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _LoggingDispatcher:
    """python-osc drops unparsable packets silently; an installation's log should say so."""

    def __init__(self, table):
        self.table = table

    def call_handlers_for_packet(self, data: bytes, sender):
        try:
            osc_packet.OscPacket(data)
        except osc_packet.ParseError as exc:
            log.warning("osc: malformed message from %s:%s (%s; ignored)", *sender, exc)
            return []
        return self.table.call_handlers_for_packet(data, sender)


class _Server(osc_server.BlockingOSCUDPServer):  # handlers only queue: no thread per datagram
    def verify_request(self, request, client_address) -> bool:
        if super().verify_request(request, client_address):
            return True
        log.warning("osc: a datagram from %s:%s that is not OSC (ignored)", *client_address)
        return False

    def handle_error(self, request, client_address) -> None:
        log.exception("osc: error handling a message from %s:%s (ignored)", *client_address)

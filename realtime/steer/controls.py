"""Every way a show is steered from outside, gathered and applied between frames on the loop's thread.

OSC messages (realtime.steer.remote), the control page's requests (`submit`, called on an HTTP
thread, which waits for the answer), MIDI (realtime.steer.midi) and the sound's modulation
(realtime.steer.modulate) all end in realtime.steer.requests's `set_param` / `command`: one check,
one hold-and-release rule, whoever sends the change. `apply(show, stats)` runs after each shown
frame; `modulate(show, t)` before each dream.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from realtime.errors import shown
from realtime.media.control_api import NoAnswer
from realtime.media.sources import Frame
from realtime.steer.kinds import Stats
from realtime.steer.requests import command, handle, set_param

if TYPE_CHECKING:
    from realtime.steer.midi import MidiInput
    from realtime.steer.modulate import Sound
    from realtime.steer.remote import Remote
    from realtime.steer.show import Show

log = logging.getLogger("deepdream.live")
ANSWER_S = 10.0  # an HTTP request waits this long for the loop (a frame takes far less; a hung loop does not answer)


@dataclass
class Request:
    kind: str  # "set" (a parameter) or "command"
    name: str
    value: object = None
    origin: str = "http"  # for the log: http, midi
    done: threading.Event = field(default_factory=threading.Event)
    result: object = None
    frame: int | None = None  # the frame log's number of the first frame that shows it
    error: str | None = None
    abandoned: bool = False  # the asker stopped waiting (and answered 503): it is not applied after all
    lock: threading.Lock = field(default_factory=threading.Lock)


class Controls:
    def __init__(self, remote: Remote | None = None, midi: MidiInput | None = None, sound: Sound | None = None) -> None:
        self.remote, self.midi, self.sound = remote, midi, sound
        # A sound file plays along at the frames' times in the source (a file played twice is heard the same);
        # beside a camera, whose frames come when they come, at the wall clock's.
        self.media_time = True
        self._queue: queue.SimpleQueue[Request] = queue.SimpleQueue()

    def submit(self, kind: str, name: str, value: object = None) -> tuple[bool, object]:
        """From another thread: apply a change at the next frame; (True, {"value": in force, "frame": the
        first frame showing it}) or (False, why). The frame lets a page tell figures from before it."""
        request = Request(kind, name, value)
        self._queue.put(request)
        if not request.done.wait(ANSWER_S):
            with request.lock:
                if not request.done.is_set():  # not taken meanwhile: give it up, so a retry does not toggle twice
                    request.abandoned = True
                    return False, NoAnswer(f"the show did not answer within {ANSWER_S:.0f} s")
        if request.error is not None:
            return False, request.error
        return True, {"value": request.result, "frame": request.frame}

    def apply(self, show: Show, stats: Stats | None) -> None:
        """After a frame: OSC, the control page's requests, MIDI."""
        if self.remote is not None:
            for message in self.remote.messages():
                handle(message, show, stats, self.remote)
        pending = [] if self.midi is None else self.midi.requests()
        while True:
            try:
                pending.append(self._queue.get_nowait())
            except queue.Empty:
                break
        for request in pending:
            self._one(request, show, None if stats is None else stats.frames)

    def _one(self, request: Request, show: Show, frame: int | None) -> None:
        with request.lock:
            if request.abandoned:
                return
            request.frame = frame  # applied before frame number `frame` is made: it is the first to show it
            self._apply(request, show)

    def _apply(self, request: Request, show: Show) -> None:
        try:
            apply = set_param if request.kind == "set" else command
            request.result = apply(show, request.name, request.value)
            # A slider or a knob sends many a second: the event log keeps commands, not every position.
            (log.info if request.kind == "command" else log.debug)(  # a repr: a name cannot forge a log line
                "%s: %s %s %s", request.origin, request.kind, shown(request.name), shown(request.value)
            )
        except (ValueError, TypeError, OverflowError, OSError) as exc:
            request.error = str(exc)
            log.warning(
                "%s: %s %s %s: %s (ignored)",
                request.origin,
                request.kind,
                shown(request.name),
                shown(request.value),
                str(exc)[:200],
            )
        finally:
            request.done.set()

    def modulate(self, show: Show, frame: Frame, fps: float, started: float) -> None:
        """Before a dream: the sound's features, heard at the frame's time, move the parameters mapped to them."""
        if self.sound is not None:
            self.sound.apply(show, frame.index / fps if self.media_time else frame.time - started)
            show.levels = self.sound.levels()

    def driven(self) -> dict[str, str]:
        """What moves each parameter besides an operator: {"zoom": "midi cc21", "feedback": "sound bass"}, for the
        status (an operator who holds one stops it; a release gives it back)."""
        out: dict[str, list[str]] = {}
        if self.midi is not None:
            from realtime.steer.midi import KNOBS, key_of  # midi imports this module: imported when asked

            for control, target in self.midi.mapping.items():
                if control[0] in KNOBS:  # a pad runs a command, it moves no parameter
                    out.setdefault(target[0], []).append(f"midi {key_of(control)}")
        if self.sound is not None:
            for row in self.sound.modulation.rows:
                out.setdefault(row.param, []).append(f"sound {row.source}")
        return {name: ", ".join(sources) for name, sources in out.items()}

    def figures(self) -> dict[str, float]:
        """The sound's levels for the HUD, the page and the log (empty without sound)."""
        return {} if self.sound is None else self.sound.levels()

    def close(self) -> None:
        for part in (self.remote, self.midi, self.sound):
            if part is not None:
                part.close()

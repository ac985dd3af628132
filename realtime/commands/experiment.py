"""`deepdream experiment PROTOCOL.toml --participant ID [--session N]`: a perception-lab protocol on the live dream.

The protocol (realtime.lab.protocol) and the participant's trial order (realtime.lab.order) are read and checked
before the camera opens; then `live`'s one loop runs, led by a ProtocolDirector (realtime.lab.director), and
ID/ses-N/ keeps the stimulus (stimulus.mkv, lossless; or stimulus.mp4, the exact H.264), frames.tsv, events.tsv
with events.json, and session.json. With --seed and a file source every frame is dreamed in order and the phases
are timed by frames (not real time): the same session again, byte for byte, to check a protocol on any machine.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from realtime.commands.live import options_from_args, run_live
from realtime.dream.dose import DoseScenes
from realtime.dream.settings import StreamSettings
from realtime.lab import order
from realtime.lab.protocol import Protocol, read_protocol
from realtime.lab.session import frame_intervals, session_dir, sha256_file, write_session
from realtime.store import find

log = logging.getLogger("deepdream.live")


def run(args) -> int:
    protocol = read_protocol(Path(args.protocol))
    label, number = order.check_participant(args.participant), order.check_session(args.session)
    trials = order.trials(protocol, label, number)
    seed = args.seed  # with a file: every frame dreamed in order, timed by frames, the same session again
    patch = None
    if args.photodiode is not None:
        from realtime.lab.patch import parse_patch

        patch = parse_patch(args.photodiode)
    models = tuple(find(m) for m in (args.model or [None]))
    folder = session_dir(Path(args.output), label, number)
    video = folder / ("stimulus.mkv" if protocol.video == "lossless" else "stimulus.mp4")
    options = replace(options_from_args(args, models), record=video, seed=seed, lsl=False)
    settings = StreamSettings.from_values({**vars(args), "dose_scenes": scenes(protocol)})
    lead = ExperimentLead(protocol, trials, folder, patch, args, (label, number, seed), models[0])
    try:
        return run_live(options, settings, lead)
    except BaseException:
        if not lead.started:  # nothing of a session yet (the camera or the model failed): no folder left behind
            shutil.rmtree(folder, ignore_errors=True)
        raise


def scenes(protocol: Protocol) -> DoseScenes:
    return DoseScenes(zero=dict(protocol.zero), full=dict(protocol.full))


class ExperimentLead:
    """The lead of an experiment (realtime.commands.live.Lead): the director, its record, then session.json."""

    def __init__(self, protocol: Protocol, trials, folder: Path, patch, args, who: tuple, model: Path) -> None:
        """`who`: (participant label, session number, the dream's seed)."""
        self.protocol, self.trials, self.folder, self.patch, self.args = protocol, trials, folder, patch, args
        (self.label, self.number, self.seed), self.model, self.started, self.record = who, model, False, None
        self.began = datetime.now(UTC)

    def start(self, mode, display: tuple[int, int], fps: float, outputs, stream):
        from realtime.lab.director import KEYS, ProtocolDirector
        from realtime.lab.record import Record

        streams = None
        if self.args.lsl:
            from realtime.lab.lsl import open_streams, wait_for_recorder

            streams = open_streams(fps, stream.figures().model)
            wait_for_recorder(streams, frames=False)
        self.record = Record(self.folder, streams, self.patch)
        self.started, self.fps, self.display, self.mode = True, fps, display, mode
        if outputs.window is not None:
            outputs.window.keys = KEYS
            outputs.window.show_hud = False  # the participant sees the stimulus, not the figures
        timed = fps if mode.lockstep else None  # every frame of a file, in order: phases counted in frames
        interactive = outputs.window is not None and not self.args.headless
        self.director = ProtocolDirector(self.protocol, self.trials, self.record, display, interactive, timed)
        return self.director, ()

    def finish(self, summary: dict) -> None:
        self.completed = self.director.finished and not self.director.aborted
        if not self.director.finished:
            log.warning("the session ended before the protocol did (stopped, or the source ended): completed false")
        flips = self.record.close()["flips"] if self.record is not None else []
        self.record = None
        if self.protocol.video != "lossless":  # for replay --check: H.264 does not keep the shown frames bit for bit
            from realtime.lab.replay import keep_hashes

            log.info("hashing the kept video's frames for replay --check")
            keep_hashes(self.folder / "stimulus.mp4")
        write_session(self.folder / "session.json", self._session(summary, flips))
        log.info("session kept in %s", self.folder)

    def _session(self, summary: dict, flips: list[float]) -> dict:
        from realtime.parser import _version

        return {
            "program": "deepdream-live",
            "version": _version(),
            "participant": self.label,
            "session": self.number,
            "started": self.began.isoformat(timespec="seconds"),
            "ended": datetime.now(UTC).isoformat(timespec="seconds"),
            "model": {"name": self.model.name, "sha256": sha256_file(self.model)},
            "seeds": {"dream": self.seed, "order": f"{self.label}/{self.number}"},  # each block draws its order from it
            "protocol": {"file": str(self.protocol.path), "text": self.protocol.text},
            "source": self.args.source,
            "video": ("stimulus.mkv" if self.protocol.video == "lossless" else "stimulus.mp4"),
            "fps": self.fps,
            "size": list(self.display),
            "timing": "frames" if self.mode.lockstep else "flips",
            "display_refresh_hz": refresh_rate(),
            "frame_intervals": frame_intervals(flips),
            "frames": len(flips),
            "dropped_frames": summary.get("dropped_frames", 0),
            "lsl": bool(self.args.lsl),
            "photodiode": None if self.patch is None else {"corner": self.patch.corner, "size": self.patch.side},
            "trials": len(self.trials),
            "completed": self.completed,  # false: aborted, or the source ended first
        }

    def close(self) -> None:
        if self.record is not None:  # the run failed: what was recorded is kept, the files finished
            self.record.close()
            self.record = None


def refresh_rate() -> int | None:
    """The display's refresh rate (Hz) as SDL reports it; None headless or where it cannot say."""
    try:
        import pygame

        if not pygame.display.get_init() or not pygame.display.get_driver() or pygame.display.get_driver() == "dummy":
            return None
        rate = pygame.display.get_desktop_refresh_rates()[0]
        return int(rate) or None
    except (ImportError, IndexError, AttributeError, RuntimeError):
        return None

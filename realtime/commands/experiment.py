"""`deepdream experiment PROTOCOL.toml --participant ID [--session N]`: a perception-lab protocol on the live dream.

The protocol (realtime.lab.protocol) and the participant's trial order (realtime.lab.order) are read and checked
before the camera opens; then `live`'s one loop runs, led by a ProtocolDirector (realtime.lab.director), and
ID/ses-N/ keeps the stimulus (stimulus.mp4, H.264; or stimulus.mkv, lossless), frames.tsv, events.tsv with
events.json, and session.json. With --seed and a file source every frame is dreamed in order and the phases are
timed by frames: the same session again, byte for byte (headless, to check a protocol on any machine; with a
window, paced to the file's rate). A session stopped before its protocol ended keeps what it showed and exits 1.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from realtime.commands.live import options_from_args, run_live
from realtime.dream.dose import DoseScenes
from realtime.dream.settings import StreamSettings
from realtime.errors import UserError
from realtime.lab import order
from realtime.lab.protocol import Protocol, read_protocol
from realtime.lab.session import session_dir, session_path
from realtime.store import find

log = logging.getLogger("deepdream.live")


def run(args) -> int:
    protocol = read_protocol(Path(args.protocol))
    label, number = order.check_participant(args.participant), order.check_session(args.session)
    trials = order.trials(protocol, label, number)
    patch = None
    if args.photodiode is not None:
        from realtime.lab.patch import parse_patch

        patch = parse_patch(args.photodiode)
    models = tuple(find(m) for m in (args.model or [None]))
    check_long_enough(args, trials, protocol)
    where = session_path(Path(args.output), args.participant, number)
    made = [d for d in (where, *where.parents) if not d.exists()]  # what a run that fails to start takes away
    folder = session_dir(Path(args.output), args.participant, number)
    video = folder / ("stimulus.mkv" if protocol.video == "lossless" else "stimulus.mp4")
    options = replace(options_from_args(args, models), record=video, lsl=False, vsync=not args.headless)
    settings = StreamSettings.from_values({**vars(args), "dose_scenes": scenes(protocol)})
    lead = ExperimentLead(protocol, trials, folder, patch, args, (label, number), models[0])
    try:
        return run_live(options, settings, lead)
    except BaseException:
        if not lead.started:  # nothing of a session yet (the camera or the model failed): no folder left behind
            for folder_made in made:  # the deepest first; only what this run made, and only while empty
                if folder_made.is_dir() and not any(folder_made.iterdir()):
                    folder_made.rmdir()
        raise


def scenes(protocol: Protocol) -> DoseScenes:
    return DoseScenes(zero=dict(protocol.zero), full=dict(protocol.full))


def check_long_enough(args, trials, protocol: Protocol) -> None:
    """A video file played once must last the protocol's trials and rests (ratings and pauses aside): refused
    now, in one line, rather than a session that stops half way."""
    import cv2

    if args.loop or not Path(args.source).is_file():
        return
    cap = cv2.VideoCapture(args.source)
    frames, fps = cap.get(cv2.CAP_PROP_FRAME_COUNT), cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    needed = sum(t.duration for t in trials) + protocol.rest * max(len(trials) - 1, 0)
    if frames > 1 and fps > 0 and frames / fps < needed:
        raise UserError(
            f"--source {args.source} lasts {frames / fps:.1f} s, the protocol {needed:.1f} s: add --loop, or give a "
            "longer clip"
        )


class ExperimentLead:
    """The lead of an experiment (realtime.commands.live.Lead): the director, its record, then session.json."""

    def __init__(self, protocol: Protocol, trials, folder: Path, patch, args, who: tuple[str, int], model: Path):
        self.protocol, self.trials, self.folder, self.patch, self.args = protocol, trials, folder, patch, args
        (self.label, self.number), self.model, self.started = who, model, False
        self.began = datetime.now(UTC)
        self.record = self.director = None
        self.run: dict = {}

    def start(self, mode, display: tuple[int, int], fps: float, outputs, stream):
        from realtime.lab.director import KEYS, ProtocolDirector
        from realtime.lab.record import Record

        streams = None
        if self.args.lsl:
            from realtime.lab.lsl import open_streams, wait_for_recorder

            streams = open_streams(fps, stream.figures().model)
            wait_for_recorder(streams, frames=False)
        self.record = Record(self.folder, streams, self.patch, period=1 / fps if fps > 0 else 1 / 30)
        self.started = True
        if outputs.window is not None:
            outputs.window.keys = KEYS
            outputs.window.show_hud = False  # the participant sees the stimulus, not the figures
        interactive = outputs.window is not None and not self.args.headless
        self.director = ProtocolDirector(self.protocol, self.trials, self.record, display, interactive)
        self.director.timed(fps, by_frames=mode.lockstep)  # every frame of a file, in order: counted in frames
        self.run = {"fps": fps, "size": list(display), "timing": "frames" if mode.lockstep else "flips"}
        self.run["display_refresh_hz"] = outputs.window.refresh_hz() if outputs.window is not None else None
        return self.director, ()

    def finish(self, summary: dict) -> int:
        """session.json first, then the kept video's hashes; 1 where the run stopped before the protocol did."""
        from realtime.lab.session import write_session

        director, record = self.director, self.record
        assert director is not None and record is not None
        director.stop()
        flips = record.close()["flips"]
        self.record = None
        completed = director.finished and not director.aborted
        write_session(self.folder / "session.json", self._session(summary, flips, completed))
        if self.protocol.video != "lossless":  # for replay --check: H.264 does not keep the shown frames bit for bit
            from realtime.lab.replay import keep_hashes

            log.info("hashing the kept video's frames for replay --check")
            keep_hashes(self.folder / "stimulus.mp4")
        log.info("session kept in %s", self.folder)
        if not completed:
            log.error("the session stopped before its protocol ended%s", " (aborted)" if director.aborted else "")
        return 0 if completed else 1

    def _session(self, summary: dict, flips: list[float], completed: bool) -> dict:
        from realtime.lab.summary import session_record

        who = {
            "participant": self.label,
            "session": self.number,
            "seeds": {"dream": self.args.seed, "order": f"{self.label}/{self.number}"},  # each block's order's
            "started": self.began.isoformat(timespec="seconds"),
        }
        run = {
            **self.run,
            "source": self.args.source,
            "video": "stimulus.mkv" if self.protocol.video == "lossless" else "stimulus.mp4",
            "dropped_frames": summary.get("dropped_frames", 0),
            "lsl": bool(self.args.lsl),
            "photodiode": None if self.patch is None else {"corner": self.patch.corner, "size": self.patch.side},
            "trials": len(self.trials),
            "completed": completed,  # false: aborted, stopped, or the source ended first
        }
        return session_record(self.protocol, who, self.model, run, flips)

    def close(self) -> None:
        if self.record is not None:  # the run failed: what was recorded is kept, the files finished
            self.record.close()
            self.record = None

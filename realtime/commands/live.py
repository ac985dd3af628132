"""`deepdream live`: put a source, a dream stream and the sinks together, run the loop, report."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from realtime.dream.params import LIVE, OUTPUT
from realtime.dream.settings import settings_class
from realtime.files import check_writable

if TYPE_CHECKING:
    from realtime.run.director import Director

log = logging.getLogger("deepdream.live")


LiveOptions = settings_class(
    "LiveOptions",
    LIVE + OUTPUT,
    "How `live` runs beside its dream: the LIVE and OUTPUT parameters "
    "(realtime.dream.params: frames, window, sizes, fade, crf...), then where frames come from and go.",
    extra=tuple(
        (name, kind, field(default=default))
        for name, kind, default in (
            ("source", str, "webcam:0"),
            ("fallback", str, None),
            ("loop", bool, False),
            ("models", tuple, ()),
            ("provider", str, "auto"),
            ("headless", bool, False),
            ("fullscreen", bool, False),
            ("record", Path, None),
            ("stats", Path, None),
            ("snapshots", Path, Path(".")),
            ("guide", Path, None),
            ("serve", str, None),
            ("token", str, None),
            ("stereo", bool, False),
            ("pipe", bool, False),
            ("virtualcam", bool, False),
            ("ndi", str, None),  # a source name for NDI receivers; spout and syphon: a sender's name there
            ("spout", str, None),
            ("syphon", str, None),
            ("log", Path, None),
            ("seed", int, None),
            ("config", Path, None),
            ("osc", str, None),  # [HOST:]PORT for remote control
            ("midi_port", str, None),  # --midi: an input port's name ("": the first); [midi] in TOML is the mapping
            ("audio", str, None),  # a sound input device or a file, for the config's [[modulate]] rows
            ("event_log", Path, None),
            ("heartbeat", Path, None),  # set by the watchdog for the loop it supervises
            ("run", int, 1),
            ("lsl", bool, False),
            ("vsync", bool, False),  # an experiment's window: pictures up at the display's refresh
        )
    ),  # which run of the watchdog this is: later runs number their output files
    module=__name__,
)


def options_from_args(args, models: tuple[Path, ...]) -> LiveOptions:
    """LiveOptions by name from parsed flags (paths made Paths)."""
    values = {**vars(args), "models": models}
    paths = [f.name for f in fields(LiveOptions) if f.type is Path]  # flags give text
    values.update({name: Path(values[name]) for name in paths if values.get(name) is not None})
    return LiveOptions.from_values(values)


class Lead(Protocol):
    """What leads a run besides the show (realtime.run.director): a study's protocol, or LSL's frame stream."""

    def start(self, mode, display: tuple[int, int], fps: float, outputs, stream) -> tuple[Director | None, tuple]: ...

    def finish(self, summary: dict) -> int: ...  # after the loop, its figures known: the exit code

    def close(self) -> None: ...  # on every path, after finish or instead of it


def run_live(options: LiveOptions, settings, lead: Lead | None = None) -> int:
    from realtime.commands.outputs import check_outputs
    from realtime.run.eventlog import remove, setup
    from realtime.run.watchdog import numbered

    options = replace(
        options,
        record=numbered(options.record, options.run),
        log=numbered(options.log, options.run),
        stats=numbered(options.stats, options.run),
    )
    check_outputs(options)
    for path in (options.record, options.stats, options.log, options.event_log):
        if path is not None:
            check_writable(path)
    if options.serve:
        from realtime.addresses import parse_address
        from realtime.media.serve import check_serve

        check_serve(*parse_address(options.serve, "--serve"), options.token)  # now, not after the model loads
    handler = setup("live", options.event_log)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # a service manager's stop: finish files as on Ctrl-C
    controls = None
    try:
        from realtime.commands.live_controls import open_controls
        from realtime.config import tables

        controls = open_controls(options, tables(options.config) if options.config else {})
        if lead is None and options.lsl:
            from realtime.lab.frames import FramesLead

            lead = FramesLead()
        return _run_live(options, settings, controls, lead)
    finally:
        if controls is not None:
            controls.close()
        if lead is not None:
            lead.close()
        remove(handler)


def _run_live(options: LiveOptions, settings, controls, lead: Lead | None) -> int:
    from realtime.commands.live_parts import playlist as read_playlist
    from realtime.media.sources import Latest
    from realtime.run.summary import report, write_stats
    from realtime.run.system import keep_freed_memory

    keep_freed_memory()  # before the first frame's buffers: no page faults per frame
    from realtime.commands.live_parts import schedule

    playlist, (hours, still) = read_playlist(options, settings), schedule(options)
    source, mode, stream, display, outputs = _assemble(options, settings, playlist)
    controls.media_time = mode.media_time  # a camera's frames (or an unseeded photo's): the wall clock's time
    if not mode.paced:
        source.paced = False
        log.info("--seed with a file: every frame in order (not real time)")
    try:  # the lead first: a file's pacing starts with the reader, not before a recorder was waited for
        led = lead.start(mode, display, source.fps, outputs, stream) if lead is not None else (None, ())
    except BaseException:
        source.close()
        outputs.close()
        raise
    reader = Latest(source, lockstep=mode.every_frame)
    try:
        rest = _rest(hours, still, display)
        show, stats = _show(options, mode, stream, playlist, outputs, reader, controls, source.fps, display, rest, led)
    finally:
        reader.close()
        outputs.close()  # the sinks too where the loop never ran to close them
    summary = stats.summary(show)
    code = lead.finish(summary) if lead is not None else 0
    report(summary)
    if options.stats is not None:
        write_stats(options.stats, summary)
    return code


def _assemble(options: LiveOptions, settings, playlist) -> tuple:
    """The source opened, then what its mode (realtime.run.live_mode) says: the engines, the display size and
    the outputs; the source is closed again if any of them fails."""
    from realtime.commands import live_parts
    from realtime.commands.outputs import Outputs, quietly
    from realtime.dream.stream import DreamStream
    from realtime.run.display import display_size
    from realtime.run.live_mode import decide

    models, guide = live_parts.models(options, playlist), live_parts.guide(options)  # a bad guide: before the source
    source, name = live_parts.open_with_fallback(options, settings.size)  # the mode is the opened source's
    try:
        mode = decide(options.seed, options.sync, source)
        stream = DreamStream(live_parts.engines(models, guide, options.provider, mode), settings)
        display = display_size(options.display_size, mode.sync, source, settings.size)
        outputs = Outputs(replace(options, sync=mode.sync), settings, source.fps, display, exact=mode.lockstep)
    except BaseException:
        quietly(source.close)
        raise
    log.info("source %s", name)
    return source, mode, stream, display, outputs


def _rest(hours, still, display):
    """The loop's show hours (realtime.run.rest.Hours) at the display size, or None without a [schedule]."""
    from realtime.run.rest import Hours

    return Hours(hours, display, still) if hours is not None else None


def _show(options: LiveOptions, mode, stream, playlist, outputs, reader, controls, fps: float, display, hours, led):
    """The show steering the stream (beside the display: a proxy the worker applies), run to its end."""
    from realtime.commands.live_controls import wire_page
    from realtime.run.loop import run
    from realtime.run.steps import BesideDisplay, Inline
    from realtime.run.worker import StreamProxy
    from realtime.steer.show import Show

    steered = stream if mode.sync else StreamProxy(stream)
    show = Show(steered, playlist, outputs.recorder, outputs.window)
    wire_page(outputs.hub, show, controls)
    step = Inline(stream, display) if mode.sync else BesideDisplay.around(stream, steered, display, options.dream_fade)
    try:
        if outputs.heartbeat is not None and isinstance(step, BesideDisplay):  # a stuck dream: the watchdog sees it
            outputs.heartbeat.watch(step.worker)
            step.watchers.append(outputs.heartbeat.watch)  # and each new one, after show hours restart it
        stats = run(
            reader,
            show,
            outputs.sinks,
            window=outputs.window,
            max_frames=options.frames,
            present=outputs.present,
            frame_log=outputs.frame_log,
            controls=controls,
            publish=outputs.publish,
            fps=fps,
            step=step,
            hours=hours,
            director=led[0],
            flipped=led[1],
        )
    finally:
        step.close()  # the dream's thread stopped on every path; after the loop's own close it does nothing
    return show, stats

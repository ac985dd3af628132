"""`deepdream live`: put a source, a dream stream and the sinks together, run the loop, report."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import field, fields, replace
from pathlib import Path

from realtime.dream.params import LIVE, OUTPUT
from realtime.dream.settings import settings_class
from realtime.errors import UserError
from realtime.files import check_writable
from realtime.store import find

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
            ("log", Path, None),
            ("seed", int, None),
            ("config", Path, None),
            ("osc", str, None),  # [HOST:]PORT for remote control
            ("midi_port", str, None),  # --midi: an input port's name ("": the first); [midi] in TOML is the mapping
            ("audio", str, None),  # a sound input device or a file, for the config's [[modulate]] rows
            ("event_log", Path, None),
            ("heartbeat", Path, None),  # set by the watchdog for the loop it supervises
            ("run", int, 1),
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


def open_with_fallback(options: LiveOptions, size):
    from realtime.media.sources import open_source

    try:
        return open_source(options.source, options.loop, size), options.source
    except UserError as exc:
        if not options.fallback:
            raise
        log.warning("%s; using --fallback %s", exc, options.fallback)
        return open_source(options.fallback, options.loop, size), options.fallback


def run_live(options: LiveOptions, settings) -> int:
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
        return _run_live(options, settings, controls)
    finally:
        if controls is not None:
            controls.close()
        remove(handler)


def _run_live(options: LiveOptions, settings, controls) -> int:
    from realtime.media.sources import Latest
    from realtime.run.summary import report, write_stats
    from realtime.run.system import keep_freed_memory

    keep_freed_memory()  # before the first frame's buffers: no page faults per frame
    playlist = _playlist(options, settings)
    source, mode, stream, display, outputs = _assemble(options, settings, playlist)
    controls.media_time = mode.file  # a camera's frames: the sound at the wall clock's time
    if mode.lockstep:
        source.paced = False
        log.info("--seed with a file: every frame in order (not real time)")
    reader = Latest(source, lockstep=mode.every_frame)
    try:
        show, stats = _show(options, mode, stream, playlist, outputs, reader, controls, source.fps, display)
    finally:
        reader.close()
        outputs.close()
    summary = stats.summary(show)
    report(summary)
    if options.stats is not None:
        write_stats(options.stats, summary)
    return 0


def _assemble(options: LiveOptions, settings, playlist) -> tuple:
    """The source opened, then what its mode (realtime.run.mode) says: the engines, the display size and the
    outputs; the source is closed again if any of them fails."""
    from realtime.commands.outputs import Outputs, quietly
    from realtime.dream.stream import DreamStream
    from realtime.run.display import display_size
    from realtime.run.mode import decide

    models, guide = _models(options, playlist), _guide(options)  # a bad guide is said before the source opens
    source, name = open_with_fallback(options, settings.size)  # the mode is the opened source's (the fallback's)
    try:
        mode = decide(options.seed, options.sync, source)
        stream = DreamStream(_engines(models, guide, options.provider, mode), settings)
        display = display_size(options.display_size, mode.sync, source, settings.size)
        outputs = Outputs(replace(options, sync=mode.sync), settings, source.fps, display, exact=mode.exact)
    except BaseException:
        quietly(source.close)
        raise
    log.info("source %s", name)
    return source, mode, stream, display, outputs


def _show(options: LiveOptions, mode, stream, playlist, outputs, reader, controls, fps: float, display):
    """The show steering the stream (beside the display: a proxy the worker applies), run to its end."""
    from realtime.commands.live_controls import wire_page
    from realtime.run.loop import run
    from realtime.run.steps import BesideDisplay
    from realtime.run.worker import StreamProxy
    from realtime.steer.show import Show

    steered = stream if mode.sync else StreamProxy(stream)
    show = Show(steered, playlist, outputs.recorder, outputs.window)
    wire_page(outputs.hub, show, controls)
    step = None
    if not mode.sync:
        step = BesideDisplay.around(stream, steered, display, options.dream_fade)
        if outputs.heartbeat is not None:  # frames keep coming while a dream is stuck: the watchdog sees that too
            outputs.heartbeat.watch(step.worker)
    stats = run(
        reader,
        show,
        outputs.sinks,
        outputs.window,
        options.frames,
        outputs.present,
        outputs.frame_log,
        controls,
        outputs.publish,
        fps,
        step,
    )
    return show, stats


def _playlist(options: LiveOptions, settings):
    if options.config is None:
        return None
    from realtime.config import playlist as read_playlist
    from realtime.steer.playlist import NUMBERS

    playlist = read_playlist(options.config, {name: getattr(settings, name) for name in NUMBERS})
    if playlist:  # a scene's model, like --model, is a path or a name in the store
        playlist.scenes = [replace(s, model=str(find(s.model))) if s.model else s for s in playlist.scenes]
        log.info(
            "playlist: %d scenes, %.0f s a cycle, %.1f s crossfade",
            len(playlist.scenes),
            playlist.period,
            playlist.crossfade,
        )
    return playlist


def _models(options: LiveOptions, playlist) -> list[Path]:
    """--model's and the playlist's scenes' models, each once."""
    models = list(options.models)
    for scene in playlist.scenes if playlist else []:
        if scene.model and Path(scene.model) not in models:
            models.append(Path(scene.model))
    return models


def _guide(options: LiveOptions):
    from realtime.media.images import load_guide

    return load_guide(options.guide) if options.guide is not None else None


def _engines(models: list[Path], guide, provider: str, mode) -> list:
    """An engine a model, built as the mode says: exact on the loop's thread, or below the display beside it."""
    from realtime.dream.engine import Engine
    from realtime.run.system import lowered

    def build(below: bool) -> list:
        return [Engine(m, provider, **mode.engine_options(below)) for m in models]

    engines = build(False) if mode.sync else lowered(build)  # beside the display: onnxruntime's threads below it
    for engine in engines:
        log.info("model %s on %s", engine.info.describe(), engine.provider)
    if guide is not None:
        for engine in engines:
            engine.guide(guide)
    return engines

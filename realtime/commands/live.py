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
    "LiveOptions", LIVE + OUTPUT, "How `live` runs beside its dream: the LIVE and OUTPUT parameters "
    "(realtime.dream.params: frames, window, sizes, fade, crf...), then where frames come from and go.",
    extra=tuple((name, kind, field(default=default)) for name, kind, default in (
        ("source", str, "webcam:0"), ("fallback", str, None), ("loop", bool, False), ("models", tuple, ()),
        ("provider", str, "auto"), ("headless", bool, False), ("fullscreen", bool, False),
        ("record", Path, None), ("stats", Path, None), ("snapshots", Path, Path(".")), ("guide", Path, None),
        ("serve", str, None), ("token", str, None), ("stereo", bool, False), ("pipe", bool, False),
        ("virtualcam", bool, False), ("log", Path, None), ("seed", int, None), ("config", Path, None),
        ("osc", str, None),  # [HOST:]PORT for remote control
        ("midi_port", str, None),  # --midi: an input port's name ("": the first); [midi] in TOML is the mapping
        ("audio", str, None),  # a sound input device or a file, for the config's [[modulate]] rows
        ("event_log", Path, None), ("heartbeat", Path, None),  # set by the watchdog for the loop it supervises
        ("run", int, 1))),  # which run of the watchdog this is: later runs number their output files
    module=__name__)


def options_from_args(args, models: tuple[Path, ...]) -> "LiveOptions":
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


def check_outputs(options: LiveOptions) -> None:
    """Refuse, before any work, a recording that is not .mp4 and an output that is an input or another output."""
    if options.record is not None and options.record.suffix.lower() != ".mp4":
        raise UserError(f"--record {options.record}: recordings are MP4; give a name ending in .mp4")
    inputs = {"--model": options.models, "--guide": (options.guide,), "--config": (options.config,),
              "--source": (Path(options.source),), "--fallback": (Path(options.fallback or ""),),
              "--audio": (Path(options.audio or ""),)}
    taken = {p.resolve(): flag for flag, paths in inputs.items() for p in paths if p is not None and p.is_file()}
    outputs = {"--record": options.record, "--log": options.log, "--stats": options.stats,
               "--event-log": options.event_log, "--snapshots": options.snapshots}
    for flag, path in outputs.items():
        if path is None:
            continue
        if path.resolve() in taken:
            raise UserError(f"{flag} {path} is the {taken[path.resolve()]} file; it would be overwritten: "
                            "choose another name")
        taken[path.resolve()] = flag
    from realtime.media.recorder import check_folder

    check_folder(options.snapshots)  # found out now, not when someone presses `s` at the opening


def run_live(options: LiveOptions, settings) -> int:
    from realtime.run.eventlog import remove, setup
    from realtime.run.watchdog import numbered

    options = replace(options, record=numbered(options.record, options.run), log=numbered(options.log, options.run),
                      stats=numbered(options.stats, options.run))
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
    from realtime.commands.live_async import display_size, report, run_async_live
    from realtime.commands.live_controls import wire_page
    from realtime.commands.outputs import Outputs, quietly
    from realtime.dream.stream import DreamStream
    from realtime.media.sources import Latest
    from realtime.run.loop import run, write_stats
    from realtime.steer.show import Show
    from realtime.run.system import keep_freed_memory

    keep_freed_memory()  # before the first frame's buffers: no page faults per frame
    playlist = _playlist(options, settings)
    engines = _engines(options, playlist)
    source, name = open_with_fallback(options, settings.size)
    log.info("source %s", name)
    stream = DreamStream(engines, settings)
    # With a seed, a file is a stimulus: every frame, in order, as fast as the dream goes, so two
    # runs show the same frames (and record the same bytes). Beside the dream, a file's every frame
    # is shown at its rate, so a recording of it has no holes; with --sync, and from a camera, the
    # newest frame wins.
    is_file = getattr(source, "is_file", False)
    controls.media_time = is_file  # a camera's frames: the sound at the wall clock's time
    lockstep = options.seed is not None and is_file
    sync = options.sync or lockstep
    options = replace(options, sync=sync)
    fps = getattr(source, "fps", 30.0)
    display = display_size(options.display_size, sync, source, settings.size)
    try:
        outputs = Outputs(options, settings, fps, display, exact=lockstep)
    except BaseException:
        quietly(source.close)
        raise
    if lockstep:
        source.paced = False
        log.info("--seed with a file: every frame in order (not real time)")
    reader = Latest(source, lockstep=lockstep or (is_file and not sync))
    try:
        if sync:
            show = Show(stream, playlist, outputs.recorder, outputs.window)
            wire_page(outputs.hub, show, controls)
            stats = run(reader, show, outputs.sinks, outputs.window, options.frames, outputs.present,
                        outputs.frame_log, controls, outputs.publish, fps)
        else:
            show, stats = run_async_live(options, stream, playlist, outputs, reader, controls, fps, display,
                                         wire=lambda show: wire_page(outputs.hub, show, controls))
    finally:
        reader.close()
        outputs.close()
    summary = stats.summary(show)
    report(summary)
    if options.stats is not None:
        write_stats(options.stats, summary)
    return 0


def _playlist(options: LiveOptions, settings):
    if options.config is None:
        return None
    from realtime.config import playlist as read_playlist
    from realtime.steer.playlist import NUMBERS

    playlist = read_playlist(options.config, {name: getattr(settings, name) for name in NUMBERS})
    if playlist:  # a scene's model, like --model, is a path or a name in the store
        playlist.scenes = [replace(s, model=str(find(s.model))) if s.model else s for s in playlist.scenes]
        log.info("playlist: %d scenes, %.0f s a cycle, %.1f s crossfade", len(playlist.scenes), playlist.period,
                 playlist.crossfade)
    return playlist


def _engines(options: LiveOptions, playlist) -> list:
    from realtime.commands.live_async import beside_display
    from realtime.dream.engine import Engine
    from realtime.run.system import lowered

    models = list(options.models)
    for scene in (playlist.scenes if playlist else []):
        if scene.model and Path(scene.model) not in models:
            models.append(Path(scene.model))
    from realtime.media.images import load_guide

    guide = load_guide(options.guide) if options.guide is not None else None
    # No display thread beside the dream: --sync, or --seed with a file (lockstep; see _run_live).
    alone = options.sync or (options.seed is not None and isinstance(options.source, str) and Path(options.source).is_file())

    def build(below: bool) -> list:
        return [Engine(m, options.provider, **({"exact": options.seed is not None} if alone else beside_display(below)))
                for m in models]

    engines = build(False) if alone else lowered(build)  # beside the display: onnxruntime's threads below it
    for engine in engines:
        log.info("model %s on %s", engine.info.describe(), engine.provider)
    if guide is not None:
        for engine in engines:
            engine.guide(guide)
    return engines

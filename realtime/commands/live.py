"""`deepdream live`: put a source, a dream stream and the sinks together, run the loop, report."""
from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from realtime.errors import UserError
from realtime.files import check_writable

log = logging.getLogger("deepdream.live")


@dataclass(frozen=True)
class LiveOptions:
    source: str = "webcam:0"
    fallback: str | None = None
    loop: bool = False
    models: tuple[Path, ...] = ()
    provider: str = "auto"
    headless: bool = False
    fullscreen: bool = False
    window: tuple[int, int] | None = None
    frames: int = 0
    record: Path | None = None
    stats: Path | None = None
    snapshots: Path = Path(".")
    guide: Path | None = None
    serve: str | None = None
    token: str | None = None
    stereo: bool = False
    disparity: int = 0
    pipe: bool = False
    virtualcam: bool = False
    log: Path | None = None
    seed: int | None = None
    config: Path | None = None
    osc: str | None = None  # [HOST:]PORT for remote control
    event_log: Path | None = None
    min_free_mb: float = 500.0  # recording stops when the disk has less free
    heartbeat: Path | None = None  # set by the watchdog for the loop it supervises
    run: int = 1  # which run of the watchdog this is: later runs number their output files


def open_with_fallback(options: LiveOptions, size):
    from realtime.media.sources import open_source

    try:
        return open_source(options.source, options.loop, size), options.source
    except UserError as exc:
        if not options.fallback:
            raise
        log.warning("%s; using --fallback %s", exc, options.fallback)
        return open_source(options.fallback, options.loop, size), options.fallback


def _remote(address: str | None):
    if not address:
        return None
    from realtime.addresses import is_loopback, parse_address
    from realtime.show.remote import Remote

    host, port = parse_address(address, "--osc")
    remote = Remote(host, port)
    if not is_loopback(host):
        log.warning("OSC on %s: anyone on that network can control the show (OSC has no passwords)", host)
    log.info("OSC remote control on %s:%d (/deepdream/...)", *remote.address[:2])
    return remote


def check_outputs(options: LiveOptions) -> None:
    """Refuse, before any work, a recording that is not .mp4 and an output that is an input or another output."""
    if options.record is not None and options.record.suffix.lower() != ".mp4":
        raise UserError(f"--record {options.record}: recordings are MP4; give a name ending in .mp4")
    inputs = {"--model": options.models, "--guide": (options.guide,), "--config": (options.config,),
              "--source": (Path(options.source),), "--fallback": (Path(options.fallback or ""),)}
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


def run_live(options: LiveOptions, settings) -> int:
    from realtime.show.eventlog import remove, setup
    from realtime.show.watchdog import numbered

    options = replace(options, record=numbered(options.record, options.run), log=numbered(options.log, options.run),
                      stats=numbered(options.stats, options.run))
    check_outputs(options)
    for path in (options.record, options.stats, options.log, options.event_log):
        if path is not None:
            check_writable(path)
    if options.serve:
        from realtime.addresses import parse_address

        parse_address(options.serve, "--serve")  # a bad address fails now, not after the model loads
    handler = setup("live", options.event_log)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # a service manager's stop: finish files as on Ctrl-C
    remote = None
    try:
        remote = _remote(options.osc)
        return _run_live(options, settings, remote)
    finally:
        if remote is not None:
            remote.close()
        remove(handler)


def _run_live(options: LiveOptions, settings, remote) -> int:
    from realtime.dream.engine import Engine
    from realtime.show.loop import run, write_stats
    from realtime.media.recorder import Recorder
    from realtime.media.sinks import PipeSink, VideoSink, VirtualCamSink, WindowSink, side_by_side
    from realtime.media.sources import Latest
    from realtime.dream.stream import DreamStream

    playlist = None
    if options.config is not None:
        from realtime.show.config import playlist as read_playlist

        playlist = read_playlist(options.config, {"steps_per_frame": settings.steps_per_frame,
                                                  "step_size": settings.step_size, "feedback": settings.feedback,
                                                  "zoom": settings.zoom})
    models = list(options.models)
    for scene in (playlist.scenes if playlist else []):
        if scene.model and Path(scene.model) not in models:
            models.append(Path(scene.model))
    from realtime.media.images import load_guide

    guide = load_guide(options.guide) if options.guide is not None else None
    engines = [Engine(m, options.provider) for m in models]
    for engine in engines:
        log.info("model %s on %s", engine.info.describe(), engine.provider)
    if guide is not None:
        for engine in engines:
            engine.guide(guide)
    source, name = open_with_fallback(options, settings.size)
    log.info("source %s", name)
    stream = DreamStream(engines, settings)
    stream.playlist = playlist
    if playlist:
        log.info("playlist: %d scenes, %.0f s a cycle, %.1f s crossfade", len(playlist.scenes), playlist.period,
                 playlist.crossfade)
    fps = getattr(source, "fps", 30.0)
    sinks, window = [], None
    if options.headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    else:
        w, h = settings.size
        window = WindowSink(options.window or ((w * 2 if options.stereo else w) * 2, h * 2), options.fullscreen)
        sinks.append(window)
    w, h = settings.size
    shown = (w * 2, h) if options.stereo else (w, h)
    if options.record is not None:
        from realtime.media.diskguard import DiskGuard

        sinks.append(DiskGuard(VideoSink(options.record, fps, shown), options.min_free_mb))
    if options.pipe:
        sinks.append(PipeSink())
    if options.virtualcam:
        sinks.append(VirtualCamSink(shown, fps))
    if options.serve:
        from realtime.addresses import parse_address
        from realtime.media.serve import FrameHub, ServeSink, start_server

        hub = FrameHub()
        hub.status["model"] = engines[0].info.name
        server = start_server(hub, *parse_address(options.serve, "--serve"), options.token)
        sinks.append(ServeSink(hub))
    recorder = Recorder(options.snapshots, fps, shown, None, options.min_free_mb)
    sinks.append(recorder)
    if options.heartbeat is not None:
        from realtime.show.watchdog import Heartbeat

        sinks.append(Heartbeat(options.heartbeat))
    frame_log = None
    if options.log is not None:
        from realtime.show.framelog import FrameLog

        frame_log = FrameLog(options.log)
    # With a seed, a file is a stimulus: every frame, in order, as fast as the dream goes, so two
    # runs show the same frames. Otherwise the newest frame wins, as with a camera.
    lockstep = options.seed is not None and getattr(source, "is_file", False)
    if lockstep:
        source.paced = False
        log.info("--seed with a file: every frame in order (not real time)")
    reader = Latest(source, lockstep=lockstep)
    try:
        stats = run(reader, stream, sinks, window, recorder, options.frames,
                    side_by_side(options.disparity) if options.stereo else None, frame_log, remote)
    finally:
        reader.close()
        if frame_log is not None:
            frame_log.close()
        if options.serve:
            server.shutdown()
    summary = stats.summary(stream)
    log.info("%d frames, %.1f fps, %.0f ms/step, latency p50 %.0f ms p95 %.0f ms", summary["frames"], summary["fps"],
             summary["ms_per_step"], summary["latency_ms"]["p50"], summary["latency_ms"]["p95"])
    if options.stats is not None:
        write_stats(options.stats, summary)
    return 0

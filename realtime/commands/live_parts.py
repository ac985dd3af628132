"""What `live` opens before it assembles a run: the source (or its --fallback), the playlist and the show
hours of its --config, the models it names, the guide image, and the engines built as the run's mode says."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from realtime.errors import UserError
from realtime.store import find

log = logging.getLogger("deepdream.live")


def open_with_fallback(options, size):
    """(the opened source, its name): --source, or --fallback when --source cannot open."""
    from realtime.media.sources import open_source

    try:
        return open_source(options.source, options.loop, size), options.source
    except UserError as exc:
        if not options.fallback:
            raise
        log.warning("%s; using --fallback %s", exc, options.fallback)
        return open_source(options.fallback, options.loop, size), options.fallback


def playlist(options, settings):
    """The scenes of --config's playlist (None without one), each scene's model found in the store."""
    if options.config is None:
        return None
    from realtime.config import playlist as read_playlist
    from realtime.steer.playlist import NUMBERS

    scenes = read_playlist(options.config, {name: getattr(settings, name) for name in NUMBERS})
    if scenes:  # a scene's model, like --model, is a path or a name in the store
        scenes.scenes = [replace(s, model=str(find(s.model))) if s.model else s for s in scenes.scenes]
        log.info(
            "playlist: %d scenes, %.0f s a cycle, %.1f s crossfade",
            len(scenes.scenes),
            scenes.period,
            scenes.crossfade,
        )
    return scenes


def schedule(options):
    """(--config's [schedule] or None, its still loaded or None): a still that cannot be read is refused
    now, naming the file and the key, before the source opens."""
    if options.config is None:
        return None, None
    from realtime.config import schedule as read_schedule
    from realtime.media.images import load_image

    hours = read_schedule(options.config)
    if hours is None or hours.still is None:
        return hours, None
    try:
        return hours, load_image(hours.still)
    except UserError as exc:
        raise UserError(f"{options.config}: [schedule] still: {exc}") from None


def models(options, scenes) -> list[Path]:
    """--model's and the playlist's scenes' models, each once."""
    found = list(options.models)
    for scene in scenes.scenes if scenes else []:
        if scene.model and Path(scene.model) not in found:
            found.append(Path(scene.model))
    return found


def guide(options):
    """--guide's image, loaded (None without one)."""
    from realtime.media.images import load_guide

    return load_guide(options.guide) if options.guide is not None else None


def engines(paths: list[Path], guide, provider: str, mode) -> list:
    """An engine a model, built as the mode says: exact on the loop's thread, or below the display beside it."""
    from realtime.dream.engine import Engine
    from realtime.run.system import lowered

    def build(below: bool) -> list:
        return [Engine(m, provider, **mode.engine_options(below)) for m in paths]

    built = build(False) if mode.sync else lowered(build)  # beside the display: onnxruntime's threads below it
    for engine in built:
        log.info("model %s on %s", engine.info.describe(), engine.provider)
    if guide is not None:
        for engine in built:
            engine.guide(guide)
    return built

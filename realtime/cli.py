"""The `deepdream` command: one function per subcommand (`COMMANDS`), each a thin layer over a module.

The parser is realtime.parser's. TensorFlow is imported only by `export`, so the runtime commands
work on an installation PC that has just onnxruntime, OpenCV, pygame and numpy.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from realtime.errors import UserError
from realtime.parser import build_parser
from realtime.store import GALLERY as GALLERY_MODEL
from realtime.store import find, name_of, store


def _export(args) -> int:
    try:
        from export.command import ExportSettings, run
        from export.objectives import parse
        from realtime.quiet import only_our_lines
    except ImportError as exc:
        from realtime.install import pip_install

        raise UserError(
            f"export needs TensorFlow and tf2onnx ({exc.name} is missing): {pip_install('export')}"
        ) from None
    settings = ExportSettings(
        parse(args.layers),
        args.weights,
        args.seed,
        Path(args.output) if args.output else None,
        verify=not args.no_verify,
        mix=args.mix,
        precision=args.precision,
    )
    say = lambda msg: print(f"[export] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    with only_our_lines():  # TensorFlow's banners differ by CPU and build: none reach the user
        path = run(settings, progress=say)
    say(f"saved as {name_of(path)}: --model {name_of(path) if path.parent == store() else path}")
    print(path)
    return 0


def _dream(args) -> int:
    from realtime.commands.dream import run
    from realtime.dream.still import DreamSettings

    settings = DreamSettings.from_values(vars(args))
    print(
        run(
            Path(args.input),
            Path(args.output),
            find(args.model),
            settings,
            args.provider,
            Path(args.guide) if args.guide else None,
        )
    )
    return 0


def _live(args) -> int:
    from realtime.commands.live import options_from_args, run_live
    from realtime.dream.settings import StreamSettings

    if args.watchdog:
        return _supervised(args)
    models = tuple(find(m) for m in (args.model or [None]))
    return run_live(options_from_args(args, models), StreamSettings.from_values(with_dose_scenes(args)))


def with_dose_scenes(args) -> dict:
    """The parsed flags and, from --config's [dose], the scenes `dose` moves between (the defaults without one)."""
    from realtime.config import dose

    config = getattr(args, "config", None)
    return {**vars(args), "dose_scenes": dose(Path(config) if config else None)}


def _supervised(args) -> int:
    from realtime.run.eventlog import remove, setup
    from realtime.run.watchdog import supervise

    handler = setup("watchdog", Path(args.event_log) if args.event_log else None)
    try:
        return supervise(args.argv[1:], args.watchdog)  # argv[0] is "live"
    finally:
        remove(handler)


def _configured(parser, argv, args) -> int:
    """live or render with --config: the file's keys become the command's defaults (flags given here win)."""
    from realtime import config

    command = parser.commands[args.command]
    if args.config:
        from_flags = args.model
        config.apply(command, Path(args.config), also=parser.live_parser if args.command == "render" else None)
        args = parser.parse_args(argv)  # again: the file's values are now defaults, flags win
        args.argv = argv
        if from_flags:  # --model appends; given on the command line it replaces the file's list
            args.model = from_flags
    if getattr(args, "print_config", False):
        print(config.dump(parser.live_parser, args, Path(args.config) if args.config else None), end="")
        return 0
    return COMMANDS[args.command](args)


def _experiment(args) -> int:
    from realtime.commands.experiment import run

    return run(args)


def _replay(args) -> int:
    from realtime.commands.replay import run

    return run(Path(args.session), args)


def _gallery(args) -> int:
    from realtime.commands.gallery import run

    print(
        run(
            Path(args.input),
            Path(args.output),
            find(args.model, GALLERY_MODEL),
            args.steps,
            args.step_size,
            args.size,
            args.provider,
        )
    )
    return 0


def _midi_learn(args) -> int:
    from realtime.steer.midi_learn import learn

    return learn(args.port, args.param, args.write)


def _doctor(args) -> int:
    from realtime.commands.doctor import run

    return run(args.model)


def _models(args) -> int:
    from realtime.commands.models import add, listing

    if args.verb == "add":
        print(add(Path(args.file)))
    else:
        print(listing(), end="")
    return 0


def _service(args) -> int:
    from realtime.commands import service

    if args.verb == "install":
        return service.install(args.config, args.name, args.force, args.start)
    return service.status(args.name) if args.verb == "status" else service.remove(args.name)


def _render(args) -> int:
    import signal
    import threading

    from realtime.commands.render import RenderJob, render
    from realtime.dream.settings import StreamSettings

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped like Ctrl-C: the work kept for a rerun

    job = RenderJob(
        input=Path(args.input),
        output=Path(args.output),
        model=find(args.model),
        size=args.size,
        crf=args.crf,
        config=Path(args.config) if args.config else None,
        audio=Path(args.audio) if args.audio else None,
    )  # size None: the clip's own
    values = with_dose_scenes(args)
    make_settings = lambda size: StreamSettings.from_values({**values, "size": size})  # noqa: E731
    if args.ray is None:
        print(render(job, make_settings, args.provider))
        return 0
    from realtime.commands.cluster import ClusterOptions, render_on_ray
    from realtime.dream.chunks import ChunkPlan

    try:
        plan = ChunkPlan.from_values(vars(args))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    options = ClusterOptions.from_values({**vars(args), "address": args.ray, "plan": plan})
    print(render_on_ray(job, make_settings, options, args.provider))
    return 0


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # FFmpeg's own lines ("moov atom not found"): we say it once
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        if args.command in ("live", "render") and (args.config or getattr(args, "print_config", False)):
            return _configured(parser, argv, args)
        return COMMANDS[args.command](args)
    except UserError as exc:
        print(f"deepdream {args.command}: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.filename is None:  # not about a path the user gave: a bug, with its traceback
            raise
        said = f"cannot use {exc.filename!r}: {exc.strerror or exc}"  # a name too long for the file system, say
        print(f"deepdream {args.command}: error: {one_line(said)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"deepdream {args.command}: interrupted", file=sys.stderr)
        return 130


def one_line(message: str) -> str:
    """A message as one line: a newline in a name the user gave (a path) is shown as \\n."""
    return message.replace("\r", "\\r").replace("\n", "\\n")


COMMANDS = {
    "export": _export,
    "dream": _dream,
    "gallery": _gallery,
    "live": _live,
    "experiment": _experiment,
    "render": _render,
    "doctor": _doctor,
    "midi-learn": _midi_learn,
    "models": _models,
    "service": _service,
    "replay": _replay,
}


if __name__ == "__main__":
    sys.exit(main())

"""The `deepdream` command: one parser, one subcommand per job, each a thin layer over a module.

TensorFlow is imported only by `export`, so the runtime commands work on
an installation PC that has just onnxruntime, OpenCV, pygame and numpy.
"""
from __future__ import annotations

import argparse
import difflib
import os
import sys
from pathlib import Path

from realtime.dream.params import CLUSTER, LIVE, OUTPUT, STILL, STREAM
from realtime.errors import UserError
from realtime.flags import GALLERY, SEED, add_params, flag_type
from realtime.store import DEFAULT as DEFAULT_MODEL, GALLERY as GALLERY_MODEL, find, name_of, store

PROVIDER_CHOICES = ("auto", "cpu", "cuda")  # realtime.dream.runtime.PROVIDERS, and auto: CUDA where it runs


def _export(args) -> int:
    try:
        from export.command import ExportSettings, run
        from export.objectives import parse
        from export.quiet import only_our_lines
    except ImportError as exc:
        raise UserError(f"export needs TensorFlow and tf2onnx ({exc.name} is missing): "
                        "pip install -e '.[export]'") from None
    settings = ExportSettings(parse(args.layers), args.weights, args.seed, Path(args.output) if args.output else None,
                              verify=not args.no_verify, mix=args.mix, precision=args.precision)
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
    print(run(Path(args.input), Path(args.output), find(args.model), settings, args.provider,
              Path(args.guide) if args.guide else None))
    return 0


def _live(args) -> int:
    from realtime.commands.live import options_from_args, run_live
    from realtime.dream.settings import StreamSettings

    if args.watchdog:
        return _supervised(args)
    models = tuple(find(m) for m in (args.model or [None]))
    return run_live(options_from_args(args, models), StreamSettings.from_values(vars(args)))


def _supervised(args) -> int:
    from realtime.show.eventlog import remove, setup
    from realtime.show.watchdog import supervise

    handler = setup("watchdog", Path(args.event_log) if args.event_log else None)
    try:
        return supervise(args.argv[1:], args.watchdog)  # argv[0] is "live"
    finally:
        remove(handler)


def _configured_live(parser, argv, args) -> int:
    from realtime.show import config

    if args.config:
        from_flags = args.model
        config.apply(parser.live_parser, Path(args.config))
        args = parser.parse_args(argv)  # again: the file's values are now defaults, flags win
        args.argv = argv
        if from_flags:  # --model appends; given on the command line it replaces the file's list
            args.model = from_flags
    if args.print_config:
        print(config.dump(parser.live_parser, args, Path(args.config) if args.config else None), end="")
        return 0
    return args.func(args)


def _gallery(args) -> int:
    from realtime.commands.gallery import run

    print(run(Path(args.input), Path(args.output), find(args.model, GALLERY_MODEL), args.steps, args.step_size,
              args.size, args.provider))
    return 0


class Parser(argparse.ArgumentParser):
    """argparse, with its errors in one line (no usage block before the line that matters) and the
    nearest flag named for a mistyped one."""

    def error(self, message: str):
        unknown = message.removeprefix("unrecognized arguments: ")
        if unknown != message:
            flags = [s for a in self._actions for s in a.option_strings]
            near = difflib.get_close_matches(unknown.split()[0].split("=")[0], flags, n=1)
            message += f" (did you mean {near[0]}?)" if near else ""
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")

    def parse_args(self, args=None, namespace=None):
        """As argparse's, but flags a subcommand does not know are its error, with its flags to suggest."""
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            commands = getattr(self, "commands", {})
            (commands.get(getattr(parsed, "command", None)) or self).error(f"unrecognized arguments: {' '.join(extra)}")
        return parsed


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="deepdream", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    parser.commands = sub.choices  # name -> its parser

    p = sub.add_parser("export", help="export InceptionV3 + its input gradient to ONNX (needs TensorFlow)")
    p.add_argument("--layers", default="mixed3,mixed5",
                   help="LAYER[/CHANNEL][:WEIGHT],... from mixed0..mixed10 (default: mixed3,mixed5)")
    p.add_argument("--weights", default="imagenet",
                   help="imagenet (Keras download/cache), random (untrained, from --seed), or a weights FILE")
    p.add_argument("--seed", type=int, default=0, help="seed for random weights and the self-check")
    p.add_argument("-o", "--output", help="model path (default: the model store, named after the layers)")
    p.add_argument("--no-verify", action="store_true", help="skip the check against TensorFlow (not advised)")
    p.add_argument("--precision", choices=("fp32", "fp16"), default="fp32",
                   help="fp16: weights and arithmetic in half precision for GPUs, inputs and outputs float32; "
                        "checked against fp32 where the CPU can run it (default fp32)")
    p.add_argument("--mix", action="store_true",
                   help="layer weights (mixed0..deepest of --layers) and a guide become inputs, set at run time")
    p.set_defaults(func=_export)

    p = sub.add_parser("dream", help="dream a still image")
    p.add_argument("input", help="PNG/JPEG image")
    p.add_argument("-o", "--output", required=True, help="output image (.png, .jpg, ...)")
    p.add_argument("--model", help=f"a model's name in the store or a .onnx path (default: {DEFAULT_MODEL})")
    add_params(p, STILL)
    p.add_argument("--provider", default="auto", choices=PROVIDER_CHOICES, help="auto, cpu or cuda")
    p.add_argument("--guide", help="guide image: dream toward its features (needs a --mix model)")
    p.set_defaults(func=_dream)

    p = sub.add_parser("gallery", help="one dream per layer mixed0..mixed10, labelled, on one contact sheet")
    p.add_argument("input", help="PNG/JPEG image")
    p.add_argument("-o", "--output", required=True, help="sheet image (.png)")
    p.add_argument("--model", help=f"a mix model up to mixed10, by name or path (default: {GALLERY_MODEL})")
    add_params(p, GALLERY)
    p.add_argument("--provider", default="auto", choices=PROVIDER_CHOICES, help="auto, cpu or cuda")
    p.set_defaults(func=_gallery)

    p = sub.add_parser("live", help="webcam (or clip) -> dream -> screen, in real time, with feedback")
    p.add_argument("--source", default="webcam:0", help="webcam:N (or webcam:/dev/videoN), a video or image file, "
                   "or synthetic (default webcam:0)")
    p.add_argument("--fallback", help="source to use if --source cannot be opened at start (e.g. synthetic)")
    p.add_argument("--loop", action="store_true", help="loop a video file")
    p.add_argument("--model", action="append", help="a model's name in the store or a .onnx path; repeat to cycle "
                   f"with 'm' (default: {DEFAULT_MODEL})")
    add_params(p, STREAM)
    add_params(p, LIVE)
    p.add_argument("--headless", action="store_true", help="no window (servers, tests)")
    p.add_argument("--fullscreen", action="store_true")
    p.add_argument("--record", help="record every displayed frame to this .mp4")
    add_params(p, OUTPUT)
    p.add_argument("--stats", help="write fps, ms_per_step, latency_ms and frames here as JSON at exit")
    p.add_argument("--snapshots", default=".", help="folder for snapshots and key-started recordings")
    p.add_argument("--guide", help="guide image: dream toward its features (needs --mix models)")
    p.add_argument("--serve", metavar="[HOST:]PORT", help="also serve an MJPEG stream and a viewer page over HTTP "
                   "(127.0.0.1 unless a host is given)")
    p.add_argument("--token", help="secret every HTTP request must carry as ?token=... (required beyond loopback)")
    p.add_argument("--stereo", action="store_true", help="side-by-side frames for a headset")
    p.add_argument("--pipe", action="store_true", help="raw RGB24 frames to stdout (size on stderr)")
    p.add_argument("--virtualcam", action="store_true", help="also send frames to a virtual webcam "
                   "(pip install -e '.[virtualcam]')")
    p.add_argument("--provider", default="auto", choices=PROVIDER_CHOICES, help="auto, cpu or cuda")
    p.add_argument("--log", help="experiment log: one CSV row per displayed frame (times, frame indices, "
                   "every parameter, loss, ms per step)")
    p.add_argument("--seed", type=flag_type(SEED), help="reproducible runs: with a video file, every frame in order "
                   "(not real time)")
    p.add_argument("--config", help="TOML file with any of these flags as keys (flags given here win)")
    p.add_argument("--print-config", action="store_true", help="print the effective settings as TOML and exit")
    p.add_argument("--osc", metavar="[HOST:]PORT", help="remote control over OSC (127.0.0.1 unless a host is given); "
                   "addresses in the README")
    p.add_argument("--event-log", help="also write what the loop says, with timestamps, to this file "
                   "(rotated at 10 MiB, 5 kept)")
    p.add_argument("--heartbeat", help=argparse.SUPPRESS)  # the watchdog's, for the loop it supervises
    p.add_argument("--run", type=int, default=1, help=argparse.SUPPRESS)  # the watchdog's run number
    p.set_defaults(func=_live)
    parser.live_parser = p

    p = sub.add_parser("render", help="dream every frame of a clip offline, with the live loop's dream")
    p.add_argument("input", help="video file")
    p.add_argument("-o", "--output", required=True, help="output .mp4 (same frame rate and frame count)")
    p.add_argument("--model", help=f"a model's name in the store or a .onnx path (default: {DEFAULT_MODEL})")
    add_params(p, STREAM, defaults={"size": None})
    add_params(p, OUTPUT)
    p.add_argument("--provider", default="auto", choices=PROVIDER_CHOICES, help="auto, cpu or cuda")
    _add_cluster_flags(p)
    p.set_defaults(func=_render)

    p = sub.add_parser("doctor", help="what this machine has for dreaming (onnxruntime build, GPU, CUDA libraries, "
                       "cameras, disk) and a timed dream on each provider: one line per finding, for a bug report")
    p.add_argument("--model", help=f"a model's name in the store or a .onnx path (default: {DEFAULT_MODEL}, else one "
                   "exported on the spot with random weights where TensorFlow is installed)")
    p.set_defaults(func=_doctor)

    p = sub.add_parser("models", help="the models in the store (name, layers, weights, kind, size, path); "
                       "`models add FILE.onnx` brings one made elsewhere")
    verbs = p.add_subparsers(dest="verb")
    add = verbs.add_parser("add", help="check that FILE.onnx is a deepdream-live model, then copy it into the store")
    add.add_argument("file", help="a model exported elsewhere (deepdream export)")
    p.set_defaults(func=_models)
    return parser


def _add_cluster_flags(p) -> None:
    """`render --ray`: chunks of the clip as Ray tasks (realtime/commands/cluster.py)."""
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="dream on Ray: alone, a Ray started here; auto or ray://HOST:10001 joins a cluster")
    add_params(p, CLUSTER)


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


def _render(args) -> int:
    import signal
    import threading

    from realtime.commands.render import RenderJob, render
    from realtime.dream.settings import StreamSettings

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped like Ctrl-C: the work kept for a rerun

    job = RenderJob(input=Path(args.input), output=Path(args.output), model=find(args.model), size=args.size,
                    crf=args.crf)  # size None: the clip's own
    make_settings = lambda size: StreamSettings.from_values({**vars(args), "size": size})  # noqa: E731
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
        if args.command == "live" and (args.config or args.print_config):
            return _configured_live(parser, argv, args)
        return args.func(args)
    except UserError as exc:
        print(f"deepdream {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"deepdream {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

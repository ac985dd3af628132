"""The `deepdream` command: one parser, one subcommand per job, each a thin layer over a module.

TensorFlow is imported only by `export` (and `bench`'s comparison), so the runtime commands work on
an installation PC that has just onnxruntime, OpenCV, pygame and numpy.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from realtime.errors import UserError


def _export(args) -> int:
    try:
        from export.command import ExportSettings, run
        from export.objectives import parse
    except ImportError as exc:
        raise UserError(f"export needs TensorFlow and tf2onnx ({exc.name} is missing): "
                        "pip install -e '.[export]'") from None
    settings = ExportSettings(parse(args.layers), args.weights, args.seed,
                              Path(args.output) if args.output else None, verify=not args.no_verify)
    path = run(settings, progress=lambda msg: print(f"[export] {msg}", file=sys.stderr, flush=True))
    print(path)
    return 0


def _dream(args) -> int:
    from realtime.stills import DreamSettings, run

    settings = DreamSettings(args.steps, args.step_size, args.octaves, args.octave_scale, args.tile,
                             args.jitter, args.blur, args.max_dim, args.seed)
    print(run(Path(args.input), Path(args.output), Path(args.model), settings, args.provider))
    return 0


def _positive(kind):
    def parse(text):
        value = kind(text)
        if value < 0:
            raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepdream", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("export", help="export InceptionV3 + its input gradient to ONNX (needs TensorFlow)")
    p.add_argument("--layers", default="mixed3,mixed5",
                   help="LAYER[/CHANNEL][:WEIGHT],... from mixed0..mixed10 (default: mixed3,mixed5)")
    p.add_argument("--weights", default="imagenet",
                   help="imagenet (Keras download/cache), random (untrained, from --seed), or a weights FILE")
    p.add_argument("--seed", type=int, default=0, help="seed for random weights and the self-check")
    p.add_argument("-o", "--output", help="model path (default: models/inception_<layers>.onnx)")
    p.add_argument("--no-verify", action="store_true", help="skip the check against TensorFlow (not advised)")
    p.set_defaults(func=_export)

    from realtime.stills import DEFAULT_MODEL
    p = sub.add_parser("dream", help="dream a still image")
    p.add_argument("input", help="PNG/JPEG image")
    p.add_argument("-o", "--output", required=True, help="output image (.png, .jpg, ...)")
    p.add_argument("--model", default=str(DEFAULT_MODEL), help=f"exported model (default: {DEFAULT_MODEL})")
    p.add_argument("--steps", type=_positive(int), default=100, help="ascent steps per octave (default 100)")
    p.add_argument("--step-size", type=float, default=0.01, help="step size (default 0.01)")
    p.add_argument("--octaves", type=_positive(int), default=1, help="number of scales (default 1)")
    p.add_argument("--octave-scale", type=float, default=1.3, help="size ratio between octaves (default 1.3)")
    p.add_argument("--tile", type=_positive(int), default=0, help="tile size in pixels for big images (0: off)")
    p.add_argument("--jitter", type=_positive(int), default=0, help="random roll in pixels per step (0: off)")
    p.add_argument("--blur", type=_positive(float), default=0.0, help="Gaussian sigma for the gradient (0: off)")
    p.add_argument("--max-dim", type=_positive(int), default=0, help="dream at most this many pixels a side")
    p.add_argument("--seed", type=int, default=0, help="seed for jitter and tile offsets")
    p.add_argument("--provider", default="auto", help="auto, cpu or cuda")
    p.set_defaults(func=_dream)
    return parser


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print(f"deepdream {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"deepdream {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

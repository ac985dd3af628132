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

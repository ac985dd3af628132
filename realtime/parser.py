"""The `deepdream` command line: one parser, one subcommand per job, every number made from the parameter table.

`build_parser()` makes it (realtime.flags adds the table's flags); `Parser` says argparse's errors in one
line. Which function runs each subcommand is realtime.cli's business (`parser.commands` names them).
"""

from __future__ import annotations

import argparse
import difflib

from realtime.command_options import DEFAULT_HELP, experiment_settings, live_settings, render_settings
from realtime.dream.params import STILL
from realtime.dream.runtime import PROVIDER_CHOICES
from realtime.flags import GALLERY, SEED, add_params, add_settings, flag_type
from realtime.install import pip_install, version
from realtime.lab_parser import add_replay
from realtime.store import GALLERY as GALLERY_MODEL


class Parser(argparse.ArgumentParser):
    """argparse, with its errors in one line (no usage block before the line that matters) and the
    nearest flag named for a mistyped one; no abbreviations (`--weight` would quietly be `--weights`)."""

    def __init__(self, *args, **kwargs):
        self.flags: list[str] = []  # every option string added, for the nearest to a mistyped one
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def add_argument(self, *names, **kwargs):
        self.flags += [name for name in names if name.startswith("-")]
        return super().add_argument(*names, **kwargs)

    def error(self, message: str):
        unknown = message.removeprefix("unrecognized arguments: ")
        if unknown != message:
            near = difflib.get_close_matches(unknown.split()[0].split("=")[0], self.flags, n=1)
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
    parser = Parser(
        prog="deepdream",
        description="Real-time DeepDream: export a model, then dream stills, a live "
        "camera or a clip with it (deepdream SUBCOMMAND --help says more)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    parser.commands = sub.choices  # name -> its parser

    p = sub.add_parser("export", help="export InceptionV3 + its input gradient to ONNX (needs TensorFlow)")
    p.add_argument(
        "--layers",
        default="mixed3,mixed5",
        help="LAYER[/CHANNEL][:WEIGHT],... from mixed0..mixed10 (default: mixed3,mixed5)",
    )
    p.add_argument(
        "--weights",
        default="imagenet",
        help="imagenet (Keras download/cache), random (untrained, from --seed), or a weights FILE",
    )
    p.add_argument("--seed", type=flag_type(SEED), default=0, help="seed for random weights and the self-check")
    p.add_argument("-o", "--output", help="model path (default: the model store, named after the layers)")
    p.add_argument("--no-verify", action="store_true", help="skip the check against TensorFlow (not advised)")
    p.add_argument(
        "--precision",
        choices=("fp32", "fp16"),
        default="fp32",
        help="fp16: weights and arithmetic in half precision for GPUs, inputs and outputs float32; "
        "checked against fp32 where the CPU can run it (default fp32)",
    )
    p.add_argument(
        "--mix",
        action="store_true",
        help="layer weights (mixed0..deepest of --layers) and a guide become inputs, set at run time",
    )

    p = _still(
        sub,
        "dream",
        "dream a still image",
        STILL,
        output="output image (.png, .jpg, ...)",
        model=f"a model's name in the store or a .onnx path ({DEFAULT_HELP})",
    )
    p.add_argument("--guide", help="guide image: dream toward its features (needs a --mix model)")
    _still(
        sub,
        "gallery",
        "one dream per layer mixed0..mixed10, labelled, on one contact sheet",
        GALLERY,
        output="sheet image (.png)",
        model=f"a mix model up to mixed10, by name or path (default: {GALLERY_MODEL})",
    )

    p = sub.add_parser("live", help="webcam (or clip) -> dream -> screen, in real time, with feedback")
    add_settings(p, live_settings())
    p.add_argument("--heartbeat", help=argparse.SUPPRESS)  # the watchdog's, for the loop it supervises
    p.add_argument("--run", type=int, default=1, help=argparse.SUPPRESS)  # the watchdog's run number
    parser.live_parser = p

    p = sub.add_parser(
        "experiment",
        help="run a perception-lab protocol (dosed trials, rests, ratings) on the live dream for one participant, "
        "keeping the stimulus, frame log, BIDS events and session in ID/ses-N/",
    )
    p.add_argument("protocol", help="the protocol's TOML file (examples/protocol.toml)")
    add_settings(p, experiment_settings())

    p = sub.add_parser("render", help="dream every frame of a clip offline, with the live loop's dream")
    p.add_argument("input", help="video file")
    p.add_argument("-o", "--output", required=True, help="output .mp4 (same frame rate and frame count)")
    add_settings(p, render_settings(), defaults={"size": None})

    p = sub.add_parser(
        "doctor",
        help="what this machine has for dreaming (onnxruntime build, GPU, CUDA libraries, "
        "cameras, disk) and a timed dream on each provider: one line per finding, for a bug report",
    )
    p.add_argument(
        "--model",
        help=f"a model's name in the store or a .onnx path ({DEFAULT_HELP}, else one "
        "exported on the spot with random weights where TensorFlow is installed)",
    )

    p = sub.add_parser(
        "midi-learn",
        help="one line per knob, fader, bend or pad moved on a MIDI controller (channel, kind, a suggested "
        f"[midi] line); Ctrl-C prints the table ({pip_install('midi')})",
    )
    p.add_argument(
        "port", nargs="?", default="", help="an input port's name (default: the first; virtual: a port of our own)"
    )
    p.add_argument("--param", help="the live parameter every knob is offered (default: each in turn)")
    p.add_argument("--write", metavar="FILE", help="add the [midi] table learnt to FILE (never one that has one)")

    p = sub.add_parser(
        "models",
        help="the models in the store (name, layers, weights, kind, size, path); "
        "`models add FILE.onnx` brings one made elsewhere",
    )
    verbs = p.add_subparsers(dest="verb")
    add = verbs.add_parser("add", help="check that FILE.onnx is a deepdream-live model, then copy it into the store")
    add.add_argument("file", help="a model exported elsewhere (deepdream export)")
    _service(sub)
    add_replay(sub)
    return parser


def _service(sub) -> None:
    """`service install|status|remove`: a show started at boot and restarted (realtime/commands/service.py)."""
    p = sub.add_parser(
        "service",
        help="start a show with the system and keep it running: a systemd user unit "
        "(on macOS and Windows: the launchd agent or Task Scheduler command, printed)",
    )
    verbs = p.add_subparsers(dest="verb", required=True)
    install = verbs.add_parser("install", help="write and enable deepdream-NAME.service running live --config FILE")
    install.add_argument("--config", required=True, help="the show's TOML file (its `watchdog`, else 30 s)")
    install.add_argument("--name", help="NAME (default: the config's file name without .toml)")
    install.add_argument("--start", action="store_true", help="also (re)start it now")
    install.add_argument("--force", action="store_true", help="replace a unit of that name not written here")
    for verb, summary in (("status", "state, since when, restarts"), ("remove", "stop, disable and delete it")):
        verbs.add_parser(verb, help=summary).add_argument("--name", help="NAME (default: the only one installed)")


def _still(sub, name: str, summary: str, table, *, output: str, model: str):
    """A command that dreams one image: its input, output, model, the table's parameters and a provider."""
    p = sub.add_parser(name, help=summary)
    p.add_argument("input", help="PNG/JPEG image")
    p.add_argument("-o", "--output", required=True, help=output)
    p.add_argument("--model", help=model)
    add_params(p, table)
    p.add_argument("--provider", default="auto", choices=PROVIDER_CHOICES, help="auto, cpu or cuda")
    return p

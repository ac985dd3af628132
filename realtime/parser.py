"""The `deepdream` command line: one parser, one subcommand per job, every number made from the parameter table.

`build_parser()` makes it (realtime.flags adds the table's flags); `Parser` says argparse's errors in one
line. Which function runs each subcommand is realtime.cli's business (`parser.commands` names them).
"""
from __future__ import annotations

import argparse
import difflib

from realtime.dream.params import CLUSTER, LIVE, OUTPUT, STILL, STREAM
from realtime.dream.runtime import PROVIDER_CHOICES
from realtime.flags import GALLERY, SEED, add_params, flag_type
from realtime.install import pip_install
from realtime.store import DEFAULT as DEFAULT_MODEL, GALLERY as GALLERY_MODEL

DEFAULT_HELP = f"default: {DEFAULT_MODEL}, else the store's only model"


class Parser(argparse.ArgumentParser):
    """argparse, with its errors in one line (no usage block before the line that matters) and the
    nearest flag named for a mistyped one; no abbreviations (`--weight` would quietly be `--weights`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, allow_abbrev=False, **kwargs)

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
    parser = Parser(prog="deepdream", description="Real-time DeepDream: export a model, then dream stills, a live "
                    "camera or a clip with it (deepdream SUBCOMMAND --help says more)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    parser.commands = sub.choices  # name -> its parser

    p = sub.add_parser("export", help="export InceptionV3 + its input gradient to ONNX (needs TensorFlow)")
    p.add_argument("--layers", default="mixed3,mixed5",
                   help="LAYER[/CHANNEL][:WEIGHT],... from mixed0..mixed10 (default: mixed3,mixed5)")
    p.add_argument("--weights", default="imagenet",
                   help="imagenet (Keras download/cache), random (untrained, from --seed), or a weights FILE")
    p.add_argument("--seed", type=flag_type(SEED), default=0, help="seed for random weights and the self-check")
    p.add_argument("-o", "--output", help="model path (default: the model store, named after the layers)")
    p.add_argument("--no-verify", action="store_true", help="skip the check against TensorFlow (not advised)")
    p.add_argument("--precision", choices=("fp32", "fp16"), default="fp32",
                   help="fp16: weights and arithmetic in half precision for GPUs, inputs and outputs float32; "
                        "checked against fp32 where the CPU can run it (default fp32)")
    p.add_argument("--mix", action="store_true",
                   help="layer weights (mixed0..deepest of --layers) and a guide become inputs, set at run time")

    p = _still(sub, "dream", "dream a still image", STILL, output="output image (.png, .jpg, ...)",
               model=f"a model's name in the store or a .onnx path ({DEFAULT_HELP})")
    p.add_argument("--guide", help="guide image: dream toward its features (needs a --mix model)")
    _still(sub, "gallery", "one dream per layer mixed0..mixed10, labelled, on one contact sheet", GALLERY,
           output="sheet image (.png)", model=f"a mix model up to mixed10, by name or path (default: {GALLERY_MODEL})")

    p = sub.add_parser("live", help="webcam (or clip) -> dream -> screen, in real time, with feedback")
    p.add_argument("--source", default="webcam:0", help="webcam:N (or webcam:/dev/videoN), a video or image file, "
                   "or synthetic (default webcam:0)")
    p.add_argument("--fallback", help="source to use if --source cannot be opened at start (e.g. synthetic)")
    p.add_argument("--loop", action="store_true", help="loop a video file")
    p.add_argument("--model", action="append", help="a model's name in the store or a .onnx path; repeat to cycle "
                   f"with 'm' ({DEFAULT_HELP})")
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
                   f"({pip_install('virtualcam')})")
    p.add_argument("--provider", default="auto", choices=PROVIDER_CHOICES, help="auto, cpu or cuda")
    p.add_argument("--log", help="experiment log: one CSV row per displayed frame (times, frame indices, "
                   "every parameter, loss, ms per step)")
    p.add_argument("--seed", type=flag_type(SEED), help="reproducible runs: with a video file, every frame in order "
                   "(not real time)")
    p.add_argument("--config", help="TOML file with any of these flags as keys (flags given here win)")
    p.add_argument("--print-config", action="store_true", help="print the effective settings as TOML and exit")
    p.add_argument("--osc", metavar="[HOST:]PORT", help="remote control over OSC (127.0.0.1 unless a host is given); "
                   "addresses in the README")
    p.add_argument("--midi", dest="midi_port", nargs="?", const="", metavar="PORT", help="steer from a MIDI controller (the first input "
                   "port unless one is named), mapped by the config's [midi] table "
                   f"({pip_install('midi')})")
    p.add_argument("--audio", nargs="?", const="default", metavar="DEVICE|FILE", help="the sound that moves the "
                   "config's [[modulate]] rows: an input device (name or number; default: the system's), or a sound "
                   f"or video file played along ({pip_install('audio')} for a device)")
    p.add_argument("--event-log", help="also write what the loop says, with timestamps, to this file "
                   "(rotated at 10 MiB, 5 kept)")
    p.add_argument("--heartbeat", help=argparse.SUPPRESS)  # the watchdog's, for the loop it supervises
    p.add_argument("--run", type=int, default=1, help=argparse.SUPPRESS)  # the watchdog's run number
    parser.live_parser = p

    p = sub.add_parser("render", help="dream every frame of a clip offline, with the live loop's dream")
    p.add_argument("input", help="video file")
    p.add_argument("-o", "--output", required=True, help="output .mp4 (same frame rate and frame count)")
    p.add_argument("--model", help=f"a model's name in the store or a .onnx path ({DEFAULT_HELP})")
    add_params(p, STREAM, defaults={"size": None})
    add_params(p, OUTPUT)
    p.add_argument("--provider", default="auto", choices=PROVIDER_CHOICES, help="auto, cpu or cuda")
    p.add_argument("--config", help="TOML file with any of these flags as keys (flags given here win) and "
                   "[[modulate]] rows: the dream follows the sound")
    p.add_argument("--audio", metavar="FILE", help="the sound the [[modulate]] rows follow (default: the clip's own)")
    _add_cluster_flags(p)

    p = sub.add_parser("doctor", help="what this machine has for dreaming (onnxruntime build, GPU, CUDA libraries, "
                       "cameras, disk) and a timed dream on each provider: one line per finding, for a bug report")
    p.add_argument("--model", help=f"a model's name in the store or a .onnx path ({DEFAULT_HELP}, else one "
                   "exported on the spot with random weights where TensorFlow is installed)")

    p = sub.add_parser("midi-learn", help="print the number of each knob, fader or pad touched on a MIDI controller, "
                       f"for the config's [midi] table ({pip_install('midi')})")
    p.add_argument("port", nargs="?", default="", help="an input port's name (default: the first)")

    p = sub.add_parser("models", help="the models in the store (name, layers, weights, kind, size, path); "
                       "`models add FILE.onnx` brings one made elsewhere")
    verbs = p.add_subparsers(dest="verb")
    add = verbs.add_parser("add", help="check that FILE.onnx is a deepdream-live model, then copy it into the store")
    add.add_argument("file", help="a model exported elsewhere (deepdream export)")
    return parser


def _still(sub, name: str, summary: str, table, *, output: str, model: str):
    """A command that dreams one image: its input, output, model, the table's parameters and a provider."""
    p = sub.add_parser(name, help=summary)
    p.add_argument("input", help="PNG/JPEG image")
    p.add_argument("-o", "--output", required=True, help=output)
    p.add_argument("--model", help=model)
    add_params(p, table)
    p.add_argument("--provider", default="auto", choices=PROVIDER_CHOICES, help="auto, cpu or cuda")
    return p


def _add_cluster_flags(p) -> None:
    """`render --ray`: chunks of the clip as Ray tasks (realtime/commands/cluster.py)."""
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="dream on Ray: alone, a Ray started here; auto or ray://HOST:10001 joins a cluster")
    add_params(p, CLUSTER)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("deepdream-live")
    except PackageNotFoundError:
        return "(not installed)"

"""The settings lists of `live` and `render`: their Options and parameter tables, in --help's order.

realtime.parser adds them to their subcommands (realtime.flags.add_settings); every key but config and
print-config is a --config key too, so `live --print-config` prints them in this order.
"""

from __future__ import annotations

from dataclasses import replace

from realtime.dream.parameter import Param
from realtime.dream.params import CLUSTER, LIVE, OUTPUT, STREAM
from realtime.dream.runtime import PROVIDER_CHOICES
from realtime.flags import SEED, Option
from realtime.install import pip_install
from realtime.store import DEFAULT as DEFAULT_MODEL

DEFAULT_HELP = f"default: {DEFAULT_MODEL}, else the store's only model"
PROVIDER = Option("provider", "auto, cpu or cuda", default="auto", choices=PROVIDER_CHOICES)


def live_settings() -> tuple:
    """`live`'s flags: what it dreams, the table's numbers, where frames go, then how it is run and steered."""
    return (*_live_input(), *STREAM, *LIVE, *_live_outputs(), PROVIDER, *_live_run(), *_live_steering())


def _live_input() -> tuple:
    return (
        Option(
            "source",
            "webcam:N (or webcam:/dev/videoN), a video or image file, or synthetic (default webcam:0)",
            default="webcam:0",
        ),
        Option("fallback", "source to use if --source cannot be opened at start (e.g. synthetic)"),
        Option("loop", "loop a video file", "switch"),
        Option(
            "model", f"a model's name in the store or a .onnx path; repeat to cycle with 'm' ({DEFAULT_HELP})", "list"
        ),
    )


def _live_outputs() -> tuple:
    return (
        Option("headless", "no window (servers, tests)", "switch"),
        Option("fullscreen", None, "switch"),
        Option("record", "record every displayed frame to this .mp4 (H.264), or .mkv (lossless FFV1)"),
        *OUTPUT,
        Option("stats", "write fps, ms_per_step, latency_ms and frames here as JSON at exit"),
        Option("snapshots", "folder for snapshots and key-started recordings", default="."),
        Option("guide", "guide image: dream toward its features (needs --mix models)"),
        Option(
            "serve",
            "also serve an MJPEG stream and a viewer page over HTTP (127.0.0.1 unless a host is given)",
            reads={"metavar": "[HOST:]PORT"},
        ),
        Option("token", "secret every HTTP request must carry as ?token=... (required beyond loopback)"),
        Option("stereo", "side-by-side frames for a headset", "switch"),
        Option("pipe", "raw RGB24 frames to stdout (size on stderr)", "switch"),
        Option("virtualcam", f"also send frames to a virtual webcam ({pip_install('virtualcam')})", "switch"),
        Option("ndi", f"also send frames as an NDI source of this name, across the network ({pip_install('ndi')})"),
        Option("spout", f"Windows: also share frames as a Spout sender of this name ({pip_install('spout')})"),
        Option("syphon", f"macOS: also share frames as a Syphon server of this name ({pip_install('syphon')})"),
    )


def _live_run() -> tuple:
    return (
        Option(
            "log",
            "experiment log: one CSV row per displayed frame (times, frame indices, every parameter, "
            "loss, ms per step)",
        ),
        Option("seed", "reproducible runs: with a video file, every frame in order (not real time)", param=SEED),
        Option("config", "TOML file with any of these flags as keys (flags given here win)", file=False),
        Option("print_config", "print the effective settings as TOML and exit", "switch", file=False),
    )


def _live_steering() -> tuple:
    return (
        Option(
            "osc",
            "remote control over OSC (127.0.0.1 unless a host is given); addresses in the README",
            reads={"metavar": "[HOST:]PORT"},
        ),
        Option(
            "midi_port",
            "steer from a MIDI controller (the first input port unless one is named), mapped by the "
            f"config's [midi] table ({pip_install('midi')})",
            flag="--midi",
            reads={"nargs": "?", "const": "", "metavar": "PORT"},
        ),
        Option(
            "audio",
            "the sound that moves the config's [[modulate]] rows: an input device (name or number; "
            "default: the system's), or a sound or video file played along "
            f"({pip_install('audio')} for a device)",
            reads={"nargs": "?", "const": "default", "metavar": "DEVICE|FILE"},
        ),
        Option("event_log", "also write what the loop says, with timestamps, to this file (rotated at 10 MiB, 5 kept)"),
        LSL,
    )


LSL = Option(
    "lsl",
    "send every shown frame (number, dose, dream age) as the Lab Streaming Layer stream deepdream-frames, stamped "
    f"with its flip ({pip_install('lab')})",
    "switch",
)


SESSION = Param("session", "int", 1, "session", 1, 10**6)


def experiment_settings() -> tuple:
    """`experiment`'s flags after its protocol: who and which session, then the live flags a lab's rig needs."""
    live = {s.name: s for s in live_settings()}
    return (
        Option(
            "participant",
            "the participant's label, letters and digits (ID/ses-N/ is named after it; sub-07: BIDS' sub-07/)",
            reads={"required": True},
        ),
        Option("session", "the session's number (1, 2, ...)", default=1, param=SESSION),
        Option("output", "where ID/ses-N/ is made (default: here)", default="."),
        Option(
            "photodiode",
            "a patch for a photodiode in this corner of the picture: tl, tr, bl or br, then ,SIZE in px (default 40)",
            reads={"metavar": "CORNER[,SIZE]"},
        ),
        replace(
            LSL, help=f"send markers (deepdream-markers) and frames (deepdream-frames) over LSL ({pip_install('lab')})"
        ),
        *(live[name] for name in ("source", "fallback", "loop", "model", "headless", "fullscreen", "window")),
        *(live[name] for name in ("display_size", "size", "steps_per_frame", "step_size", "feedback", "flow", "zoom")),
        *(live[name] for name in ("octaves", "octave_scale", "sync", "dream_fade", "stereo", "disparity", "crf")),
        *(live[name] for name in ("guide", "provider", "seed", "event_log")),
    )


def render_settings() -> tuple:
    """`render`'s flags after its input and output; `--ray` runs chunks of the clip as Ray tasks
    (realtime/commands/cluster.py)."""
    return (
        Option("model", f"a model's name in the store or a .onnx path ({DEFAULT_HELP})"),
        *STREAM,
        *OUTPUT,
        PROVIDER,
        Option(
            "config",
            "TOML file with any of these flags as keys (flags given here win) and [[modulate]] rows: "
            "the dream follows the sound",
            file=False,
        ),
        Option("audio", "the sound the [[modulate]] rows follow (default: the clip's own)", reads={"metavar": "FILE"}),
        Option(
            "ray",
            "dream on Ray: alone, a Ray started here; auto or ray://HOST:10001 joins a cluster",
            reads={"nargs": "?", "const": "local", "metavar": "ADDRESS"},
        ),
        *CLUSTER,
    )

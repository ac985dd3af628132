"""The parameter table: every number a command takes, once, with its type, range, default, unit and help.

CLI flags, TOML keys, playlist scenes, OSC parameters, the frame log's columns, the HUD and the
settings dataclasses (realtime.dream.settings.settings_class) are all made from these tables, and
every value, wherever it enters, goes through `Param.check` (realtime.dream.parameter: one rule and one
message). `STREAM` holds what `live` and `render` dream with (the `live=True` ones change while
running: keys, OSC, scenes); `STILL` what `dream` takes; `LIVE` the show's own numbers; `OUTPUT`
every MP4's; `CLUSTER` `render --ray`'s; `SHOW` the live `model` and `mix`, bounded by the models loaded
(`steering()`: every name a running show takes, which OSC, the control page, the status and
docs/steering.md list). A name means the same thing everywhere; only the defaults
differ where a still and a stream want different ones. `param(table, name)` looks one up by name.
"""

from __future__ import annotations

from dataclasses import replace

from realtime.dream.parameter import MAX_SIDE, MIN_SIDE, Param, param, table


def live_params() -> dict[str, Param]:
    """The STREAM parameters that change while running (keys, OSC, scenes)."""
    return {p.name: p for p in STREAM if p.live}


def steering() -> dict[str, Param]:
    """Every name a show is steered by (OSC, the control page, keys): the live STREAM parameters, then SHOW's."""
    return {**live_params(), **table(SHOW)}


def switches() -> dict[str, Param]:
    """The live choices that on/off switch (a choice row with an `off`): their name is a key command too."""
    return {name: p for name, p in live_params().items() if p.kind == "choice" and p.off is not None}


def live_numbers() -> dict[str, Param]:
    """The live parameters that take a number: what scenes, knobs and the sound can move."""
    return {name: p for name, p in live_params().items() if p.kind in ("int", "float")}


# What `live` and `render` take. Ranges: beyond them the dream is black, noise or frozen, or a
# buffer no machine holds; they are generous enough for any look we have seen.
STREAM = (
    Param("size", "size", (640, 360), "processing size WxH", MIN_SIDE, MAX_SIDE, unit="px"),
    Param("steps_per_frame", "int", 1, "ascent steps per frame", 0, 100, unit="steps", live=True),
    Param("step_size", "float", 0.02, "step size of each ascent step", 1e-5, 1.0, live=True, scale="log", step=1.25),
    Param("feedback", "float", 0.9, "share of the previous dream kept", 0.0, 1.0, live=True, step=0.01),
    Param(
        "feedback_moving",
        "float",
        None,
        "feedback where the image moves (default: --feedback)",
        0.0,
        1.0,
        optional=True,
    ),
    Param(
        "feedback_static", "float", None, "feedback where it is still (default: --feedback)", 0.0, 1.0, optional=True
    ),
    Param(
        "flow",
        "choice",
        "dis",
        "optical flow that carries the dream with motion",
        live=True,
        choices=("dis", "farneback", "off"),
        off="off",
    ),
    Param(
        "zoom",
        "float",
        1.0,
        "zoom into the feedback per frame, e.g. 1.02",
        0.5,
        2.0,
        unit="x",
        live=True,
        scale="log",
        step=1.005,
    ),
    Param(
        "dose",
        "float",
        1.0,
        "how much dream: 0 shows the source exactly, 1 the full dream ([dose] scenes: what moves between)",
        0.0,
        1.0,
        live=True,
        step=0.05,
    ),
    Param("octaves", "int", 1, "pyramid scales, one dreamed per frame", 1, 8),
    Param("octave_scale", "float", 1.4, "size ratio between octaves", 1.05, 4.0),
    Param("calm", "bool", False, "fade to the camera while people move, return when still"),
    Param("wrap", "bool", False, "360-degree equirectangular frames: no seam where the edges meet"),
)

# The show's live choices whose high end only the loaded models give (Param.bound), so no flags: `--model`
# names files (repeated for live) and a mix needs a --mix model. A scene's `model` is a path, not this number
# (the show finds its number), and the mix a status reports is where the glide is, not where it goes.
SHOW = (
    Param(
        "model",
        "int",
        1,
        "which of the models dreams, counted from 1 as on the HUD (key m: the next)",
        1,
        None,
        live=True,
        bound="models",
    ),
    Param(
        "mix",
        "float",
        None,
        "the layer a --mix model's weight glides toward (keys , and .)",
        0.0,
        None,
        live=True,
        bound="layers",
        by_name=True,
    ),
)

# What `dream` takes for a still.
STILL = (
    Param("steps", "int", 100, "ascent steps per octave", 0, 100_000, unit="steps"),
    replace(param(STREAM, "step_size"), default=0.01, live=False),
    Param("octaves", "int", 1, "number of scales", 1, 20),
    Param("octave_scale", "float", 1.3, "size ratio between octaves", 1.05, 4.0),
    Param(
        "tile",
        "int",
        0,
        "tile size for big images (smaller tiles: less memory, more steps)",
        128,
        MAX_SIDE,
        unit="px",
        off=0,
    ),
    Param("jitter", "int", 0, "random roll per step", 0, 512, unit="px"),
    Param("blur", "float", 0.0, "Gaussian sigma for the gradient (0: off)", 0.0, 50.0, unit="px"),
    Param(
        "max_dim",
        "int",
        0,
        "dream at most this many pixels a side (the image is scaled back after)",
        MIN_SIDE,
        MAX_SIDE,
        unit="px",
        off=0,
    ),
    Param("seed", "int", 0, "seed for jitter and tile offsets", 0, 2**32 - 1),
    param(STREAM, "wrap"),
)

LIVE = (  # `live`'s own numbers: the show, not the dream
    Param("window", "size", None, "window size WxH (default: twice the shown size)", MIN_SIDE, MAX_SIDE, optional=True),
    Param("frames", "int", 0, "stop after N frames (0: run until quit)", 0, 10**12),
    Param("disparity", "int", 0, "shift of the right eye in pixels (with --stereo)", -2000, 2000, unit="px"),
    Param(
        "watchdog",
        "float",
        0.0,
        "run the loop in a child process, restarted if no frame is shown for this many "
        "seconds (one dream: 60 s more) or it dies (0: off)",
        1.0,
        86400.0,
        unit="s",
        off=0.0,
    ),
    Param(
        "min_free_mb",
        "float",
        500.0,
        "stop recording (and keep showing) when the disk has less free space",
        0.0,
        10.0**7,
        unit="MiB",
    ),
    Param(
        "display_size",
        "size",
        None,
        "size of what every output shows, window, recording, stream, pipe "
        "(default: the source's, at most 1920x1080; with --sync: --size)",
        MIN_SIDE,
        MAX_SIDE,
        optional=True,
    ),
    Param("dream_fade", "int", 4, "display frames over which a finished dream fades in", 0, 60, unit="frames"),
    Param("sync", "bool", False, "each shown frame waits for its own dream (the display at the dream's rate)"),
)
OUTPUT = (  # every MP4 we write (live --record, key and OSC recordings, render)
    Param("crf", "int", 18, "H.264 quality (lower: better and bigger; 18 looks like the source)", 0, 51),
)
CLUSTER = (  # render --ray
    Param("cpus_per_task", "int", 1, "CPUs (and onnxruntime threads) per task", 1, 1024),
    Param(
        "gpus_per_task",
        "float",
        None,
        "GPUs per task (default: 1 where the cluster has GPUs, else 0)",
        0.0,
        64.0,
        optional=True,
    ),
    Param("chunk_frames", "int", 90, "frames per task; chunk borders are fixed by this, not by the cluster", 1, 10**6),
    Param(
        "warmup_frames", "int", 20, "frames dreamed before each chunk and discarded (the feedback builds up)", 0, 10**4
    ),
    Param("blend_frames", "int", 8, "frames dreamed past each chunk and crossfaded into the next", 0, 10**4),
)

"""The program's LSL outlets read through real pylsl inlets, in one process, printed as JSON (tests/test_lsl.py).

    unshare --net sh -c 'ip link set lo up && exec python tests/lsl_inlet.py'   (LSLAPICFG: ResolveScope = machine)

Run inside a network namespace of its own, so LSL's discovery packets cannot leave the machine. The flips are
taken before the outlets open, each bracketed by two readings of LSL's own clock, so a marker stamped with the
moment it was pushed, or with a flip converted wrongly, lands outside its bracket. Linux's time.monotonic() and
LSL's clock share an epoch, where a flip used unconverted would pass unseen: here time.monotonic() runs EPOCH_S
behind, as another platform's clock may.
"""

from __future__ import annotations

import json
import math
import sys
import time

import pylsl

from realtime.lab.lsl import LabStreams

WAIT_S = 60.0  # generous: discovery on a loaded machine; the parent's timeout is the real bound
EPOCH_S = 1000.0
TEXTS = ["session_start", "trial_on dose=0.5 block=1 trial=3", "trial_off dose=0.5 block=1 trial=3", "rating 7"]
FRAMES = [(1, 0.0, math.nan), (2, 0.5, 16.5), (3, 1.0, 33.25)]  # number, dose, dream age (NaN: none yet)


def bracketed(count: int) -> list[tuple[float, float, float]]:
    """`count` flips as (LSL clock before, time.monotonic(), LSL clock after)."""
    return [(pylsl.local_clock(), time.monotonic(), pylsl.local_clock()) for _ in range(count)]


def inlet(name: str) -> pylsl.StreamInlet:
    """An open inlet on the stream called `name`, found by LSL's discovery."""
    found = pylsl.resolve_byprop("name", name, 1, WAIT_S)
    if not found:
        sys.exit(f"no stream named {name} resolved in {WAIT_S:.0f} s")
    stream = pylsl.StreamInlet(found[0])
    stream.open_stream(WAIT_S)
    return stream


def pull(stream: pylsl.StreamInlet, count: int) -> list[tuple[list, float]]:
    """`count` samples with their timestamps moved into this clock by the inlet's time correction."""
    correction = stream.time_correction(WAIT_S)
    samples = []
    for _ in range(count):
        sample, stamp = stream.pull_sample(WAIT_S)
        if sample is None:
            sys.exit(f"only {len(samples)} of {count} samples arrived")
        samples.append((sample, stamp + correction))
    return samples


def described(stream: pylsl.StreamInlet) -> dict:
    """What a recorder learns of the stream: its header and the description the outlet gave it."""
    info = stream.info(WAIT_S)
    desc = info.desc()
    return {
        "type": info.type(),
        "source_id": info.source_id(),
        "rate": info.nominal_srate(),
        "channels": info.channel_count(),
        "labels": info.get_channel_labels(),
        "units": info.get_channel_units(),
        "version": desc.child_value("version"),
        "model": desc.child_value("model"),
    }


def main() -> None:
    real = time.monotonic
    time.monotonic = lambda: real() - EPOCH_S  # before the first reading: to_lsl measures its offset with it
    flips = bracketed(len(TEXTS) + len(FRAMES))
    with LabStreams(fps=30.0, model="tiny") as streams:
        markers, frames = inlet("deepdream-markers"), inlet("deepdream-frames")
        if not streams.wait_for_consumers(WAIT_S):
            sys.exit("the inlets never became consumers")
        for text, (_, flip, _) in zip(TEXTS, flips):
            streams.marker(text, flip)
        for (number, dose, age), (_, flip, _) in zip(FRAMES, flips[len(TEXTS) :]):
            streams.frame(number, dose, age, flip)
        got = {"markers": pull(markers, len(TEXTS)), "frames": pull(frames, len(FRAMES))}
        info = {"markers": described(markers), "frames": described(frames)}
        for stream in (markers, frames):  # before the outlets go: else liblsl logs a broken transmission
            stream.close_stream()
    print(
        json.dumps(
            {
                "flips": [(before, after) for before, _, after in flips],
                "markers": [(sample[0], stamp) for sample, stamp in got["markers"]],
                "frames": [([None if math.isnan(v) else v for v in sample], stamp) for sample, stamp in got["frames"]],
                "info": info,
            }
        )
    )


if __name__ == "__main__":
    main()

"""How close a marker's LSL timestamp lands to its flip, and what a push costs the frame loop.

    python benchmarks/lab_lsl.py [--count 600] [--rate 60]      (root: it makes a network namespace)

`realtime.lab.lsl.LabStreams` sends `--count` markers, each right after a fake flip (a time.monotonic() reading)
paced at `--rate`, while a real pylsl inlet pulls them in a thread, as LabRecorder would. Reported, as JSON:
p50/p95/max of |received timestamp + the inlet's time correction - the flip in LSL's clock| (the flip bracketed by
two pylsl.local_clock() readings) and of the push's cost. The script runs itself again inside `unshare --net`
with loopback up and a liblsl config that resolves on this machine only, so no discovery packet leaves it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

CONFIG = "[multicast]\nResolveScope = machine\nInterfaces = {127.0.0.1}\n[ports]\nIPv6 = disable\n[log]\nlevel = -2\n"
WAIT_S = 60.0


def isolated(argv: list[str]) -> int:
    """This script with `argv` in a network namespace of its own, with the machine-only liblsl config."""
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "lsl_api.cfg"
        config.write_text(CONFIG)
        inner = [sys.executable, __file__, "--inside", *argv]
        command = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *inner]
        return subprocess.run(command, env={**os.environ, "LSLAPICFG": str(config)}).returncode


def received(inlet, count: int, out: list[float]) -> None:
    """Pull `count` markers' timestamps, moved into this clock by the inlet's correction, into `out`."""
    correction = inlet.time_correction(WAIT_S)
    for _ in range(count):
        sample, stamp = inlet.pull_sample(WAIT_S)
        if sample is None:
            return
        out.append(stamp + correction)


def measure(count: int, rate: float) -> dict:
    """Push `count` paced markers through LabStreams and read them back: the figures, in microseconds."""
    import pylsl

    from realtime.lab.lsl import LabStreams

    with LabStreams(fps=rate, model="benchmark") as streams:
        inlet = pylsl.StreamInlet(pylsl.resolve_byprop("name", "deepdream-markers", 1, WAIT_S)[0])
        inlet.open_stream(WAIT_S)
        if not streams.wait_for_consumers(WAIT_S, frames=False):
            sys.exit("the inlet never became a consumer")
        stamps: list[float] = []
        puller = threading.Thread(target=received, args=(inlet, count, stamps))
        puller.start()
        flips, costs = [], []
        start = time.monotonic()
        for i in range(count):
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            before, flip, after = pylsl.local_clock(), time.monotonic(), pylsl.local_clock()
            began = time.perf_counter()
            streams.marker(f"frame {i}", flip)
            costs.append(time.perf_counter() - began)
            flips.append((before + after) / 2)
        puller.join()
        inlet.close_stream()
    if len(stamps) != count:
        sys.exit(f"only {len(stamps)} of {count} markers arrived")
    return {"stamp_error_us": summary(np.abs(np.array(stamps) - np.array(flips))), "push_us": summary(costs)}


def summary(seconds) -> dict:
    values = np.asarray(seconds) * 1e6
    return {name: round(float(np.percentile(values, q)), 1) for name, q in (("p50", 50), ("p95", 95), ("max", 100))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--rate", type=float, default=60.0)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.inside:
        return isolated([f"--count={args.count}", f"--rate={args.rate}"])
    import pylsl

    figures = {"markers": args.count, "rate": args.rate, **measure(args.count, args.rate)}
    print(json.dumps({**figures, "pylsl": pylsl.__version__, "liblsl": pylsl.library_version()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

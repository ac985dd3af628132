"""Run inside a network namespace by tests/test_lab_lsl.py: start `deepdream ARGS` (with --lsl), take its LSL
streams with real pylsl inlets while it runs, and print what arrived as JSON: each stream's samples with their
timestamps (in LSL's clock, corrected to this machine's by the inlet), the command's exit code and its stderr."""

import json
import subprocess
import sys

import pylsl


def main() -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "realtime.cli", *sys.argv[1:]], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
    )
    inlets = {}
    for name in ("deepdream-markers", "deepdream-frames"):
        found = pylsl.resolve_byprop("name", name, timeout=60)
        if not found:
            child.kill()
            sys.exit(f"no stream {name} within 60 s")
        # clocksync: the inlet corrects each timestamp to this machine's clock as it arrives (time_correction()
        # asked between pulls would block for its probes while the program ends and its samples go with it)
        inlets[name] = pylsl.StreamInlet(found[0], 360, 0, False, pylsl.proc_clocksync)
        inlets[name].open_stream(timeout=30)
    got: dict[str, list] = {name: [] for name in inlets}
    open_ = set(inlets)
    while open_:
        running = child.poll() is None
        for name in sorted(open_):
            try:
                samples, stamps = inlets[name].pull_chunk(timeout=0.05)
            except pylsl.util.LostError:  # the program has ended and all it sent was read
                open_.discard(name)
                continue
            got[name] += [[s, t] for s, t in zip(samples, stamps)]
            if not samples and not running:
                open_.discard(name)
    child.wait()
    print(json.dumps({"streams": got, "code": child.returncode, "stderr": child.stderr.read().decode()}))


if __name__ == "__main__":
    main()

"""Run inside a network namespace by tests/test_lab_lsl.py: start `deepdream ARGS` (with --lsl), take its LSL
streams with real pylsl inlets while it runs, and print what arrived as JSON: each stream's samples with their
timestamps (in LSL's clock, corrected to this machine's), the command's exit code and its stderr."""

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
        inlets[name] = pylsl.StreamInlet(found[0], max_buflen=360, recover=False)
        inlets[name].open_stream(timeout=30)
    got: dict[str, list] = {name: [] for name in inlets}
    open_ = set(inlets)
    while open_:
        running = child.poll() is None
        for name in sorted(open_):
            try:
                samples, stamps = inlets[name].pull_chunk(timeout=0.05)
                correction = inlets[name].time_correction() if samples else 0.0
            except pylsl.util.LostError:  # the program has ended and all it sent was read
                open_.discard(name)
                continue
            got[name] += [[s, t + correction] for s, t in zip(samples, stamps)]
            if not samples and not running:
                open_.discard(name)
    child.wait()
    print(json.dumps({"streams": got, "code": child.returncode, "stderr": child.stderr.read().decode()}))


if __name__ == "__main__":
    main()

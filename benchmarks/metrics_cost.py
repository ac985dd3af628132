"""What monitoring costs the display path: a show with nobody watching against the same show with a viewer
on its stream and a scraper asking `/metrics` once a second.

    python benchmarks/metrics_cost.py [--model M.onnx] [--seconds 20] [--rounds 2] [--json out.json]

`deepdream live` as benchmarks/control.py runs it (synthetic source, 320x240 shown at 640x480, the dream
beside the display, `--serve`, `--stats`), the two cases alternating, each run in its own process for
`--seconds`: the display path's ms a frame and the shown fps from `--stats`, and the scrapes answered.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import urllib.request
from pathlib import Path

from control import start
from timing import MODEL_HELP, model_or_exit


def watch(port: int, stop: threading.Event) -> tuple[list[threading.Thread], list[int]]:
    """A viewer reading /stream.mjpg and a scraper GETting /metrics once a second, until `stop`."""
    scrapes: list[int] = []

    def view():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/stream.mjpg", timeout=60) as stream:
                while not stop.is_set() and stream.read1(65536):
                    pass
        except OSError:  # the show ended mid-frame
            return

    def scrape():
        while not stop.wait(1.0):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
                    scrapes.append(len(reply.read()))
            except OSError:  # the show ended between two scrapes
                return

    threads = [threading.Thread(target=f, daemon=True) for f in (view, scrape)]
    for thread in threads:
        thread.start()
    return threads, scrapes


def one_run(model: Path, seconds: float, watched: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        proc, port, _, stats = start(model, Path(tmp), seconds)
        stop = threading.Event()
        _, scrapes = watch(port, stop) if watched else ([], [])
        proc.wait(seconds * 10 + 120)
        stop.set()
        data = json.loads(stats.read_text())
    return {
        "watched": "viewer + /metrics 1/s" if watched else "nobody",
        "display_ms": data["display_ms"]["total"],
        "display_fps": round(data["display_fps"], 2),
        "scrapes": len(scrapes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=MODEL_HELP)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    model = model_or_exit(args.model)
    rows = []
    for _ in range(args.rounds):
        for watched in (False, True):
            rows.append(one_run(model, args.seconds, watched))
            print(json.dumps(rows[-1]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""What steering costs: a control-page change to the first displayed frame that carries it, what open pages
cost the display path, and the sound's feature extraction per frame.

    python benchmarks/control.py [--model M.onnx] [--posts 60] [--seconds 20] [--rounds 2] [--json out.json]

1. `deepdream live` (synthetic source, 320x240 shown at 640x480, the dream beside the display) with
   --serve and a frame log; `--posts` POST /control/set requests, zoom alternating, each timed from
   just before it is sent to the frame log's first row (the shown frame) with the new value (both
   time.monotonic(), one clock on Linux): p50 and p95 ms.
2. The same show with 0 and 5 pages open (5 readers of /control/events, as 5 phones would keep it
   open), alternating, each run in its own process, --seconds each: the display path's ms a frame
   from --stats, and display fps.
3. realtime.steer.features: ms per frame to hear a 2048-sample window at 48 kHz (median of 2000).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
from timing import MODEL_HELP, model_or_exit

from realtime.steer.features import WINDOW, Listener


def start(model: Path, folder: Path, seconds: float | None):
    log, stats = folder / "frames.csv", folder / "stats.json"
    frames = ["--frames", str(int(seconds * 30))] if seconds else []
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "realtime.cli",
            "live",
            "--source",
            "synthetic",
            "--model",
            str(model),
            "--size",
            "320x240",
            "--display-size",
            "640x480",
            "--headless",
            "--serve",
            "127.0.0.1:0",
            "--log",
            str(log),
            "--stats",
            str(stats),
            *frames,
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stderr:
        found = re.search(r"controls at http://127\.0\.0\.1:(\d+)/control", line)
        if found:
            port = int(found.group(1))
        if "dreaming at" in line:
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep draining
            return proc, port, log, stats
    raise SystemExit(f"live did not start: exit {proc.wait()}")


def post_latency(model: Path, posts: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        proc, port, log, _ = start(model, Path(tmp), None)
        try:
            times = []
            for i in range(posts):
                value = 1.01 if i % 2 else 1.02
                sent = time.monotonic()
                body = json.dumps({"name": "zoom", "value": value}).encode()
                urllib.request.urlopen(
                    urllib.request.Request(
                        f"http://127.0.0.1:{port}/control/set", data=body, headers={"Content-Type": "application/json"}
                    ),
                    timeout=60,
                ).read()
                times.append(shown_after(log, sent, value) - sent)
        finally:
            proc.terminate()
            proc.wait(60)
    ms = np.array(times) * 1e3
    return {
        "posts": posts,
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
    }


def shown_after(log: Path, sent: float, value: float, patience: float = 30.0) -> float:
    """The monotonic time of the first frame-log row after `sent` showing zoom = value (rows are written
    as frames are shown; this reads the file again until one comes)."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        with open(log, newline="") as fh:
            rows = list(csv.DictReader(fh))
        for row in reversed(rows):
            if float(row["monotonic"]) < sent:
                break
            if abs(float(row["zoom"]) - value) < 1e-6:
                return min(
                    float(r["monotonic"])
                    for r in rows
                    if float(r["monotonic"]) >= sent and abs(float(r["zoom"]) - value) < 1e-6
                )
        time.sleep(0.002)
    raise SystemExit("the change never reached a shown frame")


def readers(port: int, count: int) -> list[socket.socket]:
    out = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /control/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        threading.Thread(target=lambda s=s: [None for _ in iter(lambda: s.recv(65536), b"")], daemon=True).start()
        out.append(s)
    return out


def pages_cost(model: Path, seconds: float, rounds: int) -> list[dict]:
    rows = []
    for _ in range(rounds):
        for pages in (0, 5):
            with tempfile.TemporaryDirectory() as tmp:
                proc, port, _, stats = start(model, Path(tmp), seconds)
                open_pages = readers(port, pages)
                proc.wait(seconds * 10 + 120)
                for s in open_pages:
                    s.close()
                data = json.loads(stats.read_text())
                rows.append(
                    {
                        "pages": pages,
                        "display_ms": data["display_ms"]["total"],
                        "display_fps": round(data["display_fps"], 2),
                    }
                )
                print(
                    f"{pages} pages open: display path {rows[-1]['display_ms']} ms a frame, "
                    f"{rows[-1]['display_fps']} fps shown",
                    flush=True,
                )
    return rows


def features_ms(repeats: int = 2000) -> float:
    listener = Listener()
    window = np.random.default_rng(0).normal(0, 0.1, WINDOW).astype(np.float32)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        listener.hear(window)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1e3, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=MODEL_HELP)
    parser.add_argument("--posts", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    model = model_or_exit(args.model)
    result = {"features_ms": features_ms()}
    print(f"sound features: {result['features_ms']} ms a frame (2048 samples at 48 kHz)", flush=True)
    result["post_to_frame"] = post_latency(model, args.posts)
    print(
        f"POST to the first frame carrying it: p50 {result['post_to_frame']['p50_ms']} ms, "
        f"p95 {result['post_to_frame']['p95_ms']} ms",
        flush=True,
    )
    result["pages"] = pages_cost(model, args.seconds, args.rounds)
    print(json.dumps(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

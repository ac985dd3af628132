"""Soak: run `deepdream live` headless for a long time, as an installation would, steered and watched,
and print its RSS, threads, open files and fps over time.

    python benchmarks/soak.py --minutes 60 [--model M.onnx] [--source synthetic] [--size 320x240]
                              [--every 60] [--json FILE]

The loop runs as its own process in the default mode (the dream beside the display) with what an
installation turns on: a playlist of three scenes with 5 s crossfades, OSC remote control, the
HTTP viewer (a viewer stays connected to /stream.mjpg the whole time, and a control page to
/control/events), the CSV experiment log and the event log. Every interval this script changes a
parameter over OSC (feedback, step size, zoom in turn; every third interval it releases them and
jumps to a scene instead) and one through the control page's API (steps per frame), reads the process's
RSS, thread count and open file descriptors from /proc, and asks for /deepdream/status over OSC.
RSS, threads and files should stay flat: the loop keeps no per-frame state beyond bounded windows.
Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message_builder import build_msg
from pythonosc.osc_server import BlockingOSCUDPServer

PLAYLIST = """crossfade = 5.0
[[scene]]
name = "strokes"
duration = 20
feedback = 0.8
[[scene]]
name = "deep"
duration = 20
step-size = 0.03
zoom = 1.01
[[scene]]
name = "calm"
duration = 20
steps-per-frame = 2
feedback = 0.95
"""
CHANGES = [("feedback", 0.7), ("step_size", 0.015), ("zoom", 1.02)]  # sent in turn, one an interval


def proc_figures(pid: int) -> dict:
    """RSS (MiB), threads and open file descriptors of a process, from /proc."""
    fields = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return {
        "rss_mib": int(fields["VmRSS"][0]) / 1024,
        "threads": int(fields["Threads"][0]),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
    }


class Osc:
    """Sends to the loop from a socket that also receives its /deepdream/status replies."""

    def __init__(self, port: int):
        self.reply: dict = {}
        table = Dispatcher()
        table.map("/deepdream/status", lambda _, *args: self.reply.update(zip(args[::2], args[1::2])))
        self.server = BlockingOSCUDPServer(("127.0.0.1", 0), table)
        self.server.timeout = 5.0
        self.port = port

    def send(self, address: str, *args) -> None:
        self.server.socket.sendto(build_msg(address, list(args)).dgram, ("127.0.0.1", self.port))

    def status(self) -> dict:
        self.reply = {}
        self.send("/deepdream/status")
        self.server.handle_request()
        return self.reply


class Viewer:
    """Stays on a stream until the loop closes it, counting what arrives: JPEGs on /stream.mjpg,
    server-sent events on /control/events (an open control page)."""

    def __init__(self, url: str, mark: bytes):
        self.frames = 0
        threading.Thread(target=self._watch, args=(url, mark), daemon=True).start()

    def _watch(self, url: str, mark: bytes) -> None:
        try:
            with urllib.request.urlopen(url, timeout=60) as stream:
                while chunk := stream.read1(65536):
                    self.frames += chunk.count(mark)
        except OSError:
            return


def control_set(port: str, name: str, value: float) -> None:
    """One change through the control page's HTTP API, as a phone or a Stream Deck sends it."""
    body = json.dumps({"name": name, "value": value}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/control/set", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()


def wait_for_line(path: Path, pattern: str, proc, seconds: float = 300.0) -> re.Match:
    """The first match of `pattern` in the event log, once the loop has written it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        found = re.search(pattern, path.read_text()) if path.is_file() else None
        if found:
            return found
        time.sleep(0.2)
    raise SystemExit(f"the loop never said {pattern!r} (exit status {proc.poll()})")


def steer(osc: Osc, turn: int) -> str:
    """One change an interval: a parameter, or (every third) release them all and jump to a scene."""
    if turn % 3 == 2:
        osc.send("/deepdream/release")
        osc.send("/deepdream/scene", turn // 3 % 3 + 1)
        return "release + scene"
    name, value = CHANGES[turn % len(CHANGES)]
    osc.send(f"/deepdream/{name}", value if turn % 2 else value * 1.1)
    return name


def soak(args, folder: Path) -> list[dict]:
    (folder / "show.toml").write_text(PLAYLIST)
    events = folder / "events.log"
    cmd = [
        sys.executable,
        "-m",
        "realtime.cli",
        "live",
        "--source",
        args.source,
        "--loop",
        "--size",
        args.size,
        "--headless",
        "--osc",
        "0",
        "--serve",
        "127.0.0.1:0",
        "--config",
        str(folder / "show.toml"),
        "--log",
        str(folder / "frames.csv"),
        "--event-log",
        str(events),
        *(["--model", args.model] if args.model else []),
    ]
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    try:
        return _watch(args, proc, events)
    finally:
        proc.terminate()  # SIGTERM: the loop finishes its files as on Ctrl-C (SIGINT may be ignored in background)
        proc.wait(60)
        if proc.returncode not in (0, 130):
            raise SystemExit(f"the loop exited with status {proc.returncode}")


def _watch(args, proc, events: Path) -> list[dict]:
    osc = Osc(int(wait_for_line(events, r"OSC remote control on [^ ]+:(\d+)", proc).group(1)))
    port = wait_for_line(events, r"viewer at http://[^:]+:(\d+)/", proc).group(1)
    viewer = Viewer(f"http://127.0.0.1:{port}/stream.mjpg", b"\xff\xd8\xff")  # a JPEG's start
    page = Viewer(f"http://127.0.0.1:{port}/control/events", b"data:")
    wait_for_line(events, r"dreaming at", proc)
    rows, start, turn = [], time.monotonic(), 0
    print("minutes frames fps rss_mib threads fds viewer_frames page_events scene change", flush=True)
    last_frames, last_t = None, None
    while time.monotonic() - start < args.minutes * 60 and proc.poll() is None:
        reply, now = osc.status(), time.monotonic()
        if "frame" in reply:
            frames = int(reply["frame"])
            fps = (frames - last_frames) / (now - last_t) if last_frames is not None else float(reply["fps"])
            row = {
                "minutes": (now - start) / 60,
                "frames": frames,
                "fps": fps,
                **proc_figures(proc.pid),
                "viewer_frames": viewer.frames,
                "page_events": page.frames,
                "scene": reply.get("scene", ""),
                "change": steer(osc, turn),
            }
            control_set(port, "steps_per_frame", 1 + turn % 2)
            turn += 1
            print(" ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in row.values()), flush=True)
            rows.append(row)
            last_frames, last_t = frames, now
        time.sleep(min(args.every, max(0.0, start + args.minutes * 60 - time.monotonic())))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--model", help="default: the CLI's default model")
    parser.add_argument("--source", default="synthetic")
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--every", type=float, default=60, help="seconds between report lines (and OSC changes)")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="soak-") as folder:
        rows = soak(args, Path(folder))
    if rows:
        first, last = rows[0], rows[-1]
        print(
            f"done: {last['frames']} frames, {last['viewer_frames']} to the viewer; RSS {first['rss_mib']:.1f} -> "
            f"{last['rss_mib']:.1f} MiB, threads {first['threads']} -> {last['threads']}, open files "
            f"{first['fds']} -> {last['fds']}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()

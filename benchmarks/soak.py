"""Soak: run `deepdream live` headless for a long time, as an installation would, and print its
RSS and fps over time.

    python benchmarks/soak.py --minutes 60 [--model M.onnx] [--source synthetic] [--size 320x240]
                              [--every 60] [--json FILE]

The loop runs as its own process with the unattended features on (OSC remote control, the CSV
experiment log, the event log); every interval this script reads the process's RSS from /proc
and asks for /deepdream/status over OSC (frames shown, fps). Memory should stay flat: the loop
keeps no per-frame state beyond bounded windows. Linux only (/proc).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message_builder import build_msg
from pythonosc.osc_server import BlockingOSCUDPServer


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Status:
    """Asks the loop for /deepdream/status from a socket that also receives the reply."""

    def __init__(self, port: int):
        self.reply: dict = {}
        table = Dispatcher()
        table.map("/deepdream/status", lambda _, *args: self.reply.update(zip(args[::2], args[1::2])))
        self.server = BlockingOSCUDPServer(("127.0.0.1", 0), table)
        self.server.timeout = 5.0
        self.port = port

    def __call__(self) -> dict:
        self.reply = {}  # sent from the listening socket: the loop replies to the sender's address
        self.server.socket.sendto(build_msg("/deepdream/status", []).dgram, ("127.0.0.1", self.port))
        self.server.handle_request()
        return self.reply


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def soak(args, folder: Path) -> list[dict]:
    port = free_port()
    cmd = [sys.executable, "-m", "realtime.cli", "live", "--source", args.source, "--loop", "--size", args.size,
           "--headless", "--osc", str(port), "--log", str(folder / "frames.csv"),
           "--event-log", str(folder / "events.log"), *(["--model", args.model] if args.model else [])]
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    status, rows, start = Status(port), [], time.monotonic()
    print("minutes frames fps rss_mib", flush=True)
    try:
        last_frames, last_t = None, None
        while time.monotonic() - start < args.minutes * 60 and proc.poll() is None:
            time.sleep(min(args.every, max(0.0, start + args.minutes * 60 - time.monotonic())))
            reply, now = status(), time.monotonic()
            if "frame" not in reply:
                continue  # still loading the model
            frames = int(reply["frame"])
            fps = (frames - last_frames) / (now - last_t) if last_frames is not None else float(reply["fps"])
            row = {"minutes": (now - start) / 60, "frames": frames, "fps": fps, "rss_mib": rss_mib(proc.pid)}
            print(f"{row['minutes']:7.2f} {frames:6d} {fps:4.1f} {row['rss_mib']:7.1f}", flush=True)
            rows.append(row)
            last_frames, last_t = frames, now
    finally:
        proc.terminate()  # SIGTERM: the loop finishes its files as on Ctrl-C (SIGINT may be ignored in background)
        proc.wait(60)
    if proc.returncode not in (0, 130):
        raise SystemExit(f"the loop exited with status {proc.returncode}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--model", help="default: the CLI's default model")
    parser.add_argument("--source", default="synthetic")
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--every", type=float, default=60, help="seconds between report lines")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="soak-") as folder:
        rows = soak(args, Path(folder))
    if rows:
        print(f"done: {rows[-1]['frames']} frames, RSS {rows[0]['rss_mib']:.1f} -> {rows[-1]['rss_mib']:.1f} MiB")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()

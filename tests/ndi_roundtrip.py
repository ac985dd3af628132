"""NDI sender and receiver together, run by tests/test_ndi.py inside a network namespace of its own
(`unshare --net`, loopback only), so that no packet leaves the machine; it refuses to run anywhere else.

NDI finds sources by mDNS, which needs a daemon (Avahi) the namespace lacks; an NDI configuration file
(NDI_CONFIG_DIR) that names 127.0.0.1 as the one address to ask gives the same discovery without it.
Prints one JSON line. Modes:
  roundtrip W H         realtime.media.ndi.NdiSink sends a frame of two flat colours; a receiver takes it
  live NAME -- ARGS...  `deepdream ARGS` (which has --ndi NAME) runs; a receiver takes one of its frames,
                        then Ctrl-C ends the run
  watch NAME -- ARGS... `deepdream ARGS` runs to its end, a receiver taking every frame it can
                        (docs/benchmarks/ndi.md)
  bench W H N           ms per NdiSink.write at W x H over N frames written at 30 fps, a receiver taking them
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

TOP, BOTTOM = (200, 40, 10), (20, 90, 220)  # red over blue: a swapped channel or a flipped frame shows


def isolate() -> None:
    """Stop unless loopback is the only interface; point NDI's discovery at 127.0.0.1 (before cyndilib loads)."""
    names = [name for _, name in socket.if_nameindex()]
    if names != ["lo"]:
        sys.exit(f"not in a network namespace of its own (interfaces: {names})")
    folder = Path(tempfile.mkdtemp(prefix="ndi-config-"))
    (folder / "ndi-config.v1.json").write_text(json.dumps({"ndi": {"networks": {"ips": "127.0.0.1"}}}))
    os.environ["NDI_CONFIG_DIR"] = str(folder)


class Receiver:
    """A cyndilib receiver of the source whose name ends in `(name)` (NDI shows sources as `HOST (name)`)."""

    def __init__(self, name: str, deadline: float):
        from cyndilib.finder import Finder
        from cyndilib.receiver import Receiver as NdiReceiver
        from cyndilib.video_frame import VideoRecvFrame
        from cyndilib.wrapper.ndi_recv import RecvBandwidth, RecvColorFormat

        self.finder = Finder()
        self.finder.open()
        while not (found := [s for s in self.finder.get_source_names() if s.endswith(f"({name})")]):
            if time.monotonic() > deadline:
                sys.exit(f"no NDI source named {name} appeared")
            self.finder.wait_for_sources(0.2)
        self.receiver = NdiReceiver(color_format=RecvColorFormat.RGBX_RGBA, bandwidth=RecvBandwidth.highest)
        self.frame = VideoRecvFrame()
        self.receiver.set_video_frame(self.frame)
        self.receiver.set_source(self.finder.get_source(found[0]))

    def take(self) -> np.ndarray | None:
        """A frame (H x W x 4) if one came within 50 ms, else None."""
        from cyndilib.receiver import ReceiveFrameType

        got = self.receiver.receive(ReceiveFrameType.recv_video, 50)
        if not (got & ReceiveFrameType.recv_video) or not self.frame.get_buffer_depth():
            return None
        width, height = self.frame.get_resolution()
        data = np.empty(self.frame.get_data_size(), np.uint8)
        self.frame.fill_p_data(data)
        return data.reshape(height, width, 4)

    def close(self) -> None:
        self.receiver.disconnect()
        self.finder.close()


def roundtrip(width: int, height: int) -> dict:
    from realtime.media.ndi import NdiSink

    frame = np.empty((height, width, 3), np.uint8)
    frame[: height // 2], frame[height // 2 :] = TOP, BOTTOM
    sink = NdiSink("roundtrip", (width, height), 30)
    deadline = time.monotonic() + 60
    receiver = Receiver("roundtrip", deadline)
    got = None
    while got is None and time.monotonic() < deadline:
        sink.write(frame)
        got = receiver.take()
    receiver.close()
    sink.close()
    if got is None:
        sys.exit("the receiver took no frame")
    # the middle of each half: NDI's 4:2:2 compression blurs where the colours meet
    return {
        "shape": got.shape,
        "top": got[height // 4, width // 2].tolist(),
        "bottom": got[-height // 4, width // 2].tolist(),
    }


def live(name: str, argv: list[str]) -> dict:
    """Run `deepdream argv`, take one frame from its source `name`, then stop it as Ctrl-C would."""
    proc = subprocess.Popen([sys.executable, "-m", "realtime.cli", *argv], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    try:
        receiver = Receiver(name, deadline)
        while (got := receiver.take()) is None and time.monotonic() < deadline and proc.poll() is None:
            pass
        receiver.close()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    shape = None if got is None else got.shape
    alpha = None if got is None else int(got[..., 3].min())
    return {
        "shape": shape,
        "alpha": alpha,
        "spread": None if got is None else int(got[..., :3].std()),
        "rc": proc.returncode,
        "stderr": err[-2000:],
    }


def watch(name: str, argv: list[str]) -> dict:
    """Run `deepdream argv` to its end with a receiver taking its frames: how many came, and its exit code."""
    proc = subprocess.Popen([sys.executable, "-m", "realtime.cli", *argv], stderr=subprocess.PIPE, text=True)
    drain = threading.Thread(target=proc.stderr.read)  # a full pipe would stop the run
    drain.start()
    receiver, taken = Receiver(name, time.monotonic() + 180), 0
    while proc.poll() is None:
        taken += receiver.take() is not None
    receiver.close()
    drain.join()
    return {"received": taken, "rc": proc.returncode}


def bench(width: int, height: int, count: int) -> dict:
    from realtime.media.ndi import NdiSink

    rng = np.random.default_rng(0)
    noise = [rng.integers(0, 256, (height, width, 3), np.uint8) for _ in range(8)]
    frames = [cv2.GaussianBlur(f, (0, 0), 3) for f in noise]  # texture, not noise no encoder can shrink
    sink = NdiSink("bench", (width, height), 30)
    receiver = Receiver("bench", time.monotonic() + 60)
    while receiver.take() is None:  # connected: the sender now compresses and sends every frame
        sink.write(frames[0])
    taken, stop = [0], threading.Event()

    def drain():
        while not stop.is_set():
            taken[0] += receiver.take() is not None

    thread = threading.Thread(target=drain)
    thread.start()
    times, tick = [], time.perf_counter()
    for i in range(count):
        start = time.perf_counter()
        sink.write(frames[i % len(frames)])
        times.append((time.perf_counter() - start) * 1000)
        tick += 1 / 30  # paced as the live view shows frames
        time.sleep(max(0.0, tick - time.perf_counter()))
    stop.set()
    thread.join()
    receiver.close()
    sink.close()
    return {"ms_median": float(np.median(times)), "ms_p95": float(np.percentile(times, 95)), "received": taken[0]}


def main(argv: list[str]) -> None:
    isolate()
    mode, rest = argv[0], argv[1:]
    if mode == "roundtrip":
        result = roundtrip(int(rest[0]), int(rest[1]))
    elif mode in ("live", "watch"):
        result = (live if mode == "live" else watch)(rest[0], rest[rest.index("--") + 1 :])
    else:
        result = bench(int(rest[0]), int(rest[1]), int(rest[2]))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])

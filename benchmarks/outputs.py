"""Offline render speed and HTTP stream latency.

    python benchmarks/outputs.py [--model M.onnx] [--clip ../shared/testdata/pan_coffee_320x240.mp4]

1. `deepdream render` frames per second at 320x240 and 640x360 (1 step per frame, flow on).
2. Stream latency: frames published to the MJPEG server at 15 fps (640x360 JPEGs), read by a client
   on localhost; time from publication to the end of the frame's arrival, p50/p95.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
from timing import MODEL_HELP, model_or_exit

from realtime.commands.render import RenderJob, render
from realtime.dream.settings import StreamSettings
from realtime.media.serve import FrameHub, start_server
from realtime.media.sources import SyntheticSource


def render_fps(model: Path, clip: Path, size) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        render(
            RenderJob(input=clip, output=Path(tmp) / "out.mp4", model=model, size=size),
            lambda s: StreamSettings(size=s),
            "cpu",
        )
        frames = int(cv2.VideoCapture(str(clip)).get(cv2.CAP_PROP_FRAME_COUNT))
        return frames / (time.perf_counter() - t0)


def stream_latency(frames: int = 150) -> dict:
    hub = FrameHub()
    server = start_server(hub, "127.0.0.1", 0, None)
    port = server.server_address[1]
    published: dict[str, float] = {}
    source = SyntheticSource((640, 360))
    jpegs = [cv2.imencode(".jpg", source.render(i))[1].tobytes() for i in range(frames)]
    latencies: list[float] = []

    def client():
        buf = b""
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/stream.mjpg", timeout=30) as resp:
            while len(latencies) < frames - 5:
                buf += resp.read1(1 << 16)
                while b"\xff\xd9" in buf:
                    end = buf.index(b"\xff\xd9") + 2
                    start = buf.index(b"\xff\xd8")
                    key = hashlib.md5(buf[start:end]).hexdigest()
                    if key in published:
                        latencies.append((time.monotonic() - published[key]) * 1e3)
                    buf = buf[end:]

    reader = threading.Thread(target=client, daemon=True)
    reader.start()
    time.sleep(0.3)
    for jpeg in jpegs:
        published[hashlib.md5(jpeg).hexdigest()] = time.monotonic()
        hub.publish(jpeg)
        time.sleep(1 / 15)
    reader.join(timeout=5)
    hub.close()
    server.shutdown()
    lat = np.array(latencies)
    return {
        "frames": len(lat),
        "p50_ms": round(float(np.percentile(lat, 50)), 2),
        "p95_ms": round(float(np.percentile(lat, 95)), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=MODEL_HELP)
    parser.add_argument("--clip", default=str(Path("..") / "shared" / "testdata" / "pan_coffee_320x240.mp4"))
    args = parser.parse_args()
    args.model = model_or_exit(args.model)
    result = {
        "render_fps": {
            f"{w}x{h}": round(render_fps(Path(args.model), Path(args.clip), (w, h)), 2)
            for w, h in [(320, 240), (640, 360)]
        },
        "stream_latency": stream_latency(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

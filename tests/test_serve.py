"""Serving the dream over HTTP (MJPEG + viewer), --pipe and --stereo."""

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import deepdream, wait_until

from realtime.media.serve import FrameHub, start_server
from realtime.media.sinks import side_by_side

STATIC = Path(__file__).resolve().parents[1] / "realtime" / "media" / "static"


def _mjpeg_frames(url, count, timeout=60):
    frames, buf = [], b""
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        assert resp.headers["Content-Type"].startswith("multipart/x-mixed-replace")
        while len(frames) < count:
            buf += resp.read1(65536)
            while b"\xff\xd8" in buf and b"\xff\xd9" in buf[buf.index(b"\xff\xd8") :]:
                start = buf.index(b"\xff\xd8")
                end = buf.index(b"\xff\xd9", start) + 2
                frames.append(buf[start:end])
                buf = buf[end:]
    return frames


def test_stream_viewer_status_and_token(served):
    import cv2

    frames = _mjpeg_frames(f"{served}/stream.mjpg?token=s3cret", 3)
    images = [cv2.imdecode(np.frombuffer(f, np.uint8), cv2.IMREAD_COLOR) for f in frames]
    assert all(img.shape == (96, 128, 3) for img in images)
    assert np.abs(images[0].astype(int) - images[-1]).mean() > 1  # frames change
    # Several viewers at once.
    results = []
    viewers = [
        threading.Thread(target=lambda: results.append(len(_mjpeg_frames(f"{served}/stream.mjpg?token=s3cret", 2))))
        for _ in range(3)
    ]
    for v in viewers:
        v.start()
    for v in viewers:
        v.join(timeout=60)
    assert results == [2, 2, 2]
    page = urllib.request.urlopen(f"{served}/?token=s3cret").read().decode()
    assert "viewer.js" in page and "stereo" in page
    status = json.loads(urllib.request.urlopen(f"{served}/status.json?token=s3cret").read())
    assert status["frames"] > 0 and status["model"]
    for path in ["/", "/stream.mjpg", "/status.json?token=wrong"]:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(served + path)
        assert err.value.code == 403
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{served}/etc/passwd?token=s3cret")
    assert err.value.code == 404


def test_a_slow_viewer_skips_frames_and_never_blocks_the_publisher():
    hub, got, first, go_on = FrameHub(), [], threading.Event(), threading.Event()

    def stuck_viewer():  # takes one frame, then hangs (a phone asleep) until let go
        seen = 0
        for _ in range(2):
            item = hub.next_after(seen, timeout=60)
            seen = item[0]
            got.append(item)
            first.set()
            go_on.wait(60)

    viewer = threading.Thread(target=stuck_viewer, daemon=True)
    viewer.start()
    hub.publish(b"frame0")
    first.wait(60)
    publisher = threading.Thread(target=lambda: [hub.publish(b"frame%d" % i) for i in range(1, 60)], daemon=True)
    publisher.start()
    publisher.join(timeout=60)
    assert not publisher.is_alive()  # all 59 published while the viewer hung: it never waited on it
    go_on.set()
    viewer.join(timeout=60)
    hub.close()
    assert [count for count, _ in got] == [1, 60] and got[1][1] == b"frame59"  # then only the newest


def test_serving_beyond_loopback_needs_a_token():
    from realtime.errors import UserError

    with pytest.raises(UserError, match="--token"):
        start_server(FrameHub(), "0.0.0.0", 0, None)


def test_connections_are_bounded_and_idle_ones_closed():
    """~950 idle connections once took every thread: past the bound a connection gets a 503 at once, with no
    thread, and one that says nothing is closed at the request deadline; the status still answers."""
    import socket

    from realtime.media.slots import Limits

    hub = FrameHub()
    server = start_server(hub, "127.0.0.1", 0, None, Limits(head_s=5.0, heads=3))  # 5 s: all three held first
    address = ("127.0.0.1", server.server_address[1])
    idle = [socket.create_connection(address, timeout=60) for _ in range(3)]
    try:
        wait_until(lambda: server.open_connections() == 3, what="three connections served")
        threads = threading.active_count()
        with socket.create_connection(address, timeout=60) as extra:
            assert extra.recv(1000).startswith(b"HTTP/1.1 503")  # answered and closed, no thread for it
        assert threading.active_count() == threads
        for connection in idle:
            assert connection.recv(100) == b""  # closed by the server, having said nothing
        wait_until(lambda: server.open_connections() == 0, what="the idle connections closed")
        status = json.load(urllib.request.urlopen(f"http://127.0.0.1:{address[1]}/status.json", timeout=60))
        assert status["frames"] == 0
    finally:
        for connection in idle:
            connection.close()
        server.shutdown()
        hub.close()


def test_stereo_is_side_by_side_with_disparity():
    frame = np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8)
    out = side_by_side(5)(frame)
    assert out.shape == (40, 120, 3)
    np.testing.assert_array_equal(out[:, :60], frame)
    np.testing.assert_array_equal(out[:, 60:115], frame[:, 5:])


@pytest.mark.child
def test_pipe_writes_raw_frames_and_says_their_size(tiny_model):
    result = deepdream(
        "live",
        "--source",
        "synthetic",
        "--model",
        str(tiny_model),
        "--size",
        "96x80",
        "--headless",
        "--frames",
        "3",
        "--pipe",
        "--stereo",
        timeout=120,
        text=False,
    )
    assert result.returncode == 0
    assert b"pipe: 192x80 rgb24" in result.stderr
    assert len(result.stdout) == 3 * 192 * 80 * 3


@pytest.mark.child
def test_virtualcam_without_a_device_is_one_clear_line(tiny_model):
    result = deepdream(
        "live",
        "--source",
        "synthetic",
        "--model",
        str(tiny_model),
        "--size",
        "96x80",
        "--headless",
        "--frames",
        "2",
        "--virtualcam",
        timeout=120,
    )
    if result.returncode == 0:
        pytest.skip("this machine has a virtual camera device")
    last = result.stderr.strip().splitlines()[-1]
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "pyvirtualcam" in last or "v4l2loopback" in last


def test_the_page_scripts_are_ours_served_behind_the_token_and_the_mode_is_in_the_status():
    hub = FrameHub()
    hub.status.update(projection="equirectangular", stereo=True)
    server = start_server(hub, "127.0.0.1", 0, "s3cret")
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        page = urllib.request.urlopen(f"{base}/?token=s3cret").read().decode()
        assert "viewer.js" in page and "http" not in page.split("<body>")[1]  # nothing from elsewhere (no CDN)
        for name in ("viewer.js", "glview.js"):
            with urllib.request.urlopen(f"{base}/{name}?token=s3cret") as resp:
                assert resp.headers["Content-Type"].startswith("text/javascript")
                assert resp.read() == (STATIC / name).read_bytes()
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(f"{base}/{name}")
            assert err.value.code == 403
        for path in ("/static/viewer.js", "/../serve.py", "/sinks.py"):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(f"{base}{path}?token=s3cret")
            assert err.value.code == 404
        status = json.loads(urllib.request.urlopen(f"{base}/status.json?token=s3cret").read())
        assert (status["projection"], status["stereo"]) == ("equirectangular", True)
    finally:
        hub.close()
        server.shutdown()


def _hub_with_frames():
    from realtime.media.serve import ServeSink

    hub, stop = FrameHub(), threading.Event()
    sink = ServeSink(hub)

    def feed():
        rng = np.random.default_rng(0)
        while not stop.is_set():
            sink.write(rng.integers(0, 255, (240, 320, 3), np.uint8))
            time.sleep(0.01)

    threading.Thread(target=feed, daemon=True).start()
    return hub, stop


@pytest.mark.parametrize(
    "text, expected",
    [
        ("8080", ("127.0.0.1", 8080)),
        ("0.0.0.0:80", ("0.0.0.0", 80)),
        ("[::1]:8080", ("::1", 8080)),
        ("::1", None),
        ("[::1]", None),
        ("::1:8080", None),
        ("host:port", None),
    ],
)
def test_addresses_take_ipv6_in_brackets(text, expected):
    from realtime.addresses import parse_address
    from realtime.errors import UserError

    if expected is None:
        with pytest.raises(UserError, match="--serve"):
            parse_address(text, "--serve")
    else:
        assert parse_address(text, "--serve") == expected


def test_serving_on_ipv6_loopback():
    import socket

    from realtime.addresses import is_loopback

    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    assert is_loopback("::1")  # so no token is required, as on 127.0.0.1
    hub = FrameHub()
    server = start_server(hub, "::1", 0, None)
    try:
        status = json.load(urllib.request.urlopen(f"http://[::1]:{server.server_address[1]}/status.json", timeout=10))
        assert status["frames"] == 0
    finally:
        server.shutdown()
        hub.close()


def test_a_viewer_leaving_mid_reply_prints_no_traceback(capfd):
    import socket
    import struct

    hub, stop = _hub_with_frames()
    server = start_server(hub, "127.0.0.1", 0, None)
    try:
        for path in ["/stream.mjpg", "/", "/status.json"] * 3:
            client = socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10)
            client.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            if path == "/stream.mjpg":
                client.recv(1000)  # mid-stream
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # leave with a reset
            client.close()
            wait_until(lambda: server.open_connections() == 0, what="the server done with the viewer")
    finally:
        stop.set()
        server.shutdown()
        hub.close()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Error" not in err, err


def test_a_non_ascii_token_lets_the_right_one_in_and_no_other():
    from urllib.parse import quote

    hub, token = FrameHub(), "clé-ü-夢"
    server = start_server(hub, "127.0.0.1", 0, token)
    base = f"http://127.0.0.1:{server.server_address[1]}/status.json?token="
    try:
        assert urllib.request.urlopen(base + quote(token), timeout=10).status == 200
        for wrong in ["cle-u-夢", "clé-ü", "", "%FF%FE"]:
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(base + (quote(wrong) if "%" not in wrong else wrong), timeout=10)
            assert refused.value.code == 403
    finally:
        server.shutdown()
        hub.close()


def test_without_a_token_only_a_loopback_host_is_answered():
    """A page whose name was made to point at 127.0.0.1 (DNS rebinding) names its own host: refused, so it can
    neither watch the camera nor steer the show."""
    import http.client

    hub = FrameHub()
    hub.control = lambda kind, name, value: (True, {"value": value, "frame": 0})
    server = start_server(hub, "127.0.0.1", 0, None)
    port = server.server_address[1]

    def ask(method, path, host, origin=None):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Host": host, "Content-Type": "application/json", **({"Origin": origin} if origin else {})}
        connection.request(
            method, path, body=b'{"name": "zoom", "value": 1.1}' if method == "POST" else None, headers=headers
        )
        return connection.getresponse().status

    try:
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
            assert ask("GET", "/status.json", host) == 200
        assert ask("POST", "/control/set", f"localhost:{port}", f"http://localhost:{port}") == 200
        assert ask("GET", "/status.json", f"evil.example:{port}") == 403
        assert ask("GET", "/stream.mjpg", f"evil.example:{port}") == 403
        assert ask("POST", "/control/set", f"evil.example:{port}", f"http://evil.example:{port}") == 403
    finally:
        server.shutdown()
        hub.close()


def test_figures_that_json_cannot_carry_are_left_out_not_sent():
    """A page's JSON.parse refuses NaN and Infinity: one such figure would stop every update of every page."""
    hub = FrameHub()
    hub.publish_status(
        {
            "model_name": "m",
            "loss": float("inf"),
            "dream_age_ms": float("nan"),
            "fps": 29.5,
            "ms_per_step": float("-inf"),
            "scene": "a",
            "paused": False,
        }
    )

    def refuse(name):
        raise ValueError(f"{name} in the figures")

    figures = json.loads(hub.status_json(), parse_constant=refuse)
    assert figures["fps"] == 29.5 and figures["scene"] == "a" and figures["paused"] is False
    assert not {"loss", "dream_age_ms", "ms_per_step"} & set(figures)
    hub.close()


def test_frames_are_encoded_only_for_viewers_and_once_however_many_wait(monkeypatch):
    """No viewer: the display thread hands over references and no JPEG is made. Two viewers waiting: one
    encode per new frame, both sent the same JPEG, its colours in order."""
    import cv2

    from realtime.media.serve import ServeSink

    encodes, imencode = [], cv2.imencode
    monkeypatch.setattr(cv2, "imencode", lambda *args: encodes.append(args) or imencode(*args))
    hub = FrameHub()
    sink = ServeSink(hub)
    for _ in range(5):
        sink.write(np.zeros((24, 32, 3), np.uint8))
    assert encodes == [] and json.loads(hub.status_json())["frames"] == 5

    def take(seen, into):
        into.append(hub.next_after(seen, timeout=60))

    for shown in range(6, 9):
        got = []
        viewers = [threading.Thread(target=take, args=(shown - 1, got)) for _ in range(2)]
        for viewer in viewers:
            viewer.start()
        sink.write(np.full((24, 32, 3), (200, 100, shown), np.uint8))
        for viewer in viewers:
            viewer.join(timeout=60)
        assert len(encodes) == shown - 5 and got[0] == got[1] and got[0][0] == shown
        picture = cv2.imdecode(np.frombuffer(got[0][1], np.uint8), cv2.IMREAD_COLOR)
        np.testing.assert_allclose(picture.reshape(-1, 3).mean(0), (shown, 100, 200), atol=3)  # BGR
    hub.close()


def test_a_viewer_encoding_never_holds_up_the_display_thread():
    hub, got, encoding, finish = FrameHub(), [], threading.Event(), threading.Event()

    def slow_encode(frame):
        encoding.set()
        finish.wait(60)
        return b"jpeg of " + frame

    hub.offer(b"frame 1", slow_encode)
    viewer = threading.Thread(target=lambda: got.append(hub.next_after(0, timeout=60)))
    viewer.start()
    assert encoding.wait(60)
    writer = threading.Thread(target=hub.offer, args=(b"frame 2", slow_encode))
    writer.start()
    writer.join(timeout=60)
    assert not writer.is_alive()  # offered while the viewer's encode was still running
    finish.set()
    viewer.join(timeout=60)
    assert got == [(1, b"jpeg of frame 1")] and hub.next_after(1, timeout=60) == (2, b"jpeg of frame 2")
    hub.close()


class _Watched:
    """A lock that says when a thread asks for it, so a test knows a writer has got that far."""

    def __init__(self):
        self._lock, self.asked = threading.Lock(), threading.Event()

    def acquire(self, blocking=True, timeout=-1):
        if blocking:  # threading.Condition probes without blocking to learn whether it holds the lock
            self.asked.set()
        return self._lock.acquire(blocking, timeout)

    def release(self):
        self._lock.release()

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def test_the_frame_rate_and_count_are_written_under_the_hubs_lock():
    """While a request holds the hub's lock to read the figures, a frame's writer waits rather than changing them."""
    from realtime.media.serve import ServeSink

    hub, lock = FrameHub(), _Watched()
    hub._cond = threading.Condition(lock)
    sink = ServeSink(hub)
    with hub._cond:
        lock.asked.clear()
        writer = threading.Thread(target=sink.write, args=(np.zeros((8, 8, 3), np.uint8),))
        writer.start()
        assert lock.asked.wait(60)
        held = dict(hub.status)
    writer.join(timeout=60)
    assert (held["fps"], held["frames"]) == (0.0, 0)
    assert hub.status["fps"] > 0 and hub.status["frames"] == 1
    hub.close()

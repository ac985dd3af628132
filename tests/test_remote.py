"""OSC remote control: parameters, scenes, pause, snapshot, recording, status; bad messages
are logged and ignored."""

import csv
import threading
import time

import pytest
from conftest import Running, wait_until
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message_builder import build_msg
from pythonosc.osc_server import BlockingOSCUDPServer

from realtime.dream.engine import Engine
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.run.loop import LoopStats
from realtime.steer.playlist import Playlist, parse_scenes
from realtime.steer.remote import Message
from realtime.steer.requests import handle
from realtime.steer.show import Show


class Operator:
    """A show-control program: sends from the socket it listens on, so replies come back to it."""

    def __init__(self, port):
        self.port, self.replies = port, []
        table = Dispatcher()
        table.map("/deepdream/status", lambda _, *args: self.replies.append(dict(zip(args[::2], args[1::2]))))
        self.server = BlockingOSCUDPServer(("127.0.0.1", 0), table)
        self.server.timeout = 2.0

    def send(self, address, *args):
        self.raw(build_msg(address, list(args)).dgram)

    def raw(self, data: bytes):
        self.server.socket.sendto(data, ("127.0.0.1", self.port))

    def status(self) -> dict:
        self.replies.clear()
        self.send("/deepdream/status")
        self.server.handle_request()
        return self.replies[-1] if self.replies else {}


def _bundle(ahead_s: float, address: str, *args) -> bytes:
    from pythonosc.osc_bundle_builder import OscBundleBuilder

    bundle = OscBundleBuilder(time.time() + ahead_s)
    bundle.add_content(build_msg(address, list(args)))
    return bundle.build().dgram


@pytest.mark.child
def test_a_running_loop_obeys_osc_and_survives_garbage(tiny_model, tmp_path):
    log = tmp_path / "frames.csv"
    live = Running(
        "live",
        "--source",
        "synthetic",
        "--model",
        tiny_model,
        "--size",
        "128x96",
        "--headless",
        "--osc",
        "0",
        "--log",
        log,
        "--snapshots",
        tmp_path,
    )
    show = Operator(int(live.wait_for(r"OSC remote control on 127\.0\.0\.1:(\d+)").group(1)))
    try:
        wait_until(show.status, what="a status reply")
        show.raw(b"not osc at all")
        show.raw(b"/deepdream/zoom\x00,i\x00\x00")  # declares an int, carries none
        show.send("/elsewhere", 1)
        show.send("/deepdream/volume", 11)
        show.send("/deepdream/feedback", "lots")
        show.send("/deepdream/set", "steps_per_frame", 1000)
        show.raw(_bundle(1e6, "/deepdream/feedback", 0.2))  # 11 days ahead: once stopped all later OSC and Ctrl-C
        show.raw(_bundle(0.5, "/deepdream/zoom", 1.05))  # half a second ahead: applied when due
        show.send("/deepdream/step_size", 0.05)
        show.send("/deepdream/set", "feedback", 0.5)
        show.send("/deepdream/snapshot")
        show.send("/deepdream/record", 1)
        before = wait_until(
            lambda: (s := show.status()).get("recording") == 1 and abs(s["zoom"] - 1.05) < 1e-6 and s,
            what="the recording started and the timed zoom applied",
        )
        show.send("/deepdream/record", 0)
        show.send("/deepdream/pause")
        paused = wait_until(lambda: (s := show.status()).get("paused") == 1 and s, what="the pause")
        wait_until(
            lambda: show.status().get("frame", 0) > paused["frame"] + 2,
            what="frames shown while paused (the last dream, still live)",
        )
    finally:
        code, err = live.interrupt()
    assert code == 0, err
    assert before["step_size"] == pytest.approx(0.05) and before["feedback"] == pytest.approx(0.5)
    assert before["steps_per_frame"] == 1 and before["paused"] == 0
    assert paused["recording"] == 0
    for needle in (
        "not OSC",
        "malformed",
        "unknown address /elsewhere",
        "/deepdream/volume [11]: unknown address",
        "feedback expects a number 0..1, got 'lots'",
        "must be within 0..100, got 1000",
        "/deepdream/feedback [0.20000000298023224] from 127.0.0.1",
        "ahead, more than 3600 s (ignored)",
    ):
        assert needle in err
    assert "Traceback" not in err
    assert len(list(tmp_path.glob("snapshot-*.png"))) == 1 and len(list(tmp_path.glob("dream-*.mp4"))) == 1
    with open(log, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert any(r["step_size"] == "0.05" and r["feedback"] == "0.5" for r in rows)
    assert not any(r["feedback"].startswith("0.2") for r in rows)
    assert rows[-1]["paused"] == "True"


def test_timed_bundles_wait_until_due_and_a_closing_server_returns_at_once(caplog):
    from realtime.steer.remote import Remote

    remote = Remote("127.0.0.1", 0)
    operator = Operator(remote.address[1])
    operator.raw(_bundle(1e6, "/deepdream/feedback", 0.2))
    operator.raw(_bundle(1.0, "/deepdream/zoom", 1.1))
    operator.send("/deepdream/step_size", 0.05)
    arrived = wait_until(remote.messages, what="the plain message")
    assert [m.address for m in arrived] == ["/deepdream/step_size"]  # the timed ones wait
    later = wait_until(remote.messages, what="the bundle timed a second ahead")
    assert [(m.address, m.args) for m in later] == [("/deepdream/zoom", (pytest.approx(1.1),))]
    assert "timed 1000000 s ahead" in caplog.text
    closing = threading.Thread(target=remote.close)
    closing.start()
    closing.join(timeout=30)
    assert not closing.is_alive()


@pytest.fixture(scope="module")
def scene_show(tiny_model):
    stream = DreamStream([Engine(tiny_model, "cpu")], StreamSettings(size=(96, 96)))
    scenes = parse_scenes(
        [{"duration": 60, "feedback": 0.8, "name": "calm"}, {"duration": 60, "feedback": 0.2, "name": "storm"}], "test"
    )
    return Show(stream, Playlist(scenes, 0.0, {"steps_per_frame": 1, "step_size": 0.02, "feedback": 0.9, "zoom": 1.0}))


def _send(show, address, *args):
    handle(Message(address, args, ("127.0.0.1", 9)), show, LoopStats(), None)
    show.tick()


def _feedback(show):
    return show.status()["feedback"]


def test_scene_jumps_and_held_parameters(scene_show, caplog):
    s = scene_show
    _send(s, "/deepdream/scene", 2)
    assert s.scene == "storm" and _feedback(s) == pytest.approx(0.2)
    _send(s, "/deepdream/scene", "calm")
    assert s.scene == "calm" and _feedback(s) == pytest.approx(0.8)
    _send(s, "/deepdream/feedback", 0.33)  # the operator's value holds against the playlist
    assert _feedback(s) == pytest.approx(0.33)
    _send(s, "/deepdream/release")
    assert _feedback(s) == pytest.approx(0.8)
    _send(s, "/deepdream/scene", 7)
    _send(s, "/deepdream/mix", 3)
    assert "no scene 7" in caplog.text and "has fixed layers" in caplog.text
    assert s.scene == "calm"


class _Replies:
    """A remote that keeps what the show replies."""

    def __init__(self):
        self.sent = []

    def reply(self, to, address, args):
        self.sent.append((address, args))


# The reply's keys in the order positional clients read them (mix last, after provider).
STATUS_ORDER = "frame fps ms_per_step loss steps_per_frame step_size feedback flow zoom model model_name scene paused"
STATUS_ORDER += " recording provider mix"


def test_the_status_reply_keeps_its_key_order(scene_show):
    """A live parameter added to the table joins the others (before model); the rest keep their places."""
    from realtime.dream.params import live_params

    remote, order = _Replies(), STATUS_ORDER.split()
    handle(Message("/deepdream/status", (), ("127.0.0.1", 9)), scene_show, None, remote)
    [(address, args)] = remote.sent
    added = [name for name in live_params() if name not in order]
    at = order.index("model")
    assert address == "/deepdream/status" and args[0::2] == order[:at] + added + order[at:]
    assert args[-1] == -1.0  # a model without --mix layers: no mix, as a number

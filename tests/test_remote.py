"""OSC remote control: parameters, scenes, pause, snapshot, recording, status; bad messages
are logged and ignored."""
import csv
import signal
import subprocess
import sys
import time

import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message_builder import build_msg
from pythonosc.osc_server import BlockingOSCUDPServer

from realtime.show.control import handle
from realtime.dream.engine import Engine
from realtime.show.loop import LoopStats
from realtime.show.playlist import Playlist, parse_scenes
from realtime.show.remote import Message
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.show.show import Show


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


def test_a_running_loop_obeys_osc_and_survives_garbage(random_model, free_port, tmp_path):
    log = tmp_path / "frames.csv"
    proc = subprocess.Popen([sys.executable, "-m", "realtime.cli", "live", "--source", "synthetic", "--model",
                             str(random_model), "--size", "128x96", "--headless", "--osc", str(free_port), "--log",
                             str(log), "--snapshots", str(tmp_path)], stderr=subprocess.PIPE, text=True)
    show = Operator(free_port)
    try:
        deadline = time.monotonic() + 120
        while not show.status() and time.monotonic() < deadline and proc.poll() is None:
            pass
        show.raw(b"not osc at all")
        show.raw(b"/deepdream/zoom\x00,i\x00\x00")  # declares an int, carries none
        show.send("/elsewhere", 1)
        show.send("/deepdream/volume", 11)
        show.send("/deepdream/feedback", "lots")
        show.send("/deepdream/set", "steps_per_frame", 1000)
        show.send("/deepdream/step_size", 0.05)
        show.send("/deepdream/set", "feedback", 0.5)
        show.send("/deepdream/snapshot")
        show.send("/deepdream/record", 1)
        time.sleep(1.0)
        before = show.status()
        show.send("/deepdream/record", 0)
        show.send("/deepdream/pause")
        time.sleep(0.5)
        paused = show.status()
        time.sleep(0.5)
        assert show.status()["frame"] > paused["frame"]  # paused shows the last dream, still live
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert before["step_size"] == pytest.approx(0.05) and before["feedback"] == pytest.approx(0.5)
    assert before["steps_per_frame"] == 1 and before["recording"] == 1 and before["paused"] == 0
    assert paused["recording"] == 0 and paused["paused"] == 1
    for needle in ("not OSC", "malformed", "unknown address /elsewhere", "/deepdream/volume [11]: unknown address",
                   "feedback expects a number 0..1, got 'lots'", "must be within 0..100, got 1000"):
        assert needle in err
    assert "Traceback" not in err
    assert len(list(tmp_path.glob("snapshot-*.png"))) == 1 and len(list(tmp_path.glob("dream-*.mp4"))) == 1
    with open(log, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert any(r["step_size"] == "0.05" and r["feedback"] == "0.5" for r in rows)
    assert rows[-1]["paused"] == "True"


@pytest.fixture(scope="module")
def scene_show(random_model):
    stream = DreamStream([Engine(random_model, "cpu")], StreamSettings(size=(96, 96)))
    scenes = parse_scenes([{"duration": 60, "feedback": 0.8, "name": "calm"},
                           {"duration": 60, "feedback": 0.2, "name": "storm"}], "test")
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

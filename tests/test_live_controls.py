"""Live controls: keys through the pygame window (dummy video driver), --calm, octaves and zoom,
and a clean end on Ctrl-C with a playable recording."""

import csv
import time

import cv2
import numpy as np
import pytest
from conftest import Running, wait_until

from realtime.dream.engine import Engine
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.media.sinks import KEYS, ListSink, WindowSink, help_lines
from realtime.media.sources import Frame, SyntheticSource
from realtime.run.framelog import FrameLog
from realtime.run.hud import hud
from realtime.run.loop import run
from realtime.steer.playlist import Playlist, parse_scenes
from realtime.steer.show import Show


@pytest.fixture(scope="module")
def engine(tiny_model):
    return Engine(tiny_model, "cpu")


def test_keys_become_commands_that_change_the_controls(engine):
    import pygame

    window = WindowSink((160, 120))
    try:
        stream = DreamStream([engine, engine], StreamSettings(size=(160, 120)))
        show = Show(stream, window=window)
        for key in (pygame.K_UP, pygame.K_RIGHT, pygame.K_RIGHTBRACKET, pygame.K_f, pygame.K_m, pygame.K_SPACE):
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key))
        commands = window.commands()
        assert commands == ["step_size_up", "steps_up", "feedback_up", "flow", "next_model", "pause"]
        before = show.status()
        assert all(show.key(c) for c in commands)
        after = show.status()
        assert after["step_size"] > before["step_size"] and after["steps_per_frame"] == before["steps_per_frame"] + 1
        assert after["feedback"] > before["feedback"] and after["flow"] == "off" and after["model"] == 2
        assert after["paused"]
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE))
        assert [show.key(c) for c in window.commands()] == [False]
        window.hud_lines = hud(show, type("S", (), {"frames": 3, "fps": lambda self: 3.0})(), lost=True)
        assert any("CAMERA LOST" in line for line in window.hud_lines)
        window.show_help = True
        window.write(np.zeros((120, 160, 3), np.uint8))  # draws HUD and help without error
    finally:
        window.close()


def test_keys_stay_in_range_and_hold_against_the_playlist(engine):
    stream = DreamStream([engine], StreamSettings(size=(96, 96), feedback=0.95))
    playlist = Playlist(
        parse_scenes([{"duration": 60, "feedback": 0.5, "step-size": 0.03}], "t"),
        0.0,
        {"steps_per_frame": 1, "step_size": 0.02, "feedback": 0.9, "zoom": 1.0},
    )
    show = Show(stream, playlist)  # no recorder, no window: their keys do nothing (and raise nothing)
    show.tick()
    assert show.status()["feedback"] == pytest.approx(0.5)
    for _ in range(20):
        show.key("feedback_up")
    for command in ("record", "snapshot", "hud", "help", "fullscreen", "mix_up"):
        assert show.key(command)
    show.tick()  # the playlist's next frame: the key's value holds, the untouched step size follows it
    assert show.status()["feedback"] == 1.0 and show.status()["step_size"] == pytest.approx(0.03)
    show.release()
    show.tick()
    assert show.status()["feedback"] == pytest.approx(0.5)


def test_pause_shows_the_last_frame_without_dreaming(engine, tmp_path):
    stream = DreamStream([engine], StreamSettings(size=(96, 96), flow="off"))
    show = Show(stream)
    images = [SyntheticSource((96, 96)).render(i) for i in range(6)]
    frames = iter(Frame(img, time.monotonic(), i) for i, img in enumerate(images))

    class Reader:
        def get(self):
            frame = next(frames, None)
            if frame is not None and frame.index == 2:
                show.pause(True)
            return frame

    sink, log = ListSink(), FrameLog(tmp_path / "frames.csv")
    stats = run(Reader(), show, [sink], frame_log=log)
    log.close()
    assert stats.frames == 6 and stream.figures().frame == 2  # dreamed twice, then paused
    assert all(np.array_equal(f, sink.frames[1]) for f in sink.frames[2:])
    assert stats.spent["flow"] >= 0 and stats.spent["dream"] >= 0
    rows = list(csv.DictReader(open(tmp_path / "frames.csv", newline="")))
    assert [r["paused"] for r in rows] == ["False"] * 2 + ["True"] * 4
    assert all(r["loss"] and r["ms_per_step"] for r in rows[:2])
    assert not any(r["loss"] or r["ms_per_step"] for r in rows[2:])  # nothing stale while paused


def test_calm_fades_to_the_camera_while_the_scene_moves(engine):
    source = SyntheticSource((160, 120))
    still = source.render(0)
    stream = DreamStream([engine], StreamSettings(size=(160, 120), calm=True, flow="off"))
    for _ in range(3):
        stream(still)
    assert stream.calm_strength > 0.95
    for i in range(1, 8):  # a busy scene: every frame different
        out = stream(np.roll(still, 13 * i, axis=1))
    assert stream.calm_strength < 0.3
    assert np.abs(out.astype(int) - np.roll(still, 13 * 7, axis=1)).mean() < 3  # nearly the camera


def test_every_key_in_the_help_does_what_it_says():
    import pygame

    window = WindowSink((160, 120))
    try:
        for name, (command, _) in KEYS.items():
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.key.key_code(name)))
            assert window.commands() == [command], name
    finally:
        window.close()
    assert all(any(line.split()[0] == name for line in help_lines()) for name in KEYS)


class Spy:
    """The engine, with every step's image size recorded and a mark added where the test says."""

    def __init__(self, engine, mark=None):
        self.engine, self.mark, self.sizes = engine, mark, []

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def step(self, image, n, step_size, transform=None):
        self.sizes.append(image.shape[:2])
        if self.mark is None:
            return self.engine.step(image, n, step_size, transform)
        out = image.copy()
        if len(self.sizes) == 1:  # the first frame's dream: one bright spot, nothing after
            out[self.mark] = 1.0
        return out


def test_live_octaves_cycle_one_scale_per_frame(engine):
    spy = Spy(engine)
    stream = DreamStream([spy], StreamSettings(size=(200, 150), octaves=3, octave_scale=1.4, flow="off"))
    for i in range(4):
        stream(SyntheticSource((200, 150)).render(i))
    assert spy.sizes == [(150, 200), (107, 143), (77, 102), (150, 200)]


@pytest.mark.parametrize("zoom", [1.0, 1.2])
def test_zoom_carries_the_dream_outward_from_the_centre(engine, zoom):
    spy = Spy(engine, mark=(slice(70, 73), slice(140, 143)))  # 40 px right of the centre (100, 75)
    stream = DreamStream([spy], StreamSettings(size=(200, 150), zoom=zoom, feedback=1.0, flow="off"))
    still = np.full((150, 200, 3), 128, np.uint8)
    stream(still)
    carried = np.abs(stream(still).astype(float) - 128).sum(axis=2)  # the spot, as the next frame carries it
    ys, xs = np.indices(carried.shape)
    y, x = (ys * carried).sum() / carried.sum(), (xs * carried).sum() / carried.sum()
    assert abs(y - (75 - 4 * zoom)) < 1 and abs(x - (100 + 41 * zoom)) < 1  # zoomed about the centre


@pytest.mark.child
def test_ctrl_c_finalises_a_playable_recording(tiny_model, tmp_path):
    out, log = tmp_path / "rec.mp4", tmp_path / "frames.csv"
    with Running(
        "live",
        "--source",
        "synthetic",
        "--model",
        tiny_model,
        "--size",
        "96x96",
        "--headless",
        "--record",
        out,
        "--log",
        log,
    ) as live:
        live.wait_for(r"dreaming at")
        wait_until(lambda: log.is_file() and len(log.read_text().splitlines()) > 10, what="ten frames shown")
        code, err = live.interrupt()
    assert code == 0 and "Traceback" not in err, err
    cap = cv2.VideoCapture(str(out))
    count = 0
    while cap.read()[0]:
        count += 1
    shown = len(log.read_text().splitlines()) - 1  # the header
    assert shown <= count <= shown + 1 and shown >= 10  # every frame shown is in the file (Ctrl-C may land
    # between the recording and the log), and the file plays
    assert not list(tmp_path.glob(".rec.*"))  # no temporary left behind


def test_the_window_scales_the_frame_to_fit_keeping_its_shape():
    window = WindowSink((320, 120))  # wider than the 4:3 frame: bars left and right
    shots = []
    try:
        frame = np.zeros((120, 160, 3), np.uint8)
        frame[:, :80] = (255, 0, 0)
        frame[:, 80:] = (0, 0, 255)
        window.show_hud = False
        for shown in (frame, frame[:60, :80]):  # then a new size: a new texture
            window.write(shown)
            shots.append(window.renderer.to_surface())  # what the renderer drew (the dummy driver's software one)
    finally:
        window.close()
    first = shots[0]
    assert first.get_size() == (320, 120)
    assert tuple(first.get_at((100, 60)))[:3] == (255, 0, 0) and tuple(first.get_at((220, 60)))[:3] == (0, 0, 255)
    assert tuple(first.get_at((10, 60)))[:3] == (0, 0, 0) and tuple(first.get_at((310, 60)))[:3] == (0, 0, 0)
    assert tuple(shots[1].get_at((160, 60)))[:3] == (255, 0, 0)  # the red quarter, filling the height

"""Live controls: keys through the pygame window (dummy video driver), --calm, octaves and zoom,
and a clean end on Ctrl-C with a playable recording."""
import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from realtime.dream.engine import Engine
from realtime.show.loop import apply, hud
from realtime.media.sinks import KEYS, WindowSink, help_lines
from realtime.media.sources import SyntheticSource
from realtime.dream.stream import DreamStream, StreamSettings


@pytest.fixture(scope="module")
def engine(random_model):
    return Engine(random_model, "cpu")


class NoRecorder:
    def toggle(self):
        pass

    def snapshot(self):
        pass


def test_keys_become_commands_that_change_the_controls(engine):
    import pygame
    window = WindowSink((160, 120))
    try:
        stream = DreamStream([engine, engine], StreamSettings(size=(160, 120)))
        for key in (pygame.K_UP, pygame.K_RIGHT, pygame.K_RIGHTBRACKET, pygame.K_f, pygame.K_m, pygame.K_SPACE):
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key))
        commands = window.commands()
        assert commands == ["step_size_up", "steps_up", "feedback_up", "flow", "next_model", "pause"]
        before = (stream.controls.step_size, stream.controls.steps_per_frame, stream.controls.feedback)
        assert all(apply(c, stream, window, NoRecorder()) for c in commands)
        c = stream.controls
        assert c.step_size > before[0] and c.steps_per_frame == before[1] + 1 and c.feedback > before[2]
        assert not c.flow_on and c.model_index == 1 and c.paused
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE))
        assert [apply(c, stream, window, NoRecorder()) for c in window.commands()] == [False]
        window.hud_lines = hud(stream, type("S", (), {"frames": 3, "started": time.monotonic() - 1})(), lost=True)
        assert any("CAMERA LOST" in line for line in window.hud_lines)
        window.show_help = True
        window.write(np.zeros((120, 160, 3), np.uint8))  # draws HUD and help without error
    finally:
        window.close()


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


def test_ctrl_c_finalises_a_playable_recording(random_model, tmp_path):
    out = tmp_path / "rec.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "realtime.cli", "live", "--source", "synthetic", "--model",
                             str(random_model), "--size", "96x96", "--headless", "--record", str(out)],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".rec.*.mp4")) and time.monotonic() < deadline:
        time.sleep(0.2)  # the recording's temporary file appears once the loop is set up
    time.sleep(3)  # a few frames
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    cap = cv2.VideoCapture(str(out))
    count = 0
    while cap.read()[0]:
        count += 1
    assert count >= 1
    assert not list(tmp_path.glob(".rec.*"))  # no temporary left behind

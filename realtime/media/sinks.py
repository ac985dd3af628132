"""Frame sinks: where dreamed frames go. Each has `write(frame)` and `close()`.

`ListSink` keeps frames (tests), `VideoSink` records an MP4 (the one writer,
realtime.media.video: H.264, finalised on close, also after Ctrl-C), `WindowSink` shows a window
(SDL's renderer scales the frame to it) with a HUD and turns key presses into commands.
"""

from __future__ import annotations

import os
import time

import cv2
import numpy as np

from realtime.errors import UserError, reason
from realtime.install import pip_install
from realtime.media.video import VideoWriter as VideoSink  # noqa: F401  (the sinks' name for it)

KEYS = {  # key name -> (command, help)
    "escape": ("quit", "quit"),
    "q": ("quit", "quit"),
    "space": ("pause", "pause / resume"),
    "m": ("next_model", "next model"),
    "up": ("step_size_up", "step size up"),
    "down": ("step_size_down", "step size down"),
    "right": ("steps_up", "steps per frame up"),
    "left": ("steps_down", "steps per frame down"),
    "]": ("feedback_up", "feedback up"),
    "[": ("feedback_down", "feedback down"),
    "f": ("flow", "optical flow on/off"),
    "s": ("snapshot", "snapshot to PNG"),
    "r": ("record", "recording on/off"),
    "tab": ("hud", "HUD on/off"),
    "return": ("fullscreen", "fullscreen on/off"),
    "h": ("help", "this help"),
    ",": ("mix_down", "mix toward lower layers (strokes)"),
    ".": ("mix_up", "mix toward higher layers (eyes, dogs)"),
}


class ListSink:
    def __init__(self):
        self.frames: list[np.ndarray] = []

    def write(self, frame: np.ndarray):
        self.frames.append(frame.copy())

    def close(self):
        pass


class PipeSink:
    """Raw RGB24 frames to a binary stream (stdout), for ffmpeg or another program; size on stderr."""

    def __init__(self, stream=None):
        import sys

        self.stream = stream if stream is not None else sys.stdout.buffer
        self.size = None

    def write(self, frame: np.ndarray):
        if self.size is None:
            import sys

            self.size = frame.shape[1], frame.shape[0]
            print(f"pipe: {self.size[0]}x{self.size[1]} rgb24", file=sys.stderr, flush=True)
        try:
            self.stream.write(np.ascontiguousarray(frame).tobytes())
            self.stream.flush()
        except OSError as exc:  # the reader has gone (EPIPE) or stdout is a full file or device
            self._discard()
            raise UserError(f"--pipe: cannot write frames to stdout: {exc.strerror or exc}") from None

    def _discard(self):
        """Point stdout at /dev/null so Python's exit flush does not print a second error."""
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):  # not a real file (tests pass a BytesIO)
            pass

    def close(self):
        pass


def side_by_side(disparity: int = 0):
    """Frame -> [left | right] for a headset; the right eye shifted by `disparity` pixels."""

    def present(frame: np.ndarray) -> np.ndarray:
        right = (
            frame
            if not disparity
            else cv2.warpAffine(
                frame, np.float32([[1, 0, -disparity], [0, 1, 0]]), frame.shape[1::-1], borderMode=cv2.BORDER_REPLICATE
            )
        )
        return np.concatenate([frame, right], axis=1)

    return present


class VirtualCamSink:
    """Frames to a virtual webcam (pyvirtualcam: v4l2loopback on Linux, OBS on Windows/macOS)."""

    def __init__(self, size: tuple[int, int], fps: float):
        try:
            import pyvirtualcam
        except ImportError:
            raise UserError(f"--virtualcam needs pyvirtualcam: {pip_install('virtualcam')}") from None
        try:
            self.cam = pyvirtualcam.Camera(width=size[0], height=size[1], fps=fps)
        except Exception as exc:  # pyvirtualcam raises RuntimeError/others when no backend exists
            raise UserError(
                f"no virtual camera device ({reason(exc, 150)}); on Linux load "
                "v4l2loopback (sudo modprobe v4l2loopback exclusive_caps=1), elsewhere install OBS"
            ) from None
        self.size = size

    def write(self, frame: np.ndarray):
        if frame.shape[1::-1] != self.size:
            frame = cv2.resize(frame, self.size)
        self.cam.send(np.ascontiguousarray(frame))
        self.cam.sleep_until_next_frame()

    def close(self):
        self.cam.close()


class WindowSink:
    """A window that SDL's renderer draws: each frame goes up as a texture once and is scaled to the window
    (letterboxed, linear) where the renderer runs, on the GPU where there is one, instead of by
    pygame.transform on the CPU (slower even than SDL's software renderer: docs/benchmarks/live.md); the HUD
    lines are text textures on top. `commands()` drains
    key presses. With SDL_VIDEODRIVER=dummy (headless, tests) the same code draws nowhere."""

    def __init__(self, size: tuple[int, int], fullscreen: bool = False, title: str = "deepdream-live", vsync=False):
        """`vsync`: each picture goes up at the display's refresh (a study's flips), the loop waiting for it."""
        import pygame
        from pygame._sdl2.video import Renderer, Window

        os.environ.setdefault("SDL_RENDER_SCALE_QUALITY", "linear")  # read when a texture is made
        self.pg = pygame
        pygame.display.init()
        pygame.font.init()
        self.window = Window(title, size=tuple(size), resizable=True)
        self.renderer = Renderer(self.window, vsync=vsync)
        self.vsync = vsync
        self.texture = None
        self.fullscreen = False
        if fullscreen:
            self.toggle_fullscreen()
        self.font = pygame.font.Font(None, 22)
        self.hud_lines: list[str] = []
        self.show_hud = True
        self.show_help = False
        self.keys = KEYS  # key name -> (command, help): a study's protocol takes its own (realtime.lab.director)

    def toggle_fullscreen(self):
        self.fullscreen = not self.fullscreen
        if self.fullscreen:
            self.window.set_fullscreen(desktop=True)
        else:
            self.window.set_windowed()

    def write(self, frame: np.ndarray):
        from pygame._sdl2.video import Texture

        h, w = frame.shape[:2]
        if self.texture is None or (self.texture.width, self.texture.height) != (w, h):
            self.texture = Texture(self.renderer, (w, h), streaming=True)
        self.texture.update(self.pg.image.frombuffer(np.ascontiguousarray(frame), (w, h), "RGB"))
        self.renderer.draw_color = (0, 0, 0, 255)
        self.renderer.clear()
        self.renderer.blit(self.texture, self._fitted(w, h))
        lines = (self.hud_lines if self.show_hud else []) + (help_lines() if self.show_help else [])
        for i, line in enumerate(lines):
            text = Texture.from_surface(self.renderer, self.font.render(line, True, (255, 255, 255), (0, 0, 0)))
            self.renderer.blit(text, self.pg.Rect(8, 8 + 20 * i, text.width, text.height))
        self.renderer.present()

    def refresh_hz(self, presents: int = 12) -> float | None:
        """The display's refresh rate, measured: with vsync each present waits for the next refresh (None without
        vsync, or where presents do not wait: SDL's dummy driver)."""
        if not self.vsync:
            return None
        times = []
        for _ in range(presents):
            self.renderer.present()
            times.append(time.perf_counter())
        period = float(np.median(np.diff(times)))
        return round(1 / period, 2) if period > 0.002 else None

    def _fitted(self, w: int, h: int):
        """The frame's place in the window: as large as fits, its shape kept, centred."""
        win_w, win_h = self.window.size
        scale = min(win_w / w, win_h / h)
        fit_w, fit_h = max(1, round(w * scale)), max(1, round(h * scale))
        return self.pg.Rect((win_w - fit_w) // 2, (win_h - fit_h) // 2, fit_w, fit_h)

    def commands(self) -> list[str]:
        out = []
        for event in self.pg.event.get():
            if event.type in (self.pg.QUIT, getattr(self.pg, "WINDOWCLOSE", self.pg.QUIT)):
                out.append("quit")
            elif event.type == self.pg.KEYDOWN:
                command = self.keys.get(self.pg.key.name(event.key), (None,))[0]
                if command:
                    out.append(command)
        return out

    def close(self):
        self.window.destroy()
        self.pg.display.quit()


def help_lines() -> list[str]:
    return [f"{key:>7}  {text}" for key, (_, text) in KEYS.items()]

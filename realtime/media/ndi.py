"""Frames to other programs over NDI (`live --ndi NAME`): OBS, Resolume, TouchDesigner and vMix list the
source as `HOST (NAME)` and take it across the network. cyndilib's wheel carries the NDI library.

NDI takes four bytes a pixel, so each RGB frame is widened to RGBA (cv2) and handed over asynchronously:
cyndilib copies it into one of its own buffers and NDI compresses and sends it on its own thread, so the
loop's thread does not wait for the compression (docs/benchmarks/ndi.md). The sender does not clock the
frames itself: the live loop already paces them, and a second clock would make `write` wait.
"""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np

from realtime.errors import UserError
from realtime.install import pip_install

MAX_NAME = 100  # NDI's source names are short labels in a receiver's list; longer ones are cut off there


def check_name(name: str, flag: str = "--ndi") -> str:
    """`name` as given, or a UserError: empty, longer than MAX_NAME, or with control characters."""
    if not name.strip():
        raise UserError(f"{flag}: give the source a name (e.g. {flag} dream)")
    if len(name) > MAX_NAME:
        raise UserError(f"{flag}: the name is {len(name)} characters long; at most {MAX_NAME}")
    if any(not ch.isprintable() for ch in name):
        raise UserError(f"{flag} {name!r}: the name has control characters; use letters, digits and spaces")
    return name


def load_cyndilib():
    """cyndilib's sender module, or a UserError with the command that installs it."""
    try:
        from cyndilib import sender
    except ImportError:
        raise UserError(f"--ndi needs cyndilib: {pip_install('ndi')}") from None
    return sender


class NdiSink:
    """An NDI video source named `name` that sends every frame written, at `size` (frames of another size
    are scaled to it) and announced at `fps`."""

    def __init__(self, name: str, size: tuple[int, int], fps: float):
        sender_module = load_cyndilib()
        from cyndilib.video_frame import VideoSendFrame
        from cyndilib.wrapper.ndi_structs import FourCC

        frame = VideoSendFrame()
        frame.set_resolution(*size)
        frame.set_frame_rate(Fraction(fps).limit_denominator(1001))  # 29.97 stays 30000/1001
        frame.set_fourcc(FourCC.RGBA)
        self.sender = sender_module.Sender(check_name(name), clock_video=False)
        self.sender.set_video_frame(frame)
        try:
            self.sender.open()
        except Exception as exc:  # cyndilib raises a bare Exception/MemoryError when NDI cannot start
            raise UserError(f"--ndi {name}: NDI could not start ({exc})") from None
        self.size = size
        self.rgba = np.empty((size[1], size[0], 4), np.uint8)  # reused: no allocation per frame

    def write(self, frame: np.ndarray) -> None:
        if frame.shape[1::-1] != self.size:
            frame = cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)
        cv2.cvtColor(frame, cv2.COLOR_RGB2RGBA, dst=self.rgba)
        self.sender.write_video_async(self.rgba.reshape(-1))  # copied: self.rgba is free again on return

    def close(self) -> None:
        self.sender.close()

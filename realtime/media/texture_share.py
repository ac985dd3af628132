"""Frames to other programs on the same computer through the GPU's texture sharing: Spout on Windows
(`live --spout NAME`, SpoutGL) and Syphon on macOS (`live --syphon NAME`, syphon-python). Resolume,
TouchDesigner, OBS (with its Spout or Syphon plugin), MadMapper and VDMX list the sender by its name.

Each is written against its package's documented API; neither OS runs here, so neither is tested here
(the README says so). On another OS the flag is refused in one line before any work.
"""

from __future__ import annotations

import sys

import numpy as np

from realtime.errors import UserError
from realtime.install import pip_install
from realtime.media.ndi import check_name

SYSTEMS = {"spout": ("win32", "Windows"), "syphon": ("darwin", "macOS")}


def check_sharing(kind: str, name: str, platform: str = sys.platform) -> str:
    """`name` for --spout or --syphon, or a UserError: the wrong OS, or a bad name."""
    system, label = SYSTEMS[kind]
    if platform != system:
        raise UserError(f"--{kind} works on {label} only; to send frames to another program here, use --ndi NAME")
    return check_name(name, f"--{kind}")


def rgba(frame: np.ndarray) -> np.ndarray:
    """An RGB frame with an opaque alpha channel: both APIs take four bytes a pixel."""
    out = np.empty((*frame.shape[:2], 4), np.uint8)
    out[..., :3] = frame
    out[..., 3] = 255
    return out


class SpoutSink:
    """A Spout sender named `name` (SpoutGL's SpoutSender.sendImage; PyOpenGL gives the format's constant)."""

    def __init__(self, name: str):
        check_sharing("spout", name)
        try:
            import SpoutGL
            from OpenGL import GL
        except ImportError:
            raise UserError(f"--spout needs SpoutGL: {pip_install('spout')}") from None
        self.format = GL.GL_RGBA
        self.sender = SpoutGL.SpoutSender()
        self.sender.setSenderName(name)
        self.name = name

    def write(self, frame: np.ndarray) -> None:
        height, width = frame.shape[:2]
        self.sender.sendImage(rgba(frame), width, height, self.format, False, 0)
        self.sender.setFrameSync(self.name)  # receivers that wait on frames wake now

    def close(self) -> None:
        self.sender.releaseSender()


class SyphonSink:
    """A Syphon server named `name` (syphon-python's SyphonMetalServer), one Metal texture reused."""

    def __init__(self, name: str, size: tuple[int, int]):
        check_sharing("syphon", name)
        try:
            import syphon
            from syphon.utils.numpy import copy_image_to_mtl_texture
            from syphon.utils.raw import create_mtl_texture
        except ImportError:
            raise UserError(f"--syphon needs syphon-python: {pip_install('syphon')}") from None
        self.server = syphon.SyphonMetalServer(name)
        self.texture = create_mtl_texture(self.server.device, *size)
        self.copy = copy_image_to_mtl_texture

    def write(self, frame: np.ndarray) -> None:
        self.copy(rgba(frame), self.texture)
        self.server.publish_frame_texture(self.texture)

    def close(self) -> None:
        self.server.stop()

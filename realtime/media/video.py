"""The one video writer: H.264 (yuv420p) MP4 through PyAV, or lossless FFV1 in Matroska, written beside the
output and renamed on close.

Every MP4 we write goes through `VideoWriter` (`live --record`, key and OSC recordings, `render`).
Frame i gets the time i / rate in a rational time base, so N frames at R fps stay N frames at R.
Odd sizes are padded to even (4:2:0 chroma needs even sides). Pictures are converted to YUV 4:2:0
here, by swscale (BT.601, limited range, and tagged so, so players do not take HD for BT.709). The
encoder is the first of `ENCODERS` that opens here (h264_nvenc on an NVIDIA machine with an
encoder, else libx264). An `exact` file (render, `live --seed`) is converted and encoded on one
thread, libx264 always, without x264's macroblock tree, so the same frames give the same bytes on
any machine with the same build, whatever its core count, load or heap (the x264 bitstream depends
on its thread count, and its macroblock tree reads uninitialised stack memory); a live recording
keeps the machine's threads and the macroblock tree. (OpenCV's conversion is faster, but its 2x2
chroma average lets a dream's fine colour texture flicker: docs/benchmarks/video_writer.md.) Audio
(realtime.media.audio) and 360-degree metadata (realtime.media.spherical) are added on request. A
`lossless` file (a lab's kept stimulus) is FFV1 in Matroska instead (realtime.media.lossless): the RGB bytes
themselves, decoded back unchanged, and the same bytes each run; no encoder is chosen, nothing is padded.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from realtime.dream.parameter import table
from realtime.dream.params import OUTPUT
from realtime.errors import UserError
from realtime.files import make_shareable
from realtime.media import lossless
from realtime.media.spherical import not_360

log = logging.getLogger("deepdream.video")
ENCODERS = ("h264_nvenc", "libx264")
CRF = table(OUTPUT)["crf"]
EXACT_X264 = "mbtree=0"  # the exact writer's x264 settings beyond the preset (see encoder_options)
BT601, LIMITED = 6, 1  # FFmpeg's AVCOL_SPC_SMPTE170M and AVCOL_RANGE_MPEG: what swscale makes of RGB by default


@dataclass(frozen=True)
class VideoFormat:
    crf: int = CRF.default  # constant quality: 0 lossless, 18 visually clean, 23 x264's default, 51 worst
    spherical: bool = False  # equirectangular 360-degree frames: metadata for players and headsets
    stereo: bool = False  # frames are [left eye | right eye] (recorded in the 360-degree metadata)
    exact: bool = False  # same frames, same bytes: libx264 on one thread, no mbtree (render, live --seed)
    lossless: bool = False  # FFV1 in Matroska (.mkv): the very RGB bytes back, the same bytes each run

    @property
    def suffix(self) -> str:
        return lossless.SUFFIX if self.lossless else ".mp4"

    def encoders(self) -> tuple[str, ...]:
        # NVENC's output is the driver's and the chip's business: an exact file is libx264's.
        return ("libx264",) if self.exact else ENCODERS


def as_rate(fps) -> Fraction:
    """A frame rate as a fraction: 29.97002997 -> 30000/1001, 30.0 -> 30 (OpenCV gives floats)."""
    rate = Fraction(fps).limit_denominator(1001)
    if not 0 < rate <= 1000:
        raise UserError(f"frame rate {fps} is not usable for a video file")
    return rate


def encoder_options(name: str, crf: int, exact: bool = False) -> dict[str, str]:
    if name == "h264_nvenc":  # constant-quality VBR: the nvenc counterpart of x264's crf
        return {"rc": "vbr", "cq": str(crf), "b": "0", "preset": "p5"}
    options = {"crf": str(crf), "preset": "medium"}
    if exact:  # what these cost: benchmarks/video_writer.py
        # x264's output depends on its thread count (auto: the machine's cores): one thread. Its macroblock
        # tree (mbtree, on in preset medium) reads uninitialised stack memory (valgrind: "created by a stack
        # allocation" in x264_encoder_encode), so the same frames gave other bytes in a process whose heap
        # held other garbage (MALLOC_PERTURB_): off, which valgrind finds clean.
        options.update({"threads": "1", "x264-params": EXACT_X264})
    return options


def choose_encoder(size, rate: Fraction, crf: int, candidates=ENCODERS) -> str:
    """The first H.264 encoder that opens with these settings (an NVIDIA one only where there is one)."""
    import av

    for name in candidates:
        try:
            trial = av.CodecContext.create(name, "w")
            trial.width, trial.height, trial.pix_fmt, trial.time_base = *size, "yuv420p", 1 / rate
            trial.options = encoder_options(name, crf)
            trial.open()
            return name
        except (av.FFmpegError, OSError, ValueError) as exc:  # unknown here, no device, no driver
            log.debug("encoder %s unavailable: %s", name, exc)
    raise UserError(f"no H.264 encoder opens here (tried {', '.join(candidates)}); reinstall PyAV: pip install av")


def even(size) -> tuple[int, int]:
    return size[0] + size[0] % 2, size[1] + size[1] % 2


class VideoWriter:
    """A sink (write(frame), close()) making an H.264 MP4 (or, `lossless`, an FFV1 Matroska file); `abort()`
    drops it, leaving nothing behind."""

    def __init__(
        self,
        path: Path,
        fps,
        size: tuple[int, int],
        fmt: VideoFormat = VideoFormat(),
        audio_from: Path | None = None,
        encoders=None,
    ):
        import av

        try:
            CRF.check(fmt.crf)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        self.path, self.size, self.fmt, self.frames = Path(path), tuple(size), fmt, 0
        rate = as_rate(fps)
        coded, pix_fmt, options = self._codec(rate, encoders)
        self.tmp = self._temporary()
        self.container = None
        try:
            container, muxer = (lossless.CONTAINER, lossless.MUXER) if fmt.lossless else ("mp4", {})
            self.container = av.open(str(self.tmp), "w", format=container, options=muxer)
            self.stream = self.container.add_stream(self.encoder, rate=rate, options=options)
            self.stream.width, self.stream.height, self.stream.pix_fmt = *coded, pix_fmt
            context = self.stream.codec_context
            context.time_base = 1 / rate
            if not fmt.lossless:
                context.colorspace, context.color_range = BT601, LIMITED  # what the conversion in write() makes
            self.audio = None
            if audio_from is not None:
                from realtime.media.audio import AudioTrack

                self.audio = AudioTrack(audio_from, self.container)
        except BaseException:
            if getattr(self, "container", None) is not None:
                self.container.close()
            self.tmp.unlink(missing_ok=True)
            raise
        self.rate = rate
        if fmt.spherical and fmt.lossless:
            log.warning("the lossless writer keeps no 360-degree metadata (it is written into MP4 files)")
            self.fmt = replace(fmt, spherical=False)
        elif fmt.spherical and not_360(self.size, fmt.stereo):
            log.warning("%s", not_360(self.size, fmt.stereo))
            self.fmt = replace(fmt, spherical=False)
        codec = "FFV1 (lossless)" if fmt.lossless else f"H.264 ({self.encoder})"
        quality = "" if fmt.lossless else f", crf {fmt.crf}"
        spherical = ", 360-degree" if self.fmt.spherical else ""
        log.info("recording %s: %s %dx%d at %s fps%s%s", self.path, codec, *coded, rate, quality, spherical)

    def _codec(self, rate: Fraction, encoders) -> tuple[tuple[int, int], str, dict[str, str]]:
        """Sets the encoder; returns the coded size, its pixel format and the encoder's options."""
        if self.fmt.lossless:  # no padding: FFV1 codes any size
            self.encoder = lossless.ENCODER
            return self.size, lossless.PIX_FMT, lossless.ffv1_options(self.size)
        coded = even(self.size)
        self.encoder = choose_encoder(coded, rate, self.fmt.crf, encoders or self.fmt.encoders())
        return coded, "yuv420p", encoder_options(self.encoder, self.fmt.crf, self.fmt.exact)

    def _temporary(self) -> Path:
        parent = self.path.parent if str(self.path.parent) else Path(".")
        try:
            fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{self.path.stem}.", suffix=self.fmt.suffix)
            os.close(fd)
        except OSError as exc:
            raise UserError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        return Path(tmp)

    def write(self, frame: np.ndarray):
        if frame.shape[1::-1] != self.size:
            frame = cv2.resize(frame, self.size)
        self.container.mux(self.stream.encode(self._picture(frame)))
        self.frames += 1
        if self.audio is not None:
            self.audio.mux_until(self.frames / self.rate)  # interleaved: sound beside its pictures

    def _picture(self, frame: np.ndarray):
        """The frame as the encoder's picture, stamped with its number."""
        picture = lossless.picture(frame) if self.fmt.lossless else self._yuv(frame)
        picture.pts = self.frames
        return picture

    def _yuv(self, frame: np.ndarray):
        """The frame in BT.601 limited-range 4:2:0, odd sides padded to even."""
        import av

        if frame.shape[1::-1] != even(self.size):  # repeat the last column/row: no dark edge when shown
            frame = cv2.copyMakeBorder(frame, 0, self.size[1] % 2, 0, self.size[0] % 2, cv2.BORDER_REPLICATE)
        rgb = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        picture = rgb.reformat(format="yuv420p", threads=1 if self.fmt.exact else 0)  # 0: a thread a core
        picture.colorspace, picture.color_range = BT601, LIMITED
        return picture

    def close(self):
        """Finish the file and move it into place (nothing is kept when no frame was written)."""
        try:
            if self.frames:
                self.container.mux(self.stream.encode(None))
                if self.audio is not None:
                    self.audio.finish()
            self.container.close()
            if self.audio is not None:
                self.audio.close()
            if self.frames and self.fmt.spherical:
                from realtime.media.spherical import add_spherical_metadata

                add_spherical_metadata(self.tmp, stereo=self.fmt.stereo)
        except BaseException:
            self.tmp.unlink(missing_ok=True)
            raise
        if self.frames:
            make_shareable(self.tmp)
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)

    def abort(self):
        """Drop the file being written (a render interrupted while assembling leaves no half file)."""
        try:
            self.container.close()
            if self.audio is not None:
                self.audio.close()
        finally:
            self.tmp.unlink(missing_ok=True)

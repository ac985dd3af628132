"""Sound to listen to, as mono float32 at 48 kHz: a file's whole track, or a live input.

`SoundTrack.read(path)` decodes a file's first audio stream (any codec FFmpeg reads, through PyAV)
into memory; `window(t, n)` is its last n samples before t seconds (silence before the start and
after the end, or round again with `loop`). `Microphone(device)` records from an input device
(sounddevice, the `[audio]` extra; PortAudio underneath) into a ring buffer on sounddevice's
thread; `window(t, n)` is the newest n samples whatever t, and `lost` says why it stopped if it
did (unplugged, a driver gone): no new samples for LOST_S.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from realtime.errors import UserError
from realtime.install import pip_install

RATE = 48000
LOST_S = 1.0  # a live input silent (no callback at all) this long has stopped


class SoundTrack:
    def __init__(self, samples: np.ndarray, name: str, loop: bool = False):
        self.samples, self.name, self.loop = samples, name, loop
        self.lost: str | None = None

    @classmethod
    def read(cls, path: Path, loop: bool = False) -> SoundTrack:
        import av

        try:
            with av.open(str(path)) as container:
                if not container.streams.audio:
                    raise UserError(f"{path} has no sound to listen to")
                resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
                parts = [
                    frame.to_ndarray().reshape(-1)
                    for decoded in container.decode(audio=0)
                    for frame in resampler.resample(decoded)
                ]
                parts += [frame.to_ndarray().reshape(-1) for frame in resampler.resample(None)]
        except (av.FFmpegError, OSError) as exc:
            raise UserError(f"cannot read the sound of {path}: {exc}") from None
        samples = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
        if not len(samples):
            raise UserError(f"{path} has a sound stream with no samples in it")
        return cls(samples, Path(path).name, loop)

    def window(self, t: float, n: int) -> np.ndarray:
        """The n samples before t seconds."""
        end = int(round(t * RATE))
        if self.loop:
            return np.take(self.samples, np.arange(end - n, end), mode="wrap")
        out = np.zeros(n, np.float32)
        start = end - n
        lo, hi = max(start, 0), min(end, len(self.samples))
        if hi > lo:
            out[lo - start : hi - start] = self.samples[lo:hi]
        return out

    @property
    def seconds(self) -> float:
        return len(self.samples) / RATE

    def close(self) -> None:
        pass


class Microphone:
    def __init__(self, device: str | int | None, seconds: float = 1.0):
        try:
            import sounddevice
        except ImportError:
            raise UserError(f"--audio from a device needs sounddevice: {pip_install('audio')}") from None
        except OSError as exc:  # sounddevice found no PortAudio library
            raise UserError(f"--audio: {exc} (on Linux: apt-get install libportaudio2)") from None
        self.ring = np.zeros(int(seconds * RATE), np.float32)
        self.written, self.heard, self.lock = 0, time.monotonic(), threading.Lock()
        self._lost: str | None = None
        try:
            self.stream = sounddevice.InputStream(
                device=device,
                channels=1,
                samplerate=RATE,
                dtype="float32",
                callback=self._callback,
                finished_callback=self._finished,
            )
            self.stream.start()
        except (sounddevice.PortAudioError, ValueError) as exc:
            raise UserError(
                f"--audio {device if device is not None else '(the default input)'}: cannot record "
                f"({exc}); python -m sounddevice lists the devices"
            ) from None
        self.name = str(device if device is not None else "the default input")

    def _callback(self, data, frames, time_info, status) -> None:  # sounddevice's thread
        mono = data[:, 0]
        with self.lock:
            at = self.written % len(self.ring)
            first = min(len(mono), len(self.ring) - at)
            self.ring[at : at + first] = mono[:first]
            self.ring[: len(mono) - first] = mono[first:]
            self.written += len(mono)
            self.heard = time.monotonic()

    def _finished(self) -> None:
        self._lost = self._lost or "the input stream ended"

    @property
    def lost(self) -> str | None:
        with self.lock:
            if self._lost is None and time.monotonic() - self.heard > LOST_S:
                self._lost = f"no sound from {self.name} for {LOST_S:.0f} s"
            return self._lost

    def window(self, t: float, n: int) -> np.ndarray:
        with self.lock:
            end = self.written % len(self.ring)
            return np.take(self.ring, np.arange(end - n, end), mode="wrap").copy()

    def close(self) -> None:
        self.stream.close()

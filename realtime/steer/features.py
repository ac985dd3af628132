"""What a show hears, per displayed frame: the sound's level, its bass, mid and treble, and its onsets.

`Listener(rate)` takes the last `WINDOW` samples (mono float32, -1..1) at each frame and gives five
features, each 0..1: `level` (RMS in dBFS, -60..0 dB mapped to 0..1), `bass` (20-250 Hz), `mid`
(250-2000 Hz) and `treble` (2-12 kHz), each the band's RMS in dBFS mapped the same way (a
full-scale sine in the band reads -3 dB, 0.95), and `onset` (spectral flux: the share of the
spectrum's magnitude that is new since the previous frame, 0 while the level is under -60 dB).
A Hann window and one real FFT a frame; nothing here depends on wall-clock time, so a render's
features repeat exactly.
"""

from __future__ import annotations

import numpy as np

WINDOW = 2048  # samples: 43 ms at 48 kHz, a little more than a frame at 30 fps
BANDS = {"bass": (20.0, 250.0), "mid": (250.0, 2000.0), "treble": (2000.0, 12000.0)}
FEATURES = ("level", "bass", "mid", "treble", "onset")
FLOOR_DB = -60.0


def scaled(rms: float) -> float:
    """An RMS level, -60..0 dBFS mapped onto 0..1."""
    db = 20 * np.log10(max(rms, 1e-12))
    return float(np.clip((db - FLOOR_DB) / -FLOOR_DB, 0.0, 1.0))


class Listener:
    def __init__(self, rate: int = 48000):
        self.rate = rate
        self.hann = np.hanning(WINDOW).astype(np.float32)
        self.power = float((self.hann**2).sum())
        freqs = np.fft.rfftfreq(WINDOW, 1.0 / rate)
        self.bins = {name: (freqs >= low) & (freqs < high) for name, (low, high) in BANDS.items()}
        self.previous: np.ndarray | None = None

    def hear(self, samples: np.ndarray) -> dict[str, float]:
        """The last WINDOW samples (fewer are padded with silence before them) -> the five features."""
        window = np.zeros(WINDOW, np.float32)
        tail = np.asarray(samples, np.float32)[-WINDOW:]
        window[WINDOW - len(tail) :] = tail
        level = float(np.sqrt(np.mean(window.astype(np.float64) ** 2)))
        spectrum = np.abs(np.fft.rfft(window * self.hann))
        out = {"level": scaled(level)}
        for name, bins in self.bins.items():  # Parseval: the band's share of the windowed signal's energy, as RMS
            out[name] = scaled(float(np.sqrt(2 * np.sum(spectrum[bins] ** 2) / WINDOW / self.power)))
        new = 0.0 if self.previous is None else float(np.maximum(spectrum - self.previous, 0).sum())
        out["onset"] = 0.0 if out["level"] <= 0.0 else float(min(1.0, new / (spectrum.sum() + 1e-12)))
        self.previous = spectrum
        return out

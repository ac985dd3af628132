"""A clip's sound carried into the MP4 we write: copied where players take that codec in MP4, else AAC.

`AudioTrack` reads the first audio stream of a source file and adds it to an output container;
the writer calls `mux_until(seconds)` after each picture so sound and pictures interleave, and
`finish()` at the end, so the output's sound runs as long as the input's. AAC takes rates up to
96 kHz: faster sound (192 kHz PCM, say) is resampled to 48 kHz. `check_sound(path)` carries the
first seconds into a throwaway MP4 in memory, so a render finds out before dreaming, not after.
"""

from __future__ import annotations

import logging
from pathlib import Path

from realtime.errors import UserError

log = logging.getLogger("deepdream.video")
# Codecs MP4 players (browsers, headsets' players, editors) play. FFmpeg muxes more into MP4 (PCM,
# Vorbis), but few players read those there, so they are converted to AAC instead.
PLAYABLE_IN_MP4 = {"aac", "mp3", "ac3", "eac3"}
AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000)


def aac_rate(rate: int | None) -> int:
    """The source's rate where AAC takes it, else 48 kHz (the encoder resamples to it)."""
    return rate if rate in AAC_RATES else 48000


def check_sound(source: Path, seconds: float = 2.0) -> None:
    """The first `seconds` of the source's sound carried into an MP4 in memory: a UserError now,
    naming the problem, rather than after every frame was dreamed."""
    import io

    import av

    with av.open(io.BytesIO(), "w", format="mp4") as trial:
        track = AudioTrack(source, trial)
        try:
            track.mux_until(seconds)
            track.finish_encoder()
        except (av.FFmpegError, ValueError) as exc:
            raise UserError(f"cannot carry the sound of {source} into an MP4: {exc}") from None
        finally:
            track.close()


class AudioTrack:
    def __init__(self, source: Path, output):
        import av

        try:
            self.input = av.open(str(source))
        except (av.FFmpegError, OSError) as exc:
            raise UserError(f"cannot read the sound of {source}: {exc}") from None
        self.source, self.encoder, self.out = self.input.streams.audio[:1], None, None
        if not self.source:
            log.info("%s has no sound", source)
            return
        self.source = self.source[0]
        name = self.source.codec_context.codec.canonical_name  # "mp3", where the decoder is "mp3float"
        try:
            if name in PLAYABLE_IN_MP4 and name in output.supported_codecs:
                self.out = output.add_stream_from_template(self.source)
                log.info("sound: %s copied from %s", name, source)
            else:
                self.out = self.encoder = output.add_stream("aac", rate=aac_rate(self.source.rate))
                self.encoder.layout = self.source.layout
                log.info("sound: %s from %s converted to AAC at %d Hz", name, source, self.encoder.rate)
        except (av.FFmpegError, ValueError) as exc:
            self.input.close()
            raise UserError(f"cannot carry the sound of {source} ({name}) into an MP4: {exc}") from None
        self.packets = self.input.demux(self.source)
        self.done = False
        self.pending = None  # a packet read past the current picture's time, muxed later

    def mux_until(self, seconds: float) -> None:
        """Mux the sound that starts before `seconds` (no-op without sound)."""
        while self.out is not None and not self.done:
            packet = self.pending or next(self.packets, None)
            self.pending = None
            if packet is None:
                self.done = True
                return
            if packet.dts is None:  # the demuxer's empty flush packet
                continue
            if packet.pts is not None and packet.pts * packet.time_base >= seconds:
                self.pending = packet
                return
            self._mux(packet)

    def _mux(self, packet) -> None:
        container = self.out.container
        if self.encoder is None:
            packet.stream = self.out
            container.mux(packet)
            return
        for frame in self.source.decode(packet):
            container.mux(self.encoder.encode(frame))

    def finish(self) -> None:
        """All the remaining sound, and the encoder's last frames."""
        self.mux_until(float("inf"))
        self.finish_encoder()

    def finish_encoder(self) -> None:
        if self.encoder is not None:
            self.encoder.container.mux(self.encoder.encode(None))

    def close(self) -> None:
        self.input.close()

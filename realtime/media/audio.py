"""A clip's sound carried into the MP4 we write: copied where players take that codec in MP4, else AAC.

`AudioTrack` reads the first audio stream of a source file and adds it to an output container;
the writer calls `mux_until(seconds)` after each picture so sound and pictures interleave, and
`finish()` at the end, so the output's sound runs as long as the input's.
"""
from __future__ import annotations

import logging
from pathlib import Path

from realtime.errors import UserError

log = logging.getLogger("deepdream.video")
# Codecs MP4 players (browsers, headsets' players, editors) play. FFmpeg muxes more into MP4 (PCM,
# Vorbis), but few players read those there, so they are converted to AAC instead.
PLAYABLE_IN_MP4 = {"aac", "mp3", "ac3", "eac3"}


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
        name = self.source.codec_context.name
        if name in PLAYABLE_IN_MP4 and name in output.supported_codecs:
            self.out = output.add_stream_from_template(self.source)
            log.info("sound: %s copied from %s", name, source)
        else:
            self.out = self.encoder = output.add_stream("aac", rate=self.source.rate or 48000)
            self.encoder.layout = self.source.layout
            log.info("sound: %s from %s converted to AAC", name, source)
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
        if self.encoder is not None:
            self.encoder.container.mux(self.encoder.encode(None))

    def close(self) -> None:
        self.input.close()

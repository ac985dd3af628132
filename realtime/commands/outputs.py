"""Where `live` shows a frame: window, recording, pipe, virtual camera, other programs (NDI, Spout, Syphon),
HTTP viewer, key/OSC recorder, watchdog heartbeat, and the frame log, opened together and closed together.
If one fails to open, those opened before it are closed (a recording's temporary file removed) before the
error goes on.
`check_outputs` refuses, before any work, an output that would overwrite an input or another output.
"""

from __future__ import annotations

import os
from pathlib import Path

from realtime.errors import UserError


class Outputs:
    """Every place a shown frame goes (window, recording, pipe, virtual camera, HTTP, recorder,
    heartbeat) and the frame log, opened together and closed together."""

    def __init__(self, options, settings, fps: float, display: tuple[int, int], exact: bool = False):
        """`exact`: recordings are exact files (realtime.media.video), for a run that must repeat."""
        self.sinks, self.window, self.server, self.publish, self.frame_log = [], None, None, None, None
        self.hub = None  # the HTTP server's, with --serve: the control page is wired to it once the show exists
        self.heartbeat = None  # the watchdog's, when supervised
        try:
            self._open(options, settings, fps, display, exact)
        except BaseException:  # a later output failed: what opened first leaves nothing behind
            quietly(self.close)
            raise

    def _open(self, options, settings, fps: float, display: tuple[int, int], exact: bool) -> None:
        from realtime.media.recorder import Recorder
        from realtime.media.sinks import PipeSink, VideoSink, VirtualCamSink, WindowSink
        from realtime.media.video import VideoFormat

        w, h = display
        shown = (w * 2, h) if options.stereo else (w, h)
        self.present = presenter(options, settings.size, display)
        video_format = VideoFormat(
            crf=options.crf, spherical=settings.wrap, stereo=options.stereo, exact=exact, lossless=lossless(options)
        )
        if options.headless:
            os.environ["SDL_VIDEODRIVER"] = "dummy"
        else:
            vsync = getattr(options, "vsync", False)
            self.window = WindowSink(options.window or (shown[0] * 2, shown[1] * 2), options.fullscreen, vsync=vsync)
            self.sinks.append(self.window)
        if options.record is not None:
            from realtime.media.diskguard import DiskGuard

            self.sinks.append(DiskGuard(VideoSink(options.record, fps, shown, video_format), options.min_free_mb))
        if options.pipe:
            self.sinks.append(PipeSink())
        if options.virtualcam:
            self.sinks.append(VirtualCamSink(shown, fps))
        self._share(options, shown, fps)
        if options.serve:
            self._serve(options, settings)
        self.recorder = Recorder(options.snapshots, fps, shown, None, options.min_free_mb, video_format)
        self.sinks.append(self.recorder)
        if options.heartbeat is not None:
            from realtime.run.watchdog import Heartbeat

            self.heartbeat = Heartbeat(options.heartbeat)
            self.sinks.append(self.heartbeat)
        if options.log is not None:
            from realtime.run.framelog import FrameLog

            self.frame_log = FrameLog(options.log)

    def _share(self, options, shown: tuple[int, int], fps: float) -> None:
        """Frames to other programs: NDI across the network, Spout or Syphon on this computer."""
        if options.ndi is not None:
            from realtime.media.ndi import NdiSink

            self.sinks.append(NdiSink(options.ndi, shown, fps))
        if options.spout is not None:
            from realtime.media.texture_share import SpoutSink

            self.sinks.append(SpoutSink(options.spout))
        if options.syphon is not None:
            from realtime.media.texture_share import SyphonSink

            self.sinks.append(SyphonSink(options.syphon, shown))

    def _serve(self, options, settings) -> None:
        from realtime.addresses import parse_address
        from realtime.media.serve import FrameHub, ServeSink, start_server

        self.hub = hub = FrameHub()
        hub.status.update(  # the viewer page draws a sphere, or one picture per eye; /metrics counts restarts
            projection="equirectangular" if settings.wrap else "flat", stereo=options.stereo, run=options.run
        )
        self.server = start_server(hub, *parse_address(options.serve, "--serve"), options.token)
        self.sinks.append(ServeSink(hub))
        self.publish = hub.publish_status

    def close(self) -> None:
        """Close the frame log, the server, and the sinks still in `sinks`: the loop empties that list as it
        closes them (realtime.run.closing.running), so only a run that never reached the loop leaves any.
        Each closes even when one before it raised."""
        from realtime.run.closing import close_all

        closes = [sink.close for sink in self.sinks]
        self.sinks.clear()  # closed once: a recording closed twice would lose its file
        if self.frame_log is not None:
            closes.append(self.frame_log.close)
        if self.server is not None:
            closes.append(self.server.shutdown)
        close_all(closes)


def check_outputs(options) -> None:
    """Refuse, before any work, a recording named as neither format (.mp4: H.264; .mkv: lossless FFV1) and an
    output that is an input or another output."""
    if options.record is not None and options.record.suffix.lower() not in (".mp4", ".mkv"):
        raise UserError(
            f"--record {options.record}: give a name ending in .mp4 (H.264) or .mkv (lossless: every pixel as shown)"
        )
    inputs = {
        "--model": options.models,
        "--guide": (options.guide,),
        "--config": (options.config,),
        "--source": (Path(options.source),),
        "--fallback": (Path(options.fallback or ""),),
        "--audio": (Path(options.audio or ""),),
    }
    taken = {p.resolve(): flag for flag, paths in inputs.items() for p in paths if p is not None and p.is_file()}
    outputs = {
        "--record": options.record,
        "--log": options.log,
        "--stats": options.stats,
        "--event-log": options.event_log,
        "--snapshots": options.snapshots,
    }
    for flag, path in outputs.items():
        if path is None:
            continue
        if path.resolve() in taken:
            raise UserError(
                f"{flag} {path} is the {taken[path.resolve()]} file; it would be overwritten: choose another name"
            )
        taken[path.resolve()] = flag
    from realtime.media.recorder import check_folder

    check_folder(options.snapshots)
    check_sharing(options)


def lossless(options) -> bool:
    """Whether recordings are lossless FFV1 in Matroska (--record FILE.mkv: a lab's kept stimulus) rather than H.264."""
    return options.record is not None and options.record.suffix.lower() == ".mkv"


def check_sharing(options) -> None:
    """Refuse, before any work, a bad --ndi/--spout/--syphon name, the wrong OS, or NDI not installed."""
    from realtime.media.ndi import check_name, load_cyndilib
    from realtime.media.texture_share import check_sharing as check_texture

    if options.ndi is not None:
        check_name(options.ndi)
        load_cyndilib()
    for kind in ("spout", "syphon"):
        if getattr(options, kind) is not None:
            check_texture(kind, getattr(options, kind))  # found out now, not when someone presses `s` at the opening


def presenter(options, processing: tuple[int, int], display: tuple[int, int]):
    """What turns a frame at the display size into what the sinks get (both eyes); with --sync a
    dream at the processing size is first scaled to --display-size."""
    from realtime.media.sinks import side_by_side

    eyes = side_by_side(options.disparity) if options.stereo else None
    if not (options.sync and display != processing):
        return eyes
    from realtime.dream.reproject import fit

    return lambda frame: fit(frame, display) if eyes is None else eyes(fit(frame, display))


def quietly(close) -> None:
    try:
        close()
    except Exception:  # the error being raised already says what went wrong
        pass

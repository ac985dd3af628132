"""`deepdream live` in the asynchronous mode (the default): the dream worker beside the display path.

`display_size` decides what the outputs show (the source's size, capped at 1920x1080, unless
--display-size says; with --sync the processing size, as before); `run_async_live` builds the
proxy, worker and display path around an opened stream and outputs and runs the loop
(realtime.run.async_loop); `report` logs the summary of either mode.
"""
from __future__ import annotations

import logging
import os

from realtime.dream.params import MIN_SIDE

log = logging.getLogger("deepdream.live")


def display_size(asked, sync: bool, source, processing: tuple[int, int]) -> tuple[int, int]:
    if asked is not None:
        return asked
    return processing if sync else capped(source_size(source, processing))


SPIN_US = 1000  # onnxruntime's idle threads spin this long, then sleep (realtime.dream.engine)


def beside_display(below: bool) -> dict:
    """Engine options for a dream beside the display path. `below`: it runs at a lower priority than the
    display (built with realtime.run.system.lowered): onnxruntime's default threads (on 2 cores,
    1.3-1.4x the dreams of one thread); else one core left to the display and capture.

    Idle pool threads spin for SPIN_US, then sleep. Sleeping at once costs a wake-up per operator:
    on the 2-core VM, alone, a 640x360 step took 431 ms sleeping at once, 384 spinning 1 ms and 386
    spinning as long as onnxruntime likes. Beside the display path, where an operator waits for
    whichever thread the display preempted, spinning 1 ms gave 1.00x-1.06x the steps of sleeping
    at once and 0.3 ms 0.96x-1.09x (in-process alternations at 640x360 and 320x240): 1 ms, as good
    beside the display and as fast alone. Measured in one process, steps alternating between
    engines (these VMs drift too much for runs in turn to show a few per cent)."""
    threads = 0 if below else max(1, (os.cpu_count() or 2) - 1)
    return {"threads": threads, "spin_us": SPIN_US}


def run_async_live(options, stream, playlist, outputs, reader, controls, fps: float, display, wire=None):
    """`wire(show)` is told the show once it exists (the control page is wired to it)."""
    from realtime.run.async_loop import run_async
    from realtime.run.display import DisplayPath
    from realtime.steer.show import Show
    from realtime.run.worker import DreamWorker, StreamProxy

    proxy = StreamProxy(stream)
    show = Show(proxy, playlist, outputs.recorder, outputs.window)
    if wire is not None:
        wire(show)
    settings = stream.figures().settings
    path = DisplayPath(settings.size, display, options.dream_fade, settings.flow, settings.wrap)
    log.info("dreaming at %dx%d beside the display at %dx%d (with --sync each frame would wait for its dream)",
             *settings.size, *display)
    worker = DreamWorker(stream, proxy)
    if outputs.heartbeat is not None:  # frames keep coming while a dream is stuck: the watchdog sees that too
        outputs.heartbeat.watch(worker)
    stats = run_async(reader, show, worker, path, outputs.sinks, outputs.window, options.frames, outputs.present,
                      outputs.frame_log, controls, outputs.publish, fps)
    return show, stats


def report(summary: dict) -> None:
    if "dream_hz" in summary:
        log.info("%d frames, %.1f fps shown, %.1f dreams/s, %.0f ms/step, latency p50 %.0f ms p95 %.0f ms, "
                 "dream age p50 %.0f ms, %d camera frames dropped", summary["frames"], summary["fps"],
                 summary["dream_hz"], summary["ms_per_step"], summary["latency_ms"]["p50"],
                 summary["latency_ms"]["p95"], summary["dream_age_ms"]["p50"], summary["dropped_frames"])
        return
    log.info("%d frames, %.1f fps, %.0f ms/step, latency p50 %.0f ms p95 %.0f ms", summary["frames"], summary["fps"],
             summary["ms_per_step"], summary["latency_ms"]["p50"], summary["latency_ms"]["p95"])


def source_size(source, fallback: tuple[int, int]) -> tuple[int, int]:
    """A source's frame size (width, height), as far as it tells before the first frame."""
    if getattr(source, "size", None):
        return tuple(source.size)
    if getattr(source, "image", None) is not None:
        return source.image.shape[1], source.image.shape[0]
    cap = getattr(source, "cap", None)
    if cap is not None:
        import cv2

        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if min(w, h) >= MIN_SIDE:
            return w, h
    return fallback


def capped(size: tuple[int, int], limit: tuple[int, int] = (1920, 1080)) -> tuple[int, int]:
    """Scaled down, keeping its shape, to fit within `limit` (a 4K camera shown at 1080p)."""
    scale = min(1.0, limit[0] / size[0], limit[1] / size[1])
    return max(MIN_SIDE, round(size[0] * scale)), max(MIN_SIDE, round(size[1] * scale))



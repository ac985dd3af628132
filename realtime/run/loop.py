"""The live loop: source -> step -> sinks, until the source ends, N frames, a quit key or Ctrl-C.

It knows nothing of providers, bindings or threads: it takes frames from a `Latest` reader, lets the
show steer (`tick`, the outside controls), hands the frame to its step (realtime.run.steps: dreamed
inline, or shown beside the dream's thread), writes to every sink, hands key and OSC commands to the
show, and keeps the figures that `--stats` writes (realtime.run.loop_stats; the step adds its own).
Outside the show's hours (`hours`, realtime.run.rest) the sinks get the rest picture and the step
is not called; at opening it restarts, with no feedback from before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from realtime.dream.kinds import Stream
from realtime.media.kinds import Sink
from realtime.media.sources import Frame, Latest
from realtime.run.closing import running
from realtime.run.director import Director, Flipped
from realtime.run.loop_stats import LoopStats
from realtime.run.steps import Inline, Step
from realtime.run.turn import Turn

if TYPE_CHECKING:
    from realtime.media.sinks import WindowSink
    from realtime.run.framelog import FrameLog
    from realtime.run.rest import Hours
    from realtime.steer.controls import Controls
    from realtime.steer.show import Show

log = logging.getLogger("deepdream.live")


def run(
    reader: Latest,
    show: Show,
    sinks: list[Sink],
    window: WindowSink | None = None,
    max_frames: int = 0,
    present: Callable[[np.ndarray], np.ndarray] | None = None,
    frame_log: FrameLog | None = None,
    controls: Controls | None = None,
    publish: Callable[[dict[str, Any]], None] | None = None,
    fps: float = 30.0,
    step: Step | None = None,
    hours: Hours | None = None,
    director: Director | None = None,
    flipped: tuple[Flipped, ...] = (),
) -> LoopStats:
    """Run until done; the step, then every sink (the recorder among them) is closed on the way out.

    `step` makes each frame's picture (default: `Inline(show.stream)`, the dream on this thread);
    `present` turns it into what the sinks show (side-by-side stereo, say); `controls`
    (realtime.steer.controls.Controls) brings OSC, the control page, MIDI and the sound's modulation,
    applied before each frame (`fps`: the source's, for the sound's timing and a lost camera's pace);
    `publish(status)` hears the show's figures after every frame (the HTTP viewer and the control page);
    `hours`: the show's schedule, outside which the sinks get its rest picture and nothing is dreamed;
    `director` (realtime.run.director): a protocol that leads the run and takes the keys, until it finishes;
    `flipped`: told of every picture shown, when it went up."""
    step = inline(show) if step is None else step
    stats = LoopStats(step=step)
    turn = Turn(reader, show, sinks, step, stats, window, present, frame_log, controls, fps, hours, director, flipped)
    with running(stats, sinks, step.close):
        for frame, t0 in frames(reader, stats, max_frames):
            turn(frame, t0)
            going = led(director, show, stats, window, publish) if director else steer(show, stats, window, publish)
            if not going:
                break
    return stats


def inline(show: Show) -> Step:
    """The step when none is given: the dream on this thread, by the stream the show steers. A show steered
    through a proxy (beside the display) cannot dream a frame itself: its step must come with it."""
    if not callable(show.stream):
        raise TypeError(f"the show steers a {type(show.stream).__name__}, which cannot dream: give run() its step")
    return Inline(cast(Stream, show.stream))


def frames(reader: Latest, stats: LoopStats, max_frames: int = 0) -> Iterator[tuple[Frame, float]]:
    """(frame, time asked) from the reader until it ends or `max_frames` were shown; a camera lost
    and back is said once each way, and every lost frame counted."""
    was_lost = False
    while not max_frames or stats.frames < max_frames:
        t0 = time.perf_counter()
        frame = reader.get()
        if frame is None:
            return
        if frame.lost != was_lost:
            log.warning("camera lost: showing the last frame, reconnecting" if frame.lost else "camera back")
            was_lost = frame.lost
        stats.lost_frames += frame.lost
        yield frame, t0


def steer(
    show: Show,
    stats: LoopStats,
    window: WindowSink | None,
    publish: Callable[[dict[str, Any]], None] | None,
) -> bool:
    """After a frame: the show's figures out, keys in; False when a key says quit."""
    if publish is not None:
        publish(show.status(stats))
    return window is None or all(show.key(c) for c in window.commands())


def led(
    director: Director,
    show: Show,
    stats: LoopStats,
    window: WindowSink | None,
    publish: Callable[[dict[str, Any]], None] | None,
) -> bool:
    """After a frame of a directed run: the keys are the director's; False once it has finished."""
    for command in window.commands() if window is not None else []:
        director.key(command)
    if publish is not None:
        publish(show.status(stats))
    return not director.finished

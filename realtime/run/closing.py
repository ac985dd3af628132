"""How a run ends: every sink, the step and the loop's clock closed, each even when one before it raised.

Ctrl-C or a vanished --pipe reader end a loop quietly; what was written is finished, never lost to a close
that raised before it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from realtime.media.kinds import Sink
from realtime.run.loop_stats import LoopStats

log = logging.getLogger("deepdream.live")


@contextmanager
def running(stats: LoopStats, sinks: list[Sink], *also_close: Callable[[], None]) -> Iterator[None]:
    """A loop's run: Ctrl-C or a vanished --pipe reader end it quietly; the stats' clock stops, then
    `also_close` and the sinks close, each one even when one before it raised. The list of sinks is
    emptied as they close: what a caller finds left in it was never closed."""
    try:
        yield
    except KeyboardInterrupt:
        log.info("interrupted: closing")
    except BrokenPipeError:
        log.info("the program reading --pipe has gone: closing")
    finally:
        stats.stop()
        closes = [*also_close, *(sink.close for sink in sinks)]
        sinks.clear()  # closed once: a recording closed twice would lose its file
        close_all(closes)


def close_all(closes: list[Callable[[], None]]) -> None:
    """Call each in order, every one even when one raises (the last error goes on, the others chained to it)."""
    with ExitStack() as stack:
        for close in reversed(closes):  # the stack calls them last in, first out
            stack.callback(close)

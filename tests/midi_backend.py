"""A mido backend for the tests (MIDO_BACKEND=midi_backend, with tests/ on PYTHONPATH): one input port that
plays the messages of the file DEEPDREAM_TEST_MIDI names, then waits, as an idle controller does.

The file holds one message a line in mido's text form (`control_change channel=1 control=21 value=127`);
a blank line ends a batch: each batch is what one look at the port finds (`iter_pending()` once a frame in a
show), so a test knows which frame saw which message without timing anything. DEEPDREAM_TEST_MIDI_VIRTUAL=no
makes the backend refuse virtual ports, as PortMidi and Windows do.
"""

import os

import mido
from mido.ports import BaseInput

NAME = "Test Controller"


def get_devices(**kwargs):
    return [{"name": NAME, "is_input": True, "is_output": False}]


def batches(path):
    """The file's messages, batch by batch."""
    batch = []
    for line in open(path).read().splitlines() + [""]:
        if line.strip():
            batch.append(mido.Message.from_str(line.strip()))
        elif batch:
            yield batch
            batch = []


class Input(BaseInput):
    def _open(self, virtual=False, callback=None, **kwargs):
        if virtual and os.environ.get("DEEPDREAM_TEST_MIDI_VIRTUAL") == "no":
            raise ValueError("virtual ports are not supported by the test backend")
        if not virtual and self.name != NAME:
            raise OSError(f"unknown port {self.name!r}")
        self._batches = batches(os.environ["DEEPDREAM_TEST_MIDI"])
        self._pending = []

    def _receive(self, block=True):
        """The next message of this batch; None once at its end (the look is over), then the next batch."""
        if self._pending:
            return self._pending.pop(0)
        self._pending = next(self._batches, [])
        return None

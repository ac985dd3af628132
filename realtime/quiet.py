"""Libraries' own lines kept out of a command's output: what C libraries print depends on the machine.

TensorFlow, XLA and absl write banners from C++ straight to file descriptor 2 ("This TensorFlow binary
is optimized to use...", "All log messages before absl::InitializeLog()..."), whatever
TF_CPP_MIN_LOG_LEVEL a user's shell sets; ALSA prints "ALSA lib seq_hw.c..." where a machine has no
MIDI system; Python libraries add warnings. `only_our_lines()` sends descriptor 2 to a temporary file
while the work runs and gives Python's `sys.stderr` (where our own lines go) the real one; if the work
fails with an error that is not the user's to fix, what the libraries said is replayed after it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from contextlib import contextmanager

from realtime.errors import UserError


@contextmanager
def only_our_lines():
    sys.stderr.flush()
    real = os.dup(2)
    python_stderr = sys.stderr
    with tempfile.TemporaryFile() as said, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        os.dup2(said.fileno(), 2)
        sys.stderr = open(
            real, "w", buffering=1, closefd=False, encoding=python_stderr.encoding or "utf-8", errors="backslashreplace"
        )
        try:
            yield
        except (UserError, KeyboardInterrupt):
            raise
        except BaseException:
            said.seek(0)
            os.write(real, said.read()[-20_000:])  # the libraries' last words, before the traceback
            raise
        finally:
            sys.stderr.flush()
            sys.stderr = python_stderr
            os.dup2(real, 2)
            os.close(real)

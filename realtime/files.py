"""Writing files so that a failure never leaves half a file or clobbers the old one."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

from realtime.errors import UserError


def check_writable(path: Path, make_parent: bool = False, replacing: str = "replacing existing {path}") -> None:
    """Fail before any work, not after it, if `path` cannot be written (creating its folder if asked).

    Every command replaces an existing output (atomically, at the end) and says so here, in one line:
    the same rule everywhere; an output that is one of the inputs is refused by the command."""
    if path.is_dir():
        raise UserError(f"output {path} is a directory; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    blocking = next((p for p in (parent, *parent.parents) if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise UserError(f"cannot write {path}: {blocking} is a file, not a folder")
    try:
        if make_parent:
            parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".probe-"):
            pass
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    if path.exists():
        print(replacing.format(path=path), file=sys.stderr, flush=True)


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it into place. A device or a pipe
    (/dev/stdout, a FIFO) is written as it is: renaming over it would replace the device. A link is
    followed (the file it names is replaced, the link stays) and a replaced file keeps its permissions
    (a config holding a token stays as private as its owner made it)."""
    if path.is_symlink():
        path = path.resolve()
    if path.exists() and not path.is_file():
        try:
            with open(path, "wb") as fh:
                fh.write(data)
            return
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    parent = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:  # a read-only folder, a name too long for the system
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if path.is_file():
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        else:
            make_shareable(Path(tmp))
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):  # a full disk, a quota, a vanished folder: the user's to fix
            raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


def make_shareable(path: Path) -> None:
    """Give a mkstemp file (created 0600) the permissions a plain open() would have."""
    umask = os.umask(0o022)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)

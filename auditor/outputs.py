"""Writing an output file so that a crash, a full disk or a link never leaves it half-written.

Every file vnet-audit writes goes through `write_atomic`: the data goes to a temporary file in
the destination's directory, is flushed to disk, then renamed over the destination in one step.
A failure leaves the previous file as it was. Errors are OSErrors naming the destination, which
the command line turns into one line and exit 2.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path


def write_atomic(path: Path | str, data: bytes) -> None:
    """Replace `path` with `data`, or raise an OSError naming `path` and leave it untouched."""
    path = Path(path)
    if path.is_symlink():
        # A link planted where a report goes could redirect the write anywhere the user can write.
        raise OSError(errno.ELOOP, "is a symbolic link; not writing through it", str(path))
    try:
        _replace(path, data)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc


def _replace(path: Path, data: bytes) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, _mode_for(path))  # mkstemp makes 0600; keep what a plain write would give
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable; not every platform can open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

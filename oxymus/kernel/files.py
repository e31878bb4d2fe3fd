"""Durable file writes: the one atomic replace and the one folder fsync (stdlib only).

`write_atomic` puts bytes in a temporary file in the same folder, flushes it to disk,
gives it the right mode and renames it over the target, then makes the rename durable
with `fsync_dir`. A reader sees the old bytes or the new ones, never half of either.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from typing import Callable

__all__ = ["default_mode", "fsync_dir", "fsync_path", "write_atomic"]


def default_mode() -> int:
    """The mode a plain `open(path, "w")` would give a new file under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def fsync_path(path: str | os.PathLike) -> None:
    """Flush a file or a folder to disk; an error is raised."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: str | os.PathLike) -> None:
    """Make a rename in `folder` durable, where the platform allows opening a folder; never raises."""
    with contextlib.suppress(OSError):
        fsync_path(folder)


def write_atomic(path: str | os.PathLike, data: bytes, *, mode: int | None = None,
                 before_replace: Callable[[], None] | None = None) -> None:
    """Replace the file at `path` with `data` atomically.

    Through a symlink the link's target is written (the link stays). The new file gets
    `mode`, else the existing file's mode, else the mode a new file gets under the umask.
    `before_replace`, when given, runs after the bytes are on disk and just before the
    rename: raising there leaves the target untouched. The temporary file never outlives
    a failure.
    """
    real = os.path.realpath(path)
    folder, name = os.path.split(real)
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(real).st_mode)
        except FileNotFoundError:
            mode = default_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".oxymus-tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if before_replace is not None:
            before_replace()
        os.replace(tmp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)

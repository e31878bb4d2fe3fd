"""Replacing a file's bytes atomically, keeping its mode, never over bytes we did not read."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile

from oxymus.plans.errors import PlansConflict, PlansError
from oxymus.plans.lines import sha256


def read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise PlansError(path, None, f"cannot read: {exc.strerror or exc}") from None


def write_atomic(path: str, data: bytes, expected_sha256: str) -> None:
    """Replace the file at `path` (through symlinks) with `data`.

    The bytes go to a temporary file in the same folder, which gets the original's
    mode, is flushed to disk, and is renamed over the original. Just before the
    rename the original is read once more: if it is no longer the version with
    `expected_sha256`, nothing is replaced and PlansConflict is raised.
    """
    real = os.path.realpath(path)
    folder, name = os.path.split(real)
    try:
        mode = stat.S_IMODE(os.stat(real).st_mode)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".oxymus-tmp", dir=folder)
    except OSError as exc:
        raise PlansError(path, None, f"cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        actual = sha256(read(real))
        if actual != expected_sha256:
            raise PlansConflict(path, expected_sha256, actual)
        os.replace(tmp, real)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise PlansError(path, None, f"cannot write: {exc.strerror or exc}") from None
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable, where the platform allows opening a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

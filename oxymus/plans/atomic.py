"""Replacing a file's bytes atomically, keeping its mode, never over bytes we did not read."""

from __future__ import annotations

import os
import stat

from oxymus.kernel import files
from oxymus.plans.errors import PlansConflict, PlansError
from oxymus.plans.lines import sha256


def read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise PlansError(path, None, f"cannot read: {exc.strerror or exc}") from None


def write_atomic(path: str, data: bytes, expected_sha256: str) -> None:
    """Replace the file at `path` (through symlinks) with `data`, keeping its mode.

    Just before the rename the original is read once more: if it is no longer the
    version with `expected_sha256`, nothing is replaced and PlansConflict is raised.
    """
    real = os.path.realpath(path)

    def unchanged() -> None:
        actual = sha256(read(real))
        if actual != expected_sha256:
            raise PlansConflict(path, expected_sha256, actual)

    try:
        mode = stat.S_IMODE(os.stat(real).st_mode)
        files.write_atomic(real, data, mode=mode, before_replace=unchanged)
    except OSError as exc:
        raise PlansError(path, None, f"cannot write: {exc.strerror or exc}") from None

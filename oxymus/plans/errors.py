"""The two errors of the plans package; str() is the one message shown to the user."""

from __future__ import annotations


class PlansError(Exception):
    """A plans file Oxymus cannot read or edit as asked: names the file and, when known, the line."""

    def __init__(self, path: str, line: int | None, message: str):
        self.path, self.line, self.message = path, line, message
        where = path + (f":{line}" if line else "")
        super().__init__(f"{where}: {message}")


class PlansConflict(PlansError):
    """The file's bytes are not the ones the caller parsed: it changed since it was read."""

    def __init__(self, path: str, expected_sha256: str, actual_sha256: str):
        self.expected_sha256, self.actual_sha256 = expected_sha256, actual_sha256
        super().__init__(
            path,
            None,
            f"changed since it was read (expected sha256 {expected_sha256[:12]}…, found {actual_sha256[:12]}…); "
            "read it again before editing",
        )

"""Linux inotify through ctypes: one descriptor, many watches, events read without blocking.

The standard library has no binding and the job is four system calls. Used by the
daemon to notice database writes (`daemon/file_changes.py`) and by the git source to
know which repositories did not change since they were last asked. Stdlib only.

`Inotify.open()` is None where inotify is missing (not Linux, no libc symbol, the
per-user instance limit reached), so every caller keeps a fallback.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import struct
import sys
from dataclasses import dataclass

IN_ACCESS = 0x001
IN_MODIFY = 0x002
IN_ATTRIB = 0x004
IN_CLOSE_WRITE = 0x008
IN_MOVED_FROM = 0x040
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_ONLYDIR = 0x01000000
IN_DONT_FOLLOW = 0x02000000
IN_ISDIR = 0x40000000

# Everything that changes what a directory holds or what its files say (not reads).
CHANGES = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
           | IN_DELETE_SELF | IN_MOVE_SELF)

_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of NUL-padded name


@dataclass(frozen=True)
class Event:
    wd: int  # -1 for a queue overflow
    mask: int
    name: str

    @property
    def overflow(self) -> bool:
        return bool(self.mask & IN_Q_OVERFLOW)


def parse(data: bytes) -> list[Event]:
    """The events in a buffer read from an inotify descriptor."""
    events: list[Event] = []
    at = 0
    while at + _EVENT.size <= len(data):
        wd, mask, _cookie, length = _EVENT.unpack_from(data, at)
        at += _EVENT.size
        events.append(Event(wd, mask, os.fsdecode(data[at:at + length].rstrip(b"\0"))))
        at += length
    return events


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.inotify_init1, libc.inotify_add_watch, libc.inotify_rm_watch  # noqa: B018 - present?
    except (OSError, AttributeError):
        return None
    return libc


class Inotify:
    """One non-blocking, close-on-exec inotify descriptor (`fd`)."""

    def __init__(self, libc, fd: int):
        self._libc = libc
        self.fd = fd

    @classmethod
    def open(cls) -> tuple[Inotify | None, str]:
        """A descriptor, or None and why not (for the log line that names the fallback)."""
        libc = _libc()
        if libc is None:
            return None, "inotify is not available on this system"
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            return None, f"inotify unavailable: {os.strerror(ctypes.get_errno())}"
        return cls(libc, fd), ""

    def add(self, path: str | os.PathLike, mask: int) -> int:
        """Watch `path`; the watch descriptor. OSError (ENOSPC: fs.inotify.max_user_watches reached)."""
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(path), mask)
        if wd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), os.fspath(path))
        return wd

    def remove(self, wd: int) -> None:
        self._libc.inotify_rm_watch(self.fd, wd)  # a watch already gone (its folder deleted) is fine

    def read(self) -> list[Event]:
        """Every event queued now; never blocks."""
        events: list[Event] = []
        while True:
            try:
                data = os.read(self.fd, 256 * 1024)
            except BlockingIOError:
                return events
            except InterruptedError:
                continue
            except OSError as exc:
                if exc.errno == errno.EAGAIN:
                    return events
                raise
            if not data:
                return events
            events.extend(parse(data))

    def close(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

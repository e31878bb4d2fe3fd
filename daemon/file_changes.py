"""Wake when some files in one directory change: inotify on Linux, a slow stat poll elsewhere.

The daemon learns of other processes' database writes (an `oxymus capture` made
while it was unreachable, a restore) from this instead of asking SQLite four times
a second: an idle daemon should not wake at all. inotify is reached through ctypes
because the standard library has no binding and the job is three system calls.

Only names in one directory are watched, not the files themselves, so a file that
is replaced (a restore renames a new database into place) is still followed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import errno
import logging
import os
import struct
import sys

log = logging.getLogger("oxymus.daemon.file_changes")

_IN_MODIFY = 0x002
_IN_CLOSE_WRITE = 0x008
_IN_MOVED_TO = 0x080
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_Q_OVERFLOW = 0x4000
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC
_MASK = _IN_MODIFY | _IN_CLOSE_WRITE | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of NUL-padded name


def _inotify_fd(directory: str) -> int | None:
    """An inotify descriptor watching `directory`, or None where inotify is not available."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        init, add = libc.inotify_init1, libc.inotify_add_watch
    except (OSError, AttributeError):
        return None
    fd = init(_IN_NONBLOCK | _IN_CLOEXEC)
    if fd < 0:
        log.info("inotify unavailable (%s); watching %s by a slow poll", os.strerror(ctypes.get_errno()), directory)
        return None
    if add(fd, os.fsencode(directory), _MASK) < 0:
        log.info("cannot watch %s (%s); falling back to a slow poll", directory, os.strerror(ctypes.get_errno()))
        os.close(fd)
        return None
    return fd


def _names(data: bytes) -> tuple[set[str], bool]:
    """The file names in a buffer of inotify events, and whether the kernel's queue overflowed."""
    names: set[str] = set()
    overflow = False
    at = 0
    while at + _EVENT.size <= len(data):
        _wd, mask, _cookie, length = _EVENT.unpack_from(data, at)
        at += _EVENT.size
        names.add(os.fsdecode(data[at:at + length].rstrip(b"\0")))
        at += length
        overflow |= bool(mask & _IN_Q_OVERFLOW)
    return names, overflow


class FileChanges:
    """`await changes.wait()` returns once any of `names` in `directory` was written, created or replaced.

    Changes that happen while nobody waits are kept (one pending flag), so none is
    missed between two waits; several changes before a wait make one wake-up.
    """

    def __init__(self, directory: str, names: set[str], *, poll_interval: float = 2.0):
        self.directory = directory
        self.names = set(names)
        self.poll_interval = poll_interval
        self.wakeups = 0  # how many times wait() returned: the idle cost, for tests and status
        self._changed = asyncio.Event()
        self._fd = _inotify_fd(directory)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._seen = self._stat_all() if self._fd is None else {}

    @property
    def method(self) -> str:
        return "inotify" if self._fd is not None else f"poll every {self.poll_interval:g}s"

    def start(self) -> None:
        if self._fd is not None:
            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(self._fd, self._readable)

    def close(self) -> None:
        if self._fd is not None:
            if self._loop is not None:
                self._loop.remove_reader(self._fd)
            os.close(self._fd)
            self._fd = None

    async def wait(self) -> None:
        if self._fd is None:
            await self._poll()
        else:
            await self._changed.wait()
            self._changed.clear()
        self.wakeups += 1

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, 64 * 1024)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno != errno.EINTR:
                log.warning("reading file events for %s failed: %s", self.directory, exc)
            return
        names, overflow = _names(data)
        if overflow or names & self.names:
            self._changed.set()

    def _stat_all(self) -> dict[str, tuple[int, int, int] | None]:
        seen: dict[str, tuple[int, int, int] | None] = {}
        for name in self.names:
            try:
                st = os.stat(os.path.join(self.directory, name))
                seen[name] = (st.st_ino, st.st_size, st.st_mtime_ns)
            except OSError:
                seen[name] = None
        return seen

    async def _poll(self) -> None:
        while True:
            now = self._stat_all()
            if now != self._seen:
                self._seen = now
                return
            await asyncio.sleep(self.poll_interval)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            if self._fd is not None:
                os.close(self._fd)

"""Wake when some files in one directory change: inotify on Linux, a slow stat poll elsewhere.

The daemon learns of other processes' database writes (an `oxymus capture` made
while it was unreachable, a restore) from this instead of asking SQLite four times
a second: an idle daemon should not wake at all. inotify is reached through
`oxymus/kernel/inotify.py` (ctypes; the standard library has no binding).

Only names in one directory are watched, not the files themselves, so a file that
is replaced (a restore renames a new database into place) is still followed.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os

from oxymus.kernel import inotify

log = logging.getLogger("oxymus.daemon.file_changes")

_MASK = inotify.IN_MODIFY | inotify.IN_CLOSE_WRITE | inotify.IN_MOVED_TO | inotify.IN_CREATE | inotify.IN_DELETE


def _inotify_fd(directory: str) -> inotify.Inotify | None:
    """An inotify descriptor watching `directory`, or None where inotify is not available."""
    watcher, why = inotify.Inotify.open()
    if watcher is None:
        log.info("%s; watching %s by a slow poll", why, directory)
        return None
    try:
        watcher.add(directory, _MASK)
    except OSError as exc:
        log.info("cannot watch %s (%s); falling back to a slow poll", directory, exc.strerror or exc)
        watcher.close()
        return None
    return watcher


def _names(data: bytes) -> tuple[set[str], bool]:
    """The file names in a buffer of inotify events, and whether the kernel's queue overflowed."""
    events = inotify.parse(data)
    return {e.name for e in events}, any(e.overflow for e in events)


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
        self._inotify = _inotify_fd(directory)
        self._fd = self._inotify.fd if self._inotify is not None else None
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
            self._inotify.close()
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
                self._inotify.close()

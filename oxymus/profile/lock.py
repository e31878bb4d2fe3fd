"""Exactly one daemon per profile: an flock on a file in the runtime dir.

Whoever holds it owns the database file: the daemon while it runs, `oxymus restore`
while it swaps the file (so no daemon starts on a half-restored profile).

The kernel drops an flock when its holder dies, so a lock left by a crash (kill -9)
is never stale: the next daemon simply acquires it. The pid written inside is for
humans and `oxymus status`; it is never trusted to decide liveness.
"""

from __future__ import annotations

import fcntl
import os

from oxymus.profile.pidfile import read_pid


class AlreadyRunning(Exception):
    def __init__(self, pid: int | None, path: str):
        self.pid = pid
        super().__init__(f"another daemon{f' (pid {pid})' if pid else ''} holds {path}")


class ProfileLock:
    def __init__(self, path: str):
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(read_pid(self.path), self.path) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

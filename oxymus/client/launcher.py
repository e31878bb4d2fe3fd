"""Starting, stopping and probing a profile's daemon from a client process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from oxymus.client.sync_client import DaemonUnavailable, connect
from oxymus.profile.paths import Paths


READY_FD_ENV = "OXYMUS_READY_FD"


class StartFailed(Exception):
    """The daemon could not be started; the message carries what it printed.

    `status` is the daemon's exit status when it exited, and `detail` what it printed
    (a bad config is its status 2 and one line, which `oxymus up` passes on as it is)."""

    def __init__(self, message: str, status: int | None = None, detail: str = ""):
        super().__init__(message)
        self.status = status
        self.detail = detail


def status(paths: Paths, timeout: float = 2.0) -> dict | None:
    """The daemon's status dict, or None when no daemon answers."""
    try:
        with connect(paths.socket, "oxymus-status", timeout=timeout) as conn:
            return conn.call("status")
    except DaemonUnavailable:
        return None


def start(paths: Paths, timeout: float = 15.0) -> dict:
    """Start the daemon in the background (if it is not running) and return once it answers."""
    current = status(paths)
    if current is not None:
        return current
    paths.ensure()
    # The daemon writes a byte to this pipe once its socket answers (and it closes at its exit):
    # waiting on it, not sleeping between tries, asks for status right when it can answer.
    ready_r, ready_w = os.pipe()
    try:
        with open(paths.start_error_file, "wb") as err:
            proc = subprocess.Popen(
                # -P: no current directory on sys.path, or an `oxymus/` folder where the user
                # happens to stand (a checkout) would shadow the installed package.
                [sys.executable, "-P", "-m", "oxymus", "daemon", "--background"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                start_new_session=True, close_fds=True, pass_fds=(ready_w,),
                env={**os.environ, READY_FD_ENV: str(ready_w)},
            )
    finally:
        os.close(ready_w)
    try:
        return _wait_started(paths, proc, ready_r, timeout)
    finally:
        os.close(ready_r)


def _wait_started(paths: Paths, proc: subprocess.Popen, ready: int, timeout: float) -> dict:
    import select

    deadline = time.monotonic() + timeout
    signalled = False
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            current = status(paths)
            if current is not None:  # lost a race with another starter; theirs is up
                return current
            raise StartFailed(_start_error(paths, f"the daemon exited with status {code}"), code, _start_output(paths))
        current = status(paths, timeout=1.0)
        if current is not None:
            return current
        if signalled:
            time.sleep(0.02)  # said it answers (or closed the pipe): only the tries are left
        elif select.select([ready], [], [], 0.25)[0]:
            signalled = True
            os.read(ready, 1)
    proc.terminate()
    raise StartFailed(_start_error(paths, f"the daemon did not answer within {timeout:g} s"))


def _start_output(paths: Paths) -> str:
    try:
        with open(paths.start_error_file, encoding="utf-8", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def _start_error(paths: Paths, headline: str) -> str:
    detail = _start_output(paths)
    tail = "\n".join(detail.splitlines()[-10:])
    return f"{headline}" + (f":\n{tail}" if tail else f"; see {paths.log_file}")


def _alive(pid: int, lock_file: str) -> bool:
    """Is the daemon `pid` still running? It clears the pid in its lock file as its last act."""
    from oxymus.profile.pidfile import read_pid

    if read_pid(lock_file) != pid:
        return False
    try:
        # Reap it if it is our own child (the TUI starts the daemon), so it is not a zombie.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A killed daemon whose parent (say, a TUI) has not reaped it yet is gone for our purposes."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def stop(paths: Paths, timeout: float = 15.0) -> int | None:
    """Ask the daemon to stop and wait until its process is gone. Returns its pid, or None if none ran."""
    current = status(paths)
    if current is None:
        return None
    pid = int(current["pid"])
    try:
        with connect(paths.socket, "oxymus-down") as conn:
            conn.call("daemon.shutdown")
    except DaemonUnavailable:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid, paths.lock_file):
            return pid
        time.sleep(0.02)
    # It did not stop in time: SIGTERM takes the same graceful path.
    os.kill(pid, signal.SIGTERM)
    while _alive(pid, paths.lock_file) and time.monotonic() < deadline + 5:
        time.sleep(0.05)
    return pid

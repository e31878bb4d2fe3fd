"""A real Radicale CalDAV server on 127.0.0.1 for tests.

Radicale runs as a child process (`python -m radicale`, the same interpreter as the
tests) on a free loopback port with its own storage folder and no config file
from the machine. Readiness is polled (an HTTP request retried until a deadline),
never a fixed sleep. Three ways to use it:

    # 1. a context manager, anywhere
    with radicale_server(tmp_path) as server:
        DAVClient(server.url, username="me", password="x")

    # 2. a module-scoped fixture (one server shared by a test module)
    radicale = radicale_fixture()                               # auth none
    radicale_pw = radicale_fixture(users={"me": "s3cret"})      # htpasswd, plain

    def test_something(radicale): ...

    # 3. by hand, to stop and restart it inside a test (same port, same storage)
    server.stop(); ...; server.start()

    # seeding data: a caldav client for the server
    with server.client("me", "s3cret") as client:
        client.principal().make_calendar(name="Work").add_event(ICS_TEXT)

With `users=None` the server takes any login (`--auth-type none`); with a
`{"user": "password"}` mapping it checks them against a plain htpasswd file.
`--auth-delay 0` keeps a failed or first login from waiting about a second.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

__all__ = ["RadicaleServer", "free_port", "radicale_fixture", "radicale_server"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RadicaleServer:
    """One Radicale process serving `storage` on 127.0.0.1:`port`.

    `url` is the server root (e.g. "http://127.0.0.1:40123/"); a user's principal is
    `url + "USER/"`. `stop()` and `start()` can be called repeatedly: the port and
    the stored calendars survive a restart, which is how tests simulate an outage.
    """

    def __init__(self, folder: Path, *, users: Mapping[str, str] | None = None, port: int | None = None):
        self.folder = Path(folder)
        self.storage = self.folder / "collections"
        self.users = dict(users) if users is not None else None
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = self.folder / "radicale.log"
        self._answered = False  # once it has run on `port`, a restart must keep that port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _command(self) -> list[str]:
        cmd = [
            sys.executable, "-m", "radicale",
            "--config",  # no values: read no config file from the machine or the user
            "--server-hosts", f"127.0.0.1:{self.port}",
            "--storage-filesystem-folder", str(self.storage),
            "--auth-delay", "0",
            "--logging-level", "error",
        ]
        if self.users is None:
            cmd += ["--auth-type", "none"]
        else:
            htpasswd = self.folder / "htpasswd"
            htpasswd.write_text("".join(f"{user}:{password}\n" for user, password in self.users.items()))
            cmd += [
                "--auth-type", "htpasswd",
                "--auth-htpasswd-filename", str(htpasswd),
                "--auth-htpasswd-encryption", "plain",
            ]
        return cmd

    def start(self, timeout: float = 15.0) -> "RadicaleServer":
        """Start the process and return once it answers HTTP (or fail after `timeout` s)."""
        if self.running:
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        while True:
            log = open(self.log_path, "ab")
            try:
                self.proc = subprocess.Popen(
                    self._command(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    env={k: v for k, v in os.environ.items() if k != "RADICALE_CONFIG"},
                )
            finally:
                log.close()
            if self._wait_ready(deadline):
                self._answered = True
                return self
            # It exited early, most likely because someone else took the port in the
            # meantime. A first start moves to another port; a restart keeps its port
            # (clients know it) and tries again until the deadline.
            if time.monotonic() > deadline:
                raise RuntimeError(f"Radicale did not start on port {self.port}: {self.log()}")
            if not self._answered:
                self.port = free_port()
            time.sleep(0.05)  # between attempts to bind, not a wait for state

    def _wait_ready(self, deadline: float) -> bool:
        while True:
            if self.proc.poll() is not None:
                return False
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1.0)
                try:
                    conn.request("OPTIONS", "/")
                    conn.getresponse().read()
                    return True
                finally:
                    conn.close()
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Radicale did not answer on port {self.port} in time: {self.log()}")
            time.sleep(0.02)  # poll interval while waiting for readiness, not a wait for state

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL) and wait until the port is closed."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self, timeout: float = 15.0) -> "RadicaleServer":
        self.stop()
        return self.start(timeout)

    def client(self, username: str = "me", password: str = "x", timeout: float = 10.0):
        """A caldav `DAVClient` for this server (any password works with auth none)."""
        import caldav

        return caldav.DAVClient(url=self.url, username=username, password=password, timeout=timeout)

    def log(self) -> str:
        """What the server wrote to stderr/stdout so far (for failure messages)."""
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""

    def __enter__(self) -> "RadicaleServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@contextlib.contextmanager
def radicale_server(folder: Path | None = None, *, users: Mapping[str, str] | None = None) -> Iterator[RadicaleServer]:
    """A running Radicale for the `with` block; storage in `folder` (default: a temp dir, removed after)."""
    own = folder is None
    path = Path(tempfile.mkdtemp(prefix="radicale-")) if own else Path(folder)
    server = RadicaleServer(path, users=users)
    try:
        with server:
            yield server
    finally:
        if own:
            shutil.rmtree(path, ignore_errors=True)


def radicale_fixture(*, users: Mapping[str, str] | None = None, scope: str = "module"):
    """A pytest fixture (default: one server per test module) yielding a running `RadicaleServer`.

    Assign it to a name in a test module or conftest: `radicale = radicale_fixture()`.
    Tests that stop the server must start it again (in a `finally`), since the
    next test in the module gets the same one; or they use `radicale_server()`.
    """

    @pytest.fixture(scope=scope)
    def _radicale(tmp_path_factory) -> Iterator[RadicaleServer]:
        with radicale_server(tmp_path_factory.mktemp("radicale"), users=users) as server:
            yield server

    return _radicale

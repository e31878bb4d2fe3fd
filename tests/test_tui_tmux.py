"""The real program in a real terminal: `python -m oxymus` inside tmux, driven by keystrokes.

It starts the daemon itself (as a user's first run would). Each test gets its own
tmux server (-L), so it never touches the user's sessions. Nothing sleeps to wait
for state: the pane is polled with a deadline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from conftest import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture
def tmux(home):
    if shutil.which("tmux") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tmux is not installed, and CI must run the TUI end-to-end test: install tmux (apt-get install tmux)")
        pytest.skip("tmux is not installed")
    server = f"oxymus-test-{uuid.uuid4().hex[:8]}"
    term = Tmux(server, f"ox{os.getpid()}")
    yield term
    term.run("kill-server", check=False)
    run_cli("down")


class Tmux:
    def __init__(self, server: str, session: str):
        self.server = server
        self.session = session

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-L", self.server, *args], capture_output=True, text=True, check=check, timeout=10)

    def start(self, command: list[str], env: dict[str, str], width: int = 100, height: int = 30) -> None:
        env_args = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        self.run("new-session", "-d", "-s", self.session, "-x", str(width), "-y", str(height), *env_args,
                 " ".join(_quote(part) for part in command))

    def screen(self) -> str:
        proc = self.run("capture-pane", "-p", "-t", self.session, check=False)
        return proc.stdout if proc.returncode == 0 else ""

    def alive(self) -> bool:
        return self.run("has-session", "-t", self.session, check=False).returncode == 0

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", self.session, *(["-l"] if literal else []), *keys)

    def wait_gone(self, timeout: float = 10.0) -> None:
        """Until the program in the pane has quit (its session ends with it)."""
        deadline = time.monotonic() + timeout
        while self.alive():
            assert time.monotonic() < deadline, f"the TUI did not quit; the pane shows:\n{self.screen()}"
            time.sleep(0.05)  # polling tmux for the session's end: there is no event to wait on

    def wait_for(self, predicate, timeout: float = 15.0, what: str = "the screen") -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if predicate(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; the pane shows:\n{screen}")
            time.sleep(0.05)


def _quote(part: str) -> str:
    import shlex

    return shlex.quote(part)


def test_tui_in_tmux_captures_and_quits(tmux, home):
    tmux.start([sys.executable, "-m", "oxymus"], {"OXYMUS_HOME": str(home)})
    tmux.wait_for(lambda s: "1 Today" in s and "Connected to the daemon" in s, 20, "Today, connected")
    tmux.wait_for(lambda s: "No sources configured" in s, what="Today's hint for a fresh profile")

    tmux.keys("c")  # capture works from any section
    tmux.wait_for(lambda s: "Capture a thought" in s, what="the capture dialog")
    tmux.keys("bought milk from tmux", literal=True)
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "Capture a thought" not in s and "No sources configured" in s, what="back on Today")

    tmux.keys("2")
    screen = tmux.wait_for(
        lambda s: "bought milk from tmux" in s and "sending…" not in s,
        what="the stored capture in the inbox",
    )
    assert "1 open" in screen

    proc = run_cli("inbox", "--json")
    assert proc.returncode == 0, proc.stderr
    captures = json.loads(proc.stdout)
    assert [(c["text"], c["source"]) for c in captures] == [("bought milk from tmux", "tui")]

    tmux.keys("q")
    tmux.wait_gone()


def test_tui_in_tmux_without_a_daemon_keeps_captures_on_disk(tmux, home):
    """No daemon, and none started: what is typed is on disk when the TUI is gone, even typed just before q."""
    tmux.start([sys.executable, "-m", "oxymus", "tui", "--no-start"], {"OXYMUS_HOME": str(home)}, width=80, height=24)
    tmux.wait_for(lambda s: "Daemon unreachable" in s, 20, "the TUI without a daemon")
    tmux.keys("2")
    tmux.keys("c")
    tmux.wait_for(lambda s: "Capture a thought" in s, what="the capture dialog")
    tmux.keys("written with the daemon down", literal=True)
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "written with the daemon down" in s and "sending…" not in s and "1 open" in s,
                  what="the capture stored without the daemon")

    tmux.keys("c")
    tmux.wait_for(lambda s: "Capture a thought" in s, what="the capture dialog again")
    tmux.keys("and one just before quitting", literal=True)
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "Capture a thought" not in s, what="the dialog to close")
    tmux.keys("q")  # at once, whether or not the row still says "sending…" (the Pilot tests force that case)
    tmux.wait_gone()

    assert not os.path.exists(os.path.join(home, "run", "oxymus.sock")), "no daemon ran"
    proc = run_cli("inbox", "--json")  # no daemon: read from the file
    assert proc.returncode == 0, proc.stderr
    captures = json.loads(proc.stdout)
    assert [(c["text"], c["source"]) for c in captures] == [
        ("and one just before quitting", "tui"), ("written with the daemon down", "tui")]

"""The TUI driven headless through Textual's Pilot, against a real daemon process.

The app opens on Today (tests/test_tui_today.py); these tests switch to the Inbox
with `2` first. Nothing sleeps to wait for state: `until` polls a condition with a deadline,
letting the app run between checks (`pilot.pause`).
"""

from __future__ import annotations

import ast
import asyncio
import signal
import time
from pathlib import Path

import pytest
from conftest import DaemonProcess, run_cli, until

from oxymus.models import Capture
from oxymus.profile import paths as paths_mod
from oxymus.tui.app import OxymusApp, create_app
from oxymus.tui.link.connection import DaemonConnection
from oxymus.tui.link.messages import CaptureAdded, Connected, Disconnected
from oxymus.tui.screens.capture import EMPTY_REFUSED, CaptureScreen
from oxymus.tui.screens.inbox import InboxScreen
from oxymus.tui.screens.today import TodayScreen

SIZE = (100, 30)
TUI_DIR = Path(__file__).resolve().parent.parent / "tui"


def inbox(app: OxymusApp) -> InboxScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, InboxScreen)
    return screen


def rows(app: OxymusApp) -> list[tuple[str, str]]:
    """(when, text) of every row shown, top to bottom (without the suggestion column, once triage has suggested)."""
    table = inbox(app).table
    return [tuple(str(cell) for cell in table.get_row_at(i))[:2] for i in range(table.row_count)]


def texts(app: OxymusApp) -> list[str]:
    return [text for _, text in rows(app)]


def status(app: OxymusApp) -> str:
    return app.screen_stack[0].status_bar.text


def stored(daemon_or_paths) -> list[dict]:
    from oxymus.client.sync_client import connect

    sock = daemon_or_paths.paths.socket if isinstance(daemon_or_paths, DaemonProcess) else daemon_or_paths.socket
    with connect(sock, "pytest") as conn:
        return conn.call("inbox.list", {"status": "open", "limit": 500})["captures"]


async def connected(pilot, timeout: float = 10.0, section: str = "inbox"):
    app = pilot.app
    await until(pilot, lambda: app.connection.connected and "Connected" in status(app), timeout, "the TUI to connect")
    if section == "inbox":
        await open_inbox(pilot)


async def open_inbox(pilot):
    app = pilot.app
    assert isinstance(app.screen_stack[0], TodayScreen), "the app opens on Today"
    await pilot.press("2")
    await until(pilot, lambda: isinstance(app.screen_stack[0], InboxScreen), what="the inbox (key 2)")


async def test_inbox_shows_existing_captures_newest_first(daemon):
    with daemon.client() as conn:
        conn.call("capture.add", {"text": "older [bold]not markup[/]", "source": "cli"})
        conn.call("capture.add", {"text": "newer\nacross   lines", "source": "cli"})
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await until(pilot, lambda: len(rows(app)) == 2, what="two rows")
        assert texts(app) == ["newer across lines", "older [bold]not markup[/]"]
        assert all(len(when) == len("2025-01-01 12:00") for when, _ in rows(app))
        assert "unreachable" not in status(app)


async def test_capture_from_another_client_appears_live_once(daemon):
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        with daemon.client() as conn:
            reply = conn.call("capture.add", {"text": "from another terminal", "source": "cli"})
        await until(pilot, lambda: "from another terminal" in texts(app), 1.5, "the live capture")
        proc = await asyncio.to_thread(run_cli, "capture", "via the cli")
        assert proc.returncode == 0, proc.stderr
        await until(pilot, lambda: "via the cli" in texts(app), 1.5, "the CLI capture")
        assert texts(app) == ["via the cli", "from another terminal"]

        # The same capture again (a retried add, a repeated event) is never shown twice.
        with daemon.client() as conn:
            conn.call("capture.add", {"text": "from another terminal", "source": "cli", "id": reply["capture"]["id"]})
        capture = Capture.model_validate(reply["capture"])
        screen = inbox(app)
        screen.post_message(CaptureAdded(capture))
        screen.post_message(CaptureAdded(capture))
        await pilot.pause()
        await pilot.pause()
        assert texts(app) == ["via the cli", "from another terminal"]
        assert "2 open" in str(screen.query_one("#summary").render())


async def test_c_enter_stores_a_capture(daemon):
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CaptureScreen), what="the capture dialog")
        await pilot.press(*"bought milk", "enter")
        await until(pilot, lambda: not isinstance(app.screen, CaptureScreen), what="the dialog to close")
        await until(pilot, lambda: rows(app) and rows(app)[0][1] == "bought milk" and rows(app)[0][0] != "sending…",
                    what="the stored capture on top")
        items = stored(daemon)
        assert [(c["text"], c["source"]) for c in items] == [("bought milk", "tui")]
        assert not app.connection.outbox


async def test_escape_cancels_and_q_types_inside_the_dialog(daemon):
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CaptureScreen), what="the capture dialog")
        await pilot.press(*"quiet q", "escape")  # `q` is text here, not quit
        await until(pilot, lambda: isinstance(app.screen, InboxScreen), what="the dialog to close")
        assert app.is_running
        assert texts(app) == [] and not app.connection.outbox
        assert stored(daemon) == []


async def test_empty_capture_is_refused_visibly(daemon):
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CaptureScreen), what="the capture dialog")
        for keys in (["enter"], ["space", "space", "enter"]):
            await pilot.press(*keys)
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, CaptureScreen)
            error = dialog.query_one("#capture-error")
            assert error.display and str(error.render()) == EMPTY_REFUSED
        await pilot.press("x")  # typing clears the message
        await until(pilot, lambda: not app.screen.query_one("#capture-error").display, what="the error to clear")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, InboxScreen), what="the dialog to close")
        assert stored(daemon) == []


async def test_rejected_capture_is_reported_and_dropped(daemon):
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        app.connection.add_capture("x" * 300_000)  # over the daemon's 256 KiB limit
        await until(pilot, lambda: any("too long" in n.message for n in app._notifications), what="the refusal")
        await until(pilot, lambda: texts(app) == [], what="the pending row to go")
        assert not app.connection.outbox


@pytest.mark.parametrize("key", ["q", "ctrl+q"])
async def test_q_quits(daemon, key):
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot, section="today")
        await pilot.press(key)
        await until(pilot, lambda: not app.is_running, 5, "the app to exit")
    assert app.return_code == 0


async def test_unreachable_then_daemon_starts_then_reconnects(profile):
    app = create_app(profile, start_daemon=False, retry_max=1.0)
    async with app.run_test(size=SIZE) as pilot:
        expected = f"Daemon unreachable at {profile.socket} — retrying in"
        await until(pilot, lambda: expected in status(app), 3, "the unreachable message")
        await open_inbox(pilot)
        # Still responsive: the dialog opens, and a capture typed now goes to disk without the daemon
        # (tests/test_tui_offline_capture.py has more).
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CaptureScreen), what="the capture dialog")
        await pilot.press(*"typed while down", "enter")
        await until(pilot, lambda: rows(app) and rows(app)[0] != ("sending…", "typed while down"), what="the stored row")
        assert expected in status(app)

        daemon = await asyncio.to_thread(DaemonProcess(profile).start)
        try:
            await until(pilot, lambda: "Connected" in status(app), 5, "the reconnect")
            assert "unreachable" not in status(app)
            await until(pilot, lambda: rows(app) and rows(app)[0][0] != "sending…", what="the capture to be stored")
            assert texts(app) == ["typed while down"]
            assert [c["text"] for c in stored(daemon)] == ["typed while down"]
        finally:
            await asyncio.to_thread(daemon.stop)


async def test_daemon_killed_mid_session_shows_message_and_keeps_inbox(daemon):
    with daemon.client() as conn:
        conn.call("capture.add", {"text": "still here", "source": "cli"})
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await until(pilot, lambda: texts(app) == ["still here"], what="the inbox")
        daemon.signal(signal.SIGKILL)
        await until(pilot, lambda: "Daemon unreachable at" in status(app), 5, "the unreachable message")
        assert texts(app) == ["still here"]
        await pilot.press("r")  # retry now: still down, still responsive
        await pilot.pause()
        assert app.is_running and "unreachable" in status(app)


async def test_graceful_daemon_stop_says_so(daemon):
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await asyncio.to_thread(daemon.stop)
        await until(pilot, lambda: "unreachable" in status(app), 5, "the unreachable message")
        assert "shutting down" in status(app) or "no daemon" in status(app)


async def test_start_daemon_starts_it(profile):
    app = create_app(profile, start_daemon=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "Connected" in status(app), 20, "the TUI to start the daemon and connect")
            await until(pilot, lambda: "No sources configured" in app.screen.query_one("#today-sources").text,
                        what="Today, with the hint for a fresh profile")
            await open_inbox(pilot)
            assert texts(app) == []
    finally:
        await asyncio.to_thread(run_cli, "down")


async def test_start_failure_is_shown_not_raised():
    long_home = "/tmp/" + "x" * 120  # a socket path no Unix socket can have
    bad = paths_mod.resolve({"OXYMUS_HOME": long_home})
    app = create_app(bad, start_daemon=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "Daemon unreachable at" in status(app), 5, "the unreachable message")
        assert "too long" in status(app)
        assert app.is_running


async def test_backoff_doubles_to_the_cap(tmp_path):
    paths = paths_mod.resolve({"OXYMUS_HOME": str(tmp_path / "nowhere")})
    conn = DaemonConnection(paths, start_daemon=False, retry_initial=0.01, retry_max=0.04)
    seen: list[object] = []

    class Recorder:
        def post_message(self, message):
            seen.append(message)
            return True

    conn.listen(Recorder())
    task = asyncio.create_task(conn.run())
    try:
        deadline = time.monotonic() + 5
        while sum(isinstance(m, Disconnected) for m in seen) < 5:
            assert time.monotonic() < deadline, "no retries"
            await asyncio.sleep(0.005)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    delays = [m.retry_in for m in seen if isinstance(m, Disconnected)][:5]
    assert delays == [0.01, 0.02, 0.04, 0.04, 0.04]
    assert not any(isinstance(m, Connected) for m in seen)


FORBIDDEN = ("oxymus.store", "oxymus.daemon", "oxymus.connectors", "sqlite3", "aiosqlite")
IO_MODULES = ("oxymus.client.async_client", "oxymus.client.sync_client", "oxymus.client.launcher", "socket", "asyncio", "subprocess")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise AssertionError(f"{path}: use absolute imports (oxymus.tui....)")
            names.add(node.module or "")
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_architecture_tui_reaches_data_only_through_the_daemon():
    files = sorted(TUI_DIR.rglob("*.py"))
    assert files, TUI_DIR
    for path in files:
        for name in _imports(path):
            assert not any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN), f"{path} imports {name}"
    # Only the connection does IO; screens and widgets render messages.
    for path in [*TUI_DIR.joinpath("screens").rglob("*.py"), *TUI_DIR.joinpath("widgets").rglob("*.py")]:
        for name in _imports(path):
            assert not any(name == io or name.startswith(io + ".") for io in IO_MODULES), f"{path} imports {name}"

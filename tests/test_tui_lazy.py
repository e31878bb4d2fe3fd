"""The TUI imports a screen when it is first shown (issue 14): starting it imports no section's screen, showing
Today imports Today's alone, and a section's key and its palette command still work before its screen exists.

Each case runs in a fresh interpreter (the test process has imported every screen long before), with no daemon
behind the socket: which modules are loaded does not depend on the daemon's answers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

OTHERS = ["inbox", "memory", "plans", "approvals", "activity", "review", "weekly", "help", "record"]

SCRIPT = textwrap.dedent("""
    import asyncio, os, sys

    from textual.command import CommandPalette

    from oxymus.profile import paths as paths_mod
    from oxymus.tui.app import create_app

    OTHERS = {others!r}

    def loaded(name):
        return f"oxymus.tui.screens.{{name}}" in sys.modules

    async def until(pilot, predicate):
        for _ in range(5000):
            if predicate():
                return
            await pilot.pause()
        raise AssertionError("the condition never held")

    async def main():
        app = create_app(paths_mod.resolve(os.environ), start_daemon=False, retry_initial=60, retry_max=60)
        assert not loaded("today") and not any(map(loaded, OTHERS)), "no screen before the app runs"
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: type(app.screen).__name__ == "TodayScreen")
            assert [n for n in OTHERS if loaded(n)] == [], "Today shown: no other screen imported"
            assert "oxymus.tui.widgets.approvals_views" not in sys.modules
            assert "oxymus.tui.widgets.memory_views" not in sys.modules

            await pilot.press("2")  # a section's key, its screen not imported yet
            await until(pilot, lambda: type(app.screen).__name__ == "InboxScreen")
            assert not loaded("approvals")

            await pilot.press("ctrl+p")  # the palette: Go to Approvals, its screen not imported yet
            await until(pilot, lambda: isinstance(app.screen, CommandPalette))
            await pilot.press(*"Approvals")
            options = app.screen.query_one("CommandList")
            await until(pilot, lambda: options.option_count > 0
                        and str(options.get_option_at_index(0).prompt).splitlines()[0] == "Approvals")
            await pilot.press("enter")
            await until(pilot, lambda: type(app.screen).__name__ == "ApprovalsScreen")

            await pilot.press("question_mark")  # `?` imports the help screen when asked
            await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        print("ok")

    asyncio.run(main())
""")


def test_screens_are_imported_when_first_shown(home):
    env = {**os.environ, "OXYMUS_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(others=OTHERS)], env=env, capture_output=True,
                          text=True, timeout=110)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]

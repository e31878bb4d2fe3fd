"""The TUI says plainly when agents run without the LLM."""

from __future__ import annotations

from conftest import DaemonProcess, until, write_config

from oxymus.tui.app import create_app
from oxymus.tui.link.messages import LlmStatusChanged


async def test_llm_unavailable_shows_on_every_section_and_goes_when_it_is_back(profile):
    write_config(profile, "[llm]\nenabled = false\n")
    daemon = DaemonProcess(profile).start()
    try:
        app = create_app(profile, start_daemon=False)
        async with app.run_test(size=(120, 30)) as pilot:
            badge = lambda: app.screen.query_one("#status-llm")  # noqa: E731
            await until(pilot, lambda: badge().has_class("-visible"), what="the LLM badge")
            assert str(badge().render()) == "LLM unavailable" and "disabled in config" in str(badge().tooltip)
            await pilot.press("2")
            await until(pilot, lambda: badge().has_class("-visible"), what="the badge on the Inbox too")
            # An agent run that had the LLM says so, and the badge goes.
            app.screen.post_message(LlmStatusChanged("available"))
            await until(pilot, lambda: not badge().has_class("-visible"), what="the badge to go")
    finally:
        daemon.stop()

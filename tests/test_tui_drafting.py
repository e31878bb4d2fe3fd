"""While an agent's LLM answer streams, the TUI says who is drafting and how much, and clears it when the run ends."""

from __future__ import annotations

import threading

from conftest import DaemonProcess, until, write_config
from ollama_server import ollama_server  # noqa: F401

from oxymus.client.sync_client import connect
from oxymus.tui.app import create_app


async def test_the_status_bar_and_activity_show_the_draft_streaming_and_clear_at_the_end(profile, ollama_server):  # noqa: F811
    write_config(profile, f'[llm]\nhost = "{ollama_server.url}"\nmodel = "llama3.2"\n')
    fake = ollama_server.state
    fake.answer_next({"narrative": "A quiet week: nothing slipped and nothing much happened.", "matters": []})
    fake.hold_stream_after = 4  # four words of the answer, then the model "thinks" until released
    daemon = DaemonProcess(profile).start()
    run: dict = {}
    worker = threading.Thread(
        target=lambda: run.update(connect(profile.socket, "pytest", timeout=60).call("agents.run", {"name": "reflection"})), daemon=True)
    try:
        app = create_app(profile, start_daemon=False)
        async with app.run_test(size=(80, 24)) as pilot:
            badge = lambda: app.screen.query_one("#status-drafting")  # noqa: E731
            await until(pilot, lambda: "Connected" in app.screen.status_bar.text, what="the connection")
            assert not badge().has_class("-visible")
            worker.start()
            # The four pieces so far, '{"narrative": "A quiet week: ', are 29 characters
            await until(pilot, lambda: str(badge().render()) == "reflection drafting… 29 chars", what="the progress badge")

            assert badge().has_class("-visible") and "reflection drafting… 29 chars" in app.screen.status_bar.attention
            await pilot.press("6")
            line = lambda: app.screen.query_one("#activity-drafting")  # noqa: E731
            await until(pilot, lambda: line().display, what="the drafting line in Activity")
            assert str(line().render()) == 'reflection drafting… 29 chars: …{"narrative": "A quiet week:'
            assert str(badge().render()) == "reflection drafting… 29 chars"
            fake.release.set()
            await until(pilot, lambda: not line().display, what="the line to clear when the run ends")
            assert not badge().has_class("-visible")
            await pilot.press("1")
            await until(pilot, lambda: app.screen.status_bar.text.startswith("Connected"), what="Today")
            assert not badge().has_class("-visible")  # a section that joins later is not told a stale draft
        worker.join(timeout=30)
        assert run["outcome"] == "succeeded" and run["llm"][0]["outcome"] == "ok"
    finally:
        fake.release.set()
        daemon.stop()

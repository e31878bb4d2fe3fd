"""The Memory section and inbox triage, driven through Pilot against a real daemon.

Records are seeded through the daemon (`memory.add`, `inbox.triage`) as any client
would. Nothing sleeps to wait for state: `until` polls a condition with a deadline,
letting the app run between checks.
"""

from __future__ import annotations

import asyncio

from conftest import eventually, run_cli, until
from rich.text import Text
from textual.widgets import Input, TextArea

from oxymus.client.protocol import MemorySearchResult
from oxymus.memory.records import Provenance
from oxymus.profile import paths as paths_mod
from oxymus.tui.app import OxymusApp, create_app
from oxymus.tui.link.connection import DaemonConnection
from oxymus.tui.link.messages import MemorySearched
from oxymus.tui.screens.confirm import ConfirmScreen
from oxymus.tui.screens.inbox import InboxScreen
from oxymus.tui.screens.memory import SEARCH, MemoryScreen
from oxymus.tui.screens.record import RecordScreen
from oxymus.tui.screens.record_form import RecordFormScreen, first_line
from oxymus.tui.widgets.memory_views import provenance_line

SIZE = (100, 30)


def memory(app: OxymusApp) -> MemoryScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, MemoryScreen)
    return screen


def titles(app: OxymusApp) -> list[str]:
    """The titles of the results shown, top to bottom (none while the list is hidden)."""
    table = memory(app).table
    if not table.display:
        return []
    return [table.hits[record_id].title for record_id in table.order]


def row_text(app: OxymusApp, record_id: str) -> str:
    """Everything a result row shows, as plain text."""
    return " | ".join(cell.plain if isinstance(cell, Text) else str(cell) for cell in memory(app).table.get_row(record_id))


def summary(app: OxymusApp) -> str:
    return str(app.screen.query_one("#summary").render())


def plain(app: OxymusApp, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def open_memory(pilot) -> MemoryScreen:
    app = pilot.app
    await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
    await pilot.press("3")
    await until(pilot, lambda: isinstance(app.screen, MemoryScreen) and app.screen.searched, what="the memory section")
    return app.screen


async def open_inbox(pilot, count: int) -> InboxScreen:
    app = pilot.app
    await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
    await pilot.press("2")
    await until(pilot, lambda: isinstance(app.screen, InboxScreen) and app.screen.table.row_count == count,
                what=f"{count} captures in the inbox")
    return app.screen


def add(conn, title: str, body: str = "", kind: str = "fact", tier: str = "warm", tags=()) -> dict:
    return conn.call("memory.add", {"record": {"kind": kind, "title": title, "body": body, "tier": tier, "tags": list(tags)}})


async def test_search_as_you_type_shows_provenance_and_filters_narrow(daemon):
    with daemon.client() as conn:
        capture = conn.call("capture.add", {"text": "Anna likes hiking", "source": "cli"})["capture"]
        anna = conn.call("inbox.triage", {"capture_id": capture["id"], "to": "memory", "record": {
            "kind": "person", "title": "Anna Schmidt", "body": "Sister; likes hiking in the Alps.", "tags": ["family"],
            "tier": "hot"}})["target_id"]
        hiking = add(conn, "Hiking map", "Print the Alps hiking map.", kind="project")["id"]
        add(conn, "SQLite everywhere", "One file, WAL mode.", kind="decision")
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_memory(pilot)
        assert screen.query_one("#memory-query", Input).has_focus, "the search field has the focus"
        await until(pilot, lambda: len(titles(app)) == 3, what="the recent records (empty search)")

        # Fast typing costs one search once it pauses (every keystroke restarts the wait).
        query = screen.query_one("#memory-query", Input)
        before = app.connection.live.ticket(SEARCH)
        for typed in ("S", "SQ", "SQL", "SQLi"):
            query.value = typed
        await until(pilot, lambda: titles(app) == ["SQLite everywhere"], what="the prefix match")
        assert app.connection.live.ticket(SEARCH) == before + 1
        assert plain(app, "#memory-count") == "1 found"

        query.value = ""
        await pilot.press(*"hik")  # typed for real: the last word matches as a prefix
        await until(pilot, lambda: sorted(titles(app)) == ["Anna Schmidt", "Hiking map"], what="the matches")
        assert plain(app, "#memory-count") == "2 found"

        anna_row = row_text(app, anna)
        assert "from capture" in anna_row and capture["id"][:8] in anna_row, anna_row
        assert "hot" in anna_row and "person" in anna_row and "#family" in anna_row
        assert "hiking" in anna_row.lower(), "the snippet"
        assert "from user" in row_text(app, hiking)

        await pilot.press("ctrl+t")  # tier: hot (the filter keys work while typing)
        await until(pilot, lambda: titles(app) == ["Anna Schmidt"], what="the tier filter")
        assert "tier ‹hot›" in plain(app, "#memory-tier")
        await pilot.press("ctrl+k")  # kind: person
        await until(pilot, lambda: "kind ‹person›" in plain(app, "#memory-kind"), what="the kind filter")
        await pilot.press("ctrl+k")  # kind: project, and nothing hot is one
        await until(pilot, lambda: titles(app) == [] and "Nothing matches" in plain(app, "#memory-empty"),
                    what="no hot project")
        await pilot.press("ctrl+t")  # tier: warm
        await until(pilot, lambda: titles(app) == ["Hiking map"], what="the warm project")
        assert screen.query_one("#memory-query", Input).value == "hik", "the filter keys typed nothing"

        await pilot.press("enter")  # Enter in the search field opens the best hit
        await until(pilot, lambda: isinstance(app.screen, RecordScreen) and app.screen.loaded, what="the record view")
        assert plain(app, "#record-title") == "Hiking map"
        assert "project · warm" in plain(app, "#record-meta") and "from user" in plain(app, "#record-meta")


async def test_open_shows_history_and_editing_makes_version_2(daemon):
    with daemon.client() as conn:
        record = add(conn, "Coffee", "Black, no sugar.", kind="preference")
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_memory(pilot)
        await until(pilot, lambda: titles(app) == ["Coffee"], what="the record")
        await pilot.press("down", "enter")  # to the results, open the record
        await until(pilot, lambda: isinstance(app.screen, RecordScreen) and app.screen.loaded, what="the record view")
        view = app.screen
        assert plain(app, "#record-title") == "Coffee"
        meta = plain(app, "#record-meta")
        assert "preference · warm" in meta and "version 1" in meta and "from user" in meta
        assert view.history_table.row_count == 1
        assert plain(app, "#record-body") == "Black, no sugar."
        assert "version 1 of 1 (current)" in plain(app, "#record-version") and "created" in plain(app, "#record-version")

        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, RecordFormScreen), what="the edit dialog")
        form = app.screen
        assert form.query_one("#form-title", Input).value == "Coffee"
        await pilot.press("ctrl+t")  # warm -> cold
        await pilot.press("tab", "tab", "tab", "end", *" Oat milk.")  # title -> kind -> tier -> body
        assert form.query_one("#form-body", TextArea).text == "Black, no sugar. Oat milk."
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is view, what="the dialog to close")
        await until(pilot, lambda: view.history_table.row_count == 2, what="version 2 in the history")
        assert plain(app, "#record-body") == "Black, no sugar. Oat milk."
        assert "version 2 of 2 (current)" in plain(app, "#record-version") and "by oxymus-tui" in plain(app, "#record-version")
        assert "cold" in plain(app, "#record-meta") and "version 2" in plain(app, "#record-meta")

        await pilot.press("down")  # the previous version, as it was
        await until(pilot, lambda: plain(app, "#record-body") == "Black, no sugar.", what="version 1's text")
        assert "version 1 of 2" in plain(app, "#record-version") and "then: preference · warm" in plain(app, "#record-version")

        with daemon.client() as conn:
            stored = conn.call("memory.get", {"id": record["id"]})
        assert stored["record"]["version"] == 2 and stored["record"]["tier"] == "cold"
        assert [(v["version"], v["body"], v["actor"]) for v in stored["history"]] == [
            (1, "Black, no sugar.", "pytest"), (2, "Black, no sugar. Oat milk.", "oxymus-tui")]

        await pilot.press("escape")  # back to the results, which hold the new text
        await until(pilot, lambda: isinstance(app.screen, MemoryScreen), what="the results")
        assert memory(app).table.has_focus
        await until(pilot, lambda: "Oat milk" in row_text(app, record["id"]), what="the edited snippet")


async def test_forgetting_asks_then_removes_the_record_from_the_results(daemon):
    with daemon.client() as conn:
        also = add(conn, "Forget me from the record view")
        keep = add(conn, "Keep me", "still useful")
        gone = add(conn, "Forget me", "no longer true")  # touched last: the top row
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_memory(pilot)
        await until(pilot, lambda: titles(app)[:2] == ["Forget me", "Keep me"], what="the records")
        await pilot.press("down")
        assert screen.table.selected.id == gone["id"]
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("n")  # keep it after all
        await until(pilot, lambda: app.screen is screen, what="the question to close")
        assert titles(app)[:2] == ["Forget me", "Keep me"]

        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question again")
        asked = app.connection.live.ticket(SEARCH)
        await pilot.press("y")
        await until(pilot, lambda: "Forget me" not in titles(app), what="the record to leave the results")
        # The search made after the memory.changed event does not bring it back.
        await until(pilot, lambda: screen.shown_ticket > asked, what="the search after the change")
        assert titles(app) == ["Keep me", "Forget me from the record view"]

        await pilot.press("down", "enter")  # from the record view, too
        await until(pilot, lambda: isinstance(app.screen, RecordScreen) and app.screen.loaded, what="the record view")
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen and titles(app) == ["Keep me"], what="back, without it")
        with daemon.client() as conn:
            for record in (gone, also):
                assert conn.call("memory.get", {"id": record["id"]})["record"]["archived"] is True
            assert [h["id"] for h in conn.call("memory.search", {"query": ""})["hits"]] == [keep["id"]]


async def test_budget_and_results_follow_a_hot_record_added_elsewhere(daemon):
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_memory(pilot)
        await until(pilot, lambda: summary(app) == "hot 0/1500 words", what="the empty budget")
        assert "No memory yet" in plain(app, "#memory-empty")
        proc = await asyncio.to_thread(run_cli, "memory", "add", "--tier", "hot", "--body", "Ship the memory screen.",
                                       "Deadline", "Friday")
        assert proc.returncode == 0, proc.stderr
        await until(pilot, lambda: summary(app) == "hot 6/1500 words", what="the budget to count the new record")
        await until(pilot, lambda: titles(app) == ["Deadline Friday"], what="the new record in the results")


async def test_inbox_m_turns_a_capture_into_a_linked_memory_record(daemon):
    text = "Anna's birthday is 3 May\nget her a book about the Alps"
    with daemon.client() as conn:
        capture = conn.call("capture.add", {"text": text, "source": "cli"})["capture"]
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await open_inbox(pilot, 1)
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, RecordFormScreen), what="the triage dialog")
        form = app.screen
        assert form.query_one("#form-title", Input).value == "Anna's birthday is 3 May"
        assert form.query_one("#form-body", TextArea).text == text
        assert "kind ‹fact›" in str(form.query_one("#form-kind").render())
        await pilot.press("ctrl+k")  # fact -> person
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is inbox, what="the dialog to close")
        await until(pilot, lambda: inbox.table.row_count == 0, what="the capture to leave the inbox")
        assert "0 open" in summary(app)

    with daemon.client() as conn:
        assert conn.call("inbox.list", {"status": "open"})["captures"] == []
        triaged = conn.call("inbox.list", {"status": "triaged"})
        assert [c["id"] for c in triaged["captures"]] == [capture["id"]]
        target = triaged["links"][capture["id"]][0]["target_id"]
        record = conn.call("memory.get", {"id": target})["record"]
    assert record["title"] == "Anna's birthday is 3 May" and record["body"] == text and record["kind"] == "person"
    assert record["provenance"]["source"] == "capture" and record["provenance"]["ref"] == capture["id"]
    assert [link["capture_id"] for link in record["links"]] == [capture["id"]]


async def test_inbox_x_archives_and_triage_elsewhere_removes_the_row_live(daemon):
    with daemon.client() as conn:
        first = conn.call("capture.add", {"text": "first thought", "source": "cli"})["capture"]
        second = conn.call("capture.add", {"text": "second thought", "source": "cli"})["capture"]
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await open_inbox(pilot, 2)
        assert inbox.table.selected_id == second["id"], "the newest is on top"
        await pilot.press("x")
        await until(pilot, lambda: list(inbox.table.captures) == [first["id"]], what="the archived capture to go")
        with daemon.client() as conn:
            assert [c["id"] for c in conn.call("inbox.list", {"status": "archived"})["captures"]] == [second["id"]]
            conn.call("inbox.triage", {"capture_id": first["id"], "to": "memory"})  # another client
        await until(pilot, lambda: inbox.table.row_count == 0, 3, "the capture triaged elsewhere to go")
        assert first["id"] not in app.connection.inbox
        await until(pilot, lambda: inbox.query_one("#inbox-empty").display, what="the empty inbox message")


async def test_only_the_newest_search_answer_is_shown(tmp_path):
    """Answers can come back out of order (a slow one first): an older answer never replaces a newer one."""
    conn = DaemonConnection(paths_mod.resolve({"OXYMUS_HOME": str(tmp_path)}), start_daemon=False)
    seen: list[object] = []

    class Recorder:
        def post_message(self, message) -> bool:
            seen.append(message)
            return True

    release_first = asyncio.Event()
    answered: list[str] = []

    class SlowFirst:
        async def call(self, method, params=None, model=None, timeout=10.0):
            assert method == "memory.search"
            if params["query"] == "an":
                await release_first.wait()  # the first request answers last
            answered.append(params["query"])
            return MemorySearchResult(hits=[])

    conn.listen(Recorder())
    conn.client, conn._loaded = SlowFirst(), True
    first, second = conn.live.ask(SEARCH, query="an"), conn.live.ask(SEARCH, query="anna", kind="person")
    assert (first, second) == (1, 2)
    await eventually(lambda: answered == ["anna"], what="the second answer")
    release_first.set()
    await eventually(lambda: answered == ["anna", "an"], what="the first, late answer")
    await eventually(lambda: not conn._tasks, what="both answers to be handled")
    searched = [m for m in seen if isinstance(m, MemorySearched)]
    assert [(m.ticket, m.query, m.kind) for m in searched] == [(2, "anna", "person")]
    conn.client, conn._loaded = None, False
    assert conn.live.ask(SEARCH, query="x") is None, "not connected: nothing is sent"


def test_a_capture_is_titled_by_its_first_line_and_provenance_is_short():
    assert first_line("\n  call the dentist  \nabout the crown") == "call the dentist"
    assert len(first_line("x" * 500)) == 200
    ref = "01ABCDEFGHJKMNPQRSTVWXYZ01"
    assert provenance_line(Provenance(source="capture", ref=ref)) == "from capture 01ABCDEF…"
    assert provenance_line(Provenance(source="capture", ref=ref, note="via cli"), full=True) == f"from capture {ref} — via cli"
    assert provenance_line(Provenance()) == "from user"


async def test_one_search_is_out_at_a_time_and_the_newest_text_follows(daemon):
    """Searches never go faster than the daemon answers: while one is out, only the newest text waits."""
    with daemon.client() as conn:
        add(conn, "SQLite everywhere", "One file, WAL mode.", kind="decision")
        add(conn, "Sourdough", "Feed the starter.", kind="fact")
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_memory(pilot)
        before = app.connection.live.ticket(SEARCH)
        # What typing does after its debounce, without the field's own debounce timer in the way.
        screen.query_text = "s"
        screen.search_now()  # out now
        for typed in ("so", "sou", "sour"):  # typed on before its answer could come back (no await between)
            screen.query_text = typed
            screen.search_now()
        assert app.connection.live.ticket(SEARCH) == before + 1, "the rest wait for the answer"
        await until(pilot, lambda: titles(app) == ["Sourdough"], what="the newest text's answer")
        assert app.connection.live.ticket(SEARCH) == before + 2, "only the newest text was sent after it"
        assert not screen._in_flight and not screen._pending


def test_a_records_from_column_says_email_for_a_message_id_not_the_end_of_a_mail_servers_name():
    from oxymus.tui.widgets.memory_views import short_ref

    assert short_ref("<CAF7x2k1.workshop.4711@mail.gmail.com>") == "· email"
    assert short_ref("01JD4KQXAB12CD34EF56GH78JK") == "01JD4KQX…"
    assert short_ref("/home/me/notes/pricing/rates-2026.md") == "…rates-2026.md"
    assert short_ref("PLANS.md") == "PLANS.md"

"""The Records board and a record's page, driven through Pilot against a real daemon.

Records are seeded through the daemon (`records.add`) as any client would. Nothing sleeps
to wait for state: `until` polls a condition with a deadline, letting the app run between checks.
"""

from __future__ import annotations

from conftest import run_cli, until
from textual.widgets import Static

from oxymus.tui.app import OxymusApp, create_app
from oxymus.tui.screens.records import RecordsScreen, StatusColumn
from oxymus.tui.screens.records_detail import MoveChoiceScreen, RecordDetailScreen

SIZE = (100, 30)


def board(app: OxymusApp) -> RecordsScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, RecordsScreen)
    return screen


def columns(app: OxymusApp) -> dict[str, list[str]]:
    """Each column's titles, top to bottom, by status."""
    return {c.status: [str(c.get_option_at_index(i).prompt) for i in range(c.option_count)] for c in board(app).columns()}


def cursor(app: OxymusApp) -> tuple[str, str] | None:
    """(the focused column's status, the title under its cursor)."""
    column = app.focused
    if not isinstance(column, StatusColumn) or column.highlighted is None:
        return None
    return column.status, str(column.get_option_at_index(column.highlighted).prompt)


def add(conn, kind: str, status: str | None = None, **fields) -> dict:
    return conn.call("records.add", {"kind": kind, "fields": fields, **({"status": status} if status else {})})


async def test_the_board_moves_records_along_their_pipeline(daemon):
    with daemon.client() as conn:
        jane = add(conn, "lead", name="Jane Doe", email="jane@beta.test")
        add(conn, "lead", "lost", name="Old lead")
        acme = add(conn, "client", name="Acme Ltd")
        shop = add(conn, "project", name="Shop rebuild", client=acme["id"])
        post = add(conn, "post", "draft", title="Why we rebuilt")
        conn.call("records.link", {"id": post["id"], "target_type": "record", "target_ref": shop["id"], "relation": "project"})
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
        await pilot.press("7")
        await until(pilot, lambda: isinstance(app.screen, RecordsScreen) and board(app).loaded and board(app).columns(),
                    what="the records board")
        assert list(columns(app)) == ["new", "qualified", "proposal_sent", "won", "lost"]
        assert columns(app)["new"] == ["Jane Doe"] and columns(app)["lost"] == ["Old lead"]
        assert "[Leads]" in str(app.screen.query_one("#records-kinds").render())
        assert cursor(app) == ("new", "Jane Doe"), "the cursor starts on the pipeline's first record"

        # One key moves it on; the cursor follows it into its new column.
        await pilot.press("m")
        await until(pilot, lambda: columns(app)["qualified"] == ["Jane Doe"], what="Jane qualified")
        await until(pilot, lambda: cursor(app) == ("qualified", "Jane Doe"), what="the cursor following Jane")
        await pilot.press("m")
        await until(pilot, lambda: columns(app)["proposal_sent"] == ["Jane Doe"], what="the proposal sent")
        # With a proposal out, the person chooses: won or lost.
        await until(pilot, lambda: cursor(app) == ("proposal_sent", "Jane Doe"), what="the cursor on Jane")
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MoveChoiceScreen), what="the choice")
        await pilot.press("escape")  # changed their mind: nothing moves, the cursor stays
        await until(pilot, lambda: isinstance(app.screen, RecordsScreen), what="the board again")
        assert cursor(app) == ("proposal_sent", "Jane Doe") and columns(app)["proposal_sent"] == ["Jane Doe"]
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MoveChoiceScreen), what="the choice again")
        await pilot.press("enter")
        await until(pilot, lambda: columns(app)["won"] == ["Jane Doe"], what="Jane won")
        await pilot.press("m")  # the end of the pipeline: nothing moves
        shown = run_cli("records", "show", jane["id"], "--json")
        assert shown.returncode == 0 and b'"status": "won"' in shown.stdout

        # A move made elsewhere (the CLI) shows on the open board.
        assert run_cli("records", "edit", jane["id"], "--status", "lost").returncode == 0
        await until(pilot, lambda: sorted(columns(app)["lost"]) == ["Jane Doe", "Old lead"], what="the CLI's move")

        # Other kinds: their own pipelines; left and right move between columns.
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: list(columns(app)) == ["active", "former"], what="the clients board")
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: list(columns(app)) == ["active", "delivered", "invoiced", "paid"], what="the projects board")
        assert cursor(app) == ("active", "Shop rebuild")
        await pilot.press("right")
        assert cursor(app) is None and app.focused.status == "delivered"
        await pilot.press("left")
        assert cursor(app) == ("active", "Shop rebuild")

        # Enter opens the record: fields, links both ways, history; m moves it from there too.
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RecordDetailScreen) and app.screen.detail is not None,
                    what="the record's page")
        text = str(app.screen.query_one("#record-detail-text", Static).render())
        assert "Shop rebuild" in text and "client → record client: Acme Ltd" in text
        assert "project ← record post: Why we rebuilt" in text and "History" in text and "v1" in text
        await pilot.press("m")
        await until(pilot, lambda: app.screen.detail.record.status == "delivered", what="the move from the record's page")
        text = str(app.screen.query_one("#record-detail-text", Static).render())
        assert "v2" in text and "delivered" in text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, RecordsScreen) and columns(app)["delivered"] == ["Shop rebuild"],
                    what="the board again")


async def test_a_record_is_added_and_edited_from_the_board(daemon):
    from textual.widgets import Input, TextArea

    from oxymus.tui.screens.records_form import RecordEditScreen

    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
        await pilot.press("7")
        await until(pilot, lambda: isinstance(app.screen, RecordsScreen) and board(app).loaded and board(app).kind is not None,
                    what="the records board")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, RecordEditScreen), what="the new lead dialog")
        form = app.screen
        assert str(form.query_one("#rform-heading").render()).startswith("New lead")
        assert app.focused is form.query_one("#rform-f-name", Input), "the title field comes first"
        await pilot.press(*"Jane Roe", "enter")
        assert app.focused is form.query_one("#rform-f-email", Input), "Enter moves to the next field"
        form.query_one("#rform-f-budget", Input).value = "lots"
        await pilot.press("ctrl+s")
        # The kind's schema, in the daemon, refuses the budget: the dialog stays, naming the field.
        await until(pilot, lambda: "budget" in str(form.query_one("#rform-error").render()), what="the budget refused")
        assert isinstance(app.screen, RecordEditScreen) and form.query_one("#rform-f-name", Input).value == "Jane Roe"
        form.query_one("#rform-f-budget", Input).value = "5000"
        form.query_one("#rform-f-email", Input).value = "jane@roe.test"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, RecordsScreen) and columns(app).get("new") == ["Jane Roe"],
                    what="Jane on the board")
        assert cursor(app) == ("new", "Jane Roe"), "the cursor goes to the new record"
        with daemon.client() as conn:
            (jane,) = conn.call("records.list", {"kind": "lead"})["records"]
        assert jane["fields"]["budget"] == 5000 and jane["fields"]["email"] == "jane@roe.test"

        # e edits: the fields come back as typed; a cleared field is unset, a changed one set.
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, RecordEditScreen), what="the edit dialog")
        form = app.screen
        assert form.query_one("#rform-f-budget", Input).value == "5000"
        form.query_one("#rform-f-budget", Input).value = ""
        form.query_one("#rform-f-company", Input).value = "Roe & Co"
        form.query_one("#rform-body", TextArea).text = "Met at the meetup."
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, RecordsScreen), what="the board again")
        with daemon.client() as conn:
            detail = conn.call("records.get", {"id": jane["id"]})
        record = detail["record"]
        assert record["fields"].get("budget") is None and record["fields"]["company"] == "Roe & Co"
        assert record["body"] == "Met at the meetup." and record["version"] == 2
        assert detail["history"][-1]["note"] == "edited in the TUI"

        # Nothing changed: Escape or a save without changes makes no new version.
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, RecordEditScreen), what="the edit dialog again")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, RecordsScreen), what="the board")
        with daemon.client() as conn:
            assert conn.call("records.get", {"id": jane["id"]})["record"]["version"] == 2


async def test_at_80_columns_no_head_of_the_posts_board_is_cut_inside_a_word(daemon):
    with daemon.client() as conn:
        add(conn, "post", "distributed", title="Writing incident reports people learn from")
    app = create_app(daemon.paths, start_daemon=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
        await pilot.press("7")
        await until(pilot, lambda: isinstance(app.screen, RecordsScreen) and board(app).loaded and board(app).columns(),
                    what="the records board")
        for _ in range(4):
            await pilot.press("right_square_bracket")
        await until(pilot, lambda: list(columns(app))[-1:] == ["distributed"], what="the posts board")
        await pilot.pause()
        heads = list(board(app).query(".records-column > Label"))
        assert len(heads) == 7
        for head in heads:
            longest = max(len(word) for word in head.head.split())
            assert longest <= head.content_region.width, f"{head.head!r} in {head.content_region.width} columns"
        assert heads[-1].head == "distributed 1"

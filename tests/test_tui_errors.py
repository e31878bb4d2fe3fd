"""An error in a dialog is shown whole, wrapped inside the dialog, at 80x24: never cut mid-sentence."""

from __future__ import annotations

import pytest
from textual.geometry import Region

from conftest import until
from oxymus.tui.app import create_app
from oxymus.tui.screens.capture import CaptureScreen
from oxymus.tui.screens.line_input import LineInputScreen
from oxymus.tui.screens.payload_edit import PayloadEditScreen
from oxymus.tui.screens.record_form import RecordFormScreen

# What the daemon said about an edited payload, once; long enough to need three lines in any dialog.
LONG = ("bills.add: payload.amount: Input should be greater than 0 (the amount you owe, in the bill's currency); "
        "nothing was approved, and the action still waits for your decision [type=greater_than]")


def shown(widget) -> str:
    """The words the widget draws, line after line."""
    strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return " ".join(" ".join(strip.text.split()) for strip in strips).strip()


def dialogs():
    from test_tui_approvals import handcrafted_queue

    return {
        "capture": (CaptureScreen, "#capture-dialog", "#capture-error"),
        "line": (lambda: LineInputScreen("Make it a next action"), "#line-dialog", "#line-error"),
        "record": (lambda: RecordFormScreen("Remember", title="t", body="", kind="fact", tier="warm"), "#form-dialog", "#form-error"),
        "payload": (lambda: PayloadEditScreen(handcrafted_queue()[0]), "#edit-dialog", "#edit-error"),
    }


@pytest.mark.parametrize("name", ["capture", "line", "record", "payload"])
async def test_a_long_error_is_shown_whole_in_its_dialog(profile, name):
    make, dialog_id, error_id = dialogs()[name]
    app = create_app(profile, start_daemon=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = make()
        await app.push_screen(screen)
        await until(pilot, lambda: app.screen is screen, what="the dialog")
        error = screen.query_one(error_id)
        error.update(LONG)  # what each dialog does with an error (the payload editor: the daemon's answer)
        error.add_class("-visible")
        await until(pilot, lambda: error.size.height > 1, what="the error to wrap")
        dialog = screen.query_one(dialog_id)
        assert dialog.content_region.contains_region(error.region), "the error stays inside its dialog"
        assert shown(error) == LONG

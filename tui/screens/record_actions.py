"""Editing and forgetting a memory record: the same dialogs from the results list and the record view."""

from __future__ import annotations

from oxymus.client.protocol import MemoryForgetResult
from oxymus.memory import records as mem
from oxymus.tui.link.live import Command
from oxymus.tui.link.messages import MemoryEdited, MemoryFailed, MemoryForgotten
from oxymus.tui.screens.base import SectionScreen
from oxymus.tui.screens.confirm import ConfirmScreen
from oxymus.tui.screens.record_form import RecordFormScreen

# Save changes to a record (its previous text stays in its history); forget one (archived, not purged).
EDIT = Command("memory.edit", lambda record, _r: MemoryEdited(record),
               lambda error, r: MemoryFailed("edit", r.params["id"], error), mem.MemoryRecord)
FORGET = Command("memory.forget",
                 lambda result, r: MemoryForgotten(result.record.id if result.record is not None else r.params["id"]),
                 lambda error, r: MemoryFailed("forget", r.params["id"], error), MemoryForgetResult)


def ask_to_edit(screen: SectionScreen, record: mem.MemoryRecord) -> None:
    """Open the edit form; save through the connection (the daemon keeps the old version)."""
    record_id = record.id

    def done(changes: dict | None) -> None:
        if changes:
            screen.oxymus.connection.live.send(EDIT, id=record_id, changes=changes)
        elif changes == {}:
            screen.notify("Nothing changed.", timeout=3)

    screen.app.push_screen(RecordFormScreen.edit(record), done)


def ask_to_forget(screen: SectionScreen, record: mem.MemoryRecord | mem.SearchHit) -> None:
    """Ask first; forgetting archives the record out of search, its history stays."""
    record_id = record.id
    question = ConfirmScreen(f"Forget “{record.title}”?",
                             "It leaves search and goes cold; its history is kept.", yes="forget", no="keep it")
    screen.app.push_screen(question, lambda yes: screen.oxymus.connection.live.send(FORGET, id=record_id, purge=False) if yes else None)

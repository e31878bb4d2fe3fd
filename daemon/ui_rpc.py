"""RPC methods for the person's UI settings: `ui.set_theme` saves the TUI's theme through a `ui.theme` action."""

from __future__ import annotations

from oxymus.client import protocol as proto
from oxymus.daemon.person_edits import run_as_person
from oxymus.daemon.registry import rpc
from oxymus.daemon.rpc import Session


class UiHandlers:
    def __init__(self, store, desk):
        self.store = store
        self.desk = desk

    @rpc("ui.set_theme")
    async def set_theme(self, session: Session, p: proto.ThemeSetParams) -> proto.ThemeSetResult:
        """Proposed as the person: the policy plane decides (by default your own edits run at once); the
        reply waits for the edit, or says why it was not made."""
        action = await run_as_person(self.desk, "ui.theme", p.model_dump(), reason=f"theme picked in {session.client}",
                                     what="the theme", done_word="saved")
        data = action.receipt.data if action.receipt else {}
        return proto.ThemeSetResult(theme=p.theme, path=str(data.get("path", "")),
                                    changed=not (action.receipt and action.receipt.already_done), action=action)

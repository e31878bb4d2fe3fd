"""`ui.theme`: save the TUI's colour theme as `[ui] theme` in config.toml, as an action.

Picking a theme in the TUI proposes this action as the person; the policy plane
decides (by default the person's own edits to their own files run at once) and the
executor makes the edit. Only that one key changes: oxymus.profile.config_edit keeps
the rest of the file byte for byte, creates a missing file with just `[ui]`, and
leaves a file that is not valid TOML as it is, naming the line. Setting the theme the
file already has is recognised as done, so a retry after a crash changes nothing.
"""

from __future__ import annotations

import asyncio
import os
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oxymus.actions.effects import ActionContext, ActionInvalid, ActionSpec, Permanent, Prepared, Preview, Receipt
from oxymus.kernel.textdiff import unified_diff
from oxymus.profile import config_edit
from oxymus.profile.config import ConfigError, check_theme, config_path_from_env


class ThemePayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: str = Field(min_length=1, max_length=100, description="one of Textual's built-in themes, e.g. textual-light")

    @field_validator("theme")
    @classmethod
    def _known(cls, value: str) -> str:
        return check_theme(value)


def config_file(ctx: ActionContext) -> str:
    """The config file the daemon reads (OXYMUS_CONFIG, else config.toml in the config dir)."""
    return config_path_from_env(os.path.join(str(ctx.config_dir), "config.toml"))


def describe(p: ThemePayload) -> str:
    return f"config.toml: [ui] theme = {p.theme}"


class ThemeSpec(ActionSpec):
    kind: ClassVar[str] = "ui.theme"
    Payload: ClassVar[type[BaseModel]] = ThemePayload
    scope = "own_files"
    risk = "low"
    description = "save the TUI's colour theme as [ui] theme in config.toml (the rest of the file stays as written)"
    max_attempts = 3

    async def prepare(self, payload: ThemePayload, ctx: ActionContext) -> Prepared:  # type: ignore[override]
        path = config_file(ctx)
        try:
            edit = await asyncio.to_thread(config_edit.plan_set, path, "ui", "theme", payload.theme)
        except ConfigError as exc:
            raise ActionInvalid(str(exc)) from None
        diff = unified_diff(edit.old_text or "", edit.new_text, path, path)
        return Prepared(payload=payload.model_dump(mode="json"), preview=Preview(summary=describe(payload), format="diff", body=diff))

    def preview(self, payload: ThemePayload) -> Preview:  # type: ignore[override]
        return Preview(summary=describe(payload), format="diff")

    async def execute(self, payload: ThemePayload, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        path = config_file(ctx)
        try:
            edit = await asyncio.to_thread(config_edit.set_value, path, "ui", "theme", payload.theme)
        except ConfigError as exc:
            raise Permanent(str(exc)) from None
        data = {"path": path, "before": edit.before, "theme": payload.theme, "created": edit.old_text is None}
        if not edit.changed:
            return Receipt(summary=f"{describe(payload)} (already so)", ref=path, already_done=True, data=data)
        return Receipt(summary=describe(payload), ref=path, data=data)

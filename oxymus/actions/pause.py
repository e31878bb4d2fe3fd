"""The pause ("not today"), apart from the action model: the daemon's status names it, and
status answers before the action machinery is loaded."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PauseState(BaseModel):
    """"Not today": nothing executes automatically until it ends."""

    model_config = ConfigDict(frozen=True)

    since: str
    until: str | None = Field(default=None, description="UTC ISO; None: until resumed")
    by: str = "user"
    reason: str = ""

"""The `[notify]` config section: what a person writes in config.toml for this connector."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from oxymus.time.timeofday import in_window, local_at, optional_window, parse_window

# What a notification is about: each has a switch in `[notify.kinds]`.
Kind = Literal["approval", "bill", "meeting", "github", "digest", "failure", "agent", "pause", "general"]


class NotifyKinds(BaseModel):
    """`[notify.kinds]`: false silences that kind (recorded in `oxymus notifications --all`, never shown)."""

    model_config = ConfigDict(extra="forbid")

    approval: bool = Field(default=True, description="a decision waits for you (Approve/Deny buttons)")
    bill: bool = Field(default=True, description="a bill overdue or due soon (finance, sentinel)")
    meeting: bool = Field(default=True, description="a meeting about to start (sentinel)")
    github: bool = Field(default=True, description="failing CI or a review asked of you (sentinel)")
    digest: bool = Field(default=True, description="the sentinel's evening digest")
    failure: bool = Field(default=True, description="an action failed")
    agent: bool = Field(default=True, description="an agent's run failed or stopped")
    pause: bool = Field(default=True, description="what went stale while automation was paused")
    general: bool = Field(default=True, description="anything else")


class NotifyConfig(BaseModel):
    """`[notify]`: how notifications are shown on this desktop."""

    model_config = ConfigDict(extra="forbid")

    app_name: str = Field(default="Oxymus", min_length=1, max_length=100, description="the application name the desktop shows")
    enabled: bool = Field(default=True, description="false: the desktop shows none (they are recorded, and an open TUI still shows them)")
    timeout_s: int | None = Field(
        default=None, ge=1, le=3600, examples=[10],
        description="seconds a notification stays on screen; unset: the desktop decides",
    )
    quiet_hours: Annotated[str, AfterValidator(optional_window)] = Field(
        default="", examples=["22:00-07:00"],
        description="local HH:MM-HH:MM when only critical notifications are shown; the rest (approvals too) are held "
                    "and shown when quiet hours end; empty: none",
    )
    max_per_hour: int | None = Field(
        default=None, ge=1, le=1000, examples=[10],
        description="at most this many notifications an hour (approvals not counted); more are held and shown "
                    "together as the hour frees up, never dropped; unset: no limit",
    )
    kinds: NotifyKinds = Field(default_factory=NotifyKinds, description="per-kind switches, [notify.kinds]")

    def kind_on(self, kind: str) -> bool:
        return bool(getattr(self.kinds, kind, True))

    def quiet_until(self, now: dt.datetime, zone: dt.tzinfo) -> dt.datetime | None:
        """The end of the quiet hours `now` falls in (UTC), or None outside them."""
        if not self.quiet_hours:
            return None
        window = parse_window(self.quiet_hours, wraps=True)
        local = now.astimezone(zone)
        if not in_window(local.time().replace(second=0, microsecond=0), window):
            return None
        day = local.date() if local.time() < window[1] else local.date() + dt.timedelta(days=1)
        return local_at(day, window[1], zone).astimezone(dt.timezone.utc)

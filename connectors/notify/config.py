"""The `[notify]` config section: what a person writes in config.toml for this connector."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class NotifyConfig(BaseModel):
    """`[notify]`: how notifications are shown on this desktop."""

    model_config = ConfigDict(extra="forbid")

    app_name: str = Field(default="Oxymus", min_length=1, max_length=100, description="the application name the desktop shows")
    enabled: bool = Field(default=True, description="false: notifications are recorded but not shown")
    timeout_s: int | None = Field(
        default=None, ge=1, le=3600, examples=[10],
        description="seconds a notification stays on screen; unset: the desktop decides",
    )

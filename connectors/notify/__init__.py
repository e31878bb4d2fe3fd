"""notify: desktop notifications (the action kind `notify.send`); it polls nothing."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from oxymus.effects import ActionSpec
from oxymus.sources import Source


class NotifyConfig(BaseModel):
    """`[notify]`: how notifications are shown on this desktop."""

    model_config = ConfigDict(extra="forbid")

    app_name: str = Field(default="Oxymus", min_length=1, max_length=100, description="the application name the desktop shows")
    enabled: bool = Field(default=True, description="false: notifications are recorded but not shown")
    timeout_s: int | None = Field(
        default=None, ge=1, le=3600, examples=[10],
        description="seconds a notification stays on screen; unset: the desktop decides",
    )


class NotifyConnector:
    """desktop notifications over D-Bus"""

    name: ClassVar[str] = "notify"
    Config: ClassVar[type[NotifyConfig]] = NotifyConfig

    @classmethod
    def sources(cls, config: NotifyConfig) -> list[Source]:
        return []

    @classmethod
    def actions(cls, config: NotifyConfig | None) -> list[ActionSpec]:
        # Imported here: config loading imports every connector, and the daemon is the
        # only process that sends notifications.
        from oxymus.connectors.notify.send import NotifySend

        return [NotifySend(config if config is not None else NotifyConfig())]

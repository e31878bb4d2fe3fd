"""notify: desktop notifications (the action kind `notify.send`); it polls nothing."""

from __future__ import annotations

from typing import ClassVar

from oxymus.actions.effects import ActionSpec
from oxymus.connectors.notify.config import NotifyConfig
from oxymus.sources.contract import Source


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

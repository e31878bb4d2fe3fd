"""calendar: events and deadlines from CalDAV servers, ICS files, ICS URLs and vdir folders."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from oxymus.connectors.calendar.config import CalDavEntry, CalendarConfig, IcsEntry
from oxymus.sources.contract import Source

if TYPE_CHECKING:
    from oxymus.actions.effects import ActionSpec

__all__ = ["CalDavEntry", "CalendarConfig", "CalendarConnector", "IcsEntry"]


class CalendarConnector:
    """calendars: CalDAV, ICS files and URLs, vdir folders"""

    name: ClassVar[str] = "calendar"
    Config: ClassVar[type[CalendarConfig]] = CalendarConfig

    @classmethod
    def sources(cls, config: CalendarConfig) -> list[Source]:
        from oxymus.connectors.calendar.source import CalDavSource, IcsSource

        window, cap = (config.past_days, config.future_days), config.max_occurrences
        return [IcsSource(e, window, cap) for e in config.ics] + [CalDavSource(e, window, cap) for e in config.caldav]

    @classmethod
    def actions(cls, config: CalendarConfig | None) -> list[ActionSpec]:
        # Imported here: config loading imports every connector, and only the daemon acts.
        from oxymus.connectors.calendar.actions import CreateEvent

        return [CreateEvent(config if config is not None else CalendarConfig())]

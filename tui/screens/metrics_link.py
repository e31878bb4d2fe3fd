"""What the Metrics section asks of the daemon (`metrics.get`), and what it is told back (past-tense messages).

The query is standing: it runs when the section is first shown, on every reconnect, and after
the events that change what the metrics count (records, actions, finished agent runs, triaged
captures). A computation reads months of the audit log (about half a second at 100k rows, on
the daemon's reader thread), so a burst of events is let settle for DEBOUNCE seconds and costs
one run; a run never overlaps the next (the debouncer waits for the answer). While the section
is out of sight its events only mark it stale (`live.hold`), and one run follows when it is shown.
"""

from __future__ import annotations

from typing import Callable

from textual.message import Message

from oxymus.metrics.models import MetricsResult
from oxymus.tui.link.live import Answer, LiveQuery

TOPICS = ("record.*", "action.changed", "agent.finished", "capture.triaged")
DEBOUNCE = 2.0  # seconds: events within this window cost one computation


class MetricsLoaded(Message, bubble=False):
    def __init__(self, result: MetricsResult, months: int) -> None:
        super().__init__()
        self.result = result
        self.months = months  # what was asked (an answer for a window since changed is not shown)


class MetricsFailed(Message, bubble=False):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def _loaded(answer: Answer) -> MetricsLoaded:
    return MetricsLoaded(answer.value, int(answer.params.get("months", 0)))


def metrics_query(months: Callable[[], int]) -> LiveQuery:
    """The standing query for one Metrics screen, asking for as many `months` as it shows."""
    return LiveQuery("metrics.get", "metrics.get", _loaded, MetricsResult, params=lambda: {"months": months()},
                     topics=TOPICS, debounce=DEBOUNCE, failed=lambda error, _p: MetricsFailed(error), offline_quiet=True,
                     replay=True)

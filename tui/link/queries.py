"""The sections' standing queries, declared here rather than in the screens that show them.

The link runs them from the moment it connects, whichever section is in front, so they must
be known when the app starts; declared in the screen modules, they would make the app import
every screen (and its models) before its first paint. Here they cost a few objects: each
answer's model is named as "module:Name" and imported when the first answer arrives
(live.model). A screen asks for one again with `live.ask(QUERY)`; the one-off queries and
commands a single screen sends stay in its module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from oxymus.tui.link.live import LiveQuery
from oxymus.tui.link.messages import (
    ApprovalsLoaded, BudgetLoaded, PlansFailed, PlansLoaded, TodayFailed, TodayLoaded, TodayPlanFailed, TodayPlanLoaded,
)

TODAY_TOPICS = ("state.changed", "source.health")  # events after which the day is reloaded
TODAY_DEBOUNCE = 0.2  # seconds: events arriving within this window cost one reload
BUDGET_DEBOUNCE = 0.1  # seconds: memory.changed events within this window cost one budget reload
QUEUE_LIMIT = 500
QUEUE_DEBOUNCE = 0.05  # seconds: approvals.changed events within this window cost one queue reload


def _local_date(zone: str, now: float) -> str:
    try:
        return dt.datetime.fromtimestamp(now, ZoneInfo(zone)).date().isoformat()
    except (ValueError, KeyError, OSError):  # a zone this machine does not know: use its own
        return dt.datetime.fromtimestamp(now).date().isoformat()


def date_changed(today: Any, now: float) -> bool:
    """Whether the date in the day's zone (a Today or a TodayPlanResult) is no longer the day shown (midnight passed)."""
    return today is not None and _local_date(today.zone, now) != today.date


def _open_statuses() -> dict[str, Any]:
    from oxymus.actions.model import OPEN  # the actions' models, only once the queue is asked for

    return {"status": list(OPEN), "limit": QUEUE_LIMIT}


# Today (key 1): the day, on connect, after every poll or source change (a burst costs one reload), and when
# the date changed in the day's zone. A failure stays shown (and replayed) until the next answer.
TODAY = LiveQuery("today.get", "today.get", lambda a: TodayLoaded(a.value, a.received_at), "oxymus.today.view:Today",
                  params=dict, topics=TODAY_TOPICS, debounce=TODAY_DEBOUNCE, failed=lambda error, _p: TodayFailed(error),
                  replay=True, replay_failure=True, report_drop=False, stale=date_changed)
# The day plan and the free slots: again when a plan is saved or the events change, and after midnight.
PLAN = LiveQuery("today.plan", "today.plan", lambda a: TodayPlanLoaded(a.value), "oxymus.client.protocol:TodayPlanResult",
                 params=dict, topics=("artifact.saved", "state.changed"), debounce=TODAY_DEBOUNCE,
                 accepts=lambda e: e.topic != "artifact.saved" or e.data.get("kind") == "day_plan",
                 failed=lambda error, _p: TodayPlanFailed(error), replay=True, report_drop=False, stale=date_changed)
# Memory (key 3): hot memory's budget (the title line there and on a record), on connect and after every change.
BUDGET = LiveQuery("memory.budget", "memory.budget", lambda a: BudgetLoaded(a.value), "oxymus.memory.records:BudgetReport",
                   params=dict, topics=("memory.changed",), debounce=BUDGET_DEBOUNCE, replay=True)
# Plans (key 4): PLANS.md as the daemon parsed it, on connect and after every change (the link's own edits too).
PLANS = LiveQuery("plans.get", "plans.get", lambda a: PlansLoaded(a.value), "oxymus.client.protocol:PlansResult",
                  params=dict, topics=("plans.changed",), failed=lambda error, _p: PlansFailed("get", error), replay=True)
# Approvals (key 5): the queue (waiting and snoozed, oldest first), on connect and after every approvals.changed.
QUEUE = LiveQuery("actions.list", "actions.list", lambda a: ApprovalsLoaded(list(a.value.actions)),
                  "oxymus.client.protocol:ActionsListResult", params=_open_statuses, topics=("approvals.changed",),
                  debounce=QUEUE_DEBOUNCE, replay=True, offline_quiet=True)

STANDING: tuple[LiveQuery, ...] = (TODAY, PLAN, BUDGET, PLANS, QUEUE)  # what create_app declares on the link

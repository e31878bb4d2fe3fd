"""The morning review's text: the progress line, the day's timeline with a now line, marks for decisions."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from rich.text import Text

from oxymus.agents.dayplan import DayPlan
from oxymus.agents.review import LABELS, STEPS
from oxymus.kernel.wording import duration_words

MARKS = {"carry": "→ carry", "drop": "✗ drop", "done": "✓ done", "accepted": "✓ accepted", "memory": "✓ memory",
         "plan_action": "✓ next action", "archive": "✓ archived", "approve": "✓ approved", "deny": "✗ denied",
         "snooze": "… snoozed", "skipped": "skipped"}


def progress_text(step: str, finished: bool = False, steps: tuple[str, ...] = STEPS,
                  labels: dict[str, str] = LABELS) -> Text:
    """`Yesterday › Calendar › [Inbox] › Approvals › Top three › Done`: the current step bracketed and bold
    (the weekly review passes its own steps and labels)."""
    text = Text()
    current = steps.index(step) if step in steps else 0
    for n, name in enumerate(steps):
        if n:
            text.append(" › ", style="dim")
        label = labels[name]
        if n == current:
            text.append(f"[{label}]", style="bold reverse")
        elif n < current or finished:
            text.append(f"✓{label}", style="green")
        else:
            text.append(label, style="dim")
    return text


def _local(iso: str, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.fromisoformat(iso).astimezone(zone)


def timeline_text(plan: DayPlan, now: float) -> Text:
    """All-day events first, then today's fixed events and free slots in time order with a now line where now is, then conflicts."""
    try:
        zone = ZoneInfo(plan.zone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    moment = dt.datetime.fromtimestamp(now, dt.timezone.utc)
    rows: list[tuple[str, str, str, str]] = []  # (starts_at, ends_at, when, what)
    for ev in plan.events:
        if not ev.all_day:
            rows.append((ev.starts_at, ev.ends_at, ev.when, ev.summary))
    for slot in plan.free_slots:
        rows.append((slot.starts_at, slot.ends_at, f"{slot.start}–{slot.end}", f"free ({duration_words(slot.minutes)})"))
    rows.sort(key=lambda r: _local(r[0], zone))
    text = Text()
    text.append(f"Working hours {plan.working_hours}", style="bold")
    text.append(f" · {duration_words(plan.free_minutes)} free" if plan.free_minutes else " · no free time left", style="dim")
    text.append("\n")
    for ev in plan.events:  # all-day events first, as on Today: they frame the day rather than take a slot of it
        if ev.all_day:
            extra = f" (day {ev.day_of[0]} of {ev.day_of[1]})" if ev.day_of else ""
            text.append(f"  all day       {ev.summary}{extra}\n", style="cyan")
    now_shown = False
    for starts, ends, when, what in rows:
        start, end = _local(starts, zone), _local(ends, zone)
        if not now_shown and start > moment:
            text.append(f"── now {moment.astimezone(zone):%H:%M} " + "─" * 20 + "\n", style="bold red")
            now_shown = True
        free = what.startswith("free (")
        past = end <= moment
        current = start <= moment < end
        style = "dim" if past else ("green" if free else ("bold" if current else ""))
        text.append(f"{'▶' if current else ' '} {when:<13} ", style=style)
        text.append(f"{what}\n", style=style)
    if not now_shown:
        text.append(f"── now {moment.astimezone(zone):%H:%M} " + "─" * 20 + "\n", style="bold red")
    for conflict in plan.conflicts:
        text.append(f"⚠ {conflict}\n", style="bold yellow")
    if not rows and not plan.events:
        text.append("Nothing fixed today.\n", style="dim")
    return text

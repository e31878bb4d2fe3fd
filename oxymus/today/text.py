"""Plain-text rendering of a Today view for the terminal (the CLI's `oxymus today`)."""

from __future__ import annotations

import datetime as dt

from oxymus.kernel.textfmt import duration, one_line
from oxymus.kernel.wording import relative_days
from oxymus.today.view import Today


def freshness(source) -> str:
    age = "never polled" if source.age_s is None else f"{duration(source.age_s)} ago"
    status = source.status.replace("_", " ")
    line = f"{status:<12} {age}"
    if source.last_error and source.consecutive_failures:
        line += f"  ({source.consecutive_failures}x) {one_line(source.last_error, 90)}"
    if source.suspect:
        line += "  [held back: " + one_line(source.suspect, 60) + "]"
    return line


def render(today: Today) -> str:
    day = dt.date.fromisoformat(today.date)
    out = [f"{day:%A %d %B %Y} ({today.zone})", ""]
    out.append("Events")
    if today.events_unknown:
        out.append(f"  {today.events_unknown}")
    elif not today.events:
        out.append("  nothing scheduled")
    for e in today.events:
        when = "all day    " if e.all_day else f"{e.start}-{e.end}".ljust(11)
        extra = f" (day {e.day_of[0]}/{e.day_of[1]})" if e.day_of else ""
        where = f" · {e.location}" if e.location else ""
        out.append(f"  {when}  {one_line(e.summary, 60)}{extra}{where}")
    if today.deadlines:
        out += ["", "Deadlines"]
        for d in today.deadlines:
            out.append(f"  {'OVERDUE ' if d.overdue else ''}{d.due}  {one_line(d.summary, 60)} ({relative_days(d.days_left)})")
    if today.bills:
        out += ["", "Bills"]
        for b in today.bills:
            label = {"overdue": "OVERDUE", "due_today": "DUE TODAY", "upcoming": "upcoming", "paid": "paid", "autopay": "autopay"}[b.status]
            out.append(f"  {label:<9}  {b.name}  {b.amount:,.2f} {b.currency}  due {b.due} ({relative_days(b.days_left)})")
    if today.repos:
        out += ["", "Repos needing attention"]
        for r in today.repos:
            detail = r.error or ", ".join(r.attention)
            out.append(f"  {r.name}{f' ({r.branch})' if r.branch else ''}: {detail}")
    if today.pull_requests or today.issues_assigned:
        out += ["", "Pull requests needing you"]
        for p in today.pull_requests:
            checks = f" [{', '.join(p.failing_checks)}]" if p.failing_checks else ""
            out.append(f"  {p.repo}#{p.number} {one_line(p.title, 60)} — {p.why}{checks}")
        if today.issues_assigned:
            out.append(f"  {today.issues_assigned} open issue(s) assigned to you")
    if today.problems:
        out += ["", "Problems"]
        out += [f"  {p.source}: {one_line(p.message, 100)}" for p in today.problems]
    out += ["", "Sources"]
    if not today.sources:
        out.append("  none configured (see `oxymus init` and docs/reference.md)")
    width = max((len(s.source) for s in today.sources), default=0)
    for s in today.sources:
        out.append(f"  {s.source:<{width}}  {freshness(s)}")
    return "\n".join(out)

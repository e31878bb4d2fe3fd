"""Compounding metrics computed from one read-only connection (run on a store reader thread).

Every family buckets an item by the month (in the person's zone) of the event that ends it:
an action by its final status, a duration by when it was resolved, a run by when it finished.
Definitions are in README.md ("Metrics"); the tests hold a seeded history with known answers.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict

from oxymus.metrics.buckets import Durations, Months, Ratio, hours_between, hours_sql, metric
from oxymus.metrics.handoffs import record_moves
from oxymus.metrics.models import Metric, MetricsResult

# An action is finished when it can no longer change; flow steps and compensations belong to their flow.
FINISHED = ("succeeded", "failed", "denied", "expired", "compensated", "cancelled")


def _final_statuses() -> dict[str, set[str]]:
    """Per record kind, the statuses its pipeline goes on from no further (a lead's won and lost)."""
    from oxymus.records.kinds import registered

    return {name: {w for w in kind.status_words() if not kind.next_statuses(w)} for name, kind in registered().items()}


def handoff_metrics(db: sqlite3.Connection, months: Months) -> list[Metric]:
    overall = Ratio()
    per_flow: dict[str, Ratio] = defaultdict(Ratio)
    # Summed per flow and month by SQLite: Python gets a row per (flow, month), not one per action.
    bucket, params = months.sql("a.updated_at")
    rows = db.execute(
        f"SELECT a.kind, {bucket}, sum((SELECT count(*) FROM action_approvals p WHERE p.action_id = a.id) "
        f"+ coalesce(json_extract(a.proposer, '$.type') = 'user', 0)), count(*) FROM actions a "
        f"WHERE a.flow_id IS NULL AND a.compensates IS NULL AND a.status IN ({', '.join('?' * len(FINISHED))}) "
        f"AND a.updated_at >= ? AND a.updated_at < ? GROUP BY 1, 2", (*params, *FINISHED, months.lo, months.hi),
    ).fetchall()
    for kind, month, touches, finished in rows:
        overall.add(month, touches, finished)
        per_flow[kind].add(month, touches, finished)
    # A record's flow: the person's status moves over its life, counted when it reaches a final status.
    finals = _final_statuses()
    manual: dict[str, int] = defaultdict(int)
    for move in record_moves(db, months.hi):
        manual[move.record_id] += move.manual
        if move.to in finals.get(move.kind, ()) and (month := months.of(move.ts)) is not None:
            overall.add(month, manual[move.record_id])
            per_flow[f"record:{move.kind}"].add(month, manual[move.record_id])
            manual[move.record_id] = 0
    out = [metric("handoffs.all", "handoffs", "handoffs/item", "per_item", "lower", overall.values(months))]
    for flow in sorted(per_flow):
        out.append(metric(f"handoffs.{flow}", "handoffs", f" {flow}", "per_item", "lower", per_flow[flow].values(months)))
    return out


def _first_status_times(db: sqlite3.Connection, kind: str, start_status: str | None, end_status: str,
                        until: str) -> list[tuple[str, str]]:
    """(start, end) per record of `kind`: created (in `start_status` if given) to its first version in
    `end_status` (or, with end_status '!new', its first version out of `new`)."""
    cond = "rv.status != 'new'" if end_status == "!new" else "rv.status = ?"
    params: tuple = () if end_status == "!new" else (end_status,)
    rows = db.execute(
        f"""
        SELECT first.changed_at, first.status,
               (SELECT min(mv.changed_at) FROM record_versions rv JOIN memory_versions mv
                  ON mv.record_id = rv.record_id AND mv.version = rv.version
                WHERE rv.record_id = r.id AND {cond})
        FROM records r JOIN (
            SELECT rv.record_id AS rid, rv.status AS status, mv.changed_at AS changed_at
            FROM record_versions rv JOIN memory_versions mv ON mv.record_id = rv.record_id AND mv.version = rv.version
            WHERE rv.version = (SELECT min(version) FROM record_versions WHERE record_id = rv.record_id)
        ) first ON first.rid = r.id
        WHERE r.kind = ?
        """, (*params, kind),
    ).fetchall()
    return [(began, ended) for began, status, ended in rows
            if ended is not None and ended < until and (start_status is None or status == start_status)]


def resolution_metrics(db: sqlite3.Connection, months: Months) -> list[Metric]:
    lead, post, capture, approval = Durations(), Durations(), Durations(), Durations()
    for began, ended in _first_status_times(db, "lead", "new", "!new", months.hi):
        lead.add(months.of(ended), hours_between(began, ended))
    for began, ended in _first_status_times(db, "post", "idea", "published", months.hi):
        post.add(months.of(ended), hours_between(began, ended))
    # Tens of thousands of rows at 100k audit lines: SQLite buckets them and computes the hours, so Python parses
    # no time (the first triage per capture is found before the join, once per capture rather than per line).
    bucket, params = months.sql("f.first")
    for month, hours in db.execute(
        f"SELECT {bucket}, {hours_sql('c.created_at', 'f.first')} FROM (SELECT subject, min(ts) AS first FROM audit_log "
        f"WHERE verb = 'capture.triaged' AND ts >= ? AND ts < ? GROUP BY subject) f JOIN captures c ON c.id = f.subject",
        (*params, months.lo, months.hi),
    ):
        capture.add(month, hours)
    # Waiting for the person: from the proposal to their first approve or deny (a snooze is still waiting).
    bucket, params = months.sql("d.decided")
    for month, hours in db.execute(
        f"SELECT {bucket}, {hours_sql('a.created_at', 'd.decided')} FROM actions a JOIN (SELECT action_id, min(at) AS decided "
        f"FROM action_approvals WHERE decision IN ('approved', 'denied') GROUP BY action_id) d ON d.action_id = a.id "
        f"WHERE a.flow_id IS NULL AND json_extract(a.decision, '$.outcome') = 'require_approval' "
        f"AND a.updated_at >= ? AND d.decided >= ? AND d.decided < ?", (*params, months.lo, months.lo, months.hi),
    ):
        approval.add(month, hours)
    return [
        metric("resolution.lead_first_reply", "resolution", "lead→reply", "hours", "lower", lead.values(months)),
        metric("resolution.idea_published", "resolution", "idea→published", "hours", "lower", post.values(months)),
        metric("resolution.capture_triaged", "resolution", "capture→triaged", "hours", "lower", capture.values(months)),
        metric("resolution.approval_wait", "resolution", "approval wait", "hours", "lower", approval.values(months)),
    ]


def error_metrics(db: sqlite3.Connection, months: Months) -> list[Metric]:
    runs, actions = Ratio(100.0), Ratio(100.0)
    bucket, params = months.sql("finished_at")
    for month, failed, ended in db.execute(
        f"SELECT {bucket}, sum(outcome = 'failed'), count(*) FROM agent_runs WHERE outcome IN ('succeeded', 'failed', 'stopped') "
        f"AND finished_at >= ? AND finished_at < ? GROUP BY 1", (*params, months.lo, months.hi),
    ):
        runs.add(month, failed, ended)
    bucket, params = months.sql("updated_at")
    for month, failed, ran in db.execute(
        # Each effect that ran once: a flow's steps and compensations, not the flow that carries them.
        f"SELECT {bucket}, sum(status = 'failed'), count(*) FROM actions WHERE status IN ('succeeded', 'failed', 'compensated') "
        f"AND kind != 'flow' AND updated_at >= ? AND updated_at < ? GROUP BY 1", (*params, months.lo, months.hi),
    ):
        actions.add(month, failed, ran)
    return [
        metric("errors.runs", "errors", "failed runs/100", "per_100", "lower", runs.values(months)),
        metric("errors.actions", "errors", "failed acts/100", "per_100", "lower", actions.values(months)),
    ]


OUTCOMES = ("unchanged", "edited", "denied", "expired")
SHORT = {"unchanged": "as-is", "edited": "edited", "denied": "denied", "expired": "expired"}


def agent_metrics(db: sqlite3.Connection, months: Months) -> list[Metric]:
    """Per agent, of its proposals that waited for the person and were settled in the month: the share of each outcome."""
    shares: dict[str, dict[str, Ratio]] = defaultdict(lambda: {o: Ratio(100.0) for o in OUTCOMES})
    # The person's last approve or deny settles it (edited on the way: "edited"); unsettled and expired: "expired".
    # One join over the decisions aggregated per action, not a subquery per action, and SQLite finds the month.
    bucket, params = months.sql("CASE WHEN f.decision IS NOT NULL THEN f.at ELSE a.expires_at END")
    rows = db.execute(
        f"SELECT json_extract(a.proposer, '$.name'), "
        f"CASE f.decision WHEN 'denied' THEN 'denied' WHEN 'approved' THEN (CASE WHEN e.action_id IS NULL THEN 'unchanged' "
        f"ELSE 'edited' END) ELSE (CASE WHEN a.status = 'expired' THEN 'expired' END) END, {bucket}, count(*) "
        f"FROM actions a "
        f"LEFT JOIN (SELECT action_id, max(seq) AS last FROM action_approvals WHERE decision IN ('approved', 'denied') "
        f"GROUP BY action_id) l ON l.action_id = a.id LEFT JOIN action_approvals f ON f.seq = l.last "
        f"LEFT JOIN (SELECT DISTINCT action_id FROM action_approvals WHERE decision = 'edited') e ON e.action_id = a.id "
        f"WHERE a.flow_id IS NULL AND json_extract(a.proposer, '$.type') = 'agent' "
        f"AND json_extract(a.decision, '$.outcome') = 'require_approval' AND a.updated_at >= ? GROUP BY 1, 2, 3",
        (*params, months.lo),
    ).fetchall()
    for agent, outcome, month, n in rows:
        if outcome is None:
            continue  # still waiting
        for o in OUTCOMES:
            shares[agent][o].add(month, n if o == outcome else 0, n)
    out = []
    for agent in sorted(shares):
        for o in OUTCOMES:
            out.append(metric(f"agents.{agent}.{o}", "agents", f"{agent[:9]} {SHORT[o]}%", "share",
                              "higher" if o == "unchanged" else "lower", shares[agent][o].values(months)))
    return out


def compute(db: sqlite3.Connection, *, now: dt.datetime, zone: dt.tzinfo, months: int = 6) -> MetricsResult:
    window = Months(now, zone, months)
    found = [*handoff_metrics(db, window), *resolution_metrics(db, window), *error_metrics(db, window), *agent_metrics(db, window)]
    return MetricsResult(zone=getattr(zone, "key", str(zone)), months=window.keys,
                         computed_at=now.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z"), metrics=found)



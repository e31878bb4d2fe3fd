"""What a status bar shows: approvals waiting, open captures, problems. Stdlib only.

One set of queries for both ways of asking: the daemon runs them through its store
(`status.line`), and `oxymus status --line` runs them on a read-only connection when
the daemon is down, so the two cannot count differently. A problem is a source that
is failing now, an agent whose latest run failed or stopped, or a kind of action
whose latest finished action failed (a later success of that kind clears it).
"""

from __future__ import annotations

APPROVALS = "SELECT count(*) FROM actions WHERE status IN ('awaiting_approval', 'snoozed')"
INBOX = "SELECT count(*) FROM captures WHERE status = 'open'"
FAILING_SOURCES = (
    "SELECT source, consecutive_failures, coalesce(error_class, '') FROM source_health "
    "WHERE consecutive_failures > 0 ORDER BY source"
)
FAILED_AGENTS = (
    "SELECT agent, outcome FROM agent_runs r WHERE outcome IN ('failed', 'stopped') "
    "AND seq = (SELECT max(seq) FROM agent_runs WHERE agent = r.agent AND outcome != 'running') ORDER BY agent"
)
FAILED_ACTIONS = (
    "SELECT kind FROM actions a WHERE status = 'failed' AND seq = (SELECT max(seq) FROM actions "
    "WHERE kind = a.kind AND status IN ('succeeded', 'failed', 'compensated')) ORDER BY kind"
)
QUERIES = (APPROVALS, INBOX, FAILING_SOURCES, FAILED_AGENTS, FAILED_ACTIONS)


def summarize(approvals: list[tuple], inbox: list[tuple], sources: list[tuple], agents: list[tuple],
              actions: list[tuple]) -> dict:
    """The counts and each problem in words, from the rows of QUERIES (in that order)."""
    problems = []
    for source, failures, error_class in sources:
        how = "needs you" if error_class == "needs_human" else "failing"
        problems.append(f"{source} {how} {failures}x" if how == "failing" else f"{source} needs you ({failures}x)")
    problems += [f"agent {agent} {outcome}" for agent, outcome in agents]
    problems += [f"action {kind} failed" for (kind,) in actions]
    return {"approvals": approvals[0][0], "inbox": inbox[0][0], "problems": problems}


def read(conn) -> dict:
    """The counts from a sqlite3 connection (the daemon-down path)."""
    return summarize(*(conn.execute(sql).fetchall() for sql in QUERIES))

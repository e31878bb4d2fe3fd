"""Agent runs, their artifacts and each agent's small private state."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from oxymus.agents.base import AgentRun, Artifact
from oxymus.store import audit_sql

if TYPE_CHECKING:
    from oxymus.store.repos import Store

RUN_COLUMNS = ("id, agent, trigger, trace_id, started_at, finished_at, duration_ms, outcome, error, summary, "
               "inputs, artifacts, actions, llm, llm_available")
_RUN_NAMES = [c.strip() for c in RUN_COLUMNS.split(",")]
_RUN_JSON = ("inputs", "artifacts", "actions", "llm")
ARTIFACT_COLUMNS = "id, agent, run_id, kind, key, title, content, data, path, created_at"
_ARTIFACT_NAMES = [c.strip() for c in ARTIFACT_COLUMNS.split(",")]


def _run(row: tuple) -> AgentRun:
    data: dict[str, Any] = dict(zip(_RUN_NAMES, row))
    for key in _RUN_JSON:
        data[key] = json.loads(data[key])
    if data["llm_available"] is not None:
        data["llm_available"] = bool(data["llm_available"])
    return AgentRun.model_validate(data)


def _artifact(row: tuple) -> Artifact:
    data: dict[str, Any] = dict(zip(_ARTIFACT_NAMES, row))
    data["data"] = json.loads(data["data"])
    return Artifact.model_validate(data)


class AgentRepo:
    def __init__(self, store: "Store"):
        self.store = store

    async def start_run(self, run: AgentRun) -> None:
        await self.store.transaction([
            ("INSERT INTO agent_runs (id, agent, trigger, trace_id, started_at, outcome) VALUES (?, ?, ?, ?, ?, 'running')",
             (run.id, run.agent, run.trigger, run.trace_id, run.started_at)),
            audit_sql.statement(actor=f"agent:{run.agent}", verb="agent.started", subject=run.id, trace_id=run.trace_id,
                                details={"agent": run.agent, "trigger": run.trigger}),
        ])

    async def finish_run(self, run: AgentRun) -> None:
        await self.store.transaction([
            ("UPDATE agent_runs SET finished_at = ?, duration_ms = ?, outcome = ?, error = ?, summary = ?, inputs = ?, "
             "artifacts = ?, actions = ?, llm = ?, llm_available = ? WHERE id = ?",
             (run.finished_at, run.duration_ms, run.outcome, run.error, run.summary,
              json.dumps([i.model_dump() for i in run.inputs], ensure_ascii=False), json.dumps(run.artifacts),
              json.dumps(run.actions), json.dumps([c.model_dump() for c in run.llm], ensure_ascii=False),
              None if run.llm_available is None else int(run.llm_available), run.id)),
            audit_sql.statement(actor=f"agent:{run.agent}", verb=f"agent.{run.outcome}", subject=run.id, trace_id=run.trace_id,
                                details={"agent": run.agent, "summary": run.summary, "error": run.error,
                                         "duration_ms": run.duration_ms, "actions": run.actions, "artifacts": run.artifacts}),
        ])

    async def interrupted(self, now: str) -> int:
        """Runs a dead daemon left 'running' are marked failed (they retry on their next trigger)."""
        rows = await self.store.fetchall("SELECT id FROM agent_runs WHERE outcome = 'running'")
        if rows:
            await self.store.transaction([(
                "UPDATE agent_runs SET outcome = 'failed', finished_at = ?, error = 'interrupted: the daemon stopped during the run' "
                "WHERE outcome = 'running'", (now,),
            )])
        return len(rows)

    async def runs(self, agent: str | None = None, limit: int = 50, trace_id: str | None = None) -> list[AgentRun]:
        where, params = [], []
        if agent:
            where.append("agent = ?")
            params.append(agent)
        if trace_id:
            where.append("trace_id = ?")
            params.append(trace_id)
        sql = f"SELECT {RUN_COLUMNS} FROM agent_runs" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY seq DESC LIMIT ?"
        return [_run(r) for r in await self.store.fetchall(sql, (*params, limit))]

    async def get_run(self, run_id: str) -> AgentRun | None:
        row = await self.store.fetchone(f"SELECT {RUN_COLUMNS} FROM agent_runs WHERE id = ?", (run_id.upper(),))
        return None if row is None else _run(row)

    async def save_artifact(self, artifact: Artifact) -> Artifact:
        """Store (or replace, for the same agent, kind and key) an artifact."""
        await self.store.transaction([(
            f"INSERT INTO artifacts ({ARTIFACT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (agent, kind, key) DO UPDATE SET id = excluded.id, run_id = excluded.run_id, title = excluded.title, "
            "content = excluded.content, data = excluded.data, path = excluded.path, created_at = excluded.created_at",
            (artifact.id, artifact.agent, artifact.run_id, artifact.kind, artifact.key, artifact.title, artifact.content,
             json.dumps(artifact.data, ensure_ascii=False, default=str), artifact.path, artifact.created_at),
        )])
        return artifact

    async def artifacts(self, kind: str | None = None, *, agent: str | None = None, key: str | None = None,
                        limit: int = 50) -> list[Artifact]:
        where, params = [], []
        for column, value in (("kind", kind), ("agent", agent), ("key", key)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = f"SELECT {ARTIFACT_COLUMNS} FROM artifacts" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY seq DESC LIMIT ?"
        return [_artifact(r) for r in await self.store.fetchall(sql, (*params, limit))]

    async def artifact_keys(self, kind: str, agent: str) -> set[str]:
        """The keys of an agent's artifacts of one kind: which captures already have a suggestion, cheaply."""
        rows = await self.store.fetchall("SELECT key FROM artifacts WHERE agent = ? AND kind = ?", (agent, kind))
        return {r[0] for r in rows}

    async def artifact_data(self, kind: str, agent: str, keys: list[str]) -> dict[str, str]:
        """key -> the raw `data` JSON of these artifacts (for views that read a field or two of many)."""
        out: dict[str, str] = {}
        for i in range(0, len(keys), 500):  # under SQLite's parameter limit
            chunk = keys[i:i + 500]
            rows = await self.store.fetchall(
                f"SELECT key, data FROM artifacts WHERE agent = ? AND kind = ? AND key IN ({', '.join('?' * len(chunk))})",
                (agent, kind, *chunk),
            )
            out.update(dict(rows))
        return out

    async def recall(self, agent: str, key: str) -> Any:
        row = await self.store.fetchone("SELECT value FROM agent_state WHERE agent = ? AND key = ?", (agent, key))
        return None if row is None else json.loads(row[0])

    async def remember(self, agent: str, key: str, value: Any, now: str) -> None:
        await self.store.transaction([(
            "INSERT INTO agent_state (agent, key, value, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (agent, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (agent, key, json.dumps(value, ensure_ascii=False, default=str), now),
        )])

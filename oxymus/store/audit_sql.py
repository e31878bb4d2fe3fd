"""The audit log's insert, stdlib-only so every writer (daemon or offline CLI) logs the same way."""

from __future__ import annotations

import json

from oxymus.time.clock import now_iso

INSERT = "INSERT INTO audit_log (ts, actor, verb, subject, trace_id, details) VALUES (?, ?, ?, ?, ?, ?)"
COLUMNS = "seq, ts, actor, verb, subject, trace_id, details"


def statement(*, actor: str, verb: str, subject: str, trace_id: str, details: dict[str, object] | None = None) -> tuple[str, tuple]:
    return INSERT, (now_iso(), actor, verb, subject, trace_id, json.dumps(details or {}, sort_keys=True, ensure_ascii=False))

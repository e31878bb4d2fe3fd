"""One action's story and the audit log in words, shared by `oxymus explain`/`oxymus log` and the TUI.

Pure functions of the daemon's JSON (stdlib, plus the policy's decision path), so the
CLI and the TUI show the same lines without either importing the other.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

STATUS_WORDS = {
    "awaiting_approval": "waiting for you", "approved": "approved", "denied": "denied", "executing": "running",
    "succeeded": "done", "failed": "FAILED", "snoozed": "snoozed", "expired": "expired", "compensated": "compensated",
    "proposed": "proposed", "cancelled": "cancelled",
}


def local(ts: str | None, zone, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A stored UTC timestamp in `zone` (None: the machine's zone); "-" when there is none."""
    if not ts:
        return "-"
    return dt.datetime.fromisoformat(ts).astimezone(zone).strftime(fmt)


def held_note(a: dict, zone, fmt: str = "%a %d %b %H:%M") -> str:
    """"held until <local time>" for an action with a `not_before` that has not run yet, else ""."""
    if not a.get("not_before") or a["status"] not in ("awaiting_approval", "snoozed", "approved"):
        return ""
    return f"held until {local(a['not_before'], zone, fmt)}"


def proposer_label(p: dict) -> str:
    name = p.get("name") or p.get("type")
    return name if p.get("type") == "user" or name == p.get("type") else f"{p['type']}:{name}"


def event_note(details: dict[str, Any]) -> str:
    """The one thing worth reading about an audit event: its receipt, error, summary, reason or deciding rule."""
    note = details.get("receipt") or details.get("error") or details.get("summary") or details.get("reason") or details.get("rule")
    return str(note) if note else ""


def explain_text(detail: dict, zone, *, preview: bool = True) -> list[str]:
    """The whole story of one action, as `oxymus explain` prints it.

    `preview=False` leaves out the preview's body, for a caller that renders it itself
    (the TUI colours a diff).
    """
    from oxymus.actions.model import Decision
    from oxymus.actions.policy import explain_lines

    a = detail["action"]
    out = [f"{a['id']}  {a['kind']}  risk {a['risk']}  status {STATUS_WORDS.get(a['status'], a['status'])}",
           f"  {a['preview']['summary']}", ""]
    p = a["proposer"]
    out.append(f"Proposed by {proposer_label(p)}" + (f" (run {p['run_id']})" if p.get("run_id") else "") + f" at {local(a['created_at'], zone)}")
    if a.get("reason"):
        out.append(f"Reason: {a['reason']}")
    for i in a.get("inputs", []):
        out.append(f"Input: {i['kind']} {i['ref']}" + (f" ({i['note']})" if i.get("note") else ""))
    if a.get("confidence") is not None:
        out.append(f"Confidence: {a['confidence']:.2f}")
    out.append(f"Trace: {a['trace_id']}   idempotency key: {a['idempotency_key']}")
    if a.get("not_before"):
        out.append(f"Not before: {local(a['not_before'], zone)}" + (" (held until then)" if held_note(a, zone) else ""))
    if a.get("flow_id"):
        role = f"takes back step {a['compensates']}" if a.get("compensates") else f"step {a.get('step')}"
        out.append(f"Flow: {role} of flow {a['flow_id']} (`oxymus explain {a['flow_id']}` shows it whole)")
    if a.get("error"):
        out += ["", f"Error: {a['error']}"]
    steps = detail.get("steps") or []
    if steps:
        out += ["", "Steps:"]
        for s in steps:
            what = f"undo of {s['compensates']}" if s.get("compensates") else f"{s.get('step')}."
            done = (s.get("receipt") or {}).get("summary") or s.get("error") or s["preview"]["summary"]
            out.append(f"  {what:<6} {s['id']}  {s['kind']:<22} {STATUS_WORDS.get(s['status'], s['status']):<16} {done}")
    out += ["", "Policy decision:"] + explain_lines(Decision.model_validate(a["decision"]))
    out += ["", "History:"]
    for e in detail["history"]:
        if e["subject"] != a["id"]:
            continue
        d = e["details"]
        note = d.get("receipt") or d.get("error") or d.get("reason") or d.get("rule") or ""
        via = f" via {d['via']}" if d.get("via") else ""
        out.append(f"  {local(e['ts'], zone)}  {e['verb'].removeprefix('action.'):<18} by {e['actor']}{via}" + (f": {note}" if note else ""))
    related = [e for e in detail["history"] if e["subject"] != a["id"]]
    if related:
        out += ["", "Same trace:"]
        for e in related:
            out.append(f"  {local(e['ts'], zone)}  {e['verb']:<24} {e['subject']}  by {e['actor']}")
    for r in detail.get("receipts", []):
        out.append(f"Receipt (attempt {r['attempt']}): {r['summary']}" + (f"  [{r['ref']}]" if r.get("ref") else "")
                   + ("  (found already done)" if r.get("already_done") else ""))
    out += ["", "Payload:", *("  " + line for line in json.dumps(a["payload"], indent=2, ensure_ascii=False).splitlines())]
    if preview and a["preview"].get("body"):
        out += ["", "Preview:", *("  " + line for line in a["preview"]["body"].splitlines())]
    return out

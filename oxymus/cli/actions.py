"""`oxymus` commands for actions, approvals, the policy plane, the pause and the log."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

from oxymus.actions.explain import STATUS_WORDS, event_note, explain_text, held_note
from oxymus.actions.explain import local as _local
from oxymus.actions.explain import proposer_label as _proposer
from oxymus.cli.base import (
    EXIT_FAIL, EXIT_OK, EXIT_USAGE, Exit, daemon_call, load_config, print_json, resolve_paths, time_zone,
)


def register(command) -> None:
    """Add the commands to the parser through the `command` helper of `oxymus.cli.build_parser`."""
    p = command("propose", cmd_propose, "propose an action as yourself; the policy plane allows it, queues it for approval or denies it")
    p.add_argument("kind", help="e.g. notify.send, git.commit, calendar.create_event, bills.mark_paid")
    p.add_argument("--payload", default="{}", help="the payload as JSON (or - to read it from stdin)")
    p.add_argument("--reason", default="", help="why: shown with the approval")
    p.add_argument("--key", help="idempotency key: proposing the same key again returns the first action")
    p.add_argument("--not-before", metavar="WHEN",
                   help="approved, it is held until then: 2026-12-08T09:00 (local), tomorrow 9:00, 2h; `oxymus cancel` takes it back before")
    p.add_argument("--wait", action="store_true", help="wait until it has finished or waits for approval")
    p.add_argument("--json", action="store_true", help="print the action as JSON")

    p = command("paid", cmd_paid, "record that you paid a bill (proposes bills.mark_paid; big amounts may need your approval by policy)")
    p.add_argument("bill", help="the bill's key or name, as `oxymus today` shows it")
    p.add_argument("--due", help="which due date (YYYY-MM-DD; default: the earliest one not yet paid)")
    p.add_argument("--amount", type=float, help="what you paid (default: the bill's amount)")
    p.add_argument("--note", help="e.g. the transfer reference")

    p = command("approvals", cmd_approvals, "the actions waiting for your decision, oldest first")
    p.add_argument("--json", action="store_true", help="print JSON (a list of actions)")

    p = command("actions", cmd_actions, "recent actions of every status, newest first")
    p.add_argument("--status", action="append", help="only this status (repeatable)")
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    p.add_argument("--json", action="store_true", help="print JSON")

    for name, handler, help in [
        ("approve", cmd_approve, "approve a waiting action (by id or a unique prefix); it runs after the undo grace period"),
        ("deny", cmd_deny, "deny a waiting action; it will not run"),
        ("undo", cmd_undo, "take back your approval or denial within the grace period, before it runs; or a done file patch (its file restored)"),
        ("cancel", cmd_cancel, "cancel an approved action that has not run yet (one held until its time); it will not run"),
    ]:
        p = command(name, handler, help)
        p.add_argument("id", help="the action id, or a unique start of one (4+ characters)").completer = (
            "decided" if name in ("undo", "cancel") else "waiting")
        if name == "approve":
            p.add_argument("--payload", help="approve this edited payload (JSON) instead; it is decided by policy again")
        if name in ("deny", "cancel"):
            p.add_argument("--reason", help="why (kept with the decision)")
        p.add_argument("--json", action="store_true", help="print the action as JSON")

    p = command("snooze", cmd_snooze, "put a waiting action aside; it asks again at the time given")
    p.add_argument("id", help="the action id, or a unique start of one (4+ characters)").completer = "waiting"
    p.add_argument("--until", required=True, help="2h, 30m, tomorrow, tomorrow 9:00, monday, 2026-11-23 14:00")
    p.add_argument("--json", action="store_true", help="print the action as JSON")

    p = command("explain", cmd_explain, "an action's whole story: proposer, inputs, preview, the policy decision path, every status change, receipts")
    p.add_argument("id", help="the action id, or a unique start of one (4+ characters)").completer = "actions"
    p.add_argument("--json", action="store_true", help="print JSON (action, approvals, receipts, history)")

    p = command("pause", cmd_pause, "pause automation ('not today'): nothing executes until you resume or the time given")
    p.add_argument("--until", help="2h, tomorrow, monday 9:00, ... (default: until `oxymus resume`)")
    p.add_argument("--reason", default="", help="a note for yourself")
    command("resume", cmd_resume, "resume automation; proposals that went stale while paused expire (summarised once)")

    p = command("log", cmd_log, "the audit log, newest first; --trace follows one trace from trigger to receipt")
    p.add_argument("--trace", help="a trace id (or an action id: its trace)").completer = "actions"
    p.add_argument("--subject", help="only events about this id")
    p.add_argument("--verb", help="a verb or prefix ending in *, e.g. action.*")
    p.add_argument("--problems", action="store_true", help="only failures, denials and expiries, and agent runs that failed or stopped")
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    p.add_argument("--json", action="store_true", help="print JSON")

    _register_policy(command)


def _register_policy(command) -> None:
    policy = command("policy", None, "the policy plane: check policy.toml, dry-run a decision")
    sub = policy.add_subparsers(title="policy commands", metavar="ACTION", required=True)
    q = sub.add_parser("check", help="validate policy.toml (or FILE) with errors naming the line and key",
                       description="validate policy.toml (or FILE) with errors naming the line and key")
    q.add_argument("file", nargs="?", help="default: policy.toml in the config dir")
    q.set_defaults(handler=cmd_policy_check)
    q = sub.add_parser("explain", help="dry-run the decision for KIND and a payload, through the same code as a live proposal",
                       description="dry-run the decision for KIND and a payload, through the same code as a live proposal")
    q.add_argument("kind")
    q.add_argument("--payload", default="{}", help="the payload as JSON")
    q.add_argument("--by", choices=["user", "agent", "system"], default="user", help="who proposes it (default user)")
    q.add_argument("--agent", help="the proposing agent's name (implies --by agent)")
    q.add_argument("--confidence", type=float, help="the agent's confidence, 0..1")
    q.add_argument("--at", help="decide as if at this time (ISO-8601, local zone if none given)")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(handler=cmd_policy_explain)
    q = sub.add_parser("init", help="write a commented example policy.toml (if there is none)",
                       description="write a commented example policy.toml (if there is none)")
    q.set_defaults(handler=cmd_policy_init)


# --- helpers ----------------------------------------------------------------------------


def _json_arg(command: str, text: str, what: str = "--payload") -> dict[str, Any]:
    if text == "-":
        text = sys.stdin.read()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        print(f"oxymus {command}: {what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", file=sys.stderr)
        raise Exit(EXIT_USAGE) from None
    if not isinstance(value, dict):
        print(f"oxymus {command}: {what} must be a JSON object", file=sys.stderr)
        raise Exit(EXIT_USAGE)
    return value


def _ago(ts: str | None) -> str:
    from oxymus.kernel.textfmt import duration

    if not ts:
        return ""
    delta = (dt.datetime.now(dt.timezone.utc) - dt.datetime.fromisoformat(ts)).total_seconds()
    return f"{duration(abs(delta))} {'ago' if delta >= 0 else 'from now'}"


def _one_line(a: dict) -> str:
    return f"{a['id']}  {a['risk']:<6}  {a['kind']:<22} {a['preview']['summary']}"


def _print_action(command: str, a: dict, as_json: bool) -> None:
    if as_json:
        print_json(a)
        return
    line = f"{a['id']} {a['kind']}: {STATUS_WORDS.get(a['status'], a['status'])}"
    if a["status"] in ("awaiting_approval", "approved", "denied"):
        line += f" (rule: {a['decision']['rule']})"
    held = held_note(a, time_zone())
    if held:
        line += f"; {held}"
    elif a["status"] == "approved" and a.get("next_attempt_at"):
        line += f"; runs {_ago(a['next_attempt_at'])}"
    if a["status"] == "snoozed":
        line += f" until {_local(a['snoozed_until'], time_zone(), '%a %d %b %H:%M')}"
    if a.get("error"):
        line += f": {a['error']}"
    if a.get("receipt"):
        line += f": {a['receipt']['summary']}"
    print(line)
    print(f"  {a['preview']['summary']}")


# --- commands ---------------------------------------------------------------------------


def cmd_propose(args) -> int:
    payload = _json_arg("propose", args.payload)
    params: dict[str, Any] = {"kind": args.kind, "payload": payload, "reason": args.reason}
    if args.key:
        params["key"] = args.key
    if args.not_before:
        params["not_before"] = _not_before(args.not_before)
    result = daemon_call("propose", "actions.propose", params)
    action = result["action"]
    if args.wait and action["status"] in ("approved", "executing"):
        action = _wait(action["id"])
    _print_action("propose", action, args.json)
    if not result["created"] and not args.json:
        print("  (already proposed with this key)")
    return EXIT_FAIL if action["status"] in ("denied", "failed") else EXIT_OK


def _not_before(text: str) -> str:
    """What the person typed as an aware ISO time: a time without a zone is local (the config's zone)."""
    from oxymus.time.when import WhenError, parse_when

    zone = time_zone()
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        try:
            return parse_when(text, dt.datetime.now(dt.timezone.utc), zone).isoformat()
        except WhenError as exc:
            print(f"oxymus propose: --not-before: {exc}", file=sys.stderr)
            raise Exit(EXIT_USAGE) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).isoformat()


def cmd_paid(args) -> int:
    due = args.due
    if due is None:
        bills = daemon_call("paid", "today.get", {})["bills"]
        wanted = args.bill.strip().lower()
        open_ = [b for b in bills if wanted in (b["bill"].lower(), b["name"].lower()) and b["status"] != "paid"]
        if not open_:
            known = ", ".join(sorted({b["bill"] for b in bills})) or "none"
            print(f"oxymus paid: no unpaid due date for {args.bill!r} in the bills window (bills shown today: {known}); "
                  "give --due YYYY-MM-DD", file=sys.stderr)
            return EXIT_USAGE
        due = min(b["due"] for b in open_)
    payload: dict[str, Any] = {"bill": args.bill, "due": due}
    if args.amount is not None:
        payload["amount"] = args.amount
    if args.note:
        payload["note"] = args.note
    result = daemon_call("paid", "actions.propose", {"kind": "bills.mark_paid", "payload": payload,
                                                         "reason": "you said you paid it"})
    action = result["action"]
    if action["status"] in ("approved", "executing"):
        action = _wait(action["id"])
    _print_action("paid", action, False)
    return EXIT_FAIL if action["status"] in ("denied", "failed") else EXIT_OK


def _wait(action_id: str, timeout: float = 120.0) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while True:
        action = daemon_call("propose", "actions.get", {"id": action_id})["action"]
        if action["status"] not in ("approved", "executing") or time.monotonic() > deadline:
            return action
        time.sleep(0.1)


def cmd_approvals(args) -> int:
    actions = daemon_call("approvals", "actions.list", {"status": ["awaiting_approval", "snoozed"]})["actions"]
    if args.json:
        print_json(actions)
        return EXIT_OK
    if not actions:
        print("nothing waits for your decision")
        return EXIT_OK
    zone = time_zone()
    print(f"{len(actions)} waiting for your decision (oldest first)")
    for a in actions:
        note = f"snoozed until {_local(a['snoozed_until'], zone, '%a %H:%M')}" if a["status"] == "snoozed" else f"expires {_ago(a['expires_at'])}"
        if held_note(a, zone):
            note += f"; {held_note(a, zone)}"
        print(f"  {_one_line(a)}")
        print(f"  {'':26}  by {_proposer(a['proposer'])}, {_ago(a['created_at'])}; {note}")
    print("decide with: oxymus approve ID | deny ID [--reason] | snooze ID --until WHEN | explain ID")
    return EXIT_OK


def cmd_actions(args) -> int:
    params: dict[str, Any] = {"limit": args.limit, "newest_first": True}
    if args.status:
        params["status"] = args.status
    actions = daemon_call("actions", "actions.list", params)["actions"]
    if args.json:
        print_json(actions)
        return EXIT_OK
    zone = time_zone()
    for a in actions:
        print(f"{_local(a['updated_at'], zone, '%m-%d %H:%M')}  {STATUS_WORDS.get(a['status'], a['status']):<15} {_one_line(a)}"
              + (f"  ({held_note(a, zone)})" if held_note(a, zone) else ""))
    if not actions:
        print("no actions")
    return EXIT_OK


def cmd_approve(args) -> int:
    params: dict[str, Any] = {"id": args.id}
    if args.payload:
        params["payload"] = _json_arg("approve", args.payload)
    _print_action("approve", daemon_call("approve", "actions.approve", params)["action"], args.json)
    return EXIT_OK


def cmd_deny(args) -> int:
    params: dict[str, Any] = {"id": args.id}
    if args.reason:
        params["reason"] = args.reason
    _print_action("deny", daemon_call("deny", "actions.deny", params)["action"], args.json)
    return EXIT_OK


def cmd_undo(args) -> int:
    _print_action("undo", daemon_call("undo", "actions.undo", {"id": args.id})["action"], args.json)
    return EXIT_OK


def cmd_cancel(args) -> int:
    params: dict[str, Any] = {"id": args.id}
    if args.reason:
        params["reason"] = args.reason
    _print_action("cancel", daemon_call("cancel", "actions.cancel", params)["action"], args.json)
    return EXIT_OK


def cmd_snooze(args) -> int:
    _print_action("snooze", daemon_call("snooze", "actions.snooze", {"id": args.id, "until": args.until})["action"], args.json)
    return EXIT_OK


def cmd_explain(args) -> int:
    detail = daemon_call("explain", "actions.get", {"id": args.id})
    if args.json:
        print_json(detail)
        return EXIT_OK
    print("\n".join(explain_text(detail, time_zone())))
    return EXIT_OK


def cmd_pause(args) -> int:
    params: dict[str, Any] = {"reason": args.reason}
    if args.until:
        params["until"] = args.until
    state = daemon_call("pause", "pause.set", params)["pause"]
    until = _local(state["until"], time_zone(), "%a %d %b %H:%M") if state["until"] else "you run `oxymus resume`"
    print(f"paused until {until}: nothing executes by itself; proposals still queue")
    return EXIT_OK


def cmd_resume(args) -> int:
    result = daemon_call("resume", "pause.clear", {})
    print("resumed" + (f"; {result['expired']} proposal(s) went stale while paused and expired" if result["expired"] else ""))
    return EXIT_OK


def cmd_log(args) -> int:
    params: dict[str, Any] = {"limit": args.limit, "problems": args.problems}
    trace = args.trace
    if trace:
        # An action id is accepted too: follow its trace.
        try:
            from oxymus.client.sync_client import connect

            with connect(resolve_paths().socket, timeout=30) as conn:
                trace = conn.call("actions.get", {"id": trace})["action"]["trace_id"]
        except Exception:  # noqa: BLE001 - not an action: take it as a trace id
            pass
        params["trace_id"] = trace
    for key in ("subject", "verb"):
        if getattr(args, key):
            params[key] = getattr(args, key)
    events = daemon_call("log", "log.query", params)["events"]
    if args.json:
        print_json(events)
        return EXIT_OK
    zone = time_zone()
    for e in events:
        note = event_note(e["details"])
        print(f"{_local(e['ts'], zone)}  {e['actor']:<14} {e['verb']:<24} {e['subject']}" + (f"  {note}" if note else ""))
    if not events:
        print("no matching events")
    return EXIT_OK


def cmd_policy_check(args) -> int:
    from oxymus.actions import policy
    from oxymus.profile.config import ConfigError

    paths = resolve_paths()
    path = args.file or paths.policy_file
    try:
        pol = policy.load(path)
    except ConfigError as exc:
        print(f"oxymus policy check: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if pol.sha256 is None:
        print(f"{path}: no such file; the built-in defaults apply (`oxymus policy init` writes an example)")
        return EXIT_OK
    from oxymus.action_kinds import action_specs

    kinds = sorted(action_specs(load_config(paths)))
    warnings = policy.lint(pol, kinds)
    for w in warnings:
        print(f"{path}: warning: {w}", file=sys.stderr)
    print(f"{path}: valid, {len(pol.rules)} rule{'s' if len(pol.rules) != 1 else ''}"
          + (f", {len(warnings)} warning{'s' if len(warnings) != 1 else ''}" if warnings else ""))
    return EXIT_OK


def cmd_policy_explain(args) -> int:
    params: dict[str, Any] = {"kind": args.kind, "payload": _json_arg("policy explain", args.payload)}
    by = "agent" if args.agent else args.by
    params["proposer"] = {"type": by, "name": args.agent or by}
    if args.confidence is not None:
        params["confidence"] = args.confidence
    if args.at:
        params["at"] = args.at
    result = daemon_call("policy explain", "policy.explain", params)
    if args.json:
        print_json(result)
        return EXIT_OK
    from oxymus.actions.model import Decision
    from oxymus.actions.policy import explain_lines

    print(f"{args.kind}: {result['preview']['summary']}")
    print(f"policy: {result['policy_path']}")
    print("\n".join(explain_lines(Decision.model_validate(result["decision"]))))
    return EXIT_OK


def cmd_policy_init(args) -> int:
    import os

    from oxymus.actions.policy import EXAMPLE

    paths = resolve_paths()
    paths.ensure()
    if os.path.exists(paths.policy_file):
        print(f"{paths.policy_file} already exists; `oxymus policy check` validates it")
        return EXIT_OK
    with open(paths.policy_file, "w", encoding="utf-8") as fh:
        fh.write(EXAMPLE)
    print(f"wrote {paths.policy_file}")
    return EXIT_OK

"""`oxymus plans ...`: PLANS.md as Oxymus reads it, and its minimal edits."""

from __future__ import annotations

from oxymus.cli.base import EXIT_FAIL, EXIT_OK, daemon_call, print_json


def register(command) -> None:
    """Add the commands to the parser through the `command` helper of `oxymus.cli.build_parser`."""
    plans = command("plans", cmd_plans, "show PLANS.md as Oxymus reads it; with an action, edit it minimally")
    plans.add_argument("--json", action="store_true", help="print the parsed document as JSON")
    psub = plans.add_subparsers(title="plans actions", metavar="ACTION")

    def pcommand(name: str, handler, help: str):
        q = psub.add_parser(name, help=help, description=help)
        q.set_defaults(handler=handler)
        return q

    q = pcommand("done", cmd_plans_done, "check a next action (by the id `oxymus plans` shows); records the date")
    q.add_argument("action_id")
    q.add_argument("--undo", action="store_true", help="uncheck it instead")
    q = pcommand("add", cmd_plans_add, "add a next action (one line) under a section")
    q.add_argument("text", nargs="+")
    q.add_argument("--section", default="Next actions", help='the heading to add it under (default "Next actions"; created if missing)')
    q = pcommand("mark", cmd_plans_mark, "set the status of a proposal in the publishing order")
    q.add_argument("proposal", help="its position (1, 2, ...) or its title")
    q.add_argument("status", choices=["proposed", "draft", "scheduled", "published", "dropped"])
    q.add_argument("--date", help="YYYY-MM-DD (default: today when published)")


def cmd_plans(args) -> int:
    result = daemon_call("plans", "plans.get")
    if args.json:
        print_json(result)
        return EXIT_OK
    doc = result["document"]
    if result["error"]:
        print(f"problem: {result['error']}" + (" (showing the last version that could be read)" if doc else ""))
    if doc is None:
        if not result["exists"]:
            print(f"{result['path']} does not exist yet; `oxymus plans add TEXT` starts it, or point [plans] file at yours")
        return EXIT_OK if not result["error"] else EXIT_FAIL
    print(f"{result['path']}")
    if doc["goals"]:
        print("\nGoals")
        for g in doc["goals"]:
            print(f"  - {g['text']}")
    actions = doc["actions"]
    if actions:
        print("\nNext actions")
        for a in actions:
            where = " / ".join(a["section"]) or "(top)"
            mark = "x" if a["done"] else " "
            done = f" (done {a['done_date']})" if a.get("done_date") else ""
            print(f"  {'  ' * a['depth']}[{mark}] {a['text']}{done}   {a['id']} · {where}")
    if doc["proposals"]:
        print("\nPublishing order")
        for pr in doc["proposals"]:
            print(f"  {pr['position']}. [{pr['status']}{' ' + pr['date'] if pr.get('date') else ''}] {pr['title']}")
    if doc["unparsed"]:
        print("\nNot understood (kept as written)")
        for u in doc["unparsed"]:
            print(f"  line {u['line']}: {u['reason']}: {u['text'].strip()[:80]}")
    return EXIT_OK


def _plans_edit(command: str, params: dict) -> int:
    result = daemon_call(f"plans {command}", "plans.edit", params)
    print(result["diff"] or "nothing to change")
    return EXIT_OK


def cmd_plans_done(args) -> int:
    return _plans_edit("done", {"op": "set_done", "action_id": args.action_id, "done": not args.undo})


def cmd_plans_add(args) -> int:
    return _plans_edit("add", {"op": "add_action", "text": " ".join(args.text), "section": args.section})


def cmd_plans_mark(args) -> int:
    params = {"op": "set_proposal_status", "proposal": args.proposal, "status": args.status}
    if args.date:
        params["date"] = args.date
    return _plans_edit("mark", params)

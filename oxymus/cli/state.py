"""`oxymus today`, `oxymus refresh` and `oxymus secret`: the state sources and their secrets."""

from __future__ import annotations

import sys

from oxymus.cli.base import EXIT_FAIL, EXIT_OK, EXIT_USAGE, daemon_call, print_json


def register(command) -> None:
    """Add the commands to the parser through the `command` helper of `oxymus.cli.build_parser`."""
    p = command("today", cmd_today, "the day: events, deadlines, bills, repos and PRs needing you, and how fresh each source is")
    p.add_argument("--date", help="another day, as YYYY-MM-DD (default: today in the configured zone)")
    p.add_argument("--json", action="store_true", help="print JSON (the shape is documented in README.md)")

    p = command("refresh", cmd_refresh, "poll sources now (all, one source id, or every source of a connector)")
    p.add_argument("source", nargs="?", help="e.g. git, github, bills, calendar, calendar.personal").completer = "sources"
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("secret", cmd_secret, "store or remove a secret in the OS keyring (passwords, tokens); GH_TOKEN/GITHUB_TOKEN "
                "and a source's `password_command` are read first, and need no keyring")
    p.add_argument("action", choices=["set", "delete"], help="set reads the value from the terminal (or stdin)")
    p.add_argument("name", help="e.g. github, calendar.work")


def cmd_today(args) -> int:
    result = daemon_call("today", "today.get", {"date": args.date} if args.date else {})
    if args.json:
        print_json(result)
        return EXIT_OK
    from oxymus.today.text import render
    from oxymus.today.view import Today

    text = render(Today.model_validate(result)).split("\n")
    plan = daemon_call("today", "today.plan", {"date": args.date} if args.date else {})
    print("\n".join(text[:2] + top_three(plan) + [""] + text[2:]))
    return EXIT_OK


def top_three(plan: dict) -> list[str]:
    """The day plan's top three (`today.plan`), or why there is none and how to make one."""
    if plan.get("plan") is None:
        why = f" ({plan['hint']})" if plan.get("hint") else ""
        return ["Top three", f"  no day plan{why}; `oxymus agents run planner` makes one now"]
    made = plan["plan"].get("made", "")
    out = [f"Top three (day plan made {made})" if made else "Top three"]
    out += [f"  {item['rank']}. {item['title']}: {item['why']}" for item in plan["plan"].get("top", [])]
    if not plan["plan"].get("top"):
        out.append("  nothing urgent, due or planned: a free day")
    return out


def cmd_refresh(args) -> int:
    result = daemon_call("refresh", "state.refresh", {"source": args.source} if args.source else {})
    if args.json:
        print_json(result)
    else:
        from oxymus.models import SourceView
        from oxymus.today.text import freshness

        views = [SourceView.model_validate(s) for s in result["sources"]]
        if not views:
            print("no sources configured")
        width = max((len(v.source) for v in views), default=0)
        for v in views:
            print(f"{v.source:<{width}}  {v.item_count:>5} items  {freshness(v)}")
    failing = any(s["consecutive_failures"] for s in result["sources"])
    return EXIT_FAIL if failing else EXIT_OK


def cmd_secret(args) -> int:
    from oxymus.sources import secrets

    try:
        if args.action == "delete":
            found = secrets.delete(args.name)
            print(f"deleted {args.name}" if found else f"{args.name} was not stored")
            return EXIT_OK
        if sys.stdin.isatty():
            import getpass

            value = getpass.getpass(f"{args.name}: ")
        else:
            value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            print("oxymus secret: empty value; nothing stored", file=sys.stderr)
            return EXIT_USAGE
        secrets.set(args.name, value)
    except secrets.SecretStoreUnavailable as exc:
        print(f"oxymus secret: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(f"stored {args.name} in the keyring")
    return EXIT_OK

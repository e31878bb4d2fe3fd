"""`oxymus notifications`: what could not be shown (the missed list), every notification, marking them seen."""

from __future__ import annotations

from oxymus.cli.base import EXIT_OK, daemon_call, print_json

WHERE = {"shown": "desktop", "shown_plain": "desktop (no buttons)", "unavailable": "no desktop", "error": "desktop error",
         "off": "off", "pending": "not yet"}


def register(command) -> None:
    """Add the command to the parser through the `command` helper of `oxymus.cli.build_parser`."""
    p = command("notifications", cmd_notifications,
                "notifications that reached neither the desktop nor a TUI (missed), until you mark them seen")
    p.add_argument("--all", action="store_true", help="every notification (newest first) and where each was shown")
    p.add_argument("--seen", "--clear", dest="seen", nargs="*", metavar="ID",
                   help="mark missed notifications seen (all of them, or these ids): they leave the missed list")
    p.add_argument("--json", action="store_true", help="print JSON")


def cmd_notifications(args) -> int:
    if args.seen is not None:
        done = daemon_call("notifications --seen", "notifications.seen", {"ids": args.seen})
        if args.json:
            print_json(done)
        else:
            n = len(done["seen"])
            print(f"marked {n} missed notification{'s' if n != 1 else ''} seen" if n else "no missed notifications to mark")
        return EXIT_OK
    got = daemon_call("notifications", "notifications.list", {"all": args.all})
    if args.json:
        print_json(got)
        return EXIT_OK
    rows = got["notifications"]
    if got.get("desktop"):
        print(f"desktop: {got['desktop']}")
    if not rows:
        print("no notifications yet" if args.all else "no missed notifications")
        return EXIT_OK
    if not args.all:
        print(f"{len(rows)} missed (shown neither on the desktop nor in a TUI):")
    for n in rows:
        when = n["created_at"][:16].replace("T", " ")
        state = n["state"] + (" (seen)" if n.get("seen_at") else "")
        extra = f"  until {n['held_until'][:16].replace('T', ' ')}" if n["state"] == "held" and n.get("held_until") else ""
        where = f"  [{WHERE.get(n['desktop'], n['desktop'])}{', TUI' if n['tui'] == 'shown' else ''}]" if args.all else ""
        print(f"{n['id']}  {when}  {n['kind']:<8} {state:<9} {n['title']}{where}{extra}")
        if n.get("decides"):
            print(f"    decide: oxymus approve {n['decides']} / oxymus deny {n['decides']}")
    if not args.all:
        print("`oxymus notifications --seen` marks them seen.")
    return EXIT_OK

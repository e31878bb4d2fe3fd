"""`oxymus inbox` and `oxymus inbox accept`: the open captures and triage's suggestions."""

from __future__ import annotations

import sys

from oxymus.cli.base import EXIT_FAIL, EXIT_NOT_RUNNING, EXIT_OK, EXIT_USAGE, print_json, resolve_paths


def register(command) -> None:
    """Add the commands to the parser through the `command` helper of `oxymus.cli.build_parser`."""
    p = command("inbox", cmd_inbox, "list open captures, newest first, each with the triage agent's suggestion")
    p.add_argument("--json", action="store_true", help="print JSON (a list of captures, each with its `suggestion` or null)")
    p.add_argument("--limit", type=int, default=500, help="at most this many (default 500)")
    isub = p.add_subparsers(title="inbox actions", metavar="ACTION")
    q = isub.add_parser("accept", help="do what triage suggested for captures (by id or a unique start of one)",
                        description="do what triage suggested for captures: a next action, a memory record, archive, "
                                    "or a calendar event or a bill proposed as you (the policy plane decides)")
    q.add_argument("capture_ids", nargs="*", metavar="CAPTURE_ID", help="a capture id, or the start of one")
    q.add_argument("--preselected", action="store_true", help="accept every pre-selected (confident) suggestion")
    q.add_argument("--json", action="store_true", help="print JSON (one result per capture)")
    q.set_defaults(handler=cmd_inbox_accept)


def cmd_inbox(args) -> int:
    from oxymus.client.sync_client import DaemonUnavailable, connect

    paths = resolve_paths()
    try:
        with connect(paths.socket) as conn:
            result = conn.call("inbox.list", {"status": "open", "limit": args.limit})
        captures, suggestions = result["captures"], result.get("suggestions") or {}
        total = result.get("total")
    except DaemonUnavailable:
        captures, suggestions, total = _inbox_offline(paths, args.limit)
    if args.json:
        print_json([{**c, "suggestion": suggestions.get(c["id"])} for c in captures])
        return EXIT_OK
    if not captures:
        print("Inbox zero.")
        return EXIT_OK
    from oxymus.kernel.textfmt import local_time, one_line, open_count

    header = open_count(len(captures), total)
    print(header + (" (newest first; --limit N shows more)" if header.startswith("showing") else ""))
    for c in captures:
        print(f"{c['id']}  {local_time(c['created_at'])}  {one_line(c['text'], 100)}")
        s = suggestions.get(c["id"])
        if s is not None:
            print(f"    {_suggestion_line(s)}")
    if any(s.get("preselected") for s in suggestions.values()):
        print("\n★ pre-selected: `oxymus inbox accept --preselected` accepts them all, `oxymus inbox accept ID` one")
    return EXIT_OK


def _suggestion_line(s: dict) -> str:
    from oxymus.kernel.textfmt import one_line

    mark = "★" if s.get("preselected") else "→"
    line = f"{mark} {one_line(s['label'], 90)}  ({s['confidence']:.2f})"
    if s.get("stale"):
        line += f"  stale: {s['stale']}"
    for note in (s.get("notes") or [])[:2]:
        line += f"\n      ! {one_line(note, 100)}"
    return line


def cmd_inbox_accept(args) -> int:
    from oxymus.client import wire
    from oxymus.client.sync_client import DaemonUnavailable, connect

    try:
        with connect(resolve_paths().socket, timeout=60) as conn:
            results, failed = [], 0

            def accept(text: str) -> None:
                nonlocal failed
                try:  # the daemon resolves the id: whole, or a unique start of one
                    result = conn.call("inbox.accept", {"capture_id": text})
                except wire.RpcError as exc:
                    print(f"{text}: not accepted: {exc.message}", file=sys.stderr)
                    failed += 1
                    return
                results.append(result)
                if not args.json:
                    print(f"{result['capture_id']}: {result['summary']}")

            for text in args.capture_ids:
                accept(text)
            if args.preselected:  # listed after the ones named were accepted (they left the inbox); oldest first
                listed = conn.call("inbox.list", {"status": "open", "limit": 10_000})
                suggestions = listed.get("suggestions") or {}
                for c in reversed(listed["captures"]):
                    if (suggestions.get(c["id"]) or {}).get("preselected"):
                        accept(c["id"])
            if not results and not failed:
                print("nothing to accept" + ("" if args.preselected else ": give capture ids, or --preselected"), file=sys.stderr)
                return EXIT_OK if args.preselected else EXIT_USAGE
    except DaemonUnavailable:
        print("oxymus inbox accept: the daemon is not running; start it with `oxymus up`", file=sys.stderr)
        return EXIT_NOT_RUNNING
    if args.json:
        print_json(results)
    return EXIT_FAIL if failed else EXIT_OK


def _inbox_offline(paths, limit: int) -> tuple[list[dict], dict, int]:
    """Reading needs no daemon either: the store is a file we can open directly."""
    import json
    import os

    from oxymus.store import capture_sql, db

    if not os.path.exists(paths.db_file):
        return [], {}, 0
    conn = db.connect(paths.db_file)
    try:
        conn.execute("BEGIN")  # one snapshot: the count and the page agree
        rows = conn.execute(capture_sql.SELECT_BY_STATUS, ("open", limit)).fetchall()
        total = conn.execute(capture_sql.COUNT_BY_STATUS, ("open",)).fetchone()[0]
        captures = [capture_sql.row_to_dict(r) for r in rows]
        suggestions = {}
        ids = [c["id"] for c in captures][:900]
        if ids:
            found = conn.execute(
                f"SELECT key, data FROM artifacts WHERE agent = 'triage' AND kind = 'triage_suggestion' "
                f"AND key IN ({', '.join('?' * len(ids))})", ids).fetchall()
            suggestions = {key: json.loads(data) for key, data in found}
        conn.execute("COMMIT")
    finally:
        conn.close()
    return captures, suggestions, total

"""The `oxymus` command. Argument parsing only; each command imports what it needs.

`oxymus capture` is dispatched before argparse is even imported: it is the
command people run most, mid-thought, and its budget is twice a bare Python start.
"""

from __future__ import annotations

import sys

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_NOT_RUNNING = 0, 1, 2, 3
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool killed by it


def main(argv: list[str] | None = None) -> int:
    import os

    # Owner-only for everything we create in the profile: the database's WAL holds recent
    # captures, config.toml and policy.toml say how you live. (os is loaded at start-up anyway.)
    os.umask(0o077)
    try:
        code = _main(argv)
        sys.stdout.flush()  # inside the try: a reader that went away shows here, not at interpreter exit
    except BrokenPipeError:
        return _reader_went_away()
    return code


def _reader_went_away() -> int:
    """`oxymus inbox | head`: the reader closed the pipe. Stop quietly, as a shell tool does.

    Python's own recipe (docs: signal, "Note on SIGPIPE"): point stdout at devnull so the
    flush at exit cannot raise again, and end with the status SIGPIPE would have given.
    """
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is not a real file (an embedding, a test's capture): nothing will flush to the pipe
    return EXIT_BROKEN_PIPE


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["capture"]:
        from oxymus import capture_cmd

        code = capture_cmd.main(argv[1:])
        if code is not None:
            return code
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None) or cmd_tui
    try:
        return handler(args)
    except _Exit as exc:
        return exc.code
    except KeyboardInterrupt:
        return 130
    except _errors() as exc:
        print(f"oxymus: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        problem = _storage_problem(exc)
        if problem is None:
            raise
        print(f"oxymus: {problem}", file=sys.stderr)
        return EXIT_FAIL


def _errors() -> tuple[type[BaseException], ...]:
    from oxymus.config import ConfigError
    from oxymus.paths import PathsError

    return (ConfigError, PathsError)


def _storage_problem(exc: Exception):
    """A full disk or a damaged database met by a command working on the file directly (`inbox` offline)."""
    from oxymus.store.storage_errors import classify

    return classify(exc, _paths().db_file)


def build_parser():
    import argparse

    from oxymus import __version__

    parser = argparse.ArgumentParser(
        prog="oxymus",
        description="Oxymus, a personal operating system. With no command, opens the TUI (starting the daemon if needed).",
    )
    parser.add_argument("--version", action="version", version=f"oxymus {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, handler, help: str):
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler)
        return p

    p = command("tui", cmd_tui, "open the terminal UI (the default when no command is given)")
    p.add_argument("--no-start", action="store_true",
                   help="do not start the daemon; wait for one (captures typed meanwhile are written to disk directly)")

    p = command("capture", None, "put a thought in the inbox; prints its id (works with the daemon down)")
    p.add_argument("text", nargs="+", metavar="TEXT", help="the words to capture, or - to read them from stdin")
    p.add_argument("--source", default="cli", help="where it came from (default: cli; stdin when reading -)")
    p.add_argument("--json", action="store_true", help="print the stored capture as JSON")
    p.set_defaults(handler=_capture_via_argparse)

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

    p = command("today", cmd_today, "the day: events, deadlines, bills, repos and PRs needing you, and how fresh each source is")
    p.add_argument("--date", help="another day, as YYYY-MM-DD (default: today in the configured zone)")
    p.add_argument("--json", action="store_true", help="print JSON (the shape is documented in README.md)")

    p = command("refresh", cmd_refresh, "poll sources now (all, one source id, or every source of a connector)")
    p.add_argument("source", nargs="?", help="e.g. git, github, bills, calendar, calendar.personal")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("secret", cmd_secret, "store or remove a secret in the OS keyring (passwords, tokens); GH_TOKEN/GITHUB_TOKEN "
                "and a source's `password_command` are read first, and need no keyring")
    p.add_argument("action", choices=["set", "delete"], help="set reads the value from the terminal (or stdin)")
    p.add_argument("name", help="e.g. github, calendar.work")

    memory = command("memory", None, "canonical memory: search, add, show, edit, forget, budget, export, import")
    msub = memory.add_subparsers(title="memory commands", metavar="ACTION", required=True)

    def mcommand(name: str, handler, help: str):
        q = msub.add_parser(name, help=help, description=help)
        q.set_defaults(handler=handler)
        return q

    q = mcommand("search", cmd_memory_search, "find records (ranked by relevance, tier and recency); no words lists recent ones")
    q.add_argument("query", nargs="*", help="words to find")
    q.add_argument("--kind", help="only this kind (person, project, commitment, preference, decision, fact, ...)")
    q.add_argument("--tier", choices=["hot", "warm", "cold"], help="only this tier")
    q.add_argument("--tag", help="only records with this tag")
    q.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    q.add_argument("--json", action="store_true", help="print JSON")
    q = mcommand("add", cmd_memory_add, "add a record")
    q.add_argument("title", nargs="+", help="the title (one line)")
    q.add_argument("--body", default="", help="the text, or - to read it from stdin")
    q.add_argument("--kind", default="fact", help="person, project, commitment, preference, decision, fact, ... (default fact)")
    q.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    q.add_argument("--tier", choices=["hot", "warm", "cold"], default="warm", help="hot is reread every time (default warm)")
    q.add_argument("--from-capture", metavar="CAPTURE_ID", help="the capture it comes from, by id or a unique start of one (linked, and triaged out of the inbox)")
    q.add_argument("--json", action="store_true", help="print the record as JSON")
    q = mcommand("show", cmd_memory_show, "one record, its provenance, links and history")
    q.add_argument("id", help="its id, or a unique start of one (4+ characters)")
    q.add_argument("--json", action="store_true", help="print JSON (record and history)")
    q = mcommand("edit", cmd_memory_edit, "change a record; the previous version stays in its history")
    q.add_argument("id", help="its id, or a unique start of one (4+ characters)")
    q.add_argument("--title")
    q.add_argument("--body", help="the new text, or - to read it from stdin")
    q.add_argument("--kind")
    q.add_argument("--tier", choices=["hot", "warm", "cold"])
    q.add_argument("--tag", action="append", help="replace the tags (repeatable)")
    q.add_argument("--json", action="store_true", help="print the record as JSON")
    q = mcommand("forget", cmd_memory_forget, "archive a record to cold and out of retrieval (history kept)")
    q.add_argument("id", help="its id, or a unique start of one (4+ characters)")
    q.add_argument("--purge", action="store_true", help="delete the record and its whole history for real")
    q = mcommand("budget", cmd_memory_budget, "how full hot memory is against its word budget")
    q.add_argument("--json", action="store_true", help="print JSON")
    mcommand("maintain", cmd_memory_maintain, "age records by the tier rules now and write monthly warm summaries")
    q = mcommand("export", cmd_memory_export, "write every live record as a Markdown file (an Obsidian-compatible vault)")
    q.add_argument("--markdown", metavar="DIR", required=True, help="the vault folder (created if needed)")
    q = mcommand("import", cmd_memory_import, "read a Markdown vault back; records are matched by id, so nothing is duplicated")
    q.add_argument("dir", metavar="DIR")

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

    from oxymus import cli_actions

    cli_actions.register(command)
    cli_actions.register_policy(command)
    from oxymus import cli_agents

    cli_agents.register(command)
    from oxymus import cli_recovery

    cli_recovery.register(command)

    p = command("status", cmd_status, "is the daemon running: pid, uptime, socket, database, schema version")
    p.add_argument("--json", action="store_true", help="print JSON")

    command("up", cmd_up, "start the daemon in the background; returns once it answers")
    command("down", cmd_down, "stop the daemon gracefully")
    p = command("daemon", cmd_daemon, "run the daemon in the foreground (logs to stderr and the log file)")
    p.add_argument("--background", action="store_true", help=argparse.SUPPRESS)

    p = command("init", cmd_init, "create the profile's folders and a commented default config.toml")
    p.add_argument("--force", action="store_true", help="overwrite an existing config.toml")

    p = command("paths", cmd_paths, "print where this profile's files live")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("demo", cmd_demo, "seed a demo profile with a sample life, start its daemon and open the TUI")
    p.add_argument("--home", help="the demo profile's folder (default: a 'demo' folder in Oxymus' data dir)")
    p.add_argument("--no-tui", action="store_true", help="seed and start the daemon, but do not open the TUI")
    return parser


def _paths():
    from oxymus import paths

    return paths.resolve()


def _config(paths):
    from oxymus import config

    return config.load(config.config_path_from_env(paths.config_file))


def _print_json(value) -> None:
    import json

    print(json.dumps(value, indent=2, ensure_ascii=False))


def _capture_via_argparse(args) -> int:
    # Reached only when the fast path declined (it never does for valid input); keep one code path.
    from oxymus import capture_cmd

    argv = list(args.text) + ["--source", args.source] + (["--json"] if args.json else [])
    return capture_cmd.main(argv) or 0


def cmd_inbox(args) -> int:
    from oxymus.client import DaemonUnavailable, connect

    paths = _paths()
    try:
        with connect(paths.socket) as conn:
            result = conn.call("inbox.list", {"status": "open", "limit": args.limit})
        captures, suggestions = result["captures"], result.get("suggestions") or {}
        total = result.get("total")
    except DaemonUnavailable:
        captures, suggestions, total = _inbox_offline(paths, args.limit)
    if args.json:
        _print_json([{**c, "suggestion": suggestions.get(c["id"])} for c in captures])
        return EXIT_OK
    if not captures:
        print("Inbox zero.")
        return EXIT_OK
    from oxymus.textfmt import local_time, one_line, open_count

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
    from oxymus.textfmt import one_line

    mark = "★" if s.get("preselected") else "→"
    line = f"{mark} {one_line(s['label'], 90)}  ({s['confidence']:.2f})"
    if s.get("stale"):
        line += f"  stale: {s['stale']}"
    for note in (s.get("notes") or [])[:2]:
        line += f"\n      ! {one_line(note, 100)}"
    return line


def cmd_inbox_accept(args) -> int:
    from oxymus import wire
    from oxymus.client import DaemonUnavailable, connect

    try:
        with connect(_paths().socket, timeout=60) as conn:
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
        _print_json(results)
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


class _Exit(Exception):
    """Ends a command with this status (after its message was printed)."""

    def __init__(self, code: int):
        self.code = code


def _daemon_call(command: str, method: str, params: dict | None = None, timeout: float = 120.0):
    """Call the daemon for `oxymus COMMAND`; prints why and exits when it cannot."""
    from oxymus import wire
    from oxymus.client import DaemonUnavailable, connect

    paths = _paths()
    try:
        with connect(paths.socket, timeout=timeout) as conn:
            return conn.call(method, params)
    except DaemonUnavailable:
        print(f"oxymus {command}: the daemon is not running; start it with `oxymus up`", file=sys.stderr)
        raise _Exit(EXIT_NOT_RUNNING) from None
    except wire.RpcError as exc:
        print(f"oxymus {command}: {exc.message}", file=sys.stderr)
        raise _Exit(EXIT_FAIL if exc.code == wire.STORAGE_ERROR else EXIT_USAGE) from None


def cmd_today(args) -> int:
    result = _daemon_call("today", "today.get", {"date": args.date} if args.date else {})
    if args.json:
        _print_json(result)
        return EXIT_OK
    from oxymus.today import Today
    from oxymus.today_text import render

    print(render(Today.model_validate(result)))
    return EXIT_OK


def cmd_refresh(args) -> int:
    result = _daemon_call("refresh", "state.refresh", {"source": args.source} if args.source else {})
    if args.json:
        _print_json(result)
    else:
        from oxymus.models import SourceView
        from oxymus.today_text import freshness

        views = [SourceView.model_validate(s) for s in result["sources"]]
        if not views:
            print("no sources configured")
        width = max((len(v.source) for v in views), default=0)
        for v in views:
            print(f"{v.source:<{width}}  {v.item_count:>5} items  {freshness(v)}")
    failing = any(s["consecutive_failures"] for s in result["sources"])
    return EXIT_FAIL if failing else EXIT_OK


def _body_arg(value: str | None) -> str | None:
    if value == "-":
        raw = sys.stdin.buffer.read()
        try:
            return raw.decode("utf-8").rstrip("\n")
        except UnicodeDecodeError as exc:
            print(f"oxymus memory: stdin is not valid UTF-8 (byte {exc.start})", file=sys.stderr)
            raise _Exit(EXIT_USAGE) from None
    return value


def _memory_fields(**kw):
    from pydantic import ValidationError

    from oxymus import memory

    try:
        return memory.RecordFields(**kw)
    except ValidationError as exc:
        err = exc.errors()[0]
        print(f"oxymus memory: {'.'.join(map(str, err['loc']))}: {err['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        raise _Exit(EXIT_USAGE) from None


def _print_record_line(record: dict, score: float | None = None, snippet: str = "") -> None:
    from oxymus.textfmt import one_line

    tags = " ".join(f"#{t}" for t in record["tags"])
    print(f"{record['id']}  {record['tier']:<4}  {record['kind']:<10}  {one_line(record['title'], 60)}  {tags}".rstrip())
    if snippet:
        print(f"    {one_line(snippet, 110)}")


def cmd_memory_search(args) -> int:
    params = {"query": " ".join(args.query), "kind": args.kind, "tier": args.tier, "tag": args.tag, "limit": args.limit}
    hits = _daemon_call("memory search", "memory.search", {k: v for k, v in params.items() if v is not None})["hits"]
    if args.json:
        _print_json(hits)
    elif not hits:
        print("nothing found")
    for hit in [] if args.json else hits:
        _print_record_line(hit["record"], hit["score"], hit["snippet"])
        prov = hit["record"]["provenance"]
        print(f"    from {prov['source']}{' ' + prov['ref'] if prov.get('ref') else ''}")
    return EXIT_OK


def cmd_memory_add(args) -> int:
    fields = _memory_fields(kind=args.kind, title=" ".join(args.title), body=_body_arg(args.body) or "", tags=args.tag, tier=args.tier)
    params = {"record": fields.model_dump()}
    if args.from_capture:
        params["capture_id"] = args.from_capture
        params["provenance"] = {"source": "capture", "ref": args.from_capture.upper()}
    record = _daemon_call("memory add", "memory.add", params)
    if args.json:
        _print_json(record)
    else:
        print(record["id"])
    return EXIT_OK


def cmd_memory_show(args) -> int:
    result = _daemon_call("memory show", "memory.get", {"id": args.id})
    if args.json:
        _print_json(result)
        return EXIT_OK
    from oxymus.textfmt import local_time

    r = result["record"]
    prov = r["provenance"]
    print(f"{r['title']}\n{'=' * min(len(r['title']), 80)}")
    print(f"id {r['id']} · {r['kind']} · {r['tier']}{' · FORGOTTEN' if r['archived'] else ''} · version {r['version']}")
    if r["tags"]:
        print("tags: " + " ".join(f"#{t}" for t in r["tags"]))
    print(f"from: {prov['source']}{' ' + prov['ref'] if prov.get('ref') else ''}{' (' + prov['note'] + ')' if prov.get('note') else ''}")
    for link in r["links"]:
        print(f"capture: {link['capture_id']} (linked {local_time(link['created_at'])})")
    print(f"created {local_time(r['created_at'])}, updated {local_time(r['updated_at'])}")
    if r["body"]:
        print("\n" + r["body"])
    print("\nhistory:")
    for v in result["history"]:
        print(f"  v{v['version']}  {local_time(v['changed_at'])}  {v['actor']}{'  ' + v['note'] if v.get('note') else ''}")
    return EXIT_OK


def cmd_memory_edit(args) -> int:
    changes = {"title": args.title, "body": _body_arg(args.body), "kind": args.kind, "tier": args.tier, "tags": args.tag}
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        print("oxymus memory edit: nothing to change (give --title, --body, --kind, --tier or --tag)", file=sys.stderr)
        return EXIT_USAGE
    record = _daemon_call("memory edit", "memory.edit", {"id": args.id, "changes": changes})
    if args.json:
        _print_json(record)
    else:
        print(f"{record['id']} is now version {record['version']}")
    return EXIT_OK


def cmd_memory_forget(args) -> int:
    result = _daemon_call("memory forget", "memory.forget", {"id": args.id, "purge": args.purge})
    print(f"purged {args.id.upper()} and its history" if result["purged"] else f"forgot {result['record']['id']} (archived to cold; history kept)")
    return EXIT_OK


def cmd_memory_budget(args) -> int:
    report = _daemon_call("memory budget", "memory.budget")
    if args.json:
        _print_json(report)
        return EXIT_OK
    used, limit = report["used_words"], report["limit_words"]
    print(f"hot memory: {used} of {limit} words ({used * 100 // max(limit, 1)}%){'  OVER BUDGET' if report['over'] else ''}")
    from oxymus.textfmt import one_line

    for e in report["records"]:
        print(f"  {e['words']:>5}  {e['kind']:<10}  {one_line(e['title'], 60)}  {e['id']}")
    return EXIT_OK


def cmd_memory_maintain(args) -> int:
    report = _daemon_call("memory maintain", "memory.maintain")
    for rid, old, new in report["moves"]:
        print(f"{rid}: {old} -> {new}")
    print(f"{len(report['moves'])} record(s) aged, {len(report['summaries'])} monthly summary(ies) written")
    return EXIT_OK


def cmd_memory_export(args) -> int:
    import os

    from oxymus import memory

    records = [memory.MemoryRecord.model_validate(r) for r in _daemon_call("memory export", "memory.export")["records"]]
    root = os.path.abspath(os.path.expanduser(args.markdown))
    for record in records:
        path = os.path.join(root, memory.vault_filename(record))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(memory.to_markdown(record))
    print(f"wrote {len(records)} record(s) to {root}")
    return EXIT_OK


def cmd_memory_import(args) -> int:
    import os

    from oxymus import memory

    root = os.path.abspath(os.path.expanduser(args.dir))
    if not os.path.isdir(root):
        print(f"oxymus memory import: {root}: no such folder", file=sys.stderr)
        return EXIT_USAGE
    entries, problems = [], []
    for folder, _dirs, files in os.walk(root):
        for name in sorted(files):
            if not name.endswith(".md"):
                continue
            path = os.path.join(folder, name)
            try:
                with open(path, encoding="utf-8") as fh:
                    entries.append(memory.from_markdown(fh.read(), path).model_dump())
            except UnicodeDecodeError as exc:
                problems.append(f"{path}: not valid UTF-8 (byte {exc.start})")
            except memory.MemoryError as exc:
                problems.append(str(exc))
    for problem in problems:
        print(f"skipped {problem}", file=sys.stderr)
    result = _daemon_call("memory import", "memory.import", {"entries": entries})
    print(f"{result['added']} added, {result['updated']} updated, {result['unchanged']} unchanged"
          + (f", {len(problems)} skipped" if problems else ""))
    return EXIT_FAIL if problems else EXIT_OK


def cmd_plans(args) -> int:
    result = _daemon_call("plans", "plans.get")
    if args.json:
        _print_json(result)
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
    result = _daemon_call(f"plans {command}", "plans.edit", params)
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


def cmd_secret(args) -> int:
    from oxymus import secrets

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


def cmd_status(args) -> int:
    from oxymus import launcher

    paths = _paths()
    st = launcher.status(paths)
    from oxymus import stop_reason

    why = stop_reason.read(paths.stop_reason_file) if st is None else None
    if args.json:
        extra = {"last_start_failed": {"at": why[0], "reason": why[1]}} if why else {}
        _print_json({"running": st is not None, **(st or {}), **extra, "paths": paths.as_dict()})
        return EXIT_OK if st else EXIT_NOT_RUNNING
    if st is None:
        print(f"daemon: not running (socket {paths.socket})")
        if why:
            print(f"why:    its last start failed ({why[0]}): {why[1]}")
        return EXIT_NOT_RUNNING
    from oxymus.textfmt import duration

    print(f"daemon:   running, pid {st['pid']}, up {duration(st['uptime_s'])}, oxymus {st['version']}")
    print(f"socket:   {st['socket']}")
    print(f"database: {st['database']} (schema v{st['schema_version']})")
    print(f"clients:  {st['clients']} connected, {st['subscribers']} subscribed")
    pause = st.get("pause")
    if pause:
        print(f"paused:   since {pause['since']}" + (f", until {pause['until']}" if pause.get("until") else ", until `oxymus resume`"))
    waiting = st.get("approvals_waiting", 0)
    print(f"approvals: {waiting} waiting" + (" (`oxymus approvals`)" if waiting else ""))
    if st.get("llm"):
        print(f"llm:      {st['llm']}")
    if st.get("notifications"):
        print(f"notify:   unavailable: {st['notifications']}")
    if st.get("storage_error"):
        print(f"storage:  {st['storage_error']}")
    if st.get("policy_error"):
        print(f"policy:   {st['policy_error']}; every action needs approval until it is fixed")
    if st.get("sources"):
        from oxymus.models import SourceView
        from oxymus.today_text import freshness

        print("sources:")
        views = [SourceView.model_validate(s) for s in st["sources"]]
        width = max(len(v.source) for v in views)
        for v in views:
            print(f"  {v.source:<{width}}  {freshness(v)}")
    return EXIT_OK


def cmd_up(args) -> int:
    from oxymus import launcher

    paths = _paths()
    _config(paths)  # a bad config is reported here, clearly, not as a dead daemon
    try:
        st = launcher.start(paths)
    except launcher.StartFailed as exc:
        print(f"oxymus up: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(f"daemon running, pid {st['pid']}, socket {st['socket']}")
    return EXIT_OK


def cmd_down(args) -> int:
    from oxymus import launcher

    pid = launcher.stop(_paths())
    print("daemon was not running" if pid is None else f"daemon stopped (pid {pid})")
    return EXIT_OK


def cmd_daemon(args) -> int:
    paths = _paths()
    config = _config(paths)
    from oxymus.daemon import main as daemon_main

    return daemon_main.run(paths, config, foreground=not args.background)


def cmd_init(args) -> int:
    import os

    from oxymus import config

    paths = _paths()
    paths.ensure()
    target = paths.config_file
    if os.path.exists(target) and not args.force:
        config.load(target)  # still report problems in the existing one
        print(f"{target} already exists (valid); use --force to overwrite it with the defaults")
        return EXIT_OK
    with open(target, "w", encoding="utf-8") as fh:
        fh.write(config.default_toml())
    print(f"wrote {target}")
    if not os.path.exists(paths.policy_file):
        from oxymus.policy import EXAMPLE

        with open(paths.policy_file, "w", encoding="utf-8") as fh:
            fh.write(EXAMPLE)
        print(f"wrote {paths.policy_file}")
    return EXIT_OK


def cmd_paths(args) -> int:
    paths = _paths()
    if args.json:
        _print_json(paths.as_dict())
    else:
        for key, value in paths.as_dict().items():
            if value:
                print(f"{key:12} {value}")
    return EXIT_OK


def cmd_tui(args) -> int:
    from oxymus.tui.app import run

    return run(_paths(), start_daemon=not getattr(args, "no_start", False))


def cmd_demo(args) -> int:
    from oxymus import demo

    return demo.run(home=args.home, open_tui=not args.no_tui)

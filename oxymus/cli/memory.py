"""`oxymus memory ...`: canonical memory."""

from __future__ import annotations

import sys

from oxymus.cli.base import EXIT_FAIL, EXIT_OK, EXIT_USAGE, Exit, daemon_call, print_json


def register(command) -> None:
    """Add the commands to the parser through the `command` helper of `oxymus.cli.build_parser`."""
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
    q.add_argument("id", help="its id, or a unique start of one (4+ characters)").completer = "records"
    q.add_argument("--json", action="store_true", help="print JSON (record and history)")
    q = mcommand("edit", cmd_memory_edit, "change a record; the previous version stays in its history")
    q.add_argument("id", help="its id, or a unique start of one (4+ characters)").completer = "records"
    q.add_argument("--title")
    q.add_argument("--body", help="the new text, or - to read it from stdin")
    q.add_argument("--kind")
    q.add_argument("--tier", choices=["hot", "warm", "cold"])
    q.add_argument("--tag", action="append", help="replace the tags (repeatable)")
    q.add_argument("--json", action="store_true", help="print the record as JSON")
    q = mcommand("forget", cmd_memory_forget, "archive a record to cold and out of retrieval (history kept)")
    q.add_argument("id", help="its id, or a unique start of one (4+ characters)").completer = "records"
    q.add_argument("--purge", action="store_true", help="delete the record and its whole history for real")
    q = mcommand("budget", cmd_memory_budget, "how full hot memory is against its word budget")
    q.add_argument("--json", action="store_true", help="print JSON")
    mcommand("maintain", cmd_memory_maintain, "age records by the tier rules now and write monthly warm summaries")
    q = mcommand("export", cmd_memory_export, "write every live record as a Markdown file (an Obsidian-compatible vault)")
    q.add_argument("--markdown", metavar="DIR", required=True, help="the vault folder (created if needed)")
    q = mcommand("import", cmd_memory_import, "read a Markdown vault back; records are matched by id, so nothing is duplicated")
    q.add_argument("dir", metavar="DIR")


def _body_arg(value: str | None) -> str | None:
    if value == "-":
        raw = sys.stdin.buffer.read()
        try:
            return raw.decode("utf-8").rstrip("\n")
        except UnicodeDecodeError as exc:
            print(f"oxymus memory: stdin is not valid UTF-8 (byte {exc.start})", file=sys.stderr)
            raise Exit(EXIT_USAGE) from None
    return value


def _memory_fields(**kw):
    from pydantic import ValidationError

    from oxymus.memory import records as memory

    try:
        return memory.RecordFields(**kw)
    except ValidationError as exc:
        err = exc.errors()[0]
        print(f"oxymus memory: {'.'.join(map(str, err['loc']))}: {err['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        raise Exit(EXIT_USAGE) from None


def _print_record_line(record: dict, score: float | None = None, snippet: str = "") -> None:
    from oxymus.kernel.textfmt import one_line

    tags = " ".join(f"#{t}" for t in record["tags"])
    print(f"{record['id']}  {record['tier']:<4}  {record['kind']:<10}  {one_line(record['title'], 60)}  {tags}".rstrip())
    if snippet:
        print(f"    {one_line(snippet, 110)}")


def cmd_memory_search(args) -> int:
    params = {"query": " ".join(args.query), "kind": args.kind, "tier": args.tier, "tag": args.tag, "limit": args.limit}
    hits = daemon_call("memory search", "memory.search", {k: v for k, v in params.items() if v is not None})["hits"]
    if args.json:
        print_json(hits)
    elif not hits:
        print("nothing found")
    for hit in [] if args.json else hits:
        # A hit carries no body: the snippet is the piece of it to see; `memory show ID` has the rest.
        _print_record_line(hit, hit["score"], hit["snippet"])
        print(f"    from {hit['source']}{' ' + hit['ref'] if hit.get('ref') else ''}")
    return EXIT_OK


def cmd_memory_add(args) -> int:
    fields = _memory_fields(kind=args.kind, title=" ".join(args.title), body=_body_arg(args.body) or "", tags=args.tag, tier=args.tier)
    params = {"record": fields.model_dump()}
    if args.from_capture:
        params["capture_id"] = args.from_capture
        params["provenance"] = {"source": "capture", "ref": args.from_capture.upper()}
    record = daemon_call("memory add", "memory.add", params)
    if args.json:
        print_json(record)
    else:
        print(record["id"])
    return EXIT_OK


def cmd_memory_show(args) -> int:
    result = daemon_call("memory show", "memory.get", {"id": args.id})
    if args.json:
        print_json(result)
        return EXIT_OK
    from oxymus.kernel.textfmt import local_time

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
    record = daemon_call("memory edit", "memory.edit", {"id": args.id, "changes": changes})
    if args.json:
        print_json(record)
    else:
        print(f"{record['id']} is now version {record['version']}")
    return EXIT_OK


def cmd_memory_forget(args) -> int:
    result = daemon_call("memory forget", "memory.forget", {"id": args.id, "purge": args.purge})
    print(f"purged {args.id.upper()} and its history" if result["purged"] else f"forgot {result['record']['id']} (archived to cold; history kept)")
    return EXIT_OK


def cmd_memory_budget(args) -> int:
    report = daemon_call("memory budget", "memory.budget")
    if args.json:
        print_json(report)
        return EXIT_OK
    used, limit = report["used_words"], report["limit_words"]
    print(f"hot memory: {used} of {limit} words ({used * 100 // max(limit, 1)}%){'  OVER BUDGET' if report['over'] else ''}")
    from oxymus.kernel.textfmt import one_line

    for e in report["records"]:
        print(f"  {e['words']:>5}  {e['kind']:<10}  {one_line(e['title'], 60)}  {e['id']}")
    return EXIT_OK


def cmd_memory_maintain(args) -> int:
    report = daemon_call("memory maintain", "memory.maintain")
    for rid, old, new in report["moves"]:
        print(f"{rid}: {old} -> {new}")
    print(f"{len(report['moves'])} record(s) aged, {len(report['summaries'])} monthly summary(ies) written")
    return EXIT_OK


def cmd_memory_export(args) -> int:
    import os

    from oxymus.memory import records as memory

    records = [memory.MemoryRecord.model_validate(r) for r in daemon_call("memory export", "memory.export")["records"]]
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

    from oxymus.memory import records as memory

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
    result = daemon_call("memory import", "memory.import", {"entries": entries})
    print(f"{result['added']} added, {result['updated']} updated, {result['unchanged']} unchanged"
          + (f", {len(problems)} skipped" if problems else ""))
    return EXIT_FAIL if problems else EXIT_OK

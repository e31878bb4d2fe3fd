"""`oxymus records ...`: canonical records (leads, clients, projects, products, posts)."""

from __future__ import annotations

import sys

from oxymus.cli.base import EXIT_OK, EXIT_USAGE, Exit, daemon_call, print_json

LINK_TYPES = ("record", "capture", "action", "run", "calendar", "repo", "file", "email")


def register(command) -> None:
    """Add the commands to the parser through the `command` helper of `oxymus.cli.build_parser`."""
    records = command("records", None, "canonical records (lead, client, project, product, post): list, show, add, edit, link")
    rsub = records.add_subparsers(title="records commands", metavar="ACTION", required=True)

    def rcommand(name: str, handler, help: str):
        q = rsub.add_parser(name, help=help, description=help)
        q.set_defaults(handler=handler)
        return q

    q = rcommand("list", cmd_records_list, "records by kind and status, newest change first; ! marks one failing its schema")
    q.add_argument("--kind", help="only this kind (lead, client, project, product, post, or a plugin's)")
    q.add_argument("--status", help="only records in this status (e.g. proposal_sent)")
    q.add_argument("--all", action="store_true", help="forgotten records too")
    q.add_argument("--json", action="store_true", help="print JSON")
    q = rcommand("show", cmd_records_show, "one record: its fields, links both ways, history, and where it can move on to")
    q.add_argument("id", help="its id, or a unique start of one (4+ characters)").completer = "records"
    q.add_argument("--json", action="store_true", help="print JSON")
    q = rcommand("add", cmd_records_add, "add a record; its fields are checked against its kind's schema")
    q.add_argument("kind", help="lead, client, project, product, post, or a plugin's kind (`oxymus records kinds`)")
    q.add_argument("title", nargs="*", help="its name (a post: its title); the same as --set name=... (title=...)")
    q.add_argument("--set", "-s", action="append", default=[], metavar="FIELD=VALUE", help="a field (repeatable); lists comma-separated")
    q.add_argument("--status", help="where on its pipeline it starts (default: the first status)")
    q.add_argument("--body", default="", help="notes, or - to read them from stdin")
    q.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    q.add_argument("--json", action="store_true", help="print the record as JSON")
    q = rcommand("edit", cmd_records_edit, "change a record's fields, notes or status; the previous version stays in its history")
    q.add_argument("id", help="its id, or a unique start of one (4+ characters)").completer = "records"
    q.add_argument("--set", "-s", action="append", default=[], metavar="FIELD=VALUE", help="set a field (repeatable)")
    q.add_argument("--unset", action="append", default=[], metavar="FIELD", help="clear a field (repeatable)")
    move = q.add_mutually_exclusive_group()
    move.add_argument("--status", help="move it to this status")
    move.add_argument("--next", action="store_true", help="move it to the next status of its pipeline")
    q.add_argument("--body", help="new notes, or - to read them from stdin")
    q.add_argument("--note", help="why, kept with the new version")
    q.add_argument("--json", action="store_true", help="print the record as JSON")
    q = rcommand("link", cmd_records_link, "link a record to another record or to what it concerns (shown both ways between records)")
    q.add_argument("id", help="the record, by id or a unique start of one").completer = "records"
    q.add_argument("type", choices=LINK_TYPES, help="what it links to")
    q.add_argument("ref", help="a record/capture/action id (or unique start), a run id, a calendar UID, a repo or file path, an email Message-ID")
    q.add_argument("--relation", default="about", help="what the link means, one word (default about; e.g. client, project, brief)")
    q.add_argument("--remove", action="store_true", help="remove this link instead")
    q.add_argument("--json", action="store_true", help="print the record's links as JSON")
    q = rcommand("kinds", cmd_records_kinds, "the record kinds: their fields, schema version and status pipeline")
    q.add_argument("--json", action="store_true", help="print JSON")


def _fields(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        if not eq or not name.strip():
            print(f"oxymus records: --set {pair!r}: expected FIELD=VALUE", file=sys.stderr)
            raise Exit(EXIT_USAGE)
        out[name.strip()] = value.strip()
    return out


def _body(value: str | None) -> str | None:
    if value == "-":
        raw = sys.stdin.buffer.read()
        try:
            return raw.decode("utf-8").rstrip("\n")
        except UnicodeDecodeError as exc:
            print(f"oxymus records: stdin is not valid UTF-8 (byte {exc.start})", file=sys.stderr)
            raise Exit(EXIT_USAGE) from None
    return value


def _line(record: dict) -> str:
    from oxymus.kernel.textfmt import one_line

    mark = "!" if record.get("problem") else " "
    return f"{mark} {record['id']}  {record['kind']:<8}  {record['status_label']:<14}  {one_line(record['title'], 50)}"


def cmd_records_list(args) -> int:
    params = {"kind": args.kind, "status": args.status, "archived": args.all}
    result = daemon_call("records list", "records.list", {k: v for k, v in params.items() if v is not None})
    if args.json:
        print_json(result)
        return EXIT_OK
    if not result["records"]:
        print("no records" + (f" of kind {args.kind}" if args.kind else "") + (f" in status {args.status}" if args.status else ""))
    for record in result["records"]:
        print(_line(record))
        if record.get("problem"):
            print(f"    problem: {record['problem']}")
    if result["problems"]:
        print(f"{result['problems']} record(s) fail their schema: kept as they are; `oxymus records show ID` says why")
    return EXIT_OK


def _target(link: dict, ref: str) -> str:
    from oxymus.kernel.textfmt import local_time

    label = f" — {link['label']}" if link.get("label") else ""
    if link.get("starts_at"):  # a calendar event, as last polled
        label += f" at {local_time(link['starts_at'])}"
    status = f" [{link['status']}]" if link.get("status") else ""
    return f"{ref}{label}{status}"


def cmd_records_show(args) -> int:
    detail = daemon_call("records show", "records.get", {"id": args.id})
    if args.json:
        print_json(detail)
        return EXIT_OK
    print_detail(detail)
    return EXIT_OK


def print_detail(detail: dict) -> None:
    from oxymus.kernel.textfmt import local_time

    r = detail["record"]
    print(f"{r['title']}\n{'=' * min(len(r['title']), 80)}")
    print(f"id {r['id']} · {r['kind']} · {r['status_label']}{' · FORGOTTEN' if r['archived'] else ''} · version {r['version']}"
          f" · schema v{r['schema_version']}")
    if r.get("problem"):
        print(f"PROBLEM: {r['problem']} (the record is kept as it was written)")
    for name, value in r["fields"].items():
        print(f"  {name}: {', '.join(map(str, value)) if isinstance(value, list) else value}")
    if detail["next"]:
        print("moves on to: " + " or ".join(detail["next"]))
    if r["body"]:
        print("\n" + r["body"])
    if detail.get("brief"):
        b = detail["brief"]
        made = {"llm": "an LLM summary checked against its citations", "deterministic": "the sources and facts"}.get(b["made_with"], "")
        print(f"\nbrief ({b['agent']}, {local_time(b['created_at'])}" + (f", for version {b['version']}" if b.get("version") else "")
              + (f"; {made}" if made else "") + f"; also `oxymus artifacts brief --key {r['id']} --full`):")
        print("  " + b["content"].rstrip().replace("\n", "\n  "))
    if detail["links"] or detail["linked_from"]:
        print("\nlinks:")
    for link in detail["links"]:
        print(f"  {link['relation']} -> {link['target_type']} {_target(link, link['target_ref'])}")
    for link in detail["linked_from"]:
        print(f"  {link['relation']} <- record {_target(link, link['record_id'])}")
    if detail.get("handoffs"):
        print("\nhandoffs:")
    for h in detail.get("handoffs", []):
        moved = f"{h['from_status'] or '-'} -> {h['to_status']}"
        print(f"  {local_time(h['at'])}  {moved:<24} by {h['by']:<14} to {h['to_agent'] or 'a person'}  {h['mode']}"
              + (f"  (run {h['run_id'][:10]})" if h.get("run_id") else ""))
    print("\nhistory:")
    for v in detail["history"]:
        print(f"  v{v['version']}  {local_time(v['changed_at'])}  {v['actor']:<10}  {v['status']}{'  ' + v['note'] if v.get('note') else ''}")


def cmd_records_add(args) -> int:
    fields = _fields(args.set)
    if args.title:
        # The words name the record: its kind says which field that is (a post's is `title`).
        kinds = {k["name"]: k for k in daemon_call("records add", "records.kinds")["kinds"]}
        fields.setdefault(kinds.get(args.kind, {}).get("title_field", "name"), " ".join(args.title))
    params = {"kind": args.kind, "fields": fields, "body": _body(args.body) or "", "tags": args.tag}
    if args.status:
        params["status"] = args.status
    record = daemon_call("records add", "records.add", params)
    if args.json:
        print_json(record)
    else:
        print(record["id"])
    return EXIT_OK


def cmd_records_edit(args) -> int:
    params = {"id": args.id, "fields": _fields(args.set), "unset": args.unset, "next": args.next}
    given = {"status": args.status, "body": _body(args.body), "note": args.note}
    params.update({k: v for k, v in given.items() if v is not None})
    if not (params["fields"] or args.unset or args.next or args.status is not None or args.body is not None):
        print("oxymus records edit: nothing to change (give --set, --unset, --status, --next or --body)", file=sys.stderr)
        return EXIT_USAGE
    record = daemon_call("records edit", "records.edit", params)
    if args.json:
        print_json(record)
    else:
        print(f"{record['id']} is {record['status_label']}, version {record['version']}")
    return EXIT_OK


def cmd_records_link(args) -> int:
    params = {"id": args.id, "target_type": args.type, "target_ref": args.ref, "relation": args.relation, "remove": args.remove}
    detail = daemon_call("records link", "records.link", params)
    if args.json:
        print_json({"links": detail["links"], "linked_from": detail["linked_from"]})
    else:
        print(f"{'unlinked' if args.remove else 'linked'} {detail['record']['id']} ({len(detail['links'])} link(s))")
    return EXIT_OK


def cmd_records_kinds(args) -> int:
    result = daemon_call("records kinds", "records.kinds")
    if args.json:
        print_json(result)
        return EXIT_OK
    for kind in result["kinds"]:
        print(f"{kind['name']} (schema v{kind['version']}): " + " → ".join(s["label"] for s in kind["statuses"]))
        fields = [f"{f['name']}{'*' if f['required'] else ''}" for f in kind["fields"]]
        print(f"    fields: {', '.join(fields)}")
    for name, why in result["broken"].items():
        print(f"{name}: NOT LOADED: {why}")
    return EXIT_OK

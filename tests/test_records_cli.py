"""Canonical records through the real daemon and CLI: add, list, show, edit (status moves and
their `record.status` event), link both ways, kinds, and clear errors."""

from __future__ import annotations

import json

from conftest import run_cli


def cli_json(*args: str, input: str | None = None):
    result = run_cli(*args, "--json", input=input)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_records_commands_end_to_end(daemon):
    client = cli_json("records", "add", "client", "Acme", "Ltd", "--set", "emails=ops@acme.test, ceo@acme.test",
                      "--set", "domains=acme.test")
    assert (client["kind"], client["status"], client["title"]) == ("client", "active", "Acme Ltd")
    assert client["fields"]["emails"] == ["ops@acme.test", "ceo@acme.test"]
    project = cli_json("records", "add", "project", "Shop rebuild", "-s", f"client={client['id'][:10]}", "-s", "budget=8000",
                       "-s", "due=2027-03-01", "--body", "-", input="Phase one: catalogue.\n")
    assert project["fields"] == {"name": "Shop rebuild", "client": client["id"], "budget": 8000.0, "due": "2027-03-01"}
    assert project["body"] == "Phase one: catalogue."
    post = cli_json("records", "add", "post", "Why", "we", "rebuilt", "--status", "draft")
    assert (post["title"], post["status"], post["fields"]) == ("Why we rebuilt", "draft", {"title": "Why we rebuilt"})
    lead = cli_json("records", "add", "lead", "Jane Doe", "-s", "email=jane@beta.test", "-s", "domain=beta.test")

    with daemon.client("watcher") as watcher:
        watcher.call("subscribe", {"topics": ["record.status"]})
        moved = cli_json("records", "edit", lead["id"], "--next", "--note", "called her")
        assert (moved["status"], moved["version"]) == ("qualified", 2)
        event = watcher.read_event()
    assert event["topic"] == "record.status"
    assert event["data"] == {"id": lead["id"], "kind": "lead", "old": "new", "new": "qualified", "actor": "oxymus-cli"}

    cli_json("records", "edit", lead["id"], "--next")
    result = run_cli("records", "edit", lead["id"], "--next")
    assert result.returncode == 2 and "choose won or lost" in result.stderr.decode()
    assert cli_json("records", "edit", lead["id"], "--status", "won")["status_label"] == "won"
    result = run_cli("records", "edit", lead["id"], "--next")
    assert result.returncode == 2 and "the end of the lead pipeline" in result.stderr.decode()

    links = cli_json("records", "link", post["id"], "record", project["id"][:12], "--relation", "project")
    assert [(x["target_ref"], x["relation"], x["label"]) for x in links["links"]] == [(project["id"], "project", "project: Shop rebuild")]
    cli_json("records", "link", post["id"], "email", "<m1@acme.test>")
    cli_json("records", "link", post["id"], "file", "~/blog/why-we-rebuilt.md")
    detail = cli_json("records", "show", project["id"])
    assert [(x["target_type"], x["target_ref"]) for x in detail["links"]] == [("record", client["id"])]
    assert [(x["record_id"], x["relation"], x["status"]) for x in detail["linked_from"]] == [(post["id"], "project", "draft")]
    assert detail["next"] == ["delivered"]

    text = run_cli("records", "show", post["id"]).stdout.decode()
    assert "Why we rebuilt" in text and "project -> record" in text and "email <m1@acme.test>" in text
    text = run_cli("records", "show", project["id"]).stdout.decode()
    assert "project <- record" in text and "moves on to: delivered" in text and "budget: 8000.0" in text

    listed = cli_json("records", "list", "--kind", "lead", "--status", "won")
    assert [x["id"] for x in listed["records"]] == [lead["id"]] and listed["problems"] == 0
    assert len(cli_json("records", "list")["records"]) == 4
    text = run_cli("records", "list", "--kind", "post").stdout.decode()
    assert post["id"] in text and "draft" in text and lead["id"] not in text
    shown = cli_json("records", "show", lead["id"])
    assert [(v["version"], v["status"], v["actor"]) for v in shown["history"]] == [
        (1, "new", "oxymus-cli"), (2, "qualified", "oxymus-cli"), (3, "proposal_sent", "oxymus-cli"), (4, "won", "oxymus-cli")]
    assert shown["history"][1]["note"] == "called her"
    # A record is a memory record: memory search finds it.
    assert [h["id"] for h in cli_json("memory", "search", "Jane")] == [lead["id"]]

    kinds = cli_json("records", "kinds")
    assert [k["name"] for k in kinds["kinds"]] == ["lead", "client", "project", "product", "post"]
    text = run_cli("records", "kinds").stdout.decode()
    assert "lead (schema v1): new → qualified → proposal sent → won → lost" in text


def test_bad_records_input_is_a_clear_error(daemon):
    result = run_cli("records", "add", "lead", "-s", "budget=lots")
    assert result.returncode == 2 and "lead: name: Field required" in result.stderr.decode()
    result = run_cli("records", "add", "lead", "X", "-s", "budget=lots")
    assert result.returncode == 2 and "budget:" in result.stderr.decode()
    result = run_cli("records", "add", "invoice", "X")
    assert result.returncode == 2 and "no record kind 'invoice'" in result.stderr.decode()
    result = run_cli("records", "add", "lead", "X", "-s", "nonsense")
    assert result.returncode == 2 and "expected FIELD=VALUE" in result.stderr.decode()
    lead = cli_json("records", "add", "lead", "X")
    result = run_cli("records", "edit", lead["id"], "--status", "maybe")
    assert result.returncode == 2 and "no status 'maybe'" in result.stderr.decode()
    assert run_cli("records", "edit", lead["id"]).returncode == 2
    result = run_cli("records", "show", "01M8000000000000000000000X")
    assert result.returncode == 2 and "no record" in result.stderr.decode()
    result = run_cli("records", "link", lead["id"], "record", lead["id"])
    assert result.returncode == 2 and "itself" in result.stderr.decode()


def test_doctor_reports_records_failing_their_schema(daemon):
    import sqlite3

    lead = cli_json("records", "add", "lead", "Kept")
    checks = {c["name"]: c for c in json.loads(run_cli("doctor", "--json", timeout=60).stdout)}
    assert checks["records"]["status"] == "ok" and "1 record(s)" in checks["records"]["detail"]
    # As a failed schema migration leaves it: the record stays as written, its problem stored.
    with sqlite3.connect(daemon.paths.db_file) as db:
        db.execute("UPDATE records SET fields = json_set(fields, '$.budget', 'lots'), problem = 'lead: migration x failed' "
                   "WHERE id = ?", (lead["id"],))
    checks = {c["name"]: c for c in json.loads(run_cli("doctor", "--json", timeout=60).stdout)}
    assert checks["records"]["status"] == "warn" and "1 record(s) fail their schema" in checks["records"]["detail"]
    listed = cli_json("records", "list")
    assert listed["problems"] == 1 and "budget" in listed["records"][0]["problem"]  # checked again, still failing
    assert "! " + lead["id"] in run_cli("records", "list").stdout.decode()

"""Memory through the real daemon and CLI: add, search, show, edit, forget, budget, vault, triage."""

from __future__ import annotations

import json

from conftest import run_cli


def cli_json(*args: str, input: str | None = None):
    result = run_cli(*args, "--json", input=input)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_memory_commands_end_to_end(daemon, tmp_path):
    ana = cli_json("memory", "add", "Ana", "Lopez", "--kind", "person", "--tag", "friend", "--tier", "hot",
                   "--body", "-", input="Workshop partner.\nPrefers calls after 2pm.\n")
    assert (ana["kind"], ana["tier"], ana["tags"], ana["body"]) == ("person", "hot", ["friend"], "Workshop partner.\nPrefers calls after 2pm.")
    hits = cli_json("memory", "search", "calls", "after")
    assert [h["id"] for h in hits] == [ana["id"]] and hits[0]["source"] == "user"
    assert "body" not in hits[0] and "Prefers calls after 2pm." in hits[0]["snippet"], "a hit is light: the snippet, no body"
    shown = run_cli("memory", "search", "calls", "after")
    assert shown.returncode == 0, shown.stderr
    shown = shown.stdout.decode() if isinstance(shown.stdout, bytes) else shown.stdout
    assert ana["id"] in shown and "Prefers calls after 2pm." in shown and "from user" in shown
    edited = cli_json("memory", "edit", ana["id"], "--body", "Workshop partner in Porto.")
    assert edited["version"] == 2
    shown = cli_json("memory", "show", ana["id"])
    assert [v["body"] for v in shown["history"]] == ["Workshop partner.\nPrefers calls after 2pm.", "Workshop partner in Porto."]
    text = run_cli("memory", "show", ana["id"]).stdout.decode()
    assert "Ana Lopez" in text and "v2" in text and "from: user" in text
    budget = cli_json("memory", "budget")
    assert budget["used_words"] == 6 and budget["limit_words"] == 1500

    vault = tmp_path / "vault"
    assert "wrote 1 record(s)" in run_cli("memory", "export", "--markdown", str(vault)).stdout.decode()
    (note,) = vault.rglob("*.md")
    assert note.read_text().startswith("---\nid: ") and "# Ana Lopez" in note.read_text()
    note.write_text(note.read_text().replace("Porto", "Lisbon"))
    (vault / "fact").mkdir()
    (vault / "fact" / "new.md").write_text('---\ntitle: "Bank"\nkind: fact\n---\nIBAN ends 0100\n')
    (vault / "fact" / "broken.md").write_text("no front matter here\n")
    result = run_cli("memory", "import", str(vault))
    assert result.returncode == 1 and "1 added, 1 updated, 0 unchanged, 1 skipped" in result.stdout.decode()
    assert "broken.md:1: no front matter" in result.stderr.decode()
    assert "1 added" not in run_cli("memory", "import", str(vault)).stdout.decode(), "a second import adds nothing"

    assert "forgot" in run_cli("memory", "forget", ana["id"]).stdout.decode()
    assert cli_json("memory", "search", "Lisbon") == []
    assert "purged" in run_cli("memory", "forget", ana["id"], "--purge").stdout.decode()
    result = run_cli("memory", "show", ana["id"])
    assert result.returncode == 2 and "no memory record" in result.stderr.decode()


def test_bad_memory_input_is_a_clear_error(daemon):
    result = run_cli("memory", "add", "x", "--kind", "Not A Kind")
    assert result.returncode == 2 and "kind: invalid kind 'not a kind'" in result.stderr.decode()
    result = run_cli("memory", "add", "x", "--tag", "two words")
    assert result.returncode == 2 and "invalid tag" in result.stderr.decode()
    result = run_cli("memory", "edit", "01M8000000000000000000000X", "--title", "y")
    assert result.returncode == 2 and "no memory record" in result.stderr.decode()
    assert run_cli("memory", "edit", "whatever").returncode == 2


def test_a_capture_becomes_a_record_linked_both_ways(daemon):
    capture_id = run_cli("capture", "Ana's new number is 555 0100").stdout.decode().strip()
    with daemon.client() as c:
        c.call("subscribe", {"topics": ["capture.*", "memory.*"]})
        result = c.call("inbox.triage", {"capture_id": capture_id, "to": "memory"})
        topics = {}
        while not {"memory.changed", "capture.triaged"} <= topics.keys():
            event = c.read_event()
            topics[event["topic"]] = event["data"]
        record = c.call("memory.get", {"id": result["target_id"]})["record"]
        assert topics["capture.triaged"] == {"id": capture_id, "to": "memory", "target": record["id"]}
        assert record["title"] == "Ana's new number is 555 0100"
        assert record["provenance"]["source"] == "capture" and record["provenance"]["ref"] == capture_id
        assert [link["capture_id"] for link in record["links"]] == [capture_id]
        inbox = c.call("inbox.list", {"status": "triaged"})
        assert [x["id"] for x in inbox["captures"]] == [capture_id]
        assert inbox["links"][capture_id][0]["target_id"] == record["id"]
        assert c.call("inbox.list")["captures"] == []
        again = run_cli("memory", "add", "dup", "--from-capture", capture_id)
        assert again.returncode == 2 and "already triaged" in again.stderr.decode()
        other = run_cli("capture", "junk").stdout.decode().strip()
        assert c.call("inbox.triage", {"capture_id": other, "to": "archive"})["to"] == "archive"
        assert c.call("inbox.list", {"status": "archived"})["captures"][0]["id"] == other

"""Every id a person types may be a unique start of one (4+ characters, any case), with one resolver
(oxymus/store/ids.py) behind captures, memory records and actions, and the same plain errors."""

from __future__ import annotations

import json

from conftest import run_cli

# Hand-made ULIDs: two share their first 10 characters, the third stands apart.
TWIN_A = "01JAAAAAAA0000000000000001"
TWIN_B = "01JAAAAAAA0000000000000002"
LONE = "01JBBBBBBB0000000000000003"


def cli(*args: str):
    proc = run_cli(*args)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def test_capture_ids_by_prefix(daemon):
    with daemon.client() as c:
        for cid, text in ((TWIN_A, "twin a"), (TWIN_B, "twin b"), (LONE, "Bo lives in Lisbon")):
            c.call("capture.add", {"text": text, "id": cid})

    code, out, err = cli("memory", "add", "Bo lives in Lisbon", "--from-capture", "01jb")  # lower case, 4 characters
    assert code == 0, err
    record = json.loads(cli("memory", "show", out.strip(), "--json")[1])["record"]
    assert [link["capture_id"] for link in record["links"]] == [LONE]
    assert record["provenance"]["ref"] == LONE  # the whole id, not what was typed
    assert LONE not in {c["id"] for c in json.loads(cli("inbox", "--json")[1])}

    code, _, err = cli("memory", "add", "which one?", "--from-capture", "01jaaaa")
    assert code == 2 and f"'01jaaaa' is ambiguous: {TWIN_A}, {TWIN_B}" in err
    code, _, err = cli("memory", "add", "nothing", "--from-capture", "zzzz")
    assert code == 2 and "no capture 'zzzz'" in err
    code, _, err = cli("memory", "add", "too short", "--from-capture", "01j")
    assert code == 2 and "no capture '01j' (give at least 4 characters of its id)" in err

    with daemon.client() as c:  # the RPCs resolve too, the TUI's and any client's
        done = c.call("inbox.triage", {"capture_id": TWIN_B.lower(), "to": "archive"})
        assert done["capture_id"] == TWIN_B


def test_memory_record_ids_by_prefix(daemon):
    code, out, err = cli("memory", "add", "Ana prefers mornings")
    assert code == 0, err
    record_id = out.strip()
    short = record_id[-8:-2].lower()  # not even its start: a prefix is a start, so this names nothing
    assert cli("memory", "show", short)[0] == 2

    prefix = record_id[:12].lower()
    code, out, err = cli("memory", "show", prefix, "--json")
    assert code == 0, err
    assert json.loads(out)["record"]["id"] == record_id
    code, out, err = cli("memory", "edit", prefix, "--title", "Ana prefers early mornings", "--json")
    assert code == 0, err
    assert json.loads(out)["title"] == "Ana prefers early mornings"
    code, _, err = cli("memory", "forget", prefix)
    assert code == 0, err
    with daemon.client() as c:
        assert c.call("memory.get", {"id": record_id})["record"]["archived"] is True

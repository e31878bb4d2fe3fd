"""The agent graph: `oxymus agents graph` in text, Graphviz and Mermaid, built from the agents'
declarations, with every installed agent and every record kind's pipeline edge."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from conftest import run_cli

from oxymus.agents import graph
from oxymus.agents.base import Agent, RecordPort
from oxymus.plugins import agents
from oxymus.records.kinds import registered


def _cli(*args: str) -> str:
    result = run_cli("agents", "graph", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode()


def _pipeline_edges() -> set[tuple[str, str]]:
    return {(f"record:{name}@{s}", f"record:{name}@{n}") for name, kind in registered().items()
            for s in kind.status_words() for n in kind.next_statuses(s)}


def test_the_graph_holds_every_installed_agent_and_every_pipeline_edge(home):
    found = json.loads(_cli("--json"))
    assert {a["name"] for a in found["agents"]} == set(agents())
    moves = {(e["source"], e["target"]) for e in found["edges"] if e["kind"] == "moves"}
    assert moves == _pipeline_edges()
    assert all(e["mode"] == "manual" for e in found["edges"] if e["kind"] == "moves")
    intake = next(a for a in found["agents"] if a["name"] == "intake")
    assert intake["produces"] == ["lead@new"] and intake["side_effects"] == ["email.send"]
    assert {"source": "agent:intake", "target": "record:lead@new", "kind": "produces", "mode": "automatic"} in found["edges"]
    publisher = next(a for a in found["agents"] if a["name"] == "publisher")
    assert publisher["validates"] and "git.push" in publisher["side_effects"]


def test_text_names_producers_consumers_and_side_effects(home):
    out = _cli()
    for name in agents():
        assert re.search(rf"^  {name} \(", out, re.M), name
    assert re.search(r"^    active\s+from person\s+to person \(manual\)$", out, re.M)  # a client, a project
    assert re.search(r"^    new\s+from intake\s+to person \(manual\)$", out, re.M)
    assert re.search(r"^  email\.send\s+proposed by distribution, intake$", out, re.M)
    assert re.search(r"^  git\.push\s+proposed by publisher$", out, re.M)


def test_dot_output_parses_and_has_every_edge(home):
    out = _cli("--dot")
    edges = set(re.findall(r'^  "([^"]+)" -> "([^"]+)"', out, re.M))
    assert _pipeline_edges() <= edges
    nodes = set(re.findall(r'^  "([^"]+)" \[label=', out, re.M))
    assert {f"agent:{name}" for name in agents()} <= nodes
    assert {n for edge in edges for n in edge} <= nodes  # no edge to an undeclared node
    if shutil.which("dot") is None:
        pytest.skip("graphviz is not installed: the structure was checked, not the syntax")
    parsed = subprocess.run(["dot", "-Tcanon"], input=out.encode(), capture_output=True, check=False)
    assert parsed.returncode == 0, parsed.stderr.decode()
    assert b"agent:publisher" in parsed.stdout


def test_mermaid_output_is_a_flowchart_with_every_edge(home):
    out = _cli("--mermaid").splitlines()
    assert out[0] == "flowchart LR"
    ids = {re.match(r"^  (\w+)[\[\(\{]", line).group(1) for line in out[1:] if re.match(r"^  \w+[\[\(\{]", line)}
    arrows = {(m.group(1), m.group(3)) for line in out if (m := re.match(r"^  (\w+) (-->|-\.->)\|[^|]+\| (\w+)$", line))}
    assert {(graph._mermaid_id(a), graph._mermaid_id(b)) for a, b in _pipeline_edges()} <= arrows
    assert {n for edge in arrows for n in edge} <= ids
    assert "agent_publisher" in ids


def test_a_consumer_is_an_automatic_handoff_and_unknown_statuses_show_up():
    class Editor(Agent):
        name = "editor"
        role = "Edits drafts."
        consumes = (RecordPort.of("post@draft"),)
        produces = (RecordPort.of("post@edited"),)
        proposes = ("record.update",)

    class Mailer(Agent):
        name = "mailer"
        role = "Sends."
        proposes = ("email.*", "notify.send")

    scopes = {"record.update": "own_files", "email.send": "external", "notify.send": "local"}
    g = graph.build({"editor": Editor, "mailer": Mailer}, registered(), scopes)
    assert graph.GraphEdge(source="record:post@draft", target="agent:editor", kind="consumes", mode="automatic") in g.edges
    assert next(a for a in g.agents if a.name == "editor").side_effects == []  # own files: not a side effect
    assert next(a for a in g.agents if a.name == "mailer").side_effects == ["email.send"]
    assert re.search(r"^    draft\s+from person\s+to editor \(automatic\)$", graph.text(g), re.M)
    with pytest.raises(ValueError):
        RecordPort.of("post")

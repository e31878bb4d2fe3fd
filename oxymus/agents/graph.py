"""The agent graph: who produces which record kind at which status, who takes it over,
who validates and who carries out side effects (`oxymus agents graph`).

Built from declarations only (each agent's `consumes`, `produces`, `validates` and
`proposes`, each record kind's pipeline, each action kind's scope), so it is the same
with the daemon down and never drifts from what the runtime does: the runtime starts a
consumer from the same `consumes` (`daemon/agent_graph.py`).

A handoff is automatic when the runtime starts the consumer of a record's new status,
manual when a person moves a record along its pipeline (or approves an agent's move).
The edges say which of the two each one is.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field

EdgeKind = Literal["consumes", "produces", "moves", "carries_out"]


class AgentNode(BaseModel):
    name: str
    role: str = Field(description="the first line of its role")
    trigger: str
    consumes: list[str] = Field(default_factory=list, description="KIND@STATUS it is started on")
    produces: list[str] = Field(default_factory=list)
    validates: list[str] = Field(default_factory=list)
    side_effects: list[str] = Field(default_factory=list, description="the action kinds it proposes whose scope is external")


class GraphEdge(BaseModel):
    source: str = Field(description="agent:NAME, record:KIND@STATUS, person or action:KIND")
    target: str
    kind: EdgeKind
    mode: Literal["automatic", "manual"] = Field(description="automatic: the runtime hands it on; manual: a person does")


class AgentGraph(BaseModel):
    agents: list[AgentNode]
    records: dict[str, list[str]] = Field(description="each record kind's statuses in pipeline order")
    actions: list[str] = Field(default_factory=list, description="the side effects carried out")
    edges: list[GraphEdge]


def _first_sentence(text: str) -> str:
    first = " ".join(text.split()).split(". ")[0].rstrip(".")
    return first if len(first) <= 100 else first[:99] + "…"


def _trigger(cls: type) -> str:
    also = f"; on {', '.join(cls.also_on)}" if cls.also_on and cls.trigger.on is None else ""
    return cls.trigger.describe() + also


def side_effects(proposes: tuple[str, ...], scopes: Mapping[str, str]) -> list[str]:
    """The external action kinds among `proposes` (globs matched against the installed kinds)."""
    out = []
    for pattern in proposes:
        matched = [kind for kind in scopes if fnmatch.fnmatchcase(kind, pattern)] or [pattern]
        out += [kind for kind in matched if scopes.get(kind, "external") == "external" and kind not in out]
    return out


def build(agents: Mapping[str, type], kinds: Mapping[str, type], scopes: Mapping[str, str],
          triggers: Mapping[str, str] | None = None) -> AgentGraph:
    """`agents`: name -> Agent class; `kinds`: name -> RecordKind class; `scopes`: action kind -> scope."""
    nodes: list[AgentNode] = []
    edges: list[GraphEdge] = []
    records = {name: [word for word, _label in cls.statuses] for name, cls in sorted(kinds.items())}
    for name, kind in sorted(kinds.items()):
        for status in records[name]:
            for nxt in kind.next_statuses(status):
                edges.append(GraphEdge(source=f"record:{name}@{status}", target=f"record:{name}@{nxt}", kind="moves", mode="manual"))
    actions: list[str] = []
    for name, cls in sorted(agents.items()):
        effects = side_effects(tuple(cls.proposes), scopes)
        node = AgentNode(name=name, role=_first_sentence(cls.role),
                         trigger=(triggers or {}).get(name) or _trigger(cls),
                         consumes=[str(p) for p in cls.consumes], produces=[str(p) for p in cls.produces],
                         validates=list(cls.validates), side_effects=effects)
        nodes.append(node)
        for port in node.consumes:
            edges.append(GraphEdge(source=f"record:{port}", target=f"agent:{name}", kind="consumes", mode="automatic"))
        for port in node.produces:
            edges.append(GraphEdge(source=f"agent:{name}", target=f"record:{port}", kind="produces", mode="automatic"))
        for kind in effects:
            # Carried out only once approved: by policy (automatic) or by the person (manual);
            # an external effect waits for the person unless a rule says otherwise.
            edges.append(GraphEdge(source=f"agent:{name}", target=f"action:{kind}", kind="carries_out", mode="manual"))
            if kind not in actions:
                actions.append(kind)
        for port in [*node.consumes, *node.produces]:
            kind_name, _, status = port.partition("@")
            if status not in records.setdefault(kind_name, []):
                records[kind_name].append(status)
    return AgentGraph(agents=nodes, records=records, actions=sorted(actions), edges=edges)


# ------------------------------------------------------------------ renderings


def _producers(graph: AgentGraph, port: str) -> list[str]:
    return [e.source.removeprefix("agent:") for e in graph.edges if e.kind == "produces" and e.target == f"record:{port}"]


def _consumers(graph: AgentGraph, port: str) -> list[str]:
    return [e.target.removeprefix("agent:") for e in graph.edges if e.kind == "consumes" and e.source == f"record:{port}"]


def text(graph: AgentGraph) -> str:
    lines = ["Agents"]
    for a in graph.agents:
        lines.append(f"  {a.name} ({a.trigger}): {a.role}")
        lines.append(f"    consumes:     {', '.join(a.consumes) or '-'}")
        lines.append(f"    produces:     {', '.join(a.produces) or '-'}")
        lines.append(f"    validates:    {'; '.join(a.validates) or '-'}")
        lines.append(f"    side effects: {', '.join(a.side_effects) or '-'}")
    lines += ["", "Records (who produces each status -> who takes it over; a person where no agent does)"]
    for kind, statuses in graph.records.items():
        lines.append(f"  {kind}: {' -> '.join(statuses)}")
        for status in statuses:
            port = f"{kind}@{status}"
            made = ", ".join(_producers(graph, port)) or "person"
            taken = ", ".join(f"{c} (automatic)" for c in _consumers(graph, port)) or "person (manual)"
            lines.append(f"    {status:<14} from {made:<16} to {taken}")
    lines += ["", "Side effects (each an action: approved by policy or by the person, done once)"]
    for kind in graph.actions:
        by = [e.source.removeprefix("agent:") for e in graph.edges if e.kind == "carries_out" and e.target == f"action:{kind}"]
        lines.append(f"  {kind:<22} proposed by {', '.join(by)}")
    if not graph.actions:
        lines.append("  -")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(node: str, graph: AgentGraph) -> str:
    kind, _, rest = node.partition(":")
    if kind == "agent":
        agent = next((a for a in graph.agents if a.name == rest), None)
        checks = f"\\nvalidates: {'; '.join(agent.validates)}" if agent is not None and agent.validates else ""
        return f"{rest}{checks}"
    return rest or node


def _nodes(graph: AgentGraph) -> list[str]:
    seen: list[str] = [f"agent:{a.name}" for a in graph.agents]
    seen += [f"record:{k}@{s}" for k, statuses in graph.records.items() for s in statuses]
    seen += [f"action:{k}" for k in graph.actions]
    return seen


def dot(graph: AgentGraph) -> str:
    shapes = {"agent": "box", "record": "ellipse", "action": "hexagon"}
    out = ["digraph agents {", "  rankdir=LR;", '  node [fontname="sans-serif"];']
    for node in _nodes(graph):
        shape = shapes[node.split(":", 1)[0]]
        out.append(f"  {_quote(node)} [label={_quote(_label(node, graph)).replace(chr(92) * 2 + 'n', chr(92) + 'n')}, shape={shape}];")
    for e in graph.edges:
        style = "solid" if e.mode == "automatic" else "dashed"
        label = {"consumes": "starts", "produces": "produces", "moves": "person moves", "carries_out": "carries out"}[e.kind]
        out.append(f"  {_quote(e.source)} -> {_quote(e.target)} [label={_quote(label)}, style={style}];")
    out.append("}")
    return "\n".join(out) + "\n"


def _mermaid_id(node: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in node)


def mermaid(graph: AgentGraph) -> str:
    out = ["flowchart LR"]
    for node in _nodes(graph):
        kind = node.split(":", 1)[0]
        label = _label(node, graph).replace("\\n", "<br/>").replace('"', "'")
        open_, close = {"agent": ("[", "]"), "record": ("([", "])"), "action": ("{{", "}}")}[kind]
        out.append(f'  {_mermaid_id(node)}{open_}"{label}"{close}')
    for e in graph.edges:
        label = {"consumes": "starts", "produces": "produces", "moves": "person moves", "carries_out": "carries out"}[e.kind]
        arrow = "-->" if e.mode == "automatic" else "-.->"
        out.append(f"  {_mermaid_id(e.source)} {arrow}|{label}| {_mermaid_id(e.target)}")
    return "\n".join(out) + "\n"

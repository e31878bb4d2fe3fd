"""Flows: several actions proposed, approved and run as one transaction.

A flow is what a person approves when one change needs several effects: commit the
post, mark it published in PLANS.md, push. It is stored as a parent action of kind
`flow`, which carries the one policy decision (the strictest of its steps' effects),
the one approval request and a preview of every step, and as one action per step, of
the step's own kind, waiting in `proposed` until its turn. The daemon runs the steps
in order (daemon/flows.py); when one fails for good, the steps done before it are
taken back in reverse order by their kinds' `compensate()`, and where one cannot be
taken back the flow stops and says what is left to do by hand.

This module is the pure part: the payload people and agents send, and the preview.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from oxymus.actions.effects import Preview, Risk, Scope

MAX_STEPS = 20
RISKS: tuple[Risk, ...] = ("low", "medium", "high")
SCOPES: tuple[Scope, ...] = ("local", "own_files", "external")


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=100, description="the step's action kind, e.g. git.commit")
    payload: dict[str, Any] = Field(default_factory=dict, description="the step's payload, as for a single action of its kind")


class FlowPayload(BaseModel):
    """What is proposed: `oxymus propose flow --payload '{"title": ..., "steps": [...]}'`."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, description="what the flow does as a whole, e.g. 'Publish “Hello”'")
    steps: list[StepIn] = Field(min_length=1, max_length=MAX_STEPS, description="the actions, run in this order")


class StepView(BaseModel):
    """A step as the flow's own payload keeps it (the step's payload lives in its own action)."""

    model_config = ConfigDict(frozen=True)

    kind: str
    summary: str
    compensable: bool = Field(description="whether Oxymus can take it back if a later step fails")


def preview(title: str, steps: list[tuple[StepView, Preview]]) -> Preview:
    """One preview for the whole flow: every step's summary and body, and what happens on failure."""
    lines = [f"{len(steps)} steps, run in order:"]
    for i, (view, _) in enumerate(steps, start=1):
        lines.append(f"  {i}. {view.summary}" + ("" if view.compensable else "  (cannot be taken back)"))
    lines.append("If a step fails for good, the steps done before it are taken back in reverse order.")
    irreversible = [i for i, (view, _) in enumerate(steps, start=1) if not view.compensable]
    if irreversible and irreversible != [len(steps)]:
        lines.append("A step that cannot be taken back stops that, and Oxymus says what is left to do by hand.")
    for i, (view, step) in enumerate(steps, start=1):
        if step.body.strip():
            lines += ["", f"── step {i}: {view.summary}", step.body.rstrip("\n")]
    return Preview(summary=f"{title} ({len(steps)} steps)", format="text", body="\n".join(lines) + "\n")


def strictest_risk(risks: list[str]) -> Risk:
    return max(risks, key=RISKS.index)  # type: ignore[return-value]


def widest_scope(scopes: list[str]) -> Scope:
    return max(scopes, key=SCOPES.index)  # type: ignore[return-value]

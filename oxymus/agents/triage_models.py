"""What the triage agent suggests a capture becomes: the models it stores and the daemon serves.

Here rather than in the protocol so that the agent does not import the client side;
`oxymus.client.protocol` uses them in `inbox.list`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from oxymus.memory import records as mem

SuggestionTarget = Literal["plan_action", "memory", "calendar_event", "bill", "archive"]


class SuggestedEvent(BaseModel):
    """A calendar event a capture could become; its times were computed by code, never by the LLM."""

    summary: str = Field(min_length=1, max_length=500)
    start: str = Field(description="ISO-8601 with the offset of the configured zone")
    end: str = Field(description="ISO-8601 with an offset; after start")
    calendar: str | None = Field(default=None, description="the [[calendar.caldav]] entry (default: triage's setting, else the first configured)")


class TriageSuggestion(BaseModel):
    """What the triage agent suggests a capture becomes (stored as artifact `triage_suggestion`, key = capture id)."""

    capture_id: str
    to: SuggestionTarget
    confidence: float = Field(ge=0, le=1)
    why: str = Field(description="one or two sentences: what in the capture led here")
    label: str = Field(description="one line: what accepting it does, e.g. 'calendar: Call Ana, Tue 24 Nov 14:00–14:30'")
    preselected: bool = Field(default=False, description="confident enough (triage's `preselect_at`) to be the default: Enter in the TUI accepts it")
    source: Literal["rules", "llm"] = Field(default="rules", description="rules: the deterministic path; llm: the LLM's classification, validated")
    notes: list[str] = Field(default_factory=list, description="what may be wrong: an ambiguous or past time, a calendar conflict")
    text: str | None = Field(default=None, max_length=500, description="to=plan_action: the action's text")
    section: str | None = Field(default=None, max_length=200, description="to=plan_action: the PLANS.md section")
    record: mem.RecordFields | None = Field(default=None, description="to=memory: the record")
    event: SuggestedEvent | None = Field(default=None, description="to=calendar_event: the event")
    bill: dict[str, Any] | None = Field(default=None, description="to=bill: one [[bill]] table for bills.toml")
    stale: str | None = Field(default=None, description="set by inbox.list when the suggestion no longer holds (its time has passed)")

"""Domain types shared by every layer. Pydantic at the boundaries, frozen where they are facts."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CaptureStatus = Literal["open", "triaged", "archived"]


class Capture(BaseModel):
    """One line (or paragraph) that landed in the inbox, verbatim."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="ULID; sorts by creation time")
    seq: int = Field(description="arrival order in this profile's store")
    text: str
    source: str = Field(description="where it came from: cli, tui, stdin, demo, ...")
    created_at: str = Field(description="UTC, ISO-8601 with milliseconds")
    status: CaptureStatus = "open"


class AuditEvent(BaseModel):
    """One append-only line of the audit log; the trace id ties trigger -> run -> action -> receipt."""

    model_config = ConfigDict(frozen=True)

    seq: int | None = None
    ts: str
    actor: str = Field(description="who did it: user, daemon, an agent name, a connector")
    verb: str = Field(description="what happened, e.g. capture.added")
    subject: str = Field(description="the id of what it happened to")
    trace_id: str
    details: dict[str, Any] = Field(default_factory=dict)

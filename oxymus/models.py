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


# What `oxymus log --problems` shows and audit pruning keeps: an action that failed, was
# denied or expired, and an agent run that failed or stopped.
PROBLEM_VERBS = ("action.failed", "action.denied", "action.expired", "agent.failed", "agent.stopped")


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


HealthStatus = Literal["pending", "ok", "stale", "failing", "needs_human"]
ErrorClass = Literal["unavailable", "needs_human", "bug"]


class SourceHealth(BaseModel):
    """How fresh and how well one source is, as the coordinator keeps it."""

    source: str
    interval: float = Field(description="seconds between polls")
    stale_after: float = Field(description="seconds after the last success when the state counts as stale")
    last_attempt: str | None = None
    last_success: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    error_class: ErrorClass | None = Field(default=None, description="the last failure's kind: unavailable, needs_human or bug")
    consecutive_failures: int = 0
    next_attempt: str | None = None
    item_count: int = 0
    suspect: str | None = Field(default=None, description="set while a sudden empty answer is held back, awaiting a second poll")
    warnings: list[str] = Field(default_factory=list)

    def status_at(self, now_iso: str) -> HealthStatus:
        if self.consecutive_failures:
            return "needs_human" if self.error_class == "needs_human" else "failing"
        if self.last_success is None:
            return "pending"
        return "stale" if age_seconds(self.last_success, now_iso) > self.stale_after else "ok"

    def view(self, now_iso: str) -> "SourceView":
        return SourceView(
            **self.model_dump(), status=self.status_at(now_iso),
            age_s=None if self.last_success is None else round(age_seconds(self.last_success, now_iso), 1),
            stale=self.last_success is not None and age_seconds(self.last_success, now_iso) > self.stale_after,
        )


class SourceView(SourceHealth):
    """SourceHealth as shown to clients: with its status and age at the time of asking."""

    status: HealthStatus
    age_s: float | None = Field(description="seconds since the last successful poll")
    stale: bool = Field(description="older than stale_after (also true while failing, once old enough)")


def age_seconds(then_iso: str, now_iso: str) -> float:
    from datetime import datetime

    def parse(s: str) -> datetime:
        return datetime.fromisoformat(s)

    return (parse(now_iso) - parse(then_iso)).total_seconds()


NotificationState = Literal["held", "pending", "delivered", "missed", "silenced", "failed"]
DesktopState = Literal["pending", "shown", "shown_plain", "unavailable", "error", "off"]


class Notification(BaseModel):
    """One notification the daemon meant to show, and where it reached the person.

    `state`: held (quiet hours or the rate limit; shown at `held_until`), pending (not yet
    tried), delivered (the desktop or a TUI showed it), missed (neither did: listed by
    `oxymus notifications` and the next review until seen), silenced (its kind is switched
    off in `[notify.kinds]`), failed (it can never be shown: its stored payload is invalid).
    """

    id: str = Field(description="the notify.send action's id")
    kind: str = Field(description="approval, bill, meeting, github, digest, failure, agent, pause or general")
    title: str
    body: str = ""
    urgency: Literal["low", "normal", "critical"] = "normal"
    decides: str | None = Field(default=None, description="the action its buttons approve or deny")
    facts: list[str] = Field(default_factory=list, description="the fact keys it announces (one notification per fact)")
    created_at: str
    held_until: str | None = None
    desktop: DesktopState = "pending"
    desktop_at: str | None = None
    desktop_note: str | None = Field(default=None, description="why the desktop did not show it, or how it was shown")
    tui: Literal["pending", "shown", "none"] = "pending"
    tui_at: str | None = None
    state: NotificationState = "pending"
    seen_at: str | None = None


class NotificationsListResult(BaseModel):
    notifications: list[Notification]
    missed: int = Field(description="missed and not yet seen")
    desktop: str | None = Field(default=None, description="why the desktop cannot show notifications now, if so")


class NotificationsSeenResult(BaseModel):
    seen: list[str]
    missed: int

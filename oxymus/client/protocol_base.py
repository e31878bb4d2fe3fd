"""What every connection needs up front: the envelope, the handshake, status, errors' shape.

Light on purpose (pydantic and the shared domain types only): the daemon answers `hello`
and `status` with these before it has loaded its agents and connectors, and
`oxymus.client.protocol` imports the other methods' models only when one is first used.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from oxymus import PROTOCOL_VERSION
from oxymus.actions.pause import PauseState
from oxymus.models import SourceView


class _Model(BaseModel):
    # Each model's validator is built when it is first used, not at import: a connection uses a
    # few of these, and building all of them was a good part of what a daemon's start costs.
    model_config = ConfigDict(defer_build=True)


class Params(_Model):
    model_config = ConfigDict(extra="forbid")


class NoParams(Params):
    pass


class NotificationsListParams(Params):
    all: bool = Field(default=False, description="every notification, newest first (default: the missed ones not yet seen, oldest first)")
    limit: int = Field(default=200, ge=1, le=1000)


class NotificationsSeenParams(Params):
    ids: list[str] = Field(default_factory=list, description="these missed notifications; empty: all of them")


class Request(_Model):
    """The envelope of every call."""

    model_config = ConfigDict(extra="forbid")
    jsonrpc: Literal["2.0"]
    method: str
    params: dict[str, Any] | None = None
    id: int | str | None = None


class ErrorObject(_Model):
    code: int
    message: str
    data: Any = None


class Reply(_Model):
    """The one reply envelope: exactly one of result or error."""

    jsonrpc: Literal["2.0"]
    id: int | str | None
    result: Any = None
    error: ErrorObject | None = None


class Event(_Model):
    """A change pushed to subscribers, as the params of an `event` notification."""

    topic: str = Field(description="e.g. capture.added")
    ts: str
    data: dict[str, Any] = Field(default_factory=dict)


class HelloParams(Params):
    protocol: int = Field(description="the client's protocol version; must equal the daemon's")
    client: str = Field(default="unknown", max_length=64, description="a name for logs, e.g. oxymus-tui")


class HelloResult(_Model):
    protocol: int = PROTOCOL_VERSION
    server: str = "oxymus"
    version: str
    pid: int


class StatusLineResult(_Model):
    approvals: int = Field(description="actions waiting for the person's decision (snoozed ones included)")
    inbox: int = Field(description="open captures in the inbox")
    problems: list[str] = Field(
        default_factory=list,
        description="each problem in words: a failing source, an agent whose latest run failed or stopped, "
        "a kind of action whose latest finished one failed",
    )


class StatusResult(_Model):
    pid: int
    version: str
    protocol: int
    started_at: str
    uptime_s: float
    socket: str
    database: str
    schema_version: int
    clients: int
    subscribers: int
    sources: list[SourceView] = Field(default_factory=list, description="per-source health")
    approvals_waiting: int = Field(default=0, description="actions waiting for the person's decision (snoozed ones included)")
    approvals_snoozed: int = Field(default=0, description="of those, how many are snoozed (they come back by themselves)")
    pause: PauseState | None = Field(default=None, description="set while automation is paused ('not today')")
    policy_error: str | None = Field(default=None, description="why policy.toml cannot be used (every action then needs approval)")
    notifications: str | None = Field(default=None, description="why desktop notifications cannot be shown, if they cannot")
    llm: str | None = Field(default=None, description="'available', or why agents run without the LLM (as last checked)")
    storage_error: str | None = Field(
        default=None, description="why the last write failed (a full disk, a damaged file), until a write succeeds again"
    )
    starting: bool = Field(
        default=False, description="the daemon answers but is still loading its sources, agents and actions (a moment "
        "after start): sources, approvals and the pause are not filled in yet; requests that need them wait"
    )
    integrity: str | None = Field(
        default=None, description="what the database's integrity check (run in the background after start) found wrong"
    )


class SubscribeParams(Params):
    topics: list[str] = Field(default_factory=lambda: ["*"], description="topic names or prefixes ending in '*'")


class SubscribeResult(_Model):
    topics: list[str]


class ShutdownResult(_Model):
    stopping: bool = True

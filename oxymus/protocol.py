"""The daemon's RPC surface: an explicit allowlist of methods, each with typed params and result.

Shared by the daemon (which validates every request against these models) and the
clients. Only methods listed in METHODS are callable; anything else is
METHOD_NOT_FOUND. Every connection starts with `hello`, which carries the
protocol version.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from oxymus import PROTOCOL_VERSION
from oxymus.models import Capture, CaptureStatus, SourceView
from oxymus.today import Today


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoParams(Params):
    pass


class Request(BaseModel):
    """The envelope of every call."""

    model_config = ConfigDict(extra="forbid")
    jsonrpc: Literal["2.0"]
    method: str
    params: dict[str, Any] | None = None
    id: int | str | None = None


class ErrorObject(BaseModel):
    code: int
    message: str
    data: Any = None


class Reply(BaseModel):
    """The one reply envelope: exactly one of result or error."""

    jsonrpc: Literal["2.0"]
    id: int | str | None
    result: Any = None
    error: ErrorObject | None = None


class Event(BaseModel):
    """A change pushed to subscribers, as the params of an `event` notification."""

    topic: str = Field(description="e.g. capture.added")
    ts: str
    data: dict[str, Any] = Field(default_factory=dict)


class HelloParams(Params):
    protocol: int = Field(description="the client's protocol version; must equal the daemon's")
    client: str = Field(default="unknown", max_length=64, description="a name for logs, e.g. oxymus-tui")


class HelloResult(BaseModel):
    protocol: int = PROTOCOL_VERSION
    server: str = "oxymus"
    version: str
    pid: int


class StatusResult(BaseModel):
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


class CaptureAddParams(Params):
    text: str
    source: str = "cli"
    id: str | None = Field(default=None, description="a ULID chosen by the client; retries with the same id are idempotent")


class CaptureAddResult(BaseModel):
    capture: Capture
    created: bool = Field(description="false when a capture with this id already existed")


class InboxListParams(Params):
    status: CaptureStatus = "open"
    limit: int = Field(default=500, ge=1, le=10_000)


class InboxListResult(BaseModel):
    captures: list[Capture]


class SubscribeParams(Params):
    topics: list[str] = Field(default_factory=lambda: ["*"], description="topic names or prefixes ending in '*'")


class SubscribeResult(BaseModel):
    topics: list[str]


class TodayParams(Params):
    date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD; default: today in the configured zone")


class RefreshParams(Params):
    source: str | None = Field(default=None, description="a source id, or a connector name for all its sources; default: all")


class SourcesResult(BaseModel):
    sources: list[SourceView]


class ShutdownResult(BaseModel):
    stopping: bool = True


class Method(BaseModel):
    name: str
    summary: str
    params: type[BaseModel]
    result: type[BaseModel]


METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method(name="hello", summary="handshake; must be the first call on a connection", params=HelloParams, result=HelloResult),
        Method(name="status", summary="pid, uptime, socket, database and schema version", params=NoParams, result=StatusResult),
        Method(name="capture.add", summary="store a capture durably; idempotent on a client-chosen id", params=CaptureAddParams, result=CaptureAddResult),
        Method(name="inbox.list", summary="captures by status, newest first", params=InboxListParams, result=InboxListResult),
        Method(name="today.get", summary="the day: events, deadlines, bills, repos and PRs needing attention, source freshness", params=TodayParams, result=Today),
        Method(name="state.refresh", summary="poll sources now and wait for the result", params=RefreshParams, result=SourcesResult),
        Method(name="state.sources", summary="every configured source's health and freshness", params=NoParams, result=SourcesResult),
        Method(name="subscribe", summary="stream change events to this connection as `event` notifications", params=SubscribeParams, result=SubscribeResult),
        Method(name="daemon.shutdown", summary="stop the daemon gracefully", params=NoParams, result=ShutdownResult),
    ]
}

EVENT_TOPICS: dict[str, str] = {
    "capture.added": "a capture was stored (data: the capture)",
    "state.changed": "a source's items changed (data: source, added, changed, removed)",
    "source.health": "a source was polled (data: its SourceView: status, age, last error, next attempt)",
    "daemon.stopping": "the daemon is shutting down; clients should reconnect later",
}

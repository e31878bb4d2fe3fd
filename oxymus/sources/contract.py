"""The connector contract: how a source of state plugs into Oxymus.

A *connector* (one module or small package under `connectors/`, or a third-party
package) is registered under the entry point group `oxymus.connectors`; its name is
also the name of its config section (`[git]`, `[calendar]`, ...). From its
validated config it makes one or more *sources*, each polled on its own schedule by
the daemon's coordinator.

`poll()` reads and never has side effects. It returns typed state items, or raises
one of the two error classes below; anything else it raises is a bug, which the
coordinator logs with its traceback and treats as a failure like the others.

Connector modules are imported when the config is loaded, so they must stay
light at import time: import clients such as caldav or github inside `poll()`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from oxymus.sources import secrets
from oxymus.sources.secrets import SecretSpec


class SourceError(Exception):
    """A poll that failed for a reason the user can read; str() is the message shown."""


class SourceUnavailable(SourceError):
    """Transient: server down, timeout, 5xx, rate limited, a file briefly unreadable.

    The coordinator backs off exponentially (with jitter, up to a cap) and keeps
    trying. `retry_after` (seconds), when the server said so, is honoured.
    """

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class NeedsHuman(SourceError):
    """Only the person can fix it: bad credentials, a missing token or password.

    Retried at the backoff cap (so it recovers once fixed) and shown prominently.
    """


class StateItem(BaseModel):
    """One fact from a source, as of `observed_at`.

    `key` is stable across polls (a repo path, an event UID plus its occurrence
    start, a PR's URL), so the store can tell what changed. `starts_at`/`ends_at`
    (UTC ISO-8601) are set for things that happen at a time (events, deadlines,
    bills due) so a day's view is a range query. `error` marks an item-level
    problem (one repo path that vanished) while the rest of the source is fine.
    """

    model_config = ConfigDict(frozen=True)

    source: str
    kind: str = Field(description="e.g. git.repo, calendar.event, calendar.deadline, github.pr, bills.due")
    key: str
    observed_at: str
    starts_at: str | None = None
    ends_at: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class PollResult(BaseModel):
    items: list[StateItem] = Field(default_factory=list)
    warnings: list[str] = Field(
        default_factory=list,
        description="problems that did not stop the poll, each naming its file/line or item (a skipped bad event)",
    )
    fingerprint: str | None = Field(
        default=None,
        description="what this poll read, in a few bytes (a file's stat, a body's hash, with the window): "
                    "the next poll is given it as `PollContext.previous_fingerprint`",
    )
    unchanged: bool = Field(
        default=False,
        description="the source read the same as for `previous_fingerprint`, so `items` is empty and the stored "
                    "state stands; only valid with that same fingerprint",
    )

    @classmethod
    def same_as_before(cls, fingerprint: str) -> "PollResult":
        """The answer of a source that saw nothing new: no parse, no items, the state kept."""
        return cls(fingerprint=fingerprint, unchanged=True)


class PollContext:
    """What a poll may use. Time comes from here (tests freeze it); so do secrets.

    `secret` (injected) reads the keyring; `secret()` tries the environment and a
    `password_command` before it (see `oxymus.sources.secrets`).
    """

    def __init__(
        self,
        *,
        zone: ZoneInfo,
        config_dir: Path,
        now: Callable[[], dt.datetime] | None = None,
        secret: Callable[[str], str | None] | None = None,
        timeout: float = 20.0,
        previous_fingerprint: str | None = None,
    ):
        self.zone = zone
        # The fingerprint of the last poll whose items were stored: a source that reads
        # the same again may answer `PollResult.same_as_before` and skip its parse.
        self.previous_fingerprint = previous_fingerprint
        self.config_dir = config_dir
        self._now = now or (lambda: dt.datetime.now(dt.timezone.utc))
        self._secret = secret or (lambda name: None)
        self.timeout = timeout

    def now(self) -> dt.datetime:
        """The current time, timezone-aware (UTC)."""
        return self._now()

    def today(self) -> dt.date:
        """Today's date in the user's zone."""
        return self.now().astimezone(self.zone).date()

    def secret(self, spec: SecretSpec | str) -> str | None:
        """The secret from its environment variables, its `password_command`, else the keyring; None if none has it.

        It may run a command, so call it from the poll's worker thread, not the event
        loop. A failing command, or no keyring when nothing else gave the secret, is
        `NeedsHuman` with a message saying where the secret can come from.
        """
        if isinstance(spec, str):
            spec = SecretSpec(spec)
        if value := secrets.from_env(spec.env):
            return value
        if spec.command is not None:
            try:
                return secrets.run_command(spec.command, spec.command_key, self.timeout)
            except secrets.SecretCommandFailed as exc:
                raise NeedsHuman(str(exc)) from None
        try:
            return self._secret(spec.name)
        except secrets.SecretStoreUnavailable as exc:
            raise NeedsHuman(
                f"no {spec.name} secret: no OS keyring is available ({exc.kind}); "
                f"{spec.ways(keyring=False)}, or install and unlock a keyring"
            ) from None

    def resolve(self, path: str) -> Path:
        """A user-given path: `~` expanded, relative paths taken from the config dir."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.config_dir / p


class SourceSettings(BaseModel):
    """Settings every source takes."""

    model_config = ConfigDict(extra="forbid")

    interval: float = Field(default=300, ge=5, description="seconds between polls")
    stale_after: float = Field(default=1800, ge=10, description="seconds after which the source's state is reported stale")


@runtime_checkable
class Source(Protocol):
    """One pollable thing made from a connector's config (a calendar, all the repos)."""

    id: str  # unique in the profile: "git", "calendar.personal", "github"
    interval: float
    stale_after: float
    # Optional: a source that keeps only days around its poll (a calendar's expanded events) sets
    # `days_kept = (days_back, days_ahead)`, so a day outside them is said to be unknown, not empty.

    async def poll(self, ctx: PollContext) -> PollResult: ...


class Connector(Protocol):
    name: ClassVar[str]
    Config: ClassVar[type[BaseModel]]

    @classmethod
    def sources(cls, config: Any) -> list[Source]: ...


def utc_iso(moment: dt.datetime) -> str:
    """An aware datetime as the store's UTC ISO-8601 form (ms, Z)."""
    moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class BrokenSource:
    """Stands in for a source whose connector could not be set up: every poll reports why."""

    def __init__(self, source_id: str, error: str, interval: float = 300, stale_after: float = 1800):
        self.id, self.error, self.interval, self.stale_after = source_id, error, interval, stale_after

    async def poll(self, ctx: PollContext) -> PollResult:
        raise SourceUnavailable(self.error)

"""The `[calendar]` config section: what a person writes in config.toml for this connector."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from oxymus.sources.contract import SourceSettings
from oxymus.sources.secrets import SecretSpec


class IcsEntry(SourceSettings):
    """One `[[calendar.ics]]`: a local .ics file, a vdir folder of .ics files, or an http(s) URL."""

    path: str = Field(description="a file, a vdir folder or an http(s) URL", examples=["~/cal/personal.ics"])
    name: str | None = Field(default=None, description="short name for this calendar (default: from the path)", examples=["personal"])
    interval: float = Field(default=900, ge=5, description="seconds between polls")
    stale_after: float = Field(default=3600, ge=10, description="seconds after which the source's state is reported stale")

    def source_name(self) -> str:
        if self.name:
            return self.name
        base = self.path.rstrip("/").rsplit("/", 1)[-1]
        return _slug(base.removesuffix(".ics") or urlsplit(self.path).hostname or "ics")


class CalDavEntry(SourceSettings):
    """One `[[calendar.caldav]]` server. The password comes from `password_command`, else the keyring (`calendar.NAME`)."""

    url: str = Field(description="the CalDAV server or principal URL", examples=["http://127.0.0.1:5232/"])
    username: str = Field(description="login name; the password comes from `password_command` or the keyring", examples=["me"])
    name: str | None = Field(default=None, description="short name for this server (default: username-host)", examples=["work"])
    calendars: list[str] = Field(default_factory=list, description="calendar names to include (default: all)")
    password_command: str | None = Field(
        default=None,
        description="a command printing the password on its first line, run without a shell (khal's and vdirsyncer's convention); when unset the keyring entry `calendar.NAME` is used",
        examples=["pass show calendar"],
    )
    interval: float = Field(default=900, ge=5, description="seconds between polls")
    stale_after: float = Field(default=3600, ge=10, description="seconds after which the source's state is reported stale")

    def source_name(self) -> str:
        return self.name or _slug(f"{self.username}-{urlsplit(self.url).hostname or 'caldav'}")

    def secret_name(self) -> str:
        """The keyring entry holding the password: `calendar.NAME`."""
        return f"calendar.{self.source_name()}"

    def secret_spec(self) -> SecretSpec:
        """`password_command` first, then the keyring; the command's key names this entry for errors."""
        return SecretSpec(
            self.secret_name(), command=self.password_command,
            command_key=f"[[calendar.caldav]] {self.source_name()}: password_command",
        )

    def no_password(self) -> str:
        return f"no password for {self.secret_name()}: {self.secret_spec().ways()}"


class CalendarConfig(BaseModel):
    """`[calendar]`: where events come from and how far ahead to look."""

    model_config = ConfigDict(extra="forbid")

    ics: list[IcsEntry] = Field(default_factory=list, description="ICS files, vdir folders and URLs")
    caldav: list[CalDavEntry] = Field(default_factory=list, description="CalDAV servers")
    past_days: int = Field(default=7, ge=0, le=366, description="days back from today to keep expanded events")
    future_days: int = Field(default=366, ge=1, le=3660, description="days ahead of today to expand recurring events")
    max_occurrences: int = Field(
        default=1000, ge=1, le=100_000,
        description="at most this many occurrences of one recurring event or to-do in the window; "
        "the rest are dropped with a warning naming its UID (a FREQ=SECONDLY rule with no end stays cheap)",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> "CalendarConfig":
        seen: set[str] = set()
        for entry in [*self.ics, *self.caldav]:
            name = entry.source_name()
            if name in seen:
                raise ValueError(f"two calendars are named {name!r}; give one of them a different `name`")
            seen.add(name)
        return self


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-").lower() or "calendar"

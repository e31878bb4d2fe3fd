"""The `[bills]` config section: what a person writes in config.toml for this connector."""

from __future__ import annotations

from pydantic import Field

from oxymus.sources.contract import SourceSettings


class BillsConfig(SourceSettings):
    """`[bills]`: the file of recurring and one-off bills."""

    file: str = Field(default="bills.toml", description="the bills file; relative paths are relative to the config dir")
    window_days: int = Field(default=14, ge=0, le=366, description="bills due within this many days count as upcoming")
    interval: float = Field(default=600, ge=5, description="seconds between polls")
    stale_after: float = Field(default=86400, ge=10, description="seconds after which the source's state is reported stale")

"""bills: upcoming and overdue bills from a bills.toml the user keeps."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from oxymus.sources import Source, SourceSettings


class BillsConfig(SourceSettings):
    """`[bills]`: the file of recurring and one-off bills."""

    file: str = Field(default="bills.toml", description="the bills file; relative paths are relative to the config dir")
    window_days: int = Field(default=14, ge=0, le=366, description="bills due within this many days count as upcoming")
    interval: float = Field(default=600, ge=5, description="seconds between polls")
    stale_after: float = Field(default=86400, ge=10, description="seconds after which the source's state is reported stale")


class BillsConnector:
    """bills you keep in bills.toml"""

    name: ClassVar[str] = "bills"
    Config: ClassVar[type[BillsConfig]] = BillsConfig

    @classmethod
    def sources(cls, config: BillsConfig) -> list[Source]:
        from oxymus.connectors.bills.source import BillsSource

        return [BillsSource(config)]

    @classmethod
    def actions(cls, config: BillsConfig | None) -> list:
        from oxymus.connectors.bills.actions import MarkPaid
        from oxymus.connectors.bills.add_action import AddBill

        return [MarkPaid(config), AddBill(config)]

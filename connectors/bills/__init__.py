"""bills: upcoming and overdue bills from a bills.toml the user keeps."""

from __future__ import annotations

from typing import ClassVar

from oxymus.connectors.bills.config import BillsConfig
from oxymus.sources.contract import Source


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

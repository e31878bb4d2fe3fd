"""Reusable widgets. They render what they are given and do no IO.

`from oxymus.tui.widgets import SectionBar` imports only the module that defines it (PEP 562
`__getattr__`): Today's first paint does not import the approval queue's or memory's widgets
and the models they render.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOMES = {
    "ActivityTable": "activity_views",
    "ApprovalsTable": "approvals_views",
    "CaptureTable": "capture_table",
    "CycleField": "cycle_field",
    "HistoryTable": "memory_views",
    "MemoryTable": "memory_views",
    "ActionsTable": "plans_views",
    "SectionBar": "section_bar",
    "SourcesPanel": "sources_panel",
    "StatusBar": "status_bar",
}

__all__ = sorted(_HOMES)

if TYPE_CHECKING:
    from oxymus.tui.widgets.activity_views import ActivityTable
    from oxymus.tui.widgets.approvals_views import ApprovalsTable
    from oxymus.tui.widgets.capture_table import CaptureTable
    from oxymus.tui.widgets.cycle_field import CycleField
    from oxymus.tui.widgets.memory_views import HistoryTable, MemoryTable
    from oxymus.tui.widgets.plans_views import ActionsTable
    from oxymus.tui.widgets.section_bar import SectionBar
    from oxymus.tui.widgets.sources_panel import SourcesPanel
    from oxymus.tui.widgets.status_bar import StatusBar


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value

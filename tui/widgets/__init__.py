"""Reusable widgets. They render what they are given and do no IO."""

from oxymus.tui.widgets.activity_views import ActivityTable
from oxymus.tui.widgets.approvals_views import ApprovalsTable
from oxymus.tui.widgets.capture_table import CaptureTable
from oxymus.tui.widgets.cycle_field import CycleField
from oxymus.tui.widgets.memory_views import HistoryTable, MemoryTable
from oxymus.tui.widgets.plans_views import ActionsTable
from oxymus.tui.widgets.section_bar import SectionBar
from oxymus.tui.widgets.sources_panel import SourcesPanel
from oxymus.tui.widgets.status_bar import StatusBar

__all__ = ["ActionsTable", "ActivityTable", "ApprovalsTable", "CaptureTable", "CycleField", "HistoryTable", "MemoryTable", "SectionBar", "SourcesPanel", "StatusBar"]

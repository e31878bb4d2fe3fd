"""Reusable widgets. They render what they are given and do no IO."""

from oxymus.tui.widgets.capture_table import CaptureTable
from oxymus.tui.widgets.section_bar import SectionBar
from oxymus.tui.widgets.sources_panel import SourcesPanel
from oxymus.tui.widgets.status_bar import StatusBar

__all__ = ["CaptureTable", "SectionBar", "SourcesPanel", "StatusBar"]

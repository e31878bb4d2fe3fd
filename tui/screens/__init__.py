"""One module per section of the TUI, plus modal dialogs. Screens render messages; they do no IO."""

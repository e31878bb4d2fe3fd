"""The day at a glance, computed from stored state, and its plain-text rendering."""

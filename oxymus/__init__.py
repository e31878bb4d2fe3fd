"""Oxymus: a local-first personal operating system for one person.

This package is the headless core. It must stay importable without Textual,
APScheduler or any concrete connector (checked by tests/test_architecture.py),
and cheap to import: `oxymus capture` runs through it on every keystroke-sized
thought, so nothing heavy is imported here.
"""

__version__ = "0.1.0"
PROTOCOL_VERSION = 1

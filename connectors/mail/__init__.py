"""mail: a Maildir read without changing it, and `email.send` over SMTP.

The Maildir reader (`oxymus.connectors.mail.maildir`) is a library: the intake agent
reads `[mail] maildir` (or its own `[agents.intake] maildir`) with it. The connector
polls nothing itself.
"""

from __future__ import annotations

from typing import ClassVar

from oxymus.actions.effects import ActionSpec
from oxymus.connectors.mail.config import MailConfig
from oxymus.sources.contract import Source


class MailConnector:
    """a Maildir to read and an SMTP server to send through"""

    name: ClassVar[str] = "mail"
    Config: ClassVar[type[MailConfig]] = MailConfig

    @classmethod
    def sources(cls, config: MailConfig) -> list[Source]:
        return []

    @staticmethod
    def read_maildir(path: str, seen: dict | None):
        """The messages at `path` not in `seen` (a previous result's `state`, dumped), read-only. Blocking.
        Agents reach the reader here, through the connector registry, never by importing it."""
        from oxymus.connectors.mail.maildir import ScanState, scan

        return scan(path, ScanState.model_validate(seen) if seen else None)

    @classmethod
    def actions(cls, config: MailConfig | None) -> list[ActionSpec]:
        # Imported here: config loading imports every connector, and only the daemon sends.
        from oxymus.connectors.mail.send import EmailSend

        return [EmailSend(config)]

"""What the connection tells screens, always in the past tense.

`DaemonConnection` posts a fresh instance of these to every screen that listens
(see `DaemonConnection.listen`). They do not bubble: each screen gets its own.
Screens hold no sockets and do no IO; they render what these messages carry.
"""

from __future__ import annotations

from textual.message import Message

from oxymus.models import Capture
from oxymus.today import Today


class ConnectionMessage(Message):
    bubble = False


class Connecting(ConnectionMessage):
    """An attempt to reach the daemon began (starting it first when `starting`)."""

    def __init__(self, socket: str, starting: bool = False) -> None:
        super().__init__()
        self.socket = socket
        self.starting = starting


class Connected(ConnectionMessage):
    """The handshake succeeded and events are subscribed."""

    def __init__(self, socket: str) -> None:
        super().__init__()
        self.socket = socket


class Disconnected(ConnectionMessage):
    """The daemon could not be reached (or went away); the next try is `retry_in` seconds away."""

    def __init__(self, socket: str, reason: str, retry_in: float) -> None:
        super().__init__()
        self.socket = socket
        self.reason = reason
        self.retry_in = retry_in


class InboxLoaded(ConnectionMessage):
    """The open captures, newest first; replaces whatever was shown."""

    def __init__(self, captures: list[Capture]) -> None:
        super().__init__()
        self.captures = captures


class CaptureAdded(ConnectionMessage):
    """A capture not seen before was stored (by anyone)."""

    def __init__(self, capture: Capture) -> None:
        super().__init__()
        self.capture = capture


class CaptureQueued(ConnectionMessage):
    """The user submitted a capture; it is on its way (kept until the daemon stores it)."""

    def __init__(self, capture_id: str, text: str) -> None:
        super().__init__()
        self.capture_id = capture_id
        self.text = text


class CaptureFailed(ConnectionMessage):
    """The daemon refused a capture (for example: too long); it will not be retried."""

    def __init__(self, capture_id: str, text: str, reason: str) -> None:
        super().__init__()
        self.capture_id = capture_id
        self.text = text
        self.reason = reason


class TodayLoaded(ConnectionMessage):
    """The day as the daemon computed it; replaces whatever was shown.

    `received_at` is the wall-clock time (epoch seconds) the reply arrived: a source's
    age now is its `age_s` plus the seconds elapsed since then, so ages tick without
    asking the daemon again.
    """

    def __init__(self, today: Today, received_at: float) -> None:
        super().__init__()
        self.today = today
        self.received_at = received_at


class TodayFailed(ConnectionMessage):
    """The daemon could not give the day (for example: a daemon too old to know `today.get`)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class RefreshStarted(ConnectionMessage):
    """The user asked for every source to be polled now; the daemon is polling."""


class RefreshFinished(ConnectionMessage):
    """The poll asked for ended (and the day was reloaded); `error` says why it could not run, if so."""

    def __init__(self, error: str | None = None) -> None:
        super().__init__()
        self.error = error

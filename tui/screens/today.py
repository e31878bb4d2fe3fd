"""The Today section (the first screen): the day at a glance, updated live; `r` polls every source now.

It renders `TodayLoaded` messages (the connection reloads the day after every
`state.changed` / `source.health` event and at midnight) and does no IO. Ages tick
once a second from the last reply: a source's age is the `age_s` the daemon
reported plus the seconds since the reply arrived (the app's clock), so no
round trip is made per tick. While the daemon is unreachable the last day stays
on screen, marked as possibly out of date.
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, Static

from oxymus.today.view import Today
from oxymus.tui.link.live import LiveQuery
from oxymus.tui.link.messages import Connected, Connecting, Disconnected, RefreshFinished, TodayFailed, TodayLoaded
from oxymus.tui.screens.base import SectionScreen
from oxymus.tui.widgets import SectionBar, SourcesPanel
from oxymus.tui.widgets import today_panels as panels

TODAY_TOPICS = ("state.changed", "source.health")  # events after which the day is reloaded
TODAY_DEBOUNCE = 0.2  # seconds: events arriving within this window cost one reload


def date_changed(today: Today | None, now: float) -> bool:
    """Whether the date in the day's zone is no longer the day shown (midnight passed)."""
    if today is None:
        return False
    try:
        local = dt.datetime.fromtimestamp(now, ZoneInfo(today.zone))
    except (ValueError, KeyError, OSError):  # a zone this machine does not know: use its own
        local = dt.datetime.fromtimestamp(now)
    return local.date().isoformat() != today.date


# The day: on connect, after every poll or source change (a burst costs one reload), and when
# the date changed in the day's zone. A failure stays shown (and replayed) until the next answer.
TODAY = LiveQuery("today.get", "today.get", lambda a: TodayLoaded(a.value, a.received_at), Today, params=dict,
                  topics=TODAY_TOPICS, debounce=TODAY_DEBOUNCE, failed=lambda error, _p: TodayFailed(error),
                  replay=True, replay_failure=True, report_drop=False, stale=date_changed)

WAITING = "Waiting for the daemon…"
NARROW = 120  # columns: below this the sources panel goes under the day instead of beside it (bill lines need ~75)
TICK = 1.0  # seconds between re-renders of the ages


class TodayScreen(SectionScreen):
    SECTION = "today"
    LIVE = (TODAY,)
    BINDINGS = [Binding("r", "refresh", "Refresh")]

    def __init__(self) -> None:
        super().__init__()
        self.today: Today | None = None
        self.received_at = 0.0
        self.online = False
        self._phases: tuple = ()

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="today-scroll"):
            yield Static("", id="today-header")
            yield Static("", id="today-offline")
            yield Static("", id="today-error")
            with Horizontal(id="today-columns"):
                with Vertical(id="today-main"):
                    for part in ("events", "deadlines", "bills", "repos", "prs", "problems"):
                        yield Static("", id=f"today-{part}", classes="today-part")
                yield SourcesPanel(id="today-sources")
        yield Label(WAITING, id="today-waiting")

    def on_mount(self) -> None:
        # (SectionScreen.on_mount, which starts listening, runs too: Textual calls each class's handler.)
        self.query_one("#today-scroll").display = False
        self._fit(self.size.width)
        self.set_interval(TICK, self._tick, name="today-ages")

    def on_resize(self, event) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        self.set_class(0 < width < NARROW, "-narrow")

    # ---- time ---------------------------------------------------------------

    def clock(self) -> float:
        """Seconds since the epoch, from the app (tests freeze it for stable screenshots)."""
        return getattr(self.app, "clock", time.time)()

    @property
    def elapsed(self) -> float:
        """Seconds since the day shown arrived: what every source's age has grown by."""
        return max(0.0, self.clock() - self.received_at)

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc)

    # ---- actions ------------------------------------------------------------

    def action_refresh(self) -> None:
        self.oxymus.connection.refresh_state()

    # ---- messages -----------------------------------------------------------

    @on(TodayLoaded)
    def _loaded(self, message: TodayLoaded) -> None:
        self.today, self.received_at = message.today, message.received_at
        self.query_one("#today-error", Static).display = False
        self.query_one("#today-waiting", Label).display = False
        self.query_one("#today-scroll").display = True
        self._render_day()

    @on(TodayFailed)
    def _failed(self, message: TodayFailed) -> None:
        error = self.query_one("#today-error", Static)
        error.update(f"The daemon could not give the day: {message.reason}")
        error.display = True
        if self.today is None:
            self.query_one("#today-waiting", Label).display = False
            self.query_one("#today-scroll").display = True

    @on(Connected)
    def _online(self, message: Connected) -> None:
        self.online = True
        self._show_offline()

    @on(Connecting)
    @on(Disconnected)
    def _offline(self, message: Connecting | Disconnected) -> None:
        self.online = False
        self._show_offline()

    @on(RefreshFinished)
    def _refreshed(self, message: RefreshFinished) -> None:
        if message.error and self.is_active:
            self.notify(message.error, title="Refresh failed", severity="error", timeout=8)

    # ---- rendering ------------------------------------------------------------

    def _show_offline(self) -> None:
        offline = self.query_one("#today-offline", Static)
        if self.online or self.today is None:
            offline.display = False
            return
        shown = time.strftime("%H:%M", time.localtime(self.received_at))
        offline.update(f"Not connected: this is the day as loaded at {shown}; it may be out of date.")
        offline.display = True

    def _render_day(self) -> None:
        today = self.today
        if today is None:
            return
        now = self._now()
        self.query_one("#today-header", Static).update(panels.header(today))
        configured = bool(today.sources)
        parts = {
            "events": panels.events(today.events, now, today.events_unknown) if configured else None,
            "deadlines": panels.deadlines(today.deadlines),
            "bills": panels.bills(today.bills),
            "repos": panels.repos(today.repos),
            "prs": panels.pull_requests(today.pull_requests, today.issues_assigned),
            "problems": panels.problems(today.problems),
        }
        for name, text in parts.items():
            widget = self.query_one(f"#today-{name}", Static)
            widget.display = text is not None
            if text is not None:
                widget.update(text)
        self.query_one("#today-main").display = configured
        self.set_class(not configured, "-unconfigured")  # the hint alone, full width
        self._phases = panels.phases(today.events, now)
        self._render_ages(now)
        self._show_offline()

    def _render_ages(self, now: dt.datetime) -> None:
        assert self.today is not None
        elapsed = self.elapsed
        self.query_one("#today-sources", SourcesPanel).show(self.today.sources, elapsed, now)
        self.query_one("#section-bar", SectionBar).set_summary(panels.summary(self.today, elapsed))

    def _tick(self) -> None:
        if self.today is None:
            return
        now = self._now()
        phases = panels.phases(self.today.events, now)
        if phases != self._phases:  # an event started or ended: restyle the list
            self._phases = phases
            self.query_one("#today-events", Static).update(panels.events(self.today.events, now, self.today.events_unknown))
        self._render_ages(now)

"""The delivery chain of a notification: the desktop, every attached TUI, else the missed list.

Every `notify.send` action has a row in the notifications table (oxymus/store/notice_repo.py),
written with the action (ActionDesk.propose). The desk asks `hold()` when it may be shown
(the connector's `[notify]` rules: kinds switched off, quiet hours, the rate limit) and delays
the action's execution until then, so a held notification is shown when its time comes, not
dropped. After the executor ran it, `delivered()` records what the desktop did (from the
receipt), publishes `notification.posted` to the TUIs that subscribe to it (a toast and a
bell) and marks it missed when neither showed it. When a notification server appears on the
session bus (the connector's `watch`), `redeliver()` shows again what the desktop missed and
still matters: missed and unseen notifications, and approvals still waiting.

The core reaches the connector only through its action spec (`specs["notify.send"]`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from oxymus.actions.model import Action
from oxymus.models import Notification
from oxymus.sources.contract import utc_iso
from oxymus.store import notice_repo

if TYPE_CHECKING:
    from oxymus.daemon.desk import ActionDesk

log = logging.getLogger("oxymus.daemon.notices")

NOTIFY = "notify.send"
TOPIC = "notification.posted"


def record_for(action: Action, *, state: str = "pending", held_until: str | None = None) -> Notification:
    p = action.payload
    return Notification(
        id=action.id, kind=str(p.get("kind") or "general"), title=str(p.get("title") or "")[:200],
        body=str(p.get("body") or ""), urgency=p.get("urgency") or "normal", decides=p.get("decides"),
        facts=list(p.get("facts") or []), created_at=action.created_at, held_until=held_until, state=state,  # type: ignore[arg-type]
        desktop="off" if state == "silenced" else "pending", tui="none" if state == "silenced" else "pending",
    )


class Courier:
    def __init__(self, desk: "ActionDesk"):
        self.desk = desk
        self.store = desk.store
        self._watch: asyncio.Task | None = None

    @property
    def spec(self) -> Any:
        return self.desk.specs.get(NOTIFY)

    # --- before: when it may be shown ----------------------------------------------------

    async def hold(self, payload: dict[str, Any], now: dt.datetime) -> tuple[str, str | None]:
        """("pending", None), ("held", UTC ISO) or ("silenced", None) for a new notification."""
        spec = self.spec
        if spec is None or not hasattr(spec, "schedule"):
            return "pending", None
        try:
            typed = spec.parse(payload)
        except ValidationError:
            return "pending", None  # the executor says what is wrong with it
        recent = await self.store.notices.scheduled_since(utc_iso(now - dt.timedelta(hours=1)))
        return spec.schedule(typed, now, self.desk.zone, recent)

    # --- after: where it reached the person ----------------------------------------------

    async def delivered(self, action: Action) -> Notification | None:
        """The executor ran it: record the desktop's answer, pass it to the TUIs, else list it as missed."""
        receipt = action.receipt.data if action.receipt is not None else {}
        desktop = receipt.get("desktop") or ("shown" if receipt.get("shown") else "unavailable")
        return await self._chain(action, desktop, receipt.get("note"))

    async def failed(self, action: Action, invalid: bool) -> Notification | None:
        """The action failed: an invalid payload can never be shown; anything else still goes to the TUIs."""
        if invalid:
            await self._ensure(action)
            return await self.store.notices.update(action.id, state="failed", desktop="error", desktop_note=action.error)
        return await self._chain(action, "error", action.error)

    async def _ensure(self, action: Action) -> Notification:
        found = await self.store.notices.get(action.id)
        if found is None:
            found = record_for(action)
            await self.store.notices.ensure(found)
        return found

    async def _chain(self, action: Action, desktop: str, note: str | None) -> Notification | None:
        row = await self._ensure(action)
        if row.state == "silenced":
            return row
        now = self.desk.now_iso()
        self._desktop_seen(desktop, note)
        shown_on_desktop = desktop in ("shown", "shown_plain")
        tuis = self.desk.bus.publish(TOPIC, {**row.model_dump(include={"id", "kind", "title", "body", "urgency", "decides"}),
                                             "desktop": desktop})
        state = "delivered" if shown_on_desktop or tuis else "missed"
        updated = await self.store.notices.update(
            action.id, desktop=desktop, desktop_at=now, desktop_note=note, tui="shown" if tuis else "none",
            tui_at=now if tuis else None, state=state,
        )
        if state == "missed":
            log.info("notification %s missed (%s; no TUI attached): kept for `oxymus notifications`", action.id, note)
            self.desk.bus.publish("notifications.changed", {"missed": await self.store.notices.count_missed()})
        return updated

    def _desktop_seen(self, desktop: str, note: str | None) -> None:
        """`oxymus status` says when the desktop cannot show notifications; logged on change only."""
        why = note if desktop in ("unavailable", "error") else None
        if why != self.desk.notify_unavailable:
            if why:
                log.warning("desktop notifications unavailable (%s); they go to the TUI or `oxymus notifications`", why)
            elif self.desk.notify_unavailable:
                log.info("desktop notifications work again")
        self.desk.notify_unavailable = why

    # --- the server came back --------------------------------------------------------------

    async def redeliver(self) -> int:
        """Show on the desktop what it missed and still matters; returns how many it showed."""
        spec = self.spec
        if spec is None:
            return 0
        shown = 0
        for row in await self.store.notices.to_redeliver():
            action = await self.desk.repo.get(row.id)
            if action is None:
                continue
            try:
                receipt = await asyncio.wait_for(spec.execute(spec.parse(action.payload), self.desk.context(action)), 30)
            except Exception as exc:  # noqa: BLE001 - it stays missed; the next server start tries again
                log.warning("showing notification %s again failed: %s", row.id, exc)
                continue
            desktop = receipt.data.get("desktop", "unavailable")
            self._desktop_seen(desktop, receipt.data.get("note"))
            if desktop not in ("shown", "shown_plain"):
                break  # gone again: the rest waits for the next time
            shown += 1
            from oxymus.kernel.ulid import new_ulid
            from oxymus.store import audit_sql

            now = self.desk.now_iso()
            await self.store.transaction([
                ("UPDATE notifications SET desktop = ?, desktop_at = ?, desktop_note = ?, state = 'delivered' WHERE id = ?",
                 (desktop, now, "shown when the notification server came back", row.id)),
                audit_sql.statement(actor="daemon", verb="notification.redelivered", subject=row.id, trace_id=action.trace_id or new_ulid(),
                                    details={"title": row.title, "was": row.state}),
            ])
        if shown:
            log.info("showed %d notification(s) the desktop had missed", shown)
            self.desk.bus.publish("notifications.changed", {"missed": await self.store.notices.count_missed()})
        return shown

    def start(self) -> None:
        spec = self.spec
        if spec is not None and getattr(spec.config, "enabled", True):
            # `oxymus status` says so from the start, not only after the first notification.
            self.desk.notify_unavailable = spec.available()[1] or None
        if spec is not None and hasattr(spec, "watch") and self._watch is None:
            self._watch = asyncio.create_task(spec.watch(self.redeliver), name="notify-watch")

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            try:
                await self._watch
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
            self._watch = None


def claims(row: Notification) -> list[tuple[str, tuple]]:
    return notice_repo.claim_statements(row)


def inserts(row: Notification) -> list[tuple[str, tuple]]:
    return notice_repo.insert_statements(row)

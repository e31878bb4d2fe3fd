"""`bills.mark_paid`: record that a bill's due date was paid (in Oxymus' own store).

The payment is the person's to make; this records it. Recording is keyed by (bill,
due date), so a retry after a crash cannot record it twice. The amount defaults to
the one in bills.toml, so a policy rule such as `amount > 200` sees the real figure.
Compensation removes the record again, but only the one this action made (the
`bills.paid` audit line written with it names the action).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from oxymus.actions.effects import ActionContext, ActionInvalid, ActionSpec, Permanent, Prepared, Preview, Receipt
from oxymus.connectors.bills.config import BillsConfig
from oxymus.connectors.bills.schedule import Bill
from oxymus.sources.contract import SourceUnavailable

DUE_WINDOW_DAYS = 400  # how far from today a due date may be to be marked


class MarkPaidPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bill: str = Field(min_length=1, max_length=200, description="the bill's key (its id, or its name)")
    due: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="the due date that was paid, YYYY-MM-DD")
    amount: float | None = Field(default=None, ge=0, description="what was paid (default: the bill's amount)")
    note: str | None = Field(default=None, max_length=500)


def _summary(p: MarkPaidPayload, currency: str = "") -> str:
    amount = f" ({p.amount:,.2f}{' ' + currency if currency else ''})" if p.amount is not None else ""
    return f"mark {p.bill} due {p.due} paid{amount}"


class MarkPaid(ActionSpec):
    kind: ClassVar[str] = "bills.mark_paid"
    Payload: ClassVar[type[BaseModel]] = MarkPaidPayload
    scope = "own_files"
    risk = "low"
    description = "record a bill's due date as paid"
    max_attempts = 3
    expiry = 7 * 86400.0  # "pay, then approve this": paying can take days

    def __init__(self, config: BillsConfig | None):
        super().__init__(config)

    async def _bill(self, key: str, ctx: ActionContext) -> Bill:
        if self.config is None:
            raise ActionInvalid("payload.bill: no [bills] section in config.toml, so there are no bills to mark")
        from oxymus.connectors.bills.source import _read, parse

        path = ctx.resolve(self.config.file)
        try:
            bills, _ = parse(await asyncio.to_thread(_read, path), str(path))
        except SourceUnavailable as exc:
            raise ActionInvalid(str(exc)) from None
        found = next((b for b in bills if key in (b.key, b.name)), None)
        if found is None:
            names = ", ".join(b.key for b in bills) or "none"
            raise ActionInvalid(f"payload.bill: no bill {key!r} in {path} (bills: {names})")
        return found

    async def prepare(self, payload: MarkPaidPayload, ctx: ActionContext) -> Prepared:  # type: ignore[override]
        bill = await self._bill(payload.bill, ctx)
        due = dt.date.fromisoformat(payload.due)
        today = ctx.today()
        if abs((due - today).days) > DUE_WINDOW_DAYS:
            raise ActionInvalid(f"payload.due: {payload.due} is more than {DUE_WINDOW_DAYS} days from today")
        if due not in bill.due_dates(due, due + dt.timedelta(days=1)):
            raise ActionInvalid(f"payload.due: {bill.name} is not due on {payload.due}")
        pinned = payload.model_copy(update={"bill": bill.key, "amount": bill.amount if payload.amount is None else payload.amount})
        body = f"{bill.name}: {pinned.amount:,.2f} {bill.currency or ''} due {payload.due}".rstrip()
        if bill.url:
            body += f"\npay at {bill.url}"
        return Prepared(payload=pinned.model_dump(mode="json"), preview=Preview(summary=_summary(pinned, bill.currency or ""), body=body))

    def preview(self, payload: MarkPaidPayload) -> Preview:  # type: ignore[override]
        return Preview(summary=_summary(payload))

    async def execute(self, payload: MarkPaidPayload, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        if ctx.local is None:
            raise Permanent("marking bills paid needs the daemon")
        created = await ctx.local.mark_bill_paid(bill=payload.bill, due=payload.due, amount=payload.amount,
                                                 note=payload.note, action_id=ctx.action_id,
                                                 trace_id=ctx.trace_id or None)
        return Receipt(summary=_summary(payload).replace("mark ", "marked ", 1), ref=f"{payload.bill}@{payload.due}",
                       already_done=not created,
                       data={"bill": payload.bill, "due": payload.due, "amount": payload.amount, "action_id": ctx.action_id})

    compensable = True

    async def compensate(self, payload: MarkPaidPayload, receipt: Receipt, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        """Remove the payment this action recorded; one recorded by another action (`oxymus paid`) stays."""
        if ctx.local is None:
            raise Permanent("unmarking bills paid needs the daemon")
        bill, due, action_id = (receipt.data.get(k) for k in ("bill", "due", "action_id"))
        if not (bill and due and action_id):
            raise Permanent(f"the receipt of {receipt.summary!r} does not say which action recorded the payment; "
                            "Oxymus cannot tell whether it is its own to remove")
        removed = await ctx.local.unmark_bill_paid(bill=bill, due=due, action_id=action_id, trace_id=ctx.trace_id or None,
                                                   by=ctx.action_id)
        summary = f"{bill} due {due} is no longer marked paid"
        if not removed:
            return Receipt(summary=f"{summary} (already)", ref=f"{bill}@{due}", already_done=True, data={"bill": bill, "due": due})
        return Receipt(summary=summary, ref=f"{bill}@{due}", data={"bill": bill, "due": due})

"""The bills source: reads bills.toml, emits each bill's current and upcoming due dates.

Which of them are paid is not this module's business: paid records live in the
store (kept by Oxymus), and the Today view joins them. So that a new user is not
greeted by a year of "overdue" rent, only each bill's most recent past due date is
reported (any age for a one-off bill); earlier ones are taken as settled.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tomllib

from pydantic import ValidationError

from oxymus.connectors.bills.config import BillsConfig
from oxymus.connectors.bills.schedule import Bill
from oxymus.profile.config import locate
from oxymus.sources.contract import PollContext, PollResult, SourceUnavailable, StateItem, utc_iso

LOOKBACK_DAYS = 62  # how far back a recurring bill's last missed due date still counts
MAX_BYTES = 5 * 1024 * 1024


class BillsSource:
    id = "bills"

    def __init__(self, config: BillsConfig):
        self.config = config
        self.interval = config.interval
        self.stale_after = config.stale_after

    async def poll(self, ctx: PollContext) -> PollResult:
        path = ctx.resolve(self.config.file)
        text = await asyncio.to_thread(_read, path)
        bills, problems = parse(text, str(path))
        today = ctx.today()
        until = today + dt.timedelta(days=self.config.window_days)
        items: list[StateItem] = []
        observed = utc_iso(ctx.now())
        for bill in bills:
            dates = bill.due_dates(today, until)
            last = bill.last_due_before(today, LOOKBACK_DAYS)
            if last is not None:
                dates.insert(0, last)
            for due in dates:
                start = dt.datetime.combine(due, dt.time(), ctx.zone)
                items.append(StateItem(
                    source=self.id, kind="bills.due", key=f"{bill.key}@{due.isoformat()}", observed_at=observed,
                    starts_at=utc_iso(start), ends_at=utc_iso(start + dt.timedelta(days=1)),
                    data={
                        "bill": bill.key, "name": bill.name, "amount": bill.amount, "currency": bill.currency,
                        "due": due.isoformat(), "schedule": bill.schedule, "autopay": bill.autopay,
                        "url": bill.url, "notes": bill.notes,
                    },
                ))
        for index, (label, message) in enumerate(problems):
            items.append(StateItem(
                source=self.id, kind="bills.error", key=f"error:{index}:{label}", observed_at=observed,
                error=message, data={"bill": label},
            ))
        return PollResult(items=items, warnings=[m for _, m in problems])


def _read(path) -> str:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise SourceUnavailable(f"{path}: no such file (create it, or set [bills] file)") from None
    except OSError as exc:
        raise SourceUnavailable(f"{path}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise SourceUnavailable(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MB; is this the right file?")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceUnavailable(f"{path}:{line}: not valid UTF-8 (byte {exc.start})") from None


def parse(text: str, path: str = "bills.toml") -> tuple[list[Bill], list[tuple[str, str]]]:
    """The valid bills, and (label, message) for each invalid one. A syntax error fails the file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourceUnavailable(f"{path}: TOML syntax error: {exc}") from None
    unknown = sorted(set(data) - {"bill"})
    problems: list[tuple[str, str]] = []
    for key in unknown:
        problems.append((key, f"{path}:{locate(text, [key]) or '?'}: unknown table or key {key!r} (bills are [[bill]] tables)"))
    raw_bills = data.get("bill", [])
    if not isinstance(raw_bills, list):
        raise SourceUnavailable(f"{path}:{locate(text, ['bill']) or '?'}: bills must be [[bill]] tables")
    bills: list[Bill] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_bills):
        label = str(raw.get("name") or f"#{index + 1}") if isinstance(raw, dict) else f"#{index + 1}"
        try:
            bill = Bill.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            line = locate(text, ["bill", index, *err["loc"]]) or locate(text, ["bill", index])
            detail = err["msg"].removeprefix("Value error, ")
            problems.append((label, f"{path}:{line}: bill {label!r}: {field + ': ' if field else ''}{detail}"))
            continue
        if bill.key in seen:
            problems.append((label, f"{path}:{locate(text, ['bill', index])}: bill {label!r}: another bill has the key {bill.key!r}; set a distinct `id`"))
            continue
        seen.add(bill.key)
        bills.append(bill)
    return bills, problems

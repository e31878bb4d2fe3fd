"""`bills.add`: append one `[[bill]]` table to the bills.toml the person keeps.

bills.toml is the person's file and the source of truth, so this only appends: no
byte already there changes. The table is validated by the same `Bill` model the
bills source reads with, rendered as TOML and read back before anything is written;
the write is atomic (a temporary file in the same folder, fsynced, renamed over).

Idempotent: a bill with the same key (its `id`, or the key made from its name) already
in the file means the effect is done (`already_done`), whether a retry after a crash
or the person added it by hand. A file that does not parse is refused, not touched.
Without the file, it is created. Without a `[bills]` section in config.toml the
proposal is refused: nobody would read the bill.

Compensation removes the table again, with the same atomic write, only while it is
still there byte for byte as appended; a table the person edited since is left alone.
"""

from __future__ import annotations

import asyncio
import re
import tomllib
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from oxymus.actions.effects import ActionContext, ActionInvalid, ActionSpec, Permanent, Prepared, Preview, Receipt
from oxymus.connectors.bills.config import BillsConfig
from oxymus.connectors.bills.schedule import Bill
from oxymus.kernel import files, tomlfmt
from oxymus.kernel.textdiff import unified_diff
from oxymus.sources.contract import SourceUnavailable

ORDER = ("name", "id", "amount", "currency", "schedule", "day", "date", "every", "start", "autopay", "url", "notes")


class AddBillPayload(Bill):
    """One `[[bill]]` table, exactly as bills.toml takes it (the same fields and checks as the `Bill` model)."""

    model_config = ConfigDict(extra="forbid")


def render(bill: Bill) -> str:
    """The `[[bill]]` table as TOML: the fields set, in the documented order."""
    data = bill.model_dump(exclude_defaults=True)
    for required in ("name", "amount", "currency", "schedule"):
        data[required] = getattr(bill, required)
    lines = ["[[bill]]"]
    for key in ORDER:
        if key not in data or data[key] is None:
            continue
        lines.append(f"{key} = {_value(data[key])}")
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # `amount = 950`, as a person writes it (a TOML integer reads back as the same amount)
    return tomlfmt.value(value)


def _summary(bill: Bill) -> str:
    when = {"monthly": f"monthly on day {bill.day}" if bill.day else "monthly", "yearly": f"yearly on {bill.date}",
            "weekly": "weekly", "once": f"once, on {bill.date}"}[bill.schedule]
    return f"add bill {bill.name} ({bill.amount:,.2f} {bill.currency}, {when}) to bills.toml"


class AddBill(ActionSpec):
    kind: ClassVar[str] = "bills.add"
    Payload: ClassVar[type[BaseModel]] = AddBillPayload
    scope = "own_files"
    risk = "low"
    description = "append a bill to your bills.toml"
    max_attempts = 3

    def __init__(self, config: BillsConfig | None):
        super().__init__(config)

    def _path(self, ctx: ActionContext) -> Path:
        if self.config is None:
            raise ActionInvalid("no [bills] section in config.toml: add one (file = \"bills.toml\") so the bills you add are read")
        return ctx.resolve(self.config.file)

    async def prepare(self, payload: AddBillPayload, ctx: ActionContext) -> Prepared:  # type: ignore[override]
        path = self._path(ctx)
        bill = Bill.model_validate(payload.model_dump())
        text = render(bill)
        _check_round_trip(text, bill)
        try:
            existing = await asyncio.to_thread(_existing, path)
        except SourceUnavailable as exc:
            raise ActionInvalid(f"{exc}; fix the file first, nothing was added") from None
        summary = _summary(bill)
        if existing is not None and bill.key in existing:
            return Prepared(payload=payload.model_dump(mode="json"),
                            preview=Preview(summary=f"{summary} (already there)", format="diff", body=""))
        old = await asyncio.to_thread(path.read_bytes) if existing is not None else None
        return Prepared(payload=payload.model_dump(mode="json"),
                        preview=Preview(summary=summary, format="diff", body=_diff(path.name, old, text)))

    def preview(self, payload: AddBillPayload) -> Preview:  # type: ignore[override]
        bill = Bill.model_validate(payload.model_dump())
        return Preview(summary=_summary(bill), format="diff", body=_diff("bills.toml", b"", render(bill)))

    async def execute(self, payload: AddBillPayload, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        try:
            path = self._path(ctx)
        except ActionInvalid as exc:
            raise Permanent(str(exc)) from None
        bill = Bill.model_validate(payload.model_dump())
        try:
            added = await asyncio.to_thread(_append, path, bill)
        except SourceUnavailable as exc:
            raise Permanent(f"{exc}; nothing was added") from None
        data = {"bill": bill.key, "file": str(path)}
        if added is None:
            return Receipt(summary=f"bill {bill.name} ({bill.key}) was already in {path.name}", ref=bill.key, data=data,
                           already_done=True)
        return Receipt(summary=f"added bill {bill.name} to {path.name}", ref=bill.key, data={**data, "appended": added})

    compensable = True

    async def compensate(self, payload: AddBillPayload, receipt: Receipt, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        """Remove the table this action appended, if it is still there as appended."""
        bill = Bill.model_validate(payload.model_dump())
        path = Path(receipt.data["file"]) if receipt.data.get("file") else self._path(ctx)
        appended = receipt.data.get("appended")
        what = f"bill {bill.name} ({bill.key}) in {path}"
        if not isinstance(appended, str):
            raise Permanent(f"{what} was already there when the action ran, so Oxymus cannot tell whether it added it; "
                            "remove its [[bill]] table by hand if it should go")
        try:
            outcome = await asyncio.to_thread(_remove, path, bill, appended)
        except SourceUnavailable as exc:
            raise Permanent(f"{exc}; {what} was not removed: fix the file, or remove the table by hand") from None
        if outcome == "edited":
            raise Permanent(f"{what} was edited since Oxymus added it; remove its [[bill]] table by hand if it should go")
        data = {"bill": bill.key, "file": str(path)}
        if outcome == "gone":
            return Receipt(summary=f"{what} was already gone", ref=bill.key, data=data, already_done=True)
        return Receipt(summary=f"removed bill {bill.name} from {path.name}", ref=bill.key, data=data)


def _diff(name: str, old: bytes | None, table: str) -> str:
    """The file before and after `table` is appended (`old` None: there is no file yet)."""
    before = (old or b"").decode("utf-8", errors="replace")
    after = _appended(old or b"", table.encode("utf-8")).decode("utf-8", errors="replace")
    return unified_diff(before, after, "/dev/null" if old is None else f"a/{name}", f"b/{name}")


def _check_round_trip(text: str, bill: Bill) -> None:
    try:
        [again] = tomllib.loads(text)["bill"]
        if Bill.model_validate(again) != bill:
            raise ValueError("differs")
    except Exception as exc:  # noqa: BLE001 - a bug here must never reach the person's file
        raise ActionInvalid(f"payload: the bill does not survive TOML ({exc}); nothing was added") from None


def _existing(path: Path) -> set[str] | None:
    """The keys of the bills in the file (valid or not); None when there is no file. SourceUnavailable if it does not parse."""
    from oxymus.connectors.bills.source import _read

    if not path.exists():
        return None
    text = _read(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourceUnavailable(f"{path}: TOML syntax error: {exc}") from None
    raw = data.get("bill", [])
    if not isinstance(raw, list):
        raise SourceUnavailable(f"{path}: `bill` is not a list of [[bill]] tables")
    keys: set[str] = set()
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        # An invalid bill still has a key, and it counts: the person is mid-edit, not done.
        ident, name = entry.get("id"), entry.get("name")
        if isinstance(ident, str) and ident:
            keys.add(ident)
        elif isinstance(name, str):
            keys.add(re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "bill")
    return keys


def _append(path: Path, bill: Bill) -> str | None:
    """Append the table atomically; returns the text appended (the separator and the table),
    or None when a bill with its key is already there."""
    existing = _existing(path)
    if existing is not None and bill.key in existing:
        return None
    old = path.read_bytes() if existing is not None else b""
    new = _appended(old, render(bill).encode("utf-8"))
    added = new[len(old):]
    tomllib.loads(new.decode("utf-8"))  # never write a file that does not parse
    path.parent.mkdir(parents=True, exist_ok=True)
    _replace(path, new, path.stat().st_mode & 0o7777 if existing is not None else 0o644)
    return added.decode("utf-8")


def _appended(old: bytes, table: bytes) -> bytes:
    """`old` with `table` appended, one blank line between the person's last line and it."""
    sep = b"" if not old or old.endswith(b"\n\n") else (b"\n" if old.endswith(b"\n") else b"\n\n")
    return old + sep + table


def _remove(path: Path, bill: Bill, appended: str) -> str:
    """Take back what `_append` added: "removed", "gone" (no bill with its key), or "edited"
    (the key is there but not the table as appended). Only whole, unchanged tables go."""
    keys = _existing(path)
    if keys is None or bill.key not in keys:
        return "gone"
    text = path.read_text(encoding="utf-8")
    table = render(bill)
    at = [m.start() for m in re.finditer(re.escape(table), text) if m.start() == 0 or text[m.start() - 1] == "\n"]
    # The table must end where the next one (or a blank line, a comment, the end) starts: a line
    # the person added under it would belong to it.
    at = [i for i in at if re.match(r"\Z|\n|#|\[", text[i + len(table):])]
    if len(at) != 1:
        return "edited"
    start, end = at[0], at[0] + len(table)
    if end == len(text) and appended.endswith(table) and text[:end].endswith(appended):
        start = end - len(appended)  # still the last thing in the file: back to the exact bytes before
    elif text[end:end + 1] == "\n":
        end += 1  # the blank line that separated it from the next table
    new = (text[:start] + text[end:]).encode("utf-8")
    tomllib.loads(new.decode("utf-8"))
    _replace(path, new, path.stat().st_mode & 0o7777)
    return "removed"


def _replace(path: Path, new: bytes, mode: int) -> None:
    """Write `new` over `path` atomically: a temporary file in the same folder, fsynced, renamed over."""
    files.write_atomic(path, new, mode=mode)

"""Minimal edits to a plans file, as bytes in, bytes out.

Each edit replaces or inserts the fewest characters that make the change, and leaves
every other byte as it was: the newline style (inserted lines take the ending of the
line they follow), the byte-order mark and the final-newline state are kept.

Each edit takes `expected_sha256`, the hash of the bytes the caller parsed, and
raises PlansConflict when `data` is something else: read, parse, decide, then patch
with the hash you saw. `apply_to_file` does that against a file on disk and writes
atomically. After an edit the result is parsed again and checked to show the
intended change, so an edit never silently does something else.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable
from datetime import date as Date
from datetime import datetime
from typing import Any

from oxymus.kernel.textdiff import unified_diff
from oxymus.plans.atomic import read, write_atomic
from oxymus.plans.blocks import Heading, Item, Opaque, Para
from oxymus.plans.errors import PlansConflict, PlansError
from oxymus.plans.ids import normalise
from oxymus.plans.lines import Source, leading, raw_lines, sha256
from oxymus.plans.model import STATUSES, PlansDocument
from oxymus.plans.parse import Analysis, analyse, parse
from oxymus.plans.syntax import PUBLISHING_TITLE, Span, valid_date, without_comments
from oxymus.time.when import date_problem

Edit = tuple[int, int, str]  # replace bytes [start, end) with this text

_NEWLINES = re.compile(r"[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


# -- shared helpers --------------------------------------------------------------------


def _check(data: bytes, expected_sha256: str, path: str) -> None:
    actual = sha256(data)
    if actual != expected_sha256:
        raise PlansConflict(path, expected_sha256, actual)


def _day(value: str | Date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, Date):
        return value.isoformat()
    if not isinstance(value, str) or not valid_date(value):
        why = date_problem(value) if isinstance(value, str) else None
        if why and why.startswith("is not a real date"):
            raise ValueError(f"{value} {why}")
        raise ValueError(f"not a date: {value!r} (expected YYYY-MM-DD)")
    return value


def _one_line(value: str, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, not {type(value).__name__}")
    if _NEWLINES.search(value):
        raise ValueError(f"{what} must be one line: {value!r}")
    value = value.strip(" \t")
    if not value:
        raise ValueError(f"{what} is empty")
    return value


def _replace(src: Source, span: Span, text: str) -> Edit:
    return src.offset(span.line, span.start), src.offset(span.line, span.end), text


def _splice(data: bytes, edits: list[Edit]) -> bytes:
    out, pos = bytearray(), 0
    for start, end, text in sorted(edits):
        assert pos <= start <= end
        out += data[pos:start]
        out += text.encode("utf-8")
        pos = end
    out += data[pos:]
    return bytes(out)


def _insert_after(src: Source, after: int, lines: list[str]) -> Edit:
    """Insert whole lines after line `after` (0: at the very start), keeping the final-newline state."""
    if after == 0:
        at = 3 if src.bom else 0
        if not src.lines:
            return at, at, src.newline.join(lines) + src.newline
        return at, at, "".join(line + src.newline for line in lines)
    ln = src.line(after)
    if ln.eol:
        at = ln.end + len(ln.eol)
        return at, at, "".join(line + ln.eol for line in lines)
    return ln.end, ln.end, "".join(src.newline + line for line in lines)


def _did_not_take(path: str, line: int | None) -> PlansError:
    return PlansError(path, line, "the edited text would not read back as intended (or would change how other items read); the file was not changed")


# -- set_done --------------------------------------------------------------------------


def set_done(
    data: bytes,
    action_id: str,
    done: bool,
    date: str | Date | None = None,
    *,
    expected_sha256: str,
    path: str = "PLANS.md",
) -> bytes:
    """Check (`[x]`) or uncheck (`[ ]`) one action.

    Checking with a date appends ` (done YYYY-MM-DD)` to the item's text, or rewrites
    the date of a done-date suffix it already has. Unchecking removes such a suffix.
    An action already in the asked state is left as it is (an existing `[X]` stays).
    """
    _check(data, expected_sha256, path)
    day = _day(date)
    if day and not done:
        raise ValueError("a done date only goes with done=True")
    an = analyse(data, path)
    spans = an.actions.get(action_id)
    if spans is None:
        raise PlansError(path, None, f"no action with id {action_id!r} (the file has {len(an.doc.actions)}); parse it again for current ids")
    action, src = an.doc.action(action_id), an.source
    edits: list[Edit] = []
    mark = src.line(spans.mark.line).text[spans.mark.start]
    if done and mark == " ":
        edits.append(_replace(src, spans.mark, "x"))
    elif not done and mark != " ":
        edits.append(_replace(src, spans.mark, " "))
    if day and spans.date is not None and action.done_date != day:
        edits.append(_replace(src, spans.date, day))
    elif day and spans.date is None:
        edits.append(_replace(src, spans.end, f" (done {day})"))
    if not done and spans.suffix is not None:
        edits.append(_replace(src, spans.suffix, ""))
    new = _splice(data, edits)
    after = parse(new, path)
    got = next((a for a in after.actions if a.id == action_id), None)
    others = [a for a in after.actions if a.id != action_id] == [a for a in an.doc.actions if a.id != action_id]
    if got is None or not others or got.done != done or (day and got.done_date != day) or (not done and got.done_date):
        raise _did_not_take(path, action.line)
    return new


# -- add_action ------------------------------------------------------------------------


def _title_key(title: str) -> str:
    return normalise(title).casefold()


def _region(an: Analysis, heading: Heading | None) -> tuple[int, int, int]:
    """(anchor, first, last): the lines of a heading's own content (before any sub-heading),
    or of the preamble for None; the anchor is the line a new list goes after when the
    region is empty."""
    sc, n = an.scan, len(an.source.lines)
    if heading is None:
        anchor = sc.front_matter.end if sc.front_matter else 0
        first = anchor + 1
        last = sc.headings[0].line - 1 if sc.headings else n
        return anchor, first, last
    following = sc.headings[sc.headings.index(heading) + 1 :]
    last = following[0].line - 1 if following else n
    return heading.last_line, heading.last_line + 1, last


def _first_list(an: Analysis, first: int, last: int) -> list[Item]:
    """The top-level items of the first list that starts in lines [first, last]."""
    items: list[Item] = []
    for block in an.scan.blocks:
        start = block.line if isinstance(block, (Item, Heading)) else block.lines[0] if isinstance(block, Para) else block.start
        if start < first:
            continue
        if start > last:
            break
        if isinstance(block, Item):
            if block.parent is not None:
                continue
            if items and block.kind != items[0].kind:
                break
            items.append(block)
        elif isinstance(block, (Para, Opaque)) and block.item is None and items:
            break
    return items


def _item_prefix(src: Source, items: list[Item]) -> str:
    """What goes before '[ ] text' on a new last item: the last item's indentation,
    marker and spacing, with an ordered list's number advanced."""
    last = items[-1]
    text = src.line(last.line).text
    _, idx = leading(text)
    marker = last.marker
    if last.number is not None:
        numbers = {i.number for i in items}
        number = last.number if len(numbers) == 1 and len(items) > 1 else last.number + 1
        marker = f"{number}{last.marker[-1]}"
    prefix = text[:idx] + marker + text[idx + len(last.marker) : last.content_char]
    return prefix if prefix[-1:] in (" ", "\t") else prefix + " "


def _publishing(heading: Heading | None) -> Heading | None:
    """The outermost publishing-order heading among `heading` and its parents."""
    found = None
    while heading is not None:
        if PUBLISHING_TITLE.search(heading.title):
            found = heading
        heading = heading.parent
    return found


def _new_section_level(an: Analysis) -> int:
    """The level of the file's top sections (below a lone leading # title), raised if
    needed so the new section does not land inside a publishing order."""
    headings = an.scan.headings
    if not headings:
        return 2
    if headings[0].level == 1 and sum(h.level == 1 for h in headings) == 1:
        level = min((h.level for h in headings[1:]), default=2)
    else:
        level = min(h.level for h in headings)
    open_at_end = headings[-1]
    while open_at_end is not None and open_at_end.level >= level:
        open_at_end = open_at_end.parent
    blocking = _publishing(open_at_end)
    return blocking.level if blocking is not None else level


def add_action(
    data: bytes,
    text: str,
    section_title: str | None = "Next actions",
    *,
    expected_sha256: str,
    path: str = "PLANS.md",
) -> bytes:
    """Add `- [ ] text` as the last item of the first list under the first heading titled
    `section_title` (compared without case), in that list's indentation and bullet.

    With no list there, a new list goes after the section's own text. With no such
    heading, the section is created at the end of the file, after one blank line, at
    the level of the file's top sections. `section_title=None` means the text before the
    first heading. Only insertions: no existing byte changes.
    """
    _check(data, expected_sha256, path)
    text = _one_line(text, "the action's text")
    title = None if section_title is None else _one_line(section_title, "the section title")
    an = analyse(data, path)
    src = an.source
    heading = None
    if title is not None:
        heading = next((h for h in an.scan.headings if _title_key(h.title) == _title_key(title)), None)
    if heading is not None and _publishing(heading) is not None:
        raise PlansError(path, heading.line, f"{heading.title!r} is (inside) the publishing order: its items are proposals, not actions")
    item = "- [ ] " + text
    if title is not None and heading is None:
        after = len(src.lines)
        before = [""] if after and src.line(after).text.strip(" \t") else []
        lines = [*before, "#" * _new_section_level(an) + " " + title, "", item]
        at = len(lines) - 1
    else:
        anchor, first, last = _region(an, heading)
        items = _first_list(an, first, last)
        if items:
            after, lines, at = items[-1].last_line, [_item_prefix(src, items) + "[ ] " + text], 0
        else:
            content = [n for n in range(first, last + 1) if src.line(n).text.strip(" \t")]
            after = content[-1] if content else anchor
            lines = [""] if after else []
            lines.append(item)
            at = len(lines) - 1
            if after < len(src.lines) and src.line(after + 1).text.strip(" \t"):
                lines.append("")
    new = _splice(data, [_insert_after(src, after, lines)])
    _verify_added(new, path, after + 1 + at, text, title)
    return new


def _verify_added(new: bytes, path: str, line: int, text: str, title: str | None) -> None:
    doc = parse(new, path)
    got = next((a for a in doc.actions if a.line == line), None)
    ok = (
        got is not None
        and not got.done
        and normalise(got.text) == normalise(without_comments(text))
        and (got.section == () if title is None else got.section and _title_key(got.section[-1]) == _title_key(title))
    )
    if not ok:
        raise PlansError(
            path,
            None,
            f"'- [ ] {text}' would not read back as a new action in {title or 'the text before the first heading'!r} "
            "(an unclosed code fence or comment, a publishing-order section, or a done-date in the text?); the file was not changed",
        )


# -- set_proposal_status ---------------------------------------------------------------


def _find_proposal(doc: PlansDocument, which: int | str, path: str) -> int:
    proposals = doc.proposals
    if isinstance(which, bool) or not isinstance(which, (int, str)):
        raise TypeError(f"a proposal is chosen by position (int) or title (str), not {which!r}")
    if isinstance(which, int):
        if 1 <= which <= len(proposals):
            return which - 1
        raise PlansError(path, None, f"no proposal at position {which}: the publishing order has {len(proposals)}")
    key = _title_key(which)
    found = [i for i, p in enumerate(proposals) if _title_key(p.title) == key]
    if not found:
        found = [i for i, p in enumerate(proposals) if p.slug and p.slug == which.strip()]
    if len(found) == 1:
        return found[0]
    if not found:
        raise PlansError(path, None, f"no proposal titled {which!r} in the publishing order")
    lines = ", ".join(str(proposals[i].line) for i in found)
    raise PlansError(path, None, f"{len(found)} proposals are titled {which!r} (lines {lines}); choose one by position")


def set_proposal_status(
    data: bytes,
    position_or_title: int | str,
    status: str,
    date: str | Date | None = None,
    *,
    expected_sha256: str,
    path: str = "PLANS.md",
) -> bytes:
    """Set one publishing-order entry's status (and date), rewriting only its status part,
    in the form it was written: the inside of `[draft]` or of `(published 2026-11-01)`;
    for a plain `- Title`, ` (status date)` is appended. A checkbox entry stays a
    checkbox for `proposed` / `published` without a date and becomes `[status date]`
    otherwise. The new status part is `status` or `status YYYY-MM-DD`."""
    _check(data, expected_sha256, path)
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}: expected one of {', '.join(STATUSES)}")
    day = _day(date)
    an = analyse(data, path)
    index = _find_proposal(an.doc, position_or_title, path)
    proposal, spans, src = an.doc.proposals[index], an.proposals[index], an.source
    inner = status + (f" {day}" if day else "")
    edits: list[Edit] = []
    if (proposal.status, proposal.date) != (status, day):
        if spans.form == "checkbox" and not day and status in ("proposed", "published"):
            edits.append(_replace(src, spans.status, " " if status == "proposed" else "x"))
        elif spans.form == "plain":
            edits.append(_replace(src, spans.status, f" ({inner})"))
        else:
            edits.append(_replace(src, spans.status, inner))
    new = _splice(data, edits)
    before, after = an.doc, parse(new, path)
    got = after.proposals[index] if index < len(after.proposals) else None
    others = (*after.proposals[:index], *after.proposals[index + 1 :]) == (*before.proposals[:index], *before.proposals[index + 1 :])
    if (
        got is None
        or got != proposal.model_copy(update={"status": status, "date": day, "form": got.form})
        or not others
        or after.actions != before.actions
    ):
        raise _did_not_take(path, proposal.line)
    return new


# -- files and previews ----------------------------------------------------------------


def apply_to_file(path: str | os.PathLike[str], patch_fn: Callable[..., bytes], expected_sha256: str, **kw) -> tuple[str, str]:
    """Read the file, check it is still the version with `expected_sha256`, apply
    `patch_fn(data, expected_sha256=..., path=..., **kw)` and write the result
    atomically (same folder, fsync, rename; the file's mode kept; a symlink's target
    is written). Returns (old sha256, new sha256); an edit that changes nothing
    does not write."""
    name = os.fspath(path)
    data = read(name)
    _check(data, expected_sha256, name)
    new = patch_fn(data, expected_sha256=expected_sha256, path=name, **kw)
    if new != data:
        write_atomic(name, new, expected_sha256)
    return expected_sha256, sha256(new)


def hunk(old: bytes, new: bytes) -> dict[str, Any]:
    """The one changed region between two versions, enough to take the change back byte for
    byte: where it starts, what was there (`removed`) and what is there now (`inserted`),
    the bytes as base64 (a receipt is JSON)."""
    limit = min(len(old), len(new))
    start = 0
    while start < limit and old[start] == new[start]:
        start += 1
    end = 0
    while end < limit - start and old[len(old) - 1 - end] == new[len(new) - 1 - end]:
        end += 1
    return {"at": start, "removed": base64.b64encode(old[start:len(old) - end]).decode("ascii"),
            "inserted": base64.b64encode(new[start:len(new) - end]).decode("ascii")}


def revert(data: bytes, *, expected_sha256: str, path: str, at: int, removed: str, inserted: str) -> bytes:
    """`data` with a `hunk()` taken back: what it inserted at `at` replaced by what it removed.
    The caller pins the whole file by hash; this checks the region too."""
    gone, there = base64.b64decode(removed), base64.b64decode(inserted)
    if data[at:at + len(there)] != there:
        raise PlansConflict(f"{path}: the lines this edit wrote are no longer where it wrote them")
    return data[:at] + gone + data[at + len(there):]


def diff(old: bytes, new: bytes, path: str = "PLANS.md") -> str:
    """A unified diff for a preview ('' when nothing changed)."""
    return unified_diff(raw_lines(old), raw_lines(new), f"a/{path}", f"b/{path}")

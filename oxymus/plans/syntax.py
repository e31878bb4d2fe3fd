"""The inline grammar of plans: checkboxes, done dates, "Goal:" labels, which headings
are special, and the forms of a publishing-order entry.

Everything here works on a `Flow`: the text of an item or paragraph over its lines,
joined with single spaces, that can map a position back to a line and column so a
patch can edit exactly those characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date as Date

from oxymus.plans.model import STATUSES
from oxymus.time.when import date_problem

GOALS_TITLE = re.compile(r"(?<![\w-])goals?(?![\w-])", re.I)
PUBLISHING_TITLE = re.compile(r"\bpublishing\s+(?:order|queue|plan)\b", re.I)
GOAL_LABEL = re.compile(r"(?:\*\*goal:\*\*|\*\*goal\*\*:|__goal:__|__goal__:|goal:)[ \t]*", re.I)

CHECKBOX = re.compile(r"\[([ xX])\](?=[ \t]|$)")
BAD_CHECKBOX = re.compile(r"\[([^\w\s\[\]]?)\](?=[ \t]|$)")
# Patterns are written to fail at once at most positions (no leading [ \t]* or lazy
# .*? before an anchor), so a long line costs linear time.
DONE_SUFFIX = re.compile(
    r"(?:\((?:done|completed)[ \t]*:?[ \t]*(?P<d1>\d{4}-\d{2}-\d{2})\)|(?:✓|✔|✅)\ufe0f?[ \t]*(?P<d2>\d{4}-\d{2}-\d{2}))$",
    re.I,
)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

_BRACKET = re.compile(r"\[([^\[\]]*)\](?=[ \t]|$)")
_PAREN = re.compile(r"\(([^()]*)\)$")
_STATUS_WORD = re.compile(r"[ \t]*([A-Za-z]+)")
_SLUG = re.compile(r"(?:—|–|--)[ \t]+`?([a-z0-9]+(?:-[a-z0-9]+)*)`?$")
_BACKTICKS = re.compile(r"`+")


def without_comments(text: str) -> str:
    """The text without inline HTML comments (those inside code spans stay), trimmed."""
    if "<!--" not in text:
        return text.strip(" \t")
    out, pos, unclosed = [], 0, set()
    while True:
        comment = text.find("<!--", pos)
        if comment < 0:
            break
        tick = _BACKTICKS.search(text, pos, comment)
        if tick:  # a code span that opens before the comment: skip it whole, if it closes
            n = len(tick.group())
            close = None if n in unclosed else re.compile(f"(?<!`)`{{{n}}}(?!`)").search(text, tick.end())
            if close is None:
                unclosed.add(n)
                out.append(text[pos : tick.end()])
                pos = tick.end()
            else:
                out.append(text[pos : close.end()])
                pos = close.end()
            continue
        end = text.find("-->", comment + 4)
        if end < 0:
            break
        out.append(text[pos:comment])
        pos = end + 3
    out.append(text[pos:])
    return "".join(out).strip(" \t")


def valid_date(text: str) -> bool:
    if not ISO_DATE.fullmatch(text):
        return False
    try:
        Date.fromisoformat(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Span:
    """Characters [start, end) of one line's text."""

    line: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Segment:
    line: int
    char: int  # where the segment starts in its line's text
    text: str


class Flow:
    def __init__(self, segments: list[Segment]):
        self.segments = [s for s in segments if s.text]
        self.text = " ".join(s.text for s in self.segments)
        self._starts = []
        pos = 0
        for s in self.segments:
            self._starts.append(pos)
            pos += len(s.text) + 1

    def span(self, start: int, end: int) -> Span | None:
        """Where text[start:end] is, if it lies on one line."""
        for seg, s0 in zip(self.segments, self._starts):
            if s0 <= start and end <= s0 + len(seg.text):
                return Span(seg.line, seg.char + start - s0, seg.char + end - s0)
        return None

    def end(self) -> Span:
        """The empty span just past the last character."""
        seg = self.segments[-1]
        n = seg.char + len(seg.text)
        return Span(seg.line, n, n)


@dataclass(frozen=True, slots=True)
class Checked:
    """A checkbox item's parts, as positions in its Flow's text."""

    done: bool
    mark: int  # the position of the character between the brackets
    text_start: int
    text_end: int  # where the done-date suffix (with the space before it) starts, or the end
    done_date: str | None
    suffix: tuple[int, int] | None  # the suffix, with the whitespace before it
    date: tuple[int, int] | None  # the date inside the suffix
    bad_date: str | None  # a suffix-shaped date that is not a calendar date


def read_checkbox(flow: Flow) -> Checked | None:
    text = flow.text
    m = CHECKBOX.match(text)
    if not m:
        return None
    start = m.end()
    while start < len(text) and text[start] in " \t":
        start += 1
    end, done_date, suffix, span, bad = len(text), None, None, None, None
    s = DONE_SUFFIX.search(text, start)
    if s:
        begin = s.start()
        while begin > start and text[begin - 1] in " \t":
            begin -= 1
        if flow.span(begin, s.end()) is not None:
            group = "d1" if s.group("d1") else "d2"
            if valid_date(s.group(group)):
                end, done_date, suffix, span = begin, s.group(group), (begin, s.end()), s.span(group)
            else:
                bad = s.group(group)
    return Checked(m.group(1) != " ", m.start(1), start, end, done_date, suffix, span, bad)


def bad_checkbox(text: str) -> str | None:
    """A reason when the text starts with something that looks like a checkbox but is not one."""
    m = BAD_CHECKBOX.match(text)
    if not m:
        return None
    if m.group(1) == "":
        return "empty checkbox '[]': write '[ ]' for an open action or '[x]' for a done one"
    return f"unknown checkbox mark '[{m.group(1)}]': write '[ ]' for an open action or '[x]' for a done one"


@dataclass(frozen=True, slots=True)
class ProposalRead:
    title: str
    status: str
    date: str | None
    slug: str | None
    form: str  # bracket | checkbox | paren | plain
    status_span: tuple[int, int]  # inside the brackets or parentheses; an empty span at the end for plain


def _status(inner: str) -> tuple[str, str | None] | str:
    """(status, date) from the inside of '[published 2026-11-01]' or '(draft)', or a reason."""
    m = _STATUS_WORD.match(inner)
    if not m or m.group(1).lower() not in STATUSES:
        shown = inner.strip() or " "
        return f"unknown status '{shown}': expected one of {', '.join(STATUSES)}, optionally followed by a date YYYY-MM-DD"
    rest = inner[m.end() :].strip(" \t")
    if rest[:1] in (":", ","):
        rest = rest[1:].lstrip(" \t")
    elif rest and inner[m.end()] not in " \t":
        return f"cannot read '{inner.strip()}': write a status, then optionally a date YYYY-MM-DD"
    if rest[:3].lower() in ("on ", "on\t"):
        rest = rest[3:].lstrip(" \t")
    if rest and not valid_date(rest):
        return f"'{rest}' {date_problem(rest) or 'is not a date: write it as YYYY-MM-DD'}"
    return m.group(1).lower(), rest or None


def _title(text: str) -> tuple[str, str | None, bool]:
    """(title, slug, struck through) from what is left of an entry once the status is gone."""
    text = text.strip(" \t")
    slug = None
    m = _SLUG.search(text)
    if m and m.start() > 0 and text[m.start() - 1] in " \t" and text[: m.start()].strip(" \t"):
        text, slug = text[: m.start()].rstrip(" \t"), m.group(1)
    struck = len(text) > 4 and text.startswith("~~") and text.endswith("~~")
    if struck:
        text = text[2:-2].strip(" \t")
    return text, slug, struck


def read_proposal(text: str) -> ProposalRead | str:
    """One publishing-order entry, or the reason it cannot be read."""
    if m := CHECKBOX.match(text):
        status, day = ("published" if m.group(1) != " " else "proposed"), None
        form, span, rest = "checkbox", m.span(1), text[m.end() :]
    elif m := _BRACKET.match(text):
        got = _status(m.group(1))
        if isinstance(got, str):
            return got
        (status, day), form, span, rest = got, "bracket", m.span(1), text[m.end() :]
    else:
        m = _PAREN.search(text)
        got = _status(m.group(1)) if m else None
        if m and isinstance(got, tuple):
            (status, day), form, span, rest = got, "paren", m.span(1), text[: m.start()]
        elif m and isinstance(got, str) and _is_status_word(m.group(1)):
            return got  # a known status with something unreadable after it
        else:
            status, day, form, span, rest = "proposed", None, "plain", (len(text), len(text)), text
    title, slug, struck = _title(rest)
    if not title:
        return "no title"
    if form == "plain" and struck:
        status = "dropped"
    return ProposalRead(title, status, day, slug, form, span)


def _is_status_word(inner: str) -> bool:
    m = _STATUS_WORD.match(inner)
    return bool(m) and m.group(1).lower() in STATUSES

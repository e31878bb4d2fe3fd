"""The block structure of a Markdown file, line by line.

A pragmatic subset of CommonMark, enough to tell which lines are headings, list
items (and how they nest), paragraphs, and which are opaque: front matter, fenced
and indented code, HTML comments, block quotes, thematic breaks. Nothing inside an
opaque block is interpreted.

Where real plan files and the specification disagree, this leans towards what the
writer meant:

- an item nests under the nearest item whose marker is less indented (so `1. a`
  followed by `  - b` nests, though CommonMark wants three spaces);
- a fence closes at a matching fence line indented less than four columns past the
  opening one, even if it is less indented than the list item it opened in;
- an ATX heading indented up to three columns always starts a section, even under a
  list item;
- a setext heading is only recognised under a paragraph outside any list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from oxymus.plans.lines import Line, Source, leading

_FM_OPEN = re.compile(r"---[ \t]*")
_FM_CLOSE = re.compile(r"(?:---|\.\.\.)[ \t]*")
_ATX = re.compile(r"(#{1,6})(?:[ \t]+(.*))?")
_SETEXT = re.compile(r"(=+|-+)[ \t]*")
_HR = re.compile(r"(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,}")
_FENCE = re.compile(r"(`{3,}|~{3,})(.*)")
_MARKER = re.compile(r"([-+*]|(\d{1,9})[.)])(?=[ \t]|$)")


@dataclass(eq=False, slots=True)
class Heading:
    level: int
    title: str
    line: int  # the (first) text line
    last_line: int  # the underline of a setext heading; == line for ATX
    style: str  # "atx" | "setext"
    parent: Heading | None


@dataclass(eq=False, slots=True)
class Item:
    """A list item. Its first paragraph (the item's own text) is `text_lines`."""

    line: int
    indent: int  # columns before the marker
    marker: str  # as written: "-", "*", "+", "3.", "3)"
    number: int | None  # for ordered items
    content_col: int  # where the item's content starts, in columns
    content_char: int  # the same, as an index into the line's text
    parent: Item | None
    depth: int
    heading: Heading | None
    text_lines: list[int] = field(default_factory=list)
    last_line: int = 0  # the last non-blank line that belongs to the item, children included

    @property
    def kind(self) -> str:
        """Items of one list share a kind: the bullet character, or the ordered delimiter."""
        return self.marker[-1] if self.number is not None else self.marker


@dataclass(eq=False, slots=True)
class Para:
    lines: list[int]
    item: Item | None  # the list item it sits in, if any
    heading: Heading | None
    kind: str  # "text" | "quote"


@dataclass(eq=False, slots=True)
class Opaque:
    kind: str  # "front_matter" | "fence" | "indented_code" | "html" | "hr"
    start: int
    end: int
    item: Item | None
    heading: Heading | None
    closed: bool = True
    fence: str = ""  # the opening fence run, for fences
    fence_col: int = 0


Block = Heading | Item | Para | Opaque


@dataclass
class Scan:
    source: Source
    blocks: list[Block]  # in document order, by first line
    headings: list[Heading]
    items: list[Item]
    front_matter: Opaque | None


def scan(source: Source) -> Scan:
    return _Scanner(source).run()


def _atx_title(text: str) -> str:
    """The heading text without trailing whitespace or a closing run of #s."""
    text = text.strip(" \t")
    bare = text.rstrip("#")
    if not bare or (bare != text and bare[-1] in " \t"):
        text = bare.rstrip(" \t")
    return text


def _is_hr(rest: str) -> bool:
    return _HR.fullmatch(rest.rstrip(" \t")) is not None


def _fence_open(rest: str) -> re.Match[str] | None:
    m = _FENCE.fullmatch(rest)
    if m and m.group(1)[0] == "`" and "`" in m.group(2):
        return None
    return m


class _Scanner:
    def __init__(self, source: Source):
        self.source = source
        self.blocks: list[Block] = []
        self.headings: list[Heading] = []
        self.items: list[Item] = []
        self.front_matter: Opaque | None = None
        self.stack: list[Item] = []
        self.heading_stack: list[Heading] = []
        self.heading: Heading | None = None
        self.open_text: Item | Para | None = None
        self.fence: Opaque | None = None
        self.html: Opaque | None = None
        self.icode: Opaque | None = None
        self.icode_col = 0

    def run(self) -> Scan:
        lines = self.source.lines
        start = 0
        if lines and _FM_OPEN.fullmatch(lines[0].text):
            for j in range(1, len(lines)):
                if _FM_CLOSE.fullmatch(lines[j].text):
                    self.front_matter = Opaque("front_matter", 1, j + 1, None, None)
                    self.blocks.append(self.front_matter)
                    start = j + 1
                    break
        for ln in lines[start:]:
            self.feed(ln)
        for block in (self.fence, self.html):
            if block is not None:
                block.closed = False
        return Scan(self.source, self.blocks, self.headings, self.items, self.front_matter)

    # -- helpers ---------------------------------------------------------------------

    def _extend(self, number: int) -> None:
        for item in self.stack:
            item.last_line = number

    def _container_col(self) -> int:
        return self.stack[-1].content_col if self.stack else 0

    def _add(self, block: Block) -> None:
        self.blocks.append(block)

    def _opaque(self, kind: str, number: int, **kw) -> Opaque:
        block = Opaque(kind, number, number, self.stack[-1] if self.stack else None, self.heading, **kw)
        self._add(block)
        return block

    def _start_heading(self, level: int, title: str, line: int, last_line: int, style: str) -> None:
        while self.heading_stack and self.heading_stack[-1].level >= level:
            self.heading_stack.pop()
        parent = self.heading_stack[-1] if self.heading_stack else None
        heading = Heading(level, title, line, last_line, style, parent)
        self.heading_stack.append(heading)
        self.headings.append(heading)
        self._add(heading)
        self.heading = heading
        self.stack.clear()
        self.open_text = None

    def _interrupts(self, cols: int, rest: str, marker: re.Match[str] | None, text: Item | Para) -> bool:
        """Whether a line starts a new block instead of continuing the open paragraph."""
        if cols <= 3 and _ATX.fullmatch(rest):
            return True
        if _fence_open(rest) or _is_hr(rest) or rest.startswith(("<!--", ">")):
            return True
        if marker is None:
            return False
        # An item that would start a new list inside the paragraph's container may
        # interrupt it only if it is not empty and, when ordered, starts at 1; a
        # sibling or outer item continues a list that is already open.
        inner = text.content_col if isinstance(text, Item) else (text.item.content_col if text.item else 0)
        if cols < inner:
            return True
        number = marker.group(2)
        empty = not rest[marker.end() :].strip(" \t")
        return not empty and (number is None or int(number) == 1)

    # -- one line --------------------------------------------------------------------

    def feed(self, ln: Line) -> None:
        text, number = ln.text, ln.number
        if self.fence is not None:
            self.fence.end = number
            cols, idx = leading(text)
            run = self.fence.fence
            stripped = text[idx:].rstrip(" \t")
            if cols < self.fence.fence_col + 4 and stripped.startswith(run) and set(stripped) == {run[0]}:
                self.fence = None
            self._extend(number)
            return
        if self.html is not None:
            self.html.end = number
            if "-->" in text:
                self.html = None
            self._extend(number)
            return
        blank = not text.strip(" \t")
        if self.icode is not None:
            if blank:
                return
            cols, _ = leading(text)
            if cols >= self.icode_col:
                self.icode.end = number
                self._extend(number)
                return
            self.icode = None
        if blank:
            self.open_text = None
            return
        self._line(text, number)
        self._extend(number)

    def _line(self, text: str, number: int) -> None:
        cols, idx = leading(text)
        rest = text[idx:]
        open_text = self.open_text

        # A setext underline turns the paragraph above it into a heading.
        if (
            isinstance(open_text, Para)
            and open_text.kind == "text"
            and open_text.item is None
            and not self.stack
            and cols <= 3
            and _SETEXT.fullmatch(rest)
        ):
            assert self.blocks[-1] is open_text  # an open paragraph is always the latest block
            self.blocks.pop()
            src = self.source
            title = " ".join(src.line(n).text.strip(" \t") for n in open_text.lines)
            level = 1 if rest[0] == "=" else 2
            self._start_heading(level, title, open_text.lines[0], number, "setext")
            return

        marker = _MARKER.match(rest)
        if open_text is not None and not self._interrupts(cols, rest, marker, open_text):
            (open_text.text_lines if isinstance(open_text, Item) else open_text.lines).append(number)
            return

        is_item = marker is not None and not _is_hr(rest)
        if is_item:
            while self.stack and self.stack[-1].indent >= cols:
                self.stack.pop()
        else:
            while self.stack and cols < self.stack[-1].content_col:
                self.stack.pop()
        c = self._container_col()

        if open_text is None and cols >= c + 4:
            self.open_text = None
            self.icode = self._opaque("indented_code", number)
            self.icode_col = c + 4
            return
        self.open_text = None

        if cols <= 3:
            m = _ATX.fullmatch(rest)
            if m:
                title = _atx_title(m.group(2) or "")
                self._start_heading(len(m.group(1)), title, number, number, "atx")
                return
        fence = _fence_open(rest)
        if fence and cols <= c + 3:
            self.fence = self._opaque("fence", number, closed=True, fence=fence.group(1), fence_col=cols)
            return
        if _is_hr(rest):
            self._opaque("hr", number)
            return
        if rest.startswith("<!--"):
            block = self._opaque("html", number)
            if "-->" not in rest[4:]:
                self.html = block
            return
        if rest.startswith(">"):
            para = Para([number], self.stack[-1] if self.stack else None, self.heading, "quote")
            self._add(para)
            self.open_text = para
            return
        if is_item:
            assert marker is not None
            self._item(text, number, cols, idx, marker)
            return
        para = Para([number], self.stack[-1] if self.stack else None, self.heading, "text")
        self._add(para)
        self.open_text = para

    def _item(self, text: str, number: int, cols: int, idx: int, marker: re.Match[str]) -> None:
        marker_end = idx + marker.end()
        marker_end_col = cols + marker.end()
        content_col, rel = leading(text[marker_end:], marker_end_col)
        content_char = marker_end + rel
        spaces = content_col - marker_end_col
        if content_char == len(text) or spaces > 4:
            content_col = marker_end_col + 1
        parent = self.stack[-1] if self.stack else None
        item = Item(
            line=number,
            indent=cols,
            marker=marker.group(1),
            number=int(marker.group(2)) if marker.group(2) is not None else None,
            content_col=content_col,
            content_char=content_char,
            parent=parent,
            depth=len(self.stack),
            heading=self.heading,
            text_lines=[number],
            last_line=number,
        )
        self.stack.append(item)
        self.items.append(item)
        self._add(item)
        self.open_text = item

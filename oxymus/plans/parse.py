"""PLANS.md bytes -> PlansDocument: sections, goals, actions, the publishing order, and
everything Oxymus could not read, with its reason.

`analyse` also returns where each action's checkbox and each proposal's status sit in
the file, for `patch`; `parse` is the public half.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from oxymus.plans.blocks import Heading, Item, Opaque, Para, Scan, scan
from oxymus.plans.ids import action_id, normalise
from oxymus.plans.lines import Source, leading, split
from oxymus.plans.model import Action, Goal, PlansDocument, Proposal, Section, SectionPath, Unparsed
from oxymus.plans.syntax import (
    GOAL_LABEL,
    GOALS_TITLE,
    PUBLISHING_TITLE,
    Checked,
    Flow,
    Segment,
    Span,
    bad_checkbox,
    read_checkbox,
    read_proposal,
    without_comments,
)


@dataclass(frozen=True, slots=True)
class ActionSpans:
    mark: Span  # the character between the brackets
    end: Span  # the empty span just past the text (a done-date suffix goes here)
    suffix: Span | None  # an existing done-date suffix, with the whitespace before it
    date: Span | None  # the date inside that suffix


@dataclass(frozen=True, slots=True)
class ProposalSpans:
    form: str
    status: Span  # inside [..] or (..); the mark of a checkbox; the empty span at the end for plain


@dataclass(frozen=True)
class Analysis:
    doc: PlansDocument
    source: Source
    scan: Scan
    actions: dict[str, ActionSpans]
    proposals: tuple[ProposalSpans, ...]


def parse(data: bytes, path: str = "PLANS.md") -> PlansDocument:
    """Read a plans file. Raises PlansError only for bytes that are not UTF-8."""
    return analyse(data, path).doc


def analyse(data: bytes, path: str = "PLANS.md") -> Analysis:
    source = split(data, path)
    return _Builder(source, scan(source)).build()


def item_flow(source: Source, item: Item) -> Flow:
    segments = []
    for n in item.text_lines:
        text = source.line(n).text
        start = item.content_char if n == item.line else leading(text)[1]
        segments.append(Segment(n, start, text[start:].rstrip(" \t")))
    return Flow(segments)


def _para_flow(source: Source, para: Para) -> Flow:
    segments = []
    for n in para.lines:
        text = source.line(n).text
        start = leading(text)[1]
        segments.append(Segment(n, start, text[start:].rstrip(" \t")))
    return Flow(segments)


class _Builder:
    def __init__(self, source: Source, sc: Scan):
        self.source, self.scan = source, sc
        self.paths: dict[Heading, SectionPath] = {}
        self.goals: list[Goal] = []
        self.actions: list[Action] = []
        self.proposals: list[Proposal] = []
        self.unparsed: list[Unparsed] = []
        self.action_spans: dict[str, ActionSpans] = {}
        self.proposal_spans: list[ProposalSpans] = []
        self.item_ids: dict[Item, str] = {}
        self.seen: Counter[tuple[tuple[str, ...], str]] = Counter()
        self.goals_under: dict[Heading, bool] = {}
        self.publishing_under: dict[Heading, bool] = {}

    # -- sections ------------------------------------------------------------------------

    def path(self, heading: Heading | None) -> SectionPath:
        if heading is None:
            return ()
        if heading not in self.paths:
            self.paths[heading] = (*self.path(heading.parent), heading.title)
        return self.paths[heading]

    @staticmethod
    def _chain(heading: Heading | None):
        while heading is not None:
            yield heading
            heading = heading.parent

    def in_goals(self, heading: Heading | None) -> bool:
        return self._under(heading, GOALS_TITLE, self.goals_under)

    def in_publishing(self, heading: Heading | None) -> bool:
        return self._under(heading, PUBLISHING_TITLE, self.publishing_under)

    def _under(self, heading: Heading | None, title, known: dict[Heading, bool]) -> bool:
        # Asked once per item: remembered per heading, so a long list costs one search, not one per item.
        if heading is None:
            return False
        if heading not in known:
            known[heading] = any(title.search(h.title) for h in self._chain(heading))
        return known[heading]

    def sections(self) -> list[Section]:
        ends: dict[Heading, int] = {}
        open_: list[Heading] = []
        for h in self.scan.headings:
            while open_ and open_[-1].level >= h.level:
                ends[open_.pop()] = h.line - 1
            open_.append(h)
        for h in open_:
            ends[h] = len(self.source.lines)
        return [
            Section(level=h.level, title=h.title, line=h.line, end_line=ends[h], path=self.path(h.parent), style=h.style)
            for h in self.scan.headings
        ]

    # -- building ------------------------------------------------------------------------

    def verbatim(self, first: int, last: int) -> str:
        src = self.source
        return src.data[src.line(first).start : src.line(last).end].decode("utf-8")

    def note(self, first: int, last: int, reason: str, heading: Heading | None) -> None:
        self.unparsed.append(Unparsed(line=first, end_line=last, text=self.verbatim(first, last), reason=reason, section=self.path(heading)))

    def build(self) -> Analysis:
        for block in self.scan.blocks:
            if isinstance(block, Item):
                self.item(block)
            elif isinstance(block, Para) and block.kind == "text":
                self.label(block)
            elif isinstance(block, Opaque) and not block.closed:
                self.unclosed(block)
        src, fm = self.source, self.scan.front_matter
        front = src.data[src.line(2).start : src.line(fm.end).start].decode("utf-8") if fm and fm.end > 2 else ("" if fm else None)
        doc = PlansDocument(
            path=src.path,
            sha256=src.sha256,
            newline=src.newline,  # type: ignore[arg-type]
            bom=src.bom,
            final_newline=src.final_newline,
            line_count=len(src.lines),
            front_matter=front,
            sections=tuple(self.sections()),
            goals=tuple(self.goals),
            actions=tuple(self.actions),
            proposals=tuple(self.proposals),
            unparsed=tuple(sorted(self.unparsed, key=lambda u: u.line)),
        )
        return Analysis(doc, src, self.scan, self.action_spans, tuple(self.proposal_spans))

    def unclosed(self, block: Opaque) -> None:
        if block.kind == "fence":
            reason = f"this code fence ({block.fence}) is never closed: everything after it is read as code"
        else:
            reason = "this HTML comment is never closed (no -->): everything after it is ignored"
        self.note(block.start, block.end, reason, block.heading)

    def label(self, para: Para) -> None:
        flow = _para_flow(self.source, para)
        m = GOAL_LABEL.match(flow.text)
        if m:
            self.goal(flow.text[m.end() :], para.lines[0], para.lines[-1], para.heading, "label", None)

    def goal(self, text: str, line: int, last: int, heading: Heading | None, source: str, done: bool | None) -> None:
        text = without_comments(text)
        if not text:
            self.note(line, last, "a goal with no text", heading)
            return
        self.goals.append(Goal(text=text, line=line, section=self.path(heading), source=source, done=done))  # type: ignore[arg-type]

    def item(self, item: Item) -> None:
        flow = item_flow(self.source, item)
        last = item.text_lines[-1]
        if item.parent is None and self.in_publishing(item.heading):
            self.proposal(item, flow, last)
            return
        checked = read_checkbox(flow)
        if checked is None:
            text, done = flow.text, None
            reason = bad_checkbox(flow.text)
            if reason:
                self.note(item.line, last, reason, item.heading)
        else:
            text, done = without_comments(flow.text[checked.text_start : checked.text_end]), checked.done
            if not text:
                self.note(item.line, last, "a checkbox with no text", item.heading)
                return
            if checked.bad_date:
                self.note(item.line, last, f"'{checked.bad_date}' in the done date is not a calendar date", item.heading)
            self.action(item, flow, checked, text)
        if item.parent is None and self.in_goals(item.heading):
            m = GOAL_LABEL.match(text)
            self.goal(text[m.end() :] if m else text, item.line, last, item.heading, "list", done)
        elif m := GOAL_LABEL.match(text):
            self.goal(text[m.end() :], item.line, last, item.heading, "label", done)

    def action(self, item: Item, flow: Flow, checked: Checked, text: str) -> None:
        section = self.path(item.heading)
        key = (tuple(normalise(t) for t in section), normalise(text))
        self.seen[key] += 1
        aid = action_id(section, text, self.seen[key])
        parent = item.parent
        while parent is not None and parent not in self.item_ids:
            parent = parent.parent
        self.item_ids[item] = aid
        self.actions.append(
            Action(
                id=aid,
                text=text,
                done=checked.done,
                done_date=checked.done_date,
                line=item.line,
                end_line=item.text_lines[-1],
                indent=item.indent,
                depth=item.depth,
                marker=item.marker,
                parent=self.item_ids[parent] if parent is not None else None,
                section=section,
            )
        )
        mark = flow.span(checked.mark, checked.mark + 1)
        assert mark is not None
        self.action_spans[aid] = ActionSpans(
            mark=mark,
            end=flow.span(checked.text_end, checked.text_end) or flow.end(),
            suffix=flow.span(*checked.suffix) if checked.suffix else None,
            date=flow.span(*checked.date) if checked.date else None,
        )

    def proposal(self, item: Item, flow: Flow, last: int) -> None:
        read = read_proposal(flow.text)
        if isinstance(read, str):
            self.note(item.line, last, f"not a publishing entry: {read}", item.heading)
            return
        span = flow.end() if read.form == "plain" else flow.span(*read.status_span)
        if span is None:
            self.note(item.line, last, "not a publishing entry: its status is split over two lines", item.heading)
            return
        self.proposals.append(
            Proposal(
                position=len(self.proposals) + 1,
                title=without_comments(read.title) or read.title,
                status=read.status,  # type: ignore[arg-type]
                date=read.date,
                slug=read.slug,
                line=item.line,
                end_line=last,
                form=read.form,  # type: ignore[arg-type]
                section=self.path(item.heading),
            )
        )
        self.proposal_spans.append(ProposalSpans(read.form, span))

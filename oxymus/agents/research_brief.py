"""The research brief: facts that each cite their source, organised; and the LLM's summary of
them, kept only where its citations hold.

Pure: no IO. The agent (`research.py`) gathers the `Fact`s; this module renders them and
checks a summary against them.

A citation is a record id (`rec 01J…`: a canonical record or a memory record), a PLANS.md
line (`PLANS.md:12`) or a notes line (`notes/acme.md:12`, the folder's name and the path in
it). Every bullet of a brief ends with its citation in square brackets.

The LLM's summary is checked sentence by sentence; a sentence is kept only if
- it cites at least one source, and every source it cites is one of the gathered ones,
- it shares content words with what it cites (at least two, or all of its own if it has
  fewer), so a citation cannot be pinned on an unrelated claim, and
- every number in it appears in what it cites (a budget, a date, a count).
Too few kept sentences and the deterministic brief is used instead; the brief says which
path was taken and what was dropped, and why.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SectionName = Literal["ask", "client", "goals", "notes", "memory"]
SECTIONS: dict[str, str] = {
    "ask": "The ask",
    "client": "The client and earlier work",
    "goals": "Goals it serves",
    "notes": "From the notes",
    "memory": "Related memory",
}
STOPWORDS = frozenset(
    "a an and are as at be been but by can could did do does for from had has have he her his how i if in into is it its "
    "just may me more most my no not of on or our out she so some such than that the their them then there these they "
    "this those to too up us was we were what when where which while who why will with would you your about also after "
    "all any before being both each few here over own same should very via per new get got one two let lets like "
    "want wants need needs needed ask asks asked".split())
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NUMBER = re.compile(r"\d[\d,.\s]*\d|\d")
_CITE = re.compile(r"\[([^\[\]]{1,300})\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(*-])|\n+")
_CITE_AFTER_END = re.compile(r"([.!?])((?:\s*\[[^\[\]]{1,300}\])+)")


class Fact(BaseModel):
    """One bullet of a brief: what it says, the section, and the source it cites."""

    model_config = ConfigDict(frozen=True)

    section: SectionName
    text: str = Field(description="the fact, one line")
    cite: str = Field(description="rec ID, PLANS.md:LINE or folder/path.md:LINE")
    source_text: str = Field(default="", description="the cited source's text (what a summary is checked against); default: text")

    @property
    def evidence(self) -> str:
        return self.source_text or self.text


class Checked(BaseModel):
    sentence: str
    cites: list[str]
    kept: bool
    why: str = ""


class SummaryCheck(BaseModel):
    kept: list[Checked]
    dropped: list[Checked]
    used: bool = Field(description="enough survived: the summary is the brief")
    why_not: str = ""


def content_words(text: str) -> set[str]:
    """Lower-cased words of 3+ letters that are not stopwords, lightly stemmed (plural, -ing, -ed)."""
    out = set()
    for word in _WORD.findall(text.lower()):
        if len(word) < 3 or word in STOPWORDS or word.isdigit():
            continue
        for suffix in ("ing", "ies", "es", "ed", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        out.add(word)
    return out


def numbers(text: str) -> set[str]:
    """The numbers in a text, normalised: "5,000", "5 000" and "5000.0" are all "5000"."""
    out = set()
    for raw in _NUMBER.findall(text):
        digits = re.sub(r"[,\s]", "", raw)
        if re.fullmatch(r"\d+\.0+", digits):
            digits = digits.split(".")[0]
        out.add(digits.rstrip("."))
    return out


def citations(sentence: str) -> list[str]:
    """The sources a sentence cites: each `[...]`, split on ; and , (`[rec A; notes/x.md:3]`)."""
    out: list[str] = []
    for group in _CITE.findall(sentence):
        for part in re.split(r"[;,]\s*", group):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def without_citations(sentence: str) -> str:
    return _CITE.sub("", sentence).strip()


def sentences(text: str) -> list[str]:
    """A summary split into sentences; list markers and headings are not sentences of their own."""
    out = []
    # "It did. [rec A]" is "It did [rec A]." (a citation after the full stop belongs to that sentence).
    text = _CITE_AFTER_END.sub(lambda m: m.group(2) + m.group(1), text.strip())
    for piece in _SENTENCE_END.split(text):
        piece = re.sub(r"^\s*(?:[-*+]|\d+[.)]|#+)\s+", "", piece).strip()
        if piece and without_citations(piece):
            out.append(piece)
    return out


def _normal_cite(cite: str) -> str:
    return " ".join(cite.split()).lower()


def check_sentence(sentence: str, sources: dict[str, str]) -> Checked:
    """`sources`: cite -> the text it stands for (the gathered ones only)."""
    cites = citations(sentence)
    if not cites:
        return Checked(sentence=sentence, cites=[], kept=False, why="no citation")
    known = {_normal_cite(c): c for c in sources}
    unknown = [c for c in cites if _normal_cite(c) not in known]
    if unknown:
        return Checked(sentence=sentence, cites=cites, kept=False, why=f"cites {unknown[0]!r}, which is not among the sources")
    cited = " ".join(sources[known[_normal_cite(c)]] for c in cites)
    said = without_citations(sentence)
    own = content_words(said)
    shared = own & content_words(cited)
    if len(shared) < min(2, len(own)):
        return Checked(sentence=sentence, cites=cites, kept=False,
                       why="shares no content word with what it cites" if not shared else "shares too little with what it cites")
    missing = numbers(said) - numbers(cited)
    if missing:
        return Checked(sentence=sentence, cites=cites, kept=False, why=f"the number {sorted(missing)[0]} is not in what it cites")
    return Checked(sentence=sentence, cites=[known[_normal_cite(c)] for c in cites], kept=True)


def cites_within(cite: str) -> list[str]:
    """A citation and, for a run of lines (`notes/a.md:3-5`), each of its lines: a summary may cite one."""
    name, _, where = cite.rpartition(":")
    first, dash, last = where.partition("-")
    if not (name and dash and first.isdigit() and last.isdigit() and int(first) <= int(last) <= int(first) + 50):
        return [cite]
    return [cite, *(f"{name}:{n}" for n in range(int(first), int(last) + 1))]


def check_summary(text: str, facts: list[Fact], *, min_sentences: int) -> SummaryCheck:
    """Each sentence of the LLM's `text` checked against the facts; `used` when at least
    `min_sentences` and at least half of them were kept."""
    sources: dict[str, str] = {}
    for fact in facts:
        for cite in cites_within(fact.cite):
            sources[cite] = (sources.get(cite, "") + " " + fact.evidence).strip()
    checked = [check_sentence(s, sources) for s in sentences(text)]
    kept = [c for c in checked if c.kept]
    dropped = [c for c in checked if not c.kept]
    if not checked:
        why = "the LLM's answer had no sentence"
    elif len(kept) < min_sentences:
        why = f"only {len(kept)} of its {len(checked)} sentence(s) passed the citation check (at least {min_sentences} needed)"
    elif len(kept) * 2 < len(checked):
        why = f"only {len(kept)} of its {len(checked)} sentences passed the citation check (less than half)"
    else:
        why = ""
    return SummaryCheck(kept=kept, dropped=dropped, used=not why, why_not=why)


# ------------------------------------------------------------------ rendering


class BriefHead(BaseModel):
    record_id: str
    kind: str
    title: str
    status: str
    version: int


def _bullet(fact: Fact) -> str:
    return f"- {' '.join(fact.text.split())} [{fact.cite}]"


def sources_part(facts: list[Fact]) -> list[str]:
    lines: list[str] = []
    for name, heading in SECTIONS.items():
        lines += ["", f"## {heading}", ""]
        mine = [f for f in facts if f.section == name]
        lines += [_bullet(f) for f in mine] or ["(nothing found)"]
    return lines


def _header(head: BriefHead) -> list[str]:
    return [f"# Brief: {head.title}", "", f"{head.kind} {head.record_id} · {head.status} · version {head.version}"]


def deterministic(head: BriefHead, facts: list[Fact], *, llm_note: str = "", dropped: list[Checked] | None = None) -> str:
    """The sources and key facts, organised by section; every bullet ends with its citation."""
    lines = _header(head)
    lines.append("Made without the LLM: the sources and key facts, organised." if not llm_note else
                 f"Made without the LLM's summary: {llm_note}.")
    lines += sources_part(facts)
    lines += _dropped(dropped or [])
    return "\n".join(lines).rstrip() + "\n"


def summarised(head: BriefHead, facts: list[Fact], check: SummaryCheck, model: str) -> str:
    """The LLM's checked summary, what was dropped from it, then the sources it was checked against."""
    lines = _header(head)
    lines.append(f"Summary by the LLM ({model}), each sentence checked against its citations: "
                 f"{len(check.kept)} kept, {len(check.dropped)} dropped.")
    lines += ["", "## Summary", ""]
    lines += [c.sentence for c in check.kept]
    lines += _dropped(check.dropped)
    lines += ["", "# Sources"]
    lines += sources_part(facts)
    return "\n".join(lines).rstrip() + "\n"


def _dropped(dropped: list[Checked]) -> list[str]:
    if not dropped:
        return []
    return ["", "## Dropped from the LLM's summary", ""] + [f"- “{c.sentence}”: {c.why}" for c in dropped]

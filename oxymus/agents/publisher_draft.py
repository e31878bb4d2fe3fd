"""The publisher's draft: the facts a post is written from, and its text.

Pure functions, no I/O: the entry's notes read from PLANS.md's bytes, the slug and
keywords, the structured template body, the check an LLM body must pass, and the
front matter. `oxymus.agents.publisher` gathers the facts and proposes the post.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import string
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from oxymus.kernel import tomlfmt
from oxymus.plans import PlansDocument, Proposal

MIN_WORDS = 60  # an LLM body shorter than this is not a post
STOPWORDS = frozenset(
    "a an and are as at be but by for from has have how i in into is it its my of on or our so that the their this "
    "to was what when where which who why will with you your about after again before being can could did do does "
    "just more most not now only other over some such than then there these they those through under until very "
    "we were would".split()
)
LEAD_KEYS = ("summary", "angle", "thesis", "tl;dr", "tldr", "idea", "hook", "premise", "pitch")
PLACEHOLDERS = re.compile(r"\bTODO\b|lorem ipsum|\[insert|<insert|\bTBD\b|\[your ", re.IGNORECASE)


@dataclass
class Note:
    text: str
    children: list[str] = field(default_factory=list)


@dataclass
class Facts:
    """What a draft is written from; all of it computed or read by code."""

    title: str
    slug: str
    date: dt.date
    notes: list[Note]
    memory: list[tuple[str, str]]  # (title, body) of related records, most related first
    goals: list[str]
    tags: list[str]
    last_post: tuple[str, str] | None = None  # (path, text without front matter)

    @property
    def empty(self) -> bool:
        return not self.notes and not self.memory and not self.goals


class PostBody(BaseModel):
    """What the LLM is asked for."""

    body: str = Field(description="the post's body in Markdown: paragraphs and ## sections; no front matter, no title heading")


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80].strip("-") or "post"


def display_title(title: str) -> str:
    """The entry's title as prose: Markdown links and emphasis marks gone, no control characters."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)
    text = re.sub(r"[*_`]+", "", text)
    return " ".join("".join(ch for ch in text if unicodedata.category(ch)[0] != "C").split())


def keywords(text: str) -> list[str]:
    out: list[str] = []
    for word in re.findall(r"[a-z0-9][a-z0-9'-]*[a-z0-9]|[a-z0-9]", text.lower()):
        word = word.strip("'-")
        if (len(word) >= 4 or "-" in word) and word not in STOPWORDS and word not in out:
            out.append(word)
    return out


def _lines(data: bytes) -> list[str]:
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    return re.split(r"\r\n|\r|\n", text)


LIST_MARK = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(.*)$")


def notes_under(data: bytes, doc: PlansDocument, proposal: Proposal) -> list[Note]:
    """The lines indented under a publishing entry (up to the next entry or heading), as
    notes: top-level items with their nested items; wrapped lines joined."""
    lines = _lines(data)
    stops = [p.line for p in doc.proposals if p.line > proposal.line] + [s.line for s in doc.sections if s.line > proposal.line]
    stop = min(stops) - 1 if stops else len(lines)
    items: list[tuple[int, str]] = []
    for raw in lines[proposal.end_line:stop]:
        if not raw.strip():
            continue
        if not raw[0].isspace():
            break  # back at the left margin: the entry's notes are over
        indent = len(raw.expandtabs(4)) - len(raw.expandtabs(4).lstrip())
        m = LIST_MARK.match(raw.expandtabs(4))
        if m:
            items.append((indent, m.group(2).strip()))
        elif items:
            items[-1] = (items[-1][0], f"{items[-1][1]} {raw.strip()}")
        else:
            items.append((indent, raw.strip()))
    if not items:
        return []
    top = min(i for i, _ in items)
    notes: list[Note] = []
    for indent, text in items:
        if not text:
            continue
        if indent == top or not notes:
            notes.append(Note(text))
        else:
            notes[-1].children.append(text)
    return notes


def _split_key(text: str) -> tuple[str, str] | None:
    m = re.match(r"^([A-Za-z][\w ;-]{0,30}):\s+(.+)$", text)
    return (m.group(1).strip(), m.group(2).strip()) if m else None


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?:" else text + "."


def _lower_first(text: str) -> str:
    """'Why local-first' -> 'why local-first'; 'AI at home' stays (an acronym or a name keeps its capitals)."""
    return text[0].lower() + text[1:] if text[:2].istitle() else text


def _first_sentences(text: str, n: int = 2) -> str:
    flat = " ".join(ln.strip().lstrip("#-*> ").strip() for ln in text.splitlines() if ln.strip())
    parts = re.split(r"(?<=[.!?])\s+", flat)
    return " ".join(parts[:n]).strip()


def template_body(f: Facts) -> str:
    """A complete, structured first draft from the facts alone."""
    notes = list(f.notes)
    lead = None
    for i, note in enumerate(notes):
        kv = _split_key(note.text)
        if kv and kv[0].lower() in LEAD_KEYS:
            lead = _sentence(kv[1])
            notes.pop(i)
            break
    if lead is None and notes and not notes[0].children and _split_key(notes[0].text) is None:
        lead = _sentence(notes.pop(0).text)
    if lead is None and f.memory:
        lead = _sentence(_first_sentences(f.memory[0][1] or f.memory[0][0], 1))
    if lead is None:
        lead = f"This post is about {_lower_first(f.title)}."
    parts = [lead]
    points: list[str] = []
    headings: list[str] = []
    for note in notes:
        kv = _split_key(note.text)
        if note.children:
            headings.append(note.text.rstrip(":"))
            body = "\n".join(f"- {_sentence(c)}" for c in note.children) if len(note.children) > 1 else _sentence(note.children[0])
            parts.append(f"## {note.text.rstrip(':')}\n\n{body}")
        elif kv is not None:
            headings.append(kv[0])
            parts.append(f"## {kv[0][0].upper() + kv[0][1:]}\n\n{_sentence(kv[1])}")
        else:
            points.append(_sentence(note.text))
    if points:
        parts.append("## Key points\n\n" + "\n".join(f"- {p}" for p in points))
    if f.memory:
        lines = []
        for title, body in f.memory:
            more = _first_sentences(body)
            lines.append(f"- **{title}**" + (f": {more}" if more else ""))
        parts.append("## Background\n\n" + "\n".join(lines))
    if f.goals:
        if len(f.goals) == 1:
            parts.append(f"## Why it matters\n\nThis post is part of a larger aim: {_lower_first(f.goals[0]).rstrip('.')}.")
        else:
            parts.append("## Why it matters\n\nThis post is part of larger aims:\n\n" + "\n".join(f"- {_sentence(g)}" for g in f.goals))
    recap = headings + [p.rstrip(".") for p in points]
    if recap:
        listed = "; ".join(_lower_first(r) for r in recap[:5])
        parts.append(f"## In short\n\n{f.title}: {listed}.")
    return "\n\n".join(parts).strip() + "\n"


def check_llm_body(text: str, title: str) -> tuple[str | None, str]:
    """(the body, "") if usable, else (None, why not)."""
    body = text.replace("\r\n", "\n").strip()
    first = body.splitlines()[0].strip() if body else ""
    if first.startswith("#") and not first.startswith("##") and display_title(first.lstrip("# ")).lower() == title.lower():
        body = body.split("\n", 1)[1].strip() if "\n" in body else ""  # the title is the front matter's
    if not body:
        return None, "empty"
    if body.startswith(("---", "+++")) or re.match(r"^(title|date|slug|tags)\s*[:=]", body, re.IGNORECASE):
        return None, "it wrote front matter"
    if PLACEHOLDERS.search(body):
        return None, "it left a placeholder"
    words = len(body.split())
    if words < MIN_WORDS:
        return None, f"{words} words is not a post"
    return body + "\n", ""


def front_matter(kind: str, f: Facts, author: str | None) -> str:
    def value(v: Any) -> str:
        if kind == "toml":
            return tomlfmt.value(v)
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, dt.date):
            return v.isoformat()
        return json.dumps(v, ensure_ascii=False)  # a valid YAML double-quoted string (or flow sequence)

    fields: list[tuple[str, Any]] = [("title", f.title), ("date", f.date), ("slug", f.slug)]
    if f.tags:
        fields.append(("tags", f.tags))
    if author:
        fields.append(("author", author))
    fields.append(("draft", False))
    fence, sep = ("+++", " = ") if kind == "toml" else ("---", ": ")
    return fence + "\n" + "".join(f"{k}{sep}{value(v)}\n" for k, v in fields) + fence + "\n"


def strip_front_matter(text: str) -> str:
    for fence in ("---", "+++"):
        if text.startswith(fence + "\n"):
            end = text.find("\n" + fence, len(fence))
            if end != -1:
                return text[end + len(fence) + 1:].lstrip("\n")
    return text


def posts_path(s: Any, slug: str, day: dt.date) -> str:
    name = s.filename.format(date=day.isoformat(), slug=slug, year=f"{day.year:04d}", month=f"{day.month:02d}", day=f"{day.day:02d}")
    return os.path.normpath(os.path.join(s.posts_dir, name)).replace(os.sep, "/")


def same_slug(folder: Path, s: Any, slug: str) -> str | None:
    """A post already under posts_dir for this slug, on any date: its path as `filename` would name it."""
    if not folder.is_dir():
        return None
    pattern = ""
    for literal, name, _, _ in string.Formatter().parse(s.filename):
        pattern += re.escape(literal)
        if name is not None:
            pattern += {"date": r"\d{4}-\d{2}-\d{2}", "year": r"\d{4}", "month": r"\d{2}", "day": r"\d{2}"}.get(name, re.escape(slug))
    wanted = re.compile(pattern)
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            rel = os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/")
            if wanted.fullmatch(rel):
                return rel
    return None

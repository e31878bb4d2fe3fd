"""The editor's checks: pure code over a draft's bytes, no I/O but for the links it resolves.

`check(data, path, rules, today)` reads a Markdown draft (front matter in YAML `---` or
TOML `+++`) and returns a `Report`: one `Finding` per problem, each with its line and,
where code can fix it safely, a `Fix` (a replacement inside one line). `apply_fixes`
makes the fixed text from those; `stub_reason` says why a draft is too thin to edit.

Prose checks (style terms, placeholders, word counts, readability) never look inside
code blocks (fenced, or indented four spaces after a blank line and not under a list item), inline code, link and image URLs, autolinks or the front matter.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field

from oxymus.kernel import tomlfmt

STUB_MIN_WORDS = 80  # fewer words of prose than this is a stub, whatever min_words says
STUB_MIN_SENTENCES = 4
LONG_POST_WORDS = 400  # a post this long needs at least one section heading
PLACEHOLDER = re.compile(r"\bTODO\b|\bTBD\b|\bTK\b|\bFIXME\b|lorem ipsum|\[insert\b|<insert\b", re.IGNORECASE)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INDENTED = re.compile(r"^(?: {4}|\t)")
_IN_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s|^(?: {4}|\t)")  # a list item, or a line indented under one
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_INLINE_CODE = re.compile(r"(`+)(?:.+?)\1")
_LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
_REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
_AUTOLINK = re.compile(r"<[a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]*>|\bhttps?://\S+")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")
_WORD = re.compile(r"[^\W_](?:[\w'’-]*[^\W_])?")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})-")


class Fix(BaseModel):
    """Replace columns [start, end) of one line (1-based) with `new`; start == end inserts."""

    model_config = ConfigDict(frozen=True)

    line: int
    start: int
    end: int
    new: str


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    check: Literal["encoding", "front_matter", "length", "headings", "links", "style", "readability", "placeholder"]
    line: int | None = Field(default=None, description="1-based line in the file; none: the whole draft")
    message: str
    fix: Fix | None = Field(default=None, description="the safe fix code can make; none: the person decides")

    def describe(self) -> str:
        return (f"line {self.line}: " if self.line else "") + self.message


class Rules(BaseModel):
    """What the checks hold a draft to (from `[agents.editor]`)."""

    min_words: int = 300
    max_words: int = 3000
    front_matter: list[str] = Field(default_factory=lambda: ["title", "date", "slug"])
    style: dict[str, str] = Field(default_factory=dict)
    min_readability: float | None = 50.0
    links_root: str | None = None


CHECKS = ("front_matter", "length", "headings", "links", "style", "readability")


class Report(BaseModel):
    findings: list[Finding] = Field(default_factory=list)
    words: int = 0
    sentences: int = 0
    readability: float | None = None
    front_matter: dict[str, Any] = Field(default_factory=dict)
    title: str | None = None
    unchecked_links: list[str] = Field(default_factory=list, description="site-absolute links with no links_root to resolve them")
    text: str | None = Field(default=None, description="the draft as text (none: not UTF-8)")

    def failed(self, check: str) -> list[Finding]:
        return [f for f in self.findings if f.check == check]

    def fixable(self) -> list[Finding]:
        return [f for f in self.findings if f.fix is not None]

    def unfixable(self) -> list[Finding]:
        return [f for f in self.findings if f.fix is None]

    def summary(self) -> str:
        passed = [c for c in CHECKS if not self.failed(c)]
        score = f", readability {self.readability:.0f}" if self.readability is not None else ""
        if not self.findings:
            return f"all {len(CHECKS)} checks passed ({self.words} words{score})"
        return (f"{len(self.findings)} finding(s) in {', '.join(sorted({f.check for f in self.findings}))}; "
                f"{len(passed)} of {len(CHECKS)} checks passed ({self.words} words{score})")


@dataclass
class Draft:
    """A draft split for checking: its lines and which of them are prose."""

    lines: list[str]  # without line ends
    body_start: int  # 0-based index of the first line after the front matter
    prose: list[int] = field(default_factory=list)  # 0-based indexes of lines outside code blocks
    masked: dict[int, str] = field(default_factory=dict)  # prose line -> same length, code and URLs blanked


# ------------------------------------------------------------------ reading


def decode(data: bytes) -> tuple[str | None, Finding | None]:
    try:
        return data.decode("utf-8").removeprefix("\ufeff"), None
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return None, Finding(check="encoding", line=line,
                             message=f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8")


def _mask(text: str) -> str:
    """The line with inline code, link/image URLs and autolinks blanked (same length, so columns hold)."""
    out = list(text)

    def blank(a: int, b: int) -> None:
        out[a:b] = " " * (b - a)

    for m in _INLINE_CODE.finditer(text):
        blank(m.start(), m.end())
    masked = "".join(out)
    for m in _LINK.finditer(masked):
        blank(m.start(3), m.end(3))
    for m in _AUTOLINK.finditer("".join(out)):
        blank(m.start(), m.end())
    m = _REF_DEF.match(text)
    if m:
        blank(0, len(text))
    return "".join(out)


def split(text: str) -> tuple[Draft, list[Finding], dict[str, Any] | None, str | None]:
    """(the draft, front-matter findings, the front matter (None: there is none), its format)."""
    lines = re.split(r"\r\n|\r|\n", text)
    findings: list[Finding] = []
    meta: dict[str, Any] | None = None
    kind: str | None = None
    body_start = 0
    if lines and lines[0].rstrip() in ("---", "+++"):
        fence = lines[0].rstrip()
        kind = "yaml" if fence == "---" else "toml"
        end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == fence or (kind == "yaml" and lines[i].rstrip() == "...")), None)
        if end is None:
            findings.append(Finding(check="front_matter", line=1, message=f"the front matter opened with {fence} is never closed"))
            meta = {}
        else:
            body_start = end + 1
            meta, problem = _parse_meta("\n".join(lines[1:end]), kind)
            if problem is not None:
                line, why = problem
                findings.append(Finding(check="front_matter", line=line + 1, message=f"malformed {kind.upper()} front matter: {why}"))
                meta = {}
    draft = Draft(lines=lines, body_start=body_start)
    fence_open: str | None = None
    indented = False  # inside an indented code block
    before = ""  # the last non-blank prose line: an indented line after a list item continues the item
    for i in range(body_start, len(lines)):
        m = _FENCE.match(lines[i])
        if fence_open is not None:
            if m and m.group(1)[0] == fence_open[0] and len(m.group(1)) >= len(fence_open) and not lines[i].strip()[len(m.group(1)):].strip():
                fence_open = None
            continue
        if m:
            fence_open = m.group(1)
            continue
        line = lines[i]
        if _INDENTED.match(line) and (indented or (i > body_start and not lines[i - 1].strip() and not _IN_LIST.match(before))):
            indented = True
            continue
        if line.strip():
            indented = False
            before = line
        draft.prose.append(i)
        draft.masked[i] = _mask(lines[i])
    return draft, findings, meta, kind


def _parse_meta(text: str, kind: str) -> tuple[dict[str, Any], tuple[int, str] | None]:
    """(the mapping, None) or ({}, (line within the front matter, 1-based, why))."""
    if kind == "toml":
        try:
            return tomllib.loads(text), None
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
            return {}, (int(m.group(1)) if m else 1, str(exc))
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        why = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return {}, (line, str(why))
    if value is None:
        return {}, None
    if not isinstance(value, dict):
        return {}, (1, f"it is a {type(value).__name__}, not a mapping of keys to values")
    return {str(k): v for k, v in value.items()}, None


# ------------------------------------------------------------------ the checks


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80].strip("-")


def anchor(text: str) -> str:
    """A heading's anchor as GitHub, Hugo (goldmark) and most generators make it."""
    plain = re.sub(r"`([^`]*)`", r"\1", text)
    plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", plain)
    plain = re.sub(r"[^\w\- ]", "", plain.lower().strip())
    return plain.replace(" ", "-")


def _fm_value(value: Any, kind: str) -> str:
    if kind == "toml":
        return tomlfmt.value(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False)


def check_front_matter(draft: Draft, meta: dict[str, Any] | None, kind: str | None, rules: Rules, path: Path,
                       today: dt.date) -> list[Finding]:
    if meta is None:
        return [Finding(check="front_matter", line=1,
                        message=f"no front matter; add {', '.join(rules.front_matter)} between --- lines (YAML) or +++ lines (TOML)")]
    if draft.body_start == 0:
        return []  # never closed: already a finding
    close = draft.body_start  # 1-based number of the closing fence line
    sep = " = " if kind == "toml" else ": "
    out = []
    for key in rules.front_matter:
        value = meta.get(key)
        if value not in (None, "", []):
            continue
        derived = _derive(key, meta, path, today)
        fix = None
        if derived is not None:
            fix = Fix(line=close, start=0, end=0, new=f"{key}{sep}{_fm_value(derived, kind or 'yaml')}\n")
        state = "empty" if key in meta else "missing"
        out.append(Finding(check="front_matter", line=close if key not in meta else _key_line(draft, key),
                           message=f"front matter: {key} is {state}" + (f" (it can be {_fm_value(derived, kind or 'yaml')})" if derived is not None else ""),
                           fix=fix if key not in meta else None))
    return out


def _key_line(draft: Draft, key: str) -> int:
    for i in range(1, draft.body_start):
        if re.match(rf"^\s*['\"]?{re.escape(key)}['\"]?\s*[:=]", draft.lines[i]):
            return i + 1
    return 1


def _derive(key: str, meta: dict[str, Any], path: Path, today: dt.date) -> Any:
    """A value code can give a missing key without guessing: slug from the title or the file name, date from the file name."""
    stem = path.stem if path.stem != "index" else path.parent.name
    m = _DATE_PREFIX.match(stem)
    if key == "slug":
        source = str(meta.get("title") or "") or (stem[m.end():] if m else stem)
        return slugify(source) or None
    if key == "date":
        if m:
            try:
                return dt.date.fromisoformat(m.group(1))
            except ValueError:
                return None
        return today
    return None


def _headings(draft: Draft) -> list[tuple[int, int, str]]:
    """(0-based line, level, text) of every ATX heading outside code."""
    out = []
    for i in draft.prose:
        m = _HEADING.match(draft.lines[i])
        if m:
            out.append((i, len(m.group(1)), (m.group(2) or "").strip()))
    return out


def check_headings(draft: Draft, title: str | None, words: int) -> list[Finding]:
    heads = _headings(draft)
    out: list[Finding] = []
    if words >= LONG_POST_WORDS and not any(level >= 2 for _, level, _ in heads):
        out.append(Finding(check="headings", line=None, message=f"{words} words and no section heading (## ...): break it into sections"))
    seen: dict[str, int] = {}
    previous = 1 if title else 0
    for i, level, text in heads:
        line = draft.lines[i]
        hashes = line.index("#")
        if level == 1 and title:
            same = text.strip().lower() == title.strip().lower()
            out.append(Finding(check="headings", line=i + 1,
                               message=f"a second H1 “{text}”: the title is in the front matter" + (" (the same title: it can go)" if same else ""),
                               fix=Fix(line=i + 1, start=0, end=len(line), new="") if same else None))
            continue
        if level > previous + 1:
            want = previous + 1
            out.append(Finding(check="headings", line=i + 1, message=f"“{text}” skips from H{previous} to H{level} (H{want} expected)",
                               fix=Fix(line=i + 1, start=hashes, end=hashes + level, new="#" * want)))
            level = want
        previous = level
        key = text.strip().lower()
        if key in seen:
            out.append(Finding(check="headings", line=i + 1, message=f"“{text}” repeats the heading of line {seen[key]}"))
        else:
            seen[key] = i + 1
    return out


def anchors(draft: Draft) -> set[str]:
    out: set[str] = set()
    counts: dict[str, int] = {}
    for _, _, text in _headings(draft):
        a = anchor(text)
        n = counts.get(a, 0)
        out.add(a if n == 0 else f"{a}-{n}")
        counts[a] = n + 1
    for i in draft.prose:  # explicit ids: {#id} and <a id="x">
        out.update(re.findall(r"\{#([\w-]+)\}", draft.lines[i]))
        out.update(re.findall(r"<a\s+(?:name|id)=[\"']([^\"']+)[\"']", draft.lines[i]))
    return out


def check_links(draft: Draft, path: Path, rules: Rules) -> tuple[list[Finding], list[str]]:
    known = anchors(draft)
    out: list[Finding] = []
    unchecked: list[str] = []
    for i in draft.prose:
        text = _INLINE_CODE.sub(lambda m: " " * len(m.group(0)), draft.lines[i])
        targets = [(m.group(3), "image" if m.group(1) else "link") for m in _LINK.finditer(text)]
        ref = _REF_DEF.match(text)
        if ref:
            targets.append((ref.group(1), "link"))
        for raw, what in targets:
            target = raw[1:-1] if raw.startswith("<") else raw
            if not target or _SCHEME.match(target) or "{{" in target:
                continue
            where, _, frag = target.partition("#")
            if not where:
                if frag not in known:
                    out.append(Finding(check="links", line=i + 1, message=f"the anchor #{frag} matches no heading"))
                continue
            where = unquote(where.split("?", 1)[0])
            if where.startswith("/"):
                if rules.links_root is None:
                    unchecked.append(target)
                    continue
                resolved = Path(os.path.expanduser(rules.links_root)) / where.lstrip("/")
            else:
                resolved = path.parent / where
            if not resolved.exists():
                out.append(Finding(check="links", line=i + 1, message=f"the {what} {target} points at {resolved}, which does not exist"))
    return out, unchecked


def _style_pattern(term: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in term.split()]
    return re.compile(r"(?<![\w-])" + r"\s+".join(words) + r"(?![\w-])", re.IGNORECASE)


def _cased(found: str, replacement: str) -> str:
    if found.isupper() and len(found) > 1:
        return replacement.upper()
    if found[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def check_style(draft: Draft, rules: Rules) -> list[Finding]:
    out = []
    patterns = [(term, new, _style_pattern(term)) for term, new in rules.style.items() if term.strip()]
    for i in draft.prose:
        masked = draft.masked[i]
        taken: list[tuple[int, int]] = []
        for term, new, pattern in patterns:
            for m in pattern.finditer(masked):
                if any(a < m.end() and m.start() < b for a, b in taken):
                    continue  # overlaps another term's match: one fix per span
                taken.append((m.start(), m.end()))
                found = draft.lines[i][m.start():m.end()]
                better = _cased(found, new)
                out.append(Finding(check="style", line=i + 1, message=f"“{found}”: write “{better}” (style list)",
                                   fix=Fix(line=i + 1, start=m.start(), end=m.end(), new=better)))
    return out


def prose_text(draft: Draft) -> str:
    """The draft's prose: no code, no URLs, no Markdown marks; paragraphs kept apart."""
    parts = []
    for i in draft.prose:
        line = draft.masked[i]
        line = re.sub(r"^ {0,3}#{1,6}\s+", "", line)
        line = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?", "", line)
        line = re.sub(r"^\s*>\s?", "", line)
        line = re.sub(r"!?\[([^\]]*)\]\(\s*\)", r"\1", line)  # a link's text stays, its URL is blanked already
        line = re.sub(r"[*_~]{1,3}", "", line).replace("[", "").replace("]", "")
        parts.append(line.strip())
    return "\n".join(parts).strip()


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def count_sentences(text: str) -> int:
    n = 0
    for block in re.split(r"\n\s*\n", text):
        block = block.strip()
        if not block:
            continue
        ends = len(_SENTENCE_END.findall(block))
        n += max(ends, 1) if count_words(block) >= 3 else 0
    return n


def readability(text: str) -> float | None:
    """Flesch reading ease (textstat, imported here: it loads a pronouncing dictionary); None for too little text."""
    if count_words(text) < 20:
        return None
    import textstat

    return float(textstat.flesch_reading_ease(text))


def check_placeholders(draft: Draft) -> list[Finding]:
    out = []
    for i in draft.prose:
        m = PLACEHOLDER.search(draft.masked[i])
        if m:
            out.append(Finding(check="placeholder", line=i + 1, message=f"a placeholder: “{m.group(0)}”"))
    return out


def check(data: bytes, path: Path, rules: Rules, today: dt.date, *, score: bool = True) -> Report:
    """Every check on the draft's bytes. `path` is where it lives (links resolve from its folder)."""
    text, bad = decode(data)
    if text is None:
        assert bad is not None
        return Report(findings=[bad])
    draft, findings, meta, kind = split(text)
    prose = prose_text(draft)
    words, sentences = count_words(prose), count_sentences(prose)
    title = str(meta.get("title")) if meta and meta.get("title") else None
    findings += check_front_matter(draft, meta, kind, rules, path, today)
    if words < rules.min_words:
        findings.append(Finding(check="length", message=f"{words} words, under min_words {rules.min_words}"))
    elif words > rules.max_words:
        findings.append(Finding(check="length", message=f"{words} words, over max_words {rules.max_words}"))
    findings += check_headings(draft, title, words)
    links, unchecked = check_links(draft, path, rules)
    findings += links
    findings += check_style(draft, rules)
    findings += check_placeholders(draft)
    score_value = readability(prose) if score else None
    if score_value is not None and rules.min_readability is not None and score_value < rules.min_readability:
        findings.append(Finding(check="readability",
                                message=f"Flesch reading ease {score_value:.0f}, under min_readability {rules.min_readability:g}: "
                                        "shorter sentences and plainer words"))
    findings.sort(key=lambda f: (f.line or 0, f.check, f.fix.start if f.fix else 0))
    return Report(findings=findings, words=words, sentences=sentences, readability=score_value,
                  front_matter={k: str(v) for k, v in (meta or {}).items()}, title=title, unchecked_links=unchecked, text=text)


# ------------------------------------------------------------------ stubs and fixes


def stub_reason(report: Report) -> str | None:
    """Why the draft is a stub (too thin to edit), or None."""
    if report.text is None:
        return None
    holders = report.failed("placeholder")
    if holders:
        return f"it still has placeholder text ({holders[0].describe()})"
    if template_shaped(report.text, report.title):
        return "it is the publisher's outline from notes (no LLM wrote it): write the post from it first"
    if report.words < STUB_MIN_WORDS or report.sentences < STUB_MIN_SENTENCES:
        return f"{report.words} words in {report.sentences} sentence(s): a stub, not a draft"
    return None


def template_shaped(text: str, title: str | None) -> bool:
    """The shape of `publisher_draft.template_body`: its stock lead or its closing '## In short' recap of the title."""
    draft, _, _, _ = split(text)
    body = [draft.lines[i] for i in draft.prose if draft.lines[i].strip()]
    if body and body[0].startswith("This post is about "):
        return True
    for n, line in enumerate(body[:-1]):
        if line.strip() == "## In short" and title and body[n + 1].startswith(f"{title}: "):
            return True
    return False


def apply_fixes(text: str, fixes: list[Fix]) -> str:
    """The text with the fixes made (an overlapping one is left out); line ends kept as they were."""
    pieces = re.split(r"(\r\n|\r|\n)", text)
    lines, ends = pieces[0::2], pieces[1::2] + [""]
    by_line: dict[int, list[Fix]] = {}
    for fix in fixes:
        by_line.setdefault(fix.line, []).append(fix)
    dropped: set[int] = set()
    for number, group in by_line.items():
        i = number - 1
        if not 0 <= i < len(lines):
            continue
        line = lines[i]
        last = len(line) + 1
        for fix in sorted(group, key=lambda f: (f.start, f.end), reverse=True):
            if fix.end > last or (fix.end == last and fix.start != fix.end):
                continue
            if fix.start == 0 and fix.end == len(line) and fix.new == "" and line:
                dropped.add(i)  # a removed line goes with its line end
                break
            line = line[:fix.start] + fix.new + line[fix.end:]
            last = fix.start
        lines[i] = line
    return "".join(line + end for i, (line, end) in enumerate(zip(lines, ends)) if i not in dropped)

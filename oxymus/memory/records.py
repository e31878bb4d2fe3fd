"""Canonical memory: short, rereadable records with provenance, tiers and full history.

This module is the pure part: the record models, how a search text becomes an
FTS5 query, the ranking SQL, the hot-tier word budget, the tier-aging rule, and
the Markdown vault format for export/import. The store side is
`oxymus/store/memory_repo.py`.

Ranking: how a search runs (bm25 over every match, or the newest matches of common
words) is chosen per query in `oxymus/memory/search_plan.py`; filters (kind, tier,
tag) are index tokens inside the MATCH rather than a post-filter.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oxymus.memory.errors import MemoryError  # noqa: A004, F401 - re-exported: callers catch records.MemoryError

Tier = Literal["hot", "warm", "cold"]
ProvenanceSource = Literal["user", "capture", "connector", "agent", "import"]
DEFAULT_KINDS = ("person", "project", "commitment", "preference", "decision", "fact")
TIER_WEIGHT = {"hot": 1.5, "warm": 1.0, "cold": 0.7}
MAX_TITLE = 200
MAX_BODY = 64 * 1024
SNIPPET_WIDTH = 120  # a search hit's piece of the body: one line in a list
_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_TAG = re.compile(r"^[\w-]{1,40}$")


class Provenance(BaseModel):
    """Where a record came from."""

    source: ProvenanceSource = "user"
    ref: str | None = Field(default=None, description="capture id, connector item key, agent run id, file path")
    note: str | None = None


def _check_kind(value: str) -> str:
    value = value.strip().lower()
    if not _KIND.match(value):
        raise ValueError(f"invalid kind {value!r}: a lowercase word (letters, digits, - or _), e.g. {', '.join(DEFAULT_KINDS)}")
    return value


def _check_tags(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        tag = value.strip().lstrip("#").lower()
        if not _TAG.match(tag):
            raise ValueError(f"invalid tag {value!r}: letters, digits, - or _ (at most 40)")
        if tag not in out:
            out.append(tag)
    return out


class RecordFields(BaseModel):
    """What a person (or an agent) writes in a record."""

    model_config = ConfigDict(extra="forbid")

    kind: str = "fact"
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    body: str = Field(default="", max_length=MAX_BODY)
    tags: list[str] = Field(default_factory=list)
    tier: Tier = "warm"

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        return _check_kind(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return _check_tags(value)

    @field_validator("title")
    @classmethod
    def _one_line_title(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("the title is empty")
        return value


class RecordChanges(BaseModel):
    """An edit: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    kind: str | None = None
    title: str | None = Field(default=None, min_length=1, max_length=MAX_TITLE)
    body: str | None = Field(default=None, max_length=MAX_BODY)
    tags: list[str] | None = None
    tier: Tier | None = None

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str | None) -> str | None:
        return None if v is None else _check_kind(v)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _check_tags(v)

    @field_validator("title")
    @classmethod
    def _title(cls, v: str | None) -> str | None:
        return None if v is None else (" ".join(v.split()) or None)


class CaptureLink(BaseModel):
    capture_id: str
    target_kind: Literal["memory", "plan_action", "action"]
    target_id: str
    created_at: str


class MemoryRecord(BaseModel):
    id: str
    kind: str
    title: str
    body: str
    tags: list[str]
    tier: Tier
    archived: bool = Field(description="forgotten: out of retrieval, history kept")
    provenance: Provenance
    created_at: str
    updated_at: str
    touched_at: str
    version: int
    links: list[CaptureLink] = Field(default_factory=list, description="captures this record came from")

    @property
    def words(self) -> int:
        return word_count(self.title) + word_count(self.body)


class MemoryVersion(BaseModel):
    version: int
    kind: str
    title: str
    body: str
    tags: list[str]
    tier: Tier
    archived: bool
    changed_at: str
    actor: str
    note: str | None = None


class MemoryHit(BaseModel):
    record: MemoryRecord
    score: float = Field(description="higher is better: bm25 relevance x tier weight x recency")
    snippet: str


class SearchHit(BaseModel):
    """A search result as it goes over the socket: enough to list and choose a record, not the record.

    Fifty whole records are about 50 KB of JSON per keystroke, built and sent by the daemon's
    event loop while other requests wait; a client opens the one it wants with `memory.get`."""

    id: str
    kind: str
    title: str
    tier: Tier
    tags: list[str]
    source: ProvenanceSource = Field(description="where the record came from (its provenance)")
    ref: str | None = Field(default=None, description="the provenance reference, if any")
    updated_at: str
    score: float = Field(description="higher is better: bm25 relevance x tier weight x recency")
    snippet: str = Field(description=f"at most {SNIPPET_WIDTH} characters of the body around the first word that matches")

    @classmethod
    def of(cls, record: MemoryRecord, score: float, text: str) -> "SearchHit":
        return cls(id=record.id, kind=record.kind, title=record.title, tier=record.tier, tags=record.tags,
                   source=record.provenance.source, ref=record.provenance.ref, updated_at=record.updated_at,
                   score=score, snippet=snippet(record, text, SNIPPET_WIDTH))


class BudgetEntry(BaseModel):
    id: str
    title: str
    kind: str
    words: int
    touched_at: str


class BudgetReport(BaseModel):
    limit_words: int
    used_words: int
    over: bool
    records: list[BudgetEntry] = Field(description="hot records, largest first")


def word_count(text: str) -> int:
    return len(text.split())


def tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())[:12]


def filter_terms(*, kind: str | None = None, tier: str | None = None, tag: str | None = None) -> list[str]:
    """The FTS5 terms a kind, tier or tag filter adds to the MATCH (they are index tokens)."""
    terms = []
    if kind:
        terms.append(f'meta : "kind{_check_kind(kind)}"')
    if tier:
        terms.append(f'meta : "tier{tier}"')
    if tag:
        terms.append(f'tags : "{_check_tags([tag])[0]}"')
    return terms


def fts_query(text: str, *, kind: str | None = None, tier: str | None = None, tag: str | None = None) -> str | None:
    """An FTS5 MATCH expression for what a person typed, or None when there is nothing to match.

    Every word must match (the last one as a prefix, for search as you type); each
    word is quoted, so FTS5 syntax in the input is just text.
    """
    words = tokens(text)
    if not words:
        return None
    terms = [f'"{w}"' for w in words[:-1]] + [f'"{words[-1]}"*']
    return " AND ".join(terms + filter_terms(kind=kind, tier=tier, tag=tag))


RECORD_COLUMNS = "r.id, r.kind, r.title, r.body, r.tags, r.tier, r.archived, r.provenance, r.created_at, r.updated_at, r.touched_at, r.version"



def record_from_row(row: tuple, links: list[CaptureLink] | None = None) -> MemoryRecord:
    rid, kind, title, body, tags, tier, archived, prov, created, updated, touched, version = row[:12]
    return MemoryRecord(
        id=rid, kind=kind, title=title, body=body, tags=json.loads(tags), tier=tier, archived=bool(archived),
        provenance=Provenance.model_validate_json(prov), created_at=created, updated_at=updated,
        touched_at=touched, version=version, links=links or [],
    )


def snippet(record: MemoryRecord, text: str, width: int = 160) -> str:
    """A piece of the body around the first word that matches, else its start."""
    body = " ".join(record.body.split())
    if not body:
        return ""
    lower = body.lower()
    starts = [lower.find(w) for w in tokens(text)]
    hits = [i for i in starts if i >= 0]
    at = min(hits) if hits else 0
    start = max(0, at - width // 3)
    piece = body[start:start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(body) else "")


def aged_tier(tier: str, touched_at: str, now: dt.datetime, hot_days: int, warm_days: int) -> str:
    """The tier a record should be in: hot -> warm after hot_days untouched, warm -> cold after warm_days."""
    touched = dt.datetime.fromisoformat(touched_at)
    idle = (now - touched).days
    if tier == "hot" and idle >= hot_days:
        tier = "warm"
    if tier == "warm" and idle >= hot_days + warm_days:
        tier = "cold"
    return tier


class MaintenanceReport(BaseModel):
    moves: list[tuple[str, str, str]] = Field(description="(record id, from tier, to tier)")
    summaries: list[str] = Field(description="ids of the monthly warm summaries written or updated")


def month_summary(month: str, records: list[MemoryRecord]) -> RecordFields:
    """The warm summary of one month: every warm record last touched then, by kind, one line each.

    Deterministic (no model): the memory steward agent may write a better one later,
    through the same record, so the summary keeps its history.
    """
    by_kind: dict[str, list[MemoryRecord]] = {}
    for record in sorted(records, key=lambda r: (r.kind, r.title.lower())):
        by_kind.setdefault(record.kind, []).append(record)
    lines = [f"{len(records)} warm record(s) last touched in {month}."]
    for kind, items in by_kind.items():
        lines += ["", f"## {kind} ({len(items)})"]
        for r in items:
            first = re.split(r"(?<=[.!?])\s|\n", r.body.strip(), maxsplit=1)[0] if r.body.strip() else ""
            lines.append(f"- {r.title}" + (f" — {first[:140]}" if first else "") + f" ({r.id})")
    return RecordFields(kind="summary", title=f"Warm memory, {month}", body="\n".join(lines)[:MAX_BODY],
                        tags=["summary"], tier="warm")


# --- the Markdown vault (Obsidian-compatible: one file per record, YAML front matter) -----------

def vault_filename(record: MemoryRecord) -> str:
    slug = re.sub(r"[^\w]+", "-", record.title.lower(), flags=re.UNICODE).strip("-")[:60] or "record"
    return f"{record.kind}/{slug}-{record.id[-8:].lower()}.md"


def to_markdown(record: MemoryRecord) -> str:
    """Front matter values are JSON, which is valid YAML, so any YAML reader (and we) can read them back."""
    meta = {
        "id": record.id, "kind": record.kind, "title": record.title, "tier": record.tier, "tags": record.tags,
        "created": record.created_at, "updated": record.updated_at, "version": record.version,
        "provenance": record.provenance.source, "provenance_ref": record.provenance.ref,
        "captures": [link.capture_id for link in record.links],
    }
    lines = ["---"] + [f"{k}: {_yaml_safe(json.dumps(v, ensure_ascii=False))}" for k, v in meta.items() if v not in (None, [])] + ["---", ""]
    return "\n".join(lines) + f"# {record.title}\n\n{record.body.rstrip()}\n"


def _front_matter(lines: list[str], path: str) -> dict:
    """The YAML between the --- lines as a mapping; MemoryError naming the file and line if it is not one.

    Every scalar stays the string it was written as (YAML's base schema): `created: 2024-03-05`
    or `title: yes` are text here, as a person meant them, and no tag constructs anything.
    """
    import yaml  # only the vault import needs it

    try:
        meta = yaml.load("\n".join(lines), Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader builds only str, list, dict
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 2}" if mark else f"{path}:1"
        context = f" ({exc.context} started on line {exc.context_mark.line + 2})" if exc.context and exc.context_mark else ""
        raise MemoryError(f"{where}: the front matter is not valid YAML: {exc.problem}{context}") from None
    except yaml.YAMLError as exc:
        raise MemoryError(f"{path}:1: the front matter is not valid YAML: {exc}") from None
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        number = next((n for n, line in enumerate(lines, start=2) if line.strip() and not line.lstrip().startswith("#")), 2)
        raise MemoryError(f"{path}:{number}: expected `key: value`")
    return meta


# Characters JSON leaves raw that YAML refuses (DEL, C1 controls) or reads as line breaks (NEL, LS, PS).
_NOT_YAML = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029]")


def _yaml_safe(json_text: str) -> str:
    """A JSON value that YAML reads back the same: the few characters above escaped as \\uXXXX (valid in both)."""
    return _NOT_YAML.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text)


class VaultEntry(BaseModel):
    id: str | None
    fields: RecordFields
    provenance: Provenance


def from_markdown(text: str, path: str) -> VaultEntry:
    """Read a vault file back: ours, one a person wrote by hand, or a note Obsidian's Properties
    panel wrote (block lists, quoted or plain strings, dates, aliases; keys we do not use are ignored)."""
    if not text.startswith("---"):
        raise MemoryError(f"{path}:1: no front matter (a vault file starts with ---)")
    lines = text.split("\n")
    try:
        end = lines.index("---", 1)
    except ValueError:
        raise MemoryError(f"{path}:1: the front matter is not closed with ---") from None
    meta = _front_matter(lines[1:end], path)
    rest = "\n".join(lines[end + 1:]).strip("\n")
    title = meta.get("title")
    heading = re.match(r"#\s+(.+)\n?", rest)
    if heading:
        title = title or heading.group(1).strip()
        rest = rest[heading.end():]
    tags = meta.get("tags") or []
    if isinstance(tags, str):
        tags = [t for t in re.split(r"[,\s]+", tags.strip("[]")) if t]
    try:
        fields = RecordFields(kind=meta.get("kind", "fact"), title=title or "", body=rest.strip("\n"), tags=tags,
                              tier=meta.get("tier", "warm"))
        return VaultEntry(id=meta.get("id"), fields=fields, provenance=Provenance(source="import", ref=path))
    except Exception as exc:
        raise MemoryError(f"{path}: {exc}") from None

"""The pure part of canonical records: validating fields against a kind, migrating stored fields
to the kind's current schema, and the models the store and the RPC carry.

A record is a memory record (title, body, tags, tier, provenance, version history) with a
kind from the records registry, a status on its kind's pipeline, and typed `fields`. The
fields are validated on every write; on read they are migrated to the current schema when
they were written under an older one. A record that fails (an unknown kind, a failed or
missing migration, fields its schema refuses) is still returned, with `problem` saying why.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from oxymus.memory.records import Provenance, Tier
from oxymus.records import kinds as registry

TargetType = Literal["record", "capture", "action", "run", "calendar", "repo", "file", "email"]
TARGET_TYPES: tuple[str, ...] = TargetType.__args__  # type: ignore[attr-defined]


class RecordError(ValueError):
    """A records operation that cannot be done as asked; str() is the message for the user."""


def kinds() -> dict[str, type]:
    return registry.registered()


def kind_of(name: str):
    kind = kinds().get(name)
    if kind is None:
        broken = registry.broken().get(name)
        raise RecordError(broken or f"no record kind {name!r} (known: {', '.join(sorted(kinds()))})")
    return kind


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(map(str, err["loc"])) or "fields"
        parts.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def validate(kind_name: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields as the kind's schema reads them (JSON-ready), or RecordError saying what is wrong."""
    kind = kind_of(kind_name)
    try:
        return kind.schema.model_validate(fields).model_dump(mode="json", exclude_none=True)
    except ValidationError as exc:
        raise RecordError(f"{kind_name}: {_explain(exc)}") from None


def check_status(kind_name: str, status: str) -> str:
    kind = kind_of(kind_name)
    if status not in kind.status_words():
        raise RecordError(f"{kind_name}: no status {status!r} (its pipeline: {', '.join(kind.status_words())})")
    return status


def migrate(kind_name: str, version: int, fields: dict[str, Any]) -> tuple[int, dict[str, Any], list[str]]:
    """Stored fields brought to the kind's current schema: (version, fields, names of the steps run).
    RecordError when a step is missing or fails, naming it."""
    kind = kind_of(kind_name)
    steps = {m.from_version: m for m in kind.migrations}
    ran: list[str] = []
    while version < kind.version:
        step = steps.get(version)
        if step is None:
            raise RecordError(f"{kind_name}: no migration from schema version {version} to {version + 1}")
        try:
            fields = step.apply(dict(fields))
        except Exception as exc:  # noqa: BLE001 - a plugin's migration failing is reported, never fatal
            raise RecordError(f"{kind_name}: migration {step.name!r} failed: {type(exc).__name__}: {exc}") from None
        version += 1
        ran.append(step.name)
    if version > kind.version:
        raise RecordError(f"{kind_name}: written under schema version {version}, newer than this Oxymus knows ({kind.version})")
    return version, fields, ran


def readable(kind_name: str, version: int, fields: dict[str, Any]) -> tuple[int, dict[str, Any], str | None]:
    """What a reader is shown: migrated and validated fields, or the stored ones and the problem."""
    try:
        new_version, migrated, _ran = migrate(kind_name, version, fields)
        return new_version, validate(kind_name, migrated), None
    except RecordError as exc:
        return version, fields, str(exc)


class StatusView(BaseModel):
    word: str
    label: str
    next: list[str] = Field(description="the statuses a record here moves on to (none: the end; several: a person chooses)")


class FieldView(BaseModel):
    name: str
    type: str
    required: bool
    description: str | None = None


class KindView(BaseModel):
    name: str
    label: str
    version: int = Field(description="its schema version")
    title_field: str
    statuses: list[StatusView]
    fields: list[FieldView]
    record_fields: dict[str, str] = Field(description="field -> the kind of record it names (kept as a link)")
    migrations: list[str]


def kind_view(kind) -> KindView:
    schema = kind.schema.model_json_schema()
    props = schema.get("properties", {})
    required = set(schema.get("required", []))

    def type_of(prop: dict) -> str:
        options = prop.get("anyOf", [prop])
        names = [o.get("format") or o.get("type", "any") for o in options if o.get("type") != "null"]
        return " or ".join(names) or "any"

    return KindView(
        name=kind.name, label=kind.label, version=kind.version, title_field=kind.title_field,
        statuses=[StatusView(word=w, label=label, next=kind.next_statuses(w)) for w, label in kind.statuses],
        fields=[FieldView(name=n, type=type_of(p), required=n in required, description=p.get("description"))
                for n, p in props.items()],
        record_fields=dict(kind.record_fields),
        migrations=[f"{m.from_version}->{m.from_version + 1} {m.name}" for m in kind.migrations],
    )


class Record(BaseModel):
    id: str
    kind: str
    status: str
    status_label: str
    title: str
    body: str = Field(description="notes (the memory record's body)")
    tags: list[str]
    tier: Tier
    archived: bool
    provenance: Provenance
    created_at: str
    updated_at: str
    version: int = Field(description="the memory record's version (every edit adds one)")
    schema_version: int = Field(description="the kind's schema version these fields are in")
    fields: dict[str, Any]
    problem: str | None = Field(default=None, description="why this record fails its kind's schema (kept, never dropped)")


class RecordVersion(BaseModel):
    version: int
    title: str
    status: str
    fields: dict[str, Any]
    schema_version: int
    changed_at: str
    actor: str
    note: str | None = None


class RecordLink(BaseModel):
    record_id: str
    target_type: TargetType
    target_ref: str
    relation: str
    created_at: str
    actor: str
    label: str | None = Field(default=None, description="what the target is, when known (a record's title, an action's summary)")
    status: str | None = Field(default=None, description="the target's status, when it has one (a calendar event no longer "
                                                         "in the polled calendars: gone)")
    starts_at: str | None = Field(default=None, description="a calendar event's start (UTC; its next occurrence), from the state")


class Handoff(BaseModel):
    """A record reaching a status, and who takes it over (oxymus/store/handoffs.py)."""

    id: str = ""
    at: str
    record_id: str
    kind: str
    from_status: str | None = None
    to_status: str
    by: str = Field(description="who moved it: a person's client, or agent:NAME")
    to_agent: str | None = Field(default=None, description="the agent that takes it over; None: a person")
    mode: Literal["automatic", "manual"]
    action_id: str | None = None
    run_id: str | None = Field(default=None, description="the consumer's run, once started")


class RecordBrief(BaseModel):
    """The newest brief made for a record (an agent's artifact of kind `brief` keyed by the record's id)."""

    artifact_id: str
    agent: str
    title: str
    content: str
    created_at: str
    path: str | None = Field(default=None, description="the file it was also written to")
    version: int | None = Field(default=None, description="the record's version it was made for")
    made_with: str = Field(default="", description="llm (a checked summary) or deterministic (the sources, organised)")

    @classmethod
    def of(cls, artifact) -> "RecordBrief":
        data = artifact.data or {}
        return cls(artifact_id=artifact.id, agent=artifact.agent, title=artifact.title, content=artifact.content,
                   created_at=artifact.created_at, path=artifact.path, version=data.get("version"),
                   made_with=str(data.get("path") or ""))


class RecordDetail(BaseModel):
    record: Record
    history: list[RecordVersion]
    links: list[RecordLink] = Field(description="from this record to what it concerns")
    linked_from: list[RecordLink] = Field(description="other records linking to this one")
    next: list[str] = Field(description="the statuses it can move on to")
    handoffs: list[Handoff] = Field(default_factory=list, description="each status it reached: who moved it, who took it over")
    brief: RecordBrief | None = Field(default=None, description="the newest brief an agent made for it (`oxymus artifacts brief --key ID`)")

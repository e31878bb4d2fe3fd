"""The records part of the daemon's RPC surface: params and results of the `records.*` methods.

Declared here, named in `oxymus.client.protocol.METHODS` (by dotted name, loaded on first
use), so the records models load with the records package rather than with every client.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from oxymus.memory.records import Provenance, Tier
from oxymus.records.model import KindView, Record, RecordDetail, TargetType  # noqa: F401 - RecordDetail: a result, by name


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecordKindsParams(_Params):
    pass


class RecordKindsResult(BaseModel):
    kinds: list[KindView]
    broken: dict[str, str] = Field(description="kinds whose plugin failed to load, and why")


class RecordsListParams(_Params):
    kind: str | None = None
    status: str | None = None
    archived: bool = Field(default=False, description="forgotten records too")
    limit: int = Field(default=500, ge=1, le=5000)


class RecordsListResult(BaseModel):
    records: list[Record] = Field(description="newest change first")
    problems: int = Field(description="records (of any kind) that fail their schema: kept, shown with their problem")


class RecordIdParams(_Params):
    id: str = Field(description="a record id, or a unique start of one (4+ characters)")


class RecordAddParams(_Params):
    kind: str
    fields: dict[str, Any] = Field(description="the kind's fields; validated against its schema")
    status: str | None = Field(default=None, description="default: the first of its pipeline")
    body: str = ""
    tags: list[str] = Field(default_factory=list)
    tier: Tier = "warm"
    provenance: Provenance = Field(default_factory=Provenance)


class RecordEditParams(_Params):
    id: str
    fields: dict[str, Any] = Field(default_factory=dict, description="fields to set (the others keep their values)")
    unset: list[str] = Field(default_factory=list, description="fields to clear")
    status: str | None = Field(default=None, description="move to this status of its pipeline")
    next: bool = Field(default=False, description="move to the next status (refused where a person must choose)")
    body: str | None = None
    note: str | None = Field(default=None, description="kept with the new version")


class RecordLinkParams(_Params):
    id: str
    target_type: TargetType
    target_ref: str = Field(description="a record or capture or action id (or a unique start), a run id, a calendar UID, "
                                        "a repo path, a file path, an email Message-ID")
    relation: str = Field(default="about", pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    remove: bool = False


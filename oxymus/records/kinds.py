"""Record kinds: a pydantic schema of fields, a status pipeline and the schema's migrations.

A kind is a class (so a plugin ships one the way it ships a connector: an entry point in
the `oxymus.record_kinds` group naming `module:Class`, whose `name` is the entry's name).
Statuses are machine words; their labels are what people read (`proposal_sent` is shown as
"proposal sent"). Moving along the pipeline goes to the next status in order, except where
`moves` says otherwise (a lead with a proposal out is won or lost: the person chooses).

A kind whose schema changes raises `version` and adds a `Migration` from the old version:
records written under the old schema are migrated when read (and stored migrated by the
startup pass), so older decisions stay readable; one that fails is reported, never dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oxymus import plugins


@dataclass(frozen=True)
class Migration:
    """Fields at schema `from_version` -> fields at `from_version + 1`."""

    from_version: int
    name: str
    apply: Callable[[dict[str, Any]], dict[str, Any]]


class KindFields(BaseModel):
    """The base of every kind's schema: unknown fields are an error, not silently kept."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RecordKind:
    """What a kind declares. Subclasses set the class attributes; nothing is instantiated."""

    name: ClassVar[str]
    label: ClassVar[str]
    schema: ClassVar[type[KindFields]]
    title_field: ClassVar[str] = "name"  # the field a record's title is made of
    statuses: ClassVar[tuple[tuple[str, str], ...]]  # (word, label), in pipeline order
    moves: ClassVar[dict[str, tuple[str, ...]]] = {}  # where the order is not the way on
    # A field holding another record's id, and the kind that record must be: kept as a link too.
    record_fields: ClassVar[dict[str, str]] = {}
    version: ClassVar[int] = 1
    migrations: ClassVar[tuple[Migration, ...]] = ()

    @classmethod
    def status_words(cls) -> list[str]:
        return [word for word, _label in cls.statuses]

    @classmethod
    def status_label(cls, word: str) -> str:
        return dict(cls.statuses).get(word, word.replace("_", " "))

    @classmethod
    def next_statuses(cls, status: str) -> list[str]:
        """Where a record in `status` can move on to: none at the end, several where a person chooses."""
        if status in cls.moves:
            return list(cls.moves[status])
        words = cls.status_words()
        if status not in words:
            return [words[0]]
        at = words.index(status)
        return words[at + 1:at + 2]


def _split(value: Any) -> Any:
    """A comma-separated string is a list (what the CLI's `--set emails=a,b` sends)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class LeadFields(KindFields):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = None
    company: str | None = None
    domain: str | None = None
    need: str | None = Field(default=None, description="what they asked for")
    budget: float | None = Field(default=None, ge=0)
    first_contact: dt.date | None = None
    follow_up: dt.date | None = None
    source: str | None = Field(default=None, description="where the lead came from: an email, a referral, a site")

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        return value.lower().removeprefix("www.") if value else value


class ClientFields(KindFields):
    name: str = Field(min_length=1, max_length=200)
    emails: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)

    @field_validator("emails", "domains", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split(value)


class ProjectFields(KindFields):
    name: str = Field(min_length=1, max_length=200)
    client: str | None = Field(default=None, description="the client record's id")
    budget: float | None = Field(default=None, ge=0)
    due: dt.date | None = None


class ProductFields(KindFields):
    name: str = Field(min_length=1, max_length=200)
    price: float | None = Field(default=None, ge=0)
    url: str | None = None


class PostFields(KindFields):
    title: str = Field(min_length=1, max_length=200)
    slug: str | None = None
    path: str | None = Field(default=None, description="the post's file")
    project: str | None = Field(default=None, description="the project record's id")
    publish_at: dt.datetime | None = None
    url: str | None = None


class Lead(RecordKind):
    name = "lead"
    label = "Leads"
    schema = LeadFields
    statuses = (("new", "new"), ("qualified", "qualified"), ("proposal_sent", "proposal sent"), ("won", "won"), ("lost", "lost"))
    moves = {"proposal_sent": ("won", "lost"), "won": (), "lost": ()}


class Client(RecordKind):
    name = "client"
    label = "Clients"
    schema = ClientFields
    statuses = (("active", "active"), ("former", "former"))


class Project(RecordKind):
    name = "project"
    label = "Projects"
    schema = ProjectFields
    statuses = (("active", "active"), ("delivered", "delivered"), ("invoiced", "invoiced"), ("paid", "paid"))
    record_fields = {"client": "client"}


class Product(RecordKind):
    name = "product"
    label = "Products"
    schema = ProductFields
    statuses = (("idea", "idea"), ("building", "building"), ("launched", "launched"), ("retired", "retired"))


class Post(RecordKind):
    name = "post"
    label = "Posts"
    schema = PostFields
    title_field = "title"
    statuses = (("idea", "idea"), ("brief", "brief"), ("draft", "draft"), ("edited", "edited"), ("scheduled", "scheduled"),
                ("published", "published"), ("distributed", "distributed"))
    record_fields = {"project": "project"}


def check_kind(cls: type) -> None:
    """A plugin kind that cannot work is refused when loaded, with the reason (plugins.py reports it)."""
    if not (isinstance(cls, type) and issubclass(cls, RecordKind)):
        raise TypeError("it is not a RecordKind")
    if not (isinstance(cls.schema, type) and issubclass(cls.schema, BaseModel)):
        raise TypeError("its schema is not a pydantic model")
    words = cls.status_words()
    if not words or len(set(words)) != len(words):
        raise TypeError("it needs at least one status, each once")
    if cls.title_field not in cls.schema.model_fields:
        raise TypeError(f"its title field {cls.title_field!r} is not in its schema")
    steps = sorted(m.from_version for m in cls.migrations)
    if steps and steps != list(range(steps[0], cls.version)):
        raise TypeError(f"its migrations {steps} do not lead, one step each, to version {cls.version}")


# Listed here as well as by entry point, as the built-in agents are (plugins.py): a plain
# checkout whose package metadata is stale still has them.
BUILTIN_KINDS: dict[str, str] = {name: f"oxymus.records.kinds:{cls}" for name, cls in
                                 (("lead", "Lead"), ("client", "Client"), ("project", "Project"), ("product", "Product"), ("post", "Post"))}


def new_registry():
    return plugins.registry("record kind", plugins.RECORD_KIND_GROUP, BUILTIN_KINDS, check=check_kind)


_registry = new_registry()


def registered() -> dict[str, type]:
    """Every record kind class by name (built-ins and plugins alike)."""
    return _registry.all()


def broken() -> dict[str, str]:
    """name -> why that record kind could not be loaded."""
    _registry.all()
    return dict(_registry.broken)

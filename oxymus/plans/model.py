"""What Oxymus understood of a PLANS.md: typed, frozen, JSON-ready.

Line numbers are 1-based and count LF, CRLF and lone CR as line endings. A
"section path" is the titles of the enclosing headings, outermost first; text before
the first heading has the empty path.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["proposed", "draft", "scheduled", "published", "dropped"]
STATUSES: tuple[str, ...] = get_args(Status)

IsoDate = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="a calendar date, YYYY-MM-DD")]
SectionPath = tuple[str, ...]


class _Fact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Section(_Fact):
    """One heading, ATX (`## Title`) or setext (a line underlined with === or ---)."""

    level: int = Field(ge=1, le=6)
    title: str = Field(description="the heading text, trimmed, without the # marks")
    line: int = Field(description="the heading's (first) text line")
    end_line: int = Field(description="the last line before the next heading of the same or a higher level")
    path: SectionPath = Field(description="titles of the enclosing headings, outermost first (not this one)")
    style: Literal["atx", "setext"]


class Goal(_Fact):
    """A list item under a heading named like "Goals", or a line starting with "Goal:"."""

    text: str
    line: int
    section: SectionPath
    source: Literal["list", "label"] = Field(description="list: an item under a Goals heading; label: a 'Goal:' line")
    done: bool | None = Field(default=None, description="the checkbox state when the goal has one")


class Action(_Fact):
    """A checkbox list item (`- [ ]`, `* [x]`, `+ [X]`, `1. [ ]`, ...) at any depth."""

    id: str = Field(description="short hash of the section path and the normalised text; survives edits elsewhere")
    text: str = Field(description="the item's text, joined over wrapped lines, without the checkbox and the done-date suffix")
    done: bool
    done_date: IsoDate | None = Field(default=None, description="from a trailing '(done YYYY-MM-DD)' or '✓ YYYY-MM-DD'")
    line: int = Field(description="the line of the list marker")
    end_line: int = Field(description="the last line of the item's text (wrapped items span lines)")
    indent: int = Field(description="columns before the list marker, tabs to stops of 4")
    depth: int = Field(description="0 for a top-level item, 1 for an item nested in another item, ...")
    marker: str = Field(description="the list marker as written: -, *, +, 1., 1)")
    parent: str | None = Field(default=None, description="the id of the nearest enclosing action, if any")
    section: SectionPath


class Proposal(_Fact):
    """One entry of the publishing order (a list under a heading like "Publishing queue")."""

    position: int = Field(ge=1, description="1-based order among the proposals")
    title: str
    status: Status
    date: IsoDate | None = None
    slug: str | None = None
    line: int
    end_line: int
    form: Literal["bracket", "checkbox", "paren", "plain"] = Field(
        description="bracket: '[draft] Title'; checkbox: '[ ] Title'; paren: 'Title (published …)'; plain: 'Title'"
    )
    section: SectionPath


class Unparsed(_Fact):
    """A part Oxymus could not understand, kept verbatim so that nothing is silently dropped."""

    line: int
    end_line: int
    text: str = Field(description="the source lines, verbatim")
    reason: str
    section: SectionPath


class PlansDocument(_Fact):
    path: str
    sha256: str = Field(description="hex SHA-256 of the exact bytes parsed; pass it back to a patch")
    newline: Literal["\n", "\r\n"]
    bom: bool
    final_newline: bool
    line_count: int
    front_matter: str | None = Field(default=None, description="the raw text between leading --- lines, unparsed")
    sections: tuple[Section, ...] = ()
    goals: tuple[Goal, ...] = ()
    actions: tuple[Action, ...] = ()
    proposals: tuple[Proposal, ...] = ()
    unparsed: tuple[Unparsed, ...] = ()

    def action(self, action_id: str) -> Action:
        """The action with this id; KeyError if there is none."""
        for a in self.actions:
            if a.id == action_id:
                return a
        raise KeyError(action_id)

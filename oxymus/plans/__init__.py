"""Plans: PLANS.md in the user's own files is the source of truth.

`parse` reads it into sections, goals, next actions and a publishing order, and
reports what it could not read instead of dropping it. The edits (`set_done`,
`add_action`, `set_proposal_status`) change the fewest bytes that make the change and
refuse bytes other than the ones the caller parsed (`PlansConflict`);
`apply_to_file` runs one against a file and writes it atomically; `diff` previews.
Pure: stdlib and pydantic only.
"""

from oxymus.plans.errors import PlansConflict, PlansError
from oxymus.plans.model import STATUSES, Action, Goal, PlansDocument, Proposal, Section, Status, Unparsed
from oxymus.plans.parse import parse
from oxymus.plans.patch import add_action, apply_to_file, diff, hunk, revert, set_done, set_proposal_status

__all__ = [
    "STATUSES",
    "Action",
    "Goal",
    "PlansConflict",
    "PlansDocument",
    "PlansError",
    "Proposal",
    "Section",
    "Status",
    "Unparsed",
    "add_action",
    "apply_to_file",
    "diff",
    "hunk",
    "parse",
    "revert",
    "set_done",
    "set_proposal_status",
]

"""How a table's columns share its width: computed from the width on every resize. Pure, no Textual.

Each column says how wide its longest cell is (`want`), how narrow it may get before
its cells are cut with "…" (`least`), whether it takes the slack (`flex`: summaries,
captures, notes) and whether it may be left out when the room is short (`optional`).

    fit(80, [Column("risk", 6, 6), Column("summary", 60, 30, flex=1), ...]) -> {"risk": 6, "summary": 41, ...}

The room is the width less one cell of padding each side of every column and two
for a vertical scrollbar. Every column first gets its `least` (optional ones are
dropped, last first, while even that does not fit); then the fixed columns grow to
their `want` in the order given (the first is the most worth reading whole); what is
left goes to the flex columns, in proportion to their `flex`.
"""

from __future__ import annotations

from dataclasses import dataclass

PADDING = 2  # one cell each side of a DataTable column
SCROLLBAR = 2


@dataclass(frozen=True)
class Column:
    key: str
    want: int  # the longest cell (a fixed column never gets more)
    least: int  # narrower than this, the column is cut to the point of not saying anything
    flex: int = 0  # > 0: takes a share of the slack, in proportion
    optional: bool = False  # may be left out when even the least widths do not fit


def fit(width: int, columns: list[Column], *, scrollbar: int = SCROLLBAR) -> dict[str, int]:
    """Widths by key for the columns shown (an optional column left out has no key)."""
    shown = list(columns)

    def room() -> int:
        return max(0, width - scrollbar - PADDING * len(shown))

    while sum(c.least for c in shown) > room() and any(c.optional for c in shown):
        last = max(i for i, c in enumerate(shown) if c.optional)
        del shown[last]
    widths = {c.key: c.least for c in shown}
    left = room() - sum(widths.values())
    for c in shown:
        if not c.flex and left > 0:
            grow = min(left, max(0, c.want - c.least))
            widths[c.key] += grow
            left -= grow
    flex = [c for c in shown if c.flex]
    if flex and left > 0:
        total = sum(c.flex for c in flex)
        given = 0
        for c in flex:
            share = left * c.flex // total
            widths[c.key] += share
            given += share
        widths[flex[0].key] += left - given  # what rounding left over
    return widths

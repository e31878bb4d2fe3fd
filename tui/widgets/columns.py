"""How a table's columns share its width: computed from the width on every resize. Pure, no Textual.

Each column says how wide its longest cell is (`want`), how narrow it may get before
its cells are cut with "…" (`least`), whether it takes the slack (`flex`: summaries,
captures, notes) and whether it may be left out when the room is short (`optional`).

    fit(80, [Column("risk", 6, 6), Column("summary", 60, 30, flex=1), ...]) -> {"risk": 6, "summary": 41, ...}

The room is the width less one cell of padding each side of every column and two
for a vertical scrollbar. Every column first gets its `least` (optional ones are
dropped, last first, while even that does not fit); then the fixed columns grow to
their `want` in the order given (the first is the most worth reading whole); what is
left goes to the flex columns, in proportion to their `flex`, none past its `want` while
another still cuts its cells; once all fit, the first flex column takes the rest.
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
    first = flex[0].key if flex else None
    while flex and left > 0:
        total = sum(c.flex for c in flex)
        shares = {c.key: left * c.flex // total for c in flex}
        full = [c for c in flex if widths[c.key] + shares[c.key] >= c.want]
        if not full:
            for c in flex:
                widths[c.key] += shares[c.key]
                left -= shares[c.key]
            break
        for c in full:  # a column whose longest cell fits takes no more than that: the others share the rest
            grow = max(0, c.want - widths[c.key])
            widths[c.key] += grow
            left -= grow
        flex = [c for c in flex if c not in full]
    if first is not None and left > 0:
        widths[first] += left  # every cell fits, or what rounding left over: the first flex column has the slack
    return widths

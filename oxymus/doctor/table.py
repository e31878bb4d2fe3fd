"""Doctor's answers as an aligned table that fits the terminal (80 columns by default), text wrapped, never cut."""

from __future__ import annotations

import textwrap

from oxymus.doctor.result import Check

MARK = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "skip"}


def render(checks: list[Check], width: int = 80) -> str:
    name_w = max(len(c.name) for c in checks)
    status_w = max(len(m) for m in MARK.values())
    indent = name_w + status_w + 4
    room = max(20, width - indent)
    lines: list[str] = []
    for c in checks:
        head = f"{c.name:<{name_w}}  {MARK[c.status]:<{status_w}}  "
        body = _wrap(c.detail, room)
        lines.append(head + body[0])
        lines += [" " * indent + line for line in body[1:]]
        if c.fix:
            fix = _wrap("fix: " + c.fix, room - 2)
            lines += [" " * (indent + 2) + line for line in fix]
    attention = [c for c in checks if c.needs_attention]
    lines.append("")
    lines.append(
        "all is well" if not attention
        else f"{len(attention)} thing{'s' if len(attention) != 1 else ''} need{'s' if len(attention) == 1 else ''} attention"
    )
    return "\n".join(lines) + "\n"


def _wrap(text: str, room: int) -> list[str]:
    # A long path or URL is broken across lines rather than sticking out of the table.
    return textwrap.wrap(text, room, break_long_words=True, break_on_hyphens=False) or [""]

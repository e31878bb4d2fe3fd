r"""The one unified diff for previews (stdlib only).

`unified_diff` is what `diff -u` and `git diff` print: `---`/`+++` headers, real
`@@ -a,b +c,d @@` hunk headers, and `\ No newline at end of file` after a last line
without an ending. Every line of the result ends in a newline, so diffs of several
files can be concatenated.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

__all__ = ["NO_NEWLINE", "lines", "unified_diff"]

NO_NEWLINE = "\\ No newline at end of file"
_EOL = re.compile(r"(?:\r\n|\n|\r)$")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")


def lines(text: str) -> list[str]:
    """`text` cut into lines that keep their endings (\\n, \\r\\n or \\r)."""
    return _LINE.findall(text)


def unified_diff(old: str | Sequence[str], new: str | Sequence[str], fromfile: str, tofile: str, n: int = 3) -> str:
    """A unified diff from `old` to `new` ('' when nothing changed). Each side is a text
    or its lines with their endings; the diff shows every line ending as a newline."""
    a = lines(old) if isinstance(old, str) else list(old)
    b = lines(new) if isinstance(new, str) else list(new)
    out: list[str] = []
    for i, row in enumerate(difflib.unified_diff(a, b, fromfile, tofile, n=n, lineterm="")):
        if i < 2 or row.startswith("@@"):
            out.append(row)
            continue
        body = _EOL.sub("", row)
        out.append(body)
        if body == row:
            out.append(NO_NEWLINE)
    return "".join(line + "\n" for line in out)

"""A plans file as lines: byte offsets, line endings and decoded text, exactly as on disk.

Line endings are the CommonMark ones: LF, CRLF or a lone CR. Line 1 starts after a
UTF-8 byte-order mark. Every byte of the file belongs to exactly one line's content
or line ending (or to the BOM), so an edit can be expressed as byte ranges and
everything outside them stays as it was.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from oxymus.plans.errors import PlansError

BOM = b"\xef\xbb\xbf"
_EOL = re.compile(rb"\r\n|\n|\r")


@dataclass(frozen=True, slots=True)
class Line:
    number: int  # 1-based
    start: int  # byte offset of the first content byte
    end: int  # byte offset just past the content, where the line ending starts
    eol: str  # "", "\n", "\r\n" or "\r"
    text: str  # the decoded content, without the line ending


@dataclass(frozen=True, slots=True)
class Source:
    path: str
    data: bytes
    lines: tuple[Line, ...]
    bom: bool
    newline: str  # "\n" or "\r\n": the more common ending (the first one seen on a tie)
    final_newline: bool
    sha256: str

    def line(self, number: int) -> Line:
        return self.lines[number - 1]

    def offset(self, number: int, char: int) -> int:
        """The byte offset of character `char` of line `number`'s content."""
        ln = self.lines[number - 1]
        return ln.start + len(ln.text[:char].encode("utf-8"))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _spans(data: bytes, start: int) -> list[tuple[int, int, bytes]]:
    spans = []
    pos = start
    for m in _EOL.finditer(data, start):
        spans.append((pos, m.start(), m.group()))
        pos = m.end()
    if pos < len(data):
        spans.append((pos, len(data), b""))
    return spans


def split(data: bytes, path: str = "PLANS.md") -> Source:
    """The file's lines; raises PlansError naming the line of the first byte that is not UTF-8."""
    bom = data.startswith(BOM)
    lines = []
    crlf = lf = 0
    first = ""
    for number, (start, end, eol) in enumerate(_spans(data, 3 if bom else 0), 1):
        try:
            text = data[start:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PlansError(path, number, f"not valid UTF-8 (byte {start + exc.start} of the file); Oxymus reads plans files as UTF-8 only") from None
        ending = eol.decode("ascii")
        if ending == "\r\n":
            crlf += 1
        elif ending == "\n":
            lf += 1
        if not first and ending in ("\n", "\r\n"):
            first = ending
        lines.append(Line(number, start, end, ending, text))
    if crlf != lf:
        newline = "\r\n" if crlf > lf else "\n"
    else:
        newline = first or "\n"
    return Source(
        path=path,
        data=data,
        lines=tuple(lines),
        bom=bom,
        newline=newline,
        final_newline=bool(lines) and lines[-1].eol != "",
        sha256=sha256(data),
    )


def raw_lines(data: bytes) -> list[str]:
    """Lines with their endings, decoded leniently: for showing a diff, never for editing."""
    return [data[s:e].decode("utf-8", "replace") + eol.decode("ascii") for s, e, eol in _spans(data, 0)]


def leading(text: str, col: int = 0) -> tuple[int, int]:
    """(column, index) of the first character that is not a space or tab, tabs to stops of 4."""
    for i, ch in enumerate(text):
        if ch == " ":
            col += 1
        elif ch == "\t":
            col += 4 - col % 4
        else:
            return col, i
    return col, len(text)

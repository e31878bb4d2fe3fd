"""Change one key of config.toml in place, leaving the rest of the file as the person wrote it.

    edit = plan_set(path, "ui", "theme", "textual-light")   # what would change (no write)
    write(edit)                                             # atomically, refused if the file moved meanwhile

The file is patched as text: the key's line in its `[table]` gets the new value (its
indentation and a trailing comment stay), or the key is added under the table's
header, or the table is added at the end; a missing file is created with just that
table. Comments, order, blank lines and every other byte stay as they were. The
patch is checked by reading both versions with tomllib: the new one must be the old
one with only that key changed, else nothing is written (a key written as an inline
table or a dotted key elsewhere is refused with a message saying to edit it by hand).
A file that is not valid TOML is never rewritten: the error names the file and line.
Values are formatted by oxymus.kernel.tomlfmt; the write is oxymus.kernel.files.write_atomic.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from typing import Any

from oxymus.kernel import files, tomlfmt
from oxymus.profile.config import ConfigError, locate, read_text

_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[")
# A key line whose value is one simple token on the line: a basic or literal string, or a bare value.
_VALUE = r"""("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s#"'\[\{]+)"""


@dataclass(frozen=True)
class ConfigEdit:
    path: str
    table: str
    key: str
    value: Any
    before: Any  # the key's value until now (None: not set)
    old_text: str | None  # None: the file does not exist
    new_text: str

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text

    @property
    def dotted(self) -> str:
        return f"{self.table}.{self.key}"


def _parse(text: str, path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\s*\(at line (\d+), column \d+\)", str(exc))
        why = str(exc).replace(m.group(0), "") if m else str(exc)
        raise ConfigError(path, f"not valid TOML ({why}), so it was left as it is; fix it, then try again",
                          line=int(m.group(1)) if m else None) from None


def plan_set(path: str, table: str, key: str, value: Any) -> ConfigEdit:
    """The edit setting `[table] key = value` in the file at `path`; ConfigError when it cannot be made safely."""
    old = read_text(path)
    line = f"{tomlfmt.key(key)} = {tomlfmt.value(value)}"
    if old is None:
        return ConfigEdit(path, table, key, value, None, None, f"[{tomlfmt.key(table)}]\n{line}\n")
    data = _parse(old, path)
    section = data.get(table, {})
    if not isinstance(section, dict):
        raise ConfigError(path, f"{table!r} is not a table; edit it by hand", key=table, line=locate(old, [table]))
    before = section.get(key)
    new = _patched(old, table, key, line)
    want = dict(data)
    want[table] = {**section, key: value}
    try:
        same = tomllib.loads(new) == want
    except tomllib.TOMLDecodeError:
        same = False
    if not same:
        raise ConfigError(path, "written in a form Oxymus does not rewrite (an inline table, a dotted key or a value over "
                                "several lines), so the file was left as it is; change it by hand",
                          key=f"{table}.{key}", line=locate(old, [table, key]))
    return ConfigEdit(path, table, key, value, before, old, new)


def _patched(text: str, table: str, key: str, line: str) -> str:
    lines = text.splitlines(keepends=True)
    start = None  # the index of the table's header line
    for i, raw in enumerate(lines):
        header = _HEADER.match(raw)
        if header and [p.strip().strip("\"'") for p in header.group(1).split(".")] == [table]:
            start = i
            break
    if start is None:
        body = text if not text or text.endswith("\n") else text + "\n"
        return body + ("\n" if body.strip() else "") + f"[{tomlfmt.key(table)}]\n{line}\n"
    end = next((j for j in range(start + 1, len(lines)) if _ANY_HEADER.match(lines[j])), len(lines))
    key_line = re.compile(r"^(\s*)(" + re.escape(key) + r"|\"" + re.escape(key) + r"\"|'" + re.escape(key) + r"')(\s*=\s*)"
                          + _VALUE + r"([ \t]*(#.*)?)(\r?\n)?$")
    for j in range(start + 1, end):
        m = key_line.match(lines[j])
        if m:
            indent, _name, _eq, _old, rest, _comment, newline = m.groups()
            lines[j] = f"{indent}{line}{rest}{newline or ''}"
            return "".join(lines)
    newline = "\r\n" if lines[start].endswith("\r\n") else "\n"
    if not lines[start].endswith("\n"):
        lines[start] += newline
    lines.insert(start + 1, line + newline)
    return "".join(lines)


def write(edit: ConfigEdit) -> None:
    """Write the edit atomically, keeping the file's mode; refused (ConfigError) if the file changed since it was read."""
    if not edit.changed:
        return

    def unchanged() -> None:
        if read_text(edit.path) != edit.old_text:
            raise ConfigError(edit.path, f"changed while {edit.dotted} was being saved; nothing was written, try again")

    folder = os.path.dirname(edit.path) or "."
    os.makedirs(folder, mode=0o700, exist_ok=True)
    try:
        files.write_atomic(edit.path, edit.new_text.encode("utf-8"), before_replace=unchanged)
    except OSError as exc:
        raise ConfigError(edit.path, f"cannot write {edit.dotted}: {exc.strerror or exc}") from None


def set_value(path: str, table: str, key: str, value: Any) -> ConfigEdit:
    """plan_set, then write: `[table] key = value` saved in the file at `path`."""
    edit = plan_set(path, table, key, value)
    write(edit)
    return edit

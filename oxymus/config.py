"""The configuration tree: `config.toml` in the profile's config dir, validated by pydantic.

Every field carries a description; `oxymus init` writes a commented default built
from them, and docs/reference.md is generated from the same tree, so neither can
drift from the code. Errors name the file, the dotted key and the line.
"""

from __future__ import annotations

import os
import re
import tomllib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class DaemonConfig(Section):
    """The background process that owns the store and serves clients."""

    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="least severe log level written to the log file"
    )
    log_max_bytes: int = Field(
        default=5_000_000, ge=10_000, description="size at which the log file is rotated, in bytes"
    )
    log_backups: int = Field(default=3, ge=0, le=100, description="rotated log files kept")


class Config(Section):
    """All of Oxymus' settings. Unknown keys are errors, so a typo never silently does nothing."""

    daemon: DaemonConfig = Field(default_factory=DaemonConfig, description="the daemon process")


class ConfigError(Exception):
    """A config file that cannot be used; str() is the one message shown to the user."""

    def __init__(self, path: str, message: str, key: str | None = None, line: int | None = None):
        self.path, self.key, self.line, self.message = path, key, line, message
        where = path + (f":{line}" if line else "")
        super().__init__(f"{where}: {key + ': ' if key else ''}{message}")


def load(path: str) -> Config:
    """The config at `path`, or the defaults if it does not exist."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(path, f"cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(path, f"not valid UTF-8 (byte {exc.start})", line=line) from None
    return parse(text, path)


def parse(text: str, path: str = "config.toml") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column \d+\)", msg)
        line = int(m.group(1)) if m else None
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg) if m else msg
        raise ConfigError(path, f"TOML syntax error: {msg}", line=line) from None
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [p for p in err["loc"]]
        key = ".".join(str(p) for p in loc)
        message = _describe(err)
        extra = len(exc.errors()) - 1
        if extra:
            message += f" (and {extra} more problem{'s' if extra > 1 else ''})"
        raise ConfigError(path, message, key=key or None, line=locate(text, loc)) from None


def _describe(err: dict[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key"
    value = err.get("input")
    shown = f" (got {value!r})" if not isinstance(value, dict) and value is not None else ""
    return f"{err['msg']}{shown}"


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.\- "']+?)\s*=""")


def _split_key(key: str) -> list[str]:
    return [part.strip().strip("\"'") for part in key.split(".")]


def locate(text: str, loc: list[Any]) -> int | None:
    """The 1-based line where the dotted key `loc` is set (or its table begins); None if unknown.

    tomllib keeps no positions, so this walks the lines tracking the current table.
    Array-of-table indices are counted per header. Good enough to point a human
    at the right line, which is all it is for.
    """
    want = [str(p) for p in loc]
    table: list[str] = []
    counters: dict[tuple[str, ...], int] = {}
    best: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            names = _split_key(header.group(2))
            if header.group(1) == "[[":
                idx = counters.get(tuple(names), -1) + 1
                counters[tuple(names)] = idx
                table = names + [str(idx)]
            else:
                table = names
            if want[: len(table)] == table and len(table) == len(want):
                return number
            if want[: len(table)] == table:
                best = number
            continue
        key = _KEY.match(line)
        if key:
            full = table + _split_key(key.group(1))
            if full == want[: len(full)]:
                return number
    return best


def default_toml() -> str:
    """A commented config.toml with every setting at its default, built from the model."""
    lines = [
        "# Oxymus configuration. Every key is optional; these are the defaults.",
        "# Reference: docs/reference.md (generated from the same models).",
        "",
    ]
    for name, field in Config.model_fields.items():
        section = field.annotation
        assert isinstance(section, type) and issubclass(section, BaseModel)
        lines.append(f"# {field.description or name}")
        lines.append(f"[{name}]")
        for key, sub in section.model_fields.items():
            lines.append(f"# {sub.description}")
            lines.append(f"{key} = {_toml_value(sub.get_default(call_default_factory=True))}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"{value:_}" if isinstance(value, int) and abs(value) >= 10_000 else repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def fields() -> list[tuple[str, Any]]:
    """Every (dotted key, FieldInfo) in the tree, for docs and the docs-drift test."""
    out = []
    for name, field in Config.model_fields.items():
        section = field.annotation
        for key, sub in section.model_fields.items():  # type: ignore[union-attr]
            out.append((f"{name}.{key}", sub))
    return out


def config_path_from_env(default: str) -> str:
    """OXYMUS_CONFIG points at another config file (handy for trying a setting)."""
    return os.environ.get("OXYMUS_CONFIG") or default

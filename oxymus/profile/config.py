"""The configuration tree: `config.toml` in the profile's config dir, validated by pydantic.

Every field carries a description; `oxymus init` writes a commented default built
from them, and docs/reference.md is generated from the same tree, so neither can
drift from the code. Errors name the file, the dotted key and the line.
"""

from __future__ import annotations

import os
import re
import tomllib
import typing
from typing import Any, Literal, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from oxymus.kernel import tomlfmt


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


class MemoryConfig(Section):
    """Canonical memory: how much stays hot and how records age."""

    hot_budget_words: int = Field(default=1500, ge=100, le=100_000, description="words hot memory may hold (what every agent prompt carries)")
    hot_days: int = Field(default=14, ge=1, le=3650, description="days untouched before a hot record ages to warm")
    warm_days: int = Field(default=120, ge=1, le=36500, description="further days untouched before a warm record ages to cold")


class AuditConfig(Section):
    """The append-only audit log: what happened, by whom, with which trace."""

    keep_days: int = Field(
        default=400, ge=0, le=36500,
        description="days routine records are kept (0: forever); a trace with a failure, denial or expiry is never pruned",
    )


class BackupConfig(Section):
    """Daily backups of the database, taken by the daemon into the backups folder of the data dir."""

    keep: int = Field(
        default=7, ge=0, le=1000,
        description="daily backups kept, newest first (0: the daemon takes none; `oxymus backup` still works)",
    )


class PlansConfig(Section):
    """Where PLANS.md lives: your file, edited with any editor; Oxymus reads it and patches it minimally."""

    file: str | None = Field(
        default=None, description="path to PLANS.md (default: PLANS.md in the data dir); ~ and relative paths allowed",
        examples=["~/notes/PLANS.md"],
    )
    max_bytes: int = Field(
        default=2**20, ge=1024, le=2**30,
        description="a PLANS.md bigger than this many bytes is refused with an error naming its size instead of read "
        "(1 MB is some 25,000 lines; reading costs about 0.5 s of CPU and 50 MB of memory per MB, "
        "and the daemon's other requests wait longer the bigger the file)",
    )


class LlmConfig(Section):
    """The local LLM (Ollama): optional; every agent also works without it."""

    enabled: bool = Field(default=True, description="use the local LLM when it answers (false: agents never ask it)")
    host: str = Field(default="http://127.0.0.1:11434", description="URL of the Ollama server")
    model: str = Field(
        default="llama3.2",
        description="Ollama model asked (a small, common one by default: `ollama pull llama3.2`)",
        min_length=1,
    )
    timeout_s: float = Field(default=60, gt=0, le=3600, description="seconds one LLM call may take before it is given up")
    connect_timeout_s: float = Field(
        default=2, gt=0, le=60, description="seconds to wait for Ollama to accept a connection (and answer a status check)"
    )
    context_chars: int = Field(
        default=12_000, ge=1000, le=1_000_000,
        description="prompt budget in characters; context beyond it is cut, least important first",
    )
    temperature: float = Field(default=0.2, ge=0, le=2, description="sampling temperature (low: steadier answers)")

    @field_validator("host")
    @classmethod
    def _http_url(cls, value: str) -> str:
        # The ollama client would guess a scheme and port for a bare host; a user
        # reading "not running at localhost" would not know which port was tried.
        if not re.fullmatch(r"https?://[^/\s]+(/\S*)?", value):
            raise ValueError("must be an http:// or https:// URL such as http://127.0.0.1:11434")
        return value.rstrip("/")


class TimeConfig(Section):
    """How times are shown and how floating times are read."""

    zone: str | None = Field(
        default=None, description="IANA time zone, e.g. \"Europe/Berlin\" (default: the system's zone)",
        examples=["Europe/Berlin"],
    )

    @field_validator("zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r} (use an IANA name such as 'Europe/Berlin')") from None
        return value

    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.zone) if self.zone else system_zone()


def system_zone() -> ZoneInfo:
    """The machine's zone as a ZoneInfo (TZ, then /etc/localtime), UTC if it cannot be told."""
    name = os.environ.get("TZ", "").lstrip(":")
    candidates = [name] if name else []
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for candidate in candidates:
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


# Textual's built-in themes (textual.theme.BUILTIN_THEMES), written out because the core never
# imports Textual; tests/test_config.py fails when Textual's list and this one differ.
THEMES: tuple[str, ...] = (
    "ansi-dark", "ansi-light", "atom-one-dark", "atom-one-light", "catppuccin-frappe", "catppuccin-latte",
    "catppuccin-macchiato", "catppuccin-mocha", "dracula", "flexoki", "gruvbox", "monokai", "nord", "rose-pine",
    "rose-pine-dawn", "rose-pine-moon", "solarized-dark", "solarized-light", "textual-dark", "textual-light",
    "tokyo-night",
)
DEFAULT_THEME = "textual-dark"


def check_theme(value: str) -> str:
    """`value` if it names a theme the TUI has, else ValueError listing them."""
    if value not in THEMES:
        raise ValueError(f"unknown theme {value!r} (one of: {', '.join(THEMES)})")
    return value


class UiConfig(Section):
    """The terminal UI: how it looks. Picking a theme in the TUI (ctrl+p, Theme) saves it here."""

    theme: str = Field(
        default=DEFAULT_THEME,
        description="colour theme of the TUI, one of Textual's built-in themes: " + ", ".join(THEMES)
        + " (picking one in the TUI saves it here)",
        examples=["textual-light"],
    )

    @field_validator("theme")
    @classmethod
    def _known_theme(cls, value: str) -> str:
        return check_theme(value)


class UiOnly(BaseModel):
    """Just the `[ui]` table of a config file (the TUI reads it at start; other tables are the daemon's)."""

    model_config = ConfigDict(extra="ignore")

    ui: UiConfig = Field(default_factory=UiConfig)


def load_ui(path: str) -> UiConfig:
    """`[ui]` of the config at `path` (defaults if the file or table is missing); ConfigError naming the file and key."""
    text = read_text(path)
    return UiConfig() if text is None else parse_model(text, path, UiOnly).ui


class CoreConfig(Section):
    """The core's settings; connector sections are added by `model()`."""

    daemon: DaemonConfig = Field(default_factory=DaemonConfig, description="the daemon process")
    time: TimeConfig = Field(default_factory=TimeConfig, description="time zone")
    memory: MemoryConfig = Field(default_factory=MemoryConfig, description="canonical memory")
    plans: PlansConfig = Field(default_factory=PlansConfig, description="the plans file")
    audit: AuditConfig = Field(default_factory=AuditConfig, description="the audit log")
    backup: BackupConfig = Field(default_factory=BackupConfig, description="daily database backups")
    llm: LlmConfig = Field(default_factory=LlmConfig, description="the local LLM (optional)")
    ui: UiConfig = Field(default_factory=UiConfig, description="the terminal UI")


_model: type[CoreConfig] | None = None
_model_no_agents: type[CoreConfig] | None = None


def model() -> type[CoreConfig]:
    """The whole config tree: the core sections plus one optional section per installed connector.

    A connector's section is None until the user writes it: a source that is not
    configured is not polled. Unknown top-level tables are errors, like unknown keys.
    """
    global _model
    if _model is None:
        sections = _connector_sections()
        sections["agents"] = (_agents_model(), Field(default_factory=_agents_model(), description="the agents: when each runs, and its own settings"))
        _model = create_model("Config", __base__=CoreConfig, **sections)
    return _model


def _model_for(data: dict[str, Any]) -> type[CoreConfig]:
    """`model()`, or where the file has no [agents] table the same tree with `agents` None: the
    agents' settings models come from the agents' own modules, and importing every agent only to
    find each one's section absent is most of what a daemon's start would cost."""
    global _model_no_agents
    if "agents" in data:
        return model()
    if _model_no_agents is None:
        sections = _connector_sections()
        sections["agents"] = (Optional[dict[str, Any]], Field(default=None, description="no [agents] table: every agent's defaults"))
        _model_no_agents = create_model("Config", __base__=CoreConfig, **sections)
    return _model_no_agents


def _connector_sections() -> dict[str, Any]:
    from oxymus.plugins import broken_connectors, connectors

    sections: dict[str, Any] = {}
    for name, cls in connectors().items():
        doc = (cls.__doc__ or name).strip().splitlines()[0]
        sections[name] = (Optional[cls.Config], Field(default=None, description=doc))
    for name in broken_connectors():
        # Keep its section loadable; the daemon reports the connector as broken.
        sections[name] = (Optional[dict[str, Any]], Field(default=None, description=f"{name} (connector failed to load)"))
    return sections


_agents: type[BaseModel] | None = None


def _agents_model() -> type[BaseModel]:
    """`[agents.NAME]`: one optional table per available agent, validated by the agent's own settings model."""
    global _agents
    if _agents is None:
        from oxymus.plugins import agents

        fields: dict[str, Any] = {
            name: (Optional[cls.Settings], Field(default=None, description=cls.role.strip().splitlines()[0]))
            for name, cls in agents().items()
        }
        _agents = create_model("AgentsConfig", __base__=Section, **fields)
    return _agents


def defaults() -> CoreConfig:
    return _model_for({})()


class ConfigError(Exception):
    """A config file that cannot be used; str() is the one message shown to the user."""

    def __init__(self, path: str, message: str, key: str | None = None, line: int | None = None):
        self.path, self.key, self.line, self.message = path, key, line, message
        where = path + (f":{line}" if line else "")
        super().__init__(f"{where}: {key + ': ' if key else ''}{message}")


def load(path: str) -> CoreConfig:
    """The config at `path`, or the defaults if it does not exist."""
    text = read_text(path)
    return defaults() if text is None else parse(text, path)


def read_text(path: str) -> str | None:
    """A UTF-8 settings file's text, None if it does not exist; ConfigError naming the line of a bad byte."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(path, f"cannot read: {exc.strerror}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(path, f"not valid UTF-8 (byte {exc.start})", line=line) from None


def parse(text: str, path: str = "config.toml") -> CoreConfig:
    return parse_model(text, path, _model_for)


M = typing.TypeVar("M", bound=BaseModel)


def parse_model(text: str, path: str, model_cls: type[M] | typing.Callable[[dict[str, Any]], type[M]]) -> M:
    """TOML text validated by `model_cls` (or the model it picks for the data); errors raise
    ConfigError naming the file, line and dotted key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column \d+\)", msg)
        line = int(m.group(1)) if m else None
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg) if m else msg
        raise ConfigError(path, f"TOML syntax error: {msg}", line=line) from None
    if not isinstance(model_cls, type):
        model_cls = model_cls(data)
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = list(err["loc"])
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        message = _describe(err)
        extra = len(exc.errors()) - 1
        if extra:
            message += f" (and {extra} more problem{'s' if extra > 1 else ''})"
        raise ConfigError(path, message, key=key or None, line=locate(text, loc)) from None


def _describe(err: dict[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key"
    value = err.get("input")
    message = err["msg"].removeprefix("Value error, ")
    shown = f" (got {value!r})" if not isinstance(value, (dict, list)) and value is not None and repr(value) not in message else ""
    return f"{message}{shown}"


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
    """A commented config.toml built from the model: core settings at their defaults,
    connector sections as commented-out examples to fill in."""
    lines = [
        "# Oxymus configuration. Every key is optional; the values shown are the defaults.",
        "# Reference: docs/reference.md (generated from the same models).",
        "",
    ]
    for name, field in model().model_fields.items():
        section = _section_model(field.annotation)
        is_core = name in CoreConfig.model_fields
        prefix = "" if is_core else "# "
        lines.append(f"# {field.description or name}")
        lines += _toml_table(name, section, prefix)
        lines.append("")
    return "\n".join(lines)


def _toml_table(name: str, section: type[BaseModel], prefix: str, array: bool = False) -> list[str]:
    lines = [f"{prefix}[[{name}]]" if array else f"{prefix}[{name}]"]
    nested: list[tuple[str, type[BaseModel], bool]] = []
    own = [k for k in section.model_fields if k not in SOURCE_KEYS] + [k for k in section.model_fields if k in SOURCE_KEYS]
    for key in own:
        sub = section.model_fields[key]
        inner = _section_model(sub.annotation)
        if inner is not None:
            nested.append((f"{name}.{key}", inner, _is_list(sub.annotation)))
            continue
        default = sub.get_default(call_default_factory=True)
        example = sub.examples[0] if sub.examples else None
        key = sub.alias or key  # what the person writes (`from`), not the Python name
        lines.append(f"{prefix}# {sub.description}")
        if sub.is_required():
            lines.append(f"{prefix}{key} = {_toml(example if example is not None else '')}")
        elif default is None:
            # No default to show: a commented example (or nothing to write at all).
            if example is not None:
                lines.append(f"{prefix}# {key} = {_toml(example)}")
        else:
            lines.append(f"{prefix}{key} = {_toml(default)}")
    for key, inner, is_array in nested:
        lines.append("")
        lines += _toml_table(key, inner, prefix, array=is_array)
    return lines


SOURCE_KEYS = ("interval", "stale_after")


def _toml(value: Any) -> str:
    return tomlfmt.value(value, group_digits=True)


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) is list


def _section_model(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel inside `X`, `X | None` or `list[X]`, if there is one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _section_model(arg)
        if found is not None:
            return found
    return None


def fields() -> list[tuple[str, Any]]:
    """Every (dotted key, FieldInfo) in the tree, for docs and the docs-drift test.

    Keys inside repeatable tables are written `calendar.ics[].path`.
    """
    out: list[tuple[str, Any]] = []

    def walk(prefix: str, section: type[BaseModel]) -> None:
        for key, field in section.model_fields.items():
            inner = _section_model(field.annotation)
            key = field.alias or key  # `[mail] from` is the field `sender`: the docs show what a person writes
            dotted = f"{prefix}.{key}" if prefix else key
            if inner is None:
                out.append((dotted, field))
            else:
                walk(dotted + ("[]" if _is_list(field.annotation) else ""), inner)

    walk("", model())
    return out


def config_path_from_env(default: str) -> str:
    """OXYMUS_CONFIG points at another config file (handy for trying a setting)."""
    return os.environ.get("OXYMUS_CONFIG") or default

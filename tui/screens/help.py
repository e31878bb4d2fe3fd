"""`?`: every key of the screen in front, grouped, in a dialog that scrolls; Escape, `?` or `q` closes it.

The keys are read from the bindings themselves (never a hand-written list that could
drift): the screen's own classes ("Approvals", ...), the widgets on it that name a
`HELP_GROUP` (the lists, the search or filter box), and, last, what works on every
section (the screen base's and the app's bindings, and the command palette). Keys of
one action are shown together ("↓ j"); a binding's tooltip, when it has one, is the
longer description shown here, else its footer label.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

EVERYWHERE = "Every section"
KEYS_WIDTH = 12  # the keys column at most; longer key lists push their description along


@dataclass
class KeyGroup:
    title: str
    rows: dict[str, tuple[list[str], str]] = field(default_factory=dict)  # action -> (keys, what it does)

    def add(self, keys: list[str], action: str, what: str) -> None:
        known = self.rows.get(action)
        if known is None:
            self.rows[action] = (list(keys), what)
        else:
            known[0].extend(k for k in keys if k not in known[0])


def _ours(cls: type) -> bool:
    return cls.__module__.startswith("oxymus.")


def _declared(cls: type) -> list[Binding]:
    """The bindings a class declares itself (not inherited), as Binding objects."""
    out = []
    for item in cls.__dict__.get("BINDINGS", ()):
        out.append(item if isinstance(item, Binding) else Binding(*item))
    return out


def _add(group: KeyGroup, binding: Binding, key_display) -> None:
    what = binding.tooltip or binding.description
    if not what:
        return
    keys = [key_display(Binding(k.strip(), binding.action, key_display=binding.key_display)) for k in binding.key.split(",")]
    group.add(keys, binding.action, what)


def key_groups(screen: Screen, title: str) -> list[KeyGroup]:
    """Every key that works on `screen`, grouped: its own (headed `title`), its widgets', then every section's."""
    app = screen.app
    show = app.get_key_display
    own, everywhere = KeyGroup(title), KeyGroup(EVERYWHERE)
    widgets: dict[str, KeyGroup] = {}
    current = own
    for cls in type(screen).__mro__:
        if "HELP_GROUP" in cls.__dict__:
            current = everywhere  # the shared base of the sections (screens/base.py)
        if _ours(cls):
            for binding in _declared(cls):
                _add(current, binding, show)
    seen: set[type] = set()
    for widget in screen.query("*"):
        heading = getattr(widget, "HELP_GROUP", None)
        if heading is None or type(widget) in seen:
            continue
        seen.add(type(widget))
        group = widgets.setdefault(heading, KeyGroup(heading))
        by_key: dict[str, Binding] = {}  # the base's keys first; a subclass's binding of the same key replaces it
        for cls in reversed(type(widget).__mro__):
            if _ours(cls):
                for binding in _declared(cls):
                    for key in binding.key.split(","):
                        by_key[key.strip()] = binding
        for key, binding in by_key.items():
            _add(group, Binding(key, binding.action, binding.description, tooltip=binding.tooltip,
                                key_display=binding.key_display), show)
    if screen.is_modal:  # a dialog keeps its keys to itself: the sections' keys wait until it closes
        return [g for g in (own, *widgets.values()) if g.rows]
    for cls in type(app).__mro__:
        if _ours(cls):
            for binding in _declared(cls):
                _add(everywhere, binding, show)
    palette = getattr(app, "COMMAND_PALETTE_BINDING", None)
    if palette and app.ENABLE_COMMAND_PALETTE:
        everywhere.add([show(Binding(palette, "command_palette"))], "command_palette",
                       "Command palette: every command, by name")
    return [g for g in (own, *widgets.values(), everywhere) if g.rows]


def help_text(groups: list[KeyGroup]) -> Text:
    width = min(KEYS_WIDTH, max((len(" ".join(keys)) for g in groups for keys, _w in g.rows.values()), default=0))
    out = Text()
    for i, group in enumerate(groups):
        if i:
            out.append("\n\n")
        out.append(group.title, style="bold underline")
        for keys, what in group.rows.values():
            shown = " ".join(keys)
            out.append("\n  ")
            out.append(shown.ljust(width), style="bold")
            out.append(" " + what)
    return out


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    #help-dialog {
        width: 80%;
        min-width: 60;
        max-width: 90;
        height: auto;
        max-height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    #help-title {
        dock: top;
        text-style: bold;
        width: 1fr;
    }
    #help-scroll {
        height: auto;
    }
    #help-hint {
        dock: bottom;
        color: $text-muted;
    }
    """
    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close", priority=True),
        Binding("down,j", "scroll(1)", "Down", show=False),
        Binding("up,k", "scroll(-1)", "Up", show=False),
        Binding("home,g", "top", "Top", show=False),
        Binding("end,G", "bottom", "Bottom", show=False),
    ]

    def __init__(self, title: str, groups: list[KeyGroup]) -> None:
        super().__init__()
        self.title_text = title
        self.groups = groups

    @property
    def text(self) -> str:
        return help_text(self.groups).plain

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Label("Keys", id="help-title", markup=False)
            with VerticalScroll(id="help-scroll"):
                yield Static(help_text(self.groups), id="help-text")
            yield Label("j/k or ↑/↓ scroll · Escape, ? or q closes", id="help-hint")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()
        self._fit(self.size.height)

    def on_resize(self, event) -> None:
        self._fit(event.size.height)

    def _fit(self, height: int) -> None:
        """The list as tall as its keys, at most what leaves the dialog (border, title, hint) on the screen."""
        self.query_one("#help-scroll").styles.max_height = max(3, int(height * 0.9) - 4)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, rows: int) -> None:
        self.query_one("#help-scroll", VerticalScroll).scroll_relative(y=rows, animate=False)

    def action_top(self) -> None:
        self.query_one("#help-scroll", VerticalScroll).scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.query_one("#help-scroll", VerticalScroll).scroll_end(animate=False)

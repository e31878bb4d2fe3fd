"""A one-line choice that cycles through a fixed list: `left`/`right`/`space` when focused, a click, or a screen key.

It renders as `label ‹value›` (None shows as "any"); a value other than None is
highlighted, so an active filter stands out. Posts `CycleField.Changed`.
"""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

ANY = "any"


class CycleField(Widget):
    BINDINGS = [
        Binding("left", "step(-1)", "Previous", show=False),
        Binding("right,space", "step(1)", "Next", show=False),
    ]

    class Changed(Message):
        def __init__(self, field: "CycleField", value: str | None) -> None:
            super().__init__()
            self.field = field
            self.value = value

        @property
        def control(self) -> "CycleField":
            return self.field

    def __init__(self, label: str, choices: Sequence[str | None], value: str | None = None, *,
                 key_hint: str = "", focusable: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.label = label
        self.choices = list(choices)
        if value not in self.choices:
            self.choices.insert(0, value)  # e.g. a kind of its own, not among the defaults
        self._value = value
        self.key_hint = key_hint
        self.can_focus = focusable

    @property
    def value(self) -> str | None:
        return self._value

    @value.setter
    def value(self, value: str | None) -> None:
        if value not in self.choices:
            raise ValueError(f"{value!r} is not one of {self.choices!r}")
        if value != self._value:
            self._value = value
            self.refresh(layout=True)
            self.post_message(self.Changed(self, value))

    def cycle(self, step: int = 1) -> None:
        at = self.choices.index(self._value)
        self.value = self.choices[(at + step) % len(self.choices)]

    def action_step(self, step: int) -> None:
        self.cycle(step)

    def on_click(self) -> None:
        self.cycle(1)

    def render(self) -> Text:
        text = Text()
        if self.key_hint:
            text.append(f"{self.key_hint} ", style="dim")
        text.append(f"{self.label} ")
        shown = ANY if self._value is None else self._value
        text.append(f"‹{shown}›", style="bold reverse" if self._value is not None else "")
        return text

    def get_content_width(self, container, viewport) -> int:
        return self.render().cell_len

"""What leaves the TUI for another program: a URL in the browser, a shell in a folder.

Each is a plain function taking the app, so a screen can be given another one (tests
check the URL or the folder without opening anything). Screens and widgets do no IO;
these two are the exception a person asks for with a key, kept here, out of them.

- `open_url(app, url)`: `$BROWSER` or what Python's `webbrowser` finds. A browser that
  runs in the terminal (lynx, w3m, ...) gets the terminal: the app is suspended
  while it runs. No browser at all raises `CannotOpen`, saying so.
- `open_shell(app, path)`: `$SHELL` (or /bin/sh) in the folder, the app suspended until it exits.
"""

from __future__ import annotations

import os
import subprocess
import webbrowser
from typing import Any


class CannotOpen(Exception):
    """A URL or a shell could not be opened; the message says why and what to do."""


def open_url(app: Any, url: str) -> str:
    """Open `url`; returns how ("in the browser", "in w3m"). Raises CannotOpen."""
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        raise CannotOpen("no browser found: set $BROWSER to one") from None
    name = getattr(browser, "name", "") or "the browser"
    in_terminal = type(browser) is webbrowser.GenericBrowser or getattr(browser, "background", True) is False
    try:
        if in_terminal:
            with app.suspend():
                opened = browser.open(url)
        else:
            opened = browser.open(url)
    except Exception as exc:  # a browser that cannot start: say so, keep the TUI
        raise CannotOpen(f"{name} could not be started: {exc}") from None
    if not opened:
        raise CannotOpen(f"{name} did not open it")
    return f"in {os.path.basename(name)}" if name != "the browser" else "in the browser"


def open_shell(app: Any, path: str) -> str:
    """Run `$SHELL` in `path` with the app suspended; returns how it ended. Raises CannotOpen."""
    if not os.path.isdir(path):
        raise CannotOpen(f"{path} is not a folder (any more)")
    shell = os.environ.get("SHELL") or "/bin/sh"
    try:
        with app.suspend():
            code = subprocess.call([shell], cwd=path)
    except Exception as exc:  # no terminal to hand over (headless), or no such shell
        raise CannotOpen(f"cannot start {shell} here: {exc}") from None
    return f"{shell} exited with {code}" if code else f"back from {shell}"

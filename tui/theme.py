"""The TUI's colour theme: `[ui] theme` in config.toml, applied at start and saved when the person picks one.

At start the app reads only the `[ui]` table of the config file (oxymus.profile.config.load_ui;
the rest is the daemon's). A theme Textual does not have, or a config file that cannot be
read, is said in a notification naming the file and the key, and the default theme is
used; the file is never touched because of it.

Picking a theme (ctrl+p, "Theme") changes it at once; the app then sends `ui.set_theme`
(SAVE, a command of the link), and the daemon saves it through a `ui.theme` action that
changes only that key of config.toml. The answer is told in a notification: saved, or
why not (not connected, a config file Oxymus will not rewrite, a policy that denies it).
"""

from __future__ import annotations

from oxymus.profile.config import DEFAULT_THEME, ConfigError, config_path_from_env, load_ui
from oxymus.profile.paths import Paths
from oxymus.tui.link.live import Command
from oxymus.tui.link.messages import ThemeNotSaved, ThemeSaved

SAVE = Command("ui.set_theme", lambda result, _r: ThemeSaved(result),
               lambda reason, r: ThemeNotSaved(str(r.params.get("theme")), reason),
               "oxymus.client.protocol:ThemeSetResult")


def configured(paths: Paths) -> tuple[str, str | None]:
    """(the theme to start with, a problem to tell the person or None)."""
    try:
        return load_ui(config_path_from_env(paths.config_file)).theme, None
    except ConfigError as exc:
        return DEFAULT_THEME, f"{exc}. The default theme is used until this is fixed."

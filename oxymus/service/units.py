"""The service files themselves: a systemd user unit and a launchd agent plist (pure text).

Both run the installed `oxymus` executable (found, never guessed: see
`find_executable`) as `oxymus daemon` with the profile of whoever installs it: the
environment variables that choose a profile are copied into the file, because a
service manager starts the daemon with its own environment, not the shell's.
"""

from __future__ import annotations

import os
import plistlib
import re
import shutil
import sys
from collections.abc import Mapping

UNIT_NAME = "oxymus.service"
LAUNCHD_LABEL = "dev.oxymus.daemon"
WATCHDOG_SEC = 30  # a hung event loop is restarted within this; the daemon pings at half of it
RESTART_SEC = 5
TIMEOUT_STOP_SEC = 20  # SIGTERM finishes in-flight writes and closes the socket well within this

# The variables that decide which profile the daemon opens (oxymus/profile/paths.py, platformdirs).
PROFILE_ENV = ("OXYMUS_HOME", "OXYMUS_CONFIG", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")


class ServiceError(Exception):
    """Installing, removing or asking about the service failed; the message says what to do."""


def find_executable(argv0: str | None = None, python: str | None = None) -> str:
    """The absolute path of the `oxymus` command that is running now.

    `sys.argv[0]` when it is that command (the console script); otherwise (`python -m
    oxymus`) the `oxymus` beside the running interpreter, which is where pip, pipx and
    uv put it. A symlink is kept as it is (pipx's ~/.local/bin/oxymus keeps working
    across upgrades)."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    python = sys.executable if python is None else python
    tried = []
    if os.path.basename(argv0) == "oxymus":
        found = argv0 if os.sep in argv0 else shutil.which(argv0)
        tried.append(argv0)
        if found and os.path.isfile(found) and os.access(found, os.X_OK):
            return os.path.abspath(found)
    beside = os.path.join(os.path.dirname(python), "oxymus")
    tried.append(beside)
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return os.path.abspath(beside)
    raise ServiceError(
        f"cannot find the installed `oxymus` command (tried {', '.join(tried)}); install Oxymus "
        "(`pipx install .` or `pip install .`) and run `oxymus service install` with that `oxymus`"
    )


def profile_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The profile-choosing variables set now, with paths made absolute."""
    env = os.environ if env is None else env
    return {name: os.path.abspath(os.path.expanduser(env[name])) for name in PROFILE_ENV if env.get(name)}


_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def _systemd_word(value: str) -> str:
    """One word of a systemd unit line: quoted when needed, `%` doubled (specifiers), `$` doubled (variables)."""
    if not _PLAIN.fullmatch(value):
        value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value.replace("%", "%%").replace("$", "$$")


def _systemd_env(name: str, value: str) -> str:
    # Environment= expands specifiers but not variables: only `%` needs doubling.
    return '"' + f"{name}={value}".replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


def systemd_unit(executable: str, environment: Mapping[str, str]) -> str:
    """The user unit: `Type=notify` (READY once the socket answers), a watchdog, restart on failure."""
    lines = [
        "# Written by `oxymus service install`; `oxymus service uninstall` removes it.",
        "[Unit]",
        "Description=Oxymus personal operating system daemon",
        "",
        "[Service]",
        "Type=notify",
        f"ExecStart={_systemd_word(executable)} daemon",
        *(f"Environment={_systemd_env(k, v)}" for k, v in sorted(environment.items())),
        f"WatchdogSec={WATCHDOG_SEC}",
        "Restart=on-failure",
        f"RestartSec={RESTART_SEC}",
        f"TimeoutStopSec={TIMEOUT_STOP_SEC}",
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ]
    return "\n".join(lines)


def launchd_plist(executable: str, environment: Mapping[str, str], log_file: str) -> bytes:
    """The launchd agent: started at login, started again when it exits with a failure.

    `daemon --background` logs to the profile's log file; launchd's stdout and stderr
    file catches only what is printed before logging starts (a bad config)."""
    plist: dict = {
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": [executable, "daemon", "--background"],
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": RESTART_SEC,
        "StandardOutPath": log_file,
        "StandardErrorPath": log_file,
        "ProcessType": "Background",
    }
    if environment:
        plist["EnvironmentVariables"] = dict(sorted(environment.items()))
    return plistlib.dumps(plist)


def systemd_unit_path(env: Mapping[str, str] | None = None) -> str:
    """$XDG_CONFIG_HOME/systemd/user/oxymus.service (XDG's default: ~/.config)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "systemd", "user", UNIT_NAME)


def launchd_plist_path() -> str:
    return os.path.join(os.path.expanduser("~"), "Library", "LaunchAgents", f"{LAUNCHD_LABEL}.plist")

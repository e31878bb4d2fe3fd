"""What every `oxymus` command shares: exit codes, the profile, the daemon call, JSON output.

Imports only `sys` at load; everything else is imported where it is used, so any
command module may depend on this one without weighing on start-up. It imports no
command module (tests/test_architecture.py checks the direction).
"""

from __future__ import annotations

import sys

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_NOT_RUNNING = 0, 1, 2, 3
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool killed by it


class Exit(Exception):
    """Ends a command with this status (after its message was printed)."""

    def __init__(self, code: int):
        self.code = code


def resolve_paths():
    from oxymus.profile import paths

    return paths.resolve()


def load_config(paths):
    from oxymus.profile import config

    return config.load(config.config_path_from_env(paths.config_file))


def print_json(value) -> None:
    import json

    print(json.dumps(value, indent=2, ensure_ascii=False))


def time_zone():
    """The configured zone for showing times; UTC when the config cannot be read."""
    try:
        return load_config(resolve_paths()).time.tzinfo()
    except Exception:  # noqa: BLE001 - showing times must not fail on a config problem `oxymus status` reports
        from zoneinfo import ZoneInfo

        return ZoneInfo("UTC")


def daemon_call(command: str, method: str, params: dict | None = None, timeout: float = 120.0):
    """Call the daemon for `oxymus COMMAND`; prints why and exits when it cannot."""
    from oxymus.client import wire
    from oxymus.client.sync_client import DaemonUnavailable, connect

    paths = resolve_paths()
    try:
        with connect(paths.socket, timeout=timeout) as conn:
            return conn.call(method, params)
    except DaemonUnavailable:
        print(f"oxymus {command}: the daemon is not running; start it with `oxymus up`", file=sys.stderr)
        raise Exit(EXIT_NOT_RUNNING) from None
    except wire.RpcError as exc:
        print(f"oxymus {command}: {exc.message}", file=sys.stderr)
        raise Exit(EXIT_FAIL if exc.code == wire.STORAGE_ERROR else EXIT_USAGE) from None

"""Where a profile's files live.

Every path comes from platformdirs, unless ``OXYMUS_HOME=DIR`` is set, which puts
all of them under DIR (tests, the demo and benchmarks use it). platformdirs is
imported only when it is needed because it costs ~15 ms of start-up, and the
capture command has a budget of twice a bare interpreter start.
"""

from __future__ import annotations

import os
import sys

APP = "oxymus"
ENV_HOME = "OXYMUS_HOME"
# sun_path is 108 bytes on Linux, 104 on macOS; stay under both with the NUL.
MAX_SOCKET_PATH = 103


class PathsError(Exception):
    """A profile location that cannot work (for example a socket path too long)."""


class Paths:
    """The directories and files of one profile. Plain class: no pydantic on the capture path."""

    __slots__ = ("config_dir", "data_dir", "state_dir", "runtime_dir", "home")

    def __init__(self, config_dir: str, data_dir: str, state_dir: str, runtime_dir: str, home: str | None = None):
        self.config_dir = config_dir
        self.data_dir = data_dir
        self.state_dir = state_dir
        self.runtime_dir = runtime_dir
        self.home = home

    @property
    def config_file(self) -> str:
        return os.path.join(self.config_dir, "config.toml")

    @property
    def policy_file(self) -> str:
        return os.path.join(self.config_dir, "policy.toml")

    @property
    def db_file(self) -> str:
        return os.path.join(self.data_dir, "oxymus.db")

    @property
    def socket(self) -> str:
        return os.path.join(self.runtime_dir, "oxymus.sock")

    @property
    def lock_file(self) -> str:
        return os.path.join(self.runtime_dir, "daemon.lock")

    @property
    def log_file(self) -> str:
        return os.path.join(self.state_dir, "oxymus.log")

    @property
    def start_error_file(self) -> str:
        """Where a background daemon's early stderr goes, so `oxymus up` can show it."""
        return os.path.join(self.state_dir, "daemon-start.err")

    @property
    def stop_reason_file(self) -> str:
        """Why the daemon last failed to start (see oxymus/profile/stop_reason.py); gone once one starts."""
        return os.path.join(self.state_dir, "daemon-stopped.txt")

    @property
    def backup_dir(self) -> str:
        # The same folder as oxymus.store.backup.dir_for(db_file), without importing sqlite3 here.
        return os.path.join(self.data_dir, "backups")

    def as_dict(self) -> dict[str, str]:
        return {
            "home": self.home or "",
            "config_dir": self.config_dir,
            "data_dir": self.data_dir,
            "state_dir": self.state_dir,
            "runtime_dir": self.runtime_dir,
            "config_file": self.config_file,
            "policy_file": self.policy_file,
            "database": self.db_file,
            "backups": self.backup_dir,
            "socket": self.socket,
            "log_file": self.log_file,
        }

    def ensure(self) -> None:
        """Create the directories; the runtime dir is owner-only because it holds the socket."""
        for d in (self.config_dir, self.data_dir, self.state_dir):
            os.makedirs(d, mode=0o700, exist_ok=True)
        os.makedirs(self.runtime_dir, mode=0o700, exist_ok=True)
        os.chmod(self.runtime_dir, 0o700)
        if len(self.socket.encode()) > MAX_SOCKET_PATH:
            raise PathsError(
                f"socket path is too long for a Unix socket ({len(self.socket.encode())} bytes, "
                f"limit {MAX_SOCKET_PATH}): {self.socket}; choose a shorter {ENV_HOME} or XDG_RUNTIME_DIR"
            )


def resolve(env: dict[str, str] | None = None) -> Paths:
    env = os.environ if env is None else env
    home = env.get(ENV_HOME)
    if home:
        home = os.path.abspath(os.path.expanduser(home))
        return Paths(
            os.path.join(home, "config"),
            os.path.join(home, "data"),
            os.path.join(home, "state"),
            os.path.join(home, "run"),
            home=home,
        )
    return _platform_paths()


def _platform_paths() -> Paths:
    import warnings

    import platformdirs

    with warnings.catch_warnings():
        # With no XDG_RUNTIME_DIR platformdirs warns and falls back to /tmp/runtime-UID;
        # that fallback is fine for us (we create it 0700), the warning is noise.
        warnings.simplefilter("ignore")
        runtime = platformdirs.user_runtime_dir(APP)
    if sys.platform == "darwin":
        # macOS' runtime dir is a cache folder with a long path; sockets need short ones.
        runtime = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"{APP}-{os.getuid()}")
    return Paths(
        platformdirs.user_config_dir(APP),
        platformdirs.user_data_dir(APP),
        platformdirs.user_state_dir(APP),
        runtime,
    )

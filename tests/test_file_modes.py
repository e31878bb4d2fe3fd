"""Everything Oxymus writes in a profile is its owner's alone: files 0600, folders 0700.

The WAL holds recent captures and config.toml says how you live; with the umask Oxymus
sets at its entry points (the CLI, the capture fast path, the daemon) nothing it
creates is readable by other users.
"""

from __future__ import annotations

import os
import stat

from conftest import DaemonProcess, run_cli, wait_for
from oxymus.store import backup


def modes(paths) -> dict[str, int]:
    found = {}
    for top in (paths.config_dir, paths.data_dir, paths.state_dir, paths.runtime_dir):
        found[top] = stat.S_IMODE(os.stat(top).st_mode)
        for folder, dirs, files in os.walk(top):
            for name in dirs + files:
                path = os.path.join(folder, name)
                found[path] = stat.S_IMODE(os.lstat(path).st_mode)
    return found


def test_every_file_in_the_profile_is_owner_only(profile):
    assert run_cli("init").returncode == 0
    assert run_cli("capture", "offline, before the daemon").returncode == 0
    d = DaemonProcess(profile).start()
    try:
        assert run_cli("capture", "through the daemon").returncode == 0
        assert run_cli("backup").returncode == 0
        wait_for(lambda: backup.listing(profile.backup_dir, daily_only=True), what="the daemon's daily backup")
        seen = modes(profile)
    finally:
        d.stop()
    for name in ("config.toml", "policy.toml"):
        assert os.path.join(profile.config_dir, name) in seen
    for name in ("oxymus.db", "oxymus.db-wal", "oxymus.db-shm"):
        assert os.path.join(profile.data_dir, name) in seen  # seen while the daemon had them open
    assert profile.socket in seen and profile.log_file in seen
    wrong = {
        path: oct(mode) for path, mode in seen.items()
        if mode != (0o700 if os.path.isdir(path) and not os.path.islink(path) else 0o600)
    }
    assert wrong == {}

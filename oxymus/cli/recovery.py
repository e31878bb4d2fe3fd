"""`oxymus backup` and `oxymus restore`: copies of the database, and putting one back."""

from __future__ import annotations

import os
import sys
import time

from oxymus.cli.base import EXIT_FAIL, EXIT_OK, resolve_paths


def register(command) -> None:
    """Add the commands to the parser through the `command` helper of `oxymus.cli.build_parser`."""
    p = command("backup", cmd_backup,
                "copy the database consistently (also while the daemon runs); prints where it wrote and the size")
    p.add_argument("file", nargs="?", metavar="FILE",
                   help="where to write it (default: a timestamped file in the backups folder of the data dir)")

    p = command("restore", cmd_restore,
                "replace the database with a backup (the daemon must be stopped); the current file is kept aside")
    p.add_argument("file", metavar="FILE", help="the backup to restore, e.g. the newest in the backups folder")


def cmd_backup(args) -> int:
    from oxymus.store import backup

    paths = resolve_paths()
    dest = os.path.abspath(os.path.expanduser(args.file)) if args.file else backup.default_path(paths.backup_dir, manual=True)
    started = time.monotonic()
    try:
        size = backup.take(paths.db_file, dest)
    except backup.BackupError as exc:
        print(f"oxymus backup: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(f"wrote {dest} ({human_size(size)}, {time.monotonic() - started:.2f} s)")
    return EXIT_OK


def cmd_restore(args) -> int:
    from oxymus.profile import stop_reason
    from oxymus.store import restore

    paths = resolve_paths()
    paths.ensure()
    try:
        done = restore.restore(os.path.expanduser(args.file), paths.db_file, paths.lock_file)
    except restore.RestoreRefused as exc:
        print(f"oxymus restore: {exc}", file=sys.stderr)
        return EXIT_FAIL
    stop_reason.clear(paths.stop_reason_file)  # the reason the daemon gave (a damaged file) is gone
    print(f"restored {done.source} (schema v{done.schema}, {human_size(done.size)}) to {done.target}")
    if done.aside:
        print(f"the previous database is kept as {done.aside}")
    print("start the daemon with `oxymus up`")
    return EXIT_OK


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f} {unit}"

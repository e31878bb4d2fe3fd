"""A damaged database: a real file with pages overwritten, and a file that is no database at all.

Every command names the file, says how to restore it, and prints no traceback; the
daemon refuses to start and leaves the file byte for byte as it was; `oxymus status`
says why no daemon runs; `oxymus restore` brings the newest backup back.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

from conftest import DaemonProcess, run_cli


def cli(*args: str):
    out = run_cli(*args)
    out.stdout, out.stderr = out.stdout.decode(), out.stderr.decode()
    return out


def digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def garble_pages(path: str, first: int = 2, count: int = 4, page: int = 4096) -> None:
    """Overwrite whole pages (the captures table's b-tree sits right after the schema page)."""
    noise = random.Random(7).randbytes(count * page)
    with open(path, "r+b") as fh:
        fh.seek((first - 1) * page)
        fh.write(noise)


def assert_clear(out, *needles: str) -> None:
    text = out.stdout + out.stderr
    assert "Traceback" not in text, text
    for needle in needles:
        assert needle in text, text


def test_garbled_pages_are_named_left_untouched_and_restored_from_the_newest_backup(profile):
    for text in ("one", "two", "three"):
        assert cli("capture", text).returncode == 0
    made = cli("backup")
    assert made.returncode == 0, made.stderr
    newest = made.stdout.split()[1]
    assert cli("capture", "after the backup").returncode == 0
    garble_pages(profile.db_file)
    damaged = digest(profile.db_file)
    advice = f"restore the newest backup with `oxymus restore {newest}` (backups are in {profile.backup_dir})"

    daemon = cli("daemon")
    assert daemon.returncode == 1
    assert_clear(daemon, f"oxymus daemon: {profile.db_file} is damaged (", "Oxymus left it untouched", advice)
    up = cli("up")
    assert up.returncode == 1
    assert_clear(up, f"{profile.db_file} is damaged", advice)
    status = cli("status")
    assert status.returncode == 3
    assert_clear(status, "daemon: not running", f"{profile.db_file} is damaged", advice)
    inbox = cli("inbox")
    assert inbox.returncode == 1
    assert_clear(inbox, f"{profile.db_file} is damaged", advice)
    assert digest(profile.db_file) == damaged, "nothing wrote to the damaged file"

    restored = cli("restore", newest)
    assert restored.returncode == 0, restored.stderr
    aside = restored.stdout.split("the previous database is kept as ")[1].split()[0]
    assert digest(aside) == damaged
    assert "last start failed" not in cli("status").stdout

    d = DaemonProcess(profile).start()
    try:
        texts = [c["text"] for c in json.loads(cli("inbox", "--json").stdout)]
        assert texts == ["three", "two", "one"]  # what the backup held; the file set aside has the rest
    finally:
        d.stop()


def test_a_file_that_is_not_a_database(profile):
    profile.ensure()
    Path(profile.db_file).write_text("these are my notes, not a database\n" * 200)
    before = digest(profile.db_file)
    advice = f"there is no backup in {profile.backup_dir}; restore a copy you have with `oxymus restore FILE`"

    for args in (("daemon",), ("up",), ("inbox",), ("capture", "a thought")):
        out = cli(*args)
        assert out.returncode == 1, args
        assert_clear(out, f"{profile.db_file} is damaged (file is not a database)", advice)
    status = cli("status")
    assert_clear(status, "why:", "its last start failed", "file is not a database")
    assert json.loads(cli("status", "--json").stdout)["last_start_failed"]["reason"].startswith(profile.db_file)
    assert digest(profile.db_file) == before

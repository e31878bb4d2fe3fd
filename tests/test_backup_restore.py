"""Backups (`oxymus backup`, the daemon's daily one and its rotation) and `oxymus restore`'s refusals."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import stat
import threading

from conftest import DaemonProcess, run_cli, wait_for, write_config
from oxymus.daemon.backups import DailyBackups
from oxymus.store import backup, health
from oxymus.store.migrations import LATEST

UTC = dt.timezone.utc


def cli(*args: str):
    out = run_cli(*args)
    out.stdout, out.stderr = out.stdout.decode(), out.stderr.decode()
    return out


def captured_texts(db_path: str) -> list[str]:
    db = sqlite3.connect(db_path)
    try:
        return [r[0] for r in db.execute("SELECT text FROM captures ORDER BY seq")]
    finally:
        db.close()


def test_backup_while_the_daemon_writes_is_a_consistent_owner_only_copy(profile, daemon):
    stop = threading.Event()
    acknowledged: list[str] = []

    def keep_capturing():
        with daemon.client() as conn:
            n = 0
            while not stop.is_set():
                n += 1
                conn.call("capture.add", {"text": f"capture {n}"})
                acknowledged.append(f"capture {n}")

    writer = threading.Thread(target=keep_capturing)
    writer.start()
    try:
        wait_for(lambda: len(acknowledged) >= 20, what="captures before the backup")
        before = len(acknowledged)
        out = cli("backup", str(profile.home) + "/copy.db")
        after = len(acknowledged)
    finally:
        stop.set()
        writer.join()
    assert out.returncode == 0, out.stderr
    dest = str(profile.home) + "/copy.db"
    assert out.stdout.startswith(f"wrote {dest} (") and "KiB" in out.stdout
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    assert health.inspect(dest) is None
    texts = captured_texts(dest)
    # One moment of the database: every capture acknowledged before the copy began, then a gapless run.
    assert len(texts) >= before and texts == [f"capture {n}" for n in range(1, len(texts) + 1)]
    assert len(texts) <= after + 1


def test_backup_with_no_file_goes_to_the_backups_folder_and_rotation_leaves_it(profile):
    assert cli("capture", "something to keep").returncode == 0
    out = cli("backup")
    assert out.returncode == 0, out.stderr
    path = out.stdout.split()[1]
    assert os.path.dirname(path) == profile.backup_dir and path.endswith("-manual.db")
    assert captured_texts(path) == ["something to keep"]
    assert backup.rotate(profile.backup_dir, keep=0) == []  # yours, not the daemon's to delete
    assert os.path.exists(path)


def test_no_database_yet(profile):
    out = cli("backup")
    assert out.returncode == 1 and out.stderr.strip() == f"oxymus backup: {profile.db_file}: there is no database to back up yet"


def test_the_daemon_takes_a_backup_at_start_when_the_last_is_old_and_keeps_the_newest(profile):
    write_config(profile, "[backup]\nkeep = 2\n")
    assert cli("capture", "in every backup").returncode == 0
    os.makedirs(profile.backup_dir)
    old = [os.path.join(profile.backup_dir, f"oxymus-2020010{d}T030000Z.db") for d in (1, 2, 3)]
    manual = os.path.join(profile.backup_dir, "oxymus-20191231T030000Z-manual.db")
    for path in old + [manual]:
        assert backup.take(profile.db_file, path) > 0

    d = DaemonProcess(profile).start()
    try:
        daily = wait_for(lambda: [p for _w, p in backup.listing(profile.backup_dir, daily_only=True)
                                  if p not in old] or None, what="the daily backup")
        wait_for(lambda: len(backup.listing(profile.backup_dir, daily_only=True)) == 2, what="rotation")
    finally:
        d.stop()
    assert [p for _w, p in backup.listing(profile.backup_dir, daily_only=True)] == [old[2], daily[0]]
    assert os.path.exists(manual)
    assert captured_texts(daily[0]) == ["in every backup"]
    assert stat.S_IMODE(os.stat(daily[0]).st_mode) == 0o600


def test_a_backup_is_due_a_day_after_the_last_daily_one(tmp_path):
    db = str(tmp_path / "oxymus.db")
    sqlite3.connect(db).close()
    folder = str(tmp_path / "backups")
    now = dt.datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    jobs = DailyBackups(db, folder, keep=7, now=lambda: now)
    assert jobs.due()  # none yet
    os.makedirs(folder)
    open(backup.default_path(folder, now - dt.timedelta(hours=23)), "w").close()
    open(backup.default_path(folder, now - dt.timedelta(hours=1), manual=True), "w").close()
    assert not jobs.due()
    now += dt.timedelta(hours=1)
    assert jobs.due()  # the daily one is 24 h old; a manual one does not count
    assert not DailyBackups(db, folder, keep=0, now=lambda: now).due()


def test_restore_refuses_while_the_daemon_runs(profile, daemon):
    with daemon.client() as conn:
        conn.call("capture.add", {"text": "kept"})
    copy = str(profile.home) + "/copy.db"
    assert cli("backup", copy).returncode == 0
    out = cli("restore", copy)
    assert out.returncode == 1
    assert "the daemon is running" in out.stderr and "oxymus down" in out.stderr
    assert captured_texts(profile.db_file) == ["kept"]


def test_restore_refuses_what_is_not_a_sound_oxymus_database(profile):
    assert cli("capture", "current").returncode == 0
    home = str(profile.home)
    good = home + "/good.db"
    assert cli("backup", good).returncode == 0

    newer = home + "/newer.db"
    shutil.copy(good, newer)
    db = sqlite3.connect(newer)
    db.execute(f"PRAGMA user_version = {LATEST + 1}")
    db.close()
    other = home + "/other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE notes (x)")
    db.close()
    damaged = home + "/damaged.db"
    shutil.copy(good, damaged)
    with open(damaged, "r+b") as fh:
        fh.seek(4096)
        fh.write(b"\xff" * 4096 * 3)
    junk = home + "/junk.db"
    with open(junk, "w") as fh:
        fh.write("not a database\n" * 100)

    expected = {
        newer: f"schema version {LATEST + 1}, newer than this Oxymus understands ({LATEST}); upgrade Oxymus first",
        other: "is an SQLite database but not an Oxymus one",
        damaged: "cannot be restored: " + damaged + " is damaged (",
        junk: "cannot be restored: " + junk + " is damaged (file is not a database)",
        home + "/missing.db": "no such file",
    }
    for path, words in expected.items():
        out = cli("restore", path)
        assert out.returncode == 1 and words in out.stderr, (path, out.stderr)
    assert sorted(os.listdir(profile.data_dir)) == ["oxymus.db"], "nothing was set aside or replaced"
    assert captured_texts(profile.db_file) == ["current"]

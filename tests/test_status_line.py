"""`oxymus status --line` / `--waybar`: the real CLI with a real daemon, and with none (the database read-only)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
from pathlib import Path

from conftest import BIG_PAYMENTS_NEED_ME, DaemonProcess, pin_today, run_cli, wait_for, write_config
from oxymus.client.status_line import read_directly
from oxymus.kernel.ulid import new_ulid
from oxymus.store import status_counts

BILLS = '[[bill]]\nname = "Rent"\namount = 950\nschedule = "monthly"\nday = 1\n'


def status(*flags: str) -> tuple[int, str]:
    r = run_cli("status", *flags)
    assert r.stderr == b"", r.stderr.decode()
    return r.returncode, r.stdout.decode().rstrip("\n")


def profile_files(profile) -> dict[str, tuple[bytes, int]]:
    data = Path(profile.db_file).parent
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in data.iterdir() if p.is_file()}


def read_file(profile) -> dict:
    """The counts read straight from the database file (read-only), as the daemon-down path does."""
    with contextlib.closing(sqlite3.connect(f"file:{profile.db_file}?mode=ro", uri=True)) as ro:
        return status_counts.read(ro)


def without_counts(text: str) -> str:
    return re.sub(r"failing \d+x", "failing Nx", text)


def test_a_profile_without_a_database_says_so_and_creates_nothing(profile, home):
    before = sorted(p.relative_to(home) for p in home.rglob("*"))
    assert status("--line") == (1, "oxymus down, no database")
    code, out = status("--waybar")
    bar = json.loads(out)
    # 0 for waybar, which hides a module whose command fails; the class says it is down.
    assert code == 0 and bar["text"] == "oxymus down, no database" and bar["class"] == "down"
    assert profile.db_file in bar["tooltip"]
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == before
    assert not os.path.exists(profile.db_file)


def test_calm_is_a_tick_and_down_is_marked(profile):
    d = DaemonProcess(profile).start()
    try:
        assert status("--line") == (0, "✓")
        assert json.loads(status("--waybar")[1]) == {
            "text": "✓", "tooltip": "all calm: nothing waiting, nothing failing", "class": "ok"}
    finally:
        assert d.stop() == 0
    assert status("--line") == (0, "⏻")


def test_both_paths_count_the_same_and_the_offline_one_leaves_the_database_alone(profile, home, monkeypatch):
    due = pin_today(monkeypatch).replace(day=1).isoformat()  # a due date of the daemon's month, across midnight too
    (home / "cal.ics").write_text("this is not a calendar\n")
    write_config(profile, f'[bills]\nfile = "bills.toml"\n[[calendar.ics]]\npath = "{home}/cal.ics"\nname = "personal"\n',
                 bills_toml=BILLS)
    Path(profile.policy_file).write_text(BIG_PAYMENTS_NEED_ME)
    d = DaemonProcess(profile).start()
    try:
        r = run_cli("propose", "bills.mark_paid", "--payload", json.dumps({"bill": "rent", "due": due}))
        assert r.returncode == 0 and b"waiting for you" in r.stdout, r.stderr.decode()
        for text in ("call the dentist", "buy stamps"):
            assert run_cli("capture", text).returncode == 0
        with d.client() as conn:
            wait_for(lambda: conn.call("status.line")["problems"], what="the calendar to fail")
        # An agent whose latest run stopped (what the agent runtime records when it cannot do its job).
        db = sqlite3.connect(profile.db_file)
        with db:
            db.execute("INSERT INTO agent_runs (id, agent, trigger, trace_id, started_at, finished_at, outcome, error) "
                       "VALUES (?, 'planner', 'schedule', ?, '2026-12-06T08:00:00.000Z', '2026-12-06T08:00:01.000Z', 'stopped', 'no calendar')",
                       (new_ulid(), new_ulid()))
        db.close()

        with d.client() as conn:
            # The same counts from the daemon and from the file itself (retried only because the
            # failing calendar's retry may land between the two reads and count one more failure).
            online = wait_for(lambda: (lambda o: o == read_file(profile) and o)(conn.call("status.line")),
                              what="the daemon and the file to agree")
        assert (online["approvals"], online["inbox"]) == (1, 2)
        assert re.fullmatch(r"calendar\.personal failing \d+x", online["problems"][0]), online
        assert online["problems"][1:] == ["agent planner stopped"]
        assert status("--line") == (0, "⏳1 ✉2 ⚠2")
        bar = json.loads(status("--waybar")[1])
        assert bar["text"] == "⏳1 ✉2 ⚠2" and bar["class"] == "attention"
        assert without_counts(bar["tooltip"]).splitlines() == [
            "1 approval waiting", "2 captures in the inbox", "2 problems: calendar.personal failing Nx, agent planner stopped"]
    finally:
        assert d.stop() == 0

    before = profile_files(profile)
    assert not any(name.endswith(("-wal", "-shm")) for name in before), sorted(before)
    offline = read_directly(profile.db_file)  # what `status --line` reads with the daemon down
    assert (offline["approvals"], offline["inbox"]) == (online["approvals"], online["inbox"])
    assert [without_counts(p) for p in offline["problems"]] == [without_counts(p) for p in online["problems"]]
    assert status("--line") == (0, "⏳1 ✉2 ⚠2 ⏻")
    bar = json.loads(status("--waybar")[1])
    assert bar["text"] == "⏳1 ✉2 ⚠2 ⏻" and bar["class"] == "down"
    assert bar["tooltip"].splitlines()[-1] == "the daemon is down (counts read from the database)"
    assert profile_files(profile) == before, "bytes and mtimes unchanged, no -wal or -shm created"


def test_an_old_database_is_read_as_it_is_not_migrated(profile):
    """The offline path never migrates: a file from an older schema keeps its version and bytes."""
    d = DaemonProcess(profile).start()
    assert run_cli("capture", "one").returncode == 0
    assert d.stop() == 0
    db = sqlite3.connect(profile.db_file)
    version = db.execute("PRAGMA user_version").fetchone()[0]
    db.execute(f"PRAGMA user_version = {version - 1}")  # as if written by the previous release
    db.close()
    before = profile_files(profile)
    assert status("--line") == (0, "✉1 ⏻")
    assert profile_files(profile) == before


def test_a_damaged_database_is_one_short_line_and_stays_as_it_was(profile):
    profile.ensure()
    Path(profile.db_file).write_bytes(b"this is not a database\n" * 200)
    before = profile_files(profile)
    code, out = status("--line")
    assert (code, out) == (1, "oxymus down, database unreadable")
    bar = json.loads(status("--waybar")[1])
    assert bar["text"] == "oxymus down, database unreadable" and bar["class"] == "down"
    assert f"cannot read {profile.db_file}" in bar["tooltip"]
    assert profile_files(profile) == before


def test_status_line_with_other_flags_is_refused_plainly(profile):
    r = run_cli("status", "--line", "--json")
    assert r.returncode == 2 and b"--line and --waybar go alone" in r.stderr
    r = run_cli("status", "--line", "--waybar")
    assert r.returncode == 2 and b"not allowed with argument" in r.stderr

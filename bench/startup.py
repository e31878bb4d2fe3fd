"""How fast do the daemon and the TUI start? (issue 14, lazy starts)

Whole-process wall times, interleaved in a rotating order, against two references
measured in the same run:

- **python**: `python -c pass` with the venv's interpreter.
- **textual**: a minimal Textual app that paints one Static and exits after its first
  paint, on the same pseudo-terminal as the TUI row.

Rows:

- **daemon**: `oxymus up` until it returns (it returns once the socket answers), on a
  profile with every source configured (git, a calendar file, github, bills, notify).
  `oxymus down` after each run is not timed. Target: median <= 250 ms and <= 8x python.
- **tui**: `oxymus tui --no-start` against a running daemon on a profile with 10,000
  open captures, 2,000 calendar events and 50 repositories (`--captures`, `--events`,
  `--repos`), until the Today screen's first full paint (its data shown);
  `OXYMUS_TUI_EXIT_AFTER_PAINT=1` makes it exit right after. Target: <= 1.5x textual,
  and its peak RSS (the child's ru_maxrss) <= 1.3x the minimal app's.

Bytecode is cached under the temp folder (PYTHONPYCACHEPREFIX), as an installed CLI's
would be after its first run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pty
import select
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _stats import BenchError, emit, footer, ns_to_ms, percentile, run_main, summary  # noqa: E402

PROC_TIMEOUT = 60
DAEMON_TARGET_MS = 250.0
DAEMON_TARGET_RATIO = 8.0
TUI_TARGET_RATIO = 1.5
TUI_RSS_TARGET_RATIO = 1.3
ENV_VARS = ("OXYMUS_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR", "OXYMUS_NOW")

MINIMAL_TEXTUAL = """
from textual.app import App
from textual.widgets import Static

class Minimal(App):
    def compose(self):
        yield Static("hello")

    def on_mount(self):
        self.call_after_refresh(self.exit, 0)

Minimal().run()
"""


def profile_files(root: str) -> str:
    """Every source configured; returns the config.toml text."""
    repo = os.path.join(root, "code", "repo")
    os.makedirs(repo)
    subprocess.run(["git", "init", "-q", repo], check=True)
    day = dt.date.today()
    events = []
    for i in range(40):
        start = dt.datetime.combine(day + dt.timedelta(days=i // 4 - 2), dt.time(8 + 2 * (i % 4)))
        events.append("BEGIN:VEVENT\r\nUID:ev{0}@bench\r\nDTSTAMP:20250101T000000Z\r\n"
                      "DTSTART:{1:%Y%m%dT%H%M%S}\r\nDTEND:{2:%Y%m%dT%H%M%S}\r\nSUMMARY:event {0}\r\nEND:VEVENT\r\n"
                      .format(i, start, start + dt.timedelta(hours=1)))
    with open(os.path.join(root, "cal.ics"), "w") as fh:
        fh.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n" + "".join(events) + "END:VCALENDAR\r\n")
    with open(os.path.join(root, "bills.toml"), "w") as fh:
        fh.write(f'[[bill]]\nname = "Rent"\namount = 900.0\ncurrency = "EUR"\nschedule = "once"\n'
                 f'date = "{day + dt.timedelta(days=3)}"\n')
    return (f'[git]\nroots = ["{os.path.dirname(repo)}"]\n\n'
            f'[[calendar.ics]]\npath = "{os.path.join(root, "cal.ics")}"\nname = "bench"\n\n'
            f'[github]\napi_url = "http://127.0.0.1:9"\npassword_command = "false"\n\n'
            f'[bills]\nfile = "{os.path.join(root, "bills.toml")}"\n\n'
            f'[notify]\nquiet_hours = "00:00-23:59"\n')


def seed_tui_profile(home: str, env: dict[str, str], captures: int, events: int, repos: int) -> None:
    """The TUI row's profile at the issue's size: its calendar file rewritten with `events` events (four a
    day around today), `repos` repositories under its git root, and a database holding `captures` open ones."""
    from inbox_switch import seeded_db  # the same store statements the daemon runs

    from oxymus.profile import paths as paths_mod

    code = os.path.join(home, "code")
    for i in range(1, repos):  # profile_files made the first
        subprocess.run(["git", "init", "-q", os.path.join(code, f"repo{i}")], check=True)
    day = dt.date.today()
    lines = []
    for i in range(events):
        start = dt.datetime.combine(day + dt.timedelta(days=i // 4 - events // 8), dt.time(8 + 2 * (i % 4)))
        lines.append("BEGIN:VEVENT\r\nUID:ev{0}@bench\r\nDTSTAMP:20250101T000000Z\r\n"
                     "DTSTART:{1:%Y%m%dT%H%M%S}\r\nDTEND:{2:%Y%m%dT%H%M%S}\r\nSUMMARY:event {0}\r\nEND:VEVENT\r\n"
                     .format(i, start, start + dt.timedelta(hours=1)))
    with open(os.path.join(home, "cal.ics"), "w") as fh:
        fh.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n" + "".join(lines) + "END:VCALENDAR\r\n")
    seed, _, _ = seeded_db(captures)
    db_file = paths_mod.resolve(env).db_file
    os.makedirs(os.path.dirname(db_file), mode=0o700, exist_ok=True)
    shutil.move(seed, db_file)
    shutil.rmtree(os.path.dirname(seed), ignore_errors=True)


def run(cmd: list[str], env: dict[str, str], what: str) -> int:
    t0 = time.perf_counter_ns()
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=PROC_TIMEOUT)
    elapsed = time.perf_counter_ns() - t0
    if proc.returncode != 0:
        raise BenchError(f"{what} exited with status {proc.returncode}: {' '.join(cmd)}\n"
                         f"stderr: {proc.stderr.decode(errors='replace').strip()}")
    return elapsed


def run_pty(cmd: list[str], env: dict[str, str], what: str) -> tuple[int, int]:
    """Run on a fresh 120x40 pseudo-terminal, its output drained; (wall ns until it exits, its peak RSS in KiB)."""
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    t0 = time.perf_counter_ns()
    proc = subprocess.Popen(cmd, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    tail = b""
    deadline = time.monotonic() + PROC_TIMEOUT
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the slave side closed: the child is gone
                    chunk = b""
                if not chunk:
                    break
                tail = (tail + chunk)[-4000:]
            elif proc.poll() is not None:
                break
            if time.monotonic() > deadline:
                proc.kill()
                raise BenchError(f"{what} did not exit within {PROC_TIMEOUT} s")
        _, status, usage = os.wait4(proc.pid, 0)  # rather than proc.wait(): the child's own peak RSS too
        elapsed = time.perf_counter_ns() - t0
        proc.returncode = code = os.waitstatus_to_exitcode(status)
    finally:
        os.close(master)
    if code != 0:
        raise BenchError(f"{what} exited with status {code}; last output: {tail.decode(errors='replace')[-800:]}")
    return elapsed, usage.ru_maxrss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="measured runs per row (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured runs per row first (default 2)")
    parser.add_argument("--captures", type=int, default=10_000, help="open captures in the TUI's profile (default 10,000)")
    parser.add_argument("--events", type=int, default=2_000, help="calendar events in the TUI's profile (default 2,000)")
    parser.add_argument("--repos", type=int, default=50, help="git repositories in the TUI's profile (default 50)")
    parser.add_argument("--json", action="store_true", help="JSON on stdout, table on stderr")
    args = parser.parse_args(argv)

    from oxymus.profile import paths as paths_mod

    python = sys.executable
    oxymus = os.path.join(os.path.dirname(python), "oxymus")
    if not os.access(oxymus, os.X_OK):
        raise BenchError(f"no oxymus console script next to {python}; run this with the project's venv python")
    root = tempfile.mkdtemp(prefix="oxs-", dir="/tmp")
    os.chmod(root, 0o700)
    base = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    base.pop("PYTHONSTARTUP", None)
    base["PYTHONPYCACHEPREFIX"] = os.path.join(root, "pyc")
    base["TERM"] = "xterm-256color"
    daemon_env = dict(base, OXYMUS_HOME=os.path.join(root, "daemon"))
    # Agents off: a triage agent working through 10,000 captures meanwhile would load the machine, not the TUI.
    tui_env = dict(base, OXYMUS_HOME=os.path.join(root, "tui"), OXYMUS_TUI_EXIT_AFTER_PAINT="1", OXYMUS_AGENTS="off")
    tui_up = False
    try:
        for env in (daemon_env, tui_env):
            home = env["OXYMUS_HOME"]
            os.makedirs(home)
            config_file = paths_mod.resolve(env).config_file
            os.makedirs(os.path.dirname(config_file), exist_ok=True)
            with open(config_file, "w") as fh:
                fh.write(profile_files(home))
        seed_tui_profile(tui_env["OXYMUS_HOME"], tui_env, args.captures, args.events, args.repos)
        run([oxymus, "up"], tui_env, "oxymus up (tui profile)")
        tui_up = True
        rss: dict[str, list[int]] = {"textual": [], "tui": []}

        def pty_row(name: str, cmd: list[str], env: dict[str, str], what: str) -> int:
            elapsed, peak = run_pty(cmd, env, what)
            rss[name].append(peak)
            return elapsed

        def daemon_row() -> int:
            elapsed = run([oxymus, "up"], daemon_env, "oxymus up")
            run([oxymus, "down"], daemon_env, "oxymus down")
            return elapsed

        cases = [
            ("python", lambda: run([python, "-c", "pass"], base, "python -c pass")),
            ("textual", lambda: pty_row("textual", [python, "-c", MINIMAL_TEXTUAL], base, "minimal textual app")),
            ("daemon", daemon_row),
            ("tui", lambda: pty_row("tui", [oxymus, "tui", "--no-start"], tui_env, "oxymus tui")),
        ]
        samples: dict[str, list[int]] = {name: [] for name, _ in cases}
        for i in range(args.warmup + args.runs):
            k = i % len(cases)
            for name, fn in cases[k:] + cases[:k]:  # rotating order: a slow moment hits every row alike
                ns = fn()
                if i >= args.warmup:
                    samples[name].append(ns)
    finally:
        if tui_up:
            subprocess.run([oxymus, "down"], env=tui_env, capture_output=True, timeout=PROC_TIMEOUT)
        subprocess.run([oxymus, "down"], env=daemon_env, capture_output=True, timeout=PROC_TIMEOUT)
        shutil.rmtree(root, ignore_errors=True)

    ms = {name: ns_to_ms(v) for name, v in samples.items()}
    py, tx = percentile(ms["python"], 50), percentile(ms["textual"], 50)
    rows = []
    for name in ("python", "textual", "daemon", "tui"):
        s = summary(ms[name], (50, 90, 99))
        s["min"], s["max"] = min(ms[name]), max(ms[name])
        rows.append({"name": name, **s, "x_python": s["p50"] / py, "x_textual": s["p50"] / tx})
    by = {r["name"]: r for r in rows}
    rss_mib = {name: percentile([kib / 1024 for kib in v], 50) for name, v in rss.items()}
    rss_ratio = rss_mib["tui"] / rss_mib["textual"]
    report = {
        "runs": args.runs, "warmup": args.warmup, "rows": rows,
        "profile": {"captures": args.captures, "events": args.events, "repos": args.repos},
        "rss_mib_p50": rss_mib, "tui_x_textual_rss": rss_ratio,
        "tui_rss_within_target": rss_ratio <= TUI_RSS_TARGET_RATIO,
        "targets": {"daemon_ms": DAEMON_TARGET_MS, "daemon_x_python": DAEMON_TARGET_RATIO, "tui_x_textual": TUI_TARGET_RATIO,
                    "tui_x_textual_rss": TUI_RSS_TARGET_RATIO},
        "daemon_within_target": by["daemon"]["p50"] <= DAEMON_TARGET_MS and by["daemon"]["x_python"] <= DAEMON_TARGET_RATIO,
        "tui_within_target": by["tui"]["x_textual"] <= TUI_TARGET_RATIO,
    }
    labels = {"python": "python -c pass", "textual": "minimal Textual app, first paint",
              "daemon": "oxymus up until the socket answers", "tui": "oxymus tui until Today's first full paint"}
    lines = [f"{args.runs} runs per row after {args.warmup} warm-up runs, interleaved; whole-process wall time (ms)",
             f"{'':42} {'p50':>7} {'p90':>7} {'p99':>7} {'min':>7} {'max':>7} {'x python':>9} {'x textual':>9}"]
    for r in rows:
        lines.append(f"{labels[r['name']]:42} {r['p50']:7.1f} {r['p90']:7.1f} {r['p99']:7.1f} {r['min']:7.1f} "
                     f"{r['max']:7.1f} {r['x_python']:9.2f} {r['x_textual']:9.2f}")
    lines.append(f"daemon target: p50 <= {DAEMON_TARGET_MS:g} ms and <= {DAEMON_TARGET_RATIO:g}x python: "
                 f"{'ok' if report['daemon_within_target'] else 'OVER TARGET'}")
    lines.append(f"tui target: p50 <= {TUI_TARGET_RATIO:g}x textual: {'ok' if report['tui_within_target'] else 'OVER TARGET'}")
    lines.append(f"peak RSS p50: minimal Textual app {rss_mib['textual']:.1f} MiB, oxymus tui {rss_mib['tui']:.1f} MiB "
                 f"({rss_ratio:.2f}x; profile: {args.captures:,} captures, {args.events:,} events, {args.repos} repos)")
    lines.append(f"tui RSS target: <= {TUI_RSS_TARGET_RATIO:g}x textual: "
                 f"{'ok' if report['tui_rss_within_target'] else 'OVER TARGET'}")
    lines.extend(footer(report))
    return emit(report, "\n".join(lines), args.json)


if __name__ == "__main__":
    run_main(main, "startup.py")

"""How fast is `oxymus capture`? Whole-process start-up and socket round trips, in one run.

Run with the project's venv (its interpreter is the one measured):

    .venv/bin/python bench/capture.py [--runs N] [--calls N] [--warmup N] [--json]

What it measures
----------------
1. The floor: whole-process wall time of `python -c "import sqlite3"` with the
   venv's interpreter (sys.executable when run as above). That is the least any
   Python CLI that can write to SQLite pays: interpreter start-up, `site` (with the
   venv's .pth files, including the editable-install finder the console script
   also gets) and the sqlite3 extension module. Nothing Oxymus can do makes a
   capture cheaper than that, so it is the yardstick: the target is a capture
   within 2x the floor's median.
2. `oxymus capture x` through the venv's console script (`.venv/bin/oxymus`, not
   `python -m`, because that is what people type), whole-process wall time:
   - daemon UP: the capture goes over the Unix socket (hello + capture.add
     pipelined in one round trip);
   - daemon DOWN: the CLI opens the SQLite file itself and writes the same row.
   Both with OXYMUS_HOME pointing at temp profiles (no platformdirs import) and
   both again without OXYMUS_HOME, where paths come from platformdirs: the XDG_*
   variables point into a temp dir, so nothing touches the real home.
   The five process measurements are interleaved (and their order rotated each
   iteration) so machine drift hits them all alike. Each case has its own profile
   because one profile cannot have its daemon both up and down at once.
3. `task add x` (Taskwarrior) on a data dir of `--tasks` pending tasks (10,000 by default),
   interleaved with the rows above: the issue's reference for a capture, whose target is
   `oxymus capture` with the daemon up at most 0.5x `task add`. Taskwarrior is installed
   when missing (`apt-get install taskwarrior` when run as root where apt-get exists, as
   ./dev installs tmux); without it the row is skipped with a warning. Its data dir and
   taskrc live in the temp folder (TASKDATA, TASKRC; rc.confirmation=off, no hooks), filled
   once with `task import`, so each `task add` adds to 10,000 tasks (and to those the
   earlier runs added).
4. Socket round trip: over ONE connection (oxymus.client.sync_client), `--calls` sequential
   `capture.add` calls, each timed with perf_counter_ns; target p99 < 5 ms. As
   same-run baselines, the same number of `status` calls (one `PRAGMA
   user_version` read, no write) and `hello` calls (no store access at all), so
   the cost of the durable write shows up as the difference.

Percentiles are nearest-rank (see bench/_stats.py); "median" is p50. Expect the
figures to move 10-50% between runs on a laptop or a shared machine; compare
ratios taken in the same run rather than absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _stats import BenchError, emit, footer, ns_to_ms, percentile, run_main, summary  # noqa: E402

TARGET_RATIO = 2.0  # capture median / floor median
TARGET_TASK_RATIO = 0.5  # capture (daemon up) median / `task add` median
TARGET_P99_MS = 5.0  # capture.add round trip over an open connection
PROC_TIMEOUT = 60.0

ENV_VARS = ("OXYMUS_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR", "XDG_CACHE_HOME")




# ---------------------------------------------------------------- profiles


class Profile:
    """One temp profile: its environment for subprocesses and where its files are."""

    def __init__(self, name: str, label: str, env: dict[str, str], daemon: bool):
        self.name = name
        self.label = label
        self.env = env
        self.daemon = daemon
        self.pid: int | None = None
        self.started = False

    def paths(self):
        if "OXYMUS_HOME" in self.env:
            from oxymus.profile import paths as paths_mod

            return paths_mod.resolve(self.env)
        return resolve_platformdirs(self)


def base_env(pyc_prefix: str | None) -> dict[str, str]:
    """The parent's environment minus anything that picks a profile.

    With `pyc_prefix`, bytecode caching is switched on (PYTHONDONTWRITEBYTECODE
    dropped) with the .pyc files written under that temp dir, never into the tree.
    """
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env.pop("PYTHONSTARTUP", None)
    if pyc_prefix is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pyc_prefix
    return env


def home_profile(root: str, name: str, label: str, daemon: bool, pyc_prefix: str | None) -> Profile:
    home = os.path.join(root, name)
    os.makedirs(home, mode=0o700)
    env = base_env(pyc_prefix)
    env["OXYMUS_HOME"] = home
    return Profile(name, label, env, daemon)


def xdg_profile(root: str, name: str, label: str, daemon: bool, pyc_prefix: str | None) -> Profile:
    top = os.path.join(root, name)
    env = base_env(pyc_prefix)
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_RUNTIME_DIR", "run"),
    ):
        d = os.path.join(top, sub)
        os.makedirs(d, mode=0o700)
        os.chmod(d, 0o700)
        env[var] = d
    return Profile(name, label, env, daemon)


def resolve_platformdirs(profile: Profile):
    """The paths platformdirs gives under `profile.env` (imports platformdirs here, not in the timed runs)."""
    saved = {k: os.environ.get(k) for k in ENV_VARS}
    try:
        for k in ENV_VARS:
            if k in profile.env:
                os.environ[k] = profile.env[k]
            else:
                os.environ.pop(k, None)
        from oxymus.profile import paths as paths_mod

        return paths_mod.resolve()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# ---------------------------------------------------------------- processes


def run(cmd: list[str], env: dict[str, str], what: str) -> tuple[int, subprocess.CompletedProcess]:
    """Run to completion, stdout/stderr captured; (wall ns, result). Raises on a non-zero exit."""
    t0 = time.perf_counter_ns()
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=PROC_TIMEOUT)
    elapsed = time.perf_counter_ns() - t0
    if proc.returncode != 0:
        raise BenchError(
            f"{what} exited with status {proc.returncode}: {' '.join(cmd)}\n"
            f"stdout: {proc.stdout.decode(errors='replace').strip()}\n"
            f"stderr: {proc.stderr.decode(errors='replace').strip()}"
        )
    return elapsed, proc


def daemon_up(oxymus: str, profile: Profile) -> None:
    run([oxymus, "up"], profile.env, f"oxymus up ({profile.label})")
    profile.started = True
    # The first `status` of a fresh profile (its .pyc cache empty, the machine loaded) can give up
    # on the daemon's answer and say "not running" (exit 3): ask again for a while.
    deadline = time.monotonic() + PROC_TIMEOUT
    while True:
        proc = subprocess.run([oxymus, "status", "--json"], env=profile.env, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=PROC_TIMEOUT)
        if proc.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if proc.returncode != 0:
        raise BenchError(f"oxymus status ({profile.label}) exited with status {proc.returncode} after `oxymus up`:\n"
                         f"{proc.stdout.decode(errors='replace').strip()}\n{proc.stderr.decode(errors='replace').strip()}")
    status = json.loads(proc.stdout)
    profile.pid = int(status["pid"])


def daemon_down(oxymus: str, profile: Profile) -> str | None:
    """Stop the profile's daemon; a warning string if that needed more than `oxymus down`."""
    if not profile.started:
        return None
    try:
        run([oxymus, "down"], profile.env, f"oxymus down ({profile.label})")
        return None
    except (BenchError, subprocess.TimeoutExpired) as exc:
        if profile.pid is None:
            return f"could not stop the daemon of {profile.label}: {exc}"
        try:
            os.kill(profile.pid, signal.SIGTERM)
        except ProcessLookupError:
            return None
        return f"`oxymus down` failed for {profile.label}; sent SIGTERM to pid {profile.pid}: {exc}"


def capture_cmd(oxymus: str) -> list[str]:
    return [oxymus, "capture", "x"]


def check_capture(proc: subprocess.CompletedProcess, label: str) -> None:
    out = proc.stdout.decode().strip()
    if len(out) != 26:
        raise BenchError(f"capture ({label}) printed {out!r}, expected a ULID")


# ---------------------------------------------------------------- Taskwarrior, the reference


def find_taskwarrior(log) -> tuple[str | None, str]:
    """The `task` binary, installed first when missing and we can (root with apt-get); (path, why not)."""
    found = shutil.which("task")
    if found:
        return found, ""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None, "Taskwarrior is not installed (and this is not root with apt-get): `task add` not run"
    log("  installing taskwarrior (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "taskwarrior"]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            return None, f"installing Taskwarrior failed ({' '.join(cmd)}: {done.stderr.strip()[-300:]}): `task add` not run"
    found = shutil.which("task")
    return (found, "") if found else (None, "apt-get installed taskwarrior but there is no `task`: `task add` not run")


def task_profile(root: str, task: str, n: int) -> dict[str, str]:
    """A Taskwarrior data dir with n pending tasks, and the environment that points `task` at it."""
    data = os.path.join(root, "task")
    os.makedirs(data, mode=0o700)
    rc = os.path.join(root, "taskrc")
    with open(rc, "w") as f:
        # No hooks, no questions, no news or first-run chatter: only what `task add` must do.
        f.write(f"data.location={data}\nhooks=off\nconfirmation=off\nverbose=nothing\nnews.version=99.99.99\n"
                "gc=on\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASK", "XDG_"))}
    env.update(TASKDATA=data, TASKRC=rc, HOME=root)
    import uuid

    entry = "20260101T000000Z"
    tasks = [{"uuid": str(uuid.UUID(int=i + 1)), "description": f"bench task {i} about the quarterly plan",
              "status": "pending", "entry": entry, "modified": entry} for i in range(n)]
    path = os.path.join(root, "tasks.json")
    with open(path, "w") as f:
        json.dump(tasks, f)
    done = subprocess.run([task, "rc.confirmation=off", "rc.hooks=off", "import", path], env=env, capture_output=True,
                          text=True, timeout=900)
    if done.returncode != 0:
        raise BenchError(f"task import of {n:,} tasks failed: {done.stderr.strip()[-500:]}")
    count = subprocess.run([task, "rc.confirmation=off", "rc.hooks=off", "status:pending", "count"], env=env,
                           capture_output=True, text=True, timeout=300)
    if count.stdout.strip() != str(n):
        raise BenchError(f"the Taskwarrior data dir holds {count.stdout.strip()!r} pending tasks, expected {n:,}")
    return env


def task_cmd(task: str) -> list[str]:
    return [task, "rc.confirmation=off", "rc.hooks=off", "add", "x"]


# ---------------------------------------------------------------- measurements


def measure_processes(python: str, oxymus: str, profiles: list[Profile], runs: int, warmup: int,
                      task: tuple[str, dict[str, str]] | None = None) -> dict[str, list[int]]:
    floor_cmd = [python, "-c", "import sqlite3"]
    cases: list[tuple[str, list[str], dict[str, str], str]] = [("floor", floor_cmd, profiles[0].env, "floor")]
    for p in profiles:
        cases.append((p.name, capture_cmd(oxymus), p.env, p.label))
    if task is not None:
        cases.append(("task", task_cmd(task[0]), task[1], "task add"))
    samples: dict[str, list[int]] = {name: [] for name, *_ in cases}
    total = warmup + runs
    for i in range(total):
        shift = i % len(cases)
        for name, cmd, env, label in cases[shift:] + cases[:shift]:
            elapsed, proc = run(cmd, env, label)
            if name not in ("floor", "task"):
                check_capture(proc, label)
            if i >= warmup:
                samples[name].append(elapsed)
        if sys.stderr.isatty():
            print(f"\r  process runs: {i + 1}/{total}", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    return samples


def measure_socket(profile: Profile, calls: int) -> dict[str, list[int]]:
    from oxymus.client.sync_client import connect, hello_params
    from oxymus.kernel.ulid import new_ulid

    sock = profile.paths().socket
    out: dict[str, list[int]] = {"capture.add": [], "status": [], "hello": []}
    clock = time.perf_counter_ns
    with connect(sock, "oxymus-bench") as conn:
        for i in range(min(50, calls)):  # warm up the connection and the daemon's code paths
            conn.call("capture.add", {"text": f"bench warmup {i}", "source": "bench", "id": new_ulid()})
            conn.call("status")
            conn.call("hello", hello_params("oxymus-bench"))
        add = out["capture.add"]
        for i in range(calls):
            params = {"text": f"bench {i}", "source": "bench", "id": new_ulid()}
            t0 = clock()
            conn.call("capture.add", params)
            add.append(clock() - t0)
        status = out["status"]
        for _ in range(calls):
            t0 = clock()
            conn.call("status")
            status.append(clock() - t0)
        hello = out["hello"]
        hp = hello_params("oxymus-bench")
        for _ in range(calls):
            t0 = clock()
            conn.call("hello", hp)
            hello.append(clock() - t0)
    return out


def count_captures(db_file: str, source: str | None = None) -> int:
    conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        if source is None:
            return conn.execute("SELECT count(*) FROM captures").fetchone()[0]
        return conn.execute("SELECT count(*) FROM captures WHERE source = ?", (source,)).fetchone()[0]
    finally:
        conn.close()


# ---------------------------------------------------------------- report


def fmt_ms(v: float) -> str:
    return f"{v:7.2f}"


def render(report: dict) -> str:
    lines = []
    env = report["environment"]
    lines.append(f"Oxymus capture benchmark  {report['when']}")
    lines.append(f"python {env['python_version']} ({env['python']}), {env['platform']}, {env['cpus']} CPUs, load {env['loadavg']}")
    lines.append(f"console script: {env['oxymus']}")
    lines.append(f"bytecode: {env['bytecode']}")
    proc = report["process"]
    lines.append(f"{proc['runs']} runs per row after {proc['warmup']} warm-up runs, interleaved; wall time of the whole process")
    lines.append("")
    lines.append(f"{'whole process':50} {'median':>7} {'p90':>7} {'min':>7} {'max':>7}  {'x floor':>7}")
    lines.append("-" * 92)
    for row in proc["rows"]:
        ratio = row["ratio_to_floor"]
        mark = "" if row["name"] in ("floor", "task") else ("  ok" if ratio <= TARGET_RATIO else "  OVER TARGET")
        lines.append(
            f"{row['label']:50} {fmt_ms(row['median_ms'])} {fmt_ms(row['p90_ms'])} "
            f"{fmt_ms(row['min_ms'])} {fmt_ms(row['max_ms'])}  {ratio:6.2f}x{mark}"
        )
    lines.append(f"(ms; target: each capture median within {TARGET_RATIO:g}x the floor median)")
    if proc.get("capture_up_to_task_add") is not None:
        r = proc["capture_up_to_task_add"]
        lines.append(f"capture (daemon up) / task add: {r:.2f}x  ({'ok' if r <= TARGET_TASK_RATIO else 'OVER TARGET'}; "
                     f"target <= {TARGET_TASK_RATIO:g}x)")
    lines.append("")
    sock = report["socket"]
    lines.append(f"socket round trip, one connection, {sock['calls']} sequential calls each (daemon: {sock['profile']})")
    lines.append(f"{'method':50} {'p50':>7} {'p90':>7} {'p99':>7} {'max':>7}")
    lines.append("-" * 92)
    for row in sock["rows"]:
        mark = ""
        if row["method"] == "capture.add":
            mark = "  ok" if row["p99_ms"] < TARGET_P99_MS else "  OVER TARGET"
        lines.append(
            f"{row['label']:50} {fmt_ms(row['p50_ms'])} {fmt_ms(row['p90_ms'])} "
            f"{fmt_ms(row['p99_ms'])} {fmt_ms(row['max_ms'])}{mark}"
        )
    lines.append(f"(ms; target: capture.add p99 under {TARGET_P99_MS:g} ms)")
    lines += footer(report)
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=40, help="measured runs per process row (default 40)")
    ap.add_argument("--warmup", type=int, default=3, help="unmeasured warm-up runs per process row (default 3)")
    ap.add_argument("--calls", type=int, default=1000, help="round trips per socket method (default 1000)")
    ap.add_argument("--tasks", type=int, default=10_000, help="pending tasks in the Taskwarrior data dir (default 10,000)")
    ap.add_argument("--no-task", action="store_true", help="do not run (or install) Taskwarrior")
    ap.add_argument("--json", action="store_true", help="print JSON on stdout (the table then goes to stderr)")
    ap.add_argument(
        "--env-bytecode",
        action="store_true",
        help="keep this environment's bytecode settings (e.g. PYTHONDONTWRITEBYTECODE=1, so every run "
        "compiles the project from source); by default .pyc files are cached in the temp dir",
    )
    args = ap.parse_args(argv)
    if args.runs < 1 or args.calls < 1 or args.warmup < 0:
        ap.error("--runs and --calls must be >= 1, --warmup >= 0")

    python = sys.executable
    oxymus = os.path.join(os.path.dirname(python), "oxymus")
    if not os.access(oxymus, os.X_OK):
        print(f"no oxymus console script next to {python}; run this with the project's venv python", file=sys.stderr)
        return 2

    root = tempfile.mkdtemp(prefix="oxb-", dir="/tmp")
    os.chmod(root, 0o700)
    pyc = None if args.env_bytecode else os.path.join(root, "pyc")
    profiles = [
        home_profile(root, "up", "capture, OXYMUS_HOME, daemon up", True, pyc),
        home_profile(root, "down", "capture, OXYMUS_HOME, daemon down (direct SQLite)", False, pyc),
        xdg_profile(root, "xup", "capture, platformdirs/XDG, daemon up", True, pyc),
        xdg_profile(root, "xdown", "capture, platformdirs/XDG, daemon down", False, pyc),
    ]
    if args.env_bytecode:
        bytecode = "as in this environment (PYTHONDONTWRITEBYTECODE=%s)" % (os.environ.get("PYTHONDONTWRITEBYTECODE") or "unset")
    else:
        bytecode = "cached (.pyc written under the temp dir, PYTHONDONTWRITEBYTECODE ignored)"
    warnings: list[str] = []
    checks: list[str] = []
    task = None
    try:
        if not args.no_task:
            binary, why = find_taskwarrior(lambda line: print(line, file=sys.stderr))
            if binary is None:
                warnings.append(why)
            else:
                if sys.stderr.isatty():
                    print(f"  building a Taskwarrior data dir of {args.tasks:,} tasks", file=sys.stderr)
                task = (binary, task_profile(root, binary, args.tasks))
                version = subprocess.run([binary, "--version"], env=task[1], capture_output=True, text=True).stdout.strip()
        for p in profiles:
            if p.daemon:
                daemon_up(oxymus, p)
        proc_samples = measure_processes(python, oxymus, profiles, args.runs, args.warmup, task)
        if sys.stderr.isatty():
            print(f"  socket round trips: {args.calls} x 3 methods", file=sys.stderr)
        sock_samples = measure_socket(profiles[0], args.calls)

        # Sanity: every timed capture landed in its own profile's database, the daemon-up
        # profiles have a live socket, and the daemon-down ones never had one.
        per_row = args.runs + args.warmup
        for p in profiles:
            paths = p.paths()
            n = count_captures(paths.db_file, "cli")
            if n != per_row:
                warnings.append(f"{p.label}: {n} captures in {paths.db_file}, expected {per_row}")
            if p.daemon and not os.path.exists(paths.socket):
                warnings.append(f"{p.label}: no socket at {paths.socket}")
            if not p.daemon and os.path.exists(paths.socket):
                warnings.append(f"{p.label}: a socket exists at {paths.socket}; was a daemon running?")
        up_db = profiles[0].paths().db_file
        n_bench = count_captures(up_db, "bench")
        checks.append(f"{per_row} captures per process row and {n_bench} bench captures landed in their databases")
        if task is not None:
            count = subprocess.run([task[0], "rc.confirmation=off", "rc.hooks=off", "status:pending", "count"], env=task[1],
                                   capture_output=True, text=True, timeout=300).stdout.strip()
            if count != str(args.tasks + per_row):
                warnings.append(f"task add: {count} pending tasks, expected {args.tasks + per_row:,}")
            checks.append(f"Taskwarrior {version}: {count} pending tasks after the runs ({args.tasks:,} imported)")
    finally:
        for p in profiles:
            w = daemon_down(oxymus, p)
            if w:
                warnings.append(w)
        shutil.rmtree(root, ignore_errors=True)

    floor_ms = ns_to_ms(proc_samples["floor"])
    floor_median = percentile(floor_ms, 50)
    rows = []
    named = [("floor", 'floor: python -c "import sqlite3"')] + [(p.name, p.label) for p in profiles]
    if task is not None:
        named.append(("task", f"task add x ({args.tasks:,} tasks)"))
    for name, label in named:
        ms = ns_to_ms(proc_samples[name])
        s = summary(ms, (50, 90))
        rows.append({
            "name": name,
            "label": label,
            "median_ms": s["p50"],
            "p90_ms": s["p90"],
            "min_ms": s["min"],
            "max_ms": s["max"],
            "ratio_to_floor": s["p50"] / floor_median,
            "within_target": name in ("floor", "task") or s["p50"] / floor_median <= TARGET_RATIO,
            "samples_ms": [round(v, 3) for v in ms],
        })
    sock_rows = []
    for method, label in [
        ("capture.add", "capture.add (durable write)"),
        ("status", "status (reads PRAGMA user_version, no write)"),
        ("hello", "hello (no store access)"),
    ]:
        ms = ns_to_ms(sock_samples[method])
        s = summary(ms, (50, 90, 99))
        sock_rows.append({
            "method": method,
            "label": label,
            "p50_ms": s["p50"],
            "p90_ms": s["p90"],
            "p99_ms": s["p99"],
            "max_ms": s["max"],
            "min_ms": s["min"],
        })
    sock_rows[0]["within_target"] = sock_rows[0]["p99_ms"] < TARGET_P99_MS

    to_task = None
    if task is not None:
        up = next(r for r in rows if r["name"] == "up")
        to_task = up["median_ms"] / next(r for r in rows if r["name"] == "task")["median_ms"]
        if to_task > TARGET_TASK_RATIO:
            warnings.append(f"oxymus capture (daemon up) takes {to_task:.2f}x `task add`, over the {TARGET_TASK_RATIO}x target")
    report = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "environment": {
            "python": python,
            "python_version": platform.python_version(),
            "oxymus": oxymus,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "bytecode": bytecode,
        },
        "targets": {"capture_ratio_to_floor": TARGET_RATIO, "capture_add_p99_ms": TARGET_P99_MS,
                    "capture_up_to_task_add": TARGET_TASK_RATIO},
        "process": {"runs": args.runs, "warmup": args.warmup, "rows": rows, "tasks": args.tasks if task else None,
                    "capture_up_to_task_add": to_task},
        "socket": {"calls": args.calls, "profile": "OXYMUS_HOME", "rows": sock_rows},
        "checks": checks,
        "warnings": warnings,
    }
    return emit(report, render(report), args.json, indent=2)


if __name__ == "__main__":
    run_main(main, "capture.py")

"""How long does the git source take to poll? `GitSource.poll()` against plain `git status`.

Run with the project's venv:

    .venv/bin/python bench/git_poll.py [--repos 50] [--runs 15] [--warmup 2] [--json]

What it measures
----------------
Setup (not timed): `--repos` realistic repositories in a temp dir under /tmp: a
few hundred files each in nested folders, a short history, about a third with
uncommitted changes (unstaged, staged, untracked), about a quarter with a local
bare upstream, some of those ahead, behind or both. Each then gets one plain
`git status`, as a repository a person uses has a fresh index.

Then, interleaved in a rotating order so machine drift hits every row alike, per run:

0. As the daemon polls (the stored poll's fingerprint handed back, `previous_fingerprint`):
   - nothing changed: the repositories' tokens (inotify, `connectors/git/watch.py`) say
     so and no git runs; against a sequential `git status` in each (target <= 0.2x);
   - all changed: `README.md` touched in every repository first (not timed), so each
     is asked and git must look at the file again; against `xargs -P2 git status`
     over all of them, also after a touch (target <= 1.0x);
   - before: every repository asked with git started by asyncio on the event loop
     thread (the runner this replaced), against the sequential `git status`.
1. `GitSource.poll()` over all the repositories (config `concurrency`, default 8),
   on one event loop kept for the whole run (`run_until_complete`, no loop
   start-up in the figure):
   - warm: the same source polled run after run, as the daemon polls it. HEADs
     have not moved, so each repository costs one git process (status);
   - cold: a new source each time, so each repository costs two (status, then
     log), as on the daemon's first poll or after a commit;
   - warm with `concurrency = 1`: the per-repository cost without parallelism.
   Every poll also reads a few marker files in each git dir (one thread hop).
2. The baseline: plain `git status` (what a person types) in each repository,
   one after the other, through `subprocess.run` with output captured.
3. One repository: a poll of a `GitSource` that watches only it (warm and cold),
   against one `git status` in it (`--single` samples of each per run).

"ratio" is a row's median over its baseline's median. Percentiles are
nearest-rank (bench/_stats.py); "median" is p50. Expect 10-50% variation between
runs on a laptop or a shared machine; compare ratios taken in the same run.
Git reads no global or system config here (GIT_CONFIG_GLOBAL=/dev/null,
GIT_CONFIG_NOSYSTEM=1), in the setup, the poll and the baseline alike.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _stats import BenchError, emit, footer, ns_to_ms, run_main, summary  # noqa: E402

GIT_ENV = {
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_TERMINAL_PROMPT": "0",
}
PROC_TIMEOUT = 60.0
TARGET_UNCHANGED = 0.2  # nothing changed, over a sequential `git status` in each
TARGET_CHANGED = 1.0  # all changed, over `xargs -P2 git status`
WORDS = "alpha beta gamma delta state poll repo index commit branch upstream merge tree blob".split()




# ---------------------------------------------------------------- setup


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), "-c", "init.defaultBranch=main", *args],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=PROC_TIMEOUT,
    )
    if proc.returncode != 0:
        raise BenchError(f"git {' '.join(args)} in {repo} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout.decode(errors="replace").strip()


def write_files(repo: Path, rng: random.Random, count: int) -> list[Path]:
    """`count` source-like files spread over a few nested folders."""
    folders = [Path(p) for p in ("src", "src/core", "src/util", "tests", "docs", "src/core/impl", "scripts")]
    paths = []
    for i in range(count):
        rel = folders[i % len(folders)] / f"{rng.choice(WORDS)}_{i}.{rng.choice(('py', 'md', 'txt', 'toml'))}"
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = rng.randint(5, 120)
        path.write_text("".join(f"{' '.join(rng.choices(WORDS, k=8))} {n}\n" for n in range(lines)))
        paths.append(path)
    (repo / "README.md").write_text(f"# {repo.name}\n")
    return paths


def make_repos(top: Path, n: int, seed: int) -> list[dict]:
    """The repositories and what was done to each (for the checks)."""
    rng = random.Random(seed)
    made = []
    for i in range(n):
        repo = top / f"repo{i:03d}"
        repo.mkdir()
        git(repo, "init", "-q")
        files = write_files(repo, rng, rng.randint(200, 400))
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "initial import")
        for c in range(rng.randint(2, 5)):  # a short history
            for p in rng.sample(files, 5):
                with open(p, "a") as f:
                    f.write(f"change {c}\n")
            git(repo, "commit", "-q", "-am", f"change {c} in {repo.name}")
        shape = {"path": repo, "files": len(files), "dirty": False, "upstream": False, "ahead": 0, "behind": 0}
        if i % 3 == 0:  # unstaged, staged and untracked changes
            for p in rng.sample(files, 4):
                with open(p, "a") as f:
                    f.write("uncommitted\n")
            git(repo, "add", str(files[0]))
            (repo / "notes.tmp").write_text("scratch\n")
            shape["dirty"] = True
        if i % 4 == 1:  # an upstream; some ahead, some behind, some both
            remote = top / f"repo{i:03d}.git"
            git(top, "clone", "-q", "--bare", str(repo), str(remote))
            git(repo, "remote", "add", "origin", str(remote))
            git(repo, "fetch", "-q", "origin")
            git(repo, "branch", "-q", "-u", "origin/main")
            kind = (i // 4) % 4
            if kind in (1, 3):  # behind: a commit pushed, then dropped locally
                (repo / "upstream.txt").write_text("from elsewhere\n")
                git(repo, "add", "upstream.txt")
                git(repo, "commit", "-q", "-m", "pushed from elsewhere")
                git(repo, "push", "-q", "origin", "main")
                git(repo, "reset", "-q", "--hard", "HEAD~1")
                shape["behind"] = 1
            if kind in (2, 3):  # ahead: local commits not pushed
                for k in range(2):
                    (repo / f"local{k}.txt").write_text("not pushed\n")
                    git(repo, "add", f"local{k}.txt")
                    git(repo, "commit", "-q", "-m", f"local {k}")
                shape["ahead"] = 2
            shape["upstream"] = True
        made.append(shape)
        if sys.stderr.isatty():
            print(f"\r  creating repositories: {i + 1}/{n}", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    for shape in made:  # a used repository has a fresh index
        git(shape["path"], "status")
    return made


# ---------------------------------------------------------------- measurements


def git_status(repo: Path) -> None:
    proc = subprocess.run(["git", "status"], cwd=repo, stdin=subprocess.DEVNULL, capture_output=True, timeout=PROC_TIMEOUT)
    if proc.returncode != 0:
        raise BenchError(f"git status in {repo} failed: {proc.stderr.decode(errors='replace').strip()}")


def measure(repos: list[dict], runs: int, warmup: int, single: int, concurrency: int) -> tuple[dict[str, list[int]], list]:
    from oxymus.connectors.git import GitConfig
    from oxymus.connectors.git import source as git_source
    from oxymus.connectors.git.source import GitSource
    from oxymus.kernel import gitrun
    from oxymus.sources.contract import PollContext

    paths = [r["path"] for r in repos]
    one = paths[0]
    ctx = PollContext(zone=ZoneInfo("UTC"), config_dir=paths[0].parent)
    all_config = GitConfig(repos=[str(p) for p in paths], concurrency=concurrency)
    seq_config = GitConfig(repos=[str(p) for p in paths], concurrency=1)
    one_config = GitConfig(repos=[str(one)])
    # warm: one source polled again and again, as the daemon does (HEADs remembered);
    # cold: a new source each time (status and log in every repository)
    all_src, seq_src, one_src = GitSource(all_config), GitSource(seq_config), GitSource(one_config)
    loop = asyncio.new_event_loop()
    clock = time.perf_counter_ns

    def poll(source) -> int:
        # every repository asked: the items a source keeps between polls are dropped first (the
        # HEADs it remembers stay: these rows are the "warm" polls, one git process per repository)
        source._kept.clear()
        t0 = clock()
        result = loop.run_until_complete(source.poll(ctx))
        elapsed = clock() - t0
        bad = [i for i in result.items if i.error]
        if bad:
            raise BenchError(f"poll reported errors: {bad[0].error} (and {len(bad) - 1} more)")
        return elapsed

    def touch_all() -> None:
        # a tracked file's mtime moved in every repository: git must look at it again
        for p in paths:
            os.utime(p / "README.md")

    fingerprint: list[str | None] = [None]
    incr_src = GitSource(all_config)

    def poll_incremental(changed: bool, prime: bool = False) -> int:
        """As the coordinator polls: the stored poll's fingerprint handed back."""
        if prime:
            poll_incremental(False)
        if changed:
            touch_all()
        c = PollContext(zone=ZoneInfo("UTC"), config_dir=paths[0].parent, previous_fingerprint=fingerprint[0])
        t0 = clock()
        result = loop.run_until_complete(incr_src.poll(c))
        elapsed = clock() - t0
        if changed and result.unchanged:
            raise BenchError("a poll after every repository changed answered unchanged")
        if prime and not result.unchanged:
            raise BenchError("a poll right after a stored one, nothing changed, did not answer unchanged")
        if any(i.error for i in result.items):
            raise BenchError("poll reported errors")
        fingerprint[0] = result.fingerprint
        return elapsed

    old_src = GitSource(all_config)

    def poll_on_loop() -> int:
        """Before: every repository asked, git started by asyncio from the event loop thread."""
        async def on_loop(git_path, repo, args, env, timeout):
            return await gitrun.run_process((git_path, "-C", repo, *args), env=env, timeout=timeout, name="git")
        real = git_source.run_git
        git_source.run_git = on_loop
        try:
            return poll(old_src)
        finally:
            git_source.run_git = real

    def xargs_all(changed: bool) -> int:
        if changed:
            touch_all()
        listing = b"".join(os.fsencode(p) + b"\0" for p in paths)
        t0 = clock()
        proc = subprocess.run(["xargs", "-0", "-P2", "-I{}", "git", "-C", "{}", "status"], input=listing,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=PROC_TIMEOUT)
        elapsed = clock() - t0
        if proc.returncode != 0:
            raise BenchError(f"xargs -P2 git status failed: {proc.stderr.decode(errors='replace').strip()}")
        return elapsed

    def baseline_all() -> int:
        t0 = clock()
        for p in paths:
            git_status(p)
        return clock() - t0

    def status_one() -> list[int]:
        out = []
        for _ in range(single):
            t0 = clock()
            git_status(one)
            out.append(clock() - t0)
        return out

    cases = [
        # the baselines' plain `git status` rewrites each index, so an untimed poll first takes that in
        ("poll_unchanged", lambda: [poll_incremental(False, prime=True)]),
        ("poll_changed", lambda: [poll_incremental(True)]),
        ("xargs_changed", lambda: [xargs_all(True)]),
        ("poll_on_loop", lambda: [poll_on_loop()]),
        ("poll", lambda: [poll(all_src)]),
        ("poll_cold", lambda: [poll(GitSource(all_config))]),
        ("poll_seq", lambda: [poll(seq_src)]),
        ("baseline", lambda: [baseline_all()]),
        ("poll_one", lambda: [poll(one_src) for _ in range(single)]),
        ("poll_one_cold", lambda: [poll(GitSource(one_config)) for _ in range(single)]),
        ("status_one", status_one),
    ]
    samples: dict[str, list[int]] = {name: [] for name, _ in cases}
    try:
        total = warmup + runs
        for i in range(total):
            shift = i % len(cases)
            for name, fn in cases[shift:] + cases[:shift]:
                got = fn()
                if i >= warmup:
                    samples[name].extend(got)
            if sys.stderr.isatty():
                print(f"\r  runs: {i + 1}/{total}", end="", file=sys.stderr, flush=True)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        final = loop.run_until_complete(all_src.poll(ctx)).items
    finally:
        loop.close()
    return samples, final


def check(repos: list[dict], items: list) -> list[str]:
    """What the poll reported, against what the setup did and what git itself says."""
    problems = []
    by_key = {i.key: i.data for i in items}
    if len(items) != len(repos):
        problems.append(f"{len(items)} items for {len(repos)} repositories")
    errors = [i.error for i in items if i.error]
    if errors:
        problems.append(f"{len(errors)} error items, e.g. {errors[0]}")
    for r in repos:
        data = by_key.get(os.path.realpath(r["path"]))
        if data is None:
            problems.append(f"{r['path']}: no item")
            continue
        porcelain = subprocess.run(
            ["git", "status", "--porcelain"], cwd=r["path"], capture_output=True, timeout=PROC_TIMEOUT
        ).stdout.decode(errors="replace").splitlines()
        changes = data["staged"] + data["unstaged"] + data["untracked"]
        if bool(porcelain) != bool(changes) or bool(porcelain) != r["dirty"]:
            problems.append(f"{r['path']}: {changes} changes reported, git status --porcelain lists {len(porcelain)}")
        if (data["ahead"], data["behind"], data["upstream"] is not None) != (r["ahead"], r["behind"], r["upstream"]):
            problems.append(f"{r['path']}: ahead/behind/upstream {data['ahead']}/{data['behind']}/{data['upstream']}, expected {r['ahead']}/{r['behind']}/{r['upstream']}")
    return problems


# ---------------------------------------------------------------- report


def fmt_ms(v: float) -> str:
    return f"{v:8.2f}"


def render(report: dict) -> str:
    env = report["environment"]
    setup = report["setup"]
    lines = [
        f"Oxymus git poll benchmark  {report['when']}",
        f"python {env['python_version']}, {env['git']}, {env['platform']}, {env['cpus']} CPUs, load {env['loadavg']}",
        f"{setup['repos']} repositories, {setup['files_min']}-{setup['files_max']} files each; "
        f"{setup['dirty']} with uncommitted changes, {setup['upstream']} with an upstream "
        f"({setup['ahead']} ahead, {setup['behind']} behind); created in {setup['seconds']:.1f} s",
        f"concurrency {report['concurrency']}; {report['runs']} runs after {report['warmup']} warm-up runs, interleaved; "
        f"single-repository rows: {report['single']} samples per run",
        "",
        f"{'':52} {'median':>8} {'p90':>8} {'min':>8} {'max':>8}  {'ratio':>6}",
        "-" * 100,
    ]
    for row in report["rows"]:
        ratio = f"{row['ratio']:5.2f}x" if row.get("ratio") is not None else ""
        lines.append(
            f"{row['label']:52} {fmt_ms(row['median_ms'])} {fmt_ms(row['p90_ms'])} "
            f"{fmt_ms(row['min_ms'])} {fmt_ms(row['max_ms'])}  {ratio:>6}"
        )
    lines.append("(ms; ratio = the row's median over its baseline's: all-repository rows over the")
    lines.append(" sequential `git status` row, the all-changed poll over `xargs -P2 git status`,")
    lines.append(" the 1-repository poll over one `git status`)")
    t = report["targets"]
    lines.append(f"targets: nothing changed <= {t['unchanged_vs_sequential']}x sequential `git status`; "
                 f"all changed <= {t['changed_vs_xargs']}x `xargs -P2 git status`")
    per = report["per_repo_ms"]
    lines.append(f"per repository: poll {per['poll']:.2f} ms (cold {per['poll_cold']:.2f}, "
                 f"concurrency 1 {per['poll_seq']:.2f}), `git status` {per['baseline']:.2f} ms")
    lines += footer(report)
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repos", type=int, default=50, help="repositories to create (default 50)")
    ap.add_argument("--runs", type=int, default=15, help="measured runs (default 15)")
    ap.add_argument("--warmup", type=int, default=2, help="unmeasured warm-up runs (default 2)")
    ap.add_argument("--single", type=int, default=5, help="single-repository samples per run (default 5)")
    ap.add_argument("--concurrency", type=int, default=8, help="the poll's [git].concurrency (default 8)")
    ap.add_argument("--seed", type=int, default=7, help="seed for the repositories' contents (default 7)")
    ap.add_argument("--json", action="store_true", help="print JSON on stdout (the table then goes to stderr)")
    args = ap.parse_args(argv)
    if args.repos < 1 or args.runs < 1 or args.single < 1 or args.warmup < 0 or not 1 <= args.concurrency <= 64:
        ap.error("--repos, --runs, --single must be >= 1, --warmup >= 0, --concurrency in 1..64")
    if shutil.which("git") is None:
        print("git is not installed", file=sys.stderr)
        return 2
    for k in [k for k in os.environ if k.startswith("GIT_")]:
        del os.environ[k]
    os.environ.update(GIT_ENV)  # the poll and the baseline see the same git config

    top = Path(tempfile.mkdtemp(prefix="oxg-", dir="/tmp"))
    try:
        t0 = time.monotonic()
        repos = make_repos(top, args.repos, args.seed)
        setup_s = time.monotonic() - t0
        samples, final = measure(repos, args.runs, args.warmup, args.single, args.concurrency)
        problems = check(repos, final)
    finally:
        shutil.rmtree(top, ignore_errors=True)

    ms = {name: ns_to_ms(v) for name, v in samples.items()}
    stats = {name: summary(v, (50, 90)) for name, v in ms.items()}
    n = args.repos
    labels = [
        ("poll_unchanged", f"poll as the daemon does, {n} repos, nothing changed", "baseline"),
        ("poll_changed", f"  same, all {n} changed (a tracked file touched)", "xargs_changed"),
        ("xargs_changed", f"baseline: `xargs -P2 git status`, all {n} changed", None),
        ("poll_on_loop", "every repo asked, git started on the loop (before)", "baseline"),
        ("poll", "every repo asked (no fingerprint), from threads", "baseline"),
        ("poll_cold", "  same, cold (new source: status + log each)", "baseline"),
        ("poll_seq", "  same, warm, concurrency 1", "baseline"),
        ("baseline", f"baseline: `git status` x {n}, sequential", None),
        ("poll_one", "GitSource.poll(), 1 repo", "status_one"),
        ("poll_one_cold", "  same, cold (new source: status + log)", "status_one"),
        ("status_one", "`git status`, 1 repo", None),
    ]
    rows = []
    for name, label, base in labels:
        s = stats[name]
        rows.append({
            "name": name,
            "label": label,
            "median_ms": s["p50"],
            "p90_ms": s["p90"],
            "min_ms": s["min"],
            "max_ms": s["max"],
            "ratio": s["p50"] / stats[base]["p50"] if base else None,
            "samples_ms": [round(v, 3) for v in ms[name]],
        })
    ratio = {r["name"]: r["ratio"] for r in rows}
    if ratio["poll_unchanged"] > TARGET_UNCHANGED:
        problems.append(f"nothing changed: {ratio['poll_unchanged']:.2f}x sequential git status, over {TARGET_UNCHANGED}x")
    if ratio["poll_changed"] > TARGET_CHANGED:
        problems.append(f"all changed: {ratio['poll_changed']:.2f}x xargs -P2 git status, over {TARGET_CHANGED}x")
    attention = sum(1 for i in final if i.data.get("needs_attention"))
    checks = [f"the last poll reported {len(final)} repositories, {attention} needing attention"]
    if not problems:
        checks.append("counts and ahead/behind agree with the setup and with `git status --porcelain` for every repository")
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    report = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "environment": {
            "python": sys.executable,
            "python_version": platform.python_version(),
            "git": git_version,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        },
        "setup": {
            "repos": n,
            "files_min": min(r["files"] for r in repos),
            "files_max": max(r["files"] for r in repos),
            "dirty": sum(r["dirty"] for r in repos),
            "upstream": sum(r["upstream"] for r in repos),
            "ahead": sum(1 for r in repos if r["ahead"]),
            "behind": sum(1 for r in repos if r["behind"]),
            "seconds": setup_s,
            "seed": args.seed,
        },
        "runs": args.runs,
        "warmup": args.warmup,
        "single": args.single,
        "concurrency": args.concurrency,
        "rows": rows,
        "per_repo_ms": {k: stats[k]["p50"] / n for k in ("poll", "poll_cold", "poll_seq", "baseline")},
        "targets": {"unchanged_vs_sequential": TARGET_UNCHANGED, "changed_vs_xargs": TARGET_CHANGED},
        "checks": checks,
        "warnings": problems,
    }
    return emit(report, render(report), args.json, indent=2)


if __name__ == "__main__":
    run_main(main, "git_poll.py")

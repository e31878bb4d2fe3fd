"""How fast is the research agent's notes index over thousands of markdown notes?

    .venv/bin/python bench/notes_index.py [--notes 5000] [--lines 40] [--json]

Generates a notes folder (`--notes` files of about `--lines` lines each, in 50 subfolders,
with headings, lists and paragraphs), then, on a fresh index file:

1. the first index (every file read and indexed, one transaction),
2. a re-run with nothing changed (one stat per file, nothing read), best of 3,
3. a re-run after 1% of the files changed and 1% were deleted,
4. searches as the agent runs them (8 words OR'ed, top 8 lines), p50 / p90 of 50.

Figures drift 10-50% between runs; compare rows within one run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _stats import emit, footer, run_main, summary  # noqa: E402

WORDS = ("acme workshop design system budget client invoice meeting berlin march proposal audit website rebuild "
         "newsletter post draft idea goal revenue team training typography colour tokens component accessibility "
         "contract deadline follow call email lunch coffee review retro sprint backlog roadmap pricing").split()


def note(rng: random.Random, i: int, lines: int) -> str:
    out = [f"# Note {i}: {rng.choice(WORDS)} {rng.choice(WORDS)}", ""]
    while len(out) < lines:
        kind = rng.random()
        if kind < 0.1:
            out += ["", f"## {rng.choice(WORDS).capitalize()} {rng.randint(1, 99)}", ""]
        elif kind < 0.5:
            out.append("- " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9))))
        else:
            out.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))) + f" {rng.randint(100, 9999)}.")
    return "\n".join(out) + "\n"


def make_folder(root: str, count: int, lines: int) -> int:
    rng = random.Random(15)
    total = 0
    for i in range(count):
        folder = os.path.join(root, f"area-{i % 50:02d}")
        os.makedirs(folder, exist_ok=True)
        text = note(rng, i, lines)
        total += len(text)
        with open(os.path.join(folder, f"note-{i:05d}.md"), "w", encoding="utf-8") as fh:
            fh.write(text)
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--notes", type=int, default=5000, help="markdown files (default 5000)")
    ap.add_argument("--lines", type=int, default=40, help="lines per file (default 40)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from oxymus.agents.research_notes import NotesIndex

    work = tempfile.mkdtemp(prefix="oxb-notes-")
    try:
        notes = os.path.join(work, "notes")
        size = make_folder(notes, args.notes, args.lines)
        index_file = os.path.join(work, "cache", "notes-index.sqlite")

        index = NotesIndex(index_file)
        t = time.perf_counter()
        first = index.update([notes])
        first_s = time.perf_counter() - t
        files, rows = index.count()

        unchanged = []
        for _ in range(3):
            t = time.perf_counter()
            again = index.update([notes])
            unchanged.append(time.perf_counter() - t)
            assert again.indexed == 0 and again.unchanged == args.notes, again

        rng = random.Random(7)
        names = sorted(os.path.join(d, f) for d, _s, fs in os.walk(notes) for f in fs)
        picked = rng.sample(names, max(2, len(names) // 50))
        half = len(picked) // 2
        for path in picked[:half]:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write("\nA new line about the acme workshop budget.\n")
            st = os.stat(path)
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        for path in picked[half:]:
            os.remove(path)
        t = time.perf_counter()
        changed = index.update([notes])
        changed_s = time.perf_counter() - t

        searches = []
        for _ in range(50):
            terms = rng.sample(WORDS, 8)
            t = time.perf_counter()
            index.search(terms, roots=[notes], limit=8)
            searches.append((time.perf_counter() - t) * 1000)
        index.close()
        db_bytes = sum(os.path.getsize(os.path.join(work, "cache", f)) for f in os.listdir(os.path.join(work, "cache")))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    search = summary(searches)
    report = {
        "notes": args.notes, "bytes": size, "blocks_indexed": rows, "files_indexed": files, "index_bytes": db_bytes,
        "first_index_s": first_s, "unchanged_rerun_s": min(unchanged), "changed_rerun_s": changed_s,
        "changed": {"indexed": changed.indexed, "removed": changed.removed},
        "search_ms": search,
        "checks": [f"first index read {first.indexed} files", f"unchanged re-runs read 0 files (x3)",
                   f"after changes: {changed.indexed} re-read, {changed.removed} removed"],
        "warnings": [],
    }
    lines = [
        f"notes index: {args.notes} notes, {size / 2**20:.1f} MB, {rows:,} blocks indexed, index file {db_bytes / 2**20:.1f} MB",
        f"  first index             {first_s * 1000:9.0f} ms",
        f"  re-run, nothing changed {min(unchanged) * 1000:9.1f} ms  (best of 3; {min(unchanged) / first_s:.1%} of the first)",
        f"  re-run, 1% changed/1% deleted {changed_s * 1000:5.0f} ms",
        f"  search (8 words, top 8) p50 {search['p50']:.2f} ms  p90 {search['p90']:.2f} ms  max {search['max']:.2f} ms",
    ]
    return emit(report, "\n".join(lines + footer(report)), args.json)


if __name__ == "__main__":
    run_main(main, "notes_index.py")

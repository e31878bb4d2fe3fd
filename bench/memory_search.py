"""How fast is the ranked plan of memory search on a big memory? Ranked FTS5 floor against RANKED_SQL, in one run.

(Search as you type, which mostly takes the other plan, is bench/search_typing.py; this one
measures the ranked plan alone, as `MemoryRepo.search` runs it on a memory with no
vocabulary snapshot: see oxymus/memory/search_plan.py.)

Run with the project's venv:

    .venv/bin/python bench/memory_search.py [--sizes 100000,1000000] [--queries 200] [--json] [--keep DIR]

Why
---
The ranked plan (`oxymus/memory/search_plan.py`) ranks in two steps: FTS5 picks the best `CANDIDATES` matches by
(weighted) bm25, then only those few are re-ranked by tier and recency and joined
to their rows. The claim is that this costs about what a plain ranked FTS5 query
costs, even for common words, where ranking scores every matching row (at a
million notes a plain ranked query on a common word takes hundreds of ms). This
script checks that claim on databases large enough for it to matter.

What it does
------------
1. For each size, builds a real database file in a temp dir through the real
   schema (`oxymus.store.db.connect` runs the migrations), then fills
   `memory_records` in ONE transaction with `executemany`. The FTS index is kept
   by the migration's own triggers (`--index triggers`, the default: the real
   write path), or, with `--index rebuild`, the triggers are dropped, the rows
   inserted, `INSERT INTO memory_fts(memory_fts) VALUES('rebuild')` run and the
   triggers re-created from their exact CREATE TRIGGER text in sqlite_master
   (which is the text the migration executed). Only the build connection gets a
   bigger page cache (`--build-cache-mb`); the measured connections use the
   project's PRAGMAS unchanged. Only `memory_records` is filled (no
   `memory_versions` or audit rows: they are not read by search).
   Records are synthetic but shaped like real text, seeded and deterministic:
   a 50,000-word vocabulary of pronounceable made-up words (shorter words get the
   frequent ranks; every word ends in k/p/b/v/x/z so the porter stemmer leaves it
   whole, which the script checks), word frequencies Zipf with exponent 1.1;
   titles 3-8 words, bodies 20-120 words; kinds from `DEFAULT_KINDS` (weighted),
   0-3 tags from a set of 24, created over 3 years in `seq` order, touched some
   time after; tier hot for about 0.2% (touched in the last two weeks), warm if
   touched in the last year, else cold; provenance `{"source":"user"}`.
2. `--queries` seeded queries in three frequency bands of the vocabulary, a third
   each: common (ranks 1-200), medium (201-5,000), rare (5,001-50,000). Half are
   one word drawn uniformly by rank within the band; the others have 2-3 words of
   that band taken from one real record (so the AND still matches something, as
   when you search for a note you remember), and carry that record's kind when
   they have a kind filter. About 30% end mid-word (the last word loses 1-3
   letters, keeping at least 4: search as you type) and about 25% have a kind filter. The MATCH
   expression is always `oxymus.memory.records.fts_query()`'s, so the last word is a
   prefix query as in the app.
3. Timed per query, interleaved (the order of the variants rotates per query), on
   one stdlib connection from `oxymus.store.db.connect` (the project's PRAGMAS),
   after one unmeasured pass so page caches are warm:
   - floor: `SELECT rowid FROM memory_fts WHERE memory_fts MATCH ? ORDER BY rank
     LIMIT 20`, the same MATCH text: a plain ranked FTS5 query, the least any
     ranked search can do;
   - candidates: the first step of RANKED_SQL alone (its CTE, cut out of
     `oxymus.memory.search_plan.RANKED_SQL` at run time): weighted bm25, top CANDIDATES;
   - ours: the exact `RANKED_SQL` with the parameters `MemoryRepo.search` passes
     (limit 20, candidates max(CANDIDATES, 20), a fixed now), fetchall;
   - e2e (a subset, `--e2e` queries): `MemoryRepo.search` on an aiosqlite `Store`
     (thread hand-off, record models, snippets), interleaved with the rest.
   Each timed execution is one sample (`--rounds` measured passes). The target:
   ours p95 within 1.3x the floor p95, overall and per band.

Percentiles are nearest-rank (bench/_stats.py). Expect 10-50% drift between runs
on a shared machine; compare ratios within one run.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import base64
import bisect
import datetime as dt
import json
import operator
import os
import platform
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _stats import BenchError, emit, footer, ns_to_ms, percentile, run_main  # noqa: E402

from oxymus.memory import records as m  # noqa: E402
from oxymus.memory import search_plan as sp  # noqa: E402
from oxymus.store.db import PRAGMAS, connect  # noqa: E402

TARGET_RATIO = 1.3  # ours p95 / floor p95
LIMIT = 20
VOCAB_SIZE = 50_000
ZIPF_S = 1.1
BANDS = (("common", 1, 200), ("medium", 201, 5_000), ("rare", 5_001, VOCAB_SIZE))
KIND_WEIGHTS = {"fact": 35, "person": 15, "project": 10, "commitment": 10, "preference": 10, "decision": 20}
TAGS = ("work", "home", "health", "finance", "family", "travel", "reading", "ideas", "errands", "music",
        "garden", "car", "taxes", "school", "friends", "kids", "cooking", "fitness", "learning", "oxymus",
        "admin", "gifts", "house", "events")
NOW = dt.datetime(2026, 11, 20, 12, 0, 0, tzinfo=dt.timezone.utc)
SPAN_S = 3 * 365 * 86_400
FLOOR_SQL = "SELECT rowid FROM memory_fts WHERE memory_fts MATCH ? ORDER BY rank LIMIT 20"
INSERT_SQL = ("INSERT INTO memory_records (id, kind, title, body, tags, tier, provenance, created_at, updated_at, touched_at) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
PROVENANCE = '{"source":"user"}'
ANCHORS = 4_000  # records whose words are kept for multi-word queries

_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789ABCDEFGHJKMNPQRSTVWXYZ")




# ---------------------------------------------------------------- synthetic text


def make_vocabulary(seed: int) -> list[str]:
    """VOCAB_SIZE distinct made-up words, rank order (index 0 is the most frequent); shorter words rank higher."""
    rng = random.Random(seed)
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    finals = "kpbvxz"  # no porter rule strips or rewrites a word ending in one of these
    words: set[str] = set()
    while len(words) < VOCAB_SIZE:
        n = rng.choices((2, 3, 4), weights=(3, 5, 2))[0]
        words.add("".join(rng.choice(syllables) for _ in range(n)) + rng.choice(finals))
    ordered = sorted(words)
    rng.shuffle(ordered)
    ordered.sort(key=len)  # stable: random order within a length
    return ordered


def check_stemming(vocab: list[str]) -> None:
    """The porter tokenizer must keep every word as it is (else bands and prefixes would be off)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='porter unicode61 remove_diacritics 2')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')")
    db.executemany("INSERT INTO t(x) VALUES (?)", ((" ".join(vocab[i:i + 1000]),) for i in range(0, len(vocab), 1000)))
    terms = {row[0] for row in db.execute("SELECT term FROM v")}
    db.close()
    if terms != set(vocab):
        raise BenchError(f"the porter tokenizer changed {len(set(vocab) - terms)} vocabulary words")


def zipf_cum_weights(n: int, s: float) -> list[float]:
    out, total = [], 0.0
    for rank in range(1, n + 1):
        total += rank ** -s
        out.append(total)
    return out


class ZipfSampler:
    """Draws vocabulary words by Zipf weight, exactly, without a Python-level bisect for most draws.

    A 65,536-bucket table over the cumulative distribution gives the word for every
    bucket that lies inside one word's share (the frequent words: about 86% of draws,
    looked up in C by itemgetter); a draw landing in a bucket shared by several rare
    words is resolved by a bisect at a uniform point inside that bucket.
    """

    BITS = 16

    def __init__(self, vocab: list[str], cum: list[float]):
        size = 1 << self.BITS
        total = cum[-1]
        self.vocab = vocab
        self.norm = [c / total for c in cum]
        self.norm[-1] = 2.0  # every u < 1 lands on a word
        table = []
        for b in range(size):
            i = bisect.bisect_right(self.norm, b / size)
            table.append(vocab[i] if self.norm[i] >= (b + 1) / size else None)
        self.table = table

    def draw(self, rng: random.Random, k: int) -> list[str]:
        idx = array.array("H", rng.randbytes(2 * k))
        if sys.byteorder != "little":
            idx.byteswap()  # the same words on every machine
        words = operator.itemgetter(*idx)(self.table) if k > 1 else [self.table[idx[0]]]
        vocab, norm, rnd, bis, scale = self.vocab, self.norm, rng.random, bisect.bisect_right, 1.0 / (1 << self.BITS)
        return [w if w is not None else vocab[bis(norm, (b + rnd()) * scale)] for w, b in zip(words, idx)]


def ulid(ms: int, rand80: int) -> str:
    value = (ms << 80) | rand80  # 128 bits, written as 26 Crockford digits (130 bits)
    return base64.b32encode((value << 30).to_bytes(20, "big")).decode()[:26].translate(_CROCKFORD)


def iso(ts: float) -> str:
    ms = int(ts * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


class Generator:
    """Seeded records for one size; remembers the words of ANCHORS sampled records for queries."""

    def __init__(self, n: int, seed: int, vocab: list[str], cum: list[float]):
        self.n, self.seed, self.vocab = n, seed, vocab
        self.sampler = ZipfSampler(vocab, cum)
        self.rank = {w: i + 1 for i, w in enumerate(vocab)}
        pick = random.Random(seed ^ 0xA5A5)
        self.anchor_ids = set(pick.sample(range(n), min(ANCHORS, n)))
        self.anchors: list[tuple[list[int], str]] = []  # (ranks of the record's words, kind)
        self.kinds = {k: 0 for k in KIND_WEIGHTS}
        self.tiers = {"hot": 0, "warm": 0, "cold": 0}
        self.words = 0
        self.gen_ns = 0

    def rows(self, batch: int = 5_000):
        rng = random.Random(self.seed)
        kinds = [k for k, w in KIND_WEIGHTS.items() for _ in range(w)]  # weights are percentages
        ntags_of = [0] * 40 + [1] * 35 + [2] * 18 + [3] * 7
        draw = self.sampler.draw
        start = NOW.timestamp() - SPAN_S
        now = NOW.timestamp()
        clock = time.perf_counter_ns
        for lo in range(0, self.n, batch):
            t0 = clock()
            hi = min(self.n, lo + batch)
            shapes = [(rng.randint(3, 8), rng.randint(20, 120)) for _ in range(hi - lo)]
            total = sum(a + b for a, b in shapes)
            words = draw(rng, total)
            self.words += total
            out = []
            at = 0
            for j, (nt, nb) in enumerate(shapes):
                i = lo + j
                title_w = words[at:at + nt]
                body_w = words[at + nt:at + nt + nb]
                at += nt + nb
                title = " ".join(title_w).capitalize()
                body = " ".join(body_w).capitalize() + "."
                kind = kinds[int(rng.random() * 100)]
                ntags = ntags_of[int(rng.random() * 100)]
                tags = json.dumps(rng.sample(TAGS, ntags)) if ntags else "[]"
                created = start + (i + rng.random()) * SPAN_S / self.n
                if rng.random() < 0.002:
                    tier = "hot"
                    touched = max(created, now - rng.random() * 14 * 86_400)
                else:
                    touched = created + (now - created) * rng.random() ** 4
                    tier = "warm" if now - touched < 365 * 86_400 else "cold"
                updated = created + (touched - created) * rng.random()
                rid = ulid(int(created * 1000), rng.getrandbits(80))
                self.kinds[kind] += 1
                self.tiers[tier] += 1
                if i in self.anchor_ids:
                    self.anchors.append(([self.rank[w] for w in title_w + body_w], kind))
                out.append((rid, kind, title, body, tags, tier, PROVENANCE, iso(created), iso(updated), iso(touched)))
            self.gen_ns += clock() - t0
            yield from out


# ---------------------------------------------------------------- database


def build(path: str, gen: Generator, index_mode: str, cache_mb: int) -> dict:
    t0 = time.perf_counter()
    db = connect(path)
    try:
        db.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")
        triggers = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'memory_records' ORDER BY name"
        ).fetchall()
        if not any("INSERT INTO memory_fts" in (sql or "") and "AFTER INSERT" in sql for _, sql in triggers):
            raise BenchError(f"no FTS insert trigger on memory_records (found {[t[0] for t in triggers]})")
        db.execute("BEGIN IMMEDIATE")
        if index_mode == "rebuild":
            for name, _ in triggers:
                db.execute(f"DROP TRIGGER {name}")
        t_ins = time.perf_counter()
        db.executemany(INSERT_SQL, gen.rows())
        insert_s = time.perf_counter() - t_ins
        rebuild_s = 0.0
        if index_mode == "rebuild":
            t_rb = time.perf_counter()
            db.execute("INSERT INTO memory_fts(memory_fts) VALUES('rebuild')")
            rebuild_s = time.perf_counter() - t_rb
            for _, sql in triggers:
                db.execute(sql)
        t_c = time.perf_counter()
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        commit_s = time.perf_counter() - t_c
        count = db.execute("SELECT count(*) FROM memory_records").fetchone()[0]
        indexed = db.execute("SELECT count(*) FROM memory_fts_docsize").fetchone()[0]
        segments = db.execute("SELECT count(DISTINCT segid) FROM memory_fts_idx").fetchone()[0]
        after = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'memory_records' ORDER BY name"
        ).fetchall()
    finally:
        db.close()
    if count != gen.n or indexed != gen.n:
        raise BenchError(f"built {count} records with {indexed} indexed, expected {gen.n}")
    if after != triggers:
        raise BenchError("the FTS triggers differ from the migration's after the build")
    size = os.path.getsize(path) + sum(os.path.getsize(path + s) for s in ("-wal", "-shm") if os.path.exists(path + s))
    gen_s = gen.gen_ns / 1e9
    return {
        "index_mode": index_mode,
        "build_s": time.perf_counter() - t0,
        "generate_s": gen_s,
        "insert_index_s": insert_s - gen_s,  # executemany pulls rows from the generator: its time is taken out
        "rebuild_s": rebuild_s,
        "commit_checkpoint_s": commit_s,
        "file_bytes": size,
        "records": count,
        "fts_segments": segments,
        "words": gen.words,
        "kinds": gen.kinds,
        "tiers": gen.tiers,
    }


def ranked_plan(text: str, kind: str | None) -> sp.SearchPlan:
    """The ranked plan `MemoryRepo.search` runs on a memory with no vocabulary snapshot (as built here)."""
    words = m.tokens(text)
    return sp.choose([sp.Word(text=w, prefix=i == len(words) - 1, docs=0) for i, w in enumerate(words)],
                     m.filter_terms(kind=kind), have_vocab=False)


def candidates_sql() -> str:
    """The first step of RANKED_SQL (its CTE body), cut out of the real text."""
    found = re.search(r"WITH\s+candidates\s+AS\s*\((.*?)\),\s*titles", sp.RANKED_SQL, re.S)
    if not found:
        raise BenchError("could not find the candidates CTE in oxymus.memory.search_plan.RANKED_SQL")
    return found.group(1).strip()


# ---------------------------------------------------------------- queries


class Query:
    __slots__ = ("i", "text", "kind", "band", "words", "prefix", "anchored", "match", "title_match", "matches", "ours_ids", "e2e_ids")

    def __init__(self, i, text, kind, band, words, prefix, anchored):
        self.i, self.text, self.kind, self.band = i, text, kind, band
        self.words, self.prefix, self.anchored = words, prefix, anchored
        plan = ranked_plan(text, kind)
        self.match, self.title_match = plan.match, plan.title_match
        self.matches = 0
        self.ours_ids: list[str] | None = None
        self.e2e_ids: list[str] | None = None

    def as_dict(self) -> dict:
        return {"text": self.text, "kind": self.kind, "band": self.band, "words": self.words, "prefix": self.prefix,
                "anchored": self.anchored, "match": self.match, "matches": self.matches}


def make_queries(n: int, seed: int, gen: Generator) -> list[Query]:
    rng = random.Random(seed)
    kinds, kind_w = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    out = []
    for i in range(n):
        band, lo, hi = BANDS[i % len(BANDS)]
        nwords = 1 if rng.random() < 0.5 else rng.choice((2, 2, 3))
        kind = None
        anchored = False
        ranks: list[int] = []
        if nwords > 1:
            for _ in range(50):
                words, rkind = rng.choice(gen.anchors)
                inband = sorted({r for r in words if lo <= r <= hi})
                if len(inband) >= nwords:
                    ranks = rng.sample(inband, nwords)
                    anchored = True
                    break
        if not ranks:
            ranks = [rng.randint(lo, hi) for _ in range(nwords)]
            rkind = rng.choices(kinds, weights=kind_w)[0]
        words = [gen.vocab[r - 1] for r in ranks]
        prefix = rng.random() < 0.3
        if prefix:
            last = words[-1]
            words[-1] = last[:rng.randint(max(4, len(last) - 3), len(last) - 1)]
        if rng.random() < 0.25:
            kind = rkind
        out.append(Query(i, " ".join(words), kind, band, nwords, prefix, anchored))
    order = list(range(n))
    rng.shuffle(order)
    return [out[j] for j in order]


# ---------------------------------------------------------------- measurement


async def measure(path: str, queries: list[Query], rounds: int, e2e_n: int) -> tuple[dict, dict]:
    from oxymus.store.repos import Store

    now_s = NOW.strftime("%Y-%m-%dT%H:%M:%S")
    cand_sql = candidates_sql()
    candidates = max(sp.CANDIDATES, LIMIT)
    db = connect(path)
    store = await Store.open(path)
    clock = time.perf_counter_ns
    checks: dict = {"result_mismatch": [], "empty": 0}
    try:
        for q in queries:
            q.matches = db.execute("SELECT count(*) FROM memory_fts WHERE memory_fts MATCH ?", (q.match,)).fetchone()[0]
        e2e_set = {q.i for q in queries[:e2e_n]}

        def floor(q):
            return db.execute(FLOOR_SQL, (q.match,)).fetchall()

        def cand(q):
            return db.execute(cand_sql, {"match": q.match, "candidates": candidates}).fetchall()

        def ours(q):
            return db.execute(sp.RANKED_SQL, {"match": q.match, "title_match": q.title_match, "candidates": candidates,
                                              "now": now_s, "limit": LIMIT}).fetchall()

        variants = [("floor", floor), ("candidates", cand), ("ours", ours)]
        samples: dict[str, dict[int, list[int]]] = {name: {q.i: [] for q in queries} for name, _ in variants}
        samples["e2e"] = {i: [] for i in e2e_set}
        total = rounds + 1
        for rnd in range(total):
            measured = rnd > 0
            for k, q in enumerate(queries):
                steps: list = list(variants)
                if q.i in e2e_set:
                    steps.append(("e2e", None))
                shift = (k + rnd) % len(steps)
                for name, fn in steps[shift:] + steps[:shift]:
                    if fn is None:
                        t0 = clock()
                        hits = await store.memory.search(q.text, kind=q.kind, limit=LIMIT, now=NOW)
                        elapsed = clock() - t0
                        result = [h.record.id for h in hits]
                    else:
                        t0 = clock()
                        rows = fn(q)
                        elapsed = clock() - t0
                        result = rows
                    if measured:
                        samples[name][q.i].append(elapsed)
                    elif name == "ours":
                        q_ours = [r[0] for r in rows]
                        if not q_ours and q.matches:
                            checks["empty"] += 1
                        if len(q_ours) != min(LIMIT, q.matches):
                            checks["result_mismatch"].append(f"{q.text!r}: {len(q_ours)} rows for {q.matches} matches")
                        q.ours_ids = q_ours
                    elif name == "e2e" and not measured:
                        q.e2e_ids = result
            if sys.stderr.isatty():
                print(f"\r  {'warm-up' if not measured else f'round {rnd}/{rounds}'} done", end="", file=sys.stderr, flush=True)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        for q in queries:
            if q.i in e2e_set and q.e2e_ids != q.ours_ids:
                checks["result_mismatch"].append(f"{q.text!r}: MemoryRepo.search and RANKED_SQL disagree")
        plans = {
            "ours": [r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sp.RANKED_SQL,
                                               {"match": "x", "title_match": "x", "candidates": candidates, "now": now_s, "limit": LIMIT})],
            "floor": [r[3] for r in db.execute("EXPLAIN QUERY PLAN " + FLOOR_SQL, ("x",))],
        }
        checks["plans"] = plans
        checks["pragmas"] = {p.split()[1].split("=")[0]: db.execute(p.split("=")[0]).fetchone()[0] for p in PRAGMAS}
    finally:
        db.close()
        await store.close()
    return samples, checks


# ---------------------------------------------------------------- report


def stats(ms: list[float]) -> dict:
    return {"n": len(ms), "p50": percentile(ms, 50), "p95": percentile(ms, 95), "p99": percentile(ms, 99), "max": max(ms)}


def summarise(queries: list[Query], samples: dict, e2e_n: int) -> dict:
    subsets = [("all", lambda q: True)] + [(b, (lambda b: lambda q: q.band == b)(b)) for b, _, _ in BANDS] + [
        ("one word", lambda q: q.words == 1),
        ("2-3 words", lambda q: q.words > 1),
        ("ends mid-word", lambda q: q.prefix),
        ("kind filter", lambda q: q.kind is not None),
    ]
    rows = []
    for label, pred in subsets:
        qs = [q for q in queries if pred(q)]
        if not qs:
            continue
        row = {"subset": label, "queries": len(qs), "matches_p50": percentile([q.matches for q in qs], 50),
               "matches_max": max(q.matches for q in qs)}
        for name in ("floor", "candidates", "ours"):
            row[name] = stats(ns_to_ms([v for q in qs for v in samples[name][q.i]]))
        row["ratio_p95"] = row["ours"]["p95"] / row["floor"]["p95"]
        row["candidates_ratio_p95"] = row["candidates"]["p95"] / row["floor"]["p95"]
        row["ours_over_candidates_p95"] = row["ours"]["p95"] / row["candidates"]["p95"]
        per_q = [percentile(samples["ours"][q.i], 50) / percentile(samples["floor"][q.i], 50) for q in qs]
        row["per_query_ratio"] = {"p50": percentile(per_q, 50), "p95": percentile(per_q, 95)}
        row["within_target"] = row["ratio_p95"] <= TARGET_RATIO
        rows.append(row)
    e2e_q = [q for q in queries[:e2e_n]]
    e2e = None
    if e2e_q:
        e2e = {"queries": len(e2e_q)}
        for name in ("floor", "ours", "e2e"):
            e2e[name] = stats(ns_to_ms([v for q in e2e_q for v in samples[name][q.i]]))
        e2e["ratio_p95"] = e2e["e2e"]["p95"] / e2e["floor"]["p95"]
    return {"rows": rows, "e2e": e2e}


def f_ms(v: float) -> str:
    return f"{v:8.2f}" if v < 1000 else f"{v:8.0f}"


def render(report: dict) -> str:
    env = report["environment"]
    out = [f"Oxymus memory search benchmark  {report['when']}",
           f"python {env['python_version']}, sqlite {env['sqlite_version']}, {env['platform']}, {env['cpus']} CPUs, load {env['loadavg']}",
           f"{report['queries']} queries per size, {report['rounds']} measured round(s) after 1 warm-up round, variants interleaved; "
           f"CANDIDATES={report['candidates']}, limit {LIMIT}; seed {report['seed']}"]
    for size in report["sizes"]:
        b = size["build"]
        out.append("")
        out.append(f"== {size['records']:,} records: file {b['file_bytes'] / 1e6:,.0f} MB, {b['words'] / size['records']:.0f} words/record; "
                   f"build {b['build_s']:.1f} s (text generation {b['generate_s']:.1f} s, insert+index {b['insert_index_s']:.1f} s"
                   + (f", rebuild {b['rebuild_s']:.1f} s" if b["index_mode"] == "rebuild" else "")
                   + f", commit+checkpoint {b['commit_checkpoint_s']:.1f} s; FTS by {b['index_mode']}, {b['fts_segments']} segments)")
        out.append(f"   tiers {b['tiers']}, kinds {b['kinds']}")
        out.append(f"{'queries':15} {'n':>4} {'matches':>8}  {'':10} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  {'p95 x floor':>11}")
        out.append("-" * 100)
        for row in size["summary"]["rows"]:
            for j, name in enumerate(("floor", "candidates", "ours")):
                s = row[name]
                head = f"{row['subset']:15} {row['queries']:4} {row['matches_p50']:8,}" if j == 0 else " " * 29
                ratio = ""
                if name == "candidates":
                    ratio = f"{row['candidates_ratio_p95']:10.2f}x"
                elif name == "ours":
                    ratio = f"{row['ratio_p95']:10.2f}x" + ("  ok" if row["within_target"] else "  OVER TARGET")
                out.append(f"{head}  {name:10} {f_ms(s['p50'])} {f_ms(s['p95'])} {f_ms(s['p99'])} {f_ms(s['max'])}  {ratio}")
            pq = row["per_query_ratio"]
            out.append(f"{'':29}  ours/candidates p95 {row['ours_over_candidates_p95']:.2f}x; "
                       f"per query, ours/floor of the medians: p50 {pq['p50']:.2f}x, p95 {pq['p95']:.2f}x")
        e2e = size["summary"]["e2e"]
        if e2e:
            out.append(f"end to end, MemoryRepo.search on an aiosqlite Store, first {e2e['queries']} queries (same samples' floor/ours):")
            for name in ("floor", "ours", "e2e"):
                s = e2e[name]
                ratio = f"{e2e['ratio_p95']:10.2f}x" if name == "e2e" else ""
                out.append(f"{'':29}  {name:10} {f_ms(s['p50'])} {f_ms(s['p95'])} {f_ms(s['p99'])} {f_ms(s['max'])}  {ratio}")
        out.append("(ms; matches = median rows the MATCH finds; target: ours p95 within "
                   f"{TARGET_RATIO:g}x the floor p95)")
        out.append("plan, ours:  " + " | ".join(size["checks"]["plans"]["ours"]))
        out.append("plan, floor: " + " | ".join(size["checks"]["plans"]["floor"]))
        for line in size["checks"]["result_mismatch"][:10]:
            out.append(f"WARNING: {line}")
    out.append("")
    out += footer(report)
    return "\n".join(out)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100000,1000000", help="record counts, comma-separated (default 100000,1000000)")
    ap.add_argument("--queries", type=int, default=200, help="queries per size (default 200)")
    ap.add_argument("--rounds", type=int, default=2, help="measured rounds over all queries, after 1 warm-up round (default 2)")
    ap.add_argument("--e2e", type=int, default=50, help="queries also timed through MemoryRepo.search (default 50)")
    ap.add_argument("--index", choices=("triggers", "rebuild"), default="triggers",
                    help="how the FTS index is filled: the migration's triggers (default) or drop/rebuild/re-create")
    ap.add_argument("--build-cache-mb", type=int, default=256, help="page cache of the build connection only (default 256)")
    ap.add_argument("--seed", type=int, default=11, help="seed for records and queries (default 11)")
    ap.add_argument("--keep", metavar="DIR", help="build the databases in DIR as memory-N.db (replacing any) and keep them (default: a temp dir, removed)")
    ap.add_argument("--json", action="store_true", help="print JSON on stdout (the table then goes to stderr)")
    args = ap.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        ap.error("--sizes must be integers, comma-separated")
    if not sizes or min(sizes) < 1000 or args.queries < 3 or args.rounds < 1 or args.e2e < 0:
        ap.error("sizes must be >= 1000, --queries >= 3, --rounds >= 1, --e2e >= 0")

    vocab = make_vocabulary(args.seed)
    check_stemming(vocab)
    cum = zipf_cum_weights(VOCAB_SIZE, ZIPF_S)
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        root = args.keep
    else:
        root = tempfile.mkdtemp(prefix="oxm-", dir="/tmp")
    checks = [f"vocabulary of {VOCAB_SIZE:,} words kept whole by the porter tokenizer (fts5vocab)"]
    results = []
    try:
        for n in sizes:
            path = os.path.join(root, f"memory-{n}.db")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
            gen = Generator(n, args.seed, vocab, cum)
            if sys.stderr.isatty():
                print(f"  building {n:,} records ({args.index}) ...", file=sys.stderr, flush=True)
            b = build(path, gen, args.index, args.build_cache_mb)
            queries = make_queries(args.queries, args.seed + n, gen)
            if sys.stderr.isatty():
                print(f"  built in {b['build_s']:.1f} s; measuring {len(queries)} queries ...", file=sys.stderr, flush=True)
            samples, size_checks = asyncio.run(measure(path, queries, args.rounds, min(args.e2e, len(queries))))
            results.append({
                "records": n, "path": path if args.keep else None, "build": b, "checks": size_checks,
                "summary": summarise(queries, samples, min(args.e2e, len(queries))),
                "queries": [dict(q.as_dict(), **{name: [round(v / 1e6, 4) for v in samples[name][q.i]]
                                                 for name in samples if q.i in samples[name]}) for q in queries],
            })
            if not size_checks["result_mismatch"]:
                checks.append(f"{n:,}: RANKED_SQL returned min(20, matches) rows for every query, and MemoryRepo.search the same ids")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    report = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "environment": {"python_version": platform.python_version(), "sqlite_version": sqlite3.sqlite_version,
                        "platform": platform.platform(), "cpus": os.cpu_count(),
                        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg())},
        "target_ratio_p95": TARGET_RATIO, "candidates": sp.CANDIDATES, "seed": args.seed,
        "queries": args.queries, "rounds": args.rounds, "sizes": results, "checks": checks,
    }
    return emit(report, render(report), args.json, indent=1)


if __name__ == "__main__":
    run_main(main, "memory_search.py")

"""A big synthetic memory database, built once and cached under .cache/bench/ by its parameters.

Building a million records takes minutes; the benchmarks that need one (search as you type,
contention) copy the cached file into their temp profile instead. The key holds the record
count, the seed and BUILD (bump it when the generator changes). A cached file from an older
schema is migrated in place by the project's own `connect`, and its vocabulary snapshot
(`oxymus/store/memory_vocab.py`) is taken when missing, as the daemon's maintenance would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import memory_search as ms  # noqa: E402

from oxymus.store import memory_vocab  # noqa: E402
from oxymus.store.db import connect  # noqa: E402

CACHE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".cache", "bench")


BUILD = 1
# Records never age during a run (the synthetic dates are fixed, the clock is not): a daemon
# started on the memory would otherwise spend minutes moving tiers before it is measured.
HOT_DAYS, WARM_DAYS = 3650, 36500
CONFIG = (f"[memory]\nhot_days = {HOT_DAYS}\nwarm_days = {WARM_DAYS}\n\n[backup]\nkeep = 0\n\n"
          # 2,000 synthetic hot records are far over the hot budget: the steward would propose moving each.
          "[agents.steward]\nenabled = false\n")


def cached_path(n: int, seed: int) -> str:
    return os.path.join(CACHE, f"memory-n{n}-seed{seed}-build{BUILD}.db")


def vocabulary(seed: int) -> list[str]:
    """The build's words in rank order (index 0 is the most frequent)."""
    return ms.make_vocabulary(seed)


def ensure(n: int, seed: int, log=lambda s: print(s, file=sys.stderr)) -> str:
    """The cached database for (n, seed), built now when missing (into a temp name, renamed when whole)."""
    path = cached_path(n, seed)
    if os.path.exists(path):
        return _current(path, log)
    os.makedirs(CACHE, exist_ok=True)
    tmp = path + ".building"
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(tmp + suffix):
            os.remove(tmp + suffix)
    vocab = ms.make_vocabulary(seed)
    gen = ms.Generator(n, seed, vocab, ms.zipf_cum_weights(ms.VOCAB_SIZE, ms.ZIPF_S))
    log(f"building {n:,} memory records into {path} (once; later runs reuse it)")
    info = ms.build(tmp, gen, "rebuild", 256)
    log(f"built in {info['build_s']:.0f} s, {info['file_bytes'] / 2**20:.0f} MiB")
    os.replace(tmp, path)
    return _current(path, log)


def _current(path: str, log) -> str:
    """Migrated to this Oxymus's schema, with a vocabulary snapshot and memory's upkeep done (the
    monthly summaries), so that a daemon started on a copy has nothing to catch up on."""
    db = connect(path)
    try:
        if memory_vocab.needs_refresh(db):
            log(f"taking the vocabulary snapshot of {path}")
            memory_vocab.refresh_sync(db, "2026-11-20T12:00:00.000Z")
    finally:
        db.close()
    asyncio.run(_maintain(path))
    db = connect(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return path


async def _maintain(path: str) -> None:
    from oxymus.store.repos import Store

    store = await Store.open(path)
    try:
        await store.memory.maintain(dt.datetime.now(dt.timezone.utc), HOT_DAYS, WARM_DAYS)
    finally:
        await store.close()


def copy_to(n: int, seed: int, target: str) -> str:
    """Copy the cached database to `target` (a profile's data/oxymus.db): runs write to their own copy."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(ensure(n, seed), target)
    os.chmod(target, 0o600)
    return target


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args()
    print(ensure(a.records, a.seed))

"""The records check: record kinds whose plugin failed to load, and records failing their schema.

Read-only, from the database file (the daemon need not run): a record's stored problem
(a failed schema migration, fields its schema refuses) or a kind no longer installed.
"""

from __future__ import annotations

import os
import sqlite3

from oxymus.doctor.result import Check, ok, skip, warn
from oxymus.profile.paths import Paths


def records_check(paths: Paths) -> Check:
    from oxymus.records import kinds

    known, broken = kinds.registered(), kinds.broken()
    if not os.path.exists(paths.db_file):
        return skip("records", "no database yet")
    conn = sqlite3.connect(f"file:{paths.db_file}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT kind, problem IS NOT NULL FROM records").fetchall()
    except sqlite3.OperationalError:
        return skip("records", "no records yet (the daemon adds their tables when it next starts)")
    except sqlite3.DatabaseError:
        return skip("records", "the database cannot be read (see database)")
    finally:
        conn.close()
    failing = sum(1 for kind, problem in rows if problem or kind not in known)
    problems = []
    if broken:
        problems.append(f"kind(s) not loaded: {'; '.join(broken.values())}")
    if failing:
        problems.append(f"{failing} record(s) fail their schema (kept as written)")
    if problems:
        return warn("records", "; ".join(problems),
                    "`oxymus records list` marks them with !, `oxymus records show ID` says why; fix a record with "
                    "`oxymus records edit ID --set FIELD=VALUE`, a plugin by reinstalling it")
    return ok("records", f"{len(rows)} record(s) of {len(known)} kind(s), all readable")

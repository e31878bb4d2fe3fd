"""A memory search as it runs on a reader thread: look the words up, choose the plan, run it.

The plan and its SQL are `oxymus/memory/search_plan.py` (pure); this part needs a
connection: the words' stems (FTS5's own tokenizer, so they are the index's terms),
their record counts from the vocabulary snapshot (`memory_vocab.py`), and the query.
"""

from __future__ import annotations

import sqlite3

from oxymus.memory import records as m
from oxymus.memory import search_plan as sp
from oxymus.store import memory_vocab

TOKENIZER = "porter unicode61 remove_diacritics 2"  # memory_fts's (migration 004)


def stems(conn: sqlite3.Connection, words: list[str]) -> list[list[str]]:
    """Each word's index terms, by the index's own tokenizer (a temp table on this connection)."""
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.oxymus_tok USING fts5(x, tokenize='{TOKENIZER}')")
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.oxymus_tok_v USING fts5vocab(temp, oxymus_tok, 'instance')")
    conn.execute("DELETE FROM temp.oxymus_tok")
    conn.executemany("INSERT INTO temp.oxymus_tok (rowid, x) VALUES (?, ?)", enumerate(words))
    out: list[list[str]] = [[] for _ in words]
    for term, doc in conn.execute("SELECT term, doc FROM temp.oxymus_tok_v ORDER BY doc, offset"):
        out[doc].append(term)
    conn.execute("DELETE FROM temp.oxymus_tok")
    return out


def plan(conn: sqlite3.Connection, text: str, *, kind: str | None = None, tier: str | None = None,
         tag: str | None = None) -> sp.SearchPlan | None:
    """The plan for a search text (None: no words, so nothing to match)."""
    words = m.tokens(text)
    if not words:
        return None
    have = memory_vocab.have_snapshot(conn)
    looked: list[sp.Word] = []
    for i, (word, terms) in enumerate(zip(words, stems(conn, words))):
        prefix = i == len(words) - 1
        docs, completions = 0, []
        if have and len(terms) == 1:
            docs, completions = memory_vocab.lookup(conn, terms[0], prefix, sp.COMPLETIONS)
        elif have and terms:  # one typed word that is several index terms: a phrase, in at most the fewest
            docs = min(memory_vocab.lookup(conn, t, False, 0)[0] for t in terms)
        looked.append(sp.Word(text=word, prefix=prefix, docs=docs, completions=completions if prefix else []))
    return sp.choose(looked, m.filter_terms(kind=kind, tier=tier, tag=tag), have_vocab=have)


def run(conn: sqlite3.Connection, text: str, *, kind: str | None, tier: str | None, tag: str | None,
        limit: int, now: str) -> tuple[sp.SearchPlan | None, list[tuple[m.MemoryRecord, float, bool]]]:
    """(the plan, [(record, score, title matched)]) best first; no plan: the caller lists recent records."""
    chosen = plan(conn, text, kind=kind, tier=tier, tag=tag)
    if chosen is None:
        return None, []
    params = {"match": chosen.match, "title_match": chosen.title_match, "now": now, "limit": limit}
    if chosen.strategy == "ranked":
        rows = conn.execute(sp.RANKED_SQL, {**params, "candidates": max(sp.CANDIDATES, limit)}).fetchall()
    else:
        top = conn.execute("SELECT max(seq) FROM memory_records").fetchone()[0] or 0
        rows = conn.execute(sp.RECENT_SQL, {**params, "recent": max(sp.RECENT_N, limit),
                                            "floor": top - sp.TITLE_WINDOW}).fetchall()
    return chosen, [(m.record_from_row(r), round(r[12], 6), bool(r[13])) for r in rows]

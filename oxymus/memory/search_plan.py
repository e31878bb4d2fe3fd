"""How a memory search is run: which plan, chosen from how many records each word is in.

bm25 has to score every record that matches, and an FTS5 prefix query (`b*`) first
reads every matching term's whole list: at a million records one letter costs
seconds whatever the SQL around it. So the plan is chosen before the query, from the
vocabulary snapshot (`memory_vocab`: each indexed term and how many records hold it,
refreshed by maintenance, see `oxymus/store/memory_vocab.py`):

- **ranked** when the words match at most RANKED_MAX records (the fewest of them) and
  hold at most POSTINGS_MAX together (bm25 reads every word's whole list to weigh it),
  or when there is no snapshot yet (a small memory): bm25's best CANDIDATES, re-ranked by
  tier and recency.
- **recent** otherwise: the RECENT_N newest matches (FTS5 walks term lists lazily,
  newest first, when nothing has to be scored), ranked by tier and recency. A last word
  whose prefix covers more than PREFIX_MAX records becomes an OR of its COMPLETIONS
  commonest terms, since FTS5 would read a prefix's lists whole before the first row.
  Work is bounded by RECENT_N, not by the size of the memory.

In both plans a record whose title matches comes first: a second query with the same
words limited to the title column (in the recent plan only over the newest
TITLE_WINDOW records) finds them, and they are put ahead of body-only matches.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from oxymus.memory.records import RECORD_COLUMNS, TIER_WEIGHT

CANDIDATES = 100  # bm25's best matches re-ranked by tier and recency in the ranked plan
RANKED_MAX = 2_000  # matches bm25 may score: at 10-15 µs each, about 25 ms
POSTINGS_MAX = 40_000  # records bm25 may read to count its words (summed over the words)
PREFIX_MAX = 20_000  # records under the last word's prefix (summed over its terms) FTS5 may read whole
COMPLETIONS = 16  # terms the last word stands for in the recent plan
RECENT_N = 200  # newest matches ranked in the recent plan
TITLE_WINDOW = 50_000  # newest records the recent plan looks at for title matches (an AND of common words rarely meets in a title)


class Word(BaseModel):
    text: str = Field(description="the word as typed, lower case (FTS5 stems it when it matches)")
    prefix: bool = Field(description="the last word, typed on: matched as a prefix")
    docs: int = Field(description="records holding it (a prefix: summed over its terms), from the snapshot")
    completions: list[str] = Field(default_factory=list, description="a prefix's most frequent terms, most first")


class SearchPlan(BaseModel):
    strategy: Literal["ranked", "recent"]
    reason: str = Field(description="why, in words (tests and the bench read it)")
    match: str = Field(description="the FTS5 MATCH expression for the body query")
    title_match: str = Field(description="the same words limited to the title column")
    words: list[Word]


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def choose(words: list[Word], filters: list[str], *, have_vocab: bool) -> SearchPlan:
    """The plan for these words (each with its document frequency) and filter terms (kind, tier, tag)."""
    last = words[-1]
    fewest = min(w.docs for w in words)  # an AND matches at most this many
    total = sum(w.docs for w in words)  # bm25 counts every word's records (its idf): all are read
    if not have_vocab:
        strategy, reason = "ranked", "no vocabulary snapshot (a small memory): bm25 over every match"
    elif fewest <= RANKED_MAX and total <= POSTINGS_MAX:
        strategy, reason = "ranked", f"at most {fewest} matches and {total} records to read: bm25 over every match"
    else:
        strategy, reason = "recent", f"{fewest} matches or {total} records to read: the newest matches"
    expand = strategy == "recent" and last.prefix and last.docs > PREFIX_MAX and bool(last.completions)
    terms = []
    for w in words:
        if w.prefix and expand:
            terms.append("(" + " OR ".join(_quote(t) for t in w.completions[:COMPLETIONS]) + ")")
        elif w.prefix:
            terms.append(_quote(w.text) + "*")
        else:
            terms.append(_quote(w.text))
    words_expr = " AND ".join(terms)
    # The words match what people wrote, never the meta column's filter tokens (kindfact, tierhot).
    match = " AND ".join([f"{{title body tags}} : ({words_expr})", *filters])
    title = " AND ".join([f"title : ({words_expr})", *filters])
    return SearchPlan(strategy=strategy, reason=reason, match=match, title_match=title, words=words)


_TIER = (f"CASE r.tier WHEN 'hot' THEN {TIER_WEIGHT['hot']} WHEN 'warm' THEN {TIER_WEIGHT['warm']} "
         f"ELSE {TIER_WEIGHT['cold']} END")
_RECENCY = "(1.0 + 0.5 / (1.0 + max(0.0, julianday(:now) - julianday(r.touched_at)) / 30.0))"
_RANKED_BY = "ORDER BY c.in_title DESC, score DESC, r.touched_at DESC LIMIT :limit"

# bm25's best CANDIDATES (title 8x the body, tags 4x) and the best title matches, re-ranked by tier and recency.
RANKED_SQL = f"""
WITH candidates AS (
    SELECT rowid AS seq, bm25(memory_fts, 8.0, 1.0, 4.0, 0.0) AS relevance
    FROM memory_fts WHERE memory_fts MATCH :match ORDER BY relevance LIMIT :candidates
), titles AS (
    SELECT rowid AS seq, bm25(memory_fts, 8.0, 1.0, 4.0, 0.0) AS relevance
    FROM memory_fts WHERE memory_fts MATCH :title_match ORDER BY relevance LIMIT :limit
), c AS (
    SELECT seq, min(relevance) AS relevance, max(in_title) AS in_title FROM (
        SELECT seq, relevance, 0 AS in_title FROM candidates UNION ALL SELECT seq, relevance, 1 FROM titles
    ) GROUP BY seq
)
SELECT {RECORD_COLUMNS}, -c.relevance * {_TIER} * {_RECENCY} AS score, c.in_title
FROM c JOIN memory_records r ON r.seq = c.seq
{_RANKED_BY}
"""

# The RECENT_N newest matches and the newest title matches among the newest TITLE_WINDOW records,
# ranked by tier and recency alone (no bm25: it would have to score every match).
RECENT_SQL = f"""
WITH candidates AS (
    SELECT rowid AS seq FROM memory_fts WHERE memory_fts MATCH :match ORDER BY rowid DESC LIMIT :recent
), titles AS (
    SELECT rowid AS seq FROM memory_fts WHERE memory_fts MATCH :title_match AND rowid > :floor
    ORDER BY rowid DESC LIMIT :limit
), c AS (
    SELECT seq, max(in_title) AS in_title FROM (
        SELECT seq, 0 AS in_title FROM candidates UNION ALL SELECT seq, 1 FROM titles
    ) GROUP BY seq
)
SELECT {RECORD_COLUMNS}, {_TIER} * {_RECENCY} AS score, c.in_title
FROM c JOIN memory_records r ON r.seq = c.seq
{_RANKED_BY}
"""

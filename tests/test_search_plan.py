"""Memory search plans: chosen from the vocabulary snapshot, bounded for common words and short prefixes,
title matches first in both plans. Real SQLite files; plans and orders are asserted, never times."""

from __future__ import annotations

import pytest

from oxymus.memory import records as m
from oxymus.memory import search_plan as sp
from oxymus.store import memory_vocab
from oxymus.store.repos import Store


def words(*specs: tuple[str, int], last_completions: list[str] | None = None) -> list[sp.Word]:
    out = [sp.Word(text=t, prefix=False, docs=d) for t, d in specs]
    out[-1] = out[-1].model_copy(update={"prefix": True, "completions": last_completions or []})
    return out


def test_rare_words_are_ranked_by_bm25_and_common_ones_take_the_newest():
    rare = sp.choose(words(("porto", 40)), [], have_vocab=True)
    assert rare.strategy == "ranked" and rare.match == '{title body tags} : ("porto"*)'
    common = sp.choose(words(("the", 900_000), last_completions=["the", "then"]), [], have_vocab=True)
    assert common.strategy == "recent"
    assert common.match == '{title body tags} : (("the" OR "then"))', "a big prefix becomes its commonest whole terms"
    assert common.title_match == 'title : (("the" OR "then"))'
    # One rare word is enough for few matches, but bm25 would still read the common word's whole list.
    mixed = sp.choose(words(("the", 900_000), ("porto", 40)), ['meta : "kindfact"'], have_vocab=True)
    assert mixed.strategy == "recent" and mixed.match == '{title body tags} : ("the" AND "porto"*) AND meta : "kindfact"'
    assert sp.choose(words(("the", 900_000)), [], have_vocab=False).strategy == "ranked", "no snapshot: a small memory"


def test_one_letter_expands_to_at_most_completions_terms():
    many = [f"b{i}" for i in range(40)]
    plan = sp.choose(words(("b", 5_000_000), last_completions=many[:sp.COMPLETIONS]), [], have_vocab=True)
    assert plan.strategy == "recent" and plan.match.count(" OR ") == sp.COMPLETIONS - 1


@pytest.fixture
async def store(tmp_path):
    s = await Store.open(str(tmp_path / "oxymus.db"))
    yield s
    await s.close()


async def add(store: Store, title: str, body: str) -> str:
    return (await store.memory.add(m.RecordFields(kind="fact", title=title, body=body), m.Provenance())).id


@pytest.fixture
def small_thresholds(monkeypatch):
    """Thresholds a dozen records cross, so the recent plan runs on a small real file."""
    monkeypatch.setattr(sp, "RANKED_MAX", 2)
    monkeypatch.setattr(sp, "POSTINGS_MAX", 4)
    monkeypatch.setattr(sp, "PREFIX_MAX", 2)


async def test_the_plan_comes_from_the_vocabulary_snapshot(store, small_thresholds):
    for i in range(10):
        await add(store, f"note {i}", "lunch with the team")
    await add(store, "harbour", "ferry timetable")
    assert (await store.memory.plan("lunch")).strategy == "ranked", "no snapshot yet"
    assert await store.memory.refresh_vocab(force=True) > 0
    lunch = await store.memory.plan("lunch")
    assert lunch.strategy == "recent" and lunch.words[0].docs == 10
    assert lunch.words[0].completions == ["lunch"]
    ferry = await store.memory.plan("ferry")
    assert ferry.strategy == "ranked" and ferry.words[0].docs == 1
    letter = await store.memory.plan("t")
    assert letter.strategy == "recent" and set(letter.words[0].completions) == {"team", "the", "timet"}
    assert letter.words[0].docs == 21, "a prefix sums its terms' records (team 10, the 10, timetable 1)"
    assert letter.words[0].completions[-1] == "timet", "commonest first"


async def test_the_snapshot_is_refreshed_when_memory_grew(store, monkeypatch):
    monkeypatch.setattr(memory_vocab, "VOCAB_MIN_RECORDS", 4)
    for i in range(3):
        await add(store, f"note {i}", "words")
    assert await store.memory.refresh_vocab() is None, "too small for a snapshot"
    await add(store, "note 3", "words")
    assert await store.memory.refresh_vocab() is not None
    assert await store.memory.refresh_vocab() is None, "nothing changed since"
    rows = await store.fetchall("SELECT term, docs FROM memory_vocab WHERE term = 'word'")
    assert rows == [("word", 4)]


@pytest.mark.parametrize("plan", ["ranked", "recent"])
async def test_a_title_match_comes_first(store, plan, request):
    if plan == "recent":
        request.getfixturevalue("small_thresholds")
    title_hit = await add(store, "Quarterly report", "numbers for the board")
    for i in range(6):  # newer, and saying the word far more often, but only in the body
        await add(store, f"memo {i}", "quarterly quarterly quarterly figures, quarterly again")
    if plan == "recent":
        await store.memory.refresh_vocab(force=True)
    for typed in ("q", "qu", "quarterly", "quarterly rep"):
        assert (await store.memory.plan(typed)).strategy == plan
        hits = await store.memory.search(typed, limit=5)
        assert hits and hits[0].record.id == title_hit, typed
    assert len(await store.memory.search("q", limit=5)) == 5, "one letter answers, with a full page"


async def test_the_recent_plan_takes_the_newest_matches(store, small_thresholds, monkeypatch):
    monkeypatch.setattr(sp, "RECENT_N", 3)
    ids = [await add(store, f"day {i}", "standup notes") for i in range(8)]
    await store.memory.refresh_vocab(force=True)
    assert (await store.memory.plan("standup")).strategy == "recent"
    hits = await store.memory.search("standup", limit=3)
    assert {h.record.id for h in hits} == set(ids[-3:]), "bounded to the newest RECENT_N matches"

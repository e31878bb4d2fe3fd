"""The shared confidence rules: named factors, bounded, ordered the way the reference says."""

from __future__ import annotations

from oxymus.agents.confidence import CEILING, FLOOR, derive, llm_choice


def test_stronger_rules_and_support_are_surer_but_support_is_capped():
    assert derive("certain").value > derive("strong").value > derive("moderate").value > derive("weak").value
    assert derive("moderate", support=1).value > derive("moderate").value
    assert derive("weak", support=10).value == derive("weak", support=2).value < derive("moderate").value


def test_the_llms_part_moves_it_and_nothing_reaches_certainty():
    base = derive("strong").value
    assert derive("strong", llm="agreed").value > base == derive("strong", llm="validated").value
    assert base > derive("strong", llm="invalid").value > derive("strong", llm="disagreed").value
    assert FLOOR < derive("weak", llm="disagreed").value and derive("certain", support=2, llm="agreed").value == CEILING


def test_the_factors_are_named():
    assert derive("moderate", support=1, llm="disagreed").why() == "moderate rule 0.65, 1 supporting signal +0.05, LLM disagreed -0.15 = 0.55"
    assert [llm_choice(False, None, True), llm_choice(True, None, True), llm_choice(True, 1, True), llm_choice(True, 1, False)] == \
        ["none", "invalid", "agreed", "disagreed"]

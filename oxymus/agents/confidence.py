"""How sure an agent is of what it proposes, derived from how it got there.

A proposal's confidence is what `confidence` rules in policy.toml test, so it has to
mean the same for every agent. It is never a constant: it starts from how strongly
the deterministic rule that chose the proposal holds (`Strength`), gains a little
for each further signal that supports it, and moves with the LLM's part:

- `agreed`: the LLM, asked independently, chose what the rules chose;
- `disagreed`: it chose otherwise (and its choice may have been used);
- `invalid`: its answer did not validate, so the rules' result stands, less sure;
- `validated`: it wrote the text and the text passed its checks (neither way);
- `none`: no LLM took part; the rules alone decide.

Each agent that proposes states which rule gives which strength in its
`confidence_rule`; docs/reference.md lists them, generated from the classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Strength = Literal["certain", "strong", "moderate", "weak"]
LlmPart = Literal["none", "agreed", "disagreed", "invalid", "validated"]

STRENGTH: dict[str, float] = {"certain": 0.9, "strong": 0.8, "moderate": 0.65, "weak": 0.5}
SUPPORT_STEP = 0.05  # each further signal that points the same way
SUPPORT_MAX = 0.1  # corroboration cannot turn a weak rule into a strong one
LLM: dict[str, float] = {"none": 0.0, "agreed": 0.1, "disagreed": -0.15, "invalid": -0.1, "validated": 0.0}
FLOOR, CEILING = 0.05, 0.95  # nothing an agent derives is certain either way: the person stays the judge


@dataclass(frozen=True)
class Confidence:
    """The value an agent proposes with, and the named factors it came from."""

    value: float
    factors: tuple[tuple[str, float], ...]

    def why(self) -> str:
        """'strong rule 0.80, 1 supporting signal +0.05, LLM agreed +0.10 = 0.95'"""
        parts = [f"{name} {delta:+.2f}" if i else f"{name} {delta:.2f}" for i, (name, delta) in enumerate(self.factors)]
        return ", ".join(parts) + f" = {self.value:.2f}"


def derive(strength: Strength, *, support: int = 0, llm: LlmPart = "none") -> Confidence:
    """The confidence of a result reached by a rule of this strength, with `support` further
    signals for it, and the LLM's part in it."""
    factors: list[tuple[str, float]] = [(f"{strength} rule", STRENGTH[strength])]
    if support > 0:
        factors.append((f"{support} supporting signal{'s' if support != 1 else ''}", min(support * SUPPORT_STEP, SUPPORT_MAX)))
    if llm != "none":
        factors.append((f"LLM {llm}", LLM[llm]))
    value = round(min(CEILING, max(FLOOR, sum(delta for _, delta in factors))), 2)
    return Confidence(value=value, factors=tuple(factors))


def llm_choice(asked: bool, answer: object | None, agrees: bool) -> LlmPart:
    """The LLM's part in a choice the rules also made: not asked, unusable, or (dis)agreeing."""
    if not asked:
        return "none"
    if answer is None:
        return "invalid"
    return "agreed" if agrees else "disagreed"

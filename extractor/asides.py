"""Stage 3: a negation inside parentheses governs only what the parentheses hold.

    On 02/10/2026 (bupivacaine 0.5%, no steroid) his diary showed 85% relief

ConText's "no" reaches to the end of the sentence, so "85% relief" comes out
negated. A fact after the closing parenthesis, with no negation word of its
own between that parenthesis and it, is not negated by the aside: `negated`
is cleared. (A ConText rule that ends every scope at ")" would also cut short
the history and the plans an aside sits in: "After the first block on
02/10/2026 (bupivacaine 0.5%) his diary showed ..." is history to its end.)
"""
from __future__ import annotations

import dataclasses
import re

from extractor.facts import Fact

__all__ = ["release_aside_negations"]

_NEGATION = re.compile(r"\b(?:no|not|none|without|denies|denied|negative)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.;!?]\s|\n\s*\n")


def release_aside_negations(facts: tuple[Fact, ...], text: str) -> tuple[Fact, ...]:
    """The facts, with `negated` cleared where the only negation before them is inside an aside."""
    if ")" not in text:
        return facts
    out, changed = [], False
    for fact in facts:
        if fact.negated and _negated_only_in_aside(text, fact.start):
            fact = dataclasses.replace(fact, negated=False)
            changed = True
        out.append(fact)
    return tuple(out) if changed else facts


def _negated_only_in_aside(text: str, at: int) -> bool:
    """Between the sentence's start and `at`: every negation word sits inside a parenthesis closed before `at`."""
    start = max((m.end() for m in _SENTENCE_END.finditer(text, max(0, at - 400), at)), default=max(0, at - 400))
    close = text.rfind(")", start, at)
    if close == -1:
        return False
    opened = text.rfind("(", start, close)
    if opened == -1:
        return False
    inside = _NEGATION.search(text, opened, close) is not None
    outside = _NEGATION.search(text, start, opened) or _NEGATION.search(text, close, at)
    return inside and not outside

"""Stage 3: a negation inside parentheses does not reach the result written after them.

    On 02/10/2026 (bupivacaine 0.5%, no steroid) his diary showed 85% relief

ConText's "no" reaches to the end of the sentence, so "85% relief" comes out
negated. A relief or a pain score after the closing parenthesis, with no
negation word between the aside's line start and it other than those inside
the parenthesis, is not negated by the aside: `negated` is cleared. (A
ConText rule that ends every scope at ")" would also cut short the history
and the plans an aside sits in: "After the first block on 02/10/2026
(bupivacaine 0.5%) his diary showed ..." is history to its end.)
"""
from __future__ import annotations

import dataclasses
import re

from extractor.facts import Fact

__all__ = ["release_aside_negations"]

# A block's result after an aside about its drugs; a drug or a date after one is left as ConText read it
# ("letter of 12/15/2025 (no procedure report): bupivacaine + dexamethasone" names another block's drug).
_RESULTS = {"relief", "pain_score"}
_NEGATION = re.compile(r"\b(?:no|not|none|without|denies|denied|negative)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.;!?]\s|\n\s*\n")


def release_aside_negations(facts: tuple[Fact, ...], text: str) -> tuple[Fact, ...]:
    """The facts, with `negated` cleared where the only negation before them is inside an aside."""
    if ")" not in text:
        return facts
    out, changed = [], False
    for fact in facts:
        if fact.kind in _RESULTS and fact.negated and _negated_only_in_aside(text, fact.start):
            fact = dataclasses.replace(fact, negated=False)
            changed = True
        out.append(fact)
    return tuple(out) if changed else facts


def _negated_only_in_aside(text: str, at: int) -> bool:
    """From the aside's line (or its sentence, if shorter) to `at`: every negation word sits inside a
    parenthesis closed before `at`."""
    start = max((m.end() for m in _SENTENCE_END.finditer(text, max(0, at - 400), at)), default=max(0, at - 400))
    close = text.rfind(")", start, at)
    if close == -1:
        return False
    opened = text.rfind("(", start, close)
    if opened == -1:
        return False
    start = max(start, text.rfind("\n", 0, opened) + 1)
    inside = _NEGATION.search(text, opened, close) is not None
    outside = _NEGATION.search(text, start, opened) or _NEGATION.search(text, close, at)
    return inside and not outside

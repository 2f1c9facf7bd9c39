"""Stage 2: settle overlapping candidate spans with one named rule."""
from __future__ import annotations

from functools import lru_cache

from spacy.tokens import Span

from extractor.patterns import PATTERN_DIR, load_patterns

__all__ = ["prefer_longest_then_priority", "pattern_priority", "FALLBACK_PRIORITY"]

FALLBACK_PRIORITY = -10

# Labels compete only within their group. Side words sit inside procedure
# phrases ("right SI joint injection"), and nerve lists share words with the
# procedure ("L3, L4 medial branch blocks"): both must survive.
_GROUPS = {"JOINT": "level", "NERVE": "level", "VERTEBRA_RANGE": "level"}
_OWN_GROUP = {"SIDE", "REGION", "SKIN_LOCAL", "CUE", "BLOCK_NUMBER", "DURATION", "DATE"}


def _group(label: str) -> str:
    if label in _OWN_GROUP:
        return label
    return _GROUPS.get(label, "general")


@lru_cache(maxsize=1)
def _priorities() -> dict[str, int]:
    return {s.id: s.priority for s in load_patterns(PATTERN_DIR)}


def pattern_priority(pattern_id: str) -> int:
    """The `priority` a pattern file gives this id (0 when unset)."""
    return _priorities().get(pattern_id, 0)


def _without_shadowed_fallbacks(spans: list[Span], priorities: dict[str, int]) -> list[Span]:
    """Drop each fallback span that overlaps a non-fallback span of the same label."""
    fallback = [priorities.get(s.id_, 0) <= FALLBACK_PRIORITY for s in spans]
    if not any(fallback):
        return spans
    firm: dict[str, set[int]] = {}
    for span, weak in zip(spans, fallback):
        if not weak:
            firm.setdefault(span.label_, set()).update(range(span.start, span.end))
    return [s for s, weak in zip(spans, fallback)
            if not weak or firm.get(s.label_, set()).isdisjoint(range(s.start, s.end))]


def prefer_longest_then_priority(spans: list[Span]) -> list[Span]:
    """Keep the longest span where candidates overlap; ties go to higher priority.

    Patterns with priority <= FALLBACK_PRIORITY are broad fallbacks ("cannot"
    + any verb): one that overlaps a span of its own label from any other
    pattern is dropped first, however long it is.

    Spans compete only with spans of their group (see _GROUPS), so "left"
    survives inside "left L4-5 medial branch".

    Returns:
        The kept spans, in document order.
    """
    priorities = _priorities()  # pattern_priority, looked up once
    spans = _without_shadowed_fallbacks(spans, priorities)
    ranked = sorted(
        ((-(s.end - s.start), -(s.end_char - s.start_char), -priorities.get(s.id_, 0), s.start_char, i)
         for i, s in enumerate(spans)))  # i: ties keep the input order, as a stable sort on the rest did
    kept: list[Span] = []
    taken: dict[str, set[int]] = {}
    for *_, i in ranked:
        span = spans[i]
        tokens = range(span.start, span.end)
        pool = taken.setdefault(_group(span.label_), set())
        if not pool.isdisjoint(tokens):
            continue
        pool.update(tokens)
        kept.append(span)
    return sorted(kept, key=lambda s: (s.start_char, s.end_char))

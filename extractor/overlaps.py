"""Stage 2: settle overlapping candidate spans with one named rule."""
from __future__ import annotations

from functools import lru_cache

from spacy.tokens import Span

from extractor.patterns import PATTERN_DIR, load_patterns

__all__ = ["prefer_longest_then_priority", "pattern_priority"]

# Labels compete only within their group. Side words sit inside procedure
# phrases ("right SI joint injection"), and nerve lists share words with the
# procedure ("L3, L4 medial branch blocks"): both must survive.
_GROUPS = {"JOINT": "level", "NERVE": "level", "VERTEBRA_RANGE": "level"}
_OWN_GROUP = {"SIDE", "REGION", "SKIN_LOCAL", "CUE", "BLOCK_NUMBER", "DURATION"}


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


def prefer_longest_then_priority(spans: list[Span]) -> list[Span]:
    """Keep the longest span where candidates overlap; ties go to higher priority.

    Spans compete only with spans of their group (see _GROUPS), so "left"
    survives inside "left L4-5 medial branch".

    Returns:
        The kept spans, in document order.
    """
    def rank(span: Span) -> tuple:
        return (-len(span), -(span.end_char - span.start_char), -pattern_priority(span.id_), span.start_char)

    kept: list[Span] = []
    taken: dict[str, set[int]] = {}
    for span in sorted(spans, key=rank):
        tokens = set(range(span.start, span.end))
        pool = taken.setdefault(_group(span.label_), set())
        if tokens & pool:
            continue
        pool |= tokens
        kept.append(span)
    return sorted(kept, key=lambda s: (s.start_char, s.end_char))

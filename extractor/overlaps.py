"""Stage 2: settle overlapping candidate spans with one named rule."""
from __future__ import annotations

from functools import lru_cache

from spacy.tokens import Span

from extractor.patterns import PATTERN_DIR, load_patterns, pattern_values
from extractor.tables import FILLER_TOKENS, SOURCE_TEXT, opens_row

__all__ = ["prefer_longest_then_priority", "pattern_priority", "join_restated_drugs", "without_one_vertebra_joints",
           "without_mid_line_log_rows", "without_unfollowed_connectors",
           "FALLBACK_PRIORITY"]

FALLBACK_PRIORITY = -10

# Labels compete only within their group. Side words sit inside procedure
# phrases ("right SI joint injection"), and nerve lists share words with the
# procedure ("L3, L4 medial branch blocks"): both must survive.
_GROUPS = {"JOINT": "level", "NERVE": "level", "VERTEBRA_RANGE": "level"}
_OWN_GROUP = {"SIDE", "REGION", "SKIN_LOCAL", "CUE", "BLOCK_NUMBER", "DURATION", "DATE", "STEROID"}
# A named steroid inside a care phrase is still a steroid ("prednisone taper");
# the bare word inside a procedure or care name is not ("epidural steroid
# injection", "IA steroid x3"): docs/facts.md, annotation conventions.
_NAMES_HOLDING_STEROID_WORD = {"PROCEDURE", "CONSERVATIVE"}
_STEROID_WORD_PATTERN = "steroid.generic"


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


def _length(span: Span, filler: set[int] | None) -> tuple[int, int]:
    """-(tokens, characters) of a span, less the filler whitespace inside it (no words of the span)."""
    tokens, chars = span.end - span.start, span.end_char - span.start_char
    if filler:
        inside = [i for i in range(span.start, span.end) if i in filler]
        tokens -= len(inside)
        chars -= sum(len(span.doc[i]) for i in inside)
    return -tokens, -chars


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
    filler = spans[0].doc.user_data.get(FILLER_TOKENS) if spans else None
    ranked = sorted(  # i: ties keep the input order, as a stable sort on the rest did
        ((*_length(s, filler), -priorities.get(s.id_, 0), s.start_char, i) for i, s in enumerate(spans)))
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
    kept = _without_region_words_in_levels(_without_steroid_word_in_names(kept))
    return sorted(kept, key=lambda s: (s.start_char, s.end_char))


def without_one_vertebra_joints(spans: list[Span]) -> list[Span]:
    """Drop a joint candidate that names one vertebra twice.

    Why before the overlaps: in "T12-L1 / L1-2" the joint pattern also finds
    "L1 / L1", which no interpreter reads as a joint, yet being the longest
    it would push out both real joints around it.
    """
    return [s for s in spans
            if not (s.label_ == "JOINT" and len(s) >= 3 and s[0].lower_ == s[-1].lower_)]


_LOG_ROWS = {"relief.time_pct_row_dash"}


def without_mid_line_log_rows(spans: list[Span]) -> list[Span]:
    """Drop a log-row candidate ("30 min — 95%") that does not open its line.

    Why before the overlaps: in "RN phone check at 4 h: still 85% relief at 4 h"
    the row pattern finds "4 h: still 85%", which its interpreter rejects (a
    log row opens its line), yet being the longest it would push out "85%
    relief"; so would "the first hour: 90%" push out "90% relief".
    """
    if not any(s.id_ in _LOG_ROWS for s in spans):
        return spans
    doc = spans[0].doc
    text = doc.user_data.get(SOURCE_TEXT) or doc.text  # doc.text joins every token again
    return [s for s in spans if s.id_ not in _LOG_ROWS or opens_row(text, s.start_char)]


def without_unfollowed_connectors(spans: list[Span]) -> list[Span]:
    """Drop a candidate that ends on a connector its pattern wants a certain word after ("90% with" a
    drug, "80% after" a block: the authored `next_words`) when another word follows.

    Why before the overlaps: in "NDI 42%\nwith limited highway driving" the relief pattern finds
    "42%\nwith", which names no drug, yet being the longest it would push out "NDI 42%".
    """
    wanted = _next_words()
    return [s for s in spans if s.id_ not in wanted or followed_by(s, wanted[s.id_])]


@lru_cache(maxsize=1)
def _next_words() -> dict[str, frozenset[str]]:
    """Pattern id -> the words its authored `next_words` wants after the span."""
    return {pid: frozenset(value["next_words"]) for pid, value in pattern_values().items()
            if isinstance(value, dict) and value.get("next_words")}


def followed_by(span: Span, words) -> bool:
    """Whether the word after the span (past a "the") is one of `words`: "80% after #1", "90% with bupivacaine"."""
    doc, i = span.doc, span.end
    while i < len(doc) and (doc[i].is_space or doc[i].lower_ == "the"):
        i += 1
    return i < len(doc) and doc[i].lower_ in words


def _without_steroid_word_in_names(spans: list[Span]) -> list[Span]:
    if not any(s.id_ == _STEROID_WORD_PATTERN for s in spans):
        return spans
    names = [s for s in spans if s.label_ in _NAMES_HOLDING_STEROID_WORD]
    return [s for s in spans
            if not (s.id_ == _STEROID_WORD_PATTERN
                    and any(n.start <= s.start and s.end <= n.end for n in names))]


_WORD_LEVELS = ("level.joint_words_", "level.nerve_words_")  # pattern ids of levels named in words


def _without_region_words_in_levels(spans: list[Span]) -> list[Span]:
    """The region word of a level named in words ("the fifth lumbar dorsal ramus") is part of that level.

    docs/facts.md: a region fact is the region word on its own. In "L4-5
    lumbar medial branch" the level is "L4-5" and "lumbar" stays a region.
    """
    levels = [s for s in spans if s.id_.startswith(_WORD_LEVELS)]
    if not levels:
        return spans
    return [s for s in spans
            if not (s.label_ == "REGION" and any(v.start <= s.start and s.end <= v.end for v in levels))]


# One drug named twice, brand and generic: "Naropin (ropivacaine) 0.5%",
# "dexamethasone 2 mg (Decadron)". A coder reads one drug, so it is one fact.
_DRUG_LABELS = {"ANESTHETIC", "STEROID"}
_DOSE_WORDS = {"mg", "%", "mg/ml", "ml", "acetonide", "acetate", "sodium", "phosphate", "hcl"}
_NAME_TAIL = 3  # tokens allowed between the second name and ")" ("Kenalog-40", "Celestone Soluspan")


def _restated_end(doc, first: Span, second: Span) -> int | None:
    """Where the joined span ends, or None when `second` does not restate `first`."""
    between = [t for t in doc[first.end:second.start] if not t.is_space]
    if not (between or first[-1].text == "("):
        return None
    if between and (between[-1].text != "(" or not all(
            t.like_num or t.lower_ in _DOSE_WORDS for t in between[:-1])):
        return None
    end = second.end
    while end < len(doc) and end - second.end < _NAME_TAIL and doc[end].text not in {")", ",", ";", "\n"}:
        end += 1
    if end >= len(doc) or doc[end].text != ")":
        return None
    end += 1
    if end + 1 < len(doc) and doc[end].like_num and doc[end + 1].text == "%" and "%" not in first.text:
        end += 2  # "Naropin (ropivacaine) 0.5%": the concentration belongs to the drug
    return end


def join_restated_drugs(spans: list[Span]) -> list[Span]:
    """Join a drug span and the next one when it only restates the same agent in parentheses."""
    if sum(1 for s in spans if s.label_ in _DRUG_LABELS) < 2:
        return spans
    values = pattern_values()
    out: list[Span] = []
    last: dict[str, int] = {}  # label -> index in `out` of its latest drug span
    for span in spans:
        at = last.get(span.label_) if span.label_ in _DRUG_LABELS else None
        prev = out[at] if at is not None else None
        if (prev is not None and values.get(prev.id_) == values.get(span.id_)
                and 0 <= span.start - prev.end <= 4):
            end = _restated_end(span.doc, prev, span)
            if end is not None:
                out[at] = Span(span.doc, prev.start, end, prev.label_, span_id=prev.id_)
                continue
        if span.label_ in _DRUG_LABELS:
            last[span.label_] = len(out)
        out.append(span)
    return out

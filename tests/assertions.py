"""Domain assertion helpers (style guide, point 18).

`assert_fact` is for the made-up sentences of the pattern cases, so its
messages may quote them. `assert_evidence_points_to_source` and
`assert_boxes_on_pages` also run over the corpus, whose documents stand in
for patient records: their messages name offsets, ids and pages only, never
document text (they call pytest.fail instead of a bare assert so that pytest
does not print the compared strings).
"""
from __future__ import annotations

from typing import Any, Iterable

import pytest

__all__ = ["assert_fact", "assert_evidence_points_to_source", "assert_boxes_on_pages", "value_matches"]

_FLOAT_TOLERANCE = 1e-6
_ANY = object()  # "value not given", so that an expected value of None can be asserted


def value_matches(expected: Any, actual: Any) -> bool:
    """Subset match: every key of an expected dict must match; other values compare equal.

    Numbers compare by value (90 matches 90.0); lists compare item by item.
    """
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and value_matches(v, actual[k])
                                                for k, v in expected.items())
    if isinstance(expected, list):
        return (isinstance(actual, (list, tuple)) and len(expected) == len(actual)
                and all(value_matches(e, a) for e, a in zip(expected, actual)))
    if isinstance(expected, (int, float)) and not isinstance(expected, bool) \
            and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return abs(expected - actual) < _FLOAT_TOLERANCE
    return expected == actual


def assert_fact(fact, kind: str, text: str, pattern_id: str | None = None, value: Any = _ANY) -> None:
    """A fact has this kind, exactly this text and, when given, this pattern id and value (subset match)."""
    assert fact.kind == kind, f"kind {fact.kind!r}, expected {kind!r} ({fact.pattern_id})"
    assert fact.text == text, f"{kind} covers {fact.text!r}, expected {text!r} ({fact.pattern_id})"
    if pattern_id is not None:
        assert fact.pattern_id == pattern_id, f"{kind} {text!r} found by {fact.pattern_id!r}, expected {pattern_id!r}"
    if value is not _ANY:
        assert value_matches(value, fact.value), f"{kind} {text!r} has value {fact.value!r}, expected {value!r}"


def assert_evidence_points_to_source(fact, source, label: str | None = None) -> None:
    """The fact's offsets index its own text in the source, and its boxes lie on real pages.

    `start` is inclusive and `end` exclusive, so `source.text[start:end]` must
    be exactly `fact.text` and non-empty. `label` names the document in
    messages (default: its path; pass a label when the file name holds a name).
    """
    where = f"{label or source.path}: {fact.kind} [{fact.start}:{fact.end}] ({fact.pattern_id})"
    if not 0 <= fact.start < fact.end <= len(source.text):
        pytest.fail(f"{where}: offsets outside 0..{len(source.text)} or empty span")
    if source.text[fact.start:fact.end] != fact.text:
        pytest.fail(f"{where}: source.text[start:end] differs from fact.text "
                    f"(lengths {fact.end - fact.start} and {len(fact.text)})")
    if source.kind == "pdf":
        if fact.page is not None and not 1 <= fact.page <= source.page_count:
            pytest.fail(f"{where}: page {fact.page} of {source.page_count}")
        assert_boxes_on_pages(source, fact.boxes, what=where)


def assert_boxes_on_pages(source, boxes: Iterable, what: str) -> None:
    """Every non-None box `(page, x0, top, x1, bottom)` lies within its page's width and height."""
    pages = {p.number: p for p in source.pages}
    bad = []
    for index, box in enumerate(boxes):
        if box is None:
            continue
        page, x0, top, x1, bottom = box
        info = pages.get(page)
        if info is None:
            bad.append(f"box {index}: page {page} is not one of {sorted(pages)}")
        elif not (0 <= x0 <= x1 <= info.width and 0 <= top <= bottom <= info.height):
            bad.append(f"box {index}: ({x0:.1f}, {top:.1f}, {x1:.1f}, {bottom:.1f}) outside page {page} "
                       f"({info.width:.1f} x {info.height:.1f})")
    if bad:
        shown = "\n  ".join(bad[:10])
        pytest.fail(f"{what}: {len(bad)} box(es) off the page\n  {shown}")

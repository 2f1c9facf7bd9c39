"""Offset invariants for every fact of every corpus and acceptance document (style guide, point 22).

For each document: every fact satisfies `source.text[start:end] == fact.text`
with `start < end`; for a PDF, every non-None character box and every fact
box lies within its page's width and height. Extraction is cached for the
session by the `extract_file` fixture (conftest.py), so the corpus is read once
and shared with tests/test_corpus_claims.py.

The documents stand in for patient records, so these tests never use a bare
`assert` on an object whose repr holds text (pytest would print it): they
call pytest.fail with offsets, kinds and pattern ids only.
"""
from __future__ import annotations

import pytest

from assertions import assert_boxes_on_pages, assert_evidence_points_to_source
from extractor.errors import IngestError


def test_invariants_facts_point_to_their_source(corpus_document, extract_file):
    name = corpus_document.label
    try:
        doc = extract_file(corpus_document.path)
    except IngestError as exc:  # its message holds the path; report the label only
        doc, problem = None, exc.message
    if doc is None:
        pytest.fail(f"{name}: cannot be read: {problem}")
    source = doc.source
    if not doc.facts:
        pytest.fail(f"{name}: no facts at all")
    for fact in doc.facts:
        assert_evidence_points_to_source(fact, source, name)  # for PDFs, also the fact's boxes
    if source.kind == "pdf":
        if not source.pages or source.boxes is None or all(box is None for box in source.boxes):
            pytest.fail(f"{name}: a PDF without pages or character boxes")
        if len(source.boxes) != len(source.text):
            pytest.fail(f"{name}: {len(source.boxes)} boxes for {len(source.text)} characters")
        assert_boxes_on_pages(source, source.boxes, what=f"{name} character boxes")

"""Stage 3: SourceText -> spaCy Doc -> candidate spans -> interpreters -> facts.

`nlp(source.text)` runs exactly once per document; every fact indexes the
same text, so `source.text[fact.start:fact.end] == fact.text` always holds.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from functools import lru_cache

from extractor import interpret  # noqa: F401  (registers the interpreters)
from extractor.facts import ExtractedDocument, Fact
from extractor.interpret import Context, Draft
from extractor.nlp import RESOLVED, get_nlp
from extractor.patterns import PATTERN_DIR, load_patterns
from extractor.registry import interpreter_for
from extractor.sourcetext import SourceText

__all__ = ["extract_source", "extract_path"]

_SKIP_INTERPRET = {"DURATION", "SKIN_LOCAL"}  # read by other interpreters, not facts themselves


@lru_cache(maxsize=1)
def _pattern_values() -> dict:
    return {spec.id: spec.value for spec in load_patterns(PATTERN_DIR)}


def _document_date(drafts: list[Draft]) -> dt.date | None:
    for kind in ("service_date", "date"):
        for draft in drafts:
            if draft.kind == kind and draft.value:
                return dt.date.fromisoformat(draft.value)
    return None


def _run(spans, ctx: Context, labels: set[str] | None = None) -> list[Draft]:
    drafts: list[Draft] = []
    for span in spans:
        if span.label_ in _SKIP_INTERPRET or (labels is not None and span.label_ not in labels):
            continue
        fn = interpreter_for(span.label_)
        if fn is not None:
            drafts.extend(fn(span, ctx))
    return drafts


def _to_fact(draft: Draft, source: SourceText) -> Fact:
    span = draft.span
    page = source.page_of(draft.start, draft.end)
    return Fact(
        kind=draft.kind, value=draft.value, start=draft.start, end=draft.end,
        text=source.text[draft.start:draft.end], pattern_id=draft.pattern_id, page=page,
        boxes=tuple(source.boxes_of(draft.start, draft.end)),
        section=getattr(span._, "section_category", None) if span is not None else None,
        negated=bool(span._.is_negated) if span is not None else False,
        hypothetical=bool(span._.is_hypothetical) if span is not None else False,
        historical=bool(span._.is_historical) if span is not None else False,
        explanation=f"{span.label_ if span is not None else draft.kind} via pattern `{draft.pattern_id}`: {draft.explanation}",
    )


_WRAPPED_LINE = re.compile(r"(?<=[A-Za-z0-9,(])\n(?=[a-z(])")


def nlp_text(text: str) -> str:
    """The text the pipeline reads: wrapped line breaks become spaces.

    Why: a PDF or a hard-wrapped export breaks "radiofrequency\nablation"
    across lines, and a token pattern cannot step over the line-break token.
    Only a break between a word and a lower-case continuation is replaced,
    one character for one, so every offset still indexes `source.text`.
    """
    return _WRAPPED_LINE.sub(" ", text)


def extract_source(source: SourceText, sha256: str = "") -> ExtractedDocument:
    """Find every fact in one document's text."""
    doc = get_nlp()(nlp_text(source.text))
    spans = sorted(doc.spans[RESOLVED], key=lambda s: (s.start, s.end))
    ctx = Context(doc=doc, spans=spans, values=_pattern_values())
    ctx.document_date = _document_date(_run(spans, ctx, {"DATE"}))
    drafts = _run(spans, ctx)
    facts = tuple(sorted((_to_fact(d, source) for d in drafts), key=lambda f: (f.start, f.end, f.kind)))
    return ExtractedDocument(path=source.path, sha256=sha256 or hashlib.sha256(source.text.encode()).hexdigest(),
                             source=source, facts=facts, warnings=tuple(source.warnings))


def extract_path(path: str) -> ExtractedDocument:
    """Read a .txt/.md/.pdf file and extract its facts, within the per-document limits.

    Raises:
        IngestError: the file cannot be read, or a limit (size, pages,
            characters, time) was exceeded.
    """
    from extractor.ingest import Limits, read_document, sha256_of, time_limit

    limits = Limits.from_env()
    with time_limit(path, limits.max_seconds):
        source = read_document(path, limits=limits)
        return extract_source(source, sha256_of(path))

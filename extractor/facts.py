"""Stage 3 output: facts found in one document, each with its evidence.

A `Fact` is one statement a pattern found: its kind, a normalised value, and
the exact characters that say it (`start` inclusive, `end` exclusive, indices
into `SourceText.text`). Assertion flags come from medspaCy's ConText; the
section from its Sectionizer. `pattern_id` is the stable id of the rule that
matched (see extractor/patterns/*.jsonl), so every fact can say why it exists.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from extractor.sourcetext import Box, SourceText

__all__ = ["Fact", "ExtractedDocument", "FACT_KINDS"]

# Fact kinds and what their `value` holds (documented in docs/facts.md).
FACT_KINDS = (
    "procedure",         # str: facet_rfa, medial_branch_block, facet_injection, sacroiliac, ...
    "level",             # dict: joints, nerves, region, side, form
    "side",              # str: left, right, bilateral
    "region",            # str: cervical, thoracic, lumbar, sacral
    "relief",            # dict: percent, basis, duration_hours
    "anesthetic",        # dict: agent, concentration
    "steroid",           # dict: agent
    "date",              # str ISO date or None
    "service_date",      # str ISO date or None
    "imaging",           # str: fluoroscopy, ct, ultrasound
    "pain_score",        # dict: score, scale
    "function",          # dict: measure, value
    "pain_duration",     # dict: months
    "conservative_care", # dict: therapy, weeks
    "patient_name",      # dict: first, middle, last
    "dob",               # str ISO date
    "mrn",               # str
    "provider",          # str
    "setting",           # str: asc, office, hospital_outpatient
    "diagnosis",         # dict: code, suggested, words
    "block_number",      # int: 1, 2 (which diagnostic block this note is)
)


@dataclass(frozen=True)
class Fact:
    """One extracted statement with its provenance.

    Attributes:
        kind: one of FACT_KINDS.
        value: normalised, JSON-safe value (see FACT_KINDS).
        start: offset of the first character (inclusive).
        end: offset after the last character (exclusive).
        text: exactly `source.text[start:end]`.
        pattern_id: id of the pattern that found it.
        page: 1-based page for PDFs, None for text files.
        boxes: merged boxes on the page(s), for highlighting.
        section: section category from the Sectionizer, or None.
        negated, hypothetical, historical: ConText assertion flags.
        explanation: how the value was derived, for reviewers.
    """

    kind: str
    value: Any
    start: int
    end: int
    text: str
    pattern_id: str
    page: int | None = None
    boxes: tuple[Box, ...] = ()
    section: str | None = None
    negated: bool = False
    hypothetical: bool = False
    historical: bool = False
    explanation: str = ""

    @property
    def asserted(self) -> bool:
        """True when the fact is stated as a present fact of this document."""
        return not (self.negated or self.hypothetical or self.historical)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind, "value": self.value, "start": self.start, "end": self.end,
            "text": self.text, "page": self.page, "pattern_id": self.pattern_id,
            "section": self.section, "negated": self.negated,
            "hypothetical": self.hypothetical, "historical": self.historical,
            "boxes": [list(b) for b in self.boxes], "explanation": self.explanation,
        }


@dataclass(frozen=True)
class ExtractedDocument:
    """Everything the extractor knows about one document."""

    path: str
    sha256: str
    source: SourceText
    facts: tuple[Fact, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        return self.source.text

    def of_kind(self, *kinds: str) -> list[Fact]:
        return [f for f in self.facts if f.kind in kinds]

    def to_dict(self) -> dict:
        return {
            "path": self.path, "sha256": self.sha256, "text": self.source.text,
            "pages": self.source.page_count, "kind": self.source.kind,
            "warnings": list(self.warnings),
            "facts": [f.to_dict() for f in self.facts],
        }

"""Stage 3: interpreters from spans to facts. Importing this package registers them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Draft", "Context"]


@dataclass
class Draft:
    """A fact before flags, section and page are attached by the pipeline."""

    kind: str
    value: Any
    start: int
    end: int
    pattern_id: str
    explanation: str = ""
    span: Any = None  # the spaCy span whose ConText flags apply


@dataclass
class Context:
    """What an interpreter may look at besides its own span."""

    doc: Any
    spans: list = field(default_factory=list)
    values: dict = field(default_factory=dict)     # pattern id -> authored value
    document_date: Any = None                      # datetime.date or None

    def same_sentence(self, span, label: str | None = None) -> list:
        sent = span.sent
        return [s for s in self.spans if s.sent.start == sent.start and (label is None or s.label_ == label)]


from extractor.interpret import clinical, dates, drugs, header, levels, relief  # noqa: E402,F401

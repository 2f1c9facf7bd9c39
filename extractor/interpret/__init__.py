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
    day_first: bool = False                        # the note writes 14/09/2026 (interpret/dates.py)

    _sentence_of: list | None = field(default=None, repr=False, compare=False)  # token -> its sentence's start
    _by_sentence: dict | None = field(default=None, repr=False, compare=False)  # sentence start -> its spans
    _text: str | None = field(default=None, repr=False, compare=False)

    @property
    def text(self) -> str:
        """`doc.text`, joined once per note (spaCy joins every token's text on each access)."""
        if self._text is None:
            self._text = self.doc.text
        return self._text

    def sentence_start(self, token_i: int) -> int:
        """`doc[token_i:token_i + 1].sent.start`, from one pass over the doc's sentence starts.

        Why: `Span.sent` walks the doc and builds a Span each time, and
        same_sentence asked it for every span of the note (~30% of extraction).
        """
        if self._sentence_of is None:
            starts, current = [], 0
            for i, flag in enumerate(self.doc.to_array("SENT_START").tolist()):
                current = i if flag == 1 else current  # what Span.sent walks back to (token 0 at worst)
                starts.append(current)
            self._sentence_of = starts
        return self._sentence_of[token_i]

    def same_sentence(self, span, label: str | None = None) -> list:
        """The spans (in `spans` order) whose first token is in `span`'s sentence; grouped once per note."""
        if self._by_sentence is None:
            groups: dict[int, list] = {}
            for s in self.spans:
                groups.setdefault(self.sentence_start(s.start), []).append(s)
            self._by_sentence = groups
        found = self._by_sentence.get(self.sentence_start(span.start), ())
        return [s for s in found if label is None or s.label_ == label]


from extractor.interpret import clinical, dates, drugs, header, levels, relief  # noqa: E402,F401

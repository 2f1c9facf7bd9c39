"""Stage 1 output: one document's text plus where every character came from.

A `SourceText` is what ingest produces and what every later stage indexes
into. Offsets are Python string indices into `SourceText.text`; start is
inclusive and end exclusive, so `text[start:end]` is the exact evidence.

For a PDF, each character carries the page and box it was drawn in (PDF
points, origin at the top-left of the page, the convention of pdfplumber);
characters we inserted ourselves (line breaks between text lines, the page
separator) carry `None`. For a text file, a character's origin is its line
and column in the file, derived from line starts so no per-character object
is stored.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Sequence

__all__ = ["Origin", "PageInfo", "SourceText", "Box", "line_bounds", "sentence_bounds"]

# (page, x0, top, x1, bottom): one character's box on a PDF page.
Box = tuple[int, float, float, float, float]


def line_bounds(text: str, start: int, end: int | None = None) -> tuple[int, int]:
    """(first offset, end offset) of the line holding text[start:end], without its line break."""
    line_end = text.find("\n", start if end is None else end)
    return text.rfind("\n", 0, start) + 1, (len(text) if line_end == -1 else line_end)


def sentence_bounds(text: str, start: int, end: int | None = None) -> tuple[int, int]:
    """(first offset, end offset) of the sentence holding text[start:end]: it ends at ". " or a blank line."""
    end = start if end is None else end
    first = max(text.rfind(". ", 0, start), text.rfind("\n\n", 0, start)) + 1
    ends = [i for i in (text.find(". ", end), text.find("\n\n", end)) if i != -1]
    return first, (min(ends) if ends else len(text))


@dataclass(frozen=True, slots=True)
class Origin:
    """Where one character of the text came from.

    Attributes:
        page: 1-based page number for PDFs, None for text files.
        x0, top, x1, bottom: box in PDF points (top-left origin), or None.
        line: 1-based line in a text file, or None for PDFs.
        col: 0-based column in that line, or None for PDFs.
    """

    page: int | None = None
    x0: float | None = None
    top: float | None = None
    x1: float | None = None
    bottom: float | None = None
    line: int | None = None
    col: int | None = None

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}


@dataclass(frozen=True, slots=True)
class PageInfo:
    """One PDF page: its size, and how its text was obtained."""

    number: int
    width: float
    height: float
    has_text_layer: bool = True
    ocr: bool = False

    def to_dict(self) -> dict:
        return {"number": self.number, "width": self.width, "height": self.height,
                "has_text_layer": self.has_text_layer, "ocr": self.ocr}


@dataclass(frozen=True)
class SourceText:
    """Text of one document and the origin of each of its characters.

    Attributes:
        text: the text every later stage reads (normalised line ends, no BOM).
        path: the file it was read from, as given.
        kind: "text" or "pdf".
        boxes: for PDFs, one `Box` or None per character (len == len(text)).
        pages: for PDFs, one `PageInfo` per page.
        page_starts: for PDFs, the offset where each page's text begins.
        warnings: problems that did not stop reading (e.g. a page with no text layer).
    """

    text: str
    path: str = ""
    kind: str = "text"
    boxes: Sequence[Box | None] | None = None
    pages: tuple[PageInfo, ...] = ()
    page_starts: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()
    _line_starts: list[int] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.boxes is not None and len(self.boxes) != len(self.text):
            raise ValueError(f"{self.path}: {len(self.boxes)} origins for {len(self.text)} characters")
        starts = [0]
        find = self.text.find
        i = find("\n")
        while i != -1:
            starts.append(i + 1)
            i = find("\n", i + 1)
        object.__setattr__(self, "_line_starts", starts)

    @property
    def page_count(self) -> int:
        return len(self.pages)

    def line_col(self, index: int) -> tuple[int, int]:
        """1-based line and 0-based column of a character offset."""
        line = bisect.bisect_right(self._line_starts, index) - 1
        return line + 1, index - self._line_starts[line]

    def origin(self, index: int) -> Origin | None:
        """Where the character at `index` came from, or None if we inserted it."""
        if not 0 <= index < len(self.text):
            raise IndexError(index)
        if self.kind != "pdf":
            line, col = self.line_col(index)
            return Origin(line=line, col=col)
        box = self.boxes[index] if self.boxes is not None else None
        if box is None:
            return None
        page, x0, top, x1, bottom = box
        return Origin(page=page, x0=x0, top=top, x1=x1, bottom=bottom)

    def page_of(self, start: int, end: int | None = None) -> int | None:
        """The page a span starts on (PDFs), or None for text files."""
        if self.kind != "pdf" or not self.page_starts:
            return None
        return max(1, bisect.bisect_right(self.page_starts, start))

    def boxes_of(self, start: int, end: int) -> list[Box]:
        """Boxes covering text[start:end], merged into one box per text line and page."""
        if self.kind != "pdf" or self.boxes is None:
            return []
        merged: list[list] = []
        for box in self.boxes[start:end]:
            if box is None:
                continue
            page, x0, top, x1, bottom = box
            last = merged[-1] if merged else None
            if last and last[0] == page and abs(last[2] - top) < (bottom - top) * 0.5 + 0.5:
                last[1], last[2] = min(last[1], x0), min(last[2], top)
                last[3], last[4] = max(last[3], x1), max(last[4], bottom)
            else:
                merged.append([page, x0, top, x1, bottom])
        return [tuple(b) for b in merged]  # type: ignore[misc]

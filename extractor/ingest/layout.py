"""Stage 1 (ingest): page geometry and the parts of layout shared by the text layer and OCR.

Characters arrive as (text, x0, top, x1, bottom) in PDF points, top-left
origin, in the page as displayed (CropBox, /Rotate applied): `Frame` maps
PDFium's boxes there and `turn` turns sideways text upright. Lines, words
and columns are laid out in extractor/ingest/lines.py; OCR lines that the
engine already ordered are written by `emit_ocr_line`. Spaces drawn in the
PDF keep their box; spaces and newlines we insert have box None. This module
also finds running headers and footers. Nothing here calls PDFium.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

import numpy as np

from extractor.sourcetext import Box, SourceText

__all__ = ["Char", "Frame", "PAGE_SEPARATOR", "clamp", "turn", "emit_ocr_line", "repeated_margin_lines"]

PAGE_SEPARATOR = "\n\n"

# (text, x0, top, x1, bottom); text is " " for any whitespace, or a ligature's letters.
Char = tuple[str, float, float, float, float]

_MARGIN_DEPTH = 2      # lines at the top and bottom of a page checked for repeats
_SIGNS = np.array([[1.0], [-1.0], [1.0], [-1.0]])


class Frame:
    """Maps PDFium's user-space boxes to the displayed page (CropBox, /Rotate)."""

    def __init__(self, cropbox: tuple[float, float, float, float], rotation: int) -> None:
        left, bottom, right, top = cropbox
        self.left, self.top = left, top
        self.w, self.h = right - left, top - bottom
        self.rotation = rotation % 360
        swap = self.rotation in (90, 270)
        self.width, self.height = (float(self.h), float(self.w)) if swap else (float(self.w), float(self.h))

    def place(self, rects: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """PDFium boxes (FS_RECTF rows: left, top, right, bottom in user space, shape (n, 4))
        -> display-frame (x0, top, x1, bottom) as rows of one (4, n) float64 array, clamped
        to the page, and a mask of the boxes that are on the page at all (finite and overlapping it)."""
        # Rows u0, v0, u1, v1 (left - frame left, frame top - top, ...) in two array operations:
        # a negated row plus an offset is the same float subtraction.
        xy = np.multiply(rects.T, _SIGNS, out=np.empty((4, len(rects))))
        xy += np.array([[-self.left], [self.top], [-self.left], [self.top]])
        if self.rotation:
            u0, v0, u1, v1 = xy
            if self.rotation == 90:  # /Rotate turns the page clockwise
                rows = (self.h - v1, u0, self.h - v0, u1)
            elif self.rotation == 180:
                rows = (self.w - u1, self.h - v1, self.w - u0, self.h - v0)
            else:
                rows = (v0, self.w - u1, v1, self.w - u0)
            xy = np.array(rows).reshape(4, len(rects))
        size = np.array([[self.width], [self.height]])
        on_page = np.isfinite(xy).all(axis=0) & (xy[2:] >= 0).all(axis=0) & (xy[:2] <= size).all(axis=0)
        if (xy[:2] < 0).any() or (xy[2:] > size).any():  # as clamp(): a box partly off the page is cut to it
            xy = np.stack((np.where(xy[0] < 0, 0.0, xy[0]), np.where(xy[1] < 0, 0.0, xy[1]),
                           np.where(xy[2] > self.width, self.width, xy[2]),
                           np.where(xy[3] > self.height, self.height, xy[3])))
        return xy, on_page


def clamp(x0: float, y0: float, x1: float, y1: float, width: float, height: float) -> tuple[float, ...] | None:
    if x1 < 0 or y1 < 0 or x0 > width or y0 > height:
        return None
    if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
        x0, y0, x1, y1 = max(x0, 0.0), max(y0, 0.0), min(x1, width), min(y1, height)
    return x0, y0, x1, y1


def turn(box: Sequence, quarters: int, width: float, height: float) -> tuple:
    """Turn a box (x0, top, x1, bottom: floats or arrays) on a width x height page
    clockwise by `quarters` quarter turns."""
    x0, top, x1, bottom = box
    for _ in range(quarters):
        x0, top, x1, bottom, width, height = height - bottom, x0, height - top, x1, height, width
    return x0, top, x1, bottom


def emit_ocr_line(line: list[Char], page: int, out: list[str], boxes: list[Box | None]) -> None:
    """Write a line an OCR engine already put in order: its characters as
    given, one space (box None) wherever the engine saw a word gap."""
    started = gap = False
    for text, x0, top, x1, bottom in line:
        if text == " ":
            gap = started
            continue
        if gap:
            out.append(" ")
            boxes.append(None)
        out.append(text)
        boxes.extend([(page, x0, top, x1, bottom)] * len(text))
        started, gap = True, False


def repeated_margin_lines(source: SourceText) -> list[tuple[int, int]]:
    """Character ranges of running headers and footers of a multi-page PDF.

    A line counts when, with digits ignored ("Page 1 of 2 - printed from EHR"),
    it is among the first or last two lines of more than half of the pages
    (at least two). The text keeps these lines so offsets stay honest; later
    stages can skip these ranges (start inclusive, end exclusive, no newline).
    """
    if source.kind != "pdf" or len(source.page_starts) < 2:
        return []
    text, starts = source.text, source.page_starts
    ends = [s - len(PAGE_SEPARATOR) for s in starts[1:]] + [len(text)]
    per_page: list[list[tuple[str, int, int]]] = []
    for start, end in zip(starts, ends):
        lines, pos = [], start
        for line in text[start:end].split("\n"):
            if line.strip():
                lines.append((_margin_key(line), pos, pos + len(line)))
            pos += len(line) + 1
        if lines:
            per_page.append(list(dict.fromkeys(lines[:_MARGIN_DEPTH] + lines[-_MARGIN_DEPTH:])))
    counts = Counter(key for lines in per_page for key in {k for k, _, _ in lines})
    repeated = {k for k, n in counts.items() if n >= 2 and 2 * n > len(per_page)}
    return sorted((s, e) for lines in per_page for k, s, e in lines if k in repeated)


def _margin_key(line: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", line)).strip().lower()

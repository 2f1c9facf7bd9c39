"""Stage 1 (ingest): page layout shared by the text layer and OCR.

Characters arrive as (text, x0, top, x1, bottom) in PDF points, top-left
origin, in the page as displayed (CropBox, /Rotate applied). This module
groups them into lines by vertical position, orders two-column prose column
by column, and writes lines out with one space per word gap, as pdfplumber's
`extract_text(layout=False)` does. Spaces drawn in the PDF keep their box;
spaces and newlines we insert have box None. It also finds running headers
and footers. Nothing here calls PDFium, so it is the same for every engine.
"""
from __future__ import annotations

import math
import re
from collections import Counter

from extractor.sourcetext import Box, SourceText

__all__ = ["Char", "Frame", "PAGE_SEPARATOR", "clamp", "turn", "reading_order", "emit_line",
           "emit_ocr_line", "repeated_margin_lines"]

PAGE_SEPARATOR = "\n\n"

# (text, x0, top, x1, bottom); text is " " for any whitespace, or a ligature's letters.
Char = tuple[str, float, float, float, float]

_X_TOLERANCE = 3.0     # pt: pdfplumber's default word gap, the most we ever require
_GUTTER_MIN = 9.0      # pt: an empty vertical band at least this wide may separate columns
_MIN_COLUMN_LINES = 6
_MARGIN_DEPTH = 2      # lines at the top and bottom of a page checked for repeats


class Frame:
    """Maps PDFium's user-space boxes to the displayed page (CropBox, /Rotate)."""

    def __init__(self, cropbox: tuple[float, float, float, float], rotation: int) -> None:
        left, bottom, right, top = cropbox
        self.left, self.top = left, top
        self.w, self.h = right - left, top - bottom
        self.rotation = rotation % 360
        swap = self.rotation in (90, 270)
        self.width, self.height = (float(self.h), float(self.w)) if swap else (float(self.w), float(self.h))

    def place(self, left: float, bottom: float, right: float, top: float) -> tuple[float, ...] | None:
        """Display-frame (x0, top, x1, bottom) clamped to the page, or None if off-page."""
        u0, u1, v0, v1 = left - self.left, right - self.left, self.top - top, self.top - bottom
        if self.rotation == 0:
            if 0 <= u0 and u1 <= self.width and 0 <= v0 and v1 <= self.height:
                return u0, v0, u1, v1  # the common case, kept cheap: it runs per character
            x0, y0, x1, y1 = u0, v0, u1, v1
        elif self.rotation == 90:  # /Rotate turns the page clockwise
            x0, y0, x1, y1 = self.h - v1, u0, self.h - v0, u1
        elif self.rotation == 180:
            x0, y0, x1, y1 = self.w - u1, self.h - v1, self.w - u0, self.h - v0
        else:
            x0, y0, x1, y1 = v0, self.w - u1, v1, self.w - u0
        return clamp(x0, y0, x1, y1, self.width, self.height)


def clamp(x0: float, y0: float, x1: float, y1: float, width: float, height: float) -> tuple[float, ...] | None:
    if x1 < 0 or y1 < 0 or x0 > width or y0 > height:
        return None
    if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
        x0, y0, x1, y1 = max(x0, 0.0), max(y0, 0.0), min(x1, width), min(y1, height)
    return x0, y0, x1, y1


def turn(box: tuple[float, ...], quarters: int, width: float, height: float) -> tuple[float, ...]:
    """Turn a box on a width x height page clockwise by `quarters` quarter turns."""
    x0, top, x1, bottom = box
    for _ in range(quarters):
        x0, top, x1, bottom, width, height = height - bottom, x0, height - top, x1, height, width
    return x0, top, x1, bottom


def reading_order(chars: list[Char], width: float) -> list[list[Char]]:
    """Lines (each sorted by x) in reading order; lines without ink are dropped."""
    lines = [line for line in _cluster_lines(chars) if _ink(line)]
    return _order_columns(lines, width)


def _cluster_lines(chars: list[Char]) -> list[list[Char]]:
    # Grouping by vertical centre, not top, keeps a 14 pt label and 10 pt
    # value on one baseline together.
    lines: list[list[Char]] = []
    ref_mid = ref_h = 0.0
    for c in sorted(chars, key=lambda c: c[2] + c[4]):
        mid, h = (c[2] + c[4]) / 2, max(c[4] - c[2], 1.0)
        if lines and mid - ref_mid <= 0.4 * min(h, ref_h):
            lines[-1].append(c)
        else:
            lines.append([c])
            ref_mid, ref_h = mid, h
    for line in lines:
        line.sort(key=lambda c: c[1])
    return lines


def _ink_segments(line: list[Char]) -> list[tuple[float, float]]:
    segments: list[list[float]] = []
    for _, x0, _, x1, _ in (c for c in line if c[0] != " "):
        if segments and x0 - segments[-1][1] < _GUTTER_MIN:
            segments[-1][1] = max(segments[-1][1], x1)
        else:
            segments.append([x0, x1])
    return [(a, b) for a, b in segments]


def _order_columns(lines: list[list[Char]], width: float) -> list[list[Char]]:
    """Read a two-column block column by column; everything else top to bottom.

    A gutter is an x in the middle 40% of the page that no ink crosses over a
    run of consecutive lines (not split by a tall blank, which sets off a
    footer) holding half the lines or half the text height. The columns must
    look like prose: each at least a fifth of the page wide, lines filling it,
    and the two sides close to the gutter, so a two-column table ("drug ...
    dose") or a label/value header stays row by row.
    """
    if len(lines) < _MIN_COLUMN_LINES:
        return lines
    xs = range(int(width * 0.3), int(width * 0.7) + 1, 3)
    crossed = [bytearray(len(xs)) for _ in lines]  # crossed[line][k]: ink spans xs[k]
    for row, line in zip(crossed, lines):
        for a, b in _ink_segments(line):
            k0, k1 = max(0, int((a - xs.start) // 3) + 1), min(len(xs), math.ceil((b - xs.start) / 3))
            if k1 > k0:
                row[k0:k1] = b"\x01" * (k1 - k0)
    tops = [min(c[2] for c in line) for line in lines]
    bottoms = [max(c[4] for c in line) for line in lines]
    tall_gap = 3 * sorted(b - t for t, b in zip(tops, bottoms))[len(lines) // 2]
    breaks = [i > 0 and tops[i] - bottoms[i - 1] > tall_gap for i in range(len(lines))]
    best = (0, 0, 0.0)  # run length, run end (exclusive), gutter x
    for k, x in enumerate(xs):
        run = 0
        for i, row in enumerate(crossed):
            run = 0 if row[k] else (1 if breaks[i] else run + 1)
            if run > best[0]:
                best = (run, i + 1, float(x))
    run, end, x = best
    start = end - run
    if run < _MIN_COLUMN_LINES or (run < 0.5 * len(lines)
                                   and bottoms[end - 1] - tops[start] < 0.5 * (bottoms[-1] - tops[0])):
        return lines
    block = lines[start:end]
    left = [part for part in ([c for c in line if c[1] + c[3] < 2 * x] for line in block) if _ink(part)]
    right = [part for part in ([c for c in line if c[1] + c[3] >= 2 * x] for line in block) if _ink(part)]
    if min(len(left), len(right)) < 0.4 * run:
        return lines
    (l_lo, l_hi), (r_lo, r_hi) = _extent(left), _extent(right)
    prose = (r_lo - l_hi <= 0.1 * width and min(l_hi - l_lo, r_hi - r_lo) >= 0.2 * width
             and _fill(left) >= 0.6 * (l_hi - l_lo) and _fill(right) >= 0.6 * (r_hi - r_lo))
    return lines[:start] + left + right + lines[end:] if prose else lines


def _ink(line: list[Char]) -> list[Char]:
    return [c for c in line if c[0] != " "]


def _extent(lines: list[list[Char]]) -> tuple[float, float]:
    return min(_ink(line)[0][1] for line in lines), max(_ink(line)[-1][3] for line in lines)


def _fill(lines: list[list[Char]]) -> float:
    """Mean width of the ink of each line."""
    return sum(_ink(line)[-1][3] - _ink(line)[0][1] for line in lines) / len(lines)


def emit_line(line: list[Char], page: int, out: list[str], boxes: list[Box | None]) -> None:
    prev: Char | None = None
    space: Char | None = None
    for c in line:
        text, x0, top, x1, bottom = c
        if text == " ":
            space = space or (c if prev is not None else None)
            continue
        if prev is not None:
            if text == prev[0] and abs(x0 - prev[1]) < 1 and abs(top - prev[2]) < 1:
                continue  # "fake bold": the same glyph drawn twice, slightly offset
            if space is not None or x0 - prev[3] > min(_X_TOLERANCE, 0.2 * (bottom - top)):
                out.append(" ")
                boxes.append((page, *space[1:]) if space is not None else None)
        out.append(text)
        boxes.extend([(page, x0, top, x1, bottom)] * len(text))  # a ligature's letters share its box
        prev, space = c, None


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

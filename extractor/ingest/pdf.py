"""Stage 1 (ingest): PDF bytes -> SourceText (kind "pdf") with a box per character.

Characters and their boxes come from pypdfium2 (PDFium), which measured 5-6x
faster than pdfplumber for the same text (docs/ingest.md). PDFium is not
thread-safe: read PDFs from one thread per process. PDFium's own text
output inserts spaces and line breaks by stream order, so we ignore its
generated characters and lay the page out ourselves, as pdfplumber's
`extract_text(layout=False)` does: lines by vertical position, characters by
x, one space per word gap. Spaces drawn in the PDF keep their box; spaces and
newlines we insert have box None. Boxes are PDF points, top-left origin, in
the page as displayed (CropBox, /Rotate applied), i.e. the frame a renderer
draws, so the review page can overlay them on a page image.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Callable, NamedTuple

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from extractor.errors import IngestError, Messages
from extractor.sourcetext import Box, PageInfo, SourceText

__all__ = ["read_pdf", "repeated_margin_lines", "OcrHook", "PAGE_SEPARATOR", "OCR_SCALE"]

PAGE_SEPARATOR = "\n\n"
# A page image handed to an OCR hook is rendered at 300 dpi.
OCR_SCALE = 300 / 72
# ocr_page(page_image) -> [(char, (x0, top, x1, bottom)) in image pixels]
OcrHook = Callable[[Any], list[tuple[str, tuple[float, float, float, float]]]]

# (text, x0, top, x1, bottom); text is " " for any whitespace, or a ligature's letters.
Char = tuple[str, float, float, float, float]

_LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
              "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"}
_OPEN_ERRORS = {pdfium_c.FPDF_ERR_UNKNOWN: "unknown error", pdfium_c.FPDF_ERR_FILE: "file error",
                pdfium_c.FPDF_ERR_FORMAT: "format error", pdfium_c.FPDF_ERR_PAGE: "page error"}
_CHAR_TEXT: dict[int, str | None] = {}  # code point -> text, memoised: called per character
_X_TOLERANCE = 3.0     # pt: pdfplumber's default word gap, the most we ever require
_GUTTER_MIN = 9.0      # pt: an empty vertical band at least this wide may separate columns
_MIN_COLUMN_LINES = 6
_MARGIN_DEPTH = 2      # lines at the top and bottom of a page checked for repeats


def read_pdf(path: str, data: bytes, *, max_pages: int, ocr_page: OcrHook | None = None) -> SourceText:
    """Build the SourceText of a PDF.

    Args:
        path: file name for errors and `SourceText.path`.
        data: the file's bytes.
        max_pages: refuse documents with more pages.
        ocr_page: optional OCR for pages without a text layer; receives a
            pypdfium2 `PdfBitmap` rendered at `OCR_SCALE` (300 dpi).

    Raises:
        IngestError: E003 damaged/truncated, E004 password needed, E006 too
            many pages, E007 no page has text.
    """
    _check_markers(path, data)
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise IngestError(path, Messages.E004) from None
        detail = f"PdfiumError ({_OPEN_ERRORS.get(exc.err_code, 'error')})"
        raise IngestError(path, Messages.E003.format(detail=detail)) from None
    try:
        count = len(pdf)
        if count > max_pages:
            raise IngestError(path, Messages.E006.format(pages=count, limit=max_pages))
        if count == 0:
            raise IngestError(path, Messages.E003.format(detail="no pages"))
        pages = [_read_page(path, pdf, i, ocr_page) for i in range(count)]
    finally:
        pdf.close()
    if not any(page.info.has_text_layer or page.info.ocr for page in pages):
        numbers = "1" if count == 1 else f"1-{count}"
        raise IngestError(path, Messages.E007.format(pages=numbers))
    return _assemble(path, pages)


def _check_markers(path: str, data: bytes) -> None:
    # PDFium quietly rebuilds a cut-off file from what is left, which would
    # drop pages without telling anyone; a missing %%EOF means the file is cut.
    if b"%PDF-" not in data[:1024]:
        raise IngestError(path, Messages.E003.format(detail="no PDF header"))
    if b"%%EOF" not in data[-4096:]:
        raise IngestError(path, Messages.E003.format(detail="truncated (no %%EOF marker)"))


class _Page(NamedTuple):
    info: PageInfo
    lines: list[list[Char]]   # in reading order, boxes in the layout frame
    warnings: list[str]
    turn_back: int            # quarter turns (clockwise) from layout frame to displayed page
    width: float              # of the layout frame
    height: float


def _read_page(path: str, pdf: pdfium.PdfDocument, index: int, ocr_page: OcrHook | None) -> _Page:
    number = index + 1
    try:
        page = pdf[index]
        textpage = page.get_textpage()
    except pdfium.PdfiumError:
        raise IngestError(path, Messages.E003.format(detail=f"page {number}: PdfiumError")) from None
    try:
        frame = _Frame(page)
        chars, outside = _text_layer_chars(textpage, frame)
        has_text = any(c[0] != " " for c in chars)
        ocr, warnings = False, []
        if outside:
            warnings.append(f"page {number}: {outside} character(s) outside the page area ignored")
        if not has_text and ocr_page is not None:
            chars = _ocr_chars(page, frame, ocr_page)
            ocr = any(c[0] != " " for c in chars)
        if not has_text and not ocr:
            warnings.append(f"page {number}: no text layer (scanned image?); OCR not available")
            chars = []
        info = PageInfo(number=number, width=frame.width, height=frame.height,
                        has_text_layer=has_text, ocr=ocr)
        # Lay out text that runs sideways or upside down as displayed in a
        # frame where it reads left to right; _assemble turns the boxes back.
        turn = _text_turn(textpage, frame.rotation) if has_text else 0
        width, height = (frame.height, frame.width) if turn % 2 else (frame.width, frame.height)
        chars = [(c[0], *_turn(c[1:], turn, frame.width, frame.height)) for c in chars] if turn else chars
        return _Page(info, _reading_order(chars, width), warnings, (4 - turn) % 4, width, height)
    finally:
        textpage.close()
        page.close()


class _Frame:
    """Maps PDFium's user-space boxes to the displayed page (CropBox, /Rotate)."""

    def __init__(self, page: pdfium.PdfPage) -> None:
        left, bottom, right, top = page.get_cropbox()
        self.left, self.top = left, top
        self.w, self.h = right - left, top - bottom
        self.rotation = page.get_rotation() % 360
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
        return _clamp(x0, y0, x1, y1, self.width, self.height)


def _clamp(x0: float, y0: float, x1: float, y1: float, width: float, height: float) -> tuple[float, ...] | None:
    if x1 < 0 or y1 < 0 or x0 > width or y0 > height:
        return None
    if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
        x0, y0, x1, y1 = max(x0, 0.0), max(y0, 0.0), min(x1, width), min(y1, height)
    return x0, y0, x1, y1


def _turn(box: tuple[float, ...], quarters: int, width: float, height: float) -> tuple[float, ...]:
    """Turn a box on a width x height page clockwise by `quarters` quarter turns."""
    x0, top, x1, bottom = box
    for _ in range(quarters):
        x0, top, x1, bottom, width, height = height - bottom, x0, height - top, x1, height, width
    return x0, top, x1, bottom


def _text_turn(textpage: pdfium.PdfTextPage, rotation: int) -> int:
    """Quarter turns (clockwise) that make most of the page's text read left to right."""
    raw, votes = textpage.raw, Counter()
    count = pdfium_c.FPDFText_CountChars(raw)
    for i in range(0, count, max(1, count // 64)):  # a sample is enough to vote
        angle = pdfium_c.FPDFText_GetCharAngle(raw, i)  # radians, clockwise as seen
        if angle >= 0 and not pdfium_c.FPDFText_IsGenerated(raw, i):
            votes[(round(angle / (math.pi / 2)) + rotation // 90) % 4] += 1
    return (-votes.most_common(1)[0][0]) % 4 if votes else 0


def _char_text(code: int) -> str | None:
    if code == 2:  # PDFium reports a line-end hyphen as U+0002
        return "-"
    if code < 0x20 and code not in (9, 10, 11, 12, 13):
        return None
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    ch = chr(code)
    return " " if ch.isspace() else _LIGATURES.get(ch, ch)


def _text_layer_chars(textpage: pdfium.PdfTextPage, frame: _Frame) -> tuple[list[Char], int]:
    raw, rect = textpage.raw, pdfium_c.FS_RECTF()
    is_generated, unicode, loose_box = (pdfium_c.FPDFText_IsGenerated, pdfium_c.FPDFText_GetUnicode,
                                        pdfium_c.FPDFText_GetLooseCharBox)
    memo = _CHAR_TEXT
    found: list[tuple[str, float, float, float, float]] = []
    for i in range(pdfium_c.FPDFText_CountChars(raw)):
        code = unicode(raw, i)
        ch = memo[code] if code in memo else memo.setdefault(code, _char_text(code))
        # Generated characters (always whitespace) are PDFium's guesses at
        # spaces and line breaks in stream order; we lay out from positions.
        if ch is None or (ch == " " and is_generated(raw, i) == 1) or not loose_box(raw, i, rect):
            continue
        found.append((ch, rect.left, rect.bottom, rect.right, rect.top))
    chars: list[Char] = []
    place = frame.place
    for ch, left, bottom, right, top in found:
        box = place(left, bottom, right, top)
        if box is not None:
            chars.append((ch, *box))
    return chars, sum(c[0] != " " for c in found) - sum(c[0] != " " for c in chars)


def _ocr_chars(page: pdfium.PdfPage, frame: _Frame, ocr_page: OcrHook) -> list[Char]:
    bitmap = page.render(scale=OCR_SCALE)
    chars: list[Char] = []
    for ch, (x0, top, x1, bottom) in ocr_page(bitmap):
        if not ch:
            continue
        text = " " if ch.isspace() else ch
        box = _clamp(x0 / OCR_SCALE, top / OCR_SCALE, x1 / OCR_SCALE, bottom / OCR_SCALE,
                     frame.width, frame.height)
        if box is not None:
            chars.append((text, *box))
    return chars


def _reading_order(chars: list[Char], width: float) -> list[list[Char]]:
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


def _assemble(path: str, pages: list[_Page]) -> SourceText:
    out: list[str] = []
    boxes: list[Box | None] = []
    starts: list[int] = []
    for page in pages:
        if starts:
            out.append(PAGE_SEPARATOR)
            boxes.extend([None] * len(PAGE_SEPARATOR))
        starts.append(len(boxes))
        for j, line in enumerate(page.lines):
            if j:
                out.append("\n")
                boxes.append(None)
            _emit_line(line, page.info.number, out, boxes)
        if page.turn_back:
            for i in range(starts[-1], len(boxes)):
                if boxes[i] is not None:
                    number, *box = boxes[i]
                    boxes[i] = (number, *_turn(box, page.turn_back, page.width, page.height))
    return SourceText(text="".join(out), path=path, kind="pdf", boxes=boxes,
                      pages=tuple(page.info for page in pages), page_starts=tuple(starts),
                      warnings=tuple(w for page in pages for w in page.warnings))


def _emit_line(line: list[Char], page: int, out: list[str], boxes: list[Box | None]) -> None:
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

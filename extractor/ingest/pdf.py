"""Stage 1 (ingest): PDF bytes -> SourceText (kind "pdf") with a box per character.

Characters and their boxes come from pypdfium2 (PDFium), which measured 5-6x
faster than pdfplumber for the same text (docs/ingest.md). PDFium is not
thread-safe: read PDFs from one thread per process. PDFium's own text
output inserts spaces and line breaks by stream order, so we ignore its
generated characters (extractor/ingest/textlayer.py reads the page into
arrays) and lay the page out ourselves (extractor/ingest/lines.py).
Boxes are PDF points, top-left origin, in the page as displayed (CropBox,
/Rotate applied), i.e. the frame a renderer draws, so the review page can
overlay them on a page image.

A page without a text layer (a scan, a fax) is rendered and handed to an OCR
hook (extractor/ocr.py reads it with Tesseract); its word and letter boxes,
converted from pixels to points, feed the same character-origin map, so facts
on scanned pages are highlighted like any other. Before rendering, images on
the page are checked against a pixel limit (a small file can declare a huge
image), and the rendering itself is capped.
"""
from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from extractor.errors import IngestError, Messages
from extractor.ingest.charboxes import CharBoxes
from extractor.ingest.layout import PAGE_SEPARATOR, Char, Frame, clamp, emit_ocr_line, repeated_margin_lines, turn
from extractor.ingest.lines import Glyphs, lay_out
from extractor.ingest.textlayer import LIGATURES, NO_GLYPHS, text_layer_glyphs, text_turn
from extractor.ingest.bombs import check_streams
from extractor.ingest.limits import MAX_IMAGE_PIXELS, MAX_RENDER_PIXELS, MAX_STREAM_BYTES, Deadline, NewMessages
from extractor.sourcetext import Box, PageInfo, SourceText

__all__ = ["read_pdf", "repeated_margin_lines", "OcrHook", "PAGE_SEPARATOR", "OCR_SCALE"]

# A page image handed to an OCR hook is rendered at 300 dpi (less for a page
# so large that it would pass MAX_RENDER_PIXELS).
OCR_SCALE = 300 / 72
# ocr_page(page_image) -> [(char, (x0, top, x1, bottom)) in image pixels]; a
# "\n" entry (box ignored) ends a line: then lines are kept in the engine's
# order instead of being laid out again from the boxes.
OcrHook = Callable[[Any], list[tuple[str, tuple[float, float, float, float]]]]

_OPEN_ERRORS = {pdfium_c.FPDF_ERR_UNKNOWN: "unknown error", pdfium_c.FPDF_ERR_FILE: "file error",
                pdfium_c.FPDF_ERR_FORMAT: "format error", pdfium_c.FPDF_ERR_PAGE: "page error"}


def read_pdf(path: str, data: bytes, *, max_pages: int, ocr_page: OcrHook | None = None,
             max_image_pixels: int = MAX_IMAGE_PIXELS, max_stream_bytes: int = MAX_STREAM_BYTES,
             deadline: Deadline | None = None) -> SourceText:
    """Build the SourceText of a PDF.

    Args:
        path: file name for errors and `SourceText.path`.
        data: the file's bytes.
        max_pages: refuse documents with more pages.
        ocr_page: optional OCR for pages without a text layer; receives a
            grayscale PIL image of the page (`info["dpi"]` set), 300 dpi
            unless the page is huge, and answers in that image's pixels.
        max_image_pixels: refuse to render a page holding a larger image.
        max_stream_bytes: refuse a file with a Flate stream that expands to more.
        deadline: checked before each page; OCR hooks may check it too.

    Raises:
        IngestError: E003 damaged/truncated, E004 password needed, E006 too
            many pages, E007 no page has text, E012 out of time, E014 an
            image or stream too large to decode.
    """
    _check_markers(path, data)
    check_streams(path, data, max_stream_bytes)
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
        pages = []
        for i in range(count):
            if deadline is not None:
                deadline.check()
            pages.append(_read_page(path, pdf, i, ocr_page, max_image_pixels))
    finally:
        pdf.close()
    if not any(page.info.has_text_layer or page.info.ocr for page in pages):
        numbers = "1" if count == 1 else f"1-{count}"
        message = Messages.E007 if ocr_page is None else NewMessages.E007_OCR_EMPTY
        raise IngestError(path, message.format(pages=numbers))
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
    text: str
    boxes: CharBoxes          # one per character of text
    warnings: list[str]


def _read_page(path: str, pdf: pdfium.PdfDocument, index: int, ocr_page: OcrHook | None,
               max_image_pixels: int) -> _Page:
    number = index + 1
    try:
        page = pdf[index]
        textpage = page.get_textpage()
    except pdfium.PdfiumError:
        raise IngestError(path, Messages.E003.format(detail=f"page {number}: PdfiumError")) from None
    try:
        frame = Frame(page.get_cropbox(), page.get_rotation())
        glyphs, outside, generated = text_layer_glyphs(textpage, frame)
        has_text = bool(glyphs.ink().any())
        ocr, ordered, warnings = False, None, []
        if outside:
            warnings.append(f"page {number}: {outside} character(s) outside the page area ignored")
        if not has_text and ocr_page is not None:
            _check_images(path, page, number, max_image_pixels)
            chars, ordered = _ocr_chars(path, number, page, frame, ocr_page)
            ocr = any(c[0] not in " \n" for c in chars)
            glyphs = Glyphs.from_chars(chars)
            if not ocr:
                warnings.append(f"page {number}: no text layer and OCR found no text")
        elif not has_text:
            warnings.append(f"page {number}: no text layer (scanned image?); OCR not available")
        if not has_text and not ocr:
            glyphs, ordered = NO_GLYPHS, None
        info = PageInfo(number=number, width=frame.width, height=frame.height,
                        has_text_layer=has_text, ocr=ocr)
        if ordered is not None:  # the OCR engine's lines, already in reading order
            out: list[str] = []
            boxes: list[Box | None] = []
            for j, line in enumerate(ordered):
                if j:
                    out.append("\n")
                    boxes.append(None)
                emit_ocr_line(line, number, out, boxes)
            return _Page(info, "".join(out), CharBoxes.from_list(boxes), warnings)
        # Lay out text that runs sideways or upside down as displayed in a
        # frame where it reads left to right, then turn the boxes back.
        quarters = text_turn(textpage, frame.rotation, generated) if has_text else 0
        width, height = (frame.height, frame.width) if quarters % 2 else (frame.width, frame.height)
        if quarters:
            glyphs = glyphs._replace(**dict(zip(("x0", "top", "x1", "bottom"), turn(
                (glyphs.x0, glyphs.top, glyphs.x1, glyphs.bottom), quarters, frame.width, frame.height))))
        laid = lay_out(glyphs, width)
        xy = laid.boxes
        if quarters:
            xy = np.stack(turn(xy.T, (4 - quarters) % 4, width, height), axis=1)
        return _Page(info, laid.text, CharBoxes(np.full(len(xy), number), xy, laid.boxed), warnings)
    finally:
        textpage.close()
        page.close()


def _check_images(path: str, page: pdfium.PdfPage, number: int, limit: int) -> None:
    """Refuse, before rendering decodes it, an image whose declared size is over `limit` pixels."""
    try:
        for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=4):
            try:
                width, height = obj.get_px_size()
            except pdfium.PdfiumError:
                continue
            if width * height > limit:
                detail = f"page {number} holds an image of {width} x {height} pixels, over the limit of {limit}"
                raise IngestError(path, NewMessages.E014.format(detail=detail))
    except pdfium.PdfiumError:
        raise IngestError(path, Messages.E003.format(detail=f"page {number}: PdfiumError")) from None


def _ocr_chars(path: str, number: int, page: pdfium.PdfPage, frame: Frame,
               ocr_page: OcrHook) -> tuple[list[Char], list[list[Char]] | None]:
    """Characters an OCR hook reads on the rendered page, in PDF points.

    Returns (chars, lines): `lines` is None unless the hook marked line ends.

    Raises:
        IngestError: E003 the page cannot be rendered, E015 the hook failed
            (any exception but an IngestError, which passes as it is).
    """
    scale = min(OCR_SCALE, math.sqrt(MAX_RENDER_PIXELS / max(frame.width * frame.height, 1.0)))
    try:
        bitmap = page.render(scale=scale, grayscale=True)
        image = bitmap.to_pil()
    except (pdfium.PdfiumError, MemoryError, ValueError):
        raise IngestError(path, Messages.E003.format(detail=f"page {number}: cannot be rendered")) from None
    image.info["dpi"] = (72 * scale, 72 * scale)
    try:
        found = ocr_page(image)
    except IngestError:
        raise
    except Exception as exc:  # noqa: BLE001  (an OCR engine's failure must not stop the batch)
        detail = getattr(exc, "detail", None) or type(exc).__name__
        raise IngestError(path, NewMessages.E015.format(page=number, detail=detail)) from None
    sx = sy = scale
    chars: list[Char] = []
    lines: list[list[Char]] = [[]]
    marked = False
    for ch, (x0, top, x1, bottom) in found:
        if not ch:
            continue
        if ch == "\n":
            marked = True
            lines.append([])
            continue
        text = " " if ch.isspace() else LIGATURES.get(ch, ch)
        box = clamp(x0 / sx, top / sy, x1 / sx, bottom / sy, frame.width, frame.height)
        if box is not None:
            chars.append((text, *box))
            lines[-1].append((text, *box))
    del image, bitmap
    if not marked:
        return chars, None
    return chars, [line for line in lines if any(c[0] != " " for c in line)]


def _assemble(path: str, pages: list[_Page]) -> SourceText:
    out: list[str] = []
    boxes: list[CharBoxes] = []
    starts: list[int] = []
    separator = CharBoxes(np.zeros(len(PAGE_SEPARATOR), np.int64), np.zeros((len(PAGE_SEPARATOR), 4)),
                          np.zeros(len(PAGE_SEPARATOR), bool))
    length = 0
    for page in pages:
        if starts:
            out.append(PAGE_SEPARATOR)
            boxes.append(separator)
            length += len(PAGE_SEPARATOR)
        starts.append(length)
        out.append(page.text)
        boxes.append(page.boxes)
        length += len(page.text)
    return SourceText(text="".join(out), path=path, kind="pdf", boxes=CharBoxes.concat(boxes),
                      pages=tuple(page.info for page in pages), page_starts=tuple(starts),
                      warnings=tuple(w for page in pages for w in page.warnings))

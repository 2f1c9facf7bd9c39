"""Stage 1 (ingest): a PDFium text page -> its characters as arrays (`Glyphs`).

PDFium's own text output inserts spaces and line breaks by stream order, so
we drop its generated characters and keep each drawn one with its loose
(font-height) box, mapped to the displayed page (`Frame`). A page holds
thousands of characters and a ctypes call or Python object per character
cost more than PDFium's own work (docs/performance.md), so the text comes in
one call where PDFium allows (`_codes`), boxes are written by PDFium straight
into one array, and the per-character calls go through C prototypes that
take plain integers and keep the GIL.
"""
from __future__ import annotations

import ctypes
import math
from itertools import repeat
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from extractor.ingest.layout import Frame
from extractor.ingest.lines import Glyphs

__all__ = ["LIGATURES", "NO_GLYPHS", "text_layer_glyphs", "text_turn"]

LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
              "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"}
_CHAR_TEXT: dict[int, str | None] = {}  # code point -> text, memoised


def _c_function(name: str, restype: Any, *argtypes: Any) -> Any:
    # The same PDFium function, called with plain ints (handles and addresses)
    # and without releasing the GIL: a third of the cost of a call through
    # pypdfium2's prototype, which matters once per character.
    address = ctypes.cast(getattr(pdfium_c, name), ctypes.c_void_p).value
    return ctypes.PYFUNCTYPE(restype, *argtypes)(address)


_get_text = _c_function("FPDFText_GetText", ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                        ctypes.c_void_p)
_get_unicode = _c_function("FPDFText_GetUnicode", ctypes.c_uint, ctypes.c_void_p, ctypes.c_int)
_is_generated = _c_function("FPDFText_IsGenerated", ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
_loose_box = _c_function("FPDFText_GetLooseCharBox", ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)
_char_angle = _c_function("FPDFText_GetCharAngle", ctypes.c_float, ctypes.c_void_p, ctypes.c_int)
NO_GLYPHS = Glyphs(np.zeros(0, np.intp), [], *(np.zeros(0) for _ in range(4)))


def text_turn(textpage: pdfium.PdfTextPage, rotation: int, generated: np.ndarray) -> int:
    """Quarter turns (clockwise) that make most of the page's text read left to right.

    A sample of 64 characters votes; a tie goes to the direction seen first.
    """
    handle = ctypes.cast(textpage.raw, ctypes.c_void_p).value
    sample = np.arange(0, len(generated), max(1, len(generated) // 64))
    angles = np.fromiter(map(_char_angle, repeat(handle, len(sample)), sample.tolist()), np.float64,
                         len(sample))  # radians, clockwise as seen
    angles = angles[(angles >= 0) & ~generated[sample]]
    if len(angles) == 0:
        return 0
    votes = (np.round(angles / (math.pi / 2)).astype(np.int64) + rotation // 90) % 4
    counts = np.bincount(votes, minlength=4)
    tied = counts == counts.max()
    firsts = [int(np.argmax(votes == q)) if tied[q] else len(votes) for q in range(4)]
    return (-int(np.argmin(firsts))) % 4


def _char_text(code: int) -> str | None:
    if code == 2:  # PDFium reports a line-end hyphen as U+0002
        return "-"
    if code < 0x20 and code not in (9, 10, 11, 12, 13):
        return None
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    ch = chr(code)
    return " " if ch.isspace() else LIGATURES.get(ch, ch)


def text_layer_glyphs(textpage: pdfium.PdfTextPage, frame: Frame) -> tuple[Glyphs, int, np.ndarray]:
    """The page's characters in the display frame, how many drawn ones lie off the
    page, and which of PDFium's characters it generated (by index)."""
    raw = textpage.raw
    count = pdfium_c.FPDFText_CountChars(raw)
    if count <= 0:
        return NO_GLYPHS, 0, np.zeros(0, bool)
    handle = ctypes.cast(raw, ctypes.c_void_p).value
    codes = _codes(handle, count)
    if codes.max() < 0x10000:  # the usual case: a table indexed by code point
        distinct = slots = np.flatnonzero(np.bincount(codes))
    else:
        distinct, codes = np.unique(codes, return_inverse=True)
        slots = np.arange(len(distinct))
    texts: dict[str, int] = {}
    to_text = np.empty(int(slots[-1]) + 1, np.intp)
    to_text[slots] = [-1 if t is None else texts.setdefault(t, len(texts))
                      for t in map(_char_text_memo, distinct.tolist())]
    tid = to_text[codes]
    keep = tid >= 0
    generated = np.zeros(count, bool)
    if " " in texts:
        # Generated characters (always whitespace) are PDFium's guesses at
        # spaces and line breaks in stream order; we lay out from positions.
        spaces = np.flatnonzero(tid == texts[" "])
        generated[spaces] = np.fromiter(map(_is_generated, repeat(handle, len(spaces)), spaces.tolist()), np.intc,
                                        len(spaces)) == 1
        keep &= ~generated
    index = np.flatnonzero(keep)
    rects = np.zeros((len(index), 4), np.float32)  # FS_RECTF: left, top, right, bottom
    base = rects.ctypes.data
    found = np.fromiter(map(_loose_box, repeat(handle, len(index)), index.tolist(),
                            range(base, base + 16 * len(index), 16)), np.intc, len(index)) != 0
    if not found.all():
        index, rects = index[found], rects[found]
    xy, on_page = frame.place(rects)
    tid = tid[index]
    outside = 0
    if not on_page.all():
        outside = int(np.count_nonzero((tid != texts.get(" ", -1)) & ~on_page))
        tid, xy = tid[on_page], xy[:, on_page]
    return Glyphs(tid, list(texts), *xy), outside, generated


def _codes(handle: int, count: int) -> np.ndarray:
    """Each character's code point, as FPDFText_GetUnicode reports it.

    PDFium's page text holds one UTF-16 unit per character, in character
    order, unless it left characters out (control characters, glyphs without
    a code) or a character needs two units: then it is shorter or holds
    surrogates, and we ask per character. In the text, U+FFFE stands for a
    line-end hyphen (reported as U+0002) or a glyph without Unicode, so those
    are asked too.
    """
    buffer = np.zeros(2 * count + 2, np.uint16)
    got = _get_text(handle, 0, count, buffer.ctypes.data) - 1  # without the NUL
    units = buffer[:max(got, 0)]
    top = int(units.max()) if got > 0 else 0
    if got != count or (top >= 0xD800 and np.any((units >= 0xD800) & (units <= 0xDFFF))):
        return np.fromiter(map(_get_unicode, repeat(handle, count), range(count)), np.uint32, count)
    codes = units.astype(np.uint32)
    if top >= 0xFFFE:
        odd = np.flatnonzero(codes == 0xFFFE)
        if len(odd):
            codes[odd] = list(map(_get_unicode, repeat(handle, len(odd)), odd.tolist()))
    return codes


def _char_text_memo(code: int) -> str | None:
    text = _CHAR_TEXT.get(code, _CHAR_TEXT)
    if text is _CHAR_TEXT:
        text = _CHAR_TEXT[code] = _char_text(code)
    return text


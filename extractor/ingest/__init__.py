"""Stage 1 (ingest): a file path -> SourceText, or an IngestError saying why not.

`read_document` is the only entry point later stages need: it picks the
reader by suffix, refuses empty, oversized and unreadable files before
parsing, reads PDF pages without a text layer with OCR when Tesseract is
installed (extractor/ocr.py), keeps every document within its limits (bytes,
pages, characters, seconds, image pixels: see `limits.Limits`), and never
puts document text in an error message.

PDFium (pypdfium2) is imported when the first PDF is read, so reading a text
note does not pay for it at start-up (docs/performance.md).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from extractor.errors import IngestError, Messages
from extractor.ingest.limits import (MAX_BYTES, MAX_CHARS, MAX_PAGES, Deadline, Limits, check_chars,
                                     check_size, outside_inbox, read_bytes, sha256_of, time_limit)
from extractor.ingest.layout import repeated_margin_lines
from extractor.ingest.text import read_text
from extractor.sourcetext import SourceText

if TYPE_CHECKING:
    from extractor.ingest.pdf import OcrHook

__all__ = ["read_document", "sha256_of", "repeated_margin_lines", "SUFFIXES", "MAX_BYTES", "MAX_PAGES",
           "MAX_CHARS", "Limits", "outside_inbox", "time_limit", "ocr_hook"]

SUFFIXES = (".txt", ".md", ".pdf")


def read_document(path: str | Path, *, max_bytes: int | None = None, max_pages: int | None = None,
                  max_chars: int | None = None, max_seconds: float | None = None, ocr: bool | None = None,
                  inbox: str | Path | None = None, limits: Limits | None = None) -> SourceText:
    """Read one .txt, .md or .pdf file (suffix case-insensitive).

    Args:
        path: the document; `SourceText.path` keeps it as given.
        max_bytes: refuse larger files without reading them.
        max_pages: refuse PDFs with more pages.
        max_chars: refuse documents whose text is longer.
        max_seconds: give up reading (OCR included) after this long.
        ocr: False never runs OCR; None or True runs it on pages without a
            text layer when Tesseract is installed.
        inbox: when given, refuse a path that a symbolic link leads out of it.
        limits: all limits at once; the arguments above override it. By
            default, `Limits.from_env()` (FACET_CLAIMS_MAX_* variables).

    Returns:
        The document's text with, for PDFs, a box per character (OCR pages
        too, with `PageInfo.ocr` set).

    Raises:
        IngestError: E001 unsupported suffix, E002 empty, E005 too large,
            E009 unreadable, E008 binary text file, E010 link out of the
            inbox, E011 no text, E012 out of time, E013 too many characters,
            and for PDFs E003 damaged, E004 encrypted, E006 too many pages,
            E007 no text layer (or OCR found none), E014 image too large,
            E015 OCR failed.
        ConfigError: a FACET_CLAIMS_MAX_* variable is not a positive number.
    """
    name = str(path)
    base = limits if limits is not None else Limits.from_env()
    lim = Limits(**{**base.__dict__, **{k: v for k, v in {
        "max_bytes": max_bytes, "max_pages": max_pages, "max_chars": max_chars,
        "max_seconds": max_seconds, "ocr": ocr}.items() if v is not None}})
    deadline = Deadline(name, lim.max_seconds)
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise IngestError(name, Messages.E001.format(suffix=Path(name).suffix))
    if inbox is not None and outside_inbox(name, inbox):
        raise IngestError(name, Messages.E010)
    check_size(name, lim.max_bytes)
    data = read_bytes(name)
    if not data:  # the file changed between stat and read
        raise IngestError(name, Messages.E002)
    if len(data) > lim.max_bytes:
        raise IngestError(name, Messages.E005.format(size=len(data), limit=lim.max_bytes))
    if suffix == ".pdf":
        from extractor.ingest.pdf import read_pdf

        hook = ocr_hook(name, deadline) if lim.ocr else None
        source = read_pdf(name, data, max_pages=lim.max_pages, ocr_page=hook,
                          max_image_pixels=lim.max_image_pixels, max_stream_bytes=lim.max_stream_bytes,
                          deadline=deadline)
    else:
        source = read_text(name, data)
    check_chars(name, len(source.text), lim.max_chars)
    deadline.check()
    return source


def ocr_hook(path: str, deadline: Deadline | None = None) -> OcrHook | None:
    """The OCR hook `read_pdf` calls for a page without text, or None when
    Tesseract (tesserocr + English data) is not installed."""
    from extractor import ocr

    if not ocr.available():
        return None

    def read(image):
        timeout = None
        if deadline is not None:
            timeout = deadline.remaining()
            if timeout <= 0:
                raise deadline.error()
        try:
            return ocr.read_page(image, timeout=timeout)
        except ocr.OcrError:
            if deadline is not None and deadline.remaining() <= 0:
                raise deadline.error() from None
            raise  # read_pdf names the page (E015)

    return read

"""Stage 1 (ingest): a file path -> SourceText, or an IngestError saying why not.

`read_document` is the only entry point later stages need: it picks the
reader by suffix, refuses empty, oversized and unreadable files before
parsing, and never puts document text in an error message.
"""
from __future__ import annotations

from pathlib import Path

from extractor.errors import IngestError, Messages
from extractor.ingest.limits import MAX_BYTES, MAX_PAGES, check_size, read_bytes, sha256_of
from extractor.ingest.pdf import read_pdf, repeated_margin_lines
from extractor.ingest.text import read_text
from extractor.sourcetext import SourceText

__all__ = ["read_document", "sha256_of", "repeated_margin_lines", "SUFFIXES", "MAX_BYTES", "MAX_PAGES"]

SUFFIXES = (".txt", ".md", ".pdf")


def read_document(path: str | Path, *, max_bytes: int = MAX_BYTES, max_pages: int = MAX_PAGES) -> SourceText:
    """Read one .txt, .md or .pdf file (suffix case-insensitive).

    Args:
        path: the document; `SourceText.path` keeps it as given.
        max_bytes: refuse larger files without reading them.
        max_pages: refuse PDFs with more pages.

    Returns:
        The document's text with, for PDFs, a box per character.

    Raises:
        IngestError: E001 unsupported suffix, E002 empty, E005 too large,
            E009 unreadable, E008 binary text file, E011 no text, and for
            PDFs E003 damaged, E004 encrypted, E006 too many pages, E007 no
            text layer.
    """
    name = str(path)
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise IngestError(name, Messages.E001.format(suffix=Path(name).suffix))
    check_size(name, max_bytes)
    data = read_bytes(name)
    if not data:  # the file changed between stat and read
        raise IngestError(name, Messages.E002)
    if len(data) > max_bytes:
        raise IngestError(name, Messages.E005.format(size=len(data), limit=max_bytes))
    if suffix == ".pdf":
        return read_pdf(name, data, max_pages=max_pages)
    return read_text(name, data)

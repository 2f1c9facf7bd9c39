"""Stage 1 (ingest): .txt/.md bytes -> SourceText (kind "text").

Notes arrive from EHR exports, scanners' OCR and hand-edited files, so the
encoding is not known. We read UTF-8 (with or without a BOM), read UTF-16 when
it has a BOM (Windows Notepad's "Unicode"), and otherwise fall back to
Windows-1252 for the bytes that are not valid UTF-8, then Latin-1 for the five
bytes Windows-1252 leaves undefined. Line ends become "\\n". A text file needs
no per-character boxes: `SourceText.origin` derives line and column.
"""
from __future__ import annotations

import codecs
import re

from extractor.errors import IngestError, Messages
from extractor.sourcetext import SourceText

__all__ = ["decode_text", "looks_binary", "read_text"]

# Control bytes that do not occur in text; \t \n \f \r are text, and ESC (0x1b)
# appears in some terminal captures, so it does not count either.
_CONTROL = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL)
# Text has almost none; random or compressed bytes have about 10%.
_MAX_CONTROL_SHARE = 0.05

_FALLBACK = "facet_claims_cp1252"
# A lead byte and a continuation byte: the file has some UTF-8 worth keeping.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")


def _cp1252_then_latin1(exc: UnicodeError) -> tuple[str, int]:
    # Decoding byte by byte keeps valid UTF-8 around a stray byte intact: a
    # mostly-UTF-8 note with one pasted Windows dash must not become mojibake.
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    out = []
    for b in exc.object[exc.start:exc.end]:
        try:
            out.append(bytes((b,)).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(chr(b))  # 0x81 0x8D 0x8F 0x90 0x9D: Latin-1 control
    return "".join(out), exc.end


codecs.register_error(_FALLBACK, _cp1252_then_latin1)


def looks_binary(data: bytes) -> bool:
    """Whether `data` is binary content rather than text: any NUL byte, or
    more than 5% control bytes (counted in C by `bytes.translate`, so a
    25 MB file takes milliseconds). `data` is without a UTF-16 BOM.
    """
    return b"\x00" in data or len(data.translate(None, _NOT_CONTROL)) > _MAX_CONTROL_SHARE * len(data)


def decode_text(data: bytes) -> tuple[str, list[str], bool]:
    """Decode a text file's bytes.

    Returns:
        (text, warnings, binary): the decoded text with the BOM removed and
        line ends left as they were; warnings that say how it was decoded;
        and whether the bytes look binary (the caller raises E008).
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
        return text, ["decoded as UTF-16 (byte-order mark)"], "\x00" in text
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    if looks_binary(data):
        return "", [], True
    try:
        return data.decode("utf-8"), [], False
    except UnicodeDecodeError:
        # Without any UTF-8 sequence the whole file is single-byte; decoding it
        # as cp1252 in C avoids calling the handler once per accented byte.
        codec = "utf-8" if _UTF8_MULTIBYTE.search(data) else "cp1252"
        text = data.decode(codec, errors=_FALLBACK)
        return text, ["not valid UTF-8; bytes outside UTF-8 read as Windows-1252"], False


def normalize_newlines(text: str) -> str:
    """CRLF and lone CR -> LF (two linear passes, safe on 10-million-char lines)."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: str, data: bytes) -> SourceText:
    """Build the SourceText of a .txt or .md file from its bytes.

    Args:
        path: the file name, used in errors and kept on the SourceText.
        data: the file's bytes (non-empty; size was checked by the caller).

    Raises:
        IngestError: E008 for binary content, E011 if only whitespace.
    """
    text, warnings, binary = decode_text(data)
    if binary:
        raise IngestError(path, Messages.E008)
    text = normalize_newlines(text)
    if not text.strip():
        raise IngestError(path, Messages.E011)
    return SourceText(text=text, path=path, kind="text", boxes=None, warnings=tuple(warnings))

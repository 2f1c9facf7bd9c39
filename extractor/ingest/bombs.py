"""Stage 1 (ingest): refuse PDFs whose compressed streams expand without bound.

PDFium inflates a page's content stream in full before it reads a single
character, so a 1 MB file can ask for gigabytes (a "zip bomb" in a PDF). We
inflate each Flate stream ourselves first, in chunks whose output is thrown
away, and stop counting at the limit: memory stays flat and a bomb costs
well under a second. Streams that are not Flate (CCITT and JPEG scans) or
that do not inflate (encrypted, damaged) are left to PDFium and its errors.
Images whose declared pixel size is too large are caught per page in pdf.py.
"""
from __future__ import annotations

import re
import zlib

from extractor.errors import IngestError
from extractor.ingest.limits import MAX_STREAM_BYTES, NewMessages

__all__ = ["check_streams", "inflated_size"]

_STREAM = re.compile(rb"stream\r?\n")
_DICT_LOOKBACK = 2048   # bytes before "stream" searched for the stream's /Filter
_FLATE = re.compile(rb"/(?:FlateDecode|Fl)\b")
_CHUNK = 1 << 20


def inflated_size(data: bytes, start: int, limit: int) -> int:
    """Bytes the zlib stream at `data[start:]` inflates to, counting stops past `limit`.

    Returns 0 for data that is not zlib (PDFium reports such streams itself).
    """
    inflater = zlib.decompressobj()
    total, pos, end = 0, start, len(data)
    try:
        while pos < end and not inflater.eof and total <= limit:
            pending = data[pos:pos + _CHUNK]
            pos += _CHUNK
            while pending and not inflater.eof and total <= limit:
                piece = inflater.decompress(pending, _CHUNK)
                if not piece and len(inflater.unconsumed_tail) == len(pending):
                    break  # no progress: wait for more input
                total += len(piece)
                pending = inflater.unconsumed_tail
    except zlib.error:
        pass
    return total if total > limit or inflater.eof else 0


def check_streams(path: str, data: bytes, limit: int = MAX_STREAM_BYTES) -> None:
    """Raise IngestError E014 when a Flate stream of the PDF expands past `limit` bytes."""
    for match in _STREAM.finditer(data):
        start = match.end()
        head = data[max(0, match.start() - _DICT_LOOKBACK):match.start()]
        dict_start = head.rfind(b"<<")
        if dict_start < 0 or not _FLATE.search(head[dict_start:]):
            continue
        if inflated_size(data, start, limit) > limit:
            detail = f"a compressed stream expands to more than {limit} bytes"
            raise IngestError(path, NewMessages.E014.format(detail=detail))

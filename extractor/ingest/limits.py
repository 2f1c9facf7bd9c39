"""Stage 1 (ingest): checks made on a file before any parser sees it.

Size limits are checked from `os.stat` so an oversized or empty file is
refused without being read. Every refusal is an `IngestError` naming the
file and the problem, never its content.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from extractor.errors import IngestError, Messages

__all__ = ["MAX_BYTES", "MAX_PAGES", "check_size", "read_bytes", "sha256_of"]

MAX_BYTES = 25_000_000
MAX_PAGES = 200


def _detail(exc: OSError) -> str:
    # strerror is the OS's wording ("Permission denied"); the file name is
    # already in the IngestError prefix, so str(exc) would repeat it.
    return f"{type(exc).__name__}: {exc.strerror}" if exc.strerror else type(exc).__name__


def check_size(path: str | Path, max_bytes: int = MAX_BYTES) -> int:
    """Refuse files that are missing, not regular, empty or too large.

    Args:
        path: the file to check.
        max_bytes: largest size accepted.

    Returns:
        The file's size in bytes.

    Raises:
        IngestError: E009 if it cannot be stat'ed or is not a regular file,
            E002 if empty, E005 if over `max_bytes`.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise IngestError(str(path), Messages.E009.format(detail=_detail(exc))) from None
    if not os.path.isfile(path):
        raise IngestError(str(path), Messages.E009.format(detail="not a regular file"))
    if st.st_size == 0:
        raise IngestError(str(path), Messages.E002)
    if st.st_size > max_bytes:
        raise IngestError(str(path), Messages.E005.format(size=st.st_size, limit=max_bytes))
    return st.st_size


def read_bytes(path: str | Path) -> bytes:
    """Read a whole file, turning OS errors into E009."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise IngestError(str(path), Messages.E009.format(detail=_detail(exc))) from None


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks (files may be large).

    Raises:
        IngestError: E009 if the file cannot be read.
    """
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise IngestError(str(path), Messages.E009.format(detail=_detail(exc))) from None
    return digest.hexdigest()

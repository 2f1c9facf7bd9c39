"""Stage 1 (ingest): the limits one document must keep, and checks made
on a file before any parser sees it.

Size limits are checked from `os.stat` so an oversized or empty file is
refused without being read. Every refusal is an `IngestError` naming the
file and the problem, never its content.

Each limit has a default here and can be set per run from the environment
(`Limits.from_env`): FACET_CLAIMS_MAX_BYTES, FACET_CLAIMS_MAX_PAGES,
FACET_CLAIMS_MAX_CHARS, FACET_CLAIMS_MAX_SECONDS, FACET_CLAIMS_MAX_IMAGE_PIXELS,
and FACET_CLAIMS_OCR=0 turns OCR off.
"""
from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Iterator

from extractor.errors import IngestError, Messages

__all__ = ["MAX_BYTES", "MAX_PAGES", "MAX_CHARS", "MAX_SECONDS", "MAX_IMAGE_PIXELS", "MAX_RENDER_PIXELS",
           "MAX_STREAM_BYTES",
           "Limits", "Deadline", "NewMessages", "check_size", "check_chars", "read_bytes", "sha256_of",
           "outside_inbox", "time_limit"]

MAX_BYTES = 25_000_000
MAX_PAGES = 200
# A real note is under 50,000 characters; extraction time grows faster than
# linearly (300,000 characters: about 16 s), and spaCy refuses 1,000,000.
MAX_CHARS = 300_000
# Reading one document (parsing, OCR); OCR takes about a second a page.
MAX_SECONDS = 300.0
# An image inside a PDF larger than this is refused before it is decoded: a
# 600-dpi letter page is 34 Mpx, a decompression bomb thousands of times more.
MAX_IMAGE_PIXELS = 100_000_000
# One compressed stream of a PDF (page content, image, fonts) may expand to
# this much; a legible page needs far less, a zip bomb far more.
MAX_STREAM_BYTES = 256 * 1024 * 1024
# A page rendered for OCR is scaled down to stay under this (300 dpi letter: 8.4 Mpx).
MAX_RENDER_PIXELS = 40_000_000


class NewMessages:
    """Coded messages of this stage not (yet) in `extractor.errors.Messages`."""

    E007_OCR_EMPTY = "[E007] no text layer on page(s) {pages} and OCR found no text"
    E013 = "[E013] document has {chars} characters, over the limit of {limit} characters"
    E014 = "[E014] {detail} (decompression bomb?)"
    E015 = "[E015] OCR failed on page {page}: {detail}"


def _message(code: str, fallback: str) -> str:
    return getattr(Messages, code, fallback)


@dataclass(frozen=True)
class Limits:
    """What one document may cost; over a limit, reading stops with a coded IngestError.

    Attributes:
        max_bytes: file size (E005).
        max_pages: PDF pages (E006).
        max_chars: characters of text after reading (E013).
        max_seconds: wall time to read one document, OCR included (E012).
        max_image_pixels: one image inside a PDF (E014).
        max_stream_bytes: one compressed PDF stream, expanded (E014).
        ocr: read pages without a text layer with Tesseract when it is installed.
    """

    max_bytes: int = MAX_BYTES
    max_pages: int = MAX_PAGES
    max_chars: int = MAX_CHARS
    max_seconds: float = MAX_SECONDS
    max_image_pixels: int = MAX_IMAGE_PIXELS
    max_stream_bytes: int = MAX_STREAM_BYTES
    ocr: bool = True

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides) -> "Limits":
        """Defaults, then FACET_CLAIMS_<NAME> variables, then `overrides` that are not None.

        Raises:
            ConfigError: a variable that is not a positive number.
        """
        from extractor.errors import ConfigError

        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = env.get(f"FACET_CLAIMS_{f.name.upper()}")
            if raw is None or raw.strip() == "":
                continue
            if f.name == "ocr":
                values["ocr"] = raw.strip().lower() not in {"0", "no", "off", "false"}
                continue
            try:
                number = float(raw) if f.name == "max_seconds" else int(raw)
            except ValueError:
                number = 0
            if number <= 0:
                raise ConfigError(f"FACET_CLAIMS_{f.name.upper()}={raw!r}: expected a positive number")
            values[f.name] = number
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)


class Deadline:
    """A wall-clock limit checked between steps (pages, stages); no signals, so
    it works in any thread."""

    def __init__(self, path: str, seconds: float) -> None:
        self.path, self.seconds = path, seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def check(self) -> None:
        """Raises IngestError E012 once the time is up."""
        if time.monotonic() > self.end:
            raise self.error()

    def error(self) -> IngestError:
        return IngestError(self.path, Messages.E012.format(seconds=_seconds(self.seconds)))


def _seconds(seconds: float) -> str:
    return f"{seconds:g}"


@contextmanager
def time_limit(path: str, seconds: float | None) -> Iterator[None]:
    """Raise IngestError E012 in the block once `seconds` have passed.

    Uses SIGALRM (an interval timer), so it interrupts Python code anywhere
    in the block, e.g. a slow spaCy stage; C code finishes its call first. In
    a thread other than the main one, or without a limit, it does nothing:
    use a `Deadline` there.
    """
    if not seconds or seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):  # noqa: ARG001
        raise IngestError(path, Messages.E012.format(seconds=_seconds(seconds)))

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_chars(path: str, count: int, max_chars: int) -> None:
    """Raises IngestError E013 when a document's text is longer than `max_chars`."""
    if count > max_chars:
        raise IngestError(path, _message("E013", NewMessages.E013).format(chars=count, limit=max_chars))


def outside_inbox(path: str | Path, inbox: str | Path) -> bool:
    """Whether `path`, inside folder `inbox`, leads out of it through a symbolic link.

    Both are resolved (every link followed), so a link to a link, a linked
    folder, and `..` in a link's target are all seen through. A broken link
    counts as outside. Used to refuse such files with Messages.E010.
    """
    try:
        target = Path(path).resolve(strict=True)
        root = Path(inbox).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a link loop
        return True
    return not target.is_relative_to(root)


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

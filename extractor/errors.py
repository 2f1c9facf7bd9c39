"""Errors raised by the extractor, with coded messages.

Every error the library raises on purpose is a `ToolError`; only the CLI turns
them into exit codes. Messages never quote document text (it is protected
health information): they name the file and the problem.
"""
from __future__ import annotations

__all__ = ["ToolError", "IngestError", "PatternFileError", "ConfigError", "Messages"]


class ToolError(Exception):
    """Base class of every error the tool raises on purpose."""


class IngestError(ToolError):
    """A document could not be read.

    Args:
        path: the file that failed.
        message: what is wrong with it, one line, no document text.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = str(path)
        self.message = message


class PatternFileError(ToolError):
    """A pattern file is malformed; the message names file:line."""


class ConfigError(ToolError, ValueError):
    """A configuration key or value is not allowed."""


class Messages:
    """Reused messages, coded so that logs and tests can refer to them."""

    E001 = "[E001] unsupported file type {suffix!r}; expected .txt, .md or .pdf"
    E002 = "[E002] empty file (0 bytes)"
    E003 = "[E003] not a PDF or a damaged PDF: {detail}"
    E004 = "[E004] encrypted PDF; a password is needed to read it"
    E005 = "[E005] file is {size} bytes, over the limit of {limit} bytes"
    E006 = "[E006] PDF has {pages} pages, over the limit of {limit} pages"
    E007 = "[E007] no text layer on page(s) {pages} and OCR is not available"
    E008 = "[E008] not a text file (binary content)"
    E009 = "[E009] cannot read file: {detail}"
    E010 = "[E010] symbolic link points outside the input folder"
    E011 = "[E011] document has no readable text"
    E012 = "[E012] processing took longer than {seconds} s"
    E013 = "[E013] document has {chars} characters, over the limit of {limit} characters"
    E014 = "[E014] {detail} (decompression bomb?)"
    E015 = "[E015] OCR failed on page {page}: {detail}"

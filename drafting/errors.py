"""Errors raised by the drafting stage, with coded messages.

Every error the library raises on purpose is a `ToolError` (extractor.errors);
only the CLI turns them into exit codes. Messages never quote document text:
they name the template, the variable or the file and the problem.
"""
from __future__ import annotations

from extractor.errors import ToolError

__all__ = ["ToolError", "TemplateRenderError", "Messages"]


class TemplateRenderError(ToolError):
    """A template could not be loaded or rendered (missing variable, syntax error).

    Args:
        template: the template's file name, e.g. ``letter.md.j2``.
        detail: what went wrong, from jinja2 (a variable or template name, never document text).
    """

    def __init__(self, template: str, detail: str) -> None:
        super().__init__(Messages.E101.format(template=template, detail=detail))
        self.template = template
        self.detail = detail


class Messages:
    """Reused messages, coded so that logs and tests can refer to them."""

    E101 = "[E101] cannot render template {template!r}: {detail}"

"""The one jinja2 Environment of the tool: strict, and autoescaping HTML only.

* Templates live in the top-level ``templates/`` folder, shipped as the package
  data of ``drafting.templates`` (see pyproject.toml).
* ``*.html`` and ``*.html.j2`` templates are autoescaped; ``*.md.j2`` templates
  are not (markdown is plain text).
* ``StrictUndefined``: a variable the template uses but the caller did not pass
  raises, so a letter never prints a blank where a fact should be.
* Templates only loop and branch; every derived value (dates, labels, joined
  lists) is computed in Python and passed in.
"""
from __future__ import annotations

import importlib.resources
import os
from functools import lru_cache
from pathlib import Path

import jinja2

from drafting.errors import TemplateRenderError

__all__ = ["environment", "render", "templates_dir", "TEMPLATE_PACKAGE"]

TEMPLATE_PACKAGE = "drafting.templates"
_PROBE = "letter.md.j2"  # a template every install has


def _packaged_dir() -> Path | None:
    """The folder of ``drafting.templates`` when it is importable as a package."""
    try:
        resources = importlib.resources.files(TEMPLATE_PACKAGE)
    except ModuleNotFoundError:
        return None
    try:
        # A plain folder is a Path; a namespace package gives a MultiplexedPath,
        # whose joinpath() returns a Path inside one of its folders.
        return Path(os.fspath(resources.joinpath(_PROBE))).parent
    except TypeError:  # not on the file system (zip import)
        return None


def templates_dir() -> Path:
    """The templates folder: the installed package data, else the checkout's ``templates/``."""
    here = Path(__file__).resolve().parent
    candidates = [_packaged_dir(), here / "templates", here.parent / "templates"]
    for folder in candidates:
        if folder is not None and (folder / _PROBE).is_file():
            return folder
    return here.parent / "templates"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The shared Environment (built once)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=jinja2.select_autoescape(["html", "html.j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, context: dict) -> str:
    """Render template `name` with `context`.

    Raises:
        TemplateRenderError: the template is missing or broken, or uses a variable not in `context`.
    """
    try:
        return environment().get_template(name).render(**context)
    except jinja2.UndefinedError as exc:
        raise TemplateRenderError(name, f"undefined variable: {exc.message}") from exc
    except jinja2.TemplateError as exc:
        raise TemplateRenderError(name, f"{type(exc).__name__}: {exc.message}") from exc

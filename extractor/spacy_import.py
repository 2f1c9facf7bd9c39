"""Import spaCy without its command-line package, for a faster start-up.

`import spacy` runs spacy/__init__.py, whose `from .cli.info import info`
imports the whole of `spacy.cli`: typer, requests, weasel, jinja2 and about
30 command modules, ~0.1-0.15 s of the start-up of `facet-claims draft` on
one note (docs/performance.md). Reading notes never uses spaCy's CLI.

`import_spacy()` imports spaCy while `spacy.cli` and `spacy.cli.info` are
empty stand-in modules, and removes them again at once (as nlp.py does for
medspaCy's QuickUMLS): a later `import spacy.cli` or `from spacy import cli`
loads the real package, and `spacy.info(...)` loads it on its first call.
Only the command line calls this, before anything imports spaCy; every other
process imports spaCy as usual.
"""
from __future__ import annotations

import sys
import types

__all__ = ["import_spacy"]

_STAND_INS = ("spacy.cli", "spacy.cli.info")


def _info(*args, **kwargs):
    """`spacy.info`, importing spaCy's CLI when first called."""
    from spacy.cli.info import info

    return info(*args, **kwargs)


def import_spacy() -> None:
    """Import spaCy (once) without importing `spacy.cli`."""
    if "spacy" in sys.modules or any(name in sys.modules for name in _STAND_INS):
        return
    stand_ins = {name: types.ModuleType(name) for name in _STAND_INS}
    stand_ins["spacy.cli"].__path__ = []
    stand_ins["spacy.cli.info"].info = _info  # spacy/__init__.py: `from .cli.info import info`
    sys.modules.update(stand_ins)
    try:
        import spacy
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
    if getattr(spacy, "cli", None) is stand_ins["spacy.cli"]:
        del spacy.cli

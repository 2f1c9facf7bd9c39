"""Data flows one way: extractor -> drafting (style guide, point 1).

Imports are read with `ast`, so an import inside a function counts too.
`extractor` never imports `drafting`; `drafting` never imports `spacy`
itself (it reads facts, not Docs).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in one module of `package`.

    Relative imports are resolved against `package`.
    """
    tree = ast.parse(source)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            out.append((node.lineno, module))
            # `from drafting import x` and `from . import x` name modules too.
            out.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return out


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def offending(package: str, forbidden: str) -> list[str]:
    out = []
    for path in python_files(package):
        rel = path.relative_to(ROOT)
        for line, module in imported_modules(path.read_text(encoding="utf-8"), ".".join(rel.parts[:-1])):
            if module == forbidden or module.startswith(forbidden + "."):
                out.append(f"{rel}:{line} imports {module}")
    return out


@pytest.mark.parametrize("package, forbidden", [
    ("extractor", "drafting"),
    ("drafting", "spacy"),
])
def test_layering_forbidden_imports(package, forbidden):
    assert python_files(package), f"no Python files under {package}/"
    assert offending(package, forbidden) == []


# fmt: off
@pytest.mark.parametrize("source, package, expected", [
    pytest.param("import spacy\n", "drafting", (1, "spacy"), id="import"),
    pytest.param("from spacy.tokens import Doc\n", "drafting", (1, "spacy.tokens"), id="from_import"),
    pytest.param("def f():\n    from drafting.claims import claim_lines\n", "extractor", (2, "drafting.claims"),
                 id="lazy_import_in_function"),
    pytest.param("from . import levels\n", "extractor.interpret", (1, "extractor.interpret.levels"),
                 id="relative_module"),
    pytest.param("from ..nlp import get_nlp\n", "extractor.interpret", (1, "extractor.nlp"), id="relative_parent"),
])
# fmt: on
def test_layering_checker_sees_lazy_and_relative_imports(source, package, expected):
    assert expected in imported_modules(source, package)


def test_drop_folder_parent_groups_cases_without_loading_spacy():
    """The batch parent hashes files, groups cases and writes the ledger; only its workers need spaCy.

    Loading spaCy there cost every batch ~0.5 s of one core while the workers
    waited for the grouping (it came in through a type annotation).
    """
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import drafting.dropfolder_cli, drafting.dropfolder, drafting.ledger\n"
        "from drafting.cases import group_cases\n"
        "from drafting.dropfolder import Member\n"
        "cases = group_cases([Member('a.txt', '0' * 64, {'first': 'Ann', 'last': 'Lee'}, '1960-01-02', None),\n"
        "                     Member('b.txt', '1' * 64, {'first': 'Anne', 'last': 'Lee'}, '1960-01-02', None)])\n"
        "assert len(cases) == 1, cases\n"
        "print(sorted(m for m in sys.modules if m == 'spacy' or m.startswith('spacy.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT), check=True)
    assert out.stdout.strip() == "[]"


def _requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0].strip().lower().replace("_", "-")


def test_every_third_party_import_is_a_main_dependency():
    """`pip install -e .` alone must run every command: a package the code imports (even lazily, as
    PIL for OCR page images) comes from `[project] dependencies`, not only from the test extra.

    Import names are mapped to distributions by importlib.metadata (PIL -> Pillow).
    """
    import sys
    import tomllib
    from importlib.metadata import packages_distributions

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_requirement_name(spec) for spec in project["dependencies"]}
    providers = packages_distributions()
    ours = {"extractor", "drafting"}
    missing = set()
    for package in sorted(ours):
        for path in python_files(package):
            rel = path.relative_to(ROOT)
            for line, module in imported_modules(path.read_text(encoding="utf-8"), ".".join(rel.parts[:-1])):
                top = module.split(".")[0]
                if not top or top in ours or top in sys.stdlib_module_names or top == "__future__":
                    continue
                dists = {d.lower().replace("_", "-") for d in providers.get(top, [])}
                if dists and not dists & declared:
                    missing.add(f"{rel}:{line} imports {top} ({', '.join(sorted(dists))})")
    assert not missing, "\n".join(sorted(missing))

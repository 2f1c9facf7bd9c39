"""The only fixtures of the test suite, and the corpus paths they are built from.

* `nlp`: the project's pipeline (spacy.blank("en") + our rulers, ConText and
  Sectionizer), built once per session. No model is downloaded.
* `extract_text(text)`: an `ExtractedDocument` for a string.
* `extract_file(path)`: an `ExtractedDocument` for a file, cached for the
  whole session so that every corpus document is read and extracted once,
  however many test modules look at it.
* `corpus_set` (a `CorpusSet(name, case_dirs)`, "acceptance" and "corpus")
  and `corpus_document` (a `CorpusDocument(path, label)` for every document
  of every case folder) are parametrised from the folders on disk: `corpus/`
  and the held-out acceptance cases in `../shared/acceptance/cases` (override
  with FACET_CLAIMS_ACCEPTANCE_DIR). When a folder is absent its tests are
  skipped, not silently dropped.

Test output never includes document text or patient names: the corpus
documents stand in for protected health information, and their file names
often carry the patient's name, so test ids and messages name a document by
its case and position ("corpus/c01_demo_bilateral/02.txt"), plus offsets and ids.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import pytest

pytest.register_assert_rewrite("assertions")

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = ROOT / "corpus"
ACCEPTANCE_DIR = Path(os.environ.get("FACET_CLAIMS_ACCEPTANCE_DIR", ROOT.parent / "shared" / "acceptance" / "cases"))
CASE_SETS = {"corpus": CORPUS_DIR, "acceptance": ACCEPTANCE_DIR}


class CorpusDocument(NamedTuple):
    """One corpus document and a label for messages that does not repeat its file name."""

    path: Path
    label: str


class CorpusSet(NamedTuple):
    """A named set of case folders ("corpus" or "acceptance")."""

    name: str
    case_dirs: tuple[Path, ...]


def case_dirs(which: str) -> list[Path]:
    """Case folders (those with docs/ and expected.json) of one set, sorted."""
    base = CASE_SETS[which]
    if not base.is_dir():
        return []
    return sorted(p.parent for p in base.glob("*/expected.json") if (p.parent / "docs").is_dir())


def case_documents(case: Path) -> list[Path]:
    """The documents of one case, chosen exactly as the CLI chooses them."""
    from drafting.draft import expand_paths

    return expand_paths([str(case / "docs")])


def _missing(which: str):
    return pytest.param(None, id=f"{which}-missing",
                        marks=pytest.mark.skip(reason=f"no {which} cases under {CASE_SETS[which]}"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise `corpus_set` and `corpus_document` from the folders on disk."""
    if "corpus_set" in metafunc.fixturenames:
        metafunc.parametrize("corpus_set", [pytest.param(CorpusSet(which, tuple(case_dirs(which))), id=which)
                                            if case_dirs(which) else _missing(which)
                                            for which in sorted(CASE_SETS)])
    if "corpus_document" in metafunc.fixturenames:
        params = []
        for which in sorted(CASE_SETS):
            dirs = case_dirs(which)
            # File names can carry a patient's name: ids and labels use the position instead.
            params += [pytest.param(CorpusDocument(p, f"{which}/{case.name}/{i:02d}{p.suffix.lower()}"),
                                    id=f"{which}/{case.name}/{i:02d}{p.suffix.lower()}")
                       for case in dirs for i, p in enumerate(case_documents(case), 1)] or [_missing(which)]
        metafunc.parametrize("corpus_document", params)


@pytest.fixture(scope="session")
def nlp():
    """The shared spaCy pipeline (built once; the extractor uses the same object)."""
    from extractor.nlp import get_nlp

    return get_nlp()


@pytest.fixture(scope="session")
def extract_text(nlp):
    """`extract_text(text) -> ExtractedDocument` for a note given as a string."""
    from extractor.pipeline import extract_source
    from extractor.sourcetext import SourceText

    def extract(text: str):
        return extract_source(SourceText(text, path="<test>"))

    return extract


@pytest.fixture(scope="session")
def extract_file(nlp):
    """`extract_file(path) -> ExtractedDocument`, cached per path for the session.

    Raises IngestError (also cached) for a file that cannot be read.
    """
    from extractor.errors import IngestError
    from extractor.pipeline import extract_path

    cache: dict[str, object] = {}

    def extract(path):
        key = str(path)
        if key not in cache:
            try:
                cache[key] = extract_path(key)
            except IngestError as exc:
                cache[key] = exc
        result = cache[key]
        if isinstance(result, IngestError):
            raise result
        return result

    return extract


@pytest.fixture(scope="session")
def acceptance_dir() -> Path:
    """The held-out acceptance cases folder; tests that need it skip when it is absent."""
    if not ACCEPTANCE_DIR.is_dir():
        pytest.skip(f"no acceptance cases under {ACCEPTANCE_DIR}")
    return ACCEPTANCE_DIR

"""The command line, run as a user runs it (subprocess), with its exit codes.

0: drafted; 1: drafted, but some document could not be read (listed under
`errors`); 2: usage error (click). On failure only the exit code and the end
of stderr are shown: stdout holds evidence quotes from the documents.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TIMEOUT = 180
CORRUPT_PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ngarbage, no xref, no trailer\n"


def run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=TIMEOUT)


def facet_claims(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("facet-claims")
    if exe is None:
        pytest.fail("`facet-claims` is not on PATH; install the project: python -m pip install -e '.[test]'")
    return run(exe, *args)


def outcome(proc: subprocess.CompletedProcess) -> str:
    tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
    return f"exit {proc.returncode}; stderr tail:\n{tail}"


def drafted_document_names(result: dict) -> set[str]:
    return {Path(d["path"]).name for case in result["cases"] for d in case["documents"]}


def a01(acceptance_dir: Path) -> Path:
    docs = acceptance_dir / "A01" / "docs"
    if not docs.is_dir():
        pytest.skip("acceptance case A01 is missing")
    return docs


def test_cli_draft_json(acceptance_dir):
    docs = a01(acceptance_dir)
    proc = facet_claims("draft", str(docs), "--json")
    assert proc.returncode == 0, outcome(proc)
    result = json.loads(proc.stdout)
    assert result["errors"] == []
    assert result["cases"] and all(case["claims"] for case in result["cases"])
    assert drafted_document_names(result) == {p.name for p in docs.iterdir() if p.suffix in {".txt", ".pdf"}}


def test_cli_draft_corrupt_pdf_is_an_error_entry_and_the_rest_is_drafted(acceptance_dir, tmp_path):
    notes = sorted(a01(acceptance_dir).glob("*.txt"))
    assert notes, "A01 has no text notes"
    for note in notes:
        shutil.copy(note, tmp_path / note.name)
    (tmp_path / "scan_0001.pdf").write_bytes(CORRUPT_PDF)
    proc = facet_claims("draft", str(tmp_path), "--json")
    assert proc.returncode == 1, outcome(proc)
    result = json.loads(proc.stdout)
    assert [Path(e["path"]).name for e in result["errors"]] == ["scan_0001.pdf"]
    assert result["errors"][0]["error"]
    assert drafted_document_names(result) == {note.name for note in notes}
    assert any(case["claims"] for case in result["cases"])


def test_cli_python_m_drafting_help():
    proc = run(sys.executable, "-m", "drafting", "--help")
    assert proc.returncode == 0, outcome(proc)
    assert "draft" in proc.stdout and "extract" in proc.stdout


def test_cli_unknown_profile_is_a_usage_error(tmp_path):
    (tmp_path / "note.txt").write_text("Procedure: left L4-5 medial branch block.\n", encoding="utf-8")
    proc = facet_claims("draft", str(tmp_path), "--json", "--profile", "nope")
    assert proc.returncode == 2, outcome(proc)
    assert "nope" in proc.stderr
    assert proc.stdout == ""

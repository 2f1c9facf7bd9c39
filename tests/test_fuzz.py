"""Fuzzing, bounded in time (the whole file runs in well under 60 s).

* Text path: `extract_source` never raises on any text (JSON-like exports
  too), and every fact's offsets are valid evidence: `text[start:end] == fact.text`.
* PDF path: mutated PDF bytes (flipped, cut, spliced, repeated) never let
  anything but an IngestError out of `read_document`.

Seeds are fixed (derandomize) so a failure reproduces; no document text is
printed, only offsets and error codes.
"""
from __future__ import annotations

import io

import pytest
from fpdf import FPDF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractor.errors import IngestError
from extractor.ingest import read_document
from extractor.sourcetext import SourceText

WORDS = ["L4-L5", "L5-S1", "L4-5", "L3", "L4", "L5", "C5-6", "LS", "$1", "medial", "branch", "block", "blocks",
         "dorsal", "ramus", "rami", "RFA", "radiofrequency", "ablation", "left", "right", "bilateral", "B/L",
         "lidocaine", "2%", "0.5%", "bupivacaine", "bupivacalne", "Iidocaine", "no", "steroid", "relief", "80%",
         "for", "6", "hours", "h", "~", "pain", "7/10", "VAS", "Date", "of", "Service:", "03/10/2026", "DOB:",
         "Patient:", "MRN:", "fluoroscopic", "ftuoroscopic", "guidance", "x2", "s/p", "PT", "weeks", "NSAIDs",
         "Procedure:", "PLAN:", "denies", "history", "of", "|", ":", ".", ",", "(", ")", "-", "–", "\n", "\n\n",
         "\t", " ", "\r\n", "\u00a0", "\ufeff", "e\u0301", "\U0001f600", "\x00", "\ud7ff"]

# An app's JSON export takes its own path (extractor/json_export.py): text that opens like one.
JSON_BITS = ['"', '{', '}', '[', ']', ':', '",', '"name":', '"levels": [', '"relief_pct": 90', '\\"', "_", "null"]

text_strategy = st.one_of(
    st.lists(st.sampled_from(WORDS), max_size=120).map(" ".join),
    st.lists(st.sampled_from(WORDS + JSON_BITS), max_size=80).map(lambda words: '{"' + " ".join(words)),
    st.lists(st.sampled_from(WORDS), max_size=60).map("".join),
    st.text(max_size=400),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
)


@pytest.fixture(scope="module")
def extract(nlp):
    from extractor.pipeline import extract_source

    return extract_source


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=text_strategy)
def test_extract_source_never_raises_and_offsets_hold(extract, text):
    doc = extract(SourceText(text, path="<fuzz>"))
    for fact in doc.facts:
        assert 0 <= fact.start <= fact.end <= len(text), (fact.kind, fact.start, fact.end)
        assert text[fact.start:fact.end] == fact.text, (fact.kind, fact.start, fact.end)


def _seed_pdfs() -> list[bytes]:
    """A text-layer PDF (two pages, a compressed and an uncompressed one) and a
    small image-only page, the kinds that reach PDFium and OCR."""
    out = []
    for compress in (True, False):
        pdf = FPDF(format="letter", unit="pt")
        pdf.set_compression(compress)
        pdf.set_font("helvetica", size=10)
        for page in range(2):
            pdf.add_page()
            pdf.text(40, 60, f"Procedure: right L4-L5 medial branch block, page {page + 1}")
            pdf.text(40, 74, "Injectate: 2% lidocaine 0.5 mL. Relief 80% for 6 hours.")
        out.append(bytes(pdf.output()))
    from PIL import Image, ImageDraw

    image = Image.new("L", (300, 120), 255)
    ImageDraw.Draw(image).text((10, 40), "L4-5 MBB 80%", fill=0)
    buffer = io.BytesIO()
    image.convert("1").save(buffer, "PDF", resolution=100)
    out.append(buffer.getvalue())
    return out


SEEDS = _seed_pdfs()


@st.composite
def mutated_pdf(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "splice", "repeat", "zero", "number"]))
        i = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[i] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            j = draw(st.integers(i, min(len(data), i + 400)))
            del data[i:j]
        elif kind == "splice":
            data[i:i] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "repeat":
            j = draw(st.integers(i, min(len(data), i + 200)))
            data[i:i] = data[i:j] * draw(st.integers(1, 5))
        elif kind == "zero":
            j = draw(st.integers(i, min(len(data), i + 64)))
            data[i:j] = b"\0" * (j - i)
        else:  # a digit changed: object numbers, lengths, xref offsets, sizes
            digits = [k for k, b in enumerate(data) if 0x30 <= b <= 0x39]
            if digits:
                k = digits[draw(st.integers(0, len(digits) - 1))]
                data[k] = draw(st.sampled_from(b"0123456789"))
        if not data:
            data = bytearray(b"%")
    return bytes(data)


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=mutated_pdf())
def test_mutated_pdf_only_raises_ingest_error(tmp_path, data):
    path = tmp_path / "fuzz.pdf"
    path.write_bytes(data)
    try:
        source = read_document(path, max_seconds=20)
    except IngestError as exc:
        assert exc.message.startswith("[E0") and "\n" not in exc.message
        return
    assert source.boxes is not None and len(source.boxes) == len(source.text)
    for i, box in enumerate(source.boxes):
        if box is not None:
            page, x0, top, x1, bottom = box
            info = source.pages[page - 1]
            assert 0 <= x0 <= x1 <= info.width + 0.01 and 0 <= top <= bottom <= info.height + 0.01, i

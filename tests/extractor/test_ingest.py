"""Tests for stage 1 (ingest): files -> SourceText, or a coded IngestError.

PDFs are made with fpdf2 inside each test (points as the unit, so positions
read like the boxes we check). Note text is made up; no real patient data.
"""
from __future__ import annotations

import codecs
import hashlib
import os
import time
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fpdf import FPDF
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.errors import IngestError
from extractor.ingest import read_document, sha256_of
from extractor.ingest.pdf import OCR_SCALE, read_pdf, repeated_margin_lines
from extractor.ingest.text import decode_text, read_text
from extractor.sourcetext import SourceText

# Same default and override as tests/conftest.py uses for the acceptance cases.
ACCEPTANCE_DIR = Path(os.environ.get("FACET_CLAIMS_ACCEPTANCE_DIR",
                                     Path(__file__).resolve().parents[3] / "shared" / "acceptance" / "cases"))
A02_DOCS = ACCEPTANCE_DIR / "A02" / "docs"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

PAGE_LINES = [
    ["Procedure: Left L4-L5 medial branch block", "Injectate: lidocaine 2% 0.5 mL per level",
     "Pre-procedure VAS 7/10"],
    ["Post-procedure VAS 1/10 at 30 minutes", "Relief: 85% for 6 hours", "Plan: confirmatory block"],
    ["Follow-up in two weeks", "Signed: attending physician"],
]


# ---------------------------------------------------------------- helpers


def new_pdf() -> FPDF:
    pdf = FPDF(format="letter", unit="pt")
    pdf.set_auto_page_break(False)
    pdf.set_font("helvetica", size=10)
    return pdf


def write_pdf(path: Path, pages: list[list[str]], footer: str | None = None) -> Path:
    """One text line per entry, 14 pt apart; optional footer with {n} and {m}."""
    pdf = new_pdf()
    for n, lines in enumerate(pages, start=1):
        pdf.add_page()
        for i, line in enumerate(lines):
            pdf.text(40, 60 + 14 * i, line)
        if footer:
            pdf.text(40, 770, footer.format(n=n, m=len(pages)))
    pdf.output(str(path))
    return path


def image_only_page(pdf: FPDF) -> None:
    pdf.add_page()
    pdf.set_fill_color(120, 120, 120)
    pdf.rect(50, 50, 300, 200, style="F")


def ingest_error(path, **kwargs) -> IngestError:
    with pytest.raises(IngestError) as info:
        read_document(path, **kwargs)
    return info.value


def assert_boxes_in_pages(source: SourceText) -> None:
    assert source.boxes is not None and len(source.boxes) == len(source.text)
    for box in source.boxes:
        if box is None:
            continue
        page, x0, top, x1, bottom = box
        info = source.pages[page - 1]
        assert 0 <= x0 <= x1 <= info.width and 0 <= top <= bottom <= info.height, box


def span(source: SourceText, needle: str) -> tuple[int, int]:
    start = source.text.index(needle)
    return start, start + len(needle)


# ---------------------------------------------------------------- PDFs


def test_pdf_lines_in_reading_order_with_page_map(tmp_path):
    path = write_pdf(tmp_path / "note.pdf", PAGE_LINES, footer="Page {n} of {m} - printed from EHR")
    source = read_document(path)
    assert source.kind == "pdf" and source.page_count == 3
    assert source.path == str(path)
    positions = [source.text.index(line) for page in PAGE_LINES for line in page]
    assert positions == sorted(positions)
    assert_boxes_in_pages(source)
    assert source.page_of(*span(source, "Relief: 85%")) == 2
    assert source.page_of(*span(source, "Follow-up")) == 3
    assert [p.width for p in source.pages] == [612.0] * 3
    assert source.warnings == ()


def test_pdf_inserted_characters_have_no_box(tmp_path):
    source = read_document(write_pdf(tmp_path / "note.pdf", PAGE_LINES))
    starts = source.page_starts
    assert starts[0] == 0 and source.text[starts[1] - 2:starts[1]] == "\n\n"
    assert source.boxes[starts[1] - 1] is None and source.boxes[starts[1] - 2] is None
    for i, ch in enumerate(source.text):
        if ch == "\n":
            assert source.boxes[i] is None
        elif ch != " ":
            assert source.boxes[i] is not None


def test_pdf_boxes_of_one_line_word_is_one_box_on_its_page(tmp_path):
    source = read_document(write_pdf(tmp_path / "note.pdf", PAGE_LINES))
    start, end = span(source, "confirmatory")
    boxes = source.boxes_of(start, end)
    assert len(boxes) == 1
    page, x0, top, x1, bottom = boxes[0]
    assert page == 2 and x1 - x0 > 40 and 74 < top < 88 < bottom < 95  # baseline at y=88


def test_pdf_word_gap_without_space_character_becomes_space(tmp_path):
    pdf = new_pdf()
    pdf.add_page()
    pdf.text(40, 60, "MRN:")           # two text objects, no space character between
    pdf.text(120, 60, "00517790")
    pdf.output(str(tmp_path / "gap.pdf"))
    source = read_document(tmp_path / "gap.pdf")
    assert source.text == "MRN: 00517790"
    assert source.boxes[4] is None                  # we inserted it
    source2 = read_document(write_pdf(tmp_path / "space.pdf", [["MRN: 00517790"]]))
    assert source2.text == "MRN: 00517790"
    assert source2.boxes[4] is not None             # drawn in the PDF, so it keeps its box


def test_pdf_repeated_footer_is_listed_not_removed(tmp_path):
    path = write_pdf(tmp_path / "note.pdf", PAGE_LINES, footer="Page {n} of {m} - printed from EHR")
    source = read_document(path)
    ranges = repeated_margin_lines(source)
    assert [source.text[s:e] for s, e in ranges] == [f"Page {n} of 3 - printed from EHR" for n in (1, 2, 3)]
    assert [source.page_of(s) for s, _ in ranges] == [1, 2, 3]


def test_pdf_repeated_margin_lines_needs_most_pages(tmp_path):
    source = read_document(write_pdf(tmp_path / "note.pdf", PAGE_LINES))
    assert repeated_margin_lines(source) == []
    text = read_text("n.txt", b"Page 1 of 2\nbody\n")
    assert repeated_margin_lines(text) == []


def test_pdf_two_columns_read_column_by_column(tmp_path):
    pdf = new_pdf()
    pdf.add_page()
    pdf.text(40, 40, "Northbridge Pain Center - Procedure Note")
    left = " ".join(f"History sentence {i} about axial low back pain and failed therapy." for i in range(14))
    right = " ".join(f"Plan sentence {i} about medial branch blocks at L4 and L5 levels." for i in range(14))
    pdf.set_xy(40, 60)
    pdf.multi_cell(250, 12, left)
    pdf.set_xy(320, 60)
    pdf.multi_cell(250, 12, right)
    pdf.text(40, 740, "Signed electronically by the attending physician.")
    pdf.output(str(tmp_path / "cols.pdf"))
    text = read_document(tmp_path / "cols.pdf").text
    assert text.startswith("Northbridge Pain Center")
    assert text.rindex("History sentence") < text.index("Plan sentence 0")
    assert text.index("History sentence 13") < text.index("Plan sentence 0")
    assert text.endswith("Signed electronically by the attending physician.")


def test_pdf_table_with_empty_band_stays_row_by_row(tmp_path):
    rows = [("Lidocaine 2%", "0.5 mL"), ("Bupivacaine 0.5%", "0.5 mL"), ("Omnipaque 240", "0.3 mL"),
            ("Meloxicam", "15 mg"), ("Metformin", "500 mg"), ("Rosuvastatin", "10 mg"), ("Omeprazole", "20 mg")]
    pdf = new_pdf()
    pdf.add_page()
    for i, (drug, dose) in enumerate(rows):
        pdf.text(40, 60 + 14 * i, drug)
        pdf.text(400, 60 + 14 * i, dose)
    pdf.output(str(tmp_path / "table.pdf"))
    text = read_document(tmp_path / "table.pdf").text
    assert text.splitlines() == [f"{drug} {dose}" for drug, dose in rows]


def test_pdf_ligature_becomes_letters_sharing_one_box(tmp_path):
    if not os.path.exists(DEJAVU):
        pytest.skip("DejaVu font not installed")
    pdf = new_pdf()
    pdf.add_font("dejavu", fname=DEJAVU)
    pdf.set_font("dejavu", size=11)
    pdf.add_page()
    pdf.text(40, 60, "\ufb01brosis of the L5-S1 facet")
    pdf.output(str(tmp_path / "lig.pdf"))
    source = read_document(tmp_path / "lig.pdf")
    assert source.text.startswith("fibrosis")
    assert source.boxes[0] == source.boxes[1] and source.boxes[0] is not None
    assert source.boxes[2] != source.boxes[1]


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_pdf_rotated_page_reads_and_boxes_cover_the_ink(tmp_path, rotation):
    path = write_pdf(tmp_path / "note.pdf", [["Flowsheet row one: VAS 6/10", "row two: VAS 2/10"]])
    doc = pdfium.PdfDocument(str(path))
    doc[0].set_rotation(rotation)          # as a viewer's "rotate page" does
    doc.save(str(tmp_path / "rot.pdf"))
    doc.close()
    source = read_document(tmp_path / "rot.pdf")
    assert source.text == "Flowsheet row one: VAS 6/10\nrow two: VAS 2/10"
    size = (792.0, 612.0) if rotation % 180 else (612.0, 792.0)
    assert (source.pages[0].width, source.pages[0].height) == size
    assert_boxes_in_pages(source)
    doc = pdfium.PdfDocument(str(tmp_path / "rot.pdf"))
    image = doc[0].render(scale=1).to_numpy().mean(axis=2)   # 255 = white paper
    doc.close()
    for ch, box in zip(source.text, source.boxes):
        if box is not None and ch not in " .:":
            _, x0, top, x1, bottom = box
            assert image[int(top):int(bottom) + 1, int(x0):int(x1) + 1].min() < 128, box


def test_pdf_content_drawn_sideways_for_a_landscape_page(tmp_path):
    pdf = new_pdf()
    pdf.add_page()
    with pdf.rotation(90, x=306, y=396):   # drawn turned; /Rotate 90 shows it upright
        for i in range(3):
            pdf.text(150, 300 + 14 * i, f"Flowsheet row {i}: VAS {i}/10")
    pdf.output(str(tmp_path / "land.pdf"))
    doc = pdfium.PdfDocument(str(tmp_path / "land.pdf"))
    doc[0].set_rotation(90)
    doc.save(str(tmp_path / "land90.pdf"))
    doc.close()
    for name in ("land.pdf", "land90.pdf"):
        source = read_document(tmp_path / name)
        assert source.text.splitlines() == [f"Flowsheet row {i}: VAS {i}/10" for i in range(3)]
        assert_boxes_in_pages(source)


def test_pdf_page_without_text_layer_is_a_warning(tmp_path):
    pdf = new_pdf()
    pdf.add_page()
    pdf.text(40, 60, "Procedure: right L5-S1 medial branch block")
    image_only_page(pdf)
    pdf.output(str(tmp_path / "scan.pdf"))
    source = read_document(tmp_path / "scan.pdf", ocr=False)
    assert [p.has_text_layer for p in source.pages] == [True, False]
    assert source.warnings == ("page 2: no text layer (scanned image?); OCR not available",)
    assert source.text == "Procedure: right L5-S1 medial branch block\n\n"
    assert source.page_starts == (0, len(source.text))


def test_pdf_with_no_text_at_all_is_refused(tmp_path):
    pdf = new_pdf()
    image_only_page(pdf)
    pdf.output(str(tmp_path / "scan.pdf"))
    error = ingest_error(tmp_path / "scan.pdf")
    assert "[E007]" in error.message and "page(s) 1 " in error.message


def test_pdf_ocr_hook_fills_a_page_without_text(tmp_path):
    pdf = new_pdf()
    image_only_page(pdf)
    pdf.output(str(tmp_path / "scan.pdf"))
    seen = []

    def fake_ocr(image):
        seen.append((image.width, image.height))
        px = OCR_SCALE  # hook answers in image pixels
        return [(ch, (px * (50 + 6 * i), px * 50, px * (55 + 6 * i), px * 60)) for i, ch in enumerate("L4 MBB")]

    data = (tmp_path / "scan.pdf").read_bytes()
    source = read_pdf(str(tmp_path / "scan.pdf"), data, max_pages=10, ocr_page=fake_ocr)
    assert len(seen) == 1 and abs(seen[0][0] - 612 * OCR_SCALE) <= 1 and abs(seen[0][1] - 792 * OCR_SCALE) <= 1
    assert source.text == "L4 MBB" and source.pages[0].ocr and not source.pages[0].has_text_layer
    assert source.boxes[0] == (1, 50.0, 50.0, 55.0, 60.0)
    assert source.warnings == ()


def test_pdf_encrypted_needs_password(tmp_path):
    pdf = new_pdf()
    pdf.set_encryption(owner_password="owner-secret", user_password="user-secret")
    pdf.add_page()
    pdf.text(40, 60, "Confidential note")
    pdf.output(str(tmp_path / "locked.pdf"))
    assert "[E004]" in ingest_error(tmp_path / "locked.pdf").message


def test_pdf_with_owner_password_only_is_readable(tmp_path):
    pdf = new_pdf()
    pdf.set_encryption(owner_password="owner-secret")   # restricts editing, not reading
    pdf.add_page()
    pdf.text(40, 60, "Relief: 90% for 3 hours")
    pdf.output(str(tmp_path / "restricted.pdf"))
    assert read_document(tmp_path / "restricted.pdf").text == "Relief: 90% for 3 hours"


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_pdf_truncated_is_damaged(tmp_path, cut):
    data = write_pdf(tmp_path / "note.pdf", PAGE_LINES).read_bytes()
    (tmp_path / "cut.pdf").write_bytes(data[: int(len(data) * cut)])
    error = ingest_error(tmp_path / "cut.pdf")
    assert "[E003]" in error.message and "truncated" in error.message


def test_pdf_that_is_not_a_pdf_is_damaged(tmp_path):
    (tmp_path / "fake.pdf").write_bytes(b"Patient: Jane Roe\nDOB 01/02/1960\n")
    error = ingest_error(tmp_path / "fake.pdf")
    assert "[E003]" in error.message and "Jane" not in str(error)


def test_pdf_corrupt_body_is_damaged(tmp_path):
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n")
    error = ingest_error(tmp_path / "bad.pdf")
    assert "[E003]" in error.message and "PdfiumError" in error.message


def test_pdf_over_page_limit(tmp_path):
    path = write_pdf(tmp_path / "note.pdf", PAGE_LINES)
    error = ingest_error(path, max_pages=2)
    assert error.message == "[E006] PDF has 3 pages, over the limit of 2 pages"
    assert read_document(path, max_pages=3).page_count == 3


def test_pdf_suffix_is_case_insensitive(tmp_path):
    path = write_pdf(tmp_path / "NOTE.PDF", PAGE_LINES)
    assert read_document(path).kind == "pdf"


A02_PDFS = sorted(str(p) for p in A02_DOCS.glob("*.pdf"))


@pytest.mark.skipif(not A02_PDFS, reason="acceptance case A02 not present")
# ids by position: the file names carry a (made-up) patient name
@pytest.mark.parametrize("path", A02_PDFS, ids=[f"A02-doc{i}" for i in range(len(A02_PDFS))])
def test_pdf_acceptance_a02_mrn_has_boxes_on_page_1(path):
    source = read_document(path)
    start, end = span(source, "MRN: 00517790")
    assert all(source.boxes[i] is not None and source.boxes[i][0] == 1 for i in range(start, end))
    assert source.page_of(start) == 1
    assert_boxes_in_pages(source)
    footers = [source.text[s:e] for s, e in repeated_margin_lines(source)]
    assert footers == ["Page 1 of 2 - printed from EHR", "Page 2 of 2 - printed from EHR"]


# ---------------------------------------------------------------- text files


# fmt: off
@pytest.mark.parametrize("raw, expected", [
    (b"Pain 7/10\r\nworse\r\n",                    "Pain 7/10\nworse\n"),
    (b"Pain 7/10\rworse\r",                        "Pain 7/10\nworse\n"),
    (b"a\r\n\r\nb\n\rc",                           "a\n\nb\n\nc"),
    (codecs.BOM_UTF8 + b"L4-5 \xe2\x80\x93 left",  "L4-5 \u2013 left"),
    (b"Pain 7/10 \x96 worse",                      "Pain 7/10 \u2013 worse"),              # cp1252 en dash
    (b"caf\xc3\xa9 \x96 na\xefve",                 "caf\u00e9 \u2013 na\u00efve"),          # UTF-8 + stray cp1252
    (b"odd \x81 byte",                             "odd \x81 byte"),                        # undefined in cp1252
    ("Relief 80%\r\n".encode("utf-16"),            "Relief 80%\n"),                         # Notepad "Unicode"
])
# fmt: on
def test_text_decoding_and_line_ends(tmp_path, raw, expected):
    (tmp_path / "note.txt").write_bytes(raw)
    source = read_document(tmp_path / "note.txt")
    assert source.text == expected
    assert source.kind == "text" and source.boxes is None and source.pages == ()


def test_text_fallback_is_reported_as_warning(tmp_path):
    (tmp_path / "note.txt").write_bytes(b"Pain 7/10 \x96 worse")
    source = read_document(tmp_path / "note.txt")
    assert source.warnings == ("not valid UTF-8; bytes outside UTF-8 read as Windows-1252",)
    (tmp_path / "ok.md").write_bytes("# Plan\nL4\u2013L5\n".encode())
    assert read_document(tmp_path / "ok.md").warnings == ()


def test_text_line_and_column_origin(tmp_path):
    (tmp_path / "note.TXT").write_bytes(b"DOS: 09/03/2025\r\nMRN: 00517790\r\n")
    source = read_document(tmp_path / "note.TXT")
    start, _ = span(source, "00517790")
    assert source.line_col(start) == (2, 5) and source.page_of(start) is None


def test_text_ten_million_char_line_is_linear(tmp_path):
    line = ("L4-5 bilateral " * 700_000)[:10_000_000]
    (tmp_path / "long.txt").write_bytes((line + "\r\n" + line + "\r").encode())
    t0 = time.perf_counter()
    source = read_document(tmp_path / "long.txt", max_chars=30_000_000)
    assert time.perf_counter() - t0 < 10
    assert len(source.text) == 20_000_002 and source.text.count("\n") == 2


def test_text_ten_million_cp1252_chars(tmp_path):
    (tmp_path / "long.txt").write_bytes(b"7/10 \x96 worse " * 800_000)
    t0 = time.perf_counter()
    source = read_document(tmp_path / "long.txt", max_chars=30_000_000)
    assert time.perf_counter() - t0 < 20
    assert source.text.startswith("7/10 \u2013 worse")


@pytest.mark.parametrize("raw", [
    b"Patient: Jane Roe\x00\x00\x00\x01\x02",            # NUL bytes
    bytes(range(1, 32)) * 40 + b"Jane Roe",             # control bytes
    bytes((i * 131 + 7) % 255 + 1 for i in range(4000)),  # random-looking, no NUL
])
def test_text_binary_junk_is_refused_without_quoting_it(tmp_path, raw):
    (tmp_path / "note.txt").write_bytes(raw)
    error = ingest_error(tmp_path / "note.txt")
    assert error.message == "[E008] not a text file (binary content)"
    assert "Jane" not in str(error) and error.path == str(tmp_path / "note.txt")


def test_text_whitespace_only_has_no_readable_text(tmp_path):
    (tmp_path / "note.txt").write_bytes(b" \r\n\t\n")
    assert "[E011]" in ingest_error(tmp_path / "note.txt").message


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=400))
def test_text_any_bytes_decode_or_refuse_cleanly(raw):
    text, _, binary = decode_text(raw)
    assert isinstance(text, str)
    try:
        source = read_text("note.txt", raw)
    except IngestError as error:
        assert error.message[:6] in ("[E008]", "[E011]")
    else:
        assert "\r" not in source.text and not source.text.startswith("\ufeff")


# ---------------------------------------------------------------- file checks


def test_zero_byte_file(tmp_path):
    (tmp_path / "empty.pdf").write_bytes(b"")
    assert ingest_error(tmp_path / "empty.pdf").message == "[E002] empty file (0 bytes)"


@pytest.mark.parametrize("name", ["note.docx", "scan.tiff", "note", "note.txt.bak"])
def test_unsupported_suffix(tmp_path, name):
    (tmp_path / name).write_bytes(b"text")
    assert "[E001]" in ingest_error(tmp_path / name).message


def test_file_over_size_limit_is_not_read(tmp_path):
    (tmp_path / "big.txt").write_bytes(b"x" * 101)
    assert ingest_error(tmp_path / "big.txt", max_bytes=100).message == \
        "[E005] file is 101 bytes, over the limit of 100 bytes"
    assert read_document(tmp_path / "big.txt", max_bytes=101).text == "x" * 101


def test_missing_file_and_directory_are_unreadable(tmp_path):
    assert "[E009]" in ingest_error(tmp_path / "missing.txt").message
    (tmp_path / "folder.txt").mkdir()
    assert "[E009]" in ingest_error(tmp_path / "folder.txt").message


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read any file")
def test_permission_denied_is_unreadable(tmp_path):
    path = tmp_path / "locked.txt"
    path.write_bytes(b"note")
    path.chmod(0)
    assert "[E009]" in ingest_error(path).message


def test_sha256_of_matches_hashlib(tmp_path):
    data = b"MRN 00517790\n" * 100_000
    (tmp_path / "note.txt").write_bytes(data)
    assert sha256_of(tmp_path / "note.txt") == hashlib.sha256(data).hexdigest()
    with pytest.raises(IngestError):
        sha256_of(tmp_path / "missing.txt")


# ---------------------------------------------------------------- bulk reading (docs/performance.md)
def _pdf_paths_for_codes(tmp_path) -> list[Path]:
    paths = sorted(A02_DOCS.glob("*.pdf"))
    paths.append(write_pdf(tmp_path / "note.pdf", PAGE_LINES, footer="Page {n} of {m}"))
    if os.path.exists(DEJAVU):
        pdf = new_pdf()
        pdf.add_font("dejavu", fname=DEJAVU)
        pdf.set_font("dejavu", size=11)
        pdf.add_page()
        pdf.text(40, 60, "\ufb01brosis \u2013 L5-S1 facet, se-")   # ligature, en dash, line-end hyphen
        pdf.text(40, 74, "vere \u00e9\u00e8 \u0394 \U0001d400 pain")        # accents, Greek, outside the BMP
        pdf.output(str(tmp_path / "mixed.pdf"))
        paths.append(tmp_path / "mixed.pdf")
    return paths


def test_pdf_bulk_codes_equal_per_character_unicode(tmp_path):
    import ctypes

    import pypdfium2.raw as pdfium_c

    from extractor.ingest.textlayer import _codes

    for path in _pdf_paths_for_codes(tmp_path):
        doc = pdfium.PdfDocument(str(path))
        for page in doc:
            textpage = page.get_textpage()
            count = pdfium_c.FPDFText_CountChars(textpage.raw)
            handle = ctypes.cast(textpage.raw, ctypes.c_void_p).value
            expected = [pdfium_c.FPDFText_GetUnicode(textpage.raw, i) for i in range(count)]
            assert _codes(handle, count).tolist() == expected, path.name
            textpage.close()
            page.close()
        doc.close()


def test_pdf_boxes_behave_like_a_list(tmp_path):
    source = read_document(write_pdf(tmp_path / "note.pdf", PAGE_LINES))
    as_list = list(source.boxes)
    assert len(as_list) == len(source.boxes) == len(source.text)
    assert source.boxes == as_list and as_list == list(source.boxes)
    assert source.boxes[5:40] == as_list[5:40] and source.boxes[-1] == as_list[-1]
    assert all(type(v) is float for v in source.boxes[0][1:]) and type(source.boxes[0][0]) is int
    with pytest.raises(IndexError):
        source.boxes[len(source.text)]

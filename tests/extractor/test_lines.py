"""Tests for extractor/ingest/lines.py: the array layout against a per-character reference.

The reference below is the layout as it was written per character (a Python
object and loop per glyph) before it was vectorised for speed; the array
version must give the same text and the same box for every character on any
page, so random pages (lines, columns, fake bold, stray spaces, mixed
heights) are laid out both ways and compared exactly.
"""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.ingest.lines import Glyphs, lay_out

Char = tuple[str, float, float, float, float]
_X_TOLERANCE = 3.0
_GUTTER_MIN = 9.0
_MIN_COLUMN_LINES = 6


# ---------------------------------------------------------------- reference (per character)
def reference_reading_order(chars: list[Char], width: float) -> list[list[Char]]:
    """Lines (each sorted by x) in reading order; lines without ink are dropped."""
    lines = [line for line in _cluster_lines(chars) if _ink(line)]
    return _order_columns(lines, width)


def _cluster_lines(chars: list[Char]) -> list[list[Char]]:
    # Grouping by vertical centre, not top, keeps a 14 pt label and 10 pt
    # value on one baseline together.
    lines: list[list[Char]] = []
    ref_mid = ref_h = 0.0
    for c in sorted(chars, key=lambda c: c[2] + c[4]):
        mid, h = (c[2] + c[4]) / 2, max(c[4] - c[2], 1.0)
        if lines and mid - ref_mid <= 0.4 * min(h, ref_h):
            lines[-1].append(c)
        else:
            lines.append([c])
            ref_mid, ref_h = mid, h
    for line in lines:
        line.sort(key=lambda c: c[1])
    return lines


def _ink_segments(line: list[Char]) -> list[tuple[float, float]]:
    segments: list[list[float]] = []
    for _, x0, _, x1, _ in (c for c in line if c[0] != " "):
        if segments and x0 - segments[-1][1] < _GUTTER_MIN:
            segments[-1][1] = max(segments[-1][1], x1)
        else:
            segments.append([x0, x1])
    return [(a, b) for a, b in segments]


def _order_columns(lines: list[list[Char]], width: float) -> list[list[Char]]:
    """Read a two-column block column by column; everything else top to bottom.

    A gutter is an x in the middle 40% of the page that no ink crosses over a
    run of consecutive lines (not split by a tall blank, which sets off a
    footer) holding half the lines or half the text height. The columns must
    look like prose: each at least a fifth of the page wide, lines filling it,
    and the two sides close to the gutter, so a two-column table ("drug ...
    dose") or a label/value header stays row by row.
    """
    if len(lines) < _MIN_COLUMN_LINES:
        return lines
    xs = range(int(width * 0.3), int(width * 0.7) + 1, 3)
    crossed = [bytearray(len(xs)) for _ in lines]  # crossed[line][k]: ink spans xs[k]
    for row, line in zip(crossed, lines):
        for a, b in _ink_segments(line):
            k0, k1 = max(0, int((a - xs.start) // 3) + 1), min(len(xs), math.ceil((b - xs.start) / 3))
            if k1 > k0:
                row[k0:k1] = b"\x01" * (k1 - k0)
    tops = [min(c[2] for c in line) for line in lines]
    bottoms = [max(c[4] for c in line) for line in lines]
    tall_gap = 3 * sorted(b - t for t, b in zip(tops, bottoms))[len(lines) // 2]
    breaks = [i > 0 and tops[i] - bottoms[i - 1] > tall_gap for i in range(len(lines))]
    best = (0, 0, 0.0)  # run length, run end (exclusive), gutter x
    for k, x in enumerate(xs):
        run = 0
        for i, row in enumerate(crossed):
            run = 0 if row[k] else (1 if breaks[i] else run + 1)
            if run > best[0]:
                best = (run, i + 1, float(x))
    run, end, x = best
    start = end - run
    if run < _MIN_COLUMN_LINES or (run < 0.5 * len(lines)
                                   and bottoms[end - 1] - tops[start] < 0.5 * (bottoms[-1] - tops[0])):
        return lines
    block = lines[start:end]
    left = [part for part in ([c for c in line if c[1] + c[3] < 2 * x] for line in block) if _ink(part)]
    right = [part for part in ([c for c in line if c[1] + c[3] >= 2 * x] for line in block) if _ink(part)]
    if min(len(left), len(right)) < 0.4 * run:
        return lines
    (l_lo, l_hi), (r_lo, r_hi) = _extent(left), _extent(right)
    prose = (r_lo - l_hi <= 0.1 * width and min(l_hi - l_lo, r_hi - r_lo) >= 0.2 * width
             and _fill(left) >= 0.6 * (l_hi - l_lo) and _fill(right) >= 0.6 * (r_hi - r_lo))
    return lines[:start] + left + right + lines[end:] if prose else lines


def _ink(line: list[Char]) -> list[Char]:
    return [c for c in line if c[0] != " "]


def _extent(lines: list[list[Char]]) -> tuple[float, float]:
    return min(_ink(line)[0][1] for line in lines), max(_ink(line)[-1][3] for line in lines)


def _fill(lines: list[list[Char]]) -> float:
    """Mean width of the ink of each line."""
    return sum(_ink(line)[-1][3] - _ink(line)[0][1] for line in lines) / len(lines)


def reference_emit_line(line: list[Char], page: int, out: list[str], boxes: list) -> None:
    prev: Char | None = None
    space: Char | None = None
    for c in line:
        text, x0, top, x1, bottom = c
        if text == " ":
            space = space or (c if prev is not None else None)
            continue
        if prev is not None:
            if text == prev[0] and abs(x0 - prev[1]) < 1 and abs(top - prev[2]) < 1:
                continue  # "fake bold": the same glyph drawn twice, slightly offset
            if space is not None or x0 - prev[3] > min(_X_TOLERANCE, 0.2 * (bottom - top)):
                out.append(" ")
                boxes.append((page, *space[1:]) if space is not None else None)
        out.append(text)
        boxes.extend([(page, x0, top, x1, bottom)] * len(text))  # a ligature's letters share its box
        prev, space = c, None



def reference(chars: list[Char], width: float) -> tuple[str, list]:
    out: list[str] = []
    boxes: list = []
    for j, line in enumerate(reference_reading_order(chars, width)):
        if j:
            out.append("\n")
            boxes.append(None)
        reference_emit_line(line, 1, out, boxes)
    return "".join(out), boxes


def laid(chars: list[Char], width: float) -> tuple[str, list]:
    result = lay_out(Glyphs.from_chars(chars), width)
    boxes = [(1, *b) if ok else None for b, ok in zip(result.boxes.tolist(), result.boxed.tolist())]
    return result.text, boxes


# ---------------------------------------------------------------- pages
_TEXTS = st.sampled_from(list("aabcdeLl5%-") + [" ", " ", " ", "fi", "\u00e9"])


@st.composite
def pages(draw) -> tuple[list[Char], float]:
    """Rows of words at a few font sizes, sometimes in two columns, with
    duplicated glyphs, drawn spaces and jitter, in shuffled stream order."""
    width = draw(st.sampled_from([300.0, 612.0, 792.0]))
    chars: list[Char] = []
    rows = draw(st.integers(0, 16))
    two_columns = draw(st.booleans())
    y = 20.0
    for _ in range(rows):
        size = draw(st.sampled_from([8.0, 10.0, 10.0, 14.0]))
        y += draw(st.sampled_from([0.0, 1.5, size * 1.2, size * 1.2, size * 4]))
        starts = [20.0, width / 2 + 10] if two_columns else [20.0]
        for x in starts:
            for _ in range(draw(st.integers(0, 12))):
                text = draw(_TEXTS)
                w = size * draw(st.sampled_from([0.0, 0.3, 0.5, 0.6]))
                dy = draw(st.sampled_from([0.0, 0.0, 0.0, -2.0, 0.7, size * 0.3]))
                h = size * draw(st.sampled_from([1.0, 1.0, 0.5, 1.4]))
                chars.append((text, x, y + dy, x + w, y + dy + h))
                if draw(st.integers(0, 9)) == 0:  # fake bold
                    o = draw(st.sampled_from([0.3, 0.6, 0.9]))
                    chars.append((text, x + o, y + dy, x + w + o, y + dy + h))
                x += w + draw(st.sampled_from([0.0, 0.0, 1.0, 2.5, 4.0, 12.0]))
    order = draw(st.permutations(range(len(chars))))
    return [chars[i] for i in order], width


# ---------------------------------------------------------------- tests
@settings(max_examples=400, deadline=None)
@given(pages())
def test_lines_match_the_per_character_layout(page):
    chars, width = page
    assert laid(chars, width) == reference(chars, width)


# fmt: off
@pytest.mark.parametrize("chars, text", [
    ([], ""),
    ([(" ", 10, 10, 12, 20)], ""),
    # the third "a" is 1 pt from the last one written (the first), so it is written
    ([("a", 10, 10, 15, 20), ("a", 10.5, 10, 15.5, 20), ("a", 11.0, 10, 16, 20), ("b", 16, 10, 21, 20)], "aab"),
    ([("a", 10, 10, 15, 20), (" ", 15, 10, 17, 20), ("b", 17, 10, 22, 20)], "a b"),
    ([("a", 10, 10, 15, 20), ("b", 19, 10, 24, 20)], "a b"),
    ([("fi", 10, 10, 15, 20)], "fi"),
])
# fmt: on
def test_lines_small_pages(chars, text):
    assert laid(chars, 612.0) == reference(chars, 612.0)
    assert laid(chars, 612.0)[0] == text


def two_column_page() -> list[Char]:
    chars: list[Char] = []
    for row in range(8):
        for x0, letter in ((40.0, "l"), (320.0, "r")):
            chars += [(letter, x0 + 6 * i, 40.0 + 14 * row, x0 + 6 * i + 5, 50.0 + 14 * row) for i in range(40)]
    return chars


def test_lines_two_column_prose_reads_column_by_column():
    text, boxes = laid(two_column_page(), 612.0)
    assert (text, boxes) == reference(two_column_page(), 612.0)
    assert text == "\n".join(["l" * 40] * 8 + ["r" * 40] * 8)


def test_field_tables_read_as_labels_and_other_tables_stay_tables():
    """extractor/pipeline.py nlp_text: "| Laterality | Bilateral |" under a "| Field | Value |" header reads
    "| Laterality : Bilateral |", and a padded label takes the colon itself ("| Patient    | Doe, Jane |"
    names the patient: the padding would stand between the label and its colon); a diary's "| Pre | 7 |"
    keeps its bars; one character for one."""
    from extractor.pipeline import nlp_text

    fields = "| Field | Value |\n|---|---|\n| Level | L5-S1 |\n| Laterality | Bilateral |\n| Patient    | Doe, Jane |\n\nNext line.\n"
    diary = "| Time | NRS |\n|---|---|\n| Pre | 7 |\n| 30 min | 1 |\n"
    read = nlp_text(fields + diary)
    assert len(read) == len(fields + diary)
    assert "| Level : L5-S1 |\n| Laterality : Bilateral |\n| Patient:     Doe, Jane |" in read
    assert read.endswith(diary)


def test_ocr_letters_inside_numbers_read_as_digits():
    """extractor/pipeline.py nlp_text: a fax's "9O%", "1O/27/2026", "O.2 mL", "7/l0" read as digits; the
    letters of "H2O", a lower-case level "l1" and words keep theirs; one character for one."""
    from extractor.pipeline import nlp_text

    faxed = "9O% relief, MBB #2 1O/27/2026, O.2 mL, NRS 7/l0, x l0 weeks, pain l/10, NRS O/10, DOB 07/l9/1961"
    assert nlp_text(faxed) == ("90% relief, MBB #2 10/27/2026, 0.2 mL, NRS 7/10, x 10 weeks, pain 1/10, NRS 0/10, "
                               "DOB 07/19/1961")
    kept = "cm H2O, l1-2 and l5-s1, Dr. Olson, 10th, 2 Oz, lol, I/O 2/10, KO/100, and/or"
    assert nlp_text(kept) == kept


def test_ocr_letters_opening_a_date_and_zeros_in_a_month_name():
    """A fax's "O9/03/l961" and "0ct 06, 2026" read as the date; "O2 sat", ICD-10 "I10", "10ct", "AN0v" keep theirs."""
    from extractor.pipeline import nlp_text

    faxed = "DOB: O9/03/l961  DOS: 0ct 06, 2026  0CT-07-2026  N0v 5"
    assert nlp_text(faxed) == "DOB: 09/03/1961  DOS: Oct 06, 2026  OCT-07-2026  NOv 5"
    kept = "O2 sat 98%, I10 HTN, 10ct, AN0v, l4-5 facet, Ol/02"
    assert nlp_text(kept) == kept


def test_a_number_wrapped_after_about_goes_on_its_sentence_but_not_in_a_table():
    """extractor/pipeline.py nlp_text: "lasted about\n5 hours" reads as one line; a tab-separated header
    row ending in "for" keeps the break before the next row."""
    from extractor.pipeline import nlp_text

    assert nlp_text("relief lasted about\n5 hours.") == "relief lasted about 5 hours."
    table = "Time\tNRS\tRelief lasting for\n20 min\t1\t86\n"
    assert nlp_text(table) == table


def test_a_hanging_indent_goes_on_its_line_but_not_a_field_a_short_line_or_a_capital():
    """extractor/pipeline.py nlp_text: a wrapped list item, paragraph or field value whose next line
    is indented to where its text starts goes on; the indent stays, so offsets do not move."""
    from extractor.pipeline import nlp_text

    item = ("1. Left L3-4 and L4-5 medial branch blocks (left L2, L3, L4 medial\n"
            "   branches) in our office procedure suite.\n")
    assert nlp_text(item) == item.replace("medial\n", "medial ")
    field = ("Procedure:      Left L4-5 and L5-S1 radiofrequency ablation (medial branch\n"
             "                neurotomy): left L3 and L4 medial branches\n")
    assert nlp_text(field) == field.replace("branch\n", "branch ", 1)
    kept = [
        # the next line is a field of its own, in any of the label styles
        "  Duration ................ approx 2 years, gradual onset, no injury\n  pain now ...... 7/10\n",
        "- Bilateral L4-5 and L5-S1 medial branch blocks under fluoroscopy\n  guidance: fluoroscopy\n",
        # a short line ended where its writer ended it
        "- Plan MBB at left\n  medial branches\n",
        # a capital or a number may open a sentence of its own
        "  Failed PT and chiropractic; NSAIDs with no stenosis on the MRI\n  MRI date 02/10/26\n",
        # indented deeper or shallower than the line's text
        "1. Left L3-4 and L4-5 medial branch blocks (left L2, L3, L4 medial\n      branches)\n",
    ]
    for text in kept:
        assert nlp_text(text)[text.index("\n")] == "\n", text


def test_portal_markup_reads_as_the_text_it_stands_for(extract_text):
    """extractor/pipeline.py nlp_text: HTML entities read as their character, tags as spaces, and the
    span ruler reads over the spaces left (extractor/nlp.py across_filler); offsets do not move."""
    from extractor.pipeline import nlp_text

    text = ("Patient: Castellano, Yvonne D &nbsp;|&nbsp; MRN 2210457<br>\n"
            "<b>Procedure:</b> left L3-4 &amp; L4-5 medial branch blocks with lidocaine&nbsp;2%.<br>\n"
            "She can&#39;t stand &gt; 20 min. Pain 6/10 &ndash; worse standing. &foo; stays.<br>\n")
    read = nlp_text(text)
    assert len(read) == len(text) and "<" not in read and "&nbsp;" not in read
    assert "   >" in read and "&foo;" in read
    doc = extract_text(text)
    found = {(f.kind, f.text) for f in doc.facts}
    assert ("anesthetic", "lidocaine&nbsp;2%") in found
    assert ("level", "L3-4") in found and ("level", "L4-5 medial branch") in found
    assert next(f for f in doc.facts if f.kind == "anesthetic").value["concentration"] == "2%"
    assert ("mrn", "2210457") in found

"""A note saved with its rich-text codes left in (extractor/rtf_export.py)."""
from __future__ import annotations

from extractor.rtf_export import looks_like_rtf, rtf_as_text

NOTE = ("{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0\\froman Times New Roman;}}\\f0\\fs22\n"
        "\\qc\\b PROCEDURE NOTE - MEDIAL BRANCH BLOCK\\b0\\par\n"
        "Patient:\\tab DOE, JANE Q\\par\n"
        "DOB:\\tab 03/14/1961\\tab MRN:\\tab 4455123\\par\n"
        "Date of Service:\\tab 10/07/2025\\par\n"
        "\\b Procedure:\\b0  Right L4-5 and L5-S1 medial branch blocks (block #1)\\par\n"
        "Lidocaine 2%, 0.5 mL at each target. No steroid. Temp 36.8\\'b0C.\\line Needles out.\\par\n"
        "}")


def test_only_rtf_source_is_read_as_rtf():
    assert looks_like_rtf(NOTE)
    assert not looks_like_rtf("Patient: Doe\\par")


def test_codes_become_spaces_one_character_for_one():
    text = rtf_as_text(NOTE)
    assert len(text) == len(NOTE)
    assert "\\" not in text and "{" not in text and "Times New Roman" not in text
    lines = [line.strip() for line in text.splitlines()]
    assert "Patient:     DOE, JANE Q" in lines
    assert "Procedure:     Right L4-5 and L5-S1 medial branch blocks (block #1)" in lines


def test_a_par_with_no_line_break_after_it_breaks_the_line_and_an_escape_is_its_character():
    text = rtf_as_text(NOTE)
    assert "36.8   \u00b0C." in text
    assert "\n     Needles out." in text  # "\\line " then the text on a line of its own


def test_facts_of_an_rtf_note(extract_text):
    facts = extract_text(NOTE).facts
    assert [f.value for f in facts if f.kind == "service_date"] == ["2025-10-07"]
    assert [f.text for f in facts if f.kind == "patient_name"] == ["DOE, JANE Q"]
    joints = sorted(j for f in facts if f.kind == "level" for j in f.value["joints"])
    assert joints == ["L4-L5", "L5-S1"]
    assert all(NOTE[f.start:f.end] == f.text for f in facts)

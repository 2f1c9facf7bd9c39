"""An unticked checkbox negates what it offers (extractor/checkboxes.py)."""
from __future__ import annotations

import pytest


def test_unticked_boxes_negate_and_ticked_boxes_do_not(extract_text):
    doc = extract_text("Date of Service: 4/8/26\nSide:     [x] Left   [ ] Right   [ ] Bilateral\n"
                       "Imaging:  [x] Fluoroscopy   [ ] CT   [ ] Ultrasound\nRight knee pain noted.\n")
    sides = {(f.text, f.negated) for f in doc.facts if f.kind == "side"}
    assert ("Left", False) in sides and ("Right", True) in sides and ("Bilateral", True) in sides
    imaging = {f.value: f.negated for f in doc.facts if f.kind == "imaging"}
    assert imaging == {"fluoroscopy": False, "ct": True, "ultrasound": True}
    # a line without boxes is untouched
    assert any(f.text == "Right" and not f.negated for f in doc.facts if f.kind == "side" and f.start > 100)


def test_a_question_answered_no_by_its_boxes_is_negated(extract_text):
    doc = extract_text("Date of Service: 3/4/26\n"
                       "Injectate: lidocaine 2% PF, 0.5 mL/nerve (1.5 mL)   Steroid: [ ] yes  [x] no\n"
                       "Sedation:  [X] None\n")
    steroid = [f for f in doc.facts if f.kind == "steroid"]
    assert [(f.text, f.negated) for f in steroid] == [("Steroid", True)]
    anesthetic = [f for f in doc.facts if f.kind == "anesthetic"]
    assert anesthetic and not any(f.negated for f in anesthetic)  # the box answers the steroid question only


def test_a_question_answered_yes_stays_asserted(extract_text):
    doc = extract_text("Date of Service: 3/18/26\nSteroid: [x] yes  [ ] no   (dexamethasone 4 mg)\n")
    assert [(f.text, f.negated) for f in doc.facts if f.kind == "steroid"][0] == ("Steroid", False)


def test_a_box_after_its_item_governs_that_item(extract_text):
    # A template that lists the items first and puts each one's box after it.
    doc = extract_text("DATE OF SERVICE: 02/03/2026\nSIDE:      [ ] Left  [X] Right  [ ] Bilateral\n"
                       "LEVELS:    L3-4 [ ]  L4-5 [X]  L5-S1 [X]\n"
                       "INDEX PAIN: same right low back pain as before the block [X] YES\n")
    levels = {f.text: f.negated for f in doc.facts if f.kind == "level"}
    assert levels == {"L3-4": True, "L4-5": False, "L5-S1": False}
    sides = [(f.text, f.negated) for f in doc.facts if f.kind == "side"]
    assert sides == [("Left", True), ("Right", False), ("Bilateral", True), ("right", False)]


def test_a_label_before_its_colon_is_governed_by_no_box(extract_text):
    doc = extract_text("Date of Service: 3/4/26\nBilateral: L4-5 [ ]  L5-S1 [X]\n")
    assert [(f.text, f.negated) for f in doc.facts if f.kind == "side"] == [("Bilateral", False)]
    assert {f.text: f.negated for f in doc.facts if f.kind == "level"} == {"L4-5": True, "L5-S1": False}


def test_ballot_boxes_of_a_typed_paper_form(extract_text):
    doc = extract_text("Date of Service: 03/05/2026\n  Side:        ☐ Right   ☐ Left   ☑ Bilateral\n"
                       "  Steroid:     ☐ Yes  ☑ No\n  Levels:      ☐ L3-4   ☑ L4-5   ☒ L5-S1\n")
    assert [(f.text, f.negated) for f in doc.facts if f.kind == "side"] == [
        ("Right", True), ("Left", True), ("Bilateral", False)]
    assert [(f.text, f.negated) for f in doc.facts if f.kind == "steroid"] == [("Steroid", True)]
    assert {f.text: f.negated for f in doc.facts if f.kind == "level"} == {"L3-4": True, "L4-5": False, "L5-S1": False}


def test_a_label_whose_ticked_box_is_none_is_negated(extract_text):
    doc = extract_text("Date of Service: 03/05/2026\n  Steroid:     ☐ Dexamethasone   ☐ Triamcinolone   ☑ NONE\n")
    assert [(f.text, f.negated) for f in doc.facts if f.kind == "steroid"] == [
        ("Steroid", True), ("Dexamethasone", True), ("Triamcinolone", True)]
    doc = extract_text("Date of Service: 03/05/2026\n  Steroid: [x] Dexamethasone 4 mg [ ] none\n")
    assert [(f.text, f.negated) for f in doc.facts if f.kind == "steroid"] == [("Steroid", False), ("Dexamethasone", False)]


GRID_PIPES = """Levels / sides (X = done):

   Level   | Right | Left
   --------+-------+------
   L3-L4   |       |
   L4-L5   |   X   |
   L5-S1   |   X   |  X
"""

GRID_SPACES = """SIDE / LEVEL      Right     Left
  L3-4
  L4-5              \u2713
  L5-S1             \u2713         \u2713
"""


GRID_DASHES = """Levels treated (X = lesioned, — = not treated):
  Level   | Left | Right
  L3-L4   |  —   |  —
  L4-L5   |  —   |  X
  L5-S1   |  X   |  X
"""


@pytest.mark.parametrize("text", [GRID_PIPES, GRID_SPACES, GRID_DASHES])
def test_a_check_mark_grid_gives_each_level_row_its_marked_sides(extract_text, text):
    levels = [(f.value["joints"], f.value["side"], f.negated) for f in extract_text(text).facts if f.kind == "level"]
    assert levels == [(["L3-L4"], None, True), (["L4-L5"], "right", False), (["L5-S1"], "bilateral", False)]


def test_a_level_and_side_table_gives_each_level_its_side(extract_text):
    text = "LEVELS / SIDES:\n   Level  | Side\n   L4-5   | Right\n   L5-S1  | Bilateral\n\nL3-4 facets were not tender.\n"
    levels = [(f.value["joints"], f.value["side"]) for f in extract_text(text).facts if f.kind == "level"]
    assert levels == [(["L4-L5"], "right"), (["L5-S1"], "bilateral"), (["L3-L4"], None)]


def test_a_level_in_a_sentence_under_a_side_header_keeps_its_own_side(extract_text):
    text = "Side    Right   Left\nL4-5 was tender on palpation, worse on the left.\n"
    (level,) = [f for f in extract_text(text).facts if f.kind == "level"]
    assert not level.negated


def test_a_ticked_relief_category_is_the_result_and_its_ticked_duration_how_long_it_held(extract_text):
    text = ("1. Best relief of your usual pain after the block:\n"
            "     [ ] <50%     [ ] 50-79%     [X] >=80%\n\n"
            "2. How long did that relief last?\n"
            "     [ ] <1 h     [X] 1-3 h     [ ] >3 h\n\n"
            "We proceed to ablation only if both blocks give >=80% relief.\n")
    reliefs = [(f.text, f.value.get("threshold", False), f.value["duration_hours"])
               for f in extract_text(text).facts if f.kind == "relief"]
    assert reliefs[0] == (">=80%", False, 1.0)
    assert reliefs[-1][1] is True  # the bar in a sentence stays a bar

"""An unticked checkbox negates what it offers (extractor/checkboxes.py)."""
from __future__ import annotations


def test_unticked_boxes_negate_and_ticked_boxes_do_not(extract_text):
    doc = extract_text("Date of Service: 4/8/26\nSide:     [x] Left   [ ] Right   [ ] Bilateral\n"
                       "Imaging:  [x] Fluoroscopy   [ ] CT   [ ] Ultrasound\nRight knee pain noted.\n")
    sides = {(f.text, f.negated) for f in doc.facts if f.kind == "side"}
    assert ("Left", False) in sides and ("Right", True) in sides and ("Bilateral", True) in sides
    imaging = {f.value: f.negated for f in doc.facts if f.kind == "imaging"}
    assert imaging == {"fluoroscopy": False, "ultrasound": True}
    # a line without boxes is untouched
    assert any(f.text == "Right" and not f.negated for f in doc.facts if f.kind == "side" and f.start > 100)

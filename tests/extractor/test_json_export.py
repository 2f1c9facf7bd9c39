"""An app's JSON export read as labelled lines (extractor/json_export.py)."""
from __future__ import annotations

from extractor.json_export import json_as_labels, looks_like_json

EXPORT = """{
  "record_type": "procedure_note",
  "app": {"name": "SpineTrack Mobile", "version": "4.12.0"},
  "patient": {"name": "Linh Nguyen", "dob": "1971-05-09", "mrn": "88213407"},
  "dos": "2026-04-21",
  "facility": {"name": "Riverbend Surgery Center", "type": "ASC"},
  "procedure": {
    "name": "lumbar medial branch block",
    "side": "right",
    "levels": ["L4-5", "L5-S1"],
    "local_anesthetic": "bupivacaine 0.5%",
    "steroid": "none"
  },
  "addenda": [
    {"date": "2026-04-22", "author": "Jen Alcott, RN", "text": "Diary reviewed by phone."}
  ]
}
"""


def test_only_a_keyed_object_or_list_of_them_is_an_export():
    assert looks_like_json(EXPORT)
    assert looks_like_json('[{"dos": "2026-04-21"}]')
    assert not looks_like_json("{X:21} Patient tolerated the procedure.")
    assert not looks_like_json("Patient: Linh Nguyen\n{\"a\": 1}")


def test_every_offset_still_indexes_the_source():
    text = json_as_labels(EXPORT)
    assert len(text) == len(EXPORT)
    assert text.index("Linh Nguyen") == EXPORT.index("Linh Nguyen")


def test_header_fields_get_their_own_labelled_lines():
    lines = [line.strip() for line in json_as_labels(EXPORT).splitlines()]
    assert "name:   Linh Nguyen" in lines
    assert "dob:   1971-05-09" in lines
    assert "dos:   2026-04-21" in lines


def test_a_name_or_date_outside_the_header_is_no_label():
    text = json_as_labels(EXPORT)
    assert "name    SpineTrack Mobile" in text  # the app's name
    assert "name    Riverbend Surgery Center" in text  # the facility's
    assert "name    lumbar medial branch block" in text  # the procedure's
    assert "date    2026-04-22" in text  # an addendum's date is not the note's


def test_keys_and_enumerations_read_as_words_and_lists_keep_their_commas():
    text = json_as_labels(EXPORT)
    assert "record type:   procedure note" in text
    assert "local anesthetic:   bupivacaine 0.5%" in text
    assert "levels:    L4-5 ,  L5-S1" in text


def test_a_record_in_a_list_stays_one_line():
    record = [line for line in json_as_labels(EXPORT).splitlines() if "2026-04-22" in line]
    assert len(record) == 1 and "Diary reviewed by phone." in record[0]


def test_a_minified_export_still_breaks_its_header_fields():
    text = json_as_labels('{"patient":{"name":"Linh Nguyen","dob":"1971-05-09"},"dos":"2026-04-21"}')
    lines = [line.strip() for line in text.splitlines()]
    assert lines == ["patient:", "name:  Linh Nguyen", "dob:  1971-05-09", "dos:  2026-04-21"]


def test_facts_of_an_export(extract_text):
    facts = extract_text(EXPORT).facts
    names = [f.text for f in facts if f.kind == "patient_name"]
    assert names == ["Linh Nguyen"]
    assert [f.value for f in facts if f.kind == "service_date"] == ["2026-04-21"]
    levels = sorted(j for f in facts if f.kind == "level" for j in f.value["joints"])
    assert levels == ["L4-L5", "L5-S1"]
    steroid = [f for f in facts if f.kind == "steroid"]
    assert steroid and all(f.negated for f in steroid)


def test_each_encounter_of_an_exported_list_has_its_own_header():
    text = json_as_labels('[\n  {"dos": "2026-04-21", "app": {"name": "SpineTrack"}},\n'
                          '  {"dos": "2026-05-05", "levels": ["L4-5", "L5-S1"]}\n]\n')
    lines = [line.strip() for line in text.splitlines()]
    assert "dos:   2026-04-21" in lines and "dos:   2026-05-05" in lines
    assert "name    SpineTrack" in text

"""An HL7 v2 results message saved as text reads as labelled lines (extractor/hl7_export.py)."""
from __future__ import annotations

from extractor.hl7_export import hl7_as_labels, looks_like_hl7

MESSAGE = (
    "MSH|^~\\&|HST_PATHWAYS|LAKESHORE_SC|NSP_IF|NSP_PAIN|20260127161522||ORU^R01^ORU_R01|LSC-1|P|2.5.1\n"
    "PID|1||118204^^^NSP^MR~A0048291^^^LSC^AN||PRUITT^DELORES^J^^^^L||19580214|F\n"
    "OBR|1|NSP-ORD-77315|LSC-CASE-04|64493^Lumbar medial branch block^CPT4|||20260127083200||F\n"
    "OBX|7|ST|STER^Steroid^L||None||||||F\n"
    "OBX|12|NM|REL-PCT^Peak relief, index pain^L||90|%|||||F\n"
    "NTE|1|L|RN call 01/27/26 1540 (J. Tran RN): pt reports 90% relief after the block, lasted ~3 hrs.\n"
)


def test_a_message_is_recognised_only_with_its_header_and_segments():
    assert looks_like_hl7(MESSAGE)
    assert not looks_like_hl7("Plan: send results to MSH|inbox.\nOBX noted.\n")


def test_segments_read_as_labels_one_character_for_one():
    text = hl7_as_labels(MESSAGE)
    assert len(text) == len(MESSAGE)
    lines = text.split("\n")
    # the record number of type MR (not the account number), the name and the birth date under labels
    assert "MRN: 118204" in lines[1] and "A0048291" not in lines[1]
    assert "Patient: PRUITT,DELORES J " in lines[1] and "DOB: 19580214" in lines[1]
    assert lines[3].strip() == "Steroid:   None"
    assert lines[4].strip() == "Peak relief, index pain:   90 %"
    assert "|" not in lines[5] and "RN call 01/27/26 1540 (J. Tran RN)" in lines[5]


def test_an_hl7_message_gives_identity_and_the_order_date_as_its_date_of_service(extract_text):
    doc = extract_text(MESSAGE)
    facts = {(f.kind, f.text): f for f in doc.facts}
    assert facts[("mrn", "118204")].value == "118204"
    assert facts[("patient_name", "PRUITT^DELORES^J")].value == {"first": "Delores", "middle": "J", "last": "Pruitt"}
    assert facts[("dob", "19580214")].value == "1958-02-14"
    assert facts[("service_date", "20260127")].start == MESSAGE.index("20260127083200")
    assert facts[("steroid", "Steroid")].negated
    assert ("relief", "90% relief") in facts

"""Dated summaries are history and plan sections are plans (extractor/timeline.py)."""
from __future__ import annotations

import pytest

from extractor.timeline import own_date

RFA_NOTE = """Date of Service: 11/04/2025
PROCEDURE: Left L4-5 and L5-S1 radiofrequency ablation under fluoroscopy.

INDICATION
Diagnostic blocks:
 - MBB #1 09/30/2025, lidocaine 2%: 90% relief x 2.5 h.
 - MBB #2 10/14/2025, bupivacaine 0.5%: 80% relief x 6 h.
NRS 6/10 today.

PLAN: Right L4-5 RFA in two weeks with fluoroscopy. Continue HEP.
"""


def _facts(doc, kind):
    return [f for f in doc.facts if f.kind == kind]


def test_statements_after_a_past_date_are_historical(extract_text):
    doc = extract_text(RFA_NOTE)
    relief = _facts(doc, "relief")
    assert [(f.value["percent"], f.historical) for f in relief] == [(90.0, True), (80.0, True)]
    agents = _facts(doc, "anesthetic")
    assert [(f.value["agent"], f.historical) for f in agents] == [("lidocaine", True), ("bupivacaine", True)]
    dates = [f for f in _facts(doc, "date") if f.value < "2025-11-04"]
    assert dates and all(f.historical for f in dates)


def test_the_notes_own_statements_stay_current(extract_text):
    doc = extract_text(RFA_NOTE)
    procedure = _facts(doc, "procedure")[0]
    assert procedure.value == "facet_rfa" and procedure.asserted
    assert [f.historical for f in _facts(doc, "pain_score")] == [False]
    imaging = _facts(doc, "imaging")
    assert imaging[0].asserted  # the ablation's own guidance


def test_plan_section_plans_procedures_but_not_continued_care(extract_text):
    doc = extract_text(RFA_NOTE)
    plan = [f for f in doc.facts if f.section == "plan"]
    by_kind = {f.kind: f for f in plan}
    assert by_kind["procedure"].hypothetical and by_kind["level"].hypothetical and by_kind["side"].hypothetical
    assert by_kind["imaging"].hypothetical
    assert not by_kind["conservative_care"].hypothetical  # "Continue HEP" is current care


def test_a_later_date_is_not_history(extract_text):
    doc = extract_text("Date of Service: 12/02/2025\nPain diary reviewed by phone 12/03/2025: 90% relief for 45 minutes.\n")
    relief = _facts(doc, "relief")
    assert relief and not relief[0].historical


def test_a_sentence_break_ends_the_dates_reach(extract_text):
    doc = extract_text("Date of Service: 12/02/2025\nSeen in clinic 11/04/2025. Today bilateral L4-5 medial branch block.\n")
    levels = _facts(doc, "level")
    assert levels and not levels[0].historical


PA_REQUEST = """BLUE RIVER HEALTH PLAN
Utilization Management | Prior Authorization Request - Spine Procedures
Date: 03/02/2026

SECTION 3 - SERVICE REQUESTED
Procedure: Lumbar radiofrequency ablation of the right L4-5 and L5-S1 facet joint nerves
Place of service: Riverbend Surgery Center (POS 24)
Tentative date: 03/23/2026

SECTION 4 - CLINICAL CRITERIA
Block #1 02/02/2026: lidocaine 2%, 90% relief x 2 hr.
"""


def test_a_request_forms_procedure_statement_is_a_plan(extract_text):
    doc = extract_text(PA_REQUEST)
    rfa = [f for f in _facts(doc, "procedure") if f.value == "facet_rfa"]
    assert rfa and all(f.hypothetical for f in rfa)
    assert all(f.hypothetical for f in _facts(doc, "level"))
    assert all(f.hypothetical for f in _facts(doc, "setting") if f.section == "procedure")
    # The block it cites stays history, not a plan.
    relief = _facts(doc, "relief")
    assert relief and relief[0].historical and not relief[0].hypothetical
    # The form's date is its service date; the tentative date is not.
    assert [f.value for f in _facts(doc, "service_date")] == ["2026-03-02"]


def test_an_op_note_that_mentions_an_authorization_request_is_not_a_request(extract_text):
    doc = extract_text("PROCEDURE NOTE\nDate of Service: 03/23/2026\n"
                       "Procedure: Right L4-5 and L5-S1 radiofrequency ablation under fluoroscopy.\n"
                       "The authorization request was approved on 03/10/2026.\n")
    rfa = [f for f in _facts(doc, "procedure") if f.value == "facet_rfa"]
    assert rfa and not rfa[0].hypothetical


def test_a_procedure_done_on_an_earlier_date_is_history(extract_text):
    doc = extract_text("Date of Service: June 2, 2026\n\nSUBJECTIVE:\nShe had bilateral L4-5 and L5-S1 lumbar "
                       "facet RFA with me on 05/16/2023 and got about 70% relief.\n")
    (procedure,) = _facts(doc, "procedure")
    assert procedure.value == "facet_rfa" and procedure.historical


def test_a_procedure_statement_dated_after_the_note_date_stays_current(extract_text):
    # Dictated three days later: "performed on" names the procedure's own day.
    doc = extract_text("Date of Service: 10/05/2026\nPROCEDURE: Left L4-5 RFA performed on 10/02/2026.\n")
    (procedure,) = _facts(doc, "procedure")
    assert procedure.asserted


LETTER = """Date: June 2, 2026

Pinecrest Health Plan
Attn: Utilization Management

Requested services: right L4-5 radiofrequency ablation, CPT 64635

Dear Medical Director,

Two diagnostic blocks were done:
  - MBB #1 - May 5, 2026: lidocaine 2%, 90% relief lasting 2 hours.

Sincerely,
Gideon Farraday, MD
"""


def test_a_request_letters_requested_service_is_planned_and_its_body_is_not(extract_text):
    doc = extract_text(LETTER)
    requested = [f for f in _facts(doc, "procedure") if f.value == "facet_rfa"]
    assert requested and all(f.hypothetical for f in requested)
    (relief,) = _facts(doc, "relief")
    assert relief.value["percent"] == 90.0 and not relief.hypothetical
    assert not any(f.section == "plan" for f in doc.facts), "a health plan's name is no plan section"


COVER_SHEET = """BAYFRONT SPINE & PAIN ASSOCIATES
Tel 360-555-0182    Fax 360-555-0187
==============================================================
        MEDICAL RECORDS RELEASE  -  FAX COVER SHEET
==============================================================
Date:          03/27/2026
Patient:       ORTIZ REYES, MARIA G
Records enclosed:
  [X] Procedure report: bilateral lumbar medial branch block #1, 03/05/2026
  [X] Procedure report: bilateral lumbar medial branch block #2, 03/19/2026
"""


def test_a_fax_cover_sheets_enclosed_procedures_are_history(extract_text):
    doc = extract_text(COVER_SHEET)
    procedures = _facts(doc, "procedure")
    assert len(procedures) == 2 and all(p.historical for p in procedures)
    assert all(f.historical for f in _facts(doc, "level") + _facts(doc, "block_number"))


def test_a_fax_transmittal_of_medical_records_lists_history(extract_text):
    # The enclosure's date follows the procedure on its line; the title names the transmittal.
    doc = extract_text(COVER_SHEET.replace("MEDICAL RECORDS RELEASE  -  FAX COVER SHEET",
                                           "FAX TRANSMITTAL -- RELEASE OF MEDICAL RECORDS"))
    procedures = _facts(doc, "procedure")
    assert len(procedures) == 2 and all(p.historical for p in procedures)


def test_a_procedure_note_is_no_cover_sheet(extract_text):
    doc = extract_text(COVER_SHEET.replace("MEDICAL RECORDS RELEASE  -  FAX COVER SHEET", "PROCEDURE NOTE")
                       .replace("Records enclosed:", "Procedures:"))
    assert not any(p.historical for p in _facts(doc, "procedure"))


CONSULT_WITH_PLAN_FIELDS = """Date of Service: 2026-05-12
ASSESSMENT
Dx 1: Facet-mediated pain, bilateral L3-4 and L4-5

PLAN
Procedure: bilateral L3-4 and L4-5 medial branch blocks (L2, L3 and L4 medial branches bilaterally)
Block #1: lidocaine 2%
Guidance: fluoroscopy
Continue: HEP, diclofenac gel

Procedure: none today.
"""


def test_fields_right_under_a_plan_header_belong_to_the_plan(extract_text):
    doc = extract_text(CONSULT_WITH_PLAN_FIELDS)
    planned = [f for f in doc.facts if f.kind in ("procedure", "level", "side", "anesthetic", "imaging")
               and f.start > doc.text.index("PLAN")]
    assert planned and all(f.hypothetical for f in planned)
    assert [f.text for f in doc.facts if f.kind == "level" and not f.hypothetical] == ["L3-4", "L4-5"]  # the assessment
    care = [f for f in doc.facts if f.kind == "conservative_care"]
    assert care and not any(f.hypothetical for f in care)


def test_fields_after_a_blank_line_are_not_the_plans(extract_text):
    doc = extract_text("Date of Service: 2026-05-12\nPLAN\nFollow up in 2 weeks.\n\n"
                       "Procedure: right L4-5 medial branch block under fluoroscopy\n")
    level = next(f for f in doc.facts if f.kind == "level")
    assert level.asserted


CORRECTED_NOTE = """Date of Service: 09/08/2026
PROCEDURE: Left L2-3, L4-5 and L5-S1 lumbar facet medial branch blocks
TECHNIQUE: left L2, L3 and L4 medial branches and L5 dorsal ramus, under fluoroscopy.

ADDENDUM 09/09/2026: correction - the levels were L3-4, L4-5 and L5-S1 (left), not
L2-3. Dictation error only.
"""


def test_a_correction_withdraws_the_level_it_names(extract_text):
    from extractor.timeline import CORRECTION_SECTION

    doc = extract_text(CORRECTED_NOTE)
    l23 = [f for f in doc.facts if f.kind == "level" and f.value["joints"] == ["L2-L3"]]
    assert len(l23) == 2 and all(f.negated for f in l23)
    stated = [f.text for f in doc.facts if f.section == CORRECTION_SECTION and f.kind == "level" and f.asserted]
    assert stated == ["L3-4", "L4-5", "L5-S1"]
    body = [f.text for f in doc.facts if f.kind == "level" and f.section == "procedure" and f.asserted]
    assert body == ["L4-5", "L5-S1"]


def test_a_correction_whose_cue_ends_the_sentence_keeps_a_joint_it_restates(extract_text):
    """"the levels treated were L4-5 and L5-S1, not L3-4 and L4-5 as dictated": L3-4 is withdrawn everywhere,
    L4-5 is not (the correction names it among the levels done)."""
    from extractor.timeline import CORRECTION_SECTION

    doc = extract_text("Date of Service: 09/22/2026\nPROCEDURE: Bilateral L3-4 and L4-5 lumbar facet radiofrequency "
                       "ablation\n\n--- ADDENDUM 09/23/26 ---\nAddendum: the levels treated were L4-5 and L5-S1, not "
                       "L3-4 and L4-5 as dictated.\n")
    levels = [(f.text, f.negated) for f in doc.facts if f.kind == "level"]
    assert levels == [("L3-4", True), ("L4-5", False), ("L4-5", False), ("L5-S1", False), ("L3-4", True),
                      ("L4-5", True)]
    stated = [f.text for f in doc.facts if f.section == CORRECTION_SECTION and f.kind == "level" and f.asserted]
    assert stated == ["L4-5", "L5-S1"]


def test_an_addendum_that_gives_a_correction_as_its_reason_corrects_in_its_later_sentences(extract_text):
    """The cue opens the addendum ("Reason: correction of treated levels.") and the sentences after it take
    L3-4 back ("L3-4 was NOT treated.") and say what was done."""
    from extractor.timeline import CORRECTION_SECTION

    doc = extract_text("Date of Service: 07/28/2026\nPROCEDURE: Right L3-4 and L4-5 lumbar radiofrequency ablation\n"
                       "Levels: Right L3-4, L4-5\n\nADDENDUM  07/30/2026 14:05   Ingrid Solberg, DO\n"
                       "Reason: correction of treated levels (dictation template error).\nThe procedure and levels "
                       "lines above were carried forward in error. L3-4 was NOT treated. The levels lesioned\n"
                       "on 07/28/2026 were right L4-5 and L5-S1.\n")
    assert all(f.negated for f in doc.facts if f.kind == "level" and f.value["joints"] == ["L3-L4"])
    stated = [f.text for f in doc.facts if f.section == CORRECTION_SECTION and f.kind == "level" and f.asserted]
    assert stated == ["L4-5", "L5-S1"]


def test_a_note_without_a_correction_keeps_its_levels(extract_text):
    doc = extract_text(CORRECTED_NOTE.split("ADDENDUM")[0] + "ADDENDUM 09/09/2026: patient called, doing well.\n")
    assert all(not f.negated for f in doc.facts if f.kind == "level")


def test_a_procedure_done_on_a_past_date_on_a_wrapped_line_is_history(extract_text):
    doc = extract_text("Date of Service: 3/31/26\nFacet history:\n- right L4-5/L5-S1 RF ablation (L3, L4 medial branches and L5 dorsal ramus) was\n"
                       "  done on 2/18/25.\n- RFA was put off when he needed a knee replacement.\n")
    procedures = [f for f in doc.facts if f.kind == "procedure"]
    assert [f.asserted for f in procedures] == [False, False]
    assert procedures[0].historical and procedures[1].negated


def test_what_was_performed_under_what_was_planned_is_no_plan(extract_text):
    doc = extract_text("Date of Service: 05/14/2026\nPLANNED PROCEDURE: Bilateral L4-5 and L5-S1 radiofrequency ablation\n"
                       "PROCEDURE PERFORMED: Radiofrequency ablation, right L4-5 and L5-S1 and left L4-5.\n")
    performed = [f for f in doc.facts if f.kind in ("procedure", "level") and f.start > doc.text.index("PERFORMED")]
    assert performed and all(f.asserted for f in performed)
    planned = [f for f in doc.facts if f.kind == "procedure" and f.start < doc.text.index("PERFORMED")]
    assert planned and all(f.hypothetical for f in planned)


@pytest.mark.parametrize("text, expected", [
    # a date of service wins wherever it is
    ("Op note\nMBB #1 2026.05.12 lidocaine 90%\nDate of Service: 06/16/2026\n", "2026-06-16"),
    # no date of service: a date in the title lines
    ("RIGHT LUMBAR MEDIAL BRANCH BLOCK #1 - 2026.05.12\n\nAspirin held since 5.7.26.\n", "2026-05-12"),
    # then the footer line, not a history date in the body
    ("Operative Note\n\n\n\nMBBs: #1 2026.05.12 90%\n\nLakeshore | Doe, Jane | 16-Jun-2026 0700h | Op note 1 of 1\n",
     "2026-06-16"),
    # a print stamp on the last line is not the note's date
    ("Operative Note\n\n\n\nSeen 05/12/2026 for block #1.\n\nPrinted 06/20/2026 2:09 PM  Page 1 of 1\n", "2026-05-12"),
])
def test_a_notes_own_date(extract_text, text, expected):
    from extractor.timeline import own_date

    doc = extract_text(text)
    assert own_date(doc.facts, doc.text) == expected


def test_a_corrected_date_of_service_is_the_notes_own_date(extract_text):
    from extractor.timeline import own_date

    note = ("Date of Service: 02/24/2026\nPROCEDURE: Bilateral L3-4 and L4-5 medial branch block #2.\n\n"
            "ADDENDUM 03/11/2026\nCorrection of date of service: this block was performed on 03/10/2026,\n"
            "not on 02/24/2026 as shown in the header.\nCorrected Date of Service: 03/10/2026\n")
    doc = extract_text(note)
    assert own_date(doc.facts, doc.text) == "2026-03-10"
    plain = extract_text(note.replace("Corrected Date of Service", "Date of Service"))
    assert own_date(plain.facts, plain.text) == "2026-02-24"


def test_dictation_that_corrects_itself_withdraws_the_word_before_the_cue(extract_text):
    """extractor/timeline.py mark_spoken_corrections: "X, correction, Y" keeps Y and withdraws only that X."""
    doc = extract_text("PROCEDURE: Left lumbar medial branch block number one at L3-4, correction, L4-5\n"
                       "and L5-S1. The skin over the right, scratch that, left side was prepped. We injected\n"
                       "0.5 mL of bupivacaine, correction, lidocaine 2 percent. History: prior L3-4 injection.\n")
    spoken = [(f.text, f.negated) for f in doc.facts if f.kind == "level" and f.start < doc.text.index("History")]
    assert spoken == [("L3-4", True), ("L4-5", False), ("L5-S1", False)]
    sides = [(f.text, f.negated) for f in doc.facts if f.kind == "side"]
    assert ("right", True) in sides and ("left", False) in sides[1:]
    agents = {f.value["agent"]: f.negated for f in doc.facts if f.kind == "anesthetic"}
    assert agents == {"bupivacaine": True, "lidocaine": False}
    later = [f for f in doc.facts if f.kind == "level" and f.start > doc.text.index("History")]
    assert later and not later[0].negated  # only the spoken mention is withdrawn


def test_no_steroid_before_a_colon_and_a_number_does_not_negate_the_relief(extract_text):
    """context_rules.json: a colon or comma before a percentage ends a negation's scope."""
    doc = extract_text("INDICATIONS FOR PROCEDURE:\n- MBB #1, 02/17/2026, 2% lidocaine, no steroid: 90% relief lasting 5 hours.\n"
                       "- MBB #2, 03/10/2026, bupivacaine, no steroid, 85% relief lasting 7 hours.\n")
    reliefs = [f for f in doc.facts if f.kind == "relief"]
    assert len(reliefs) == 2 and not any(f.negated for f in reliefs)
    assert all(f.negated for f in doc.facts if f.kind == "steroid")
    assert {f.section for f in reliefs} == {"indication"}


def test_a_letter_spaced_cover_sheet_title_is_a_cover_sheet(extract_text):
    doc = extract_text(COVER_SHEET.replace("MEDICAL RECORDS RELEASE  -  FAX COVER SHEET",
                                           "            F A X    C O V E R    S H E E T"))
    procedures = _facts(doc, "procedure")
    assert len(procedures) == 2 and all(p.historical for p in procedures)


CHART_PRINT = """ST. ALDHELM REGIONAL MEDICAL CENTER  *  CHART PRINT  *  ENCOUNTER DOCUMENTATION
Patient: DOE, JANE Q   MRN 4455123   DOB 03/14/1961
Printed 11/10/2025 14:22 by RODAS, JULIA (HIM - Release of Information)    Page 1 of 3
================================================================================

>>> ENCOUNTER: 10/06/2025  PROCEDURE  Dept: PAIN PROCEDURE SUITE, HOPD (POS 22)
Date of Service: 10/06/2025      Attending: Brandt, Elise K, MD
PROCEDURE: Left L3-4 and L4-5 medial branch blocks, diagnostic block #1, under fluoroscopy.
"""


def test_a_chart_prints_release_of_information_stamp_is_no_cover_sheet(extract_text):
    # The print stamp names the office that released the chart; the encounters are the records themselves.
    doc = extract_text(CHART_PRINT)
    assert _facts(doc, "procedure") and not any(p.historical for p in _facts(doc, "procedure"))
    assert not any(f.historical for f in _facts(doc, "level"))


def test_a_fax_banners_date_is_not_the_notes_own(extract_text):
    # "03/05/2026 09:14 ... P. 001/002" is when the fax went out; "Date of Serv ice" (split by OCR) is
    # not read as a cue, so the note's date is its first other date.
    doc = extract_text("03/05/2026 09:14  5550148820     NORTHGATE PAIN & SPINE        P. 001/002\n\n"
                       "NORTHGATE PAIN & SPINE -- PROCEDURE NOTE\nPatient Name: Doe, Jane Q       MRN: 4455123\n"
                       "DOB: 03/14/1961        Date of Serv ice: 03/03/2026\n\n"
                       "Procedure: Bilateral L4-5 medial branch blocks, diagnostic block #1, under fluoroscopy.\n"
                       "Diary review by phone 03/04/2026.\nHelena Marchetti, MD\n")
    assert own_date(doc.facts, doc.text) == "2026-03-03"


COPIED = """PROCEDURE NOTE - RADIOFREQUENCY ABLATION
Patient: Doe, Jane Q   DOB: 03/14/1961   MRN: 4455123
Date of Service: 05/13/2025

PROCEDURE: Right L4-5 radiofrequency ablation of the R L3 and L4 medial branches.

Prior note (copied forward):
------------------------------------------------------------------------
Date of Service: 03/25/2025
PROCEDURE: Right L4-5 medial branch block, diagnostic block #1, lidocaine 2%.
About 90% relief in recovery.
------------------------------------------------------------------------

TECHNIQUE: After lesioning, dexamethasone 2 mg injected at each site.
"""


def test_a_prior_note_copied_forward_is_history_and_the_note_goes_on_after_it(extract_text):
    doc = extract_text(COPIED)
    copied_at, closing_at = COPIED.index("Prior note"), COPIED.rindex("-----")
    inside = [f for f in doc.facts if copied_at < f.start < closing_at and f.kind != "patient_name"]
    assert inside and all(f.historical for f in inside)
    assert not any(f.historical for f in doc.facts if f.start > closing_at)
    assert not _facts(doc, "procedure")[0].historical


def test_a_late_entry_is_dated_by_the_day_it_documents(extract_text):
    doc = extract_text("BAYSIDE PAIN & SPINE - PROCEDURE NOTE\n*** LATE ENTRY for 03/10/2026 ***\n\n"
                       "Patient: Doe, Jane Q      MRN: 4455123\nDate: 03/13/2026\n\n"
                       "PROCEDURE PERFORMED 03/10/2026\nLeft L5-S1 medial branch block, diagnostic block #1.\n")
    assert own_date(doc.facts, doc.text) == "2026-03-10"


FAXED_NOTE = """07/28/2026 16:05   FROM: SBRMC PAIN PROC UNIT   TO: 4125550133   P.001/002
F A X   C O V E R   S H E E T
Re:    PETRAKIS, LUCILLE M   (MRN H00736152)
Enclosed: Procedure note - bilateral L5-S1 radiofrequency ablation

07/28/2026 16:05   FROM: SBRMC PAIN PROC UNIT   TO: 4125550133   P.002/002
PROCEDURE NOTE - RADIOFREQUENCY ABLATION
Patient Name: PETRAKIS, LUCILLE M
PROCEDURE: Bilateral L5-S1 radiofrequency ablation under fluoroscopy.
"""


def test_a_fax_cover_sheet_ends_at_the_faxs_next_page(extract_text):
    # The cover sheet lists the note it encloses (history); the note on the next page is the record itself.
    doc = extract_text(FAXED_NOTE)
    rfa = [(f.start < FAXED_NOTE.index("P.002"), f.historical) for f in _facts(doc, "procedure")]
    assert (True, True) in rfa and (False, False) in rfa


def test_a_released_practices_records_stay_history_past_the_cover_page(extract_text):
    released = FAXED_NOTE.replace("F A X   C O V E R   S H E E T",
                                  "FAX COVER SHEET - MEDICAL RECORDS\nRecords released per patient authorization.")
    doc = extract_text(released)
    assert all(f.historical for f in _facts(doc, "procedure"))

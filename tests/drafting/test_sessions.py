"""Procedure sessions read from one note: joints per side, gaps and conflicts."""
from __future__ import annotations

import pytest

from drafting.sessions import by_region, summarise
from extractor.pipeline import extract_source
from extractor.sourcetext import SourceText

HEADER = "Patient: Doe, Jane Q\nDOB: 03/14/1961   MRN: 4455123\nDate of Service: 10/02/2026\n\n"


def session_of(body: str):
    return summarise(extract_source(SourceText(HEADER + body, "note.txt"))).session


def summary_of(text: str, name: str):
    """The summary of one whole document (its own header, no HEADER added)."""
    return summarise(extract_source(SourceText(text, name)))


# fmt: off
@pytest.mark.parametrize("statement, procedure, joints", [
    ("PROCEDURE: Bilateral L4-5 and L5-S1 radiofrequency ablation under fluoroscopy.",
     "facet_rfa", {"left": ["L4-L5", "L5-S1"], "right": ["L4-L5", "L5-S1"]}),
    ("PROCEDURE: RF neurotomy of the left L3 and L4 medial branches and left L5 dorsal ramus, fluoroscopic guidance.",
     "facet_rfa", {"left": ["L4-L5", "L5-S1"], "right": []}),
    ("PROCEDURE: Right L4-5 and bilateral L5-S1 medial branch blocks under fluoroscopy.",
     "facet_block", {"left": ["L5-S1"], "right": ["L4-L5", "L5-S1"]}),
    ("PROCEDURE: Right C3, C4 and C5 medial branch blocks, fluoroscopic guidance.",
     "facet_block", {"left": [], "right": ["C3-C4", "C4-C5"]}),
    ("PROCEDURE: L4-5 and L5-S1 facet joint medial branch blocks bilaterally, fluoroscopy.",
     "facet_block", {"left": ["L4-L5", "L5-S1"], "right": ["L4-L5", "L5-S1"]}),
])
# fmt: on
def test_session_joints_per_side(statement, procedure, joints):
    session = session_of(statement)
    assert session.procedure == procedure
    assert session.joints == joints
    assert not session.gaps and not session.conflicts


def test_session_without_side_is_a_gap_and_has_no_joints():
    session = session_of("PROCEDURE: L4-5 and L5-S1 medial branch blocks under fluoroscopy.")
    assert session.joints == {"left": [], "right": []}
    assert [g["id"] for g in session.gaps] == ["missing_side"]


def test_session_statement_and_technique_disagreeing_is_a_conflict():
    session = session_of(
        "PROCEDURE: Left L4-5 medial branch block under fluoroscopy.\n\n"
        "TECHNIQUE: Needles were placed at the bilateral L4-5 levels and lidocaine 2% injected.")
    assert session.joints["left"] == ["L4-L5"]
    assert session.conflicts and len(session.conflicts[0]["evidence"]) >= 2


@pytest.mark.parametrize("statement, reason_word", [
    ("PROCEDURE: Right SI joint injection with Kenalog under fluoroscopy.", "sacroiliac"),
    ("PROCEDURE: Radiofrequency ablation of the right superomedial and inferomedial genicular nerves.", "genicular"),
    ("PROCEDURE: Left L5-S1 transforaminal epidural steroid injection under fluoroscopy.", "epidural"),
    ("PROCEDURE: Bilateral L4-5 radiofrequency ablation under ultrasound guidance.", "ultrasound"),
])
def test_not_facet_procedures_get_no_claim_and_a_reason(statement, reason_word):
    summary = summarise(extract_source(SourceText(HEADER + statement, "note.txt")))
    # No facet session (an ultrasound-only one keeps the joints it names, for a block's criteria).
    assert summary.kind in {"other_procedure", "rfa_note"}
    assert summary.session.procedure not in ("facet_rfa", "facet_block")
    assert any(reason_word in w for w in summary.warnings)


def test_planned_procedure_in_a_consult_is_not_a_session():
    summary = summarise(extract_source(SourceText(
        HEADER + "PLAN: If both blocks are positive we will proceed with bilateral L4-5 RFA.", "consult.txt")))
    assert summary.kind == "clinic_note" and summary.session is None


def test_a_visit_titled_post_blocks_is_not_a_block_session():
    # "POST DIAGNOSTIC BLOCKS" names the visit after the blocks; a block note's own title still states its block.
    after = "FOLLOW-UP VISIT - POST DIAGNOSTIC BLOCKS\n\nBlocks at bilateral L3-4 and L4-5 gave 90% relief.\n"
    assert session_of(after) is None
    own = session_of("DIAGNOSTIC BLOCKS - bilateral L3-4 and L4-5 medial branch blocks\n\nLidocaine 2%.\n")
    assert own is not None and own.procedure == "facet_block"


def test_an_operative_reports_operation_is_its_session():
    # "PREOPERATIVE DIAGNOSIS ... with two positive diagnostic medial branch blocks" is no block done.
    session = session_of("OPERATIVE REPORT\nPREOPERATIVE DIAGNOSIS: Lumbar spondylosis, right L3-4 and L4-5, with two\n"
                         "positive diagnostic medial branch blocks.\n\nOPERATION PERFORMED: Right L3-4 and L4-5 "
                         "radiofrequency neurotomy under fluoroscopic guidance.\n")
    assert session is not None and session.procedure == "facet_rfa"
    assert session.joints == {"left": [], "right": ["L3-L4", "L4-L5"]}


def test_a_procedure_report_named_in_a_sentence_is_no_title():
    # "Procedure report in chart." opens no title section: the next list item is history, not a session.
    summary = summarise(extract_source(SourceText(HEADER + (
        "NEW PATIENT EVALUATION\n\nPrior treatment:\n"
        "  1. Left MBB #1 10/07/2025: 90% relief. Procedure report in chart.\n"
        "  2. Left MBB #2 10/28/2025, same levels, per the outside letter.\n\n"
        "Plan: confirmatory medial branch block, left L4-5 and L5-S1.\n"), "eval.txt")))
    assert summary.session is None


def test_block_relief_reported_later_by_number_belongs_to_that_block(tmp_path):
    from drafting.blocks import collect_blocks
    from drafting.cases import group_cases

    notes = {
        "mbb1.txt": "Date of Service: 09/01/2026\n\nPROCEDURE: Left L4-5 medial branch block #1, fluoroscopy. Lidocaine 2% injected.\n",
        "mbb2.txt": "Date of Service: 09/15/2026\n\nPROCEDURE: Left L4-5 medial branch block #2, fluoroscopy. Bupivacaine 0.5% injected.\n",
        "followup.txt": "Date of Service: 09/20/2026\n\nINTERVAL HISTORY: MBB #2 gave 85% relief lasting 6 hours.\n",
    }
    ident = "Patient: Doe, Jane Q\nDOB: 03/14/1961   MRN: 4455123\n"
    docs = [summarise(extract_source(SourceText(ident + body, name))) for name, body in notes.items()]
    (case,) = group_cases(docs)
    blocks = collect_blocks(case)
    assert [b.date for b in blocks] == ["2026-09-01", "2026-09-15"]
    assert not blocks[0].reliefs
    assert [f.value["percent"] for f, _ in blocks[1].reliefs] == [85.0]


def test_radiology_style_exam_line_is_the_procedure_statement():
    session = session_of(
        "EXAM: CT-guided right L5-S1 medial branch block (#1 of 2), right L4 medial branch and right L5 dorsal ramus.\n\n"
        "TECHNIQUE: Under intermittent CT guidance two needles were placed. Lidocaine 2% 0.5 mL per site.\n")
    assert session.procedure == "facet_block"
    assert session.joints == {"left": [], "right": ["L5-S1"]}


def test_a_procedure_scheduled_after_the_note_is_not_its_session():
    # A nurse's call the day after block #1 books block #2: no procedure was done on the call's date.
    session = session_of(
        "S/p R lumbar MBB #1 yesterday (lido). Pt reports 90% relief x 2 hrs then return to baseline.\n"
        "MBB #2 confirmed 10/15/26. Pt verbalized understanding.\n")
    assert session is None


def test_procedure_log_side_line_applies_to_the_levels_line():
    # Auto-generated logs put the side and the levels on separate key: value lines.
    session = session_of(
        "PROCEDURE LOG\nProcedure: Lumbar facet medial branch block\nBlock Sequence: 1 of 2\n"
        "Laterality: Bilateral\nLevel(s): L3-L4; L4-L5\nGuidance: Fluoroscopy\nMedication: Lidocaine 2% 3 mL\n")
    assert session.procedure == "facet_block"
    assert session.joints == {"left": ["L3-L4", "L4-L5"], "right": ["L3-L4", "L4-L5"]}


def test_checkbox_template_reads_only_the_ticked_boxes():
    session = session_of(
        "PROCEDURE\n[ ] Lumbar medial branch block   [ ] Facet joint (intra-articular) injection   [x] RF ablation\n"
        "Side:     [x] Left   [ ] Right   [ ] Bilateral\nJoints:   [ ] L3-4   [x] L4-5   [x] L5-S1\n"
        "Imaging:  [x] Fluoroscopy   [ ] CT   [ ] Ultrasound\n")
    assert session.procedure == "facet_rfa"
    assert session.joints == {"left": ["L4-L5", "L5-S1"], "right": []}


def test_a_letter_reporting_blocks_is_not_a_session():
    # An outside facility's records summary names the blocks it did; the letter's date is not a block's.
    summary = summarise(extract_source(SourceText(
        "OUTSIDE RECORDS SUMMARY\nDate: 04/20/2026\nRe: Patient: Doe, Jane Q   DOB: 03/14/1961\n\n"
        "Dear Dr. Feldstein,\n\nSummary of diagnostic medial branch blocks (all left side):\n"
        "#1 01/22/2026, left L4 MB + L5 DR, lidocaine 2%: 90% relief for 1.5 h.\n"
        "#2 02/12/2026, left L4 MB + L5 DR, bupivacaine 0.5%: 85% relief for 5 h.\n\n"
        "Sincerely,\n\nHelena Marchetti, MD\n", "letter.txt")))
    assert summary.kind == "clinic_note" and summary.session is None


@pytest.mark.parametrize("heading", ["SUBJECTIVE\n", "Prior interventional treatment:\n"])
def test_blocks_listed_under_a_history_heading_are_not_a_session(heading):
    # A follow-up visit recounts the original blocks; the visit's date is not a block's.
    session = session_of(
        f"{heading}Returns for recurrent axial low back pain.\n"
        "- Diagnostic medial branch blocks, bilateral L4-5 and L5-S1:\n"
        "    MBB #1 on 11/18/2024 with 2% lidocaine: 90% relief lasting ~3 hours.\n"
        "    MBB #2 on 12/09/2024 with 0.5% bupivacaine: 85% relief lasting ~6 hours.\n\n"
        "ASSESSMENT\n1. M47.816 Lumbar spondylosis.\n")
    assert session is None


def test_a_dictated_note_without_headings_takes_its_levels_from_where_the_drug_went():
    session = session_of(
        "Mr. Doe returns today for the first of two diagnostic medial branch blocks for his axial low back pain. "
        "He signed consent.\n\nUsing fluoroscopic guidance the target points were identified. Then half a "
        "milliliter of two percent lidocaine was injected at each of the L2, L3 and L4 medial branches and at the "
        "L5 dorsal ramus bilaterally, which blocks the L3-4, L4-5 and L5-S1 facet joints on the right and left.\n")
    assert session.procedure == "facet_block"
    assert session.joints == {"left": ["L3-L4", "L4-L5", "L5-S1"], "right": ["L3-L4", "L4-L5", "L5-S1"]}


def test_a_correction_without_a_side_keeps_the_statements_side():
    session = session_of("PROCEDURE: Bilateral L3-4 and L4-5 lumbar facet radiofrequency ablation under fluoroscopy.\n\n"
                         "Addendum: the levels treated were L4-5 and L5-S1, not L3-4 and L4-5 as dictated.\n")
    assert session.joints == {"left": ["L4-L5", "L5-S1"], "right": ["L4-L5", "L5-S1"]}


def test_an_addendum_correcting_the_side_gives_the_sessions_side():
    # The note was dictated "left" throughout; a dated addendum says it was the right side.
    session = session_of(
        "PROCEDURE: Radiofrequency ablation, LEFT L4-5 and L5-S1 facet joints\n"
        "           (left L3 and L4 medial branches, left L5 dorsal ramus)\nGUIDANCE: Fluoroscopy\n\n"
        "DESCRIPTION: Under fluoroscopy, cannulae were placed to the left L3 and L4 medial branches and the left "
        "L5 dorsal ramus; lesions at 80 C for 90 seconds.\n\n"
        "ADDENDUM -- 09/14/2026 09:05\nLaterality correction. This dictation was transcribed with the wrong side. "
        "The ablation was performed on the RIGHT side:\nright L3 and L4 medial branches and right L5 dorsal ramus "
        "(right L4-5 and L5-S1\nfacet joints), not the left as dictated.\n")
    assert session.joints == {"left": [], "right": ["L4-L5", "L5-S1"]}


def test_a_cancelled_procedure_is_not_a_session():
    session = session_of(
        "SCHEDULED PROCEDURE: Bilateral L4-5 and L5-S1 medial branch block #1 (diagnostic), fluoroscopic guidance.\n\n"
        "*** PROCEDURE CANCELLED - NOT PERFORMED ***\n"
        "Apixaban was not held. No needle placement, no medications given. Medial branch block cancelled.\n")
    assert session is None


def test_imaging_in_an_unheaded_technique_paragraph_guides_the_session():
    from drafting.sessions import session_imaging

    doc = extract_source(SourceText(
        HEADER + "Procedure: Left L2-3 and L3-4 facet radiofrequency ablation\n\n"
        "Indications: left axial pain for two years; two blocks under fluoroscopy gave 90% relief.\n\n"
        "I numbed each entry point with 1% lidocaine. Using fluoroscopy, I advanced three RF cannulae "
        "parallel to the left L1, L2 and L3 medial branches.\n", "rfa.txt"))
    assert [f.text for f in session_imaging(doc)] == ["fluoroscopy"]
    assert session_imaging(doc)[0].start > doc.text.index("I numbed")


def test_a_letter_reporting_todays_procedure_is_a_session():
    summary = summarise(extract_source(SourceText(
        HEADER + "Dear Dr. Feldstein,\n\nThank you for referring Mrs. Doe. Today I performed a left L4-5 and "
        "L5-S1 radiofrequency ablation under fluoroscopy.\n\nSincerely,\n\nHelena Marchetti, MD\n", "letter.txt")))
    assert summary.kind == "rfa_note"
    assert summary.session.joints == {"left": ["L4-L5", "L5-S1"], "right": []}


PROCEDURE_LOG = """\
PAIN CENTER - PROCEDURE LOG
Patient Name: Jane Q. Doe      DOB: 03/14/1961      MRN: 4455123
Provider: Ana Ruiz, MD         Setting: office

ENTRY 1
Procedure date: 08/25/2026
Procedure: Left L4-5 medial branch block #1, fluoroscopy. Lidocaine 2%, no steroid.
Result: 90% relief for 2 hours.

ENTRY 2
Procedure date: 09/08/2026
Procedure: Left L4-5 medial branch block #2, fluoroscopy. Bupivacaine 0.5%, no steroid.
Result: 85% relief for 6 hours.

ENTRY 3
Procedure date: 09/29/2026
Procedure: Left L4-5 radiofrequency ablation under fluoroscopy.
"""


def test_each_dated_entry_of_a_procedure_log_is_a_session_of_its_own():
    from drafting.blocks import collect_blocks
    from drafting.cases import group_cases
    from drafting.draft import draft_documents
    from drafting.sessions import summarise_all

    doc = extract_source(SourceText(PROCEDURE_LOG, "log.txt"))
    summaries = summarise_all([doc])
    assert [(s.date, s.kind) for s in summaries] == [
        ("2026-08-25", "block_note"), ("2026-09-08", "block_note"), ("2026-09-29", "rfa_note")]
    # The header above the first entry names the patient of every entry.
    assert {s.mrn for s in summaries} == {"4455123"}
    (case,) = group_cases(summaries)
    assert [[f.value["percent"] for f, _ in b.reliefs] for b in collect_blocks(case)] == [[90.0], [85.0]]
    (drafted,) = draft_documents([doc])["cases"]
    assert [c["date_of_service"] for c in drafted["claims"]] == ["2026-08-25", "2026-09-08", "2026-09-29"]
    (listed,) = drafted["documents"]
    assert listed["kind"] == "procedure_log" and len(listed["entries"]) == 3


def test_a_note_with_a_visit_date_and_a_later_procedure_date_stays_one_entry():
    from drafting.sessions import entries

    note = ("Date of visit: 09/01/2026\nPatient: Doe, Jane Q   MRN: 4455123\n\nHPI: axial low back pain x 2 years.\n\n"
            "Date of procedure: 09/02/2026\nPROCEDURE: Left L4-5 medial branch block #1 under fluoroscopy.\n")
    doc = extract_source(SourceText(note, "note.txt"))
    assert len(entries(doc)) == 1


def test_a_numbered_procedures_list_is_the_procedure_statement():
    session = session_of(
        "PROCEDURE NOTE - LUMBAR MEDIAL BRANCH BLOCK #2\n\n"
        "PROCEDURES:\n1. Bilateral L3-4 and L4-5 facet joint medial branch blocks (L2, L3 and L4 medial branches)\n"
        "2. Fluoroscopic guidance for needle placement\n\n"
        "PRIOR PROCEDURES: right L5-S1 transforaminal epidural steroid injection 2024\n\n"
        "DESCRIPTION OF PROCEDURE:\nThe L2, L3 and L4 medial branch targets were localized on the right.\n")
    assert session.procedure == "facet_block"
    assert session.joints == {"left": ["L3-L4", "L4-L5"], "right": ["L3-L4", "L4-L5"]}


def test_a_levels_and_side_line_gives_a_title_statement_its_joints():
    session = session_of("=== MEDIAL BRANCH BLOCK #2 (CONFIRMATORY) ===\n\n"
                         "Levels/side: bilateral L5-S1 (L4 MB + L5 DR, right and left)\nImaging: fluoroscopy\n")
    assert session.procedure == "facet_block"
    assert session.joints == {"left": ["L5-S1"], "right": ["L5-S1"]}


def test_targets_inside_a_plan_list_do_not_make_a_session():
    summary = summarise(extract_source(SourceText(
        HEADER + "PLAN\n - Diagnostic medial branch blocks, R L2-3 and L3-4, under fluoroscopy.\n"
                 "   Targets: R L1 MB, R L2 MB, R L3 MB.\n - MBB #1 with lidocaine 2%, MBB #2 with ropivacaine.\n",
        "consult.txt")))
    assert summary.session is None


@pytest.mark.parametrize("imaging_line, guided", [
    ("IMAGING: Fluoroscopy, AP/oblique/lateral. Fluoro time 1 min 05 s.", ["Fluoroscopy", "Fluoro"]),
    ("IMAGING: MRI 2025 with facet arthropathy; prior fluoroscopy films reviewed.", []),
])
def test_a_templates_imaging_line_names_the_guidance_but_a_study_is_history(imaging_line, guided):
    from drafting.sessions import session_imaging

    doc = extract_source(SourceText(HEADER + "PROCEDURE: L L4-5, L5-S1 RFA\nPOSITION: Prone.\n" + imaging_line
                                    + "\nLESION: 80 C x 90 s, 2 lesions/site.\n", "rfa.txt"))
    assert [f.text for f in session_imaging(doc)] == guided


def test_a_markdown_exports_side_and_levels_bullets_make_the_statement():
    summary = summarise(extract_source(SourceText(
        HEADER + "## Procedure\nLumbar medial branch block #1 (diagnostic)\n\n"
        "- **Side:** Bilateral\n- **Levels:** L4-5 (L3 and L4 medial branches)\n- **Guidance:** Fluoroscopy\n",
        "mbb.md")))
    assert summary.session.joints == {"left": ["L4-L5"], "right": ["L4-L5"]}


def test_a_capitalised_label_column_states_the_procedure():
    summary = summarise(extract_source(SourceText(
        HEADER + "PROCEDURE        Medial branch block #1 (diagnostic), L4-5, bilateral\n"
        "                 Nerves: L3 and L4 medial branches, right and left\n"
        "GUIDANCE         Fluoroscopy (C-arm)\n", "mbb.txt")))
    assert summary.kind == "block_note"
    assert summary.session.joints == {"left": ["L4-L5"], "right": ["L4-L5"]}


def test_a_radiology_exam_line_under_its_label_states_the_procedure():
    summary = summarise(extract_source(SourceText(
        HEADER + "EXAM:\nCT-GUIDED BILATERAL LUMBAR MEDIAL BRANCH BLOCKS, L3-L4 AND L4-L5 (DIAGNOSTIC BLOCK #1)\n\n"
        "CLINICAL HISTORY:\nAxial low back pain for 3 years.\n", "ir.txt")))
    assert summary.kind == "block_note"
    assert summary.session.joints == {"left": ["L3-L4", "L4-L5"], "right": ["L3-L4", "L4-L5"]}


@pytest.mark.parametrize("joints, region", [
    ({"left": [], "right": ["T12-L1", "L1-L2"]}, "lumbar_sacral"),   # one lumbar session at the junction
    ({"left": ["T12-L1"], "right": ["L1-L2", "L2-L3"]}, "lumbar_sacral"),
    ({"left": [], "right": ["T11-T12", "T12-L1", "L1-L2"]}, None),   # a thoracic joint above it: two regions
    ({"left": [], "right": ["T12-L1", "L4-L5"]}, None),              # not contiguous
    ({"left": [], "right": ["T12-L1"]}, "cervical_thoracic"),
])
def test_a_session_at_the_thoracolumbar_junction_is_lumbar(joints, region):
    from drafting.sessions import _region

    assert _region(joints) == region


def test_a_field_table_under_the_title_gives_the_joints_before_the_technique_does():
    # The technique's "right then left" names one side at a time; the table's Laterality row names both.
    summary = summarise(extract_source(SourceText(
        "DIAGNOSTIC MEDIAL BRANCH BLOCK - PROCEDURE RECORD\n\n| Field | Value |\n|---|---|\n"
        "| Patient | Doe, Jane Q |\n| DOB | 03/14/1961 |\n| Date of Service | 08/04/2026 |\n"
        "| Laterality | Bilateral |\n| Nerves | L3 and L4 medial branches, L5 dorsal ramus |\n"
        "| Joints | L4-5, L5-S1 |\n| Anesthetic | lidocaine 2% |\n\n"
        "Procedure: Consent signed. Needles placed for the L3 and L4 medial branches and the L5 dorsal ramus, "
        "right then left, under fluoroscopy.\n", "mbb.txt")))
    assert summary.session.joints == {"left": ["L4-L5", "L5-S1"], "right": ["L4-L5", "L5-S1"]}


def test_a_progress_note_export_splits_at_its_dated_entry_titles():
    from drafting.sessions import entries

    log = ("RIVERSIDE PAIN - PROGRESS NOTES (chronological)\nPatient: Doe, Jane Q   DOB: 03/14/1961   MRN: 4455123\n"
           "======================================================================\n"
           "03/04/2026  NEW PATIENT CONSULT                 Provider: Miriam Okafor, DO\n"
           "Axial low back pain x 2 years. Plan: bilateral L4-5 and L5-S1 medial branch blocks.\n\n"
           "04/08/2026  PROCEDURE NOTE - LUMBAR MBB #1      Provider: Miriam Okafor, DO\n"
           "Procedure: Bilateral L4-5 and L5-S1 medial branch blocks under fluoroscopy. Lidocaine 2%.\n\n"
           "04/29/2026  PROCEDURE NOTE - LUMBAR MBB #2      Provider: Miriam Okafor, DO\n"
           "Procedure: Bilateral L4-5 and L5-S1 medial branch blocks under fluoroscopy. Bupivacaine 0.5%.\n")
    parts = [summarise(p) for p in entries(extract_source(SourceText(log, "log.txt")))]
    assert [(p.date, p.kind) for p in parts] == [
        ("2026-03-04", "clinic_note"), ("2026-04-08", "block_note"), ("2026-04-29", "block_note")]


def test_dated_list_items_do_not_split_a_note():
    from drafting.sessions import entries

    note = (HEADER + "PROCEDURE: Bilateral L4-5 and L5-S1 radiofrequency ablation under fluoroscopy.\n"
            "Diagnostic blocks:\n  3/24/2026 MBB #1, lidocaine 2%: 90% relief x 2 hrs\n"
            "  4/7/2026 MBB #2, bupivacaine 0.5%: 7/10 -> 1/10 for ~4 hrs\n")
    assert len(entries(extract_source(SourceText(note, "rfa.txt")))) == 1


def test_a_procedures_heading_and_a_targets_heading_say_what_was_done_where():
    """section_rules.json: "PROCEDURES" alone on its line opens the procedure section, even after an
    "Anesthesia: local; no sedation" field; "Targets (same as block #1)" heads the levels."""
    rfa = session_of("Physician: A. Doe, DO\nAnesthesia: local; no sedation\n\nPROCEDURES\n"
                     "1. Right lumbar facet radiofrequency ablation, L4-5 and L5-S1: conventional\n"
                     "   thermal lesioning of the right L3 and L4 medial branches and right L5 dorsal ramus.\n"
                     "2. Left sacroiliac joint lateral branch radiofrequency ablation.\n")
    assert rfa is not None and rfa.procedure == "facet_rfa"
    assert rfa.joints == {"left": [], "right": ["L4-L5", "L5-S1"]}
    block = session_of("LUMBAR MEDIAL BRANCH BLOCKS - #2 (confirmatory)\n\nTargets (same as block #1)\n"
                       "  RIGHT  L3-L4 and L4-L5 joints -> L2, L3, L4 medial branches\n"
                       "  LEFT   L4-L5 joint -> L3, L4 medial branches\n\nLidocaine 2% 0.5 mL per nerve. No steroid.\n")
    assert block.joints == {"left": ["L4-L5"], "right": ["L3-L4", "L4-L5"]}


def test_a_block_field_under_a_title_says_where_the_block_was():
    # The title names the procedure; the "Block:" field line under it, in the title's section, says where.
    note = extract_source(SourceText(
        "PROCEDURE NOTE - MEDIAL BRANCH BLOCK\nBrightwater Spine & Pain\n\n"
        "DOE, JANE Q  |  MRN 4455123  |  DOB 03/14/1961\nDOS: Thu 6/18/26\n\n"
        "Block: #2 (confirmatory), LEFT L4-5 (L3 + L4 MBs)\n"
        "Anesthetic: 0.5% bupivacaine, 0.5 mL per nerve. No steroid.\nGuidance: fluoro, AP/oblique.\n", "note.txt"))
    session = summarise(note).session
    assert session.procedure == "facet_block"
    assert session.joints == {"left": ["L4-L5"], "right": []}
    assert not session.gaps


def test_a_letters_pain_diary_sentence_opens_no_section_before_todays_procedure():
    # "Her pain diary from block #1 showed ..." is prose, not a "Pain diary:" heading over the rest.
    note = extract_source(SourceText(
        "Lakeshore General Hospital\n\nNovember 25, 2025\n\nRE: Doe, Jane Q\nDOB: 03/14/1961 | MRN: 4455123\n\n"
        "Dear Dr. Okonkwo,\n\nI saw Mrs. Doe again today. Her pain diary from block #1 on November 4 showed 90% "
        "relief lasting about 3 hours.\n\nToday I performed block #2: left L4-5 and L5-S1 medial branch blocks "
        "(the left L3 and L4 medial branches and the L5 dorsal ramus) under fluoroscopy, with bupivacaine 0.5%.\n",
        "letter.txt"))
    session = summarise(note).session
    assert session is not None and session.procedure == "facet_block"
    assert session.joints == {"left": ["L4-L5", "L5-S1"], "right": []}


def test_a_text_message_thread_records_no_procedure_of_its_own():
    # A secure-text export: the nurse's "for the RFA decision" and the patient's report of the
    # morning's block are messages about procedures, not an ablation done on the export's day.
    summary = summary_of(
        "Secure Messaging - Conversation Export\nPatient: Doe, Jane Q    DOB: 03/14/1961    MRN: 4455123\n\n"
        "---------- Wed, Jun 17, 2026 ----------\n"
        "[12:05 PM] Dana Kowalski RN: checking on you after your block this morning (done at 10:40).\n"
        "[06:02 PM] Jane Doe: back feels 90% better til about 3 then it crept back.\n"
        "[06:10 PM] Dana Kowalski RN: Charting 90% relief. Sending to Dr. F for the RFA.\n", "texts.txt")
    assert summary.kind == "clinic_note" and summary.session is None


def test_one_bracketed_time_is_no_thread():
    session = session_of("PROCEDURE: Right L4-5 radiofrequency ablation under fluoroscopy.\n"
                         "[10:05 AM] Time-out: patient, side and levels confirmed.\n")
    assert session is not None and session.procedure == "facet_rfa"


def test_a_session_in_two_regions_is_one_part_per_region():
    session = session_of("PROCEDURES PERFORMED\n1. Bilateral C5-6 medial branch blocks, fluoroscopic guidance\n"
                         "2. Bilateral L4-5 medial branch blocks (L3 and L4 medial branches), fluoroscopic guidance\n")
    assert session.region is None
    parts = by_region(session)
    assert [(p.region, p.joints) for p in parts] == [
        ("cervical_thoracic", {"left": ["C5-C6"], "right": ["C5-C6"]}),
        ("lumbar_sacral", {"left": ["L4-L5"], "right": ["L4-L5"]})]
    assert all("C5-6" not in e["text"] for e in parts[1].evidence if e["kind"] == "level")
    one = session_of("PROCEDURE: Right L4-5 and L5-S1 medial branch blocks under fluoroscopy.\n")
    assert by_region(one) == [one]


def test_levels_in_indented_rows_under_their_label_give_the_joints_per_side():
    session = session_of("PROCEDURE RECORD: LUMBAR MEDIAL BRANCH BLOCK\nBlock: #1 of 2 (diagnostic)\n\n"
                         "Levels / laterality:\n"
                         "  RIGHT  L3-4, L4-5, L5-S1  -> R L2, L3, L4 medial branches + R L5 dorsal ramus\n"
                         "  LEFT   L4-5, L5-S1        -> L L3, L4 medial branches + L L5 dorsal ramus\n"
                         "  (7 nerves, 5 joints)\n\n"
                         "Technique: Prone. Needles under C-arm fluoroscopy. Lidocaine 2% 0.5 mL per nerve.\n")
    assert session.joints == {"left": ["L4-L5", "L5-S1"], "right": ["L3-L4", "L4-L5", "L5-S1"]}


def test_a_billing_offices_account_note_about_a_corrected_claim_is_no_session():
    summary = summary_of(
        "LAKESHORE SPINE & PAIN ASSOCIATES - PATIENT ACCOUNT NOTE\nDate: 03/20/2026\n"
        "Patient: Doe, Jane Q    MRN: 4455123    DOB: 03/14/1961\nNote type: Denial follow-up / corrected claim\n\n"
        "What was actually done 02/10/2026: right L4-5 and L5-S1 medial branch block (#1), lidocaine only.\n"
        "Corrected claim sent today: 64493-RT x1, 64494-RT x1.\n", "account.txt")
    assert summary.session is None


def test_a_check_mark_grid_after_the_diagnosis_line_gives_the_joints_per_side():
    session = session_of("Procedure: Lumbar medial branch block, diagnostic #1\nGuidance: fluoroscopy\n"
                         "Dx: M47.816 lumbar spondylosis\n\nLevels / sides (X = done):\n\n"
                         "   Level   | Right | Left\n   --------+-------+------\n   L3-L4   |       |\n"
                         "   L4-L5   |   X   |\n   L5-S1   |   X   |  X\n")
    assert session.joints == {"left": ["L5-S1"], "right": ["L4-L5", "L5-S1"]}


def test_a_nurses_telephone_note_records_no_procedure_of_its_own():
    summary = summary_of(
        "ST. BRENDAN HOSPITAL\nInterventional Pain Unit - Nursing Telephone Note\n\n"
        "Patient Name: Jane Q. Doe\nDOB 03/14/1961   MRN 4455123\nDate: 08/28/2026\n\n"
        "Follow-up after L L5-S1 MBB #2 (bupivacaine 0.5%) with Dr. Chaudhry, done 08/27/2026.\n"
        "By 10 am \"90-95% better\"; back to 7/10 by 5 pm.\n", "phone.txt")
    assert summary.session is None and summary.kind == "clinic_note"


def test_an_insurance_update_that_asks_authorization_for_an_ablation_is_no_session():
    summary = summary_of(
        "ST. BRENDAN REGIONAL MEDICAL CENTER - PATIENT ACCESS SERVICES\nInsurance Update / Prior Authorization Note\n\n"
        "Date: 07/21/2026\nPatient: DOE, JANE Q      MRN: 4455123      DOB: 03/14/1961\n\n"
        "PRIOR AUTHORIZATION\nOrder: left L4-5 and L5-S1 radiofrequency ablation (CPT 64635 x1, 64636 x1).\n"
        "Tentative date 08/18/2026, pending approval.\n", "access.txt")
    assert summary.session is None or summary.session.procedure != "facet_rfa"


def test_two_sides_joined_in_one_laterality_answer_are_both_sides():
    session = session_of("Procedure:     Lumbar medial branch block, diagnostic #2 (confirmatory)\n"
                         "Level(s):      L4-5 -- L3 + L4 MB\nLaterality:    RT + LT\nGuidance:      Fluoroscopy\n")
    assert session.joints == {"left": ["L4-L5"], "right": ["L4-L5"]}


def test_an_e_mail_thread_whose_patient_reports_this_mornings_block_is_no_session():
    # The patient's "block from this morning" is her day, not a procedure the thread records;
    # the physician's order for the ablation in it is no ablation either.
    summary = summary_of(
        "Patient Correspondence (e-mail imported to chart) - filed 09/12/2026\n"
        "Patient: Doe, Jane Q     DOB: 03/14/1961     MRN: 4455123\n\n"
        "From: Samuel Whitaker <sw@example.com>\nSent: Saturday, September 12, 2026 7:41 AM\n"
        "To: Tanya Briggs <tb@example.com>\nSubject: RE: After your block - pain log\n\n"
        "Please book right L5-S1 RF ablation (right L4 medial branch + L5 dorsal ramus) in our office.\n\n"
        "> From: Tanya Briggs <tb@example.com>\n> Subject: FW: After your block - pain log\n>\n"
        "> Dr. W - her log is below. Want me to get the\n> RFA on the books? She is off work Tuesdays.\n>\n"
        ">> From: Jane Doe <jd@example.com>\n>> Subject: RE: After your block - pain log\n>>\n"
        ">> Reporting on block #2 from this afternoon. Dr. Whitaker finished\n>> around 1:15 and I was 85-90% better.\n",
        "email.txt")
    assert summary.session is None and summary.kind == "clinic_note"


LCD_CHECKLIST = (
    "MEDICARE FACET JOINT INTERVENTIONS - LCD CRITERIA CHECKLIST / PHYSICIAN ATTESTATION\n\n"
    "Patient Name: Doe, Jane Q       DOB: 03/14/1961       MRN: 4455123\nDate: 04/21/2026\n"
    "Planned: bilateral L3-4, L4-5 lumbar radiofrequency ablation (thermal)\n"
    "[X] Two medial branch blocks on separate days, at the levels to be treated\n"
    "[X] Thermal RF ablation under fluoroscopic guidance\n")
ABN = ("A. Notifier: Lakeshore Spine & Pain Associates\n   4410 Harbor Point Dr\n"
       "B. Patient Name: Jane Q. Doe          C. Identification Number: MRN 4455123\n\n"
       "              Advance Beneficiary Notice of Non-coverage (ABN)\n\nD. Procedure:\n"
       "   Radiofrequency ablation of lumbar facet joint nerves, bilateral L3-4 and L4-5\n"
       "   (CPT 64635, 64636), scheduled 05/07/2026\nDate: 04/21/2026\n")


@pytest.mark.parametrize("text", [LCD_CHECKLIST, ABN], ids=["lcd_checklist", "abn"])
def test_a_medicare_criteria_checklist_and_an_abn_are_no_sessions(text):
    assert summary_of(text, "form.txt").session is None


def test_a_consults_referral_block_that_authorizes_blocks_and_an_ablation_is_no_session():
    summary = summary_of(
        "COMMUNITY CARE PROVIDER - CONSULTATION REPORT\n\nPatient Name: Doe, Jane Q\nDOB: 14MAR1961   MRN: 4455123\n\n"
        "VA REFERRAL\n  Referral #: VA0031876542\n"
        "  SEOC: PAIN MANAGEMENT - INTERVENTIONAL 1.4.2 (consult, diagnostic MBB x2, RFA)\n\n"
        "Date of Service: 17FEB2026\n\nHISTORY OF PRESENT ILLNESS\nLeft-sided low back pain for ~6 years.\n",
        "consult.txt")
    assert summary.session is None


def test_a_procedure_cancelled_on_the_day_is_no_session():
    summary = summary_of(
        "ST. CUTHBERT MEDICAL CENTER\nPerioperative Services - PROCEDURE CANCELLATION NOTE\n\n"
        "Patient: Doe, Jane Q      MRN: 4455123      DOB: 03/14/1961\nDate: 07/14/2026\n\n"
        "Scheduled: Bilateral L4-5 radiofrequency ablation (L3 and L4 medial branches), 08:00\n"
        "Status: CANCELLED on the day of procedure - not started\n"
        "Physician assessment 07:25: RFA cannot be done today - apixaban was not held.\n"
        "No time-out was performed, no needles placed. Rescheduled for 07/23/2026.\n", "cancel.txt")
    assert summary.session is None


def test_a_front_desk_note_that_moves_a_block_records_no_procedure():
    summary = summary_of(
        "Bluestem Interventional Pain -- Scheduling / Front Desk Note\n"
        "Pt: DOE, JANE Q    MRN 4455123    DOB 03/14/1961\nDate: 07/14/2026\n"
        "Appt: 09:30  Procedure room 2 - L L4-5 MBB #2 w/ Dr. Wierzbicki\n\n"
        "08:05  Pt called. Her husband was called in to work early; no other driver available.\n\n"
        "Procedure NOT done today - late cancellation for lack of transportation.\n\n"
        "New date: Tue 07/28/2026, 09:30, procedure room 2, same plan\n"
        "(left L4-5 medial branch block #2, bupivacaine, no steroid).\n", "sched.txt")
    assert summary.session is None


def test_a_physical_therapists_note_mentioning_the_blocks_records_no_procedure():
    summary = summary_of(
        "LAKESHORE INTEGRATED SPINE PROGRAM - Physical Therapy\n"
        "Patient: Jane Doe      DOB: 03/14/1961\nDate: 07/07/2026\nProvider: Kelsey Marchetti, PT, DPT\n\n"
        "Data:\nSeen between interventional visits. Reports both medial branch blocks gave strong but "
        "short-lived relief. Today NRS 5/10, ODI 34%.\n\nAssessment:\nRight L3-L4/L4-L5 facet pain pattern "
        "unchanged despite 10 weeks of formal PT.\n\nPlan:\nDischarge to independent HEP.\n", "pt.txt")
    assert summary.session is None


def test_a_block_dictated_as_one_paragraph_is_its_session():
    """A one-line note: its "phone follow-up on 03/18/2026" is no title, and that later date in
    another sentence does not make the block one to come."""
    summary = summary_of(
        "Patient: Jane Q. Doe. DOB: 03/14/1961. MRN: 4455123. Date of service: 03/17/2026. Provider: "
        "Tobias Reinholt, MD. This is the second of two diagnostic medial branch blocks at left L4-5 and "
        "L5-S1, targeting the left L3 and L4 medial branches and the left L5 dorsal ramus. Using fluoroscopy, "
        "0.5 mL of bupivacaine 0.5% was injected at each site, with no steroid. On phone follow-up on "
        "03/18/2026 she reported 85% relief lasting about 5 hours.", "dict.txt")
    assert summary.session is not None and summary.session.procedure == "facet_block"
    assert summary.session.joints == {"left": ["L4-L5", "L5-S1"], "right": []}


def test_a_second_block_named_by_reference_to_the_first_takes_its_joints():
    from drafting.sessions import one_per_day

    first = summary_of(HEADER.replace("10/02/2026", "02/03/2026") + "PROCEDURE: Bilateral L4-5 medial branch "
                       "block #1 under fluoroscopy. Lidocaine 2%. No steroid.\n", "mbb1.txt")
    second = summary_of(HEADER.replace("10/02/2026", "02/24/2026") + "PROCEDURE: Lumbar medial branch block, "
                        "confirmatory (block #2) - repeat of block #1,\n           same levels and sides as the "
                        "02/03 block.\nLaterality: Bilateral\nTECHNIQUE: needles at the same four targets as "
                        "before. Bupivacaine 0.5%.\n", "mbb2.txt")
    assert second.session.joints == {"left": [], "right": []}  # on its own, the note names no joint
    sessions = one_per_day([first, second])
    assert [s.joints for s in sessions] == [{"left": ["L4-L5"], "right": ["L4-L5"]}] * 2
    assert not any(g["id"] == "missing_level" for g in sessions[1].gaps)


def test_a_pain_diary_named_after_its_block_records_no_procedure():
    summary = summary_of(
        "RIVERBEND PAIN & SPINE\nSCANNED DOCUMENT - TYPED TRANSCRIPTION     04/02/2026\n"
        "Patient: Doe, Jane Q     DOB: 03/14/1961     MRN: 4455123\n\n"
        "(printed form) MEDIAL BRANCH BLOCK - PAIN DIARY. Rate your usual low back pain 0-10 at each time below.\n"
        "Staff section:  Block date 3/10/26    Side/levels: R L4-5, L5-S1    Block #1\n\n"
        "Time after block | Pain 0-10 | What I did / notes\nPre | 7 | sore\n30 min | 1 | walked to car\n", "diary.txt")
    assert summary.session is None


def test_each_numbered_procedure_heading_opens_the_account_of_its_technique():
    from drafting.sessions import session_imaging

    doc = extract_source(SourceText(
        HEADER + "PROCEDURES PERFORMED\n1. Bilateral L4-5 radiofrequency ablation\n"
        "2. Right sacroiliac joint injection\n\nINDICATIONS\nTwo positive blocks; SI joint pain persists.\n\n"
        "PROCEDURE 1 - RADIOFREQUENCY ABLATION\nProne on the table. Under fluoroscopic guidance the targets for "
        "the L3 and L4 medial branches were identified bilaterally and lesioned at 80 C.\n\n"
        "PROCEDURE 2 - RIGHT SACROILIAC JOINT INJECTION\nThe C-arm was rotated to open the joint line.\n", "op.txt"))
    assert [f.text for f in session_imaging(doc)] == ["fluoroscopic", "C-arm"]


def test_a_consults_reason_for_referral_that_names_an_earlier_ablation_is_no_session():
    summary = summary_of(
        "PAIN MEDICINE CONSULTATION\n\nPatient: Doe, Jane Q\nDOB: 03/14/1961      MRN: 4455123\n"
        "Date of Service: 05/12/2026\nReason for referral: \"recurrent low back pain - had RFA before, ? repeat\"\n\n"
        "HISTORY OF PRESENT ILLNESS\nNew left-sided axial low back pain.\n", "consult.txt")
    assert summary.session is None


def test_a_payers_utilization_management_letter_is_a_request_not_a_session():
    summary = summary_of(
        "NORTHSTAR HEALTH PLAN\nUtilization Management - Prior Authorization Dept.\n\nDate: May 8, 2026\n\n"
        "RE:  AUTHORIZATION APPROVED\nPatient: Jane Q. Doe\nDOB: 03/14/1961\n"
        "Requested service: Lumbar facet radiofrequency ablation, right L2-3, L3-4, L4-5\n"
        "Dx: M47.816 - lumbar spondylosis\n\nCLINICAL CRITERIA REVIEWED\n"
        "  Two diagnostic MBBs on separate dates ............................. Y\n", "approval.txt")
    assert summary.session is None


def test_a_utilization_review_determination_is_a_request_not_a_session():
    summary = summary_of(
        "PACIFIC CREST UTILIZATION REVIEW, INC.\n\nNOTICE OF UTILIZATION REVIEW DETERMINATION - NON-CERTIFICATION\n\n"
        "Date: January 22, 2026\nRE:  Jane Q. Doe\n     DOB: 03/14/1961\n\n"
        "TREATMENT REQUESTED                                              DETERMINATION\n"
        "Bilateral L4-5 medial branch blocks, diagnostic, x2 sessions,    NON-CERTIFIED\n", "ur.txt")
    assert summary.session is None


@pytest.mark.parametrize("body, joints", [
    # The header names both sides; the body says one joint was abandoned and not treated.
    ("PROCEDURE: Bilateral L4-5, L5-S1 lumbar radiofrequency ablation\n\n"
     "DESCRIPTION:\nUnder fluoroscopic guidance the right L3, L4 medial branches and L5 dorsal ramus were lesioned.\n"
     "Left L3 and L4 medial branches lesioned the same way. The left L5 dorsal ramus lesion was abandoned\n"
     "(SI fusion hardware at the sacral ala). The left L5-S1 joint was NOT treated today.\n",
     {"left": ["L4-L5"], "right": ["L4-L5", "L5-S1"]}),
    # A block stopped before its last target: the statement itself says which joint was not done.
    ("PROCEDURE PLANNED: Right L4-5 and L5-S1 lumbar medial branch blocks, block #1\n"
     "PROCEDURE PERFORMED: Right L4-5 lumbar medial branch block ONLY (right L3 and\n"
     "   L4 medial branches). L5-S1 not completed -- see Complication.\n\n"
     "COMPLICATION: vasovagal episode; the right L5 dorsal ramus (L5-S1) target was abandoned.\n",
     {"left": [], "right": ["L4-L5"]}),
    # A template's side field left blank: the account of the needles gives the joint's side.
    ("Procedure: Lumbar medial branch block #2\nLevel(s): L4-5\nSide: ___\nGuidance: fluoroscopy\n\n"
     "Description: Under fluoroscopic guidance, 22 g needles were placed at the right L3 and L4 medial branches\n"
     "(the nerves to the right L4-5 facet joint). Bupivacaine 0.5%, 0.5 mL, at each site.\n",
     {"left": [], "right": ["L4-L5"]}),
    # A negation that reaches a level without saying the target was not done takes nothing away.
    ("PROCEDURE: Right L5-S1 radiofrequency ablation under fluoroscopy.\n\n"
     "Both blocks anesthetic only, no steroid, same right L5-S1 target.\n",
     {"left": [], "right": ["L5-S1"]}),
])
def test_a_joint_the_body_says_was_not_treated_is_not_billed(body, joints):
    assert session_of(body).joints == joints


def test_an_export_of_one_key_tab_value_field_a_line_reads_its_plan_as_a_plan():
    """A consult exported as "key<TAB>value" lines: its "Plan" field books the blocks, it records none."""
    export = ("Record\tENC-2026-0505-0331\nPatient_Name\tHALDANE, PRISCILLA J\nDOB\t12/03/1968\nMRN\t00482915\n"
              "Encounter_Type\tNew consult\nDOS\t05/05/2026\nChief_Complaint\tLow back pain, both sides\n"
              "Prior_Block\t#1 elsewhere 2024, no relief\n"
              "Exam\tTender over L4-5 and L5-S1 facets bilaterally.\n"
              "Plan\tBilateral L4-L5 and L5-S1 medial branch blocks x2 under fluoroscopy, bupivacaine 0.5%, no steroid.\n"
              "Signed\tLindqvist, Tobias MD 05/05/2026 16:58\n")
    summary = summary_of(export, "ENC_20260505_CONSULT.txt")
    assert summary.session is None
    names = [f.value for f in summary.doc.facts if f.kind == "patient_name"]
    assert names and names[0]["last"].lower() == "haldane"
    # "#1" after the tab stays a token of its own ("No:#1" would be one word to spaCy).
    assert [f.value for f in summary.doc.facts if f.kind == "block_number"] == [1]


@pytest.mark.parametrize("text", [
    # A plan under a SOAP note's "P/" on its own line.
    "CEDAR HOLLOW SPINE & PAIN - New Patient Consult\nPatient: Blackwood, Teodora V   DOB: 08/22/1967\n"
    "Date of Service: 11/18/2025\n\nA/\n1. Lumbar facet-mediated pain, bilat L4-5\n\n"
    "P/\n\u2192 B/L L4-5 MBB #1 (L3 + L4 MB bilat) - office procedure room, fluoro, lidocaine 2%\n",
    # A custodian's certification lists the records it encloses.
    "ARCHWAY LEGAL RECORD SERVICES, INC. - CERTIFIED COPY\n\n   CERTIFICATION OF CUSTODIAN OF RECORDS\n\n"
    "Patient: Okafor, Chinedu E.\nDate of Birth: 09/14/1979   MRN: 20417755\nSubpoena served 09/08/2026.\n\n"
    "Records enclosed:\n  2. Operative report, bilateral lumbar medial branch blocks,\n     01/15/2026 ......... 000006\n",
    # An examiner's report retells the treatment, addressed to the insurer and ending on a declaration.
    "INDEPENDENT MEDICAL EXAMINATION REPORT\n\nMarch 16, 2026\n\nRE: Daniel R. Okafor\nDOB: 11/23/1981\n\n"
    "Dear Ms. Ostrowski:\n\nAt your request I examined Mr. Okafor today.\n"
    "Dr. Lindqvist performed diagnostic bilateral L4-5 medial branch blocks (L3 and\nL4 medial branches) on 10/06/2025 "
    "with lidocaine 2%, with 90% relief for about\n2.5 hours.\n\n"
    "I declare that I have personally examined the claimant.\n\nRaymond K. Tillotson, MD\n",
    # A billing office's coding audit reviews services already billed.
    "LAKESHORE SPINE & PAIN ASSOCIATES - BILLING OFFICE\nINTERNAL CODING AUDIT WORKSHEET (pre-bill review)\n"
    "Audit date: 04/20/2026\n\nPatient: Brennecke, Harold T      MRN: 00482913      DOB: 07/22/1958\n\n"
    "1  01/15/2026   64493-50  MBB bilat L4-5   1   M47.816  released 01/20/2026\n"
    "3  03/05/2026   64635-50  RFA bilat L4-5   1   M47.816  held\n\n"
    "CHECKLIST - ENC 3 (03/05/2026, RFA)\n  Doc supports 64635-50: Y - bilateral L4-L5\n"
    "  Fluoroscopic guidance documented: Y\n  Two MBBs, separate days, same joint/sides as ablated: Y\n",
    # A consultant's advice for the procedure to come.
    "LAKEVIEW HEART RHYTHM & CARDIOLOGY\n\nJuly 1, 2026\n\nRE: Leonard F. Castellanos\nDOB: 03/02/1949\n\n"
    "Dear Dr. Oyelaran,\n\nRECOMMENDATIONS FOR THE PROCEDURE:\n  1. Bipolar radiofrequency configuration is preferred.\n"
    "  2. Keep a magnet at the bedside during active RF lesioning of the left L4-5 and L5-S1 medial branches.\n\n"
    "Sincerely,\n\nHelen Strand, MD\n",
])
def test_documents_that_record_no_procedure_of_their_own(text):
    assert summary_of(text, "doc.txt").session is None


def test_a_diary_printout_records_no_session():
    # An app's diary printout heads each block's rows with the block ("BLOCK 1 | Medial branch block #1 |
    # bilateral L3-4, L4-5"); the blocks were done in their own notes.
    text = ("PainTrack Block Diary - Clinician Printout                      Page 1 of 1\n"
            "Exported 02/25/2026 14:52 by K. Abernathy RN\n"
            "Patient: Doe, Jane Q        DOB: 03/14/1961        MRN: 4455123\n\n"
            "BLOCK 1 | Medial branch block #1 | bilateral L3-4, L4-5 | lidocaine 2%\n"
            "Injection complete 10:05 on 02/03/2026.\n"
            "  RN NOTE    Date: 02/04/2026    Post-block phone call\n"
            "  90% relief for the first hour and still 80% at 2 h.\n")
    summary = summary_of(text, "diary.txt")
    assert summary.kind == "clinic_note" and summary.session is None

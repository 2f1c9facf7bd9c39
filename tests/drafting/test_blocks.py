"""What a diagnostic block record collects: relief, agents and steroids by date and note (drafting/blocks.py)."""
from __future__ import annotations

import pytest

from drafting.blocks import collect_blocks
from drafting.cases import group_cases
from drafting.sessions import summarise
from extractor.pipeline import extract_source
from extractor.sourcetext import SourceText

HEADER = "Patient: Doe, Jane Q\nDOB: 03/14/1961   MRN: 4455123\nDate of Service: {date}\n\n"


def blocks_of(*notes: tuple[str, str]):
    docs = [extract_source(SourceText(HEADER.format(date=date) + body, f"note{i}.txt"))
            for i, (date, body) in enumerate(notes)]
    cases = group_cases([summarise(d) for d in docs])
    assert len(cases) == 1
    return {b.date: b for b in collect_blocks(cases[0])}


BLOCK_1 = ("01/08/2026", "PROCEDURE: Bilateral L3-4 and L4-5 medial branch blocks under fluoroscopy. "
                         "Lidocaine 2% 0.5 mL per level. No steroid.\n")
BLOCK_2 = ("01/22/2026", "PROCEDURE: Bilateral L3-4 and L4-5 medial branch blocks under fluoroscopy, block #2. "
                         "Bupivacaine 0.5% 0.5 mL per level. No steroid.\n\n"
                         "INTERVAL: Block #1 on 01/08/2026 with lidocaine 2%: RN phone call 01/09/2026 - "
                         "about 90% relief lasting 2 hours.\n")


def test_relief_goes_to_the_blocks_date_not_the_follow_up_calls():
    blocks = blocks_of(BLOCK_1, BLOCK_2)
    assert sorted(blocks) == ["2026-01-08", "2026-01-22"]
    assert [f.value["percent"] for f, _ in blocks["2026-01-08"].reliefs] == [90.0]


# A steroid named in a block's note that was not injected in the block: an earlier
# epidural's drug, and an oral steroid taken as conservative care.
@pytest.mark.parametrize("history, injectate, says_no_steroid", [
    ("He had a lumbar epidural steroid injection back in 2023 with Depo-Medrol that helped for two weeks.",
     "Xylocaine 2% 0.5 mL per level; no steroid was used.", True),
    ("Conservative care: PT 8 wks, failed; daily HEP; meloxicam. Tried a Medrol dose pack last spring too.",
     "Lidocaine 2% 0.5 mL per level.", False),
])
def test_a_steroid_not_injected_in_the_block_is_not_the_blocks(history, injectate, says_no_steroid):
    note = ("01/08/2026", f"{history}\n\nPROCEDURE: Bilateral L3-4 and L4-5 medial branch blocks under fluoroscopy. "
                          f"{injectate}\n")
    block = blocks_of(note)["2026-01-08"]
    assert block.steroids == []
    assert bool(block.no_steroid) == says_no_steroid


def test_a_relief_threshold_is_not_a_result():
    note = ("04/07/2026",
            "PROCEDURE: Bilateral L3-4 and L4-5 medial branch blocks under fluoroscopy, block #2. Naropin 0.5%.\n\n"
            "IMPRESSION: Partial response to block #2 (50-60% relief), below the usual 80% threshold.\n")
    block = blocks_of(note)["2026-04-07"]
    assert [f.value["percent"] for f, _ in block.reliefs] == [50.0]


HISTORY_NOTE = ("01/20/2026",
                "CC: R low back pain back again, req repeat RFA\n\n"
                "Facet hx (reviewed):\n"
                "- 03/04/2025 Dx MBB #1 R L3, L4 MB + L5 DR (R L4-5, L5-S1): lidocaine 2%, 0.5 mL/site, no steroid. "
                "NRS 7 -> 1 (86%) x ~2 hrs.\n"
                "- 03/18/2025 Dx MBB #2 same targets: bupivacaine 0.5%, no steroid. 90% relief x ~6 hrs.\n"
                "- 04/15/2025 R L4-5, L5-S1 RFA (thermal, fluoro). Relief held > 50% for about 8 months.\n")


def test_history_list_items_make_block_records_with_agent_relief_and_levels():
    blocks = blocks_of(HISTORY_NOTE)
    assert sorted(blocks) == ["2025-03-04", "2025-03-18"], "the ablation's own result is not a block"
    first, second = blocks["2025-03-04"], blocks["2025-03-18"]
    # The relief sits in the item's second sentence; the item's date still governs it.
    assert [f.value["percent"] for f, _ in first.reliefs] == [85.7]
    assert [f.value["agent"] for f, _ in first.agents] == ["lidocaine"]
    assert [f.value["agent"] for f, _ in second.agents] == ["bupivacaine"]
    assert first.no_steroid and not first.steroids
    assert first.session is None and first.joints == {"left": [], "right": ["L4-L5", "L5-S1"]}


def test_a_wrapped_line_continues_its_sentence():
    note = ("06/18/2026",
            "PROCEDURE: Left L2-3 and L3-4 radiofrequency ablation under fluoroscopy.\n\n"
            "Diagnostic blocks (same nerves as today):\n"
            "  * MBB #1 05/07/2026, ropivacaine 0.5%: 100% at 15 min in\n"
            "    recovery; RN call 6 h later, diary 85-100% relief for ~4 hours.\n")
    block = blocks_of(note)["2026-05-07"]
    assert (85.0, 4.0) in [(f.value["percent"], f.value["duration_hours"]) for f, _ in block.reliefs]


def test_a_line_ending_on_a_comma_goes_on_into_the_next():
    """"#1 11/18/2024 lidocaine 2%,\n90% x 3 h; #2 12/09/2024 ...": the 90% is block #1's, not the
    result of the block whose date comes after it on its line."""
    note = ("03/09/2026",
            "PROCEDURE: Repeat bilateral L4-5 and L5-S1 radiofrequency ablation under fluoroscopy.\n\n"
            "Original diagnostic MBBs, bilateral L4-5/L5-S1: #1 11/18/2024 lidocaine 2%,\n"
            "90% x 3 h; #2 12/09/2024 bupivacaine 0.5%, 85% x 6 h; no steroid in either.\n")
    blocks = blocks_of(note)
    assert [f.value["percent"] for f, _ in blocks["2024-11-18"].reliefs] == [90.0]
    assert [f.value["percent"] for f, _ in blocks["2024-12-09"].reliefs] == [85.0]


def test_a_result_said_of_an_earlier_block_in_a_later_blocks_note_is_that_blocks():
    second = ("01/22/2026",
              "PROCEDURE: Bilateral L3-4 and L4-5 medial branch blocks under fluoroscopy, block #2. "
              "Bupivacaine 0.5% 0.5 mL per level.\n\nPost: pt estimates 70-75% relief for 4 hours.\n\n"
              "Discussion: Given 90% response to block #1, a concordant 70-75% response to block #2, "
              "she is a candidate.\n")
    blocks = blocks_of(BLOCK_1, second)
    assert sorted(f.value["percent"] for f, _ in blocks["2026-01-22"].reliefs) == [70.0, 70.0]
    assert [f.value["percent"] for f, _ in blocks["2026-01-08"].reliefs] == [90.0]


def test_a_list_of_history_blocks_takes_its_levels_from_the_lead_in():
    note = ("06/11/2026",
            "PROCEDURE: Repeat radiofrequency neurotomy of the left L4-5 and L5-S1 facet joints under fluoroscopy.\n\n"
            "INDICATIONS\nDiagnostic workup in 2024, both\nblocks at left L4-5 and L5-S1:\n"
            "  - MBB #1 06/06/2024: lidocaine 2% only -> 90% relief for about 2 hours\n"
            "  - MBB #2 06/20/2024: bupivacaine 0.5% only -> pain 8/10 -> 1/10, lasting ~6 hours\n")
    blocks = blocks_of(note)
    assert sorted(blocks) == ["2024-06-06", "2024-06-20"]
    for block in blocks.values():
        assert block.session is None and block.joints == {"left": ["L4-L5", "L5-S1"], "right": []}


LETTER = ("06/02/2026",
          "Pinecrest Health Plan\nAttn: Utilization Management\n\n"
          "Requested services: CPT 64635 and 64636, right side\n\nDear Medical Director,\n\n"
          "I request authorization for right L4-5 and L5-S1 radiofrequency ablation.\n\n"
          "Two anesthetic-only diagnostic blocks were performed under fluoroscopy at the right L4-5 and L5-S1\n"
          "levels, with the same pain scale before and after each block:\n"
          "  - MBB #1 - May 5, 2026: lidocaine 2%, no steroid. Pre-block NRS 7/10;\n"
          "    90% relief lasting 2 hours.\n"
          "  - MBB #2 - May 19, 2026: bupivacaine 0.5%, no steroid. Pre-block NRS 7/10;\n"
          "    100% relief for 5 hours.\n\nSincerely,\nGideon Farraday, MD\n")


def test_a_letters_list_of_blocks_gives_records_with_results_from_the_items_next_lines():
    blocks = blocks_of(LETTER)
    assert sorted(blocks) == ["2026-05-05", "2026-05-19"]
    assert [f.value["percent"] for f, _ in blocks["2026-05-05"].reliefs] == [90.0]
    assert [f.value["agent"] for f, _ in blocks["2026-05-19"].agents] == ["bupivacaine"]
    assert blocks["2026-05-19"].joints == {"left": [], "right": ["L4-L5", "L5-S1"]}


VITALS_BLOCK = ("06/09/2026",
                "PROCEDURE: L MBB L4-5, L5-S1\nINJECTATE: Ropivacaine 0.5%, 0.5 mL/target. STEROID: None.\n\n"
                "PRE-PROCEDURE VITALS:  0805  BP 128/78  HR 74  Pain 7/10\n"
                "POST-PROCEDURE VITALS:\n"
                "  Post-procedure pain 1/10 (pre 7/10) at 30 min\n"
                "  Pain 1/10 at 3 hr per phone f/u\n")


def test_a_block_with_only_pain_scores_before_and_after_gets_relief_computed_from_them():
    block = blocks_of(VITALS_BLOCK)["2026-06-09"]
    derived = [(f.value["percent"], f.value["at_hours"], f.text, f.pattern_id) for f, _ in block.reliefs]
    assert derived == [(85.7, 0.5, "pain 1/10", "derived.pre_post_scores"),
                       (85.7, 3.0, "Pain 1/10", "derived.pre_post_scores")]
    assert "7/10 before" in block.reliefs[0][0].explanation


def test_a_row_of_timed_scores_gives_relief_at_each_time():
    # Relief written only as scores at times, one row: each reading after "pre" is after the block.
    note = ("10/27/2025", "PROCEDURE: Right L3-4 and L4-5 medial branch block #1 under fluoroscopy. "
                          "Lidocaine 2% 0.5 mL at each level.\n\nPAIN SCORES - index pain, NRS 0-10\n"
                          "  pre 7/10; 15 min 1/10; 1 h 2/10; 3 h 2/10; next morning 6/10\n")
    derived = [(f.value["percent"], f.value["at_hours"]) for f, _ in blocks_of(note)["2025-10-27"].reliefs]
    assert derived == [(85.7, 0.25), (71.4, 1.0), (71.4, 3.0)]  # "next morning" names no hours


def test_a_stated_relief_wins_over_scores_and_scores_without_a_baseline_give_nothing():
    stated = ("06/09/2026", VITALS_BLOCK[1] + "IMPRESSION: 90% relief for 4 hours.\n")
    assert [f.value["percent"] for f, _ in blocks_of(stated)["2026-06-09"].reliefs] == [90.0]
    no_baseline = ("06/09/2026", "PROCEDURE: Left L4-5 medial branch block. Lidocaine 2%.\n"
                                 "Post-procedure pain 2/10 at 30 min.\n")
    assert blocks_of(no_baseline)["2026-06-09"].reliefs == []


PORTAL_EVENING = ("01/08/2026", "Patient portal message - saved to chart\nTo: Procedure nurse pool\n"
                                "Subject: after my back injection\n\nThe numbing shot worked like a charm, maybe 90% "
                                "better for about 4 hrs then it wore off.\n")
PORTAL_NEXT_DAY = ("01/23/2026", "Patient portal message - saved to chart\nFrom: Jane Doe\n"
                                 "Subject: after my back injection\n\nGot the shot yesterday around 1. I'd say it was "
                                 "85-90% better and stayed that way about 6 hours.\n\n---------- Reply ----------\n"
                                 "From: RN\nWe will get the radiofrequency ablation on the schedule.\n")


def test_a_patients_message_after_a_block_gives_that_blocks_relief_and_is_no_session():
    blocks = blocks_of(BLOCK_1, PORTAL_EVENING, BLOCK_2, PORTAL_NEXT_DAY)
    assert sorted(blocks) == ["2026-01-08", "2026-01-22"]
    assert [f.value["percent"] for f, _ in blocks["2026-01-22"].reliefs] == [85.0]
    # Block #1 also has the RN call in block #2's note; the portal message adds the same evening's figure.
    assert 90.0 in [f.value["percent"] for f, _ in blocks["2026-01-08"].reliefs]
    message = extract_source(SourceText(HEADER.format(date=PORTAL_NEXT_DAY[0]) + PORTAL_NEXT_DAY[1], "m.txt"))
    assert summarise(message).session is None  # "we will get the ablation on the schedule" is no procedure


def test_a_message_long_after_a_block_or_naming_two_blocks_is_left_alone():
    late = ("02/20/2026", "Patient portal message\nTo: Dr. Smith\nSubject: my back\n\nI had the shot on "
                          "01/22/2026. These days I am about 90% better, 4 hrs at a time.\n")
    both = ("01/24/2026", "Patient portal message\nTo: Dr. Smith\nSubject: my back\n\nThe shots on 01/08/2026 "
                          "and 01/22/2026 were great. I was about 90% better for 4 hrs.\n")
    for message in (late, both):
        blocks = blocks_of(BLOCK_1, BLOCK_2, message)
        assert [f.value["percent"] for f, _ in blocks["2026-01-22"].reliefs] == []


RECALLED = ("05/05/2026", "PROCEDURE: Bilateral L4-5 radiofrequency ablation under fluoroscopy.\n\n"
                          "HISTORY: He had MBB x2 at Lakeside Pain in January and February, 85% and 90% relief "
                          "lasting the duration of the bupivacaine. Their reports are scanned into the chart: "
                          "block #1 on 01/20/2026 and block #2 on 02/17/2026, {each} at the L3 and L4 medial "
                          "branches bilaterally, 0.5% bupivacaine 0.5 mL per nerve, no steroid.\n")


def test_blocks_recalled_by_number_and_date_take_their_reliefs_in_order_and_what_each_shared():
    date, body = RECALLED
    blocks = blocks_of((date, body.format(each="each")))
    assert sorted(blocks) == ["2026-01-20", "2026-02-17"]
    first, second = blocks["2026-01-20"], blocks["2026-02-17"]
    assert [f.value["percent"] for f, _ in first.reliefs] == [85.0]
    assert [f.value["percent"] for f, _ in second.reliefs] == [90.0]
    for block in (first, second):
        assert [f.value["agent"] for f, _ in block.agents] == ["bupivacaine"] and block.no_steroid
        assert block.joints == {"left": ["L4-L5"], "right": ["L4-L5"]}


def test_without_each_a_drug_after_the_last_recalled_date_is_only_that_blocks():
    date, body = RECALLED
    blocks = blocks_of((date, body.format(each="done")))
    assert [f.value["agent"] for f, _ in blocks["2026-02-17"].agents] == ["bupivacaine"]
    assert blocks["2026-01-20"].agents == []


VIDEO_FOLLOW_UP = ("01/28/2026", "TELEHEALTH FOLLOW-UP - VIDEO VISIT\n\nREASON FOR VISIT\nReview of pain diaries after "
                                 "the two diagnostic medial branch blocks.\n\nSUBJECTIVE\n"
                                 "Diary, block #1 (bilateral L3-4 and L4-5, lidocaine 2%), done 01/08/2026:\n"
                                 "  - before the block he was at NRS 7/10\n"
                                 "  - about 90% relief from the recovery area on, lasted roughly 2 hours\n\n"
                                 "Diary, block #2 (bilateral L3-4 and L4-5, Marcaine 0.5%), done 01/22/2026:\n"
                                 "  - pain went from 7/10 to 1/10 and held about 5 hours\n")


def test_a_list_items_relief_is_the_block_its_lead_in_dates_and_the_visit_is_no_session():
    blocks = blocks_of(BLOCK_1, (BLOCK_2[0], BLOCK_2[1].split("\n\n")[0]), VIDEO_FOLLOW_UP)
    assert sorted(blocks) == ["2026-01-08", "2026-01-22"]
    assert [f.value["percent"] for f, _ in blocks["2026-01-08"].reliefs] == [90.0]
    assert [round(f.value["percent"], 1) for f, _ in blocks["2026-01-22"].reliefs] == [85.7]
    video = extract_source(SourceText(HEADER.format(date=VIDEO_FOLLOW_UP[0]) + VIDEO_FOLLOW_UP[1], "v.txt"))
    assert summarise(video).session is None  # "REASON FOR VISIT ... medial branch blocks" is no statement


def test_a_follow_up_calls_date_in_outside_records_is_the_block_dated_before_it_not_a_block():
    # A packet of another practice's records: its procedures are history, and a phone follow-up the day
    # after a block reports that block's relief.
    blocks = blocks_of(("02/17/2026", "RECORDS RELEASE - FAX COVER SHEET\nEnclosed:\n"
                                      "1. Procedure report, lumbar medial branch block, 12/09/2025\n\n"
                        "PROCEDURE REPORT\nDOS: 12/09/2025\nPROCEDURE: Bilateral L4-5 and L5-S1 medial branch blocks "
                        "- diagnostic block #1\n0.5 mL of 2% lidocaine injected per target. No steroid used.\n"
                        "Phone f/u 12/10/2025 (MA): ~85% relief lasting about 3 hours, then back to\n"
                        "baseline - consistent with the expected duration of lidocaine.\n"))
    assert "2025-12-10" not in blocks
    assert [f.value["percent"] for f, _ in blocks["2025-12-09"].reliefs] == [85.0]


def test_a_patients_diary_of_the_blocks_day_gives_that_blocks_relief():
    # The diary is its own document, dated the block's day, with a date on every row; it names the
    # block but states no procedure.
    blocks = blocks_of(BLOCK_1, ("01/08/2026", "PATIENT PAIN DIARY - MEDIAL BRANCH BLOCK #1\n\n"
                                 "Date\tTime after block\tPain 0-10\t% relief\tNotes\n"
                                 "01/08/2026\tBefore\t7\t\tsitting\n01/08/2026\t30 min\t1\t85\tstood\n"
                                 "01/08/2026\t2 hr\t1\t90\tlaundry\n01/08/2026\t4 hr\t5\t40\twearing off\n"))
    assert sorted(blocks) == ["2026-01-08"]
    assert [f.value["percent"] for f, _ in blocks["2026-01-08"].reliefs] == [85.0, 90.0, 40.0]


def test_a_steroid_given_on_the_other_side_is_not_the_diagnostic_blocks():
    """drafting/blocks.py BlockRecord.steroids_on: the left joint's intra-articular steroid says nothing
    of the right side's anesthetic-only medial branch block in the same session."""
    body = ("PROCEDURES PERFORMED\n 1. Right L4-5 and L5-S1 medial branch blocks, diagnostic block #1\n"
            " 2. Left L4-5 intra-articular facet joint injection with corticosteroid\n\n"
            "Right side (diagnostic): bupivacaine 0.5%, 0.5 mL at each target. No steroid on the right.\n\n"
            "Left side (therapeutic): needle into the left L4-5 joint. Arthrogram confirmed.\n"
            "Injected triamcinolone 20 mg with 0.5 mL bupivacaine 0.5%.\n")
    block = blocks_of(("04/02/2026", body))["2026-04-02"]
    assert {f.value["agent"] for f, _ in block.steroids} >= {"triamcinolone"}
    assert block.steroids_on({"right"}) == []
    assert {f.value["agent"] for f, _ in block.steroids_on({"left"})} >= {"triamcinolone"}
    assert block.steroids_on({"left", "right"})


def test_a_flowsheet_on_the_clock_gives_relief_from_its_rows():
    """drafting/blocks.py _when_scored: rows that open with a clock time are before or after the note's
    "Injection complete" time; a 24-hour time without its colon opens a row too."""
    flowsheet = ("PROCEDURE: Right L4-5 and L5-S1 medial branch blocks, lidocaine 2%. No steroid. "
                 "Injection complete 09:12.\n\nPHASE II FLOWSHEET\n"
                 "08:40  BP 150/90  HR 84  SpO2 97% RA  Pain 8/10  (pre-op)\n"
                 "09:27  BP 134/82  HR 76  SpO2 98% RA  Pain 1/10\n"
                 "10:12  BP 128/78  HR 70  SpO2 99% RA  Pain 0/10\n")
    block = blocks_of(("07/23/2026", flowsheet))["2026-07-23"]
    readings = sorted((f.value["at_hours"], f.value["percent"]) for f, _ in block.reliefs)
    assert readings == [(0.25, 87.5), (1.0, 100.0)]
    table = ("PROCEDURE: Right L4-5 and L5-S1 medial branch blocks, lidocaine 2%. No steroid. "
             "Procedure end: 08:36.\n\nRECOVERY - VITAL SIGNS / PAIN\n"
             "Time   BP       HR   SpO2   RR   Temp(C)   Pain(0-10)   Init\n"
             "0805   148/88   80   97%    16   36.7      7            KL\n"
             "0851   136/80   74   98%    16   36.6      1            KL\n"
             "0936   128/76   70   97%    14   36.7      0            KL\n")
    block = blocks_of(("07/09/2026", table))["2026-07-09"]
    readings = sorted((f.value["at_hours"], round(f.value["percent"])) for f, _ in block.reliefs)
    assert readings == [(0.25, 86), (1.0, 100)]


NURSING_PHASES = ("06/02/2026",
                  "Procedure: Left L4-5, L5-S1 lumbar medial branch block #1\n\n"
                  "PRE-PROCEDURE ASSESSMENT (RN) - 07:45\n"
                  "Vitals: BP 148/84  HR 74  SpO2 96% RA\n"
                  "Pain score: 7 (scale 0-10)     Location: left low back\n\n"
                  "INTRA-PROCEDURE (RN)\n"
                  "08:28  Lidocaine 2% PF 0.5 mL per target. No steroid.\n"
                  "08:30  Injection complete. Needles removed.\n\n"
                  "PHYSICIAN NOTE\nResult: 86% relief.\n"
                  "Plan: block #2 with bupivacaine in about 2 weeks.\n\n"
                  "POST-PROCEDURE (RN)\n"
                  "Time   BP       HR   Pain                         Notes\n"
                  "08:45  138/78   68   Pain score: 1 (scale 0-10)   site dry\n"
                  "09:45  140/78   72   Pain score: 1 (scale 0-10)   discharge criteria met\n")


def test_a_stated_relief_without_hours_takes_them_from_a_nursing_records_timed_scores():
    """The relief is stated ("86% relief") but not how long it held; the flowsheet's rows after
    "08:30  Injection complete." (the clock first) against the "PRE-PROCEDURE ASSESSMENT" score say it."""
    block = blocks_of(NURSING_PHASES)["2026-06-02"]
    readings = [(f.value["percent"], f.value.get("at_hours"), f.pattern_id) for f, _ in block.reliefs]
    assert readings == [(86.0, None, "relief.pct_relief"), (85.7, 0.25, "derived.pre_post_scores"),
                        (85.7, 1.25, "derived.pre_post_scores")]


def test_a_call_after_block_2_that_recalls_block_1_for_comparison_reports_block_2():
    """drafting/blocks.py _followed_block: block #1's date weeks before, named for comparison, does not
    stop the next-day call from reporting on yesterday's block."""
    call = ("01/23/2026", "PHONE NOTE\nCalled pt re: MBB #2 done yesterday (bupivacaine).\n"
                          "Pt states about 85% relief in recovery, but it lasted only about 45 minutes.\n\n"
                          "Compare block #1 (lidocaine) 1/8: ~90% for about 3 hours per her diary.\n")
    blocks = blocks_of(BLOCK_1, BLOCK_2, call)
    durations = sorted(f.value["duration_hours"] for f, _ in blocks["2026-01-22"].reliefs
                       if f.value.get("duration_hours") is not None)
    assert durations == [0.75]


def test_an_outside_letters_indented_block_items_give_each_block_its_levels_and_relief():
    # Block #1's item names its joints; block #2's says "same nerves" and names none.
    letter = ("04/20/2026", "Dear Dr. Haddad,\n\nDiagnostic medial branch blocks, both done by me under "
                            "fluoroscopic guidance, no steroid:\n\n"
                            "  Block #1 - 01/15/2026\n"
                            "     Right L3 and L4 medial branches and L5 dorsal ramus (right L4-5, L5-S1)\n"
                            "     Bupivacaine 0.5%, 0.5 mL per nerve\n"
                            "     Pre NRS 7/10; 90% relief beginning at 15 min and lasting 6 hours\n\n"
                            "  Block #2 - 02/05/2026\n"
                            "     Same nerves, right side\n"
                            "     Lidocaine 2%, 0.5 mL per nerve\n"
                            "     Pre NRS 7/10; 85% relief lasting about 3 hours\n\n"
                            "Sincerely,\n\nHelen Varga, DO\n")
    blocks = blocks_of(letter)
    assert sorted(blocks) == ["2026-01-15", "2026-02-05"]
    first, second = blocks["2026-01-15"], blocks["2026-02-05"]
    assert first.joints == {"left": [], "right": ["L4-L5", "L5-S1"]}
    assert [(f.value["percent"], f.value["duration_hours"]) for f, _ in first.reliefs] == [(90.0, 6.0)]
    assert [f.value["agent"] for f, _ in first.agents] == ["bupivacaine"]
    assert [f.value["percent"] for f, _ in second.reliefs] == [85.0]
    assert [f.value["agent"] for f, _ in second.agents] == ["lidocaine"]


def test_a_post_label_ends_the_indication_so_the_diary_after_it_is_the_blocks_own():
    block_2 = ("09/15/2026", "PROCEDURE PERFORMED: Right lumbar medial branch blocks, L3-4 and L4-5 (block #2)\n\n"
                             "INDICATION: Block #1 on 08/25/2026 with lidocaine 2% gave 85% relief for about\n"
                             "1.5 hours. This second block uses bupivacaine to confirm the response.\n\n"
                             "0.5 mL bupivacaine 0.5% was injected at each target. No steroid was used.\n\n"
                             "POST: NRS 0/10 at 30 minutes. Patient phoned 09/16/2026 with her diary:\n"
                             "90% relief for approximately 4 hours, wearing off in the mid-afternoon.\n")
    block_1 = ("08/25/2026", "PROCEDURE: Right L3-4 and L4-5 medial branch blocks under fluoroscopy. "
                             "Lidocaine 2% 0.5 mL per level. No steroid.\n\n"
                             "Next: block #2 with bupivacaine in about 3 weeks.\n")
    blocks = blocks_of(block_1, block_2)
    assert [(f.value["percent"], f.value["duration_hours"]) for f, _ in blocks["2026-09-15"].reliefs] == [(90.0, 4.0)]
    assert {f.value["agent"] for f, _ in blocks["2026-08-25"].agents} == {"lidocaine"}  # not the next block's


def test_block_ones_diary_typed_across_block_twos_note_gives_block_one_relief_at_each_hour():
    block_1 = ("09/22/2026", "PROCEDURE: Right L4-5 medial branch block #1 under fluoroscopy. Lidocaine 2% 0.5 mL "
                             "per nerve. No steroid.\n")
    block_2 = ("10/06/2026", "PROCEDURE: Right L4-5 medial branch block #2 under fluoroscopy. Bupivacaine 0.5% "
                             "0.5 mL per nerve. No steroid.\n\n"
                             "DIARY FROM BLOCK #1 (09/22/26, lidocaine 2%), transcribed from pt's card\n"
                             "NRS, R low back; hours after injection across the top\n"
                             "              Pre   0.5 h   1 h   2 h   4 h\n"
                             "  Block #1     7      1      1     1     3\n")
    blocks = blocks_of(block_1, block_2)
    readings = [(f.value["at_hours"], f.value["percent"]) for f, _ in blocks["2026-09-22"].reliefs]
    assert readings == [(0.5, 85.7), (1.0, 85.7), (2.0, 85.7), (4.0, 57.1)]
    assert not blocks["2026-10-06"].reliefs


def test_a_dictated_paragraph_after_the_interval_history_is_the_blocks_own():
    block_1 = ("03/03/2026", "PROCEDURE: Bilateral L4-5 medial branch blocks under fluoroscopy. Lidocaine 2% 0.5 mL "
                             "per level. No steroid.\n")
    block_2 = ("03/24/2026", "Procedure: Bilateral L4-5 lumbar medial branch blocks, diagnostic block #2\n\n"
                             "Interval history: Block #1 on 03/03/2026 with lidocaine 2% gave 90% relief for about "
                             "4 hours.\n\n"
                             "Dictated: Mr. Doe returns for his second medial ranch block. I injected 0.5 mL of "
                             "lie-decaying two percent at each target, with no steroid.\n")
    blocks = blocks_of(block_1, block_2)
    assert [f.value["agent"] for f, _ in blocks["2026-03-24"].agents] == ["lidocaine"]
    assert blocks["2026-03-24"].no_steroid


def _lasting(record) -> list[tuple[float, float | None]]:
    """A block record's reliefs as (percent, hours they lasted)."""
    return [(f.value["percent"], f.value["duration_hours"]) for f, _ in record.reliefs]


BILATERAL_BLOCK_1 = ("03/24/2026", "PROCEDURE: Bilateral L3-4 and L4-5 medial branch blocks. "
                                   "Lidocaine 2% 0.5 mL per nerve.\n")
BILATERAL_BLOCK_2 = ("04/14/2026", "Procedure: Medial branch blocks #2 (confirmatory), bilateral L3-4 and L4-5\n"
                                   "Anesthetic: bupivacaine 0.5% PF, 0.5 mL/nerve.  Steroid: none.\n")


def test_a_procedure_log_run_after_the_ablation_still_reports_the_blocks_by_their_dates():
    block_1 = ("03/03/2026", "PROCEDURE: Right L3-4 and L4-5 medial branch blocks under fluoroscopy. "
                             "Lidocaine 2% 0.5 mL per nerve. No steroid.\n")
    block_2 = ("03/24/2026", "PROCEDURE: Right L3-4 and L4-5 medial branch blocks under fluoroscopy, block #2. "
                             "Bupivacaine 0.5% 0.5 mL per nerve. No steroid.\n")
    log = ("04/28/2026", "Report: Interventional Procedure Log\n"
                         "Proc Date\tCPT\tLevels\tSide\tAgent\tRelief %\tDuration\n"
                         "03/03/2026\t64493-RT\tL3-4, L4-5\tRight\tlidocaine 2%\t90\t3 h\n"
                         "03/24/2026\t64493-RT\tL3-4, L4-5\tRight\tbupivacaine 0.5%\t85\t6 h\n"
                         "04/21/2026\t64635-RT\tL3-4, L4-5\tRight\tlidocaine 2%\tn/a\tn/a\n")
    docs = [extract_source(SourceText(HEADER.format(date=date) + body, f"note{i}.txt"))
            for i, (date, body) in enumerate((block_1, block_2, log))]
    case = group_cases([summarise(d) for d in docs])[0]
    blocks = {b.date: b for b in collect_blocks(case, before="2026-04-21")}
    assert _lasting(blocks["2026-03-03"]) == [(90.0, 3.0)]
    assert _lasting(blocks["2026-03-24"]) == [(85.0, 6.0)]


def test_todays_drug_after_a_clause_that_names_block_one_is_todays():
    blocks = blocks_of(BILATERAL_BLOCK_1, (BILATERAL_BLOCK_2[0], BILATERAL_BLOCK_2[1] + "\n"
                       "Course: uncomplicated. Needles placed to the same six targets as block #1; negative\n"
                       "aspiration; bupivacaine injected. Needles removed intact.\n"))
    assert {f.value["agent"] for f, _ in blocks["2026-03-24"].agents} == {"lidocaine"}


def test_an_hour_by_hour_diary_of_scores_gives_the_blocks_relief_at_each_hour():
    block_1 = ("12/02/2025", "PROCEDURE: Left L5-S1 medial branch block under fluoroscopy. Lidocaine 2% 0.5 mL "
                             "per nerve. Steroid: none.\n\n"
                             "ADDENDUM 12/03/2025 - diary sheet dropped off (transcribed by MA):\n"
                             "  Pre-block: 7/10\n  Hour 1: 1/10 - unloaded the dishwasher\n  Hour 2: 1/10\n"
                             "  Hour 3: 3/10, aching coming back\n  Hour 4: 6/10\n")
    blocks = blocks_of(block_1)
    readings = [(f.value["at_hours"], f.value["percent"]) for f, _ in blocks["2025-12-02"].reliefs]
    assert readings == [(1.0, 85.7), (2.0, 85.7), (3.0, 57.1), (4.0, 14.3)]


def test_a_recovery_assessment_and_a_physician_summary_after_the_indication_are_the_blocks_own():
    blocks = blocks_of(BILATERAL_BLOCK_1, (BILATERAL_BLOCK_2[0], BILATERAL_BLOCK_2[1]
                       + "Indication: MBB #1 03/24/2026 (lidocaine 2%) - ~90% relief x 3 h.\n\n"
                         "Recovery assessment (RN), time after injection:\n"
                         "  20 min   NRS 1/10 standing/extension - \"85% better\"\n\n"
                         "Physician summary: about 85% relief at 20 minutes, lasting only about 45 minutes.\n"))
    assert (85.0, 0.75) in _lasting(blocks["2026-04-14"])
    assert _lasting(blocks["2026-03-24"]) == [(90.0, 3.0)]


def test_a_one_line_dx_field_ends_with_its_paragraph_so_the_notes_own_relief_is_the_blocks():
    block_1 = ("09/08/2026", "PROCEDURE: Right L4-5 and L5-S1 medial branch blocks. Lidocaine 2% 0.5 mL per nerve.\n")
    block_2 = ("09/29/2026", "Procedure: Right L4-5 and L5-S1 medial branch blocks, block #2 (confirmatory)\n"
                             "Targets: R L3, L4 medial branches + R L5 dorsal ramus\nDx: M47.816\n\n"
                             "Interval: MBB #1 09/08/2026 (lidocaine 2%) -- 85% relief for ~2.5 h.\n"
                             "NRS 6/10 today (standing).\n\n"
                             "Prone, sterile drape. C-arm fluoroscopy. Injected ropivacaine 0.5% (Naropin),\n"
                             "0.5 mL per target. No corticosteroid. No complications.\n\n"
                             "Post (30 min): NRS 1/10 on standing/extension; 90% relief.\n"
                             "Discharged 08:58 with husband.\n"
                             "Phone f/u 09/30/2026 (L. Marsh, RN): 90% relief for about 7 hours, back to\n"
                             "baseline by evening.\n")
    blocks = blocks_of(block_1, block_2)
    assert (90.0, 7.0) in _lasting(blocks["2026-09-29"])


def test_a_patients_letter_gives_each_block_the_relief_under_its_heading():
    block_1 = ("09/08/2026", "PROCEDURE: Left L4-5 medial branch block #1 under fluoroscopy. Lidocaine 2% 0.5 mL per nerve.\n")
    block_2 = ("09/22/2026", "PROCEDURE: Left L4-5 medial branch block #2 under fluoroscopy. Bupivacaine 0.5% 0.5 mL per nerve.\n")
    letter = ("09/28/2026", "Dear Dr. Castellanos,\n\nBLOCK #1 - Tuesday, Sept. 8th\n"
                            "You did the shot at about 9:30. By the time we got home I was 90 percent better.\n\n"
                            "BLOCK #2 - Tuesday, Sept. 22nd\n"
                            "The shot was around 11:00. I was 85% better by noon and stayed that way all afternoon.\n\n"
                            "Sincerely,\nJane Doe\n")
    blocks = blocks_of(block_1, block_2, letter)
    assert [f.value["percent"] for f, _ in blocks["2026-09-08"].reliefs] == [90.0]
    assert [f.value["percent"] for f, _ in blocks["2026-09-22"].reliefs] == [85.0]


def test_block_rows_under_a_lead_in_that_names_the_levels_give_each_recalled_block_those_levels():
    rfa = ("04/16/2026", "PROCEDURE: Right L4-5 and L5-S1 radiofrequency ablation under fluoroscopy.\n\n"
                         "INDICATIONS:\nTwo diagnostic medial branch blocks at right L4-5 and L5-S1, anesthetic only:\n"
                         "  MBB #1  03/05/2026  lidocaine 2%, 0.5 mL/nerve       90% relief, lasted ~2 h\n"
                         "  MBB #2  03/24/2026  bupivacaine 0.5%, 0.5 mL/nerve   85% relief, lasted ~5 h\n")
    docs = [extract_source(SourceText(HEADER.format(date=rfa[0]) + rfa[1], "rfa.txt"))]
    case = group_cases([summarise(d) for d in docs])[0]
    blocks = {b.date: b for b in collect_blocks(case, before="2026-04-16")}
    assert sorted(blocks) == ["2026-03-05", "2026-03-24"]
    assert blocks["2026-03-05"].joints == {"left": [], "right": ["L4-L5", "L5-S1"]}
    assert _lasting(blocks["2026-03-24"]) == [(85.0, 5.0)]


WORKSHEET = ("02/26/2026",
             "COMPARATIVE MEDIAL BRANCH BLOCK WORKSHEET\n(diagnostic blocks - radiofrequency candidacy)\n\n"
             "Scale: NRS 0-10, patient-reported. Times are counted from the end of the injection.\n\n"
             "                          Block 1                  Block 2\n"
             "Date                      01/08/2026               01/22/2026\n"
             "Agent                     Lidocaine 2%             Bupivacaine 0.5%\n"
             "Pre score                 7                        8\n"
             "30 min                    1                        2\n"
             "1 h                       1                        1\n"
             "2 h                       3                        1\n"
             "4 h                       6                        1\n"
             "% relief                  86%                      88%\n\n"
             "Reviewed and signed: 02/26/2026\n")


def test_a_worksheet_with_a_column_per_block_gives_each_block_its_relief_and_hours():
    """drafting/blocks.py _block_columns: the "% relief" row is each block's relief; its timed rows
    against "Pre score" how long it held. The worksheet itself is no block session."""
    blocks = blocks_of(BLOCK_1, BLOCK_2, WORKSHEET)
    assert sorted(blocks) == ["2026-01-08", "2026-01-22"]
    second = [(f.value["percent"], f.value.get("at_hours")) for f, _ in blocks["2026-01-22"].reliefs
              if f.pattern_id != "relief.pct_relief"]
    assert (88.0, None) in second and (87.5, 4.0) in second and (75.0, 0.5) in second
    first = [(f.value["percent"], f.value.get("at_hours")) for f, _ in blocks["2026-01-08"].reliefs]
    assert (86.0, None) in first and (85.7, 1.0) in first and (57.1, 2.0) in first


DIARY_SHEETS = ("01/26/2026", "SCANNED DOCUMENT - TYPED TRANSCRIPTION\nDocument: patient pain diary, 2 sheets\n\n"
                              "=== SHEET 1 ===\nStaff section:  Block date 01/08/2026    Block #1\n"
                              "                Medicine: lidocaine 2%\n\n"
                              "Time after block | Pain 0-10 | What I did / notes\n"
                              "Pre              | 8         | sore\n30 min           | 1         | walked\n"
                              "2 hr             | (crossed out: 1) 6 | wrong line before\n"
                              "4 hr             | 7         |\n\n"
                              "=== SHEET 2 ===\nStaff section:  Block date 01/22/2026    Block #2\n\n"
                              "Time after block | Pain 0-10 | What I did / notes\n"
                              "Pre              | 8         |\n1 hr             | 1         |\n"
                              "4 hr             | 2         |\n")


def test_a_transcribed_diary_sheet_gives_the_block_it_names_its_relief_by_the_hour():
    blocks = blocks_of(BLOCK_1, BLOCK_2, DIARY_SHEETS)
    timed = {date: [(f.value["at_hours"], f.value["percent"]) for f, _ in b.reliefs if f.value.get("at_hours")]
             for date, b in blocks.items()}
    assert timed["2026-01-08"] == [(0.5, 87.5), (2.0, 25.0), (4.0, 12.5)]
    assert timed["2026-01-22"] == [(1.0, 87.5), (4.0, 75.0)]


def test_a_score_followed_by_pre_is_the_baseline_of_the_marks_after_it():
    block = ("01/08/2026", "PROCEDURE: Bilateral L3-4 and L4-5 medial branch blocks under fluoroscopy. "
                           "Lidocaine 2% 0.5 mL per level. No steroid.\n\n"
                           "POST: VAS 68 mm pre, 6 mm at 30 min.\nDiary read back by phone:\n"
                           "    2 h    11 mm\n    4 h    39 mm\n")
    (record,) = blocks_of(block).values()
    assert [(f.value["at_hours"], f.value["percent"]) for f, _ in record.reliefs] == [
        (0.5, 91.2), (2.0, 83.8), (4.0, 42.6)]


def test_a_call_the_day_after_a_block_reports_on_it_though_it_names_the_next_block():
    call = ("01/09/2026", "Nursing telephone note\n\nDay-after call for MBB #1 (lidocaine 2%) done yesterday.\n"
                          "\"I was pain free from 10 until about 1:30, then it crept back.\" About 85% relief.\n\n"
                          "Next: MBB #2 on 01/22/2026 as scheduled.\n")
    blocks = blocks_of(BLOCK_1, call, BLOCK_2)
    assert 85.0 in [f.value["percent"] for f, _ in blocks["2026-01-08"].reliefs]


def test_a_letter_filed_days_after_it_was_written_reports_on_the_block_it_names():
    letter = ("01/16/2026", "SCANNED PATIENT CORRESPONDENCE - TRANSCRIPTION     Rcvd 01/16/2026\n\n"
                            "                                   Saturday January 10, 2026\n\nDear Dr. Smith,\n\n"
                            "You asked me to write down how my back did after the shot on Thursday January 8.\n"
                            "My back was 85% better from about ten in the morning until supper.\n\n"
                            "Thank you for listening to me,\nJane Doe\n")
    blocks = blocks_of(BLOCK_1, letter, BLOCK_2)
    assert 85.0 in [f.value["percent"] for f, _ in blocks["2026-01-08"].reliefs]
    # Written ten days after the block, the same letter reports on nothing.
    late = (letter[0], letter[1].replace("Saturday January 10", "Sunday January 18"))
    assert 85.0 not in [f.value["percent"] for f, _ in blocks_of(BLOCK_1, late, BLOCK_2)["2026-01-08"].reliefs]


def test_an_intake_field_gives_the_previous_blocks_relief():
    # The medical assistant's intake above block #2's note (and above the ablation's) tells of the block
    # before: "Last procedure: MBB 3/4" is history, not block number 3, and the note is still block #2's.
    intake = ("MEDICAL ASSISTANT INTAKE   (K. Osei, CMA  {date} 12:55)\n"
              "Pain relief since last procedure: {pct}%\nHours of relief: {hours}\nLast procedure: MBB {last}\n\n")
    block_2 = ("03/18/2026", intake.format(date="03/18/2026", pct=90, hours=8, last="3/4")
               + "Procedure: Bilateral L3-4 and L4-5 lumbar medial branch blocks, #2 (confirmatory)\n"
                 "Guidance: fluoroscopy\nInjectate: bupivacaine 0.5%, 0.5 mL per nerve; no steroid\n\n"
                 "Recovery: pain 1/10 at 30 minutes.\n")
    ablation = ("04/08/2026", intake.format(date="04/08/2026", pct=85, hours=6, last="3/18")
                + "Procedure: Bilateral L3-4 and L4-5 radiofrequency ablation\nGuidance: fluoroscopy\n")
    blocks = blocks_of(BLOCK_1, ("03/04/2026", BLOCK_1[1]), block_2, ablation)
    assert [(f.value["percent"], f.value["duration_hours"]) for f, _ in blocks["2026-03-04"].reliefs] == [(90.0, 8.0)]
    assert (85.0, 6.0) in [(f.value["percent"], f.value["duration_hours"]) for f, _ in blocks["2026-03-18"].reliefs]


def test_a_nurses_initial_does_not_end_the_sentence_that_dates_her_call():
    # "RN call 02/11/26 (J. Tran RN): ... 85% relief": the call is the day after block #2, so the relief is its.
    note = ("02/12/2026", "RESULTS\nBlock #1 01/08/2026, lidocaine.\nBlock #2 02/10/2026, bupivacaine.\n"
                          "RN call 02/11/26 0905 (J. Tran RN): diary shows 85% relief for about "
                          "6 hours, expected for bupivacaine.\n")
    blocks = blocks_of(BLOCK_1, ("02/10/2026", BLOCK_1[1]), note)
    assert [f.value["percent"] for f, _ in blocks["2026-02-10"].reliefs] == [85.0]


def test_a_call_dated_after_the_block_gives_that_blocks_relief_in_a_later_note():
    # In block #2's note: "After block #1 ... per the nurse call of 07/29/2026": the call's day is no block's.
    block_2 = ("08/11/2026", "PROCEDURE: Bilateral L3-4 and L4-5 medial branch blocks under fluoroscopy, block #2. "
                             "Bupivacaine 0.5% 0.5 mL per level. No steroid.\n\n"
                             "INTERVAL: After block #1 she reported 90% relief for about 2 hours, per the nurse "
                             "call of 07/29/2026.\n")
    blocks = blocks_of(("07/28/2026", BLOCK_1[1]), block_2)
    assert sorted(blocks) == ["2026-07-28", "2026-08-11"]
    assert [f.value["percent"] for f, _ in blocks["2026-07-28"].reliefs] == [90.0]

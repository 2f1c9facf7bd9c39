"""Pain-diary and block-summary tables become pain-score and relief facts (extractor/tables.py)."""
from __future__ import annotations

import pytest

from extractor.tables import elapsed_hours, table_cells

PIPE_DIARY = """POST-PROCEDURE ASSESSMENT
| Time | VAS | Relief | Activity |
|---|---|---|---|
| Pre | 5 | - | |
| 30 min | 1 | 80% | provocation negative |
| 4 h (diary) | 1 | 80% | worked in garage shop 1 h |
| 10 h (diary) | 5 | 0% | baseline |
Diary reviewed by phone.
"""

# What a PDF's text layer gives for a grid table: single spaces between cells.
FLAT_DIARY = """PAIN DIARY (completed by patient)
Time after block NRS (0-10) % relief Activity
Before block 6 -
15 min 1 90 extension/rotation in recovery
1 h 4 30 pain coming back
2 h 6 0
Assessment: 90% relief but lasting only about 45 minutes.
"""

SUMMARY = """DIAGNOSTIC BLOCKS
| Block | Date | Agent | Relief | Duration |
|---|---|---|---|---|
| #1 | Sep 30, 2025 | lidocaine 2% | 90% | ~2.5 h |
| #2 | Oct 14, 2025 | bupivacaine 0.5% | 80% (VAS 5 -> 1) | ~6 h |
No steroid in either block.
"""


def _cells(text: str) -> list[tuple[str, str, dict]]:
    return [(text[s:e], rule, note) for s, e, rule, note in table_cells(text)]


def test_pipe_diary_reads_scores_and_relief_by_column():
    cells = _cells(PIPE_DIARY)
    assert [(t, r) for t, r, _ in cells] == [
        ("5", "table.vas_column"),
        ("1", "table.vas_column"), ("80%", "table.relief_column"),
        ("1", "table.vas_column"), ("80%", "table.relief_column"),
        ("5", "table.vas_column"), ("0%", "table.relief_column"),
    ]
    # the minutes and hours in the activity column are not scores
    assert [n["at_hours"] for _, _, n in cells] == [None, 0.5, 0.5, 4.0, 4.0, 10.0, 10.0]


def test_flat_diary_reads_cells_in_column_order():
    cells = _cells(FLAT_DIARY)
    assert [(t, r) for t, r, _ in cells] == [
        ("6", "table.nrs_column"),
        ("1", "table.nrs_column"), ("90", "table.relief_column"),
        ("4", "table.nrs_column"), ("30", "table.relief_column"),
        ("6", "table.nrs_column"), ("0", "table.relief_column"),
    ]


def test_block_summary_reads_relief_with_its_duration_cell():
    cells = _cells(SUMMARY)
    assert [(t, n["duration"]) for t, _, n in cells] == [("90%", "~2.5 h"), ("80%", "~6 h")]
    assert {r for _, r, _ in cells} == {"table.block_relief_column"}


@pytest.mark.parametrize("text", [
    # prose that names a time and a score is no table
    "Time to onset of relief was 10 minutes; NRS 2/10 afterwards.\nPlan: RFA.\n",
    # a header with no rows under it
    "| Time | NRS | Relief |\n\nThe patient did not return the diary.\n",
    # one row is not enough to trust the columns
    "Time NRS Relief\n30 min 1 90\nPlan: RFA.\n",
])
def test_no_table_no_cells(text):
    assert table_cells(text) == []


def test_diary_cells_become_facts_with_column_scale(extract_text):
    doc = extract_text(PIPE_DIARY)
    scores = [f for f in doc.facts if f.pattern_id == "table.vas_column"]
    assert [(f.text, f.value["score"], f.value["scale"]) for f in scores] == [
        ("5", 5.0, "VAS"), ("1", 1.0, "VAS"), ("1", 1.0, "VAS"), ("5", 5.0, "VAS")]
    relief = [f for f in doc.facts if f.kind == "relief"]
    assert [(f.text, f.value["percent"]) for f in relief] == [("80%", 80.0), ("80%", 80.0), ("0%", 0.0)]
    assert all(doc.text[f.start:f.end] == f.text for f in scores + relief)


def test_summary_relief_fact_carries_the_duration(extract_text):
    doc = extract_text(SUMMARY)
    relief = [f for f in doc.facts if f.pattern_id == "table.block_relief_column"]
    assert [(f.value["percent"], f.value["duration_hours"]) for f in relief] == [(90.0, 2.5), (80.0, 6.0)]


# What OCR makes of a faxed pipe diary: a border read as "[=>", lost pipes.
OCR_DIARY = """POST-PROCEDURE ASSESSMENT
| Time | VAS | Relief | Activity |
[=>
| 30 min 1 | 90% | stood 15 min, extension-rotation left |
| 1 h (diary) | 1 | 90% | walked around the block |
| 2 h (diary) | 1 90% | |
| 5 h (diary) | 7 | 0% | baseline |
"""


def test_ocr_damaged_pipe_diary_falls_back_to_column_order():
    cells = _cells(OCR_DIARY)
    assert [(t, r, n["at_hours"]) for t, r, n in cells] == [
        ("1", "table.vas_column", 0.5), ("90%", "table.relief_column", 0.5),
        ("1", "table.vas_column", 1.0), ("90%", "table.relief_column", 1.0),
        ("1", "table.vas_column", 2.0), ("90%", "table.relief_column", 2.0),
        ("7", "table.vas_column", 5.0), ("0%", "table.relief_column", 5.0),
    ]


def test_a_summary_relief_range_counts_at_its_lower_bound(extract_text):
    doc = extract_text(
        "| Block | Date       | Anesthetic       | Relief  | Duration |\n"
        "|-------|------------|------------------|---------|----------|\n"
        "| #1    | 01/22/2026 | lidocaine 2%     | 90%     | 1.5 h    |\n"
        "| #2    | 02/12/2026 | bupivacaine 0.5% | 80-85%  | 5 h      |\n")
    relief = [f for f in doc.facts if f.pattern_id == "table.block_relief_column"]
    assert [(f.text, f.value["percent"], f.value["basis"], f.value["duration_hours"]) for f in relief] == [
        ("90%", 90.0, "percent", 1.5), ("80-85%", 80.0, "range", 5.0)]


def test_a_patient_diary_with_a_percent_better_column(extract_text):
    doc = extract_text(
        "| Time after injection | Pain (0-10) | % better |\n"
        "|----------------------|-------------|----------|\n"
        "| Pre-injection        | 6           | --       |\n"
        "| 15 min               | 1           | 85       |\n"
        "| 2 hr                 | 1           | 85       |\n"
        "| 4 hr                 | 5           | 15       |\n")
    relief = [f for f in doc.facts if f.kind == "relief"]
    assert [(f.text, f.value["percent"]) for f in relief] == [("85", 85.0), ("85", 85.0), ("15", 15.0)]


TAB_DIARY = ("POST-BLOCK RELIEF LOG\n"
             "Date\tTime after block\tNRS\t% relief\tChecked by\n"
             "2026/09/15\tPre\t7\t-\tRN\n"
             "2026/09/15\t20 min\t1\t86\tRN\n"
             "2026/09/15\t2 h\t1\t86\tpt (phone)\n"
             "2026/09/16\tnext AM\t7\t0\tpt (phone)\n"
             "\nRESULT\nPositive block.\n")

TAB_SUMMARY = ("DIAGNOSTIC BLOCKS\n"
               "Date\tBlock\tAnesthetic\tLevels\tRelief\tLasted\n"
               "2026/09/15\tMBB #1\tlidocaine 2%\tbilat L3-4, L4-5\t86%\t~2 h\n"
               "2026/10/06\tMBB #2\tbupivacaine 0.5%\tbilat L3-4, L4-5\t86%\t~4 h\n")


def test_tab_separated_diary_is_read_by_cell_with_the_time_in_any_column():
    cells = _cells(TAB_DIARY)
    assert [(t, rule.split(".")[1], note["at_hours"]) for t, rule, note in cells] == [
        ("7", "nrs_column", None), ("1", "nrs_column", 0.333), ("86", "relief_column", 0.333),
        ("1", "nrs_column", 2.0), ("86", "relief_column", 2.0)]  # "next AM" is no time: the table ends


def test_tab_separated_block_summary_gives_relief_with_its_duration_cell():
    assert _cells(TAB_SUMMARY) == [("86%", "table.block_relief_column", {"duration": "~2 h"}),
                                   ("86%", "table.block_relief_column", {"duration": "~4 h"})]


CLOCK_LOG = ("RELIEF LOG\n"
             "  Clock    Since injection    % relief\n"
             "  10:15    0 min              --\n"
             "  10:45    30 min             90\n"
             "  11:15    1 hr               95\n"
             "  13:15    3 hr               80\n"
             "\nDischarged 11:25.\n")


def test_a_log_whose_rows_start_with_the_clock_time_reads_the_time_since_the_injection():
    assert [(t, note["at_hours"]) for t, _, note in _cells(CLOCK_LOG)] == [("90", 0.5), ("95", 1.0), ("80", 3.0)]


# A summary typed with spaces for columns; its "% Relief" cells are bare numbers and ranges.
SPACED_SUMMARY = """DIAGNOSTIC BLOCKS
Block      Date         Levels        % Relief   Duration
MBB #1     01/05/2026   L4-5 bilat    85-90      4 hrs
MBB #2     01/19/2026   L4-5 bilat    90         5 hrs
Plan: bilateral L4-5 RFA.
"""


def test_a_space_aligned_summary_reads_bare_cells_under_a_percent_header(extract_text):
    doc = extract_text(SPACED_SUMMARY)
    relief = [f for f in doc.facts if f.pattern_id == "table.block_relief_column"]
    assert [(f.text, f.value["percent"], f.value["basis"], f.value["duration_hours"]) for f in relief] == [
        ("85-90", 85.0, "range", 4.0), ("90", 90.0, "percent", 5.0)]


@pytest.mark.parametrize("text", [
    # no percent in the header: a bare "85" could be anything
    SPACED_SUMMARY.replace("% Relief", "Relief  "),
    # a row whose cells do not line up with the header's is not read
    "Block      Date         Levels        % Relief   Duration\nMBB #1 01/05/2026 L4-5 85 4 hrs\nMBB #2     01/19/2026   L4-5    90    5 hrs\n",
])
def test_a_spaced_summary_needs_a_percent_header_and_aligned_rows(text):
    assert [c for c in table_cells(text) if c[2] == "table.block_relief_column"] == []


CLOCK_DIARY = """Description: ... The anesthetic mixture was injected. Injection complete 09:05. No complications.

| Time        | NRS | Activity at the time          |
|-------------|-----|-------------------------------|
| Pre 08:40   | 8   | standing, rising from chair   |
| 09:20       | 1   | sit-to-stand x 5              |
| 11:05       | 1   | sitting, light housework      |
| 1:05        | 4   |                               |
"""


def test_clock_time_rows_count_their_hours_from_the_injection():
    cells = table_cells(CLOCK_DIARY)
    hours = [(CLOCK_DIARY[s:e], notes["at_hours"]) for s, e, _rule, notes in cells]
    # "Pre 08:40" is before the block; a 12-hour clock runs on past noon ("1:05" is 13:05).
    assert hours == [("8", None), ("1", 0.25), ("1", 2.0), ("4", 4.0)]


def test_clock_time_rows_without_a_stated_injection_time_have_no_hours():
    text = CLOCK_DIARY.replace("Injection complete 09:05. ", "")
    assert [notes["at_hours"] for *_span, notes in table_cells(text)] == [None, None, None, None]


def test_score_cells_written_with_their_scale():
    text = "Response\n  Time      NRS     Relief\n  Pre       7/10    -\n  30 min    1/10    85%\n  60 min    1/10    85%\n"
    cells = [(text[s:e], rule, notes["at_hours"]) for s, e, rule, notes in table_cells(text)]
    assert ("85%", "table.relief_column", 0.5) in cells and ("85%", "table.relief_column", 1.0) in cells
    assert ("7", "table.nrs_column", None) in cells  # the number, not its "/10"


def test_a_nurses_log_on_the_24_hour_clock_reads_each_row_against_the_procedure_end():
    """Rows "0930 pre: 8" and "1015 - 1" (a 24-hour time without its colon) under a caption that names
    the score; a remark between rows ("-- d/c 1110 --") does not end the log."""
    text = ("Procedure end 1000. To PACU 1003.\n\nPOST-BLOCK PAIN LOG (NRS, pt self-report, 24 hr clock)\n"
            " 0930 pre: 8\n 1015 - 1\n 1100 - 1\n -- d/c 1110, diary card given --\n 1330 - 2\n 1700 - 5\n"
            "(1330 and 1700 read to RN from pt's diary card)\n")
    cells = [(text[s:e], notes["at_hours"]) for s, e, _, notes in table_cells(text)]
    assert cells == [("8", None), ("1", 0.25), ("1", 1.0), ("2", 3.5), ("5", 7.0)]


def test_a_vitals_flowsheet_reads_the_score_under_its_pain_column():
    """Columns no rule reads (BP, HR, SpO2) stand between the time and the pain column: the score is the
    number under "Pain(0-10)"."""
    text = ("No complications. Procedure end: 08:36.\n\nPHASE II RECOVERY - VITAL SIGNS / PAIN\n"
            "Time   BP       HR   SpO2   RR   Temp(C)   Pain(0-10)   Init\n"
            "0805   148/88   80   97%    16   36.7      7            KL\n"
            "0851   136/80   74   98%    16   36.6      1            KL\n"
            "0936   128/76   70   97%    14   36.7      0            KL\n")
    cells = [(text[s:e], notes["at_hours"]) for s, e, _, notes in table_cells(text)]
    assert cells == [("7", None), ("1", 0.25), ("0", 1.0)]


def test_a_diary_kept_per_body_region_reads_a_score_under_each_region():
    text = ("Pt read his diary card to me (NRS 0-10, each region separately):\n\n"
            "| Time | R low back | L buttock |\n|------|------------|-----------|\n"
            "| Pre  | 7          | 7         |\n| 1 h  | 1          | 2         |\n| 4 h  | 1          | 3         |\n")
    cells = _cells(text)
    assert [(t, r) for t, r, _ in cells] == [("7", "table.region_pain_column")] * 2 + [
        ("1", "table.region_pain_column"), ("2", "table.region_pain_column"),
        ("1", "table.region_pain_column"), ("3", "table.region_pain_column")]
    assert [n["at_hours"] for _, _, n in cells] == [None, None, 1.0, 1.0, 4.0, 4.0]


ACROSS_SPACES = """DIARY FROM BLOCK #1 (09/22/26, lidocaine 2%), transcribed from pt's card
NRS, R low back; hours after injection across the top
              Pre   0.5 h   1 h   2 h   4 h   6 h   8 h
  Block #1     7      1      1     1     3     6     7
Pt: pain crept back after lunch.
"""

ACROSS_PIPES = """| Block                   | Pre | 0.5 h | 1 h  | 2 h | 4 h |
|-------------------------|-----|-------|------|-----|-----|
| #1 9/22/26 lido (NRS)   | 7   | 1     | 1    | 1   | 3   |
| #2 10/6/26 bupi (% rel) | --  | 90%   | 100% | 90% | 80% |
"""


def _read(text: str) -> list[tuple[str, str, float | None]]:
    return [(text[s:e], rule, notes.get("at_hours")) for s, e, rule, notes in table_cells(text)]


def test_a_diary_typed_across_the_page_reads_each_cell_at_its_columns_time():
    # The caption above names the scale; its "hours after" does not make the caption a header.
    assert _read(ACROSS_SPACES) == [("7", "table.nrs_column", None), ("1", "table.nrs_column", 0.5),
                                    ("1", "table.nrs_column", 1.0), ("1", "table.nrs_column", 2.0),
                                    ("3", "table.nrs_column", 4.0), ("6", "table.nrs_column", 6.0),
                                    ("7", "table.nrs_column", 8.0)]


def test_a_grid_row_labelled_percent_relief_reads_relief_and_an_nrs_row_scores():
    cells = _read(ACROSS_PIPES)
    assert [c for c in cells if c[1] == "table.nrs_column"] == [
        ("7", "table.nrs_column", None), ("1", "table.nrs_column", 0.5), ("1", "table.nrs_column", 1.0),
        ("1", "table.nrs_column", 2.0), ("3", "table.nrs_column", 4.0)]
    assert [c for c in cells if c[1] == "table.relief_column"] == [
        ("90%", "table.relief_column", 0.5), ("100%", "table.relief_column", 1.0),
        ("90%", "table.relief_column", 2.0), ("80%", "table.relief_column", 4.0)]


def test_a_line_of_times_in_a_sentence_is_no_grid():
    assert table_cells("Diary at 30 min, 1 h, 2 h and 4 h.\nBlock #1 was positive.\n") == []


def test_a_flowsheet_across_the_page_reads_its_pain_row_not_its_oxygen_saturation():
    text = ("Recovery flowsheet\n| Item | Pre | 15 min | 30 min | 1 h |\n|---|---|---|---|---|\n"
            "| SpO2 | 98% | 97% | 98% | 99% |\n| Pain | 7 | 2 | 1 | 1 |\n")
    assert _read(text) == [("7", "table.pain_column", None), ("2", "table.pain_column", 0.25),
                           ("1", "table.pain_column", 0.5), ("1", "table.pain_column", 1.0)]


def test_a_caption_that_names_itself_a_diary_needs_no_colon():
    text = ("ADDENDUM: diary faxed by daughter.\nDiary (NRS, low back) - injection complete 1441h\n"
            "   Pre       8\n   30 min    1\n   2 h       0\n   8 h       6\n")
    assert _read(text) == [("8", "table.nrs_column", None), ("1", "table.nrs_column", 0.5),
                           ("0", "table.nrs_column", 2.0), ("6", "table.nrs_column", 8.0)]


def test_a_tab_log_reads_a_bare_relief_under_relief_percent_and_goes_on_past_an_na_row():
    # "Relief %": the percent after the column's word names the bare numbers; the ablation's own row
    # ("n/a") keeps the log going, so its patient cell is read as the others are.
    text = ("Proc Date\tPatient\tCPT\tLevels\tSide\tAgent\tRelief %\tDuration\n"
            "03/03/2026\tDoe, Jane Q\t64493-RT\tL3-4, L4-5\tRight\tlidocaine 2%\t90\t3 h\n"
            "03/24/2026\tDoe, Jane Q\t64493-RT\tL3-4, L4-5\tRight\tbupivacaine 0.5%\t85\t6 h\n"
            "04/21/2026\tDoe, Jane Q\t64635-RT\tL3-4, L4-5\tRight\tlidocaine 2%\tn/a\tn/a\n")
    cells = [(text[s:e], rule, notes) for s, e, rule, notes in table_cells(text)]
    assert [(t, n["duration"]) for t, rule, n in cells if rule == "table.block_relief_column"] == [
        ("90", "3 h"), ("85", "6 h")]
    assert [t for t, rule, _ in cells if rule == "table.patient_column"] == ["Doe, Jane Q"] * 3


def test_a_diary_hour_named_before_its_number():
    from extractor.tables import hours_in

    assert [hours_in(label) for label in ("Hour 3:", "hr 1", "2 hr", "Pre-block")] == [3.0, 1.0, 2.0, None]


def test_a_vas_column_in_millimetres_reads_marks_on_a_100_mm_line():
    text = ("| Time   | VAS (mm) |\n|--------|----------|\n| Pre    | 66       |\n"
            "| 30 min | 6        |\n| 4 h    | 11       |\n")
    cells = [(text[s:e], note) for s, e, _, note in table_cells(text)]
    assert cells == [("66", {"at_hours": None, "mm": True}), ("6", {"at_hours": 0.5, "mm": True}),
                     ("11", {"at_hours": 4.0, "mm": True})]


def test_a_diary_caption_wrapped_over_two_lines():
    text = ("Pain card came back through the portal (photo). Left low back pain,\n0-10, as she wrote it:\n"
            "  Before    7\n  30 min    1\n  2 hr      1\n  4 hr      5\n")
    assert _read(text) == [("7", "table.pain_column", None), ("1", "table.pain_column", 0.5),
                           ("1", "table.pain_column", 2.0), ("5", "table.pain_column", 4.0)]


@pytest.mark.parametrize("log, hours", [
    ("0:30 - 2/10\n1:00 - 1/10\n1:30 - 1/10\n", [0.5, 1.0, 1.5]),  # by time since the injection
    ("09:45 - 3/10\n10:15 - 2/10\n10:45 - 2/10\n", [None] * 3),   # clock times: not from 0:mm
    ("0:30 - 2/10\n1:00 - 1/10\n", [None] * 2),                    # two lines make no log
    ("0:30 - 2/10\n1:00 - 1/10\n0:45 - 1/10\n", [None] * 3),      # times that go back are no log
])
def test_a_log_kept_by_time_since_the_injection(log, hours):
    text = "Pain log:\n" + log
    starts = [text.index(line) + len(line.split(" - ")[0]) + 3 for line in log.splitlines()]
    assert [elapsed_hours(text, at) for at in starts] == hours


TRANSCRIBED_DIARY = """Time after block | Pain 0-10 | What I did / notes
Pre              | 8         | bad morning at work
30 min           | 1         | ✓
2 hr             | (crossed out: 1) 6 | wrote on wrong line before
4 hr             | [illegible] |
"""


def test_a_crossed_out_cell_reads_the_value_written_after_it():
    cells = _cells(TRANSCRIBED_DIARY)
    assert [(t, n["at_hours"]) for t, _, n in cells] == [("8", None), ("1", 0.5), ("6", 2.0)]


RECOVERY_TABLE = """Block injected 10:41 per procedure report. Agent: lidocaine 2%.

  Time    Min post   NRS   % relief   Comment
  11:11   30         1     90         "just a little ache"
  11:41   60         2     80         bends without the catch
  12:41   120        3     60         at discharge
"""


def test_a_minutes_column_gives_each_row_its_time_and_no_score():
    cells = _cells(RECOVERY_TABLE)
    assert [(t, r, n["at_hours"]) for t, r, n in cells] == [
        ("1", "table.nrs_column", 0.5), ("90", "table.relief_column", 0.5),
        ("2", "table.nrs_column", 1.0), ("80", "table.relief_column", 1.0),
        ("3", "table.nrs_column", 2.0), ("60", "table.relief_column", 2.0)]


@pytest.mark.parametrize("said, hours", [
    ("Block injected 09:48 (lidocaine 2%).", 2.2),
    ("Needles out at half past nine.", 2.5),
    ("Block was done yesterday at half past nine\n(needles out).", 2.5),
])
def test_the_injections_time_said_in_digits_or_words(said, hours):
    from extractor.tables import hours_until

    assert hours_until(said, 12, 0, None) == hours


def test_a_diary_read_back_with_its_times_in_words():
    from extractor.tables import clock_row_reading

    text = "Block was done yesterday at half past nine (needles out).\n"
    assert clock_row_reading("  a quarter to ten ..... ", text) == ("after", 0.25)
    assert clock_row_reading("  just after one ....... ", text) == ("after", 3.5)
    assert clock_row_reading("  by three o'clock ..... ", text) == ("after", 5.5)
    assert clock_row_reading("  a bit after two ...... ", text) == (None, None)
    assert clock_row_reading("  a quarter to nine .... ", text) == ("before", None)  # before the block


DATED_DIARY = """Procedure date: 03/04/2026
Injection complete: 2:15 pm   (filled in by recovery RN)
| Date/time    | Pain (0-10) | What were you doing?                  |
|--------------|-------------|---------------------------------------|
| 3/4 1:40pm   | 7           | before the shot                       |
| 3/4 2:45pm   | 1           | recovery room                         |
| 3/4 10:30pm  | 2           | going to bed                          |
| 3/5 7am      | 6           | woke up - slept all night, ache back  |
"""


def test_a_diary_whose_rows_open_with_their_day_counts_hours_across_midnight():
    cells = _cells(DATED_DIARY)
    assert [(t, r) for t, r, _ in cells] == [("7", "table.pain_column"), ("1", "table.pain_column"),
                                             ("2", "table.pain_column"), ("6", "table.pain_column")]
    # before the 2:15 pm injection, then 30 minutes, 8.25 hours and the next morning's 16.75 hours
    assert [n["at_hours"] for _, _, n in cells] == [None, 0.5, 8.25, 16.75]

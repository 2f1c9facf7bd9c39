"""Stage 2: pain-diary tables -> one candidate span per pain-score or relief cell.

A block report often ends with the patient's diary as a table:

    | Time   | VAS | Relief |          Time after block NRS (0-10) % relief Activity
    | Pre    | 5   | -      |          Before block 6 -
    | 30 min | 1   | 80%    |          15 min 1 90 extension/rotation in recovery

Its cells are bare numbers that no token pattern can tell apart from doses or
minutes; only the column says what they are. This component finds a header
line that names a time column and at least one pain-score or relief column
(patterns/table_rules.json), reads the rows under it that start with a time,
and adds each numeric cell to the candidate spans with the column rule's id
as the span id. Pipe tables are read by cell; tables whose columns are only
spaces (text exports, PDF text) are read in order: the n-th number after the
row's time belongs to the n-th numeric column.

A later note may summarise the blocks as a pipe table instead
(`| #1 | Sep 30, 2025 | lidocaine 2% | 90% | ~2.5 h |`): a header with a
relief column and a block or date column, rows that start with a block
number or a date. Its relief cells become relief candidates, with the row's
duration cell. What a cell's row says (its time, its duration text) is kept
in `doc.user_data[CELL_NOTES]`, keyed by the cell's start offset, for the
interpreters. Nothing is logged.
"""
# No `from __future__ import annotations`: spaCy reads the factory's annotations at run time.

import datetime as dt
import itertools
import re
from dataclasses import dataclass, replace
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from extractor.clockwords import MILITARY_CLOCK, WORDED_CLOCK, worded_clock
from extractor.numbers import number_value
from extractor.patterns import load_json_data

__all__ = ["TableCells", "column_rules", "cell_notes", "elapsed_hours", "hours_in", "opens_row", "table_cells",
           "COMPONENT", "CELL_NOTES"]

COMPONENT = "table_cells"
CELL_NOTES = "table_cell_notes"
# doc.user_data key for the string the doc was made from (set by extractor.pipeline):
# `doc.text` joins every token again on each access (~0.4 ms a note).
SOURCE_TEXT = "source_text"
# doc.user_data keys for spaces that stand for no word (extractor/pipeline.py filler_offsets): the
# indent of a line joined to the one above, what is left of an HTML tag or entity. Their character
# offsets, and their whitespace tokens, which the span ruler reads over (extractor/nlp.py
# across_filler) and no span's length counts.
FILLER_OFFSETS = "filler_offsets"
FILLER_TOKENS = "filler_tokens"
_SUMMARY_RELIEF = "table.block_relief_column"
_NUMERIC_ROLES = ("pain_score", "relief")
# Columns read cell by cell in a row: the scores, and a recovery table's minutes since the injection
# ("Time  Min post  NRS  % relief"), which gives the row its time and no fact.
_READ_ROLES = _NUMERIC_ROLES + ("elapsed",)
_LABELS = {"pain_score": "PAIN_SCORE", "relief": "RELIEF", "mrn": "ID_CELL", "patient_name": "ID_CELL"}
# Identity cells whose text the date patterns read already: the cell only says which date it is.
_DATE_KINDS = {"dob", "service_date"}
_BORDER = re.compile(r"^[^A-Za-z0-9]+$")  # "|---|", "+----+", or what OCR makes of them ("[=>")
_CAPTION_MAX = 60  # a diary's caption line ("Pain diary (NRS 0-10):"), not a sentence
_MERGE_GAP = 8  # "Pain (NRS)": two words of one column header
_UNIT_HOURS = {"min": 1 / 60, "h": 1.0, "hr": 1.0, "hour": 1.0, "d": 24.0, "day": 24.0, "wk": 168.0, "week": 168.0}
_HOURS = re.compile(r"\b(\d+(?:\.\d+)?|[a-z]+)\s*-?\s*(min|hour|hr|h|day|d|week|wk)(?:s|utes?)?\b")
HOUR_NUMBER = r"(?:hour|hr)\s*#?\s*(\d{1,2})"  # "Hour 3": a diary's third hour, its number after the word
_HOUR_NUMBER = re.compile(rf"\b{HOUR_NUMBER}\b", re.IGNORECASE)


@dataclass(frozen=True)
class Column:
    rule: dict
    start: int   # offset of the header word in its line
    end: int
    mm: bool = False  # "VAS (mm)": marks on a 100 mm line, read as tenths on the 0-10 scale

    def note(self, hours: float | None) -> dict:
        """What the table notes for one of this column's cells, read `hours` after the block."""
        return {"at_hours": hours, "mm": True} if self.mm else {"at_hours": hours}

    @property
    def role(self) -> str:
        return self.rule["role"]


# A time in digits or in words, for a rule's "{clock}": "09:48", "10:15 AM", "half past nine", "noon".
# A 24-hour time with its "h" or "hrs" ("Needles out 1015h") is one too.
_ANY_CLOCK = (rf"(?P<clock>\d{{1,2}}:\d{{2}}(?:\s*[ap]\.?m\b)?|{MILITARY_CLOCK.pattern}"
              rf"|{WORDED_CLOCK.pattern})")


@lru_cache(maxsize=1)
def _rules() -> dict:
    data = load_json_data("table_rules.json")
    words = sorted(((w.lower(), rule) for rule in data["columns"] for w in rule["words"]),
                   key=lambda pair: -len(pair[0]))
    return {
        "columns": data["columns"],
        "identity_columns": data["identity_columns"],
        "identity": {w.lower(): rule for rule in data["identity_columns"] for w in rule["words"]},
        "words": [(re.compile(r"(?<![a-z])" + re.escape(w) + r"(?![a-z])"), rule) for w, rule in words],
        "row": re.compile(data["row_label"], re.IGNORECASE),
        "cell": re.compile(data["cell"]),
        "empty": re.compile(data["empty_cell"], re.IGNORECASE),
        "struck": re.compile(data["struck_cell"], re.IGNORECASE),
        "summary_row": re.compile(data["summary_row_label"], re.IGNORECASE),
        "summary_cell": re.compile(data["summary_cell"]),
        "summary_bare_cell": re.compile(data["summary_bare_cell"]),
        "clock_reference": re.compile(data["clock_reference"], re.IGNORECASE),
        "clock_reference_first": re.compile(data["clock_reference_first"], re.IGNORECASE),
        "clock_reference_said": re.compile(data["clock_reference_said"].replace("{clock}", _ANY_CLOCK), re.IGNORECASE),
        "any_row": re.compile(f"(?:{data['row_label']})|(?:{data['summary_row_label']})", re.IGNORECASE | re.MULTILINE),
    }


@lru_cache(maxsize=1)
def column_rules() -> dict[str, dict]:
    """Column rule id -> rule (role, scale, words): what a table span's id stands for."""
    return {rule["id"]: rule for rule in _rules()["columns"] + _rules()["identity_columns"]}


_ROW_LEAD = " \t\u2022*-\u00b7"  # what may open a log row before its time: indent and a bullet ("  • 30 min — 95%")


def opens_row(text: str, at: int) -> bool:
    """Only indent and a bullet stand before `at` on its line, as before a log row's time."""
    return not text[text.rfind("\n", 0, at) + 1:at].strip(_ROW_LEAD)


def hours_in(text: str | None) -> float | None:
    """Hours a row label or duration cell names ("30 min" -> 0.5, "~2.5 h" -> 2.5, "two hours" -> 2,
    a diary's "Hour 3:" -> 3; "Pre" -> None)."""
    m = _HOURS.search((text or "").lower())
    if not m:
        numbered = _HOUR_NUMBER.search(text or "")
        return float(numbered.group(1)) if numbered else None
    amount = number_value(m.group(1))
    return None if amount is None else round(amount * _UNIT_HOURS[m.group(2)], 3)


def cell_notes(doc) -> dict[int, dict]:
    """What the table component noted per cell start offset ({"at_hours": 0.5} or {"duration": "~2 h"})."""
    return doc.user_data.get(CELL_NOTES, {})


def _header_columns(line: str) -> list[Column]:
    """The columns a header line names, in line order; [] when it is no diary header."""
    lower, claimed, found = line.lower(), [], []
    for regex, rule in _rules()["words"]:
        for m in regex.finditer(lower):
            if any(m.start() < e and s < m.end() for s, e in claimed):
                continue
            claimed.append((m.start(), m.end()))
            found.append(Column(rule, m.start(), m.end()))
    found.sort(key=lambda c: c.start)
    merged: list[Column] = []
    for col in found:
        prev = merged[-1] if merged else None
        if (prev is not None and prev.role == col.role == "pain_score" and col.start - prev.end <= _MERGE_GAP
                and "|" not in line[prev.end:col.start] and "\t" not in line[prev.end:col.start]):
            keep = col if col.rule.get("scale") else prev   # "Pain (NRS)" is an NRS column
            merged[-1] = Column(keep.rule, prev.start, col.end)
        elif (prev is not None and prev.role == "duration" and col.role == "time"
              and col.start - prev.end <= _MERGE_GAP and not any(c in line[prev.end:col.start] for c in "|\t")):
            continue  # "Duration (hr)": the duration's unit, not a time column
        else:
            merged.append(col)
    return [_with_unit(line, col) for col in merged]


_MM_UNIT = re.compile(r"\bmm\b|0\s*-\s*100\b|/\s*100\b", re.IGNORECASE)
_HEADER_CELL_END = re.compile(r"\t| {2,}|\|")  # where a header's cell ends: a tab, a column gap, a bar


def _with_unit(line: str, column: Column) -> Column:
    """A pain column whose header cell gives millimetres ("VAS (mm)", "VAS 0-100") reads its cells so."""
    if column.role != "pain_score":
        return column
    end = _HEADER_CELL_END.search(line, column.end)
    return replace(column, mm=True) if _MM_UNIT.search(line, column.end, end.start() if end else len(line)) else column


# A caption that names itself a diary needs no colon: "Diary (NRS, low back) - injection complete 1441h".
_DIARY_CAPTION = re.compile(r"\s*(?:pain\s+)?diary\b", re.IGNORECASE)


def _table_kind(line: str, columns: list[Column]) -> str | None:
    """'diary', 'summary' or None (no table header)."""
    roles = {c.role for c in columns}
    if "time" in roles and roles & set(_NUMERIC_ROLES):
        return "diary"
    # A caption over rows that open with their time ("Diary (NRS, neck):" / "  30 min    1"):
    # the time is each row's label, the caption names the score.
    if ((line.rstrip().endswith(":") or _DIARY_CAPTION.match(line)) and len(line.strip()) <= _CAPTION_MAX
            and roles & set(_NUMERIC_ROLES)):
        return "diary"
    if ("|" in line or len(_space_cells(line)) >= 3) and "relief" in roles and roles & {"block", "date"}:
        return "summary"
    return None


def _space_cells(line: str) -> list[tuple[int, int]]:
    """(start, end) of each cell of a line whose columns are runs of two or more spaces ("MBB #1   01/05/2026   85-90")."""
    return [m.span() for m in re.finditer(r"\S+(?: \S+)*", line)]


def _summary_row_cells(line: str, header: str) -> list[tuple[int, int]]:
    """A summary row's cells: by pipes under a pipe header, else by runs of spaces."""
    return _pipe_cells(line) if "|" in header else _space_cells(line)


def _summary_row_fits(line: str, header: str) -> bool:
    """A row of the header's summary: it has pipes under a pipe header (a row that lost one is still
    read), and as many space-separated cells as a space-aligned header."""
    if "|" in header:
        return "|" in line
    return len(_space_cells(line)) == len(_space_cells(header))


def _pipe_cells(line: str) -> list[tuple[int, int]]:
    """(start, end) of each cell's stripped text in a pipe-separated line, outer pipes dropped."""
    bounds, start = [], 0
    for i, ch in enumerate(line):
        if ch == "|":
            bounds.append((start, i))
            start = i + 1
    bounds.append((start, len(line)))
    if not line[:bounds[0][1]].strip():
        bounds = bounds[1:]      # before the leading pipe
    if bounds and not line[bounds[-1][0]:].strip():
        bounds = bounds[:-1]     # after the trailing pipe
    cells = []
    for s, e in bounds:
        text = line[s:e]
        lead = len(text) - len(text.lstrip())
        cells.append((s + lead, s + lead + len(text.strip())))
    return cells


def _column_of_pipe_cells(header: str, columns: list[Column]) -> list[Column | None]:
    return _column_of_cells(_pipe_cells(header), columns)


def _column_of_cells(cells: list[tuple[int, int]], columns: list[Column]) -> list[Column | None]:
    """The column each header cell names (a numeric one first, but "Relief Duration (hr)" is a
    duration: the word after "relief" names the cell), or None."""
    out: list[Column | None] = []
    for s, e in cells:
        inside = [c for c in columns if s <= c.start < max(e, s + 1)]
        numeric = [c for c in inside if c.role in _NUMERIC_ROLES]
        duration = [c for c in inside if c.role == "duration" and numeric and numeric[0].start < c.start]
        out.append(duration[0] if duration else numeric[0] if numeric else (inside[0] if inside else None))
    return out


def _row_cells(line: str, header: str, columns: list[Column]) -> list[tuple[Column, int, int]]:
    """(column, start, end) of the numeric cells of one row (offsets within the line)."""
    rules = _rules()
    if "|" in header and "|" in line:
        by_index = _column_of_pipe_cells(header, columns)
        cells = [_past_struck_value(line, s, e) for s, e in _pipe_cells(line)]
        if len(cells) == len(by_index):
            return [(column, s, e) for column, (s, e) in zip(by_index, cells)
                    if column is not None and column.role in _READ_ROLES and _cell_fits(column, line[s:e])]
        # A pipe lost (a scan's OCR, a hand-edited row): read the numbers in column order instead.
        line = line.replace("|", " ")
    numeric = [c for c in columns if c.role in _READ_ROLES]
    label = rules["row"].match(line)
    found, i, aside = [], 0, False
    for m in re.finditer(r"\S+", line[label.end():]):
        word = m.group()
        if aside or (not found and i == 0 and word.startswith("(")):  # "2 h (diary) 1 90%"
            aside = not word.endswith(")")
            continue
        if i >= len(numeric) or not (_cell_fits(numeric[i], word) or rules["empty"].match(word)):
            break
        if _cell_fits(numeric[i], word):
            found.append((numeric[i], label.end() + m.start(), label.end() + m.end()))
        i += 1
    if not found and "|" not in line and "\t" not in line:
        found = _aligned_cells(line, header, numeric, label.end())
    return found


def _cell_fits(column: Column, text: str) -> bool:
    """A score or relief cell's number ("7", "1/10", "85%"), or a minutes column's ("30", "120")."""
    return bool(text.isdigit() if column.role == "elapsed" else _rules()["cell"].match(text))


def _past_struck_value(line: str, start: int, end: int) -> tuple[int, int]:
    """A cell's value after the one its writer crossed out: "(crossed out: 6) 2" is the 2."""
    struck = _rules()["struck"].match(line[start:end])
    return (start + struck.end(), end) if struck and start + struck.end() < end else (start, end)


def _aligned_cells(line: str, header: str, numeric: list[Column], after: int) -> list[tuple[Column, int, int]]:
    """The cells of a space-aligned row that stand under a numeric column's header word.

    Why: a recovery-room flowsheet has columns no rule reads ("Time  BP  HR
    SpO2  RR  Temp(C)  Pain(0-10)  Init"), so the row's numbers cannot be
    taken in column order; the pain score is the number under "Pain(0-10)".
    """
    rules, found = _rules(), []
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", header)]
    for column in numeric:
        heading = next(((s, e) for s, e in words if s <= column.start < e), (column.start, column.end))
        under = [m for m in re.finditer(r"\S+", line) if m.start() >= after and heading[0] <= m.start() < heading[1]]
        if len(under) == 1 and rules["cell"].match(under[0].group()):
            found.append((column, under[0].start(), under[0].end()))
    return found


def _score_only(line: str, cell: tuple[Column, int, int]) -> tuple[Column, int, int]:
    """A score cell written with its scale ("1/10") as its number, for a pain column."""
    column, s, e = cell
    return (column, s, e - 3) if column.role == "pain_score" and line[s:e].endswith("/10") else cell


def _fits(column: Column, text: str) -> bool:
    if text.endswith("/10") and column.role != "pain_score":
        return False  # a score, not the relief a column (or a caption's word) names
    value = float(text.rstrip("%"))
    if column.role == "pain_score":
        return not text.endswith("%") and value <= (100 if column.mm else 10)
    return value <= 100


def _summary_cells(line: str, header: str, columns: list[Column]) -> list[tuple[int, int, str, dict]]:
    """The relief cell of one block-summary row, with its row's duration cell text."""
    head = _summary_row_cells(header, header)
    by_index = _column_of_cells(head, columns)
    cells = list(zip(by_index, _summary_row_cells(line, header)))
    duration = next((_with_header_unit(line[s:e], header[hs:he]) for (column, (s, e)), (hs, he) in zip(cells, head)
                     if column is not None and column.role == "duration"), None)
    found = []
    for column, (s, e) in cells:
        m = _summary_relief(line[s:e], header, column)
        if m:
            found.append((s, s + m.end(), _SUMMARY_RELIEF, {"duration": duration}))
    return found


def _summary_relief(cell: str, header: str, column: Column | None) -> re.Match | None:
    """A relief cell's percent: "90%", "80-85%"; a bare "85-90" only under a header that names the percent."""
    if column is None or column.role != "relief":
        return None
    rules = _rules()
    # the header's whole cell: "Relief %" names the percent after the column's word
    cell_end = _HEADER_CELL_END.search(header, column.end)
    named = header[column.start:cell_end.start() if cell_end else len(header)]
    percent_header = "%" in named or "percent" in named.lower()
    return rules["summary_cell"].match(cell) or (rules["summary_bare_cell"].match(cell) if percent_header else None)


def _tab_cells(line: str) -> list[tuple[int, int]]:
    """(start, end) of each tab-separated cell's stripped text; an empty cell keeps its place."""
    cells, start = [], 0
    for part in line.split("\t"):
        lead = len(part) - len(part.lstrip())
        cells.append((start + lead, start + lead + len(part.strip())))
        start += len(part) + 1
    return cells


def _tab_table(lines: list[tuple[int, str]], i: int) -> tuple[list[tuple[int, int, str, dict]], int] | None:
    """A tab-separated table whose header is line i: its cells and the index after its last row.

    Exports from an EHR separate columns with tabs, and the time of a diary row
    need not be the first cell ("2026/09/15<TAB>30 min<TAB>1<TAB>86"): a row is
    read by cell, under the header's columns, while it has as many cells as the
    header and its time cell (diary) or relief cell (block summary) reads as one.
    """
    rules = _rules()
    header = lines[i][1]
    head = _tab_cells(header)
    columns = _header_columns(header)
    by_index = _column_of_cells(head, columns)
    roles = [c.role if c is not None else None for c in by_index]
    diary = "time" in roles and any(r in _NUMERIC_ROLES for r in roles)
    summary = not diary and "relief" in roles and ("block" in roles or "date" in roles)
    if not (diary or summary):
        return None
    # "MRN<TAB>Patient Name<TAB>DOB<TAB>DOS<TAB>Time Point<TAB>NRS": who and when, on every row.
    identity = {n: rule for n, (s, e) in enumerate(head) if (rule := rules["identity"].get(header[s:e].lower()))}
    found, j = [], i + 1
    while j < len(lines):
        start, line = lines[j]
        cells = _tab_cells(line)
        if len(cells) != len(head):
            break
        texts = [line[s:e] for s, e in cells]
        if diary:
            time_cell = texts[roles.index("time")]
            if not rules["row"].match(time_cell):
                break
            hours = hours_in(time_cell)
            found += [(start + s, start + e, column.rule["id"], column.note(hours))
                      for column, (s, e), text in zip(by_index, cells, texts)
                      if column is not None and column.role in _NUMERIC_ROLES and rules["cell"].match(text)
                      and _fits(column, text)]
        else:
            relief = cells[roles.index("relief")]
            m = _summary_relief(line[relief[0]:relief[1]], header, by_index[roles.index("relief")])
            if m:
                duration = next((_with_header_unit(t, header[s:e]) for r, t, (s, e) in zip(roles, texts, head)
                                 if r == "duration"), None)
                found.append((start + relief[0], start + relief[0] + m.end(), _SUMMARY_RELIEF, {"duration": duration}))
            elif not rules["empty"].match(line[relief[0]:relief[1]]):
                break  # an "n/a" relief (the ablation's own row) keeps the log going
            # "Pre NRS | Post NRS": the row's scores, at no time the table says
            found += [(start + s, start + e, column.rule["id"], column.note(None))
                      for column, (s, e), text in zip(by_index, cells, texts)
                      if column is not None and column.role == "pain_score" and rules["cell"].match(text)
                      and _fits(column, text)]
        found += [(start + s, start + e, rule["id"], {"kind": rule["role"]})
                  for n, rule in identity.items() for s, e in [cells[n]] if e > s]
        j += 1
    return (found, j) if j - i - 1 >= (2 if diary else 1) else None


_BARE_NUMBER = re.compile(r"~?\d+(?:\.\d+)?")


def _with_header_unit(cell: str, header_cell: str) -> str:
    """A bare duration cell with its header's unit: "3" under "Relief Duration (hr)" is "3 hr"."""
    unit = _HOURS.search("1 " + header_cell.lower().replace("(", " ").replace(")", " "))
    return f"{cell} {unit.group(2)}" if unit and _BARE_NUMBER.fullmatch(cell.strip()) else cell


# A nurse's remark between a log's rows: "-- d/c 1110, diary card given --".
_ASIDE_ROW = re.compile(r"\s*--[^\n]*--\s*$")
# "10:42 AM", "09:27", or a 24-hour time without its colon at the start of a row ("0851").
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})\s*([ap])?|^\s*\|?\s*([01]\d|2[0-3])([0-5]\d)(?:h(?:rs?)?)?\b",
                    re.IGNORECASE)


def _clock_minutes(m: re.Match) -> int | None:
    if m.group(1) is not None:
        return _minutes(int(m.group(1)), int(m.group(2)), m.group(3))
    return _minutes(int(m.group(4)), int(m.group(5)), None)


def _minutes(hour: int, minute: int, half: str | None) -> int | None:
    """Minutes after midnight; None for no clock time ("25:70")."""
    if hour > 23 or minute > 59 or (half and not 1 <= hour <= 12):
        return None
    if half:
        hour = hour % 12 + (12 if half.lower() == "p" else 0)
    return hour * 60 + minute


@lru_cache(maxsize=8)  # drafting asks once per flowsheet row of a note (clock_row_reading)
def _clock_reference(text: str) -> int | None:
    """When the note says the injection was complete ("Injection complete 09:05", "Procedure end:
    10:14 AM"), in minutes after midnight."""
    return next((minutes for _, minutes in _clock_references(text)), None)


@lru_cache(maxsize=8)
def _clock_references(text: str) -> tuple[tuple[int, int], ...]:
    """(offset, minutes after midnight) of every injection time the text states, in order."""
    found = itertools.chain(_rules()["clock_reference"].finditer(text), _rules()["clock_reference_first"].finditer(text))
    stated = [(m.start(), minutes) for m in found
              if (m.group(2) or m.group(3))  # "done 10" alone is no clock time
              and (minutes := _minutes(int(m.group(1)), int(m.group(2) or 0), m.group(3))) is not None]
    said = [(m.start(), _in_clinic_hours(minutes)) for m in _rules()["clock_reference_said"].finditer(text)
            if (minutes := _clock_text_minutes(m.group("clock"))) is not None]
    return tuple(sorted(set(stated + said)))


def _clock_text_minutes(clock: str) -> int | None:
    """Minutes after midnight of a time in digits ("09:48", "2:15 pm") or in words ("half past nine");
    a time without AM or PM is read as written (2:00 for "just after two")."""
    worded = WORDED_CLOCK.fullmatch(clock.strip())
    if worded is not None:
        return _minutes(*worded_clock(worded), None)
    military = MILITARY_CLOCK.fullmatch(clock.strip())
    if military is not None:
        return _minutes(int(military.group("hh")), int(military.group("mm")), None)
    m = _CLOCK.match(clock.strip())
    return _clock_minutes(m) if m is not None else None


# A log read out as time since the injection, one reading a line: "0:30 - 2/10", "1:00 - 1/10".
_ELAPSED_ROW = re.compile(r"^[ \t]*(\d{1,2}):([0-5]\d)(?![ \t]*[ap]\.?m)[ \t]*(?:h|hrs?)?[ \t]*(?:[-–—=|:][ \t]*)?"
                          r"(?=\S)", re.IGNORECASE | re.MULTILINE)
_ELAPSED_MIN_ROWS = 3


@lru_cache(maxsize=8)
def _elapsed_rows(text: str) -> dict[int, tuple[int, float]]:
    """Line start -> (where the reading starts, hours) for the rows of a log kept by time since the
    injection: three or more lines in a row that open with "h:mm", the first "0:mm" (no block is
    done at half past midnight) and each later than the one before."""
    rows, run = {}, []

    def close():
        hours = [h for _, _, h in run]
        if len(run) >= _ELAPSED_MIN_ROWS and hours[0] < 1 and all(a < b for a, b in zip(hours, hours[1:])):
            rows.update({start: (end, h) for start, end, h in run})
        run.clear()

    for m in _ELAPSED_ROW.finditer(text):
        if run and text.count("\n", run[-1][0], m.start()) != 1:
            close()
        run.append((m.start(), m.end(), int(m.group(1)) + int(m.group(2)) / 60))
    close()
    return rows


def elapsed_hours(text: str, start: int) -> float | None:
    """Hours since the injection of a reading at `start` that opens a row of a log kept by elapsed
    time ("0:30 - 2/10"); None anywhere else."""
    row = _elapsed_rows(text).get(text.rfind("\n", 0, start) + 1)
    return round(row[1], 3) if row is not None and row[0] == start else None


_EARLIEST_BLOCK = 7 * 60  # no block is done before 7 AM: "completed 1:10" is past noon


def _in_clinic_hours(minutes: int) -> int:
    """A time written without AM or PM, in minutes after midnight: before 7 it is the afternoon's
    ("completed 1:10", "done just after two")."""
    return minutes + 12 * 60 if minutes < _EARLIEST_BLOCK else minutes


def hours_until(text: str, hour: int, minute: int, half: str | None, at: int | None = None) -> float | None:
    """Hours from the injection's time in the note ("injection completed 11:40") to a clock time
    ("wore off around 6 pm"); None without the note's time or before it.

    With `at`, the injection time is the last one stated before that offset: a text thread covers
    two blocks ("block this morning (done at 10:40)", then "this afternoon's block (finished at
    1:20)"). A bare hour with no AM or PM ("til about 3") is the first such clock time after the
    injection: 3 after a 10:40 block is 3 PM.
    """
    references = _clock_references(text)
    if at is not None:
        references = tuple(r for r in references if r[0] < at) or references[:1]
    until = _minutes(hour, minute, half)
    if not references or until is None:
        return None
    reference = references[-1][1] if at is not None else references[0][1]
    reference = _in_clinic_hours(reference)
    if half is None and until <= reference and hour <= 12:
        until += 12 * 60
    return round((until - reference) / 60, 3) if until > reference else None


_BEFORE_ROW = re.compile(r"\s*\|?\s*(?:pre|before|baseline)", re.IGNORECASE)


def _hours_after(label: str, reference: int | None) -> float | None:
    """Hours from the injection to a row's clock time ("10:42 AM"); None before it, or with no reference.

    A 12-hour log without AM/PM that runs past noon ("12:10", "1:10") goes on into the afternoon."""
    m = _CLOCK.search(label)
    if m is None or reference is None or _BEFORE_ROW.match(label):
        return None
    minutes = _clock_minutes(m)
    if minutes is None:
        return None
    after = minutes - reference
    if (after < 0 and m.group(1) is not None and not m.group(3) and minutes < 12 * 60
            and minutes + 12 * 60 - reference < 12 * 60):
        after += 12 * 60
    return round(after / 60, 3) if after >= 0 else None


# A take-home diary's row that opens with its day: "3/4 1:40pm", "3/5 7am".
_ROW_DAY = re.compile(r"\s*\|?\s*(\d{1,2})/(\d{1,2})(?:/\d{2,4})?\s+")
_ROW_HOUR = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*(?:([ap])\.?m\b)?", re.IGNORECASE)


def _dated_row_hours(label: str, day: re.Match, first_day: re.Match, reference: int | None) -> float | None:
    """Hours from the injection to a dated diary row ("3/5 7am" after a 2:15 pm block on 3/4 is 16.75);
    None for a row before it or with no injection time. The first row's day is the block's."""
    clock = _ROW_HOUR.match(label, day.end())
    if clock is None or reference is None:
        return None
    minutes = _minutes(int(clock.group(1)), int(clock.group(2) or 0), clock.group(3))
    try:
        days = (dt.date(2000, int(day.group(1)), int(day.group(2)))
                - dt.date(2000, int(first_day.group(1)), int(first_day.group(2)))).days
    except ValueError:
        return None
    if minutes is None or not 0 <= days <= _DIARY_DAYS:
        return None
    after = days * 24 * 60 + minutes - reference
    return round(after / 60, 3) if after >= 0 else None


_DIARY_DAYS = 7  # a take-home diary covers the days after the block, not another month


def clock_row_reading(line: str, text: str) -> tuple[str | None, float | None]:
    """("before", None) or ("after", hours) for a row that opens with a clock time ("08:40  BP 150/90 ...
    Pain 8/10", "0851   136/80 ...", a diary read back as "a quarter to ten ..... pain 1/10"), against
    the injection's time in the note; (None, None) without either."""
    opening = line.lstrip()
    m = _CLOCK.match(opening) if opening else None
    minutes = _clock_minutes(m) if m is not None else None
    worded = _WORDED_ROW.match(opening) if m is None and opening else None
    if worded is not None:
        minutes = _minutes(*worded_clock(worded), None)
    reference = _clock_reference(text) if minutes is not None else None
    if minutes is None or reference is None:
        return None, None
    if worded is not None:
        minutes = _in_clinic_hours(minutes)  # "just after one" after a half-past-nine block
    return ("after", round((minutes - reference) / 60, 3)) if minutes >= reference else ("before", None)


# A row that opens with its time in words, perhaps after "by" or "around": "by three o'clock .....".
_WORDED_ROW = re.compile(rf"(?:(?:by|at|around|about|approx\.?|~)[ \t]+)?(?:{WORDED_CLOCK.pattern})", re.IGNORECASE)


# A horizontal diary's header cell: a time after the injection ("0.5 h", "30 min"), or the reading
# before it ("Pre").
_GRID_TIME_UNITS = r"\d+(?:\.\d+)?\s*-?\s*(?:min|mins|minutes?|h|hr|hrs|hours?)"
_GRID_TIME = re.compile(rf"(?:{_GRID_TIME_UNITS}|pre|before|baseline)", re.IGNORECASE)
_GRID_TIME_WORD = re.compile(rf"\b{_GRID_TIME_UNITS}\b", re.IGNORECASE)
_GRID_MIN_TIMES = 3
_GRID_RELIEF_LABEL = re.compile(r"%|\brel(?:ief)?\b|\bimprove", re.IGNORECASE)
_GRID_SCALES = (("nrs", "table.nrs_column"), ("nprs", "table.nrs_column"), ("vas", "table.vas_column"),
                ("pain", "table.pain_column"), ("score", "table.pain_column"))


def _grid_header_starts(text: str) -> set[int]:
    """Start offsets of the lines holding two or more times ("0.5 h   1 h"), found in one pass over the
    text: only those can head a grid, and most notes have none."""
    starts: dict[int, int] = {}
    for m in _GRID_TIME_WORD.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        starts[line_start] = starts.get(line_start, 0) + 1
    return {start for start, n in starts.items() if n >= _GRID_MIN_TIMES - 1}


def _grid_cells(line: str) -> list[tuple[int, int]]:
    return _pipe_cells(line) if "|" in line else _space_cells(line)


def _grid_times(line: str) -> list[tuple[int, int, float | None]] | None:
    """A horizontal diary's header ("Block | Pre | 0.5 h | 1 h | 2 h | 4 h"): (start, end, hours) of its time
    cells, the last cells of the line after at most one label cell; None for any other line."""
    cells = _grid_cells(line)
    times = [(s, e, hours_in(line[s:e])) for s, e in cells if _GRID_TIME.fullmatch(line[s:e].strip())]
    if len(times) < _GRID_MIN_TIMES or len(cells) - len(times) > 1 or [t[:2] for t in times] != cells[-len(times):]:
        return None
    return times


def _grid_rule(label: str, caption: str, values: list[str]) -> str | None:
    """What a grid row reads: relief ("% rel", cells in percent) or a pain score (its scale from the row's
    label or the grid's caption, "NRS, R low back; hours after injection across the top")."""
    if _GRID_RELIEF_LABEL.search(label) or (values and all(v.endswith("%") for v in values)
                                             and _GRID_RELIEF_LABEL.search(caption)):
        return "table.relief_column"  # not a vitals row's "SpO2 | 98% | 97%" under no relief caption
    for words in (label.lower(), caption.lower()):
        rule = next((rule for word, rule in _GRID_SCALES if re.search(rf"\b{word}\b", words)), None)
        if rule is not None:
            return rule
    return None


def _grid_table(lines: list[tuple[int, str]], i: int) -> tuple[list[tuple[int, int, str, dict]], int] | None:
    """The cells of a diary typed across the page, the hours after the injection as its columns and a
    row per block (or per scale):

                      Pre   0.5 h   1 h   2 h   4 h   6 h   8 h
          Block #1     7      1      1     1     3     6     7

        | Block                   | Pre | 0.5 h | 1 h  | 2 h | 4 h |
        | #2 10/6/26 bupi (% rel) | --  | 90%   | 100% | 90% | 80% |

    Each value cell is a pain score or a relief percent at its column's time, as a vertical diary's
    row is; (cells, index of the line after the grid), or None when line i heads no grid.
    """
    header = lines[i][1]
    times = _grid_times(header) if len(header) < 300 else None
    if times is None:
        return None
    rules = _rules()
    caption = " ".join(line for _, line in lines[max(0, i - 2):i])
    cells, j = [], i + 1
    while j < len(lines):
        start, line = lines[j]
        if line.strip() and _BORDER.match(line):
            j += 1
            continue
        row = _grid_cells(line)
        if len(row) != len(times) + 1:
            break
        label, values = line[row[0][0]:row[0][1]], row[1:]
        texts = [line[s:e] for s, e in values if not rules["empty"].match(line[s:e])]
        rule_id = _grid_rule(label, caption, texts)
        if rule_id is not None:
            column = Column(column_rules()[rule_id], 0, 0)
            for (s, e), (_, _, hours) in zip(values, times):
                text = line[s:e]
                if rules["empty"].match(text) or not rules["cell"].match(text):
                    continue
                cell = _score_only(line, (column, s, e))
                if _fits(column, line[cell[1]:cell[2]]):
                    cells.append((start + cell[1], start + cell[2], rule_id, column.note(hours)))
        j += 1
    return (cells, j) if j > i + 1 else None


def _row_follows(lines: list[tuple[int, str]], i: int) -> bool:
    """The next line after i that is not a border starts like a diary or summary row."""
    rules = _rules()
    for _, line in lines[i + 1:]:
        if line.strip() and _BORDER.match(line):
            continue
        return bool(rules["row"].match(line) or rules["summary_row"].match(line))
    return False


def table_cells(text: str) -> list[tuple[int, int, str, dict]]:
    """(start, end, column rule id, notes) of every pain-score or relief cell of the text's tables,
    and of the identity cells of a tab-separated export."""
    rules = _rules()
    # Why first: most notes have no table, and one scan for a row label is far
    # cheaper than testing every line as a header.
    tabs = "\t" in text
    if not tabs and rules["any_row"].search(text) is None:
        return []
    lines, offset = [], 0
    for line in text.split("\n"):
        lines.append((offset, line))
        offset += len(line) + 1
    cells: list[tuple[int, int, str, dict]] = []
    reference: list[int | None] = []  # the injection's clock time, read once a clock row needs it
    grid_starts = _grid_header_starts(text)
    i = 0
    while i < len(lines):
        header = lines[i][1]
        table = _tab_table(lines, i) if tabs and header.count("\t") >= 2 and len(header) < 300 else None
        if table is not None:
            cells.extend(table[0])
            i = table[1]
            continue
        follows = len(header) < 300 and _row_follows(lines, i)
        columns = _header_columns(header) if follows else []
        kind = _table_kind(header, columns) if columns else None
        if (kind is None and follows and i and header.rstrip().endswith(":") and len(header.strip()) <= _CAPTION_MAX
                and lines[i - 1][1].strip()):
            # A caption wrapped over two lines: "Left low back pain,\n0-10, as she wrote it:"
            wrapped = _header_columns(lines[i - 1][1] + " " + header.strip())
            if _table_kind(header, wrapped) == "diary":
                columns, kind = wrapped, "diary"
        if kind is None:
            grid = _grid_table(lines, i) if lines[i][0] in grid_starts else None
            if grid is not None:
                cells.extend(grid[0])
            i = grid[1] if grid is not None else i + 1
            continue
        row_label = rules["row"] if kind == "diary" else rules["summary_row"]
        rows, j = [], i + 1
        while j < len(lines):
            line = lines[j][1]
            if line.strip() and (_BORDER.match(line) or (rows and _ASIDE_ROW.match(line))):
                j += 1
                continue
            if not row_label.match(line) or (kind == "summary" and not _summary_row_fits(line, header)):
                break
            rows.append(lines[j])
            j += 1
        if len(rows) >= 2 or (kind == "summary" and rows):
            first_day = None  # a dated diary's first row: the block's day
            for start, line in rows:
                if kind == "summary":
                    found = _summary_cells(line, header, columns)
                else:
                    label = row_label.match(line).group(0)
                    hours = hours_in(label)
                    day = _ROW_DAY.match(label)
                    if day is not None:
                        reference = reference or [_clock_reference(text)]
                        first_day = first_day or day
                        hours = _dated_row_hours(label, day, first_day, reference[0])
                    elif hours is None and _CLOCK.search(label):
                        reference = reference or [_clock_reference(text)]
                        hours = _hours_after(label, reference[0])
                    read = [_score_only(line, cell) for cell in _row_cells(line, header, columns)]
                    minutes = next((line[s:e] for column, s, e in read if column.role == "elapsed"), None)
                    if minutes is not None:
                        hours = int(minutes) / 60  # the row's own count of minutes, over its clock time
                    found = [(s, e, column.rule["id"], column.note(hours))
                             for column, s, e in read if column.role != "elapsed" and _fits(column, line[s:e])]
                cells.extend((start + s, start + e, rule_id, notes) for s, e, rule_id, notes in found)
            i = max(j, i + 1)
        else:  # no table after all: the next line may head one ("NRS; hours after injection across the top")
            i += 1
    return cells


class TableCells:
    """Adds one candidate span per diary cell to `doc.spans[spans_key]`."""

    def __init__(self, spans_key: str):
        self.spans_key = spans_key

    def __call__(self, doc: Doc) -> Doc:
        found = table_cells(doc.user_data.get(SOURCE_TEXT) or doc.text)
        if not found:
            return doc
        roles = column_rules()
        spans, notes = list(doc.spans[self.spans_key]), {}
        for start, end, rule_id, note in found:
            role = roles[rule_id]["role"]
            if role in _DATE_KINDS:
                notes[start] = note  # the date pattern's span there reads it as this kind
                continue
            span = doc.char_span(start, end, label=_LABELS[role], span_id=rule_id)
            if span is not None:
                spans.append(span)
                notes[start] = note
        doc.spans[self.spans_key] = spans
        doc.user_data[CELL_NOTES] = notes
        return doc


@Language.factory(COMPONENT, default_config={"spans_key": "candidates"})
def make_table_cells(nlp: Language, name: str, spans_key: str) -> TableCells:
    return TableCells(spans_key)

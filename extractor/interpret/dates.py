"""Stage 3: DATE spans -> date, service_date and dob facts, normalised by dateparser.

Patterns find the dates (with offsets); dateparser only normalises the text
of each span, with fixed settings. A date that does not parse is kept with
value None rather than dropped.
"""
from __future__ import annotations

import bisect
import datetime as dt
import itertools
import re

from spacy.tokens import Span

from extractor.interpret import Context, Draft
from extractor.numbers import number_value, ordinal_value
from extractor.registry import interpreter
from extractor.tables import cell_notes
from extractor.timeline import ADDENDUM_HEAD

__all__ = ["day_first_note", "parse_date", "DATE_SETTINGS", "MONTH_NUMBERS"]

DATE_SETTINGS = {"DATE_ORDER": "MDY", "PREFER_DATES_FROM": "past", "REQUIRE_PARTS": ["day", "month", "year"],
                 "PREFER_DAY_OF_MONTH": "first"}
_MDY = re.compile(r"^(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})$")  # 2026-10-02, 2026/10/02, 2026.05.12
_COMPACT = re.compile(r"^((?:19|20)\d{2})(\d{2})(\d{2})$")  # 20260219, as old practice systems write it
_TIME_OF_DAY = re.compile(r"^(?:[01]\d|2[0-3])[0-5]\d(?:[0-5]\d)?$")  # a timestamp's HHMM or HHMMSS
_PADDED_MONTH_DAY = re.compile(r"^(\d{1,2})\s*/\s*(\d{1,2})$")  # "09/02", "10/07", "9/3": no year
_CUE_GAP = 3  # tokens allowed between a cue ("DOS") and its date, e.g. ":"


def _century(year: int) -> int:
    """Two-digit years: the latest century that does not put the date in the future."""
    if year >= 100:
        return year
    this_year = dt.date.today().year
    full = 2000 + year
    return full if full <= this_year + 1 else full - 100


def day_first_note(date_texts) -> bool:
    """Whether a note writes its numeric dates day first ("14/09/2026", "Date of procedure: 02/10/2026").

    Only when some date cannot be month first (its first number is over 12) and none
    cannot be day first: a British or Australian letter, not a US note with a typo.
    """
    day_first = month_first = False
    for text in date_texts:
        m = _MDY.match(" ".join(text.split()))
        if m:
            first, second = int(m.group(1)), int(m.group(2))
            day_first |= first > 12 >= second
            month_first |= second > 12 >= first
    return day_first and not month_first


def parse_date(text: str, relative_base: dt.date | None = None, day_first: bool = False) -> dt.date | None:
    """Normalise one date span's text; None when it is not a real date."""
    text = " ".join(text.split())
    # Numeric forms are parsed directly: they are the common case and
    # dateparser is slow to start up for them.
    m = _MDY.match(text)
    try:
        if m:
            month, day = (int(m.group(2)), int(m.group(1))) if day_first else (int(m.group(1)), int(m.group(2)))
            return dt.date(_century(int(m.group(3))), month, day)
        m = _ISO.match(text)
        if m:
            return dt.date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
        m = _COMPACT.match(text)
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    named = _month_name_date(text)
    if named is not None:
        return named
    if _DAY_ONLY.match(text):
        return None  # "the 16th": the month is the reader's guess, not the note's
    spoken = _SPOKEN.match(text)
    if spoken:
        return _spoken_date(spoken, relative_base)
    of_month = _OF_MONTH.match(text)
    if of_month:
        return _day_of_month(of_month, relative_base)
    m = _MONTH_DAY.match(text)
    if m:
        return _without_year(MONTH_NUMBERS.get(m.group(1)[:3].lower()), int(m.group(2)), relative_base)
    m = _PADDED_MONTH_DAY.match(text)
    if m:
        return _without_year(int(m.group(1)), int(m.group(2)), relative_base)
    if relative_base is not None:
        back = _days_back(text)
        if back is not None:
            return relative_base - dt.timedelta(days=back)
    import dateparser  # slow import; only for relative and unusual forms

    relative = "ago" in text.lower() or text.lower() in _DAYS_BACK
    if relative and relative_base is None:
        return None  # a relative date means nothing without the note's date
    settings = dict(DATE_SETTINGS)
    if relative_base is not None:
        settings["RELATIVE_BASE"] = dt.datetime.combine(relative_base, dt.time())
    if relative:
        settings.pop("REQUIRE_PARTS", None)
    parsed = dateparser.parse(text.replace("-", " "), languages=["en"], settings=settings)
    return parsed.date() if parsed else None


MONTH_NUMBERS = {m: i for i, m in enumerate(  # a month name's first three letters -> its number
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_MONTH_FIRST = re.compile(r"^([A-Za-z]{3,9})\.?\s*-?\s*(\d{1,2})(?:st|nd|rd|th)?,?\s*-?\s*(\d{2}|\d{4})$")  # "FEB-09-2026" too
_DAY_FIRST = re.compile(r"^(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?[\s/-]*([A-Za-z]{3,9}),?[\s/-]*(\d{2}|\d{4})$", re.I)


_MONTH_DAY = re.compile(r"^([A-Za-z]{3,9})\.?\s*(\d{1,2})(?:st|nd|rd|th)?$")
_DAY_ONLY = re.compile(r"^the \d{1,2}(st|nd|rd|th)$", re.I)
_AHEAD_DAYS = 60  # a yearless date this far after the note's date is last year's


def _without_year(number: int | None, day: int, relative_base: dt.date | None) -> dt.date | None:
    """Month `number`, `day` of the note's year: "September 15th" or "09/15" in a note of
    2026-10-02 -> 2026-09-15; "December 20th" in it -> 2025-12-20."""
    if number is None or relative_base is None:
        return None
    try:
        guess = dt.date(relative_base.year, number, day)
        if (guess - relative_base).days > _AHEAD_DAYS:
            guess = dt.date(relative_base.year - 1, number, day)
    except ValueError:
        return None
    return guess


_SPOKEN = re.compile(r"^([A-Za-z]{3,9})\.?\s+(?:the\s+)?((?:(?:twenty|thirty)\s*-\s*)?[a-z]+)"
                     r"(?:\s*,?\s*(twenty|two thousand(?: and)?)\s+([a-z-]+))?$", re.IGNORECASE)


_OF_MONTH = re.compile(r"^(?:the\s+)?(\d{1,2}(?:st|nd|rd|th)|(?:(?:twenty|thirty)\s*-\s*)?[a-z]+)\s+of\s+([a-z]{3,9})"
                       r"(?:\s*,?\s*(\d{4}))?$", re.IGNORECASE)


def _ordinal_day(text: str) -> int | None:
    """"ninth" -> 9, "twenty-first" -> 21, "17th" -> 17; None for anything else."""
    if text[:1].isdigit():
        return int(re.sub(r"\D", "", text))
    words = re.sub(r"\s*-\s*", "-", text.lower())
    tens, _, unit = words.rpartition("-")
    return ({"twenty": 20, "thirty": 30}.get(tens, 0) + (ordinal_value(unit) or 0)) if tens else ordinal_value(words)


def _day_of_month(m: re.Match, relative_base: dt.date | None) -> dt.date | None:
    """"the ninth of January", "17th of March", "the second of April, 2026"; without a year, the note's year."""
    number, day = MONTH_NUMBERS.get(m.group(2)[:3].lower()), _ordinal_day(m.group(1))
    if number is None or not day:
        return None
    if m.group(3) is None:
        return _without_year(number, day, relative_base)
    try:
        return dt.date(int(m.group(3)), number, day)
    except ValueError:
        return None


def _spoken_date(m: re.Match, relative_base: dt.date | None) -> dt.date | None:
    """Dictated "March the fourth, twenty twenty-six" -> 2026-03-04; without a year, the note's year."""
    number = MONTH_NUMBERS.get(m.group(1)[:3].lower())
    day = _ordinal_day(m.group(2))
    if number is None or not day:
        return None
    if m.group(3) is None:
        return _without_year(number, day, relative_base)
    tail = number_value(m.group(4))
    if tail is None or not 0 < tail < 100:
        return None
    try:
        return dt.date(2000 + int(tail), number, day)  # "twenty twenty-six", "two thousand (and) six"
    except ValueError:
        return None


_NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_DAYS_BACK = {"today": 0, "yesterday": 1, "tomorrow": -1, "tmrw": -1, "tmw": -1}
_DAYS_AGO = re.compile(r"^([0-9]+|a|one|two|three|four|five|six) (day|days|week|weeks) ago$", re.I)


def _days_back(text: str) -> int | None:
    """Days before the note's date for "today", "yesterday", "tomorrow" (-1), "3 days ago", "two weeks ago"; None otherwise.

    Why: dateparser answers these the same (checked against it for every
    count up to 400), but costs ~0.6 ms a call and ~0.3 s to start. Months
    ("a month ago") are left to it.
    """
    lower = text.lower()
    if lower in _DAYS_BACK:
        return _DAYS_BACK[lower]
    m = _DAYS_AGO.match(text)
    if not m:
        return None
    count = m.group(1).lower()
    number = int(count) if count.isdigit() else _NUMBER_WORDS[count]
    return number * (7 if m.group(2).lower().startswith("week") else 1)


def _month_name_date(text: str) -> dt.date | None:
    """"Oct 2, 2026", "2-Oct-26", "2 October 2026"; None when not of these forms."""
    m = _MONTH_FIRST.match(text)
    if m:
        month, day, year = m.group(1), m.group(2), m.group(3)
    else:
        m = _DAY_FIRST.match(text)
        if not m:
            return None
        day, month, year = m.group(1), m.group(2), m.group(3)
    number = MONTH_NUMBERS.get(month[:3].lower())
    if number is None:
        return None
    try:
        return dt.date(_century(int(year)), number, int(day))
    except ValueError:
        return None


_WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
             "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"}


def _cue_gap(cue, span) -> int:
    """Tokens between a cue and its date, not counting a weekday ("Date of Service: Tuesday, October 6, 2026")."""
    between = span.doc[cue.end:span.start]
    if len(between) > 2 * _CUE_GAP:
        return len(between)
    return sum(1 for t in between if t.lower_.rstrip(".") not in _WEEKDAYS)


def _cue_before(span, ctx: Context) -> str | None:
    # The nearest cue: "DOB 10.02.1960 DOS 11.03.2026" has both within reach of the second date.
    near = [cue for cue in ctx.same_sentence(span, "CUE")
            if span.start >= cue.end and _cue_gap(cue, span) <= _CUE_GAP
            and ctx.values.get(cue.id_) in {"service_date", "dob"}]
    if near:
        return ctx.values[max(near, key=lambda cue: cue.end).id_]
    return _cue_line_above(span, ctx)


def _cue_line_above(span, ctx: Context) -> str | None:
    """A printout that puts each label on its own line and the value under it ("Date of Service" / "03/19/2026")."""
    doc = ctx.doc
    if span.start < 2 or doc[span.start - 1].text != "\n":
        return None
    first = bisect.bisect_left(ctx.spans, span.start - _CUE_WORDS - 1, key=lambda s: s.start)
    for cue in itertools.islice(ctx.spans, first, None):
        if cue.start >= span.start:
            break
        if (cue.label_ == "CUE" and cue.end == span.start - 1 and ctx.values.get(cue.id_) in {"service_date", "dob"}
                and (cue.start == 0 or "\n" in doc[cue.start - 1].text)):
            return ctx.values[cue.id_]
    return None


_CUE_WORDS = 4  # tokens a cue can have ("Date of Service")


# Patterns for a bare "09/02" (no year): after a pain word it is a score written "05/10".
_BARE_MONTH_DAY = {"date.padded_month_day", "date.month_padded_day", "date.month_day_unpadded"}
_SCORE_WORDS = {"pain", "nrs", "vas", "nprs", "score", "scale", "rating", "rated", "level"}
# "9/3" could be many things besides a date: a score ("7/10"), a strength grade ("4/5"), a fraction
# ("1/2 tab"), a count ("2/2 blocks").
_FRACTIONS = {(1, 2), (1, 3), (2, 3), (1, 4), (3, 4)}
# A clock time after an unpadded "m/d": "3/4 1:40pm", "3/5 7am" (a diary row's day and hour).
_CLOCK_AFTER = re.compile(r"[ \t]+(?:(?:[01]?\d|2[0-3]):[0-5]\d(?:[ \t]?[ap]\.?m)?\b|(?:1[0-2]|[1-9])[ \t]?[ap]\.?m\b)",
                          re.IGNORECASE)
_NOT_AFTER_A_DATE = {"of", "tab", "tabs", "tablet", "tablets", "mg", "ml", "cc", "x", "times", "blocks", "pills",
                     "days", "weeks", "nights"}
# "MRI L-spine (1/26)": a study is dated by month and year.
_STUDY_WORDS = {"xr", "x-ray", "xray", "xrays", "x-rays", "mri", "ct", "emg", "ncs", "study", "l-spine", "c-spine",
                "t-spine", "spine", "films", "imaging"}


def _not_a_bare_date(span) -> bool:
    """An unpadded "m/d" that is a score, a strength grade, a fraction, a count or a study's month and
    year, not a date."""
    month, day = int(span[0].text), int(span[-1].text)
    doc = span.doc
    after = doc[span.end] if span.end < len(doc) else None
    if _CLOCK_AFTER.match(doc.text, span.end_char):
        return False  # "3/4 1:40pm", "3/5 7am": a diary's day and its hour
    return (day == 10 or (month <= 5 and day == 5) or (month, day) in _FRACTIONS or month == day
            or (after is not None and (after.lower_ in _NOT_AFTER_A_DATE or after.text in {"/", "+"}))
            or _word_before(span) in _STUDY_WORDS)


def _after_id_cue(span, ctx: Context) -> bool:
    """'MRN 20120315': eight digits after an id's label are the id, however date-like."""
    return any(span.start >= cue.end and _cue_gap(cue, span) <= _CUE_GAP and ctx.values.get(cue.id_) == "mrn"
               for cue in ctx.same_sentence(span, "CUE"))


def _inside_a_code(span) -> bool:
    """"ref 20260316-KM-558217": the digits run on into a reference number."""
    doc = span.doc
    sep = doc[span.end] if span.end + 1 < len(doc) else None
    joined_after = (sep is not None and not span[-1].whitespace_ and sep.text in {"-", "/", "_", "."}
                    and not sep.whitespace_ and doc[span.end + 1].text[:1].isalnum())
    joined_before = span.start > 0 and not doc[span.start - 1].whitespace_ and doc[span.start - 1].text.isalnum()
    return joined_after or joined_before


def _word_before(span) -> str | None:
    """The nearest word in the three tokens before the span, in lower case (punctuation and spaces skipped)."""
    before = [t for t in span.doc[max(0, span.start - 3):span.start] if not (t.is_punct or t.is_space)]
    return before[-1].lower_ if before else None


def _after_score_word(span) -> bool:
    return _word_before(span) in _SCORE_WORDS


_MESSAGES = "facet_claims.message_dates"  # doc.user_data key: a note's pasted messages, once per note
_MESSAGE_CUE_GAP = 6  # tokens from "Sent:" to its date ("Sent: Wednesday, March 18, 2026")
_MESSAGE_END = re.compile(r"\bend of (?:the )?(?:original |forwarded )?message\b", re.IGNORECASE)


def _message_dates(ctx: Context) -> list[tuple[int, dt.date]]:
    """(where the message starts, its date) for each "Sent:" line with a date."""
    found = ctx.doc.user_data.get(_MESSAGES)
    if found is None:
        found = []
        cues = [s for s in ctx.spans if s.label_ == "CUE" and ctx.values.get(s.id_) == "message_date"]
        for cue in cues:
            date = next((s for s in ctx.spans if s.label_ == "DATE" and 0 <= s.start - cue.end <= _MESSAGE_CUE_GAP),
                        None)
            sent = parse_date(date.text, ctx.document_date, ctx.day_first) if date is not None else None
            if sent is not None:
                found.append((cue.end_char, sent))
        ctx.doc.user_data[_MESSAGES] = found
    return found


def _relative_base(span, ctx: Context) -> dt.date | None:
    """The day a date's "yesterday" counts from: a pasted message's own date inside it, else the note's.

    A patient's email copied into the chart the next day says "the block
    yesterday" of the day it was sent, not of the day it was filed.
    """
    inside = [(at, sent) for at, sent in _message_dates(ctx) if at <= span.start_char]
    if inside and not _MESSAGE_END.search(ctx.text, inside[-1][0], span.start_char):
        return inside[-1][1]
    return _addendum_date(span, ctx) or ctx.document_date


def _addendum_date(span, ctx: Context) -> dt.date | None:
    """The date an addendum's heading gives, for the words of its paragraph after it: "ADDENDUM
    03/19/2026 11:05 - telephone: ... after yesterday's block" counts from the 19th."""
    text = ctx.text
    start = text.rfind("\n\n", 0, span.start_char) + 1
    start += text[start:span.start_char].startswith("\n")  # past the blank line itself
    if not ADDENDUM_HEAD.match(text, start):
        return None
    line_end = text.find("\n", start)
    line_end = len(text) if line_end == -1 else line_end
    first = bisect.bisect_left(ctx.spans, start, key=lambda s: s.start_char)
    for other in itertools.islice(ctx.spans, first, None):
        if other.start_char >= min(line_end, span.start_char):
            return None
        if other.label_ == "DATE":
            return parse_date(other.text, ctx.document_date, ctx.day_first)
    return None


_OF_MONTH_IDS = {"date.ordinal_of_month", "date.ordinal_word_of_month", "date.compound_ordinal_word_of_month"}


@interpreter("DATE")
def interpret_date(span, ctx: Context) -> list[Draft]:
    if span.id_ in _BARE_MONTH_DAY and _after_score_word(span):
        return []
    if span.id_ == "date.month_day_unpadded" and (_not_a_bare_date(span) or _inside_a_code(span)):
        return []
    if span.id_ == "date.iso_compact":
        # Any eight digits: only a year 19xx/20xx with a real month and day, and not an id's.
        if (not _COMPACT.match(span.text) or parse_date(span.text) is None or _after_id_cue(span, ctx)
                or _inside_a_code(span)):
            return []
    if span.id_ == "date.timestamp_compact":
        # "20260127083200": the date is the first eight digits, when the rest is a time of day.
        day, time = span.text[:8], span.text[8:]
        if not (_COMPACT.match(day) and _TIME_OF_DAY.match(time)) or (value := parse_date(day)) is None:
            return []
        kind = _cue_before(span, ctx) or "date"  # an HL7 order's time under its "DOS:" (extractor/hl7_export.py)
        return [Draft(kind, value.isoformat(), span.start_char, span.start_char + 8, span.id_,
                      "a timestamp's date", span)]
    if span.id_ == "date.iso_timestamp":  # "2026-03-04T10:36:48-05:00": the date as written, not its time
        value = parse_date(span.text[:10])
        if value is None:
            return []
        return [Draft("date", value.isoformat(), span.start_char, span.start_char + 10, span.id_,
                      "a timestamp's date", span)]
    matched = span
    if len(span) > 1 and span[-1].text == ",":  # "on the fourth of March, with 2% lidocaine": the year's comma, no year
        span = Span(span.doc, span.start, span.end - 1, label=span.label_, span_id=span.id_)
    if span.id_ in _OF_MONTH_IDS and span.start and span.doc[span.start - 1].lower_ == "the":
        # "the fourth of March" is the date's words; the patterns leave out "the" (a leading word costs a flag).
        span = Span(span.doc, span.start - 1, span.end, label=span.label_, span_id=span.id_)
    value = parse_date(span.text, _relative_base(span, ctx), ctx.day_first)
    kind = cell_notes(ctx.doc).get(span.start_char, {}).get("kind") or _cue_before(span, ctx) or "date"
    iso = value.isoformat() if value else None
    why = "dateparser" if value else "did not parse as a full date"
    return [Draft(kind, iso, span.start_char, span.end_char, span.id_, why, matched)]

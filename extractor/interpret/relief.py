"""Stage 3: RELIEF spans (with a DURATION after them) -> relief facts."""
from __future__ import annotations

import bisect
import dataclasses
import itertools
import re

from spacy.tokens import Span

from extractor.clockwords import MILITARY_CLOCK, WORDED_CLOCK, worded_clock
from extractor.interpret import Context, Draft
from extractor.interpret.dates import MONTH_NUMBERS
from extractor.numbers import number_value, spanish_number
from extractor.registry import interpreter
from extractor.tables import SOURCE_TEXT, cell_notes, column_rules, hours_in, hours_until, opens_row

__all__ = ["duration_hours", "duration_weeks"]

_WORD_NUMBERS = {"one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "ten": 10, "twelve": 12, "several": 3}
_UNIT_HOURS = {"min": 1 / 60, "mins": 1 / 60, "minute": 1 / 60, "minutes": 1 / 60,
               "h": 1, "hr": 1, "hrs": 1, "hour": 1, "hours": 1,
               "hora": 1, "horas": 1, "minutos": 1 / 60,  # "por umas 4 horas" (Spanish, Portuguese)
               "d": 24, "day": 24, "days": 24, "wk": 168, "wks": 168, "week": 168, "weeks": 168,
               "mo": 730, "mos": 730, "month": 730, "months": 730,
               "yr": 8760, "yrs": 8760, "year": 8760, "years": 8760, "y": 8760}


# "1 h through 4 h": a window of time after the injection; the relief lasted until its end.
_UNTIL = {"through", "thru", "until", "till"}


def _amount_and_unit(span) -> tuple[float | None, str | None]:
    words = [t.text.lower() for t in span]
    until = next((i for i, w in enumerate(words) if w in _UNTIL), None)
    if until is not None:
        span, words = span[until + 1:], words[until + 1:]
    unit = next((w for w in reversed(words) if w in _UNIT_HOURS), None)
    half = "half" in words or "1/2" in words or "½" in words
    fraction = next((i for i in range(1, len(words) - 2) if words[i:i + 3] == ["1", "/", "2"]), None)
    if fraction is not None:  # "2 1/2 years": the whole number, and a half
        span, words, half = span[:fraction], words[:fraction], True
    numbers = [n for t in span if (n := number_value(t.text)) is not None]
    if not numbers:
        numbers = [_WORD_NUMBERS[w] for w in words if w in _WORD_NUMBERS]
    if not numbers:
        return None, unit
    # A range ("6-8 hours") counts at its lower bound; "two and a half years" is 2.5.
    amount = min(numbers)
    if half:
        amount += 0.5
    return amount, unit


_HOURS_PER_MONTH = 730.5


def _month_range_hours(span) -> float | None:
    """"from March to June 2025": the months from the first to the last (3), in hours."""
    months = [MONTH_NUMBERS[t.lower_[:3]] for t in span if t.lower_[:3] in MONTH_NUMBERS and t.is_alpha]
    years = [int(t.text) for t in span if t.text.isdigit() and len(t.text) == 4]
    if len(months) != 2:
        return None
    # "from January through March" holds March too; "from March to June" ends as June begins
    span_months = months[1] - months[0] + any(t.lower_ in ("through", "thru") for t in span)
    if len(years) == 2:
        span_months += 12 * (years[1] - years[0])
    elif span_months < 0:
        span_months += 12  # "from November to February"
    return span_months * _HOURS_PER_MONTH if span_months > 0 else None


# "Lasting until late afternoon" gives no clock: the hours are a floor. Blocks are done in the
# morning or early afternoon, so relief that held into the late afternoon or evening held 3 h at least.
DAY_PART_FLOOR_HOURS = 3.0


_CLOCK_TOKEN = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")


def _hours_until_clock(span) -> float | None:
    """"wore off around 6 pm", "til about 3 then", "until about a quarter to seven", "until around
    noon": hours from the injection's time the note states before it, if it does."""
    worded = WORDED_CLOCK.search(span.text)
    if worded is not None:
        (hour, minute), half = worded_clock(worded), None
    else:
        clock = next(m for t in span if (m := _CLOCK_TOKEN.match(t.text)))
        hour, minute = int(clock.group(1)), int(clock.group(2) or 0)
        half = next((t.lower_[0] for t in span if t.lower_ in _HALF_DAY), None) or next(
            (_DAY_PART_HALF[t.lower_] for t in span if t.lower_ in _DAY_PART_HALF), None)  # "4:30 in the afternoon"
    text = span.doc.user_data.get(SOURCE_TEXT) or span.doc.text  # doc.text joins every token again
    return hours_until(text, hour, minute, half, at=span.start_char)


_HALF_DAY = {"am", "pm", "a.m.", "p.m."}
_DAY_PART_HALF = {"morning": "a", "afternoon": "p", "evening": "p"}
# Durations that end at a clock time: the relief held until then ("wore off around 6 pm", "til about 3",
# "el dolor volvió a las 5", "until about a quarter to seven").
_UNTIL_CLOCK_IDS = {"duration.until_clock", "duration.until_clock_day_part", "duration.until_bare_hour",
                    "duration.spanish_until_hour", "duration.came_back_at_clock", "duration.back_by_clock",
                    "duration.until_worded_clock", "duration.until_oclock", "duration.until_noon"}


_SPANISH_UNITS = {"hora": 1.0, "horas": 1.0, "minutos": 1 / 60}


def _spanish_hours(span) -> float | None:
    """"por tres horas" -> 3, "por dos horas y media" -> 2.5, "por una hora" -> 1."""
    words = [t.lower_ for t in span[1:] if t.lower_ not in {"unas", "como", "casi", "y"}]
    unit = next((w for w in words if w in _SPANISH_UNITS), None)
    amounts = [w for w in words if w != unit]
    amount = spanish_number(amounts) if amounts else (1.0 if unit == "hora" else None)
    return None if amount is None or unit is None else round(amount * _SPANISH_UNITS[unit], 3)


# Relief that held through a part of the day: "until dinner", "the rest of the afternoon".
_DAY_PART_IDS = {"duration.until_day_part", "duration.rest_of_day_part", "duration.until_bed", "duration.all_day_part",
                 "duration.bare_until_day_part", "duration.the_rest_of_day_part"}


def _military_hours(span) -> float | None:
    """"from 0945h until 1400h" is 4.25 hours, "until 1130 hrs" the hours from the injection to then;
    a bare "1400h" says when, not how long (None)."""
    clocks = [(int(m.group("hh")), int(m.group("mm"))) for m in MILITARY_CLOCK.finditer(span.text)]
    if len(clocks) == 2:
        minutes = (clocks[1][0] - clocks[0][0]) * 60 + clocks[1][1] - clocks[0][1]
        return round(minutes / 60, 3) if minutes > 0 else None
    before = span.doc[span.start - 1].lower_ if span.start else ""
    if before in _UNTIL or any(t.lower_ in _UNTIL for t in span):
        text = span.doc.user_data.get(SOURCE_TEXT) or span.doc.text
        return hours_until(text, clocks[0][0], clocks[0][1], None, at=span.start_char)
    return None


def duration_hours(span) -> float | None:
    if MILITARY_CLOCK.search(span.text):
        return _military_hours(span)
    if span.id_ == "duration.month_range":
        return _month_range_hours(span)
    if span.id_ in _DAY_PART_IDS:
        return DAY_PART_FLOOR_HOURS
    if span.id_ in _UNTIL_CLOCK_IDS:
        return _hours_until_clock(span)
    if span.id_ == "duration.spanish_hours":
        return _spanish_hours(span)
    amount, unit = _amount_and_unit(span)
    if amount is None or unit is None:
        return None
    return round(amount * _UNIT_HOURS[unit], 3)


def duration_weeks(span) -> float | None:
    hours = duration_hours(span)
    return None if hours is None else round(hours / 168, 2)


_RANGE_IDS = {"relief.pct_range_relief", "relief.pct_range_then_time", "relief.relief_of_pct_range"}


def _after_a_drug(span, ctx: Context) -> bool:
    """The word before the span is an anesthetic's name: its figure is the drug's strength."""
    return span.start > 0 and any(s.label_ == "ANESTHETIC" and s.end == span.start for s in ctx.same_sentence(span))


def _percent(span, ctx: Context) -> tuple[float | None, str]:
    fixed = ctx.values.get(span.id_)
    if fixed is not None and not isinstance(fixed, dict):
        return float(fixed), "words"
    if isinstance(fixed, dict) and fixed.get("spanish"):  # "ochenta y cinco por ciento mejor"
        words = [t.text for t in span[: next(i for i, t in enumerate(span) if t.lower_ in {"por", "%"})]]
        return spanish_number(words), "percent"
    numbers = [n for t in span if (n := number_value(t.text)) is not None]
    if isinstance(fixed, dict) and fixed.get("tenths") and numbers:  # "nine-tenths gone", "improvement 9/10"
        return numbers[0] * 10, fixed.get("basis", "words")
    if span.id_ in {"relief.words_with_pct", "relief.words_then_pct"} and numbers:
        return min(numbers), "percent"
    if span.id_ in {"relief.scores_to", "relief.scores_arrow", "relief.scores_pre_post", "relief.scores_out_of"} and len(numbers) >= 4:
        before, after = numbers[0], numbers[2]
        if before <= 0:
            return None, "scores"
        return round((before - after) / before * 100, 1), "scores"
    if span.id_ in {"relief.scale_scores_bare", "relief.scale_scores_hyphen_arrow", "relief.pain_from_to",
                    "relief.scores_down_to"} and len(numbers) >= 2:
        before, after = numbers[0], numbers[-1]
        if not 0 < before <= 10 or after > before:
            return None, "scores"
        return round((before - after) / before * 100, 1), "scores"
    if span.id_ == "relief.scores_down_to_from" and len(numbers) >= 2:  # "down to a 2 from a 7"
        after, before = numbers[0], numbers[-1]
        return (round((before - after) / before * 100, 1) if 0 < before <= 10 and after <= before else None), "scores"
    if span.id_ == "relief.points_from_baseline" and len(numbers) >= 2:  # "7 points from a baseline of 8"
        dropped, before = numbers[0], numbers[-1]
        return (round(dropped / before * 100, 1) if 0 < dropped <= before <= 10 else None), "scores"
    if span.id_ == "relief.score_arrow_score_of_ten" and len(numbers) >= 3:
        before, after = numbers[0], numbers[1]  # "8→1/10"
        return (round((before - after) / before * 100, 1) if 0 < before <= 10 and after <= before else None), "scores"
    if span.id_ in _RANGE_IDS and len(numbers) >= 2:
        if _after_a_drug(span, ctx):
            return numbers[1], "percent"  # "w/lido 2%-88% relief": the drug's strength, a dash, the relief
        return min(numbers[0], numbers[1]), "range"
    if len(span) >= 4 and span[0].like_num and span[1].text in ("-", "–") and span[2].like_num and span[3].text == "%":
        return min(number_value(span[0].text) or 0, number_value(span[2].text) or 0), "range"  # "85-90% with lidocaine"
    pct = [n for n in numbers if n <= 100]
    return (pct[0] if pct else None), "percent"


def _table_relief(span, ctx: Context) -> list[Draft]:
    """A table cell: a diary row's percent at its time, or a block summary's percent with its duration cell."""
    note = cell_notes(ctx.doc).get(span.start_char, {})
    bounds = [float(n) for n in re.findall(r"\d+", span.text)]  # "90%", or a range "80-85%" (its lower bound)
    value = {"percent": min(bounds), "basis": "range" if len(bounds) > 1 else "percent",
             "duration_hours": hours_in(note.get("duration")), "expected_duration": False}
    if "at_hours" in note:
        value["at_hours"] = note["at_hours"]
    what = "relief in a pain-diary row" if "at_hours" in note else "relief in a block-summary row"
    return [Draft("relief", value, span.start_char, span.end_char, span.id_, what, span)]


_RISK_WORDS = {"risk", "risks", "complications", "side-effects", "chance"}
_RISKS_ABBREVIATED = re.compile(r"\bR/B/A\b|\bRBA\b|\brisks/benefits\b", re.IGNORECASE)  # "R/B/A d/w pt incl ... no benefit"


_ABBREVIATIONS = {"incl", "e.g", "eg", "i.e", "ie", "esp", "approx"}  # a period after these ends no sentence


def _among_risks(span, ctx: Context) -> bool:
    """A relief word listed after "risks" in its sentence ("Risks incl. bleeding, ... no benefit")."""
    start = ctx.sentence_start(span.start)
    while start >= 2 and span.doc[start - 1].text == "." and span.doc[start - 2].lower_ in _ABBREVIATIONS:
        start = ctx.sentence_start(start - 2)
    return (any(t.lower_ in _RISK_WORDS for t in span.doc[start: span.start])
            or _RISKS_ABBREVIATED.search(ctx.text, span.doc[start].idx, span.start_char) is not None)


def _without_listed_concentration(span):
    """"lidocaine 2% - 90% relief" is a concentration, a list dash, then the relief: not a 2-90% range.

    A range's bounds share one "%" or sit close ("75-80%"); a spaced dash after
    a number with its own "%" separates items of a list. The span keeps its
    pattern id (the pattern that found it) but starts after the dash.
    """
    if span.id_ != "relief.pct_range_relief" or len(span) < 4 or span[1].text != "%":
        return span
    dash = span[2]
    if dash.text in {"-", "–"} and dash.idx > span[1].idx + 1 and dash.whitespace_:
        return Span(span.doc, span.start + 3, span.end, label=span.label_, span_id=span.id_)
    return span


def _scores_not_relief(span) -> list[Draft]:
    """"NRS 7/10, 9/10 at worst": a later score higher than the first is no relief, just two scores."""
    drafts = []
    for i in range(len(span) - 2):
        score, slash, scale = span[i], span[i + 1], span[i + 2]
        value = number_value(score.text)
        if slash.text == "/" and scale.text == "10" and value is not None and 0 <= value <= 10:
            drafts.append(Draft("pain_score", {"score": value, "scale": None}, score.idx, scale.idx + len(scale.text),
                                span.id_, "a score in a pair that is no relief", span))
    return drafts


_LASTING = {"x", "for", "lasting", "lasted", "over"}


def _measured_at(duration) -> bool:
    """ "at 30 min", "@ 20 minutes", "about 20 min after the block": the time a relief was measured."""
    doc = duration.doc
    if duration.start > 0 and doc[duration.start - 1].lower_ in ("at", "@") and duration[0].lower_ != "least":
        return True  # ("for at least 4 h" is how long: the pattern's span starts at "least")
    if duration.start > 0 and doc[duration.start - 1].lower_ == "by" and not any(
            t.lower_ in _RELIEF_ENDED for t in doc[max(0, duration.start - 5):duration.start - 1]):
        return True  # "down to a 1 by 20 minutes" (not "wore off by 7 hrs", "back to baseline by 6 h")
    return (duration.end < len(doc) and doc[duration.end].lower_ in ("after", "post")
            and duration[0].lower_ not in _LASTING and not _lasting_before(duration)
            and not (duration.start > 0 and doc[duration.start - 1].lower_ in _UNTIL))  # "through 5 h after": until


_RELIEF_ENDED = {"off", "gone", "back", "baseline", "returned", "recurred", "wore", "worn", "faded", "ended", "over"}


def _lasting_before(duration) -> bool:
    """"for around 5 hours after the shot": "for" before the hours (past a hedge) says how long."""
    i = duration.start - 1
    while i >= 0 and (duration.doc[i].is_space or duration.doc[i].lower_ in _APPROXIMATELY):
        i -= 1
    return i >= 0 and duration.doc[i].lower_ in _LASTING


_ONSET = {"beginning", "began", "begins", "starting", "started", "starts", "onset", "kicked", "kicking", "came"}


def _onset(duration) -> bool:
    """"beginning within twenty minutes of the block", "onset in 10 min": when the relief began, not how long."""
    before = [t for t in duration.doc[max(0, duration.start - 6): duration.start] if not t.is_space]
    if not before or before[-1].lower_ not in ("within", "after", "in"):
        return False
    return any(t.lower_ in _ONSET for t in before[-4:-1])


_SATURATION = {"spo2", "o2", "sat", "sats", "saturation", "pulse-ox", "pox"}


def _oxygen_saturation(span) -> bool:
    """"SpO2 98%", "O2 sat: 97%": the percent is the blood's oxygen, not relief."""
    before = [t for t in span.doc[max(0, span.start - 3): span.start] if not (t.is_space or t.text in (":", "="))]
    return bool(before) and before[-1].lower_ in _SATURATION


def _each_percent(span, ctx: Context) -> list[Draft]:
    """"80% and 85% relief": the first percent alone, then the second with the words after it."""
    second = next((t.i for t in span[1:-1]
                   if t.like_num and t.nbor(1).lower_ in ("%", "percent", "percents", "pct")), None)
    if second is None:
        return []
    first = Span(span.doc, span.start, span.start + 2, label=span.label_, span_id="relief.pct_relief")
    rest = Span(span.doc, second, span.end, label=span.label_, span_id="relief.pct_relief")
    drafts = []
    for part in (first, rest):
        for draft in interpret_relief(part, ctx):
            drafts.append(dataclasses.replace(draft, pattern_id=span.id_, span=span))
    return drafts


def _each_figure(span, ctx: Context) -> list[Draft]:
    """"both positive (90% and 85%)": each percent its own relief, found by the pattern that found them all."""
    drafts = []
    for t in span[:-1]:
        if t.like_num and t.nbor(1).text == "%":
            part = Span(span.doc, t.i, t.i + 2, label=span.label_, span_id="relief.pct_relief")
            drafts += [dataclasses.replace(d, pattern_id=span.id_, span=span) for d in interpret_relief(part, ctx)]
    return drafts


# "- 30 min: pain went from 8/10 to 1/10 / - Diary: relief held ~5 h": how long the figure above lasted.
_HELD = re.compile(r"(?:\b(?:relief|benefit|effect)\b[^.\n]{0,24}?\b(?:held|lasted|lasting|persisted|continued|sustained)\b"
                   r"|\bduration\s+of\s+(?:relief|benefit|effect)\b(?:\s*\([^()\n]{0,40}\))?)[^.\n]{0,12}$",
                   re.IGNORECASE)  # "Duration of relief (RN phone check 04/21/2026)? 1 hour"
_HELD_LINES = 2  # the duration's line may be this many lines below the figure


_PAIN_WORDS = {"pain", "nrs", "vas", "nprs", "score", "scores"}
_NOT_SCORE_AFTER = set(_UNIT_HOURS) | {"%", "percent", "percents", "mg", "ml", "cc", "levels", "joints", "/",
                                      "am", "pm", "o'clock"}
# "the block took her from a 6 to a 1": a verb that moves the patient, then whom.
_MOVED = {"took", "brought", "got", "dropped", "takes", "brings"}
_MOVED_WHOM = {"her", "him", "them", "me", "pt", "patient"}


def _scores_after_pain_word(span):
    """"pain went from 8 to 3", "took her from a 6 to a 1": the span from "8", when a pain word
    (or a verb that moved the patient) is just before and no unit after. Scores with their
    articles ("lidocaine: from an eight to a one") need no pain word: nothing else is "a one"."""
    doc = span.doc
    before = {t.lower_ for t in doc[max(0, span.start - 4):span.start]}
    if "points" in before or "point" in before:  # "his pain dropped by 4 points, from 5 to 1"
        before |= {t.lower_ for t in doc[max(0, span.start - 8, span.sent.start):span.start]}
    moved = span.start >= 2 and doc[span.start - 2].lower_ in _MOVED and doc[span.start - 1].lower_ in _MOVED_WHOM
    articled = sum(t.lower_ in _ARTICLES for t in span) == 2
    after = doc[span.end].lower_ if span.end < len(doc) else ""
    if not (before & _PAIN_WORDS or moved or articled) or after in _NOT_SCORE_AFTER:
        return None
    return Span(span.doc, span.start + 1, span.end, label=span.label_, span_id=span.id_)


_ARTICLES = {"a", "an"}


_ANATOMY_AFTER = {"narrowing", "stenosis", "compression", "loss", "height", "collapse", "foraminal", "canal",
                  "wedging", "wedge", "of", "disc", "slip", "listhesis", "anterolisthesis", "retrolisthesis"}
_REMAINING_LAST = {"left", "remaining", "remained"}
_APPROXIMATELY = {"about", "around", "roughly", "approximately", "approx", "~", "only", "just"}


def _remaining_pain(span):
    """"10% of baseline" is the pain that remained after "down to" or "at" ("pain down to 10% of
    baseline", "stayed at about 10% of her usual level"; the span from that word) or with "left"
    after it ("15% of her usual neck pain left"); otherwise it says nothing of relief."""
    if span[-1].lower_ in _REMAINING_LAST:
        return span
    doc, i = span.doc, span.start
    while i > 0 and doc[i - 1].lower_ in _APPROXIMATELY:
        i -= 1
    if i == 0 or doc[i - 1].lower_ not in {"to", "at"}:
        return None
    i -= 1
    if doc[i].lower_ == "to" and i > 0 and doc[i - 1].lower_ == "down":
        i -= 1
    return Span(doc, i, span.end, label=span.label_, span_id=span.id_)


def _scores_down_to(span):
    """"seven down to one": two scores of ten, not "10 down to 5 mg"."""
    after = span.doc[span.end].lower_ if span.end < len(span.doc) else ""
    numbers = [n for t in span if (n := number_value(t.text)) is not None]
    if after in _NOT_SCORE_AFTER or len(numbers) != 2 or not all(0 <= n <= 10 for n in numbers):
        return None
    return span


def _held_for(span, ctx: Context) -> float | None:
    """Hours from a later line that says how long "the relief" held, before any other relief figure."""
    text = ctx.text
    limit = span.end_char
    for _ in range(_HELD_LINES + 1):
        nxt = text.find("\n", limit + 1)
        limit = len(text) if nxt == -1 else nxt
    # A summing-up ("So about 4 hours of real relief.") may close the paragraph that told the hours.
    paragraph_end = text.find("\n\n", span.end_char)
    paragraph_end = max(limit, len(text) if paragraph_end == -1 else paragraph_end)
    first = bisect.bisect_left(ctx.spans, span.end, key=lambda s: s.start)
    for other in itertools.islice(ctx.spans, first, None):
        if other.start_char >= paragraph_end or other.label_ == "RELIEF":
            return None
        if other.label_ == "DURATION" and ctx.values.get(other.id_) == "held":
            return duration_hours(other)
        if other.start_char >= limit:
            continue
        if other.label_ == "DURATION" and ctx.values.get(other.id_) != "expected":
            line_start = text.rfind("\n", 0, other.start_char) + 1
            # "... lasted about 4 hours", or a line that says when the pain came back ("How long did it
            # last?" / "Until about 5 PM, then back to normal"; "El dolor volvió a las 5").
            if other.id_ in _UNTIL_CLOCK_IDS or _HELD.search(text, line_start, other.start_char):
                return duration_hours(other)
    return None


_SHORT_OF = {"shorter", "less", "short", "below", "under", "not", "never", "fell", "falls", "only"}


def _falls_short(relief, expected_span) -> bool:
    """"30 min only (shorter than expected for bupivacaine)", "well short of the 2+ hours expected":
    between the relief and the expected duration, a comparison that falls short, not a match."""
    return any(t.lower_ in _SHORT_OF for t in relief.doc[relief.end: expected_span.start])


_LOG_LEAD_LINES = 8  # lines a relief log's rows may run below the lead-in that names relief
_RELIEF_WORD = re.compile(r"\b(?:relief|diary|better|improvement)\b", re.IGNORECASE)  # "reading from the diary:"


def _row_of_a_relief_log(span, text: str) -> bool:
    """"  2 hr     80%" opens its line, and the rest of its line or the lines above it up to a blank
    line name relief."""
    if not opens_row(text, span.start_char):
        return False  # a bullet may open the row: "  • 30 min — 95%"
    line_start = text.rfind("\n", 0, span.start_char) + 1
    line_end = text.find("\n", span.end_char)
    if _RELIEF_WORD.search(text, span.start_char, line_end if line_end >= 0 else len(text)):
        return True  # the log's first row says it: "  Hour 1: 95% better, sat through a meeting"
    above = line_start - 1
    for _ in range(_LOG_LEAD_LINES):
        if above <= 0:
            return False
        start = text.rfind("\n", 0, above) + 1
        line = text[start:above]
        if not line.strip():
            return False  # a blank line ends the log before a lead-in was found
        if _RELIEF_WORD.search(line):
            return True
        above = start - 1
    return False


_BARE_PAIN_FREE = {"relief.words_pain_free", "relief.words_painfree", "relief.words_no_pain_at_all"}
_MANEUVERS = {"extension", "rotation", "flexion", "maneuver", "maneuvers", "manoeuvres", "mvmts", "movements",
              "movement", "loading", "walked", "walking", "ambulated", "ambulating", "stood", "standing",
              "bending", "palpation", "rom", "hallway"}


_EXAM_MANEUVERS = {"extension", "rotation", "flexion", "palpation", "loading", "maneuver", "maneuvers"}


def _after_a_maneuver(span) -> bool:
    """A movement or exam word among the few words before "pain-free" on its line ("Extension-rotation to
    the right was pain free"), or an exam's maneuver right after "no pain at all" ("no pain at all with
    extension"; "pain free with standing for 4 hours" is relief)."""
    for tok in reversed(span.doc[max(0, span.start - 7): span.start]):
        if "\n" in tok.text:
            break
        if tok.lower_.split("/")[-1] in _MANEUVERS:
            return True
    after = span.doc[span.end: span.end + 2]
    return (span.id_ == "relief.words_no_pain_at_all" and len(after) == 2 and after[0].lower_ in ("with", "on")
            and after[1].lower_.split("/")[0] in _EXAM_MANEUVERS)


_STILL_THERE = {"present", "there", "holding", "persisting", "ongoing", "intact"}  # "still present at 7 hours"


def _read_then(span, time, basis: str) -> bool:
    """"still about 80% relief at 8 hrs" held until then, and "7/10 -> 1/10 at 3 h" is a score read
    then (as "NRS 1/10 at 3 h" is): a reading at that time, like a diary row's. A bare "95% relief
    at 30 min" is only when it was measured."""
    doc = span.doc
    between = [t.lower_ for t in doc[span.end:time.start] if not t.is_space]
    if between[:1] == ["still"] and between[1:-1] and set(between[1:-1]) <= _STILL_THERE:
        return between[-1] in ("at", "@")  # "85% relief still present at 7 hours"
    if time.start != span.end + 1 or doc[span.end].lower_ not in ("at", "@"):
        return False
    return basis == "scores" or _still_before(span)


_STILL = {"still", "remains", "remained"}


def _still_before(span) -> bool:
    """"still" among the three words before the figure: "he still had roughly 85% relief", and
    "relief remains 80-90%" (the word inside the span, before its number)."""
    lead = itertools.takewhile(lambda t: not t.like_num, span)
    return any(t.lower_ in _STILL for t in itertools.chain(span.doc[max(0, span.start - 3):span.start], lead))


_EACH = {"each", "both", "all"}


def _shared_hours(later: list) -> float | None:
    """Hours said of every figure before them: "right 90%, left 80%, each lasting at least 4 hours"."""
    for other in later:
        before = other.doc[max(0, other.start - 3):other.start + 1]  # "each lasting at least 4 hours" starts at "least"
        if other.label_ == "DURATION" and any(t.lower_ in _EACH for t in before):
            return duration_hours(other)
    return None


_STILL_AFTER_TOKENS = 12  # from "about seven hours after the injection:" to "he still had roughly 85%"


def _still_after(span, ctx: Context, basis: str) -> float | None:
    """"about seven hours\nafter the injection: he still had roughly 85% relief": the time it was read
    comes first, as in _read_then's "still 80% at 8 hrs". The line may break before "after" (its
    "after the injection:" reads as a field, so the sentence splits there)."""
    doc = span.doc
    if basis != "scores" and not _still_before(span):
        return None
    first = bisect.bisect_left(ctx.spans, span.start - _STILL_AFTER_TOKENS, key=lambda s: s.start)
    earlier = [s for s in itertools.islice(ctx.spans, first, None) if s.end <= span.start
               and s.label_ in ("DURATION", "RELIEF")]
    if not earlier or earlier[-1].label_ != "DURATION":
        return None
    duration = earlier[-1]
    words = [t for t in doc[duration.end:span.start] if not t.is_space]
    if not words or words[0].lower_ not in ("after", "post") or any(t.text in (".", ";") for t in words):
        return None
    return duration_hours(duration)


_AT_LEAST = {("at", "least"), ("minimum", "of"), ("no", "less")}  # the two words before the figure
_OR_MORE = {"better", "greater", "more", "higher", "above"}       # the word after "or"
_CONDITION_WORDS = {"if", "need", "needs", "require", "requires", "required", "must", "unless", "should"}


def _required_figure(span, ctx: Context) -> bool:
    """"If both blocks give at least 80% relief", "We need eighty percent or better relief before ...".

    A figure with "at least" before it or "or better" after it, in a sentence
    that sets a condition or a form's question, is the bar a block must clear, not its result:
    "She reported at least 80% relief" has no condition and stays a result.
    """
    doc = span.doc
    before = tuple(t.lower_ for t in doc[max(0, span.start - 2): span.start])
    words = [t.lower_ for t in span] + [t.lower_ for t in doc[span.end: span.end + 2]]
    qualified = before in _AT_LEAST or any(a == "or" and b in _OR_MORE for a, b in zip(words, words[1:]))
    if not qualified:
        return False
    line_end = ctx.text.find("\n", span.end_char)
    if "?" in ctx.text[span.end_char: len(ctx.text) if line_end == -1 else line_end]:
        return True  # a form's question: "Relief of at least 80% after each block?  [X] Yes"
    return any(t.lower_ in _CONDITION_WORDS for t in doc[ctx.sentence_start(span.start): span.start])


_DASHES = {"-", "\u2013", "\u2014"}
_PRONOUNS = {"her", "him", "them", "me", "us"}
_HEDGES = (_APPROXIMATELY | {"nearly"}) - {"~", "only", "just"}  # hedge words before the figure, outside its span


@interpreter("RELIEF")
def interpret_relief(span, ctx: Context) -> list[Draft]:
    if span.id_ in column_rules():
        return _table_relief(span, ctx)
    matched = span  # ConText's flags are kept on the span the ruler found, not on the trimmed one
    span = _without_listed_concentration(span)
    if span[0].text == ">" and span.start and span.doc[span.start - 1].text == "-" and len(span) > 1:
        span = Span(span.doc, span.start + 1, span.end, label=span.label_, span_id=span.id_)  # "-> 87%": an arrow
    if (len(span) > 2 and span[0].like_num and span[1].text in _DASHES and span.start
            and span.doc[span.start - 1].text == "#"):
        span = Span(span.doc, span.start + 2, span.end, label=span.label_, span_id=span.id_)  # "block #1 - 100% relief"
    if _oxygen_saturation(span):
        return []  # "SpO2 98%\nRelief @ 15 min: 80%": a vital sign, the relief is on the next line
    authored = ctx.values.get(span.id_)
    if authored is not None and _among_risks(span, ctx):
        return []  # "risks including bleeding, infection and no benefit": consent, not a result
    if span.id_ in _BARE_PAIN_FREE and _after_a_maneuver(span):
        return []  # "30 min: NRS 0/10, extension/rotation pain-free": an exam finding, not the relief
    flags = authored if isinstance(authored, dict) else {}  # a pattern's authored value: how to read its span
    if flags.get("each"):
        return _each_percent(span, ctx)
    if flags.get("each_figure"):
        return _each_figure(span, ctx)
    # "90% with" a drug, "80% after" a block: extractor/overlaps.py without_unfollowed_connectors kept only those
    if flags.get("from_figure"):  # "Relief at discharge 80-90%": the figure after its key
        span = Span(span.doc, next(t.i for t in span if t.like_num), span.end, label=span.label_, span_id=span.id_)
    if flags.get("after_strength") and not (span.start and span.doc[span.start - 1].text == "%"):
        return []  # "- 85%" is a result after "bupivacaine 0.5%", not after any word
    if flags.get("after_verb"):  # "reports 95% relief": the figure and its word
        span = Span(span.doc, span.start + 1, span.end, label=span.label_, span_id=span.id_)
        while span[0].lower_ in _PRONOUNS or span[0].lower_ in _HEDGES:  # "gave her about 85% relief"
            span = Span(span.doc, span.start + 1, span.end, label=span.label_, span_id=span.id_)
    if flags.get("after_paren"):  # "positive (~85%)": the figure in the brackets
        span = Span(span.doc, next(t.i for t in span if t.text == "(") + 1, span.end, label=span.label_,
                    span_id=span.id_)
    if flags.get("percent_only"):
        span = Span(span.doc, span.start, span.start + 2, label=span.label_, span_id=span.id_)
    if flags.get("without_last_word"):  # "80-90% for": the word only says a duration follows
        span = Span(span.doc, span.start, span.end - 1, label=span.label_, span_id=span.id_)
    # When the figure was read: "90% at 4 h" (measured_at), "at 4 hrs 80%" (time_first), a log's "2 hr  80%".
    read_at = None
    if flags.get("measured_at"):
        read_at = duration_hours(span[3:])
    if flags.get("time_first"):
        read_at = duration_hours(span[1:3])
    if flags.get("time_row"):
        if not _row_of_a_relief_log(span, ctx.text):
            return []
        # "30m" in a log's time column is thirty minutes (elsewhere "m" may be months or metres).
        if flags.get("hour_number"):  # "Hour 3: 90%"
            read_at = number_value(span[1].text)
        else:
            read_at = number_value(span[0].text) / 60 if span[1].lower_ == "m" else duration_hours(span[0:2])
        # The reading after the time: "2 hr     still 80-90%" is the range "80-90%".
        first = next(t.i for t in span[2:] if t.like_num)
        span = Span(span.doc, first, span.end, label=span.label_, span_id=span.id_)
    if flags.get("percent_last") or flags.get("time_first"):
        span = Span(span.doc, span.end - 2, span.end, label=span.label_, span_id=span.id_)
    if flags.get("number_last"):  # "relief pct: 90": the figure, its unit named in the key
        span = Span(span.doc, span.end - 1, span.end, label=span.label_, span_id=span.id_)
    if span.id_ == "relief.side_pct" and span.end < len(span.doc) and span.doc[span.end].lower_ in _ANATOMY_AFTER:
        return []  # "right 50% foraminal narrowing": a finding, not relief
    if flags.get("pct_in_parens"):  # "NRS 1/10 at 30 min (86%)": the percent, read when the score was
        read_at = duration_hours(span[2:-4]) if len(span) > 6 else None
        span = Span(span.doc, span.end - 3, span.end - 1, label=span.label_, span_id=span.id_)
    if flags.get("remaining"):
        span = _remaining_pain(span)
        if span is None:
            return []
    if flags.get("condition_only"):
        if not _required_figure(span, ctx):
            return []  # "50% or more of the day": no condition, no relief
        span = Span(span.doc, span.start, span.start + 2, label=span.label_, span_id=span.id_)
    if flags.get("after_pain_word") or flags.get("down_to"):
        span = _scores_after_pain_word(span) if flags.get("after_pain_word") else _scores_down_to(span)
        if span is None:
            return []
    percent, basis = _percent(span, ctx)
    if basis == "scores" and percent is not None and percent < 0:
        return _scores_not_relief(span)
    if percent is None or percent > 100 or percent < flags.get("min_percent", 0):
        return []
    if flags.get("remaining"):
        percent = round(100 - percent, 1)  # "pain down to 10% of baseline": 90 % relief
    # The duration is the first one after the relief in the same sentence,
    # before any other relief figure.
    sentence = ctx.same_sentence(span)
    later = [s for s in sentence if s.start >= span.start and s is not span]
    hours, expected, from_day_part = None, False, False
    # "6 hours of complete relief": the hours come first and name the relief they held for.
    holding = next((s for s in sentence if s.label_ == "DURATION" and s.start < span.start and s.end >= span.end
                    and ctx.values.get(s.id_) == "held"), None)
    if holding is not None:
        hours = duration_hours(holding)
    for other in sorted(later, key=lambda s: s.start):
        if other.label_ == "RELIEF" and other.start >= span.end:
            if hours is None:
                hours = _shared_hours(later)
            break
        if other.label_ == "DURATION" and _measured_at(other):
            # "90% relief at 30 min": when it was measured, not how long it lasted.
            if read_at is None and _read_then(span, other, basis):
                read_at = duration_hours(other)
            continue
        if other.label_ == "DURATION" and _onset(other):
            continue
        if other.label_ == "DURATION" and other.end < len(span.doc) and span.doc[other.end].lower_ in _UNTIL:
            continue  # "from 30 min through about 5 hours": the window's end comes next
        if other.label_ == "DURATION":
            if ctx.values.get(other.id_) == "expected":
                expected = not _falls_short(span, other)
                break
            if hours is None or (from_day_part and other.id_ not in _DAY_PART_IDS):
                # "90% relief for 1.75 h, matching the expected duration of lidocaine": the hours, and
                # the note's own word that they were as expected, which may come after them.
                # "completely better until supper, ~7 h": the hours, over the day part's floor.
                hours = duration_hours(other)
                from_day_part = other.id_ in _DAY_PART_IDS
    if read_at is None:
        read_at = _still_after(span, ctx, basis)
    if (hours is None or from_day_part) and not expected:
        # "I was completely better until supper." / "the ache started creeping back around 6:30":
        # the hours a later line gives, over the day part's floor.
        hours = _held_for(span, ctx) or hours
    value = {"percent": percent, "basis": basis, "duration_hours": hours, "expected_duration": expected}
    if flags.get("threshold") or _required_figure(span, ctx):
        value["threshold"] = True  # a figure a payer or plan requires, not what the patient reported
    if read_at is not None:
        value["at_hours"] = read_at  # as a diary row's time
    return [Draft("relief", value, span.start_char, span.end_char, span.id_, f"relief from {basis}", matched)]

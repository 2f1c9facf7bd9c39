"""Stage 3: procedure, imaging, pain, function, duration, care, setting and diagnosis spans -> facts."""
from __future__ import annotations

import re

from spacy.tokens import Span

from extractor.interpret import Context, Draft
from extractor.interpret.dates import MONTH_NUMBERS
from extractor.interpret.relief import duration_hours, duration_weeks
from extractor.numbers import number_value
from extractor.registry import interpreter
from extractor.sourcetext import line_bounds
from extractor.tables import cell_notes, column_rules, elapsed_hours, hours_in

# Month assumed for "early 2022", "spring of 2022" (mid-season).
_SEASON_MONTH = {"early": 3, "spring": 4, "mid": 7, "summer": 7, "late": 10, "fall": 10, "autumn": 10, "winter": 1}
_PAIN_WORDS = {"pain", "lbp", "ache", "aching", "symptoms", "discomfort", "neck", "back", "axial", "duration",
               "nrs", "vas"}
_NEEDS_ONSET_WORD = {"duration.pain_in_month_year", "duration.pain_season_year"}
_ONSET_WORDS = {"since", "began", "started", "onset", "begun", "noticed"}
_FOLLOW_UP_WORDS = {"follow", "f/u", "fu", "return", "recheck", "revisit", "lasts", "repeat", "call", "rtc"}
_CHANGE_WORDS = {"worse", "worsening", "better", "improved", "improving", "increased", "progressed", "helped",
                 "recurred", "returned", "relapsed"}
_RELIEF_WORDS = {"relief", "benefit", "improvement", "response"}
_LASTED_WORDS = {"lasted", "lasting", "persisted"}
_SCORE_WITHOUT_TEN = {"pain.scale_number", "pain.labelled_number"}  # a bare number after a scale or label
# Scores out of 10 that are not pain: recovery, consciousness, sedation, strength.
_OTHER_SCALES = {"aldrete", "gcs", "apgar", "ramsay", "rass", "sedation", "strength", "motor", "power"}
_CARE_LINK_WINDOW = 30  # tokens between a treatment and its duration
_FUNCTION_MEASURES = {"odi": "odi", "oswestry": "odi", "ndi": "ndi", "rmdq": "rmdq"}
_FUNCTION_WORDS = {"stand": "standing", "standing": "standing", "stands": "standing", "stood": "standing",
                   "walk": "walking", "walking": "walking", "walks": "walking", "walked": "walking",
                   "sit": "sitting", "sitting": "sitting", "sits": "sitting", "sat": "sitting", "sleep": "sleep", "sleeping": "sleep",
                   "work": "work", "working": "work", "lift": "lifting", "lifting": "lifting",
                   "bend": "bending", "bending": "bending", "drive": "driving", "driving": "driving",
                   "drove": "driving", "drives": "driving", "worked": "work", "works": "work", "shift": "work",
                   "shifts": "work", "overtime": "work", "desk": "work", "lifted": "lifting", "sleeps": "sleep",
                   "slept": "sleep", "wakes": "sleep", "stairs": "adl", "climb": "adl", "mowed": "adl",
                   "shopping": "adl", "carry": "adl", "carrying": "adl"}


def _simple(kind: str):
    def interpret(span, ctx: Context) -> list[Draft]:
        return [Draft(kind, ctx.values.get(span.id_), span.start_char, span.end_char, span.id_, kind, span)]
    interpret.__name__ = f"interpret_{kind}"
    return interpret


_FORM_WORDS = {"form", "forms"}
# "17-gauge cooled RF probes", "Cooled RF lesions at 60 C": the device, not the procedure named.
_DEVICE_WORDS = {"probe", "probes", "introducer", "introducers", "lesion", "lesions", "generator", "cannula",
                 "cannulae", "cannulas", "electrode", "electrodes", "needle", "needles", "system", "kit"}


@interpreter("PROCEDURE")
def interpret_procedure(span, ctx: Context) -> list[Draft]:
    # "DWC Form RFA" is a Request For Authorization form, not an ablation.
    if span.start and ctx.doc[span.start - 1].lower_ in _FORM_WORDS and span.text.isupper():
        return []
    # "post-ablation neuritis", "post ablation soreness": a time after the procedure, not the procedure.
    before = ctx.doc[max(0, span.start - 2): span.start]
    if span.id_ == "procedure.bare_ablation" and any(t.lower_ in {"post", "post-"} for t in before):
        return []
    if span.id_ == "procedure.rfa_cooled" and span.end < len(ctx.doc) and ctx.doc[span.end].lower_ in _DEVICE_WORDS:
        return []
    if span.id_ in _CODE_FIELD_IDS and not _names_by_code_only(span, ctx):
        return []
    value = ctx.values.get(span.id_)
    if value == "facet_rfa" and _names_other_joint(span, ctx.doc):
        value = "other_ablation"
    return [Draft("procedure", value, span.start_char, span.end_char, span.id_, "procedure", span)]


# A procedure field whose first entry is a CPT code: "Procedure(s): 64493-LT, 64494-LT", "CPT: 64635".
_CODE_FIELD_IDS = {"procedure.facet_block_code_field", "procedure.facet_rfa_code_field"}
_CODE_FIELD = re.compile(r"[ \t]*(?:procedures?(?:[ \t]*\(s\))?(?:[ \t]+performed)?|proc|cpt(?:[ \t]+codes?)?)"
                         r"[ \t]*:[ \t]*$", re.IGNORECASE)


def _names_by_code_only(span, ctx: Context) -> bool:
    """The code opens a procedure field and no procedure words share its line: "Procedure(s): 64493-LT,
    64494-LT" (not "Procedure: 64493 - lumbar medial branch block", whose words are the fact, nor a
    superbill's row or a remittance's line, which name no procedure done here)."""
    line_start, line_end = line_bounds(ctx.text, span.start_char)
    if not _CODE_FIELD.match(ctx.text, line_start, span.start_char):
        return False
    return not any(s.label_ == "PROCEDURE" and s.id_ not in _CODE_FIELD_IDS and line_start <= s.start_char < line_end
                   for s in ctx.spans)


# "Left hip radiofrequency ablation of the articular branches of the obturator and femoral nerves":
# the generic ablation words name another joint's nerves, not a facet's.
_OTHER_JOINTS = {"hip", "knee", "shoulder", "genicular"}
# "Radiofrequency ablation of the superior cluneal nerves": over the iliac crest. Not "occipital":
# the third occipital nerve is the C2-3 facet's.
_OTHER_NERVES = {"obturator", "femoral", "genicular", "sciatic", "suprascapular", "saphenous", "articular",
                 "cluneal", "basivertebral", "intercostal", "pudendal", "splanchnic", "ilioinguinal",
                 "iliohypogastric", "genitofemoral", "trigeminal", "sphenopalatine"}


_NERVES_WINDOW = 10  # tokens after "ablation," in which a list of the nerves is named
# What a list of nerves holds before their name: "right T7, T8 and T9 intercostal nerves".
_NERVE_LIST_WORDS = {",", "and", "&", "the", "right", "left", "bilateral", "bilaterally", "superior", "middle"}
_VERTEBRA_WORD = re.compile(r"^[ctls]\d{1,2}$")


def _names_other_joint(span, doc) -> bool:
    before = {t.lower_ for t in doc[max(0, span.start - 2):span.start]}
    after = [t.lower_ for t in doc[span.end:span.end + 6]]
    if bool(before & _OTHER_JOINTS) or (after[:1] == ["of"] and bool(set(after) & _OTHER_NERVES)):
        return True
    if after[:1] not in ([","], [":"]):
        return False
    # "Radiofrequency ablation, right T7, T8 and T9 intercostal nerves": the nerves listed after a comma.
    for t in doc[span.end + 1: span.end + _NERVES_WINDOW]:
        if t.lower_ in _OTHER_NERVES:
            return True
        if t.lower_ not in _NERVE_LIST_WORDS and not _VERTEBRA_WORD.match(t.lower_):
            return False
    return False


_LAST_WORD_IMAGING = {"imaging.ct_guidance_field", "imaging.ct_checkbox", "imaging.us_checkbox"}


@interpreter("IMAGING")
def interpret_imaging(span, ctx: Context) -> list[Draft]:
    # "Guidance: CT", "[ ] CT": the label or box says it is guidance; the fact is the modality's word.
    start = span[-1].idx if span.id_ in _LAST_WORD_IMAGING else span.start_char
    return [Draft("imaging", ctx.values.get(span.id_), start, span.end_char, span.id_, "imaging", span)]


_POS_CODES = {"11": "office", "22": "hospital_outpatient", "24": "asc",
              "eleven": "office", "twenty-two": "hospital_outpatient", "twenty-four": "asc"}


_NEXT_VISIT_BEFORE = {"follow", "follow-up", "followup", "f/u", "up", "return", "rtc", "next", "schedule", "scheduled"}


def _a_later_visit(span, ctx: Context) -> bool:
    """"Follow-up clinic visit in 6 weeks", "clinic visit after 3 months", "PLAN: Clinic visit to schedule
    the RFA": a visit to come, not where this note's care took place."""
    if span[-1].lower_ != "visit":
        return False
    doc = ctx.doc
    before = {t.lower_ for t in doc[max(0, span.start - 3): span.start]}
    after = doc[span.end].lower_ if span.end < len(doc) else ""
    return bool(before & _NEXT_VISIT_BEFORE) or after in {"in", "to", "after"}


@interpreter("SETTING")
def interpret_setting(span, ctx: Context) -> list[Draft]:
    if _a_later_visit(span, ctx):
        return []
    value = ctx.values.get(span.id_) or next((_POS_CODES[t.lower_] for t in span if t.lower_ in _POS_CODES), None)
    return [Draft("setting", value, span.start_char, span.end_char, span.id_, "setting", span)] if value else []


@interpreter("PAIN_SCORE")
def interpret_pain_score(span, ctx: Context) -> list[Draft]:
    column = column_rules().get(span.id_)
    if column is not None:  # a pain-diary cell: the column names the scale
        note = cell_notes(ctx.doc).get(span.start_char, {})
        score = float(span.text) / 10 if note.get("mm") else float(span.text)  # "VAS (mm)": a 100 mm line
        value = {"score": score, "scale": column.get("scale"), "at_hours": note.get("at_hours")}
        return [Draft("pain_score", value, span.start_char, span.end_char, span.id_, "score in a pain-diary row", span)]
    after = ctx.doc[span.end].text if span.end < len(ctx.doc) else ""
    if span.id_ in _SCORE_WITHOUT_TEN and after in {"-", "/", "–"}:
        return []  # "NRS 0-10 scale", or a score whose "/10" another pattern reads
    if after == "/" and span.end + 1 < len(ctx.doc) and ctx.doc[span.end + 1].is_digit:
        return []  # "DOS: 8/10/26": a date
    if span.start and ctx.doc[span.start - 1].lower_ in _OTHER_SCALES:
        return []  # "Aldrete 10/10": a recovery score, not pain
    numbers = [n for t in span if (n := number_value(t.text)) is not None]
    authored = ctx.values.get(span.id_)
    if isinstance(authored, dict) and authored.get("millimetres"):
        scores = [numbers[0] / 10]  # a mark on a 100 mm line, on the 0-10 scale of every other score
    else:
        scores = [n for n in numbers[:-1]] if numbers and numbers[-1] == 10 else numbers
    if not scores:
        return []
    score = scores[-1]
    scale = next((t.text.upper() for t in span if t.text.upper() in {"NRS", "VAS", "NPRS"}), None)
    if scale is None:
        prev = ctx.doc[max(0, span.start - 3): span.start]
        scale = next((t.text.upper() for t in prev if t.text.upper() in {"NRS", "VAS", "NPRS"}), None)
    value = {"score": score, "scale": scale}
    at = _read_at(span, ctx)
    if at is None:
        at = elapsed_hours(ctx.text, span.start_char)  # "0:30 - 2/10" in a log kept by time since the block
    if isinstance(authored, dict) and authored.get("timed_only"):
        # A bare "8 mm" is a VAS mark only where the note keeps VAS in millimetres and says when it was read.
        at = at if at is not None else _row_time(span, ctx)
        if at is None or score > 10 or not _VAS_IN_MM.search(ctx.text):
            return []
        value["scale"] = "VAS"
    if at is not None:
        value["at_hours"] = at
    return [Draft("pain_score", value, span.start_char, span.end_char, span.id_, "n/10 score", span)]


def _read_at(span, ctx: Context) -> float | None:
    """Hours after the procedure a score was read: "Pain 1/10 at 3 hr", "pain 1/10 (pre 7/10) at 30 min"."""
    doc, i = ctx.doc, span.end
    if i < len(doc) and doc[i].text == "(":  # a parenthesis between the score and its time belongs to the score
        close = next((j for j in range(i + 1, min(len(doc), i + 12)) if doc[j].text == ")"), None)
        i = close + 1 if close is not None else i
    if i >= len(doc) or doc[i].lower_ not in ("at", "@"):
        return _read_at_before(span, ctx)
    when = next((d for d in ctx.same_sentence(span, "DURATION") if d.start == i + 1), None)
    return duration_hours(when) if when is not None else None


_VAS_IN_MM = re.compile(r"\bVAS\b[^\n]{0,30}\bmm\b", re.IGNORECASE)
# A row read back from a diary that opens with its time: "    2 h    11 mm", "30 min - 6 mm".
_ROW_TIME = re.compile(r"[ \t]*(\d+(?:\.\d+)?[ \t]*(?:h|hrs?|hours?|min|mins|minutes))[ \t]*[-:=]?[ \t]*$",
                       re.IGNORECASE)


def _row_time(span, ctx: Context) -> float | None:
    line_start = ctx.text.rfind("\n", 0, span.start_char) + 1
    m = _ROW_TIME.fullmatch(ctx.text, line_start, span.start_char)
    return hours_in(m.group(1)) if m else None


# What may stand between a reading's time and its score: "At 30 minutes it was 0/10", "at 2 h: pain 1/10".
_TIME_TO_SCORE = {"it", "was", "pain", "nrs", "vas", "score", "she", "he", "rated", ":", ",", "-", "="}


def _read_at_before(span, ctx: Context) -> float | None:
    """Hours of a reading whose time comes first: "At 30 minutes it was 0/10 and at\n2 hours 1/10"."""
    doc = span.doc
    for when in ctx.same_sentence(span, "DURATION"):
        if when.end > span.start or span.start - when.end > 4:
            continue
        before = [t for t in doc[max(0, when.start - 2):when.start] if not t.is_space]
        between = [t for t in doc[when.end:span.start] if not t.is_space]
        if before and before[-1].lower_ in ("at", "@") and all(t.lower_ in _TIME_TO_SCORE for t in between):
            return duration_hours(when)
    return None


# Patterns that read an activity and an amount: in recovery they test a block, they are no limit.
_ACTIVITY_AMOUNTS = {"function.activity_amount", "function.activity_duration", "function.activity_without_stopping"}


# "in recovery", "in PACU", "During relief she stood ...", "At 30 min she bent, twisted and stood for 10 min"
_RECOVERY = re.compile(r"\bin (?:the )?(?:recovery|pacu)\b|\bduring (?:the )?relief\b|\bat \d+ ?min", re.IGNORECASE)


def _tried_in_recovery(span, ctx: Context) -> bool:
    """"stood 10 min w/o pain in recovery": an activity done to test a block (docs/facts.md)."""
    line_start, line_end = line_bounds(ctx.text, span.start_char, span.end_char)
    return _RECOVERY.search(ctx.text, line_start, line_end) is not None


_ANY_ACTIVITY = {"function.cannot_any", "function.can_not_any"}  # "cannot" and whatever words follow
_CARE_OBJECTS = {"therapy", "physio", "rehab", "rehabilitation", "pt", "chiro", "injections", "appointments"}


def _names_care(span, ctx: Context) -> bool:
    """The words after "cannot" reach a treatment: a care fact inside or right after them, or "therapy"."""
    after = ctx.doc[span.end].lower_ if span.end < len(ctx.doc) else ""
    return (after in _CARE_OBJECTS or span[-1].lower_ in _CARE_OBJECTS
            or any(s.label_ == "CONSERVATIVE" and span.start < s.start <= span.end + 1 for s in ctx.same_sentence(span)))


@interpreter("FUNCTION")
def interpret_function(span, ctx: Context) -> list[Draft]:
    if span.id_ in _ACTIVITY_AMOUNTS and _tried_in_recovery(span, ctx):
        return []
    if span.id_ in _ACTIVITY_AMOUNTS and span[0].lower_ == "work" and span.start and ctx.doc[span.start - 1].lower_ == "at":
        return []  # "cannot sit at work > 30 min": a place; the limit is the sitting, found on its own
    if span[0].lower_ == "tolerated" and span.start and ctx.doc[span.start - 1].lower_ == "as":
        return []  # "resume usual activity as tolerated in 48 hrs": an instruction
    if span.id_ in _ANY_ACTIVITY and _names_care(span, ctx):
        return []  # "cannot go back to therapy", "unable to attend PT": the care, not a limit on living
    fixed = ctx.values.get(span.id_)
    words = [t.text.lower() for t in span]
    measure = fixed or next((_FUNCTION_MEASURES[w] for w in words if w in _FUNCTION_MEASURES), None)
    if measure is None:
        measure = next((_FUNCTION_WORDS[w] for w in words if w in _FUNCTION_WORDS), "general")
    numbers = [n for t in span if (n := number_value(t.text)) is not None]
    value = {"measure": measure, "value": numbers[0] if numbers and measure in {"odi", "ndi", "rmdq"} else None}
    return [Draft("function", value, span.start_char, span.end_char, span.id_, measure, span)]


def _onset_year(span, ctx: Context) -> int | None:
    """The year a pain-onset span names: "since 2019", "since 10/2024", "since summer '24"; None for spans."""
    year_tok = next((t for t in span if re.fullmatch(r"(19|20)\d{2}", t.text)), None)
    if year_tok is not None:
        return int(year_tok.text)
    if span.id_ == "duration.pain_since_short_year" and ctx.document_date is not None:
        short = int(span[-1].text)  # "'24": this century, unless that is after the note
        return 2000 + short if 2000 + short <= ctx.document_date.year else 1900 + short
    if span.id_ == "duration.pain_since_last_year" and ctx.document_date is not None:
        return ctx.document_date.year - (span[-2].lower_ == "last")  # "of last year", "of this year"
    return None


def _months_since_onset(span, ctx: Context) -> int | None:
    """Whole months from the onset a span names to the note's date (mid-year when no month is given)."""
    if ctx.document_date is None:
        return None
    year = _onset_year(span, ctx)
    month = next((MONTH_NUMBERS[t.lower_[:3]] for t in span
                  if t.lower_[:3] in MONTH_NUMBERS and not t.text.isdigit()), None)
    slash = next((t for t in span if t.text == "/"), None)
    if month is None and slash is not None and slash.i >= 1 and ctx.doc[slash.i - 1].text.isdigit():
        month = int(ctx.doc[slash.i - 1].text)  # "since 10/2024"
    if month is None:
        month = next((_SEASON_MONTH[t.lower_] for t in span if t.lower_ in _SEASON_MONTH), 7)
    return (ctx.document_date.year - year) * 12 + (ctx.document_date.month - month)


_RATE_WORDS = {"per", "every", "within", "each"}
_DOSE_UNITS = {"mg", "mcg", "g", "ml", "tab", "tabs", "tablet", "tablets", "cap", "caps", "daily", "bid", "tid", "qid",
               "qd", "qhs", "hs", "prn", "nightly", "twice", "once", "a", "day", "for", "x", ">", "<", "~", "about"}


def _pain_named_between(tokens) -> bool:
    """"meloxicam; pain > 4 yrs": the duration after the pain word is the pain's."""
    return any(t.lower_ in {"pain", "lbp", "symptoms"} for t in tokens)


_SESSION_RATE = re.compile(r"^(?:\d+x|x\d+|/|weekly|week|wk|per)$")  # "2x/week", "x2 per week"


def _only_dose_between(tokens) -> bool:
    """Tokens between a treatment and a duration are its dose and schedule: "15 mg daily for >",
    "PT (Athletico) 2x/week for": a parenthesis (the clinic, the brand) is passed over."""
    depth = 0
    for t in tokens:
        depth += (t.text == "(") - (t.text == ")")
        if depth or t.text == ")":
            continue
        if not (t.like_num or t.lower_ in _DOSE_UNITS or _SESSION_RATE.match(t.lower_)):
            return False
    return True


def _question_words(span) -> set[str]:
    """The words of the question just before the span's sentence: a form's answer under its
    question ("How long have you had this pain?" / "about 2 1/2 years") is about what it asks."""
    start = span.sent.start
    before = span.doc[:start]
    asked = next((t for t in reversed(before) if not t.is_space), None)
    if asked is None or asked.text != "?":
        return set()
    return {t.lower_ for t in asked.sent}


def _field_above_words(span) -> set[str]:
    """The words of the line above a field: an export's "onset: ~18 months" under "chief complaint:
    low back pain" is the complaint's duration (a field of its own has no pain word on its line)."""
    if span.id_ != "duration.pain_duration_field" or span.sent.start == 0:
        return set()
    above = span.doc[span.sent.start - 1].sent
    return {t.lower_ for t in above}


@interpreter("PAIN_DURATION")
def interpret_pain_duration(span, ctx: Context) -> list[Draft]:
    matched = span  # ConText's flags are kept on the span the ruler found
    if span.id_ == "duration.pain_duration_field":
        colon = next(t.i for t in span if t.text == ":")
        value_start = next(t.i for t in ctx.doc[colon + 1:span.end] if not t.is_space)
        span = Span(ctx.doc, value_start, span.end, label=span.label_, span_id=span.id_)  # the value, not its label
    sentence_words = {t.lower_ for t in span.sent}
    if not ((sentence_words | _question_words(span) | _field_above_words(matched)) & _PAIN_WORDS):
        return []
    if matched.id_ == "duration.pain_duration_field" and any(
            s.label_ == "CONSERVATIVE" and s.end <= matched.start for s in ctx.same_sentence(matched)):
        return []  # an export's record "therapy: physical therapy, duration: 8 weeks": the therapy's
    nxt = ctx.doc[span.end] if span.end < len(ctx.doc) else None
    if nxt is not None and nxt.lower_ in {"old", "-", "/", "o"} and (nxt.lower_ == "old" or not span[-1].whitespace_):
        return []  # "67 year old", "68 y/o", "67-year-old" (not "since the spring of 2022 - started ...")
    prev = ctx.doc[span.start - 1] if span.start else None
    if prev is not None and prev.lower_ in _CHANGE_WORDS:
        return []  # "worse over the last twelve months": how it changed, not how long it has lasted
    if any(s.label_ == "RELIEF" and 0 <= span.start - s.end <= 6 for s in ctx.same_sentence(span)):
        return []  # "30% relief ... for two weeks": how long a treatment helped
    # A duration right after a treatment is the treatment's ("PT x 6 wks", "ibuprofen 600 mg TID x 3 weeks",
    # "Meloxicam 15 mg daily for >6 months": only the dose and how often between them).
    if any(s.label_ == "CONSERVATIVE" and span.start - 8 <= s.end <= span.start
           and (span.start - s.end <= 4 or _only_dose_between(ctx.doc[s.end:span.start]))
           and not _pain_named_between(ctx.doc[s.end:span.start])
           for s in ctx.same_sentence(span)):
        return []
    if prev is not None and (prev.lower_ in _RATE_WORDS or (
            prev.lower_ == "in" and span.start >= 2 and number_value(ctx.doc[span.start - 2].text) is not None)):
        return []  # "no more than 3 in 12 months", "twice per year": how often, not how long
    before = {t.lower_ for t in ctx.doc[ctx.sentence_start(span.start): span.start]}
    if before & _LASTED_WORDS and before & _RELIEF_WORDS:
        return []  # "Relief lasted roughly 10 months": how long an earlier ablation helped
    if any(t.lower_ in _FOLLOW_UP_WORDS for t in ctx.doc[max(0, span.start - 5): span.start]):
        return []  # "follow up in 6 months", "if relief lasts >= 6 mos"
    if span.id_ in _NEEDS_ONSET_WORD and not any(t.lower_ in _ONSET_WORDS for t in ctx.doc[span.sent.start:span.start + 1]):
        return []  # "MRI in June 2024", "knee replacement in fall 2024" date something else, not the pain
    if nxt is not None and nxt.lower_ == "of" and any(
            s.label_ == "CONSERVATIVE" and span.end < s.start <= span.end + 3 for s in ctx.same_sentence(span)):
        return []  # "failed over three months of conservative care": how long the care went on
    if span.id_ == "duration.pain_years_months":
        years, extra = [n for t in span if (n := number_value(t.text)) is not None][:2]
        months = years * 12 + extra  # "2 years 8 months" (the pattern has exactly two numbers)
    elif _onset_year(span, ctx) is not None:
        months = _months_since_onset(span, ctx)
    else:
        weeks = duration_weeks(span)
        months = None if weeks is None else round(weeks / 4.345, 1)
    if months is None or months < 0:
        return []
    return [Draft("pain_duration", {"months": months}, span.start_char, span.end_char, span.id_,
                  "pain duration", matched)]


_VISIT_KINDS_BEFORE = {"new", "established", "est", "est."}
_VISIT_WORDS_AFTER = {"consult", "consultation", "visit", "note"}


# "PT AGREES", "PT C/O LBP", "PT RESPONSIVE THROUGHOUT": in an all-capitals note PT is also the patient.
_PATIENT_DOES = {"agrees", "agreed", "c/o", "responsive", "tolerated", "tolerates", "reports", "reported", "states",
                 "stated", "denies", "denied", "verbalized", "verbalizes", "understands", "consented", "prone",
                 "ambulated", "ambulating", "discharged", "presents", "returns", "complains", "seen"}


def _pt_is_the_patient(span) -> bool:
    """"NEW PT CONSULT", "Established PT visit", "PT AGREES": PT is the patient, as in a visit type,
    or the subject of what a patient does."""
    doc = span.doc
    after = doc[span.end].lower_ if span.end < len(doc) else ""
    if after == "c" and doc[span.end: span.end + 3].text.lower() == "c/o":  # "C/O" is three tokens
        after = "c/o"
    return after in _PATIENT_DOES or (span.start > 0 and doc[span.start - 1].lower_ in _VISIT_KINDS_BEFORE
                                      and after in _VISIT_WORDS_AFTER)


_COURSE_IN_SPAN = {"care.pt_lower_with_course"}


@interpreter("CONSERVATIVE")
def interpret_conservative(span, ctx: Context) -> list[Draft]:
    therapy = ctx.values.get(span.id_)
    if span.id_ == "care.pt_abbrev" and _pt_is_the_patient(span):
        return []
    weeks = ranged = None
    sentence = sorted(ctx.same_sentence(span), key=lambda s: s.start)
    # A pattern that takes the course into its span ("pt x 8 wks") reads it there.
    after = span.start + 1 if span.id_ in _COURSE_IN_SPAN else span.end
    for other in sentence:
        # "PT x 10 wks", "physical therapy ... (10 weeks)": the first duration
        # after the treatment, unless another treatment comes first.
        if other.start < after or other.start > span.end + _CARE_LINK_WINDOW:
            continue
        if other.label_ == "CONSERVATIVE" or _pain_named_between(ctx.doc[span.end:other.start]):
            break  # another treatment's duration, or the pain's ("meloxicam; pain > 4 yrs")
        if other.label_ == "DURATION":
            # "a 12-week course of physical therapy ... from January through March": the course's
            # own length, written before it, is the one counted (the months only date it).
            if other.id_ == "duration.month_range":
                ranged = duration_weeks(other)
            else:
                weeks = duration_weeks(other)
            break
    if weeks is None:
        # "more than 6 months of conservative care", "6 wks PT"
        for other in sentence:
            between = ctx.doc[other.end: span.start]
            if other.label_ == "DURATION" and 0 <= span.start - other.end <= 4 and \
                    (len(between) == 0 or any(t.lower_ == "of" for t in between)):
                weeks = duration_weeks(other)
    if weeks is None:
        weeks = ranged
    value = {"therapy": therapy, "weeks": weeks}
    return [Draft("conservative_care", value, span.start_char, span.end_char, span.id_, therapy or "", span)]


@interpreter("ICD10")
def interpret_icd10(span, ctx: Context) -> list[Draft]:
    return [Draft("diagnosis", {"code": span.text.upper(), "suggested": False, "words": None},
                  span.start_char, span.end_char, span.id_, "ICD-10-CM code written in the note", span)]


# A study's incidental findings ("MRI: ... mild disc desiccation L4-5") are no diagnosis the note makes.
_FINDING_ONLY = {"dx.disc_degeneration"}
_STUDY_WORDS = {"mri", "rays", "ray", "xr", "radiographs", "ct", "imaging", "study", "films", "show", "shows", "showed",
                "demonstrates", "revealed", "reveals"}


@interpreter("DX_WORDS")
def interpret_dx_words(span, ctx: Context) -> list[Draft]:
    if span.id_ in _FINDING_ONLY and any(
            t.lower_ in _STUDY_WORDS for t in ctx.doc[ctx.sentence_start(span.start): span.start]):
        return []
    # "facet" words (spondylosis, facet arthropathy) support a facet code; "other"
    # (radiculopathy, disc extrusion) are recorded but never suggest one.
    category = ctx.values.get(span.id_) or "facet"
    return [Draft("diagnosis", {"code": None, "suggested": True, "words": span.text.lower(), "category": category},
                  span.start_char, span.end_char, span.id_, "diagnosis in words", span)]


_BLOCK_NUMBERS = {3: {"third", "3rd", "3", "three"},
                  2: {"second", "2nd", "confirmatory", "2", "repeat", "two"},
                  1: {"first", "1st", "initial", "1", "one"}}
_ORDINAL_ONLY = {"block.ordinal_agent", "block.ordinal_medial_branch"}
_WORD_ONLY = {"block.confirmatory_in_parentheses", "block.confirmatory_mbb"}
_YIELD_TO_NUMBER = {"block.number_words", "block.confirmatory_mbb"}
_NUMBER_BEFORE = re.compile(r"(?:#\s*\d|\b(?:number|no\.?)\s+\w+|\b\d+ of \d+)\s*\(?\s*$", re.IGNORECASE)
_NUMBER_FOLLOWS = re.compile(r"\s*(?:#|no\.?\s*|number\s+)\d", re.IGNORECASE)
_ORDINALS = {"first", "second", "third", "1st", "2nd", "3rd"}
# "Confirmatory lumbar medial branch block (#2 of 2)", "confirmatory MBB, block number two"
_NUMBER_LATER = re.compile(r"#\s*\d|\b(?:number|no\.)\s+(?:\d|one|two|three)\b|\b\d\s+of\s+\d", re.IGNORECASE)
_OTHER_HASH = re.compile(r"#\s*\d")
_WORD_NEXT = re.compile(r"[ \t]*(?:-[ \t]*)?[A-Za-z]")
_BLOCK_WORD = re.compile(r"\b(?:blocks?|mbbs?|injections?|medial branch)\b", re.IGNORECASE)
# "the block two weeks ago", "block 1 mL per level": the number counts time or a dose, not blocks.
_UNIT_NEXT = re.compile(r"[ \t]*(?:min(?:ute)?s?|h(?:ou)?rs?|days?|weeks?|wks?|months?|mos?|years?|yrs?"
                        r"|ml|mls|cc|mg|mcg|%|percent)(?![A-Za-z])", re.IGNORECASE)
# "Last procedure: MBB 3/18", "block 2/10/26": the number opens a date.
_DATE_NEXT = re.compile(r"[/-]\d")


def _problem_number(text: str, start: int, end: int) -> bool:
    """A "#1" that numbers a problem-list line: "#1 Lumbar spondylosis (M47.816) - ...", "#2 - As above".

    At the start of its line, followed by words that name no block, or by
    another "#n" ("#1 - Block #2: right L3-4"). A block list's "#1 9/2/26
    lidocaine 2% ..." goes on with a date and stays a block number.
    """
    line_start, line_end = line_bounds(text, start, end)
    if text[line_start:start].strip():
        return False
    rest = text[end:line_end]
    return bool(_OTHER_HASH.search(rest) or (_WORD_NEXT.match(rest) and not _BLOCK_WORD.search(rest)))


@interpreter("BLOCK_NUMBER")
def interpret_block_number(span, ctx: Context) -> list[Draft]:
    start, end = span.start_char, span.end_char
    if span.id_ in _ORDINAL_ONLY:
        # "the first with 2% lidocaine": the ordinal is the fact; the 2 is a concentration.
        ordinal = next(t for t in span if t.lower_ in _ORDINALS)
        first = span[0] if span[0].lower_ == "the" else ordinal
        start, end = first.idx, ordinal.idx + len(ordinal.text)
        words = {ordinal.lower_}
    elif span.id_ in _WORD_ONLY:
        word = next(t for t in span if t.lower_ == "confirmatory")
        start, end = word.idx, word.idx + len(word.text)  # the word, not its brackets or the procedure
        words = {word.lower_}
    elif span.id_ == "block.number_of_total":
        own = span[-3]  # "Block Number: 1 of 2": the block's own number comes first
        start, end = own.idx, span.end_char
        words = {own.lower_}
    else:
        words = {t.lower_ for t in span}
    if span.id_ in _WORD_ONLY and _NUMBER_BEFORE.search(ctx.text, max(0, start - 20), start):
        return []  # "block #2 (confirmatory)" restates the number: one fact (docs/facts.md)
    if words == {"confirmatory"} and _NUMBER_LATER.search(ctx.text, end, min(line_bounds(ctx.text, end)[1],
                                                                              span.sent.end_char)):
        return []  # "Confirmatory ... block (#2 of 2)": the number later in the sentence's line is the fact
    if span.id_ == "block.number_hash" and _problem_number(ctx.text, start, end):
        return []
    if span[-1].lower_ == "of":
        after = ctx.doc[span.end] if span.end < len(ctx.doc) else None
        if after is None or number_value(after.text) is None:
            return []  # "the 3rd of March", "the inferior third of the joint": no "first of two"
        if _NUMBER_BEFORE.search(ctx.text, max(0, start - 20), start):
            return []  # "block #1 (first of two)" restates the number: one fact
    if span.id_ == "block.number_spelled_after" and (_UNIT_NEXT.match(ctx.text, end)
                                                     or _DATE_NEXT.match(ctx.text, end)):
        return []
    if span.start and ctx.doc[span.start - 1].lower_[:3] in MONTH_NUMBERS:
        return []  # "on June 2nd with lidocaine" is a date, not the second block
    if span.id_ in _YIELD_TO_NUMBER and _NUMBER_FOLLOWS.match(ctx.text, span.end_char):
        return []  # "Confirmatory block #2": the number that follows is the fact
    number = next((n for n, names in _BLOCK_NUMBERS.items() if words & names), None)
    if number is None:
        return []
    return [Draft("block_number", number, start, end, span.id_, "block number", span)]

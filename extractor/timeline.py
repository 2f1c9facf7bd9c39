"""Stage 3: statements dated before the note are history; statements in a plan are plans.

A later note restates earlier care with its dates ("MBB #1 on 09/30/2025:
lidocaine 2%, 90% relief x 2 h"). ConText marks history only where a
trigger word says so ("s/p", "prior", "history of"); a date does the same
job in these summaries and nothing in ConText reads it. So: a fact whose
nearest earlier date in the same clause (same line, no sentence break in
between) falls before the note's own date is marked historical, and so is a
date fact that is itself before the note's date. Outside the note's own
procedure statement, a procedure followed in its clause by "on <date>"
before the note's date ("facet RFA with me on 05/16/2023") is history too.
The note's date is its service date, else its first full date.

Likewise a plan section ("PLAN: right L3-4 RFA under fluoroscopy") plans
the procedure, its levels, sides, agents and imaging, though only its first
words carry ConText's "plan" trigger: facts of the kinds section_rules.json
lists under "planned_kinds" for that section are marked hypothetical.
A prior-authorization request form names the procedure on a "Procedure:"
line like an op note does, yet asks for it: in a document whose title
names such a request, those facts are marked hypothetical too. Fields
written right under a plan header ("PLAN" / "Procedure: bilateral L3-4 MBB"
/ "Guidance: fluoroscopy"), with no blank line between, are the plan's.

A correction ("ADDENDUM: correction - the levels were L3-4, L4-5 and L5-S1,
not L2-3") withdraws the joint it names everywhere in the note (those level
facts are negated), and its own levels and sides get the section
"correction", which drafting reads in place of the procedure statement.
Nothing else changes.
"""
from __future__ import annotations

import bisect
import dataclasses
import itertools
import re

from functools import lru_cache

from extractor.facts import Fact
from extractor.patterns import load_json_data
from extractor.sourcetext import sentence_bounds

__all__ = ["own_date", "mark_dated_history", "mark_planned", "mark_requested", "mark_transmitted", "mark_corrected",
           "mark_spoken_corrections", "mark_struck_through", "withdrawn_in_dictation", "plan_field_ranges",
           "CORRECTION_SECTION", "ADDENDUM_HEAD"]

_CLAUSE_BREAK = re.compile(r"\n|[.;]\s")
# Kinds a dated clause can put in the past; identity, setting and diagnosis are the note's own.
_DATED_KINDS = {"procedure", "level", "side", "relief", "anesthetic", "steroid", "imaging",
                "block_number", "pain_score", "function", "conservative_care", "region"}


# A footer's date that is not the note's own: "Printed 06/20/2026 by ...", "Faxed 06/21/2026".
_NOT_OWN_FOOTER = re.compile(r"\b(?:print(?:ed)?|fax(?:ed)?|generated|run date|sent)\b", re.IGNORECASE)
# A fax machine's banner over each page: "03/05/2026 09:14  5550148820  NORTHGATE PAIN & SPINE  P. 001/002".
_PAGE_COUNTER = re.compile(r"\b(?:p|pg|page)\.?\s*\d{1,3}\s*(?:/|of)\s*\d{1,3}\b", re.IGNORECASE)
_HEAD_LINES = 3


def _print_stamp(line: str) -> bool:
    """A printout's or fax machine's stamp line: "Printed 11/10/2025 14:22 by ...", "... P. 001/002"."""
    return line.lstrip().lower().startswith("printed") or _PAGE_COUNTER.search(line) is not None


def _stamped(text: str, at: int) -> bool:
    """The date at `at` is on a print or fax stamp line, not the note's own date."""
    start, end = text.rfind("\n", 0, at) + 1, text.find("\n", at)
    line = text[start:end if end >= 0 else len(text)]
    return _print_stamp(line) or _NOT_OWN_FOOTER.search(line) is not None


# A note written days after its procedure names the procedure's day on the same line.
_LATE_ENTRY = re.compile(r"\blate\s+entry\b(?:\s*(?:for|of|re|dos|:|-))*\s*$", re.IGNORECASE)


def own_date(dated, text: str) -> str | None:
    """The note's own date (ISO) from its dated facts or drafts (`kind`, `value`, `start`; in text order).

    A late entry's date ("LATE ENTRY for 03/10/2026"); else the first date of service, unless a
    correction gives another on its line
    ("Corrected Date of Service: 03/10/2026" in an addendum); without one, a
    date in the title lines (the first three: "RIGHT LUMBAR MEDIAL BRANCH
    BLOCK #1 - 2026.05.12"), then one on the last line ("Lakeshore Surgery
    Center | Doe, Jane | 16-Jun-2026 0700h | Op note 1 of 1", not a print or
    fax stamp), then the first date: a body's first date is often history
    ("MBB #1 2026.05.12 ...").
    """
    dates, services = [], []
    for d in dated:
        if d.kind == "service_date" and d.value:
            services.append(d)
        elif d.kind == "date" and d.value:
            dates.append(d)
    late = [d for d in dates if _LATE_ENTRY.search(text, text.rfind("\n", 0, d.start) + 1, d.start)]
    if late:
        return late[0].value  # "*** LATE ENTRY for 03/10/2026 ***" above "Date: 03/13/2026", the day it was written
    if services:
        cue = _correction_cue()
        corrected = [d for d in services[1:] if cue.search(text, text.rfind("\n", 0, d.start) + 1, d.start)]
        return corrected[-1].value if corrected else services[0].value
    if not dates:
        return None
    dates = [d for d in dates if not _stamped(text, d.start)] or dates
    head_end = 0
    for _ in range(_HEAD_LINES):
        nxt = text.find("\n", head_end)
        if nxt < 0:
            head_end = len(text)
            break
        head_end = nxt + 1
    if dates[0].start < head_end:
        return dates[0].value
    body = text.rstrip()
    last_line = body.rfind("\n") + 1
    footer = [d for d in dates if d.start >= last_line]
    if footer and not _NOT_OWN_FOOTER.search(body, last_line):
        return footer[0].value
    return dates[0].value


def mark_dated_history(facts: tuple[Fact, ...], text: str) -> tuple[Fact, ...]:
    """The facts, with `historical` set on those a past date governs (facts in text order)."""
    own = own_date(facts, text)
    if own is None:
        return facts
    dates = [f for f in facts if f.kind == "date" and f.value]
    if not dates:
        return facts
    ends = [d.end for d in dates]  # facts come in text order, so dates do too
    out = []
    for fact in facts:
        past = False
        if fact.kind == "date":
            past = bool(fact.value) and fact.value < own
        elif fact.kind in _DATED_KINDS and not fact.historical:
            governing = _nearest_date_before(fact, dates, ends, text)
            if governing is None and fact.kind == "procedure" and fact.section not in _OWN_PROCEDURE_SECTIONS:
                governing = _date_it_was_done_on(fact, dates, ends, text)
            past = governing is not None and governing.value < own
        out.append(dataclasses.replace(fact, historical=True) if past and not fact.historical else fact)
    return tuple(out)


def _nearest_date_before(fact: Fact, dates: list[Fact], ends: list[int], text: str) -> Fact | None:
    """The last date ending at or before the fact, when no clause break lies between them."""
    i = bisect.bisect_right(ends, fact.start)
    if i == 0:
        return None
    nearest = dates[i - 1]
    if _CLAUSE_BREAK.search(text, nearest.end, fact.start):
        return None
    return nearest


# Where a note states its own procedure: a date after it there ("RFA performed on 10/02/2026",
# dictated days later) is that day's, whatever the note's own date says.
_OWN_PROCEDURE_SECTIONS = {"procedure", "title", "technique", "injectate", "post_procedure"}
_ON = re.compile(r"\b(?:on|dated|done|performed|completed)\s*$", re.IGNORECASE)  # "RFA done yesterday"
# A line that goes on in lower case continues the sentence above it: "RF ablation … was\n  done on 2/18/25".
_WRAPPED_LINE = re.compile(r"\n(?=[ \t]*[a-z])")


def _date_it_was_done_on(fact: Fact, dates: list[Fact], ends: list[int], text: str) -> Fact | None:
    """The date a procedure was done on, written after it in the same clause ("facet RFA with me on 05/16/2023",
    a nurse's call the next day: "RFA done yesterday")."""
    i = bisect.bisect_left(ends, fact.end + 1)
    if i == len(dates):
        return None
    after = dates[i]
    between = _WRAPPED_LINE.sub(" ", text[fact.end: after.start])
    if _CLAUSE_BREAK.search(between) or not _ON.search(between):
        return None
    return after


@lru_cache(maxsize=1)
def _planned_kinds() -> dict[str, frozenset[str]]:
    rules = load_json_data("section_rules.json").get("planned_kinds", {})
    return {section: frozenset(kinds) for section, kinds in rules.items() if not section.startswith("_")}


_BLANK_LINE = re.compile(r"\n[ \t]*\n")


# A section title that says what was done: "PROCEDURE PERFORMED:", "Procedures done:".
_DONE_TITLE = re.compile(r"[^\n:]{0,40}\b(?:performed|done|completed)\b[ \t]*:", re.IGNORECASE)


def plan_field_ranges(sections: list[tuple[str | None, int, int]], text: str) -> list[tuple[int, int]]:
    """Character ranges of field labels written right under a plan header, which belong to the plan.

    `sections` are (category, title start, body end) in character offsets, in order. Under
    "PLAN" a template may list "Procedure: bilateral L3-4 and L4-5 MBB", "Guidance:
    fluoroscopy": the sectionizer opens a "procedure" section there, but with no blank line
    between the plan header and them they are the plan's fields, up to the first blank line.
    """
    ranges = []
    for i, (category, plan_start, _end) in enumerate(sections):
        if category != "plan":
            continue
        for _category, start, end in sections[i + 1:]:
            if _BLANK_LINE.search(text, plan_start, start) or _DONE_TITLE.match(text, start):
                break  # "PLANNED PROCEDURE: ..." then "PROCEDURE PERFORMED: ...": what was done is no plan
            blank = _BLANK_LINE.search(text, start, end)
            ranges.append((start, end if blank is None else blank.start()))
            if blank is not None:
                break
    return ranges


def mark_planned(facts: tuple[Fact, ...], plan_fields: list[tuple[int, int]] = ()) -> tuple[Fact, ...]:
    """The facts, with `hypothetical` set on those of a planned kind in a plan section (or a plan's fields)."""
    planned = _planned_kinds()
    in_plan = planned.get("plan", ())

    def planned_here(f: Fact) -> bool:
        return f.kind in planned.get(f.section or "", ()) or (
            f.kind in in_plan and any(a <= f.start < b for a, b in plan_fields))

    return tuple(dataclasses.replace(f, hypothetical=True) if not f.hypothetical and planned_here(f) else f
                 for f in facts)


_LINE = re.compile(r"[^\n]*\S[^\n]*")  # a line that is not blank
_TITLE_REACH = 3000  # characters a document's title lines are looked for in


def _title_lines(text: str, count: int) -> list[tuple[int, str]]:
    """(start, lower-case text) of the document's first `count` lines that are not blank, a letter-spaced
    title read as its words ("F A X    C O V E R    S H E E T" is "fax cover sheet")."""
    return [(m.start(), _unspaced(m.group().lower()))
            for m in itertools.islice(_LINE.finditer(text, 0, _TITLE_REACH), count)]


_LETTER_SPACED = re.compile(r"\b(?:[a-z] ){2,}[a-z]\b")
_SPACES = re.compile(r"[ \t]{2,}")


def _unspaced(line: str) -> str:
    """The line with letter-spaced words closed up and runs of spaces made one."""
    if "  " not in line and not _LETTER_SPACED.search(line):
        return line
    return _SPACES.sub(" ", _LETTER_SPACED.sub(lambda m: m.group().replace(" ", ""), line))


@lru_cache(maxsize=1)
def _request_rules() -> tuple[dict, ...]:
    """The request forms' rules (their procedure statement is a plan), then the front office's (all of it)."""
    data = load_json_data("section_rules.json")
    planned = _planned_kinds().get("plan", frozenset())
    out = []
    for key in ("request_documents", "administrative_documents"):
        rules = data.get(key, {})
        out.append({"lines": int(rules.get("title_lines", 3)),
                    "phrases": tuple(p.lower() for p in rules.get("title_phrases", ())),
                    "sections": frozenset(rules["sections"]) if "sections" in rules else None,
                    "kinds": frozenset(rules.get("kinds", planned))})
    return tuple(out)


def mark_requested(facts: tuple[Fact, ...], text: str) -> tuple[Fact, ...]:
    """The facts, with `hypothetical` set on what a request form's procedure statement asks for,
    or on what a front-office worksheet books or checks.

    Only when the document's title names a request ("Prior Authorization
    Request") or such a worksheet ("Insurance Verification / Eligibility
    Worksheet"); facts already historical (the blocks it cites) keep their flags.
    """
    for rules in _request_rules():
        title = " ".join(line for _, line in _title_lines(text, rules["lines"]))
        if not any(phrase in title for phrase in rules["phrases"]):
            continue
        sections = rules["sections"]
        return tuple(dataclasses.replace(f, hypothetical=True)
                     if f.kind in rules["kinds"] and not f.hypothetical and not f.historical
                     and (sections is None or (f.section or "title") in sections) else f
                     for f in facts)
    return facts


@lru_cache(maxsize=1)
def _transmittal_rules() -> dict:
    rules = load_json_data("section_rules.json").get("transmittal_documents", {})
    return {"lines": int(rules.get("title_lines", 8)), "phrases": tuple(p.lower() for p in rules.get("title_phrases", ()))}


def mark_transmitted(facts: tuple[Fact, ...], text: str) -> tuple[Fact, ...]:
    """The facts, with `historical` set on what a fax cover sheet lists as enclosed records.

    "[X] Procedure report: bilateral lumbar medial branch block #1, 03/05/2026"
    on a cover sheet dated 03/27 names a report sent, not a procedure done that
    day. Only the title's page: a faxed PDF may carry the note itself after it.
    """
    rules = _transmittal_rules()
    # (Not on a print stamp: "Printed 11/10/2025 by ... (HIM - Release of Information)  Page 1 of 3"
    # heads a chart print, whose encounters are the records themselves.)
    title = next(((start, line) for start, line in _title_lines(text, rules["lines"])
                  if any(p in line for p in rules["phrases"]) and not _print_stamp(line)), None)
    if title is None or not facts:
        return facts
    title_at = title[0]
    page = min(facts, key=lambda f: abs(f.start - title_at)).page  # None for text
    # A text file has no pages, but a fax read back as text marks its next one ("P.002/003" in
    # the banner, "Page 2 of 3"): a fax cover sheet ends there, and the note it encloses follows -
    # unless the sheet releases another practice's records, whose notes are all history.
    next_page = _NEXT_PAGE.search(text, title_at) if page is None and _FAX_COVER.search(title[1]) else None
    end = next_page.start() if next_page else len(text)
    if _RECORDS_RELEASE.search(text, title_at, end):
        end = len(text)
    kinds = _planned_kinds().get("plan", frozenset())
    return tuple(dataclasses.replace(f, historical=True)
                 if (f.kind in kinds and f.page == page and f.start < end
                     and not (f.historical or f.hypothetical)) else f
                 for f in facts)


_FAX_COVER = re.compile(r"\b(?:fax|facsimile)\b|\bcover sheet\b", re.IGNORECASE)
# A cover sheet that releases a practice's records to another ("FAX COVER SHEET - MEDICAL RECORDS",
# "Records released per patient authorization"): the notes it encloses are that practice's history.
_RECORDS_RELEASE = re.compile(r"\b(?:medical records|records release[ds]?|records released|release of (?:information|"
                              r"records|medical records)|outside records|transfer of care)\b", re.IGNORECASE)
# A later page's mark: a fax banner's "P.002/003", a footer's "Page 2 of 3", a form feed.
_NEXT_PAGE = re.compile(r"(?im)^[^\n]*\b(?:p\.?[ \t]*0*[2-9]\d*[ \t]*/[ \t]*\d+"
                        r"|page[ \t]+0*[2-9]\d*[ \t]+of[ \t]+\d+)\b|\f")


@lru_cache(maxsize=1)
def _copied_forward_rules() -> tuple[re.Pattern | None, frozenset[str]]:
    rules = load_json_data("section_rules.json").get("copied_forward", {})
    words = _alternation(rules.get("heading_words", ()))
    heading = re.compile(r"(?im)^[^\n]*\b(?:" + words + r")\b[^\n]*$") if words else None
    return heading, frozenset(rules.get("kinds", ()))


_RULER = re.compile(r"(?m)^[ \t]*[-=_*~]{10,}[ \t]*$")


def _copied_forward_ranges(text: str) -> list[tuple[int, int]]:
    """(start, end) of each prior note pasted into this one: from a "Prior note (copied forward):"
    heading, the ruled block under it (to its closing ruler), or else its paragraph."""
    heading, _ = _copied_forward_rules()
    if heading is None:
        return []
    ranges = []
    for m in heading.finditer(text):
        start = m.end()
        opening = _RULER.match(text, start + 1)
        if opening is not None:
            closing = _RULER.search(text, opening.end())
            end = closing.start() if closing else len(text)
        elif m.group().rstrip().endswith(":"):
            blank = _BLANK_LINE.search(text, start)
            end = blank.start() if blank else len(text)
        else:
            continue  # a sentence ("the levels lines above were carried forward in error"), no heading
        ranges.append((start, end))
    return ranges


def mark_copied_forward(facts: tuple[Fact, ...], text: str) -> tuple[Fact, ...]:
    """The facts, with `historical` set on those of a prior note pasted into this one."""
    lowered = text.lower()
    if "forward" not in lowered and "copied" not in lowered and "pasted" not in lowered:
        return facts
    ranges = _copied_forward_ranges(text)
    if not ranges:
        return facts
    _, kinds = _copied_forward_rules()
    return tuple(dataclasses.replace(f, historical=True)
                 if f.kind in kinds and not f.historical and any(s <= f.start < e for s, e in ranges) else f
                 for f in facts)


def _alternation(phrases) -> str:
    """The phrases as one regex alternation, any run of spaces between their words."""
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in phrases)


def _cue_words(key: str) -> str:
    """The `corrections` cue words under `key` as one regex alternation."""
    return _alternation(load_json_data("section_rules.json").get("corrections", {}).get(key, ()))


@lru_cache(maxsize=2)
def _cue_keys(key: str) -> tuple[str, ...]:
    """The longest word of each cue phrase under `key`: a text holding none of them holds no cue."""
    words = load_json_data("section_rules.json").get("corrections", {}).get(key, ())
    return tuple({max(w.lower().split(), key=len) for w in words})


def _may_hold_cue(text: str, key: str) -> bool:
    """False when no cue word under `key` can be in the text.

    Why: the case-blind alternation is tried at every word start, ~0.1 ms a
    note, and corrections are rare; `in` on the lowered text is C-fast.
    """
    lowered = text.lower()
    return any(word in lowered for word in _cue_keys(key))


@lru_cache(maxsize=1)
def _correction_cue() -> re.Pattern:
    return re.compile(r"\b(?:" + _cue_words("cue_words") + r")\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _spoken_correction() -> re.Pattern:
    return re.compile(r"[ \t]*,\s*(?:" + _cue_words("spoken_cue_words") + r")\s*,", re.IGNORECASE)


def mark_spoken_corrections(facts: tuple[Fact, ...], text: str) -> tuple[Fact, ...]:
    """The facts, with `negated` set on each one a dictation withdraws as it goes.

    "at L3-4, correction, L4-5", "on the right, scratch that, left side",
    "bupivacaine, correction, lidocaine": the speaker corrected himself and
    the transcriptionist kept both words. The fact that ends right before
    the cue (set off by commas) is withdrawn; the one after it is the record.
    Only that mention: the same level elsewhere in the note is not touched.
    """
    if "," not in text or not _may_hold_cue(text, "spoken_cue_words"):
        return facts
    cues = {m.start() for m in _spoken_correction().finditer(text)}
    if not cues:
        return facts
    return tuple(dataclasses.replace(f, negated=True) if f.end in cues and not f.negated else f for f in facts)


# Markdown strike-through left in a note: "~~L3-4~~ L4-5", "~~Dexamethasone 4 mg~~ No steroid".
_STRUCK = re.compile(r"~~(?=\S)[^~\n]+?~~")


def mark_struck_through(facts: tuple[Fact, ...], text: str) -> tuple[Fact, ...]:
    """The facts, with `negated` set on each one inside struck-through text.

    A scribe's note keeps the attending's corrections as Markdown strike-through
    ("~~left~~ right", "~~80%~~ 90%"): the struck words were withdrawn, and the
    words after them are the record.
    """
    if "~~" not in text:
        return facts
    struck = [m.span() for m in _STRUCK.finditer(text)]
    if not struck:
        return facts
    # A fact that ends inside the struck words is theirs too: "Relief ~~80%~~ 90%" reads "Relief ~~80%".
    return tuple(dataclasses.replace(f, negated=True)
                 if not f.negated and any(s < f.end <= e for s, e in struck) else f for f in facts)


def withdrawn_in_dictation(fact: Fact, text: str) -> bool:
    """Whether a spoken correction withdraws this fact ("bupivacaine, correction, lidocaine").

    ConText's negation also reaches words that were given ("no vascular uptake.
    0.5 mL of 2% lidocaine"), so a reader of the drugs given asks this, not `negated`.
    """
    return _spoken_correction().match(text, fact.end) is not None


CORRECTION_SECTION = "correction"
# "…, not\nL2-3": ConText's scope ends at the line break, the correction does not.
_WITHDRAWING = re.compile(r"\b(?:not|instead of|rather than)(?:\s+the)?\s*$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"\.(?:\s|$)|\n[ \t]*\n")
ADDENDUM_HEAD = re.compile(r"(?im)^[ \t=*#-]*addend(?:um|a)\b")  # a line that opens an addendum


def mark_corrected(facts: tuple[Fact, ...], text: str) -> tuple[Fact, ...]:
    """The facts, with `negated` set on levels a correction withdraws.

    "Correction - the levels were L3-4, L4-5 and L5-S1, not L2-3": the negated
    "L2-3" in that sentence withdraws every other statement of joint L2-L3 in
    the note (the PROCEDURE line typed wrong). A level naming other joints
    besides a withdrawn one is left alone. "Performed on the RIGHT side: right
    L4-5 and L5-S1, not the left as dictated" withdraws a side: the levels and
    sides the correction states are the record (section CORRECTION_SECTION).
    """
    withdrawn: set[str] = set()
    stated: set[str] = set()
    sides_withdrawn: set[str] = set()
    sides_stated: set[str] = set()
    sentences = []
    if not _may_hold_cue(text, "cue_words"):
        return facts
    for cue in _correction_cue().finditer(text):
        # From the start of the cue's sentence, but not above its line: "Addendum: the levels treated were
        # L4-5 and L5-S1, not L3-4 and L4-5 as dictated" puts its cue last; a PROCEDURE line above is not it.
        start = max(sentence_bounds(text, cue.start())[0], text.rfind("\n", 0, cue.start()) + 1)
        paragraph = text.rfind("\n\n", 0, cue.start()) + 1
        if ADDENDUM_HEAD.search(text, paragraph, cue.start()):
            # "ADDENDUM 07/30/2026 / Reason: correction of treated levels." and the rest of the
            # addendum says what was done: its paragraph is the correction, not the cue's sentence.
            end = _BLANK_LINE.search(text, cue.end())
        else:
            end = _SENTENCE_END.search(text, cue.end())
        sentences.append((start, end.start() if end else len(text)))
        for f in facts:
            if f.kind in ("level", "side") and start <= f.start < sentences[-1][1]:
                # ("L3-4 was NOT treated" is negated by ConText: context_rules.json "was not blocked")
                withdrawing = f.negated or _WITHDRAWING.search(text, max(0, f.start - 20), f.start)
                if f.kind == "level":
                    (withdrawn if withdrawing else stated).update(f.value.get("joints", ()))
                else:
                    (sides_withdrawn if withdrawing else sides_stated).add(f.value)
    withdrawn -= stated  # "L4-5 and L5-S1, not L3-4 and L4-5": L4-5 stays
    if not withdrawn and not (sides_withdrawn - sides_stated):
        return facts

    def corrected(f: Fact) -> Fact:
        if f.kind == "level" and f.value.get("joints") and set(f.value["joints"]) <= withdrawn:
            return f if f.negated else dataclasses.replace(f, negated=True)
        if f.kind in ("level", "side") and any(a <= f.start < b for a, b in sentences):
            # The correction states the levels done ("should read left L3-4, …" is no plan):
            # drafting reads it in place of the procedure statement.
            return dataclasses.replace(f, section=CORRECTION_SECTION, hypothetical=False)
        return f

    return tuple(corrected(f) for f in facts)

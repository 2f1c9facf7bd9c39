"""Stage 4: gather, for each diagnostic block of a case, its relief, agent and steroid statements.

A statement belongs to a block when it names the block's date (the nearest
date before it in its sentence, else after it), or, with no date of its own,
when it sits in the block's own note outside the history and plan sections.
A block known only from another note's history ("MBB on 09/03/2025: 90%
relief x 2 h") becomes a record without a session: evidence, not a claim.
"""
from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import dataclass, field

from extractor.facts import ExtractedDocument, Fact
from extractor.sourcetext import line_bounds, sentence_bounds
from extractor.tables import HOUR_NUMBER, clock_row_reading, hours_in
from extractor.timeline import withdrawn_in_dictation

from drafting.cases import Case
from drafting.sessions import Session, evidence_of, joints_named, one_per_day

__all__ = ["BlockRecord", "collect_blocks", "read_at_hours"]

_NOT_OWN_SESSION = {"indication", "history", "past_history", "plan", "request", "consent", "medications",
                    "allergies", "diagnosis", "chief_complaint", "family_history", "social_history"}
# A sentence ends at ". " and at a line break, except where the next line only
# continues the sentence ("...: 100% at 15 min in\n    recovery; RN call ...") or the
# line ends on a comma ("#1 11/18/2024 lidocaine 2%,\n90% x 3 h; #2 ...") - nor after an initial
# ("RN call 02/11/26 (J. Tran RN): 85% relief ...").
_SEGMENT_BREAK = re.compile(r"(?<![a-z,(])\n|(?<!,)\n(?!\s*[a-z(~])|(?<!\b[A-Z])\.\s")
_ATTRIBUTED = ("relief", "anesthetic", "steroid")
# Relief a note's field gives for the procedure before it ("Pain relief since last procedure: 90%").
_SINCE_LAST_IDS = {"relief.since_last_procedure_field"}
_BLOCK_NUMBER = r"(?:block|mbb|injection)\s*#\s*\d"  # "MBB #1", "BLOCK #2"
# A list item: a bullet, a number, a date, or a block's own number ("  MBB #1  03/05/2026  lidocaine 2% ...").
_LIST_ITEM = re.compile(rf"[ \t]*(?:[-*\u2022]|\d+[.)]|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}|{_BLOCK_NUMBER})", re.IGNORECASE)
_INDENT = re.compile(r"[ \t]*")
_FACET_PROCEDURES = {"facet_rfa", "medial_branch_block", "facet_injection"}
_BLOCK_PROCEDURES = {"medial_branch_block", "facet_injection"}


@dataclass
class BlockRecord:
    date: str
    session: Session | None = None
    reliefs: list = field(default_factory=list)     # (Fact, ExtractedDocument)
    agents: list = field(default_factory=list)
    steroids: list = field(default_factory=list)
    no_steroid: list = field(default_factory=list)
    mentions: list = field(default_factory=list)
    levels: list = field(default_factory=list)      # (Fact, ExtractedDocument): a history-only block's levels

    @property
    def joints(self) -> dict[str, list[str]] | None:
        """Joints per side: the session's, else those its history line names (None if neither)."""
        if self.session is not None:
            return self.session.joints if self.session.region else None
        named = joints_named([f for f, _ in self.levels])
        return named if any(named.values()) else None

    @property
    def region(self) -> str | None:
        """lumbar_sacral or cervical_thoracic: the session's, else its history line's levels' (None if unknown)."""
        if self.session is not None:
            return self.session.region
        regions = {"cervical_thoracic" if f.value.get("region") in ("cervical", "thoracic") else "lumbar_sacral"
                   for f, _ in self.levels if f.value.get("region")}
        return regions.pop() if len(regions) == 1 else None

    def level_evidence(self) -> list[dict]:
        return list(self.session.evidence[:4]) if self.session is not None else [
            evidence_of(f, d) for f, d in self.levels[:4]]

    def add(self, fact: Fact, doc: ExtractedDocument) -> None:
        if (fact.kind == "relief" and not (fact.negated or fact.hypothetical) and fact.section != "consent"
                and not fact.value.get("threshold")):
            self.reliefs.append((fact, doc))
        elif (fact.kind == "anesthetic" and fact.value.get("role") == "injectate" and not fact.hypothetical
              and not withdrawn_in_dictation(fact, doc.text)):
            self.agents.append((fact, doc))
        elif fact.kind == "steroid":
            if fact.negated:
                self.no_steroid.append((fact, doc))
            elif not fact.hypothetical:
                self.steroids.append((fact, doc))

    def steroids_on(self, sides: set[str]) -> list:
        """The steroids given on these sides (or on a side the note does not say).

        "Right: MBB with bupivacaine; left L4-5 intra-articular injection with
        triamcinolone": the left joint's steroid says nothing of the right
        side's diagnostic block.
        """
        return [(f, d) for f, d in self.steroids if not (named := _sides_around(f, d)) or named & sides]

    def evidence(self, kinds: tuple[str, ...]) -> list[dict]:
        pools = {"relief": self.reliefs, "anesthetic": self.agents, "steroid": self.steroids,
                 "no_steroid": self.no_steroid}
        out = []
        for kind in kinds:
            out.extend(evidence_of(f, d) for f, d in pools[kind])
        return out


_SIDE_SET = {"left": {"left"}, "right": {"right"}, "bilateral": {"left", "right"}}


def _sides_around(fact: Fact, doc: ExtractedDocument) -> set[str]:
    """The sides named on the fact's line, or else in its sentence, or else the one side of its paragraph."""
    def named(start: int, end: int) -> set[str]:
        return {s for f in doc.facts if f.kind == "side" and start <= f.start < end
                and not (f.negated or f.hypothetical) for s in _SIDE_SET.get(f.value, ())}

    text = doc.text
    sides = named(*line_bounds(text, fact.start)) or named(*sentence_bounds(text, fact.start, fact.end))
    if sides:
        return sides
    paragraph = text.rfind("\n\n", 0, fact.start) + 1, text.find("\n\n", fact.end)
    sides = named(paragraph[0], paragraph[1] if paragraph[1] != -1 else len(text))
    return sides if len(sides) == 1 else set()


def _segments(doc: ExtractedDocument) -> tuple[tuple[int, int], ...]:
    """Sentences, except that a list item is one segment however many sentences it has.

    "- 03/04/2025 Dx MBB #1 ...: lidocaine 2%, no steroid. NRS 7 -> 1 (86%) x ~2 hrs."
    is one block's record: its date governs both sentences.
    """
    bounds, start = [], 0
    text = doc.text
    for m in _SEGMENT_BREAK.finditer(text):
        if "\n" not in m.group() and _LIST_ITEM.match(text, text.rfind("\n", 0, m.start()) + 1):
            continue  # ". " inside a list item
        if "\n" in m.group() and _continues_item(text, start, m.end()):
            continue  # "  - MBB #1 - May 5: lidocaine 2% ...;\n    90% relief ...": the item's next line
        bounds.append((start, m.start() + 1))
        start = m.end()
    bounds.append((start, len(text)))
    return tuple(bounds)


def _continues_item(text: str, segment_start: int, next_line: int) -> bool:
    """Whether the line at `next_line` is an indented continuation of the list item the segment began."""
    item_line = text.rfind("\n", 0, segment_start) + 1
    item = _LIST_ITEM.match(text, item_line)
    if item is None or next_line >= len(text) or _LIST_ITEM.match(text, next_line):
        return False
    marker_indent = _INDENT.match(text, item_line).end() - item_line
    first = _INDENT.match(text, next_line).end()
    return first - next_line > marker_indent and text[first: first + 1] not in ("", "\n")


_SAME_JOINTS = re.compile(r"\b(?:at|of|on)\s+(?:these|the\s+same)\s+(?:joints|levels|targets|nerves)\b", re.IGNORECASE)


def _lead_in_levels(doc: ExtractedDocument, item_start: int) -> list[tuple[Fact, ExtractedDocument]]:
    """Sided levels of the sentence that introduces the list an item belongs to.

    "Diagnostic workup in 2024, both blocks at left L4-5 and L5-S1:" followed
    by one list item per block: the items name dates and results, the lead-in
    the levels of them all.
    """
    bounds = _lead_in(doc.text, item_start)
    if bounds is None:
        return []
    begin, lead_end = bounds
    named = [(f, doc) for f in doc.facts if f.kind == "level" and begin <= f.start < lead_end
             and f.value.get("side") and not f.negated]
    if not named and _SAME_JOINTS.search(doc.text, begin, lead_end):
        # "That RFA was preceded by two medial branch blocks at these joints:" in a repeat ablation's
        # note: the joints its own procedure statement names.
        named = [(f, doc) for f in doc.facts if f.kind == "level" and f.section == "procedure"
                 and f.value.get("side") and f.asserted]
    return named


def _names_block(facts: list[Fact]) -> bool:
    """The facts name a facet block or the study agent of one."""
    return any((f.kind == "procedure" and f.value in _FACET_PROCEDURES and f.value != "facet_rfa")
               or (f.kind == "anesthetic" and f.value.get("role") == "injectate") for f in facts)


def _dated_item(doc: ExtractedDocument, at: int, recalled: dict[int, Fact]) -> tuple[Fact, list[Fact]] | None:
    """(date, facts of the item) when `at` lies in the indented lines under an item's heading that
    dates a recalled block, as an outside practice's summary letter lists them:

        Block #1 - 01/15/2026
           Right L3 and L4 medial branches and L5 dorsal ramus (right L4-5, L5-S1)
           Bupivacaine 0.5%, 0.5 mL per nerve
           Pre NRS 7/10; 90% relief beginning at 15 min and lasting 6 hours

    The item runs from its heading to the next line indented no deeper than the heading.
    """
    text = doc.text
    line_start, _ = line_bounds(text, at)
    indent = _INDENT.match(text, line_start).end() - line_start
    head = line_start
    while True:  # up to the nearest line indented less than this one; a blank line ends the search
        if head == 0:
            return None
        head, head_end = line_bounds(text, head - 1)
        if not text[head:head_end].strip():
            return None
        head_indent = _INDENT.match(text, head).end() - head
        if head_indent < indent:
            break
    date = _one_date_between(doc, head, head_end, {d.value for d in recalled.values()})
    if date is None:
        return None
    end = head_end
    while end < len(text):  # the item's lines: deeper than its heading, not blank
        nxt_start, nxt_end = line_bounds(text, end + 1)
        if not text[nxt_start:nxt_end].strip() or _INDENT.match(text, nxt_start).end() - nxt_start <= head_indent:
            break
        end = nxt_end
    return date, [f for f in doc.facts if head <= f.start < end]


# A paragraph's heading that names its block: "BLOCK #1 - Tuesday, Sept. 8th" in a patient's letter.
_BLOCK_HEADING = re.compile(rf"[ \t]*{_BLOCK_NUMBER}\b[^\n]{{0,50}}$", re.IGNORECASE)


def _heading_date(doc: ExtractedDocument, at: int, dates: set[str]) -> Fact | None:
    """The block date on the line that heads the paragraph at `at`, when that line ends in ":"
    ("Response to block #1 (R L4-5, lidocaine 2%, 03/03/2026):") or is a short heading that
    opens with the block's number ("BLOCK #1 - Tuesday, Sept. 8th")."""
    text = doc.text
    paragraph = text.rfind("\n\n", 0, at)
    first_start, first_end = line_bounds(text, paragraph + 2 if paragraph >= 0 else 0)
    heading = text[first_start:first_end]
    if at < first_end or not (heading.rstrip().endswith(":") or _BLOCK_HEADING.fullmatch(heading)):
        return None
    return _one_date_between(doc, first_start, first_end, dates)


def _one_date_between(doc: ExtractedDocument, start: int, end: int, dates: set[str]) -> Fact | None:
    """The date fact between two offsets when it is the only one of `dates` named there."""
    named = [f for f in doc.facts if f.kind in ("date", "service_date") and f.value in dates
             and start <= f.start < end]
    return named[0] if len(named) == 1 else None


def _lead_in_date(doc: ExtractedDocument, item_start: int, dates: set[str]) -> Fact | None:
    """The block date in the lead-in of the list an item belongs to.

    "Diary, block #1 (right L4-5, lidocaine 2%), done 03/10/2026:" and then
    "- about 90% relief from the recovery area on, lasted roughly 2 hours":
    the item's relief is that block's.
    """
    bounds = _lead_in(doc.text, item_start)
    if bounds is None:
        return None
    return _one_date_between(doc, *bounds, dates)


def _lead_in(text: str, item_start: int) -> tuple[int, int] | None:
    """(start, end) of the sentence ending in ":" that introduces the list an item belongs to, or None."""
    line_start, _ = line_bounds(text, item_start)
    if not _LIST_ITEM.match(text, line_start):
        return None
    while line_start > 0:  # back over the items before it and their indented next lines
        previous, _ = line_bounds(text, line_start - 1)
        indented = _INDENT.match(text, previous).end() > previous
        line = text[previous:line_start].strip()
        if not (_LIST_ITEM.match(text, previous) or indented) or not line or line.endswith(":"):
            break
        line_start = previous
    if line_start == 0:
        return None
    lead_start, lead_end = line_bounds(text, line_start - 1)
    if not text[lead_start:lead_end].rstrip().endswith(":"):
        return None
    return sentence_bounds(text, lead_end)[0], lead_end


_NUMBER_TO_DATE = 20  # characters from "block #1" to its date ("#1 on 01/20/2026", "#2 (02/17/2026)")


def _recalled_block_dates(segments: list[list[Fact]]) -> dict[int, Fact]:
    """Block numbers and their dates in a note that recalls blocks done elsewhere: {1: date, 2: date}.

    "Dr. Feeney's reports are scanned into the chart: block #1 on 01/20/2026
    and block #2 on 02/17/2026": each number with the date written right
    after it. Only when the numbers found run 1, 2, ... with none missing.
    """
    found: dict[int, Fact] = {}
    for seg in segments:
        for number, date in zip(seg, seg[1:]):
            if (number.kind == "block_number" and date.kind in ("date", "service_date") and date.value
                    and 0 <= date.start - number.end <= _NUMBER_TO_DATE and number.value not in found):
                found[number.value] = date
    return found if sorted(found) == list(range(1, len(found) + 1)) else {}


def _recalled_date(fact: Fact, seg: list[Fact], recalled: dict[int, Fact], text: str) -> Fact | None:
    """The date of the recalled block an undated relief belongs to: by its block number, or by its order.

    "MBB x2 at Lakeside Pain in January and February, 85% and 90% relief": as
    many reliefs in the sentence as recalled blocks, and the sentence names a
    facet block, so the first is block #1's and the second block #2's.
    """
    number = _block_number(fact, seg, text)
    if number is not None:
        return recalled.get(number)
    reliefs = [f for f in seg if f.kind == "relief" and not f.value.get("threshold")]
    names_block = any(f.kind == "procedure" and f.value in _FACET_PROCEDURES - {"facet_rfa"} for f in seg)
    if names_block and len(reliefs) == len(recalled) >= 2 and fact in reliefs:
        return recalled.get(reliefs.index(fact) + 1)
    return None


_EACH = re.compile(r"\b(?:each|both|all)\b", re.IGNORECASE)


def _share_recalled_details(records: dict[str, BlockRecord], recalled: dict[int, Fact],
                            segments: list[list[Fact]], doc: ExtractedDocument) -> None:
    """"block #1 on 01/20/2026 and block #2 on 02/17/2026, each at the L3 and L4 medial branches
    bilaterally, 0.5% bupivacaine, no steroid": what follows "each" after the last date is every block's.

    Without "each" (or "both", "all") a drug after the last date is only that block's, as the
    sentence reads ("#1 on ... with lidocaine and #2 on ... with bupivacaine").
    """
    dates = list(recalled.values())
    for seg in segments:
        if not all(any(d is f for f in seg) for d in dates):
            continue
        last = max(d.end for d in dates)
        after = [f for f in seg if f.start >= last]
        if not after or not _EACH.search(doc.text, last, after[-1].end):
            continue
        for date in dates:
            record = records.get(date.value)
            if record is None or record.session is not None:
                continue
            if not record.levels:
                record.levels = [(f, doc) for f in after if f.kind == "level" and f.value.get("side")
                                 and not f.negated]
            held = record.agents + record.steroids + record.no_steroid
            for fact in after:
                if fact.kind in ("anesthetic", "steroid") and not any(fact is f for f, _ in held):
                    record.add(fact, doc)


_FOLLOW_UP_DAYS = 3


def _followed_block(doc: ExtractedDocument, date: str | None, session_dates: set[str],
                    segments: list[list[Fact]]) -> str | None:
    """The block a short note reports on: the one block date it names, on its own day or a few days before.

    A patient's portal message the evening of the block ("maybe 90% better for
    about 4 hrs"), or the next morning ("Got the shot yesterday ... 85-90%
    better"), gives the result of that block without naming it again. A note
    that names two block dates, or none, is left alone.
    """
    if date is None:
        return None
    # "Compare block #1 (lidocaine) 10/14: ~90% for about 3 hours" in the call after block #2: a
    # block named with a result of its own in its sentence is not the one the note reports on.
    compared = {id(f) for seg in segments if any(f.kind == "relief" for f in seg) for f in seg}
    named = {f.value for f in doc.facts if f.kind in ("date", "service_date") and f.value in session_dates
             and f.value <= date and id(f) not in compared}  # not the next block it books
    if date in session_dates:
        named.add(date)
    if len(named) != 1:
        return None
    block = next(iter(named))
    # A letter filed days after it was written ("Rcvd 03/16/2026" over "Thursday March 12, 2026"): the
    # first date it gives after the block's is when it was written.
    written = min((f.value for f in doc.facts if f.kind in ("date", "service_date") and f.value
                   and block < f.value <= date), default=date)
    days = (dt.date.fromisoformat(written) - dt.date.fromisoformat(block)).days
    return block if 0 <= days <= _FOLLOW_UP_DAYS else None


# Words a follow-up's date comes after: "Phone f/u 12/10/2025", "RN call 3/4", "follow-up on 05/02".
_FOLLOW_UP_BEFORE = re.compile(r"\b(?:f/u|follow[- ]?up|phone|call|called|spoke)\b[^\n\d]{0,12}$", re.IGNORECASE)


def _days_before_call(day: str, call: str) -> bool:
    """Whether an ISO date is one to _FOLLOW_UP_DAYS days before a follow-up call's."""
    return 0 < (dt.date.fromisoformat(call) - dt.date.fromisoformat(day)).days <= _FOLLOW_UP_DAYS


def _block_before_call(call: str, session_dates: set[str]) -> str | None:
    """The latest block date a few days before a follow-up call's date (ISO), if any."""
    return max((d for d in session_dates if _days_before_call(d, call)), default=None)


def _called_about(doc: ExtractedDocument, call: Fact) -> Fact | None:
    """The latest date the note gives a few days before a follow-up call's date (the block it asks about)."""
    earlier = [f for f in doc.facts if f.kind in ("date", "service_date") and f.value and f.start < call.start
               and _days_before_call(f.value, call.value)]
    return max(earlier, key=lambda f: (f.value, f.start)) if earlier else None


def _date_for(fact: Fact, dates: list[Fact]) -> Fact | None:
    before = [d for d in dates if d.end <= fact.start]
    if before:
        return before[-1]
    after = [d for d in dates if d.start >= fact.end]
    return after[0] if after else None


def _block_number(fact: Fact, seg: list[Fact], text: str) -> int | None:
    """The block number written nearest before the fact in its clause ("same targets as block #1;
    bupivacaine injected": today's drug, not block #1's)."""
    before = [f for f in seg if f.kind == "block_number" and f.end <= fact.start]
    return before[-1].value if before and ";" not in text[before[-1].end:fact.start] else None


_TO_BLOCK = re.compile(r"\s*(?:to|from|after|with|of|on)\s+(?:the\s+)?(?:block|mbb|injection)?\s*$", re.IGNORECASE)


def _block_number_after(fact: Fact, seg: list[Fact], text: str) -> int | None:
    """The block number a relief is said to be the result of, written right after it ("90% response to block #1")."""
    after = [f for f in seg if f.kind == "block_number" and f.start >= fact.end and f.start - fact.end <= 20]
    if after and _TO_BLOCK.match(text, fact.end, after[0].start):
        return after[0].value
    return None


_BEFORE_WORDS = re.compile(r"\b(?:pre|pre-?procedure|preprocedure|before|baseline|prior)\b", re.IGNORECASE)
_AFTER_WORDS = re.compile(r"\b(?:post|post-?procedure|postprocedure|after)\b", re.IGNORECASE)
DERIVED_RELIEF = "derived.pre_post_scores"
# A reading's time, all its part of a row says: "; 15 min 1/10", "at 3 hr: 2/10", and a diary read
# out one hour a line, "  Hour 3: 3/10".
_READING_TIME = r"~?\d+(?:\.\d+)?\s*(?:min|mins|minutes|h|hr|hrs|hours?)"
_READ_AT = re.compile(rf"\s*(?:at\s+)?(?:{_READING_TIME}|{HOUR_NUMBER})\s*:?\s*", re.IGNORECASE)
# The time right after a figure that says when it was read: "100% better at 1 hr", "90% relief @ 30 min".
_READ_AT_AFTER = re.compile(rf"[ \t]*(?:at|@)[ \t]*({_READING_TIME})\b", re.IGNORECASE)


def read_at_hours(fact: Fact, doc: ExtractedDocument) -> float | None:
    """When a relief was read: its `at_hours`, or the time written right after its figure."""
    hours = fact.value.get("at_hours")
    if hours is None:
        after = _READ_AT_AFTER.match(doc.text, fact.end)
        hours = hours_in(after.group(1)) if after else None
    return hours


# "VAS 68 mm pre, 6 mm at 30 min": the word after a score that says it was read before
# (not "1/10 (pre 7/10)", not "1/10 before discharge"); a later reading on the line starts after it.
_BASELINE_AFTER_SCORE = re.compile(
    r"[ \t]*(?:pre|before|baseline)(?:[ \t]*-?[ \t]*(?:procedure|block|injection))?[ \t]*(?:[,;.]|$)",
    re.IGNORECASE | re.MULTILINE)
_READING_BEFORE = re.compile(r"\b(?:pre|before|baseline)[ \t]*[,;]", re.IGNORECASE)


def _when_scored(fact: Fact, text: str) -> tuple[str | None, float | None]:
    """("before" or "after" the procedure, the hours after it the score was read), from the words
    before the score on its line, back to a ";" that separates readings.

    "PRE-PROCEDURE VITALS: ... Pain 7/10" is before, and so is "VAS 68 mm pre";
    "Post-procedure pain 1/10 (pre 7/10)" has one of each; a score read "at 3 hr" is after, and so is each
    reading of a row "pre 7/10; 15 min 1/10; 1 h 2/10".
    """
    if _BASELINE_AFTER_SCORE.match(text, fact.end):
        return "before", None  # "POST: VAS 68 mm pre, 6 mm at 30 min": the word after it says
    line_start = text.rfind("\n", 0, fact.start) + 1
    head = text[max(line_start, text.rfind(";", line_start, fact.start) + 1):fact.start]
    head = _READING_BEFORE.split(head)[-1]  # "VAS 68 mm pre, 6 mm at 30 min": the 6 is after
    before = max((m.end() for m in _BEFORE_WORDS.finditer(head)), default=-1)
    after = max((m.end() for m in _AFTER_WORDS.finditer(head)), default=-1)
    hours = fact.value.get("at_hours")
    if before == after == -1:
        if hours is None and _READ_AT.fullmatch(head):
            hours = hours_in(head)  # "; 15 min 1/10"
        if hours is None:
            # A flowsheet row that opens with its clock time ("08:40  BP 150/90 ... Pain 8/10"):
            # before or after the note's "Injection complete 09:12".
            when = clock_row_reading(text[line_start:fact.start], text)
            return when if when != (None, None) else (_phase_of(fact, text), None)
        return "after", hours
    return ("before", None) if before > after else ("after", hours)


# "PRE-PROCEDURE ASSESSMENT (RN) - 07:45": a heading, with no field's colon but a clock time's.
_PHASE_HEADING = re.compile(r"(pre|post)[- ]?(?:procedure|procedural|op|operative|injection|block)\b(?:[^\n:]|\d:\d)*$",
                            re.IGNORECASE)


def _phase_of(fact: Fact, text: str) -> str | None:
    """"before" or "after" from the heading that opens the score's paragraph: a nursing record's
    "PRE-PROCEDURE ASSESSMENT (RN) - 07:45" above "Pain score: 7 (scale 0-10)"."""
    paragraph = text.rfind("\n\n", 0, fact.start)
    heading_start = 0 if paragraph == -1 else paragraph + 2
    heading = text[heading_start:line_bounds(text, heading_start)[1]]
    m = _PHASE_HEADING.match(heading.strip())
    if m is None or heading_start == line_bounds(text, fact.start)[0]:
        return None
    return "before" if m.group(1).lower() == "pre" else "after"


def _relief_from_scores(doc: ExtractedDocument) -> list[tuple[Fact, ExtractedDocument]]:
    """A block note that gives no relief figure, only pain scores before and after: relief as a coder
    computes it, (before - after) / before, once per score after, with the time it was read.

    Each derived relief points at the score after the block (`pattern_id`
    DERIVED_RELIEF); its baseline is the before-score nearest to it.
    """
    scores = [f for f in doc.facts if f.kind == "pain_score" and isinstance(f.value, dict)
              and f.value.get("score") is not None and f.section not in _NOT_OWN_SESSION
              and not (f.negated or f.hypothetical or f.historical)]
    timed = [(f, *_when_scored(f, doc.text)) for f in scores]
    before = [f for f, when, _ in timed if when == "before"]
    out = []
    for after, hours in ((f, hours) for f, when, hours in timed if when == "after"):
        if not before:
            break
        base = min(before, key=lambda b: abs(b.start - after.start))
        relief = _derived_relief(base, after, hours, f"({base.text!r})")
        if relief is not None:
            out.append((relief, doc))
    return out


def _says_how_long(relief: Fact) -> bool:
    value = relief.value
    return bool(value.get("duration_hours") or value.get("expected_duration") or value.get("at_hours") is not None)


def _derived_relief(base: Fact, after: Fact, hours: float | None, source: str) -> Fact | None:
    """The relief a score after the block works out to against the score before it, read at `hours`
    (`pattern_id` DERIVED_RELIEF, at the later score); None when the scores show no relief."""
    pre, post = base.value["score"], after.value["score"]
    if not 0 < pre <= 10 or post > pre:
        return None
    value = {"percent": round((pre - post) / pre * 100, 1), "basis": "scores", "duration_hours": None,
             "expected_duration": False, "at_hours": hours, "baseline": {"start": base.start, "end": base.end}}
    return Fact("relief", value, after.start, after.end, after.text, DERIVED_RELIEF, page=after.page,
                boxes=after.boxes, section=after.section,
                explanation=f"relief from pain {pre:g}/10 before and {post:g}/10 after {source}")


_DIARY_ROW_MIN = 3  # timed scores on one line: a diary typed across the page, not a sentence
_DIARY_HEADING_LINES = 4  # how far above its row a grid's heading may name the block


def _table_scores(doc: ExtractedDocument) -> list[Fact]:
    """The note's asserted pain scores read from table cells, in text order."""
    return [f for f in doc.facts if f.kind == "pain_score" and f.pattern_id.startswith("table.")
            and isinstance(f.value, dict) and not (f.negated or f.hypothetical)]


def _diary_reliefs(doc: ExtractedDocument, scores: list[Fact], line_start: int, dates: set[str],
                   where: str) -> tuple[str, list] | None:
    """(block date, derived reliefs) of one diary's scores: its one untimed ("Pre") score is the
    baseline and each timed score gives the relief at its time, as `_relief_from_scores` does; the
    block is the one whose date the diary's line or heading names (`_row_date`)."""
    baseline = [f for f in scores if f.value.get("at_hours") is None]
    later = [f for f in scores if f.value.get("at_hours") is not None]
    if len(baseline) != 1 or not later or not 0 < baseline[0].value["score"] <= 10:
        return None
    date = _row_date(doc, line_start, dates)
    if date is None:
        return None
    return date, [(relief, doc) for after in later
                  if (relief := _derived_relief(baseline[0], after, after.value["at_hours"], where))]


def _diary_rows_of_blocks(doc: ExtractedDocument, dates: set[str]) -> list[tuple[str, list]]:
    """(block date, derived reliefs) for each diary row typed across the page that another note
    keeps for an earlier block: "| #1 9/22/26 lido (NRS) | 7 | 1 | 1 | 1 | 3 | 6 | 7 |", or under
    a heading "DIARY FROM BLOCK #1 (09/22/26, lidocaine 2%)"."""
    rows: dict[int, list[Fact]] = {}
    for f in _table_scores(doc):
        rows.setdefault(line_bounds(doc.text, f.start)[0], []).append(f)
    found = (_diary_reliefs(doc, scores, line_start, dates, "in a diary row")
             for line_start, scores in rows.items() if len(scores) >= _DIARY_ROW_MIN)
    return [pair for pair in found if pair is not None]


def _diary_tables_of_blocks(doc: ExtractedDocument, dates: set[str]) -> list[tuple[str, list]]:
    """(block date, derived reliefs) for each diary table, a row per time, that a note about
    other days keeps for a block: a transcribed diary sheet headed "Block date 3/10/26 ...
    Block #1" over "Pre | 7", "30 min | 1", "2 hr | 1"."""
    text = doc.text
    tables: list[list[Fact]] = []
    for f in _table_scores(doc):
        if tables and "\n\n" not in text[tables[-1][-1].end:f.start]:
            tables[-1].append(f)
        else:
            tables.append([f])
    out = []
    for scores in tables:
        rows = [line_bounds(text, f.start)[0] for f in scores]
        if len(set(rows)) < _DIARY_ROW_MIN or len(set(rows)) != len(scores) or scores[0].value.get("at_hours") is not None:
            continue  # one score a row, the baseline first: a sheet's column, not a row typed across
        pair = _diary_reliefs(doc, scores, rows[0], dates, "in a diary")
        if pair is not None:
            out.append(pair)
    return out


# A worksheet kept with a column per block ("                Block 1          Block 2"), its rows the
# block's date, drug, pain before and at each time, and its relief.
_BLOCK_COLUMN = re.compile(r"(?:\b(?:block|mbb)\s*#?\s*|#)([1-4])\b", re.IGNORECASE)
_CELL = re.compile(r"\S+(?: \S+)*")  # a cell: words one space apart; columns are two or more apart
_PRE_ROW = re.compile(r"^\s*(?:pre|before|baseline)\b", re.IGNORECASE)
_RELIEF_ROW = re.compile(r"\brelief\b|^\s*%", re.IGNORECASE)
_DATE_ROW = re.compile(r"^\s*(?:date|dos)\b", re.IGNORECASE)
BLOCK_COLUMN_RELIEF = "derived.block_column"


def _block_columns(doc: ExtractedDocument, dates: set[str]) -> list[tuple[str, list]]:
    """(block date, reliefs) for each column of a block worksheet: the "% relief" row is the block's
    stated relief; each timed row's score against the "Pre score" row is its relief at that time
    (as `_relief_from_scores` reads a note's). A column whose date is no block's is left alone."""
    text, out = doc.text, []
    named: dict[int, int] = {}
    for m in _BLOCK_COLUMN.finditer(text):  # one pass: most notes name a block once a line, if at all
        start = text.rfind("\n", 0, m.start()) + 1
        named[start] = named.get(start, 0) + 1
    for line_start in (start for start, n in named.items() if n >= 2):
        line_end = text.find("\n", line_start)
        header = text[line_start: len(text) if line_end == -1 else line_end]
        columns = [m.start() for m in _BLOCK_COLUMN.finditer(header)]
        if len(_CELL.findall(header)) != len(columns):
            continue  # only the blocks' names on the line
        by_column: dict[int, dict] = {i: {"times": []} for i in range(len(columns))}
        at = line_start + len(header) + 1
        while at < len(text):
            end = text.find("\n", at)
            end = len(text) if end == -1 else end
            line = text[at:end]
            if not line.strip():
                break
            parts = [(m.start(), m.group()) for m in _CELL.finditer(line)]
            label, values = parts[0][1], parts[1:]
            for start, value in values:
                column = min(range(len(columns)), key=lambda i: abs(columns[i] - start))
                _read_block_cell(doc, by_column[column], label, value, at + start)
            at = end + 1
        for cells_of in by_column.values():
            date = cells_of.get("date")
            if date in dates:
                out.append((date, _column_reliefs(cells_of)))
    return out


_CELL_NUMBER = re.compile(r"(\d{1,3})(?:\s*/\s*10|\s*%)?")  # "7", "1/10", "86%"


def _read_block_cell(doc: ExtractedDocument, column: dict, label: str, value: str, start: int) -> None:
    """Note one cell of a block worksheet's column under its row's label: the date, the relief, or a score."""
    end = start + len(value)
    if _DATE_ROW.match(label):
        column["date"] = next((f.value for f in doc.facts if f.kind in ("date", "service_date")
                               and start <= f.start < end), None)
        return
    number = _CELL_NUMBER.fullmatch(value)
    if number is None:
        return
    if _RELIEF_ROW.search(label):
        column["relief"] = Fact("relief", {"percent": float(number.group(1)), "basis": "percent", "duration_hours": None,
                                           "expected_duration": False}, start, end, value, BLOCK_COLUMN_RELIEF,
                                explanation="relief in a block worksheet's column")
        return
    score = Fact("pain_score", {"score": float(number.group(1)), "scale": None}, start, end, value, BLOCK_COLUMN_RELIEF)
    if _PRE_ROW.match(label):
        column["pre"] = score
    elif (hours := hours_in(label)) is not None:
        column["times"].append((score, hours))


def _column_reliefs(column: dict) -> list:
    reliefs = [column["relief"]] if "relief" in column else []
    if "pre" in column:
        reliefs += [relief for score, hours in column["times"]
                    if (relief := _derived_relief(column["pre"], score, hours, "in a block worksheet"))]
    return reliefs


def _row_date(doc: ExtractedDocument, line_start: int, dates: set[str]) -> str | None:
    """The block date the row names, else the nearest one its heading names a few lines above."""
    text, start = doc.text, line_start
    for _ in range(_DIARY_HEADING_LINES + 1):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end
        named = {f.value for f in doc.facts if f.kind in ("date", "service_date") and f.value in dates
                 and start <= f.start < end}
        if len(named) == 1:
            return named.pop()
        if named or start == 0:
            return None
        start = text.rfind("\n", 0, start - 1) + 1
    return None


def _ablation_result(fact: Fact, seg: list[Fact]) -> bool:
    """True when the procedure named nearest before this relief in its sentence is an ablation."""
    before = [f for f in seg if f.kind == "procedure" and f.end <= fact.start]
    return bool(before) and before[-1].value == "facet_rfa"


def collect_blocks(case: Case, before: str | None = None) -> list[BlockRecord]:
    """Block records of a case, oldest first, limited to dates before `before` (ISO)."""
    records: dict[str, BlockRecord] = {}
    for s in one_per_day(case.ordered()):
        if s.procedure == "facet_block" and s.date and (before is None or s.date < before):
            records[s.date] = BlockRecord(s.date, session=s)
    for summary in case.ordered():
        # A block done under ultrasound only has no claim of its own, yet it is still a block the
        # criteria weigh (its relief, its drug, the joints it tested).
        s = summary.session
        if (s is not None and s.procedure == "ultrasound_only" and s.procedure_fact.value in _BLOCK_PROCEDURES
                and s.region is not None  # its statement names the joints (not a bursa injection's "MBB" aside)
                and s.date and s.date not in records and (before is None or s.date < before)):
            records[s.date] = BlockRecord(s.date, session=s)
    session_dates = set(records)
    # Blocks by their order, for notes that say "#1" or "the second block".
    numbered = {n: records[d] for n, d in enumerate(sorted(session_dates), 1)}

    for summary in case.ordered():
        doc = summary.doc
        # A note written after the ablation (a procedure log run later) may still report the
        # blocks before it, by their dates; nothing else in it is a block's.
        later = before is not None and summary.date is not None and summary.date > before
        own = records.get(summary.date) if summary.kind == "block_note" else None
        starts = [f.start for f in doc.facts]  # facts are in text order
        bounds = case.segments.get(id(doc))
        if bounds is None:
            bounds = case.segments[id(doc)] = _segments(doc)
        segments = [list(doc.facts[bisect.bisect_left(starts, a): bisect.bisect_left(starts, b)])
                    for a, b in bounds]
        recalled = _recalled_block_dates(segments) if own is None and not session_dates else {}
        for (seg_start, seg_end), seg in zip(bounds, segments):
            if not any(f.kind in _ATTRIBUTED for f in seg):
                continue
            dates = [f for f in seg if f.kind in ("date", "service_date") and f.value]
            block_dates = [d for d in dates if d.value in session_dates]
            other_procedure = any(f.kind == "procedure" and f.value not in _FACET_PROCEDURES and not f.negated
                                  for f in seg)
            facet_procedure = any(f.kind == "procedure" and f.value in _FACET_PROCEDURES for f in seg)
            # A date known only from history is a block when its sentence names a
            # facet block or the study agent ("Nov 4 (lidocaine 2%) ~90% x 2 h").
            describes_block = not other_procedure and _names_block(seg)
            # "a Medrol dose pack last spring": a steroid taken as care, not injected in a block.
            care = [(f.start, f.end) for f in seg if f.kind == "conservative_care"]
            # Reliefs first: a relief creates a history-only block's record, which the
            # agent and steroid written before it in the sentence then join.
            for fact in sorted(seg, key=lambda f: f.kind != "relief"):
                if fact.kind not in _ATTRIBUTED:
                    continue
                if fact.kind == "steroid" and any(s <= fact.start and fact.end <= e for s, e in care):
                    continue
                if other_procedure and not facet_procedure:
                    continue  # "an epidural in 2023 with Depo-Medrol": that procedure's drug, not a block's
                if fact.kind == "relief" and _ablation_result(fact, seg):
                    continue  # "Prior RFA 04/15/2025 gave > 50% relief for 8 months (after two MBBs ...)"
                # "Block #1 on 01/08 ...: phone call 01/09 - 90% relief": a block's
                # own date in the sentence wins over a follow-up date.
                date = _date_for(fact, block_dates) or _date_for(fact, dates)
                if date is None and fact.kind == "relief" and own is None and session_dates:
                    # "Diary, block #1 (...), done 03/10/2026:" then "- about 90% relief ... 2 hours";
                    # a letter's "BLOCK #1 - Tuesday, Sept. 8th" over the paragraph that tells it
                    date = _lead_in_date(doc, seg_start, session_dates) or _heading_date(doc, fact.start, session_dates)
                if date is None and fact.kind == "relief" and own is not None:
                    # In block #2's note: "Response to block #1 (R L4-5, lidocaine 2%, 03/03/2026):" and
                    # under it "he said '85 percent better, for five hours or so'": block #1's result.
                    date = _heading_date(doc, fact.start, session_dates - {own.date})
                if date is None and recalled and fact.kind == "relief":
                    # "MBB x2 ..., 85% and 90% relief." then "block #1 on 01/20/2026 and block #2 on 02/17/2026"
                    date = _recalled_date(fact, seg, recalled, doc.text)
                item = None
                if date is None and recalled:
                    # "  Block #1 - 01/15/2026" heading the indented lines of its levels, drug and relief
                    item = _dated_item(doc, fact.start, recalled)
                    if item is not None:
                        date = item[0]
                item_levels = [(f, doc) for f in item[1] if f.kind == "level" and f.value.get("side")
                               and not f.negated] if item else []
                describes = describes_block or (item is not None and _names_block(item[1]))
                target = None
                if (date is not None and date.value not in session_dates and describes_block and fact.kind == "relief"
                        and own is None and _FOLLOW_UP_BEFORE.search(doc.text, max(0, date.start - 24), date.start)):
                    # "Phone f/u 12/10/2025 (MA): ~85% relief ..." under the block of 12/09: the call's
                    # date is no block's; the relief is the block's that the note dates a few days before.
                    date = _called_about(doc, date)
                # The patient's diary of the block's day, its own document: "06/16/2026  1 hr  1  90".
                diary_of_the_day = (date is not None and date.value == summary.date and own is None
                                    and date.value in session_dates and fact.kind == "relief"
                                    and (describes_block or fact.value.get("at_hours") is not None))
                if later and (date is None or date.value not in session_dates):
                    continue
                called = None
                if (date is not None and fact.kind == "relief" and date.value not in session_dates
                        and _FOLLOW_UP_BEFORE.search(doc.text, max(0, date.start - 24), date.start)):
                    # "... per the nurse call of 07/29/2026" in block #2's note: the call's day is no block's;
                    # the relief is the block's done a few days before the call.
                    called = _block_before_call(date.value, session_dates)
                if fact.kind == "relief" and fact.pattern_id in _SINCE_LAST_IDS and summary.date:
                    # An intake's "Pain relief since last procedure: 90%": the latest block before this note,
                    # whatever dates its other lines give.
                    target = records.get(max((d for d in session_dates if d < summary.date), default=""))
                elif called is not None:
                    target = records[called]
                    target.mentions.append(evidence_of(date, doc))
                elif date is not None and (date.value != summary.date or diary_of_the_day):
                    if date.value in session_dates:
                        target = records[date.value]
                    elif own is not None and date.value > own.date:
                        target = own  # a follow-up date in the block's own note (addendum, diary review)
                    elif (describes and fact.kind == "relief" and (before is None or date.value < before)
                          and not fact.hypothetical):
                        target = records.setdefault(date.value, BlockRecord(date.value))
                        if not target.levels:
                            target.levels = [(f, doc) for f in seg if f.kind == "level" and f.value.get("side")
                                             and not f.negated] or item_levels or _lead_in_levels(doc, seg_start)
                    elif describes and date.value in records:
                        target = records[date.value]  # a history-only block's agent or steroid
                    elif (item is not None and (before is None or date.value < before)
                          and any(f.kind == "relief" for f in item[1])):
                        # An item's drug line comes before its relief line: the item's relief makes it a block.
                        target = records.setdefault(date.value, BlockRecord(date.value))
                        target.levels = target.levels or item_levels
                    if target is not None:
                        target.mentions.append(evidence_of(date, doc))
                elif date is None and numbered and own is None:
                    # "MBB #2 gave 85% relief" in a later note, with no date.
                    target = numbered.get(_block_number(fact, seg, doc.text))
                    if target is None and fact.kind == "relief" and summary.kind == "clinic_note":
                        target = records.get(_followed_block(doc, summary.date, session_dates, segments))
                elif own is not None and fact.section not in _NOT_OWN_SESSION:
                    # "Given 90% response to block #1, ..." in block #2's note is block #1's result.
                    earlier = numbered.get(_block_number_after(fact, seg, doc.text) or _block_number(fact, seg, doc.text))
                    target = earlier if earlier is not None and earlier.date < own.date else own
                if target is not None:
                    target.add(fact, doc)
        if recalled:
            _share_recalled_details(records, recalled, segments, doc)
    for summary in case.ordered():  # a diary row kept in another note for an earlier block
        for date, reliefs in _diary_rows_of_blocks(summary.doc, session_dates - {summary.date}):
            records[date].reliefs.extend(reliefs)
        if summary.kind != "block_note":  # a block's own report keeps its own diary
            for date, reliefs in _diary_tables_of_blocks(summary.doc, session_dates - {summary.date}):
                records[date].reliefs.extend(reliefs)
        for date, reliefs in _block_columns(summary.doc, session_dates - {summary.date}):
            records[date].reliefs.extend((relief, summary.doc) for relief in reliefs)
    block_notes = [s for s in case.ordered() if s.kind == "block_note"]
    for record in records.values():
        if record.session is not None and not any(_says_how_long(f) for f, _ in record.reliefs):
            # The day's notes: the block report, and a diary or addendum filed as its own document.
            same_day = [s.doc for s in block_notes if s.date == record.date]
            derived = [pair for doc in same_day for pair in _relief_from_scores(doc)]
            # Beside a stated figure ("86% relief") only the timed scores add anything: how long it held
            # (a flowsheet's "08:45 ... Pain score: 1" rows after "08:30 Injection complete").
            record.reliefs += [pair for pair in derived if not record.reliefs or pair[0].value["at_hours"] is not None]
    # A history-only date with no relief figure was not a block after all.
    kept = [r for r in records.values() if r.session is not None or r.reliefs]
    return sorted(kept, key=lambda r: r.date)

"""Stage 3: in a checkbox template, what follows an unticked box is not so.

    Side:     [x] Left   [ ] Right   [ ] Bilateral
    PROCEDURE [ ] Lumbar medial branch block   [x] RF ablation

    Steroid: [ ] yes  [x] no

A fact whose nearest box before it on its line is empty ("[ ]") is marked
negated: the template offered it and the writer did not tick it. Some
templates put each box after its item instead:

    LEVELS:    L3-4 [ ]  L4-5 [X]  L5-S1 [X]

A line read that way begins with an item (after its label) and ends with a
box; there, the box after a fact governs it. A fact whose question is
answered by the boxes after it is negated when the ticked box says "no" or
"none" ("Steroid: [ ] yes [x] no"). A typed paper form's ballot boxes
read the same way ("☐" empty, "☑" or "☒" ticked). Ticked boxes ("[x]",
"[X]", "[✓]") and facts with no box near them are left as they are.
"""
from __future__ import annotations

import dataclasses
import re

from extractor.facts import Fact
from extractor.tables import hours_in

__all__ = ["mark_unticked", "mark_answered_below", "drop_unfilled", "mark_side_grid", "in_side_grid",
           "read_ticked_relief"]

# "[ ]", "[x]", "[✓]"; a typed paper form's ballot boxes "☐" (empty), "☑" and "☒" (ticked).
_TICKS, _TICKED_BALLOTS = "xX✓✔*", "☑☒"
_BOX = re.compile(rf"\[\s*([{_TICKS}]?)\s*\]|([{_TICKED_BALLOTS}])|☐")
_BALLOT = frozenset("☐☑☒")


def _ticked(box: re.Match) -> bool:
    return bool(box.group(1) or box.group(2))


def mark_unticked(facts: tuple[Fact, ...], text: str) -> tuple[Fact, ...]:
    """The facts, with `negated` set on those an empty checkbox governs."""
    if ("[" not in text and _BALLOT.isdisjoint(text)) or _BOX.search(text) is None:
        return facts
    out = []
    for fact in facts:
        line_start = text.rfind("\n", 0, fact.start) + 1
        if _boxes_after_items(text, line_start):
            box = _BOX.match(text, fact.end) or _BOX.search(text, fact.end, _line_end(text, fact.end))
            between = text[fact.end:box.start()] if box else ""
            # (a label before its colon is governed by no box: "Bilateral: L4-5 [ ] L5-S1 [X]")
            unticked = box is not None and not _ticked(box) and ":" not in between
        else:
            boxes = list(_BOX.finditer(text, line_start, fact.start))
            unticked = bool(boxes) and not _ticked(boxes[-1])
        answered_no = _ticked_none(text, fact.end)
        out.append(dataclasses.replace(fact, negated=True) if (unticked or answered_no) and not fact.negated else fact)
    return tuple(out)


_BOXES_FOLLOW = re.compile(r"\s*(?:given|used|administered|injected|added)?\s*:?\s*(?=\[|[☐☑☒])",
                           re.IGNORECASE)  # "Steroid given: ☐ Dexamethasone ☑ None"
_NONE_OPTION = re.compile(r"[ \t]*(?:no|none)\b", re.IGNORECASE)


def _ticked_none(text: str, at: int) -> bool:
    """The boxes after a question tick its "no" or "none": "Steroid:  [ ] yes  [x] no",
    "Steroid:  ☐ Dexamethasone  ☐ Triamcinolone  ☑ NONE"."""
    boxes = _BOXES_FOLLOW.match(text, at)
    if boxes is None:
        return False
    return any(_ticked(m) and _NONE_OPTION.match(text, m.end())
               for m in _BOX.finditer(text, boxes.end(), _line_end(text, boxes.end())))


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    return len(text) if end < 0 else end


def _boxes_after_items(text: str, line_start: int) -> bool:
    """The line lists items each followed by its box: an item before the first box, a box at the end."""
    line = text[line_start:_line_end(text, line_start)]
    boxes = list(_BOX.finditer(line))
    if not boxes or line[boxes[-1].end():].strip():
        return False
    before = line[:boxes[0].start()]
    return bool(before[before.find(":") + 1:].strip())


# A printout's label line answered on the next line: "Steroid" / "None".
# "None - anesthetic only", "None given - diagnostic block"
_NONE_BELOW = re.compile(r"[ \t]*(?:none|no|n/a|not)(?:[ \t]+(?:given|used|administered|injected))?\b(?![ \t]*\w)",
                         re.IGNORECASE)
_LABEL_ALONE = re.compile(r"[ \t]*:?[ \t]*\n")


def mark_answered_below(facts: tuple[Fact, ...], text: str) -> tuple[Fact, ...]:
    """The facts, with `negated` set on a label alone on its line whose next line answers "None".

        Steroid
        None

    The EHR printout puts each field's label on a line and its value under it,
    so "None" is the answer to the steroid label above it (only steroids:
    a label naming the drug is a question; other kinds name their value).
    """
    out = []
    for fact in facts:
        if fact.kind == "steroid" and not fact.negated:
            line_start = text.rfind("\n", 0, fact.start) + 1
            after = _LABEL_ALONE.match(text, fact.end)
            if not text[line_start:fact.start].strip() and after and _NONE_BELOW.match(text, after.end()):
                fact = dataclasses.replace(fact, negated=True)
        out.append(fact)
    return tuple(out)


# What an EHR template leaves in a field nobody filled in: Epic's "***" and its SmartList
# "{YES/NO:21}", a blank "___", an empty "[ ]" with no options after it.
_UNFILLED = re.compile(r"[ \t]*(?:\([^()\n]{0,20}\))?[ \t]*:[ \t]*(?:\*{3,}|\{[^{}\n]{1,60}:\d{1,8}\}|_{3,}|\[[ \t]*\])"
                       r"[ \t]*(?:[.;,]|$)", re.MULTILINE)
_UNFILLED_HINT = ("***", "{", "___", "[")


def drop_unfilled(facts: tuple[Fact, ...], text: str) -> tuple[Fact, ...]:
    """The facts without the labels of template fields left unfilled.

        Functional limitations: ***
        Steroid: {YES/NO:21}

    The label names what the template asks, not what the note says: a signed
    note with "Steroid: {YES/NO:21}" says nothing about a steroid, and
    "Functional limitations: ***" documents no limitation. A filled field
    ("Steroid: NO") is read as written.
    """
    if not any(hint in text for hint in _UNFILLED_HINT):
        return facts
    return tuple(f for f in facts if not _UNFILLED.match(text, f.end))


# A side grid's header words: "Level | Right | Left", "SIDE / LEVEL      Right     Left".
_SIDE_WORD = re.compile(r"\b(?:right|rt|left|lt)\b", re.IGNORECASE)
_GRID_MARK = re.compile(r"^(?:[xX✓✔√*•]|yes|done)$", re.IGNORECASE)
# What a grid writes in a cell it leaves unmarked: "—" under "(X = lesioned, — = not treated)", "no", "n/a".
_GRID_BLANK = re.compile(r"^(?:[-–—_.○☐]|--|no|n/?a|none)$", re.IGNORECASE)
_GRID_BORDER = re.compile(r"^[\s|+=\-–—_:]*$")
_GRID_ROWS_ABOVE = 8  # how far above a row its header may stand (other rows and a border between)


def mark_side_grid(facts: tuple[Fact, ...], text: str) -> tuple[Fact, ...]:
    """The facts, with each level that opens a row of a check-mark grid given the sides its row marks:

        Level   | Right | Left             SIDE / LEVEL      Right     Left
        L3-L4   |       |                    L3-4
        L4-L5   |   X   |                    L4-5              ✓
        L5-S1   |   X   |  X                 L5-S1             ✓         ✓
        L2-L3   |   —   |  —   (a dash, "no" or "n/a" leaves a cell unmarked)

    A row marked under both columns is bilateral; an unmarked row is a level not done (negated),
    as an unticked box is. A mark belongs to the column whose header word is nearest above it.
    A "Level | Side" table's row ("L5-S1  | Bilateral") gives its level the side it names.
    """
    out, changed = [], False
    for fact in facts:
        if fact.kind == "level" and isinstance(fact.value, dict):
            marked = _grid_sides(text, fact)
            if marked is not None:
                side = "bilateral" if len(marked) == 2 else (marked.pop() if marked else None)
                fact = dataclasses.replace(fact, value={**fact.value, "side": side}, negated=fact.negated or not side)
                changed = True
            elif fact.value.get("side") is None and (side := _side_cell(text, fact)) is not None:
                fact = dataclasses.replace(fact, value={**fact.value, "side": side})
                changed = True
        out.append(fact)
    return tuple(out) if changed else facts


# A "Level | Side" table's row: the level, then one cell that names its side ("  L5-S1  | Bilateral").
_SIDE_CELL = re.compile(r"[ \t]*(?:\|[ \t]*|[ \t]{2,})(right|rt|left|lt|bilateral|bilat|b/l|both)[ \t]*\|?[ \t]*$",
                        re.IGNORECASE)
_SIDE_CELL_VALUES = {"right": "right", "rt": "right", "left": "left", "lt": "left"}


def _side_cell(text: str, fact: Fact) -> str | None:
    """The side a two-column "Level | Side" row gives the level that opens it; None for any other line."""
    row_start = text.rfind("\n", 0, fact.start) + 1
    if text[row_start:fact.start].strip(" \t|"):
        return None  # the level is not the row's label
    m = _SIDE_CELL.match(text, fact.end, _line_end(text, fact.start))
    return _SIDE_CELL_VALUES.get(m.group(1).lower(), "bilateral") if m else None


def in_side_grid(text: str, fact: Fact) -> bool:
    """Whether the fact is the label of a check-mark grid's row (`mark_side_grid`)."""
    return fact.kind == "level" and _grid_sides(text, fact) is not None


def _grid_sides(text: str, fact: Fact) -> set[str] | None:
    """The sides a grid row marks for the level that opens it; None when the level opens no such row."""
    row_start = text.rfind("\n", 0, fact.start) + 1
    if text[row_start:fact.start].strip(" \t|"):
        return None  # the level is not the row's label
    columns = _side_columns(text, row_start)
    if columns is None:
        return None
    row_end = _line_end(text, fact.start)
    marked = set()
    for m in re.finditer(r"[^\s|]+", text[fact.end:row_end]):
        if _GRID_BLANK.match(m.group()):
            continue
        if not _GRID_MARK.match(m.group()):
            return None  # a row with words after its level is a sentence, not a grid row
        at = fact.end - row_start + (m.start() + m.end()) / 2
        marked.add(min(columns, key=lambda c: abs(c[1] - at))[0])
    return marked


def _side_columns(text: str, row_start: int) -> list[tuple[str, float]] | None:
    """(side, centre offset in its line) of the Right and Left words of the grid's header above a row."""
    at = row_start
    for _ in range(_GRID_ROWS_ABOVE):
        if at == 0:
            return None
        at = text.rfind("\n", 0, at - 1) + 1
        line = text[at:_line_end(text, at)]
        if not line.strip():
            return None
        if _GRID_BORDER.match(line):
            continue
        columns = [("right" if w.group(0).lower() in ("right", "rt") else "left", (w.start() + w.end()) / 2)
                   for w in _SIDE_WORD.finditer(line)]
        if {side for side, _ in columns} == {"right", "left"}:
            return columns
    return None


# A ticked duration category: "[X] 1-3 h", "☒ >3 h" (the lower bound is how long it held at least).
_TICKED_DURATION = re.compile(
    rf"(?:\[\s*[{_TICKS}]\s*\]|[{_TICKED_BALLOTS}])[ \t]*(?P<op>[<>]=?|[≥≤])?[ \t]*(?P<low>\d+(?:\.\d+)?)"
    r"(?:[ \t]*[-–][ \t]*\d+(?:\.\d+)?)?[ \t]*(?P<unit>hours?|hrs?|h|minutes?|mins?)\b", re.IGNORECASE)
_DURATION_REACH = 400  # characters after the relief's box where its duration question may be answered


def read_ticked_relief(facts: tuple[Fact, ...], text: str) -> tuple[Fact, ...]:
    """The facts, with a relief category ticked on a form read as the block's result:

        1. Best relief of your usual pain after the block:
             [ ] <50%     [ ] 50-79%     [X] >=80%
        2. How long did that relief last?
             [ ] <1 h     [X] 1-3 h     [ ] >3 h

    ">=80%" alone is a bar to clear (a threshold); ticked, it is what the patient
    reported, and the ticked duration after it (its lower bound; none for "<1 h")
    is how long it held.
    """
    if ("[" not in text and _BALLOT.isdisjoint(text)) or not any(f.kind == "relief" for f in facts):
        return facts
    reliefs = [f.start for f in facts if f.kind == "relief"]
    out, changed = [], False
    for fact in facts:
        if fact.kind == "relief" and isinstance(fact.value, dict) and fact.value.get("threshold"):
            line_start = text.rfind("\n", 0, fact.start) + 1
            boxes = list(_BOX.finditer(text, line_start, fact.start))
            if boxes and _ticked(boxes[-1]) and not text[boxes[-1].end():fact.start].strip():
                reach = min([r for r in reliefs if r > fact.start] + [fact.end + _DURATION_REACH])
                duration = _TICKED_DURATION.search(text, fact.end, reach)
                hours = None
                if duration and duration.group("op") not in ("<", "<=", "≤"):
                    hours = hours_in(f"{duration.group('low')} {duration.group('unit')}")
                value = {k: v for k, v in fact.value.items() if k != "threshold"}
                fact = dataclasses.replace(fact, value={**value, "duration_hours": value.get("duration_hours") or hours})
                changed = True
        out.append(fact)
    return tuple(out) if changed else facts

"""Stage 3: JOINT / NERVE / VERTEBRA_RANGE / SIDE / REGION spans -> level and side facts.

A level fact names facet joints ("L4-L5") whether the note wrote joints or
nerves; nerves become joints by the supply rule in patterns/nerve_joints.json.
Each level also carries the side the sentence gives it.
"""
from __future__ import annotations

import re

from extractor.interpret import Context, Draft
from extractor.numbers import number_value, ordinal_value
from extractor.patterns import load_json_data
from extractor.registry import interpreter
from extractor.sourcetext import line_bounds

__all__ = ["joints_from_nerves", "normalise_joint", "region_of", "link_side"]

_VERTEBRA = re.compile(r"^([CTLS])(\d{1,2})$")
_NERVE_SPLIT = re.compile(r"[CTLS]\d{1,2}")
_HYPHENED_VERTEBRA = re.compile(r"([CTLS]?)-?(\d{1,2})")  # "L-4", "S-1", "5"
_COMPACT_JOINT = re.compile(r"^([CL]\d)[,.]?([TS]?\d)$")  # "L45" -> L4, 5; "L5S1" -> L5, S1; "L4,5", "L4.5" -> L4, 5
_CLAUSE_BREAKS = {";", "|"}
_LETTER_SIDES = {"side.left_letter", "side.right_letter", "side.left_letter_word", "side.right_letter_word",
                 "side.left_letter_lower", "side.right_letter_lower"}
# Patterns that find a lone letter by the words around it; the fact is the letter.
_LETTER_IN_CONTEXT = {"side.letter_after_preposition", "side.letter_compared", "side.letter_parenthesized",
                      "side.letter_period_after_preposition", "side.letter_table_cell", "side.letter_field"}
_LETTER_VALUE = {"R": "right", "L": "left"}
_REGION = {"C": "cervical", "T": "thoracic", "L": "lumbar", "S": "sacral"}


def _vertebrae() -> list[str]:
    return load_json_data("nerve_joints.json")["vertebrae"]


def region_of(joint_or_vertebra: str) -> str:
    """Region of a joint by its upper vertebra ("L5-S1" is lumbar)."""
    return _REGION.get(joint_or_vertebra[:1].upper(), "unknown")


def normalise_joint(upper: str, lower: str) -> str | None:
    """"L4", "5" -> "L4-L5"; returns None when the pair is not adjacent vertebrae."""
    order = _vertebrae()
    upper = upper.upper()
    if lower[:1].isdigit():
        lower = upper[0] + lower
        # "L5-1" is how some write L5-S1.
        if upper == "L5" and lower == "L1":
            lower = "S1"
    lower = lower.upper()
    if upper not in order or lower not in order:
        return None
    if order.index(lower) - order.index(upper) != 1:
        return None
    return f"{upper}-{lower}"


def joints_between(upper: str, lower: str) -> list[str]:
    """Joints between two vertebrae: "L3" .. "L5" -> ["L3-L4", "L4-L5"]."""
    order = _vertebrae()
    upper, lower = upper.upper(), lower.upper()
    if upper not in order or lower not in order:
        return []
    i, j = order.index(upper), order.index(lower)
    return [f"{order[k]}-{order[k + 1]}" for k in range(i, j)] if j > i else []


def joints_from_nerves(nerves: list[str] | set[str]) -> list[str]:
    """Joints whose two supplying nerves are both in `nerves` (names like "L3")."""
    data = load_json_data("nerve_joints.json")
    order, offsets = data["vertebrae"], data["offset_by_region"]
    have = {n.upper() for n in nerves}
    joints = [j for n in sorted(have) for j in data.get("named", {}).get(n, ())]
    for i in range(len(order) - 1):
        region = region_of(order[i])
        offset = offsets.get(region)
        if offset is None or i + offset < 0:
            continue
        needs = {order[i + offset], order[i + 1 + offset]}
        if needs <= have:
            joints.append(f"{order[i]}-{order[i + 1]}")
    return joints


def link_side(span, ctx: Context) -> tuple[str | None, object]:
    """The side a level span has in its sentence.

    The nearest side word before it in the same clause wins; else the first
    one after it in the clause ("L4-5 and L5-S1 bilaterally"); else the
    nearest before it in the sentence.
    """
    sides = [s for s in ctx.same_sentence(span, "SIDE") if not _not_a_side(s)]
    doc = ctx.doc
    # A letter side ("R L2") covers the level after it; only its letter counts.
    before = [s for s in sides if (s.start + 1 if s.id_ in _LETTER_SIDES else s.end) <= span.start]
    after = [s for s in sides if s.start >= span.end]

    def clause_clear(a: int, b: int) -> bool:
        return not any(doc[i].text in _CLAUSE_BREAKS for i in range(a, b))

    inside = [s for s in sides if span.start <= s.start and s.end <= span.end]
    if inside:  # "medial branches of the right L3 and L4"
        return ctx.values.get(inside[0].id_), inside[0]
    for side in reversed(before):
        if clause_clear(min(side.end, span.start), span.start):
            return ctx.values.get(side.id_), side
    for side in after:
        levels_between = [s for s in ctx.spans if s.label_ in {"JOINT", "NERVE", "VERTEBRA_RANGE"}
                          and span.end <= s.start and s.end <= side.start
                          and not clause_clear(span.end, s.start)]
        if clause_clear(span.end, side.start) and not levels_between:
            return ctx.values.get(side.id_), side
    if before:
        return ctx.values.get(before[-1].id_), before[-1]
    return None, None


_CAPTION_LINES = 3  # lines above a pipe table's first row where its caption may stand


def _table_caption_side(span, ctx: Context) -> tuple[str | None, object]:
    """The one side a pipe table's caption names, for a level in a row that names none.

    "Summary of diagnostic medial branch blocks (all left side):" above a
    table whose rows read "| #1 | 01/22/2026 | L4 MB + L5 DR | ...".
    """
    text = ctx.text
    at = line_bounds(text, span.start_char)[0]
    if not text[at:span.start_char].lstrip().startswith("|"):
        return None, None
    while at > 0:  # up to the first line of the table
        prev = line_bounds(text, at - 1)[0]
        if not text[prev:at].lstrip().startswith("|"):
            break
        at = prev
    caption_start = at
    for _ in range(_CAPTION_LINES):
        if caption_start == 0:
            break
        caption_start = line_bounds(text, caption_start - 1)[0]
    sides = [s for s in ctx.spans if s.label_ == "SIDE" and caption_start <= s.start_char < at]
    values = {ctx.values.get(s.id_) for s in sides}
    return (values.pop(), sides[-1]) if len(values) == 1 and None not in values else (None, None)


def _level(span, ctx: Context, joints: list[str], form: str, nerves: list[str]) -> list[Draft]:
    side, side_span = link_side(span, ctx)
    if side is None:
        side, side_span = _table_caption_side(span, ctx)
    region = region_of(joints[0] if joints else (nerves[0] if nerves else span.text))
    how = f"{form} form; side from {side_span.text!r}" if side_span is not None else f"{form} form; no side stated"
    return [Draft("level", {"joints": joints, "form": form, "nerves": nerves, "region": region, "side": side},
                  span.start_char, span.end_char, span.id_, how, span)]


_REGION_LETTER = {region: letter for letter, region in _REGION.items() if letter != "S"}  # "lumbar" -> "L"


def _vertebrae_in_words(span) -> list[str]:
    """"the third and fourth lumbar" -> ["L3", "L4"]: ordinals read with the region word after them."""
    letter = next(_REGION_LETTER[t.lower_] for t in span if t.lower_ in _REGION_LETTER)
    return [f"{letter}{n}" for t in span if (n := ordinal_value(t.text))]


def _joint_below(vertebra: str) -> str | None:
    """"L4" -> "L4-L5", "L5" -> "L5-S1", "T12" -> "T12-L1": the joint a vertebra's name stands for."""
    order = _vertebrae()
    at = order.index(vertebra) if vertebra in order else len(order)
    return f"{vertebra}-{order[at + 1]}" if at + 1 < len(order) else None


_SPOKEN_JOINTS = {"level.joint_spoken", "level.joint_spoken_sacral", "level.joint_spoken_then_digits",
                  "level.joint_digits_then_spoken"}
_HEARD_AS = {"for": 4}  # speech recognition writes "L four five" as "L for five"


def _spoken_vertebrae(span) -> list[str]:
    """"L five S one" -> ["L5", "S1"], "L3 four" -> ["L3", "L4"], "L three and L four" -> ["L3", "L4"]."""
    found, letter = [], None
    for token in span:
        word = token.text.upper()
        if _VERTEBRA.match(word):
            found.append(word)
            letter = word[0]
        elif word in ("C", "T", "L", "S", "EL"):
            letter = word[-1]  # "el": speech recognition's spelling of the letter L
        elif letter is not None and (n := number_value(token.text) or _HEARD_AS.get(token.lower_)) is not None:
            found.append(f"{letter}{int(n)}")
    return found


_JOINTS_IN_WORDS = {"level.joint_words_pair", "level.joint_words_between", "level.joint_words_facets"}


@interpreter("JOINT")
def interpret_joint(span, ctx: Context) -> list[Draft]:
    fixed = ctx.values.get(span.id_)
    if fixed:
        return _level(span, ctx, [fixed], "joint", [])
    if span.id_ in _JOINTS_IN_WORDS:
        vertebrae = _vertebrae_in_words(span)
        if span.id_ == "level.joint_words_facets":  # "the fourth and fifth lumbar facet joints": L4-L5, L5-S1
            joints = [j for v in vertebrae if (j := _joint_below(v))]
        else:  # "fourth-fifth lumbar", "between the fourth and fifth lumbar vertebrae"
            joints = [j] if len(vertebrae) == 2 and (j := normalise_joint(*vertebrae)) else []
        return _level(span, ctx, joints, "joint", []) if joints else []
    if span.id_ == "level.joint_compact":
        if "," in span.text and _nerve_list_goes_on(span):
            return []  # "L4,5 medial branches": two nerves
        joint = normalise_joint(*_COMPACT_JOINT.match(span.text.upper()).groups())
        return _level(span, ctx, [joint], "joint", []) if joint else []  # "L35" is no joint
    if span.id_ in _SPOKEN_JOINTS:  # "L four five", "L five S one", "L for five", "L3 four"
        if span.start and span.doc[span.start - 1].text in ("/", "-") and not span.doc[span.start - 1].whitespace_:
            return []  # "B/L for L5 DR": the L ends "B/L"
        vertebrae = _spoken_vertebrae(span)
        joint = normalise_joint(vertebrae[0], vertebrae[-1]) if len(vertebrae) == 2 else None
        return _level(span, ctx, [joint], "joint", []) if joint else []
    if span.id_ == "level.joint_letter_hyphen":  # "L-4/L-5", "L-5/S-1", "L-4/5"
        (letter, upper), (lower_letter, lower) = _HYPHENED_VERTEBRA.findall(span.text.upper())[:2]
        joint = normalise_joint(letter + upper, (lower_letter + lower) if lower_letter else lower)
        return _level(span, ctx, [joint], "joint", []) if joint else []
    if span.id_ == "level.joint_letter_apart":  # "L 4-5"
        joint = normalise_joint(span[0].text.upper() + span[1].text, span[3].text.upper())
        return _level(span, ctx, [joint], "joint", []) if joint else []
    tokens = [t.text for t in span if _VERTEBRA.match(t.text.upper()) or t.text.isdigit()]
    if len(tokens) < 2:
        return []
    upper, lower = tokens[0], tokens[-1]
    if span.id_ == "level.joint_to":
        joints = joints_between(upper, lower if not lower.isdigit() else upper[0] + lower)
    elif span.id_ == "level.joint_spaced":
        if not lower.isdigit() and _nerve_list_goes_on(span):
            return []  # "L1 L2 AND L3 MEDIAL BRANCHES": a list of nerves without commas ("L4 5" names no nerve)
        joints = [joint] if (joint := normalise_joint(upper, lower)) else []  # "L4 5", never a run
    else:
        joint = normalise_joint(upper, lower)
        joints = [joint] if joint else ([] if _not_a_joint_run(span) else _joint_run(upper, lower))

    return _level(span, ctx, joints, "joint", []) if joints else []


_NERVE_WORDS = {"medial", "mb", "mbs", "dorsal", "nerve", "nerves", "rami", "ramus"}


def _nerve_list_goes_on(span) -> bool:
    """A nerve word, or "and"/"," and another vertebra, right after two spaced vertebrae."""
    after = [t for t in span.doc[span.end: span.end + 3] if not t.is_space]
    if not after:
        return False
    if after[0].lower_ in _NERVE_WORDS:
        return True
    return (after[0].lower_ in {"and", "&", ",", "comma"} and len(after) > 1
            and bool(_VERTEBRA.match(after[1].text.upper())))


_MAX_RUN = 3  # joints a written run such as "L3-S1" may cover
# "sensation intact L2-S1", "L1-L5 fusion": dermatomes and vertebral segments, not facet joints.
_NOT_JOINT_RUN_BEFORE = {"intact", "sensation", "sensory", "dermatome", "dermatomes", "dermatomal", "myotomes",
                         "strength", "reflexes", "fusion", "laminectomy", "decompression", "instrumentation"}
_NOT_JOINT_RUN_AFTER = {"fusion", "laminectomy", "decompression", "instrumentation", "dermatomes", "dermatome"}


def _not_a_joint_run(span) -> bool:
    doc = span.doc
    before = {t.lower_ for t in doc[max(0, span.start - 4): span.start]}
    after = doc[span.end].lower_ if span.end < len(doc) else ""
    return bool(before & _NOT_JOINT_RUN_BEFORE) or after in _NOT_JOINT_RUN_AFTER


def _joint_run(upper: str, lower: str) -> list[str]:
    """"L3-S1", "L4-S1", "C5-7": the joints from one vertebra down to another, two or three of them."""
    lower = lower if not lower.isdigit() else upper[0] + lower
    joints = joints_between(upper, lower)
    return joints if 2 <= len(joints) <= _MAX_RUN else []


@interpreter("VERTEBRA_RANGE")
def interpret_vertebra_range(span, ctx: Context) -> list[Draft]:
    upper, lower = span[0].text, span[-1].text
    joints = joints_between(upper, lower)
    return _level(span, ctx, joints, "joint", []) if joints else []


@interpreter("NERVE")
def interpret_nerve(span, ctx: Context) -> list[Draft]:
    named = ctx.values.get(span.id_)
    if named:  # "third occipital nerve": a nerve known by its name, not its vertebra
        return _level(span, ctx, joints_from_nerves([named]), "nerve", [named])
    if span.id_.startswith(("level.nerve_words_", "level.nerve_spoken_")):
        # "the medial branches of the third and fourth lumbar dorsal rami", "L three and L four medial branches"
        nerves = _vertebrae_in_words(span) if span.id_.startswith("level.nerve_words_") else _spoken_vertebrae(span)
        return _level(span, ctx, joints_from_nerves(nerves), "nerve", nerves)
    nerves = [n.upper() for n in _NERVE_SPLIT.findall(span.text.upper())]
    ordered = _vertebrae()
    if span.id_ == "level.nerve_run":
        upper, lower = span[0].text, span[2].text
        joint = normalise_joint(upper, lower)
        if joint:  # "L4-5 medial branch block" names the joint
            return _level(span, ctx, [joint], "joint", [])
        lower = lower if not lower[:1].isdigit() else upper[0] + lower
        if upper.upper() in ordered and lower.upper() in ordered:
            nerves = ordered[ordered.index(upper.upper()): ordered.index(lower.upper()) + 1]
            if nerves[-1] == "S1" and len(nerves) > 2:
                # "L4-S1 medial branch blocks": no S1 medial branch serves a facet joint, so the run
                # names the segments from L4 to the sacrum, the joints L4-5 and L5-S1.
                joints = [normalise_joint(a, b) for a, b in zip(nerves, nerves[1:])]
                return _level(span, ctx, joints, "joint", [])
    if not nerves:
        return []
    if (span.id_ in ("level.nerve_mb_then_levels", "level.nerves_then_levels") and span.end < len(ctx.doc)
            and ctx.doc[span.end].text in {"-", "/"}):
        return []  # "medial branches L3 and L4-5": the last vertebra opens a joint, read on its own
    if nerves == ["L5", "S1"] and span[1].text.upper() == "S1":
        # "L5 S1 medial branch block": no S1 medial branch serves a facet joint, so this is
        # the joint L5-S1 with its dash not dictated.
        return _level(span, ctx, ["L5-S1"], "joint", [])
    return _level(span, ctx, joints_from_nerves(nerves), "nerve", nerves)


# "She left with her husband", "right-hand-dominant", "right after lunch": words, not sides.
_LEFT_AS_VERB_BEFORE = {"she", "he", "pt", "patient", "they", "who", "and", "then", "was"}
_LEFT_AS_VERB_AFTER = {"with", "home", "the", "for", "via", "ambulatory", "ambulating", "against"}
_LEFT_AS_VERB_ALWAYS = {"off", "behind", "alone"}  # "Patch left off since yesterday"
_LEFT_IT_SIDE_BEFORE = {"the", "on", "to", "at"}  # "on the left it is a small spot"; not "left it in the car"
# "only 15% of her usual neck pain left, and ...": the pain that remained (not "pain left > right").
_REMAINING_BEFORE = {"pain", "discomfort", "ache", "symptoms"}
_REMAINING_AFTER = {"", ",", ".", ";", ")", "and", "per", "after", "at", "by", "until"}
_RIGHT_AS_WORD_AFTER = {"after", "away", "now", "before", "handed", "-hand", "there", "here"}
_HANDEDNESS = {"dominant", "dominance"}  # "right hand dominant"; "right hand and right foot" is a side


_VERTEBRA_START = re.compile(r"[CTLS]\d")
_BILIRUBIN_BEFORE = {"t", "t.", "total", "d", "d.", "direct", "indirect", "tot"}  # "T bil 1.2": a lab value


_PROJECTION_WORDS = {"view", "views", "fluoroscopy", "fluoroscopic", "fluoro", "imaging", "image", "images",
                     "projection", "projections", "x-ray", "xray", "radiograph", "radiographs", "film", "films",
                     "approach", "decubitus", "position", "c-arm", "and", "oblique", "ap", "/"}
_CHECKED_WORDS = {"confirmed", "checked", "verified", "seen", "visualized", "assessed", "demonstrated", "shown"}


def _not_a_side(span) -> bool:
    """A one-word side span that the words around it show is not laterality."""
    if span.id_ in ("side.left_letter_word", "side.right_letter_word") and (
            number_value(span[-1].text) is not None or span[-1].lower_ in _HEARD_AS):
        return True  # "L four five", "L for five": a level dictated as words
    if span.id_ == "side.bilateral_dictated":
        # "depth confirmed by lateral fluoroscopy", "checked by lateral view": an imaging projection.
        doc = span.doc
        after = next((t.lower_ for t in doc[span.end:span.end + 2] if not t.is_space), "")
        before = doc[span.start - 1].lower_ if span.start else ""
        return after in _PROJECTION_WORDS or before in _CHECKED_WORDS
    if span.id_ == "side.letter_table_cell":
        before = next((t for t in reversed(span.doc[max(0, span.start - 3):span.start]) if not t.is_space), None)
        # "WHITLOCK, TAMSIN R  |  MRN 558201": after a word, a middle initial before the header's bar;
        # a cell's letter follows its own bar or opens the line ("| R | 22G").
        return before is not None and before.is_alpha
    doc = span.doc
    if any(t.text in ("L", "R") and t.i + 2 < len(doc) and doc[t.i + 1].text == "-" and doc[t.i + 2].text.isdigit()
           and not t.whitespace_ and not doc[t.i + 1].whitespace_ for t in span):
        return True  # "L-4/L-5 and L-5/S-1": a vertebra written with a hyphen, not the left side
    if len(span) != 1:
        return False
    i, word = span.start, span[0].lower_
    before = doc[i - 1].lower_ if i else ""
    after = doc[i + 1].lower_ if i + 1 < len(doc) else ""
    if before == "-" and i >= 2 and doc[i - 2].text.isdigit() and len(doc[i - 2].text) == 5:
        return True  # "64493-RT": a billing modifier on a code, not laterality documented
    if span[0].text == "LT" and before == "to" and not after.isalpha():
        return True  # "sensation intact to LT.": light touch
    if word in ("bil", "bil."):
        return before in _BILIRUBIN_BEFORE or (i + 1 < len(doc) and doc[i + 1].like_num)
    if word == "left":
        if before in _REMAINING_BEFORE and after in _REMAINING_AFTER and any(
                t.text in ("%", "of") for t in doc[max(0, i - 6):i]):
            return True  # "15% of her usual pain left": how much remained ("CC: Neck pain left." is a side)
        if after == "it" and before not in _LEFT_IT_SIDE_BEFORE:
            return True
        return after in _LEFT_AS_VERB_ALWAYS or (
            after in _LEFT_AS_VERB_AFTER and (before in _LEFT_AS_VERB_BEFORE or span[0].is_sent_start))
    if word == "right":
        nxt = doc[i + 2].lower_ if after == "-" and i + 2 < len(doc) else after
        if nxt == "hand":  # "right-hand-dominant", "right hand dominant"; not "right hand and foot"
            later = doc[i + 2].lower_ if i + 2 < len(doc) else ""
            return after == "-" or later in _HANDEDNESS
        if before in ("is", "was") and after in (":", ".", ",", ";", ""):
            return True  # "the diary is right: ...": correct, not a side
        # "all right" is the idiom, unless a level follows ("blocks, all right L4-5 and L5-S1")
        return nxt in _RIGHT_AS_WORD_AFTER or (before == "all" and not _VERTEBRA_START.match(
            doc[i + 1].text if i + 1 < len(doc) else ""))
    return False


@interpreter("SIDE")
def interpret_side(span, ctx: Context) -> list[Draft]:
    if _not_a_side(span):
        return []
    value = ctx.values.get(span.id_)
    start, end = span.start_char, span.end_char
    if span.id_ == "side.letters_compared":  # "R > L": both sides are named
        return [Draft("side", _LETTER_VALUE[t.text[0]], t.idx, t.idx + 1, span.id_, "side word", span)
                for t in (span[0], span[-1])]
    if span.id_ in _LETTER_SIDES:
        end = span[0].idx + len(span[0].text)  # the letter only, not the level after it
    elif span.id_ in _LETTER_IN_CONTEXT:
        letter = next(t for t in span if t.text.rstrip(".") in _LETTER_VALUE)
        value, start, end = _LETTER_VALUE[letter.text[0]], letter.idx, letter.idx + 1
    return [Draft("side", value, start, end, span.id_, "side word", span)]


# A junction word names the region of its joint's upper vertebra, as region_of does: T12-L1 is thoracic, C7-T1 cervical.
_REGION_WORDS = {"lumbosacral": "lumbar", "thoracolumbar": "thoracic", "cervicothoracic": "cervical"}


@interpreter("REGION")
def interpret_region(span, ctx: Context) -> list[Draft]:
    word = span.text.lower()
    value = _REGION_WORDS.get(word, word)
    return [Draft("region", value, span.start_char, span.end_char, span.id_, "region word", span)]

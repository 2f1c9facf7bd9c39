"""Stage 4: one ExtractedDocument -> what it says about identity and the procedure done that day.

A procedure note describes one session: its date, the procedure, and the
joints per side named in the procedure statement (the "Procedure:" section).
Joints come from joint mentions when the statement has them, else from the
nerves by the supply rule; the two are compared and a disagreement is kept
as a conflict with both pieces of evidence.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from extractor.checkboxes import in_side_grid
from extractor.facts import ExtractedDocument, Fact
from extractor.interpret.levels import joints_from_nerves
from extractor.sourcetext import line_bounds, sentence_bounds
from extractor.timeline import CORRECTION_SECTION, own_date

from drafting.tables import codes

__all__ = ["Session", "DocumentSummary", "summarise", "summarise_all", "entries", "one_per_day", "joint_sort_key",
           "evidence_of", "session_imaging", "is_thoracolumbar_junction"]

_STATEMENT_SECTIONS = {"procedure", "title", "letter", None}
# A bare "ablation" says which procedure a sentence is about, not what this note did.
_NOT_A_STATEMENT = {"procedure.bare_ablation"}
_POST_BEFORE = re.compile(r"\bpost[ \t]*-?[ \t]*$", re.IGNORECASE)
# A form named after the procedure ("MEDIAL BRANCH BLOCK - PAIN DIARY", "RFA discharge instructions"):
# the patient's record of the days after it, not the procedure's.
_FORM_AFTER = re.compile(r"[ \t]*[-:]?[ \t]*(?:(?:pain|relief|symptom|post[- ]?procedure|discharge)[ \t]+)?"
                         r"(?:diary|log|questionnaire|instructions)\b", re.IGNORECASE)
_EXAM_TITLE = re.compile(r"[ \t]*(exam|examination)[ \t]*:", re.IGNORECASE)
_SIDES = ("left", "right")


def evidence_of(fact: Fact, doc: ExtractedDocument) -> dict:
    return {"document": doc.path, "start": fact.start, "end": fact.end, "page": fact.page,
            "text": fact.text, "kind": fact.kind, "pattern_id": fact.pattern_id}


def joint_sort_key(joint: str) -> tuple:
    order = "CTLS"
    return (order.index(joint[0]) if joint[:1] in order else 9, int("".join(c for c in joint.split("-")[0][1:] if c.isdigit()) or 0))


@dataclass
class Session:
    """A procedure done on one day, as its own note describes it."""

    procedure: str                      # facet_rfa | facet_block | a not_facet kind
    date: str | None
    region: str | None                  # lumbar_sacral | cervical_thoracic
    joints: dict = field(default_factory=lambda: {"left": [], "right": []})
    evidence: list = field(default_factory=list)
    gaps: list = field(default_factory=list)
    conflicts: list = field(default_factory=list)
    document: ExtractedDocument | None = None
    procedure_fact: Fact | None = None


@dataclass
class DocumentSummary:
    doc: ExtractedDocument
    kind: str                          # rfa_note | block_note | clinic_note | other_procedure
    date: str | None
    name: dict | None
    dob: str | None
    mrn: str | None
    session: Session | None
    warnings: list = field(default_factory=list)
    letter: bool = False               # a letter: its chart number may be its writer's practice's


def _first(doc: ExtractedDocument, kind: str) -> Fact | None:
    return next((f for f in doc.facts if f.kind == kind and f.value), None)


def _scheduled(doc: ExtractedDocument, procedure: Fact) -> bool:
    """A procedure whose line gives a date after the note's own ("MBB #2 confirmed 3/17/26") is yet to come.

    Only its sentence on that line: a note dictated as one paragraph is one line, and its "On phone
    follow-up on 03/18/2026 ..." tells of the day after the procedure, not when it will be done.
    """
    own = _first(doc, "service_date")
    if own is None:
        return False
    line_start, line_end = line_bounds(doc.text, procedure.start, procedure.end)
    sentence_start, sentence_end = sentence_bounds(doc.text, procedure.start, procedure.end)
    start, end = max(line_start, sentence_start), min(line_end, sentence_end)
    return any(f.kind == "date" and f.value and f.value > own.value and start <= f.start < end
               for f in doc.facts)


def _states_procedure(fact: Fact, text: str, sections=_STATEMENT_SECTIONS) -> bool:
    """An asserted procedure named in one of `sections` as the thing done (not a bare "ablation",
    not one after "post": "FOLLOW-UP VISIT - POST DIAGNOSTIC BLOCKS" is a visit after them; not
    the title of a form about it: "MEDIAL BRANCH BLOCK - PAIN DIARY")."""
    return (fact.kind == "procedure" and fact.asserted and fact.section in sections
            and fact.pattern_id not in _NOT_A_STATEMENT
            and not _POST_BEFORE.search(text, max(0, fact.start - 8), fact.start)
            and not _FORM_AFTER.match(text, fact.end))


def _on_exam_line(text: str, fact: Fact) -> bool:
    """The fact is on a radiology report's "EXAM:" line, or on the line under an "EXAM:" alone on its line."""
    line_start = text.rfind("\n", 0, fact.start) + 1
    if _EXAM_TITLE.match(text, line_start):
        return True
    above = text.rfind("\n", 0, max(0, line_start - 1)) + 1
    return line_start > 0 and _EXAM_TITLE.fullmatch(text, above, line_start - 1) is not None


def _statement_facts(doc: ExtractedDocument) -> tuple[Fact | None, list[Fact]]:
    """The first asserted procedure in a procedure statement, and the facts of its section."""
    procedures = [f for f in doc.facts if _states_procedure(f, doc.text)]
    if not procedures:
        # Radiology-style reports name the procedure on their "EXAM:" line.
        procedures = [f for f in doc.facts if _states_procedure(f, doc.text, {"exam"}) and _on_exam_line(doc.text, f)]
    procedures = [f for f in procedures if not _scheduled(doc, f)]
    in_procedure = [f for f in procedures if f.section == "procedure"]
    chosen = (in_procedure or procedures or [None])[0]
    if chosen is None:
        return None, []
    # The statement runs from the section's first fact to the next blank line or section change.
    text = doc.text
    start = text.rfind("\n\n", 0, chosen.start) + 1
    nxt = text.find("\n\n", chosen.end)
    end = len(text) if nxt == -1 else nxt
    # Within that paragraph, the run of facts in the chosen fact's section:
    # PDFs have no blank lines, so the section boundary is what ends it.
    ordered = list(doc.facts)
    at = ordered.index(chosen)
    lo, hi = at, at
    while lo > 0 and ordered[lo - 1].section == chosen.section and ordered[lo - 1].start >= start:
        lo -= 1
    while hi + 1 < len(ordered) and ordered[hi + 1].section == chosen.section and ordered[hi + 1].start < end:
        hi += 1
    facts = ordered[lo: hi + 1]
    corrections = [f for f in doc.facts if f.section == CORRECTION_SECTION and f.kind in ("level", "side")]
    if any(f.kind == "level" and f.asserted for f in corrections):
        # "ADDENDUM: correction - the levels were L3-4, L4-5 and L5-S1, not L2-3": the addendum is the record.
        # Its sides too, when it gives any; "the levels were L4-5 and L5-S1" keeps the statement's "Bilateral".
        replaced = ("level", "side") if any(f.kind == "side" for f in corrections) else ("level",)
        facts = [f for f in facts if f.kind not in replaced] + corrections
    if not any(f.kind == "level" for f in facts):
        # A title names the procedure and a field block under it says where: "| Laterality | Bilateral |",
        # "| Joints | L4-5, L5-S1 |", "Block: #2 (confirmatory), LEFT L4-5" (before the technique's
        # own "right then left" is read).
        fields = [f for f in doc.facts if f.kind in ("level", "side") and f.asserted and (
            (f.section in (None, "procedure", "title") and (_LEVEL_FIELD.match(text, text.rfind("\n", 0, f.start) + 1)
                                                             or _under_level_field(text, f.start)))
            # a check-mark grid's row ("L4-L5 |  X  |"), wherever the sectionizer left it
            or (f.section not in _NOT_THIS_SESSION and in_side_grid(text, f)))]
        if any(f.kind == "level" for f in fields):
            facts += [f for f in fields if f not in facts]
    if not any(f.kind == "level" for f in facts):
        # "PROCEDURE: Lumbar RFA" with the levels on their own "Levels:" line, and the side
        # on its own "Side:" line ("- **Side:** Bilateral" / "- **Levels:** L4-5").
        facts += [f for f in doc.facts if f.kind in ("level", "side") and f.section == "procedure" and f not in facts]
    if not any(f.kind == "level" for f in facts):
        # A title names the procedure ("PROCEDURE REPORT - LUMBAR MEDIAL BRANCH BLOCK") and only
        # the technique says where the needles went ("at the left L2, L3 and L4 medial branch targets").
        facts += [f for f in doc.facts if f.kind == "level" and f.section == "technique" and f.asserted]
    if not any(f.kind == "level" for f in facts) and chosen.section is None:
        # A dictated note with no headings: "returns today for the first of two diagnostic medial
        # branch blocks" opens it, and a later sentence says where the drug went ("lidocaine was
        # injected at each of the L2, L3 and L4 medial branches ... bilaterally").
        facts += [f for f in doc.facts if f.kind == "level" and f.section is None and f.asserted
                  and f.start > chosen.end and _delivered_there(_sentence_of(doc.text, f))]
    return chosen, facts


# A field line that says where the procedure was done: "Levels: L4-5", "| Laterality | Bilateral |",
# "Levels / laterality:".
_FIELD_WORD = r"(?:levels?|level\(s\)|joints?|facet joints?|nerves?|targets?|laterality|sides?|site|blocks?)"
_LEVEL_FIELD = re.compile(rf"[ \t]*\|?[ \t]*{_FIELD_WORD}(?:[ \t]*(?:/|&|and)[ \t]*{_FIELD_WORD})*[ \t]*[:|]",
                          re.IGNORECASE)  # "Block: #2 (confirmatory), LEFT L4-5"


def _under_level_field(text: str, at: int) -> bool:
    """The offset lies on an indented line under a field label alone on its line:

        Levels / laterality:
          RIGHT  L3-4, L4-5, L5-S1  -> R L2, L3, L4 medial branches + R L5 dorsal ramus
          LEFT   L4-5, L5-S1        -> L L3, L4 medial branches + L L5 dorsal ramus
    """
    start, _ = line_bounds(text, at)
    while start > 0:
        if text[start] not in " \t":
            return False
        start, end = line_bounds(text, start - 1)
        line = text[start:end]
        if not line.strip():
            return False
        if line[:1] not in " \t":
            label = _LEVEL_FIELD.match(line)
            return label is not None and not line[label.end():].strip()
    return False
_NOT_THIS_SESSION = {"indication", "history", "past_history", "imaging", "plan", "request"}
# Words of needle placement: "Using fluoroscopy, I advanced three RF cannulae ..." is this session's technique.
_STUDY = re.compile(r"\b(?:MRI|CT|x-?rays?|radiographs?|films?|scan)\b", re.IGNORECASE)
_PLACEMENT = re.compile(r"\b(?:cannula[es]?|needles?|probes?|electrodes?|advanced|positioned)\b", re.IGNORECASE)
# Words of a drug or lesion delivered at the targets: "lidocaine was injected at each of the L2, L3 ...".
_DELIVERY = re.compile(r"\b(?:injected|instilled|deposited|infiltrated|placed|blocking|lesioned|ablated|coagulated"
                       r"|lesions?)\b", re.IGNORECASE)


def session_imaging(doc: ExtractedDocument) -> list[Fact]:
    """Imaging facts said of this note's own session: history, plans and the imaging section aside.

    An indication recounts earlier care ("both blocks under fluoroscopy"), so
    imaging there counts only in a sentence that places the needles: a
    dictated note often runs from its indication into the technique with no
    heading between them.
    """
    found = []
    for fact in doc.facts:
        if fact.kind != "imaging" or not fact.asserted:
            continue
        if fact.section == "indication" and _PLACEMENT.search(_sentence_of(doc.text, fact)):
            found.append(fact)
        elif fact.section == "imaging" and fact.value == "fluoroscopy" and not _STUDY.search(
                doc.text, *line_bounds(doc.text, fact.start, fact.end)):
            # "IMAGING: Fluoroscopy, AP and oblique views": a template's guidance line.
            # Fluoroscopy is no study a note reviews; a line that names one is history.
            found.append(fact)
        elif fact.section not in _NOT_THIS_SESSION:
            found.append(fact)
    return found


def _delivered_there(sentence: str) -> bool:
    """The sentence places needles or delivers the drug or lesion ("a spinal needle was walked onto the
    L2, L3 and L4 medial branch targets", "bupivacaine was then placed at each site, blocking ...")."""
    return bool(_DELIVERY.search(sentence) or _PLACEMENT.search(sentence))


def _sentence_of(text: str, fact: Fact) -> str:
    start, end = sentence_bounds(text, fact.start, fact.end)
    return text[start:end]


def _guidance(doc: ExtractedDocument) -> set[str]:
    """Imaging named for this session (history and plans aside)."""
    return {f.value for f in session_imaging(doc)}


def joints_named(levels: list[Fact]) -> dict[str, list[str]]:
    """Joints per side that sided level facts name, by joint or by nerve (a history line's levels)."""
    by_joint, by_nerve, _ = _joints_from(levels)
    return {s: sorted(by_joint[s] | by_nerve[s]) for s in _SIDES}


def _joints_from(levels: list[Fact]) -> tuple[dict, dict, list[Fact]]:
    """Joints per side from joint mentions and from nerve mentions, separately."""
    by_joint = {s: set() for s in _SIDES}
    nerves = {s: set() for s in _SIDES}
    unsided = []
    for fact in levels:
        side = fact.value.get("side")
        sides = _SIDES if side == "bilateral" else ((side,) if side in _SIDES else ())
        if not sides:
            unsided.append(fact)
            continue
        for s in sides:
            if fact.value["form"] == "joint":
                by_joint[s].update(fact.value["joints"])
            else:
                nerves[s].update(fact.value["nerves"])
    by_nerve = {s: set(joints_from_nerves(nerves[s])) for s in _SIDES}
    return by_joint, by_nerve, unsided


def _with_statement_side(levels: list[Fact], statement: list[Fact], text: str) -> list[Fact]:
    """Levels that name no side take the statement's one side ("Laterality: Bilateral" / "Level(s): L3-L4; L4-L5").

    Only when the statement names exactly one side value ("RT + LT", one answer, is both sides);
    two different sides leave the level unsided (a gap for the coder), as before.
    """
    side_facts = [f for f in statement if f.kind == "side" and f.asserted]
    sides = {f.value for f in side_facts}
    if sides == {"left", "right"} and _joined_sides(side_facts, text):
        sides = {"bilateral"}  # "Laterality:    RT + LT"
    if len(sides) != 1 or all(f.value.get("side") for f in levels):
        return levels
    side = sides.pop()
    return [f if f.value.get("side") else dataclasses.replace(f, value={**f.value, "side": side}) for f in levels]


def _with_technique_side(levels: list[Fact], doc: ExtractedDocument) -> list[Fact]:
    """A statement that gives its levels no side at all ("Level(s): L4-5" / "Side: ___", a template
    field left blank) takes the one side the note's account gives the same joint ("needles at the
    right L3 and L4 medial branches (the nerves to the right L4-5 facet joint)")."""
    if any(f.value.get("side") for f in levels):
        return levels  # the statement's own sides, on any of its levels, stand
    told: dict[str, set[str]] = {}
    for f in doc.facts:
        if (f.kind == "level" and f.asserted and f.value.get("side") and f.section in _TECHNIQUE_SECTIONS
                and f not in levels):
            for joint in f.value["joints"]:
                told.setdefault(joint, set()).add(f.value["side"])

    def sided(f: Fact) -> Fact:
        sides = set().union(*(told.get(j, set()) for j in f.value["joints"])) if f.value["joints"] else set()
        if f.value.get("side") or len(sides) != 1:
            return f
        return dataclasses.replace(f, value={**f.value, "side": sides.pop()})

    return [sided(f) for f in levels]


_SIDE_JOINER = re.compile(r"\s*(?:\+|&|/|,|and)\s*", re.IGNORECASE)


def _joined_sides(side_facts: list[Fact], text: str) -> bool:
    """Two side words joined into one answer ("RT + LT", "R & L"): both sides, as "bilateral" says."""
    if len(side_facts) != 2:
        return False
    first, second = sorted(side_facts, key=lambda f: f.start)
    return _SIDE_JOINER.fullmatch(text, first.end, second.start) is not None


def one_per_day(summaries: list[DocumentSummary]) -> list[Session]:
    """The facet sessions of a case, one per procedure and day, in the order given.

    Two notes can describe one day's procedure: the block report and the
    patient's diary, or the operative note and its addendum. The session whose
    statement names joints stands for the day (the first such in order); one
    procedure done once is one claim.
    """
    out: list[Session] = []
    where: dict[tuple[str, str], int] = {}  # (procedure, date) -> index in out
    for summary in summaries:
        s = summary.session
        if s is None or s.procedure not in ("facet_rfa", "facet_block"):
            continue
        at = where.get((s.procedure, s.date)) if s.date is not None else None  # undated: never the same day
        if at is None:
            if s.date is not None:
                where[(s.procedure, s.date)] = len(out)
            out.append(s)
        elif _names_joints(s) and not _names_joints(out[at]):
            out[at] = s
        elif _other_sides(s, out[at]):
            out[at] = _both_sides(out[at], s)
    return _with_levels_by_reference(out)


# A statement that names its levels by pointing at an earlier block's: "repeat of block #1, same levels and
# sides as the 02/03 block", "same targets as before".
_SAME_LEVELS = re.compile(r"\bsame\s+(?:levels?|targets?|joints?|nerves?)\b(?:\s+and\s+sides?)?\s+(?:as|like)\b",
                          re.IGNORECASE)


def _with_levels_by_reference(sessions: list[Session]) -> list[Session]:
    """Each block session whose note names no joint but says they were the same as an earlier block's,
    given that block's joints: the coder reads the earlier note the statement points to.

    The earlier block is the latest one before it that names joints; the missing-level gap goes.
    """
    out: list[Session] = []
    for s in sessions:
        earlier = next((e for e in reversed(out) if e.procedure == "facet_block" and _names_joints(e)
                        and e.date and s.date and e.date < s.date), None)
        if (s.procedure == "facet_block" and not _names_joints(s) and earlier is not None
                and s.document is not None and _SAME_LEVELS.search(s.document.text)):
            s = dataclasses.replace(s, joints={side: list(j) for side, j in earlier.joints.items()},
                                    region=earlier.region, gaps=[g for g in s.gaps if g["id"] != "missing_level"],
                                    evidence=s.evidence + earlier.evidence[:2])
        out.append(s)
    return out


def _sides_named(session: Session) -> set[str]:
    return {side for side in _SIDES if session.joints[side]}


def _other_sides(one: Session, other: Session) -> bool:
    """Two notes of one day name joints on different sides: the left in the morning, the right after lunch."""
    a, b = _sides_named(one), _sides_named(other)
    return bool(a) and bool(b) and not (a & b)


def _both_sides(first: Session, second: Session) -> Session:
    """One day's procedure on both sides, from two notes that each did one side."""
    joints = {side: first.joints[side] or second.joints[side] for side in _SIDES}
    return dataclasses.replace(first, joints=joints, evidence=first.evidence + second.evidence,
                               gaps=first.gaps + second.gaps, conflicts=first.conflicts + second.conflicts)


def _names_joints(session: Session) -> bool:
    return any(session.joints[s] for s in _SIDES)


def _joint_region(joint: str) -> str:
    return "cervical_thoracic" if joint[0] in "CT" else "lumbar_sacral"


def _region(joints: dict) -> str | None:
    """The session's code region; None when its joints span two regions (except at the junction below)."""
    regions = {_joint_region(j) for s in _SIDES for j in joints[s]}
    if len(regions) == 1:
        return regions.pop()
    return "lumbar_sacral" if is_thoracolumbar_junction(joints) else None


def by_region(session: Session) -> list[Session]:
    """The session as one part per code region it treated, each a claim of its own.

    Why: "Bilateral C5-6 medial branch blocks" and "Bilateral L4-5 medial branch
    blocks" done under one note on one day are two services, each coded from
    its own region's table (64490 and 64493, each a first code), and a later
    lumbar ablation is judged on the lumbar part's joints. A part keeps the
    note's evidence, but only its own region's levels.
    """
    if session.region is not None or not _names_joints(session):
        return [session]
    regions = {}
    for fact in session.document.facts if session.document else ():
        if fact.kind == "level" and fact.value.get("joints"):
            regions[(fact.start, fact.end)] = {_joint_region(j) for j in fact.value["joints"]}
    parts = []
    for region in ("cervical_thoracic", "lumbar_sacral"):
        joints = {s: [j for j in session.joints[s] if _joint_region(j) == region] for s in _SIDES}
        if not any(joints.values()):
            continue
        evidence = [e for e in session.evidence
                    if e.get("kind") != "level" or region in regions.get((e["start"], e["end"]), {region})]
        parts.append(dataclasses.replace(session, region=region, joints=joints, evidence=evidence))
    return parts if len(parts) > 1 else [session]


def is_thoracolumbar_junction(joints: dict) -> bool:
    """T12-L1 with lumbar joints (L1-2 ...), and no other thoracic or cervical joint.

    Why: Medicare contractors count T12-L1 with L1-2 in one session as one
    lumbar session (policy-research.md 2.5), so the session is lumbar; how its
    T12-L1 is coded is the profile's `thoracolumbar_junction` (drafting/claims.py).
    """
    named = {j for s in _SIDES for j in joints[s]}
    upper = {j for j in named if j[0] in "CT"}
    return upper == {"T12-L1"} and "L1-L2" in named


def _session(doc: ExtractedDocument, date: str | None) -> tuple[Session | None, list[str]]:
    chosen, facts = _statement_facts(doc)
    if chosen is None:
        return None, []
    table = codes()
    # "Radiofrequency ablation of the genicular nerves": the generic ablation
    # words yield to the structure named in the same statement when no facet
    # level is named there.
    others = [f for f in facts if f.kind == "procedure" and f.value in table["not_facet"] and f.asserted]
    if chosen.value not in table["not_facet"] and others and not any(
            f.kind == "level" and f.value["joints"] for f in facts):
        chosen = others[0]
    kind = table["billable"].get(chosen.value)
    warnings = []
    if kind is None:
        reason = table["not_facet"].get(chosen.value, "not a facet procedure")
        warnings.append(f"no facet claim for the procedure of {date or 'unknown date'}: {reason}")
        return Session(procedure=chosen.value, date=date, region=None, document=doc, procedure_fact=chosen), warnings
    levels = _with_technique_side(_with_statement_side(
        [f for f in facts if f.kind == "level" and not f.negated and not f.hypothetical], facts, doc.text), doc)
    by_joint, by_nerve, unsided = _joints_from(levels)
    has_joints = any(by_joint[s] for s in _SIDES)
    chosen_joints = by_joint if has_joints else by_nerve
    untreated = _untreated(doc)
    joints = {s: sorted((j for j in chosen_joints[s] if (s, j) not in untreated), key=joint_sort_key) for s in _SIDES}
    session = Session(procedure=kind, date=date, region=_region(joints), joints=joints,
                      document=doc, procedure_fact=chosen)
    if _guidance(doc) == {"ultrasound"}:
        # No claim; the joints stay known, so a block done this way still says which joints it tested.
        warnings.append(f"no facet claim for the procedure of {date or 'unknown date'}: {table['ultrasound_only']}")
        session.procedure = "ultrasound_only"
        return session, warnings
    session.evidence = [evidence_of(chosen, doc)] + [evidence_of(f, doc) for f in levels]
    session.evidence += [evidence_of(f, doc) for (s, j), f in untreated.items() if j in chosen_joints[s]]
    if has_joints and any(by_nerve[s] for s in _SIDES) and any(by_nerve[s] - by_joint[s] for s in _SIDES):
        session.conflicts.append({
            "message": "the joints named and the nerves named in the procedure statement do not agree",
            "evidence": [evidence_of(f, doc) for f in levels]})
    session.conflicts.extend(_side_conflicts(doc, facts, joints))
    if not any(joints[s] for s in _SIDES):
        what = "side" if unsided else "level"
        session.gaps.append({"id": f"missing_{what}", "severity": "blocks_submission",
                             "message": f"the procedure statement does not state the {what} of the joints treated",
                             "evidence": [evidence_of(chosen, doc)]})
    if date is None:
        session.gaps.append({"id": "missing_date_of_service", "severity": "blocks_submission",
                             "message": "no date of service found", "evidence": []})
    return session, warnings


_TECHNIQUE_SECTIONS = {"technique", "procedure", "injectate", "post_procedure", None}


def _untreated(doc: ExtractedDocument) -> dict[tuple[str, str], Fact]:
    """(side, joint) pairs the note's own account says were not done today, with the words that say so:
    a header's "Bilateral L4-5, L5-S1" and a body's "the left L5-S1 joint was NOT treated today"
    (the target abandoned, the hardware in the way). A joint the account also says was treated on
    that side stays."""
    said = [f for f in doc.facts if f.kind == "level" and f.value["form"] == "joint" and f.value.get("side") in _SIDES
            and f.section in _TECHNIQUE_SECTIONS and not (f.hypothetical or f.historical)]
    treated = {(f.value["side"], j) for f in said if not f.negated for j in f.value["joints"]}
    not_done = [f for f in said if f.negated and _NOT_DONE.search(doc.text, *sentence_bounds(doc.text, f.start, f.end))]
    return {(f.value["side"], j): f for f in not_done for j in f.value["joints"] if (f.value["side"], j) not in treated}


# What says a target was not done, as against any other negation that reaches a level ("no steroid,
# same right L5-S1 target").
_NOT_DONE = re.compile(r"\b(?:not|never)\s+(?:be\s+)?(?:treated|lesioned|ablated|blocked|injected|denervated|performed|"
                       r"done|attempted|completed)\b|\b(?:abandoned|aborted|omitted)\b", re.IGNORECASE)


def _side_conflicts(doc: ExtractedDocument, statement: list[Fact], joints: dict) -> list[dict]:
    """Joints and sides the rest of the note says were treated that the statement does not name.

    Only joint mentions are compared: a lone nerve in a table row names no joint.
    """
    if not any(joints[s] for s in _SIDES):
        return []
    inside = {id(f) for f in statement}
    clashes = []
    for fact in doc.facts:
        if (fact.kind != "level" or id(fact) in inside or not fact.asserted or fact.value["form"] != "joint"
                or fact.section not in _TECHNIQUE_SECTIONS or fact.value.get("side") is None):
            continue
        side = fact.value["side"]
        sides = _SIDES if side == "bilateral" else (side,)
        missing = [(s, j) for s in sides for j in fact.value["joints"] if j not in joints[s]]
        if missing:
            clashes.append(fact)
    if not clashes:
        return []
    statement_levels = [f for f in statement if f.kind == "level"]
    return [{"message": "the procedure statement and the rest of the note name different joints or sides",
             "evidence": [evidence_of(f, doc) for f in statement_levels[:4] + clashes[:4]]}]


_SALUTATION = re.compile(r"^[ \t]*(?:Dear|To whom it may concern)\b", re.IGNORECASE | re.MULTILINE)
# An examiner's report (an independent medical examination) ends on a declaration, not a closing.
_DECLARATION = re.compile(r"^[ \t]*I (?:declare|certify|attest)\b", re.IGNORECASE | re.MULTILINE)
_CLOSING = re.compile(r"^[ \t]*(?:Sincerely|Respectfully|(?:Kind |Best |Warm )?Regards|Yours truly)\b", re.IGNORECASE | re.MULTILINE)


def _is_letter(text: str) -> bool:
    """A letter (referral, records summary, appeal) tells of procedures; it records none of its own.

    Its date is the day it was written, so a procedure it names ("Summary of
    diagnostic medial branch blocks", "the ablation performed on ...") is not
    a session on that day. The blocks it reports still reach the case's
    block records through their own dates (drafting/blocks.py). A letter
    that reports its own day's procedure is the exception (_done_that_day).
    """
    return bool(_SALUTATION.search(text) and (_CLOSING.search(text) or _DECLARATION.search(text)))


_SUBJECT = re.compile(r"^[ \t]*Subject[ \t]*:", re.IGNORECASE | re.MULTILINE)
_ADDRESS = re.compile(r"^[ \t]*(?:From|To|Sent)[ \t]*:", re.IGNORECASE | re.MULTILINE)


# A secure-text thread's message: "[12:05 PM] Dana Kowalski RN: Hi Renee, ...".
_CHAT_LINE = re.compile(r"^[ \t]*\[\d{1,2}:\d{2}(?:[ \t]*[AaPp]\.?[Mm]\.?)?\][ \t]*[^:\n\]]{1,60}:", re.MULTILINE)


# A nurse's or a front desk's call about a procedure: "Nursing Telephone Note", "TELEPHONE ENCOUNTER -
# POST-PROCEDURE CALL", "Phone note", in the note's first lines.
_PHONE_TITLE = re.compile(r"\b(?:tele)?phone\s+(?:note|encounter|call|contact|follow[- ]?up)\b|\bpost[- ]procedure\s+call\b",
                          re.IGNORECASE)
_PHONE_TITLE_LINES = 4


_HEAD_LINE_CHARS = 120  # a title line's width; a note dictated as one paragraph is one long line


def _head(text: str, lines: int) -> str:
    """The note's first lines, where its title stands, each cut to a title's width: "On phone
    follow-up on 03/18/2026 ..." deep in a one-paragraph note is no title."""
    return "\n".join(line[:_HEAD_LINE_CHARS] for line in text.lstrip().split("\n", lines)[:lines])


# The front desk's record of a booking: "Scheduling / Front Desk Note", "PROCEDURE CANCELLATION NOTE",
# "Appointment note". It names the procedure it books, moves or calls off; none is done in it.
_BOOKING_TITLE = re.compile(
    r"\b(?:scheduling|front[- ]desk|appointment|rescheduling|cancellation)\s+(?:note|entry|encounter)\b", re.IGNORECASE)


def _is_call_or_booking(text: str) -> bool:
    """A telephone note tells how a procedure went ("Follow-up after L L5-S1 MBB #2 ..., done
    08/27/2026"), and a booking note books or calls one off; none is done in either."""
    head = _head(text, _PHONE_TITLE_LINES)
    return bool(_PHONE_TITLE.search(head) or _BOOKING_TITLE.search(head))


# A therapist's own note: "... - Physical Therapy" in its heading and a therapist signing it
# ("Kelsey Marchetti, PT, DPT", "J. Ruiz, DC"). Therapists do no facet procedures; the blocks such a
# note mentions ("Reports both medial branch blocks gave strong but short-lived relief") were done elsewhere.
_THERAPY_HEAD = re.compile(r"\b(?:physical therapy|physiotherapy|occupational therapy|chiropractic)\b", re.IGNORECASE)
_THERAPIST = re.compile(r",[ \t]*(?:PT|DPT|MPT|MSPT|PTA|OT|OTR(?:/L)?|DC)\b")
_THERAPY_HEAD_LINES = 6


def _is_therapy_note(text: str) -> bool:
    head = _head(text, _THERAPY_HEAD_LINES)
    return _THERAPY_HEAD.search(head) is not None and _THERAPIST.search(text) is not None


# A patient's diary, or an app's printout of it: "POST-PROCEDURE PAIN DIARY", "PainTrack Block Diary -
# Clinician Printout". It records relief after blocks done elsewhere in the folder ("BLOCK 1 | Medial
# branch block #1 | bilateral L3-4, L4-5"); none is done in it.
_DIARY_TITLE = re.compile(r"\bdiary\b", re.IGNORECASE)
_DIARY_TITLE_LINES = 2


def _is_diary(text: str) -> bool:
    return _DIARY_TITLE.search(_head(text, _DIARY_TITLE_LINES)) is not None


def _is_message(text: str) -> bool:
    """An e-mail or patient-portal message ("Subject:" and "From:" / "To:" lines) saved to the chart,
    or a text-message thread (two or more "[12:05 PM] Name:" lines).

    Like a letter, it tells of procedures ("Got the shot yesterday", "we will
    get the ablation on the schedule", "for the RFA decision") and records none of its own.
    """
    if _SUBJECT.search(text) and _ADDRESS.search(text):
        return True
    first = _CHAT_LINE.search(text)
    return first is not None and _CHAT_LINE.search(text, first.end()) is not None


_TODAY = re.compile(r"\b(?:today|this morning|this afternoon)\b", re.IGNORECASE)


def _done_that_day(doc: ExtractedDocument) -> bool:
    """A letter that reports its own day's procedure ("Today I performed ...", or a "Procedure:" line)."""
    return any(f.kind == "procedure" and f.asserted
               and (f.section == "procedure" or _TODAY.search(_sentence_of(doc.text, f)))
               for f in doc.facts)


def summarise(doc: ExtractedDocument) -> DocumentSummary:
    """Identity, date and procedure session of one document."""
    date = own_date(doc.facts, doc.text)
    name = _first(doc, "patient_name")
    dob = _first(doc, "dob")
    mrn = _first(doc, "mrn")
    letter = _is_letter(doc.text)
    # A message's "this morning" is its sender's day, not a procedure recorded here.
    reported_only = ((letter and not _done_that_day(doc)) or _is_message(doc.text) or _is_call_or_booking(doc.text)
                     or _is_therapy_note(doc.text) or _is_diary(doc.text))
    session, warnings = (None, []) if reported_only else _session(doc, date)
    if session is None:
        kind = "clinic_note"
    elif session.procedure == "facet_rfa":
        kind = "rfa_note"
    elif session.procedure == "facet_block":
        kind = "block_note"
    else:
        kind = "other_procedure"
    return DocumentSummary(doc=doc, kind=kind, date=date, name=name.value if name else None,
                           dob=dob.value if dob else None, mrn=mrn.value if mrn else None,
                           session=session, warnings=warnings, letter=letter)


# After an entry's date at the start of its line: a title of words in capitals ("  PROCEDURE NOTE - LUMBAR
# MBB #1", "  FOLLOW-UP VISIT"); not a list item's "  3/24/2026 MBB #1, lidocaine 2%: 90% relief".
_ENTRY_TITLE = re.compile(r"(?:[ \t]{2,}|[ \t]+[-|:][ \t]+)[A-Z]{2,}(?:[ -]+[A-Z]{2,})+\b")


def _opens_entry(text: str, fact: Fact) -> bool:
    """The date opens its line, unindented, and a title in capitals follows it there."""
    return line_bounds(text, fact.start)[0] == fact.start and _ENTRY_TITLE.match(text, fact.end) is not None


def entries(doc: ExtractedDocument) -> list[ExtractedDocument]:
    """A procedure log's dated entries, each as a document of its own; most documents are one entry.

    A log (or a fax of several notes in one file) writes each procedure under
    its own date of service: "ENTRY 2 / Procedure date: 08-Sep-2026 /
    Procedure: Right L4-L5 MBB #2". A document splits where its date of
    service changes, but only when at least two of the parts state a
    procedure of their own; the lines above the first date (the patient,
    the provider, the setting) belong to every part. The parts keep the
    document's path and text, so evidence still points into the file. A
    progress-note export with no date of service splits at the dates that
    open an entry's line before its title in capitals, which are then each
    part's date of service.
    """
    dates = [f for f in doc.facts if f.kind == "service_date" and f.value and f.asserted]
    headings: set[int] = set()
    if len({f.value for f in dates}) < 2:
        # A chronological progress-note export: each entry opens a line with its date and title,
        # "04/08/2026  PROCEDURE NOTE - LUMBAR MBB #1      Provider: ...". That date is the entry's own.
        dates = [f for f in doc.facts if f.kind == "date" and f.value and _opens_entry(doc.text, f)]
        headings = {id(f) for f in dates}
    starts, previous = [], None
    for fact in dates:
        if fact.value != previous:
            starts.append(line_bounds(doc.text, fact.start)[0])
            previous = fact.value
    if len(starts) < 2:
        return [doc]
    bounds = list(zip(starts, starts[1:] + [len(doc.text)]))
    header = tuple(f for f in doc.facts if f.start < starts[0])
    parts = [header + tuple(dataclasses.replace(f, kind="service_date") if id(f) in headings else f
                            for f in doc.facts if lo <= f.start < hi) for lo, hi in bounds]
    stating = sum(any(_states_procedure(f, doc.text, {"procedure", "title"}) for f in part) for part in parts)
    if stating < 2:
        return [doc]
    return [dataclasses.replace(doc, facts=part) for part in parts]


def summarise_all(docs: list[ExtractedDocument]) -> list[DocumentSummary]:
    """One summary per dated entry of each document (`entries`), in order."""
    return [summarise(part) for doc in docs for part in entries(doc)]

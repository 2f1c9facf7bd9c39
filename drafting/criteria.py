"""Stage 5: an ablation session and its case -> medical-necessity criteria with evidence.

Each criterion is `met`, `not_met` or `missing`, with a one-sentence reason
and the evidence spans it rests on, judged on the case's documents dated up
to the ablation. Negated and hypothetical statements never count; history is
used only where the rule is about history (care tried, blocks done).
"""
from __future__ import annotations

import dataclasses
from typing import Callable

from extractor.facts import ExtractedDocument, Fact

from drafting.blocks import DERIVED_RELIEF, BlockRecord, collect_blocks, read_at_hours
from drafting.cases import Case
from drafting.sessions import Session, by_region, evidence_of, session_imaging
from drafting.tables import codes

__all__ = ["evaluate", "blocks_for", "used_blocks", "CRITERIA"]

CRITERIA: dict[str, Callable] = {}
_PRE_PROCEDURE_EXCLUDED = {"post_procedure", "plan", "consent"}


def criterion(name: str):
    def wrap(fn):
        CRITERIA[name] = fn
        return fn
    return wrap


def _result(cid: str, status: str, reason: str, evidence: list | None = None) -> dict:
    return {"id": cid, "status": status, "reason": reason, "evidence": (evidence or [])[:12]}


def _facts(case: Case, rfa: Session, kind: str, allow_historical: bool = True) -> list[tuple[Fact, ExtractedDocument]]:
    out = []
    for summary in case.ordered():
        if summary.date and rfa.date and summary.date > rfa.date:
            continue
        for fact in summary.doc.facts:
            if fact.kind != kind or fact.negated or fact.hypothetical:
                continue
            if fact.historical and not allow_historical:
                continue
            out.append((fact, summary.doc))
    return out


@criterion("conservative_care")
def conservative_care(case, rfa, blocks, profile) -> dict:
    found = _facts(case, rfa, "conservative_care")
    need = float(profile["conservative_care_weeks"])
    if not found:
        return _result("conservative_care", "missing", "no conservative treatment is documented")
    weeks = [(f.value["weeks"], f, d) for f, d in found if f.value.get("weeks")]
    longest = max(weeks, key=lambda w: w[0], default=None)
    if need <= 0 or (longest and longest[0] >= need):
        ev = [evidence_of(longest[1], longest[2])] if longest else []
        ev += [evidence_of(f, d) for f, d in found[:5]]
        span = f"{longest[0]:.0f} weeks" if longest else "failed care"
        return _result("conservative_care", "met", f"conservative care documented ({span}; at least {need:g} weeks required)", ev)
    if longest:
        return _result("conservative_care", "not_met",
                       f"conservative care documented for {longest[0]:.0f} weeks, less than {need:g}",
                       [evidence_of(longest[1], longest[2])])
    return _result("conservative_care", "missing", f"conservative care is named but its duration (at least {need:g} weeks) is not",
                   [evidence_of(f, d) for f, d in found[:5]])


@criterion("pain_duration")
def pain_duration(case, rfa, blocks, profile) -> dict:
    found = _facts(case, rfa, "pain_duration")
    need = float(profile["pain_duration_months"])
    if not found:
        return _result("pain_duration", "missing", "how long the pain has lasted is not documented")
    best = max(found, key=lambda x: x[0].value["months"])
    months = best[0].value["months"]
    status = "met" if months > need or (months >= need and need > 0) else "not_met"
    return _result("pain_duration", status, f"pain documented for about {months:g} months ({need:g} required)",
                   [evidence_of(best[0], best[1])])


@criterion("pain_scale")
def pain_scale(case, rfa, blocks, profile) -> dict:
    found = [(f, d) for f, d in _facts(case, rfa, "pain_score", allow_historical=False)
             if f.section not in _PRE_PROCEDURE_EXCLUDED]
    if not found:
        return _result("pain_scale", "missing", "no pain score (NRS/VAS n/10) before the ablation")
    best = max(found, key=lambda x: x[0].value["score"])
    score = best[0].value["score"]
    if score <= 3:
        return _result("pain_scale", "not_met", f"pain scores show only mild pain (highest {score:g}/10)",
                       [evidence_of(best[0], best[1])])
    return _result("pain_scale", "met", f"pain score {score:g}/10 recorded before the ablation", [evidence_of(best[0], best[1])])


@criterion("functional_impairment")
def functional_impairment(case, rfa, blocks, profile) -> dict:
    found = _facts(case, rfa, "function")
    if not found:
        return _result("functional_impairment", "missing", "no functional deficit (ODI, limits on activities) documented")
    return _result("functional_impairment", "met", f"functional impairment documented ({found[0][0].text})",
                   [evidence_of(f, d) for f, d in found[:6]])


def used_blocks(blocks: list[BlockRecord], profile: dict) -> list[BlockRecord]:
    """The blocks the criteria read: the last ones the profile requires.

    When the last block is positive and an equivocal one sits among the last
    ones ("#2 about 60%: repeat confirmatory block" five weeks later), the
    repeat replaces it: the most recent positive blocks are the two the
    ablation rests on. A last block below the threshold is read as it is.
    """
    need = int(profile["blocks_required"])
    if len(blocks) <= need:
        return list(blocks)
    threshold = float(profile["relief_threshold"])

    def positive(block: BlockRecord) -> bool:
        best = _best_relief(block)
        return best is not None and best[0].value["percent"] >= threshold

    chosen = [b for b in blocks if positive(b)][-need:]
    if len(chosen) == need and chosen[-1] is blocks[-1]:
        return chosen
    return blocks[-need:]


def _block_evidence(block: BlockRecord) -> list[dict]:
    ev = []
    if block.session is not None and block.session.procedure_fact is not None:
        ev.append(evidence_of(block.session.procedure_fact, block.session.document))
    return ev + block.mentions[:2]


def _intra_articular(block: BlockRecord) -> bool:
    """The block's own note names an intra-articular facet joint injection, not a medial branch block."""
    fact = block.session.procedure_fact if block.session is not None else None
    return fact is not None and fact.value == "facet_injection"


@criterion("diagnostic_blocks")
def diagnostic_blocks(case, rfa, blocks, profile) -> dict:
    need = int(profile["blocks_required"])
    ev = [e for b in blocks for e in _block_evidence(b)]
    if not blocks:
        return _result("diagnostic_blocks", "missing", "no diagnostic medial branch block before the ablation is documented")
    # The rules ask for medial branch blocks: an intra-articular injection tests the joint, not its nerves.
    branch = [b.date for b in blocks if not _intra_articular(b)]
    joint = [b.date for b in blocks if _intra_articular(b)]
    besides = f"; the intra-articular injection(s) of {', '.join(joint)} do not count" if joint else ""
    if len(branch) < need:
        return _result("diagnostic_blocks", "not_met",
                       f"{len(branch)} diagnostic medial branch block(s) ({', '.join(branch) or 'none'}); "
                       f"{need} on separate days required{besides}", ev)
    return _result("diagnostic_blocks", "met",
                   f"{len(branch)} diagnostic blocks on separate days before the ablation: {', '.join(branch)}{besides}",
                   ev)


def _best_relief(block: BlockRecord) -> tuple[Fact, ExtractedDocument] | None:
    """The block's highest relief; one the note states outranks one worked out from its pain scores
    (those may only be there to say how long the stated relief held)."""
    stated = [pair for pair in block.reliefs if pair[0].pattern_id != DERIVED_RELIEF] or block.reliefs
    return max(stated, key=lambda x: x[0].value["percent"], default=None)


@criterion("block_relief")
def block_relief(case, rfa, blocks, profile) -> dict:
    need = float(profile["relief_threshold"])
    used = used_blocks(blocks, profile)
    if not used:
        return _result("block_relief", "missing", "no diagnostic block with a relief result")
    parts, ev, status = [], [], "met"
    for block in used:
        best = _best_relief(block)
        if best is None:
            status = "missing" if status == "met" else status
            parts.append(f"{block.date}: relief not documented")
            continue
        pct = best[0].value["percent"]
        ev.append(evidence_of(*best))
        parts.append(f"{block.date}: {pct:g}%")
        if pct < need:
            status = "not_met"
    return _result("block_relief", status, f"relief per block ({need:g}% required): " + "; ".join(parts), ev)


@criterion("block_anesthetic_only")
def block_anesthetic_only(case, rfa, blocks, profile) -> dict:
    used = used_blocks(blocks, profile)
    if not used:
        return _result("block_anesthetic_only", "missing", "no diagnostic block documented")
    sides = {s for s in ("left", "right") if rfa.joints.get(s)}
    with_steroid = [(b, steroids) for b in used if (steroids := b.steroids_on(sides))]
    if with_steroid and profile["steroid_in_block"] != "allow":
        ev = [evidence_of(f, d) for _, steroids in with_steroid for f, d in steroids]
        names = ", ".join(sorted({f.value.get("agent") or "steroid" for _, steroids in with_steroid
                                  for f, _ in steroids}))
        status = "not_met" if profile["steroid_in_block"] == "fail" else "met"
        risk = "" if status == "not_met" else " (flagged as a risk by this profile)"
        return _result("block_anesthetic_only", status,
                       f"block(s) of {', '.join(b.date for b, _ in with_steroid)} included a steroid ({names}){risk}",
                       ev)
    unknown = [b for b in used if not b.agents and not b.no_steroid]
    ev = [e for b in used for e in b.evidence(("anesthetic", "no_steroid"))]
    if unknown:
        return _result("block_anesthetic_only", "missing",
                       f"the injectate of the block(s) of {', '.join(b.date for b in unknown)} is not documented", ev)
    return _result("block_anesthetic_only", "met", "the blocks used local anesthetic only, no steroid", ev)


def _hours(relief: Fact, need_pct: float, doc: ExtractedDocument) -> float | None:
    """How long a relief is known to have lasted: its duration, or the time a diary row
    ("4 h | 90%") or "90% at 4 h" read it at, when it was still at the threshold then.
    A figure measured at a time ("100% better at 1 hr") held at least until then."""
    at = read_at_hours(relief, doc) if relief.value["percent"] >= need_pct else None
    return max(relief.value.get("duration_hours") or 0, at or 0) or None


def _ended_early(block: BlockRecord, longest: Fact, need_pct: float, expected: float) -> bool:
    """The relief is known to have ended before the anesthetic's expected duration: the note says
    how long it lasted, or a later reading under the threshold comes within that time. A reading
    at 30 minutes alone ("NRS 1/10 at 30 min") shows it held that long, not that it stopped."""
    if longest.value.get("duration_hours"):
        return True
    read_at = longest.value.get("at_hours") or 0
    fell = [f.value["at_hours"] for f, _ in block.reliefs
            if f.value.get("at_hours") is not None and f.value["at_hours"] > read_at and f.value["percent"] < need_pct]
    return bool(fell) and min(fell) <= expected


@criterion("relief_duration")
def relief_duration(case, rfa, blocks, profile) -> dict:
    need_pct = float(profile["relief_threshold"])
    hours_for = codes()["anesthetic_hours"]
    used = used_blocks(blocks, profile)
    if not used:
        return _result("relief_duration", "missing", "no diagnostic block documented")
    parts, ev, status = [], [], "met"
    for block in used:
        agents = {f.value.get("agent") for f, _ in block.agents if f.value.get("agent")}
        if not agents:
            status = "missing" if status == "met" else status
            parts.append(f"{block.date}: anesthetic not documented")
            continue
        expected = max(hours_for.get(a, 1.0) for a in agents)
        good = [(f, d) for f, d in block.reliefs if f.value["percent"] >= need_pct]
        # Duration is its own rule: when no relief at the threshold says how
        # long it lasted, the relief that does say so is judged.
        if not any(_hours(f, need_pct, d) or f.value.get("expected_duration") for f, d in good):
            good = list(block.reliefs)
        lasting = [(f, d) for f, d in good if f.value.get("expected_duration")
                   or (_hours(f, need_pct, d) or 0) >= expected]
        timed = [(f, d) for f, d in good if _hours(f, need_pct, d)]
        ev.extend(evidence_of(f, d) for f, d in block.agents[:1])
        if lasting:
            ev.append(evidence_of(*lasting[0]))
            parts.append(f"{block.date}: relief lasted as expected for {'/'.join(sorted(agents))} ({expected:g} h)")
        elif timed:
            longest = max(timed, key=lambda x: _hours(x[0], need_pct, x[1]))
            ev.append(evidence_of(*longest))
            held = _hours(longest[0], need_pct, longest[1])
            if _ended_early(block, longest[0], need_pct, expected):
                status = "not_met"
                parts.append(f"{block.date}: relief lasted {held:g} h, "
                             f"less than the {expected:g} h expected of {'/'.join(sorted(agents))}")
            else:
                status = "missing" if status == "met" else status
                parts.append(f"{block.date}: relief was still {longest[0].value['percent']:g}% at {held:g} h; "
                             "how long it lasted is not documented")
        else:
            status = "missing" if status == "met" else status
            parts.append(f"{block.date}: how long the relief lasted is not documented")
    return _result("relief_duration", status, "; ".join(parts), ev)


@criterion("imaging_guidance")
def imaging_guidance(case, rfa, blocks, profile) -> dict:
    # The day's other notes of the ablation too: an anesthesia record can stand for the
    # session (it names the joints) while the operative note says "under fluoroscopic guidance".
    docs = [rfa.document] + [s.doc for s in case.ordered() if s.session is not None and s.doc is not rfa.document
                             and s.session.procedure == rfa.procedure and s.date == rfa.date]
    found = [(f, doc) for doc in docs for f in session_imaging(doc)]
    qualifying = [(f, doc) for f, doc in found if f.value in ("fluoroscopy", "ct")]
    if qualifying:
        return _result("imaging_guidance", "met", f"the ablation was done under {qualifying[0][0].value}",
                       [evidence_of(f, doc) for f, doc in qualifying[:3]])
    if found:
        return _result("imaging_guidance", "not_met", "the ablation was guided by ultrasound only, which does not qualify",
                       [evidence_of(f, doc) for f, doc in found[:3]])
    return _result("imaging_guidance", "missing", "the ablation note does not state fluoroscopic or CT guidance")


@criterion("levels_consistent")
def levels_consistent(case, rfa, blocks, profile) -> dict:
    used = [b for b in used_blocks(blocks, profile) if b.joints is not None]
    if not used:
        return _result("levels_consistent", "missing", "the levels of the diagnostic blocks are not documented")
    ev = list(rfa.evidence[:4])
    for block in used:
        ev.extend(block.level_evidence())
    for side in ("left", "right"):
        if not rfa.joints[side]:
            continue
        tested = _blocks_of_side(blocks, used, side, profile)
        if len(tested) < len(used):
            return _result("levels_consistent", "not_met",
                           f"the {side} side ablated was tested by {len(tested)} of the {len(used)} blocks", ev)
        for block in tested:
            extra = set(rfa.joints[side]) - set(block.joints[side])
            if extra:
                return _result("levels_consistent", "not_met",
                               f"{side} {', '.join(sorted(extra))} ablated but not tested by the block of {block.date}", ev)
    return _result("levels_consistent", "met", "every joint and side ablated was tested by the diagnostic blocks", ev)


def _blocks_of_side(blocks: list[BlockRecord], used: list[BlockRecord], side: str, profile: dict) -> list[BlockRecord]:
    """The blocks that tested one side: the blocks the criteria read, unless one of them treated only the
    other side (a first block done one side a day, "left on Monday, right on Wednesday"); then the
    last blocks of that side's own."""
    if all(b.joints[side] for b in used):
        return used
    return used_blocks([b for b in blocks if b.joints is not None and b.joints[side]], profile)


def evaluate(case: Case, rfa: Session, profile: dict, blocks: list[BlockRecord] | None = None) -> list[dict]:
    """All criteria the profile names, for one ablation session.

    `blocks` are the case's blocks before the ablation (collect_blocks), when
    the caller already has them.
    """
    if blocks is None:
        blocks = collect_blocks(case, before=rfa.date)
    blocks = blocks_for(rfa, blocks)
    return [CRITERIA[cid](case, rfa, blocks, profile) for cid in profile["criteria"]]


def blocks_for(rfa: Session, blocks: list[BlockRecord]) -> list[BlockRecord]:
    """The blocks that can qualify an ablation: a patient treated in two regions has a cervical
    ablation judged on the cervical blocks (a block of unknown region counts for either). A block
    session that treated both regions counts as its part in the ablation's region."""
    return [b for b in (_part_in(b, rfa.region) for b in blocks)
            if b.region is None or rfa.region is None or b.region == rfa.region]


def _part_in(block: BlockRecord, region: str | None) -> BlockRecord:
    if block.session is None or block.session.region is not None or region is None:
        return block
    part = next((p for p in by_region(block.session) if p.region == region), None)
    return block if part is None else dataclasses.replace(block, session=part)

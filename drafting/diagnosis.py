"""Stage 5: diagnosis codes for a claim - written codes first, else a suggestion from words."""
from __future__ import annotations

from drafting.sessions import Session, evidence_of
from drafting.tables import codes

__all__ = ["diagnoses_for"]


def diagnoses_for(session: Session) -> list[dict]:
    """ICD-10-CM codes written in the session's note; else one suggested from the words or region."""
    doc = session.document
    if doc is None:
        return []
    written, seen = [], set()
    for fact in doc.facts:
        if fact.kind == "diagnosis" and fact.value.get("code") and not fact.negated and fact.value["code"] not in seen:
            seen.add(fact.value["code"])
            written.append({"code": fact.value["code"], "suggested": False, "evidence": [evidence_of(fact, doc)]})
    if written:
        return written
    table = codes()["diagnosis_words"]
    words = [f for f in doc.facts if f.kind == "diagnosis" and f.value.get("words") and not f.negated
             and f.value.get("category", "facet") == "facet"]
    for fact in words:
        region = next((r for r in ("lumbosacral", "lumbar", "cervical", "thoracic") if r in fact.value["words"]), None)
        if region is None:
            region = "cervical" if session.region == "cervical_thoracic" else "lumbar"
        entry = table[region]
        return [{"code": entry["code"], "suggested": True, "label": entry["label"], "evidence": [evidence_of(fact, doc)]}]
    return []

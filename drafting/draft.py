"""Stage 5: documents -> cases -> claims with lines, criteria and gaps (the output contract).

`draft_documents` is the one entry point the CLI, the drop folder and the
review page share, so all of them print the same claims for the same notes.
"""
from __future__ import annotations

from pathlib import Path

from extractor.errors import IngestError
from extractor.facts import ExtractedDocument

from drafting.blocks import BlockRecord, collect_blocks
from drafting.cases import Case, group_cases
from drafting.claims import claim_lines
from drafting.criteria import blocks_for, evaluate, used_blocks
from drafting.diagnosis import diagnoses_for
from drafting.queries import documentation_queries
from drafting.sessions import Session, by_region, one_per_day, summarise_all
from drafting.tables import load_profile

__all__ = ["draft_documents", "extract_all", "expand_paths", "DOCUMENT_SUFFIXES"]

DOCUMENT_SUFFIXES = {".txt", ".md", ".pdf"}


def expand_paths(paths: list[str], errors: list[dict] | None = None) -> list[Path]:
    """Files named, and the documents inside folders named, in a stable order.

    A document inside a named folder that a symbolic link leads out of that
    folder is left out, with an E010 entry in `errors` when a list is given.
    """
    from extractor.errors import Messages
    from extractor.ingest import outside_inbox

    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            out.append(path)
            continue
        for p in sorted(path.rglob("*")):
            if p.suffix.lower() not in DOCUMENT_SUFFIXES or any(
                    part.startswith(".") for part in p.relative_to(path).parts):
                continue
            if outside_inbox(p, path):
                if errors is not None:
                    errors.append({"path": str(p), "error": Messages.E010})
                continue
            if p.is_file():
                out.append(p)
    return out


def extract_all(paths: list[Path]) -> tuple[list[ExtractedDocument], list[dict]]:
    """Extract every document; a document that cannot be read becomes an error entry."""
    from extractor.pipeline import extract_path

    docs, errors = [], []
    for path in paths:
        try:
            docs.append(extract_path(str(path)))
        except IngestError as exc:
            errors.append({"path": str(path), "error": exc.message})
    return docs, errors


def _claim(case: Case, session: Session, setting: str, profile: dict, all_blocks: list[BlockRecord]) -> dict:
    claim = {
        "date_of_service": session.date,
        "procedure": session.procedure,
        "region": session.region,
        "joints": {s: list(session.joints[s]) for s in ("left", "right")},
        "lines": claim_lines(session, setting, profile),
        "diagnoses": diagnoses_for(session),
        "document": session.document.path if session.document else None,
        "evidence": session.evidence[:12],
        "gaps": list(session.gaps),
        "conflicts": list(session.conflicts),
    }
    for line in claim["lines"]:
        line["evidence"] = [e for e in session.evidence if e.get("kind") in ("level", "procedure")][:8]
    if session.procedure == "facet_rfa":
        blocks = blocks_for(session, collect_blocks(case, before=session.date))
        criteria = evaluate(case, session, profile, blocks)
        claim["criteria"] = criteria
        claim["queries"] = documentation_queries(criteria, [b.date for b in used_blocks(blocks, profile)])
        ready = all(c["status"] == "met" for c in criteria)
    else:
        record = next((b for b in all_blocks if b.date == session.date), None)
        claim["block_result"] = _block_result(record)
        ready = True
    ready = ready and not claim["gaps"] and not claim["conflicts"] and bool(claim["lines"])
    claim["status"] = "ready" if ready else "needs_review"
    return claim


def _block_result(record: BlockRecord | None) -> dict | None:
    """Agent, steroid and relief of one block, as the case's notes report them."""
    if record is None:
        return None
    best = max((f.value for f, _ in record.reliefs), key=lambda v: v["percent"], default=None)
    return {
        "anesthetics": sorted({f.value["agent"] for f, _ in record.agents if f.value.get("agent")}),
        "steroid": sorted({f.value["agent"] for f, _ in record.steroids}) or None,
        "relief_percent": best["percent"] if best else None,
        "relief_hours": best["duration_hours"] if best else None,
        "evidence": record.evidence(("anesthetic", "steroid", "relief"))[:8],
    }


def _document_list(case: Case) -> list[dict]:
    """Each file once; a procedure log (several dated entries, `sessions.entries`) lists its entries."""
    listed: dict[str, dict] = {}
    for d in case.ordered():
        if d.doc.path in listed:
            entry = listed[d.doc.path]
            if "entries" not in entry:
                entry["entries"] = [{"date": entry["date"], "kind": entry["kind"]}]
                entry["kind"] = "procedure_log"
            entry["entries"].append({"date": d.date, "kind": d.kind})
            continue
        listed[d.doc.path] = {"path": d.doc.path, "sha256": d.doc.sha256, "kind": d.kind, "date": d.date,
                              "pages": d.doc.source.page_count or None, "warnings": list(d.doc.warnings)}
    return list(listed.values())


def draft_case(case: Case, setting: str, profile: dict) -> dict:
    all_blocks = collect_blocks(case)
    ordered = case.ordered()
    warnings = [w for summary in ordered for w in summary.warnings]
    claims = [_claim(case, part, setting, profile, all_blocks) for s in one_per_day(ordered) for part in by_region(s)]
    return {
        "case_id": case.case_id,
        "patient": case.patient,
        "documents": _document_list(case),
        "claims": claims,
        "warnings": warnings,
        "errors": [],
    }


def draft_documents(docs: list[ExtractedDocument], setting: str = "office", profile_name: str = "default",
                    errors: list[dict] | None = None) -> dict:
    """The contract JSON for a set of extracted documents."""
    profile = load_profile(profile_name)
    cases = group_cases(summarise_all(docs))
    return {"setting": setting, "profile": profile_name,
            "cases": [draft_case(c, setting, profile) for c in cases], "errors": list(errors or [])}

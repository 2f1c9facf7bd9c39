"""Stage 6: a drafted case -> one medical-necessity letter per ablation claim (markdown and HTML).

The letter states each coverage criterion only as the record supports it:
`met` and `not_met` criteria give the drafted reason and cite every evidence
span (document file name, page, quoted text); a `missing` criterion is shown
as a visible ``[MISSING: ... — documentation requested]`` gap, never filled
in. Every value the templates print is computed here; the templates
(templates/letter.md.j2, templates/letter.html.j2) only loop and branch.
"""
from __future__ import annotations

import re
from pathlib import PurePath

from drafting.templating import render

__all__ = ["render_letters", "letter_context", "us_date", "gap", "CRITERION_TITLES", "TEMPLATES"]

TEMPLATES = {"md": "letter.md.j2", "html": "letter.html.j2"}
ADDRESSEE = "Utilization Review Department"

CRITERION_TITLES = {
    "conservative_care": "Failed conservative treatment",
    "pain_duration": "Duration of pain",
    "pain_scale": "Pain severity on a standardized scale before the ablation",
    "functional_impairment": "Functional impairment",
    "diagnostic_blocks": "Diagnostic medial branch blocks on separate days",
    "block_relief": "Relief of the index pain after each diagnostic block",
    "block_anesthetic_only": "Local anesthetic only (no steroid) in the diagnostic blocks",
    "relief_duration": "Duration of relief consistent with the anesthetic used",
    "imaging_guidance": "Imaging guidance of the ablation",
    "levels_consistent": "Joints ablated were tested by the diagnostic blocks",
}
_STATUS_LABELS = {"met": "Met", "not_met": "Not met", "missing": "Missing"}
_SEVERITY_LABELS = {"blocks_submission": "needed before submission", "worth_fixing": "recommended"}
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_SPACES = re.compile(r"\s+")


def us_date(iso: str | None) -> str | None:
    """'2025-10-08' -> '10/08/2025'; None stays None."""
    if not iso:
        return None
    m = _ISO_DATE.fullmatch(iso)
    return f"{m.group(2)}/{m.group(3)}/{m.group(1)}" if m else iso


def _us_dates_in(text: str) -> str:
    """Every ISO date inside a sentence written as MM/DD/YYYY."""
    return _ISO_DATE.sub(lambda m: f"{m.group(2)}/{m.group(3)}/{m.group(1)}", text or "")


def gap(what: str) -> str:
    """The visible placeholder for a fact the record does not give."""
    return f"[MISSING: {what} — documentation requested]"


def _sentence(text: str) -> str:
    """The drafted reason as a sentence: first letter upper case, no final period (the template adds it)."""
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:]


def _title(cid: str) -> str:
    return CRITERION_TITLES.get(cid, cid.replace("_", " ").capitalize())


def _citations(evidence: list[dict] | None) -> list[dict]:
    """One citation per distinct evidence span, in the order drafted."""
    out, seen = [], set()
    for ev in evidence or []:
        key = (ev.get("document"), ev.get("start"), ev.get("end"))
        if key in seen:
            continue
        seen.add(key)
        page = ev.get("page")
        out.append({"document": PurePath(ev.get("document") or "unknown document").name,
                    "page": f"p. {page}" if page else None,
                    "text": _SPACES.sub(" ", ev.get("text") or "").strip()})
    return out


def _region_words(claim: dict) -> str | None:
    region = claim.get("region")
    if region == "lumbar_sacral":
        return "lumbar"
    if region == "cervical_thoracic":
        heads = {j[:1] for side in ("left", "right") for j in claim.get("joints", {}).get(side, [])}
        if heads == {"T"}:
            return "thoracic"
        return "cervical/thoracic" if "T" in heads else "cervical"
    return None


def _procedure(claim: dict) -> str:
    region = _region_words(claim)
    return f"{region.capitalize()} facet radiofrequency ablation" if region else "Facet radiofrequency ablation"


def _sides(joints: dict) -> list[dict]:
    left, right = list(joints.get("left", [])), list(joints.get("right", []))
    both = [j for j in left if j in right]
    rows = [("Bilateral", both), ("Right", [j for j in right if j not in both]),
            ("Left", [j for j in left if j not in both])]
    return [{"side": side, "joints": ", ".join(js)} for side, js in rows if js]


def _lines(lines: list[dict]) -> list[dict]:
    out = []
    for line in lines:
        mods = list(line.get("modifiers") or [])
        out.append({"code": "-".join([line["cpt"], *mods]), "cpt": line["cpt"],
                    "modifiers": ", ".join(mods) if mods else "none", "units": line["units"],
                    "joints": ", ".join(line.get("joints") or [])})
    return out


def _diagnoses(diagnoses: list[dict]) -> list[dict]:
    return [{"code": d["code"], "label": d.get("label") or "", "suggested": bool(d.get("suggested")),
             "citations": _citations(d.get("evidence"))} for d in diagnoses]


def _criteria(criteria: list[dict]) -> list[dict]:
    out = []
    for number, c in enumerate(criteria, 1):
        status = c["status"]
        reason = _us_dates_in(c.get("reason") or "")
        out.append({"number": number, "id": c["id"], "title": _title(c["id"]), "status": status,
                    "status_label": _STATUS_LABELS.get(status, status),
                    "reason": _sentence(reason) if status != "missing" else "",
                    "gap": gap(reason or "not documented") if status == "missing" else "",
                    "citations": _citations(c.get("evidence"))})
    return out


def _queries(queries: list[dict]) -> list[dict]:
    return [{"title": _title(q["criterion"]), "text": _us_dates_in(q["query"]),
             "severity": _SEVERITY_LABELS.get(q.get("severity"), q.get("severity") or ""),
             "because": _us_dates_in(q.get("because") or "")} for q in queries]


def _patient(patient: dict) -> list[dict]:
    rows = [("Patient", patient.get("name"), "patient name"), ("Date of birth", us_date(patient.get("dob")), "date of birth"),
            ("MRN", patient.get("mrn"), "medical record number")]
    return [{"label": label, "value": value or gap(f"{what} not found in the documents"), "missing": not value}
            for label, value, what in rows]


def letter_context(case: dict, claim: dict) -> dict:
    """Everything letter.md.j2 / letter.html.j2 print for one facet_rfa claim."""
    patient = case.get("patient") or {}
    criteria = _criteria(claim.get("criteria") or [])
    counts = {s: sum(1 for c in criteria if c["status"] == s) for s in ("met", "not_met", "missing")}
    dos = us_date(claim.get("date_of_service"))
    procedure = _procedure(claim)
    sides = _sides(claim.get("joints") or {})
    return {
        "addressee": ADDRESSEE,
        "patient_rows": _patient(patient),
        "patient_name": patient.get("name") or "the patient",
        "procedure": procedure,
        "procedure_lower": procedure[0].lower() + procedure[1:],
        "date_of_service": dos or gap("date of service not found"),
        "date_missing": dos is None,
        "sides": sides,
        "sides_gap": "" if sides else gap("the joints and sides treated are not stated"),
        "lines": _lines(claim.get("lines") or []),
        "lines_gap": "" if claim.get("lines") else gap("no billable joint and side could be drafted"),
        "diagnoses": _diagnoses(claim.get("diagnoses") or []),
        "diagnoses_gap": "" if claim.get("diagnoses") else gap("no diagnosis code or diagnosis wording found"),
        "criteria": criteria,
        "counts": counts,
        "ready": claim.get("status") == "ready",
        "record_gaps": [gap(g["message"]) for g in claim.get("gaps") or []],
        "conflicts": [{"message": c["message"], "citations": _citations(c.get("evidence"))}
                      for c in claim.get("conflicts") or []],
        "queries": _queries(claim.get("queries") or []),
    }


def _letter_stem(claim: dict, taken: set[str]) -> str:
    stem = f"letter-{claim.get('date_of_service') or 'undated'}"
    name, n = stem, 2
    while name in taken:
        name, n = f"{stem}-{n}", n + 1
    taken.add(name)
    return name


def render_letters(case: dict) -> dict[str, str]:
    """``{"letter-<date>.md": text, "letter-<date>.html": html}`` for each facet_rfa claim of `case`.

    Raises:
        TemplateRenderError: a template is missing or uses a value not computed here.
    """
    out, taken = {}, set()
    for claim in case.get("claims") or []:
        if claim.get("procedure") != "facet_rfa":
            continue
        context = letter_context(case, claim)
        stem = _letter_stem(claim, taken)
        for ext, template in TEMPLATES.items():
            out[f"{stem}.{ext}"] = render(template, context)
    return out

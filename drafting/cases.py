"""Stage 4: DocumentSummaries -> patient cases, with sessions ordered in time.

Documents join one case when their MRNs match, or, without an MRN on one
side, when their birth dates match and their names are alike (rapidfuzz);
two different MRNs or two different birth dates never join.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz

from drafting.sessions import DocumentSummary

__all__ = ["Case", "group_cases", "NAME_SIMILARITY"]

NAME_SIMILARITY = 85  # rapidfuzz token_sort_ratio on "first last"


@dataclass
class Case:
    documents: list[DocumentSummary] = field(default_factory=list)

    @property
    def patient(self) -> dict:
        names = [d.name for d in self.documents if d.name]
        # The fullest written form (with a middle initial) is the one to show.
        best = max(names, key=lambda n: (bool(n.get("middle")), len(n.get("middle", ""))), default=None)
        name = None
        if best:
            middle = f" {best['middle']}." if len(best.get("middle", "")) == 1 else (f" {best['middle']}" if best.get("middle") else "")
            name = f"{best['first']}{middle} {best['last']}"
        return {"name": name, "dob": _most_common([d.dob for d in self.documents]),
                "mrn": _most_common([d.mrn for d in self.documents])}

    @property
    def case_id(self) -> str:
        p = self.patient
        key = p["mrn"] or (p["name"] or "unknown").replace(" ", "_").replace(".", "")
        return f"{key}-{p['dob'] or 'nodob'}"

    def ordered(self) -> list[DocumentSummary]:
        return sorted(self.documents, key=lambda d: (d.date or "9999", d.doc.path))


def _most_common(values: list) -> str | None:
    values = [v for v in values if v]
    return max(set(values), key=values.count) if values else None


def _name_key(name: dict | None) -> str:
    return f"{name['first']} {name['last']}".lower() if name else ""


def _same_patient(a: DocumentSummary, b: DocumentSummary) -> bool | None:
    """True, False, or None when the documents do not say enough."""
    if a.mrn and b.mrn:
        return a.mrn.lstrip("0") == b.mrn.lstrip("0")
    if a.dob and b.dob and a.dob != b.dob:
        return False
    if a.name and b.name:
        similar = fuzz.token_sort_ratio(_name_key(a.name), _name_key(b.name)) >= NAME_SIMILARITY
        if a.dob and b.dob:
            return similar
        return similar and a.name["last"].lower() == b.name["last"].lower()
    return None


def group_cases(summaries: list[DocumentSummary]) -> list[Case]:
    """Group documents by patient; a document that names nobody joins the only case, if there is one."""
    cases: list[Case] = []
    anonymous: list[DocumentSummary] = []
    for summary in summaries:
        if not (summary.name or summary.mrn or summary.dob):
            anonymous.append(summary)
            continue
        home = None
        for case in cases:
            verdicts = [_same_patient(summary, other) for other in case.documents]
            if any(v is False for v in verdicts):
                continue
            if any(v for v in verdicts):
                home = case
                break
        if home is None:
            home = Case()
            cases.append(home)
        home.documents.append(summary)
    for summary in anonymous:
        if len(cases) == 1:
            cases[0].documents.append(summary)
        else:
            cases.append(Case([summary]))
    return cases

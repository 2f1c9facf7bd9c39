"""Stage 4: DocumentSummaries -> patient cases, with sessions ordered in time.

Documents join one case when their MRNs match, or, without an MRN on one
side, when their birth dates match and their names are alike (rapidfuzz);
two different birth dates never join, nor do two different MRNs, except
that another practice's letter gives its own chart number (`_letter_from_elsewhere`).

Grouping only reads `name`, `dob`, `mrn` (and `letter`, where an object has
it), so it takes any objects with those attributes: the drop folder groups
small identity records (no text, no facts) and drafts each case's documents
later, one case at a time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from rapidfuzz import fuzz

if TYPE_CHECKING:  # annotations only: the drop folder's parent groups cases without loading spaCy
    from drafting.sessions import DocumentSummary

__all__ = ["Case", "Identity", "group_cases", "NAME_SIMILARITY"]

NAME_SIMILARITY = 85  # rapidfuzz token_sort_ratio on "first last"


class Identity(Protocol):
    """What grouping reads of a document (a `DocumentSummary` is one)."""

    name: dict | None
    dob: str | None
    mrn: str | None
    # (optional) True for a letter, whose chart number may be its writer's practice's


@dataclass
class Case:
    documents: list[DocumentSummary] = field(default_factory=list)
    # Each document's segments by id(document), kept for the case's life: its blocks are
    # collected once for the case and again for each ablation (drafting/blocks.py).
    segments: dict[int, tuple] = field(default_factory=dict, repr=False, compare=False)

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
    """The most frequent value; of equally frequent ones the smallest, so every process picks the same."""
    values = [v for v in values if v]
    return max(sorted(set(values)), key=values.count) if values else None


def _name_key(name: dict | None) -> str:
    return f"{name['first']} {name['last']}".lower() if name else ""


def _same_patient(a: Identity, b: Identity) -> bool | None:
    """True, False, or None when the documents do not say enough."""
    if a.mrn and b.mrn:
        if _mrn_key(a.mrn) == _mrn_key(b.mrn):
            return True
        return _letter_from_elsewhere(a, b)
    if a.dob and b.dob and a.dob != b.dob:
        return False
    if a.name and b.name:
        similar = fuzz.token_sort_ratio(_name_key(a.name), _name_key(b.name)) >= NAME_SIMILARITY
        if a.dob and b.dob:
            return similar or _surname_joined(a.name, b.name)
        return similar and a.name["last"].lower() == b.name["last"].lower()
    return None


def _letter_from_elsewhere(a: Identity, b: Identity) -> bool:
    """Another practice's letter ("RE: Leonard J. Pasternak / DOB 09/08/1959 / Chart #55102")
    numbers the patient in its own chart: with the same birth date, and the same first and last
    name (middle names agreeing where both give one), it is the patient's, whatever the number.
    Two notes of one practice with two numbers stay two patients."""
    if not (getattr(a, "letter", False) or getattr(b, "letter", False)):
        return False
    if not (a.dob and a.dob == b.dob and a.name and b.name):
        return False
    x, y = a.name, b.name
    if ((x.get("first") or "").lower(), (x.get("last") or "").lower()) != (
            (y.get("first") or "").lower(), (y.get("last") or "").lower()):
        return False
    mx, my = (x.get("middle") or "").lower(), (y.get("middle") or "").lower()
    return not (mx and my and mx[0] != my[0])


def _surname_joined(a: dict, b: dict) -> bool:
    """Same first name, and one surname is part of the other's hyphenated one ("Anne Whitfield" and
    "Anne Whitfield-Carter": a name taken at marriage). Only ever asked with equal birth dates."""
    first = (a.get("first") or "").lower()
    if not first or first != (b.get("first") or "").lower():
        return False
    la, lb = (a.get("last") or "").lower(), (b.get("last") or "").lower()
    return la != lb and (la in lb.split("-") or lb in la.split("-"))


def _mrn_key(mrn: str) -> str:
    return mrn.lstrip("0")


def _last_key(name: dict | None) -> str | None:
    return (name.get("last") or "").lower() if name else None


class _Index:
    """Where a document may find a case that `_same_patient` says True for.

    True needs one of: the same MRN (both have one); or, with an MRN missing on
    one side, alike names and either the same birth date or (a birth date
    missing on one side) the same last name. So a case can only take a
    document if one of its documents shares the document's MRN, birth date or
    last name: each key maps to the cases (by number) that hold it. Documents
    without an MRN are also indexed apart, for documents with one (two MRNs
    decide on their own), and so are letters with one, whose number may be
    another practice's (same birth date and name).
    """

    def __init__(self) -> None:
        self.mrn: dict[str, set[int]] = {}
        self.dob: dict[str, set[int]] = {}
        self.last: dict[str, set[int]] = {}
        self.dob_no_mrn: dict[str, set[int]] = {}
        self.last_no_mrn: dict[str, set[int]] = {}
        self.dob_letter: dict[str, set[int]] = {}  # letters with an MRN, by birth date

    def add(self, doc: Identity, case_no: int) -> None:
        last = _last_key(doc.name)
        if doc.mrn:
            self.mrn.setdefault(_mrn_key(doc.mrn), set()).add(case_no)
        if doc.dob:
            self.dob.setdefault(doc.dob, set()).add(case_no)
            if not doc.mrn:
                self.dob_no_mrn.setdefault(doc.dob, set()).add(case_no)
            elif getattr(doc, "letter", False):
                self.dob_letter.setdefault(doc.dob, set()).add(case_no)
        if last is not None:
            self.last.setdefault(last, set()).add(case_no)
            if not doc.mrn:
                self.last_no_mrn.setdefault(last, set()).add(case_no)

    def candidates(self, doc: Identity) -> list[int]:
        """Numbers of the cases that may hold a document `_same_patient` says True for, in order."""
        empty: set[int] = set()
        last = _last_key(doc.name)
        found = set(self.mrn.get(_mrn_key(doc.mrn), empty)) if doc.mrn else set()
        if doc.name:  # a True without equal MRNs needs names on both sides
            dob_index, last_index = (self.dob_no_mrn, self.last_no_mrn) if doc.mrn else (self.dob, self.last)
            if doc.dob:
                found |= dob_index.get(doc.dob, empty)
                if doc.mrn:  # two numbers join only where one document is a letter (same birth date)
                    found |= (self.dob if getattr(doc, "letter", False) else self.dob_letter).get(doc.dob, empty)
            found |= last_index.get(last, empty)
        return sorted(found)


def _mrn_first(case_nos: list[int], index: _Index, doc: Identity) -> list[int]:
    """The cases holding the document's MRN before the others (which another practice's letter
    may have opened): the same number is the stronger tie."""
    if not doc.mrn:
        return case_nos
    same = index.mrn.get(_mrn_key(doc.mrn), set())
    return sorted(case_nos, key=lambda n: n not in same)


def group_cases(summaries: list[Identity]) -> list[Case]:
    """Group documents by patient; a document that names nobody joins the only case, if there is one.

    Each document joins the first case (in the order cases were opened, those
    that hold its MRN first) where no document says "another patient" and at
    least one says "same patient" (`_same_patient`), else opens a new case.
    Only cases that share an MRN, birth date or last name with it are checked
    (`_Index`), which gives the same cases as checking every case, without
    comparing every pair.
    """
    cases: list[Case] = []
    index = _Index()
    anonymous: list[Identity] = []
    for summary in summaries:
        if not (summary.name or summary.mrn or summary.dob):
            anonymous.append(summary)
            continue
        home = None
        for case_no in _mrn_first(index.candidates(summary), index, summary):
            verdicts = [_same_patient(summary, other) for other in cases[case_no].documents]
            if any(v is False for v in verdicts):
                continue
            if any(v for v in verdicts):
                home = case_no
                break
        if home is None:
            home = len(cases)
            cases.append(Case())
        cases[home].documents.append(summary)
        index.add(summary, home)
    for summary in anonymous:
        if len(cases) == 1:
            cases[0].documents.append(summary)
        else:
            cases.append(Case([summary]))
    return cases

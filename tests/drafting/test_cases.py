"""Case grouping (drafting/cases.py): the indexed `group_cases` gives the cases the all-pairs rule gives.

`reference_group_cases` is the grouping as it was before the index (each
document checked against every case opened so far). The indexed version must
put the same documents in the same cases, in the same order, on random
identities built to collide (shared birth dates, last names, MRNs written
with and without leading zeros, missing fields) and on the corpus documents
with copies that change or drop their MRN and birth date. Failure messages
give positions, never names.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from drafting.cases import Case, _most_common, _same_patient, group_cases
from drafting.sessions import summarise

REPO = Path(__file__).resolve().parents[2]
CORPUS_DOCS = sorted((REPO / "corpus").glob("*/docs"))


@dataclass
class Person:
    name: dict | None
    dob: str | None
    mrn: str | None


@dataclass
class Letter(Person):
    letter: bool = False


def reference_group_cases(summaries) -> list[Case]:
    """The all-pairs grouping (before the index): quadratic in the number of documents."""
    cases: list[Case] = []
    anonymous = []
    for summary in summaries:
        if not (summary.name or summary.mrn or summary.dob):
            anonymous.append(summary)
            continue
        home = None
        holds_mrn = [any(d.mrn and summary.mrn and d.mrn.lstrip("0") == summary.mrn.lstrip("0") for d in c.documents)
                     for c in cases]
        for case in [c for c, held in zip(cases, holds_mrn) if held] + [c for c, held in zip(cases, holds_mrn) if not held]:
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


def positions(cases: list[Case], docs: list) -> list[list[int]]:
    at = {id(d): i for i, d in enumerate(docs)}
    return [[at[id(d)] for d in case.documents] for case in cases]


FIRSTS = ["Robert", "Rob", "Roberta", "Ann", "Anne", "Maria", "Mario", "Li"]
LASTS = ["Alvarez", "ALVAREZ", "Alvares", "Nguyen", "Ngyuen", "Smith", "Li"]
MIDDLES = ["", "J", "James"]
DOBS = ["1953-01-19", "1961-03-14", "1970-07-07"]
MRNS = ["4455123", "004455123", "4455124", "0000001", "1", "900"]


def random_people(rng: random.Random, n: int) -> list[Person]:
    people = []
    for _ in range(n):
        name = None
        if rng.random() < 0.85:
            name = {"first": rng.choice(FIRSTS), "last": rng.choice(LASTS)}
            middle = rng.choice(MIDDLES)
            if middle:
                name["middle"] = middle
        dob = rng.choice(DOBS) if rng.random() < 0.6 else None
        mrn = rng.choice(MRNS) if rng.random() < 0.5 else None
        people.append(Person(name, dob, mrn))
    return people


@pytest.mark.parametrize("seed", range(40))
def test_indexed_grouping_matches_all_pairs_on_random_identities(seed):
    people = random_people(random.Random(seed), 120)
    got, want = group_cases(people), reference_group_cases(people)
    assert positions(got, people) == positions(want, people)
    assert [c.case_id for c in got] == [c.case_id for c in want]


def test_indexed_grouping_matches_all_pairs_on_corpus_documents(extract_file):
    docs = [extract_file(p) for folder in CORPUS_DOCS for p in sorted(folder.iterdir())
            if p.suffix.lower() in {".txt", ".pdf"}]
    assert docs, "no corpus documents"
    base = [summarise(d) for d in docs]
    # Copies as the drop folder meets them: each with a new MRN, without an MRN, without a birth date.
    people = [Person(s.name, s.dob, s.mrn) for s in base]
    for k in range(3):
        people += [Person(s.name, s.dob, f"{7_000_000 + 100 * k + i:08d}" if s.mrn else None)
                   for i, s in enumerate(base)]
    people += [Person(s.name, s.dob, None) for s in base]
    people += [Person(s.name, None, s.mrn) for s in base]
    for group in (base, people):
        got, want = group_cases(group), reference_group_cases(group)
        assert positions(got, group) == positions(want, group)
        assert [c.case_id for c in got] == [c.case_id for c in want]
    assert len(group_cases(base)) >= len(CORPUS_DOCS) - 2  # one case per corpus case, give or take distractors


def test_two_mrns_of_two_notes_never_join_even_with_the_same_name_and_birth_date():
    a = Person({"first": "Robert", "last": "Alvarez"}, "1953-01-19", "1")
    b = Person({"first": "Robert", "last": "Alvarez"}, "1953-01-19", "2")
    c = Person({"first": "Robert", "last": "Alvarez"}, "1953-01-19", None)
    assert positions(group_cases([a, b, c]), [a, b, c]) == [[0, 2], [1]]


@pytest.mark.parametrize("letter_name, dob, joins", [
    ({"first": "Leonard", "middle": "J", "last": "Pasternak"}, "1959-09-08", True),
    ({"first": "LEONARD", "last": "PASTERNAK"}, "1959-09-08", True),           # no middle on one side
    ({"first": "Leonard", "middle": "K", "last": "Pasternak"}, "1959-09-08", False),  # another middle initial
    ({"first": "Leon", "last": "Pasternak"}, "1959-09-08", False),             # another first name
    ({"first": "Leonard", "middle": "J", "last": "Pasternak"}, "1959-09-09", False),  # another birth date
])
def test_another_practices_letter_joins_with_its_own_chart_number(letter_name, dob, joins):
    """An outside practice's summary letter ("RE: Leonard J. Pasternak / DOB / Chart #55102") numbers the
    patient in its own chart; the same name and birth date make it the patient's all the same."""
    ours = Person({"first": "Leonard", "middle": "J", "last": "Pasternak"}, "1959-09-08", "7730214")
    letter = Letter(letter_name, dob, "55102", letter=True)
    later = Person({"first": "Leonard", "last": "Pasternak"}, "1959-09-08", "7730214")
    for order in ([ours, letter, later], [letter, ours, later]):
        expected = [[0, 1, 2]] if joins else [[i for i, p in enumerate(order) if p is not letter],
                                               [order.index(letter)]]
        got = positions(group_cases(order), order)
        assert sorted(got) == sorted(expected)
        assert positions(reference_group_cases(order), order) == got


def test_most_common_breaks_ties_by_the_smallest_value():
    assert _most_common(["0012", "12", None]) == "0012"
    assert _most_common(["12", "0012"]) == "0012"
    assert _most_common(["b", "a", "b"]) == "b"
    assert _most_common([None, ""]) is None


@pytest.mark.parametrize("later, dob, joins", [
    ({"first": "Anne", "last": "Whitfield-Carter"}, "1979-02-05", True),   # a name taken at marriage
    ({"first": "Anne", "last": "Whitfield-Carter"}, "1979-02-06", False),  # another birth date: another person
    ({"first": "Grace", "last": "Whitfield-Carter"}, "1979-02-05", False),  # another first name
])
def test_a_hyphenated_married_surname_joins_on_the_same_birth_date(later, dob, joins):
    a = Person({"first": "Anne", "middle": "M", "last": "Whitfield"}, "1979-02-05", "LPS-0047731")
    b = Person(later, dob, None)
    expected = [[0, 1]] if joins else [[0], [1]]
    assert positions(group_cases([a, b]), [a, b]) == expected
    assert positions(reference_group_cases([a, b]), [a, b]) == expected

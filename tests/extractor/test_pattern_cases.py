"""Pattern cases as data (tests/cases/*.yml), sqlfluff-style, and pattern-id coverage.

Every case runs the whole extractor on one made-up sentence and checks the
facts it must find (`expect`), the facts it must not find (`absent`) and,
for rules that only feed other facts (durations, skin-local words, header
cues), the rule spans it must produce (`spans`). A case with `xfail: <reason>`
documents a known product bug and runs as xfail(strict=True).

`test_every_pattern_id_is_hit` asserts that every id in
extractor/patterns/*.jsonl is named by a passing case and really produced
there, so a new pattern cannot land without a case.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from assertions import assert_fact, value_matches
from extractor.nlp import RESOLVED
from extractor.patterns import PATTERN_DIR, load_patterns
from extractor.pipeline import nlp_text

CASES_DIR = Path(__file__).resolve().parents[1] / "cases"
FAMILIES = ("clinical", "dates", "drugs", "header", "levels", "procedures", "relief", "sides")
FLAGS = ("negated", "hypothetical", "historical")
FILE_KEYS = {"label", "cases"}
CASE_KEYS = {"name", "text", "expect", "absent", "spans", "xfail"}
EXPECT_KEYS = {"kind", "text", "pattern_id", "value", *FLAGS}
ABSENT_KEYS = {"kind", "text"}
SPAN_KEYS = {"label", "text", "pattern_id"}


@lru_cache(maxsize=1)
def load_case_files() -> dict[str, dict]:
    """family -> parsed YAML file."""
    return {path.stem: yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for path in sorted(CASES_DIR.glob("*.yml"))}


def all_cases() -> list[dict]:
    return [dict(case, family=family) for family, data in load_case_files().items()
            for case in data.get("cases") or []]


def _param(case: dict):
    marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if case.get("xfail") else []
    return pytest.param(case, id=str(case.get("name")), marks=marks)


_results: dict[str, tuple] = {}


def run_case(case: dict, extract_text, nlp) -> tuple:
    """(facts, rule spans as (label, text, id)) for one case's text, computed once per session."""
    text = case["text"]
    if text not in _results:
        doc = nlp(nlp_text(text))  # held: a SpanGroup dies with its Doc; read as the pipeline reads it
        spans = tuple((s.label_, s.text, s.id_) for s in doc.spans[RESOLVED])
        _results[text] = (extract_text(text).facts, spans)
    return _results[text]


def _listing(facts) -> str:
    return "\n  ".join(f"{f.kind} {f.text!r} {f.pattern_id} {f.value!r}"
                       f"{''.join(' ' + flag for flag in FLAGS if getattr(f, flag))}" for f in facts) or "(none)"


def _fact_matches(fact, entry: dict) -> bool:
    return (fact.kind == entry["kind"] and fact.text == entry["text"]
            and entry.get("pattern_id", fact.pattern_id) == fact.pattern_id
            and ("value" not in entry or value_matches(entry["value"], fact.value))
            and all(getattr(fact, flag) == entry[flag] for flag in FLAGS if flag in entry))


# ---------------------------------------------------------------- the cases


@pytest.mark.parametrize("case", [_param(c) for c in all_cases()])
def test_pattern_case(case, extract_text, nlp):
    facts, spans = run_case(case, extract_text, nlp)
    for entry in case.get("expect") or []:
        same = [f for f in facts if f.kind == entry["kind"] and f.text == entry["text"]]
        if not same:
            pytest.fail(f"no {entry['kind']} fact covering {entry['text']!r}; found:\n  {_listing(facts)}")
        if any(_fact_matches(f, entry) for f in same):
            continue
        fact = same[0]
        value = {"value": entry["value"]} if "value" in entry else {}
        assert_fact(fact, entry["kind"], entry["text"], entry.get("pattern_id"), **value)
        for flag in FLAGS:
            if flag in entry:
                assert getattr(fact, flag) == entry[flag], f"{entry['kind']} {entry['text']!r}: {flag} is {getattr(fact, flag)}"
    for entry in case.get("absent") or []:
        found = [f for f in facts if f.kind == entry["kind"] and entry.get("text", f.text) == f.text]
        assert not found, f"must not find {entry}; found:\n  {_listing(found)}"
    for entry in case.get("spans") or []:
        if (entry["label"], entry["text"], entry["pattern_id"]) not in spans:
            got = ", ".join(f"{label} {text!r} {pid}" for label, text, pid in spans)
            pytest.fail(f"no {entry['label']} span {entry['text']!r} by {entry['pattern_id']}; spans: {got}")


# ---------------------------------------------------------------- the case files


def test_case_files_one_per_family():
    assert sorted(load_case_files()) == sorted(FAMILIES)


def test_case_files_follow_the_schema():
    problems = []
    for family, data in load_case_files().items():
        if set(data) - FILE_KEYS or not data.get("label") or not data.get("cases"):
            problems.append(f"{family}.yml: needs `label` and `cases` only, has {sorted(data)}")
        for case in data.get("cases") or []:
            where = f"{family}.yml:{case.get('name')}"
            if set(case) - CASE_KEYS or not {"name", "text"} <= set(case):
                problems.append(f"{where}: keys {sorted(case)}; allowed {sorted(CASE_KEYS)}")
            if not (case.get("expect") or case.get("absent") or case.get("spans")):
                problems.append(f"{where}: expects nothing")
            for key, allowed, required in (("expect", EXPECT_KEYS, {"kind", "text"}),
                                           ("absent", ABSENT_KEYS, {"kind"}),
                                           ("spans", SPAN_KEYS, SPAN_KEYS)):
                for entry in case.get(key) or []:
                    if set(entry) - allowed or not required <= set(entry):
                        problems.append(f"{where}: {key} entry {entry}")
    assert not problems, "\n".join(problems)


def test_case_names_are_unique():
    names = [c["name"] for c in all_cases()]
    assert sorted({n for n in names if names.count(n) > 1}) == []


def test_cases_name_only_known_pattern_ids():
    known = {spec.id for spec in load_patterns(PATTERN_DIR)}
    named = {(c["name"], e["pattern_id"]) for c in all_cases()
             for e in (c.get("expect") or []) + (c.get("spans") or []) if "pattern_id" in e}
    assert sorted((name, pid) for name, pid in named if pid not in known) == []


def test_every_pattern_id_is_hit(extract_text, nlp):
    """Every pattern id is named by a passing (non-xfail) case and produced by it."""
    hit: set[str] = set()
    for case in all_cases():
        if case.get("xfail"):
            continue
        named = {e["pattern_id"] for e in (case.get("expect") or []) + (case.get("spans") or [])
                 if "pattern_id" in e}
        if not named:
            continue
        facts, spans = run_case(case, extract_text, nlp)
        hit |= named & ({f.pattern_id for f in facts} | {pid for _, _, pid in spans})
    by_file: dict[str, list[str]] = {}
    for spec in load_patterns(PATTERN_DIR):
        if spec.id not in hit:
            by_file.setdefault(spec.source.split(":")[0], []).append(spec.id)
    if by_file:
        pytest.fail("pattern ids no passing case hits:\n" + "\n".join(
            f"  {path}: {', '.join(ids)}" for path, ids in sorted(by_file.items())), pytrace=False)


# ---------------------------------------------------------------- literals vs. the tokenizer


def _literals(pattern) -> list[str]:
    out = []
    for token in pattern if isinstance(pattern, list) else []:
        for attr in ("LOWER", "TEXT", "ORTH"):
            spec = token.get(attr)
            if isinstance(spec, str):
                out.append(spec)
            elif isinstance(spec, dict):
                out.extend(spec.get("IN", []))
    return out


@pytest.mark.xfail(strict=True, reason=(
    "pattern literals such as 'cannot', \"can't\", 'pain-free', '->', 'radio-frequency', "
    "'intra-articular', 'anti-inflammatory', 'non-operative', 'out-patient' are split by the "
    "tuned tokenizer, so those alternatives can never match"))
def test_pattern_literals_are_single_tokens(nlp):
    """A literal in a token pattern must survive the tokenizer as one token, or it can never match."""
    dead = []
    for spec in load_patterns(PATTERN_DIR):
        for literal in _literals(spec.pattern):
            tokens = [t.text for t in nlp.tokenizer(f"a {literal} b")][1:-1]
            if tokens != [literal]:
                dead.append(f"{spec.source} {spec.id}: {literal!r} -> {tokens}")
    assert not dead, f"{len(dead)} literal(s) can never match:\n" + "\n".join(dead)

"""Draft every corpus and acceptance case and score it against its expected.json.

The comparison is the one ../shared/acceptance/score.py makes (read it for
the details), done in-process on the session's cached extractions instead of
one `facet-claims draft --json` subprocess per case and setting:

* the tool is run once per setting named in the expected lines (office, asc);
* claims are matched by (date_of_service, procedure);
* lines are merged by (cpt, sorted modifiers) with units summed, per setting;
* claims, joints and criteria are counted on the first setting only;
* a drafted claim that no expected claim matches is an "extra" claim.

The test passes when each fraction in FLOORS is reached; every difference is
printed (case id, date, codes: no document text, no names), so a failure
reads like `score.py -v`.
"""
from __future__ import annotations

import json
from collections import Counter

import pytest

from drafting.draft import draft_documents, expand_paths
from extractor.errors import IngestError

# Lowest fraction correct over a whole case set (corpus, acceptance), per measure.
FLOORS = {"lines": 0.9, "criteria": 0.9}
MEASURES = ("cases", "claims", "lines", "joints", "criteria")


class Tally:
    """How many of each measure were checked and how many were right."""

    def __init__(self) -> None:
        self.n: Counter = Counter()
        self.ok: Counter = Counter()

    def add(self, what: str, good: bool) -> bool:
        self.n[what] += 1
        self.ok[what] += bool(good)
        return good

    def frac(self, what: str) -> float:
        return self.ok[what] / self.n[what] if self.n[what] else 1.0

    def summary(self) -> str:
        parts = [f"{what} {self.ok[what]}/{self.n[what]}" for what in MEASURES]
        return "; ".join(parts + [f"extra claims {self.n['extra']}"])


def merged(lines: list[dict]) -> Counter:
    units: Counter = Counter()
    for line in lines or []:
        key = (str(line.get("cpt", "")), tuple(sorted(str(m).upper() for m in line.get("modifiers") or [])))
        units[key] += int(line.get("units", 1))
    return units


def show(units: Counter) -> str:
    return ", ".join(f"{c}{'-' + '-'.join(m) if m else ''} x{u}" for (c, m), u in sorted(units.items())) or "none"


def norm_joints(joints: dict | None) -> dict[str, list[str]]:
    return {side: sorted((joints or {}).get(side) or []) for side in ("left", "right")}


def draft(case_dir, setting: str, extract_file) -> dict:
    """What `facet-claims draft <case>/docs --json --setting <setting>` prints, parsed."""
    docs, errors = [], []
    for path in expand_paths([str(case_dir / "docs")]):
        try:
            docs.append(extract_file(path))
        except IngestError as exc:
            errors.append({"path": str(path), "error": exc.message})
    return json.loads(json.dumps(draft_documents(docs, setting=setting, errors=errors), default=str))


def score_case(case_dir, extract_file, tally: Tally) -> list[str]:
    expected = json.loads((case_dir / "expected.json").read_text(encoding="utf-8"))
    exp_claims = [c for case in expected["cases"] for c in case.get("claims", [])]
    settings = sorted({s for c in exp_claims for s in c.get("lines", {})}) or ["office"]
    problems: list[str] = []
    for setting in settings:
        output = draft(case_dir, setting, extract_file)
        got = [claim for case in output.get("cases") or [] for claim in case.get("claims") or []]
        by_key = {(c.get("date_of_service"), c.get("procedure")): c for c in got}
        wanted = {(c["date_of_service"], c["procedure"]) for c in exp_claims}
        first = setting == settings[0]
        for claim in exp_claims:
            key = (claim["date_of_service"], claim["procedure"])
            actual = by_key.get(key)
            label = f"[{setting}] {key[1]} {key[0]}"
            if first and not tally.add("claims", actual is not None):
                problems.append(f"{label}: claim missing (got {sorted(k for k in by_key if k[0])})")
            if setting in claim.get("lines", {}):
                want, have = merged(claim["lines"][setting]), merged((actual or {}).get("lines", []))
                if not tally.add("lines", actual is not None and want == have):
                    problems.append(f"{label}: lines {show(have)}; expected {show(want)}")
            if not first:
                continue
            if "joints" in claim:
                want_j, have_j = norm_joints(claim["joints"]), norm_joints((actual or {}).get("joints"))
                if not tally.add("joints", want_j == have_j):
                    problems.append(f"{label}: joints {have_j}; expected {want_j}")
            have_crit = {c.get("id"): c.get("status") for c in (actual or {}).get("criteria") or []}
            for cid, status in claim.get("criteria", {}).items():
                if not tally.add("criteria", have_crit.get(cid) == status):
                    problems.append(f"{label}: {cid} {have_crit.get(cid)}; expected {status}")
        for key in sorted(set(by_key) - wanted, key=str):
            tally.add("extra", False)
            problems.append(f"[{setting}] extra claim {key[1]} {key[0]}: {show(merged(by_key[key].get('lines', [])))}")
    tally.add("cases", not problems)
    return problems


def test_corpus_claims_reach_the_floor(corpus_set, extract_file):
    tally = Tally()
    report = []
    for case_dir in corpus_set.case_dirs:
        problems = score_case(case_dir, extract_file, tally)
        report.append(f"{case_dir.name}: {'ok' if not problems else f'{len(problems)} difference(s)'}")
        report.extend(f"    {p}" for p in problems)
    report.append(f"score ({corpus_set.name}): {tally.summary()}")
    text = "\n".join(report)
    print(text)
    short = [f"{what} {tally.frac(what):.3f} < {floor}" for what, floor in FLOORS.items()
             if tally.frac(what) < floor]
    if short:
        pytest.fail(f"{corpus_set.name} below the floor: {', '.join(short)}\n{text}", pytrace=False)

"""The medical-necessity letter (drafting/letter.py, templates/letter.*.j2).

The main property: the letter invents nothing. Every date, percentage, level
and anesthetic/steroid agent it writes is found in the drafted claim or in the
facts extracted from that case's own documents. Checked on every acceptance
case and every corpus case that exists on this machine.
"""
from __future__ import annotations

import copy
import html
import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

from drafting.draft import draft_documents, expand_paths, extract_all
from drafting.errors import TemplateRenderError
from drafting.letter import letter_context, render_letters, us_date
from drafting.outputs import write_case_outputs
from drafting.tables import load_profile
from drafting.templating import environment, render, templates_dir
from extractor.errors import ToolError

REPO = Path(__file__).resolve().parents[2]
CASE_ROOTS = [Path("/work/shared/acceptance/cases"), REPO / "corpus"]
CASE_DIRS = sorted((d for root in CASE_ROOTS if root.is_dir() for d in root.glob("*/docs") if d.is_dir()),
                   key=lambda d: (str(d.parents[1]), d.parent.name))

US_DATE = re.compile(r"\b(\d{2})/(\d{2})/(\d{4})\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
PERCENT = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s?%")
LEVEL = re.compile(r"\b[CTLS]\d{1,2}-[CTLS]\d{1,2}\b")
QUOTED = re.compile(r"“[^”]*”|<q>.*?</q>", re.S)


# --------------------------------------------------------------------------- helpers

@lru_cache(maxsize=None)
def drafted(docs_dir: str) -> tuple[dict, tuple]:
    """(contract JSON, extracted documents) for one case folder; extraction runs once per module."""
    docs, errors = extract_all(expand_paths([docs_dir]))
    return draft_documents(docs, errors=errors), tuple(docs)


def _agent_vocabulary() -> tuple[str, ...]:
    """Every anesthetic and named steroid word the extractor knows (extractor/patterns/drugs.jsonl)."""
    words = set()
    for line in (REPO / "extractor" / "patterns" / "drugs.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        spec = json.loads(line)
        if spec["label"] not in ("ANESTHETIC", "STEROID") or spec["id"] == "steroid.generic":
            continue
        if "_heard" in spec["id"]:  # speech recognition's "lie to Cain": sounds of a name, not names
            if spec.get("value"):
                words.add(spec["value"].lower())
            continue
        if spec.get("value"):
            words.add(spec["value"].lower())
        for token in spec["pattern"]:
            lower = token.get("LOWER")
            if isinstance(lower, dict):
                words.update(w.lower() for w in lower.get("IN", []) if re.fullmatch(r"[a-z][a-z-]+", w.lower()))
            elif isinstance(lower, str) and re.fullmatch(r"[a-z][a-z-]+", lower):
                words.add(lower)
    return tuple(sorted(words, key=len, reverse=True))


AGENT_WORDS = _agent_vocabulary()
AGENT = re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in AGENT_WORDS) + r")(?![\w-])", re.I)


def _scalars(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _scalars(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _scalars(v)
    elif value is not None:
        yield value


def _evidence_texts(value) -> list[str]:
    """The `text` of every evidence span anywhere inside a claim."""
    out = []
    if isinstance(value, dict):
        if "text" in value and "start" in value and "document" in value:
            out.append(value["text"] or "")
        for v in value.values():
            out.extend(_evidence_texts(v))
    elif isinstance(value, list):
        for v in value:
            out.extend(_evidence_texts(v))
    return out


def _num(text: str) -> float:
    return round(float(text), 3)


class Known:
    """What the record of one case says: the claim and the facts of the case's documents."""

    def __init__(self, case: dict, claim: dict, docs: tuple, profile: dict) -> None:
        paths = {d["path"] for d in case["documents"]}
        facts = [f for d in docs if d.path in paths for f in d.facts]
        self.texts = [f.text for f in facts] + _evidence_texts(claim)
        values = list(_scalars([f.value for f in facts]))
        values += list(_scalars([claim["date_of_service"], claim["joints"], [ln["joints"] for ln in claim["lines"]],
                                 case["patient"], [d.get("date") for d in case["documents"]]]))
        strings = [str(v) for v in values]
        self.iso_dates = {s for s in strings if ISO_DATE.fullmatch(s)}
        self.levels = {s for s in strings if LEVEL.fullmatch(s)}
        self.levels |= {m.group(0) for t in self.texts for m in LEVEL.finditer(t)}
        self.percents = {_num(m.group(1)) for t in self.texts + strings for m in PERCENT.finditer(t)}
        self.percents |= {_num(v) for f in facts if f.kind in ("relief", "function") and isinstance(f.value, dict)
                          for k, v in f.value.items() if k in ("percent", "value") and isinstance(v, (int, float))}
        # A rule value of the profile, not a fact: "(80% required)".
        self.percents.add(_num(profile["relief_threshold"]))
        self.agents = {s.lower() for s in strings if s.lower() in AGENT_WORDS}
        self.agents |= {m.group(1).lower() for t in self.texts for m in AGENT.finditer(t)}
        self.literal = "\n".join(self.texts)


def _visible_text(letter: str, name: str) -> str:
    """The words a reader sees: markup removed and entities decoded for HTML."""
    if name.endswith(".html"):
        letter = re.sub(r"<style>.*?</style>", " ", letter, flags=re.S)
        return html.unescape(re.sub(r"<[^>]+>", " ", letter))
    return letter


def _rfa_letters(docs_dir: Path):
    """(case, claim, {name: text}) for every facet_rfa claim of a case folder."""
    result, docs = drafted(str(docs_dir))
    out = []
    for case in result["cases"]:
        letters = render_letters(case)
        for claim in case["claims"]:
            if claim["procedure"] != "facet_rfa":
                continue
            stem = f"letter-{claim['date_of_service'] or 'undated'}"
            out.append((case, claim, {n: t for n, t in letters.items() if n.rsplit(".", 1)[0] == stem}))
    return out, docs


def _case_id(path: Path) -> str:
    return path.parent.name


# A minimal contract case, independent of the extractor, for template behaviour.
def _ev(text: str, document: str = "notes/mbb1.txt", page: int | None = None) -> dict:
    return {"document": document, "start": 0, "end": len(text), "page": page, "text": text}


def make_case(**claim_overrides) -> dict:
    claim = {
        "date_of_service": "2026-03-10", "procedure": "facet_rfa", "region": "lumbar_sacral",
        "joints": {"left": ["L4-L5"], "right": ["L4-L5"]},
        "lines": [{"cpt": "64635", "modifiers": ["50"], "units": 1, "joints": ["L4-L5"]}],
        "diagnoses": [{"code": "M47.816", "suggested": True, "label": "Spondylosis, lumbar region",
                       "evidence": [_ev("lumbar spondylosis", "notes/consult.pdf", 2)]}],
        "criteria": [
            {"id": "block_relief", "status": "met", "reason": "relief per block (80% required): 2026-02-03: 90%",
             "evidence": [_ev("90% relief")]},
            {"id": "pain_scale", "status": "missing", "reason": "no pain score (NRS/VAS n/10) before the ablation",
             "evidence": []},
        ],
        "queries": [{"criterion": "pain_scale", "severity": "worth_fixing", "status": "missing",
                     "query": "Please document a pain score.", "because": "no pain score"}],
        "gaps": [], "conflicts": [], "status": "needs_review",
    }
    claim.update(claim_overrides)
    return {"case_id": "X-1", "patient": {"name": "Test Person", "dob": "1960-01-02", "mrn": "123"},
            "documents": [], "claims": [claim], "warnings": [], "errors": []}


# --------------------------------------------------------------------------- real cases

@pytest.mark.parametrize("docs_dir", CASE_DIRS, ids=_case_id)
def test_letter_invents_nothing(docs_dir):
    letters, docs = _rfa_letters(docs_dir)
    if not letters:
        pytest.skip("no facet_rfa claim in this case")
    profile = load_profile("default")
    for case, claim, texts in letters:
        known = Known(case, claim, docs, profile)
        assert sorted(texts) == sorted(f"letter-{claim['date_of_service']}.{ext}" for ext in ("html", "md"))
        for name, letter in texts.items():
            seen = _visible_text(letter, name)
            for m in US_DATE.finditer(seen):
                iso = f"{m.group(3)}-{m.group(1)}-{m.group(2)}"
                assert iso in known.iso_dates or m.group(0) in known.literal, (name, "date", m.group(0))
            for m in PERCENT.finditer(seen):
                assert _num(m.group(1)) in known.percents, (name, "percent", m.group(0))
            for m in LEVEL.finditer(seen):
                assert m.group(0) in known.levels, (name, "level", m.group(0))
            for m in AGENT.finditer(seen):
                assert m.group(1).lower() in known.agents, (name, "agent", m.group(1))


@pytest.mark.parametrize("docs_dir", CASE_DIRS, ids=_case_id)
def test_letter_states_each_criterion_as_drafted(docs_dir):
    letters, _ = _rfa_letters(docs_dir)
    if not letters:
        pytest.skip("no facet_rfa claim in this case")
    for case, claim, texts in letters:
        context = letter_context(case, claim)
        for name, letter in texts.items():
            seen = _visible_text(letter, name)
            # Dates are MM/DD/YYYY everywhere except inside verbatim quotes of the record.
            assert not ISO_DATE.search(_visible_text(QUOTED.sub(" ", letter), name)), name
            for criterion in context["criteria"]:
                assert criterion["title"] in seen, (name, criterion["id"])
                if criterion["status"] == "missing":
                    assert criterion["gap"].startswith("[MISSING: ") and criterion["gap"] in seen, (name, criterion["id"])
                else:
                    assert criterion["reason"] in seen, (name, criterion["id"])
                    assert criterion["citations"], (name, criterion["id"], "met/not_met without evidence")
                for cite in criterion["citations"]:
                    assert cite["document"] in seen and cite["text"] in seen, (name, criterion["id"])
            for line in claim["lines"]:
                assert line["cpt"] in seen
            for dx in claim["diagnoses"]:
                assert dx["code"] in seen
            assert claim["lines"] or "[MISSING: " in seen


@pytest.mark.parametrize("docs_dir", CASE_DIRS, ids=_case_id)
def test_letter_only_for_ablation_claims(docs_dir):
    result, _ = drafted(str(docs_dir))
    for case in result["cases"]:
        rfa = [c for c in case["claims"] if c["procedure"] == "facet_rfa"]
        names = render_letters(case)
        assert len(names) == 2 * len(rfa)
        assert all(re.fullmatch(r"letter-(\d{4}-\d{2}-\d{2}|undated)(-\d+)?\.(md|html)", n) for n in names)


# --------------------------------------------------------------------------- templates

# fmt: off
@pytest.mark.parametrize("where", ["criterion_evidence", "diagnosis_evidence", "reason", "patient_name"])
# fmt: on
def test_letter_html_escapes_evidence(where):
    payload = "<script>alert(1)</script>"
    case = make_case()
    claim = case["claims"][0]
    if where == "criterion_evidence":
        claim["criteria"][0]["evidence"][0]["text"] = payload
    elif where == "diagnosis_evidence":
        claim["diagnoses"][0]["evidence"][0]["text"] = payload
    elif where == "reason":
        claim["criteria"][0]["reason"] = payload
    else:
        case["patient"]["name"] = payload
    letters = render_letters(case)
    page = letters["letter-2026-03-10.html"]
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # The markdown letter is plain text: not HTML-escaped.
    assert payload in letters["letter-2026-03-10.md"]
    assert "&lt;" not in letters["letter-2026-03-10.md"]


# fmt: off
@pytest.mark.parametrize("name, escaped", [
    ("letter.md.j2", False),
    ("_criterion.md.j2", False),
    ("letter.html.j2", True),
    ("_criterion.html.j2", True),
    ("review.html", True),
])
# fmt: on
def test_templating_autoescape_by_extension(name, escaped):
    assert environment().autoescape(name) is escaped


def test_templating_finds_the_templates_folder():
    folder = templates_dir()
    assert (folder / "letter.md.j2").is_file() and (folder / "letter.html.j2").is_file()


# fmt: off
@pytest.mark.parametrize("template, drop", [
    ("letter.md.j2", "procedure"),
    ("letter.md.j2", "criteria"),
    ("letter.md.j2", "patient_rows"),
    ("letter.html.j2", "date_of_service"),
    ("letter.html.j2", "queries"),
])
# fmt: on
def test_templating_missing_variable_raises(template, drop):
    case = make_case()
    context = letter_context(case, case["claims"][0])
    render(template, context)  # complete context renders
    del context[drop]
    with pytest.raises(TemplateRenderError, match=rf"'{drop}' is undefined") as info:
        render(template, context)
    assert isinstance(info.value, ToolError)
    assert info.value.template == template


def test_templating_unknown_template_raises():
    with pytest.raises(TemplateRenderError, match="no-such-letter.md.j2"):
        render("no-such-letter.md.j2", {})


def test_letter_missing_criterion_is_a_visible_gap():
    letters = render_letters(make_case())
    gap = "[MISSING: no pain score (NRS/VAS n/10) before the ablation — documentation requested]"
    assert gap in letters["letter-2026-03-10.md"]
    assert f'<p class="gap">{gap}</p>' in letters["letter-2026-03-10.html"]


def test_letter_cites_document_page_and_quote():
    md = render_letters(make_case())["letter-2026-03-10.md"]
    assert "`consult.pdf`, p. 2: “lumbar spondylosis”" in md
    assert "`mbb1.txt`: “90% relief”" in md
    assert "SUGGESTED" in md


def test_letter_missing_patient_facts_are_gaps_not_blanks():
    case = make_case()
    case["patient"] = {"name": None, "dob": None, "mrn": None}
    md = render_letters(case)["letter-2026-03-10.md"]
    assert "[MISSING: patient name not found in the documents — documentation requested]" in md
    assert "[MISSING: date of birth not found in the documents — documentation requested]" in md
    assert "** None" not in md


# fmt: off
@pytest.mark.parametrize("claim, expected", [
    ({"region": "lumbar_sacral"}, "Lumbar facet radiofrequency ablation"),
    ({"region": "cervical_thoracic", "joints": {"left": ["C5-C6"], "right": []}}, "Cervical facet radiofrequency ablation"),
    ({"region": "cervical_thoracic", "joints": {"left": ["T1-T2"], "right": []}}, "Thoracic facet radiofrequency ablation"),
    ({"region": None}, "Facet radiofrequency ablation"),
])
# fmt: on
def test_letter_procedure_names_region(claim, expected):
    case = make_case(**claim)
    assert letter_context(case, case["claims"][0])["procedure"] == expected


# fmt: off
@pytest.mark.parametrize("joints, expected", [
    ({"left": ["L4-L5", "L5-S1"], "right": ["L4-L5", "L5-S1"]}, [("Bilateral", "L4-L5, L5-S1")]),
    ({"left": ["L5-S1"], "right": ["L4-L5", "L5-S1"]}, [("Bilateral", "L5-S1"), ("Right", "L4-L5")]),
    ({"left": ["L3-L4"], "right": []}, [("Left", "L3-L4")]),
    ({"left": [], "right": []}, []),
])
# fmt: on
def test_letter_sides_grouped(joints, expected):
    case = make_case(joints=joints)
    context = letter_context(case, case["claims"][0])
    assert [(r["side"], r["joints"]) for r in context["sides"]] == expected
    assert bool(context["sides_gap"]) is (not expected)


# fmt: off
@pytest.mark.parametrize("iso, expected", [
    ("2025-10-08", "10/08/2025"),
    ("1958-04-17", "04/17/1958"),
    (None, None),
])
# fmt: on
def test_letter_us_date(iso, expected):
    assert us_date(iso) == expected


def test_letter_block_only_case_has_no_letter():
    case = make_case(procedure="facet_block")
    assert render_letters(case) == {}


def test_letter_two_claims_same_day_get_distinct_names():
    case = make_case()
    case["claims"].append(copy.deepcopy(case["claims"][0]))
    assert sorted(render_letters(case)) == ["letter-2026-03-10-2.html", "letter-2026-03-10-2.md",
                                            "letter-2026-03-10.html", "letter-2026-03-10.md"]


def test_outputs_write_letters(tmp_path):
    folder = write_case_outputs(make_case(), tmp_path)
    assert (folder / "letter-2026-03-10.md").is_file()
    assert (folder / "letter-2026-03-10.html").is_file()

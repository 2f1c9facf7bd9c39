"""Payer profiles (drafting/data/profiles/*.yaml): switching profile changes the criteria and
lines exactly as the profile file says, and a malformed profile file is refused by name.

Expected results are derived from the YAML files themselves (read here with
yaml.safe_load, not through load_profile), so a profile edited later is still
checked against what it says.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

import drafting.tables as tables
from drafting.draft import draft_documents, expand_paths, extract_all
from extractor.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
ACCEPTANCE = Path("/work/shared/acceptance/cases")
CORPUS = REPO / "corpus"
PROFILE_FILES = sorted(tables.PROFILE_DIR.glob("*.yaml"))
PROFILES = [p.stem for p in PROFILE_FILES]
KX_CODES = {"64490", "64491", "64493", "64494"}  # diagnostic block codes that take a block-line modifier


def profile_file(name: str) -> dict:
    return yaml.safe_load((tables.PROFILE_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- synthetic case
# Used when a corpus case is absent, and always as one more case: four short text notes
# of a bilateral L4-L5 patient whose second block is written with RELIEF% relief and,
# in the steroid variant, triamcinolone mixed into the injectate.

_HEADER = """{title}
Patient: TESTCASE, PAT Q             MRN: 7700123
DOB: 03/14/1961      Date of Service: {dos}
"""
_NOTES = {
    "consult.txt": _HEADER.format(title="PAIN MEDICINE CONSULTATION", dos="01/06/2026") + """
HISTORY OF PRESENT ILLNESS:
Axial low back pain for 2 years. Failed 12 weeks of physical therapy and NSAIDs.

PAIN ASSESSMENT AND FUNCTION:
- NRS today 7/10
- Oswestry Disability Index 40%

ASSESSMENT:
Lumbar spondylosis without myelopathy or radiculopathy (M47.816).

PLAN:
Diagnostic bilateral L4-L5 medial branch blocks.
""",
    "mbb1.txt": _HEADER.format(title="PROCEDURE NOTE", dos="01/20/2026") + """
PROCEDURE PERFORMED:
Bilateral L4-L5 facet joint medial branch blocks under fluoroscopic guidance - diagnostic block #1.

MEDICATIONS INJECTED:
Lidocaine 2% 0.5 mL per site. No corticosteroid was administered.

IMPRESSION:
Positive diagnostic block: approximately 90% relief lasting 2 hours.
""",
    "mbb2.txt": _HEADER.format(title="PROCEDURE NOTE", dos="02/03/2026") + """
PROCEDURE PERFORMED:
Bilateral L4-L5 facet joint medial branch blocks under fluoroscopic guidance - diagnostic block #2.

MEDICATIONS INJECTED:
Bupivacaine 0.5% 0.5 mL per site{steroid}.

IMPRESSION:
Response: {relief}% relief lasting 6 hours.
""",
    "rfa.txt": _HEADER.format(title="PROCEDURE NOTE", dos="02/24/2026") + """
PROCEDURE PERFORMED:
Bilateral L4-L5 facet joint radiofrequency ablation, fluoroscopically guided.

PRE-PROCEDURE:
- Pre-procedure pain: NRS 7/10
""",
}
_VARIANTS = {
    "synthetic-partial-relief": {"relief": "55", "steroid": ". No corticosteroid was administered"},
    "synthetic-steroid": {"relief": "90", "steroid": " mixed with triamcinolone (Kenalog) 20 mg"},
}
_SYNTHETIC_DOCS: dict[str, tuple] = {}


def synthetic_docs(variant: str, tmp_path: Path) -> tuple:
    """Extracted documents of a synthetic case (written under the first caller's tmp_path, then cached)."""
    if variant not in _SYNTHETIC_DOCS:
        folder = tmp_path / variant
        folder.mkdir()
        for name, text in _NOTES.items():
            (folder / name).write_text(text.format(**_VARIANTS[variant]) if name == "mbb2.txt" else text,
                                       encoding="utf-8")
        docs, errors = extract_all(expand_paths([str(folder)]))
        assert not errors
        _SYNTHETIC_DOCS[variant] = tuple(docs)
    return _SYNTHETIC_DOCS[variant]


@lru_cache(maxsize=None)
def folder_docs(docs_dir: str) -> tuple:
    docs, errors = extract_all(expand_paths([docs_dir]))
    assert not errors
    return tuple(docs)


def case_docs(source: str, tmp_path: Path) -> tuple:
    if source in _VARIANTS:
        return synthetic_docs(source, tmp_path)
    path = Path(source)
    if not path.is_dir():
        pytest.skip(f"{source} is not on this machine")
    return folder_docs(source)


def claims_of(docs: tuple, profile: str, procedure: str, setting: str = "office") -> list[dict]:
    result = draft_documents(list(docs), setting=setting, profile_name=profile)
    return [c for case in result["cases"] for c in case["claims"] if c["procedure"] == procedure]


def _source_id(value) -> str:
    """Test id of a case source: the case folder's name, or the synthetic variant."""
    if isinstance(value, str):
        return Path(value).parent.name or value
    return "-".join(map(str, value)) if isinstance(value, list) else str(value)


def criterion(claim: dict, cid: str) -> dict:
    return next(c for c in claim["criteria"] if c["id"] == cid)


# --------------------------------------------------------------------------- criteria

# Relief of each diagnostic block as the record writes it, oldest first, as (low, high) %.
# fmt: off
RELIEF_CASES = [
    (str(CORPUS / "c09_partial_relief" / "docs"), [(80, 100), (50, 60)]),   # block #2 "50-60% relief"
    ("synthetic-partial-relief",                  [(90, 90), (55, 55)]),
]
# fmt: on


def expected_relief_status(profile: dict, reliefs: list[tuple[float, float]]) -> str | None:
    """met / not_met as the profile's blocks_required and relief_threshold say; None when the range straddles it."""
    used = reliefs[-int(profile["blocks_required"]):]
    threshold = float(profile["relief_threshold"])
    if all(low >= threshold for low, _ in used):
        return "met"
    if any(high < threshold for _, high in used):
        return "not_met"
    return None


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("source, reliefs", RELIEF_CASES, ids=_source_id)
def test_profiles_block_relief_follows_threshold(source, reliefs, profile, tmp_path):
    settings = profile_file(profile)
    expected = expected_relief_status(settings, reliefs)
    if expected is None:
        pytest.skip("the documented relief range straddles this profile's threshold")
    (claim,) = claims_of(case_docs(source, tmp_path), profile, "facet_rfa")
    result = criterion(claim, "block_relief")
    assert result["status"] == expected, result["reason"]
    assert f"({float(settings['relief_threshold']):g}% required)" in result["reason"]
    assert result["evidence"]


# fmt: off
@pytest.mark.parametrize("source, profile, status", [
    (str(CORPUS / "c09_partial_relief" / "docs"), "default", "not_met"),
    (str(CORPUS / "c09_partial_relief" / "docs"), "commercial-50pct-one-block", "met"),
    ("synthetic-partial-relief", "default", "not_met"),
    ("synthetic-partial-relief", "commercial-50pct-one-block", "met"),
])
# fmt: on
def test_profiles_partial_relief_examples(source, profile, status, tmp_path):
    assert profile_file("default")["relief_threshold"] == 80
    assert profile_file("commercial-50pct-one-block")["relief_threshold"] == 50
    (claim,) = claims_of(case_docs(source, tmp_path), profile, "facet_rfa")
    assert criterion(claim, "block_relief")["status"] == status


# Which diagnostic block (1-based, of how many) had a steroid in its injectate.
# fmt: off
STEROID_CASES = [
    (str(CORPUS / "c08_steroid_in_block" / "docs"), 2, 2),        # MBB #2: Kenalog with bupivacaine
    (str(ACCEPTANCE / "A07" / "docs"), 1, 2),
    ("synthetic-steroid", 2, 2),
]
# fmt: on


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("source, steroid_block, n_blocks", STEROID_CASES,
                         ids=_source_id)
def test_profiles_steroid_in_block_follows_rule(source, steroid_block, n_blocks, profile, tmp_path):
    settings = profile_file(profile)
    (claim,) = claims_of(case_docs(source, tmp_path), profile, "facet_rfa")
    result = criterion(claim, "block_anesthetic_only")
    used = range(n_blocks - int(settings["blocks_required"]) + 1, n_blocks + 1)
    if steroid_block not in used:
        assert result["status"] != "not_met", result["reason"]
        assert "steroid (" not in result["reason"]
    elif settings["steroid_in_block"] == "fail":
        assert result["status"] == "not_met" and "included a steroid" in result["reason"]
        assert result["evidence"]
    elif settings["steroid_in_block"] == "risk":
        assert result["status"] == "met" and "risk" in result["reason"]
        assert result["evidence"]
    else:  # allow
        assert result["status"] != "not_met"


# fmt: off
@pytest.mark.parametrize("source, profile, status, risk", [
    (str(CORPUS / "c08_steroid_in_block" / "docs"), "default", "not_met", False),
    (str(CORPUS / "c08_steroid_in_block" / "docs"), "medicare-lcd", "met", True),
    (str(ACCEPTANCE / "A07" / "docs"), "default", "not_met", False),
    (str(ACCEPTANCE / "A07" / "docs"), "medicare-lcd", "met", True),
    ("synthetic-steroid", "default", "not_met", False),
    ("synthetic-steroid", "medicare-lcd", "met", True),
])
# fmt: on
def test_profiles_steroid_examples(source, profile, status, risk, tmp_path):
    assert profile_file("medicare-lcd")["steroid_in_block"] == "risk"
    assert profile_file("default")["steroid_in_block"] == "fail"
    (claim,) = claims_of(case_docs(source, tmp_path), profile, "facet_rfa")
    result = criterion(claim, "block_anesthetic_only")
    assert result["status"] == status
    assert ("risk" in result["reason"]) is risk
    assert claim["status"] == "needs_review" or status == "met"


@pytest.mark.parametrize("profile", PROFILES)
def test_profiles_evaluate_exactly_the_listed_criteria(profile, tmp_path):
    (claim,) = claims_of(case_docs("synthetic-steroid", tmp_path), profile, "facet_rfa")
    assert [c["id"] for c in claim["criteria"]] == profile_file(profile)["criteria"]


# --------------------------------------------------------------------------- claim lines

# Cases treated on both sides at every joint.
# fmt: off
BILATERAL_CASES = [
    str(ACCEPTANCE / "A01" / "docs"),
    str(CORPUS / "c01_demo_bilateral" / "docs"),
    "synthetic-steroid",
]
# fmt: on


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("source", BILATERAL_CASES, ids=_source_id)
def test_profiles_office_lines_follow_bilateral_style_and_block_modifiers(source, profile, tmp_path):
    settings = profile_file(profile)
    extra = set(settings["block_line_modifiers"] or [])
    docs = case_docs(source, tmp_path)
    claims = claims_of(docs, profile, "facet_rfa") + claims_of(docs, profile, "facet_block")
    assert claims
    for claim in claims:
        assert claim["joints"]["left"] == claim["joints"]["right"]
        sides = [set(m) & {"50", "RT", "LT"} for m in (line["modifiers"] for line in claim["lines"])]
        assert all(len(s) == 1 for s in sides)
        if settings["bilateral_style"] == "rt_lt":
            assert not any("50" in s for s in sides)
            for side, mod in (("right", "RT"), ("left", "LT")):
                joints = [j for line in claim["lines"] if mod in line["modifiers"] for j in line["joints"]]
                assert sorted(joints) == sorted(claim["joints"][side])
        else:
            assert all(s == {"50"} for s in sides)
            assert sum(line["units"] for line in claim["lines"]) == len(claim["joints"]["left"])
        for line in claim["lines"]:
            takes_extra = claim["procedure"] == "facet_block" and line["cpt"] in KX_CODES
            assert (extra <= set(line["modifiers"])) if takes_extra else not (extra & set(line["modifiers"]))


def test_profiles_medicare_adds_kx_to_block_lines(tmp_path):
    source = str(ACCEPTANCE / "A01" / "docs")
    docs = case_docs(source, tmp_path)
    blocks = claims_of(docs, "medicare-lcd", "facet_block")
    cpts = {line["cpt"] for claim in blocks for line in claim["lines"]}
    assert {"64493", "64494"} <= cpts
    for claim in blocks:
        for line in claim["lines"]:
            assert "KX" in line["modifiers"]
    for claim in claims_of(docs, "medicare-lcd", "facet_rfa") + claims_of(docs, "default", "facet_block"):
        assert all("KX" not in line["modifiers"] for line in claim["lines"])


def test_profiles_evicore_bills_rt_lt_in_office(tmp_path):
    assert profile_file("commercial-evicore")["bilateral_style"] == "rt_lt"
    docs = case_docs(str(ACCEPTANCE / "A01" / "docs"), tmp_path)
    (rfa,) = claims_of(docs, "commercial-evicore", "facet_rfa", setting="office")
    lines = sorted((line["cpt"], tuple(line["modifiers"]), line["units"]) for line in rfa["lines"])
    assert lines == [("64635", ("LT",), 1), ("64635", ("RT",), 1), ("64636", ("LT",), 1), ("64636", ("RT",), 1)]
    (default_rfa,) = claims_of(docs, "default", "facet_rfa", setting="office")
    assert sorted((line["cpt"], tuple(line["modifiers"])) for line in default_rfa["lines"]) == [
        ("64635", ("50",)), ("64636", ("50",))]


# --------------------------------------------------------------------------- profile files

@contextmanager
def profile_dir(monkeypatch, folder: Path):
    """PROFILE_DIR pointed at `folder`, with load_profile's cache cleared on the way in and out."""
    folder.mkdir(exist_ok=True)
    with monkeypatch.context() as patch:
        patch.setattr(tables, "PROFILE_DIR", folder)
        tables.load_profile.cache_clear()
        try:
            yield folder
        finally:
            tables.load_profile.cache_clear()
    tables.load_profile.cache_clear()


_DROP = object()  # marks a key to delete in _write_profile


def _write_profile(folder: Path, name: str, **changes) -> None:
    data = yaml.safe_load((REPO / "drafting" / "data" / "profiles" / "default.yaml").read_text(encoding="utf-8"))
    data["name"] = name
    for key, value in changes.items():
        if value is _DROP:
            del data[key]
        else:
            data[key] = value
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")



# fmt: off
@pytest.mark.parametrize("changes, named", [
    ({"relief_treshold": 80}, "relief_treshold"),
    ({"steriod_in_block": "fail"}, "steriod_in_block"),
    ({"criteria": _DROP}, "criteria"),
    ({"steroid_in_block": "maybe"}, "steroid_in_block"),
    ({"bilateral_style": "both"}, "bilateral_style"),
    ({"relief_threshold": 0}, "relief_threshold"),
])
# fmt: on
def test_profiles_bad_file_raises_config_error_naming_key(monkeypatch, tmp_path, changes, named):
    with profile_dir(monkeypatch, tmp_path / "profiles") as folder:
        _write_profile(folder, "broken", **changes)
        with pytest.raises(ConfigError, match=named) as info:
            tables.load_profile("broken")
    assert "profiles/broken.yaml" in str(info.value)


def test_profiles_unknown_name_lists_available(monkeypatch, tmp_path):
    with profile_dir(monkeypatch, tmp_path / "profiles") as folder:
        _write_profile(folder, "only-one")
        with pytest.raises(ConfigError, match="only-one"):
            tables.load_profile("no-such-profile")


def test_profiles_custom_file_changes_criteria(monkeypatch, tmp_path):
    docs = case_docs("synthetic-partial-relief", tmp_path)
    with profile_dir(monkeypatch, tmp_path / "profiles") as folder:
        _write_profile(folder, "strict")
        _write_profile(folder, "lenient", relief_threshold=50, blocks_required=1)
        _write_profile(folder, "two-rules", criteria=["imaging_guidance", "pain_scale"])
        (strict,) = claims_of(docs, "strict", "facet_rfa")
        (lenient,) = claims_of(docs, "lenient", "facet_rfa")
        (short,) = claims_of(docs, "two-rules", "facet_rfa")
    assert criterion(strict, "block_relief")["status"] == "not_met"
    assert criterion(lenient, "block_relief")["status"] == "met"
    assert [c["id"] for c in short["criteria"]] == ["imaging_guidance", "pain_scale"]


# --------------------------------------------------------------------------- command line

def _cli() -> list[str]:
    exe = shutil.which("facet-claims")
    return [exe] if exe else [sys.executable, "-m", "drafting"]


def test_profiles_command_lists_every_profile_file():
    run = subprocess.run(_cli() + ["profiles"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert run.returncode == 0, run.stderr
    listed = [line.split(":", 1)[0] for line in run.stdout.splitlines() if line and not line[0].isspace()]
    assert sorted(listed) == PROFILES
    assert len(PROFILES) >= 5


def test_profiles_unknown_profile_is_bad_usage(tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("Date of Service: 01/02/2026\n", encoding="utf-8")
    run = subprocess.run(_cli() + ["draft", str(note), "--json", "--profile", "no-such-profile"],
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert run.returncode == 2
    assert "no-such-profile" in run.stderr

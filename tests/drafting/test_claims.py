"""Tests for drafting/claims.py: one Session's joints per side -> claim lines.

Table tests on hand-built sessions, following coverage-rules.md: one unit per
joint per side; office puts a joint done on both sides on one line with
modifier 50; ASC bills each side on its own with RT and LT; the first joint
(of the run, or of each side) takes the first code.

Each expected line is written "CPT-MODS xUNITS [joints]" in the order
claim_lines returns them.
"""
from __future__ import annotations

import pytest

from drafting.claims import claim_lines
from drafting.sessions import Session

LUMBAR, CERVICAL = "lumbar_sacral", "cervical_thoracic"
RFA, BLOCK = "facet_rfa", "facet_block"


def session(procedure: str, region: str | None, left=(), right=()) -> Session:
    return Session(procedure=procedure, date="2026-01-14", region=region,
                   joints={"left": list(left), "right": list(right)})


def shown(lines: list[dict]) -> list[str]:
    return [f"{line['cpt']}-{'-'.join(line['modifiers'])} x{line['units']} {line['joints']}" for line in lines]


# fmt: off
CASES = [
    # name, procedure, region, left, right, setting, profile, expected lines
    ("rfa_bilateral_two_joints_office", RFA, LUMBAR, ["L4-L5", "L5-S1"], ["L4-L5", "L5-S1"], "office", None,
     ["64635-50 x1 ['L4-L5']", "64636-50 x1 ['L5-S1']"]),
    ("rfa_bilateral_two_joints_asc", RFA, LUMBAR, ["L4-L5", "L5-S1"], ["L4-L5", "L5-S1"], "asc", None,
     ["64635-RT x1 ['L4-L5']", "64636-RT x1 ['L5-S1']", "64635-LT x1 ['L4-L5']", "64636-LT x1 ['L5-S1']"]),
    # coverage-rules.md: right L4-L5 and L5-S1, left L5-S1 only.
    ("rfa_uneven_sides_office", RFA, LUMBAR, ["L5-S1"], ["L4-L5", "L5-S1"], "office", None,
     ["64635-50 x1 ['L5-S1']", "64636-RT x1 ['L4-L5']"]),
    ("rfa_uneven_sides_asc", RFA, LUMBAR, ["L5-S1"], ["L4-L5", "L5-S1"], "asc", None,
     ["64635-RT x1 ['L4-L5']", "64636-RT x1 ['L5-S1']", "64635-LT x1 ['L5-S1']"]),
    ("rfa_left_only_office", RFA, LUMBAR, ["L4-L5", "L5-S1"], [], "office", None,
     ["64635-LT x1 ['L4-L5']", "64636-LT x1 ['L5-S1']"]),
    ("rfa_left_three_joints_adds_units", RFA, LUMBAR, ["L3-L4", "L4-L5", "L5-S1"], [], "office", None,
     ["64635-LT x1 ['L3-L4']", "64636-LT x2 ['L4-L5', 'L5-S1']"]),
    ("rfa_bilateral_rt_lt_profile_office", RFA, LUMBAR, ["L4-L5"], ["L4-L5"], "office",
     {"bilateral_style": "rt_lt"},
     ["64635-RT x1 ['L4-L5']", "64635-LT x1 ['L4-L5']"]),
    ("block_lumbar_three_joints_one_side", BLOCK, LUMBAR, ["L3-L4", "L4-L5", "L5-S1"], [], "office", None,
     ["64493-LT x1 ['L3-L4']", "64494-LT x1 ['L4-L5']", "64495-LT x1 ['L5-S1']"]),
    ("block_lumbar_bilateral_office", BLOCK, LUMBAR, ["L4-L5", "L5-S1"], ["L4-L5", "L5-S1"], "office", None,
     ["64493-50 x1 ['L4-L5']", "64494-50 x1 ['L5-S1']"]),
    ("block_uneven_sides_office", BLOCK, LUMBAR, ["L5-S1"], ["L4-L5", "L5-S1"], "office", None,
     ["64493-50 x1 ['L5-S1']", "64494-RT x1 ['L4-L5']"]),
    # No joint on both sides: "64635 once per side for the first joint", in the office too.
    ("rfa_different_joint_each_side_office", RFA, LUMBAR, ["L4-L5"], ["L5-S1"], "office", None,
     ["64635-RT x1 ['L5-S1']", "64635-LT x1 ['L4-L5']"]),
    ("block_different_joints_each_side_office", BLOCK, LUMBAR, ["L3-L4", "L4-L5"], ["L5-S1"], "office", None,
     ["64493-RT x1 ['L5-S1']", "64493-LT x1 ['L3-L4']", "64494-LT x1 ['L4-L5']"]),
    # Medicare: KX on 64490/64491/64493/64494 only.
    ("block_kx_profile", BLOCK, LUMBAR, ["L3-L4", "L4-L5", "L5-S1"], [], "office",
     {"block_line_modifiers": ["KX"]},
     ["64493-LT-KX x1 ['L3-L4']", "64494-LT-KX x1 ['L4-L5']", "64495-LT x1 ['L5-S1']"]),
    ("rfa_ignores_block_modifiers", RFA, LUMBAR, ["L4-L5"], [], "office", {"block_line_modifiers": ["KX"]},
     ["64635-LT x1 ['L4-L5']"]),
    ("rfa_cervical_right_office", RFA, CERVICAL, [], ["C5-C6", "C6-C7"], "office", None,
     ["64633-RT x1 ['C5-C6']", "64634-RT x1 ['C6-C7']"]),
    ("rfa_cervical_bilateral_asc", RFA, CERVICAL, ["C5-C6", "C6-C7"], ["C5-C6", "C6-C7"], "asc", None,
     ["64633-RT x1 ['C5-C6']", "64634-RT x1 ['C6-C7']", "64633-LT x1 ['C5-C6']", "64634-LT x1 ['C6-C7']"]),
    ("block_cervical_three_joints", BLOCK, CERVICAL, [], ["C4-C5", "C5-C6", "C6-C7"], "office", None,
     ["64490-RT x1 ['C4-C5']", "64491-RT x1 ['C5-C6']", "64492-RT x1 ['C6-C7']"]),
    ("block_thoracic_is_cervical_thoracic", BLOCK, CERVICAL, ["T4-T5"], [], "office", None,
     ["64490-LT x1 ['T4-T5']"]),
    # T12-L1 with L1-2: one lumbar session (CGS, Noridian): the thoracic first code, then the lumbar add-on.
    ("rfa_thoracolumbar_junction_one_session", RFA, LUMBAR, [], ["T12-L1", "L1-L2"], "office", None,
     ["64633-RT x1 ['T12-L1']", "64636-RT x1 ['L1-L2']"]),
    ("block_thoracolumbar_junction_one_session_asc", BLOCK, LUMBAR, ["T12-L1", "L1-L2"], ["T12-L1", "L1-L2"], "asc",
     None, ["64490-RT x1 ['T12-L1']", "64494-RT x1 ['L1-L2']", "64490-LT x1 ['T12-L1']", "64494-LT x1 ['L1-L2']"]),
    ("rfa_thoracolumbar_junction_by_region", RFA, LUMBAR, [], ["T12-L1", "L1-L2"], "office",
     {"thoracolumbar_junction": "by_region"}, ["64633-RT x1 ['T12-L1']", "64635-RT x1 ['L1-L2']"]),
    ("unknown_region_no_lines", RFA, None, ["L4-L5"], ["L4-L5"], "office", None, []),
    ("unknown_region_block_no_lines", BLOCK, None, ["L4-L5"], [], "asc", None, []),
    ("no_joints_no_lines", RFA, LUMBAR, [], [], "office", None, []),
    ("not_a_facet_procedure_no_lines", "epidural", LUMBAR, ["L4-L5"], [], "office", None, []),
]
# fmt: on


@pytest.mark.parametrize("name, procedure, region, left, right, setting, profile, expected", CASES,
                         ids=[c[0] for c in CASES])
def test_claim_lines(name, procedure, region, left, right, setting, profile, expected):
    lines = claim_lines(session(procedure, region, left, right), setting, profile)
    assert shown(lines) == expected


@pytest.mark.parametrize("region, joints, expected", [
    (LUMBAR, ["L2-L3", "L3-L4", "L4-L5", "L5-S1"],
     ["64493-LT x1 ['L2-L3']", "64494-LT x1 ['L3-L4']", "64495-LT x1 ['L4-L5', 'L5-S1']"]),
    (CERVICAL, ["C3-C4", "C4-C5", "C5-C6", "C6-C7"],
     ["64490-LT x1 ['C3-C4']", "64491-LT x1 ['C4-C5']", "64492-LT x1 ['C5-C6', 'C6-C7']"]),
], ids=["lumbar", "cervical"])
def test_claim_lines_block_third_level_code_is_one_unit(region, joints, expected):
    assert shown(claim_lines(session(BLOCK, region, left=joints), "office")) == expected


def test_claim_lines_default_profile_is_modifier_50():
    both = session(RFA, LUMBAR, ["L4-L5"], ["L4-L5"])
    assert claim_lines(both) == claim_lines(both, "office", {"bilateral_style": "modifier_50"})


def test_claim_lines_units_equal_joints_per_side():
    s = session(RFA, LUMBAR, ["L3-L4", "L4-L5", "L5-S1"], ["L4-L5"])
    for setting in ("office", "asc"):
        lines = claim_lines(s, setting)
        per_side = sum(line["units"] * (2 if "50" in line["modifiers"] else 1) for line in lines)
        assert per_side == 4, setting

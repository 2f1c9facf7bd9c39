"""Stage 5: a Session's joints per side -> claim lines (codes and modifiers from codes.yaml).

One unit per joint per side. Office (and hospital outpatient): a joint done
on both sides is one line with modifier 50, and those joints take the first
code; one-sided joints get RT or LT. ASC, and an office claim whose sides
share no joint (right L5-S1, left L4-5): each side is billed on its own, the
first joint of each side taking the first code ("64635 once per side for the
first joint", coverage-rules.md).
"""
from __future__ import annotations

from drafting.sessions import Session, joint_sort_key
from drafting.tables import codes

__all__ = ["claim_lines", "SETTINGS"]

SETTINGS = ("office", "asc")


def _code_for(position: int, table: dict) -> str:
    if position == 0:
        return table["first"]
    extra = table["additional"]
    return extra[min(position - 1, len(extra) - 1)]


def _sequence(joints: dict, setting: str, bilateral_style: str) -> list[list[tuple[str, str]]]:
    """Runs of (joint, modifier); each run starts again at the first code."""
    mods = codes()["modifiers"][setting]
    left, right = set(joints.get("left", [])), set(joints.get("right", []))
    if setting == "office" and bilateral_style == "modifier_50" and (left & right or not (left and right)):
        both = sorted(left & right, key=joint_sort_key)
        run = [(j, mods["bilateral"]) for j in both]
        run += [(j, mods["right"]) for j in sorted(right - left, key=joint_sort_key)]
        run += [(j, mods["left"]) for j in sorted(left - right, key=joint_sort_key)]
        return [run]
    return [[(j, mods["right"]) for j in sorted(right, key=joint_sort_key)],
            [(j, mods["left"]) for j in sorted(left, key=joint_sort_key)]]


def claim_lines(session: Session, setting: str = "office", profile: dict | None = None) -> list[dict]:
    """Claim lines for one billable session; empty when its joints or region are unknown."""
    if session.region is None or session.procedure not in ("facet_rfa", "facet_block"):
        return []
    profile = profile or {}
    table = codes()[session.procedure][session.region]
    extra_mods = list(profile.get("block_line_modifiers") or []) if session.procedure == "facet_block" else []
    lines: dict[tuple, dict] = {}
    for run in _sequence(session.joints, setting, profile.get("bilateral_style", "modifier_50")):
        for position, (joint, modifier) in enumerate(run):
            cpt = _code_for(position, table)
            mods = [modifier] + [m for m in extra_mods if cpt in _KX_CODES]
            key = (cpt, tuple(mods))
            line = lines.setdefault(key, {"cpt": cpt, "modifiers": mods, "units": 0, "joints": []})
            line["units"] = 1 if cpt in codes()["one_unit_codes"] else line["units"] + 1
            line["joints"].append(joint)
    return list(lines.values())


# Medicare asks for KX on these diagnostic block codes (coverage-rules.md).
_KX_CODES = {"64490", "64491", "64493", "64494"}

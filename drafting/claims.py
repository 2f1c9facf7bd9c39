"""Stage 5: a Session's joints per side -> claim lines (codes and modifiers from codes.yaml).

One unit per joint per side. Office (and hospital outpatient): a joint done
on both sides is one line with modifier 50, and those joints take the first
code; one-sided joints get RT or LT. ASC, and an office claim whose sides
share no joint (right L5-S1, left L4-5): each side is billed on its own, the
first joint of each side taking the first code ("64635 once per side for the
first joint", coverage-rules.md).
"""
from __future__ import annotations

from drafting.sessions import Session, is_thoracolumbar_junction, joint_sort_key
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


def _code_tables(session: Session, profile: dict) -> list[tuple[dict, dict]]:
    """(joints, code table) for each part of the session coded on its own.

    One part, except at the thoracolumbar junction (T12-L1 with L1-2): as one
    lumbar session, T12-L1 (the thoracic joint, sorted first) takes the thoracic
    first code and L1-2 the lumbar add-on; `by_region` codes the thoracic joint
    and the lumbar joints each from their own first code.
    """
    tables = codes()[session.procedure]
    if not is_thoracolumbar_junction(session.joints):
        return [(session.joints, tables[session.region])]
    thoracic, lumbar = tables["cervical_thoracic"], tables["lumbar_sacral"]
    if profile.get("thoracolumbar_junction", "one_lumbar_session") == "one_lumbar_session":
        return [(session.joints, {"first": thoracic["first"], "additional": lumbar["additional"]})]
    split = [{side: [j for j in joints if (j[0] == "T") == upper] for side, joints in session.joints.items()}
             for upper in (True, False)]
    return [(split[0], thoracic), (split[1], lumbar)]


def claim_lines(session: Session, setting: str = "office", profile: dict | None = None) -> list[dict]:
    """Claim lines for one billable session; empty when its joints or region are unknown."""
    if session.region is None or session.procedure not in ("facet_rfa", "facet_block"):
        return []
    profile = profile or {}
    extra_mods = list(profile.get("block_line_modifiers") or []) if session.procedure == "facet_block" else []
    lines: dict[tuple, dict] = {}
    runs = [(run, table) for joints, table in _code_tables(session, profile)
            for run in _sequence(joints, setting, profile.get("bilateral_style", "modifier_50"))]
    for run, table in runs:
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

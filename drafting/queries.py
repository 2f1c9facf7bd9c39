"""Stage 5: criteria that are not met or missing -> documentation queries for the physician."""
from __future__ import annotations

__all__ = ["documentation_queries"]

# What to ask for, per criterion; {dates} is filled with the block dates.
_ASK = {
    "conservative_care": ("worth_fixing", "Please document the conservative treatments tried (physical therapy, medication, home exercise, chiropractic), how many weeks each lasted, and that they failed."),
    "pain_duration": ("worth_fixing", "Please document how long the patient has had this pain (onset date or duration; more than 3 months is required)."),
    "pain_scale": ("worth_fixing", "Please document a pain score on a standard scale (NRS or VAS, n/10) before the ablation."),
    "functional_impairment": ("worth_fixing", "Please document the functional impairment (for example an ODI score or limits on work, walking, standing or sleep)."),
    "diagnostic_blocks": ("blocks_submission", "Please provide the reports of two diagnostic medial branch blocks on separate days before the ablation, at the joints ablated."),
    "block_relief": ("blocks_submission", "Please document the percentage of pain relief after the medial branch block of {dates}."),
    "block_anesthetic_only": ("blocks_submission", "Please confirm the injectate of the medial branch block of {dates}: diagnostic blocks must use local anesthetic only, without steroid."),
    "relief_duration": ("blocks_submission", "Please document how long the pain relief lasted after the medial branch block of {dates}, and the anesthetic used."),
    "imaging_guidance": ("blocks_submission", "Please document the imaging guidance used for the ablation (fluoroscopy or CT)."),
    "levels_consistent": ("blocks_submission", "Please confirm the joints and sides ablated match those tested by the diagnostic blocks of {dates}."),
}


def _us_date(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{m}/{d}/{y}"


def documentation_queries(criteria: list[dict], block_dates: list[str]) -> list[dict]:
    """One plain sentence per criterion not met or missing, with its severity."""
    dates = " and ".join(_us_date(d) for d in block_dates) or "each diagnostic block"
    queries = []
    for result in criteria:
        if result["status"] == "met" or result["id"] not in _ASK:
            continue
        severity, text = _ASK[result["id"]]
        queries.append({"criterion": result["id"], "severity": severity, "status": result["status"],
                        "query": text.format(dates=dates), "because": result["reason"]})
    return queries

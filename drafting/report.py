"""Stage 6: the contract JSON -> a readable table per case for the terminal."""
from __future__ import annotations

__all__ = ["render_text"]


def _joints(joints: dict) -> str:
    parts = [f"{side} {', '.join(joints[side])}" for side in ("right", "left") if joints.get(side)]
    return "; ".join(parts) or "none stated"


def render_text(result: dict) -> str:
    out = []
    for case in result["cases"]:
        p = case["patient"]
        out.append(f"Case {case['case_id']}: {p['name'] or 'unknown patient'}  DOB {p['dob'] or '?'}  MRN {p['mrn'] or '?'}")
        out.append(f"  documents: {len(case['documents'])} ({', '.join(d['kind'] for d in case['documents'])})")
        if not case["claims"]:
            out.append("  no facet claim")
        for claim in case["claims"]:
            out.append(f"  {claim['date_of_service']}  {claim['procedure']:<11} {claim['region'] or '?':<17} "
                       f"joints: {_joints(claim['joints'])}  [{claim['status']}]")
            out.append(f"      {'CPT':<7}{'modifiers':<12}{'units':>5}  joints")
            for line in claim["lines"]:
                out.append(f"      {line['cpt']:<7}{'-'.join(line['modifiers']):<12}{line['units']:>5}  {', '.join(line['joints'])}")
            for dx in claim.get("diagnoses", []):
                out.append(f"      dx {dx['code']}{' (suggested)' if dx['suggested'] else ''}")
            for crit in claim.get("criteria", []):
                mark = {"met": "ok ", "not_met": "NO ", "missing": "?? "}[crit["status"]]
                out.append(f"      {mark} {crit['id']:<22} {crit['reason']}")
            for gap in claim.get("gaps", []):
                out.append(f"      gap: {gap['message']}")
            for conflict in claim.get("conflicts", []):
                out.append(f"      conflict: {conflict['message']}")
            for query in claim.get("queries", []):
                out.append(f"      query ({query['severity']}): {query['query']}")
        for warning in case.get("warnings", []):
            out.append(f"  warning: {warning}")
        out.append("")
    for err in result.get("errors", []):
        out.append(f"error: {err['path']}: {err['error']}")
    return "\n".join(out).rstrip() + "\n"

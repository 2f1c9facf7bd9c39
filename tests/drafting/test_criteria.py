"""Criteria judged from a case's notes (drafting/criteria.py)."""
from __future__ import annotations

import pytest

from drafting.draft import draft_documents
from extractor.pipeline import extract_source
from extractor.sourcetext import SourceText

IDENT = "Patient: Doe, Jane Q\nDOB: 03/14/1961   MRN: 4455123\n"
RFA = ("10/20/2026", "PROCEDURE: Right L4-5 radiofrequency ablation under fluoroscopy.\n")


def rfa_criteria(*notes: tuple[str, str]) -> dict[str, dict]:
    docs = [extract_source(SourceText(f"{IDENT}Date of Service: {date}\n\n{body}", f"note{i}.txt"))
            for i, (date, body) in enumerate(notes)]
    (case,) = draft_documents(docs)["cases"]
    (rfa,) = [c for c in case["claims"] if c["procedure"] == "facet_rfa"]
    return {c["id"]: c for c in rfa["criteria"]}


def block(date: str, number: int, agent: str, result: str) -> tuple[str, str]:
    return date, (f"PROCEDURE: Right L4-5 medial branch block #{number} under fluoroscopy. {agent} 0.5 mL per nerve. "
                  f"No steroid.\n\nPOST-PROCEDURE:\n{result}\n")


@pytest.mark.parametrize("second_result, status", [
    ("95% relief at 30 min, still 90% at 4 h.", "met"),          # read at 4 h: bupivacaine's duration reached
    ("95% relief at 30 min, down to 40% at 4 h.", "missing"),    # a reading under 80% says nothing of how long
    ("90% relief lasting 45 minutes.", "not_met"),
])
def test_relief_read_at_a_later_time_shows_how_long_it_held(second_result, status):
    criteria = rfa_criteria(block("09/22/2026", 1, "Lidocaine 2%", "90% relief for 2 hours."),
                            block("10/06/2026", 2, "Bupivacaine 0.5%", second_result), RFA)
    assert criteria["relief_duration"]["status"] == status

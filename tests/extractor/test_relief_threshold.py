"""A relief figure that a plan requires is a threshold, never a block's result (docs/facts.md, Thresholds)."""
from __future__ import annotations

import pytest

from extractor.pipeline import extract_source
from extractor.sourcetext import SourceText


def _relief(text: str):
    facts = [f for f in extract_source(SourceText(text, "note.txt")).facts if f.kind == "relief"]
    assert len(facts) == 1, [f.text for f in facts]
    return facts[0]


@pytest.mark.parametrize("text, required", [
    ("PLAN: If both blocks give at least 80% relief, proceed to radiofrequency ablation.", True),
    ("If she gets 80% or better relief from both, we will discuss RF ablation.", True),
    ("We need eighty percent or better relief before considering radiofrequency ablation.", True),
    ("PLAN: If the diary confirms at least 80% relief, schedule block #2.", True),
    # Results: no condition in the sentence, or no "at least" / "or better".
    ("MBB #1: She reported at least 80% relief for 4 hours.", False),
    ("Phone call: 85% or better relief for most of the afternoon.", False),
    ("If asked, she says she had 90% relief for 5 hours.", False),
])
def test_a_required_figure_is_a_threshold_and_a_reported_one_is_not(text, required):
    assert bool(_relief(text).value.get("threshold")) is required

"""Clock times written in words (extractor/clockwords.py)."""
from __future__ import annotations

import pytest

from extractor.clockwords import WORDED_CLOCK, worded_clock


@pytest.mark.parametrize("text, clock", [
    ("Needles out at half past nine.", (9, 30)),
    ("until about a quarter to seven yesterday evening", (6, 45)),
    ("a quarter to one", (12, 45)),
    ("Home at ten past three with her diary.", (3, 10)),
    ("twenty-five to twelve", (11, 35)),
    ("Three\no'clock - 1/10.", (3, 0)),
    ("held until around noon", (12, 0)),
    ("Needles withdrawn just after two.", (2, 0)),
    ("Time-out just before two o'clock", (1, 55)),
])
def test_a_time_in_words_is_its_hour_and_minute(text, clock):
    assert worded_clock(WORDED_CLOCK.search(text)) == clock


@pytest.mark.parametrize("text", [
    "relief just after two weeks of PT",
    "she often walks past ten houses",
    "a bit after two",
])
def test_counts_and_vague_words_are_no_time(text):
    assert WORDED_CLOCK.search(text) is None

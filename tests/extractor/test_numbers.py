"""How a number token reads (extractor/numbers.py number_value)."""
from __future__ import annotations

import pytest

from extractor.numbers import number_value


@pytest.mark.parametrize("text, value", [
    ("12", 12.0), ("0.5", 0.5), (".5", 0.5), ("1½", 1.5), ("seven", 7.0), ("Forty-four", 44.0),
    ("2,5", 2.5), ("0,5", 0.5), ("12,25", 12.25),  # a European decimal comma
    ("1,000", 1000.0), ("12,500", 12500.0),        # thousands, three digits a group
])
def test_number_tokens_read_as_their_value(text, value):
    assert number_value(text) == value


@pytest.mark.parametrize("text", ["1,0000", ",5", "2,", "L4", "ten-ish"])
def test_other_tokens_are_no_number(text):
    assert number_value(text) is None

"""Clock times written in words: "half past nine", "a quarter to seven", "three o'clock", "noon"
(and "lunch", taken as noon); and 24-hour times with an "h" ("0945h", "1130 hrs").

Dictated notes give the injection's time and the time the pain came back in
words as often as in digits. These read them as (hour, minute) on a 12-hour
clock with no AM or PM; `extractor/tables.py` places them after the
injection as it does "til about 3".
"""
from __future__ import annotations

import re

__all__ = ["MILITARY_CLOCK", "WORDED_CLOCK", "worded_clock"]

_HOUR_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_MINUTE_WORDS = {"five": 5, "ten": 10, "quarter": 15, "twenty": 20, "twenty-five": 25, "twenty five": 25, "half": 30}

_HOUR = rf"(?:{'|'.join(_HOUR_NUMBERS)}|1[0-2]|[1-9])"
# Words after "just after two" that make it a count, not a time ("just after two weeks").
_NOT_A_TIME_AFTER = (r"(?![ \t]*(?:hours?|hrs?|minutes?|mins?|days?|weeks?|months?|years?|blocks?|injections?"
                     r"|visits?|%|-))")
WORDED_CLOCK = re.compile(
    rf"\b(?:(?:a[ \t]+)?(?P<minutes>quarter|half|twenty[- ]five|twenty|ten|five)[ \t]+(?P<relation>past|after|to)"
    rf"[ \t]+(?P<hour>{_HOUR})\b{_NOT_A_TIME_AFTER}"
    rf"|(?P<oclock>{_HOUR})\s+o['’]?clock\b"
    rf"|(?P<noon>noon|midday|lunch(?:time)?)\b"
    rf"|just[ \t]+(?P<near>after|before)[ \t]+(?P<near_hour>{_HOUR})\b{_NOT_A_TIME_AFTER})",
    re.IGNORECASE)


# A military note's "0945h", "1130 hrs", "1400 hours": a time of day, not so many hours.
MILITARY_CLOCK = re.compile(r"\b(?P<hh>[01]\d|2[0-3])(?P<mm>[0-5]\d)[ \t]?(?:h|hrs?|hours)\b", re.IGNORECASE)


def _hour(word: str) -> int:
    return int(word) if word.isdigit() else _HOUR_NUMBERS[word.lower()]


def worded_clock(match: re.Match) -> tuple[int, int]:
    """(hour, minute) of a WORDED_CLOCK match: "a quarter to seven" is (6, 45), "noon" (12, 0),
    "just after two" (2, 0) and "just before two" (1, 55)."""
    if match.group("noon"):
        return 12, 0
    if match.group("oclock"):
        return _hour(match.group("oclock")), 0
    if match.group("near"):
        hour = _hour(match.group("near_hour"))
        return (hour, 0) if match.group("near").lower() == "after" else ((hour - 2) % 12 + 1, 55)
    hour = _hour(match.group("hour"))
    minutes = _MINUTE_WORDS[re.sub(r"\s+", " ", match.group("minutes").lower())]
    if match.group("relation").lower() == "to":
        return (hour - 2) % 12 + 1, 60 - minutes
    return hour, minutes

"""Numbers written as words ("seven out of ten", "ninety percent", "forty-four percent").

Dictated notes spell numbers out. spaCy's English `like_num` already knows
the single words; this module adds the hyphenated compounds ("forty-four"),
which the tokenizer keeps whole (extractor/nlp.py), and gives interpreters
one way to read any number token's value. A library such as word2number
parses whole phrases but is unmaintained and slower than this table; the
notes need only 0-100 and simple decimals.
"""
from __future__ import annotations

import re

from spacy.lang.en.lex_attrs import like_num as _english_like_num

__all__ = ["number_value", "ordinal_value", "like_num", "spanish_number", "COMPOUND_NUMBER_WORDS", "TENS_WORDS",
           "UNIT_WORDS"]

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_WORDS = {w: i for i, w in enumerate(_ONES)} | _TENS | {"hundred": 100}
COMPOUND_NUMBER_WORDS = tuple(f"{t}-{o}" for t in _TENS for o in _ONES[1:10])
TENS_WORDS = frozenset(_TENS)
UNIT_WORDS = frozenset(_ONES[1:10])
# Ordinals name days of the month ("the ninth of January") and vertebrae ("the fourth lumbar").
_ORDINALS = {w: i for i, w in enumerate(
    ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
     "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
     "twentieth"], 1)} | {"thirtieth": 30}
_DIGITS = re.compile(r"^\d+(?:\.\d+)?$")
_LEADING_DOT = re.compile(r"^\.\d+$")
# A European note's decimal comma: "2,5 years", "0,5 ml" (one or two digits after it; "1,000" has three).
_DECIMAL_COMMA = re.compile(r"^\d+,\d{1,2}$")
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+$")


_VULGAR = {"½": 0.5, "¼": 0.25, "¾": 0.75}
_WITH_FRACTION = re.compile(r"^(\d*)([½¼¾])$")  # "1½", "½"


def number_value(text: str) -> float | None:
    """12 / 0.5 / .5 / "2,5" / "1,000" / "1½" / "seven" / "Forty-four" -> the number; anything else -> None."""
    if _DIGITS.match(text):
        return float(text)
    if _DECIMAL_COMMA.match(text):
        return float(text.replace(",", "."))
    if _THOUSANDS.match(text):
        return float(text.replace(",", ""))
    m = _WITH_FRACTION.match(text)
    if m:
        return float(m.group(1) or 0) + _VULGAR[m.group(2)]
    if _LEADING_DOT.match(text):
        return float("0" + text)
    word = text.lower()
    if word in _WORDS:
        return float(_WORDS[word])
    tens, _, ones = word.replace(" ", "-").partition("-")  # "forty-four", or "eighty five" (extractor/nlp.py joins it)
    if tens in _TENS and ones in _WORDS and _WORDS[ones] < 10:
        return float(_TENS[tens] + _WORDS[ones])
    return None


def ordinal_value(word: str) -> int | None:
    """"fourth" -> 4, "Twelfth" -> 12, "thirtieth" -> 30; None for anything else ("twenty-first" is two words)."""
    return _ORDINALS.get(word.lower())


def like_num(text: str) -> bool:
    """spaCy's English `like_num`, plus compounds ("twenty-two", and "twenty two" as one token) and "1½"."""
    return _english_like_num(text) or text.lower() in _COMPOUNDS or _WITH_FRACTION.match(text) is not None


_COMPOUNDS = frozenset(COMPOUND_NUMBER_WORDS) | frozenset(w.replace("-", " ") for w in COMPOUND_NUMBER_WORDS)


# A Spanish-speaking patient's words quoted in a note ("noventa por ciento mejor por tres horas"):
# the numbers a relief or a duration is said in. Kept apart from the English words, where "once"
# and "dos" mean something else.
_SPANISH = {"cero": 0, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
            "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "veinte": 20, "treinta": 30,
            "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90,
            "cien": 100, "ciento": 100, "media": 0.5}


def spanish_number(words: list[str]) -> float | None:
    """"ochenta y cinco" -> 85, "tres" -> 3, "90" -> 90; None when a word is no number."""
    total, found = 0.0, False
    for word in words:
        word = word.lower()
        if word == "y":
            continue
        value = _SPANISH.get(word)
        if value is None:
            value = number_value(word) if word[:1].isdigit() else None
        if value is None:
            return None
        total, found = total + value, True
    return total if found else None

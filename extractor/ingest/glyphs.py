"""Stage 1 (ingest): undo the OCR misreadings that decide claims, one word at a time.

Tesseract reads a fax well enough for most words, but a claim hangs on a few
characters: the spine level ("LS" for L5), the l in "medial" ("media!"), the
digit in "for 5 hours" ("for S hours"). Each function here takes one word's
glyphs as read (and, per glyph, the readings Tesseract also considered) and
returns the corrected glyphs, one per glyph ("" drops a stray mark), so every
letter keeps its box. Words that are fine, or ambiguous, are left alone.
Used by extractor/ocr.py; plain Python, no Tesseract needed to test.
"""
from __future__ import annotations

import re

__all__ = ["fix_level_word", "fix_strokes", "fix_lone_digit", "LEVEL_CANDIDATE", "STROKE_IN_WORD", "LONE_DIGIT"]


# A vertical stroke inside a word ("media!", "BM!", "S|", "mediaI") is a letter
# l or I far more often than "!", "|" or a capital: l among small letters, I
# among capitals.
STROKE_IN_WORD = re.compile(r"[A-Za-z][!|]|[!|][A-Za-z]|[a-z]I")


def fix_strokes(letters: list[str], choices: list[set[str]]) -> list[str]:
    """The word's glyphs with each "!" or "|" next to a letter read as l, I or 1."""
    out = list(letters)
    for i, ch in enumerate(letters):
        before = letters[i - 1] if i else ""
        after = letters[i + 1] if i + 1 < len(letters) else ""
        if ch == "I" and before.islower():
            # "mediaI": a capital after a small letter is an l when the rest of
            # the word is lower case, or when Tesseract offered l ("McIntyre" stays).
            rest = [c for j, c in enumerate(letters) if j != i and c.isalpha()]
            if "l" in choices[i] or all(c.islower() for c in rest):
                out[i] = "l"
            continue
        if ch not in "!|":
            continue
        if not (before.isalpha() or after.isalpha()):
            continue
        # "media!", "!oss": l among small letters; "MR!", "S|": I among capitals.
        out[i] = "l" if before.islower() or after.islower() else "I"
    return out


# A lone S or O ("for S hours", "~S h", "S%") is a digit misread: words are
# not one letter long except "a" and "I". Taken only when Tesseract offered it.
LONE_DIGIT = re.compile(r"^[~(<>]?[SsO$][%)hx.,;:]?$")
_LONE_AS = {"S": "5", "s": "5", "$": "5", "O": "0"}


def fix_lone_digit(letters: list[str], choices: list[set[str]]) -> list[str] | None:
    """The glyphs of a one-letter word read as the digit it resembles, or None."""
    if not LONE_DIGIT.match("".join(letters)) or len(letters) != len("".join(letters)):
        return None
    for i, ch in enumerate(letters):
        digit = _LONE_AS.get(ch)
        if digit is not None and digit in choices[i]:
            return letters[:i] + [digit] + letters[i + 1:]
    return None


# Spine levels are what a facet claim hangs on, and what OCR misreads most
# ("LS" for L5, "$1" for S1, "CS-6" for C5-6, "14-5" for L4-5). A word that
# is not a level but becomes one when confusable glyphs are read as their
# look-alikes is taken as that level: a glyph where a digit must stand (after
# C/T/L/S) becomes the digit it resembles; a glyph where the letter must stand
# becomes C/T/L/S only if Tesseract itself offered that letter as a choice
# ("$" always reads S). Only whole words that then name real vertebrae are
# changed, so "15-20" or "12 weeks" stay as they are.
LEVEL_CANDIDATE = re.compile(r"^[(\[]?[CTLS$1l|I]\S{0,11}$")
_LEVEL_WORD = re.compile(r"^([(\[]?)([CTLS]\d{1,2}(?:[-\u2013/][CTLS]?\d{1,2})*)([.,;:)\]]*)$")
_AS_DIGIT = {"S": "5", "s": "5", "$": "5", "\u00a7": "5", "O": "0", "o": "0", "D": "0", "\u00a9": "0",
             "l": "1", "I": "1", "|": "1", "i": "1", "!": "1", "B": "8", "Z": "2", "z": "2"}
_AS_LETTER = {"$": "S", "\u00a7": "S", "5": "S", "1": "L", "l": "L", "|": "L", "I": "L"}
_DOUBLED = {(a, b) for a, b in [("S", "5"), ("$", "5"), ("O", "0"), ("l", "1"), ("I", "1")]} | \
    {(b, a) for a, b in [("S", "5"), ("$", "5"), ("O", "0"), ("l", "1"), ("I", "1")]}
_VERTEBRAE = {f"C{i}" for i in range(1, 9)} | {f"T{i}" for i in range(1, 13)} | \
             {f"L{i}" for i in range(1, 6)} | {f"S{i}" for i in range(1, 6)}


def fix_level_word(letters: list[str], choices: list[set[str]]) -> list[str] | None:
    """The letters of a misread spine level, corrected; None to keep the word.

    Args:
        letters: the word's glyphs as read.
        choices: per glyph, the readings Tesseract considered.
    """
    word = "".join(letters)
    if len(letters) != len(word) or _LEVEL_WORD.match(word) or not 2 <= len(word) <= 12:
        return None
    options: list[list[str]] = []
    for i, (ch, offered) in enumerate(zip(letters, choices)):
        alts = [ch]
        digit = _AS_DIGIT.get(ch)
        short = len(word.strip("(.,;:)[]")) <= 2  # "Li" (a name) is no L1; "LS" is L5
        if digit and i > 0 and (letters[i - 1] in "CTLS" or letters[i - 1].isdigit() or letters[i - 1] in "-\u2013/") \
                and not (short and ch in "liI|!"):
            alts.append(digit)
        if ch in "il|!'" and i > 0 and letters[i - 1].isdigit() and all(c in ".,;:)]" for c in letters[i + 1:]):
            alts.append("")  # a speck or stroke after the last digit: "L5-S1i"
        if i + 1 < len(letters) and (ch, letters[i + 1]) in _DOUBLED:
            alts.append("")  # one glyph read twice as both look-alikes: "LS5-S1", "L5-5S1"
        letter = _AS_LETTER.get(ch)
        if letter and (ch in "$\u00a7" or letter in offered) and (i == 0 or letters[i - 1] in "(-\u2013/["):
            alts.append(letter)
        options.append(alts)
    best: list[str] | None = None
    for variant in _variants(options, limit=256):
        if variant == letters:
            continue
        match = _LEVEL_WORD.match("".join(variant))
        if match and _real_levels(match.group(2)):
            changes = sum(a != b for a, b in zip(variant, letters))
            if best is None or changes < sum(a != b for a, b in zip(best, letters)):
                best = variant
    return best


def _variants(options: list[list[str]], limit: int) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for alts in options:
        out = [prefix + [a] for prefix in out for a in alts][:limit]
    return out


def _real_levels(core: str) -> bool:
    first, *rest = re.split(r"[-\u2013/]", core)
    if first not in _VERTEBRAE:
        return False
    return all(part in _VERTEBRAE or (part.isdigit() and f"{first[0]}{part}" in _VERTEBRAE | {"L1"})
               for part in rest)

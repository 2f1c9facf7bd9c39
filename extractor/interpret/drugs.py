"""Stage 3: ANESTHETIC and STEROID spans -> anesthetic and steroid facts.

An anesthetic used to numb the skin before the needle is not the block's
study agent; it is marked `role: "skin"` when a skin-infiltration word sits
close to it in the same sentence.
"""
from __future__ import annotations

import re

from extractor.interpret import Context, Draft
from extractor.numbers import number_value
from extractor.registry import interpreter

_CONCENTRATION = re.compile(r"(\d+(?:[.,]\d+)?)\s*%")  # "0.5%", and a European "0,5%"
_SKIN_WINDOW = 8  # tokens


_TOPICAL = {"patch", "patches", "cream", "ointment", "gel", "jelly", "topical"}


def _role(span, ctx: Context) -> str:
    after = ctx.doc[span.end: span.end + 2]
    if any(t.lower_ in _TOPICAL for t in after) or (span.start and ctx.doc[span.start - 1].lower_ in _TOPICAL):
        return "topical"  # a lidocaine patch is medication, not a block's agent
    for other in ctx.same_sentence(span, "SKIN_LOCAL"):
        gap = other.start - span.end if other.start >= span.end else span.start - other.end
        if gap <= _SKIN_WINDOW:
            return "skin"
    return "injectate"


def _spelled_concentration(span) -> str | None:
    """"two percent", "zero point five percent" (dictation) -> "2%", "0.5%"."""
    words = [t.lower_ for t in span]
    if "percent" not in words:
        return None
    before = words[:words.index("percent")]
    if len(before) >= 3 and before[-2] == "point":  # "zero point five"
        whole, tenth = number_value(before[-3]), number_value(before[-1])
        if whole is not None and tenth is not None and tenth < 10:
            return f"{whole + tenth / 10:g}%"
    value = number_value(before[-1]) if before else None
    return f"{value:g}%" if value is not None else None


@interpreter("ANESTHETIC")
def interpret_anesthetic(span, ctx: Context) -> list[Draft]:
    match = _CONCENTRATION.search(span.text)
    concentration = f"{match.group(1).replace(',', '.')}%" if match else _spelled_concentration(span)
    value = {"agent": ctx.values.get(span.id_), "concentration": concentration,
             "role": _role(span, ctx)}
    return [Draft("anesthetic", value, span.start_char, span.end_char, span.id_,
                  f"{value['agent']} ({value['role']})", span)]


@interpreter("STEROID")
def interpret_steroid(span, ctx: Context) -> list[Draft]:
    agent = ctx.values.get(span.id_)
    return [Draft("steroid", {"agent": agent}, span.start_char, span.end_char, span.id_, agent or "", span)]

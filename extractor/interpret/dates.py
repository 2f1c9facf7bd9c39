"""Stage 3: DATE spans -> date, service_date and dob facts, normalised by dateparser.

Patterns find the dates (with offsets); dateparser only normalises the text
of each span, with fixed settings. A date that does not parse is kept with
value None rather than dropped.
"""
from __future__ import annotations

import datetime as dt
import re

from extractor.interpret import Context, Draft
from extractor.registry import interpreter

__all__ = ["parse_date", "DATE_SETTINGS"]

DATE_SETTINGS = {"DATE_ORDER": "MDY", "PREFER_DATES_FROM": "past", "REQUIRE_PARTS": ["day", "month", "year"],
                 "PREFER_DAY_OF_MONTH": "first"}
_MDY = re.compile(r"^(\d{1,2})\s*[/-]\s*(\d{1,2})\s*[/-]\s*(\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_CUE_GAP = 3  # tokens allowed between a cue ("DOS") and its date, e.g. ":"


def _century(year: int) -> int:
    return year + 2000 if year < 50 else (year + 1900 if year < 100 else year)


def parse_date(text: str, relative_base: dt.date | None = None) -> dt.date | None:
    """Normalise one date span's text; None when it is not a real date."""
    text = " ".join(text.split())
    # Numeric forms are parsed directly: they are the common case and
    # dateparser is slow to start up for them.
    m = _MDY.match(text)
    try:
        if m:
            return dt.date(_century(int(m.group(3))), int(m.group(1)), int(m.group(2)))
        m = _ISO.match(text)
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    import dateparser  # slow import; only for worded dates

    settings = dict(DATE_SETTINGS)
    if relative_base is not None:
        settings["RELATIVE_BASE"] = dt.datetime.combine(relative_base, dt.time())
        settings.pop("REQUIRE_PARTS", None) if "ago" in text.lower() or text.lower() in {"today", "yesterday"} else None
    elif "ago" in text.lower() or text.lower() in {"today", "yesterday"}:
        return None
    parsed = dateparser.parse(text.replace("-", " "), languages=["en"], settings=settings)
    return parsed.date() if parsed else None


def _cue_before(span, ctx: Context) -> str | None:
    for cue in ctx.same_sentence(span, "CUE"):
        if 0 <= span.start - cue.end <= _CUE_GAP and ctx.values.get(cue.id_) in {"service_date", "dob"}:
            return ctx.values[cue.id_]
    return None


@interpreter("DATE")
def interpret_date(span, ctx: Context) -> list[Draft]:
    value = parse_date(span.text, ctx.document_date)
    kind = _cue_before(span, ctx) or "date"
    iso = value.isoformat() if value else None
    why = "dateparser" if value else "did not parse as a full date"
    return [Draft(kind, iso, span.start_char, span.end_char, span.id_, why, span)]

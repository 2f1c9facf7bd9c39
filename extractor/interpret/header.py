"""Stage 3: header CUE spans -> patient_name, mrn and provider facts.

The value is read from the tokens right after the cue ("Patient:", "MRN",
"Attending:") up to the end of the field; the fact's span covers the value
only, not the cue.
"""
from __future__ import annotations

import re

from extractor.interpret import Context, Draft
from extractor.registry import interpreter

__all__ = ["parse_name"]

# A word of letters (any script: "José Ñúñez-Ibáñez"), apostrophes and hyphens; "-": "Osei-Bonsu" is split in three.
_NAME_TOKEN = re.compile(r"^[^\W\d_](?:[^\W\d_]|['’\-])*\.?$|^,$|^-$")
_STOP_WORDS = {"mrn", "dob", "date", "sex", "age", "dos", "account", "acct", "md", "do", "id", "|"}
_ID_TOKEN = re.compile(r"^[A-Z]{0,3}\d{4,12}$", re.I)
_ID_PART = re.compile(r"^[A-Z]{0,5}\d{0,12}$")


def _id_last(doc, tok):
    """The last token of the record number starting at `tok`, or None: "8810274", or a hyphenated one the
    tokenizer split ("55-21870", "PRS-0093318", "SRSC-40017"): parts of capitals and digits, four digits at least."""
    last = tok
    while (last.i + 2 < len(doc) and not last.whitespace_ and doc[last.i + 1].text == "-"
           and not doc[last.i + 1].whitespace_ and doc[last.i + 2].text and _ID_PART.match(doc[last.i + 2].text)):
        last = doc[last.i + 2]
    if last is tok:
        return tok if _ID_TOKEN.match(tok.text) else None
    digits = sum(c.isdigit() for t in doc[tok.i:last.i + 1] for c in t.text)
    return last if tok.text and _ID_PART.match(tok.text) and digits >= 4 else None


def _label_line(span, doc) -> bool:
    """The cue is a line of its own ("Patient Name" / "Lindqvist, Harriet M." on the next line)."""
    return (span.end < len(doc) and doc[span.end].text == "\n"
            and (span.start == 0 or "\n" in doc[span.start - 1].text))


def _field_tokens(span, doc, accept) -> list:
    tokens = []
    value_below = _label_line(span, doc)
    for tok in doc[span.end:]:
        if not tokens and (tok.text in {":", "#"} or (tok.is_space and "\n" not in tok.text)):
            continue  # the cue's colon and the padding of aligned headers
        if not tokens and value_below and tok.text == "\n":
            value_below = False
            continue  # a printout's label line: the value is the next line
        if tok.is_space or tok.text.lower().strip(".:") in _STOP_WORDS or not accept(tok):
            break
        tokens.append(tok)
        if len(tokens) >= 6:
            break
    while tokens and tokens[-1].text == ",":
        tokens.pop()
    return tokens


def parse_name(text: str) -> dict | None:
    """'HALVORSEN, MARGARET A' or 'Margaret A. Halvorsen' -> first/middle/last."""
    if "," in text:
        last, _, rest = text.partition(",")
        parts = rest.split()
        if not parts:
            return None
        first, middle = parts[0], " ".join(parts[1:])
    else:
        parts = text.split()
        if len(parts) < 2:
            return None
        first, last, middle = parts[0], parts[-1], " ".join(parts[1:-1])

    def clean(word: str) -> str:
        word = word.strip(" .")
        return word[:1].upper() + word[1:].lower() if word.isupper() or word.islower() else word

    return {"first": clean(first), "middle": clean(middle).replace(".", ""), "last": clean(last.strip())}


@interpreter("CUE")
def interpret_cue(span, ctx: Context) -> list[Draft]:
    role = ctx.values.get(span.id_)
    doc = ctx.doc
    if role == "patient_name":
        tokens = _field_tokens(span, doc, lambda t: bool(_NAME_TOKEN.match(t.text)))
        if len(tokens) < 2:
            return []
        text = doc[tokens[0].i: tokens[-1].i + 1].text
        value = parse_name(text)
        if value is None:
            return []
        return [Draft("patient_name", value, tokens[0].idx, tokens[-1].idx + len(tokens[-1].text),
                      span.id_, "name after the patient cue", span)]
    if role == "mrn":
        tokens = _field_tokens(span, doc, lambda t: _id_last(doc, t) is not None)
        if not tokens:
            return []
        first = tokens[0]
        last = _id_last(doc, first)
        end = last.idx + len(last.text)
        return [Draft("mrn", doc[first.i:last.i + 1].text, first.idx, end, span.id_, "id after the MRN cue", span)]
    if role == "provider":
        # "OKONKWO-BRANDT,ADAEZE N": a comma with no space after it joins a "LAST,FIRST" name.
        tokens = _field_tokens(span, doc, lambda t: bool(_NAME_TOKEN.match(t.text)) and (t.text != "," or not t.whitespace_))
        if not tokens:
            return []
        end_tok = tokens[-1]
        # Include a credential written after a comma: "Priya Raghunathan, MD".
        following = doc[end_tok.i + 1: end_tok.i + 3]
        if len(following) == 2 and following[0].text == "," and following[1].text.upper() in {"MD", "DO", "PA", "NP"}:
            end_tok = following[1]
        text = doc[tokens[0].i: end_tok.i + 1].text
        return [Draft("provider", text, tokens[0].idx, end_tok.idx + len(end_tok.text), span.id_,
                      "name after the provider cue", span)]
    return []

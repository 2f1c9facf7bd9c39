"""Stage 3: header CUE spans -> patient_name, mrn and provider facts.

The value is read from the tokens right after the cue ("Patient:", "MRN",
"Attending:") up to the end of the field; the fact's span covers the value
only, not the cue.
"""
from __future__ import annotations

import re

from extractor.interpret import Context, Draft
from extractor.registry import interpreter
from extractor.sourcetext import line_bounds
from extractor.tables import column_rules

__all__ = ["parse_name", "drop_unneeded_fallbacks", "footer_patient"]

# A word of letters (any script: "José Ñúñez-Ibáñez"), apostrophes and hyphens; "-": "Osei-Bonsu" is split in three.
_NAME_TOKEN = re.compile(r"^[^\W\d_](?:[^\W\d_]|['’\-])*\.?$|^,$|^-$")
_STOP_WORDS = {"mrn", "dob", "date", "sex", "age", "dos", "account", "acct", "md", "do", "id", "|"}
_ID_TOKEN = re.compile(r"^[A-Z]{0,5}\d{4,12}$", re.I)  # "8810274", "LRMC00418853"
_ID_PART = re.compile(r"^[A-Z]{0,5}\d{0,12}$")
_CREDENTIALS = {"MD", "DO", "PA", "NP", "M.D.", "D.O."}

# Cue roles that name the provider only when the note names nobody in its header: a signature
# ("Electronically signed by …", a "Name, MD" line). (The patient's footer line: footer_patient.)
# A header printout and its signature often differ (a fellow writes, the attending signs),
# and the header is the one the annotators and the claim form use.
_SIGNER_ROLES = {"provider_signature", "provider_signature_line"}


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
        if sum(t.text not in _NICKNAME_MARKS for t in tokens) >= 6:
            break
    while tokens and tokens[-1].text == ",":
        tokens.pop()
    return tokens


def _first_names_after(doc, tokens: list) -> list:
    """A "Last, First M" provider read up to its comma, widened to the given names after it:
    "Lindqvist, Marten E MD" is Marten E. Lindqvist, not "Lindqvist" and a credential."""
    end = tokens[-1].i
    if len(tokens) != 1 or end + 2 >= len(doc) or doc[end + 1].text != ",":
        return tokens
    names = []
    for tok in doc[end + 2: end + 7]:
        joined = tok.text == "-" and not doc[tok.i - 1].whitespace_ and not tok.whitespace_  # "Mei-Ling"
        if tok.is_space or not _NAME_TOKEN.match(tok.text) or (tok.text in {",", "-"} and not joined) \
                or tok.text.upper() in _CREDENTIALS or tok.text.lower().strip(".:") in _STOP_WORDS:
            break
        names.append(tok)
    while names and names[-1].text == "-":
        names.pop()
    return tokens + [doc[end + 1]] + names if names and names[0].text[:1].isupper() else tokens


def _credential_after(doc, end_tok):
    """Widen a name to its credential written after a comma: "Priya Raghunathan, MD"."""
    following = doc[end_tok.i + 1: end_tok.i + 3]
    if len(following) == 2 and following[0].text == "," and following[1].text.upper() in _CREDENTIALS:
        return following[1]
    return end_tok


def _name_opening_line(doc, end: int, after_blank_line: bool) -> list:
    """The name tokens from the start of the line up to token `end` (exclusive): "Rosalind E. Achterberg"
    before ", MD", "Brennan, Thomas R" before "| DOB". Empty unless the whole stretch is a name of
    2-6 tokens (and, with `after_blank_line`, a blank line or the note's start comes before it)."""
    i = end
    while i > 0 and not doc[i - 1].is_space and _NAME_TOKEN.match(doc[i - 1].text) and end - i < 6:
        i -= 1
    tokens = list(doc[i:end])
    before = doc[i - 1].text if i > 0 else "\n\n"
    words = [t for t in tokens if t.text != ","]
    if (len(words) < 2 or not all(t.text[:1].isupper() for t in words)
            or "\n" not in before or (after_blank_line and before.count("\n") < 2)):
        return []
    return tokens


_NAME_PARTICLES = {"de", "del", "della", "da", "di", "la", "le", "van", "von", "der", "den", "du", "y", "bin", "al"}


def _sentence_case(tokens) -> bool:
    """Words after a patient cue that are a sentence, not a name: capitalised first, then lower-case words
    that are no name particles ("Instructions given to patient: Rate your usual low back pain").
    An export in lower case throughout ("patient: jane doe") is still a name."""
    words = [t.text for t in tokens if t.text[:1].isalpha()]
    lower = [w for w in words[1:] if w[:1].islower() and w.lower() not in _NAME_PARTICLES]
    return bool(words) and words[0][:1].isupper() and bool(lower)


def footer_patient(drafts: list[Draft], ctx: Context) -> list[Draft]:
    """The patient named at the start of a line that goes on to the DOB or MRN, for a note with no
    patient cue: a footer "Brennan, Thomas R | DOB 03/22/1958 | MRN …", an EHR banner "SHAW, DENISE M
    MRN: 40081772   DOB: 4/22/1963" or "SHAW, DENISE M (MRN 40081772)" (read before that cue), or
    a "Last, First" line right above the line that opens with the DOB or MRN."""
    if any(d.kind == "patient_name" for d in drafts):
        return drafts
    doc = ctx.doc
    for span in ctx.spans:
        if ctx.values.get(span.id_) not in ("dob", "mrn") or span.start < 3:
            continue
        # The cue set off from the name by "(" ("SHAW, DENISE M (MRN 40081772)"), a bar, a run of
        # spaces, or one line break (the name alone on the line above: "Quintero, Marisol T" / "MRN: …").
        before = doc[span.start - 1]
        if not (before.text in ("(", "|") or (before.is_space and before.text.count("\n") <= 1)):
            continue
        end = span.start - 1
        while end > 0 and (doc[end].text == "|" or (doc[end].is_space and "\n" not in doc[end].text)):
            end -= 1  # "Ferreira, Ana L.  |  DOB": spaces around the bar
        barred = "|" in doc[end + 1: span.start].text
        tokens = _name_opening_line(doc, end + 1 if barred else span.start - 1, after_blank_line=False)
        if tokens and tokens[-1].text.upper() in _CREDENTIALS:
            continue  # "Whitcomb, Thomas E, DO": a clinician
        # "Last, First" anywhere; "Ana Lucia Ferreira | DOB …" only in a banner's bars
        named = tokens and ("," in {t.text for t in tokens} or barred)
        value = parse_name(doc[tokens[0].i: tokens[-1].i + 1].text) if named else None
        if value is not None:
            return drafts + [Draft("patient_name", value, tokens[0].idx, tokens[-1].idx + len(tokens[-1].text),
                                   span.id_, "the name opening the line of the DOB or MRN", span)]
    return drafts


_REGARDING_REACH = 3  # lines after a letter's "RE:" line that may hold the patient's DOB or MRN


def _regarding_a_patient(span, tokens: list, ctx: Context) -> bool:
    """A letter's "RE:" names a patient when the capitalised name fills its line and a DOB or MRN
    cue, but no "Patient:" cue, follows in the same block of lines ("RE:  Rosalind M. Achterberg /
    DOB: 03/05/1958"); "Re: lumbar facet ablation" is a subject line."""
    if not all(t.text[:1].isupper() for t in tokens if t.text != ","):
        return False
    text = ctx.text
    name_end = tokens[-1].idx + len(tokens[-1].text)
    if text[name_end: line_bounds(text, name_end)[1]].strip():
        return False  # "RE: REQUEST FOR AUTHORIZATION (DWC Form RFA attached)": the name is the whole line
    # The block: the "RE:" line and up to _REGARDING_REACH lines under it, ending at a blank line.
    reach = line_bounds(text, span.end_char)[1]
    for _ in range(_REGARDING_REACH):
        line_start, line_end = line_bounds(text, min(reach + 1, len(text)))
        if reach >= len(text) or not text[line_start:line_end].strip():
            break
        reach = line_end
    cues = {ctx.values.get(s.id_) for s in ctx.spans if s.label_ == "CUE" and span.end_char < s.start_char < reach}
    return "patient_name" not in cues and bool(cues & {"dob", "mrn"})  # a "Patient:" line below names them


def drop_unneeded_fallbacks(drafts: list[Draft], values: dict) -> list[Draft]:
    """Keep a signer's name only when no other cue in the note names the provider."""
    def signer(d: Draft) -> bool:
        return d.kind == "provider" and values.get(d.pattern_id) in _SIGNER_ROLES

    if any(d.kind == "provider" and not signer(d) for d in drafts):
        return [d for d in drafts if not signer(d)]
    return drafts


_NICKNAME_MARKS = {'"', "\u201c", "\u201d"}  # a parenthesis ends the name: "Okafor, Danielle R (formerly Brandt)"
_NICKNAME = re.compile(r'\s*["\u201c][^"\u201d]*["\u201d]')


def parse_name(text: str) -> dict | None:
    """'HALVORSEN, MARGARET A' or 'Margaret A. Halvorsen' -> first/middle/last; a nickname in
    quotes ('Margaret "Peggy" Kessler-Ruiz') is no middle name."""
    text = _NICKNAME.sub("", text)
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


@interpreter("ID_CELL")
def interpret_identity_cell(span, ctx: Context) -> list[Draft]:
    """A tab or comma-separated export's MRN or patient-name cell (extractor/tables.py identity columns)."""
    kind = column_rules()[span.id_]["role"]
    value = parse_name(span.text) if kind == "patient_name" else span.text
    if not value:
        return []
    return [Draft(kind, value, span.start_char, span.end_char, span.id_, "identity column of a table", span)]


@interpreter("CUE")
def interpret_cue(span, ctx: Context) -> list[Draft]:
    role = ctx.values.get(span.id_)
    doc = ctx.doc
    if role == "patient_name":
        # a nickname in quotes may stand between the names: Margaret "Peggy" Kessler-Ruiz
        tokens = _field_tokens(span, doc, lambda t: bool(_NAME_TOKEN.match(t.text)) or t.text in _NICKNAME_MARKS)
        while tokens and tokens[-1].text in _NICKNAME_MARKS:
            tokens.pop()
        if tokens and tokens[0].text in _NICKNAME_MARKS:
            return []  # 'Patient: "So I went home ...': the patient's words, not a name
        if len(tokens) < 2:
            return []
        text = doc[tokens[0].i: tokens[-1].i + 1].text
        value = parse_name(text) if not _sentence_case(tokens) else None
        if value is None or (span.id_ == "cue.letter_regarding" and not _regarding_a_patient(span, tokens, ctx)):
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
    if role in {"provider", "provider_signature"}:
        # "OKONKWO-BRANDT,ADAEZE N": a comma with no space after it joins a "LAST,FIRST" name.
        def accept(t):
            if role == "provider_signature" and t.text[:1].islower():
                return False  # "signed by patient", "signed by the surgeon": not a name
            return bool(_NAME_TOKEN.match(t.text)) and (t.text != "," or not t.whitespace_)
        tokens = _field_tokens(span, doc, accept)
        if not tokens or (role == "provider_signature" and len(tokens) < 2):
            return []
        tokens = _first_names_after(doc, tokens)
        end_tok = _credential_after(doc, tokens[-1])
    elif role == "provider_signature_line":
        if span.start_char < len(ctx.text) // 2:
            return []  # a letter's addressee ("Annika Thorvaldsen, MD" / her clinic's address), not its signer
        tokens = _name_opening_line(doc, span.start, after_blank_line=True)
        if not tokens:
            return []
        end_tok = span[-1]
    else:
        return []
    text = doc[tokens[0].i: end_tok.i + 1].text
    explanation = "name after the provider cue" if role == "provider" else "the signer, as no header names a provider"
    return [Draft("provider", text, tokens[0].idx, end_tok.idx + len(end_tok.text), span.id_, explanation, span)]

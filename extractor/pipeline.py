"""Stage 3: SourceText -> spaCy Doc -> candidate spans -> interpreters -> facts.

`nlp(source.text)` runs exactly once per document; every fact indexes the
same text, so `source.text[fact.start:fact.end] == fact.text` always holds.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from functools import lru_cache

from extractor import interpret  # noqa: F401  (registers the interpreters)
from extractor.asides import release_aside_negations
from extractor.checkboxes import drop_unfilled, mark_answered_below, mark_side_grid, mark_unticked, read_ticked_relief
from extractor.facts import ExtractedDocument, Fact
from extractor.json_export import json_as_labels, looks_like_json
from extractor.hl7_export import hl7_as_labels, looks_like_hl7
from extractor.rtf_export import looks_like_rtf, rtf_as_text
from extractor.interpret import Context, Draft
from extractor.interpret.dates import day_first_note
from extractor.interpret.header import drop_unneeded_fallbacks, footer_patient
from extractor.nlp import RESOLVED, get_nlp
from extractor.patterns import pattern_values
from extractor.registry import interpreter_for
from extractor.sourcetext import SourceText
from extractor.tables import FILLER_OFFSETS, SOURCE_TEXT
from extractor.timeline import (mark_copied_forward, mark_corrected, mark_dated_history, mark_planned, mark_requested,
                                mark_spoken_corrections, mark_struck_through, mark_transmitted, own_date,
                                plan_field_ranges)

__all__ = ["extract_source", "extract_path"]

_SKIP_INTERPRET = {"DURATION", "SKIN_LOCAL"}  # read by other interpreters, not facts themselves


def _document_date(drafts: list[Draft], text: str) -> dt.date | None:
    own = own_date(drafts, text)
    return dt.date.fromisoformat(own) if own else None


def _interpret(spans, ctx: Context) -> list[Draft]:
    """Every span's drafts. Dates go first: the note's date resolves the relative ones.

    Why not two full DATE passes: only a date that did not resolve without the
    note's date ("two weeks ago", "September 15th") can change with it.
    """
    date_fn = interpreter_for("DATE")
    ctx.day_first = day_first_note(s.text for s in spans if s.label_ == "DATE")
    first = {id(s): date_fn(s, ctx) for s in spans if s.label_ == "DATE"}
    ctx.document_date = _document_date([d for found in first.values() for d in found], ctx.text)
    drafts: list[Draft] = []
    for span in spans:
        if span.label_ == "DATE":
            found = first[id(span)]
            if ctx.document_date is not None and any(d.value is None for d in found):
                found = date_fn(span, ctx)
            drafts.extend(found)
        elif span.label_ not in _SKIP_INTERPRET:
            fn = interpreter_for(span.label_)
            if fn is not None:
                drafts.extend(fn(span, ctx))
    return footer_patient(drop_unneeded_fallbacks(drafts, ctx.values), ctx)


_LINE_BREAK = re.compile("\n")
_NO_SPAN = (None, False, False, False)
_FLAGS = ("is_negated", "is_hypothetical", "is_historical")


@lru_cache(maxsize=1)
def _plain_extensions() -> bool:
    """True when ConText's flags and the token's section are plain stored values, as in medspaCy 1.3."""
    from spacy.tokens import Span, Token

    plain = [Span.get_extension(name) for name in _FLAGS] + [Token.get_extension("section")]
    return all(ext is not None and ext[1:] == (None, None, None) for ext in plain)


def _span_attributes(span) -> tuple:
    """(section, negated, hypothetical, historical) of a span: `span._.section_category` and ConText's flags.

    Why not `span._.x` four times: each builds an Underscore, and
    section_category goes through two getters (span -> first token ->
    section); that was ~18 us per fact, a third of interpreting. The values
    are read where spaCy keeps them, `doc.user_data` under
    `("._.", name, start_char, end_char)` for a span and
    `("._.", name, idx, None)` for a token (medspaCy's getter reads the
    section of the span's first token).
    """
    if span is None:
        return _NO_SPAN
    if not _plain_extensions():
        u = span._
        return (getattr(u, "section_category", None), bool(u.is_negated), bool(u.is_hypothetical),
                bool(u.is_historical))
    doc = span.doc
    data = doc.user_data
    start, end = span.start_char, span.end_char
    section = data.get(("._.", "section", doc[span.start].idx, None))
    return ((section.category if section is not None else None),
            *(bool(data.get(("._.", name, start, end), False)) for name in _FLAGS))


def _to_fact(draft: Draft, source: SourceText, attributes: tuple) -> Fact:
    span = draft.span
    page = source.page_of(draft.start, draft.end)
    section, negated, hypothetical, historical = attributes
    return Fact(
        kind=draft.kind, value=draft.value, start=draft.start, end=draft.end,
        text=source.text[draft.start:draft.end], pattern_id=draft.pattern_id, page=page,
        boxes=tuple(source.boxes_of(draft.start, draft.end)),
        section=section, negated=negated, hypothetical=hypothetical, historical=historical,
        explanation=f"{span.label_ if span is not None else draft.kind} via pattern `{draft.pattern_id}`: {draft.explanation}",
    )


# Not before a field of its own: a note exported in lower case has "sedation: none" lines.
_WRAPPED_LINE = re.compile(r"(?<=[A-Za-z0-9,(%])\n(?=[a-z(])(?![a-z][a-z /()&'-]{0,30}:[ \t]*[^\s])")


def _wrapped_break(match: re.Match) -> str:
    """A space for the line break, unless its line is one word: a heading or a label ("plan",
    "imp", "Procedure") ends where its writer ended it, and a note typed in lower case has them."""
    text, at = match.string, match.start()
    line = text[text.rfind("\n", 0, at) + 1: at].strip()
    return " " if " " in line or "\t" in line else "\n"


# "relief lasted about\n5 hours", "on March\n24, 2026", "(90% and\n87.5% relief", "Relief still\n   80-90%":
# a sentence's line never ends on these words, so a number on the next line goes on the sentence ("about\n5" joins;
# "mg\n5. Follow-up" does not; nor does "up to\n2 weeks": a joined "return to\n6/10" came under
# ConText's "return to" plans). A table row (a line with a tab or a bar, "Minutes\tRelief lasting\n30\t...") is no
# sentence and keeps its break. Found from the line breaks before a number, as a regex that tries
# the words at every word boundary cost a tenth of a note's extraction.
_BREAK_BEFORE_NUMBER = re.compile(r"\n(?=[ \t]*[~<>]?\d(?!\d*[.)][ \t]))")  # not before a list item's "2. "
_WORD_BEFORE_BREAK = re.compile(r"(?<![A-Za-z])([A-Za-z]+)\.?$")
_NO_LINE_ENDS_ON = frozenset(
    "about approximately approx around roughly nearly almost lasting lasted for than x and or from "
    "still remains remained was were "
    "january february march april june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split())


def _join_numbers_to_their_words(text: str) -> str:
    """The text with each line break after one of _NO_LINE_ENDS_ON and before a number made a space."""
    chars = None
    for m in _BREAK_BEFORE_NUMBER.finditer(text):
        at = m.start()
        word = _WORD_BEFORE_BREAK.search(text, max(0, at - 16), at)
        if word is None or word.group(1).lower() not in _NO_LINE_ENDS_ON:
            continue
        line = text[text.rfind("\n", 0, at) + 1: at]
        if "\t" not in line and "|" not in line:
            chars = chars or list(text)
            chars[at] = " "
    return "".join(chars) if chars else text


# "Patient Name ......... Thornbury, Gwen": a label at the start of a line, a run of
# leader dots between spaces, then the value.
_DOT_LEADER = re.compile(r"(?m)^([ \t]*[A-Za-z#][^\n.:]{0,40}? )(\.{3,})(?= )")


def _leader_as_colon(match: re.Match) -> str:
    return match.group(1) + ":" + " " * (len(match.group(2)) - 1)


# "PROCEDURE        Medial branch block #1", "PATIENT NAME  KOWALCZYK, HAROLD J": a capitalised label
# in a column of its own, its value two or more spaces to the right, reads as "PROCEDURE:" (the
# first space becomes the colon).
_LABEL_COLUMN = re.compile(r"(?m)^([A-Z][A-Z/&-]*(?: [A-Z/&-]+){0,3}) (?= +\S)")


# A word processor's no-break spaces and no-break hyphen ("April\u00a020, 2026", "C\u2011arm") read as
# the plain characters every rule is written for.
_TYPOGRAPHIC = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2011": "-"})
# An export's "key=value" header ("patient_name=Okonkwo, Adaeze N", "dos=2026-03-05") reads as
# "patient name:Okonkwo, Adaeze N": the label rules are written for words and a colon.
_KEY_VALUE = re.compile(r"(?m)^([a-z][a-z0-9]*(?:_[a-z0-9]+)*)=(?=\S)")


def _key_as_label(match: re.Match) -> str:
    return match.group(1).replace("_", " ") + ":"


# An export of one "key<TAB>value" field a line ("Chief_Complaint<TAB>Low back pain", "Plan<TAB>Bilateral
# L4-L5 ... medial branch blocks x2") reads as labelled lines, so the section and header rules apply:
# only in a run of such lines (a tab table's header "Time<TAB>NRS" is one line, with more tabs).
_KEY_TAB = re.compile(r"(?m)^([A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*)\t(?=[^\t\n]*\S[^\t\n]*$)")
_KEY_TAB_RUN = 3


def _tab_fields_as_labels(text: str) -> str:
    run: list[re.Match] = []
    chars = None
    for m in [*_KEY_TAB.finditer(text), None]:
        if m is not None and run and text.count("\n", run[-1].start(), m.start()) == 1:
            run.append(m)
            continue
        if len(run) >= _KEY_TAB_RUN:
            chars = chars if chars is not None else list(text)
            for field in run:
                # The colon only before a word or number: spaCy keeps "No:#1" or "Onset:~2" one token.
                colon = ":" if text[field.end()].isalnum() else "\t"
                chars[field.start(): field.end()] = field.group(1).replace("_", " ") + colon
        run = [m] if m is not None else []
    return text if chars is None else "".join(chars)


_MARKDOWN_BOLD = re.compile(r"\*\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*\*")  # "**Side:**"; "***" (an unfilled template field) is no pair
# Text copied out of a patient portal or web chart keeps its markup: "lidocaine&nbsp;2%",
# "L2, L3 &amp; L4", "can&#39;t stand &gt; 20 min", "<b>Plan</b><br>". An entity reads as its
# character at its end, spaces before ("&gt;" is "   >"); a tag reads as spaces. The span ruler
# reads over those spaces (see `filler_offsets`).
_HTML_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,7});")
_HTML_TAG = re.compile(r"</?(?:br|b|i|u|p|hr|div|span|strong|em|li|ul|ol|font|small|sup|sub|td|tr|th|table)\b"
                       r"[^<>\n]{0,80}>", re.IGNORECASE)


def _html_as_text(match: re.Match) -> str:
    whole = match.group(0)
    if whole[0] == "<":
        return " " * len(whole)
    char = html.unescape(whole)
    if len(char) != 1:  # not an entity HTML knows ("&foo;"): kept as written
        return whole
    return " " * (len(whole) - 1) + (" " if char.isspace() else char)


# A two-column table of fields: its header names the columns "Field | Value" (or "Item", "Parameter"...),
# a separator row follows, then "| Label | value |" rows up to the first line that is not one.
_FIELD_TABLE = re.compile(
    r"(?im)^\|[ \t]*(?:field|item|parameter|element|attribute|key|data element)s?[ \t]*\|[^|\n]+\|[ \t]*\n"
    r"\|[ \t:-]+\|[ \t:-]+\|[ \t]*\n"
    r"(?:\|[^|\n]+\|[^|\n]*\|[ \t]*(?:\n|$))+")
_FIELD_ROW = re.compile(r"(?m)^(\|[ \t]*[A-Za-z][A-Za-z /()&'-]{0,40}?)([ \t]*)\|(?=[^|\n]*\|[ \t]*$)")


# A fax read by OCR mistakes the digit for the letter that looks like it: "9O%", "1O/27/2026",
# "O.2 mL", "7/l0", "x l0 weeks", "l/10". An O touching a digit, or an l or I before a lone 0,
# before "/10" or between digits, is the digit. ("l1" is left alone: a lower-case export writes
# the level "l1"; so is the O of "H2O".) Each branch opens on its character, so the scan skips
# ahead instead of testing lookbehinds at every position.
# So is an O that opens a date ("O9/03/1961") and an l that opens a year ("l961"); a zero in a
# month's name is its O ("0ct 06, 2026", "0CT-07-2026", "N0v").
_OCR_DIGIT = re.compile(r"\d(?<![A-Za-z]\d)[Oo](?![A-Za-z])|O(?<![A-Za-z0-9]O)(?=\.\d|/10(?!\d)|\d[/-]\d)"
                        r"|[lI](?<![A-Za-z][lI])(?=0(?![A-Za-z0-9])|/10(?!\d))|\d/?[lI](?=\d)"
                        r"|l(?<![A-Za-z0-9]l)(?=(?:19|20)\d\d(?![0-9A-Za-z]))")
_AS_DIGITS = str.maketrans("OolI", "0011")  # a match holds the digit before the letter, if any
# A fax's OCR that read a month's leading zero as 9, 6 or 8 ("91/29/2026", "61/15/2026"): no date has
# such a month, and no score or fraction has two slashes and a year.
_OCR_MONTH_ZERO = re.compile(r"(?<![\d/])[689](?=[1-9]/(?:0?[1-9]|[12]\d|3[01])/(?:19|20)\d{2}\b)")
_OCR_MONTH = re.compile(r"0(?:(?<![A-Za-z0-9]0)(?=(?:ct|CT)(?![A-Za-z]))|(?<=(?<![A-Za-z0-9])[Nn]0)(?=[vV](?![A-Za-z])))")


def _field_rows_as_labels(table: re.Match) -> str:
    """Each "| Label | value |" row of a field table with its middle bar as the label's colon."""
    return _FIELD_ROW.sub(_label_colon, table.group(0))


def _label_colon(row: re.Match) -> str:
    """"| Laterality | Bilateral |" reads "| Laterality : Bilateral |"; a padded label takes the colon
    itself ("| Patient:           Doe, Jane |"), or the padding would stand between it and its colon."""
    label, padding = row.group(1), row.group(2)
    return label + ":" + padding if len(padding) > 1 else label + padding + ":"


_CSV_MIN_FIELDS = 5  # "MRN,Patient Name,DOB,DOS,Procedure,...": a row of this many cells or more


def _csv_delimiters(line: str) -> list[int] | None:
    """Offsets of the commas that separate the cells of one comma-separated line and of its cells'
    quote marks ("WHITLOCK, TERRENCE A" is one cell); None when a quote is left open."""
    marks, quoted = [], False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
            marks.append(i)
        elif ch == "," and not quoted:
            marks.append(i)
    return None if quoted else marks


def _csv_as_tabs(text: str) -> str:
    """A comma-separated export's rows with tabs between their cells and spaces for their quotes.

    Only a block of three lines or more with the same number of cells, at
    least _CSV_MIN_FIELDS: prose has commas too. The tab-table reader
    (extractor/tables.py) then reads its columns, and "Right,7,1,85" is four
    tokens.
    """
    lines = text.split("\n")
    wide = [line.count(",") >= _CSV_MIN_FIELDS - 1 for line in lines]  # cheap first: most notes have no such run
    if not any(all(wide[i:i + 3]) for i in range(len(wide) - 2)):
        return text
    starts, offset = [], 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    marks = [_csv_delimiters(line) if w else None for line, w in zip(lines, wide)]
    cells = [sum(line[at] == "," for at in m) + 1 if m else 0 for line, m in zip(lines, marks)]
    chars, i = None, 0
    while i < len(lines):
        j = i + 1
        while j < len(lines) and cells[i] >= _CSV_MIN_FIELDS and cells[j] == cells[i]:
            j += 1
        if j - i >= 3:
            chars = chars or list(text)
            for k in range(i, j):
                for at in marks[k]:
                    chars[starts[k] + at] = "\t" if lines[k][at] == "," else " "
        i = j
    return "".join(chars) if chars else text


# "(right L2,\nL3 and L4 medial branches)", "the L3 and\nL4 medial branch targets": a list of
# levels wrapped after a comma or its "and" goes on.
# (The letter opens the regex, so the scan jumps between C, T, L and S instead of testing
# the lookbehind at every character: a quarter of the time.)
_LEVEL_LIST_BREAK = re.compile(r"([CTLS](?<![A-Za-z][CTLS])\d{1,2}(?:,| and| &))\n(?=[ \t]*[CTLS]\d)")

# A hard-wrapped line whose next line is indented to where its own text starts (a list item's
# hanging indent, an indented paragraph, a field's value column) goes on there:
# "1. Left L3-4 and L4-5 medial branch blocks (left L2, L3, L4 medial\n   branches) in our office".
# Only before a lower-case word, as `_WRAPPED_LINE`: a line that opens in capitals or a number
# may start a field or a sentence of its own, and ConText's scopes must not reach into it.
_INDENTED_BREAK = re.compile(r"(?<=[A-Za-z0-9,(%])\n(?=( +)[a-z])")
# Where a line's text starts: after its indent, a list marker or a short "Label:".
_TEXT_COLUMNS = re.compile(r"^( *)(?:(?:[-*+\u2022]|\d{1,2}[.)]|[a-z][.)]|[A-Za-z][A-Za-z /()#&'-]{0,30}:) +)?")
# The next line is an item or a field of its own ("2. ...", "Guidance: fluoroscopy").
_OWN_LINE = re.compile(r" +(?:[a-z][.)] |[A-Za-z][A-Za-z /&'-]{0,30}(?:\([A-Za-z0-9 ]+\))?(?::[ \t]*| \.{3,} ?| {2,})\S)")
_WRAP_WIDTH = 40  # a line shorter than this ended where its writer ended it, not at a margin


def _join_hanging_indents(text: str) -> str:
    """The text with each line break before a hanging-indented continuation made a space.

    The next line's indent stays: the span ruler reads across it (extractor/nlp.py
    `across_filler`), and every offset still indexes `source.text`.
    """
    chars = None
    for m in _INDENTED_BREAK.finditer(text):
        at, indent = m.start(), len(m.group(1))
        line = text[text.rfind("\n", 0, at) + 1: at]
        if len(line) < _WRAP_WIDTH or "\t" in line or "|" in line or _OWN_LINE.match(text, at + 1):
            continue
        columns = _TEXT_COLUMNS.match(line)  # the indent, and the text after a marker or label
        if indent in (len(columns.group(1)), columns.end()):
            chars = chars or list(text)
            chars[at] = " "
    return "".join(chars) if chars else text


# An e-mail's quoted reply: "> My back was about 90% better\n> for around 5 hours".
_QUOTE_MARKS = re.compile(r"^>[> \t]*", re.MULTILINE)
_QUOTED_LINES_MIN = 3


def _email_quotes_as_indents(text: str) -> str:
    """The text with the ">" marks that open a quoted e-mail's lines made spaces.

    Why: each quoted line then reads as an indented line, and a sentence the
    writer's mail program wrapped goes on across it (`_join_hanging_indents`)
    as it does in any other hard-wrapped note. One mark alone is no quote
    ("> 3 months" as a line of its own).
    """
    if len(_QUOTE_MARKS.findall(text)) < _QUOTED_LINES_MIN:
        return text
    return _QUOTE_MARKS.sub(lambda m: m.group().replace(">", " "), text)


def nlp_text(text: str) -> str:
    """The text the pipeline reads: wrapped line breaks become spaces, leader dots a colon.

    Why: a PDF or a hard-wrapped export breaks "radiofrequency\nablation"
    across lines, and a token pattern cannot step over the line-break token.
    Only a break between a word and a lower-case continuation is replaced,
    or one between a word no line ends on ("about", "for") and a number, or
    one inside a list of levels ("L2,\nL3 and L4 medial branches").
    A flowsheet's "Label ...... value" row says what "Label: value" says, and
    the header, section and statement rules are written for the colon; so
    does a capitalised label in a column of its own ("PROCEDURE        Medial
    branch block"), and a row of a two-column "| Field | Value |" table
    ("| Laterality | Bilateral |" reads "| Laterality : Bilateral |"), and a
    run of "key<TAB>value" export lines ("Chief_Complaint<TAB>Low back pain"
    reads "Chief Complaint:Low back pain"). A Markdown export's bold markers
    ("**Patient:** Doe, Jane") become spaces:
    the label rules read "Patient:" as in any other note, and no-break
    spaces and hyphens are plain ones. A letter that OCR read for a digit
    inside a number ("9O%", "7/l0", "NRS O/10", "07/l9/1961", "O9/03/l961") is the
    digit, a zero in a month's name ("0ct 06, 2026") is its O, and a month's leading
    zero read as 9 ("91/29/2026") is the zero.
    A comma-separated export's cells are split by tabs, as a tab export's are.
    An e-mail's quoted lines lose their ">" marks, so they read as indented lines.
    Each change is one character for one, so every offset still indexes
    `source.text`.
    """
    if looks_like_json(text):  # first: its fields become the labelled lines the rules read
        text = json_as_labels(text)
    elif looks_like_rtf(text):  # an export that kept its rich-text codes: the text they format
        text = rtf_as_text(text)
    if "MSH|" in text and looks_like_hl7(text):  # a results message: its segments as labelled lines
        text = hl7_as_labels(text)
    if "=" in text:  # first: the wrapped-line rule leaves a field's own line alone
        text = _KEY_VALUE.sub(_key_as_label, text)
    if "\t" in text:
        text = _tab_fields_as_labels(text)
    if "\n>" in text:
        text = _email_quotes_as_indents(text)
    text = _WRAPPED_LINE.sub(_wrapped_break, text)
    if "\n " in text:
        text = _join_hanging_indents(text)
    text = _join_numbers_to_their_words(text)
    text = _LEVEL_LIST_BREAK.sub(r"\1 ", text)
    if "," in text:
        text = _csv_as_tabs(text)
    if "..." in text:
        text = _DOT_LEADER.sub(_leader_as_colon, text)
    if "  " in text:
        text = _LABEL_COLUMN.sub(r"\1:", text)
    if "**" in text:
        text = _MARKDOWN_BOLD.sub(r"  \1  ", text)
    if "&" in text or "<" in text:
        text = _HTML_TAG.sub(_html_as_text, _HTML_ENTITY.sub(_html_as_text, text))
    if "|" in text:
        text = _FIELD_TABLE.sub(_field_rows_as_labels, text)
    if not text.isascii():
        text = text.translate(_TYPOGRAPHIC)
    text = _OCR_MONTH.sub("O", text)
    text = _OCR_MONTH_ZERO.sub("0", text)
    return _OCR_DIGIT.sub(lambda m: m.group(0).translate(_AS_DIGITS), text)


def _sections(doc, text: str) -> list[tuple[str | None, int, int]]:
    """The sectionizer's sections as (category, title start, body end) character offsets."""
    sections = doc._.sections or []
    return [(sec.category, doc[sec.title_start].idx if sec.title_start < len(doc) else len(text),
             doc[sec.body_end - 1].idx + len(doc[sec.body_end - 1].text) if sec.body_end > 0 else 0)
            for sec in sections]


def filler_offsets(source: str, text: str) -> set[int]:
    """Where the text has spaces that stand for no word: the indent of a line joined to the one
    above, and what is left of an HTML tag or entity. A whitespace token starting there is
    filler, which the span ruler reads over (extractor/nlp.py across_filler)."""
    found = {m.end() for m in _LINE_BREAK.finditer(source) if text[m.start()] != "\n"}
    if "&" in source or "<" in source:
        for m in _HTML_TAG.finditer(source):
            found.update(range(m.start(), m.end()))
        for m in _HTML_ENTITY.finditer(source):
            found.update(range(m.start(), m.end()))
    return found


def extract_source(source: SourceText, sha256: str = "") -> ExtractedDocument:
    """Find every fact in one document's text."""
    text = nlp_text(source.text)
    nlp = get_nlp()
    doc = nlp.make_doc(text)
    doc.user_data[SOURCE_TEXT] = text  # components read the string instead of re-joining the tokens
    doc.user_data[FILLER_OFFSETS] = filler_offsets(source.text, text)
    doc = nlp(doc)
    spans = sorted(doc.spans[RESOLVED], key=lambda s: (s.start, s.end))
    ctx = Context(doc=doc, spans=spans, values=pattern_values(), _text=text)
    drafts = _interpret(spans, ctx)
    facts = tuple(sorted((_to_fact(d, source, _span_attributes(d.span)) for d in drafts),
                         key=lambda f: (f.start, f.end, f.kind)))
    facts = mark_planned(mark_dated_history(facts, source.text), plan_field_ranges(_sections(doc, text), text))
    facts = mark_answered_below(mark_unticked(mark_requested(facts, source.text), source.text), source.text)
    facts = read_ticked_relief(release_aside_negations(mark_side_grid(facts, source.text), source.text), source.text)
    facts = mark_copied_forward(drop_unfilled(facts, source.text), source.text)
    facts = mark_spoken_corrections(mark_corrected(mark_transmitted(facts, source.text), source.text), source.text)
    facts = mark_struck_through(facts, source.text)
    return ExtractedDocument(path=source.path, sha256=sha256 or hashlib.sha256(source.text.encode()).hexdigest(),
                             source=source, facts=facts, warnings=tuple(source.warnings))


def extract_path(path: str) -> ExtractedDocument:
    """Read a .txt/.md/.pdf file and extract its facts, within the per-document limits.

    Raises:
        IngestError: the file cannot be read, or a limit (size, pages,
            characters, time) was exceeded.
    """
    from extractor.ingest import Limits, read_document, sha256_of, time_limit

    limits = Limits.from_env()
    with time_limit(path, limits.max_seconds):
        source = read_document(path, limits=limits)
        return extract_source(source, sha256_of(path))

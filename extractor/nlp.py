"""Stage 2: build the spaCy pipeline that turns text into candidate spans.

`spacy.blank("en")` with a tokenizer tuned for clinical shorthand, a
sentencizer that also breaks on note lines, our SpanRuler patterns, one
overlap filter, then medspaCy's ConText (negated / hypothetical / historical)
and Sectionizer over the surviving spans. No model is loaded or downloaded.
"""
from __future__ import annotations

import re
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

from extractor.overlaps import prefer_longest_then_priority
from extractor.patterns import PATTERN_DIR, load_json_data, load_patterns

__all__ = ["build_nlp", "get_nlp", "CANDIDATES", "RESOLVED"]

CANDIDATES = "candidates"
RESOLVED = "medspacy_spans"

# Why: the default English tokenizer keeps "L4/5", "8/10", "10/2/26", "2h",
# "x2" and "~90" as single tokens but splits "L4-5" and "80%"; patterns can
# only be written once if every level, score and date splits the same way.
_EXTRA_INFIXES = [
    r"(?<=[A-Za-z0-9])[-–—/](?=[A-Za-z0-9])",
    r"(?<=[A-Za-z0-9])[<>#](?=[A-Za-z0-9])",
    r"(?<=[0-9])(?=(?:h|hr|hrs|wk|wks|mo|mos|yr|yrs|min|mins|mg|ml|mL|cc|x)\b)",
]
_EXTRA_PREFIXES = [r"~", r"x(?=[0-9])", r"≥", r"≤", r"#"]
_UNIT_WITH_DOT = re.compile(r"^(h|hr|hrs|min|mins|wk|wks|mo|mos|yr|yrs|d)\.$", re.I)
_EXTRA_SUFFIXES = [r"(?<=[0-9])(?:h|hr|hrs|wk|wks|mo|mos|yr|yrs|min|mins|mg|ml|mL|cc)"]


def _tune_tokenizer(nlp: Language) -> None:
    defaults = nlp.Defaults
    nlp.tokenizer.infix_finditer = compile_infix_regex(list(defaults.infixes) + _EXTRA_INFIXES).finditer
    nlp.tokenizer.prefix_search = compile_prefix_regex(_EXTRA_PREFIXES + list(defaults.prefixes)).search
    nlp.tokenizer.suffix_search = compile_suffix_regex(_EXTRA_SUFFIXES + list(defaults.suffixes)).search
    # Special cases such as "a.m." would otherwise shadow our splits of
    # shorthand like "s/p" or "B/L"; keep only those without digits or slashes.
    # "h." and "min." would otherwise stay whole and hide the unit of "~6 h.".
    rules = {k: v for k, v in nlp.tokenizer.rules.items()
             if "/" not in k and "-" not in k and not _UNIT_WITH_DOT.match(k)}
    nlp.tokenizer.rules = rules


@Language.component("line_sentences")
def line_sentences(doc: Doc) -> Doc:
    """Start a sentence at each note line, unless the line is a wrapped continuation.

    Why: headers, table rows and list items carry no final period, yet a side
    or a negation must not reach across them.
    """
    for token in doc[:-1]:
        if not (token.is_space and "\n" in token.text):
            continue
        nxt = doc[token.i + 1]
        prev = doc[token.i - 1] if token.i else None
        wrapped = (prev is not None and prev.text not in {":", ".", "|", ";"} and not prev.is_space
                   and nxt.text[:1].islower() and "\n\n" not in token.text)
        if not wrapped:
            nxt.is_sent_start = True
    return doc


@Language.component("resolve_candidates")
def resolve_candidates(doc: Doc) -> Doc:
    """Settle overlapping candidates once, before assertion and sections."""
    doc.spans[RESOLVED] = prefer_longest_then_priority(list(doc.spans[CANDIDATES]))
    return doc


def build_nlp() -> Language:
    """A blank English pipeline with our rules, ConText and Sectionizer."""
    # Imported here: medspaCy takes about a second to import, and commands
    # that never extract (profiles, --help) should not pay for it.
    from medspacy.context import ConText, ConTextRule
    from medspacy.section_detection import SectionRule, Sectionizer  # noqa: F401

    nlp = spacy.blank("en")
    _tune_tokenizer(nlp)
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("line_sentences")
    ruler = nlp.add_pipe("span_ruler", config={"spans_key": CANDIDATES, "overwrite": True,
                                               "phrase_matcher_attr": "LOWER"})
    ruler.add_patterns([spec.ruler_pattern() for spec in load_patterns(PATTERN_DIR)])
    nlp.add_pipe("resolve_candidates")

    context = nlp.add_pipe("medspacy_context", config={"input_span_type": "group", "rules": None,
                                                       "span_group_name": RESOLVED})
    ours = load_json_data("context_rules.json")
    # medspaCy's default rules, less those our file overrides (its "cannot"
    # negates "cannot stand", which is a functional limit, not a denial).
    dropped = {lit.lower() for lit in ours.get("drop_default_literals", [])}
    defaults = [r for r in ConTextRule.from_json(context.DEFAULT_RULES_FILEPATH) if r.literal.lower() not in dropped]
    context.add(defaults + [ConTextRule(**_context_kwargs(rule)) for rule in ours["context_rules"]])
    sectionizer = nlp.add_pipe("medspacy_sectionizer", config={
        "rules": None, "input_span_type": "group", "span_group_name": RESOLVED})
    sectionizer.add([SectionRule(**rule) for rule in load_json_data("section_rules.json")["section_rules"]])
    return nlp


def _context_kwargs(rule: dict) -> dict:
    return {k: v for k, v in rule.items() if k in {"literal", "category", "direction", "pattern", "max_scope"}}


@lru_cache(maxsize=1)
def get_nlp() -> Language:
    """The shared pipeline, built once per process."""
    return build_nlp()

"""Stage 2: build the spaCy pipeline that turns text into candidate spans.

`spacy.blank("en")` with a tokenizer tuned for clinical shorthand, a
sentencizer that also breaks on note lines, our SpanRuler patterns, one
overlap filter, then medspaCy's ConText (negated / hypothetical / historical)
and Sectionizer over the surviving spans. No model is loaded or downloaded.
"""
from __future__ import annotations

import re
import sys
import types
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

from extractor.overlaps import prefer_longest_then_priority
from extractor.patterns import PATTERN_DIR, load_json_data, load_patterns

__all__ = ["build_nlp", "get_nlp", "blank_pipeline", "CANDIDATES", "RESOLVED"]

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


def _clinical_tokenizer(nlp: Language) -> Tokenizer:
    """spaCy's English tokenizer with our affixes and fewer special cases."""
    defaults = nlp.Defaults
    # Special cases such as "a.m." would otherwise shadow our splits of
    # shorthand like "s/p" or "B/L"; keep only those without digits or slashes.
    # "h." and "min." would otherwise stay whole and hide the unit of "~6 h.".
    rules = {k: v for k, v in defaults.tokenizer_exceptions.items()
             if "/" not in k and "-" not in k and not _UNIT_WITH_DOT.match(k)}
    return Tokenizer(
        nlp.vocab, rules=rules,
        prefix_search=compile_prefix_regex(_EXTRA_PREFIXES + list(defaults.prefixes)).search,
        suffix_search=compile_suffix_regex(_EXTRA_SUFFIXES + list(defaults.suffixes)).search,
        infix_finditer=compile_infix_regex(list(defaults.infixes) + _EXTRA_INFIXES).finditer,
        token_match=defaults.token_match, url_match=defaults.url_match)


@spacy.registry.tokenizers("facet_claims.clinical_tokenizer.v1")
def _clinical_tokenizer_factory():
    # Why a factory: built after spacy.blank, the default tokenizer would
    # load its ~1,300 special cases, then load them again at each change of
    # affixes or rules (~0.3 s of start-up); built here, once.
    return _clinical_tokenizer


_BLANK_CONFIG = {"nlp": {"tokenizer": {"@tokenizers": "facet_claims.clinical_tokenizer.v1"}}}


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


def build_nlp(fast: bool = True) -> Language:
    """A blank English pipeline with our rules, ConText and Sectionizer.

    `fast` lets spaCy test the patterns' leading words in C (lexeme flags,
    extractor/matchflags.py): the same spans, ~10x faster matching. False
    builds the patterns exactly as written (to check that claim).
    """
    # Imported here: commands that never extract (profiles, --help) should
    # not pay for spaCy components they do not use.
    _import_medspacy()
    from medspacy.context import ConText, ConTextRule
    from medspacy.section_detection import SectionRule, Sectionizer  # noqa: F401

    nlp = spacy.blank("en", config=_BLANK_CONFIG)
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("line_sentences")
    ruler = nlp.add_pipe("span_ruler", config={"spans_key": CANDIDATES, "overwrite": True,
                                               "phrase_matcher_attr": "LOWER"})
    ruler_patterns = [spec.ruler_pattern() for spec in load_patterns(PATTERN_DIR)]
    nlp.add_pipe("resolve_candidates")

    context = nlp.add_pipe("medspacy_context", config={"input_span_type": "group", "rules": None,
                                                       "span_group_name": RESOLVED})
    ours = load_json_data("context_rules.json")
    # medspaCy's default rules, less those our file overrides (its "cannot"
    # negates "cannot stand", which is a functional limit, not a denial).
    dropped = {lit.lower() for lit in ours.get("drop_default_literals", [])}
    defaults = [r for r in ConTextRule.from_json(context.DEFAULT_RULES_FILEPATH) if r.literal.lower() not in dropped]
    own_rules = [ConTextRule(**_context_kwargs(rule)) for rule in ours["context_rules"]]
    context_rules = defaults + own_rules
    sectionizer = nlp.add_pipe("medspacy_sectionizer", config={
        "rules": None, "input_span_type": "group", "span_group_name": RESOLVED})
    section_rules = [SectionRule(**rule) for rule in load_json_data("section_rules.json")["section_rules"]]
    if fast:
        inner = [_spacy_matcher(context, "ConText"), _spacy_matcher(sectionizer, "Sectionizer")]
        rules = context_rules + section_rules if None not in inner else []
        if rules:
            _validate(own_rules + section_rules)  # medspaCy's own defaults are its business
            for matcher in inner:
                matcher.validate = False  # it would refuse the flags (see _spacy_matcher)
        _use_leading_flags(nlp, ruler_patterns, rules)
    ruler.add_patterns(ruler_patterns)
    import extractor.fuzzy  # noqa: F401  (registers the "fuzzy_drugs" factory)

    nlp.add_pipe("fuzzy_drugs", after="span_ruler", config={"spans_key": CANDIDATES})
    context.add(context_rules)
    sectionizer.add(section_rules)
    return nlp


def _import_medspacy() -> None:
    """Import medspaCy without QuickUMLS, which we never use.

    Why: `import medspacy.context` runs medspacy/__init__.py, which imports
    medspacy.util, whose first import is QuickUMLS, and with it nltk and
    scipy: ~1.3 s, most of the start-up of `facet-claims draft` on one note.
    medspacy.util only needs the module to name it, for `medspacy.load(...)`
    with a QuickUMLS pipe. So while medspaCy is imported, `quickumls` is an
    empty stand-in module, removed again at once: a later `import quickumls`
    gets the real package; only `medspacy.load` with "medspacy_quickumls"
    would not work in this process, and nothing here calls it.
    """
    if "medspacy" in sys.modules or "quickumls" in sys.modules:
        return
    stand_in = types.ModuleType("quickumls")
    stand_in.spacy_component = None  # medspacy/util.py: `from quickumls import spacy_component`
    sys.modules["quickumls"] = stand_in
    try:
        import medspacy  # noqa: F401
    finally:
        if sys.modules.get("quickumls") is stand_in:
            del sys.modules["quickumls"]


def _spacy_matcher(component, owner: str):
    """The spaCy Matcher inside a medspaCy ConText or Sectionizer, or None.

    medspaCy (pinned at 1.3.1) keeps it in name-mangled private attributes and
    creates it with validate=True, whose schema knows no lexeme flags; we
    validate the rules as written (_validate), then switch its validation off.
    Another medspaCy without these attributes just gets no flags.
    """
    outer = getattr(component, f"_{owner}__matcher", None)
    matcher = getattr(outer, "_MedspacyMatcher__matcher", None)
    return matcher if hasattr(matcher, "validate") else None


def _validate(rules: list) -> None:
    """What medspaCy's Matcher checks when a rule is added, on our patterns as written."""
    from spacy.errors import MatchPatternError
    from spacy.schemas import validate_token_pattern

    for rule in rules:
        if isinstance(rule.pattern, list):
            errors = validate_token_pattern(rule.pattern)
            if errors:
                raise MatchPatternError(f"{rule.category}: {rule.literal}", {0: errors})


def _use_leading_flags(nlp: Language, ruler_patterns: list[dict], rules: list) -> None:
    """Rewrite the patterns in place for matching in C; see extractor/matchflags.py."""
    from extractor.matchflags import LeadingFlags

    token_rules = [r for r in rules if isinstance(r.pattern, list)]
    flags = LeadingFlags(nlp.vocab)
    flags.plan([p["pattern"] for p in ruler_patterns if isinstance(p["pattern"], list)],
               [r.pattern for r in token_rules])
    for rule in token_rules:
        rule.pattern = flags.rewrite(rule.pattern)
    expanded = []
    for entry in ruler_patterns:
        if isinstance(entry["pattern"], list):
            expanded.extend({**entry, "pattern": alt} for alt in flags.expand(entry["pattern"]))
        else:
            expanded.append(entry)
    ruler_patterns[:] = expanded


def _context_kwargs(rule: dict) -> dict:
    return {k: v for k, v in rule.items() if k in {"literal", "category", "direction", "pattern", "max_scope"}}


def blank_pipeline() -> Language:
    """spaCy's blank English pipeline as shipped: the tokenisation floor `facet-claims bench` compares with."""
    return spacy.blank("en")


@lru_cache(maxsize=1)
def get_nlp() -> Language:
    """The shared pipeline, built once per process."""
    return build_nlp()

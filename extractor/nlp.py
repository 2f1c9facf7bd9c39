"""Stage 2: build the spaCy pipeline that turns text into candidate spans.

`spacy.blank("en")` with a tokenizer tuned for clinical shorthand, a
sentencizer that also breaks on note lines, our SpanRuler patterns, one
overlap filter, then medspaCy's ConText (negated / hypothetical / historical)
and Sectionizer over the surviving spans. No model is loaded or downloaded.
"""
from __future__ import annotations

import gc
import re
import sys
import types
from functools import lru_cache, partial

import spacy
from spacy.attrs import IDS, IS_SPACE, LIKE_NUM, LOWER, ORTH
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.strings import hash_string
from spacy.tokens import Doc, Span
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

from extractor.numbers import COMPOUND_NUMBER_WORDS, TENS_WORDS, UNIT_WORDS, like_num
from extractor.overlaps import (join_restated_drugs, prefer_longest_then_priority, without_mid_line_log_rows,
                                without_one_vertebra_joints, without_unfollowed_connectors)
from extractor.patterns import PATTERN_DIR, load_json_data, load_patterns
from extractor.tables import FILLER_OFFSETS, FILLER_TOKENS

__all__ = ["build_nlp", "get_nlp", "blank_pipeline", "check_rule_patterns", "CANDIDATES", "RESOLVED"]

CANDIDATES = "candidates"
RESOLVED = "medspacy_spans"

# Why: the default English tokenizer keeps "L4/5", "8/10", "10/2/26", "2h",
# "x2" and "~90" as single tokens but splits "L4-5" and "80%"; patterns can
# only be written once if every level, score and date splits the same way.
_EXTRA_INFIXES = [
    r"(?<=[A-Za-z0-9])[-–—/](?=[A-Za-z0-9])",
    r"(?<=[A-Za-z0-9])[<>#](?=[A-Za-z0-9])",
    r"(?<=[0-9])@(?=[0-9])",  # "JAN 20, 2026@09:42" (VA-style time stamps)
    r"(?<=[0-9])%(?=[-–—][0-9])", r"(?<=%)[-–—](?=[0-9])",  # "80%-90%": a range, split as "80-90%" is
    r"(?<=[0-9])-(?=>[0-9])", r"(?<=-)>(?=[0-9])",  # "VAS 8->1": split as "8 -> 1" is
    r"(?<=[0-9])→(?=[0-9])",  # "NRS 8→1/10": split as "8 → 1/10" is
    r"(?<=[0-9])%(?=x[0-9])", r"(?<=%)x(?=[0-9])",  # "Relief 88%x3h" typed fast: split as "88% x 3h" is
    r"(?<=[0-9])(?=(?:h|hr|hrs|wk|wks|mo|mos|yr|yrs|min|mins|mg|ml|mL|cc|x)\b)",
    r"(?<=[A-Za-z]):(?=[A-Za-z0-9])",  # a label and its value with no space: "dob:1979-11-02", "Pt:Okafor"
]
_EXTRA_PREFIXES = [r"~", r"≈", r"x(?=[0-9])", r"≥", r"≤", r"#"]
_CLOCK_WORD = re.compile(r"^\d{1,2}[ap]\.?m\.?$")  # spaCy's "2pm", "11a.m." special cases
_UNIT_WITH_DOT = re.compile(r"^(h|hr|hrs|min|mins|wk|wks|mo|mos|yr|yrs|d)\.$", re.I)
_EXTRA_SUFFIXES = [r"(?<=[0-9])(?:h|hr|hrs|wk|wks|mo|mos|yr|yrs|min|mins|mg|ml|mL|cc)",
                   r"~~"]  # the end of Markdown strike-through: "~~Bilateral~~ Right"


def _clinical_tokenizer(nlp: Language) -> Tokenizer:
    """spaCy's English tokenizer with our affixes and fewer special cases."""
    defaults = nlp.Defaults
    # Special cases such as "a.m." would otherwise shadow our splits of
    # shorthand like "s/p" or "B/L"; keep only those without digits or slashes.
    # "h." and "min." would otherwise stay whole and hide the unit of "~6 h.".
    # Emoticons that open with a digit ("8)", "0.0", "8D") would keep "(T6-7, T7-8)" from splitting
    # its last joint off the bracket; a clock time ("2pm") stays.
    rules = {k: v for k, v in defaults.tokenizer_exceptions.items()
             if "/" not in k and "-" not in k and not _UNIT_WITH_DOT.match(k)
             and not (k[:1].isdigit() and not _CLOCK_WORD.match(k))}
    # Dictated "forty-four percent" stays one number token (extractor/numbers.py).
    for word in COMPOUND_NUMBER_WORDS:
        for form in (word, word.capitalize()):
            rules[form] = [{ORTH: form}]
    nlp.vocab.lex_attr_getters[LIKE_NUM] = like_num
    affixes = {
        "prefix_search": compile_prefix_regex(_EXTRA_PREFIXES + list(defaults.prefixes)).search,
        "suffix_search": compile_suffix_regex(_EXTRA_SUFFIXES + list(defaults.suffixes)).search,
        "infix_finditer": compile_infix_regex(list(defaults.infixes) + _EXTRA_INFIXES).finditer,
        "token_match": defaults.token_match, "url_match": defaults.url_match,
    }
    rules = {k: v for k, v in rules.items() if not _whitespace_no_op(k, v, affixes)}
    return Tokenizer(nlp.vocab, rules=rules, **affixes)


def _whitespace_no_op(key: str, tokens: list[dict], affixes: dict) -> bool:
    """True for a special case "\n" -> "\n" (also " ", "\t"): one whitespace token with its own text, nothing else.

    Why drop them: they give the token the tokenizer gives anyway (a run of
    whitespace is a piece of its own, and no affix, infix, token or URL
    pattern matches it: checked here), but spaCy's tokenizer caches no
    piece of a text after the first special case it used in that text
    (`has_special` in tokenizer.pyx), and "\n" was a special case: every
    word after a note's first line went through the affix regexes again,
    note after note (~80% of the tokenizer's time). "\xa0" stays: it sets
    NORM.
    """
    if not key.isspace() or len(tokens) != 1 or {k if isinstance(k, int) else IDS.get(str(k).upper()): v
                                                  for k, v in tokens[0].items()} != {ORTH: key}:
        return False
    matches = [affixes["prefix_search"](key), affixes["suffix_search"](key), next(affixes["infix_finditer"](key), None)]
    matches += [affixes[name](key) for name in ("token_match", "url_match") if affixes[name] is not None]
    return all(m is None or m is False for m in matches)


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
    if len(doc) < 2:
        return doc
    # Read from the words (orth ids) rather than Token objects: only whitespace tokens, found
    # in C, need a closer look (a loop over every token was half this component's time).
    words = doc.to_array(ORTH).tolist()
    strings, vocab = doc.vocab.strings, doc.vocab
    breaks = _LINE_BREAKS if len(_LINE_BREAKS) < 50_000 else _LINE_BREAKS.clear() or _LINE_BREAKS
    for i in doc.to_array(IS_SPACE)[:-1].nonzero()[0].tolist():
        is_break = breaks.get(words[i])
        if is_break is None:
            lex = vocab[words[i]]
            is_break = breaks[words[i]] = lex.is_space and "\n" in lex.orth_
        if not is_break:
            continue
        text, nxt = strings[words[i]], strings[words[i + 1]]
        prev = words[i - 1] if i else None
        # "both without\nsteroid: #1 on 12/02/2025": a line that ends on an open word goes on, even
        # into what looks like a field's label.
        wrapped = (prev is not None and strings[prev] not in {":", ".", "|", ";"} and not vocab[prev].is_space
                   and "\n\n" not in text
                   and (strings[prev].lower() in _OPEN_LINE_ENDS
                        or (nxt[:1].islower() and not _field_label_at(words, i + 1, strings))))
        if not wrapped:
            doc[i + 1].is_sent_start = True
    return doc


# A line that ends on one of these words goes on below, whatever the next line opens with:
# "about 90% relief starting within\n20 min and lasting 4 hours". (extractor/pipeline.py
# _NO_LINE_ENDS_ON joins a number to the word before its line break in the text itself; this
# set is for any next word, so it leaves out "for", "of" and "to": measured, ConText's
# negation and history scopes then reached across lines they should not.)
_OPEN_LINE_ENDS = {"within", "about", "approximately", "than", "lasting", "the", "with", "without"}
_LINE_BREAKS: dict[int, bool] = {}  # orth id -> `token.is_space and "\n" in token.text`
_LABEL_WORDS = 4  # "sedation:", "pre-procedure pain:", "date of service:"


def _field_label_at(words: list[int], start: int, strings) -> bool:
    """A line that opens with a short label and its colon ("sedation: none" in a note exported in lower
    case) is a field of its own, not the line above wrapped."""
    for j in range(start + 1, min(len(words), start + _LABEL_WORDS + 1)):
        text = strings[words[j]]
        if text == ":":
            return True
        if "\n" in text or not (text.isalpha() or text in {"-", "/", "(", ")", "&"}):
            return False
    return False


@Language.component("spoken_numbers")
def spoken_numbers(doc: Doc) -> Doc:
    """Join "eighty five" (a tens word, one space, a units word) into one number token, and "per cent" into one word.

    Why: transcribed dictation writes compounds without the hyphen, and every
    pattern reads a number as one token ("eighty five percent relief" was read
    as 5%). The joined token is LIKE_NUM and `number_value` reads 85. "per
    cent" (British spelling) is then one word that the patterns list beside
    "percent". Most notes have no such word: one set test on the words' ids.
    """
    lowers = doc.to_array(LOWER).tolist() if len(doc) > 1 else []
    if _FIRST_WORDS.isdisjoint(lowers):
        return doc
    pairs = [i for i, low in enumerate(lowers[:-1]) if low in _FIRST_WORDS and doc[i].whitespace_ == " "
             and lowers[i + 1] in (_CENT if low == _PER else _UNITS)]
    if pairs:
        with doc.retokenize() as retokenizer:
            for i in pairs:
                retokenizer.merge(doc[i:i + 2])
    return doc


_PER, _CENT = hash_string("per"), {hash_string("cent")}
_UNITS = {hash_string(w) for w in UNIT_WORDS}
_FIRST_WORDS = frozenset({hash_string(w) for w in TENS_WORDS} | {_PER})


@Language.component("resolve_candidates")
def resolve_candidates(doc: Doc) -> Doc:
    """Settle overlapping candidates once, before assertion and sections."""
    candidates = without_mid_line_log_rows(without_one_vertebra_joints(list(doc.spans[CANDIDATES])))
    doc.spans[RESOLVED] = join_restated_drugs(prefer_longest_then_priority(without_unfollowed_connectors(candidates)))
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
    nlp.add_pipe("spoken_numbers")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("line_sentences")
    ruler = nlp.add_pipe("span_ruler", config={"spans_key": CANDIDATES, "overwrite": True,
                                               "phrase_matcher_attr": "LOWER"})
    ruler_patterns = [spec.ruler_pattern() for spec in load_patterns(PATTERN_DIR)]
    import extractor.ocr_words  # noqa: F401  (registers the "ocr_words" factory)

    # Before the pattern flags are planned: it takes one lexeme flag of its own.
    nlp.add_pipe("ocr_words", config={"spans_key": CANDIDATES})
    nlp.add_pipe("resolve_candidates")

    context = nlp.add_pipe(_scoped_context(fast), name="medspacy_context",
                           config={"input_span_type": "group", "rules": None, "span_group_name": RESOLVED})
    ours = load_json_data("context_rules.json")
    # medspaCy's default rules, less those our file overrides (its "cannot"
    # negates "cannot stand", which is a functional limit, not a denial).
    dropped = {lit.lower() for lit in ours.get("drop_default_literals", [])}
    defaults = [r for r in ConTextRule.from_json(context.DEFAULT_RULES_FILEPATH) if r.literal.lower() not in dropped]
    own_rules = [ConTextRule(**_context_kwargs(rule)) for rule in ours["context_rules"]]
    context_rules = defaults + own_rules
    sectionizer = nlp.add_pipe(
        _bulk_sectionizer() if fast else "medspacy_sectionizer", name="medspacy_sectionizer",
        config={"rules": None, "input_span_type": "group", "span_group_name": RESOLVED})
    nlp.add_pipe("paragraph_sections", after="medspacy_sectionizer")
    section_rules = [SectionRule(**rule) for rule in load_json_data("section_rules.json")["section_rules"]]
    if fast:
        inner = [_spacy_matcher(context, "ConText"), _spacy_matcher(sectionizer, "Sectionizer")]
        rules = context_rules + section_rules if None not in inner else []
        if rules:
            # The flags would fail spaCy's pattern check, so the rule files are
            # checked as written by a test instead (check_rule_patterns), not at
            # every start-up.
            for matcher in inner:
                matcher.validate = False  # it would refuse the flags (see _spacy_matcher)
        by_word = _use_leading_flags(nlp, ruler_patterns, rules)
    if fast:
        from extractor.matchflags import FirstTokenMatcher, PatternRecorder

        ruler.matcher = PatternRecorder(nlp.vocab)
    ruler.add_patterns(ruler_patterns)
    if fast:
        ruler.matcher = FirstTokenMatcher.replacing(ruler.matcher)
        strings = nlp.vocab.strings
        hashes = {m_id: (strings.add(entry["label"]), strings.add(entry["id"]))
                  for m_id, entry in ruler._match_label_id_map.items()}
        ruler.match = partial(_lean_match, ruler.matcher, ruler.phrase_matcher, hashes)
    ruler.match = partial(across_filler, ruler.match)
    import extractor.fuzzy  # noqa: F401  (registers the "fuzzy_drugs" factory)

    nlp.add_pipe("fuzzy_drugs", after="span_ruler", config={"spans_key": CANDIDATES})
    import extractor.tables  # noqa: F401  (registers the "table_cells" factory)

    nlp.add_pipe("table_cells", before="resolve_candidates", config={"spans_key": CANDIDATES})
    context.add(context_rules)
    sectionizer.add(section_rules)
    if fast and rules:
        _index_rules(context, "ConText", context_rules, by_word)
        _index_rules(sectionizer, "Sectionizer", section_rules, by_word)
    return nlp


def across_filler(match, doc: Doc) -> list[Span]:
    """The span ruler's `match`, reading over whitespace that stands for no word.

    Why: "(left L2, L3, L4 medial\n   branches)" is one level, but once the
    break is a space the indent is still a whitespace token between
    "medial" and "branches", and no token pattern steps over it; so is
    "lidocaine&nbsp;2%" once the entity is spaces. So the patterns are
    matched on a copy of the doc without those tokens, and each match is
    mapped back to the tokens it covers here (the filler inside). The
    filler tokens are kept in `doc.user_data[FILLER_TOKENS]` for the
    overlap rule, which does not count them in a span's length.
    """
    offsets = doc.user_data.get(FILLER_OFFSETS)
    if not offsets:
        return match(doc)
    # Only whitespace tokens can be filler: found in C, not by a Token for every word.
    filler = {i for i in doc.to_array(IS_SPACE).nonzero()[0].tolist()
              if doc[i].idx in offsets and "\n" not in doc[i].text}
    if not filler:
        return match(doc)
    doc.user_data[FILLER_TOKENS] = filler
    keep = [i for i in range(len(doc)) if i not in filler]
    compact = Doc(doc.vocab, words=[doc[i].text for i in keep], spaces=[bool(doc[i].whitespace_) for i in keep])
    return [Span(doc, keep[s.start], keep[s.end - 1] + 1, label=s.label, span_id=s.id) for s in match(compact)]


def _lean_match(matcher, phrase_matcher, hashes: dict, doc: Doc) -> list[Span]:
    """SpanRuler.match with the same spans in the same order, from hashes.

    spaCy builds a Span per match with its label and id as strings, then
    dedups and sorts the Spans (by characters, tokens, label, kb id, id
    hash). The same keys as plain tuples are ~3x cheaper to dedup and sort.
    `hashes`: match id -> (label hash, span id hash), from the ruler's patterns.
    """
    matches = list(matcher(doc))
    if len(phrase_matcher):
        matches += list(phrase_matcher(doc))
    keys = sorted({(start, end) + hashes[m_id] for m_id, start, end in matches if start != end})
    return [Span(doc, start, end, label=label, span_id=span_id) for start, end, label, span_id in keys]


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


_CONTEXT = "facet_claims_context"
_CONTEXT_WRITTEN = "facet_claims_context_written"


def _scoped_context(fast: bool = True) -> str:
    """Register (once) medspaCy's ConText with our graph; returns the factory name.

    The graph changes one thing in what ConText finds, in both pipelines: a
    terminating rule's scope is its own words (update_scopes, below).

    The fast one also skips pairs out of scope. Why: `ConTextGraph.apply_modifiers`
    calls `modifier.modifies(target)` for every target and every modifier of the
    note (~900 pairs, ~0.5 us each), and `modifies` is True only when medspaCy's
    `tuple_overlaps(modifier.scope_span, (target.start, target.end))` is, which it
    tests last, after checks without side effects. This graph makes that test
    first, inline, and asks `modifies` of the others, in the same order, so the
    same `modify` calls happen. Everything else is medspaCy's `ConText.__call__`
    as in 1.3.1.
    """
    name = _CONTEXT if fast else _CONTEXT_WRITTEN
    if Language.has_factory(name):
        return name
    from medspacy.context import ConText, ConTextModifier
    from medspacy.context.context_graph import ConTextGraph

    class TerminatedGraph(ConTextGraph):
        def update_scopes(self):
            # A terminating rule's scope is its own words. Why: medspaCy's `limit_scope` asks
            # `tuple_overlaps(self.scope, other.scope)`, which is false when the other's scope holds
            # the whole of this one; a terminator's default scope is its whole sentence, so once one
            # terminator has cut a negation's scope ("Agent: #1 lido 2% ; steroid: none"), the next
            # (";") no longer cut it. Its own words overlap the scope exactly when it stands inside.
            # So for a PSEUDO rule, which modifies nothing and ends the scopes of its own category
            # only (context_rules.json: "[ends a negation only]").
            for modifier in self.modifiers:
                if modifier.direction.upper() in ("TERMINATE", "PSEUDO"):
                    modifier._scope_start, modifier._scope_end = modifier.modifier_span
            super().update_scopes()

    class ScopedGraph(TerminatedGraph):
        def apply_modifiers(self):
            if self.prune_on_modifier_overlap:
                return super().apply_modifiers()
            modifiers = [(m, *m.scope_span) for m in self.modifiers]
            for target in self.targets:
                t_start, t_end = target.start, target.end
                for modifier, start, end in modifiers:
                    if (start <= t_start < end or start < t_end <= end) and modifier.modifies(target):
                        modifier.modify(target)
            edges = []
            for modifier in self.modifiers:
                modifier.reduce_targets()
                for target in modifier._targets:
                    edges.append((target, modifier))
            self.edges = edges

    graph_class = ScopedGraph if fast else TerminatedGraph

    class ScopedContext(ConText):
        def __call__(self, doc: Doc, targets: str | None = None) -> Doc:
            if not targets and self.input_span_type == "ents":
                targets = doc.ents
            elif not targets and self.input_span_type == "group":
                targets = doc.spans[self.span_group_name]
            elif targets:
                targets = getattr(doc._, targets)
            graph = graph_class(prune_on_modifier_overlap=self.prune_on_target_overlap)
            graph.targets = targets
            graph.modifiers = []
            matcher = self._ConText__matcher
            for match_id, start, end in matcher(doc):
                rule = matcher.rule_map[self.nlp.vocab[match_id].text]
                graph.modifiers.append(ConTextModifier(rule, start, end, doc, max_scope=self.max_scope))
            graph.update_scopes()
            graph.apply_modifiers()
            for target, modifier in graph.edges:
                target._.modifiers += (modifier,)
            if self.context_attributes_mapping:
                self.set_context_attributes(graph.edges)
            doc._.context_graph = graph
            return doc

    Language.factory(name)(ScopedContext)
    return name


_SECTIONIZER = "facet_claims_sectionizer"


def _bulk_sectionizer() -> str:
    """Register (once) medspaCy's Sectionizer with its token writes done in bulk; returns the factory name.

    Why: after its Matcher, medspaCy's `Sectionizer.__call__` sets
    `token._.section` with one extension write per token of the note (a
    Token, an Underscore and a key each): 70% of its time. This subclass keeps
    its rules, matcher, pruning, `Section` objects and span attributes, and
    writes the very same `doc.user_data` entries (spaCy's key for a token's
    extension is `("._.", name, token.idx, None)`) in one loop over integers.
    Options we do not use (start/end of line, parents, sentence boundaries)
    go to medspaCy's own `__call__`.
    """
    if Language.has_factory(_SECTIONIZER):
        return _SECTIONIZER
    from medspacy.section_detection import Sectionizer
    from medspacy.section_detection.section import Section
    from spacy.attrs import IDX
    from spacy.tokens import Token

    class BulkSectionizer(Sectionizer):
        def __call__(self, doc: Doc) -> Doc:
            default, method, getter, setter = Token.get_extension("section")
            if (self.require_start_line or self.require_end_line or self._parent_sections
                    or self._apply_sentence_boundary or getter or setter or method):
                return super().__call__(doc)
            matcher = self._Sectionizer__matcher
            matches = matcher(doc)
            doc._.sections = sections = []
            if not matches:
                sections.append(Section(None, 0, 0, 0, len(doc)))
                return doc
            if matches[0][1] != 0:
                sections.append(Section(None, 0, 0, 0, matches[0][1]))
            strings, rule_map = self.nlp.vocab.strings, matcher.rule_map
            for i, (match_id, start, end) in enumerate(matches):
                rule = rule_map[strings[match_id]]
                limit = matches[i + 1][1] if i + 1 < len(matches) else len(doc)
                scope = rule.max_scope if rule.max_scope is not None else self.max_section_length
                sections.append(Section(rule.category, start, end, end,
                                        limit if scope is None else min(end + scope, limit), None, rule))
            idx = doc.to_array(IDX).tolist()
            data = doc.user_data
            for section in sections:
                start, end = section.section_span
                for i in range(start, end):
                    data["._.", "section", idx[i], None] = section
            mapping = self.assertion_attributes_mapping
            if mapping:  # medspaCy's set_assertion_attributes, reading `span._.section` from the entries above
                spans = doc.ents if self._input_span_type.lower() == "ents" else doc.spans[self._span_group_name]
                for span in spans:
                    section = data.get(("._.", "section", idx[span.start], None))
                    if section and section.category in mapping:
                        for attr, value in mapping[section.category].items():
                            setattr(span._, attr, value)
            return doc

    Language.factory(_SECTIONIZER)(BulkSectionizer)
    return _SECTIONIZER


@lru_cache(maxsize=1)
def _paragraph_categories() -> frozenset[str]:
    return frozenset(load_json_data("section_rules.json").get("paragraph_categories", ()))


@lru_cache(maxsize=1)
def _paragraph_literals() -> frozenset[str]:
    return frozenset(load_json_data("section_rules.json").get("paragraph_literals", ()))


@Language.component("paragraph_sections")
def paragraph_sections(doc: Doc) -> Doc:
    """End a field-like section with its paragraph (section_rules.json "paragraph_categories", and
    "paragraph_literals" for one label of a category: "Dx: M47.816" but not "DIAGNOSES" over a list).

    "Allergies: NKDA. Not on blood thinners." / blank line / "Consent signed. ...
    Injected bupivacaine 0.5%": with no heading between, the Sectionizer runs
    the allergies on to the next heading, and the block's own injectate would
    read as an allergy. The tokens after the blank line belong to no section.
    Runs after the Sectionizer, fast pipeline or not, on its `doc._.sections`.
    """
    sections = doc._.sections
    if not sections:
        return doc
    from medspacy.section_detection.section import Section

    paragraph_only, paragraph_labels = _paragraph_categories(), _paragraph_literals()
    out = []
    for section in sections:
        body_start, body_end = section.body_span
        by_paragraph = section.category in paragraph_only or (
            section.rule is not None and section.rule.literal in paragraph_labels)
        cut = _paragraph_end(doc, body_start, body_end) if by_paragraph else body_end
        if cut >= body_end:
            out.append(section)
            continue
        title_start, title_end = section.title_span
        head = Section(section.category, title_start, title_end, body_start, cut, section.parent, section.rule)
        rest = Section(None, cut, cut, cut, body_end)
        out += [head, rest]
        for token in doc[title_start:cut]:
            token._.section = head
        for token in doc[cut:body_end]:
            token._.section = rest
    doc._.sections = out
    return doc


def _paragraph_end(doc: Doc, start: int, limit: int) -> int:
    """Where a field-like section's paragraph ends: the first blank line after some text of its own
    ("Allergies: NKDA. Driver: wife." / blank line / "Consent signed. ..."); `limit` without one."""
    seen_text = False
    for i in range(start, limit):
        token = doc[i]
        if not token.is_space:
            seen_text = True
        elif seen_text and token.text.count("\n") >= 2:
            return i
    return limit


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


def check_rule_patterns() -> None:
    """spaCy's pattern check on our ConText and Sectionizer rules as written; raises MatchPatternError.

    Run by the tests: the flags (extractor/matchflags.py) are not patterns
    spaCy's check accepts, so the rules are checked before they get them.
    """
    _import_medspacy()
    from medspacy.context import ConTextRule
    from medspacy.section_detection import SectionRule
    from spacy.errors import MatchPatternError
    from spacy.schemas import validate_token_pattern

    rules = [ConTextRule(**_context_kwargs(rule)) for rule in load_json_data("context_rules.json")["context_rules"]]
    rules += [SectionRule(**rule) for rule in load_json_data("section_rules.json")["section_rules"]]
    for rule in rules:
        if isinstance(rule.pattern, list):
            errors = validate_token_pattern(rule.pattern)
            if errors:
                raise MatchPatternError(f"{rule.category}: {rule.literal}", {0: errors})


def _use_leading_flags(nlp: Language, ruler_patterns: list[dict], rules: list) -> dict:
    """Rewrite the patterns in place for matching in C; see extractor/matchflags.py.

    Returns each ConText or Sectionizer rule's written pattern as
    alternatives that begin with a word (or None), for _index_rules.
    """
    from extractor.matchflags import LeadingFlags, word_alternatives

    token_rules = [r for r in rules if isinstance(r.pattern, list)]
    flags = LeadingFlags(nlp.vocab)
    flags.plan([p["pattern"] for p in ruler_patterns if isinstance(p["pattern"], list)],
               [r.pattern for r in token_rules])
    by_word = {id(rule): word_alternatives(nlp.vocab, rule.pattern) for rule in token_rules}
    for rule in token_rules:
        rule.pattern = flags.rewrite(rule.pattern)
    # Read by tests/extractor/test_matchflags.py: a rule file change that runs
    # the flag bits out makes extraction slower without changing any fact.
    nlp.meta.setdefault("facet_claims", {})["unflagged_leading_predicates"] = flags.unflagged
    expanded = []
    for entry in ruler_patterns:
        if isinstance(entry["pattern"], list):
            expanded.extend({**entry, "pattern": alt} for alt in flags.expand(entry["pattern"]))
        else:
            expanded.append(entry)
    ruler_patterns[:] = expanded
    return by_word


def _index_rules(component, owner: str, rules: list, by_word: dict) -> None:
    """Match a ConText's or Sectionizer's rules where their first word is (matchflags.TieSafeMatcher).

    Rules whose written pattern does not begin with a word keep their
    flagged pattern, matched over the whole doc.
    """
    from extractor.matchflags import FirstTokenMatcher, TieSafeMatcher

    outer = getattr(component, f"_{owner}__matcher", None)
    whole = _spacy_matcher(component, owner)
    if whole is None or getattr(outer, "_prune", None) is not True:  # unpruned, the order would matter
        return
    vocab = whole.vocab
    patterns: dict[int, list] = {}
    for rule in rules:
        if isinstance(rule.pattern, list) and getattr(rule, "_rule_id", None):
            key = vocab.strings.add(rule._rule_id)
            patterns.setdefault(key, []).extend(by_word.get(id(rule)) or [rule.pattern])
    if patterns and set(patterns) == set(whole._patterns):
        outer._MedspacyMatcher__matcher = TieSafeMatcher(whole, FirstTokenMatcher(vocab, patterns, flags=True))


def _context_kwargs(rule: dict) -> dict:
    return {k: v for k, v in rule.items() if k in {"literal", "category", "direction", "pattern", "max_scope"}}


def blank_pipeline() -> Language:
    """spaCy's blank English pipeline as shipped: the tokenisation floor `facet-claims bench` compares with."""
    return spacy.blank("en")


_YOUNG_COLLECTION_EVERY = 10_000  # allocations between the collector's young-generation passes


@lru_cache(maxsize=1)
def get_nlp() -> Language:
    """The shared pipeline, built once per process.

    It lives as long as the process, so it is frozen (`gc.freeze`): its ~100,000
    objects (patterns, matchers, rules, lexemes) are never walked again by the
    collector, whose full passes otherwise made every note ~8% slower, more so
    as the rule files grew. A worker also exits in about half the time.
    """
    nlp = build_nlp()
    gc.freeze()
    # Each note makes tens of thousands of short-lived containers (tokens,
    # spans, matches, facts), nearly all freed by reference counting; at the
    # default threshold (700) the collector ran every few hundred of them and
    # the note took 4-6% longer (docs/performance.md). Cycles still get collected.
    gc.set_threshold(_YOUNG_COLLECTION_EVERY, *gc.get_threshold()[1:])
    return nlp

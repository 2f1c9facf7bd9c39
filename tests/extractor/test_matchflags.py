"""extractor/matchflags.py: the rewritten patterns match exactly what the written ones match.

Two checks: random patterns (optional, repeated and negated specs, IN lists,
regexes) over random token sequences, matched by spaCy's Matcher as written
and as rewritten; and the whole pipeline, `build_nlp()` against
`build_nlp(fast=False)`, on every corpus note and pattern-case sentence.
"""
from __future__ import annotations

import random
from pathlib import Path

import pytest
import spacy
import yaml
from spacy.matcher import Matcher
from spacy.tokens import Doc

from extractor.matchflags import LeadingFlags

ROOT = Path(__file__).resolve().parents[2]
WORDS = ["a", "b", "c", "d", "A", "B", "x1", "x22", "-", ","]


def _random_spec(rng: random.Random, first: bool) -> dict:
    kind = rng.choice(["in", "in", "regex", "plain", "lower_in"])
    if kind == "in":
        spec = {"ORTH": {"IN": rng.sample(WORDS, rng.randint(1, 4))}}
    elif kind == "lower_in":
        spec = {"LOWER": {"IN": rng.sample(["a", "b", "c", "x1"], rng.randint(1, 3))}}
    elif kind == "regex":
        spec = {"TEXT": {"REGEX": rng.choice([r"^x\d+$", r"^[ab]$", r"^[A-Z]$", r"[,-]"])}}
    else:
        spec = {"LOWER": rng.choice(["a", "b", "c", "x1"])}
    op = rng.choice([None, None, "?", "*", "+", "!"] if not first else [None, "?", "*", "+"])
    if op:
        spec["OP"] = op
    return spec


def _matches(matcher: Matcher, doc: Doc) -> set:
    return {(start, end) for _, start, end in matcher(doc) if end > start}


@pytest.mark.parametrize("free_bits", [None, 4, 0])
@pytest.mark.parametrize("seed", range(8))
def test_rewritten_patterns_match_the_same_spans(seed, free_bits):
    rng = random.Random(seed)
    nlp = spacy.blank("en")
    if free_bits is not None:  # few or no flags left: IN lists are split into values instead
        free = [bit for bit in range(1, 64) if bit not in nlp.vocab.lex_attr_getters]
        for bit in free[free_bits:]:
            nlp.vocab.lex_attr_getters[bit] = lambda text: False
    patterns = []
    for _ in range(30):
        n = rng.randint(1, 4)
        pattern = [_random_spec(rng, i == 0) for i in range(n)]
        if all(spec.get("OP") in ("?", "*", "!") for spec in pattern):
            pattern.append({"LOWER": "d"})
        patterns.append(pattern)
    flags = LeadingFlags(nlp.vocab)
    # Half the patterns are "fixed" (ConText-like: flags only), so both paths run.
    flags.plan(patterns[::2], patterns[1::2])
    docs = [Doc(nlp.vocab, words=[rng.choice(WORDS) for _ in range(rng.randint(1, 14))]) for _ in range(60)]
    for i, pattern in enumerate(patterns):
        written, rewritten = Matcher(nlp.vocab), Matcher(nlp.vocab, validate=False)
        written.add("P", [pattern])
        rewritten.add("P", flags.expand(pattern) if i % 2 == 0 else [flags.rewrite(pattern)])
        for doc in docs:
            assert _matches(rewritten, doc) == _matches(written, doc), (pattern, [t.text for t in doc])


def _first_word_spec(rng: random.Random) -> dict:
    """A required first spec naming one word (what FirstTokenMatcher indexes), or sometimes anything."""
    if rng.random() < 0.2:
        return {k: v for k, v in _random_spec(rng, True).items() if k != "OP"}
    if rng.random() < 0.15:  # a lexeme flag (indexed with flags=True)
        return {rng.choice(["IS_PUNCT", "IS_ALPHA", "LIKE_NUM", "IS_UPPER"]): rng.random() < 0.7}
    return rng.choice([{"LOWER": rng.choice(["a", "b", "x1"])}, {"ORTH": rng.choice(WORDS)},
                       {"TEXT": rng.choice(["A", "-"])}, {"LOWER": "a", "IS_ALPHA": True}])


def _later_spec(rng: random.Random) -> dict:
    spec = _random_spec(rng, False)
    roll = rng.random()
    if roll < 0.1:
        spec = {"IS_PUNCT": True, "OP": rng.choice(["*", "+", "?"])}  # repeated, not a text test: whole doc
    elif roll < 0.2:
        spec["OP"] = rng.choice(["{2}", "{1,3}", "{,2}", "{2,}"])
    elif roll < 0.3:  # a lexeme attribute the next-word test reads from the vocab
        spec = {"LIKE_NUM": rng.random() < 0.8, **({"OP": "?"} if rng.random() < 0.3 else {})}
    return spec


@pytest.mark.parametrize("flags", [False, True])
@pytest.mark.parametrize("seed", range(12))
def test_first_token_matcher_finds_what_the_matcher_finds(seed, flags):
    from extractor.matchflags import FirstTokenMatcher

    rng = random.Random(seed)
    nlp = spacy.blank("en")
    patterns = {}
    for k in range(40):
        pattern = [_first_word_spec(rng)] + [_later_spec(rng) for _ in range(rng.randint(0, 4))]
        patterns.setdefault(nlp.vocab.strings.add(f"P{k % 25}"), []).append(pattern)
    whole = Matcher(nlp.vocab, validate=False)
    for key, alternatives in patterns.items():
        whole.add(key, alternatives)
    sliced = FirstTokenMatcher(nlp.vocab, {key: list(pats) for key, pats in whole._patterns.items()}, flags=flags)
    assert sliced.by_word and len(sliced.rest)  # both paths run
    sliced.whole_doc_at = seed % 3  # a flag's patterns over the whole doc once it is this common
    for _ in range(80):
        doc = Doc(nlp.vocab, words=[rng.choice(WORDS + ["7", "42"]) for _ in range(rng.randint(1, 25))])
        expected = [m for m in whole(doc) if m[2] > m[1]]
        got = sliced(doc)
        assert sorted(got) == sorted(expected), [t.text for t in doc]


def _texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(ROOT.glob("corpus/*/docs/*.txt"))]
    for path in sorted((ROOT / "tests" / "cases").glob("*.yml")):
        texts += [case["text"] for case in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("cases", [])]
    return texts


def _signature(doc) -> tuple:
    from extractor.nlp import CANDIDATES, RESOLVED

    return (
        [t.text for t in doc],
        sorted((s.start, s.end, s.label_, s.id_) for s in doc.spans[CANDIDATES]),
        [(s.start, s.end, s.label_, s.id_, s._.is_negated, s._.is_hypothetical, s._.is_historical,
          s._.is_family, s._.is_uncertain, s._.section_category) for s in doc.spans[RESOLVED]],
        [s.start for s in doc.sents],
        [(t._.section.category, t._.section.section_span) if t._.section is not None else None for t in doc],
        [(m.category, m.modifier_span, m.scope_span, [(t.start, t.end) for t in m._targets])
         for m in doc._.context_graph.modifiers],
    )


def test_fast_pipeline_finds_what_the_written_patterns_find():
    from extractor.nlp import build_nlp

    fast, written = build_nlp(), build_nlp(fast=False)
    texts = _texts()
    assert len(texts) > 50
    for text in texts:
        assert _signature(fast(text)) == _signature(written(text))


def test_every_leading_predicate_of_the_rule_files_has_a_flag():
    """spaCy has 46 free flag bits; one predicate too many is matched in Python at every token.

    Nothing changes in the facts (the test above), only the speed: one more
    ConText rule beginning with an IN list once made the Sectionizer twice as
    slow. Write such a rule as one rule per first word instead.
    """
    from extractor.nlp import build_nlp

    assert build_nlp().meta["facet_claims"]["unflagged_leading_predicates"] == 0


def test_dropped_whitespace_special_cases_change_no_token():
    """extractor/nlp.py drops the special cases "\\n", " ", "\\t" so that spaCy's tokenizer caches; same tokens."""
    from spacy.attrs import LOWER, NORM, ORTH, SPACY
    from spacy.tokenizer import Tokenizer

    from extractor.nlp import build_nlp

    ours = build_nlp().tokenizer
    dropped = {k: v for k, v in spacy.blank("en").tokenizer.rules.items() if k.isspace() and k not in ours.rules}
    assert set(dropped) == {"\n", " ", "\t"}
    full = Tokenizer(ours.vocab, rules={**ours.rules, **dropped}, prefix_search=ours.prefix_search,
                     suffix_search=ours.suffix_search, infix_finditer=ours.infix_finditer,
                     token_match=ours.token_match, url_match=ours.url_match)
    rng = random.Random(0)
    pieces = ["\n", " ", "  ", "\t", "\n\n", " \n", "\xa0", "a", "Dr.", "L4-5", "(", ")", ":", "'s", "x2", "80%"]
    texts = _texts() + ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 40))) for _ in range(300)]
    for text in texts:
        a, b = ours(text), full(text)
        assert [t.text_with_ws for t in a] == [t.text_with_ws for t in b]
        assert (a.to_array([ORTH, LOWER, NORM, SPACY]) == b.to_array([ORTH, LOWER, NORM, SPACY])).all()


def test_context_and_section_rules_pass_spacys_pattern_check():
    from extractor.nlp import check_rule_patterns

    check_rule_patterns()  # raises MatchPatternError naming the rule


def test_a_malformed_rule_pattern_fails_the_check(monkeypatch):
    from spacy.errors import MatchPatternError

    from extractor import nlp

    real = nlp.load_json_data

    def with_bad_rule(name):
        data = real(name)
        if name == "context_rules.json":
            bad = {"literal": "bad rule", "category": "NEGATED_EXISTENCE", "direction": "FORWARD",
                   "pattern": [{"LOWER": {"IN": "not a list"}}]}
            data = {**data, "context_rules": data["context_rules"] + [bad]}
        return data

    monkeypatch.setattr(nlp, "load_json_data", with_bad_rule)
    with pytest.raises(MatchPatternError, match="bad rule"):
        nlp.check_rule_patterns()

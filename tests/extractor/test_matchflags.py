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
    )


def test_fast_pipeline_finds_what_the_written_patterns_find():
    from extractor.nlp import build_nlp

    fast, written = build_nlp(), build_nlp(fast=False)
    texts = _texts()
    assert len(texts) > 50
    for text in texts:
        assert _signature(fast(text)) == _signature(written(text))

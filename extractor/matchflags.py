"""Stage 2 speed: the same token patterns, matched in C rather than in Python.

spaCy's Matcher tries every pattern at every token. A token spec written as
`{"LOWER": {"IN": [...]}}` or `{"TEXT": {"REGEX": "..."}}` is a Python call
(~0.7 us) per token for each distinct predicate, while a plain value
(`{"LOWER": "facet"}`) or a flag is compared in C. A pattern's leading specs
(its first spec, and the next ones while those are optional) are tested at
every token of every note, so with ~90 distinct leading predicates in our
pattern files those calls were 90% of the SpanRuler's time, and most of
ConText's. This module rewrites only the leading specs, keeping what they
match exactly:

* a predicate on LOWER, ORTH or TEXT depends on the token's text alone, so
  it becomes a lexeme flag (`Vocab.add_flag`): a bit spaCy sets once per
  distinct word, with the very test the predicate made (`text.lower() in
  values`, `re.search(regex, text)`), and that the Matcher checks in C;
* spaCy has only 46 free flag bits (1-63, less its own), so in the SpanRuler
  an "IN" list on a spec that is not repeated ("OP" absent or "?") is instead
  expanded into one pattern per value. The SpanRuler keeps a set of
  (start, end, label, id) spans, so the alternatives of one pattern, which
  share its label and id, give exactly the matches it gave.

ConText and Sectionizer rules (one matcher pattern per rule) only get flags.
When flags run out, a predicate stays as written: slower, never different.
Pattern files are not touched; `build_nlp(fast=False)` builds the pipeline
without this step, and tests/extractor/test_matchflags.py compares the two.
"""
from __future__ import annotations

import json
import re
from typing import Any

from spacy.vocab import Vocab

__all__ = ["LeadingFlags", "leading_count"]

_TEXT_ATTRS = {"LOWER": True, "ORTH": False, "TEXT": False}  # attr -> compared in lower case
_MAX_ALTERNATIVES = 32  # expanded patterns per written pattern


class _TextTest:
    """What one Matcher predicate tests, as a function of a word's text (a lexeme flag getter)."""

    def __init__(self, lower: bool, op: str, value: Any) -> None:
        self.lower = lower
        self.values = frozenset(value) if op == "IN" else None
        self.regex = re.compile(value) if op == "REGEX" else None

    def __call__(self, text: str) -> bool:
        s = text.lower() if self.lower else text  # spaCy's LOWER is str.lower()
        if self.values is not None:
            return s in self.values
        return self.regex.search(s) is not None


def leading_count(pattern: list[dict]) -> int:
    """How many specs of a token pattern can be tested on a match's first token."""
    for i, spec in enumerate(pattern):
        if spec.get("OP") not in ("?", "*"):
            return i + 1
    return len(pattern)


def _predicate(attr: str, test: Any) -> tuple[str, str, Any] | None:
    """(attr, op, value) when `attr: test` is one IN or REGEX predicate on the token's text."""
    if not isinstance(attr, str) or attr.upper() not in _TEXT_ATTRS or not isinstance(test, dict) or len(test) != 1:
        return None
    op, value = next(iter(test.items()))
    op = op.upper()
    if op == "IN" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return attr.upper(), op, value
    if op == "REGEX" and isinstance(value, str):
        return attr.upper(), op, value
    return None


_UNROLL = {None, "?", "*", "+"}  # ops whose leading spec can be unrolled; "!" and "{n,m}" stay as written


def _values(spec: dict) -> tuple[str, list[str]] | None:
    """(attr, values) when `spec` (its "OP" aside) is one IN list on the token's text."""
    tests = [(attr, test) for attr, test in spec.items() if attr != "OP"]
    if len(tests) != 1:
        return None
    pred = _predicate(*tests[0])
    if pred is None or pred[1] != "IN" or not pred[2]:
        return None
    return tests[0][0], pred[2]


def _key(pred: tuple[str, str, Any]) -> tuple[bool, str, str]:
    attr, op, value = pred
    return _TEXT_ATTRS[attr], op, json.dumps(value, sort_keys=True)


class LeadingFlags:
    """Lexeme flags for the leading predicates of the pattern sets that share one vocab.

    Usage: `plan(ruler_patterns, fixed_patterns)` once, then `expand(pattern)`
    for each SpanRuler pattern and `rewrite(pattern)` for each ConText or
    Sectionizer pattern.
    """

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.flags: dict[tuple, int] = {}

    def _free_bits(self) -> list[int]:
        return [bit for bit in range(1, 64) if bit not in self.vocab.lex_attr_getters]

    def plan(self, ruler_patterns: list[list[dict]], fixed_patterns: list[list[dict]]) -> None:
        """Give flags first to predicates that cannot be split into values, then to the longest IN lists."""
        must: dict[tuple, int] = {}   # key -> times used
        may: dict[tuple, int] = {}    # key -> list length
        preds: dict[tuple, tuple] = {}
        for pattern, splittable in [(p, True) for p in ruler_patterns] + [(p, False) for p in fixed_patterns]:
            for spec in pattern[:leading_count(pattern)]:
                for attr, test in spec.items():
                    pred = _predicate(attr, test)
                    if pred is None:
                        continue
                    key = _key(pred)
                    preds[key] = pred
                    if splittable and spec.get("OP") in _UNROLL and _values(spec) is not None:
                        may[key] = len(pred[2])
                    else:
                        must[key] = must.get(key, 0) + 1
        order = sorted(must, key=lambda k: -must[k]) + sorted((k for k in may if k not in must), key=lambda k: -may[k])
        free = self._free_bits()
        getters = {}
        for key in order:
            if key in self.flags:
                continue
            if not free:
                break
            attr, op, value = preds[key]
            self.flags[key] = bit = free.pop(0)
            getters[bit] = _TextTest(_TEXT_ATTRS[attr], op, value)
        _add_flags(self.vocab, getters)

    def _flagged(self, spec: dict) -> dict:
        out: dict = {}
        for attr, test in spec.items():
            pred = _predicate(attr, test)
            flag = self.flags.get(_key(pred)) if pred is not None else None
            if flag is None:
                out[attr] = test
            else:
                out[flag] = True  # a lexeme flag bit (spaCy names only 19-63)
        return out

    def rewrite(self, pattern: list[dict]) -> list[dict]:
        """The pattern with its flagged leading predicates as flags (same matches)."""
        n = leading_count(pattern)
        return [self._flagged(spec) for spec in pattern[:n]] + pattern[n:]  # specs are shared, never changed

    def expand(self, pattern: list[dict]) -> list[list[dict]]:
        """The pattern as alternatives whose first spec the Matcher tests in C.

        Optional and repeated leading specs are unrolled (X? R = R | X R;
        X* R = R | X X* R; X+ R = X X* R) and a first spec that is an IN list
        without a flag becomes one alternative per value. The union of the
        alternatives' matches is the pattern's matches (zero-length matches
        are dropped by spaCy either way). Over _MAX_ALTERNATIVES: flags only.
        """
        head = self.rewrite(pattern)
        alternatives = _unroll(head)
        if alternatives is None or len(alternatives) > _MAX_ALTERNATIVES:
            return [head]
        return alternatives


def _add_flags(vocab: Vocab, getters: dict) -> None:
    """`vocab.add_flag(getter, bit)` for each, in one pass over the lexemes (add_flag walks them every time)."""
    if not getters:
        return
    for lex in vocab:
        text = lex.orth_
        for bit, getter in getters.items():
            lex.set_flag(bit, getter(text))
    vocab.lex_attr_getters.update(getters)  # new lexemes get their flags from these


def _split(spec: dict) -> list[dict]:
    """A spec without "OP", as one spec per value when it is an IN list on the token's text."""
    found = _values(spec)
    if found is None:
        return [spec]
    attr, values = found
    name = "ORTH" if attr.upper() == "TEXT" else attr.upper()
    return [{name: value} for value in dict.fromkeys(values)]


def _unroll(specs: list[dict]) -> list[list[dict]] | None:
    """Patterns whose first spec is required, matching together what `specs` matches; None: not unrollable."""
    if not specs:
        return []
    first, rest = specs[0], specs[1:]
    op = first.get("OP")
    if op not in _UNROLL:
        return [list(specs)]
    bare = {k: v for k, v in first.items() if k != "OP"}
    if op is None:
        return [[one] + list(rest) for one in _split(bare)]
    if op == "+":
        return [[one, {**bare, "OP": "*"}] + list(rest) for one in _split(bare)]
    without = _unroll(rest)
    if without is None:
        return None
    again = [first] if op == "*" else []
    return without + [[one] + list(again + rest) for one in _split(bare)]

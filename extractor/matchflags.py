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

import numpy as np
from spacy.attrs import IDS, LOWER, ORTH
from spacy.matcher import Matcher
from spacy.vocab import Vocab

__all__ = ["LeadingFlags", "FirstTokenMatcher", "PatternRecorder", "TieSafeMatcher", "word_alternatives", "leading_count"]

_TEXT_ATTRS = {"LOWER": True, "ORTH": False, "TEXT": False}  # attr -> compared in lower case
_MAX_ALTERNATIVES = 64  # expanded patterns per written pattern
_CACHE_SIZE = 50_000  # words remembered per first word (cleared when full)
_RANGE_OP = re.compile(r"\{(\d*)(,?)(\d*)\}")  # "{n}", "{n,m}", "{,m}", "{n,}"


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
        self.unflagged = 0  # predicates that could not be split and found no free bit (slower, never different)

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
        self.unflagged = sum(1 for key in must if key not in self.flags)

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


class PatternRecorder:
    """Stands in for the SpanRuler's Matcher while its patterns are added: it keeps them and compiles nothing.

    Why: `FirstTokenMatcher.replacing` compiles every pattern again into the
    Matcher of its first word, so the patterns spaCy's Matcher compiled
    first were thrown away: ~1,300 `Matcher.add` calls, ~50 ms of every
    start-up. It keeps the patterns as spaCy's Matcher does (`_patterns`:
    key hash -> patterns), which is all `replacing` reads.
    """

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self._patterns: dict[int, list[list[dict]]] = {}

    def add(self, key, patterns, on_match=None, greedy=None) -> None:
        if on_match is not None or greedy is not None:
            raise ValueError("PatternRecorder keeps patterns only: no on_match, no greedy")
        key = self.vocab.strings.add(key) if isinstance(key, str) else key
        self._patterns.setdefault(key, []).extend(patterns)

    def __len__(self) -> int:
        return len(self._patterns)


class FirstTokenMatcher:
    """spaCy's Matcher for the SpanRuler, run only where a pattern's first word is.

    Why: even with flags, the Matcher tries every pattern at every token
    (~15 ns a pair, ~650 patterns after expansion: most of the SpanRuler's
    time), though most patterns begin with one exact word ("lumbar",
    "bupivacaine"). Such a pattern only matches spans `doc[i:j]` where
    token i is that word, so it is matched on a slice `doc[i:end]` at those
    tokens only, by a Matcher holding the patterns of that word. `end`
    bounds every match from i: a token of a match is taken by one spec; a
    spec that is not repeated takes at most its width (1, or m for
    "{n,m}"), and a repeated one ("*", "+", "{n,}") only takes tokens that
    pass its test. So with W the widest sum of unrepeated widths among the
    word's patterns, a match from i holds at most W tokens that fail every
    repeated spec's test, and `end` is where the (W+1)-th such token is
    (i + W when nothing repeats). Repeated specs must test the text alone
    (LOWER/ORTH/TEXT, a value, IN or REGEX: the test of a lexeme flag,
    computed once per word); other patterns are matched over the whole doc
    as before. spaCy's Matcher on a slice finds the matches of the doc that
    lie inside it (tests/extractor/test_matchflags.py checks the whole on
    random patterns). Same (key, start, end) matches as one Matcher with
    all patterns; the SpanRuler keeps a set of spans either way.
    """

    def __init__(self, vocab: Vocab, patterns: dict[int, list[list[dict]]], flags: bool = False) -> None:
        """`flags`: also index patterns whose first spec is a lexeme flag (`{bit: True}`, `{"LIKE_NUM": True}`).

        A flag that many tokens of a doc have (numbers) has its patterns
        matched over that whole doc in one call instead: the same matches,
        since they all begin at such a token.
        """
        self.vocab = vocab
        self.rest = Matcher(vocab, validate=False)
        self.by_word: dict[tuple[int, int], _Word] = {}  # (LOWER, ORTH or a flag, word hash or 0/1) -> its patterns
        for key, alternatives in patterns.items():
            for pattern in alternatives:
                word, shape = _first_word(vocab, pattern), _shape(pattern)
                if word is None and flags:
                    word = _first_flag(pattern)
                if word is None or shape is None:
                    self.rest.add(key, [pattern])
                    continue
                if word not in self.by_word:
                    self.by_word[word] = _Word(vocab)
                self.by_word[word].add(key, pattern, *shape)
        self.lower = {word: entry for (attr, word), entry in self.by_word.items() if attr == LOWER}
        self.orth = {word: entry for (attr, word), entry in self.by_word.items() if attr == ORTH}
        self.flags = [(attr, value, entry) for (attr, value), entry in self.by_word.items()
                      if attr not in (LOWER, ORTH)]
        self._lower_keys = np.array(sorted(self.lower), dtype=np.uint64)
        self._orth_keys = np.array(sorted(self.orth), dtype=np.uint64)
        self.whole_doc_at = 24  # more tokens with a flag than this: its patterns go over the whole doc
        self.columns = [LOWER, ORTH] + sorted({attr for attr, _, _ in self.flags})

    @classmethod
    def replacing(cls, matcher: Matcher | PatternRecorder, flags: bool = False) -> "FirstTokenMatcher":
        """The same patterns under the same keys as `matcher` (spaCy keeps them in `Matcher._patterns`)."""
        return cls(matcher.vocab, {key: list(pats) for key, pats in matcher._patterns.items()}, flags=flags)

    def __len__(self) -> int:
        return len(self.rest) + sum(len(word.matcher) + len(word.single_keys) for word in self.by_word.values())

    def __call__(self, doc) -> list[tuple[int, int, int]]:
        found = list(self.rest(doc)) if len(self.rest) else []
        lower, orth = self.lower, self.orth
        table = doc.to_array(self.columns)
        if len(doc) == 1:
            table = table.reshape(1, -1)
        orths = table[:, 1].tolist()
        # Tokens that begin some pattern, found in C: most tokens begin none.
        hits = (_member(table[:, 0], self._lower_keys) | _member(table[:, 1], self._orth_keys)).nonzero()[0]
        lows = table[hits, 0].tolist()
        starts = [(i, word) for i, low in zip(hits.tolist(), lows)
                  for word in (lower.get(low), orth.get(orths[i])) if word is not None]
        for attr, value, word in self.flags:
            at = (table[:, self.columns.index(attr)] == value).nonzero()[0].tolist()
            if len(at) > self.whole_doc_at:  # a common flag (numbers): one pass beats a call per token
                found.extend(word.matcher(doc) if len(word.matcher) else ())
                found.extend((key, i, i + 1) for i in at for key in word.single_keys)
            else:
                starts.extend((i, word) for i in at)
        for i, word in starts:
            if word.single_keys:
                found.extend((key, i, i + 1) for key in word.single_keys)
            if len(word.matcher) and (word.nexts is None or (i + 1 < len(orths) and word.next_ok(orths[i + 1]))):
                found.extend((key, i + s, i + e) for key, s, e in word.matcher(doc[i:word.end(i, orths)]))
        return list(dict.fromkeys(found))  # a match can turn up in two overlapping slices


def _member(column: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which entries of `column` are in the sorted array `keys`: what `np.isin` gives.

    np.isin sorts both arrays on every call: ~90 us for a note's column
    against hundreds of words, six times a note (three matchers, two columns).
    A binary search in the keys, sorted once, takes ~12 us.
    """
    if not len(keys):
        return np.zeros(len(column), dtype=bool)
    at = np.searchsorted(keys, column)
    at[at == len(keys)] = 0
    return keys[at] == column


def word_alternatives(vocab: Vocab, pattern: list[dict]) -> list[list[dict]] | None:
    """The pattern as alternatives that FirstTokenMatcher can all index by their first word, or None.

    The written pattern, unrolled and split as in `LeadingFlags.expand`
    (same matches), without flags on its first spec.
    """
    alternatives = _unroll(pattern)
    if not alternatives or len(alternatives) > _MAX_ALTERNATIVES:
        return None
    if all(_first_word(vocab, alt) is not None and _shape(alt) is not None for alt in alternatives):
        return alternatives
    return None


class TieSafeMatcher:
    """A FirstTokenMatcher for the Matcher inside medspaCy's ConText or Sectionizer.

    medspaCy prunes overlapping matches after a stable sort by (start, end),
    so its result depends on the Matcher's order only between matches of the
    same tokens. A FirstTokenMatcher finds the same matches in another order:
    when two of them cover the same tokens, the doc is matched again by the
    Matcher itself, whose order medspaCy was written for.
    """

    def __init__(self, whole: Matcher, indexed: FirstTokenMatcher) -> None:
        self.whole, self.indexed = whole, indexed
        self.validate = whole.validate

    def __len__(self) -> int:
        return len(self.whole)

    def __call__(self, doc) -> list[tuple[int, int, int]]:
        found = self.indexed(doc)
        if len({(start, end) for _, start, end in found}) < len(found):
            return self.whole(doc)
        return found


class _Word:
    """The patterns that begin with one word: their Matcher and how far a match can reach."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.matcher = Matcher(vocab, validate=False)
        self.width = 0                      # most tokens taken by unrepeated specs
        self.tests: list[_TextTest] = []    # the repeated specs' tests
        self.passes: dict[int, bool] = {}   # word (orth) -> passes one of the tests
        # When every pattern needs a second token and its specs up to the first
        # required one test the text, a match needs a next token that passes one
        # of those tests: without one, no call.
        self.nexts: list[_TextTest] | None = []
        self.next_passes: dict[int, bool] = {}
        self.single_keys: list[int] = []  # keys of one-word patterns: a match wherever the word is

    def add(self, key: int, pattern: list[dict], width: int, tests: list[_TextTest]) -> None:
        if len(pattern) == 1 and "OP" not in pattern[0]:
            self.single_keys.append(key)  # the word itself is the match: no Matcher call ("left", "bilateral")
            return
        self.matcher.add(key, [pattern])
        self.width = max(self.width, width)
        self.tests.extend(tests)
        self.passes.clear()
        second = _next_tests(pattern, vocab=self.vocab)
        self.nexts = None if second is None or self.nexts is None else self.nexts + second
        self.next_passes.clear()

    def next_ok(self, orth: int) -> bool:
        """Whether a word can follow this one in a match (it passes one pattern's second spec)."""
        ok = self.next_passes.get(orth)
        if ok is None:
            if len(self.next_passes) > _CACHE_SIZE:
                self.next_passes.clear()
            text = self.vocab.strings[orth]
            ok = self.next_passes[orth] = any(test(text) for test in self.nexts)
        return ok

    def end(self, i: int, orths: list[int]) -> int:
        """Where the slice for a match from token i ends (see FirstTokenMatcher)."""
        n = len(orths)
        if not self.tests:
            return min(n, i + self.width)
        budget, j, passes = self.width, i, self.passes
        while j < n:
            ok = passes.get(orths[j])
            if ok is None:
                if len(passes) > _CACHE_SIZE:
                    passes.clear()
                text = self.vocab.strings[orths[j]]
                ok = passes[orths[j]] = any(test(text) for test in self.tests)
            if not ok:
                if budget == 0:
                    break
                budget -= 1
            j += 1
        return j


def _first_word(vocab: Vocab, pattern: list[dict]) -> tuple[int, int] | None:
    """(LOWER or ORTH, word hash) when the pattern's first spec is required and names one exact word."""
    first = pattern[0] if pattern else None
    if not isinstance(first, dict) or "OP" in first:
        return None
    for attr, value in first.items():
        name = attr.upper() if isinstance(attr, str) else None
        if name in _TEXT_ATTRS and isinstance(value, str):
            return (LOWER if name == "LOWER" else ORTH), vocab.strings.add(value)
    return None


def _first_flag(pattern: list[dict]) -> tuple[int, int] | None:
    """(flag id, 0 or 1) when the pattern's first spec is required and tests one lexeme flag (ids 1-63)."""
    first = pattern[0] if pattern else None
    if not isinstance(first, dict) or "OP" in first or len(first) != 1:
        return None
    attr, value = next(iter(first.items()))
    attr_id = attr if isinstance(attr, int) else IDS.get(str(attr).upper())
    if isinstance(value, bool) and isinstance(attr_id, int) and 0 < attr_id < 64:
        return attr_id, int(value)
    return None


def _shape(pattern: list[dict]) -> tuple[int, list[_TextTest]] | None:
    """(tokens its unrepeated specs can take, tests of its repeated specs); None if one cannot be tested on text."""
    width, tests = 0, []
    for spec in pattern:
        op = spec.get("OP") if isinstance(spec, dict) else None
        if op in (None, "?", "!", "1"):
            width += 1  # "!" is counted as a token whether or not it takes one: a wider slice is harmless
        elif (counted := _op_range(op)) is not None and counted[1] is not None:
            width += counted[1]
        else:
            test = _text_test(spec)
            if test is None:
                return None
            tests.append(test)
    return width, tests


def _op_range(op) -> tuple[int, int | None] | None:
    """(fewest, most) tokens of a counted "OP" ("{2,4}" -> (2, 4), "{2,}" -> (2, None)); None for others."""
    found = _RANGE_OP.fullmatch(op) if isinstance(op, str) else None
    if found is None:
        return None
    least, comma, most = found.groups()
    return int(least or 0), (int(most) if most else None if comma else int(least or 0))


def _least(op) -> int | None:
    """The fewest tokens a spec with this "OP" takes (None for "!", which takes none and tests one)."""
    if op in (None, "1", "+"):
        return 1
    if op in ("?", "*"):
        return 0
    counted = _op_range(op)
    return counted[0] if counted else None


def _next_tests(pattern: list[dict], vocab: Vocab) -> list[_TextTest] | None:
    """Tests one of which the token after the pattern's first word must pass, or None when none must.

    "about ~? NUM years": the second token is "~" or the number. The specs from the second
    one up to the first required spec can each take that token; None when one of them is not a
    test of the text, or when every spec after the first is optional (the first word alone matches).
    """
    tests = []
    for spec in pattern[1:]:
        least = _least(spec.get("OP"))
        test = _text_test(spec) or _like_num_test(spec, vocab)
        if least is None or test is None:
            return None
        tests.append(test)
        if least >= 1:
            return tests
    return None


class _LikeNumTest:
    """`{"LIKE_NUM": true}` as a test of a word's text: the lexeme's own LIKE_NUM (our numbers.like_num)."""

    def __init__(self, vocab: Vocab, value: bool) -> None:
        self.vocab, self.value = vocab, value

    def __call__(self, text: str) -> bool:
        return self.vocab[text].like_num == self.value


def _like_num_test(spec: dict, vocab: Vocab) -> _LikeNumTest | None:
    tests = [(attr, test) for attr, test in spec.items() if attr != "OP"]
    if len(tests) == 1 and tests[0][0] == "LIKE_NUM" and isinstance(tests[0][1], bool):
        return _LikeNumTest(vocab, tests[0][1])
    return None


def _text_test(spec: dict) -> _TextTest | None:
    """What a spec tests, as a function of the word's text, when it tests nothing else."""
    tests = [(attr, test) for attr, test in spec.items() if attr != "OP"]
    if len(tests) != 1 or not isinstance(tests[0][0], str) or tests[0][0].upper() not in _TEXT_ATTRS:
        return None
    attr, test = tests[0][0].upper(), tests[0][1]
    if isinstance(test, str):
        return _TextTest(_TEXT_ATTRS[attr], "IN", [test])
    pred = _predicate(attr, test)
    return _TextTest(_TEXT_ATTRS[attr], pred[1], pred[2]) if pred is not None else None


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

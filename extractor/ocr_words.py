"""Stage 2: words a fax's OCR misread or broke at a line end, matched as the words they stand for.

A scanned page comes back with "rnedial branch block", "radiofrequency
neurotorny" or "Under fluoro-\\nscopic guidance": the letters OCR confuses
("rn" for "m", "cl" for "d", "l" for "i", ...) or a word hyphenated across
two lines. No pattern list can hold every such spelling, and the text cannot
be corrected in place: a fact's offsets must index the characters on the page.

So this component, placed after the SpanRuler (and the fuzzy drug names),
reads each word the pattern files do not list: when undoing one or two
look-alike confusions (patterns/ocr_confusions.json) turns it into a word
they do list, or when a word ending in a hyphen at a line end and the next
line's first word join into one, it builds a corrected copy of the doc, runs the SpanRuler's
patterns on the copy, and keeps the spans that take a corrected word, mapped
back onto the same tokens of the doc. Spans keep their pattern's label and
id, so a fact still names the pattern that found it. The answer depends on
the word alone, so it is a lexeme flag that spaCy sets once per word: a note
with no such word costs one array read (and a search for "-\\n"). Nothing is
logged.

A typed note's slips are read the same way: two neighbouring letters swapped
("medail", "steriod") or one letter left out inside a long word ("bilaterl",
"radiofrequncy"); never a letter added or dropped at a word's end, where
English inflects ("continue" is no "continued").

Only words of the pattern files (five letters or more) are targets, so a
confusion is undone only where it turns an unknown string into a term the
rules use; a swap of one letter for another (t/l, n/u, c/e, i/l) can turn
one English word into another ("tight", "light"), so it is undone only in
words of seven letters or more.
"""
# No `from __future__ import annotations`: spaCy reads the factory's annotations at run time.

import re

from spacy.attrs import ORTH
from spacy.language import Language
from spacy.tokens import Doc, Span

from extractor.tables import SOURCE_TEXT

__all__ = ["OcrWords", "pattern_words", "COMPONENT"]

COMPONENT = "ocr_words"
_MIN_LENGTH = 5          # shorter words ("lido", "arm") are too easily another word
_MAX_EDITS = 2
_CACHE_SIZE = 50_000     # words remembered (cleared when full)
# A word broken at a line end: the hyphen, the line break, the rest of the word in lower case
# ("fluoro-\nscopic"; "Pain-\nfree" is tried too and joins into no pattern word).
_LINE_END_HYPHEN = re.compile(r"-\n[ \t]*([a-z]+)")  # the next line may be indented ("Radiofre-\n  quency")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"

def pattern_words(specs) -> frozenset[str]:
    """Every lower-case word of five letters or more that a token pattern names (a value or an IN list)."""
    words: set[str] = set()
    for spec in specs:
        if not isinstance(spec.pattern, list):
            continue
        for token in spec.pattern:
            if not isinstance(token, dict):
                continue
            for attr in ("LOWER", "ORTH", "TEXT"):
                test = token.get(attr)
                values = test if isinstance(test, str) else test.get("IN") if isinstance(test, dict) else None
                for value in [values] if isinstance(values, str) else values or ():
                    if isinstance(value, str) and len(value) >= _MIN_LENGTH and value.isalpha() and value.isascii():
                        words.add(value.lower())
    return frozenset(words)


class OcrWords:
    """spaCy component: adds spans the SpanRuler finds once misread and broken words are read as meant."""

    def __init__(self, nlp: Language, match, spans_key: str, words: frozenset[str],
                 confusions: list[tuple[str, str, int]], slips: tuple[int, int] = (6, 9)) -> None:
        """`match`: the SpanRuler's `match(doc) -> list[Span]`; `confusions`: (as read, as meant, the
        shortest word, as read, it is undone in) triples; `slips`: the shortest word a swap is undone
        in (as read) and the shortest word a left-out letter is restored to (as meant)."""
        self.vocab = nlp.vocab
        self.match = match
        self.spans_key = spans_key
        self.words = words
        self.confusions = confusions
        self.slips = slips
        self._readings: dict[int, str | None] = {}   # orth id -> the pattern word it stands for, or None
        # A lexeme flag says which words stand for a pattern word: spaCy tests a word once, when it first
        # sees it, so a note costs one array read, not a Python call per token. Taken before the
        # pattern flags are planned (extractor/matchflags.py uses every bit left).
        self.flag = nlp.vocab.add_flag(lambda text: self.reading(text) is not None)

    # ------------------------------------------------------------ one word

    def reading(self, text: str) -> str | None:
        """The pattern word a token as read stands for, in the token's case ("RNEDIAL" -> "MEDIAL")."""
        word = self._capital_i(text) or self.meant(text)
        if word is None:
            return None
        return word.upper() if text.isupper() else word.capitalize() if text[:1].isupper() else word

    def _capital_i(self, text: str) -> str | None:
        """"RlGHT" -> "right": a lower-case l among capitals is a capital I."""
        if "l" not in text or len(text) < 4 or not text.replace("l", "").isupper():
            return None
        word = text.replace("l", "I").lower()
        return word if word in self.words else None

    def meant(self, text: str) -> str | None:
        """The pattern word an unlisted word stands for, or None ("rnedial" -> "medial")."""
        lower = text.lower()
        if len(lower) < _MIN_LENGTH - 1 or lower in self.words or not any(c.isalpha() for c in lower):
            return None
        frontier, seen = {lower}, {lower}
        for _ in range(_MAX_EDITS):
            found = set()
            for word in frontier:
                for read, meant, shortest in self.confusions:
                    if len(lower) < shortest:
                        continue
                    at = word.find(read)
                    while at >= 0:
                        found.add(word[:at] + meant + word[at + len(read):])
                        at = word.find(read, at + 1)
            hits = sorted(w for w in found if w in self.words)
            if hits:
                return hits[0] if len(hits) == 1 else None  # two readings: neither is sure
            frontier = found - seen
            seen |= found
        hits = sorted(w for w in self._slips(lower) if w in self.words)
        return hits[0] if len(hits) == 1 else None

    def _slips(self, word: str) -> set[str]:
        """What a typed word with one slip stands for: two neighbouring letters swapped, or one letter
        left out inside a long word (patterns/ocr_confusions.json "typing_slips")."""
        transpose_min, missing_min = self.slips
        out = set()
        if len(word) >= transpose_min:
            out.update(word[:i] + word[i + 1] + word[i] + word[i + 2:]
                       for i in range(len(word) - 1) if word[i] != word[i + 1])
        if len(word) + 1 >= missing_min:
            out.update(word[:i] + c + word[i:] for i in range(1, len(word)) for c in _LETTERS)
        return out

    def _reading_by_orth(self, orth: int) -> str | None:
        word = self._readings.get(orth, "")
        if word == "":
            if len(self._readings) > _CACHE_SIZE:
                self._readings.clear()
            word = self._readings[orth] = self.reading(self.vocab.strings[orth])
        return word

    # ------------------------------------------------------------ the doc

    def _joined_at(self, text: str) -> dict[int, str]:
        """Where a word broken by a line-end hyphen starts, and the pattern word it makes ("fluoro-\\nscopic")."""
        joined = {}
        for m in _LINE_END_HYPHEN.finditer(text):  # the scan only stops at hyphens
            start = m.start()
            while start > 0 and text[start - 1].isascii() and text[start - 1].isalpha():
                start -= 1
            if m.start() - start < 3:
                continue
            word = (text[start:m.start()] + m.group(1)).lower()
            word = word if word in self.words else self.meant(word)
            if word is not None:
                joined[start] = word
        return joined

    def __call__(self, doc: Doc) -> Doc:
        misread = doc.to_array(self.flag).nonzero()[0].tolist() if len(doc) else []
        text = doc.user_data.get(SOURCE_TEXT)
        text = text if text is not None else doc.text
        joined = self._joined_at(text) if "-\n" in text else {}
        if not misread and not joined:
            return doc
        # The copy: (word, space after it, first and last token of the doc it stands for).
        copy: list[tuple[str, str, int, int]] = []
        changed: set[int] = set()
        orths = doc.to_array(ORTH).tolist()
        misread = set(misread)
        i = 0
        while i < len(doc):
            word = joined.get(doc[i].idx) if joined else None
            if word is not None and i + 2 < len(doc) and doc[i].text.endswith("-") and doc[i + 1].is_space:
                changed.add(len(copy))
                copy.append((word, doc[i + 2].whitespace_, i, i + 2))
                i += 3
                continue
            word = self._reading_by_orth(orths[i]) if i in misread else None
            if word is not None:
                changed.add(len(copy))
                copy.append((word, doc[i].whitespace_, i, i))
            else:
                copy.append((doc[i].text, doc[i].whitespace_, i, i))
            i += 1
        if not changed:
            return doc
        read = Doc(self.vocab, words=[c[0] for c in copy], spaces=[bool(c[1]) for c in copy])
        existing = list(doc.spans[self.spans_key]) if self.spans_key in doc.spans else []
        have = {(s.start, s.end, s.label, s.id) for s in existing}
        added = []
        for span in self.match(read):
            if changed.isdisjoint(range(span.start, span.end)):
                continue  # the doc's own words: the SpanRuler found it already
            start, end = copy[span.start][2], copy[span.end - 1][3] + 1
            if (start, end, span.label, span.id) in have:
                continue
            added.append(Span(doc, start, end, label=span.label, span_id=span.id))
        if added:
            doc.spans[self.spans_key] = existing + added
        return doc


@Language.factory(COMPONENT, default_config={"spans_key": "candidates", "ruler": "span_ruler"})
def make_ocr_words(nlp: Language, name: str, spans_key: str, ruler: str) -> OcrWords:  # noqa: ARG001
    from extractor.patterns import PATTERN_DIR, load_json_data, load_patterns

    data = load_json_data("ocr_confusions.json")
    confusions = [(pair["read"], pair["meant"], pair["min_length"]) for pair in data["confusions"]]
    slips = (data["typing_slips"]["transpose_min_length"], data["typing_slips"]["missing_letter_min_length"])
    span_ruler = nlp.get_pipe(ruler)
    return OcrWords(nlp, lambda doc: span_ruler.match(doc), spans_key,
                    pattern_words(load_patterns(PATTERN_DIR)), confusions, slips)

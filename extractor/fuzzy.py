"""Stage 2: near-miss drug names (OCR misreads, typos) as candidate spans.

The drug patterns (patterns/drugs.jsonl) list each agent's spellings in a
`LOWER IN` list; a scanned fax reads "bupivacaine" as "bupivacalne" or
"Iidocaine" and no list can hold every misreading. This component, placed
right after the SpanRuler, finds tokens that are no listed spelling but are
within rapidfuzz ratio >= 85 of one (after reading look-alike digits and
strokes as letters: 1/l/|/! -> l, 0 -> o, 5 -> s), marks them with the agent,
and runs the same drug patterns again with the name token replaced by that
mark, so concentrations ("0.5% bupivacalne") come along as they do for exact
names. Spans keep the pattern's label and id (interpreters read the agent
from the id); `span._.fuzzy` is True on them.

Names come from the pattern files, so a spelling added there is matched
exactly and its near misses fuzzily, with no list here. Nothing is logged.
"""
# No `from __future__ import annotations`: spaCy reads the factory's annotations at run time.

import copy

from spacy.attrs import ORTH
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token

__all__ = ["FuzzyDrugs", "drug_names", "COMPONENT", "MIN_RATIO"]

COMPONENT = "fuzzy_drugs"
MIN_RATIO = 85.0
_LABELS = ("ANESTHETIC", "STEROID")
_MIN_LENGTH = 6          # shorter names ("lido", "dex") are matched exactly only
_MAX_LENGTH_GAP = 2
_CACHE_SIZE = 50_000     # words remembered by FuzzyDrugs (cleared when full)
_LOOK_ALIKES = str.maketrans({"1": "l", "|": "l", "!": "l", "0": "o", "5": "s"})

if not Token.has_extension("fuzzy_agent"):
    Token.set_extension("fuzzy_agent", default="")  # "" not None: the Matcher compares strings
if not Span.has_extension("fuzzy"):
    Span.set_extension("fuzzy", default=False)


def _name_token(token: dict, value: str) -> list[str] | None:
    """The spelling list of a pattern token that names the agent `value`."""
    lower = token.get("LOWER")
    if isinstance(lower, dict) and isinstance(lower.get("IN"), list) and value in lower["IN"]:
        return lower["IN"]
    return None


def drug_names(specs: tuple) -> tuple[dict[str, str], dict[str, str]]:
    """({fuzzy target spelling: agent}, {every listed spelling: agent}) from pattern specs."""
    targets: dict[str, str] = {}
    exact: dict[str, str] = {}
    for spec in specs:
        if spec.label not in _LABELS or not spec.value or not isinstance(spec.pattern, list):
            continue
        for token in spec.pattern:
            names = _name_token(token, spec.value) if isinstance(token, dict) else None
            for name in names or ():
                exact.setdefault(name, spec.value)
                if len(name) >= _MIN_LENGTH and name.isascii() and name.replace("-", "").isalpha():
                    targets.setdefault(name, spec.value)
    return targets, exact


def _name_like(doc: Doc, i: int) -> bool:
    """A capitalised word before an initial or another capitalised word is a name ("Celeste M. Oduya"), not a drug."""
    token = doc[i]
    if not token.is_title or i + 1 >= len(doc):
        return False
    nxt = doc[i + 1]
    return (len(nxt.text) == 1 and nxt.text.isupper()) or (nxt.text.endswith(".") and len(nxt.text) == 2) \
        or (nxt.is_title and nxt.is_alpha)


class FuzzyDrugs:
    """spaCy component: adds near-miss drug spans to `doc.spans[spans_key]`."""

    def __init__(self, nlp: Language, specs: tuple, spans_key: str, min_ratio: float = MIN_RATIO) -> None:
        self.spans_key = spans_key
        self.min_ratio = min_ratio
        self.targets, self.exact = drug_names(specs)
        self.names = list(self.targets)
        self._by_orth: dict[int, str | None] = {}  # word -> agent() or None; see __call__
        self._near_misses: set[int] = set()        # the words of _by_orth with an agent
        self.matcher = Matcher(nlp.vocab)
        self.ids: dict[int, tuple[str, str]] = {}
        for spec in specs:
            if spec.label not in _LABELS or not spec.value or not isinstance(spec.pattern, list):
                continue
            pattern = copy.deepcopy(spec.pattern)
            replaced = False
            for i, token in enumerate(pattern):
                if isinstance(token, dict) and _name_token(token, spec.value) is not None:
                    pattern[i] = {"_": {"fuzzy_agent": spec.value}, **({"OP": token["OP"]} if "OP" in token else {})}
                    replaced = True
            if replaced:
                key = nlp.vocab.strings.add(f"fuzzy:{spec.id}")
                self.matcher.add(key, [pattern])
                self.ids[key] = (spec.id, spec.label)

    def agent(self, text: str) -> str | None:
        """The agent a token is a near miss of, or None (exact spellings are not near misses)."""
        from rapidfuzz import fuzz, process

        lower = text.lower().strip("-")
        if len(lower) < _MIN_LENGTH - 1 or lower in self.exact or not any(c.isalpha() for c in lower):
            return None
        norm = lower.translate(_LOOK_ALIKES)
        if norm in self.exact:
            return self.exact[norm]
        if not norm.replace("-", "").isalpha():
            return None
        best = process.extractOne(norm, self.names, scorer=fuzz.ratio, score_cutoff=self.min_ratio)
        if best is None or abs(len(best[0]) - len(norm)) > _MAX_LENGTH_GAP:
            return None
        # The first letter must agree ("asteroid" is no steroid); OCR reads l as i or I.
        if norm[0] != best[0][0] and not (norm[0] in "il" and best[0][0] in "il"):
            return None
        return self.targets[best[0]]

    def _agent_of(self, orth: int, vocab) -> str | None:
        lex = vocab[orth]
        text = lex.orth_
        skip = lex.is_space or lex.is_punct or len(text) < _MIN_LENGTH - 1
        return None if skip else self.agent(text)

    def __call__(self, doc: Doc) -> Doc:
        # Why by word: the answer depends on the word alone, and rapidfuzz over
        # every name for every token was most of this component's time. The
        # note's distinct words are looked up once each (set operations in C),
        # so a note with no near miss costs no loop over its tokens.
        by_orth = self._by_orth
        if len(by_orth) > _CACHE_SIZE:
            by_orth.clear()
            self._near_misses.clear()
        orths = doc.to_array(ORTH).tolist()
        for orth in set(orths).difference(by_orth):
            agent = by_orth[orth] = self._agent_of(orth, doc.vocab)
            if agent is not None:
                self._near_misses.add(orth)
        if self._near_misses.isdisjoint(orths):
            return doc
        existing = list(doc.spans[self.spans_key]) if self.spans_key in doc.spans else []
        covered = {i for span in existing if span.label_ in _LABELS for i in range(span.start, span.end)}
        found = False
        for i, orth in enumerate(orths):
            agent = by_orth[orth] if orth in self._near_misses else None
            if agent is not None and i not in covered and not _name_like(doc, i):
                doc[i]._.fuzzy_agent = agent
                found = True
        if not found:
            return doc
        added = []
        for key, start, end in self.matcher(doc):
            spec_id, label = self.ids[key]
            span = Span(doc, start, end, label=label, span_id=spec_id)
            span._.fuzzy = True
            added.append(span)
        if added:
            doc.spans[self.spans_key] = existing + added
        return doc


@Language.factory(COMPONENT, default_config={"spans_key": "candidates", "min_ratio": MIN_RATIO})
def make_fuzzy_drugs(nlp: Language, name: str, spans_key: str, min_ratio: float) -> FuzzyDrugs:  # noqa: ARG001
    from extractor.patterns import PATTERN_DIR, load_patterns

    return FuzzyDrugs(nlp, load_patterns(PATTERN_DIR), spans_key, min_ratio)

"""`facet-claims evaluate`: score the extractor against the corpus gold files.

Every corpus document may have a gold file written by a human annotator,
`<corpus>/<case>/gold/<document file name>.gold.json`:

    {"document": "<file name>", "sha256_text": "<sha256 of the extracted text>",
     "facts": [{"kind", "start", "end", "text", "value",
                "negated", "hypothetical", "historical"}, ...]}

Offsets index the extracted text (`extract_path(p).text`, also for PDFs).

Matching, per document and per fact kind: a predicted fact matches a gold
fact when both have the same kind and their spans overlap. Each fact matches
at most once (a maximum one-to-one matching; among equally many matches,
pairs with equal values and larger overlaps are preferred). Then, for the
matched pairs:

* value match: the normalised values are equal. For a dict value only the
  keys the gold value gives are compared; numbers compare with a small
  tolerance; lists of strings compare as sets.
* flag match: `negated`, `hypothetical` and `historical` all equal.

Per kind the command prints the gold and predicted counts, precision and
recall of the span matching, value accuracy and flag accuracy (both over the
matched pairs), and a total line over all kinds (micro averages).

A document whose gold `sha256_text` differs from the sha256 of its current
extracted text is reported as stale and not scored: its offsets no longer
point at the same characters.

Output shows counts and fact kinds only; `--verbose` adds, per document, the
mismatched facts with their offsets and texts (the corpus is fictional).
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import click

__all__ = ["evaluate", "evaluate_corpus", "gold_files", "load_gold", "values_match", "match_facts",
           "KindScore", "Evaluation", "FLAGS"]

FLAGS = ("negated", "hypothetical", "historical")
GOLD_FOLDER = "gold"
GOLD_SUFFIX = ".gold.json"
_REL_TOL = 0.01   # numbers: 1 % relative ...
_ABS_TOL = 0.06   # ... or 0.06 absolute (87.5 vs 87.5, 43.45 weeks vs 43.4)


# ------------------------------------------------------------------ gold files


@dataclass(frozen=True)
class GoldFile:
    path: Path          # the .gold.json file
    document: Path      # the document it annotates
    sha256_text: str
    facts: tuple[dict, ...]


def gold_files(corpus_dir: Path) -> list[Path]:
    """Every `<case>/gold/*.gold.json` under the corpus folder, sorted."""
    return sorted(p for p in Path(corpus_dir).glob(f"*/{GOLD_FOLDER}/*{GOLD_SUFFIX}") if p.is_file())


def load_gold(path: Path) -> GoldFile:
    """Read one gold file; the document is `<case>/docs/<document>`."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    document = Path(path).parent.parent / "docs" / data["document"]
    return GoldFile(path=Path(path), document=document, sha256_text=data["sha256_text"],
                    facts=tuple(data.get("facts") or ()))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ comparing


def _numbers_equal(a: float, b: float) -> bool:
    return math.isclose(float(a), float(b), rel_tol=_REL_TOL, abs_tol=_ABS_TOL)


def values_match(gold: Any, predicted: Any) -> bool:
    """Gold and predicted normalised values are equal (dicts: only the gold's keys)."""
    if isinstance(gold, dict):
        return isinstance(predicted, dict) and all(values_match(v, predicted.get(k)) for k, v in gold.items())
    if isinstance(gold, bool) or isinstance(predicted, bool):
        return gold is predicted or gold == predicted
    if isinstance(gold, (int, float)) and isinstance(predicted, (int, float)):
        return _numbers_equal(gold, predicted)
    if isinstance(gold, (list, tuple)):
        if not isinstance(predicted, (list, tuple)) or len(gold) != len(predicted):
            return False
        if all(isinstance(x, str) for x in list(gold) + list(predicted)):
            return sorted(gold) == sorted(predicted)
        return all(values_match(g, p) for g, p in zip(gold, predicted))
    if isinstance(gold, str) and isinstance(predicted, str):
        return " ".join(gold.split()) == " ".join(predicted.split())
    return gold == predicted


def flags_match(gold: dict, predicted: dict) -> bool:
    return all(bool(gold.get(f)) == bool(predicted.get(f)) for f in FLAGS)


def _overlap(a: dict, b: dict) -> int:
    return min(a["end"], b["end"]) - max(a["start"], b["start"])


def match_facts(gold: list[dict], predicted: list[dict]) -> list[tuple[int, int]]:
    """A maximum one-to-one matching of overlapping facts of one kind: (gold index, predicted index).

    Kuhn's augmenting paths give the largest number of matches; candidate
    pairs are tried best first (equal value, then larger overlap), so among
    matchings of that size the better pairs are kept.
    """
    options: list[list[int]] = []
    for g in gold:
        cands = [(i, p) for i, p in enumerate(predicted) if _overlap(g, p) > 0]
        cands.sort(key=lambda ip: (not values_match(g["value"], ip[1]["value"]), -_overlap(g, ip[1]), ip[0]))
        options.append([i for i, _ in cands])
    owner: dict[int, int] = {}   # predicted index -> gold index

    def augment(gi: int, seen: set[int]) -> bool:
        for pi in options[gi]:
            if pi in seen:
                continue
            seen.add(pi)
            if pi not in owner or augment(owner[pi], seen):
                owner[pi] = gi
                return True
        return False

    for gi in range(len(gold)):
        augment(gi, set())
    return sorted((gi, pi) for pi, gi in owner.items())


# ------------------------------------------------------------------ scoring


@dataclass
class KindScore:
    """Counts for one fact kind (or the total)."""

    gold: int = 0
    predicted: int = 0
    matched: int = 0
    value_equal: int = 0
    flags_equal: int = 0
    flag_equal: dict = field(default_factory=lambda: {f: 0 for f in FLAGS})

    def add(self, other: "KindScore") -> None:
        self.gold += other.gold
        self.predicted += other.predicted
        self.matched += other.matched
        self.value_equal += other.value_equal
        self.flags_equal += other.flags_equal
        for f in FLAGS:
            self.flag_equal[f] += other.flag_equal[f]

    @staticmethod
    def _ratio(num: int, den: int) -> float | None:
        return num / den if den else None

    @property
    def precision(self) -> float | None:
        return self._ratio(self.matched, self.predicted)

    @property
    def recall(self) -> float | None:
        return self._ratio(self.matched, self.gold)

    @property
    def value_accuracy(self) -> float | None:
        return self._ratio(self.value_equal, self.matched)

    @property
    def flag_accuracy(self) -> float | None:
        return self._ratio(self.flags_equal, self.matched)

    def to_dict(self) -> dict:
        return {"gold": self.gold, "predicted": self.predicted, "matched": self.matched,
                "precision": self.precision, "recall": self.recall,
                "value_accuracy": self.value_accuracy, "flag_accuracy": self.flag_accuracy,
                "flag_accuracy_each": {f: self._ratio(n, self.matched) for f, n in self.flag_equal.items()}}


@dataclass
class Evaluation:
    """The result of scoring a corpus."""

    kinds: dict[str, KindScore] = field(default_factory=dict)
    documents: list[str] = field(default_factory=list)       # scored documents
    stale: list[str] = field(default_factory=list)           # gold sha256 differs from the current text
    missing: list[str] = field(default_factory=list)         # gold file whose document is gone
    errors: list[dict] = field(default_factory=list)         # documents that could not be read
    mismatches: list[dict] = field(default_factory=list)     # per fact, for --verbose

    @property
    def total(self) -> KindScore:
        out = KindScore()
        for score in self.kinds.values():
            out.add(score)
        return out

    def to_dict(self, with_mismatches: bool = False) -> dict:
        data = {"documents": len(self.documents), "stale": self.stale, "missing": self.missing,
                "errors": self.errors,
                "kinds": {k: s.to_dict() for k, s in sorted(self.kinds.items())},
                "total": self.total.to_dict()}
        if with_mismatches:
            data["mismatches"] = self.mismatches
        return data


def _fact_dict(fact: Any) -> dict:
    if isinstance(fact, dict):
        return fact
    return {"kind": fact.kind, "start": fact.start, "end": fact.end, "text": fact.text, "value": fact.value,
            **{f: bool(getattr(fact, f)) for f in FLAGS}}


def _flag_string(fact: dict) -> str:
    return "".join(c for c, f in zip("NHP", FLAGS) if fact.get(f)) or "-"


def score_document(gold: Iterable[dict], predicted: Iterable[Any], name: str = "",
                   kinds: dict[str, KindScore] | None = None, mismatches: list | None = None) -> dict[str, KindScore]:
    """Add one document's counts per kind to `kinds` (and its mismatches to `mismatches`)."""
    kinds = {} if kinds is None else kinds
    gold = [dict(g) for g in gold]
    predicted = [_fact_dict(p) for p in predicted]
    for kind in sorted({f["kind"] for f in gold} | {f["kind"] for f in predicted}):
        gk = [g for g in gold if g["kind"] == kind]
        pk = [p for p in predicted if p["kind"] == kind]
        pairs = match_facts(gk, pk)
        score = kinds.setdefault(kind, KindScore())
        score.gold += len(gk)
        score.predicted += len(pk)
        score.matched += len(pairs)
        for gi, pi in pairs:
            g, p = gk[gi], pk[pi]
            same_value = values_match(g["value"], p["value"])
            same_flags = flags_match(g, p)
            score.value_equal += same_value
            score.flags_equal += same_flags
            for f in FLAGS:
                score.flag_equal[f] += bool(g.get(f)) == bool(p.get(f))
            if mismatches is not None and not (same_value and same_flags):
                mismatches.append({"document": name, "kind": kind,
                                   "problem": "value" if not same_value else "flags",
                                   "gold": _brief(g), "predicted": _brief(p)})
        if mismatches is not None:
            matched_g = {gi for gi, _ in pairs}
            matched_p = {pi for _, pi in pairs}
            mismatches.extend({"document": name, "kind": kind, "problem": "missed", "gold": _brief(g)}
                              for i, g in enumerate(gk) if i not in matched_g)
            mismatches.extend({"document": name, "kind": kind, "problem": "spurious", "predicted": _brief(p)}
                              for i, p in enumerate(pk) if i not in matched_p)
    return kinds


def _brief(fact: dict) -> dict:
    return {"start": fact["start"], "end": fact["end"], "text": fact["text"], "value": fact["value"],
            "flags": _flag_string(fact)}


def evaluate_corpus(corpus_dir: str | Path, extract: Callable[[str], Any] | None = None,
                    collect_mismatches: bool = False) -> Evaluation:
    """Extract every corpus document that has a gold file and score it.

    Args:
        corpus_dir: the corpus folder (`<case>/docs/*` and `<case>/gold/*.gold.json`).
        extract: `path -> ExtractedDocument`; defaults to `extractor.pipeline.extract_path`
            (tests pass a cached one).
        collect_mismatches: also list every missed, spurious and mismatched fact.
    """
    from extractor.errors import IngestError

    if extract is None:
        from extractor.pipeline import extract_path as extract
    result = Evaluation()
    mismatches = result.mismatches if collect_mismatches else None
    for path in gold_files(Path(corpus_dir)):
        gold = load_gold(path)
        name = f"{gold.document.parent.parent.name}/{gold.document.name}"
        if not gold.document.is_file():
            result.missing.append(name)
            continue
        try:
            doc = extract(str(gold.document))
        except IngestError as exc:
            result.errors.append({"document": name, "error": exc.message})
            continue
        if sha256_text(doc.text) != gold.sha256_text:
            result.stale.append(name)
            continue
        result.documents.append(name)
        score_document(gold.facts, doc.facts, name, result.kinds, mismatches)
    return result


# ------------------------------------------------------------------ the command


def _pct(x: float | None) -> str:
    return "   -  " if x is None else f"{x * 100:5.1f}%"


def render_table(result: Evaluation) -> str:
    header = f"{'kind':<18} {'gold':>5} {'pred':>5} {'match':>5}  {'prec':>6} {'recall':>6}  {'value':>6} {'flags':>6}"
    lines = [header, "-" * len(header)]

    def row(name: str, s: KindScore) -> str:
        return (f"{name:<18} {s.gold:>5} {s.predicted:>5} {s.matched:>5}  {_pct(s.precision)} {_pct(s.recall)}  "
                f"{_pct(s.value_accuracy)} {_pct(s.flag_accuracy)}")

    for kind, score in sorted(result.kinds.items()):
        lines.append(row(kind, score))
    lines.append("-" * len(header))
    lines.append(row("TOTAL", result.total))
    return "\n".join(lines)


def render_mismatches(result: Evaluation) -> str:
    lines = []
    current = None
    for m in result.mismatches:
        if m["document"] != current:
            current = m["document"]
            lines.append(f"\n== {current}")
        if m["problem"] == "missed":
            g = m["gold"]
            lines.append(f"  missed   {m['kind']:<17} {g['start']}-{g['end']} {g['text']!r} gold={json.dumps(g['value'])} {g['flags']}")
        elif m["problem"] == "spurious":
            p = m["predicted"]
            lines.append(f"  spurious {m['kind']:<17} {p['start']}-{p['end']} {p['text']!r} pred={json.dumps(p['value'])} {p['flags']}")
        else:
            g, p = m["gold"], m["predicted"]
            if m["problem"] == "value":
                detail = f"gold={json.dumps(g['value'])} pred={json.dumps(p['value'])}"
            else:
                detail = f"gold flags {g['flags']} pred flags {p['flags']}"
            lines.append(f"  {m['problem']:<8} {m['kind']:<17} {g['start']}-{g['end']} {g['text']!r} "
                         f"(pred {p['start']}-{p['end']} {p['text']!r}) {detail}")
    return "\n".join(lines)


def _default_corpus() -> str:
    here = Path.cwd() / "corpus"
    if here.is_dir():
        return str(here)
    return str(Path(__file__).resolve().parents[1] / "corpus")


@click.command(help="Score the extractor against the corpus gold files: precision and recall per fact kind.")
@click.argument("corpus_dir", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--verbose", is_flag=True, help="Also list every missed, spurious and mismatched fact (offsets and texts).")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
def evaluate(corpus_dir: str | None, verbose: bool, as_json: bool) -> None:
    corpus_dir = corpus_dir or _default_corpus()
    if not gold_files(Path(corpus_dir)):
        raise click.UsageError(f"no gold files (<case>/{GOLD_FOLDER}/*{GOLD_SUFFIX}) under {corpus_dir}")
    result = evaluate_corpus(corpus_dir, collect_mismatches=verbose)
    if as_json:
        click.echo(json.dumps(result.to_dict(with_mismatches=verbose), indent=2))
    else:
        click.echo(f"{len(result.documents)} documents scored under {corpus_dir}")
        click.echo(render_table(result))
        for name in result.stale:
            click.echo(f"stale (text changed since annotation, not scored): {name}")
        for name in result.missing:
            click.echo(f"missing document for gold file: {name}")
        for err in result.errors:
            click.echo(f"error: {err['document']}: {err['error']}", err=True)
        if verbose:
            click.echo(render_mismatches(result))

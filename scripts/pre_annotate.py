#!/usr/bin/env python3
"""Write a draft gold file for corpus documents from the tool's own output.

A draft is only a starting point for a human annotator: every draft must be
reviewed by reading the whole document, deleting the facts the tool got wrong,
fixing values and flags, and adding the facts it missed (see docs/facts.md).
The evaluation (`facet-claims evaluate`) is only honest when the gold files
are what a careful annotator would mark, not what the tool outputs.

Output, per document `corpus/<case>/docs/<name>`:

    corpus/<case>/gold/<name>.gold.json
    {"document": "<name>", "sha256_text": "<sha256 of the extracted text>",
     "facts": [{"kind", "start", "end", "text", "value",
                "negated", "hypothetical", "historical"}, ...]}

Offsets index the extracted text (`extract_path(p).text`), also for PDFs.
Values keep the keys docs/facts.md documents (plus the anesthetic `role`);
keys that only explain a value ("words" of a diagnosis) are dropped.

An existing gold file is never overwritten unless --force is given (it may
hold reviewed annotations). With --out DIR the drafts go to
DIR/<case>/<name>.gold.json instead of the gold folders.

Usage:
    python scripts/pre_annotate.py [PATHS...] [--force] [--out DIR]

PATHS are documents or folders (default: corpus/). Only documents inside a
`<case>/docs/` folder are annotated. The script prints one line per document
(name, number of draft facts, written/skipped), never document text.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Value keys kept in the draft, per kind (None: keep the value as it is).
VALUE_KEYS = {
    "level": ("joints", "form", "nerves", "region", "side"),
    "relief": ("percent", "basis", "duration_hours", "expected_duration"),
    "anesthetic": ("agent", "concentration", "role"),
    "steroid": ("agent",),
    "pain_score": ("score", "scale"),
    "function": ("measure", "value"),
    "pain_duration": ("months",),
    "conservative_care": ("therapy", "weeks"),
    "patient_name": ("first", "middle", "last"),
    "diagnosis": ("code", "suggested"),
}
FLAGS = ("negated", "hypothetical", "historical")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def gold_path(document: Path, out: Path | None = None) -> Path:
    """corpus/<case>/docs/<name> -> corpus/<case>/gold/<name>.gold.json (or OUT/<case>/...)."""
    case = document.parent.parent
    if out is not None:
        return out / case.name / f"{document.name}.gold.json"
    return case / "gold" / f"{document.name}.gold.json"


def draft_value(kind: str, value):
    keys = VALUE_KEYS.get(kind)
    if keys is None or not isinstance(value, dict):
        return value
    return {k: value.get(k) for k in keys}


def draft_for(document: Path) -> dict:
    """The tool's facts for one document, in the gold format."""
    from extractor.pipeline import extract_path

    extracted = extract_path(str(document))
    facts = [{"kind": f.kind, "start": f.start, "end": f.end, "text": f.text,
              "value": draft_value(f.kind, f.value),
              **{flag: bool(getattr(f, flag)) for flag in FLAGS}}
             for f in extracted.facts]
    return {"document": document.name, "sha256_text": sha256_text(extracted.text), "facts": facts}


def corpus_documents(paths: list[Path]) -> list[Path]:
    """Documents of case folders (<case>/docs/<file>) under or at the given paths."""
    from drafting.draft import expand_paths

    return [p for p in expand_paths([str(p) for p in paths]) if p.parent.name == "docs"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[ROOT / "corpus"])
    parser.add_argument("--force", action="store_true", help="overwrite existing gold files")
    parser.add_argument("--out", type=Path, default=None, help="write drafts under this folder instead")
    args = parser.parse_args(argv)

    documents = corpus_documents(args.paths)
    if not documents:
        print("no documents found under <case>/docs/", file=sys.stderr)
        return 1
    written = 0
    for document in documents:
        target = gold_path(document, args.out)
        if target.exists() and not args.force:
            print(f"{document}: gold exists, skipped (use --force to overwrite)")
            continue
        draft = draft_for(document)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(draft, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written += 1
        print(f"{document}: {len(draft['facts'])} draft facts -> {target}")
    print(f"{written} draft(s) written; review every one before using it as gold")
    return 0


if __name__ == "__main__":
    sys.exit(main())

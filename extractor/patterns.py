"""Stage 2 rule data: load the pattern files (spaCy SpanRuler schema plus ids).

Pattern files are JSON Lines under extractor/patterns/, one SpanRuler pattern
per line with a stable, unique `id`. This module is the only code that reads
them; it rejects unknown keys, unknown labels and duplicate ids with the file
and line of the problem.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from extractor.errors import PatternFileError

__all__ = ["PatternSpec", "load_patterns", "pattern_values", "PATTERN_DIR", "LABELS", "load_json_data"]

PATTERN_DIR = Path(__file__).parent / "patterns"
ALLOWED_KEYS = {"id", "label", "pattern", "priority", "note", "aliases", "value"}
LABELS = {
    "PROCEDURE", "JOINT", "NERVE", "VERTEBRA_RANGE", "SIDE", "REGION",
    "RELIEF", "DURATION", "ANESTHETIC", "STEROID", "DATE", "IMAGING",
    "PAIN_SCORE", "FUNCTION", "PAIN_DURATION", "CONSERVATIVE", "CUE",
    "SETTING", "ICD10", "DX_WORDS", "BLOCK_NUMBER", "SKIN_LOCAL",
    "ID_CELL",  # an identity cell of a table (extractor/tables.py), not a pattern file's label
}


@dataclass(frozen=True)
class PatternSpec:
    """One pattern as written in its file.

    Attributes:
        id: stable id, `<kind>.<variant>`; becomes `span.id_` and `Fact.pattern_id`.
        label: what the span is (one of LABELS).
        pattern: a spaCy token pattern (list of dicts) or a phrase (str).
        priority: breaks ties between overlapping spans of equal length.
        value: optional normalised value the pattern stands for ("lidocaine").
        source: "file:line", for error messages.
    """

    id: str
    label: str
    pattern: Any
    priority: int = 0
    value: Any = None
    note: str = ""
    aliases: tuple[str, ...] = ()
    source: str = ""

    def ruler_pattern(self) -> dict:
        return {"id": self.id, "label": self.label, "pattern": self.pattern}


def _parse_line(raw: str, where: str) -> PatternSpec:
    try:
        entry = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PatternFileError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(entry, dict):
        raise PatternFileError(f"{where}: expected an object")
    unknown = sorted(set(entry) - ALLOWED_KEYS)
    if unknown:
        raise PatternFileError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(ALLOWED_KEYS)}")
    for key in ("id", "label", "pattern"):
        if key not in entry:
            raise PatternFileError(f"{where}: missing key {key!r}")
    if entry["label"] not in LABELS:
        raise PatternFileError(f"{where}: unknown label {entry['label']!r}; allowed: {sorted(LABELS)}")
    if not isinstance(entry["pattern"], (list, str)) or not entry["pattern"]:
        raise PatternFileError(f"{where}: pattern must be a token list or a phrase")
    return PatternSpec(
        id=entry["id"], label=entry["label"], pattern=entry["pattern"],
        priority=int(entry.get("priority", 0)), value=entry.get("value"),
        note=entry.get("note", ""), aliases=tuple(entry.get("aliases", ())), source=where,
    )


@lru_cache(maxsize=4)
def load_patterns(directory: Path = PATTERN_DIR) -> tuple[PatternSpec, ...]:
    """Read every `*.jsonl` file in `directory`.

    Raises:
        PatternFileError: malformed line, unknown key or label, duplicate id.
    """
    specs: list[PatternSpec] = []
    seen: dict[str, str] = {}
    for path in sorted(Path(directory).glob("*.jsonl")):
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not raw.strip() or raw.lstrip().startswith("//"):
                continue
            where = f"patterns/{path.name}:{number}"
            spec = _parse_line(raw, where)
            if spec.id in seen:
                raise PatternFileError(f"{where}: duplicate id {spec.id!r} (first at {seen[spec.id]})")
            seen[spec.id] = where
            specs.append(spec)
    return tuple(specs)


@lru_cache(maxsize=1)
def pattern_values() -> dict[str, Any]:
    """Pattern id -> the value its file gives it (None when unset), for the shipped pattern files."""
    return {spec.id: spec.value for spec in load_patterns(PATTERN_DIR)}


@lru_cache(maxsize=16)
def load_json_data(name: str, directory: Path = PATTERN_DIR) -> Any:
    """Read one JSON data file that sits beside the patterns (rules as data)."""
    path = Path(directory) / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PatternFileError(f"patterns/{name}: {exc}") from None

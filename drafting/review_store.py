"""Stage 7 (review): reviewer decisions on facts -> SQLite audit trail -> corrected ExtractedDocuments.

A decision is keyed by the fact's identity across runs, ``(sha256, start,
end, kind)`` (`drafting.review.fact_key`), so re-running the tool on the same
documents finds it again. Every decision is kept (an audit trail with the
reviewer's name and the UTC time); the latest one per fact is the one in
force, and ``clear`` withdraws it. `apply_decisions` turns the decisions in
force into corrected documents with `dataclasses.replace` (rejected facts
removed, corrected values replaced) so `draft_documents` can run again.
"""
from __future__ import annotations

import json
import re
import sqlite3
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from extractor.errors import ToolError
from extractor.facts import ExtractedDocument, Fact
from extractor.interpret.levels import joints_from_nerves

__all__ = ["Decision", "DecisionStore", "ReviewError", "apply_decisions", "parse_correction", "edit_text",
           "ACTIONS", "EDITABLE_KINDS", "STORE_NAME"]

STORE_NAME = "review.sqlite"
ACTIONS = ("accept", "reject", "correct", "clear")
EDITABLE_KINDS = ("side", "level", "relief", "date", "service_date")
SIDES = ("left", "right", "bilateral")
_JOINT = re.compile(r"^([CTLS])(\d{1,2})-([CTLS]?)(\d{1,2})$")
_NERVE = re.compile(r"^([CTLS])(\d{1,2})$")
_VERTEBRAE = {"C": 8, "T": 12, "L": 5, "S": 5}  # highest number of each region (C8 nerve; S1-S5)
_RELIEF = re.compile(r"^(\d{1,3}(?:\.\d+)?)\s*%?(?:\s+(?:for\s+)?(\d+(?:\.\d+)?)\s*(?:h|hr|hrs|hours?))?$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    kind TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('accept', 'reject', 'correct', 'clear')),
    value TEXT,             -- JSON: the corrected value (action 'correct')
    original TEXT,          -- JSON: the extracted value it replaces
    pattern_id TEXT,
    document TEXT,          -- file name only
    reviewer TEXT NOT NULL,
    decided_at TEXT NOT NULL -- UTC, ISO 8601
);
CREATE INDEX IF NOT EXISTS decisions_by_fact ON decisions (sha256, start, "end", kind, id);
"""


class ReviewError(ToolError):
    """A decision that cannot be recorded; the message names the problem, never document text."""


@dataclass(frozen=True)
class Decision:
    """One reviewer decision on one fact (see the module docstring for the key)."""

    sha256: str
    start: int
    end: int
    kind: str
    action: str
    reviewer: str
    decided_at: str
    value: object = None
    original: object = None
    pattern_id: str = ""
    document: str = ""

    @property
    def key(self) -> tuple[str, int, int, str]:
        return (self.sha256, self.start, self.end, self.kind)

    def to_dict(self) -> dict:
        return {"sha256": self.sha256, "start": self.start, "end": self.end, "kind": self.kind,
                "action": self.action, "value": self.value, "original": self.original,
                "pattern_id": self.pattern_id, "document": self.document,
                "reviewer": self.reviewer, "decided_at": self.decided_at}


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def edit_text(kind: str, value) -> str:
    """The value of a fact as a reviewer types it in the edit box (inverse of `parse_correction`)."""
    if kind == "level" and isinstance(value, dict):
        where = value.get("joints") or value.get("nerves") or []
        return " ".join(filter(None, [value.get("side") or "", ", ".join(where)]))
    if kind == "relief" and isinstance(value, dict):
        pct = value.get("percent")
        text = "" if pct is None else f"{pct:g}%"
        return f"{text} {value['duration_hours']:g}h".strip() if value.get("duration_hours") else text
    return "" if value is None else str(value)


def parse_correction(fact: Fact, text: str):
    """A reviewer's corrected value for `fact`, in the shape the extractor gives that kind.

    Accepted forms: side ``left|right|bilateral``; level ``[side] L3-L4, L4-L5``
    (joints) or ``[side] L2, L3, L4`` (medial-branch nerves); relief
    ``80%`` or ``80% 6h``; date ``2026-03-10`` or ``03/10/2026``.

    Raises:
        ReviewError: the kind cannot be corrected, or the text is not a value of that kind.
    """
    text = " ".join((text or "").split())
    if fact.kind not in EDITABLE_KINDS:
        raise ReviewError(f"[E201] a {fact.kind} fact cannot be corrected; only {', '.join(EDITABLE_KINDS)}")
    if fact.kind == "side":
        if text.lower() not in SIDES:
            raise ReviewError("[E202] a side is one of left, right, bilateral")
        return text.lower()
    if fact.kind == "level":
        return _parse_level(fact.value if isinstance(fact.value, dict) else {}, text)
    if fact.kind == "relief":
        m = _RELIEF.match(text.lower())
        if not m or float(m.group(1)) > 100:
            raise ReviewError("[E203] relief is a percentage 0-100, optionally with hours: 80% 6h")
        base = dict(fact.value) if isinstance(fact.value, dict) else {}
        hours = float(m.group(2)) if m.group(2) else base.get("duration_hours")
        return {**base, "percent": float(m.group(1)), "basis": base.get("basis") or "percent", "duration_hours": hours}
    m = _US_DATE.match(text)
    iso = f"{m.group(3)}-{int(m.group(1)):02d}-{int(m.group(2)):02d}" if m else text
    try:
        return datetime.strptime(iso, "%Y-%m-%d").date().isoformat()
    except ValueError:
        raise ReviewError("[E204] a date is YYYY-MM-DD or MM/DD/YYYY") from None


def _real(word: str) -> bool:
    """Every vertebra named in a joint or nerve word exists (L5 yes, L9 no)."""
    found = re.findall(r"([CTLS])(\d{1,2})", word)
    return bool(found) and all(1 <= int(n) <= _VERTEBRAE[r] for r, n in found)


def _parse_level(base: dict, text: str) -> dict:
    words = text.replace(",", " ").replace(" and ", " ").split()
    side = base.get("side")
    if words and words[0].lower() in SIDES:
        side = words.pop(0).lower()
    items = [w.upper() for w in words]
    if not all(_real(w) for w in items):
        items = []
    if items and all(_JOINT.match(w) for w in items):
        joints = []
        for w in items:
            a, n1, b, n2 = _JOINT.match(w).groups()
            joints.append(f"{a}{n1}-{b or a}{n2}")
        return {**base, "joints": joints, "form": "joint", "side": side}
    if items and all(_NERVE.match(w) for w in items):
        return {**base, "nerves": items, "joints": joints_from_nerves(items), "form": "nerve", "side": side}
    raise ReviewError("[E205] a level is [left|right|bilateral] then joints (L3-L4, L4-L5) or nerves (L2, L3, L4)")


class DecisionStore:
    """Decisions in a SQLite file (DIR/review.sqlite); safe to share between server threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        with self._lock, self._db:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record(self, doc: ExtractedDocument, fact: Fact, action: str, reviewer: str, text: str | None = None,
               now: str | None = None) -> Decision:
        """Record a decision on `fact` of `doc`; for ``correct``, `text` is parsed with `parse_correction`.

        Raises:
            ReviewError: unknown action, no reviewer name, or a correction that does not parse.
        """
        if action not in ACTIONS:
            raise ReviewError(f"[E206] unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
        reviewer = " ".join((reviewer or "").split())
        if not reviewer:
            raise ReviewError("[E207] a decision needs the reviewer's name")
        value = parse_correction(fact, text or "") if action == "correct" else None
        decision = Decision(doc.sha256, fact.start, fact.end, fact.kind, action, reviewer, now or _utc_now(),
                            value, fact.value, fact.pattern_id, Path(doc.path).name)
        with self._lock, self._db:
            self._db.execute(
                'INSERT INTO decisions (sha256, start, "end", kind, action, value, original, pattern_id, document,'
                " reviewer, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*decision.key, action, json.dumps(value), json.dumps(fact.value), fact.pattern_id,
                 decision.document, reviewer, decision.decided_at))
        return decision

    def history(self) -> list[Decision]:
        """Every decision ever recorded, oldest first (the audit trail)."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM decisions ORDER BY id").fetchall()
        return [Decision(r["sha256"], r["start"], r["end"], r["kind"], r["action"], r["reviewer"], r["decided_at"],
                         json.loads(r["value"]) if r["value"] else None,
                         json.loads(r["original"]) if r["original"] else None,
                         r["pattern_id"] or "", r["document"] or "") for r in rows]

    def current(self) -> dict[tuple, Decision]:
        """The decision in force per fact key (the latest; a ``clear`` leaves none)."""
        latest: dict[tuple, Decision] = {}
        for d in self.history():
            latest[d.key] = d
        return {k: d for k, d in latest.items() if d.action != "clear"}

    def export_lines(self) -> list[str]:
        """The decisions in force as gold data: one sorted JSON object per fact, in document order."""
        current = sorted(self.current().values(), key=lambda d: (d.document, d.sha256, d.start, d.end, d.kind))
        return [json.dumps({**d.to_dict(), "gold_value": d.value if d.action == "correct"
                            else (None if d.action == "reject" else d.original)}, sort_keys=True) for d in current]

    def export_jsonl(self, path: str | Path) -> int:
        """Write `export_lines` to `path` (JSONL); returns how many decisions were written."""
        lines = self.export_lines()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return len(lines)


def apply_decisions(docs: list[ExtractedDocument], decisions: dict[tuple, Decision]) -> list[ExtractedDocument]:
    """Documents with the decisions in force applied: rejected facts removed, corrected values replaced."""
    out = []
    for doc in docs:
        facts = []
        for fact in doc.facts:
            d = decisions.get((doc.sha256, fact.start, fact.end, fact.kind))
            if d is not None and d.action == "reject":
                continue
            facts.append(replace(fact, value=d.value) if d is not None and d.action == "correct" else fact)
        out.append(replace(doc, facts=tuple(facts)))
    return out

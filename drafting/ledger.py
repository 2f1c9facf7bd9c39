"""Drop folder ledger: input files -> SQLite rows keyed by content hash -> summary.json and worklist.csv.

The ledger (OUTBOX/ledger.sqlite) is what makes the drop folder restartable.
Every change is one transaction, so after `kill -9` a row is either in its old
state or its new one. A row's life:

    processing -> extracted -> drafted      (facts cached, then drafted into a case)
    processing -> failed                    (with a coded reason)
    duplicate                               (same bytes as a file being drafted)
    superseded                              (its path now holds other bytes)

A row still `processing` when a run starts is redone. `attempts` counts how
often extraction was started, so a file that kills its worker every time is
eventually failed instead of retried forever. Bytes that failed own nothing:
another copy of them is read (and fails) on its own, so each has its reason. Rows hold file names, hashes and
statuses, never document text.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path

__all__ = ["Ledger", "PRIMARY", "STATUSES", "case_info", "error_file_names", "worklist_csv", "WORKLIST_COLUMNS"]

PRIMARY = ("processing", "extracted", "drafted")  # rows that own their content hash
STATUSES = PRIMARY + ("failed", "duplicate", "superseded")
_IN_PRIMARY = "status IN ('processing', 'extracted', 'drafted')"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,              -- absolute path where the file was found
    name TEXT NOT NULL,              -- path relative to the inbox
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    case_id TEXT,
    error TEXT,
    moved_to TEXT,
    first_seen TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_path ON files(path);
CREATE INDEX IF NOT EXISTS files_sha ON files(sha256);
CREATE TABLE IF NOT EXISTS cases (
    case_id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,       -- hash of the drafted case, setting and profile
    info TEXT NOT NULL,              -- JSON: patient, dates of service, status, counts
    updated TEXT NOT NULL
);
"""


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Ledger:
    """Access to OUTBOX/ledger.sqlite; used by one process (the drop folder's parent)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self):
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- input files -------------------------------------------------------

    def lookup(self, path: str, size: int, mtime_ns: int) -> sqlite3.Row | None:
        """The live row for a file still at `path` with this size and mtime (no need to hash it again)."""
        return self.conn.execute(
            "SELECT * FROM files WHERE path=? AND size=? AND mtime_ns=? AND moved_to IS NULL "
            "AND status != 'superseded' ORDER BY id DESC LIMIT 1", (path, size, mtime_ns)).fetchone()

    def register(self, path: str, name: str, sha256: str, size: int, mtime_ns: int) -> tuple[sqlite3.Row, bool]:
        """Record a file found at `path` with these bytes; returns (row, is_new_input).

        Same path and bytes as a live row: not new. Bytes already owned by
        another row (not a failed one): a `duplicate`. Otherwise `processing`. Rows whose path
        now holds other bytes become `superseded`.
        """
        return self.register_many([(path, name, sha256, size, mtime_ns)])[0]

    def register_many(self, files: list[tuple[str, str, str, int, int]]) -> list[tuple[sqlite3.Row, bool]]:
        """`register` for each (path, name, sha256, size, mtime_ns) in order, all in one transaction."""
        now = _now()
        out = []
        with self.transaction() as db:
            for path, name, sha256, size, mtime_ns in files:
                out.append(self._register(db, now, path, name, sha256, size, mtime_ns))
        return out

    def _register(self, db, now: str, path: str, name: str, sha256: str, size: int,
                  mtime_ns: int) -> tuple[sqlite3.Row, bool]:
        at_path = db.execute("SELECT * FROM files WHERE path=? AND moved_to IS NULL", (path,)).fetchall()
        same = next((r for r in at_path if r["sha256"] == sha256 and r["status"] != "superseded"), None)
        if same is not None:
            db.execute("UPDATE files SET size=?, mtime_ns=? WHERE id=?", (size, mtime_ns, same["id"]))
            return self.row(same["id"]), False
        for old in at_path:
            if old["status"] != "superseded":
                self._supersede(old, now)
        owner = db.execute(f"SELECT id FROM files WHERE sha256=? AND {_IN_PRIMARY}", (sha256,)).fetchone()
        status = "duplicate" if owner else "processing"
        cur = db.execute(
            "INSERT INTO files (path, name, sha256, size, mtime_ns, status, first_seen, updated) "
            "VALUES (?,?,?,?,?,?,?,?)", (path, name, sha256, size, mtime_ns, status, now, now))
        return self.row(cur.lastrowid), True

    def _supersede(self, old: sqlite3.Row, now: str) -> None:
        self.conn.execute("UPDATE files SET status='superseded', updated=? WHERE id=?", (now, old["id"]))
        if old["status"] in PRIMARY:  # another copy of these bytes, if any, now owns them
            heir = self.conn.execute("SELECT id FROM files WHERE sha256=? AND status='duplicate' ORDER BY id LIMIT 1",
                                     (old["sha256"],)).fetchone()
            if heir is not None:
                self.conn.execute("UPDATE files SET status='processing', attempts=0, updated=? WHERE id=?",
                                  (now, heir["id"]))

    def row(self, row_id: int) -> sqlite3.Row:
        return self.conn.execute("SELECT * FROM files WHERE id=?", (row_id,)).fetchone()

    def with_status(self, *statuses: str) -> list[sqlite3.Row]:
        marks = ",".join("?" * len(statuses))
        return self.conn.execute(f"SELECT * FROM files WHERE status IN ({marks}) ORDER BY id", statuses).fetchall()

    def start_attempt(self, row_id: int) -> int:
        return self.step([], [row_id])[row_id]

    def finish(self, row_id: int, status: str, error: str | None = None) -> None:
        """Record the outcome of extracting one file (`extracted` or `failed`).

        When it failed, copies registered meanwhile as its duplicates fail with it.
        """
        self.step([(row_id, status, error)], [])

    def step(self, finished: list[tuple[int, str, str | None]], started: list[int]) -> dict[int, int]:
        """In one transaction: `finish` each (row id, status, error), then start an attempt on each row in `started`.

        Returns:
            Row id -> its attempts now, for the rows started.
        """
        now = _now()
        attempts = {}
        with self.transaction() as db:
            for row_id, status, error in finished:
                db.execute("UPDATE files SET status=?, error=?, updated=? WHERE id=? AND status='processing'",
                           (status, error, now, row_id))
                if status == "failed":
                    db.execute("UPDATE files SET status='failed', error=?, updated=? WHERE status='duplicate' "
                               "AND sha256=(SELECT sha256 FROM files WHERE id=?)", (error, now, row_id))
            for row_id in started:
                db.execute("UPDATE files SET attempts=attempts+1, updated=? WHERE id=?", (now, row_id))
                attempts[row_id] = db.execute("SELECT attempts FROM files WHERE id=?", (row_id,)).fetchone()[0]
        return attempts

    def requeue(self, row_ids: list[int]) -> None:
        """Send rows back to `processing` (their cached facts are missing or out of date)."""
        with self.transaction() as db:
            db.executemany("UPDATE files SET status='processing', attempts=0, updated=? WHERE id=?",
                           [(_now(), i) for i in row_ids])

    def set_moved(self, row_id: int, dest: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE files SET moved_to=?, updated=? WHERE id=?", (dest, _now(), row_id))

    def all_files(self) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM files ORDER BY id").fetchall()

    # -- cases -------------------------------------------------------------

    def case_fingerprints(self) -> dict[str, str]:
        return {r["case_id"]: r["fingerprint"] for r in self.conn.execute("SELECT case_id, fingerprint FROM cases")}

    def cases(self) -> list[dict]:
        return [json.loads(r["info"]) for r in self.conn.execute("SELECT info FROM cases ORDER BY case_id")]

    def record_round(self, case_of_sha: dict[str, str], cases: dict[str, tuple[str, dict]],
                     written: set[str]) -> None:
        """After a drafting round: mark the drafted rows with their case, and replace the case table.

        Only cases in `written` (their folders now hold this draft) get the new
        fingerprint; the others keep theirs, so an interrupted write is redone.
        """
        now = _now()
        old = self.case_fingerprints()
        with self.transaction() as db:
            for row in db.execute("SELECT id, sha256 FROM files WHERE status IN ('extracted','drafted')").fetchall():
                db.execute("UPDATE files SET status='drafted', case_id=?, updated=? WHERE id=?",
                           (case_of_sha.get(row["sha256"]), now, row["id"]))
            db.execute("DELETE FROM cases")
            for case_id, (fingerprint, info) in cases.items():
                keep = fingerprint if case_id in written else old.get(case_id, "")
                db.execute("INSERT INTO cases VALUES (?,?,?,?)", (case_id, keep, json.dumps(info), now))

    # -- reports -------------------------------------------------------------

    def summary(self, meta: dict) -> dict:
        """summary.json: every input file once (with its case) and every case."""
        rows = self.all_files()
        owners = {r["sha256"]: r for r in rows if r["status"] in PRIMARY}
        errors = error_file_names(rows)
        files = []
        for r in rows:
            owner = owners.get(r["sha256"]) if r["status"] == "duplicate" else None
            files.append({"path": r["path"], "name": r["name"], "sha256": r["sha256"], "status": r["status"],
                          "case_id": r["case_id"] or (owner["case_id"] if owner else None), "error": r["error"],
                          "duplicate_of": owner["path"] if owner else None, "moved_to": r["moved_to"],
                          "error_file": f"failed/{errors[r['id']]}" if r["id"] in errors else None})
        counts = {s: sum(f["status"] == s for f in files) for s in sorted({f["status"] for f in files})}
        return {**meta, "counts": counts, "files": files, "cases": self.cases()}

    def write_error_files(self, folder: Path) -> None:
        """folder/<name>.error.txt for each failed file (its reason), and only for those."""
        from drafting.outputs import atomic_write

        rows = self.all_files()
        wanted = error_file_names(rows)
        for row in rows:
            if row["id"] in wanted and not (folder / wanted[row["id"]]).exists():
                atomic_write(folder / wanted[row["id"]],
                             f"file: {row['name']}\npath: {row['path']}\nsha256: {row['sha256']}\n"
                             f"status: failed\nreason: {row['error']}\nrecorded: {row['updated']}\n")
        for extra in folder.glob("*.error.txt") if folder.is_dir() else ():
            if extra.name not in wanted.values():
                extra.unlink()


def error_file_names(rows) -> dict[int, str]:
    """Row id -> its file name under OUTBOX/failed/ (`<name>.error.txt`), for failed rows."""
    failed = [r for r in rows if r["status"] == "failed"]
    names = [r["name"].replace("/", "__") for r in failed]
    return {r["id"]: f"{n}.error.txt" if names.count(n) == 1 else f"{n}.{r['id']}.error.txt"
            for r, n in zip(failed, names)}


def case_info(case: dict) -> dict:
    """What summary.json says about one drafted case (the contract's case dict)."""
    claims = case["claims"]
    ready = bool(claims) and all(c["status"] == "ready" for c in claims)
    return {"case_id": case["case_id"], "patient": case["patient"],
            "dates_of_service": [c["date_of_service"] for c in claims],
            "status": "ready" if ready else "needs_review", "claims": len(claims),
            "gaps": sum(len(c.get("gaps", [])) for c in claims),
            "folder": f"cases/{case['case_id']}", "documents": [d["path"] for d in case["documents"]]}


WORKLIST_COLUMNS = ["file", "status", "error", "sha256", "duplicate_of", "case_id", "patient", "dob", "mrn",
                    "dates_of_service", "case_status", "claims", "gaps", "path"]


def worklist_csv(summary: dict) -> str:
    """worklist.csv: one row per input file with its case, for a spreadsheet."""
    cases = {c["case_id"]: c for c in summary["cases"]}
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(WORKLIST_COLUMNS)
    for f in summary["files"]:
        c = cases.get(f["case_id"]) or {}
        p = c.get("patient") or {}
        writer.writerow([f["name"], f["status"], f["error"] or "", f["sha256"], f["duplicate_of"] or "",
                         f["case_id"] or "", p.get("name") or "", p.get("dob") or "", p.get("mrn") or "",
                         " ".join(d or "" for d in c.get("dates_of_service", [])), c.get("status", ""),
                         c.get("claims", ""), c.get("gaps", ""), f["path"]])
    return buf.getvalue()

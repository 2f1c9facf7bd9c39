"""Drop folder (stages 1-7 per file): INBOX files -> ledger rows -> cached ExtractedDocuments -> OUTBOX case folders.

One round (`DropFolder.run_round`) registers the files given by content hash,
extracts the new ones in worker processes (each worker builds the spaCy
pipeline once and writes the facts it found to OUTBOX/.cache/<code-hash>/<sha>.pickle,
so the parent only streams back a status), re-drafts every case from the
cached facts, rewrites the case folders that changed, and writes
OUTBOX/summary.json and OUTBOX/worklist.csv. Inputs are only read (or moved,
when asked). Logs name files, hashes and statuses, never document text.
"""
from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import hashlib
import json
import logging
import multiprocessing
import os
import pickle
import shutil
import signal
from collections import deque
from pathlib import Path

from extractor.errors import IngestError, ToolError

from drafting.ledger import Ledger, case_info, worklist_csv
from drafting.outputs import atomic_write

__all__ = ["DropFolder", "DropFolderError", "Messages", "extractor_fingerprint"]

log = logging.getLogger("facet_claims.dropfolder")

MAX_ATTEMPTS = 3  # extraction starts before a file that keeps killing its worker is failed


class DropFolderError(ToolError):
    """The drop folder cannot run (e.g. another process holds OUTBOX)."""


class Messages:
    E201 = "[E201] file changed while it was being read; its new content is read again"
    E202 = "[E202] extraction was interrupted {attempts} times (worker crashed or was killed); giving up"
    E203 = "[E203] internal error while extracting ({kind}); please report it"
    E204 = "[E204] another batch or watch is already writing to {outbox}"


# -- worker side ----------------------------------------------------------------


def _init_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    from extractor.nlp import get_nlp

    get_nlp()


def _extract_job(path: str, sha256: str, cache_file: str) -> tuple[str, str | None]:
    """Extract one file and cache its facts; returns (status, coded reason)."""
    from extractor.pipeline import extract_path

    try:
        doc = extract_path(path)
    except IngestError as exc:
        return "failed", exc.message
    except Exception as exc:  # noqa: BLE001 -- one document's bug must not stop the others; recorded, not hidden
        return "failed", Messages.E203.format(kind=type(exc).__name__)
    if doc.sha256 != sha256:
        return "failed", Messages.E201
    atomic_write(Path(cache_file), pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL))
    return "extracted", None


def extractor_fingerprint() -> str:
    """Hash of the extractor's code and patterns: cached facts are reused only by the same extractor."""
    import extractor

    digest = hashlib.sha256()
    root = Path(extractor.__file__).parent
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in {".py", ".json", ".jsonl", ".yaml"}):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


# -- the engine -------------------------------------------------------------------


class DropFolder:
    """One OUTBOX and the INBOX it drafts; `run_round(paths)` brings OUTBOX up to date.

    Args:
        inbox: folder of input documents (read, never modified).
        outbox: cases/, failed/, summary.json, worklist.csv, ledger.sqlite and .cache/ go here.
        setting, profile: as for `facet-claims draft`.
        workers: extraction processes (default: every core this process may use).
        move_to: if given, inputs are moved here once their outcome is recorded.
        on_file: called as ``on_file(name, status, error)`` for each file's outcome.

    Raises:
        DropFolderError: another process holds OUTBOX (E204).
    """

    def __init__(self, inbox: str | Path, outbox: str | Path, *, setting: str = "office", profile: str = "default",
                 workers: int | None = None, move_to: str | Path | None = None, on_file=None) -> None:
        self.inbox = Path(inbox).resolve()
        self.outbox = Path(outbox).resolve()
        self.move_to = Path(move_to).resolve() if move_to else None
        self.setting, self.profile = setting, profile
        self.workers = max(1, workers or len(os.sched_getaffinity(0)))
        self.on_file = on_file or (lambda name, status, error: None)
        self.outbox.mkdir(parents=True, exist_ok=True)
        self._lock = _lock(self.outbox)
        self.ledger = Ledger(self.outbox / "ledger.sqlite")
        self.cache_dir = self.outbox / ".cache" / extractor_fingerprint()
        self.exclude = tuple(p for p in (self.outbox, self.move_to) if p is not None)
        self._pool: cf.ProcessPoolExecutor | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self.ledger.close()
        self._lock.close()

    def known(self, path: Path) -> bool:
        try:
            st = os.stat(path)
        except OSError:
            return True
        return self.ledger.lookup(str(path), st.st_size, st.st_mtime_ns) is not None

    def run_round(self, paths: list[Path], force: bool = False) -> bool:
        """Register `paths`, extract what is new or unfinished, and re-draft if anything changed.

        Returns:
            False when nothing was new or unfinished (and `force` is off), so nothing was done.
        """
        new = self.register(paths)
        pending = self.ledger.with_status("processing")
        if not (new or pending or force):
            return False
        self.extract_pending()
        self.move_processed()
        self.draft_round()
        self.write_summary()
        return True

    # -- registering and extracting

    def register(self, paths: list[Path]) -> int:
        """Hash and record files by content; returns how many are new inputs (duplicates included)."""
        from extractor.ingest import sha256_of

        new = 0
        for path in paths:
            path = Path(path).absolute()
            for _ in range(3):  # a file still changing is hashed again
                try:
                    before = os.stat(path)
                    if self.ledger.lookup(str(path), before.st_size, before.st_mtime_ns) is not None:
                        break
                    sha = sha256_of(path)
                    after = os.stat(path)
                except (OSError, IngestError):
                    break  # gone before it could be read: it was never an input
                if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
                    continue
                row, is_new = self.ledger.register(str(path), str(path.relative_to(self.inbox)), sha,
                                                   after.st_size, after.st_mtime_ns)
                new += is_new
                if is_new and row["status"] == "duplicate":
                    log.info("duplicate %s sha256=%s", row["name"], sha[:12])
                    self.on_file(row["name"], "duplicate", None)
                break
            else:
                log.warning("%s is still changing; left for the next round", path.name)
        return new

    def _cache_file(self, sha: str) -> Path:
        return self.cache_dir / f"{sha}.pickle"

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=_init_worker)
        return self._pool

    def extract_pending(self) -> None:
        """Extract every `processing` row, at most 2 per worker in flight; results stream back one by one."""
        todo = deque()
        for row in self.ledger.with_status("processing"):
            if self._cache_file(row["sha256"]).exists():
                self._finish(row, "extracted", None)
            else:
                todo.append(row["id"])
        inflight: dict[cf.Future, object] = {}
        limit = 2 * self.workers
        while todo or inflight:
            while todo and len(inflight) < limit:
                row = self.ledger.row(todo.popleft())
                attempts = self.ledger.start_attempt(row["id"])
                if attempts > MAX_ATTEMPTS:
                    self._finish(row, "failed", Messages.E202.format(attempts=attempts - 1))
                    continue
                fut = self._new_pool().submit(_extract_job, row["moved_to"] or row["path"], row["sha256"],
                                              str(self._cache_file(row["sha256"])))
                inflight[fut] = row
            done, _ = cf.wait(inflight, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                row = inflight.pop(fut)
                try:
                    status, error = fut.result()
                except cf.process.BrokenProcessPool:
                    log.warning("worker crashed while reading %s sha256=%s; reading one at a time",
                                row["name"], row["sha256"][:12])
                    todo.append(row["id"])
                    limit = 1  # isolate the file that crashes its worker
                    if self._pool is not None:
                        self._pool.shutdown(wait=False, cancel_futures=True)
                        self._pool = None
                    continue
                self._finish(row, status, error)

    def _finish(self, row, status: str, error: str | None) -> None:
        self.ledger.finish(row["id"], status, error)
        log.info("%s %s sha256=%s%s", status, row["name"], row["sha256"][:12], f": {error}" if error else "")
        if status == "failed":
            self._write_errors()
        self.on_file(row["name"], status, error)

    def move_processed(self) -> None:
        """With --move-processed: move inputs whose outcome is recorded out of the inbox."""
        if self.move_to is None:
            return
        for row in self.ledger.all_files():
            if row["moved_to"] or row["status"] in ("processing", "superseded"):
                continue
            src = Path(row["path"])
            try:
                st = os.stat(src)
            except OSError:
                continue
            if (st.st_size, st.st_mtime_ns) != (row["size"], row["mtime_ns"]):
                continue
            dest, n = self.move_to / row["name"], 0
            while dest.exists():
                n += 1
                dest = self.move_to / f"{row['name']}.{n}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), str(dest))
            self.ledger.set_moved(row["id"], str(dest))

    # -- drafting

    def _load_docs(self) -> tuple[list, list[int]]:
        docs, missing = [], []
        for row in self.ledger.with_status("extracted", "drafted"):
            try:
                doc = pickle.loads(self._cache_file(row["sha256"]).read_bytes())
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
                missing.append(row["id"])
                continue
            path = row["moved_to"] or row["path"]
            docs.append(dataclasses.replace(doc, path=path, source=dataclasses.replace(doc.source, path=path)))
        return sorted(docs, key=lambda d: d.path), missing

    def draft_round(self) -> None:
        """Re-draft every case from the cached facts; rewrite the case folders that changed."""
        from drafting.draft import draft_documents
        from drafting.outputs import write_case_outputs

        docs, missing = self._load_docs()
        if missing:  # cache lost or made by another extractor version: read those files again
            self.ledger.requeue(missing)
            self.extract_pending()
            docs, _ = self._load_docs()
        result = draft_documents(docs, setting=self.setting, profile_name=self.profile)
        fingerprints, by_sha = self.ledger.case_fingerprints(), {d.sha256: d for d in docs}
        cases_dir, case_of_sha, infos, written = self.outbox / "cases", {}, {}, set()
        for case in result["cases"]:
            cid = case["case_id"]
            case_docs = [by_sha[d["sha256"]] for d in case["documents"] if d["sha256"] in by_sha]
            case_of_sha.update({d["sha256"]: cid for d in case["documents"]})
            fingerprint = hashlib.sha256(json.dumps([case, self.setting, self.profile], sort_keys=True,
                                                    default=str).encode()).hexdigest()
            info, error = case_info(case), None
            if fingerprints.get(cid) != fingerprint or not (cases_dir / cid / "claim.json").exists():
                try:
                    folder = write_case_outputs(case, cases_dir, case_docs, self.setting)
                    write_review(case, folder, case_docs)
                    written.add(cid)
                    log.info("case key=%s written; documents sha256=%s", _key(cid),
                             ",".join(d.sha256[:12] for d in case_docs))
                except ToolError as exc:
                    error = str(exc)
                    log.warning("case key=%s: outputs not written: %s", _key(cid), exc)
            infos[cid] = (fingerprint, {**info, "error": error})
        for stale in (p for p in cases_dir.glob("*") if p.is_dir() and p.name not in infos):
            shutil.rmtree(stale)  # its documents now belong to another case id
        self.ledger.record_round(case_of_sha, infos, written)

    # -- reports

    def _write_errors(self) -> None:
        self.ledger.write_error_files(self.outbox / "failed")

    def summary(self) -> dict:
        return self.ledger.summary({"inbox": str(self.inbox), "setting": self.setting, "profile": self.profile})

    def write_summary(self) -> dict:
        data = self.summary()
        self._write_errors()
        atomic_write(self.outbox / "summary.json", json.dumps(data, indent=2, default=str))
        atomic_write(self.outbox / "worklist.csv", worklist_csv(data))
        return data


def _key(case_id: str) -> str:
    """A case's name in logs: case ids hold the MRN and birth date, which logs must not."""
    return hashlib.sha256(case_id.encode()).hexdigest()[:12]


def write_review(case: dict, folder: Path, docs: list) -> None:
    """review.html beside the claim (drafting.review; the case switcher shows this case only)."""
    from drafting.review import render_review

    atomic_write(folder / "review.html", render_review(case, docs))


def _lock(outbox: Path):
    import fcntl

    fh = open(outbox / ".lock", "w")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise DropFolderError(Messages.E204.format(outbox=outbox)) from None
    return fh

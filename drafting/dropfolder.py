"""Drop folder (stages 1-7 per file): INBOX files -> ledger rows -> cached ExtractedDocuments -> OUTBOX case folders.

One round (`DropFolder.run_round`) registers the files given by content hash,
extracts the new ones in worker processes (each worker builds the spaCy
pipeline once and writes the facts it found to OUTBOX/.cache/<code-hash>/<sha>.pickle,
so the parent only streams back a status and the document's identity: name,
birth date, MRN, whether it is a letter), groups the documents into cases from those identities,
re-drafts every case in the same worker processes (each job reads its case's
cached facts, drafts it, and rewrites the case folder if the draft changed),
and writes OUTBOX/summary.json and OUTBOX/worklist.csv. The parent never holds
the extracted documents, so its memory does not grow with their text. Inputs
are only read (or moved, when asked). Logs name files, hashes and statuses,
never document text.
"""
from __future__ import annotations

import concurrent.futures as cf
import concurrent.futures.process  # noqa: F401 -- cf.process.BrokenProcessPool, before any pool exists
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
from typing import NamedTuple

from extractor.errors import IngestError, ToolError

from drafting.ledger import Ledger, case_info, worklist_csv
from drafting.outputs import atomic_write

__all__ = ["DropFolder", "DropFolderError", "Messages", "extractor_fingerprint"]

log = logging.getLogger("facet_claims.dropfolder")

MAX_ATTEMPTS = 3  # extraction starts before a file that keeps killing its worker is failed
# Files per extraction job. One file per job made the parent answer ~200
# futures and ledger transactions a second, on a core the workers need;
# small inboxes still get one file per job so progress streams.
EXTRACT_CHUNK = 8
DRAFT_CHUNK = 8  # cases per drafting job: a case takes ~30 ms, its round trip to a worker ~0.7 ms of this process
REGISTER_BATCH = 64  # files hashed per ledger transaction when registering
INLINE_CASES = 32  # with no worker running, fewer cases than this are drafted here (a worker takes ~1.5 s to start)


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

    get_nlp()  # built and frozen once (extractor/nlp.py): a worker's exit, which every batch waits for, halves


class Member(NamedTuple):
    """One extracted document as the parent knows it: where it is, its bytes' hash, and who it names."""

    path: str
    sha256: str
    name: dict | None
    dob: str | None
    mrn: str | None
    letter: bool = False


def _identity(doc) -> tuple:
    """(name, dob, mrn, letter) of a document, as `summarise` reads them (all grouping needs)."""
    from drafting.sessions import summarise

    summary = summarise(doc)
    return summary.name, summary.dob, summary.mrn, summary.letter


def _extract_job(path: str, sha256: str, cache_file: str) -> tuple[str, str | None, tuple | None]:
    """Extract one file and cache its facts; returns (status, coded reason, identity)."""
    from extractor.pipeline import extract_path

    try:
        doc = extract_path(path)
    except IngestError as exc:
        return "failed", exc.message, None
    except Exception as exc:  # noqa: BLE001 -- one document's bug must not stop the others; recorded, not hidden
        return "failed", Messages.E203.format(kind=type(exc).__name__), None
    if doc.sha256 != sha256:
        return "failed", Messages.E201, None
    # A cache that does not load is extracted again, so it need not be fsynced (one disk flush less per file).
    atomic_write(Path(cache_file), pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL), durable=False)
    return "extracted", None, _identity(doc)


def _extract_many(jobs: list[tuple[str, str, str]]) -> list[tuple[str, str | None, tuple | None]]:
    """`_extract_job` for each (path, sha256, cache file): one round trip to the parent for a few files."""
    return [_extract_job(*job) for job in jobs]


def _load_cached(cache_file: str, path: str):
    """A cached ExtractedDocument, with the path its input has now (None when the cache is unreadable)."""
    try:
        doc = pickle.loads(Path(cache_file).read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
        return None
    return dataclasses.replace(doc, path=path, source=dataclasses.replace(doc.source, path=path))


def _identity_job(items: list[tuple[str, str]]) -> list[tuple | None]:
    """Identities of cached documents, given as (cache file, path); None for a cache that cannot be read."""
    out = []
    for cache_file, path in items:
        doc = _load_cached(cache_file, path)
        out.append(None if doc is None else _identity(doc))
    return out


def _case_fingerprint(case: dict, setting: str, profile: str) -> str:
    return hashlib.sha256(json.dumps([case, setting, profile], sort_keys=True, default=str).encode()).hexdigest()


def _draft_job(members: list[tuple[str, str, str]], setting: str, profile: str, cases_dir: str,
               old_fingerprint: str | None) -> dict:
    """Draft one case from its cached documents and rewrite its folder if the draft changed.

    `members` are (path, sha256, cache file) in the order grouping added them.
    Returns the case id, fingerprint, summary info, whether the folder was
    written, a coded error (outputs not written), and the hashes of the documents
    drafted; or ``{"missing": [sha256, ...]}`` when cached facts could not be read.
    """
    from drafting.cases import Case
    from drafting.draft import draft_case
    from drafting.outputs import write_case_outputs
    from drafting.review import render_review
    from drafting.sessions import summarise_all
    from drafting.tables import load_profile

    docs, missing = [], []
    for path, sha256, cache_file in members:
        doc = _load_cached(cache_file, path)
        if doc is None:
            missing.append(sha256)
        else:
            docs.append(doc)
    if missing:
        return {"missing": missing}
    case = draft_case(Case(summarise_all(docs)), setting, load_profile(profile))
    by_sha = {d.sha256: d for d in docs}
    case_docs = [by_sha[d["sha256"]] for d in case["documents"] if d["sha256"] in by_sha]
    fingerprint = _case_fingerprint(case, setting, profile)
    cid, error, written = case["case_id"], None, False
    folder = Path(cases_dir) / cid
    if old_fingerprint != fingerprint or not (folder / "claim.json").exists():
        try:  # review.html beside the claim (its case switcher shows this case only)
            write_case_outputs(case, cases_dir, case_docs, setting, extra={"review.html": render_review(case, case_docs)})
            written = True
        except ToolError as exc:
            error = str(exc)
    return {"case_id": cid, "fingerprint": fingerprint, "info": {**case_info(case), "error": error},
            "written": written, "error": error, "documents": [d.sha256 for d in case_docs]}


def _draft_many(jobs: list[tuple[list, str | None]], setting: str, profile: str, cases_dir: str) -> list[dict]:
    """`_draft_job` for a few cases, (members, old fingerprint) each: one worker round trip for all of them."""
    return [_draft_job(members, setting, profile, cases_dir, old) for members, old in jobs]


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
        self._identities: dict[str, tuple] = {}  # sha256 -> (name, dob, mrn, letter) of cached documents

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

        new, found = 0, []

        def record() -> None:  # one ledger transaction for a run of files
            nonlocal new
            for row, is_new in self.ledger.register_many(found):
                new += is_new
                if is_new and row["status"] == "duplicate":
                    log.info("duplicate %s sha256=%s", row["name"], row["sha256"][:12])
                    self.on_file(row["name"], "duplicate", None)
            found.clear()

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
                found.append((str(path), str(path.relative_to(self.inbox)), sha, after.st_size, after.st_mtime_ns))
                if len(found) >= REGISTER_BATCH:
                    record()
                break
            else:
                log.warning("%s is still changing; left for the next round", path.name)
        record()
        return new

    def _cache_file(self, sha: str) -> Path:
        return self.cache_dir / f"{sha}.pickle"

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=_init_worker)
        return self._pool

    def extract_pending(self) -> None:
        """Extract every `processing` row, a few files per job and at most 2 jobs per worker in flight.

        Outcomes stream back job by job. When a worker dies, its job's files go
        back in the queue and are read one at a time from then on, so the file
        that kills a worker is isolated and its attempts are counted alone.
        """
        todo, finished = deque(), []
        for row in self.ledger.with_status("processing"):
            if self._cache_file(row["sha256"]).exists():
                finished.append((row, "extracted", None))
            else:
                todo.append(row["id"])
        inflight: dict[cf.Future, list] = {}
        limit = 2 * self.workers
        chunk = max(1, min(EXTRACT_CHUNK, len(todo) // (4 * self.workers)))
        while todo or inflight or finished:
            # Outcomes since the last pass and the attempts about to start: one ledger transaction.
            wanted = min(len(todo), (limit - len(inflight)) * chunk)
            starting = [self.ledger.row(todo.popleft()) for _ in range(wanted)]
            attempts = self.ledger.step([(row["id"], status, error) for row, status, error in finished],
                                        [row["id"] for row in starting]) if finished or starting else {}
            for row, status, error in finished:
                self._finished(row, status, error)
            finished = []
            runnable = []
            for row in starting:
                if attempts[row["id"]] > MAX_ATTEMPTS:
                    self._finish(row, "failed", Messages.E202.format(attempts=attempts[row["id"]] - 1))
                else:
                    runnable.append(row)
            for i in range(0, len(runnable), chunk):
                rows = runnable[i:i + chunk]
                jobs = [(row["moved_to"] or row["path"], row["sha256"], str(self._cache_file(row["sha256"])))
                        for row in rows]
                inflight[self._new_pool().submit(_extract_many, jobs)] = rows
            if not inflight:
                continue
            done, _ = cf.wait(inflight, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                rows = inflight.pop(fut)
                try:
                    outcomes = fut.result()
                except cf.process.BrokenProcessPool:
                    for row in rows:
                        log.warning("worker crashed while reading %s sha256=%s; reading one at a time",
                                    row["name"], row["sha256"][:12])
                        todo.append(row["id"])
                    limit, chunk = 1, 1  # isolate the file that crashes its worker
                    self._reset_pool()
                    continue
                for row, (status, error, identity) in zip(rows, outcomes):
                    if identity is not None:
                        self._identities[row["sha256"]] = identity
                    finished.append((row, status, error))

    def _finish(self, row, status: str, error: str | None) -> None:
        self.ledger.finish(row["id"], status, error)
        self._finished(row, status, error)

    def _finished(self, row, status: str, error: str | None) -> None:
        """Report an outcome the ledger has recorded."""
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

    def _members(self) -> list[Member]:
        """Every extracted document (sorted by path) with its identity; unreadable caches are extracted again."""
        for _ in range(MAX_ATTEMPTS):
            rows = self.ledger.with_status("extracted", "drafted")
            missing = [r["id"] for r in rows if not self._cache_file(r["sha256"]).exists()]
            unknown = [r for r in rows if r["sha256"] not in self._identities and r["id"] not in missing]
            items = [(str(self._cache_file(r["sha256"])), r["moved_to"] or r["path"]) for r in unknown]
            for r, identity in zip(unknown, self._map(_identity_job, items)):
                if identity is None:
                    missing.append(r["id"])
                else:
                    self._identities[r["sha256"]] = identity
            if not missing:
                break
            # cache lost, unreadable or made by another extractor version: read those files again
            self._reextract([r for r in rows if r["id"] in set(missing)])
        members = [Member(r["moved_to"] or r["path"], r["sha256"], *self._identities[r["sha256"]])
                   for r in rows if r["sha256"] in self._identities]
        return sorted(members, key=lambda m: m.path)

    def _map(self, job, items: list, chunk: int = 64) -> list:
        """`job(chunk_of_items)` over `items` in the worker pool, results flattened in order."""
        chunks = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        if not chunks:
            return []
        if self._pool is None and len(items) < INLINE_CASES:
            return job(items)
        try:
            return [x for part in self._new_pool().map(job, chunks) for x in part]
        except cf.process.BrokenProcessPool:
            self._reset_pool()
            return [x for part in chunks for x in job(part)]

    def _reset_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _reextract(self, rows: list) -> None:
        """Drop the cached facts of `rows` and extract their files again."""
        for row in rows:
            self._identities.pop(row["sha256"], None)
            self._cache_file(row["sha256"]).unlink(missing_ok=True)
        self.ledger.requeue([row["id"] for row in rows])
        self.extract_pending()

    def draft_round(self, retry: bool = True) -> None:
        """Re-draft every case from the cached facts, one worker job per case; rewrite the folders that changed.

        Cases are grouped here from the documents' identities only; each job
        reads its case's cached documents, drafts the case and writes its folder.
        Of cases that get the same case id, the last one is drafted (as when
        they were drafted one after another and the last one's files stayed).
        """
        from drafting.cases import group_cases

        members = self._members()
        cases = group_cases(members)
        fingerprints = self.ledger.case_fingerprints()
        cases_dir, case_of_sha = self.outbox / "cases", {}
        last_of = {}
        for n, case in enumerate(cases):
            cid = case.case_id
            case_of_sha.update({m.sha256: cid for m in case.documents})
            last_of[cid] = n
        jobs = deque((n, [(m.path, m.sha256, str(self._cache_file(m.sha256))) for m in case.documents])
                     for n, case in enumerate(cases) if last_of[case.case_id] == n)
        results: dict[int, dict] = {}
        inflight: dict[cf.Future, tuple[int, list]] = {}
        missing: list[str] = []
        if self._pool is None and len(jobs) < INLINE_CASES:
            jobs, inline = deque(), jobs
            for n, job in inline:
                results[n] = _draft_job(job, self.setting, self.profile, str(cases_dir),
                                        fingerprints.get(cases[n].case_id))
        chunk = max(1, min(DRAFT_CHUNK, len(jobs) // (4 * self.workers)))
        while jobs or inflight:
            while jobs and len(inflight) < 2 * self.workers:
                batch = [jobs.popleft() for _ in range(min(chunk, len(jobs)))]
                fut = self._new_pool().submit(_draft_many, [(job, fingerprints.get(cases[n].case_id))
                                                            for n, job in batch],
                                              self.setting, self.profile, str(cases_dir))
                inflight[fut] = batch
            done, _ = cf.wait(inflight, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                batch = inflight.pop(fut)
                try:
                    drafted = fut.result()
                except cf.process.BrokenProcessPool:
                    log.warning("worker crashed while drafting cases key=%s; drafting them here",
                                ",".join(_key(cases[n].case_id) for n, _ in batch))
                    self._reset_pool()
                    drafted = _draft_many([(job, fingerprints.get(cases[n].case_id)) for n, job in batch],
                                          self.setting, self.profile, str(cases_dir))
                results.update((n, result) for (n, _), result in zip(batch, drafted))
        for n in [n for n, result in results.items() if "missing" in result]:
            missing += results.pop(n)["missing"]
        if missing and retry:  # a cache went bad after it was checked: read those files again, then draft again
            self._reextract([r for r in self.ledger.with_status("extracted", "drafted") if r["sha256"] in set(missing)])
            return self.draft_round(retry=False)
        if missing:
            log.warning("%d documents could not be read back from the cache; their cases were not drafted",
                        len(missing))
        infos, written = {}, set()
        for n in sorted(results):
            result = results[n]
            cid = result["case_id"]
            if cid != cases[n].case_id:  # cannot happen: both read the same identities in the same order
                log.warning("case key=%s drafted as key=%s", _key(cases[n].case_id), _key(cid))
                case_of_sha.update({sha: cid for sha in result["documents"]})
            if result["written"]:
                written.add(cid)
                log.info("case key=%s written; documents sha256=%s", _key(cid),
                         ",".join(sha[:12] for sha in result["documents"]))
            elif result["error"]:
                log.warning("case key=%s: outputs not written: %s", _key(cid), result["error"])
            infos[cid] = (result["fingerprint"], result["info"])
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


def _lock(outbox: Path):
    import fcntl

    fh = open(outbox / ".lock", "w")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise DropFolderError(Messages.E204.format(outbox=outbox)) from None
    return fh

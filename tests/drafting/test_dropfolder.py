"""The drop folder (`facet-claims batch` / `watch`), run as a user runs it: a subprocess on temporary folders.

The main property: every input file is accounted for exactly once in
OUTBOX/summary.json (drafted, duplicate or failed with a reason), across
files dropped over time, slow copies, duplicates, corrupt files and a
`kill -9` followed by a restart; and each case's claim.json holds the same
claims as `facet-claims draft` on that case's documents. Failure messages
name files and statuses only: claims and summaries quote documents.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drafting.ledger import Ledger

REPO = Path(__file__).resolve().parents[2]
CASE = REPO / "corpus" / "c01_demo_bilateral" / "docs"  # one patient, 4 notes, 3 claims
CLI = [sys.executable, "-m", "drafting"]
TIMEOUT = 60
CORRUPT_PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ngarbage, no xref, no trailer\n"

pytestmark = pytest.mark.skipif(not CASE.is_dir(), reason=f"corpus case missing: {CASE}")


def cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([*CLI, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)


def finish(proc: subprocess.Popen, timeout: float = TIMEOUT) -> tuple[int, str]:
    """Exit status and stdout; on failure only the status and the end of stderr are shown."""
    out, err = proc.communicate(timeout=timeout)
    proc.stderr_tail = "\n".join(err.strip().splitlines()[-5:])
    return proc.returncode, out


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def summary(outbox: Path) -> dict:
    try:
        return json.loads((outbox / "summary.json").read_text())
    except (OSError, ValueError):
        return {"files": [], "cases": [], "counts": {}}


def wait_for(predicate, timeout: float = TIMEOUT, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def statuses(outbox: Path) -> dict[str, str]:
    """File name -> status; fails if a name is listed twice."""
    files = summary(outbox)["files"]
    names = [f["name"] for f in files if f["status"] != "superseded"]
    assert len(names) == len(set(names)), f"listed more than once: {sorted(n for n in names if names.count(n) > 1)}"
    return {f["name"]: f["status"] for f in files}


def case_claims(outbox: Path) -> dict[str, list]:
    return {p.parent.name: json.loads(p.read_text())["cases"][0]["claims"] for p in outbox.glob("cases/*/claim.json")}


def draft_claims(stdout: str) -> dict[str, list]:
    return {c["case_id"]: c["claims"] for c in json.loads(stdout)["cases"]}


def assert_same_claims(outbox: Path, draft_stdout: str) -> None:
    got, want = case_claims(outbox), draft_claims(draft_stdout)
    assert sorted(got) == sorted(want), "case folders differ from the cases `draft` finds"
    for case_id in want:
        same = got[case_id] == want[case_id]
        assert same, f"claims of case {case_id} differ from `facet-claims draft`"


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    path = tmp_path / "inbox"
    path.mkdir()
    return path


# -- batch ---------------------------------------------------------------------------


def test_batch_accounts_for_every_file_and_matches_draft(inbox: Path, tmp_path: Path) -> None:
    outbox = tmp_path / "out"
    docs = [inbox / p.name for p in sorted(CASE.iterdir())]
    for p in sorted(CASE.iterdir()):
        (inbox / p.name).write_bytes(p.read_bytes())
    (inbox / "sub").mkdir()
    (inbox / "sub" / "copy of consult.txt").write_bytes(docs[0].read_bytes())
    (inbox / "corrupt.pdf").write_bytes(CORRUPT_PDF)
    (inbox / "empty.txt").write_bytes(b"")
    before = {p: sha(p) for p in inbox.rglob("*") if p.is_file()}

    draft = cli("draft", *docs, "--json")
    batch = cli("batch", inbox, "--out", outbox, "--workers", "1", "--settle", "0")
    code, _ = finish(batch)
    assert code == 1, f"exit {code}, expected 1 (a file failed): {batch.stderr_tail}"
    assert {p: sha(p) for p in inbox.rglob("*") if p.is_file()} == before, "inputs were modified"

    got = statuses(outbox)
    assert got == {**{d.name: "drafted" for d in docs}, "sub/copy of consult.txt": "duplicate",
                   "corrupt.pdf": "failed", "empty.txt": "failed"}
    files = {f["name"]: f for f in summary(outbox)["files"]}
    assert files["sub/copy of consult.txt"]["duplicate_of"] == str(docs[0])
    assert files["corrupt.pdf"]["error"].startswith("[E003]")
    assert files["empty.txt"]["error"].startswith("[E002]")
    assert "[E003]" in (outbox / "failed" / "corrupt.pdf.error.txt").read_text()
    worklist = (outbox / "worklist.csv").read_text().splitlines()
    assert len(worklist) == 1 + len(before)
    (case,) = summary(outbox)["cases"]
    assert files["sub/copy of consult.txt"]["case_id"] == case["case_id"] == files[docs[0].name]["case_id"]
    folder = outbox / "cases" / case["case_id"]
    assert {"claim.json", "claim.csv", "review.html"} <= {p.name for p in folder.iterdir()}
    assert any(p.name.startswith("letter") for p in folder.iterdir())

    code, out = finish(draft)
    assert code == 0, f"draft: exit {code}: {draft.stderr_tail}"
    assert_same_claims(outbox, out)

    # A second run resumes from the ledger: nothing is read or written again.
    stamp = (folder / "claim.json").stat().st_mtime_ns
    again = cli("batch", inbox, "--out", outbox, "--settle", "0", "--quiet")
    code, _ = finish(again)
    assert code == 1 and again.stderr_tail == "", f"exit {code}; stderr: {again.stderr_tail}"
    assert statuses(outbox) == got
    assert (folder / "claim.json").stat().st_mtime_ns == stamp, "an unchanged case was rewritten"
    with sqlite3.connect(outbox / "ledger.sqlite") as db:
        assert db.execute("SELECT max(attempts), count(*) FROM files").fetchone() == (1, len(before))


# -- watch ---------------------------------------------------------------------------


def test_watch_drafts_files_dropped_over_time_and_waits_for_slow_copies(inbox: Path, tmp_path: Path) -> None:
    outbox = tmp_path / "out"
    sources = sorted(CASE.iterdir())
    watch = cli("watch", inbox, "--out", outbox, "--settle", "1.0", "--poll", "0.1", "--workers", "1",
                start_new_session=True)
    try:
        wait_for(lambda: (outbox / "summary.json").exists(), what="the first summary")
        for src in sources[:2]:
            (inbox / src.name).write_bytes(src.read_bytes())
        wait_for(lambda: list(statuses(outbox).values()) == ["drafted"] * 2, what="2 drafted files")
        first = {k: len(v) for k, v in case_claims(outbox).items()}

        # A slow copy: half the bytes, a pause shorter than --settle, the rest.
        data = sources[2].read_bytes()
        with open(inbox / sources[2].name, "wb") as fh:
            fh.write(data[: len(data) // 2])
            fh.flush()
            time.sleep(0.6)
            fh.write(data[len(data) // 2:])
        (inbox / sources[3].name).write_bytes(sources[3].read_bytes())
        draft = cli("draft", *(inbox / s.name for s in sources), "--json")
        wait_for(lambda: list(statuses(outbox).values()) == ["drafted"] * 4, what="4 drafted files")
        files = {f["name"]: f for f in summary(outbox)["files"]}
        assert files[sources[2].name]["sha256"] == hashlib.sha256(data).hexdigest(), "read half-way"
        (case_id, n_claims), = {k: len(v) for k, v in case_claims(outbox).items()}.items()
        assert n_claims > sum(first.values()), "the case was not re-drafted with the new documents"

        (inbox / "renamed.txt").write_bytes(sources[3].read_bytes())
        wait_for(lambda: statuses(outbox).get("renamed.txt") == "duplicate", what="the duplicate")
        assert len(summary(outbox)["cases"]) == 1
        code, out = finish(draft)
        assert code == 0, f"draft: exit {code}: {draft.stderr_tail}"
        assert_same_claims(outbox, out)
    finally:
        watch.send_signal(signal.SIGTERM)
        try:
            watch.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(watch.pid, signal.SIGKILL)
            watch.communicate()
    assert watch.returncode == 0, f"watch exit {watch.returncode} after SIGTERM"


# -- kill -9 and restart ----------------------------------------------------------------


def test_batch_killed_mid_run_is_finished_by_the_next_run(inbox: Path, tmp_path: Path) -> None:
    outbox = tmp_path / "out"
    from drafting.draft import expand_paths

    for src in expand_paths([str(d) for d in sorted((REPO / "corpus").glob("c0[1-5]*/docs"))]):  # 5 cases, 20 files
        (inbox / f"{src.parents[1].name}__{src.name}").write_bytes(src.read_bytes())
    names = sorted(p.name for p in inbox.iterdir())

    def finished():
        try:
            with sqlite3.connect(f"file:{outbox / 'ledger.sqlite'}?mode=ro", uri=True) as db:
                rows = dict(db.execute("SELECT name, status FROM files").fetchall())
        except sqlite3.Error:
            return None
        done = [n for n, s in rows.items() if s != "processing"]
        return done if len(done) >= 3 else None

    batch = cli("batch", inbox, "--out", outbox, "--workers", "2", "--settle", "0", start_new_session=True)
    try:
        done = wait_for(finished, what="3 files extracted")
    finally:
        os.killpg(batch.pid, signal.SIGKILL)  # the parent and its workers, as `kill -9` on the job would
        batch.communicate()
    assert len(done) < len(names), "the run finished before it could be killed"

    c01 = sorted(inbox.glob("c01_demo_bilateral__*"))
    draft = cli("draft", *c01, "--json")
    again = cli("batch", inbox, "--out", outbox, "--settle", "0")
    code, _ = finish(again, timeout=90)
    assert code == 0, f"restart: exit {code}: {again.stderr_tail}"
    got = statuses(outbox)
    assert sorted(got) == names, "an input is missing from the summary"
    assert set(got.values()) <= {"drafted", "duplicate"}, f"statuses: {sorted(set(got.values()))}"
    with sqlite3.connect(outbox / "ledger.sqlite") as db:
        attempts = dict(db.execute("SELECT name, attempts FROM files").fetchall())
    assert len(attempts) == len(names)
    assert all(attempts[n] == 1 for n in done), "a file finished before the kill was read again"
    code, out = finish(draft)
    assert code == 0, f"draft: exit {code}: {draft.stderr_tail}"
    want = draft_claims(out)
    for case_id, claims in want.items():
        same = case_claims(outbox).get(case_id) == claims
        assert same, f"claims of case {case_id} differ from `facet-claims draft`"


def outputs(outbox: Path) -> dict[str, str]:
    """Relative path -> sha256 of every output a user reads (case folders, summary, worklist)."""
    return {str(p.relative_to(outbox)): sha(p) for p in sorted(outbox.rglob("*")) if p.is_file()
            and p.relative_to(outbox).parts[0] in ("cases", "failed", "summary.json", "worklist.csv")}


def test_cases_drafted_in_workers_match_draft_and_redrafts_from_the_cache(inbox: Path, tmp_path: Path) -> None:
    """Several cases: grouped from identities, drafted in the worker pool; then redrafted in a fresh run
    (identities read back from the cache, cases drafted in the parent) and after a cache went bad."""
    outbox = tmp_path / "out"
    from drafting.draft import expand_paths

    for src in expand_paths([str(d) for d in sorted((REPO / "corpus").glob("c0[1-5]*/docs"))]):  # 5 cases, 20 files
        (inbox / f"{src.parents[1].name}__{src.name}").write_bytes(src.read_bytes())
    draft = cli("draft", *sorted(inbox.iterdir()), "--json")
    code, _ = finish(cli("batch", inbox, "--out", outbox, "--workers", "2", "--settle", "0", "--quiet"), timeout=120)
    assert code == 0, f"batch: exit {code}"
    code, out = finish(draft)
    assert code == 0, f"draft: exit {code}: {draft.stderr_tail}"
    assert_same_claims(outbox, out)
    first = outputs(outbox)
    assert len([k for k in first if k.endswith("review.html")]) == len(draft_claims(out)) >= 5

    for step in ("cases folder lost", "a cached document unreadable"):
        shutil.rmtree(outbox / "cases")
        if step == "a cached document unreadable":
            victim = sorted(outbox.glob(".cache/*/*.pickle"))[0]
            victim.write_bytes(b"not a pickle")
        again = cli("batch", inbox, "--out", outbox, "--workers", "2", "--settle", "0")
        code, _ = finish(again, timeout=120)
        assert code == 0, f"{step}: exit {code}: {again.stderr_tail}"
        assert outputs(outbox) == first, f"{step}: outputs differ from the first run"
    assert victim.read_bytes() != b"not a pickle", "the file whose cache went bad was not read again"


# -- the ledger and the settle check, in process ----------------------------------------


def test_ledger_same_bytes_elsewhere_is_a_duplicate(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    first, new = ledger.register("/in/a.txt", "a.txt", "s1", 10, 1)
    assert (first["status"], new) == ("processing", True)
    assert ledger.register("/in/a.txt", "a.txt", "s1", 10, 2)[1] is False  # touched, same bytes
    dup, new = ledger.register("/in/b.txt", "b.txt", "s1", 10, 1)
    assert (dup["status"], new) == ("duplicate", True)


def test_ledger_new_bytes_at_a_path_supersede_the_old_and_a_copy_inherits(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    old, _ = ledger.register("/in/a.txt", "a.txt", "s1", 10, 1)
    ledger.finish(old["id"], "extracted")
    copy, _ = ledger.register("/in/b.txt", "b.txt", "s1", 10, 1)
    ledger.register("/in/a.txt", "a.txt", "s2", 12, 2)
    rows = {(r["name"], r["sha256"]): r["status"] for r in ledger.all_files()}
    assert rows == {("a.txt", "s1"): "superseded", ("b.txt", "s1"): "processing", ("a.txt", "s2"): "processing"}


def test_ledger_failed_bytes_fail_their_duplicates_and_own_nothing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    bad, _ = ledger.register("/in/a.pdf", "a.pdf", "s1", 10, 1)
    ledger.register("/in/b.pdf", "b.pdf", "s1", 10, 1)
    ledger.finish(bad["id"], "failed", "[E003] damaged")
    assert {r["name"]: r["status"] for r in ledger.all_files()} == {"a.pdf": "failed", "b.pdf": "failed"}
    third, _ = ledger.register("/in/c.pdf", "c.pdf", "s1", 10, 1)
    assert third["status"] == "processing"  # read (and reported) on its own


def test_settler_waits_until_size_and_mtime_are_quiet(tmp_path: Path) -> None:
    from drafting.dropfolder_cli import Settler

    path = tmp_path / "note.txt"
    path.write_text("half")
    settler = Settler(0.5)
    settler.add(path, time.time())
    assert settler.pop_ready() == []
    time.sleep(0.3)
    with open(path, "a") as fh:
        fh.write(" and the rest")
    assert settler.pop_ready() == []
    time.sleep(0.3)
    assert settler.pop_ready() == []  # changed 0.3 s ago
    time.sleep(0.35)
    assert settler.pop_ready() == [path]


class _PoolThatDiesOn:
    """A worker pool, run in this process, whose worker dies whenever a job holds the named file.

    A real worker death (a file that crashes PDFium, the OOM killer) breaks the
    whole ProcessPoolExecutor; this stands in for it so that the recovery can
    be checked without crashing a real process.
    """

    def __init__(self, poison: str) -> None:
        self.poison = poison
        self.jobs: list[int] = []  # files per job, in submission order

    def submit(self, fn, jobs):
        from concurrent.futures import Future
        from concurrent.futures.process import BrokenProcessPool

        self.jobs.append(len(jobs))
        future = Future()
        if any(Path(path).name == self.poison for path, *_ in jobs):
            future.set_exception(BrokenProcessPool("worker died"))
        else:
            future.set_result(fn(jobs))
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


def test_a_file_that_kills_its_worker_fails_alone_when_files_go_in_chunks(inbox: Path, tmp_path: Path) -> None:
    from drafting import dropfolder

    notes = sorted(CASE.iterdir())
    for i in range(6):  # 24 distinct files: enough for jobs of several files each
        for note in notes:
            (inbox / f"{i}_{note.name}").write_text(note.read_text() + f"\n(copy {i})\n")
    poison = f"3_{notes[0].name}"
    pool = _PoolThatDiesOn(poison)
    folder = dropfolder.DropFolder(inbox, tmp_path / "outbox", workers=1)
    folder._new_pool = lambda: pool  # noqa: SLF001 -- the pool is the thing stood in for
    folder._reset_pool = lambda: None  # noqa: SLF001
    try:
        folder.register(sorted(inbox.iterdir()))
        folder.extract_pending()
        outcome = {row["name"]: (row["status"], row["error"]) for row in folder.ledger.all_files()}
    finally:
        folder.close()
    assert max(pool.jobs) > 1, "files were not sent in chunks"
    assert outcome.pop(poison)[0] == "failed"
    assert {status for status, _ in outcome.values()} == {"extracted"}, "a file that shared a job with the poison was lost"
    assert len(outcome) == 23

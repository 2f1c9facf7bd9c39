#!/usr/bin/env python3
"""Memory of one `facet-claims batch` run over many small notes (issue #8: flat, under 500 MB per worker).

    python scripts/bench_batch_memory.py [--count 10000] [--workers 2] [--keep]

Writes COUNT unique notes into a temporary inbox by copying the corpus text
notes (each copy of a case gets its own MRN, see drafting.bench.make_inbox),
runs `python -m drafting batch INBOX --out OUTBOX --workers N --settle 0
--quiet`, and samples every process of the run from /proc twice a second:
resident memory now (VmRSS) and at its peak (VmHWM). It prints the peak of
each worker and of the parent, worker memory at 10%, 25%, 50%, 75% and 100%
of the notes extracted (flat means no growth), the largest worker and parent
RSS during the drafting round (cases are drafted in the workers), how long
extraction and the drafting round took, and the exit status. It prints
numbers only: no file name, no document text. Takes a few minutes for
10,000 notes.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LIMIT_MB = 500  # per worker (issue #8)


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KB ({} once it is gone)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0])
    except OSError:
        return {}
    return out


def _children(root: int) -> dict[int, str]:
    """Descendants of `root`: pid -> role ("worker" or "helper")."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = {}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in found:
                try:
                    cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
                except OSError:
                    continue
                found[child] = "helper" if b"resource_tracker" in cmd else "worker"
                frontier.append(child)
    return found


def _done(cache_root: Path) -> int:
    try:
        return sum(1 for folder in cache_root.iterdir() if folder.is_dir() for _ in folder.glob("*.pickle"))
    except OSError:
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="notes in the inbox [10000]")
    parser.add_argument("--workers", type=int, default=2, help="batch --workers [2]")
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus")
    parser.add_argument("--keep", action="store_true", help="keep the temporary inbox and outbox")
    args = parser.parse_args()

    from drafting.bench import make_inbox

    tmp = Path(tempfile.mkdtemp(prefix="facet-batch-mem-"))
    inbox, outbox = tmp / "inbox", tmp / "outbox"
    started = time.perf_counter()
    written = make_inbox(inbox, args.count, args.corpus)
    print(f"inbox: {written} notes written in {time.perf_counter() - started:.0f} s", flush=True)

    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "drafting", "batch", str(inbox), "--out", str(outbox),
                             "--workers", str(args.workers), "--settle", "0", "--quiet"],
                            cwd=str(REPO), stdout=subprocess.DEVNULL, stderr=(tmp / "stderr.txt").open("wb"))
    peaks: dict[int, int] = {}            # pid -> VmHWM KB
    roles: dict[int, str] = {}
    timeline: list[tuple[float, int, int, int]] = []  # (seconds, notes extracted, max worker RSS KB, parent RSS KB)
    extracted_at = None
    cache_root = outbox / ".cache"
    last_print = 0.0
    while proc.poll() is None:
        now = time.perf_counter() - start
        roles.update(_children(proc.pid))
        worker_rss = 0
        for pid, role in list(roles.items()) + [(proc.pid, "parent")]:
            st = _status(pid)
            if st:
                peaks[pid] = max(peaks.get(pid, 0), st.get("VmHWM", 0))
                if role == "worker":
                    worker_rss = max(worker_rss, st.get("VmRSS", 0))
        parent_rss = _status(proc.pid).get("VmRSS", 0)
        done = _done(cache_root)
        timeline.append((now, done, worker_rss, parent_rss))
        if extracted_at is None and done >= written:
            extracted_at = now
        if now - last_print >= 15:
            print(f"  {now:6.0f} s: {done} notes extracted; worker RSS {worker_rss / 1024:.0f} MB, "
                  f"parent RSS {parent_rss / 1024:.0f} MB", flush=True)
            last_print = now
        time.sleep(0.5)
    total = time.perf_counter() - start
    err = (tmp / "stderr.txt").read_text(errors="replace")

    workers = {pid: kb for pid, kb in peaks.items() if roles.get(pid) == "worker"}
    print(f"batch exit status {proc.returncode} after {total:.0f} s "
          f"({written / total:.1f} notes/s overall, {args.workers} workers)")
    if extracted_at is not None:
        print(f"extraction: {extracted_at:.0f} s ({written / extracted_at:.1f} notes/s); "
              f"drafting round and outputs after it: {total - extracted_at:.0f} s")
    for i, kb in enumerate(sorted(workers.values(), reverse=True), 1):
        print(f"worker {i} peak RSS: {kb / 1024:.0f} MB ({'under' if kb / 1024 < LIMIT_MB else 'OVER'} {LIMIT_MB} MB)")
    print(f"parent peak RSS: {peaks.get(proc.pid, 0) / 1024:.0f} MB (ledger, identities and case grouping; "
          f"no extracted note)")
    print("worker RSS by progress (flat = no growth):")
    for share in (0.1, 0.25, 0.5, 0.75, 1.0):
        sample = next((t for t in timeline if t[1] >= share * written and t[2]), None)
        if sample is not None:
            print(f"  {int(share * 100):3d}% ({sample[1]} notes, {sample[0]:.0f} s): worker {sample[2] / 1024:.0f} MB, "
                  f"parent {sample[3] / 1024:.0f} MB")
    drafting = [t for t in timeline if extracted_at is not None and t[0] >= extracted_at]
    if drafting:
        print(f"drafting round: worker RSS up to {max(t[2] for t in drafting) / 1024:.0f} MB, "
              f"parent RSS up to {max(t[3] for t in drafting) / 1024:.0f} MB")
    if proc.returncode not in (0, None):
        # Error lines name files and codes only (the drop folder never logs text); show the count.
        print(f"stderr: {len(err.splitlines())} lines")
    if args.keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    worst = max(workers.values(), default=0) / 1024
    print(f"bench_batch_memory: notes={written} workers={args.workers} seconds={total:.0f} "
          f"worker_peak_rss_mb={worst:.0f} parent_peak_rss_mb={peaks.get(proc.pid, 0) / 1024:.0f} "
          f"exit={proc.returncode}")
    return 0 if proc.returncode == 0 and worst < LIMIT_MB else 1


if __name__ == "__main__":
    sys.exit(main())

"""Drop folder CLI: `facet-claims batch` and `facet-claims watch` (INBOX -> OUTBOX), progress and exit codes.

`batch INBOX --out OUTBOX` drafts what is in INBOX and exits (0 when every
file is drafted or a duplicate, 1 when any file failed). `watch` keeps
running and drafts each file once it has stopped changing for `--settle`
seconds. Both resume from OUTBOX/ledger.sqlite after an interruption.
Output names files and statuses only, never document text.
"""
from __future__ import annotations

import logging
import os
import queue
import signal
import sys
import threading
import time
from pathlib import Path

import click

from extractor.errors import Messages, ToolError
from extractor.ingest import outside_inbox

__all__ = ["batch", "watch", "Progress", "Settler", "scan"]

log = logging.getLogger("facet_claims.dropfolder")
RETRY_AFTER_ERROR = 30.0  # seconds before watch retries a round that raised
TEMP_SUFFIXES = (".part", ".partial", ".crdownload", ".download", ".tmp", ".swp", "~")  # copies in progress


def _wanted(path: Path, root: Path, exclude: tuple[Path, ...]) -> bool:
    rel = path.relative_to(root)
    if any(part.startswith(".") for part in rel.parts) or path.name.lower().endswith(TEMP_SUFFIXES):
        return False
    return not any(path == ex or ex in path.parents for ex in exclude)


def scan(root: Path, exclude: tuple[Path, ...] = ()) -> list[Path]:
    """Regular files under `root` (not hidden, not partial downloads, not in `exclude`), sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if _wanted(here / d, root, exclude))
        for f in filenames:
            path = here / f
            if not _wanted(path, root, exclude):
                continue
            if outside_inbox(path, root):
                # Never read what a link leads to outside the inbox (E010).
                log.warning("refused %s: %s", path.name, Messages.E010)
                continue
            if path.is_file():
                out.append(path)
    return sorted(out)


class Settler:
    """Files become ready once their size and mtime have not changed for `settle` seconds."""

    def __init__(self, settle: float) -> None:
        self.settle = settle
        self.seen: dict[Path, tuple[tuple | None, float]] = {}  # path -> (size, mtime_ns), quiet since

    def add(self, path: Path, since: float | None = None) -> None:
        """Watch `path`; `since` is when it was last seen changing (default: its mtime)."""
        sig, old = self.seen.get(path, (None, 0.0))
        self.seen[path] = (sig, max(old, since or 0.0))

    def pop_ready(self) -> list[Path]:
        now, ready = time.time(), []
        for path, (sig, since) in list(self.seen.items()):
            try:
                st = os.stat(path)
            except OSError:
                del self.seen[path]  # gone (renamed or deleted) before it settled
                continue
            new = (st.st_size, st.st_mtime_ns)
            since = max(since, st.st_mtime, now if sig is not None and new != sig else 0.0)
            if now - since >= self.settle:
                ready.append(path)
                del self.seen[path]
            else:
                self.seen[path] = (new, since)
        return sorted(ready)

    def __len__(self) -> int:
        return len(self.seen)


class Progress:
    """A tqdm bar on a terminal, one plain line per file otherwise, nothing with --quiet."""

    def __init__(self, quiet: bool, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.quiet, self.bar, self.total = quiet, None, None
        self.done = self.failed = 0
        self.started = time.monotonic()

    def start(self, total: int) -> None:
        self.total, self.started = total, time.monotonic()
        if not self.quiet and self.stream.isatty() and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="file", file=self.stream, dynamic_ncols=True)
            self.bar.set_postfix(failed=0)

    def file(self, name: str, status: str, error: str | None) -> None:
        self.done += 1
        self.failed += status == "failed"
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(failed=self.failed)
            return
        rate = self.done / max(time.monotonic() - self.started, 1e-6)
        of = f"/{self.total}" if self.total else ""
        why = f": {error}" if error else ""
        click.echo(f"[{self.done}{of}] {status} {name}{why} ({rate:.1f} files/s, {self.failed} failed)",
                   file=self.stream)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _options(fn):
    for option in reversed([
        click.argument("inbox", type=click.Path(exists=True, file_okay=False)),
        click.option("--out", "outbox", required=True, type=click.Path(file_okay=False),
                     help="Where cases/, failed/, summary.json, worklist.csv and ledger.sqlite go."),
        click.option("--setting", type=click.Choice(["office", "asc"]), default="office", show_default=True),
        click.option("--profile", default="default", show_default=True, help="Payer profile."),
        click.option("--workers", type=click.IntRange(min=1), default=None, help="Extraction processes [all cores]."),
        click.option("--settle", type=click.FloatRange(min=0), default=2.0, show_default=True,
                     help="Seconds a file's size and mtime must stay unchanged before it is read."),
        click.option("--move-processed", "move_to", type=click.Path(file_okay=False), default=None,
                     help="Move each input here once its outcome is recorded (off: inputs stay)."),
        click.option("--quiet", is_flag=True, help="No progress or log lines (for cron); the exit status tells."),
    ]):
        fn = option(fn)
    return fn


def _engine(inbox, outbox, setting, profile, workers, move_to, on_file):
    from drafting.dropfolder import DropFolder
    from drafting.tables import load_profile

    if Path(inbox).resolve() == Path(outbox).resolve():
        raise click.UsageError("--out must be a different folder from INBOX")
    try:
        load_profile(profile)
    except ToolError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        return DropFolder(inbox, outbox, setting=setting, profile=profile, workers=workers, move_to=move_to,
                          on_file=on_file)
    except ToolError as exc:
        raise click.ClickException(str(exc)) from None


def _logging(level: int) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    log.setLevel(level)


@click.command(help="Draft every document in INBOX into OUTBOX, then exit (1 when any file failed).")
@_options
def batch(inbox, outbox, setting, profile, workers, settle, move_to, quiet) -> None:
    _logging(logging.ERROR if quiet else logging.WARNING)  # per-file lines come from Progress
    progress = Progress(quiet)
    engine = _engine(inbox, outbox, setting, profile, workers, move_to, progress.file)
    try:
        settler, paths = Settler(settle), []
        for path in scan(engine.inbox, engine.exclude):
            settler.add(path)
        while True:  # a file still being copied is read only once it has settled
            paths += settler.pop_ready()
            if not len(settler):
                break
            time.sleep(min(0.2, settle))
        progress.start(sum(not engine.known(p) for p in paths) + len(engine.ledger.with_status("processing")))
        engine.run_round(paths, force=True)
        data = engine.summary()
    except KeyboardInterrupt:
        progress.close()
        click.echo("interrupted; run again to finish (the ledger keeps what is done)", err=True)
        sys.exit(130)
    finally:
        progress.close()
        engine.close()
    counts = data["counts"]
    if not quiet:
        ready = sum(c["status"] == "ready" for c in data["cases"])
        click.echo(f"{len(data['files'])} files ({', '.join(f'{n} {s}' for s, n in counts.items()) or 'none'}); "
                   f"{len(data['cases'])} cases ({ready} ready) -> {engine.outbox}", err=True)
    sys.exit(1 if counts.get("failed") else 0)


@click.command(help="Watch INBOX and draft each document into OUTBOX once it is completely written.")
@_options
@click.option("--rescan", type=click.FloatRange(min=1), default=60.0, show_default=True,
              help="Seconds between full rescans of INBOX (in case a file event was missed).")
@click.option("--poll", type=click.FloatRange(min=0.05), default=0.25, show_default=True, help="Loop interval (s).")
def watch(inbox, outbox, setting, profile, workers, settle, move_to, quiet, rescan, poll) -> None:
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    _logging(logging.WARNING if quiet else logging.INFO)
    engine = _engine(inbox, outbox, setting, profile, workers, move_to, None)
    events: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event) -> None:
            if event.event_type in ("created", "modified", "moved", "closed"):
                if not (event.is_directory and event.event_type == "modified"):
                    path = event.dest_path if event.event_type == "moved" else event.src_path
                    events.put((Path(path), event.is_directory))

    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    observer = Observer()
    observer.schedule(Handler(), str(engine.inbox), recursive=True)
    observer.start()
    settler = Settler(settle)
    log.info("watching %s -> %s (settle %.1fs)", engine.inbox, engine.outbox, settle)
    next_scan, retry_at = 0.0, time.monotonic()  # the first pass scans and drafts (finishes an interrupted run)
    try:
        while not stop.is_set():
            now = time.time()
            while not events.empty():
                path, is_dir = events.get()
                for p in scan(path, engine.exclude) if is_dir else [path]:
                    if engine.inbox in p.parents and _wanted(p, engine.inbox, engine.exclude):
                        settler.add(p, now)
            if time.monotonic() >= next_scan:
                for p in scan(engine.inbox, engine.exclude):
                    if p not in settler.seen and not engine.known(p):
                        settler.add(p)
                next_scan = time.monotonic() + rescan
            ready = settler.pop_ready()
            if ready or (retry_at and time.monotonic() >= retry_at):
                try:
                    engine.run_round(ready, force=bool(retry_at))
                    retry_at = 0.0
                except ToolError as exc:
                    log.error("round failed: %s; retrying in %.0fs", exc, RETRY_AFTER_ERROR)
                    retry_at = time.monotonic() + RETRY_AFTER_ERROR
                except Exception as exc:  # noqa: BLE001 -- keep watching; inputs are in the ledger, redone later
                    log.error("round failed: %s; retrying in %.0fs", type(exc).__name__, RETRY_AFTER_ERROR)
                    retry_at = time.monotonic() + RETRY_AFTER_ERROR
            stop.wait(poll)
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
        observer.join()
        engine.close()
        log.info("stopped")

"""`facet-claims bench [--quick]`: throughput and memory, each against the floor of the library it stands on.

One run builds a workload from the corpus and measures:

* the text path: `extract_all` + `draft_documents` per case folder (what
  `facet-claims draft FOLDER` does, without printing or HTML), in documents
  per second, against the floor: spaCy's `blank("en")` tokenising the same
  texts (no pattern, no component);
* PDF ingest (`read_document` on text-layer PDFs of 1 to 6 pages), in pages
  per second, against the floor: raw pypdfium2 text extraction of the same
  files (`PdfTextPage.get_text_range` per page);
* OCR (`read_document` on the scanned copies in corpus_scans/, when OCR is
  installed), in pages per second;
* start-up: wall time of `facet-claims draft` on one text note (a fresh
  `python -m drafting draft NOTE` process, which is the same command);
* `batch --workers 2` against `--workers 1` on the same inbox of unique notes
  (the fastest of two alternating runs of each);
* peak resident memory of this process.

Floors and our code run in alternating rounds, so a busy machine slows both;
each ratio is the median of the rounds' ratios. The last line printed is

    bench: text_x_floor=R1 pdf_x_floor=R2 docs_per_s=N pages_per_s=P ocr_pages_per_s=O peak_rss_mb=M startup_s=S

Output names no file and no document text: the corpus file names carry
patient names, so only counts and timings are printed.
"""
from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import click

__all__ = ["bench", "Workload", "load_workload", "make_inbox", "peak_rss_mb"]

REPO = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    """This process's peak resident set size, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Workload:
    """The documents a bench run reads (paths only; nothing is printed about them)."""

    cases: list[list[Path]] = field(default_factory=list)  # text notes, one list per case folder
    pdfs: list[Path] = field(default_factory=list)           # text-layer PDFs, 1 to 6 pages
    scans: list[Path] = field(default_factory=list)          # image-only PDFs (OCR)
    tmp: Path | None = None

    @property
    def notes(self) -> list[Path]:
        return [p for case in self.cases for p in case]

    def close(self) -> None:
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _pdf_pages(path: Path) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()


def _merge_pdfs(parts: list[Path], dest: Path) -> None:
    import pypdfium2 as pdfium

    out = pdfium.PdfDocument.new()
    try:
        for part in parts:
            src = pdfium.PdfDocument(str(part))
            try:
                out.import_pages(src)
            finally:
                src.close()
        out.save(str(dest))
    finally:
        out.close()


def load_workload(corpus: Path, scans: Path | None, quick: bool) -> Workload:
    """Text notes and text-layer PDFs of every corpus case, longer PDFs made by joining
    the corpus PDFs (so documents run from 1 to 6 pages), and scanned PDFs if any."""
    work = Workload(tmp=Path(tempfile.mkdtemp(prefix="facet-bench-")))
    for folder in sorted(p for p in corpus.glob("*/docs") if p.is_dir()):
        notes = sorted(folder.glob("*.txt"))
        if notes:
            work.cases.append(notes)
        work.pdfs.extend(sorted(folder.glob("*.pdf")))
    singles = [(p, _pdf_pages(p)) for p in work.pdfs]
    # Joined PDFs of 4 to 6 pages: consecutive corpus PDFs until the pages reach 4.
    joined, i = 0, 0
    while singles and joined < (2 if quick else 6) and i < 4 * len(singles):
        parts, pages = [], 0
        while pages < 4:
            path, n = singles[i % len(singles)]
            if pages + n > 6:
                break
            parts.append(path)
            pages += n
            i += 1
        if pages >= 4:
            dest = work.tmp / f"joined_{joined}.pdf"
            _merge_pdfs(parts, dest)
            work.pdfs.append(dest)
            joined += 1
        else:
            i += 1
    if scans is not None and scans.is_dir():
        work.scans = sorted(scans.glob("*/docs/*.pdf"))
    return work


# -- unique notes for batch runs -------------------------------------------------------


def make_inbox(dest: Path, count: int, corpus: Path) -> int:
    """Write `count` unique text notes into `dest` by copying corpus notes.

    Copy k of a case gets its own MRN (every MRN the extractor finds in the
    note is replaced, digits for digits), so each copy of a case is another
    patient and no two files have the same bytes (the ledger would skip
    duplicates). File names are numbers only.

    Returns:
        The number of notes written.
    """
    from extractor.pipeline import extract_path

    templates: list[tuple[int, str, list[str]]] = []
    for case_no, folder in enumerate(sorted(p for p in corpus.glob("*/docs") if p.is_dir())):
        for path in sorted(folder.glob("*.txt")):
            doc = extract_path(str(path))
            mrns = sorted({f.text for f in doc.facts if f.kind == "mrn" and f.text.strip()}, key=len, reverse=True)
            templates.append((case_no, doc.source.text, mrns))
    if not templates:
        raise click.ClickException("no text notes found under the corpus")
    dest.mkdir(parents=True, exist_ok=True)
    written, copy = 0, 0
    while written < count:
        for j, (case_no, text, mrns) in enumerate(templates):
            if written >= count:
                break
            new_mrn = f"{7_000_000 + copy * 100 + case_no:08d}"
            out = text
            for mrn in mrns:
                out = re.sub(rf"(?<![0-9A-Za-z]){re.escape(mrn)}(?![0-9A-Za-z])", new_mrn, out)
            if out == text:
                out = f"{text}\n\nCopy {copy}\n"  # no MRN found: still unique bytes
            (dest / f"{copy:05d}_{j:03d}.txt").write_text(out, encoding="utf-8")
            written += 1
        copy += 1
    return written


# -- measurements -------------------------------------------------------------------------


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _rounds(n: int, items: list, floor_fn, ours_fn) -> tuple[list[float], list[float]]:
    """n rounds of floor_fn(item) and ours_fn(item) for every item, in alternating order.

    Why per item: on a shared machine the load changes by the second; timing
    floor and ours back to back on each item makes them share it.
    """
    floors, ours = [], []
    for r in range(n):
        f = o = 0.0
        for i, item in enumerate(items):
            if (r + i) % 2:
                o += _timed(lambda: ours_fn(item))
                f += _timed(lambda: floor_fn(item))
            else:
                f += _timed(lambda: floor_fn(item))
                o += _timed(lambda: ours_fn(item))
        floors.append(f)
        ours.append(o)
    return floors, ours


def _median_ratio(ours: list[float], floors: list[float]) -> float:
    return statistics.median(o / f for o, f in zip(ours, floors))


def measure_text(work: Workload, rounds: int) -> dict:
    from drafting.draft import draft_documents, extract_all
    from extractor.nlp import blank_pipeline, get_nlp

    texts = {p: p.read_text(encoding="utf-8", errors="replace") for p in work.notes}
    blank = blank_pipeline()
    get_nlp()
    spent = {"extract": [0.0], "draft": [0.0]}  # per round

    def floor(case: list[Path]) -> None:
        for path in case:
            blank(texts[path])

    def ours(case: list[Path]) -> None:
        start = time.perf_counter()
        docs, errors = extract_all(case)
        middle = time.perf_counter()
        draft_documents(docs, errors=errors)
        spent["extract"][-1] += middle - start
        spent["draft"][-1] += time.perf_counter() - middle
        if case is work.cases[-1]:
            spent["extract"].append(0.0)
            spent["draft"].append(0.0)

    for case in work.cases:  # warm-up: caches, lexemes, lazy imports
        floor(case)
        ours(case)
    spent = {"extract": [0.0], "draft": [0.0]}
    floors, path = _rounds(rounds, work.cases, floor, ours)
    n = len(texts)
    return {
        "docs": n, "chars": sum(map(len, texts.values())),
        "floor_ms": 1000 * statistics.median(floors) / n,
        "path_ms": 1000 * statistics.median(path) / n,
        "extract_ms": 1000 * statistics.median(spent["extract"][:rounds]) / n,
        "draft_ms": 1000 * statistics.median(spent["draft"][:rounds]) / n,
        "ratio": _median_ratio(path, floors),
        "docs_per_s": n / statistics.median(path),
    }


def measure_stages(work: Workload) -> dict:
    """Milliseconds per note in each pipeline component and in the interpreters (one pass)."""
    from drafting.draft import draft_documents
    from extractor import pipeline
    from extractor.ingest import read_document
    from extractor.nlp import get_nlp

    nlp = get_nlp()
    sources = [read_document(p) for p in work.notes]
    texts = [getattr(pipeline, "nlp_text", lambda t: t)(s.text) for s in sources]
    spent: dict[str, float] = {"tokenizer": 0.0}
    for text in texts:
        start = time.perf_counter()
        doc = nlp.make_doc(text)
        spent["tokenizer"] += time.perf_counter() - start
        for name, proc in nlp.pipeline:
            start = time.perf_counter()
            doc = proc(doc)
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
    total_nlp = sum(spent.values())
    start = time.perf_counter()
    docs = [pipeline.extract_source(s) for s in sources]
    spent["interpreters and facts"] = max(0.0, time.perf_counter() - start - total_nlp)
    start = time.perf_counter()
    by_case, i = [], 0
    for case in work.cases:
        by_case.append(docs[i:i + len(case)])
        i += len(case)
    for case_docs in by_case:
        draft_documents(case_docs)
    spent["drafting (cases, claims, criteria)"] = time.perf_counter() - start
    n = len(sources)
    return {k: 1000 * v / n for k, v in spent.items()}


def measure_pdf(work: Workload, rounds: int) -> dict | None:
    import pypdfium2 as pdfium

    from extractor.ingest import read_document

    if not work.pdfs:
        return None
    pages = sum(_pdf_pages(p) for p in work.pdfs)

    def floor(path: Path) -> None:
        pdf = pdfium.PdfDocument(str(path))
        for page in pdf:
            textpage = page.get_textpage()
            textpage.get_text_range()
            textpage.close()
            page.close()
        pdf.close()

    def ours(path: Path) -> None:
        read_document(path, ocr=False)

    for path in work.pdfs:
        floor(path)
        ours(path)
    floors, ingest = _rounds(rounds, work.pdfs, floor, ours)
    return {"docs": len(work.pdfs), "pages": pages, "floor_ms_per_page": 1000 * statistics.median(floors) / pages,
            "ms_per_page": 1000 * statistics.median(ingest) / pages, "ratio": _median_ratio(ingest, floors),
            "pages_per_s": pages / statistics.median(ingest)}


def measure_ocr(work: Workload, max_pages: int) -> dict | None:
    from extractor.ingest import read_document

    try:
        from extractor import ocr
    except ImportError:
        return None
    if not work.scans or not ocr.available():
        return None
    chosen, pages = [], 0
    for path in work.scans:
        n = _pdf_pages(path)
        if chosen and pages + n > max_pages:
            continue
        chosen.append(path)
        pages += n
        if pages >= max_pages:
            break
    read_document(chosen[0])  # warm-up: Tesseract's engine starts once per process
    elapsed = _timed(lambda: [read_document(p) for p in chosen])
    return {"docs": len(chosen), "pages": pages, "s_per_page": elapsed / pages, "pages_per_s": pages / elapsed}


def _cli(*args: str) -> list[str]:
    # `python -m drafting` is the `facet-claims` command (drafting/__main__.py),
    # run by this interpreter, so it measures the code this bench imported.
    return [sys.executable, "-m", "drafting", *args]


def measure_startup(note: Path, runs: int) -> dict:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(_cli("draft", str(note)), capture_output=True, cwd=str(REPO))
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise click.ClickException(f"`facet-claims draft` on one note exited {proc.returncode}")
    return {"runs": runs, "median_s": statistics.median(times), "min_s": min(times)}


def measure_workers(corpus: Path, count: int, tmp: Path, runs: int = 2) -> dict:
    """`batch --workers 1` and `--workers 2` on one inbox, alternately `runs` times each; the fastest of each.

    Why the fastest: on a shared machine one run in a few is slowed by other
    processes by 20-40% (a bench read 1.37x where a direct run just after read
    1.86x); the fastest run is the one least disturbed, for both worker counts.
    """
    inbox = tmp / "inbox"
    notes = make_inbox(inbox, count, corpus)
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(runs):
        for workers in (1, 2):
            outbox = tmp / f"outbox_w{workers}"
            start = time.perf_counter()
            proc = subprocess.run(_cli("batch", str(inbox), "--out", str(outbox), "--workers", str(workers),
                                       "--settle", "0", "--quiet"), capture_output=True, cwd=str(REPO))
            times[workers].append(time.perf_counter() - start)
            if proc.returncode != 0:
                raise click.ClickException(f"`facet-claims batch --workers {workers}` exited {proc.returncode}")
            shutil.rmtree(outbox, ignore_errors=True)
    result = {"docs": notes, "runs": runs, "w1_s": min(times[1]), "w2_s": min(times[2]),
              "w1_all": times[1], "w2_all": times[2]}
    result["speedup"] = result["w1_s"] / result["w2_s"]
    return result


# -- the command ----------------------------------------------------------------------------


def _fmt(value, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


@click.command(help="Measure throughput and memory against the floors of spaCy and pypdfium2 (see docs/performance.md).")
@click.option("--quick", is_flag=True, help="Fewer rounds, a few OCR pages, a small batch (well under 3 minutes).")
@click.option("--corpus", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Corpus folder (cases with docs/) [corpus/ of this checkout].")
@click.option("--scans", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Scanned copies for OCR [corpus_scans/ of this checkout, if present].")
@click.option("--workers/--no-workers", "with_workers", default=True, show_default=True,
              help="Time `batch --workers 1` against `--workers 2`.")
def bench(quick: bool, corpus: Path | None, scans: Path | None, with_workers: bool) -> None:
    corpus = corpus or REPO / "corpus"
    scans = scans if scans is not None else REPO / "corpus_scans"
    rounds = 3 if quick else 7
    work = load_workload(corpus, scans, quick)
    if not work.cases:
        raise click.ClickException(f"no text notes under {corpus}/*/docs")
    load_before = os.getloadavg()[0]
    try:
        started = time.perf_counter()
        text = measure_text(work, rounds)
        stages = measure_stages(work)
        pdf = measure_pdf(work, rounds)
        ocr = measure_ocr(work, 2 if quick else 16)
        peak = peak_rss_mb()
        startup = measure_startup(work.cases[0][0], 3 if quick else 5)
        # A throughput figure, so on an inbox the size of a day's drop: each run pays ~1 s
        # (command, one worker's spaCy and pipeline) that two workers do not halve, 12% of
        # a 600-note run (1.45-1.65x there) and 4% of this one. ~90 s of the quick bench.
        workers = measure_workers(corpus, 2000, work.tmp) if with_workers else None
        elapsed = time.perf_counter() - started
    finally:
        work.close()

    echo = click.echo
    echo(f"workload: {text['docs']} text notes in {len(work.cases)} cases ({text['chars'] // text['docs']} chars "
         f"on average), {pdf['docs'] if pdf else 0} text-layer PDFs ({pdf['pages'] if pdf else 0} pages), "
         f"{ocr['pages'] if ocr else 0} scanned pages; {os.cpu_count()} cores, load average "
         f"{load_before:.1f} before and {os.getloadavg()[0]:.1f} after (other processes slow every figure); "
         f"{rounds} rounds")
    echo("")
    echo("| measure | ours | floor | ours / floor | target |")
    echo("| --- | --- | --- | --- | --- |")
    echo(f"| text path (extract + draft), ms/note | {text['path_ms']:.1f} | {text['floor_ms']:.1f} (spaCy blank tokenizer) "
         f"| {text['ratio']:.2f}x | <= 3x |")
    echo(f"| of which extraction, ms/note | {text['extract_ms']:.1f} | | | |")
    echo(f"| of which drafting, ms/note | {text['draft_ms']:.1f} | | | |")
    echo(f"| text path, notes/s | {text['docs_per_s']:.1f} | | | |")
    if pdf:
        echo(f"| PDF ingest, ms/page | {pdf['ms_per_page']:.2f} | {pdf['floor_ms_per_page']:.2f} (pypdfium2 get_text_range) "
             f"| {pdf['ratio']:.2f}x | <= 3x |")
        echo(f"| PDF ingest, pages/s | {pdf['pages_per_s']:.0f} | | | |")
    echo(f"| OCR, pages/s | {_fmt(ocr and ocr['pages_per_s'])} | | | |" if ocr else "| OCR, pages/s | n/a (not installed or no scans) | | | |")
    echo(f"| start-up, `facet-claims draft` one note, s | {startup['median_s']:.2f} (min {startup['min_s']:.2f}) | | | < 1.5 s |")
    if workers:
        echo(f"| batch {workers['docs']} notes, --workers 1 / 2, s (fastest of {workers['runs']} alternating runs: "
             f"{' '.join(f'{t:.1f}' for t in workers['w1_all'])} / {' '.join(f'{t:.1f}' for t in workers['w2_all'])}) "
             f"| {workers['w1_s']:.1f} / {workers['w2_s']:.1f} | | "
             f"{workers['speedup']:.2f}x faster | >= 1.7x |")
    echo(f"| peak RSS of this process, MB | {peak:.0f} | | | |")
    echo("")
    echo("where a note's time goes (ms/note, one pass): " +
         ", ".join(f"{name} {ms:.2f}" for name, ms in stages.items()))
    echo(f"bench took {elapsed:.0f} s")
    echo(f"bench: text_x_floor={text['ratio']:.2f} pdf_x_floor={_fmt(pdf and pdf['ratio'])} "
         f"docs_per_s={text['docs_per_s']:.1f} pages_per_s={_fmt(pdf and pdf['pages_per_s'], 1)} "
         f"ocr_pages_per_s={_fmt(ocr and ocr['pages_per_s'])} peak_rss_mb={peak:.0f} startup_s={startup['median_s']:.2f}")

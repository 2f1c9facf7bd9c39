"""Time pdfplumber against pypdfium2 (our ingest) on the project's PDFs.

Stage 1 (ingest) tooling, run from the project root:

    python scripts/measure_pdf_engines.py [--repeat 3] [--synthetic 40]

For each engine (pdfplumber's extract_text + chars; our pypdfium2 ingest;
and, as a floor, PDFium's raw character loop with no layout) it reports pages per second over every PDF under
/work/shared/acceptance/cases/*/docs/ and corpus/**/ (plus, with --synthetic,
a generated multi-page note, so the numbers do not rest on a few pages), and
how closely our text matches pdfplumber's `extract_text(layout=False)`.
Only counts and ratios are printed, never document text or file names
(file names can hold patient names).
"""
from __future__ import annotations

import argparse
import difflib
import glob
import sys
import tempfile
import time
from pathlib import Path

import pdfplumber

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from extractor.ingest import read_document  # noqa: E402  (script run from a checkout)

ACCEPTANCE = "/work/shared/acceptance/cases/*/docs/*.pdf"


def pdfplumber_engine(path: str) -> tuple[str, int, int]:
    """Text as pdfplumber lays it out, plus the char count it would box."""
    with pdfplumber.open(path) as pdf:
        texts, chars = [], 0
        for page in pdf.pages:
            texts.append(page.extract_text())
            chars += len(page.chars)  # cached by extract_text: the boxes we would keep
            page.close()
        return "\n\n".join(texts), len(pdf.pages), chars


def pdfium_engine(path: str) -> tuple[str, int, int]:
    """Our ingest: pypdfium2 characters + our own line/word layout."""
    source = read_document(path)
    return source.text, source.page_count, sum(b is not None for b in source.boxes)


def pdfium_raw(path: str) -> tuple[str, int, int]:
    """PDFium characters and boxes only, no layout: the floor of our cost."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    pdf, chars = pdfium.PdfDocument(path), 0
    try:
        for page in pdf:
            textpage = page.get_textpage()
            for i in range(textpage.count_chars()):
                pdfium_c.FPDFText_GetUnicode(textpage.raw, i)
                textpage.get_charbox(i, loose=True)
                chars += 1
        return "", len(pdf), chars
    finally:
        pdf.close()


def synthetic_pdf(pages: int, folder: str) -> str:
    """A long made-up note (no patient data) in the shape of the EHR prints."""
    from fpdf import FPDF

    pdf = FPDF(format="letter", unit="pt")
    pdf.set_auto_page_break(False)
    pdf.set_font("helvetica", size=9.5)
    for n in range(pages):
        pdf.add_page()
        for i in range(56):
            pdf.cell(0, 12, f"{i + 1}. Diagnostic medial branch block at L3, L4 and L5 under fluoroscopic "
                     f"guidance; VAS 6/10 before, 1/10 at {i + 10} min, {90 - i}% relief.",
                     new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(-36)
        pdf.cell(0, 10, f"Page {n + 1} of {pages} - printed from EHR")
    path = str(Path(folder) / "synthetic.pdf")
    pdf.output(path)
    return path


def best_time(fn, path: str, repeat: int) -> tuple[float, tuple[str, int, int]]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(path)
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per file; the fastest counts")
    parser.add_argument("--synthetic", type=int, default=40, help="pages of a generated note (0: none)")
    args = parser.parse_args()

    paths = sorted(glob.glob(ACCEPTANCE)) + sorted(glob.glob("corpus/**/*.pdf", recursive=True))
    with tempfile.TemporaryDirectory() as tmp:
        groups = {"real": paths}
        if args.synthetic:
            groups["synthetic"] = [synthetic_pdf(args.synthetic, tmp)]
        for group, files in groups.items():
            if not files:
                print(f"{group}: no PDFs found")
                continue
            totals = {"pdfplumber": [0.0, 0, 0], "pypdfium2": [0.0, 0, 0], "pdfium raw": [0.0, 0, 0]}
            ratios, same_words = [], 0
            for path in files:
                tp, (ref, pages, chars_p) = best_time(pdfplumber_engine, path, args.repeat)
                tf, (ours, _, chars_f) = best_time(pdfium_engine, path, args.repeat)
                tr, (_, _, chars_r) = best_time(pdfium_raw, path, args.repeat)
                for key, t, chars in (("pdfplumber", tp, chars_p), ("pypdfium2", tf, chars_f),
                                      ("pdfium raw", tr, chars_r)):
                    totals[key][0] += t
                    totals[key][1] += pages
                    totals[key][2] += chars
                # Lines, not characters: character-level matching is quadratic on long texts.
                ratios.append(difflib.SequenceMatcher(None, ours.splitlines(), ref.splitlines(),
                                                      autojunk=False).ratio())
                same_words += ours.split() == ref.split()
            print(f"{group}: {len(files)} PDF(s), {totals['pdfplumber'][1]} page(s)")
            for key, (t, pages, chars) in totals.items():
                what = "chars read, no layout" if key == "pdfium raw" else "boxed chars"
                print(f"  {key:<10} {pages / t:8.1f} pages/s  ({t * 1000:7.1f} ms total, {chars} {what})")
            speedup = totals["pdfplumber"][0] / totals["pypdfium2"][0]
            print(f"  speed-up {speedup:.1f}x; text vs pdfplumber: min share of identical lines {min(ratios):.4f}, "
                  f"identical words in {same_words}/{len(files)} file(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Make fax-like scanned copies of case folders: image-only PDFs, no text layer.

Every document of every case (``<cases>/<case>/docs/*``) becomes
``<out>/<case>/docs/<name>.pdf``, and ``expected.json`` is copied beside it,
so the acceptance scorer runs on the copies as on the originals:

    python scripts/make_scans.py                       # corpus/ -> corpus_scans/ (the cases below)
    python scripts/make_scans.py --cases DIR --out DIR [--all] [CASE ...]
    python /work/shared/acceptance/score.py --cases corpus_scans

A text note is typeset on US-letter pages with a TrueType font installed on
the machine (DejaVu or Liberation; mono, sans or serif, chosen per document),
wrapped to the page width; a PDF's pages are rendered with PDFium. Each page
then goes through what a fax machine does to paper: a fax header line, a
tilt of 0.6-1.2 degrees, a small shift, blur, toner specks and dropouts,
binarisation at 200 dpi, and CCITT G4 compression in the PDF. Output is
deterministic: the noise is seeded from the case and file name, and the PDF
dates are fixed, so re-running gives byte-identical files.

No document text is printed; only file counts.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import random
import shutil
import sys
import textwrap
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CASES = ROOT / "corpus"
DEFAULT_OUT = ROOT / "corpus_scans"
# The corpus cases copied into corpus_scans/ by default: text notes, a PDF
# consult (c06) and a PDF procedure note (c07), bilateral, unilateral,
# cervical and a distractor.
DEFAULT_SELECTION = ["c01_demo_bilateral", "c03_left_nerves_only", "c05_uneven_sides_asc",
                     "c06_left_three_joints", "c07_cervical_staged", "c16_sacroiliac_distractor"]
SUFFIXES = {".txt", ".md", ".pdf"}

DPI = 200
PAGE_W, PAGE_H = 8.5, 11.0                 # inches (US letter)
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 0.75, 0.65, 0.6
FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation")]
# (file, size in points): faxed notes come in every face.
FONTS = [("DejaVuSansMono.ttf", 9.0), ("LiberationMono-Regular.ttf", 9.5), ("DejaVuSans.ttf", 9.0),
         ("LiberationSans-Regular.ttf", 10.0), ("LiberationSerif-Regular.ttf", 10.5)]
FIXED_DATE = "20260101000000Z"


def seeded(*parts: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest()[:8], "big"))


def load_font(rng: random.Random, dpi: int) -> tuple[ImageFont.FreeTypeFont, float]:
    """A TrueType font at its point size for `dpi`, and the line height in pixels."""
    choices = [(d / name, size) for name, size in FONTS for d in FONT_DIRS if (d / name).is_file()]
    if not choices:  # Pillow's own font (needs FreeType)
        size = 10.0
        return ImageFont.load_default(size=size * dpi / 72), size * 1.3 * dpi / 72
    path, size = choices[rng.randrange(len(choices))]
    return ImageFont.truetype(str(path), round(size * dpi / 72)), size * 1.3 * dpi / 72


def wrap(line: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Break one note line into lines no wider than `width` pixels, keeping its indent."""
    line = line.expandtabs(4).rstrip()
    if font.getlength(line) <= width:
        return [line]
    indent = line[: len(line) - len(line.lstrip())]
    words, out, current = line.split(), [], indent
    for word in words:
        trial = f"{current} {word}" if current.strip() else current + word
        if font.getlength(trial) <= width or not current.strip():
            current = trial
        else:
            out.append(current)
            current = indent + word
    out.append(current)
    return out


def typeset(text: str, rng: random.Random, dpi: int = DPI) -> list[Image.Image]:
    """Grayscale page images of a plain-text note."""
    font, line_h = load_font(rng, dpi)
    width_px, height_px = int(PAGE_W * dpi), int(PAGE_H * dpi)
    x0, top, bottom = MARGIN_X * dpi, MARGIN_TOP * dpi, height_px - MARGIN_BOTTOM * dpi
    lines = [part for raw in text.replace("\r\n", "\n").split("\n")
             for part in (wrap(raw, font, width_px - 2 * x0) if raw.strip() else [""])]
    pages, y, page = [], top, None
    for line in lines:
        if page is None or y + line_h > bottom:
            page = Image.new("L", (width_px, height_px), 255)
            pages.append(page)
            y = top
        if line:
            ImageDraw.Draw(page).text((x0, y), line, font=font, fill=0)
        y += line_h
    return pages


def render_pdf(path: Path, dpi: int = DPI) -> list[Image.Image]:
    """Grayscale page images of an existing PDF."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return [pdf[i].render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for i in range(len(pdf))]
    finally:
        pdf.close()


def fax_header(page: Image.Image, rng: random.Random, number: int, count: int, dpi: int) -> None:
    """The line a fax machine prints at the top: sender's number and page count (no date)."""
    font = ImageFont.truetype(str(FONT_DIRS[0] / "DejaVuSansMono.ttf"), round(7 * dpi / 72)) \
        if (FONT_DIRS[0] / "DejaVuSansMono.ttf").is_file() else ImageFont.load_default(size=7 * dpi / 72)
    sender = f"555-{rng.randrange(100, 999):03d}-{rng.randrange(1000, 9999):04d}"
    ImageDraw.Draw(page).text((0.4 * dpi, 0.2 * dpi), f"FAX {sender}        P. {number:03d}/{count:03d}",
                              font=font, fill=0)


def degrade(page: Image.Image, rng: random.Random, dpi: int = DPI) -> Image.Image:
    """What a fax does to a clean page: tilt, shift, blur, specks, dropouts, 1-bit."""
    angle = rng.choice((-1, 1)) * rng.uniform(0.6, 1.2)
    dx, dy = rng.randint(-12, 12), rng.randint(-10, 10)
    page = page.rotate(angle, resample=Image.BICUBIC, translate=(dx, dy), fillcolor=255)
    page = page.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 0.8)))
    pixels = np.asarray(page, dtype=np.float32)
    noise = np.random.default_rng(rng.getrandbits(32))
    pixels = pixels + noise.normal(0, 18, pixels.shape)                 # scanner noise
    specks = noise.random(pixels.shape) < rng.uniform(0.0002, 0.0006)   # toner specks
    pixels[specks] = 0
    dropouts = noise.random(pixels.shape) < rng.uniform(0.01, 0.03)     # white holes in strokes
    pixels[dropouts & (pixels < 128)] = 255
    threshold = rng.uniform(135, 165)
    return Image.fromarray(np.where(pixels < threshold, 0, 255).astype(np.uint8), "L").convert("1")


def save_pdf(pages: list[Image.Image], path: Path, dpi: int = DPI) -> None:
    """An image-only PDF, one 1-bit page image per page (CCITT G4), fixed dates."""
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", resolution=dpi, save_all=True, append_images=pages[1:],
                  creationDate=FIXED_DATE, modDate=FIXED_DATE, producer="make_scans", title="scan")
    path.write_bytes(buffer.getvalue())


def scan_document(source: Path, target: Path, seed: str, dpi: int = DPI) -> int:
    """Write the scanned copy of one document; returns its page count."""
    rng = seeded(seed, source.name)
    if source.suffix.lower() == ".pdf":
        clean = render_pdf(source, dpi)
    else:
        clean = typeset(source.read_bytes().decode("utf-8", errors="replace"), rng, dpi)
    for i, page in enumerate(clean, 1):
        fax_header(page, rng, i, len(clean), dpi)
    save_pdf([degrade(page, rng, dpi) for page in clean], target, dpi)
    return len(clean)


def scan_case(case: Path, out: Path, dpi: int = DPI) -> tuple[int, int]:
    """Scan every document of one case folder into out/<case>/docs; copy expected.json."""
    docs = sorted(p for p in (case / "docs").iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    target = out / case.name / "docs"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    if (case / "expected.json").is_file():
        shutil.copyfile(case / "expected.json", out / case.name / "expected.json")
    names = {p.stem for p in docs}
    if len(names) != len(docs):
        raise SystemExit(f"{case.name}: two documents share a name stem")
    pages = sum(scan_document(doc, target / f"{doc.stem}.pdf", case.name, dpi) for doc in docs)
    return len(docs), pages


def main(argv: list[str] | None = None) -> int:  # noqa: C901
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case_ids", nargs="*", help="case folders to scan (default: the corpus selection)")
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES, help="folder of case folders")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the scanned cases go")
    parser.add_argument("--all", action="store_true", help="scan every case folder")
    parser.add_argument("--dpi", type=int, default=DPI)
    args = parser.parse_args(argv)
    cases = sorted(p.parent for p in args.cases.glob("*/docs") if p.is_dir())
    if args.case_ids:
        cases = [c for c in cases if c.name in set(args.case_ids)]
    elif not args.all and args.cases.resolve() == DEFAULT_CASES.resolve():
        cases = [c for c in cases if c.name in DEFAULT_SELECTION]
    if not cases:
        print("no case folders found", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    total_docs = total_pages = 0
    for case in cases:
        docs, pages = scan_case(case, args.out, args.dpi)
        total_docs, total_pages = total_docs + docs, total_pages + pages
    readme = args.out / "README.md"
    if args.out.resolve() == DEFAULT_OUT.resolve():
        readme.write_text(textwrap.dedent(f"""\
            # Scanned copies of corpus cases

            Made by `python scripts/make_scans.py` (do not edit by hand): each document of
            the corpus cases {", ".join(c.name for c in cases)} typeset or rendered at {args.dpi} dpi,
            tilted, speckled and binarised like a fax, in image-only PDFs (no text layer), so
            every page goes through OCR. `expected.json` is the corpus case's own.

                python /work/shared/acceptance/score.py --cases corpus_scans
            """))
    print(f"{len(cases)} case(s), {total_docs} document(s), {total_pages} page(s) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Render selected corpus documents from plain-text sources into PDFs.

Sources live in ``corpus/_sources/<case>/<doc>.txt`` (they are NOT part of a
case: a case folder holds exactly the documents of that case, so a document
that exists as a PDF is present only as ``corpus/<case>/docs/<doc>.pdf``).

Every ``.txt`` file under ``corpus/_sources`` is rendered; output is
deterministic (fixed creation date, no timestamps), so re-running the script
produces byte-identical PDFs.

Source format: plain text, plus a few renderer directives on lines of their own
    %%FONT Helvetica|Courier|Times   body font (core fonts only)
    %%FOOTER text                    footer text, printed above "Page N of M"
    %%BODY                           lines before it form the running header,
                                     repeated at the top of every page
    %%COLUMNS 2 / %%COLBREAK / %%COLUMNS 1
                                     two-column region, explicit column break
Consecutive lines starting with "|" are a pipe table; they are drawn as a
real table grid (every cell boxed). A "|---|" separator line is dropped; the
first row is the heading row.

Core PDF fonts only encode latin-1, so characters outside latin-1 are mapped
to the nearest latin-1/ASCII form (en dash -> "-", "->" for arrows, ...).

Usage:  python scripts/make_corpus_pdfs.py [--check]
    --check   after rendering, extract each PDF's text with pdfplumber and
              report pages and a few sanity strings.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
SOURCES = CORPUS / "_sources"

FIXED_DATE = dt.datetime(2026, 1, 1, 0, 0, 0, tzinfo=dt.timezone.utc)

# Characters the core fonts cannot encode -> latin-1 safe replacements.
REPLACEMENTS = {
    "\u2013": "-",   # en dash
    "\u2014": "-",   # em dash
    "\u2010": "-",
    "\u2011": "-",
    "\u2212": "-",   # minus sign
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2022": "-",   # bullet
    "\u2026": "...",
    "\u2192": "->",
    "\u2190": "<-",
    "\u2265": ">=",
    "\u2264": "<=",
    "\u2248": "~",
    "\u00a0": " ",
}

BODY_SIZE = 9.5
LINE_H = 4.6


def latin1(text: str) -> str:
    out = []
    for ch in text:
        ch = REPLACEMENTS.get(ch, ch)
        try:
            ch.encode("latin-1")
        except UnicodeEncodeError:
            raise SystemExit(f"no latin-1 replacement for {ch!r} (U+{ord(ch):04X})")
        out.append(ch)
    return "".join(out)


class Source:
    """A parsed source document."""

    def __init__(self, path: Path):
        self.path = path
        self.font = "Helvetica"
        self.footer = ""
        self.header: list[str] = []
        self.body: list[str] = []
        lines = path.read_text(encoding="utf-8").splitlines()
        has_body_marker = any(l.strip() == "%%BODY" for l in lines)
        in_header = has_body_marker
        for line in lines:
            s = line.strip()
            if s.startswith("%%FONT"):
                self.font = s.split(None, 1)[1]
                continue
            if s.startswith("%%FOOTER"):
                self.footer = s.split(None, 1)[1] if " " in s else ""
                continue
            if s == "%%BODY":
                in_header = False
                continue
            (self.header if in_header else self.body).append(latin1(line))


class CorpusPDF(FPDF):
    def __init__(self, src: Source):
        super().__init__(orientation="P", unit="mm", format="Letter")
        self.src = src
        self.set_creation_date(FIXED_DATE)
        self.set_producer("facet-claims corpus renderer")
        self.set_creator("scripts/make_corpus_pdfs.py")
        self.set_title(src.path.stem)
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(True, margin=20)
        self.alias_nb_pages()

    # running header, repeated on every page
    def header(self):
        if not self.src.header:
            return
        self.set_font(self.src.font, "B", 9)
        for i, line in enumerate(self.src.header):
            if i:
                self.set_font(self.src.font, "", 8.5)
            self.cell(0, 4.4, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        y = self.get_y() + 1
        self.set_line_width(0.3)
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.set_y(y + 3)

    def footer(self):
        self.set_y(-14)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_font(self.src.font, "", 7.5)
        if self.src.footer:
            self.cell(0, 4, latin1(self.src.footer), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="R")


def parse_table(lines: list[str]) -> list[list[str]]:
    rows = []
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if all(set(c) <= set("-: ") for c in cells):
            continue  # |---|---| separator
        rows.append(cells)
    width = max(len(r) for r in rows)
    return [r + [""] * (width - len(r)) for r in rows]


def draw_table(pdf: CorpusPDF, lines: list[str], width: float | None = None):
    rows = parse_table(lines)
    ncol = len(rows[0])
    # column widths proportional to the longest content (bounded)
    lens = [max(min(len(r[i]), 40) for r in rows) + 3 for i in range(ncol)]
    pdf.set_font(pdf.src.font, "", BODY_SIZE - 1)
    with pdf.table(
        width=width,
        col_widths=tuple(lens),
        text_align="LEFT",
        borders_layout="ALL",
        line_height=LINE_H,
        padding=1,
        first_row_as_headings=True,
        align="LEFT",
    ) as table:
        for r in rows:
            row = table.row()
            for c in r:
                row.cell(c)
    pdf.ln(1.5)
    pdf.set_font(pdf.src.font, "", BODY_SIZE)


def is_heading(line: str) -> bool:
    s = line.strip()
    return (
        bool(s)
        and len(s) < 70
        and s.upper() == s
        and any(ch.isalpha() for ch in s)
        and not any(ch.isdigit() for ch in s)
        and not s.startswith("|")
    )


def write_lines(pdf: CorpusPDF, lines: list[str], width: float = 0):
    """Flowing text: headings bold, blank lines as small gaps, tables as grids."""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("|"):
            j = i
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                j += 1
            draw_table(pdf, lines[i:j], width or None)
            i = j
            continue
        if not line.strip():
            pdf.ln(2)
        else:
            style = "B" if is_heading(line) else ""
            pdf.set_font(pdf.src.font, style, BODY_SIZE)
            x = pdf.get_x()
            pdf.multi_cell(width, LINE_H, line.rstrip(), align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
            pdf.set_x(x)
        i += 1


def write_columns(pdf: CorpusPDF, lines: list[str]):
    """Two columns side by side; the region must fit on the current page."""
    parts, cur = [], []
    for line in lines:
        if line.strip() == "%%COLBREAK":
            parts.append(cur)
            cur = []
        else:
            cur.append(line)
    parts.append(cur)
    if len(parts) != 2:
        raise SystemExit(f"{pdf.src.path}: a two-column region needs exactly one %%COLBREAK")
    gutter = 8
    colw = (pdf.w - pdf.l_margin - pdf.r_margin - gutter) / 2
    top, page = pdf.get_y(), pdf.page
    bottoms = []
    for k, part in enumerate(parts):
        x = pdf.l_margin + k * (colw + gutter)
        pdf.set_xy(x, top)
        old_l = pdf.l_margin
        pdf.set_left_margin(x)
        write_lines(pdf, part, width=colw)
        pdf.set_left_margin(old_l)
        if pdf.page != page:
            raise SystemExit(f"{pdf.src.path}: two-column region overflows the page")
        bottoms.append(pdf.get_y())
    # a thin rule between the columns
    pdf.set_line_width(0.1)
    mid = pdf.l_margin + colw + gutter / 2
    pdf.line(mid, top, mid, max(bottoms))
    pdf.set_xy(pdf.l_margin, max(bottoms) + 2)


def render(src: Source, out: Path):
    pdf = CorpusPDF(src)
    pdf.add_page()
    pdf.set_font(src.font, "", BODY_SIZE)
    body = src.body
    i = 0
    while i < len(body):
        line = body[i]
        if line.strip().startswith("%%COLUMNS 2"):
            j = i + 1
            while j < len(body) and not body[j].strip().startswith("%%COLUMNS 1"):
                j += 1
            write_columns(pdf, body[i + 1 : j])
            i = j + 1
            continue
        if line.strip().startswith("%%"):
            raise SystemExit(f"{src.path}: unknown directive {line.strip()}")
        j = i
        while j < len(body) and not body[j].strip().startswith("%%COLUMNS"):
            j += 1
        write_lines(pdf, body[i:j])
        i = j
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))


def check(out: Path) -> str:
    import pdfplumber

    with pdfplumber.open(out) as doc:
        texts = [p.extract_text() or "" for p in doc.pages]
    joined = "\n".join(texts)
    ok = "MRN" in joined and ("DOB" in joined or "Date of Birth" in joined)
    return f"{len(texts)} page(s), {len(joined)} chars, ids {'ok' if ok else 'MISSING'}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="extract text with pdfplumber afterwards")
    args = ap.parse_args(argv)
    sources = sorted(SOURCES.glob("*/*.txt"))
    if not sources:
        print(f"no sources under {SOURCES}", file=sys.stderr)
        return 1
    for path in sources:
        case = path.parent.name
        out = CORPUS / case / "docs" / (path.stem + ".pdf")
        if (CORPUS / case / path.name).exists():
            print(f"warning: {case}/{path.name} also exists as text in the case folder", file=sys.stderr)
        render(Source(path), out)
        line = f"{out.relative_to(ROOT)}"
        if args.check:
            line += "  " + check(out)
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

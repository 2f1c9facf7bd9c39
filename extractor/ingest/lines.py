"""Stage 1 (ingest): one page's characters -> its text in reading order, a box per character.

The rules are pdfplumber's `extract_text(layout=False)` plus two-column
prose (see `lay_out`); they are applied to the whole page at once, on
parallel arrays (`Glyphs`), because a page holds thousands of characters
and a Python object or loop per character cost more than PDFium itself
(docs/performance.md). Only what is sequential by nature loops in Python:
line starts once per distinct vertical position, columns once per page.
tests/extractor/test_lines.py checks every rule against a plain per-character
version of the same layout on random pages.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

__all__ = ["Glyphs", "Laid", "lay_out"]

_X_TOLERANCE = 3.0     # pt: pdfplumber's default word gap, the most we ever require
_GUTTER_MIN = 9.0      # pt: an empty vertical band at least this wide may separate columns
_MIN_COLUMN_LINES = 6
_NEWLINE, _SPACE = "\n", " "


class Glyphs(NamedTuple):
    """One page's characters as parallel arrays; row i is one character.

    `texts[tid[i]]` is its text: " " for any whitespace, else its letters (a
    ligature's letters share one row). Boxes are PDF points, top-left origin.
    Each text appears once in `texts`, so equal ids mean equal texts.
    """

    tid: np.ndarray        # intp, index into texts
    texts: list[str]
    x0: np.ndarray         # float64
    top: np.ndarray
    x1: np.ndarray
    bottom: np.ndarray

    @classmethod
    def from_chars(cls, chars: Sequence[tuple[str, float, float, float, float]]) -> "Glyphs":
        """From (text, x0, top, x1, bottom) tuples (OCR output, tests)."""
        ids: dict[str, int] = {}
        tid = np.fromiter((ids.setdefault(c[0], len(ids)) for c in chars), np.intp, len(chars))
        box = np.array([c[1:] for c in chars], np.float64).reshape(len(chars), 4)
        return cls(tid, list(ids), box[:, 0].copy(), box[:, 1].copy(), box[:, 2].copy(), box[:, 3].copy())

    def ink(self) -> np.ndarray:
        """True for characters that are not whitespace."""
        return np.array([t != _SPACE for t in self.texts], bool)[self.tid] if self.texts else \
            np.zeros(0, bool)


class Laid(NamedTuple):
    """A page's text; `boxes[i]` is (x0, top, x1, bottom) of `text[i]` where `boxed[i]`,
    and no box (a space or line break we inserted) elsewhere."""

    text: str
    boxes: np.ndarray      # float64, shape (len(text), 4)
    boxed: np.ndarray      # bool, shape (len(text),)


def lay_out(g: Glyphs, width: float) -> Laid:
    """The page's lines in reading order, joined by "\\n", words by one space.

    Lines group characters by vertical centre; lines without ink are dropped;
    a two-column block of prose is read column by column (`_columns`); within
    a line a space is written where the PDF draws one (with its box) or where
    the gap to the previous character passes min(3 pt, 0.2 x its height)
    (box None), and the same glyph drawn twice at nearly the same place
    ("fake bold") is written once.
    """
    if len(g.tid) == 0:
        return Laid("", np.zeros((0, 4)), np.zeros(0, bool))
    ink = g.ink()
    order, line = _lines(g)
    has_ink = np.bincount(line, weights=ink[order]) > 0
    if not has_ink.all():
        keep = has_ink[line]
        order, line = order[keep], _dense(line[keep])
        if len(order) == 0:
            return Laid("", np.zeros((0, 4)), np.zeros(0, bool))
    order, line = _columns(g, ink, order, line, width)
    return _emit(g, ink, order, line)


def _dense(keys: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... for a sorted key array, equal keys sharing a number."""
    if len(keys) == 0:
        return keys
    return np.concatenate(([0], np.cumsum(keys[1:] != keys[:-1])))


def _lines(g: Glyphs) -> tuple[np.ndarray, np.ndarray]:
    """Character order (line by line, each by x0) and the line of each position.

    Characters are taken by vertical centre; one starts a new line when its
    centre is more than 0.4 x min(its height, the line's first character's
    height) below that first character's (so a 14 pt label and 10 pt value
    on one baseline stay together). Sorts are stable: ties keep stream order.
    """
    s = g.top + g.bottom
    perm = np.argsort(s, kind="stable")
    mid = s[perm] / 2
    h = np.maximum(g.bottom - g.top, 1.0)[perm]
    n = len(perm)
    step = np.empty(n, bool)
    step[0] = True
    np.not_equal(mid[1:], mid[:-1], out=step[1:])
    run_start = np.flatnonzero(step)
    run_min_h = np.minimum.reduceat(h, run_start).tolist()
    mids = mid[run_start].tolist()
    starts = run_start.tolist() + [n]
    first = [0]
    ref_mid, ref_h = mids[0], float(h[0])
    for r in range(1, len(mids)):
        d = mids[r] - ref_mid
        if d <= 0.4 * min(run_min_h[r], ref_h):
            continue  # the whole run of equal centres joins the line
        for j in range(starts[r], starts[r + 1]):
            hj = float(h[j])
            if d > 0.4 * min(hj, ref_h):  # the rest of the run (same centre) joins this one
                first.append(j)
                ref_mid, ref_h = mids[r], hj
                break
    line_start = np.zeros(n, np.intp)
    line_start[first] = 1
    line = np.cumsum(line_start) - 1
    by_x = np.argsort(g.x0[perm], kind="stable")
    perm, line = perm[by_x], line[by_x]
    # Line numbers fit 16 bits on any real page, and numpy sorts those stably by radix.
    by_line = np.argsort(line.astype(np.int16) if len(first) < 1 << 15 else line, kind="stable")
    return perm[by_line], line[by_line]


def _columns(g: Glyphs, ink: np.ndarray, order: np.ndarray, line: np.ndarray,
             width: float) -> tuple[np.ndarray, np.ndarray]:
    """Read a two-column block column by column; everything else top to bottom.

    A gutter is an x in the middle 40% of the page that no ink crosses over a
    run of consecutive lines (not split by a tall blank, which sets off a
    footer) holding half the lines or half the text height. The columns must
    look like prose: each at least a fifth of the page wide, lines filling it,
    and the two sides close to the gutter, so a two-column table ("drug ...
    dose") or a label/value header stays row by row.
    """
    n_lines = int(line[-1]) + 1
    xs = range(int(width * 0.3), int(width * 0.7) + 1, 3)
    if n_lines < _MIN_COLUMN_LINES or len(xs) == 0:
        return order, line
    line_starts = np.flatnonzero(np.concatenate(([True], line[1:] != line[:-1])))
    tops = np.minimum.reduceat(g.top[order], line_starts)
    bottoms = np.maximum.reduceat(g.bottom[order], line_starts)
    tall_gap = 3 * float(np.sort(bottoms - tops)[n_lines // 2])
    breaks = np.concatenate(([False], tops[1:] - bottoms[:-1] > tall_gap))
    crossed = _crossed(g, ink, order, line, n_lines, xs)
    # Run of uncrossed lines ending at each line, per x: reset by ink, restarted by a tall blank.
    rows = np.arange(n_lines)[:, None]
    reset = np.where(crossed, rows, np.where(breaks[:, None], rows - 1, -1))
    runs = rows - np.maximum.accumulate(reset, axis=0)
    run = int(runs.max())
    if run < _MIN_COLUMN_LINES:
        return order, line
    k = int(np.flatnonzero((runs == run).any(axis=0))[0])   # the first x, then the first line,
    end = int(np.flatnonzero(runs[:, k] == run)[0]) + 1       # that reach the longest run
    x, start = float(xs[k]), end - run
    tops_l, bottoms_l = tops.tolist(), bottoms.tolist()
    if run < 0.5 * n_lines and bottoms_l[end - 1] - tops_l[start] < 0.5 * (bottoms_l[-1] - tops_l[0]):
        return order, line
    in_block = (line >= start) & (line < end)
    right = g.x0[order] + g.x1[order] >= 2 * x
    side = np.where(in_block, np.where(right, 2, 1), np.where(line < start, 0, 3))
    key = side * n_lines + line
    # A part of a line (left or right of the gutter) without ink is dropped.
    part_ink = np.bincount(key, weights=ink[order], minlength=4 * n_lines) > 0
    left_parts = _part_spans(g, ink, order, key, part_ink, range(n_lines + start, n_lines + end))
    right_parts = _part_spans(g, ink, order, key, part_ink, range(2 * n_lines + start, 2 * n_lines + end))
    if min(len(left_parts), len(right_parts)) < 0.4 * run:
        return order, line
    (l_lo, l_hi, l_fill), (r_lo, r_hi, r_fill) = _extent(left_parts), _extent(right_parts)
    prose = (r_lo - l_hi <= 0.1 * width and min(l_hi - l_lo, r_hi - r_lo) >= 0.2 * width
             and l_fill >= 0.6 * (l_hi - l_lo) and r_fill >= 0.6 * (r_hi - r_lo))
    if not prose:
        return order, line
    keep = part_ink[key]
    order, key = order[keep], key[keep]
    by_part = np.argsort(key, kind="stable")
    return order[by_part], _dense(key[by_part])


def _crossed(g: Glyphs, ink: np.ndarray, order: np.ndarray, line: np.ndarray, n_lines: int,
             xs: range) -> np.ndarray:
    """crossed[line, k]: an ink segment of the line spans xs[k].

    A line's ink segments are runs of ink characters (by x0) with gaps under
    _GUTTER_MIN between one character's x0 and the furthest x1 so far.
    """
    pos = np.flatnonzero(ink[order])
    chars, lid = order[pos], line[pos]
    a, b = g.x0[chars], g.x1[chars]
    first = np.concatenate(([True], lid[1:] != lid[:-1]))
    col = np.arange(len(pos)) - np.maximum.accumulate(np.where(first, np.arange(len(pos)), 0))
    grid = np.full((n_lines, int(col.max()) + 1), -np.inf)
    grid[lid, col] = b
    reach = np.maximum.accumulate(grid, axis=1)[lid, col]   # furthest x1 so far in the line
    new = first.copy()
    new[1:] |= ~(a[1:] - reach[:-1] < _GUTTER_MIN) & ~first[1:]
    # The running maximum restarts at each segment; it equals the line's when a
    # segment's first character reaches past everything before it (x1 >= x0).
    if np.any(new[1:] & ~first[1:] & (b[1:] < reach[:-1])):
        seg_a, seg_b, seg_line = _segments_slow(a, b, lid, first)
    else:
        ends = np.concatenate((np.flatnonzero(new)[1:] - 1, [len(pos) - 1]))
        seg_a, seg_b, seg_line = a[new], reach[ends], lid[new]
    k0 = np.maximum(0, np.floor_divide(seg_a - xs.start, 3).astype(np.intp) + 1)
    k1 = np.minimum(len(xs), np.ceil((seg_b - xs.start) / 3).astype(np.intp))
    ok = k1 > k0
    row, size = seg_line[ok] * (len(xs) + 1), n_lines * (len(xs) + 1)
    marks = np.bincount(row + k0[ok], minlength=size) - np.bincount(row + k1[ok], minlength=size)
    return np.cumsum(marks.reshape(n_lines, len(xs) + 1), axis=1)[:, :len(xs)] > 0


def _segments_slow(a: np.ndarray, b: np.ndarray, lid: np.ndarray,
                   first: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    segs: list[list[float]] = []
    for x0, x1, line, is_first in zip(a.tolist(), b.tolist(), lid.tolist(), first.tolist()):
        if not is_first and x0 - segs[-1][1] < _GUTTER_MIN:
            segs[-1][1] = max(segs[-1][1], x1)
        else:
            segs.append([x0, x1, line])
    arr = np.array(segs, np.float64).reshape(len(segs), 3)
    return arr[:, 0], arr[:, 1], arr[:, 2].astype(np.intp)


def _part_spans(g: Glyphs, ink: np.ndarray, order: np.ndarray, key: np.ndarray, part_ink: np.ndarray,
                keys: range) -> list[tuple[float, float]]:
    """(x0 of the first ink, x1 of the last ink) of each part with ink, in line order."""
    pos = np.flatnonzero(ink[order] & (key >= keys.start) & (key < keys.stop))
    if len(pos) == 0:
        return []
    k = key[pos]
    starts = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
    ends = np.concatenate((starts[1:] - 1, [len(pos) - 1]))
    return list(zip(g.x0[order[pos[starts]]].tolist(), g.x1[order[pos[ends]]].tolist()))


def _extent(parts: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Leftmost ink, rightmost line end, and mean width of the ink of each line."""
    return (min(p[0] for p in parts), max(p[1] for p in parts),
            sum([p[1] - p[0] for p in parts]) / len(parts))


def _emit(g: Glyphs, ink: np.ndarray, order: np.ndarray, line: np.ndarray) -> Laid:
    at = order[ink[order]]                       # the ink, in reading order
    where = np.flatnonzero(ink[order])           # its positions in `order`
    tid, x0, top = g.tid[at], g.x0[at], g.top[at]
    first = np.concatenate(([True], line[where[1:]] != line[where[:-1]]))
    # "Fake bold": the same glyph drawn again within 1 pt of the last one written is skipped.
    dup = np.concatenate(([False], (tid[1:] == tid[:-1]) & (np.abs(x0[1:] - x0[:-1]) < 1)
                          & (np.abs(top[1:] - top[:-1]) < 1))) & ~first
    if dup.any():
        return _emit_skipping(g, ink, order, where, first)
    prev = np.concatenate(([0], at[:-1]))
    # Between two consecutive glyphs of a line there are only spaces; the first keeps its box.
    drawn_space = ~first & (np.diff(where, prepend=0) > 1)
    space_at = order[np.minimum(np.concatenate(([0], where[:-1])) + 1, len(order) - 1)]
    return _units(g, at, first, prev, drawn_space, space_at)


def _emit_skipping(g: Glyphs, ink: np.ndarray, order: np.ndarray, where: np.ndarray, first: np.ndarray) -> Laid:
    # Which glyph was written last depends on the earlier skips, so repeat until
    # nothing changes (each round settles at least one more glyph).
    at = order[where]
    tid, x0, top = g.tid[at], g.x0[at], g.top[at]
    written = np.ones(len(at), bool)
    while True:
        last = np.maximum.accumulate(np.where(written, np.arange(len(at)), -1))
        prev = np.maximum(np.concatenate(([-1], last[:-1])), 0)
        dup = ~first & (tid == tid[prev]) & (np.abs(x0 - x0[prev]) < 1) & (np.abs(top - top[prev]) < 1)
        if np.array_equal(dup, ~written):
            break
        written = ~dup
    # The first space after the last written glyph, if it comes before this one.
    n = len(order)
    next_space = np.minimum.accumulate(np.where(ink[order], n, np.arange(n))[::-1])[::-1]
    space_pos = next_space[np.minimum(where[prev] + 1, n - 1)]
    drawn_space = ~first & (space_pos < where)
    keep = written
    return _units(g, at[keep], first[keep], at[prev][keep], drawn_space[keep],
                  order[np.minimum(space_pos, n - 1)][keep])


def _units(g: Glyphs, at: np.ndarray, first: np.ndarray, prev: np.ndarray, drawn_space: np.ndarray,
           space_at: np.ndarray) -> Laid:
    """Write the glyphs `at` (character ids) with a line break before each first of
    a line, and a space before the others that follow a drawn space (its box) or
    a gap wider than min(3 pt, 0.2 x the glyph's height) after `prev` (no box)."""
    count = len(at)
    gap = g.x0[at] - g.x1[prev] > np.minimum(_X_TOLERANCE, 0.2 * (g.bottom[at] - g.top[at]))
    newline = first.copy()
    newline[0] = False
    space = ~first & (drawn_space | gap)
    has_sep = newline | space
    glyph_unit = np.arange(count) + np.cumsum(has_sep)
    units = count + int(np.count_nonzero(has_sep))
    n_texts = len(g.texts)
    unit_tid = np.full(units, n_texts + 1, np.intp)         # default: " "
    unit_src = np.full(units, -1, np.intp)
    unit_tid[glyph_unit] = g.tid[at]
    unit_src[glyph_unit] = at
    unit_tid[glyph_unit[newline] - 1] = n_texts
    boxed_space = space & drawn_space
    unit_src[glyph_unit[boxed_space] - 1] = space_at[boxed_space]
    table = g.texts + [_NEWLINE, _SPACE]
    if all(len(t) == 1 and t != "\0" for t in table):
        # One character per unit: the text straight from an array of code points
        # (a numpy string keeps no trailing NUL, hence none in the table).
        codes = np.array([ord(t) for t in table], np.uint32)[unit_tid]
        text = codes.view(f"<U{units}").item()
    else:
        text = "".join(np.array(table, dtype=object)[unit_tid].tolist())
    boxed = unit_src >= 0
    # Each unit's box from a (characters + 1) x 4 table whose last row, taken by
    # unit_src == -1, is the zero box of a unit without one.
    table_xy = np.zeros((len(g.tid) + 1, 4))
    table_xy[:-1, 0], table_xy[:-1, 1], table_xy[:-1, 2], table_xy[:-1, 3] = g.x0, g.top, g.x1, g.bottom
    boxes = np.take(table_xy, unit_src, axis=0)
    if len(text) != units:  # a ligature's letters share its box
        lengths = np.array([len(t) for t in table], np.intp)[unit_tid]
        boxes, boxed = np.repeat(boxes, lengths, axis=0), np.repeat(boxed, lengths)
    return Laid(text, boxes, boxed)

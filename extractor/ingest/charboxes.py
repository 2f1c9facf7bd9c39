"""Stage 1 (ingest): the per-character boxes of a PDF's SourceText, held as arrays.

`SourceText.boxes` is a sequence with one `Box` (page, x0, top, x1, bottom)
or None per character. A PDF page holds thousands of characters and later
stages look up only the few under their evidence, so `CharBoxes` keeps the
numbers in arrays and builds a tuple when one is asked for: building every
tuple up front cost more than reading the page (docs/performance.md).
Items, slices (lists) and iteration give exactly what a list of tuples would.
"""
from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Iterator

import numpy as np

from extractor.sourcetext import Box

__all__ = ["CharBoxes"]

_CHUNK = 4096  # tuples built at a time while iterating


class CharBoxes(Sequence):
    """One `Box` or None per character, from parallel arrays.

    Args:
        pages: page number per character (int).
        xy: (x0, top, x1, bottom) per character, shape (n, 4), float64.
        boxed: False where the character has no box (we inserted it).
    """

    __slots__ = ("_pages", "_xy", "_boxed")

    def __init__(self, pages: np.ndarray, xy: np.ndarray, boxed: np.ndarray) -> None:
        if not len(pages) == len(xy) == len(boxed):
            raise ValueError("pages, xy and boxed must have one row per character")
        self._pages, self._xy, self._boxed = pages, xy, boxed

    @classmethod
    def from_list(cls, boxes: Sequence[Box | None]) -> "CharBoxes":
        pages = np.array([0 if b is None else b[0] for b in boxes], np.int64)
        xy = np.array([(0.0,) * 4 if b is None else b[1:] for b in boxes], np.float64).reshape(len(boxes), 4)
        return cls(pages, xy, np.array([b is not None for b in boxes], bool))

    @classmethod
    def concat(cls, parts: Sequence["CharBoxes"]) -> "CharBoxes":
        if not parts:
            return cls(np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0, bool))
        return cls(np.concatenate([p._pages for p in parts]), np.concatenate([p._xy for p in parts]),
                   np.concatenate([p._boxed for p in parts]))

    def __len__(self) -> int:
        return len(self._boxed)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            rows = self._xy[index].tolist()
            return [(p, *r) if b else None
                    for p, r, b in zip(self._pages[index].tolist(), rows, self._boxed[index].tolist())]
        i = operator.index(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(index)
        if not self._boxed[i]:
            return None
        return (int(self._pages[i]), *self._xy[i].tolist())

    def __iter__(self) -> Iterator[Box | None]:
        for start in range(0, len(self), _CHUNK):
            yield from self[start:start + _CHUNK]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CharBoxes):
            return (np.array_equal(self._boxed, other._boxed)
                    and np.array_equal(self._pages[self._boxed], other._pages[other._boxed])
                    and np.array_equal(self._xy[self._boxed], other._xy[other._boxed]))
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CharBoxes({len(self)} characters, {int(np.count_nonzero(self._boxed))} with a box)"

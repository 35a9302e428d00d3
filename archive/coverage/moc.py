"""A spatial MOC (IVOA MOC 2.0) as a set of HEALPix cells, and its string serialisations.

The archive's MOCs are shallow (order 8 at most, 786,432 cells on the whole sky), so a MOC is
held as the sorted indices of its cells at its own order (its depth): every operation the archive
needs (degrading, the canonical multi-order form, NUNIQ, ranges, membership) is then a few numpy
array operations, with no HEALPix library at run time.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np

#: MOC 2.0: the deepest HEALPix order of a spatial MOC.
MAX_ORDER = 29
#: The deepest MOC held as a set of cells (12 * 4**10 = 12.6 million cells at most, 100 MB).
MAX_CELL_ORDER = 10
#: One word of the ASCII form: ``order/``, ``order/idx``, ``order/lo-hi``, ``idx`` or ``lo-hi``.
_WORD = re.compile(r"(?:(\d{1,2})/)?(?:(\d{1,19})(?:-(\d{1,19}))?)?")


class MocSyntaxError(ValueError):
    """Text that is not a MOC 2.0 ASCII serialisation."""


@dataclass(frozen=True, eq=False)
class Moc:
    """A spatial MOC: ``cells`` are the sorted, distinct nested HEALPix indices at ``order``."""

    order: int
    cells: np.ndarray  # uint64

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Moc) and self.order == other.order
                and np.array_equal(self.cells, other.cells))

    @classmethod
    def of_cells(cls, order: int, cells) -> Moc:
        return cls(order, np.unique(np.asarray(cells, dtype=np.uint64)))

    @classmethod
    def empty(cls, order: int) -> Moc:
        return cls(order, np.zeros(0, dtype=np.uint64))

    @classmethod
    def from_ascii(cls, text: str, order: int | None = None) -> Moc:
        """Parse the ASCII serialisation (MOC 2.0 §4.3, ASCII: ``order/idx idx-idx ...``, commas or
        spaces between values); the depth is the deepest order named (an empty ``order/`` too),
        or ``order`` if given and deeper. Vectorised: a whole-sky order-8 MOC parses in ~0.1 s."""
        orders: list[int] = []
        lows: list[int] = []
        highs: list[int] = []
        named = {order if order is not None else 0}
        current = None
        for word in text.replace(",", " ").split():
            match = _WORD.fullmatch(word)
            if match is None:
                raise MocSyntaxError(f"unexpected {word[:40]!r} in a MOC")
            new_order, low, high = match.groups()
            if new_order is not None:
                current = int(new_order)
                if current > MAX_ORDER:
                    raise MocSyntaxError(f"order {current} is beyond {MAX_ORDER}")
                named.add(current)
            if low is None:
                continue
            if current is None:
                raise MocSyntaxError("a MOC cell before any order")
            orders.append(current)
            lows.append(int(low))
            highs.append(int(high) if high is not None else int(low))
        depth = max(named)
        if depth > MAX_CELL_ORDER:
            raise MocSyntaxError(f"MOCs deeper than order {MAX_CELL_ORDER} are not held as cell sets")
        if not orders:
            return cls.empty(depth)
        order_array = np.array(orders, dtype=np.uint64)
        low_array = np.array(lows, dtype=np.uint64)
        high_array = np.array(highs, dtype=np.uint64)
        if ((high_array < low_array) | (high_array >= np.uint64(12) * np.uint64(4) ** order_array)).any():
            raise MocSyntaxError("a MOC cell range is inverted or beyond the sky")
        shift = np.uint64(2) * (np.uint64(depth) - order_array)
        starts = low_array << shift
        lengths = ((high_array + np.uint64(1)) << shift) - starts
        before = np.cumsum(lengths) - lengths
        offsets = np.arange(int(lengths.sum()), dtype=np.uint64) - np.repeat(before, lengths.astype(np.int64))
        return cls.of_cells(depth, np.repeat(starts, lengths.astype(np.int64)) + offsets)

    def degrade(self, order: int) -> Moc:
        """The MOC at a coarser ``order``: every cell that holds a cell of this one."""
        if order >= self.order:
            return self
        return Moc(order, np.unique(self.cells >> np.uint64(2 * (self.order - order))))

    def at_order(self, order: int) -> np.ndarray:
        """The indices of every covered cell at ``order`` (coarser: degraded; finer: split)."""
        if order <= self.order:
            return self.degrade(order).cells
        shift = 2 * (order - self.order)
        return (self.cells[:, None] << np.uint64(shift)) + np.arange(1 << shift, dtype=np.uint64)

    def contains(self, order: int, cells: np.ndarray) -> np.ndarray:
        """For each cell at ``order`` (>= this MOC's), whether this MOC covers it."""
        parents = np.asarray(cells, dtype=np.uint64) >> np.uint64(2 * (order - self.order))
        if not len(self.cells):
            return np.zeros(parents.shape, dtype=bool)
        found = np.searchsorted(self.cells, parents)
        found[found == len(self.cells)] = 0
        return self.cells[found] == parents

    def canonical(self) -> Iterator[tuple[int, np.ndarray]]:
        """(order, sorted indices) of the MOC's canonical form, coarsest first (MOC 2.0 §2, well-formed MOCs:
        four sibling cells are always written as their parent)."""
        per_order = {}
        current = self.cells
        for order in range(self.order, 0, -1):
            parents = current >> np.uint64(2)
            unique, counts = np.unique(parents, return_counts=True)
            full = unique[counts == 4]
            per_order[order] = current[~np.isin(parents, full)]
            current = full
        per_order[0] = current
        for order in range(self.order + 1):
            yield order, per_order[order]

    def nuniq(self) -> np.ndarray:
        """The NUNIQ values of the canonical cells (MOC 2.0 NUNIQ coding: ``4 * 4**order + index``), sorted."""
        parts = [cells + np.uint64(4 * 4 ** order) for order, cells in self.canonical()]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.uint64)

    def ranges(self) -> np.ndarray:
        """Half-open ``[start, end)`` intervals of order-29 indices (MOC 2.0 RANGE coding)."""
        if not len(self.cells):
            return np.zeros((0, 2), dtype=np.uint64)
        breaks = np.flatnonzero(np.diff(self.cells) != 1) + 1
        starts = self.cells[np.r_[0, breaks]]
        ends = self.cells[np.r_[breaks - 1, len(self.cells) - 1]] + np.uint64(1)
        shift = np.uint64(2 * (MAX_ORDER - self.order))
        return np.stack([starts << shift, ends << shift], axis=1)

    def to_ascii(self) -> str:
        """The canonical ASCII serialisation (MOC 2.0 §4.3, ASCII); an empty ``<depth>/`` at the end
        when no cell is at the MOC's depth, so that a reader learns it. Made once per MOC (a
        refresh needs it for the digest and for storing; 0.3 s for a whole-sky order-8 MOC)."""
        return self._ascii

    @cached_property
    def _ascii(self) -> str:
        words = []
        for order, cells in self.canonical():
            if not len(cells):
                continue
            words.append(f"{order}/" + " ".join(_runs(cells)))
        if not words or not words[-1].startswith(f"{self.order}/"):
            words.append(f"{self.order}/")
        return " ".join(words)

    def to_json(self) -> dict[str, list[int]]:
        """The JSON serialisation (MOC 2.0 §4.3, JSON): order -> indices; the depth with ``[]`` if empty."""
        document = {str(order): cells.tolist() for order, cells in self.canonical() if len(cells)}
        document.setdefault(str(self.order), [])
        return document

    @property
    def sky_fraction(self) -> float:
        return len(self.cells) / (12 * 4 ** self.order)


def _runs(cells: np.ndarray) -> Iterator[str]:
    if not len(cells):
        return
    breaks = np.flatnonzero(np.diff(cells) != 1) + 1
    for run in np.split(cells, breaks):
        yield str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}"

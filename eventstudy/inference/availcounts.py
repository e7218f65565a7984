"""Per group and day, the pairs with a value: counted from the panel's few missing cells.

The rank tests need N_t, the pairs of a group available on day t (Corrado
1989, Kolari and Pynnönen 2011; formula sheet §5.6, §5.8). As a one-hot
product with the P × T availability in float64 that costs a fresh P × T
array per study and a pass over it per grouping; here the P × T boolean
availability is reduced once to its rarer cells (the missing ones, or the
available ones when those are fewer), and each grouping's counts are the
group sizes less one ``np.bincount`` of those cells. Counts are integers,
exact in float64 whatever the order of summation, so both routes give the
same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grouped import Groups

__all__ = ["Cells", "available_counts", "cell_counts", "missing_cells", "rare_cells"]


@dataclass(frozen=True, eq=False)
class Cells:
    """The rarer cells of a P × T availability: ``missing`` says which kind they are.

    ``rows``/``cols`` list the cells in row-major order (intp).
    """

    rows: np.ndarray
    cols: np.ndarray
    shape: tuple[int, int]
    missing: bool


def rare_cells(ok: np.ndarray) -> Cells:
    """:class:`Cells` of the boolean availability ``ok`` (P × T): the missing cells, or the
    available ones when fewer are available than missing."""
    ok = np.asarray(ok, dtype=bool)
    p, t = ok.shape
    n_ok = int(np.count_nonzero(ok))
    missing = 2 * n_ok >= ok.size
    flat = np.flatnonzero(~ok if missing else ok)
    rows = flat // max(t, 1)
    return Cells(rows, flat - rows * t, (p, t), missing)


def missing_cells(places: np.ndarray, shape: tuple[int, int]) -> Cells | None:
    """:func:`rare_cells` from the ascending flat places of the missing cells (e.g. found by a
    row sort), or ``None`` when the available cells are the fewer (then :func:`rare_cells`)."""
    p, t = shape
    if 2 * (p * t - len(places)) < p * t:
        return None
    rows = places // max(t, 1)
    return Cells(rows, places - rows * t, (p, t), True)


def available_counts(cells: Cells, groups: Groups, mask: np.ndarray) -> np.ndarray:
    """Per group and column: the pairs with ``mask`` whose cell is available (G × T, float64).

    Equal to ``groups.matrix(mask) @ ok.astype(float)`` for the availability
    ``ok`` that ``cells`` came from.
    """
    t = cells.shape[1]
    rows, cols = cells.rows, cells.cols
    if not mask.all():
        keep = mask[rows]
        rows, cols = rows[keep], cols[keep]
    rare = cell_counts(groups, rows, cols, t)
    if not cells.missing:
        return rare.astype(np.float64)
    return (groups.count(mask)[:, None] - rare).astype(np.float64)


def cell_counts(groups: Groups, rows: np.ndarray, cols: np.ndarray, t: int) -> np.ndarray:
    """Per group and column, how many of the cells (``rows[k]``, ``cols[k]``) it holds (int64, G × ``t``).

    One ``np.bincount`` of the cells' flat (group, column) index.
    """
    code = groups.codes[rows] * t  # a new array: the flat index is built in place
    code += cols
    return np.bincount(code, minlength=groups.size * t).reshape(groups.size, t)

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

__all__ = ["Cells", "available_counts", "rare_cells"]


@dataclass(frozen=True, eq=False)
class Cells:
    """The rarer cells of a P × T availability: ``missing`` says which kind they are.

    ``rows``/``cols`` list the cells in row-major order (int32 rows; cols in
    the smallest integer type that holds T).
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
    rows, cols = np.nonzero(~ok if missing else ok)
    row_type = np.int32 if p < 2**31 else np.int64
    col_type = np.int16 if t < 2**15 else np.int32
    return Cells(rows.astype(row_type), cols.astype(col_type), (p, t), missing)


def available_counts(cells: Cells, groups: Groups, mask: np.ndarray) -> np.ndarray:
    """Per group and column: the pairs with ``mask`` whose cell is available (G × T, float64).

    Equal to ``groups.matrix(mask) @ ok.astype(float)`` for the availability
    ``ok`` that ``cells`` came from.
    """
    t = cells.shape[1]
    keep = mask[cells.rows]
    code = groups.codes[cells.rows[keep]] * t + cells.cols[keep]
    rare = np.bincount(code, minlength=groups.size * t).reshape(groups.size, t)
    if not cells.missing:
        return rare.astype(np.float64)
    return (groups.count(mask)[:, None] - rare).astype(np.float64)

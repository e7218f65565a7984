"""Multiple-testing control: Holm and Benjamini–Hochberg adjusted p-values.

A study produces one p-value per event×market pair and window (``car.csv``)
and one per group, window and test (``tests.csv``). Read one at a time, some
of them are "significant" by chance; the adjusted p-values say which survive
a family-wise (Holm 1979) or false-discovery-rate (Benjamini and Hochberg
1995) control over the family they belong to.

Conventions
-----------
* Adjustment follows :func:`statsmodels.stats.multitest.multipletests`:
  ``holm`` and ``fdr_bh`` are its formulas re-implemented in one vectorized
  pass over all families (statsmodels' Holm branch calls ``gc.collect()`` on
  every call, 0.1–0.3 s each in a process holding a study, i.e. minutes for a
  tests table's thousand families); the tests check equality with
  ``multipletests``. Any other method name is passed to ``multipletests``.
* Missing p-values (NaN) stay NaN and are *not* counted in the family size
  ``m`` (statsmodels itself would count them; we pass it the finite values
  only).
* Families: in the CAR table, all pairs of one CAR window; in the tests table,
  all groups of one ``group_by`` × ``window`` × ``test`` (so the family of an
  event's ``csect_t`` p-value is the same test on every event for that
  window). The ``all`` grouping has a single group: its adjusted p-value
  equals the raw one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = [
    "ADJUSTED_COLUMNS",
    "adjust",
    "adjust_car_table",
    "adjust_columns",
    "adjust_tests_table",
    "adjust_within",
]

#: Column names given to each statsmodels method in the tables.
ADJUSTED_COLUMNS: dict[str, str] = {"holm": "p_holm", "fdr_bh": "p_bh"}


def _grouped_step(p: np.ndarray, codes: np.ndarray, method: str) -> np.ndarray:
    """Holm or Benjamini–Hochberg within every family at once (NaN-aware).

    Same formulas as ``multipletests`` (``holm``: running maximum of
    (m − i + 1) p_(i); ``fdr_bh``: running minimum from the top of
    m p_(i) / i; both capped at 1), computed for all families in one sorted
    pass; ``codes`` labels each value's family, NaNs are left out of m.
    """
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    if idx.size == 0:
        return out
    order = np.lexsort((p[idx], codes[idx]))
    rows = idx[order]
    c_s, p_s = codes[rows], p[rows]
    starts = np.r_[0, np.flatnonzero(np.diff(c_s)) + 1]
    sizes = np.diff(np.r_[starts, len(c_s)])
    grp = np.repeat(np.arange(len(starts)), sizes)
    rank = np.arange(len(c_s)) - starts[grp] + 1
    m = sizes[grp]
    if method == "holm":
        raw = (m - rank + 1) * p_s
        adj = pd.Series(raw).groupby(grp).cummax().to_numpy()
    else:  # fdr_bh
        raw = p_s * m / rank
        adj = pd.Series(raw[::-1]).groupby(grp[::-1]).cummin().to_numpy()[::-1]
    out[rows] = np.minimum(adj, 1.0)
    return out


def adjust(
    p_values: Sequence[float] | np.ndarray | pd.Series, methods: Sequence[str] = ("holm", "fdr_bh")
) -> pd.DataFrame:
    """Adjust a family of p-values for multiple testing, NaN-aware.

    Parameters
    ----------
    p_values : array-like of float
        Raw two-sided p-values, each in [0, 1] or NaN (a test that could not
        be computed).
    methods : sequence of str
        ``multipletests`` method names, e.g. ``"holm"`` (Holm 1979 step-down
        family-wise error control: p̃_(i) = max_{j≤i} min(1, (m − j + 1) p_(j)))
        and ``"fdr_bh"`` (Benjamini and Hochberg 1995 step-up false discovery
        rate: p̃_(i) = min_{j≥i} min(1, m p_(j) / j)); p_(1) ≤ … ≤ p_(m).

    Returns
    -------
    DataFrame
        One column per method, named by the method (``holm``, ``fdr_bh``…),
        one row per input value in the input order (the input's index when
        it is a Series, else 0…n−1). NaN inputs give NaN; the family size m
        is the number of finite inputs.

    Raises
    ------
    InputError
        When a value is outside [0, 1] or infinite, or a method is unknown.
    """
    index = p_values.index if isinstance(p_values, pd.Series) else None
    p = np.asarray(p_values, dtype=float).reshape(-1)
    finite = np.isfinite(p)
    if np.isinf(p).any() or (p[finite] < 0).any() or (p[finite] > 1).any():
        raise InputError("p_values: every p-value must lie in [0, 1] (or be NaN)")
    out: dict[str, np.ndarray] = {}
    for method in methods:
        if method in ("holm", "fdr_bh"):
            out[method] = _grouped_step(p, np.zeros(p.shape, dtype=np.int64), method)
            continue
        adj = np.full(p.shape, np.nan)
        if finite.any():
            from statsmodels.stats.multitest import multipletests  # lazy: heavy import

            try:
                adj[finite] = multipletests(p[finite], method=method)[1]
            except ValueError as exc:
                raise InputError(f"methods: '{method}' is not a multipletests method ({exc})") from None
        out[method] = adj
    return pd.DataFrame(out, index=index)


def adjust_within(
    table: pd.DataFrame,
    by: Sequence[str],
    p_col: str = "p_value",
    columns: Mapping[str, str] = ADJUSTED_COLUMNS,
) -> pd.DataFrame:
    """Add adjusted p-value columns, adjusting within each group of ``by``.

    Parameters
    ----------
    table : DataFrame
        Must contain ``p_col`` and the ``by`` columns.
    by : sequence of str
        Columns whose distinct value combinations define the families.
    p_col : str
        Column of raw p-values.
    columns : mapping method → new column name
        Default ``{"holm": "p_holm", "fdr_bh": "p_bh"}``. ``holm`` and
        ``fdr_bh`` are computed for all families in one vectorized pass;
        other methods call :func:`adjust` per family.

    Returns
    -------
    DataFrame
        A copy of ``table`` (same index and row order) with the new columns
        appended (replaced if present).
    """
    missing = [c for c in [*by, p_col] if c not in table.columns]
    if missing:
        raise InputError(f"table: missing column(s) {', '.join(missing)}")
    out = table.copy()
    try:
        p = np.asarray(pd.to_numeric(table[p_col]), dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{p_col}: p-values must be numbers") from None
    finite = np.isfinite(p)
    if np.isinf(p).any() or (p[finite] < 0).any() or (p[finite] > 1).any():
        raise InputError(f"{p_col}: every p-value must lie in [0, 1] (or be NaN)")
    codes = (
        table.groupby(list(by), sort=False, dropna=False).ngroup().to_numpy(dtype=np.int64)
        if by and len(table)
        else np.zeros(len(table), dtype=np.int64)
    )
    for method, name in columns.items():
        if method in ("holm", "fdr_bh"):
            out[name] = _grouped_step(p, codes, method)
            continue
        adj = np.full(len(table), np.nan)
        for g in np.unique(codes):
            rows = np.flatnonzero(codes == g)
            adj[rows] = adjust(p[rows], methods=[method])[method].to_numpy()
        out[name] = adj
    return out


def adjust_car_table(car: pd.DataFrame, p_col: str = "p_value") -> pd.DataFrame:
    """Per-pair CAR table with ``p_holm`` and ``p_bh`` (family: one CAR window).

    Parameters
    ----------
    car : DataFrame
        Columns of ``car.csv`` (at least ``window`` and ``p_value``).

    Returns
    -------
    DataFrame
        ``car`` with two more columns, ``p_holm`` and ``p_bh``: the pair's
        p-value adjusted over every pair of the same window.
    """
    return adjust_within(car, by=["window"], p_col=p_col)


def adjust_tests_table(tests: pd.DataFrame, p_col: str = "p_value") -> pd.DataFrame:
    """Tests table with ``p_holm`` and ``p_bh`` (family: group_by × window × test).

    Parameters
    ----------
    tests : DataFrame
        Columns of ``tests.csv`` (at least ``group_by``, ``window``, ``test``,
        ``p_value``).

    Returns
    -------
    DataFrame
        ``tests`` with ``p_holm`` and ``p_bh``: each group's p-value adjusted
        over the groups of the same grouping, window and test (for
        ``group_by="event"``: over all events).
    """
    return adjust_within(tests, by=["group_by", "window", "test"], p_col=p_col)


def adjust_columns(p: np.ndarray, columns: Mapping[str, str] = ADJUSTED_COLUMNS) -> dict[str, np.ndarray]:
    """Holm and Benjamini–Hochberg p-values of a pairs × windows matrix, each column one family.

    The numbers of :func:`adjust_car_table` (family: one CAR window) without
    building a table: the CAR table's rows are the matrix ravelled row by row,
    and within a window its rows are in pair order, so one stable sort of each
    column orders the family as the table's sort by window and p-value does.

    Parameters
    ----------
    p : ndarray (P, C)
        Raw p-values, each in [0, 1] or NaN.
    columns : mapping method → name
        Methods among ``holm`` and ``fdr_bh`` (default both, named as in the tables).

    Returns
    -------
    dict name → ndarray (P, C)
        NaN where ``p`` is NaN; the family size of a column is its finite count.

    Raises
    ------
    InputError
        When a value is outside [0, 1] or infinite, or a method is not ``holm`` or ``fdr_bh``.
    """
    p = np.asarray(p, dtype=float)
    finite = np.isfinite(p)
    if np.isinf(p).any() or (p < 0).any() or (p > 1).any():  # NaN compares false
        raise InputError("p_value: every p-value must lie in [0, 1] (or be NaN)")
    bad = [m for m in columns if m not in ("holm", "fdr_bh")]
    if bad:
        raise InputError(f"columns: '{bad[0]}' is not one of holm, fdr_bh")
    # column-major: each family's values and results contiguous
    out = {name: np.full(p.shape[::-1], np.nan).T for name in columns.values()}
    for c in range(p.shape[1] if p.ndim == 2 else 0):
        col = np.ascontiguousarray(p[:, c])
        idx = np.flatnonzero(finite[:, c])
        if idx.size == 0:
            continue
        rows = idx[_stable_order(col[idx])]
        p_s = col[rows]
        m = np.int64(len(rows))
        rank = np.arange(1, len(rows) + 1, dtype=np.int64)
        for method, name in columns.items():
            if method == "holm":  # running maximum of (m − i + 1) p_(i)
                adj = np.maximum.accumulate((m - rank + 1) * p_s)
            else:  # running minimum from the top of m p_(i) / i
                adj = np.minimum.accumulate((p_s * m / rank)[::-1])[::-1]
            out[name][rows, c] = np.minimum(adj, 1.0)
    return out


def _stable_order(v: np.ndarray) -> np.ndarray:
    """``np.argsort(v, kind="stable")`` of finite floats: one quicksort, then equal values by position.

    Only the runs of equal values are put back in position order, so the
    result is the stable order whatever order the quicksort left ties in.
    """
    order = np.argsort(v)
    vs = v[order]
    tie = vs[1:] == vs[:-1]
    if not tie.any():
        return order
    in_run = np.zeros(len(v), dtype=bool)
    in_run[1:] |= tie
    in_run[:-1] |= tie
    at = np.flatnonzero(in_run)
    run = np.cumsum(np.r_[True, ~tie])[at]  # run of equal values of each tied position
    sub = order[at]
    order[at] = sub[np.lexsort((sub, run))]
    return order

"""Run the registered tests for every grouping and CAR window."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .base import TestInput, TestSpec

__all__ = ["run_tests", "caar_table", "GROUPINGS"]

#: Groupings of pairs reported in ``tests.csv`` (``all`` is the whole sample).
GROUPINGS: tuple[str, ...] = ("all", "event", "market", "category", "direction")


def _groups(labels: np.ndarray) -> list[tuple[str, np.ndarray]]:
    codes, uniq = pd.factorize(pd.Series(labels), sort=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniq) + 1))
    return [(str(u), order[bounds[i] : bounds[i + 1]]) for i, u in enumerate(uniq)]


def run_tests(
    inputs: Mapping[str, TestInput],
    labels: Mapping[str, np.ndarray],
    specs: Sequence[TestSpec],
) -> pd.DataFrame:
    """Apply each test to each group of each grouping, for each window.

    Parameters
    ----------
    inputs : mapping window label → TestInput
    labels : mapping grouping name → array of group labels (one per pair)
    specs : the tests to run

    Returns
    -------
    DataFrame with columns ``group_by, group, window, test, statistic,
    p_value, n, note``.
    """
    rows: list[tuple[int, int, int, str, str, str, str, float, float, int, str]] = []
    grouped = [(k, gb, _groups(lab)) for k, (gb, lab) in enumerate(labels.items())]
    # window by window, so that each window's memo (ranks, placebo CARs…) is
    # built once for all groupings and freed before the next window
    for w, (wlabel, inp) in enumerate(inputs.items()):
        for k, gb, groups in grouped:
            for gi, (g, idx) in enumerate(groups):
                for spec in specs:
                    r = spec.func(inp, idx)
                    rows.append((k, w, gi, gb, g, wlabel, spec.name, r.statistic, r.p_value, r.n, r.note))
        inp.memo.clear()
    rows.sort(key=lambda r: (r[0], r[1], r[2]))  # grouping, window, group (stable for tests)
    return pd.DataFrame(
        [r[3:] for r in rows],
        columns=["group_by", "group", "window", "test", "statistic", "p_value", "n", "note"],
    )


def caar_table(inputs: Mapping[str, TestInput], labels: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """CAAR (mean CAR over pairs with a CAR) and its cross-sectional spread per group."""
    rows: list[tuple[str, str, str, float, float, int]] = []
    for gb, lab in labels.items():
        groups = _groups(lab)
        for wlabel, inp in inputs.items():
            for g, idx in groups:
                v = inp.car[idx]
                v = v[np.isfinite(v)]
                n = len(v)
                caar = float(v.mean()) if n else float("nan")
                sd = float(v.std(ddof=1)) if n > 1 else float("nan")
                rows.append((gb, g, wlabel, caar, sd, n))
    return pd.DataFrame(rows, columns=["group_by", "group", "window", "caar", "sd", "n"])

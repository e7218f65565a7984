"""The one dependence-robust result that headlines quote, for every group and window.

**The rule.** Every statement a reader sees — the report's summary sentence, its
group sentences, the per-day stars, the CLI summary, ``StudyResult.headline`` —
quotes :data:`HEADLINE_TEST`, ``cluster_t``: the t statistic of Ibragimov and
Müller (2010) on the G cluster mean CARs of the group (clusters of dependent
pairs, :mod:`~eventstudy.inference.clusters`; exact duplicates once), against
t(G − 1). Its estimate is the average of the cluster mean CARs (each cluster's
pairs averaged first), with standard error sd/√G.

Why this test: on placebo dates of the bundled data (``bench/calibration.py``;
README, "Size and power on placebo dates") it held its size best among the
cluster tests, in both placebo layouts and every window (4.0–8.0 %; 5.4 % and
4.8 % on the headline window 0:0), while the CR2 t (``cluster_cr2_t``)
rejected 7.8 % at 0:0 when the curated file's bursts of news were kept
together; power at an injected −0.5 % was the same (94 %). ``cluster_cr2_t``
and ``cluster_bootstrap`` stay in ``tests.csv`` beside it. A group with fewer
than 2 clusters (one event) has no dependence-robust test, and the report says
so rather than quoting a naive one.

Beside every headline stands the minimum detectable effect of the design
(two-sided 5 %, 80 % power; formula sheet §7.4: (t_{.975,G−1} + t_{.80,G−1}) ·
sd/√G), so a null result reads "could have detected a move of X % or more".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from .base import TestInput
from .clustered import cells, estimates, mde
from .grouped import Groups, t_p_array

__all__ = [
    "HEADLINE_COLUMNS",
    "HEADLINE_TEST",
    "INDEPENDENCE_NOTES",
    "headline_of",
    "headline_record",
    "mark_independence",
    "robust_table",
]

#: The test every headline quotes (see the module docstring for the rule).
HEADLINE_TEST = "cluster_t"

#: Columns of ``headlines.csv`` (one row per grouping, group and window).
HEADLINE_COLUMNS = [
    "group_by",
    "group",
    "window",
    "test",
    "estimate",
    "se",
    "df",
    "ci_low",
    "ci_high",
    "statistic",
    "p_value",
    "n_clusters",
    "n_pairs",
    "mde",
]


#: What the tests that are not cluster-robust assume, written into their ``note`` in ``tests.csv``.
INDEPENDENCE_NOTES: dict[str, str] = {
    "kp_bmp_t": "adjusts for an average correlation only",
    "kp_patell_z": "adjusts for an average correlation only",
    "cda_t": "portfolio time-series variance; ignores overlapping windows",
    "placebo": "estimation-period placebo; ignores overlapping windows",
}

_DEFAULT_NOTE = "assumes independent pairs"


def mark_independence(tests: pd.DataFrame) -> pd.DataFrame:
    """``tests`` with the note of every test that is not cluster-robust saying what it assumes.

    The cluster tests (``cluster_*``) keep their notes; the others get
    "assumes independent pairs" (or :data:`INDEPENDENCE_NOTES`) in front.
    """
    from . import CLUSTER_TESTS

    out = tests.copy()
    if out.empty:
        return out
    out["note"] = _marked_notes(out["test"], out["note"], set(CLUSTER_TESTS))
    return out


def _marked_notes(test: pd.Series, note: pd.Series, robust: set[str]) -> pd.Series:
    """The notes of :func:`mark_independence`, built once per distinct (test, note) and
    taken row by row (a universe's table has millions of rows and a few thousand
    distinct notes: no string is made per row); a text column keeps its dtype."""
    t_codes, t_names = pd.factorize(test, use_na_sentinel=False)  # a missing name: "nan"
    n_codes, n_texts = pd.factorize(note)  # a missing note: −1
    width = len(n_texts) + 1
    pair_codes, pairs = pd.factorize(t_codes.astype(np.int64) * width + n_codes + 1)
    # Python lists: an Index is slow to read item by item
    names, texts = [str(t) for t in t_names], list(n_texts)
    marked: list[object] = []
    for code in pairs:
        name, k = names[code // width], code % width - 1
        old = texts[k] if k >= 0 else np.nan
        if name in robust:
            marked.append(old)
            continue
        what = INDEPENDENCE_NOTES.get(name, _DEFAULT_NOTE)
        text = "" if k < 0 else str(old)
        marked.append(f"{what}; {text}" if text != "" else what)
    dtype = note.dtype if isinstance(note.dtype, pd.StringDtype) else object  # text, else Python objects
    values = pd.array(marked, dtype=dtype).take(pair_codes)
    return pd.Series(values, index=note.index, name=note.name, dtype=dtype)


def robust_table(inputs: Mapping[str, TestInput], labels: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """The headline test's estimate, SE, df, 95 % interval, t, p, clusters and MDE per group.

    Parameters
    ----------
    inputs : mapping window label → TestInput (with ``cluster`` and ``dup``)
    labels : mapping grouping name → group label of each pair

    Returns
    -------
    DataFrame with :data:`HEADLINE_COLUMNS`; statistic, p-value, interval and
    MDE are NaN where the group has fewer than 2 clusters or no variation.
    The statistic and p-value equal those of ``cluster_t`` in ``tests.csv``.
    """
    cols = _columns(inputs, labels)
    if not cols["group"]:
        return pd.DataFrame(columns=HEADLINE_COLUMNS)
    return pd.DataFrame({c: np.concatenate(v) for c, v in cols.items()})[HEADLINE_COLUMNS]


def _columns(
    inputs: Mapping[str, TestInput], labels: Mapping[str, np.ndarray]
) -> dict[str, list[np.ndarray]]:
    """The columns of :func:`robust_table`, one array per grouping and window."""
    cols: dict[str, list[np.ndarray]] = {c: [] for c in HEADLINE_COLUMNS}
    for gb, lab in labels.items():
        groups = Groups.from_labels(lab)
        names = np.array(groups.names, dtype=object)
        for w, inp in inputs.items():
            c = cells(inp, groups)
            if c is None:
                continue
            est, se, df = estimates("im", c)
            ok = (c.g >= 2) & (se > 0.0) & np.isfinite(se)
            with np.errstate(invalid="ignore", divide="ignore"):
                t = np.where(ok, est / se, np.nan)
                half = special.stdtrit(np.where(ok, df, np.nan), 0.975) * se
            k = groups.size
            for name, v in (
                ("group_by", np.full(k, gb, dtype=object)),
                ("group", names),
                ("window", np.full(k, w, dtype=object)),
                ("test", np.full(k, HEADLINE_TEST, dtype=object)),
                ("estimate", est),
                ("se", np.where(ok, se, np.nan)),
                ("df", np.where(ok, df, np.nan)),
                ("ci_low", est - half),
                ("ci_high", est + half),
                ("statistic", t),
                ("p_value", np.where(ok, t_p_array(t, df), np.nan)),
                ("n_clusters", c.g.astype(np.int64)),
                ("n_pairs", c.pairs.astype(np.int64)),
                ("mde", np.where(ok, mde(se, df), np.nan)),
            ):
                cols[name].append(v)
    return cols


def headline_record(table: pd.DataFrame, window: str) -> dict[str, Any]:
    """The study's headline: the row of all pairs in ``window`` as plain JSON values.

    Keys: ``test, window, statistic, p_value, n_clusters, n_pairs, mde`` and
    ``estimate, se, df, ci_low, ci_high``; floats are None where not finite.
    An empty dict when the table has no such row.
    """
    if table.empty:
        return {}
    row = table[(table["group_by"] == "all") & (table["window"] == window)]
    if row.empty:
        return {}
    return _record(row.iloc[0], window)


def headline_of(inp: TestInput, window: str) -> dict[str, Any]:
    """:func:`headline_record` of all pairs of ``inp`` in ``window``, without the whole table.

    The same record as ``headline_record(robust_table({window: inp}, {"all": …}), window)``:
    the one row is read from the columns :func:`robust_table` is built from.
    """
    cols = _columns({window: inp}, {"all": np.full(len(inp.car), "all", dtype=object)})
    if not cols["group"]:
        return {}
    return _record({c: v[0][0] for c, v in cols.items()}, window)


def _record(r: Any, window: str) -> dict[str, Any]:
    """The headline's fields from one row of the headline table (a Series or a mapping)."""

    def num(v: Any) -> float | None:
        v = float(v)
        return v if np.isfinite(v) else None

    return {
        "test": str(r["test"]),
        "window": window,
        "statistic": num(r["statistic"]),
        "p_value": num(r["p_value"]),
        "n_clusters": int(r["n_clusters"]),
        "n_pairs": int(r["n_pairs"]),
        "mde": num(r["mde"]),
        "estimate": num(r["estimate"]),
        "se": num(r["se"]),
        "df": num(r["df"]),
        "ci_low": num(r["ci_low"]),
        "ci_high": num(r["ci_high"]),
    }

"""The volatility reaction: did the news move the variance of returns, not only their level?

Per pair i and CAR window, the **volatility ratio** is the mean squared
standardized abnormal return over the window's L_i available days,

    VR_i = L_i⁻¹ Σ_{t∈window} SAR_it²,   SAR_it = AR_it / (σ̂_i √(1 + h_it)),

the event-window squared ARs over their estimation-period expectation
(σ̂_i² = SSR/(M_i − k), with the prediction-error correction 1 + h_it; a
k-session return counts with k times the variance, as for the SARs). This is
Beaver's (1968) U statistic with the Patell (1976) correction; with normal
ARs and a constant variance, VR_i is an F(L_i, d_i) variable (d_i = M_i − k,
up to the small dependence that the estimated coefficients create between
the days of one window), so E[VR_i] = d_i / (d_i − 2) ≈ 1.

Across pairs the test works on the centred log ratio y_i = log VR_i − E₀[log VR_i],
which is far closer to symmetric than VR_i itself (a single-day χ²₁ is very
right-skewed). Under normality E₀[log F(L, d)] = ψ(L/2) − log(L/2) − ψ(d/2) +
log(d/2), but daily index returns have fat tails and clustered volatility,
which lower the mean of a log squared return: on placebo dates of the bundled
data that centring rejects 26–28 % of the time at 5 %. The null value is
therefore calibrated on each pair's own estimation period, as the ``placebo``
test does for the level: the mean of log(mean SAR²) over every block of L_i
consecutive estimation days, plus the normal-theory gap between an
out-of-sample ratio and an in-sample block, log(M/2) − ψ(d/2)
(:func:`null_log_mean`; the normal-theory value when a study kept no
estimation residuals). H0: mean y = 0 is tested as ``cluster_cr2_t`` tests the CAAR,
on y (:func:`~eventstudy.inference.clustered.cells`,
:func:`~eventstudy.inference.clustered.estimates`): the mean over the group's
pairs (exact duplicates once) with the CR2 cluster-robust standard error over
the clusters of dependent pairs and Bell–McCaffrey degrees of freedom (Bell
and McCaffrey 2002; Imbens and Kolesár 2016). Markets that react together to
one piece of news move their squared ARs together too, so the clusters matter
as much as for the level; in the spirit of Boehmer, Musumeci and Poulsen
(1991) the variance comes from the cross-section of y, not from its null
value. A positive statistic means higher volatility in the window.

References: Beaver, W. H. (1968), "The Information Content of Annual Earnings
Announcements", Journal of Accounting Research 6, 67–92; Patell, J. M. (1976),
Journal of Accounting Research 14(2), 246–276; Boehmer, E., Musumeci, J. and
Poulsen, A. B. (1991), Journal of Financial Economics 30(2), 253–272.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import special

from .base import TestInput
from .clustered import cells, estimates
from .estsums import as_slice
from .grouped import Groups, t_p_array

__all__ = ["VOLATILITY_COLUMNS", "log_null_mean", "pair_ratio", "pair_ratios", "volatility_table"]

#: Columns of ``volatility.csv`` (one row per grouping, group and CAR window).
VOLATILITY_COLUMNS = [
    "group_by",
    "group",
    "window",
    "mean_ratio",
    "expected_ratio",
    "mean_log_ratio",
    "statistic",
    "p_value",
    "df",
    "n_clusters",
    "n_pairs",
    "note",
]


_NORMAL_NOTE = "null value from normal theory: no estimation residuals kept (the chosen tests need none)"


def log_null_mean(days: np.ndarray, dof: np.ndarray) -> np.ndarray:
    """E[log F(L, d)] = ψ(L/2) − log(L/2) − ψ(d/2) + log(d/2); NaN where L < 1 or d < 1."""
    half_l = np.asarray(days, dtype="float64") / 2.0
    half_d = np.asarray(dof, dtype="float64") / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        out = special.digamma(half_l) - np.log(half_l) - special.digamma(half_d) + np.log(half_d)
    return np.where((half_l > 0) & (half_d > 0), out, np.nan)


#: Pairs whose estimation SARs are compacted and block-averaged at a time (small
#: temporaries, reused, instead of several arrays of every pair's estimation days).
_ROWS = 2048


def _compact_cumsum(est_sar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Available days per row and the cumulative sums of their SAR² in date order.

    Row i of the sums is 0 followed by the running totals of the squares of
    its available days, moved to the front in date order (zeros after them).
    """
    ok = np.isfinite(est_sar)
    p, t = est_sar.shape
    n = np.count_nonzero(ok, axis=1)
    squares = np.zeros((p, t))
    # boolean masks select row by row, columns in order: the available values land at the
    # front of their row in date order
    squares[np.arange(t)[None, :] < n[:, None]] = est_sar[ok]
    np.multiply(squares, squares, out=squares)
    cum = np.empty((p, t + 1))
    cum[:, 0] = 0.0
    np.cumsum(squares, axis=1, out=cum[:, 1:])  # into another array: no overlap to buffer
    return n, cum


def _block_log_mean(n: np.ndarray, cum: np.ndarray, big_l: int) -> np.ndarray:
    """Per row of ``cum`` (the rows' :func:`_compact_cumsum`): the mean log(mean SAR²) of its L-day blocks."""
    t = cum.shape[1] - 1
    m = t - big_l + 1
    lg = np.subtract(cum[:, big_l : big_l + m], cum[:, :m])  # block sums, then in place
    np.divide(lg, big_l, out=lg)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.log(lg, out=lg)
    use = np.isfinite(lg)
    use &= np.arange(m)[None, :] <= (n - big_l)[:, None]
    cnt = np.count_nonzero(use, axis=1)
    np.logical_not(use, out=use)
    lg[use] = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, lg.sum(axis=1) / cnt, np.nan)


def estimation_log_mean(
    est_sar: np.ndarray, days: np.ndarray, cache: dict[object, object] | None = None
) -> np.ndarray:
    """Per pair: the mean over the estimation period of log(mean SAR² of L_i consecutive days).

    Every block of L_i consecutive available estimation days (the window's
    length, masked days skipped) gives one placebo log ratio; their mean is
    the pair's empirical null value of log VR, which carries the fat tails and
    the volatility clustering of its own returns. Computed from one cumulative
    sum per pair and one block-difference per distinct L (no loop over pairs;
    a block of :data:`_ROWS` pairs at a time). NaN where the pair has fewer
    than L_i estimation days. ``cache`` (a study's shared memo of its
    estimation arrays) keeps each pair's value per L for the other windows
    and callers.
    """
    p, t = est_sar.shape
    days = np.asarray(days, dtype=np.int64)
    out = np.full(p, np.nan)
    if t == 0:
        return out
    lengths = [int(v) for v in np.unique(days[(days > 0) & (days <= t)])]
    memo: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    todo = np.zeros(p, dtype=bool)
    for big_l in lengths:
        hit = None if cache is None else cache.get(("volatility_log_mean", big_l))
        known, done = hit if isinstance(hit, tuple) else (np.full(p, np.nan), np.zeros(p, dtype=bool))
        memo[big_l] = (known, done)
        todo |= (days == big_l) & ~done
    rows = np.flatnonzero(todo)
    for lo in range(0, len(rows), _ROWS):  # a block of pairs at a time, every L of the block
        part = rows[lo : lo + _ROWS]
        run = as_slice(part)  # consecutive pairs (usually all): their rows as a view, not a copy
        n, cum = _compact_cumsum(est_sar[run] if run is not None else est_sar[part])
        d = days[part]
        for big_l in np.unique(d):
            at = d == big_l
            known, done = memo[int(big_l)]
            if at.all():  # one L in the block: its rows as they are
                known[part] = _block_log_mean(n, cum, int(big_l))
                done[part] = True
                continue
            known[part[at]] = _block_log_mean(n[at], cum[at], int(big_l))
            done[part[at]] = True
    for big_l, (known, done) in memo.items():
        if cache is not None:
            cache[("volatility_log_mean", big_l)] = (known, done)
        at = days == big_l
        out[at] = known[at]
    return out


def null_log_mean(inp: TestInput, days: np.ndarray) -> tuple[np.ndarray, bool]:
    """E₀[log VR_i] per pair and whether it is the empirical (estimation-period) value.

    With the estimation-window SARs at hand: the pair's estimation-period
    block mean (:func:`estimation_log_mean`) plus the normal-theory gap between
    an out-of-sample ratio and an in-sample block, ψ(L/2) − log(L/2) − ψ(d/2) +
    log(d/2) − [ψ(L/2) − log(L/2) + log(d/M)] = log(M/2) − ψ(d/2) (in-sample
    residuals have variance σ²(1 − h), on average σ²·d/M). Without them the
    normal-theory value :func:`log_null_mean`.
    """
    m = np.asarray(inp.n_est, dtype="float64")
    d = np.asarray(inp.dof, dtype="float64")
    emp = estimation_log_mean(inp.est_sar, days, inp.cache) if inp.est_sar.shape[0] == len(days) else None
    if emp is None or not np.isfinite(emp).any():
        return log_null_mean(days, d), False
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.log(m / 2.0) - special.digamma(d / 2.0)
    return np.where(d > 0, emp + gap, np.nan), True


def pair_ratio(inp: TestInput) -> np.ndarray:
    """VR_i per pair of ``inp`` (NaN without days): the ratio alone, without its null value.

    The same numbers as the first element of :func:`pair_ratios`, without
    reading the estimation-window SARs (the car table's ``vol_ratio``).
    """
    return _ratio_days(inp)[0]


def _ratio_days(inp: TestInput) -> tuple[np.ndarray, np.ndarray]:
    sar = inp.sar
    ok = np.isfinite(sar)
    days = ok.sum(axis=1)
    ss = np.where(ok, sar * sar, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(days > 0, ss / days, np.nan)
    return ratio, days


def pair_ratios(inp: TestInput) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ratio, days, centred_log)`` per pair of ``inp``: VR_i, L_i and y_i (NaN without days).

    y_i = log VR_i − E₀[log VR_i] (:func:`null_log_mean`).
    """
    ratio, days = _ratio_days(inp)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.log(ratio) - null_log_mean(inp, days)[0]
    y = np.where(np.isfinite(y), y, np.nan)  # a ratio of 0 (all ARs exactly 0) has no log
    return ratio, days, y


def _any_finite(a: np.ndarray) -> bool:
    """Whether ``a`` has a finite value, looked for a block of rows at a time (usually the first)."""
    return a.size > 0 and any(np.isfinite(a[lo : lo + _ROWS]).any() for lo in range(0, a.shape[0], _ROWS))


def _expected(dof: np.ndarray) -> np.ndarray:
    d = np.asarray(dof, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(d > 2.0, d / (d - 2.0), np.nan)


def volatility_table(inputs: Mapping[str, TestInput], labels: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """The volatility-ratio test for every grouping, group and window.

    Parameters
    ----------
    inputs : mapping window label → TestInput (with ``sar``, ``dof``, ``cluster``, ``dup``)
    labels : mapping grouping name → group label of each pair

    Returns
    -------
    DataFrame
        :data:`VOLATILITY_COLUMNS`: the mean ratio VR and its null expectation
        d/(d − 2) averaged over the same pairs, the mean centred log ratio,
        its CR2 t statistic, two-sided p-value from t(df) (Bell–McCaffrey df),
        the clusters and pairs (exact duplicates once). Statistic and p-value
        are NaN, with the reason in ``note``, where a group has fewer than 2
        clusters or no variation. Windows without daily SARs (a study run
        with ``detail="pairs"``) have no rows.
    """
    cols: dict[str, list[np.ndarray]] = {c: [] for c in VOLATILITY_COLUMNS}
    groupings = {gb: Groups.from_labels(lab) for gb, lab in labels.items()}
    for w, inp in inputs.items():
        if inp.sar.shape[1] == 0:  # per-pair results only (``detail="pairs"``): no daily SARs
            continue
        ratio, _, y = pair_ratios(inp)
        calibrated = _any_finite(inp.est_sar)
        # the cluster machinery on y, on the ratio and on its expectation (same pairs)
        quantities = {"y": y, "r": ratio, "e": _expected(inp.dof)}
        vin = {k: replace(inp, car=np.where(np.isfinite(y), v, np.nan)) for k, v in quantities.items()}
        for gb, groups in groupings.items():
            cy = cells(vin["y"], groups)
            if cy is None:
                continue
            est, se, df = estimates("cr2", cy)
            mean_r = estimates("cr1", cells(vin["r"], groups))[0]  # type: ignore[arg-type]
            mean_e = estimates("cr1", cells(vin["e"], groups))[0]  # type: ignore[arg-type]
            ok = (cy.g >= 2) & (se > 0.0) & np.isfinite(se)
            with np.errstate(invalid="ignore", divide="ignore"):
                t = np.where(ok, est / se, np.nan)
            p = np.where(ok, t_p_array(t, df), np.nan)
            note = np.where(
                cy.g < 2,
                [f"needs at least 2 clusters (has {int(g)})" for g in cy.g],
                np.where(ok, "" if calibrated else _NORMAL_NOTE, "no variation across clusters"),
            )
            k = groups.size
            for column, values in (
                ("group_by", np.full(k, gb, dtype=object)),
                ("group", np.array(groups.names, dtype=object)),
                ("window", np.full(k, w, dtype=object)),
                ("mean_ratio", mean_r),
                ("expected_ratio", mean_e),
                ("mean_log_ratio", est),
                ("statistic", t),
                ("p_value", p),
                ("df", np.where(ok, df, np.nan)),
                ("n_clusters", cy.g),
                ("n_pairs", cy.pairs),
                ("note", note.astype(object)),
            ):
                cols[column].append(np.asarray(values))
    if not cols["group"]:
        return pd.DataFrame(columns=VOLATILITY_COLUMNS)
    # one frame from whole columns (not one small frame per window and grouping)
    return pd.DataFrame({c: np.concatenate(v) for c, v in cols.items()})

"""The wild bootstrap counts extreme draws by comparing |Σ| with one threshold per row.

|t_b| computed from a resampled sum is a non-decreasing function of |Σ|, so
``|t_b| ≥ bar`` holds exactly from one float on
(:func:`~eventstudy.inference.bootstrap._thresholds`). The counts must be
those of the t formula evaluated draw by draw (a plain loop here), including
for sums one float either side of the threshold, ties and rows without spread.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy.inference import bootstrap as rs


def _loop_count(sums: np.ndarray, n: int, ssq: float, t_abs: float) -> int:
    """Draw by draw: mean, variance (clipped at 0), |t| (NaN counts as 0) against |t_obs| (1 − rtol)."""
    bar = t_abs * (1.0 - rs._RTOL)
    count = 0
    for s in sums.tolist():
        mean = s / n
        var = max(ssq - n * (mean * mean), 0.0) / (n - 1) / n
        sd = math.sqrt(var)
        t = (math.inf if mean != 0.0 else 0.0) if sd == 0.0 else abs(mean / sd)
        count += int(t >= bar)
    return count


def _check(sums: np.ndarray, n: int, ssq: float, t_abs: float) -> None:
    got = rs._extreme_draws(sums[None].copy(), np.array([n]), np.array([ssq]), np.array([t_abs]))
    assert int(got[0]) == _loop_count(sums, n, ssq, t_abs)


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(2, 60),
    scale=st.sampled_from([1e-150, 1e-5, 1.0, 1e5, 1e150]),
    kind=st.sampled_from(["normal", "rounded", "shifted", "equal", "zero_t"]),
)
def test_counts_equal_the_formula_draw_by_draw(seed, n, scale, kind):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    if kind == "rounded":
        x = np.round(x)  # ties and zeros
    elif kind == "shifted":
        x = np.abs(x) + 3.0  # a large t: the variance cancels
    elif kind == "equal":
        x = np.full(n, 0.5)  # no spread
    x = x * scale
    flips = rng.choice([-1.0, 1.0], size=(n, 64))
    flips[:, 0] = 1.0  # the identity draw and its mirror
    flips[:, 1] = -1.0
    sums = x @ flips
    ssq = float(np.sum(x * x))
    sd = float(np.std(x, ddof=1))
    t_abs = 0.0 if kind == "zero_t" else (abs(x.mean() / (sd / np.sqrt(n))) if sd > 0 else math.nan)
    _check(sums, n, ssq, t_abs)
    if math.isfinite(t_abs):
        _check(sums, n, ssq, float(np.nextafter(t_abs, 0.0)))


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(2, 500),
    ssq=st.floats(1e-100, 1e100),
    t_abs=st.floats(0.0, 1e4),
)
def test_threshold_is_exactly_where_the_count_starts(n, ssq, t_abs):
    """The floats just below the threshold do not count; it and the floats above do."""
    theta = float(rs._thresholds(np.array([n]), np.array([ssq]), np.array([t_abs * (1.0 - rs._RTOL)]))[0])
    if not math.isfinite(theta):
        near = np.array([np.finfo(np.float64).max, 1e300, math.sqrt(n * ssq)])
    else:
        below = np.nextafter(theta, 0.0)
        near = np.array([np.nextafter(below, 0.0), below, theta, np.nextafter(theta, np.inf), 2 * theta])
    _check(near, n, ssq, t_abs)
    _check(-near, n, ssq, t_abs)


def test_rows_without_a_statistic_count_nothing():
    sums = np.array([[0.0, 1.0, -3.0], [0.0, 2.0, 5.0]])
    got = rs._extreme_draws(sums, np.array([1, 3]), np.array([1.0, 9.0]), np.array([math.nan, math.nan]))
    assert got.tolist() == [0, 0]

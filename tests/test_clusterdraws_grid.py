"""The wild cluster bootstrap's grid layout decides draws from the expanded square, checked.

Draws far from the bar are decided by the expanded form (products with the
weights); the others by the residual sums. The counts must be those of the
residual form evaluated draw by draw on the groups × clusters grid (a plain
loop here), also when the bar is exactly some draw's |t*|, when draws leave
no spread, and with every draw sent to the residual sums.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eventstudy.inference.clusterdraws as cd

_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def _t_loop(w, row, cl, s_c, n_c, big_n, g):
    """|t*| of every draw (rows) and group (columns): the residual form, one draw at a time."""
    s = np.zeros((len(big_n), w.shape[1]))
    n = np.zeros_like(s)
    s[row, cl] = s_c
    n[row, cl] = n_c
    out = np.zeros((len(w), len(big_n)))
    for b in range(len(w)):
        ws = w[b][None, :] * s
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = ws.sum(axis=1) / big_n
            ws -= n * mean[:, None]
            q = np.einsum("gk,gk->g", ws, ws)
            t = np.abs(mean / (np.sqrt(g / (g - 1.0) * q) / big_n))
        out[b] = np.where(np.isnan(t), 0.0, t)
    return out


def _case(seed: int, kind: str, webb: bool):
    rng = np.random.default_rng(seed)
    n_groups, n_clusters, draws = int(rng.integers(1, 8)), int(rng.integers(2, 14)), int(rng.integers(1, 60))
    w = (
        _WEBB[rng.integers(0, 6, (draws, n_clusters))]
        if webb
        else rng.integers(0, 2, (draws, n_clusters)) * 2.0 - 1.0
    )
    fill = rng.random((n_groups, n_clusters)) < 0.7
    fill[:, :2] = True
    row, cl = np.nonzero(fill)
    n_c = rng.integers(1, 4, len(row)).astype("float64")
    s_c = rng.standard_normal(len(row))
    if kind == "same_mean":  # no spread when the weights agree
        s_c = 0.7 * n_c
    elif kind == "rounded":
        s_c = np.round(s_c)
    elif kind == "large_t":
        s_c = s_c + 4.0 * n_c
    elif kind == "tiny":
        s_c = s_c * 1e-150
    big_n = np.bincount(row, weights=n_c, minlength=n_groups)
    g = np.bincount(row, minlength=n_groups).astype("float64")
    return rng, (w, row, cl, s_c, n_c, big_n, g)


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    kind=st.sampled_from(["normal", "same_mean", "rounded", "large_t", "tiny"]),
    webb=st.booleans(),
    bar_kind=st.sampled_from(["random", "a_draw", "zero"]),
    band=st.sampled_from([cd.BAND, np.inf]),
    block=st.sampled_from([1, 5, cd.DRAW_BLOCK]),
)
def test_grid_counts_equal_the_residual_form_draw_by_draw(seed, kind, webb, bar_kind, band, block):
    rng, args = _case(seed, kind, webb)
    big_n, g = args[5], args[6]
    t = _t_loop(*args)
    if bar_kind == "random":
        bar = np.abs(rng.standard_normal(len(big_n))) * 3.0
    elif bar_kind == "a_draw":  # ties at the bar
        bar = t[rng.integers(0, len(t), len(big_n)), np.arange(len(big_n))]
    else:
        bar = np.zeros(len(big_n))
    live = g >= 2
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cd, "BAND", band)  # ∞: every draw from the residual sums
        mp.setattr(cd, "DRAW_BLOCK", block)
        mp.setattr(cd, "GRID_BLOCK", block)
        got = cd._grid(*args, bar)
    expected = (t >= bar[None, :]).sum(axis=0)
    np.testing.assert_array_equal(got[live], expected[live])


def test_far_draws_skip_the_residual_sums():
    """With continuous data almost no draw is left to the residual sums."""
    rng = np.random.default_rng(3)
    n_groups, n_clusters, draws = 50, 20, 199
    w = rng.integers(0, 2, (draws, n_clusters)) * 2.0 - 1.0
    row, cl = np.nonzero(np.ones((n_groups, n_clusters), dtype=bool))
    n_c = np.ones(len(row))
    s_c = rng.standard_normal(len(row))
    big_n = np.full(n_groups, float(n_clusters))
    g = np.full(n_groups, float(n_clusters))
    bar = np.abs(rng.standard_normal(n_groups))
    seen: list[int] = []
    exact = cd._exact
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cd, "_exact", lambda w_all, bu, *a: seen.append(len(bu)) or exact(w_all, bu, *a))
        got = cd._grid(w, row, cl, s_c, n_c, big_n, g, bar)
    assert sum(seen) < 0.001 * draws * n_groups
    t = _t_loop(w, row, cl, s_c, n_c, big_n, g)
    np.testing.assert_array_equal(got, (t >= bar).sum(axis=0))

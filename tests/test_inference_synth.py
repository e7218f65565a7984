"""Synthetic :class:`TestInput` builder shared by the ``test_inference_*`` files.

Imported by the sibling test modules (``from test_inference_synth import ...``);
also checks that the builder's arrays are mutually consistent.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from eventstudy.inference import TestInput

EST_T = 60
EVT_W = 7


def make_input(
    n: int = 12,
    t: int = EST_T,
    w: int = EVT_W,
    window: tuple[int, int] = (2, 4),
    seed: int = 0,
    missing: float = 0.05,
    effect: float = 0.0,
    common: float = 0.0,
    overlap: bool = True,
    skew: bool = False,
) -> TestInput:
    """A consistent synthetic cross-section of ``n`` pairs.

    Estimation ARs: ``t`` days per pair (some missing), each pair on its own
    calendar days (start offsets of 0–20 days when ``overlap``, else disjoint
    blocks), with a common factor of weight ``common`` on calendar dates.
    Event window: ``w`` columns, the CAR window is columns ``window[0]`` …
    ``window[1]`` (inclusive). SAR/SCAR use a constant-mean-like variance
    σ²(1 + 1/M) per day and σ²(L + L²/M) per window.
    """
    rng = np.random.default_rng(seed)
    sig = rng.uniform(0.5, 2.0, n)
    start = rng.integers(0, 21, n) if overlap else np.arange(n) * (t + w + 5)
    est_day = start[:, None] + np.arange(t)[None, :]
    span = int(est_day.max()) + w + 1
    factor = rng.standard_normal(span)
    shape = (n, t + w)
    noise = rng.lognormal(0.0, 1.0, shape) - np.exp(0.5) if skew else rng.standard_normal(shape)
    all_day = start[:, None] + np.arange(t + w)[None, :]
    x = sig[:, None] * (np.sqrt(1 - common) * noise + np.sqrt(common) * factor[all_day])
    est = x[:, :t].copy()
    est[rng.random((n, t)) < missing] = np.nan
    est = est - np.nanmean(est, axis=1, keepdims=True)
    evt = x[:, t:].copy()
    lo, hi = window
    evt[:, lo : hi + 1] += effect * sig[:, None]
    evt[rng.random((n, w)) < missing] = np.nan
    m = np.isfinite(est).sum(axis=1)
    s2 = np.nansum(est**2, axis=1) / (m - 1)
    cols = np.arange(w)
    sel = (cols >= lo) & (cols <= hi)
    ar = np.where(sel[None, :], evt, np.nan)
    days = np.isfinite(ar).sum(axis=1)
    car = np.where(days > 0, np.nansum(ar, axis=1), np.nan)
    se = np.sqrt(s2 * (days + days**2 / m))
    sar = ar / np.sqrt(s2 * (1 + 1 / m))[:, None]
    return TestInput(
        car=car,
        se=se,
        days=days,
        dof=(m - 1).astype(float),
        n_est=m.astype(float),
        ar=ar,
        sar=sar,
        est_resid=est,
        est_sar=est / np.sqrt(s2)[:, None],
        est_day=est_day.astype(np.int64),
        seed=7,
        draws=199,
        window_len=np.full(n, hi - lo + 1),
        event_ar=evt,
        # each synthetic pair its own cluster (the cluster tests then equal pair-level ones)
        cluster=np.arange(n, dtype=np.int64),
        dup=np.arange(n, dtype=np.int64),
    )


def replace(inp: TestInput, **kw: object) -> TestInput:
    """A copy of ``inp`` with fields replaced and fresh caches."""
    fields = {f.name: getattr(inp, f.name) for f in dataclasses.fields(inp) if f.init}
    fields["cache"] = {}
    fields.update(kw)
    return TestInput(**fields)


def permute(inp: TestInput, order: np.ndarray) -> TestInput:
    """``inp`` with its pairs reordered by ``order``."""
    kw: dict[str, object] = {}
    for f in dataclasses.fields(inp):
        v = getattr(inp, f.name)
        if f.init and isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == len(inp.car):
            kw[f.name] = v[order]
    return replace(inp, **kw)


def scale(inp: TestInput, c: float) -> TestInput:
    """``inp`` with every return multiplied by ``c`` > 0 (standardized arrays unchanged)."""
    ev = inp.event_ar
    return replace(
        inp,
        car=inp.car * c,
        se=inp.se * c,
        ar=inp.ar * c,
        est_resid=inp.est_resid * c,
        event_ar=None if ev is None else ev * c,
    )


def test_builder_is_consistent() -> None:
    inp = make_input(seed=3)
    np.testing.assert_allclose(np.nansum(inp.ar, axis=1), inp.car)
    assert inp.event_ar is not None
    both = np.isfinite(inp.ar)
    np.testing.assert_array_equal(inp.event_ar[both], inp.ar[both])
    np.testing.assert_allclose(np.nanmean(inp.est_resid, axis=1), 0.0, atol=1e-12)
    perm = permute(inp, np.arange(len(inp.car))[::-1])
    np.testing.assert_array_equal(perm.car, inp.car[::-1])


def test_windows_on_the_same_estimation_arrays_share_one_memo() -> None:
    import dataclasses as dc

    from eventstudy.inference.crosscorr import group_rbar

    a = make_input(seed=1)
    b = dc.replace(a, car=a.car * 2)  # another window of the same study
    assert b.cache is a.cache
    rbar = group_rbar(a, np.arange(12)).rbar
    assert group_rbar(b, np.arange(12)).rbar == rbar
    # new estimation arrays: the same series in reverse order
    other = dc.replace(a, est_resid=a.est_resid[::-1].copy(), est_day=a.est_day[::-1].copy())
    assert other.cache is not a.cache
    assert group_rbar(other, np.arange(12)).rbar == pytest.approx(rbar)  # same pairs, reordered rows
    fresh = dc.replace(a, est_resid=np.random.default_rng(0).standard_normal(a.est_resid.shape))
    assert group_rbar(fresh, np.arange(12)).rbar != pytest.approx(rbar)

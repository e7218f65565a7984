"""One-day windows' Var(CAR) from their one column (``Model.columnwise_variance``).

For a model whose ``car_variance`` is a sum of per-day terms, the engine
passes a one-day window's column alone (P×1) instead of a P×W selector with
zeros elsewhere. The variances must be those of the full selector bit for
bit, and Var(AR_τ) = σ²(k_τ + x_τ'(X'X)⁻¹x_τ) of each pair's own OLS fit
(a plain loop over pairs with numpy's least squares here).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import build_synthetic, random_event_records
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy import EventStudy
from eventstudy.engine import compute
from eventstudy.models import Model


def _study(seed: int, model: str, drop: int = 15, **kw: object) -> EventStudy:
    dates = pd.bdate_range("2019-01-01", periods=500).as_unit("ns")
    recs = random_event_records(np.random.default_rng(seed), dates, 10, lo=60)
    syn = build_synthetic(
        seed=seed, symbols=("AAA", "BBB", "CCC"), n_days=500, records=recs, drop={"BBB": drop}
    )
    return EventStudy(
        syn.events,
        syn.prices,
        model=model,
        benchmark="MKT",
        min_estimation=60,
        window=(-3, 4),
        car_windows=[(-1, 1), (0, 2)],
        **kw,
    )


def _both(study: EventStudy, monkeypatch: pytest.MonkeyPatch) -> tuple[np.ndarray, np.ndarray]:
    """``car_se`` of every engine window: the one-column path, then the full selector."""
    panel = study._bound_panel()
    model = study.model
    cfg = replace(study.config, car_windows=study.engine_windows())
    fast = compute(panel, cfg, model)
    monkeypatch.setattr(type(model), "columnwise_variance", False)
    slow = compute(panel, cfg, model)
    return fast.car_se, slow.car_se


_MODELS = [
    ("market", {}),
    ("constant-mean", {}),
    ("market-adjusted", {}),
    ("market", {"calendar": "XNYS"}),  # sessions missing from the data: k-session returns
]


@pytest.mark.parametrize(("model", "kw"), _MODELS)
def test_one_column_equals_the_full_selector(model: str, kw: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    study = _study(3, model, **kw)
    assert type(study.model).columnwise_variance
    fast, slow = _both(study, monkeypatch)
    assert fast.dtype == slow.dtype and fast.shape == slow.shape
    np.testing.assert_array_equal(fast, slow)
    assert np.isfinite(fast).any()


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), drop=st.integers(0, 40), constant=st.booleans())
def test_one_column_equals_the_full_selector_any_data(seed: int, drop: int, constant: bool) -> None:
    study = _study(seed, "constant-mean" if constant else "market", drop=drop)
    with pytest.MonkeyPatch.context() as mp:
        fast, slow = _both(study, mp)
    np.testing.assert_array_equal(fast, slow)


def test_models_that_depend_on_the_column_keep_the_full_selector() -> None:
    """GARCH forecasts by horizon (the column matters) and the lagged designs are not flagged."""
    from eventstudy.models.garch import Garch
    from eventstudy.models.lagged import _Lagged

    assert not Model.columnwise_variance
    assert not Garch.columnwise_variance and not _Lagged.columnwise_variance


def test_one_day_variance_against_each_pairs_own_ols() -> None:
    """Var(AR_τ) = σ²(1 + x'(X'X)⁻¹x), x = [1, R_m,τ], from a least-squares fit of each pair."""
    study = _study(5, "market")
    panel = study._bound_panel()
    cfg = replace(study.config, car_windows=study.engine_windows())
    out = compute(panel, cfg, study.model)
    e_lo, e_hi = cfg.estimation
    used_all = study.model.window_sums(panel).used
    n_car = len(study.config.car_windows)
    checked = 0
    for i, b in enumerate(panel.base_all[out.keep][:12]):
        pos = np.arange(b + e_lo, b + e_hi + 1)
        pos = pos[used_all[pos]]
        X = np.column_stack([np.ones(len(pos)), panel.B[pos]])
        coef, *_ = np.linalg.lstsq(X, panel.R[pos], rcond=None)
        sigma2 = np.sum((panel.R[pos] - X @ coef) ** 2) / (len(pos) - 2)
        inv = np.linalg.inv(X.T @ X)
        for c, (t1, t2) in enumerate(cfg.car_windows[n_car:], start=n_car):
            assert t1 == t2
            day = b + t1
            if not np.isfinite(panel.R[day] - panel.B[day]):
                assert np.isnan(out.car_se[i, c])
                continue
            x = np.array([1.0, panel.B[day]])
            assert out.car_se[i, c] ** 2 == pytest.approx(sigma2 * (1.0 + x @ inv @ x), rel=1e-9)
            checked += 1
    assert checked > 50

"""Factor model: OLS on any number of factor series, with non-synchronous lags.

R_t = α + Σ_f Σ_s b_{f,s} F_{f,t−s} + ε_t, fitted by OLS on the estimation
window of every pair at once from window sums of the cross-moments of
``[k, F_1 … F_K, R]`` (:mod:`eventstudy.gram`): one Gram matrix per pair, one
batched solve, no loop over pairs. The factors are any series of the prices
(a world index, a regional index, an exchange rate, a commodity) and are
regressors, not markets under study. σ² = SSR / (M − 1 − K) with K the
factor terms estimated for the pair; the AR subtracts every term and
Var(CAR) = γ'Vγ = σ²(γ'γ + g'(X'X)⁻¹g), g = X*'γ, for the full design
(Campbell, Lo and MacKinlay 1997, §4.4; formula sheet §5.1–5.2). The
multi-factor form follows Fama and French (1993) with the user's own series.

Each factor's return is measured over exactly the market's return interval
(its last close on or before each market price date, as for the benchmark;
:mod:`eventstudy.returns`). Non-synchronous closes are handled per factor as
for the market model's benchmark (formula sheet §6.1, :mod:`eventstudy.sync`):

* default (no ``beta``, ``lags`` or ``leads``): a factor whose calendar closes
  after the market's (New York against Hong Kong or Europe) also enters with
  its return lagged one session (Dimson 1979) for that market;
* ``beta="dimson"`` with ``lags``/``leads``: every factor enters with those
  lags and leads for every market;
* ``beta="ols"``: same-date returns only.

A return spanning k sessions has the intercept regressor k, the factors'
returns over the same span, and variance kσ² (Maynes and Rumsey 1993;
formula sheet §6.3). Coefficients are named by factor in ``fits.csv``:
``b_ACWI``, ``b_ACWI_lag1``, ``b_ACWI_lead1``, and ``b_ACWI_sum`` (the
Dimson sum) where a factor has lags or leads; a term a market does not use
is empty.

The benchmark and the factors: with ``model="factor"`` a ``benchmark``, when
given, is the first factor (added in front of ``factors`` unless already
listed), so ``factor`` with only a benchmark is the market model; see
:func:`factor_list`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from .base import Fit
from .lagged import _Lagged, gram_ols

if TYPE_CHECKING:
    from ..config import StudyConfig
    from ..events import Events
    from ..gram import GramSums, GramWindow
    from ..panel import Panel
    from ..sources.base import Prices

__all__ = ["FactorModel", "factor_list", "term_name"]

Column = tuple[str, int]


def factor_list(factors: tuple[str, ...], benchmark: str | None) -> tuple[str, ...]:
    """The factors of a study: the benchmark (when given) first, then ``factors``, each once."""
    return tuple(dict.fromkeys(((benchmark,) if benchmark else ()) + tuple(factors)))


def term_name(factor: str, shift: int) -> str:
    """Name of the coefficient on ``factor``'s return shifted by ``shift`` sessions (``b_ACWI_lag1``)."""
    if shift == 0:
        return f"b_{factor}"
    return f"b_{factor}_lag{shift}" if shift > 0 else f"b_{factor}_lead{-shift}"


class FactorModel(_Lagged):
    """OLS factor model on the factor series of the prices (see the module).

    Parameters
    ----------
    factors : tuple of str
        Factor symbols (columns of the prices), in the order of the terms.
    shifts : tuple of int
        Shifts of every factor's return (0 same date, s > 0 lag s, s < 0 lead −s).
    later : bool
        Only the factors that close after a market get the shifts other than 0
        for that market (the default alignment); otherwise every factor gets
        every shift.
    """

    name = "factor"
    needs_benchmark = False
    description = "α + Σ b × factor returns (--factors), OLS; Dimson lags per factor on another clock"

    def __init__(
        self, factors: tuple[str, ...] = (), shifts: tuple[int, ...] = (0,), later: bool = False
    ) -> None:
        super().__init__(tuple(shifts) or (0,), True if later else None)
        self.factors = tuple(factors)
        self.columns: tuple[Column, ...] = tuple((f, s) for f in self.factors for s in self.shifts)
        self.active = np.ones((0, len(self.columns)), dtype=bool)
        self.alignment_table: dict[str, Any] = {}
        self._names()

    def _names(self) -> None:
        terms = [term_name(f, s) for f, s in self.columns]
        multi = [f for f in self.factors if sum(c[0] == f for c in self.columns) > 1]
        self.param_names = ("alpha", *terms, *(f"b_{f}_sum" for f in multi))  # type: ignore[misc]
        self.dof_loss = 1 + len(self.columns)  # type: ignore[misc]

    # ---------------------------------------------------------------- data
    def bind(
        self, panel: Panel, prices: Prices, events: Events, cfg: StudyConfig
    ) -> tuple[FactorModel, Panel]:
        """The model with its terms and the panel with the factor returns (``BX``, one row per term).

        Each factor's returns are aligned on each market's session grid (once
        per distinct grid); a term a market does not use is 0 in its block,
        so it neither enters that market's fit nor restricts its sample.
        """
        from ..markets import calendar_for
        from ..panel import market_sessions
        from ..returns import align_dates
        from ..sync import close_gap_hours

        fsess = {f: market_sessions(f, prices[f], events, cfg.calendar) for f in self.factors}
        want = tuple(dict.fromkeys((0, *self.shifts)))
        grids: dict[tuple[Any, ...], tuple[dict[str, dict[int, np.ndarray]], np.ndarray]] = {}
        per_block: list[tuple[dict[str, dict[int, np.ndarray]], np.ndarray]] = []
        for m in panel.markets:
            close = prices[m.symbol]
            key = (calendar_for(m.symbol, cfg.calendar).code, np.asarray(close.index.asi8).tobytes())
            hit = grids.get(key)
            if hit is None:
                sess = market_sessions(m.symbol, close, events, cfg.calendar)
                rets = {
                    f: align_dates(close.index, sess, cfg.returns, prices[f], want).shifted
                    for f in self.factors
                }
                gaps = np.array([_gap(close_gap_hours(sess, fsess[f])) for f in self.factors])
                hit = grids[key] = (rets, gaps)
            per_block.append(hit)
        for f in self.factors:
            if not any(np.nan_to_num(h[0][f][0]).any() for h in grids.values()):
                raise InputError(
                    f"factors: '{f}' does not move over the markets' dates (returns all 0 or missing); "
                    "drop it from --factors"
                )
        gaps_all = np.array([h[1] for h in per_block]).reshape(len(per_block), len(self.factors))
        later = np.nan_to_num(gaps_all, nan=0.0) > 0.0
        model = self
        if self.only_later:  # default alignment: lag terms only for factors that close after some market
            keep = [c for c in self.columns if c[1] == 0 or later[:, self.factors.index(c[0])].any()]
            if len(keep) != len(self.columns):
                model = FactorModel(self.factors, self.shifts, later=True)
                model.columns = tuple(keep)
                model._names()
        cols = model.columns
        fidx = [self.factors.index(f) for f, _ in cols]
        active = np.ones((len(per_block), len(cols)), dtype=bool)
        if self.only_later:
            for j, (_f, s) in enumerate(cols):
                if s != 0:
                    active[:, j] = later[:, fidx[j]]
        BX = np.full((len(cols), len(panel.R)), np.nan)
        for k, (rets, _) in enumerate(per_block):
            o = int(panel.offsets[k])
            for j, (f, s) in enumerate(cols):
                v = rets[f][s]
                BX[j, o : o + len(v)] = v if active[k, j] else 0.0
        model.active = active
        model.alignment_table = _describe(
            panel, self.factors, {f: fsess[f].code for f in self.factors}, cols, active, gaps_all
        )
        shown = tuple(range(len(cols)))
        return model, replace(panel, BX=BX, shifts=shown, later=later.any(axis=1))

    def window_sums(self, panel: Panel) -> GramSums:
        from ..gram import gram_sums

        key = f"_gram_factor_{self.columns}"
        hit = panel.__dict__.get(key)
        if hit is None:
            if panel.BX is None or len(self.active) != len(panel.starts):
                raise ValueError("factor: the panel holds no factor returns; call FactorModel.bind first")
            rows = np.arange(len(self.columns), dtype=np.int64)
            hit = panel.__dict__[key] = gram_sums(panel, rows, self.active)
        return hit

    def regressors(self, panel: Panel, idx: np.ndarray, base: np.ndarray) -> np.ndarray:
        """The factor terms (P, W, K) at long-array positions ``idx`` (0 for a term a market does not use)."""
        assert panel.BX is not None
        return np.moveaxis(panel.BX[:, idx], 0, -1)

    # ---------------------------------------------------------------- fit
    def fit_sums(self, w: GramWindow) -> Fit:
        """OLS of every pair from its Gram matrix; per-factor sums of the lag terms."""
        ols = gram_ols(w)
        shown = np.where(w.active, ols.beta, np.nan)
        sums = [
            ols.beta[:, [j for j, c in enumerate(self.columns) if c[0] == f]].sum(axis=1)
            for f in self.factors
            if sum(c[0] == f for c in self.columns) > 1
        ]
        params = np.column_stack([ols.alpha, shown, *sums])
        params[~ols.ok] = np.nan
        return ols.fit(params)

    def alignment(self) -> dict[str, Any]:
        """Per market and factor: the clocks and the terms used (for ``study.json`` and the report)."""
        return self.alignment_table


def _gap(h: float | None) -> float:
    return np.nan if h is None else h


def _describe(
    panel: Panel,
    factors: tuple[str, ...],
    codes: dict[str, str | None],
    cols: tuple[Column, ...],
    active: np.ndarray,
    gaps: np.ndarray,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, m in enumerate(panel.markets):
        rec: dict[str, Any] = {}
        for i, f in enumerate(factors):
            g = gaps[k, i]
            if not np.isfinite(g):
                clocks = "closing times unknown (a series without an exchange calendar): same-date returns"
            elif g > 0:
                clocks = f"{f} closes {g:.2f} h after the market"
            elif g < 0:
                clocks = f"{f} closes {-g:.2f} h before the market"
            else:
                clocks = f"{f} closes with the market"
            terms = [term_name(f, s) for j, (ff, s) in enumerate(cols) if ff == f and active[k, j]]
            rec[f] = {
                "factor_calendar": codes[f],
                "close_after_hours": None if not np.isfinite(g) else round(float(g), 2),
                "closes_later": bool(np.isfinite(g) and g > 0),
                "clocks": clocks,
                "terms": terms,
            }
        out[m.symbol] = {"calendar": m.sessions.code, "factors": rec}
    return out

"""The arguments of :class:`~eventstudy.study.EventStudy` checked at the boundary, before any work.

The configuration itself is checked by :class:`~eventstudy.config.StudyConfig`;
here the names it shares with the data: the covariates must be usable
columns of the events, the benchmark and the factor series must be in the
prices, a factor must not also be a market under study, every market must be
in the prices, there must be events, and the events' ``symbols`` must name
known markets. Each failure is an :class:`~eventstudy.errors.InputError` (an
:class:`~eventstudy.errors.EventsFileError` for the events' columns) naming
the argument.
"""

from __future__ import annotations

from collections.abc import Sequence

from .config import StudyConfig
from .errors import InputError
from .events import Events
from .markets import MARKETS
from .sources.base import Prices

__all__ = ["check_covariates", "regressors", "study_symbols"]


def check_covariates(events: Events, cfg: StudyConfig) -> None:
    """Fail on a covariate that is unknown, non-numeric, mostly empty or constant (see
    :func:`eventstudy.analysis.covariates.covariate_frame`)."""
    if cfg.covariates:  # an unknown, non-numeric or empty column fails before any work
        from .analysis.covariates import covariate_frame

        covariate_frame(events, cfg.covariates)


def regressors(cfg: StudyConfig) -> list[str]:
    """The factor series of the factor model (the benchmark first, when given); else none."""
    from .models import factor_list

    return list(factor_list(cfg.factors, cfg.benchmark)) if cfg.model == "factor" else []


def study_symbols(
    cfg: StudyConfig,
    events: Events,
    prices: Prices,
    symbols: Sequence[str] | None,
    mask_events: Events | None,
) -> list[str]:
    """The markets to study, checked against the prices and the events.

    Parameters
    ----------
    cfg : StudyConfig
    events, prices : Events, Prices
    symbols : sequence of str, optional
        The markets asked for; default every symbol in ``prices`` but the
        benchmark and the factors. Duplicates are dropped (first kept).
    mask_events : Events, optional
        The events whose windows are masked, when not ``events``.

    Returns
    -------
    list of str

    Raises
    ------
    InputError
        When the benchmark, a factor or a market is not in the prices, a
        factor is also a market, no market or no event is left.
    EventsFileError
        When the events' ``symbols`` column names an unknown market.
    """
    if cfg.benchmark is not None and cfg.benchmark not in prices:
        raise InputError(
            f"benchmark: '{cfg.benchmark}' is not in the prices; available: {', '.join(prices.symbols)}"
        )
    factors = regressors(cfg)
    for f in factors:
        if f not in prices:
            raise InputError(f"factors: '{f}' is not in the prices; available: {', '.join(prices.symbols)}")
    if symbols is None:
        symbols = [s for s in prices.symbols if s != cfg.benchmark and s not in factors]
    symbols = list(dict.fromkeys(symbols))
    both = [s for s in symbols if s in factors]
    if both:
        raise InputError(
            f"factors: '{both[0]}' is also a market under study; a factor is a regressor, "
            "drop it from --symbols or --factors"
        )
    if not symbols:
        raise InputError("symbols: no market to study; pass --symbols")
    missing = [s for s in symbols if s not in prices]
    if missing:
        raise InputError(
            f"symbols: {', '.join(missing)} not in the prices; available: {', '.join(prices.symbols)}"
        )
    if len(events) == 0:
        raise InputError("events: no events to study (check the filters)")
    known = set(prices.symbols) | set(MARKETS)
    events.check_symbols(known)
    if mask_events is not None:
        mask_events.check_symbols(known)
    return symbols

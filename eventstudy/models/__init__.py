"""Registry of normal-return models.

``MODELS`` maps each model's name (used by the CLI, the library and every
table) to its class; :func:`register_model` adds one, :func:`get_model`
validates a name at the boundary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import InputError
from .base import Fit, Model
from .factor import FactorModel, factor_list
from .garch import Garch, GarchMarket
from .lagged import Dimson, ScholesWilliams
from .linear import ConstantMean, LinearModel, MarketModel
from .market_adjusted import MarketAdjusted

if TYPE_CHECKING:
    from ..config import StudyConfig
    from ..panel import Panel

__all__ = [
    "MODELS",
    "Dimson",
    "FactorModel",
    "Fit",
    "Garch",
    "GarchMarket",
    "LinearModel",
    "Model",
    "ScholesWilliams",
    "beta_shifts",
    "configured_model",
    "get_model",
    "register_model",
]

MODELS: dict[str, type[Model]] = {}


def register_model(cls: type[Model]) -> type[Model]:
    """Add a model class to the registry under ``cls.name`` (usable as a decorator)."""
    MODELS[cls.name] = cls
    return cls


for _cls in (ConstantMean, MarketAdjusted, MarketModel, FactorModel, Garch):
    register_model(_cls)


def get_model(name: str) -> Model:
    """Instantiate the registered model ``name``.

    Raises
    ------
    InputError
        When ``name`` is not registered; the message lists the valid names.
    """
    try:
        return MODELS[name]()
    except KeyError:
        raise InputError(f"model: '{name}' is not a known model; valid: {', '.join(MODELS)}") from None


def beta_shifts(cfg: StudyConfig) -> tuple[tuple[int, ...], bool]:
    """Benchmark shifts the study's betas need, and whether only for later-closing benchmarks.

    Shift 0 is the same date, ``s > 0`` lag s, ``s < 0`` lead −s (see
    :mod:`eventstudy.returns`). Without ``beta``, ``lags`` or ``leads`` the
    market model takes Dimson betas with one lag for the markets that the
    benchmark closes after (``True`` in the second place); the factor model
    the same per factor.
    """
    if cfg.model not in ("market", "factor") or cfg.beta == "ols":
        return (), False
    if cfg.beta == "scholes-williams":
        return (1, 0, -1), False
    lags = 1 if cfg.lags is None else cfg.lags
    leads = cfg.leads or 0
    shifts = (0, *range(1, lags + 1), *(-j for j in range(1, leads + 1)))
    auto = cfg.beta is None and cfg.lags is None and cfg.leads is None
    return shifts, auto


def configured_model(cfg: StudyConfig, panel: Panel | None = None) -> Model:
    """The normal-return model the study runs on ``panel`` (built with :func:`beta_shifts`).

    The ``market`` model is plain OLS (:class:`MarketModel`), :class:`Dimson`
    or :class:`ScholesWilliams` as ``cfg.beta`` says; by default Dimson with
    one lag when the panel has a market that the benchmark closes after, else
    OLS. ``garch`` has the market mean with a benchmark, the constant mean
    without (:class:`GarchMarket`, :class:`Garch`). The ``factor`` model is a
    :class:`FactorModel` on ``cfg.factors`` (the benchmark first, when given)
    with the same lags per factor.
    """
    if cfg.model == "garch":
        cls = GarchMarket if cfg.benchmark else Garch
        return cls(cfg.estimation, cfg.window)
    shifts, auto = beta_shifts(cfg)
    if cfg.model == "factor":  # the factor series are added by FactorModel.bind
        return FactorModel(factor_list(cfg.factors, cfg.benchmark), shifts or (0,), later=auto)
    if not shifts:
        return get_model(cfg.model)
    if cfg.beta == "scholes-williams":
        return ScholesWilliams()
    if shifts == (0,) or (auto and (panel is None or panel.BX is None)):
        return get_model(cfg.model)
    return Dimson(shifts, later=True if auto else None)

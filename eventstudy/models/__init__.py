"""Registry of normal-return models.

``MODELS`` maps each model's name (used by the CLI, the library and every
table) to its class; :func:`register_model` adds one, :func:`get_model`
validates a name at the boundary.
"""

from __future__ import annotations

from ..errors import InputError
from .base import Fit, Model
from .linear import ConstantMean, LinearModel, MarketModel
from .market_adjusted import MarketAdjusted

__all__ = ["MODELS", "Fit", "LinearModel", "Model", "get_model", "register_model"]

MODELS: dict[str, type[Model]] = {}


def register_model(cls: type[Model]) -> type[Model]:
    """Add a model class to the registry under ``cls.name`` (usable as a decorator)."""
    MODELS[cls.name] = cls
    return cls


for _cls in (ConstantMean, MarketAdjusted, MarketModel):
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

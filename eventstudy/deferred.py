"""Tables of a :class:`~eventstudy.results.StudyResult` built when they are first read.

A study computes the tables that ``run`` must return at once and wraps the
others in :func:`deferred` (see :mod:`eventstudy.studyresult`). The frozen
result keeps those in ``_pending`` (:func:`hold_pending`, from its
``__post_init__``) and builds each on first access (:func:`built_field`,
from its ``__getattr__``), then keeps it like any other field; pickling and
copying build them all first (:func:`built_state`, from its
``__getstate__``). A table is the same whenever it is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

import pandas as pd

__all__ = ["Deferred", "built_field", "built_state", "deferred", "hold_pending"]


class Deferred:
    """A table of a :class:`~eventstudy.results.StudyResult` built when it is first read (see
    :func:`deferred`)."""

    __slots__ = ("_build", "_value")

    def __init__(self, build: Callable[[], pd.DataFrame]) -> None:
        self._build: Callable[[], pd.DataFrame] | None = build
        self._value: pd.DataFrame | None = None

    def get(self) -> pd.DataFrame:
        """The table, built on the first call (which then drops the arrays it was built from)."""
        if self._value is None:
            build = self._build
            if build is not None:  # another thread may be building it too: the same table
                self._value = build()
                self._build = None
        assert self._value is not None
        return self._value


def deferred(build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """``build`` as a value of a table field of a :class:`~eventstudy.results.StudyResult`, called on
    first access.

    A study computes the tables that ``run`` must return at once (CARs,
    manifest) and defers the others (tests without any test chosen, CAAR,
    headlines, volatility, abnormal returns, fits): they are built from the
    study's arrays the first time they are read, with the same code and the
    same numbers, and kept. Typed as a DataFrame for the field it fills.
    """
    return Deferred(build)


def hold_pending(result: Any) -> None:
    """Move the deferred fields of the dataclass ``result`` to ``_pending`` until first read."""
    pending = {f.name: v for f in fields(result) if isinstance(v := result.__dict__.get(f.name), Deferred)}
    if pending:
        for name in pending:
            del result.__dict__[name]
        result.__dict__["_pending"] = pending


def built_state(result: Any) -> dict[str, Any]:
    """The state of ``result`` for pickling and copying: deferred tables are built first (they are not
    portable)."""
    for name in list(result.__dict__.get("_pending", ())):
        getattr(result, name)
    state = dict(result.__dict__)
    state.pop("_pending", None)
    return state


def built_field(result: Any, name: str) -> Any:
    """The deferred table ``name`` of ``result``, built on first access and kept."""
    pending = result.__dict__.get("_pending")
    hit = None if pending is None else pending.get(name)
    if hit is None:
        raise AttributeError(f"{type(result).__name__!r} object has no attribute {name!r}")
    value = hit.get()
    result.__dict__[name] = value
    return value

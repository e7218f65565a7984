"""Shared pieces of the property tests (``test_properties*.py``): settings, strategies, a fast study.

Also statsmodels' ``multipletests`` as a reference with its ``gc.collect()`` made cheap.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
from conftest import Synthetic
from hypothesis import settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from eventstudy import Events, EventStudy, Prices, StudyResult
from eventstudy.config import DEFAULT_CAR_WINDOWS

MODELS = ["constant-mean", "market-adjusted", "market"]
N_DAYS = 400
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)
#: For properties whose example runs several whole studies (0.1–0.2 s an example): fewer drawn
#: examples, and each such test adds explicit ``@example`` cases that pin what a short draw
#: could miss (every model, the smallest and largest sizes its strategies allow).
COSTLY = settings(SETTINGS, max_examples=12)

seeds = st.integers(0, 2**32 - 1)
models = st.sampled_from(MODELS)


@st.composite
def car_windows(draw: st.DrawFn) -> list[tuple[int, int]]:
    """1–4 distinct CAR windows inside the default event window −10…+10."""
    pairs = draw(
        st.lists(
            st.tuples(st.integers(-10, 10), st.integers(-10, 10)).map(lambda p: (min(p), max(p))),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    return pairs


def run(
    syn: Synthetic,
    model: str,
    *,
    prices: Prices | None = None,
    events: Events | None = None,
    symbols: list[str] | None = None,
    cars: list[tuple[int, int]] | None = None,
    tests: tuple[str, ...] = ("csect_t",),
) -> StudyResult:
    """A fast study of ``syn`` (lenient minimum estimation).

    One cross-sectional test by default; properties that never look at the
    tests table pass ``tests=()`` and skip building it.
    """
    return EventStudy(
        events if events is not None else syn.events,
        prices if prices is not None else syn.prices,
        model=model,
        benchmark=None if model == "constant-mean" else syn.benchmark,
        symbols=symbols if symbols is not None else list(syn.symbols),
        min_estimation=50,
        tests=list(tests),
        car_windows=cars if cars else DEFAULT_CAR_WINDOWS,
    ).run()


def day_label(v: int) -> str:
    return f"+{v}" if v > 0 else str(v)


def sorted_by(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return df.sort_values(keys, kind="mergesort").reset_index(drop=True)


@contextmanager
def frozen_gc() -> Iterator[None]:
    """Move the whole heap to the permanent generation while inside (``gc.freeze``).

    statsmodels' Holm calls ``gc.collect()`` on every call, which walks the worker's whole
    heap (0.05–0.6 s a call once a test session has loaded its modules and studies);
    with the heap frozen a collection only sees what was allocated inside.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def multipletests_p(p: np.ndarray, method: str) -> np.ndarray:
    """``multipletests(p, method=method)[1]`` (statsmodels' adjusted p-values), heap frozen."""
    with frozen_gc():
        return multipletests(p, method=method)[1]

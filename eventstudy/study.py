"""EventStudy: a configuration that runs into a :class:`~eventstudy.results.StudyResult`.

The arguments are checked when the study is made (:mod:`eventstudy.config`,
:mod:`eventstudy.studyargs`); :meth:`EventStudy.run` builds the panel, runs
the engine chunk by chunk (:mod:`eventstudy.chunks`) and hands its output to
:func:`~eventstudy.studyresult.assemble_result`.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import replace

import numpy as np
import pandas as pd

from .assembly import WINDOW_ARRAYS, estimation_sar, group_labels, window_inputs, window_major
from .chunks import compute_chunks
from .config import DEFAULT_CAR_WINDOWS, StudyConfig, Window
from .engine import DETAILS, Detail, EngineOutput
from .errors import DataError, InputError
from .events import Events
from .frames import as_events, as_prices
from .inference import TestInput, get_tests
from .models import beta_shifts, configured_model
from .pages import small_pages
from .pairclusters import pair_clusters
from .panel import Panel, build_panel
from .results import StudyResult
from .sources.base import Prices
from .studyargs import check_covariates, regressors, study_symbols
from .studymanifest import events_not_studied
from .studyresult import assemble_result
from .studytables import day_windows
from .studytests import TEST_THREADS as TEST_THREADS

__all__ = ["EventStudy", "DAILY_MARKETS"]

#: Largest number of markets for which the per-day (single-day window) tests
#: are also reported market by market.
DAILY_MARKETS = 50


class EventStudy:
    """An event study of ``events`` on the markets in ``prices``.

    Parameters
    ----------
    events : Events or DataFrame
        The events to study (see :func:`~eventstudy.read_events`), or a
        DataFrame with the columns of ``events.csv``, validated exactly like
        the file (errors name the row; see :mod:`eventstudy.frames`).
    prices : Prices or DataFrame
        Daily closes (see :func:`~eventstudy.load_prices`), or a DataFrame:
        wide (a ``DatetimeIndex``, one column per symbol) or long (columns
        ``date, symbol, close``).
    model : {"constant-mean", "market-adjusted", "market", "garch"}
        Normal-return model (a name in :data:`eventstudy.models.MODELS`).
    benchmark : str, optional
        Benchmark symbol in ``prices`` (required by ``market`` and
        ``market-adjusted``; gives ``garch`` the market mean).
    estimation, window : (int, int)
        Estimation window (default −250…−11) and event window (default
        −10…+10), in the market's own sessions relative to day 0.
    car_windows : sequence of (int, int)
        CAR windows (default [0,0], [0,+1], [−1,+1], [−5,+5]).
    returns : {"simple", "log"}
    symbols : sequence of str, optional
        Markets to study; default every symbol in ``prices`` but the benchmark.
    mask : (int, int)
        Sessions around other events masked out of estimation (default −1…+1).
    mask_events : Events or DataFrame, optional
        Events whose windows are masked (default ``events``; the CLI passes
        the whole file so that filtered-out events still count as confounders).
    min_estimation : int
        Minimum estimation observations per pair (default 100).
    seed : int
        Seed of resampling tests.
    name : str, optional
        Study name (output folder).
    calendar : str, sequence of str or mapping, optional
        Exchange calendars of symbols the registry does not know: ``"XHKG"``
        for all of them, ``"HSI=XHKG"`` or ``{"HSI": "XHKG"}`` per symbol, or
        a list of both (see :func:`eventstudy.markets.calendar_for`). Usual
        aliases of registry indices (``HSI``, ``SX5E``, ``DAX``, …) take their
        calendar with a note in the manifest; a symbol left without one, when
        events carry a time, gets a warning (``StudyResult.warnings``).
    tests : sequence of str, optional
        Tests to run (default: every registered test).
    gaps : {"keep", "drop"}
        Keep (default, and mark) or drop returns spanning several sessions.
    draws : int
        Draws of the resampling tests (default 999).
    beta : {"ols", "dimson", "scholes-williams"}, optional
        Betas of the ``market`` model (default: Dimson with one lag for the
        markets that the benchmark closes after, OLS for the others; see
        :mod:`eventstudy.sync`). After :meth:`run`, ``model`` is the model as
        run.
    lags, leads : int, optional
        Benchmark lags (default 1) and leads (default 0) of Dimson betas
        (of every factor with ``model="factor"``).
    factors : sequence of str, optional
        Factor series of ``model="factor"`` (symbols in ``prices``; regressors,
        not markets under study). A ``benchmark`` given with the factor
        model is its first factor (see :mod:`eventstudy.models.factor`).
    covariates : sequence of str, optional
        Extra numeric columns of the events for the second-stage regression
        (checked here: an unknown, non-numeric, mostly empty or constant
        column is an :class:`~eventstudy.errors.EventsFileError` naming it).
    """

    def __init__(
        self,
        events: Events | pd.DataFrame,
        prices: Prices | pd.DataFrame,
        model: str = "constant-mean",
        benchmark: str | None = None,
        estimation: Window = (-250, -11),
        window: Window = (-10, 10),
        car_windows: Sequence[Window] = DEFAULT_CAR_WINDOWS,
        returns: str = "simple",
        symbols: Sequence[str] | None = None,
        mask: Window = (-1, 1),
        mask_events: Events | pd.DataFrame | None = None,
        min_estimation: int = 100,
        seed: int = 12345,
        name: str | None = None,
        calendar: str | Sequence[str] | Mapping[str, str] | None = None,
        tests: Sequence[str] | None = None,
        gaps: str = "keep",
        draws: int = 999,
        beta: str | None = None,
        lags: int | None = None,
        leads: int | None = None,
        covariates: Sequence[str] = (),
        factors: Sequence[str] | str | None = None,
    ) -> None:
        events = as_events(events)
        prices = as_prices(prices)
        mask_events = None if mask_events is None else as_events(mask_events, "mask_events")
        self.config = StudyConfig(
            model=model,
            benchmark=benchmark,
            estimation=estimation,
            window=window,
            car_windows=tuple(car_windows),
            returns=returns,  # type: ignore[arg-type]
            mask=mask,
            min_estimation=min_estimation,
            seed=seed,
            name=name,
            calendar=calendar,
            gaps=gaps,  # type: ignore[arg-type]
            draws=draws,
            beta=beta,  # type: ignore[arg-type]
            lags=lags,
            leads=leads,
            covariates=tuple(covariates) if not isinstance(covariates, str) else (covariates,),
            factors=tuple([factors] if isinstance(factors, str) else factors or ()),
        )
        check_covariates(events, self.config)
        self.model = configured_model(self.config)
        symbols = study_symbols(self.config, events, prices, symbols, mask_events)
        self.events = events
        self.prices = prices
        self.symbols = symbols
        self.mask_events = mask_events if mask_events is not None else events
        self.test_specs = get_tests(list(tests) if tests is not None else None)
        self._stream: tuple[int, Executor | None] = (20_000, None)

    def _bound_panel(self) -> Panel:
        """The study's panel, with the model configured for it and bound to it (sets ``self.model``)."""
        cfg = self.config
        shifts, auto = beta_shifts(cfg)
        panel = build_panel(
            self.events,
            self.prices,
            self.symbols,
            cfg,
            self.mask_events,
            self.model.needs_benchmark,
            shifts=shifts,
            sync=self.model.sync_benchmark,
            shifts_if_later=auto,
        )
        self.model, panel = configured_model(cfg, panel).bind(panel, self.prices, self.events, cfg)
        return panel

    def run(
        self, executor: Executor | None = None, chunk_size: int = 20_000, detail: Detail = "full"
    ) -> StudyResult:
        """Compute the study.

        Parameters
        ----------
        executor : concurrent.futures.Executor, optional
            Where to run the computation (a process pool, a Dask client's
            ``get_executor()``…); in-process when omitted. Results do not
            depend on the executor.
        chunk_size : int
            Pairs per chunk of work (bounds memory; default 20,000).
        detail : {"full", "pairs"}
            ``"full"`` (default) builds every table. ``"pairs"`` is for
            universe-scale studies (a million pairs): the engine keeps only
            per-pair results, chunk by chunk, so neither the long
            abnormal-returns table nor any pairs × days array is built.
            ``car()``, ``fits`` and the CAAR table are complete and
            identical to ``"full"``; ``abnormal_returns`` is empty. The tests
            needing no estimation-window data run as in ``"full"``; those
            that read it (``cda_t``, ``corrado_rank``, ``grank_t``,
            ``gen_sign_z``, ``placebo``) are accumulated chunk by chunk: the
            chunks are computed a second time, with the same ``chunk_size``
            and ``executor``, and only each test's group sums are kept (see
            :mod:`eventstudy.streamtests`; equal to ``"full"`` up to the order
            of floating-point additions). ``kp_bmp_t`` and ``kp_patell_z``
            cannot be accumulated that way and are left out; the manifest
            lists the tests run. Per-market return series are not
            kept (``event_dummies()`` needs a ``"full"`` run), the placebo
            distributions table is empty, and the report
            leaves out the charts drawn from abnormal returns (CAAR paths,
            daily ARs of an event) and says so. The manifest's parameters
            record ``"detail": "pairs"``.

        Returns
        -------
        StudyResult

        Raises
        ------
        InputError
            When ``detail`` is not one of ``"full"``, ``"pairs"``.
        DataError
            When every pair is excluded (the message gives the reasons).
        """
        if detail not in DETAILS:
            raise InputError(f"detail: expected one of {', '.join(map(repr, DETAILS))}, got {detail!r}")
        with small_pages():  # numpy's huge-page advice off while the study runs (eventstudy.pages)
            return self._run(executor, chunk_size, detail)

    def _run(self, executor: Executor | None, chunk_size: int, detail: Detail) -> StudyResult:
        """:meth:`run` once its arguments are checked."""
        cfg = self.config
        panel = self._bound_panel()
        if len(panel.pairs) == 0:
            raise DataError("no event applies to the chosen markets (check the events' symbols column)")
        study = self if detail == "full" else self._per_pair_only(chunk_size, executor)
        ecfg = replace(cfg, car_windows=self.engine_windows())
        need_resid = any(spec.uses_estimation for spec in study.test_specs)
        chunk_size = min(chunk_size, self.model.chunk_pairs or chunk_size)  # per-pair fits: small chunks
        # without tests, the single-day windows serve only tables built when read: computed then
        # (fits from window sums, in this process; see day_windows)
        n_car = len(cfg.car_windows)
        later = (
            detail == "full"
            and executor is None
            and self.model.from_sums
            and not study.test_specs
            and len(ecfg.car_windows) > n_car
        )
        first = replace(cfg, car_windows=ecfg.car_windows[:n_car]) if later else ecfg
        # t and p of the CAR windows only: the car table's (nothing reads the single days')
        stats = n_car
        out = compute_chunks(panel, first, self.model, chunk_size, executor, need_resid, detail, stats)
        if len(out.keep) == 0:
            reasons = pd.Series(out.reasons(panel.pairs)).value_counts()
            top = "; ".join(f"{n} × {r}" for r, n in reasons.items())
            raise DataError(f"every event×market pair was excluded: {top}")
        for name in WINDOW_ARRAYS:  # the tests and tables read one window at a time
            out = window_major(out, name)
        days = None
        if later:
            days = functools.partial(day_windows, panel, ecfg, self.model, chunk_size, out, n_car)
        res = assemble_result(study, panel, out, days)
        manifest = res.manifest  # the result's own dict, completed here (no copy: its tables stay deferred)
        if detail != "full":
            manifest["parameters"] = dict(manifest["parameters"]) | {"detail": detail}
        manifest["events_not_studied"] = events_not_studied(self.events, self.symbols)
        return res

    def _reference_series(self) -> list[str]:
        """The benchmark and the factors: the series the study reads besides its markets."""
        cfg = self.config
        return list(dict.fromkeys(([cfg.benchmark] if cfg.benchmark else []) + regressors(cfg)))

    def _per_pair_only(self, chunk_size: int, executor: Executor | None) -> EventStudy:
        """A shallow copy of this study for ``detail="pairs"``.

        It runs the tests needing no estimation data, and those accumulated
        chunk by chunk (:data:`eventstudy.streamtests.STREAMED`), whose chunks
        are computed again with ``chunk_size`` on ``executor``.
        """
        from .streamtests import STREAMED

        light = copy.copy(self)
        light.test_specs = [s for s in self.test_specs if not s.uses_estimation or s.name in STREAMED]
        light._stream = (chunk_size, executor)
        return light

    def engine_windows(self) -> tuple[Window, ...]:
        """The CAR windows, then one single-day window per event-window day.

        Single-day windows give the per-day AAR and its tests (``d:d`` in
        ``tests.csv``); like every window ending at or after day 0 they are
        extended for pairs whose day 0 is uncertain.
        """
        cfg = self.config
        days = tuple((d, d) for d in range(cfg.window[0], cfg.window[1] + 1))
        return tuple(dict.fromkeys(cfg.car_windows + days))

    # ------------------------------------------------------------- test inputs
    def _clusters(self, panel: Panel, out: EngineOutput, kept: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per pair and engine window: cluster id and exact-duplicate key (see :func:`pair_clusters`)."""
        return pair_clusters(panel, out.car, out.car_ext, kept, self.engine_windows())

    def _test_inputs(
        self,
        panel: Panel,
        out: EngineOutput,
        kept: pd.DataFrame,
        clusters: np.ndarray | None = None,
        dups: np.ndarray | None = None,
    ) -> tuple[dict[str, TestInput], dict[str, np.ndarray]]:
        """The test input of every engine window and the group labels of the pairs."""
        if clusters is None or dups is None:
            clusters, dups = self._clusters(panel, out, kept)
        evt_days = panel.dates[out.evt_idx].astype("datetime64[D]").astype(np.int64)
        cols = range(len(self.engine_windows()))
        inputs = window_inputs(self, out, cols, clusters, dups, estimation_sar(out), evt_days)
        return inputs, group_labels(self, kept)

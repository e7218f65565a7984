"""EventStudy: a configuration that runs into a :class:`~eventstudy.results.StudyResult`."""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from .align import calendar_notes
from .assembly import WINDOW_ARRAYS, StudyParts, estimation_sar, group_labels, window_inputs, window_major
from .cartable import car_table, overlap_ids
from .chunks import compute_chunks, release_engine_caches
from .config import DEFAULT_CAR_WINDOWS, StudyConfig, Window, format_window
from .engine import DETAILS, Detail, EngineOutput
from .errors import DataError, InputError
from .events import Events
from .frames import as_events, as_prices
from .heap import trim_heap
from .inference import TestInput, get_tests
from .inference.headline import headline_of
from .inference.runner import TRIM_PAIRS, run_tests
from .inference.volatility import pair_ratio, volatility_table
from .manifest import build_manifest
from .markets import MARKETS
from .models import beta_shifts, configured_model
from .pairclusters import pair_clusters
from .panel import Panel, build_panel
from .quality import quality_reports
from .results import StudyResult, deferred
from .returns import ReturnFrames
from .sources.base import Prices
from .studytables import ar_table, caar_of, date_ranges, day_windows, finished_tests, robust_of

__all__ = ["EventStudy", "DAILY_MARKETS"]

#: Threads running the tests of different windows at once (results do not
#: depend on it; the array work releases the GIL).
TEST_THREADS = min(2, os.cpu_count() or 1)

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
        if self.config.covariates:  # an unknown, non-numeric or empty column fails before any work
            from .analysis.covariates import covariate_frame

            covariate_frame(events, self.config.covariates)
        self.model = configured_model(self.config)
        if self.config.benchmark is not None and self.config.benchmark not in prices:
            raise InputError(
                f"benchmark: '{self.config.benchmark}' is not in the prices; "
                f"available: {', '.join(prices.symbols)}"
            )
        regressors = self._regressors()
        for f in regressors:
            if f not in prices:
                raise InputError(
                    f"factors: '{f}' is not in the prices; available: {', '.join(prices.symbols)}"
                )
        if symbols is None:
            symbols = [s for s in prices.symbols if s != self.config.benchmark and s not in regressors]
        symbols = list(dict.fromkeys(symbols))
        both = [s for s in symbols if s in regressors]
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
        # with detail="pairs", t and p of the CAR windows only (the car table's; not the single days')
        stats = n_car if detail == "pairs" else None
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
        res = study._assemble(panel, out, days)
        manifest = res.manifest  # the result's own dict, completed here (no copy: its tables stay deferred)
        if detail != "full":
            manifest["parameters"] = dict(manifest["parameters"]) | {"detail": detail}
        # events restricted (``symbols`` column) to markets outside the study: counted, not silent
        applies = np.zeros(len(self.events), dtype=bool)
        for sym in self.symbols:
            applies |= self.events.applies_to(sym)
            if applies.all():  # every event is studied somewhere
                break
        manifest["events_not_studied"] = [e for e, a in zip(self.events.ids, applies, strict=True) if not a]
        return res

    def _regressors(self) -> list[str]:
        """The factor series of the factor model (the benchmark first, when given); else none."""
        from .models import factor_list

        cfg = self.config
        return list(factor_list(cfg.factors, cfg.benchmark)) if cfg.model == "factor" else []

    def _reference_series(self) -> list[str]:
        """The benchmark and the factors: the series the study reads besides its markets."""
        cfg = self.config
        return list(dict.fromkeys(([cfg.benchmark] if cfg.benchmark else []) + self._regressors()))

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

    # ------------------------------------------------------------------ tables
    def _assemble(
        self, panel: Panel, out: EngineOutput, days: Callable[[], EngineOutput] | None = None
    ) -> StudyResult:
        """The result of ``out``; ``days`` completes it with the single-day windows when it lacks them."""
        cfg = self.config
        pairs = panel.pairs
        kept = pairs.iloc[out.keep].reset_index(drop=True)
        wlabels = [format_window(w) for w in cfg.car_windows]
        C = len(wlabels)
        parts = StudyParts(copy.copy(self), panel, out, kept, days)
        # tables ``car()`` does not need are built when first read; at once when the run kept
        # estimation-window arrays (P×T, for the chosen tests: not held beyond the run) or
        # per-pair results only
        lazy = out.detail == "full" and out.fit.resid.shape[1] == 0
        later: Any = deferred if lazy else (lambda build: build())

        # a pairs run's estimation tests run the engine again (chunk by chunk): the panel's
        # prefix sums are released after them, else at once (no engine pass is left)
        streamed = out.detail != "full" and any(s.uses_estimation for s in self.test_specs)
        if out.detail != "full" and not streamed:
            release_engine_caches(panel)
        raw = self._raw_tests(parts) if self.test_specs else None
        if streamed:
            release_engine_caches(panel)
        if lazy:
            robust = later(functools.partial(robust_of, parts))
            caar = later(functools.partial(caar_of, parts))
        else:
            # built now, before the tests' notes and adjusted p-values and the CAR windows'
            # tables: nothing else reads the single days' inputs and clusters, which go
            # before those are built (at universe scale about half a GiB)
            robust, caar = robust_of(parts), caar_of(parts)
            for name in ("day_inputs", "day_clusters"):
                parts.__dict__.pop(name, None)  # the cached properties' values
        if raw is not None:
            held, raw = [raw], None
            tests = finished_tests(held, len(out.keep))
        else:  # no test chosen: the (empty) table when read
            tests = later(functools.partial(parts.study._tests_table, parts))

        # CARs per window (the first C engine windows are the CAR windows)
        overlaps = overlap_ids(
            panel, out.car_ext, kept, cfg.car_windows, self.mask_events.table["event_id"].to_numpy()
        )
        alignment = self._alignment(panel)
        car_in = parts.car_inputs
        vol_ratio = np.column_stack([pair_ratio(car_in[w]) for w in wlabels]) if C else np.empty(0)
        car_tab = car_table(kept, out, wlabels, parts.car_clusters[0], overlaps, vol_ratio)
        del overlaps, vol_ratio
        tidy = trim_heap if len(out.keep) >= TRIM_PAIRS else (lambda: None)
        tidy()  # the car table's transients, before the tables built after it
        # the headline (manifest): all pairs in the first CAR window, as in the headline table
        headline = headline_of(car_in[wlabels[0]], wlabels[0]) if wlabels else {}

        calendars = {m.symbol: (m.sessions.code or "own data dates") for m in panel.markets}
        cal_notes, cal_warnings = calendar_notes(self.events, self.symbols, cfg.calendar)
        manifest = build_manifest(
            parameters=cfg.to_dict() | {"symbols": self.symbols, "tests": [s.name for s in self.test_specs]},
            events_info={
                "file": self.events.path,
                "sha256": self.events.sha256,
                "n_events": len(self.events),
                "mask_events": len(self.mask_events),
            },
            prices_info={
                "source": self.prices.source,
                "origin": self.prices.origin,
                "sha256": self.prices.sha256(self.symbols + self._reference_series()),
                "provenance": self.prices.provenance,
                "ranges": date_ranges(panel),
            },
            calendars=calendars,
            counts={
                "pairs": len(pairs),
                "included": len(out.keep),
                "excluded": int(len(pairs) - len(out.keep)),
            },
            extra={
                "headline": headline,
                "data_quality": self._data_quality(panel),
                "warnings": list(self.events.warnings) + list(cal_warnings),
                "benchmark_alignment": alignment,
            }
            | ({"factor_alignment": own} if (own := self.model.alignment()) is not None else {}),
        )
        manifest["alignment"]["notes"] = cal_notes
        tidy()  # the data-quality counts' transients, before the fits table
        frozen = parts.study
        return StudyResult(
            config=cfg,
            events=self.events,
            prices=self.prices.select(self.symbols + self._reference_series()),
            symbols=tuple(self.symbols),
            abnormal_returns_table=later(functools.partial(ar_table, panel, out, kept)),
            car_table=car_tab,
            tests_table=tests,
            caar_table=caar,
            fits_table=later(functools.partial(frozen._fits, panel, out, alignment)),
            manifest=manifest,
            placebo_table=later(lambda: frozen._placebo_table(parts.car_inputs, parts.labels)),
            headline_table=robust,
            volatility_table=later(lambda: volatility_table(parts.car_inputs, parts.labels)),
            # per-pair results only: no per-day series either
            market_returns=ReturnFrames(panel.markets if out.detail == "full" else []),
        )

    def _tests_table(self, parts: StudyParts) -> pd.DataFrame:
        """The tests of every window and grouping (``tests.csv`` before the added columns)."""
        return finished_tests([self._raw_tests(parts)], len(parts.out.keep))

    def _raw_tests(self, parts: StudyParts) -> pd.DataFrame:
        """:meth:`_tests_table` before its notes and adjusted p-values (:func:`finished_tests`)."""
        threads, specs = TEST_THREADS, self.test_specs
        car_in, labels = parts.car_inputs, parts.labels
        if not specs and car_in:
            # no test: no rows, whatever the windows and groups; one window and one grouping of
            # each set give the same empty table (and its column types) without the day windows
            first, inp = next(iter(car_in.items()))
            rest = [format_window(w) for w in parts.windows[parts.n_car :]]
            car_in, labels = {first: inp}, dict(list(labels.items())[:1])
            day_in = {rest[0]: inp} if rest else {}
            day_labels = dict(list(parts.day_labels.items())[:1])
        else:
            day_in, day_labels = parts.day_inputs, parts.day_labels
        if parts.out.detail != "full" and any(s.uses_estimation for s in specs):
            from .streamtests import streamed_specs  # estimation tests chunk by chunk

            sets = [(car_in, labels), (day_in, day_labels)]
            specs = streamed_specs(self, parts.panel, parts.out.keep, sets, specs, *self._stream)
        # the single days first: their table is small, so the CAR windows' table (one row per
        # market and test at universe scale) is not held through the single days' tests
        days = run_tests(day_in, day_labels, specs, threads=threads)
        tests = pd.concat([run_tests(car_in, labels, specs, threads=threads), days], ignore_index=True)
        del days
        return tests

    def _fits(self, panel: Panel, out: EngineOutput, align: dict[str, Any] | None = None) -> pd.DataFrame:
        pairs = panel.pairs
        fit = out.fit
        n = len(pairs)
        cols: dict[str, Any] = {
            "event_id": pairs["event_id"],
            "symbol": pairs["symbol"],
            "model": self.model.name,
        }
        for j, pname in enumerate(self.model.param_names):
            col = np.full(n, np.nan)
            col[out.keep] = fit.params[:, j]
            cols[pname] = col
        if self.config.model == "market":  # which betas each market got (see benchmark_alignment)
            align = self._alignment(panel) if align is None else align
            per_market = [str(align.get(m.symbol, {}).get("betas", "ols")) for m in panel.markets]
            cols["betas"] = np.asarray(per_market, dtype=object)[pairs["mk"].to_numpy(dtype=np.int64)]
        sigma = np.full(n, np.nan)
        sigma[out.keep] = np.sqrt(fit.sigma2)
        n_est = np.zeros(n, dtype=np.int64)
        n_est[out.keep] = fit.n.astype(np.int64)
        start = np.full(n, np.datetime64("NaT", "ns"))
        end = np.full(n, np.datetime64("NaT", "ns"))
        start[out.keep] = out.est_start
        end[out.keep] = out.est_end
        reason = out.reasons(pairs)
        cols |= {
            "sigma": sigma,
            "n_est": n_est,
            "est_start": pd.DatetimeIndex(start),
            "est_end": pd.DatetimeIndex(end),
            "day0": pairs["day0"],
            "day0_latest": pairs["day0_latest"],
            "day0_uncertain": pairs["day0_uncertain"],
            "excluded": reason != "",
            "reason": reason,
        }
        return pd.DataFrame(cols)  # one frame from whole columns

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

    def _placebo_table(self, inputs: dict[str, TestInput], labels: dict[str, np.ndarray]) -> pd.DataFrame:
        """Placebo CAAR distributions (all pairs and per market) behind the ``placebo`` test.

        Group means of every pair's placebo CARs, position by position, as one
        matrix product per window (no loop over groups).
        """
        from .inference.grouped import Groups
        from .inference.placebo import placebo_caar_groups

        if "placebo" not in {s.name for s in self.test_specs}:
            return pd.DataFrame(columns=["group_by", "group", "window", "position", "caar"])
        frames = []
        for gb in ("all", "market"):
            grouping = Groups.from_labels(labels[gb])
            groups = grouping.names
            for w, inp in inputs.items():
                caar = placebo_caar_groups(inp, grouping, np.isfinite(inp.car))
                g, k = caar.shape
                frames.append(
                    pd.DataFrame(
                        {
                            "group_by": gb,
                            "group": np.repeat(np.asarray(groups, dtype=object), k),
                            "window": w,
                            "position": np.tile(np.arange(k), g),
                            "caar": caar.ravel(),
                        }
                    )
                )
        return pd.concat(frames, ignore_index=True)

    def _alignment(self, panel: Panel) -> dict[str, Any]:
        """Per market: the benchmark's clock and which benchmark returns the model uses."""
        from .models import Dimson, ScholesWilliams

        m = self.model
        out: dict[str, Any] = {}
        for sy in panel.syncs:
            if isinstance(m, ScholesWilliams):
                beta, shifts = "scholes-williams", m.shifts
            elif isinstance(m, Dimson) and (not m.only_later or sy.later):
                beta, shifts = "dimson", m.shifts
            else:
                beta, shifts = "ols", (0,)
            out[sy.symbol] = sy.describe(self.config.model, beta, shifts)
        return out

    def _data_quality(self, panel: Panel) -> dict[str, Any]:
        dq: dict[str, Any] = quality_reports(panel.markets, [self.prices[m.symbol] for m in panel.markets])
        dropped = self.prices.provenance.get("dropped_rows")
        if dropped:
            dq["dropped_rows"] = dropped
        return dq

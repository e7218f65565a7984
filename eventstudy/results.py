"""StudyResult: the immutable outcome of a study, its tables and its output folder.

The result holds the tidy tables and selects from them; the tables a run
deferred are built when first read (:mod:`eventstudy.deferred`). Its
analyses run in :mod:`eventstudy.resultanalyses`, its output folder is
written by :mod:`eventstudy.savefolder` and read back by
:mod:`eventstudy.persist`; the columns of its long tables are in
:mod:`eventstudy.resultcolumns`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .config import StudyConfig, WindowLike, format_window, parse_window
from .deferred import Deferred, built_field, built_state, deferred, hold_pending
from .errors import InputError
from .events import Events
from .reprs import record_folder
from .resultanalyses import (
    comparison_of,
    covariates_of,
    cross_section_of,
    event_dummies_of,
    main_window_dummies,
    second_stage_models,
    second_stage_tables,
)
from .resultcolumns import AR_COLUMNS, CAR_COLUMNS, TEST_COLUMNS
from .savefolder import folder_tables, save_result
from .sources.base import Prices
from .summary import Summary, stars
from .tables import by_grouping as _by
from .tables import select_rows as _select

if TYPE_CHECKING:
    from .analysis.compare import Comparison
    from .analysis.crosssection import CrossSection

__all__ = ["Deferred", "StudyResult", "Summary", "deferred", "stars"]


@dataclass(frozen=True, eq=False)
class StudyResult:
    """Results of :meth:`EventStudy.run`, immutable; tables are returned as copies.

    The tidy tables are the single source of every number: ``summary()``,
    the saved CSV files and the HTML report all read them.
    """

    config: StudyConfig
    events: Events
    prices: Prices
    symbols: tuple[str, ...]
    abnormal_returns_table: pd.DataFrame = field(repr=False)
    car_table: pd.DataFrame = field(repr=False)
    tests_table: pd.DataFrame = field(repr=False)
    caar_table: pd.DataFrame = field(repr=False)
    fits_table: pd.DataFrame = field(repr=False)
    manifest: dict[str, Any] = field(repr=False)
    market_returns: Mapping[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    placebo_table: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    headline_table: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    volatility_table: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def __post_init__(self) -> None:
        hold_pending(self)  # deferred tables live in ``_pending`` until first read (``__getattr__``)

    def __getstate__(self) -> dict[str, Any]:
        """The state for pickling and copying: deferred tables are built first (they are not portable)."""
        return built_state(self)

    def __getattr__(self, name: str) -> Any:
        """A deferred table, built on first access and kept (see :func:`deferred`)."""
        return built_field(self, name)

    def __repr__(self) -> str:
        from .reprs import result_repr

        return result_repr(self)

    def _repr_html_(self) -> str:
        from .reprs import result_html

        return result_html(self)

    # ----------------------------------------------------------------- access
    @property
    def abnormal_returns(self) -> pd.DataFrame:
        """AR per pair and event-window day (columns of ``abnormal_returns.csv``)."""
        return self.abnormal_returns_table.reindex(columns=AR_COLUMNS)

    def _window(self, window: WindowLike, car_only: bool = False) -> str:
        """The label (``"-1:+1"``) of a window given as ``(a, b)``, ``"a:b"`` or ``"a:+b"``."""
        label = format_window(parse_window(window, "window"))
        valid = self.car_windows
        if not car_only:
            lo, hi = self.config.window
            days = [format_window((d, d)) for d in range(lo, hi + 1)]
            valid = valid + [d for d in days if d not in valid]
        if label not in valid:
            raise InputError(f"window: '{label}' is not a window of this study; valid: {', '.join(valid)}")
        return label

    def car(self, window: WindowLike | None = None) -> pd.DataFrame:
        """CAR per pair and window (columns of ``car.csv``), optionally one window.

        Parameters
        ----------
        window : (int, int) or str, optional
            A CAR window as ``(-1, 1)``, ``"-1:1"`` or ``"-1:+1"``; all when omitted.
        """
        t = self.car_table
        if window is not None:
            t = t[t["window"] == self._window(window, car_only=True)]
        return t.loc[:, CAR_COLUMNS].reset_index(drop=True).copy()

    def tests(self, by: str | None = None, window: WindowLike | None = None) -> pd.DataFrame:
        """Test table: the columns of ``tests.csv`` and the ``caar`` each test is about.

        ``by`` keeps one grouping, ``window`` one window (``(a, b)``, ``"a:b"`` or ``"a:+b"``).
        """
        t = _select(self.tests_table, _by(by), None if window is None else self._window(window))
        t = t.loc[:, TEST_COLUMNS].reset_index(drop=True)
        keys = ["group_by", "group", "window"]
        caar = self.caar_table.drop_duplicates(keys).set_index(keys)["caar"]
        t["caar"] = caar.reindex(pd.MultiIndex.from_frame(t[keys])).to_numpy() if len(t) else []
        return t

    def caar(self, by: str | None = None, window: WindowLike | None = None) -> pd.DataFrame:
        """CAAR per grouping, group and window (single-day windows ``d:d`` give the AAR)."""
        t = _select(self.caar_table, _by(by), None if window is None else self._window(window))
        return t.reset_index(drop=True).copy()

    @property
    def headline(self) -> dict[str, Any]:
        """The dependence-robust headline of the study (also ``study.json``'s ``headline``).

        Keys ``test, window, statistic, p_value, n_clusters, n_pairs, mde``
        (and ``estimate, se, df, ci_low, ci_high``): the headline test
        (:data:`~eventstudy.inference.headline.HEADLINE_TEST`) over all pairs in
        the first CAR window; ``mde`` is the minimum detectable CAAR (two-sided
        5 %, 80 % power). Empty when the study has no CAR window.
        """
        return dict(self.manifest.get("headline") or {})

    def headlines(self, by: str | None = None, window: WindowLike | None = None) -> pd.DataFrame:
        """The headline test for every group and window (columns of ``headlines.csv``).

        Estimate (CAAR, exact duplicates once), cluster-robust SE, df, 95 %
        interval, t, p, clusters and pairs and minimum detectable CAAR;
        ``by`` keeps one grouping, ``window`` one window.
        """
        t = _select(self.headline_table, _by(by), None if window is None else self._window(window))
        return t.reset_index(drop=True).copy()

    def volatility(
        self, window: WindowLike | None = None, by: str | None = "all", pairs: bool = False
    ) -> pd.DataFrame:
        """The volatility reaction (``volatility.csv``; :mod:`eventstudy.inference.volatility`).

        Per group: the mean ratio of event-window squared SARs to their
        estimation-period expectation, the cluster-robust (CR2) t of the mean
        centred log ratio and its p-value, clusters and pairs. ``by=None``
        keeps every grouping; ``pairs=True`` gives the ratio of every pair
        instead (``vol_ratio`` of ``car.csv``).
        """
        w = None if window is None else self._window(window, car_only=True)
        if pairs:
            cols = ["event_id", "symbol", "window", "cluster", "days", "vol_ratio"]
            return self.car(w).reindex(columns=cols)
        return _select(self.volatility_table, _by(by), w).reset_index(drop=True).copy()

    @property
    def fits(self) -> pd.DataFrame:
        """Per pair: model parameters, σ, estimation range, exclusion reason."""
        return self.fits_table.copy()

    @property
    def excluded(self) -> pd.DataFrame:
        """Excluded pairs with their reasons."""
        f = self.fits_table
        return f.loc[f["excluded"], ["event_id", "symbol", "reason"]].reset_index(drop=True)

    @property
    def main_window(self) -> str:
        """The first CAR window (the one reports lead with), e.g. ``"0:0"``."""
        return format_window(self.config.car_windows[0])

    @property
    def car_windows(self) -> list[str]:
        """Labels of the CAR windows, in the configured order."""
        return [format_window(w) for w in self.config.car_windows]

    def aar(self, by: str = "all") -> pd.DataFrame:
        """Per event-window day: AAR with its tests (single-day windows), one grouping."""
        t = self.tests(by).drop(columns="caar")  # the AAR joins below
        days = {format_window((d, d)): d for d in range(self.config.window[0], self.config.window[1] + 1)}
        t = t[t["window"].isin(list(days))].copy()
        t.insert(2, "rel_day", t["window"].map(days))
        c = self.caar(by).rename(columns={"caar": "aar"})
        t = t.merge(c[["group", "window", "aar"]], on=["group", "window"], how="left")
        return t.sort_values(["group", "rel_day", "test"], kind="stable").reset_index(drop=True)

    # ------------------------------------------------------------- analyses
    def cross_section(self, window: WindowLike | None = None, **kwargs: Any) -> pd.DataFrame:
        """Second-stage regression of the window's CARs on direction, category and market.

        With ``covariates=["tariff_change_pp", …]`` (default: the study's), extra
        numeric columns of the events enter too (:mod:`eventstudy.analysis.covariates`).

        Standard errors clustered by the clusters of dependent pairs (``car.csv``'s
        ``cluster``; see :func:`eventstudy.analysis.cross_section`, whose keywords it accepts).

        Returns
        -------
        DataFrame
            Coefficients ``term, coef, se, t, p, ci_low, ci_high``; ``attrs``
            holds ``window, n, n_clusters, r2, note``. The fitted model, with
            the escalation-vs-de-escalation answer, is
            :meth:`cross_section_model`.
        """
        m = self.cross_section_model(window, **kwargs)
        out = m.coefficients
        out.attrs.update(window=m.window, n=m.n, n_clusters=m.n_clusters, r2=m.r2, note=m.note)
        return out

    def cross_section_model(self, window: WindowLike | None = None, **kwargs: Any) -> CrossSection:
        """The fitted second stage of :meth:`cross_section` (coefficients, answer, notes).

        ``covariates`` defaults to the study's (``StudyConfig.covariates``); pass
        ``covariates=[...]`` for others, ``[]`` for none.
        """
        return cross_section_of(self, window, **kwargs)

    def covariates(self) -> pd.DataFrame:
        """The study's covariates in the second stage of every window (``covariates.csv``).

        One row per window and covariate (``window, covariate, coef, se, t, p,
        df, n, n_events, n_clusters, text``) from the models of
        ``cross_section.csv``; empty when the study has no covariates. Another
        set: :meth:`cross_section` with ``covariates=[...]``.
        """
        return covariates_of(self)

    def compare(
        self, by: str, a: Any, b: Any = None, window: WindowLike | None = None, **kwargs: Any
    ) -> Comparison:
        """Compare two groups of pairs in one window (default the main one).

        The difference of mean CARs with a standard error clustered by the
        clusters of dependent pairs, and a rank test on cluster means; see
        :func:`eventstudy.analysis.compare_groups` (``by`` is ``market``,
        ``category``, ``direction``, ``event`` or an extra column of the
        events; ``b`` defaults to every other pair).
        """
        return comparison_of(self, by, a, b, window, **kwargs)

    def event_dummies(self, window: WindowLike | None = None, cov_type: str = "hac") -> pd.DataFrame:
        """Karafiath (1988) event-dummy CARs per market and event for one CAR window (a DataFrame).

        ``symbol`` and the CAR columns of :func:`eventstudy.analysis.event_dummy_regressions`;
        the per-day coefficients and per-market fits are in :meth:`event_dummies_model`.
        """
        return self.event_dummies_model(window, cov_type).cars.copy()

    def event_dummies_model(self, window: WindowLike | None = None, cov_type: str = "hac") -> Any:
        """Karafiath (1988) event-dummy regressions per market for one CAR window.

        The market model uses the study's benchmark (interval-matched per
        market); the constant-mean model a constant only; market-adjusted
        returns are regressed on a constant. The factor model's regressions
        take a constant only as well (the dummy regression has one benchmark
        slot; its CARs are then those of a constant-mean model). See
        :func:`eventstudy.analysis.event_dummy_regressions`.
        """
        return event_dummies_of(self, window, cov_type)

    # ---------------------------------------------------------------- summary
    def summary_frame(self) -> pd.DataFrame:
        """Overall CAAR and tests per CAR window (one row per window and test)."""
        t = self.tests("all")
        t = t[t["window"].isin(self.car_windows)]
        c = self.caar("all").set_index("window")
        t["caar"] = t["window"].map(c["caar"])
        t["stars"] = [stars(p) for p in t["p_value"]]
        return t.loc[:, ["window", "caar", "test", "statistic", "p_value", "stars", "n", "note"]]

    @property
    def warnings(self) -> tuple[str, ...]:
        """Warnings of the study (``warnings`` in ``study.json``), e.g. a symbol
        without an exchange calendar whose events carry a time."""
        return tuple(str(w) for w in self.manifest.get("warnings") or ())

    @property
    def notes(self) -> tuple[str, ...]:
        """Notes on alignment and prices, e.g. an alias of a registry index, closes from Adj Close."""
        m = self.manifest
        notes = list((m.get("alignment") or {}).get("notes") or ())
        notes += ((m.get("prices") or {}).get("provenance") or {}).get("notes") or []  # e.g. Adj Close
        return tuple(str(n) for n in notes)

    def summary(self) -> Summary:
        """A printable summary (renders as HTML in notebooks)."""
        return Summary(self)

    # ------------------------------------------------------------ publication
    def publication_table(self, by: str = "all", windows: Sequence[WindowLike] | None = None) -> pd.DataFrame:
        """CAAR by window for one grouping, formatted for a paper (see :mod:`eventstudy.tables`).

        One column per group; per window the CAAR in percent with stars, the t
        statistic in parentheses and ``G / N`` (clusters / pairs), all of the
        dependence-robust headline test ``cluster_t``.
        """
        from .tables import publication_table

        return publication_table(self, by, windows)

    def to_latex(
        self,
        by: str = "all",
        windows: Sequence[WindowLike] | None = None,
        caption: str | None = None,
        label: str | None = None,
    ) -> str:
        """The publication table as a LaTeX ``table`` float (booktabs); see :meth:`publication_table`."""
        from .tables import latex_table

        return latex_table(self, by, windows, caption, label)

    def to_markdown(self, by: str = "all", windows: Sequence[WindowLike] | None = None) -> str:
        """The publication table as Markdown (pipe table and note); see :meth:`publication_table`."""
        from .tables import markdown_table

        return markdown_table(self, by, windows)

    # ------------------------------------------------------------------- save
    def placebo(self, window: WindowLike | None = None) -> pd.DataFrame:
        """Placebo CAAR distribution per window (all pairs and per market)."""
        t = _select(self.placebo_table, None, None if window is None else self._window(window, car_only=True))
        return t.reset_index(drop=True).copy()

    @functools.cached_property
    def _second_stage(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        return second_stage_tables(self)

    @functools.cached_property
    def _second_stage_models(self) -> dict[str, CrossSection]:
        return second_stage_models(self)

    @functools.cached_property
    def _dummies(self) -> pd.DataFrame:
        """Event-dummy CARs of the main window (empty when returns are not at hand)."""
        return main_window_dummies(self)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The CSV tables of the output folder, keyed by file name (copies)."""
        return {name: t.copy() for name, t in self._tables.items()}

    @functools.cached_property
    def _tables(self) -> dict[str, pd.DataFrame]:
        """The tables of :meth:`tables`, built once (the CSV files and the report both read them)."""
        return folder_tables(self)

    def to_html(self) -> str:
        """The self-contained HTML report."""
        from .report import render_report

        return render_report(self)

    def save(self, path: str | Path, png: bool = False) -> Path:
        """Write the output folder atomically (tables, ``study.json``, ``index.html``).

        Only a folder the toolkit wrote as a study, or an empty or new one,
        is replaced (:mod:`eventstudy.output`; an
        :class:`~eventstudy.errors.OutputError` otherwise). Text cells a
        spreadsheet would evaluate are neutralised in every CSV
        (:mod:`eventstudy.csvsafe`). The folder is written beside the target
        under a temporary name and renamed into place when complete; an earlier study in the same place
        is replaced only then. With ``png`` every chart is also exported as a
        PNG into ``png/`` (needs kaleido and a Chromium; see
        :func:`eventstudy.report.export_png`).
        """
        return save_result(self, path, png)

    @classmethod
    def load(cls, path: str | Path) -> StudyResult:
        """Read a saved study folder back (see :func:`eventstudy.persist.load_result`)."""
        from .persist import load_result

        res = load_result(path)
        record_folder(res, path)
        return res

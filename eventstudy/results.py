"""StudyResult: the immutable outcome of a study, its tables and its output folder."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .config import StudyConfig, WindowLike, format_window, parse_window
from .csvout import with_omitted, write_csv_tables
from .csvsafe import neutralise_frame
from .errors import InputError
from .events import COLUMNS, Events
from .output import atomic_folder
from .reprs import record_folder
from .sources.base import Prices
from .summary import Summary, stars
from .tables import by_grouping as _by
from .tables import select_rows as _select
from .tables import write_tables

if TYPE_CHECKING:
    from .analysis.compare import Comparison
    from .analysis.crosssection import CrossSection

__all__ = ["Deferred", "StudyResult", "Summary", "deferred", "stars"]

AR_COLUMNS = ["event_id", "symbol", "rel_day", "date", "return", "normal_return", "ar", "sar", "car"]
CAR_COLUMNS = [
    "event_id",
    "symbol",
    "window",
    "car",
    "se",
    "t_stat",
    "p_value",
    "n_est",
    "day0",
    "day0_latest",
    "cluster",
    "day0_uncertain",
    "overlaps",
    "days",
    "extended_by",
    "p_holm",
    "p_bh",
    "vol_ratio",
]
TEST_COLUMNS = ["group_by", "group", "window", "test", "statistic", "p_value", "n", "note", "p_holm", "p_bh"]


class Deferred:
    """A table of a :class:`StudyResult` built when it is first read (see :func:`deferred`)."""

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
    """``build`` as a value of a table field of :class:`StudyResult`, called on first access.

    A study computes the tables that ``run`` must return at once (CARs,
    manifest) and defers the others (tests without any test chosen, CAAR,
    headlines, volatility, abnormal returns, fits): they are built from the
    study's arrays the first time they are read, with the same code and the
    same numbers, and kept. Typed as a DataFrame for the field it fills.
    """
    return Deferred(build)


def _iso(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d").astype(object).where(out[c].notna(), "")
    return out


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
        # deferred tables live in ``_pending`` until first read (``__getattr__``)
        pending = {f.name: v for f in fields(self) if isinstance(v := self.__dict__.get(f.name), Deferred)}
        if pending:
            for name in pending:
                del self.__dict__[name]
            self.__dict__["_pending"] = pending

    def __getstate__(self) -> dict[str, Any]:
        """The state for pickling and copying: deferred tables are built first (they are not portable)."""
        for name in list(self.__dict__.get("_pending", ())):
            getattr(self, name)
        state = dict(self.__dict__)
        state.pop("_pending", None)
        return state

    def __getattr__(self, name: str) -> Any:
        """A deferred table, built on first access and kept (see :func:`deferred`)."""
        pending = self.__dict__.get("_pending")
        hit = None if pending is None else pending.get(name)
        if hit is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        value = hit.get()
        self.__dict__[name] = value
        return value

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
        from .analysis import cross_section

        w = self.main_window if window is None else self._window(window, car_only=True)
        kwargs.setdefault("covariates", self.config.covariates)
        return cross_section(self.car(), self.events, window=w, **kwargs)

    def covariates(self) -> pd.DataFrame:
        """The study's covariates in the second stage of every window (``covariates.csv``).

        One row per window and covariate (``window, covariate, coef, se, t, p,
        df, n, n_events, n_clusters, text``) from the models of
        ``cross_section.csv``; empty when the study has no covariates. Another
        set: :meth:`cross_section` with ``covariates=[...]``.
        """
        from .analysis import covariate_table

        if not self.config.covariates:
            return covariate_table({})
        return covariate_table(self._second_stage_models)

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
        from .analysis import compare_groups

        w = self.main_window if window is None else self._window(window, car_only=True)
        return compare_groups(self.car(), self.events, by, a, b, window=w, **kwargs)

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
        from .analysis import event_dummy_regressions

        w = self.main_window if window is None else self._window(window, car_only=True)
        t1, t2 = parse_window(w)
        ar = self.abnormal_returns_table
        car = self.car(w)
        ext = car.set_index(["event_id", "symbol"])["extended_by"]
        ext_row = ext.reindex(pd.MultiIndex.from_frame(ar[["event_id", "symbol"]])).to_numpy()
        hi = t2 + np.where(t2 >= 0, np.nan_to_num(ext_row), 0)
        rows = ar[(ar["rel_day"] >= t1) & (ar["rel_day"] <= hi) & ar["return"].notna()]
        model = self.config.model
        rets = {s: df["ret"] for s, df in self.market_returns.items()}
        bench = None
        if model == "market":
            bench = {s: df["bench"] for s, df in self.market_returns.items()}
        elif model == "market-adjusted":
            rets = {s: df["ret"] - df["bench"] for s, df in self.market_returns.items()}
        return event_dummy_regressions(rets, rows[["event_id", "symbol", "date"]], bench, cov_type=cov_type)  # type: ignore[arg-type]

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
        from .analysis import cross_section_tables

        return cross_section_tables(self._second_stage_models)

    @functools.cached_property
    def _second_stage_models(self) -> dict[str, CrossSection]:
        from .analysis import cross_sections

        return cross_sections(self.car(), self.events, covariates=self.config.covariates)

    @functools.cached_property
    def _dummies(self) -> pd.DataFrame:
        """Event-dummy CARs of the main window (empty when returns are not at hand)."""
        if not self.market_returns:
            return pd.DataFrame()
        cars = self.event_dummies()
        cars.insert(2, "window", self.main_window)
        return cars

    def tables(self) -> dict[str, pd.DataFrame]:
        """The CSV tables of the output folder, keyed by file name (copies)."""
        return {name: t.copy() for name, t in self._tables.items()}

    @functools.cached_property
    def _tables(self) -> dict[str, pd.DataFrame]:
        """The tables of :meth:`tables`, built once (the CSV files and the report both read them)."""
        coefs, answers = self._second_stage
        return {
            "abnormal_returns.csv": _iso(self.abnormal_returns),
            "car.csv": _iso(self.car()),
            "tests.csv": self.tests().loc[:, TEST_COLUMNS],
            "caar.csv": self.caar(),
            "headlines.csv": self.headlines(),
            "volatility.csv": self.volatility(by=None),
            "fits.csv": _iso(self.fits),
            "cross_section.csv": coefs.copy(),
            "direction.csv": answers.copy(),
            **({"covariates.csv": self.covariates()} if self.config.covariates else {}),
            "placebo.csv": self.placebo(),
            "event_dummies.csv": self._dummies,
        }

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
        target = Path(path)
        html = self.to_html()
        if png:
            from .report import png_unavailable_reason

            why = png_unavailable_reason()
            if why:
                raise InputError(f"png: cannot export charts: {why}")
        with atomic_folder(target) as tmp:
            if png:
                from .report import export_png

                export_png(self, tmp / "png")
            omitted = write_csv_tables(self, tmp)  # tables with rows (neutralised); the others named with why
            (tmp / "study.json").write_text(
                json.dumps(with_omitted(self.manifest, omitted), indent=2, default=str) + "\n",
                encoding="utf-8",
            )
            neutralise_frame(self.events.table.loc[:, list(COLUMNS) + self.events.extra_columns]).to_csv(
                tmp / "events.csv", index=False, lineterminator="\n"
            )
            write_tables(self, tmp)
            (tmp / "index.html").write_text(html, encoding="utf-8")
        record_folder(self, target)
        return target

    @classmethod
    def load(cls, path: str | Path) -> StudyResult:
        """Read a saved study folder back (see :func:`eventstudy.persist.load_result`)."""
        from .persist import load_result

        res = load_result(path)
        record_folder(res, path)
        return res

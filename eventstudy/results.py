"""StudyResult: the immutable outcome of a study, its tables and its output folder."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import StudyConfig, format_window
from .csvsafe import neutralise_frame
from .errors import InputError
from .events import COLUMNS, Events
from .inference.runner import GROUPINGS
from .output import atomic_folder
from .sources.base import Prices

__all__ = ["StudyResult", "stars"]

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
]
TEST_COLUMNS = ["group_by", "group", "window", "test", "statistic", "p_value", "n", "note", "p_holm", "p_bh"]


def stars(p: float) -> str:
    """Significance stars: *** p < 0.01, ** p < 0.05, * p < 0.10."""
    if not np.isfinite(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.10 else ""


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
    market_returns: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    placebo_table: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    headline_table: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    # ----------------------------------------------------------------- access
    @property
    def abnormal_returns(self) -> pd.DataFrame:
        """AR per pair and event-window day (columns of ``abnormal_returns.csv``)."""
        return self.abnormal_returns_table.loc[:, AR_COLUMNS].copy()

    def car(self, window: str | None = None) -> pd.DataFrame:
        """CAR per pair and window (columns of ``car.csv``), optionally one window."""
        t = self.car_table
        if window is not None:
            if window not in set(t["window"]):
                raise InputError(f"window: '{window}' is not one of {sorted(set(t['window']))}")
            t = t[t["window"] == window]
        return t.loc[:, CAR_COLUMNS].reset_index(drop=True).copy()

    def tests(self, by: str | None = None) -> pd.DataFrame:
        """Test table (columns of ``tests.csv``); ``by`` keeps one grouping."""
        t = self.tests_table
        if by is not None:
            if by not in GROUPINGS:
                raise InputError(f"by: '{by}' is not a grouping; valid: {', '.join(GROUPINGS)}")
            t = t[t["group_by"] == by]
        return t.loc[:, TEST_COLUMNS].reset_index(drop=True).copy()

    def caar(self, by: str | None = None) -> pd.DataFrame:
        """CAAR per grouping, group and window."""
        t = self.caar_table
        if by is not None:
            t = t[t["group_by"] == by]
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

    def headlines(self, by: str | None = None) -> pd.DataFrame:
        """The headline test for every group and window (columns of ``headlines.csv``).

        Estimate (CAAR, exact duplicates once), cluster-robust SE, df, 95 %
        interval, t, p, clusters, pairs and minimum detectable CAAR.
        """
        t = self.headline_table
        if by is not None:
            if by not in GROUPINGS:
                raise InputError(f"by: '{by}' is not a grouping; valid: {', '.join(GROUPINGS)}")
            t = t[t["group_by"] == by]
        return t.reset_index(drop=True).copy()

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
        t = self.tests(by)
        days = {format_window((d, d)): d for d in range(self.config.window[0], self.config.window[1] + 1)}
        t = t[t["window"].isin(list(days))].copy()
        t.insert(2, "rel_day", t["window"].map(days))
        c = self.caar(by).rename(columns={"caar": "aar"})
        t = t.merge(c[["group", "window", "aar"]], on=["group", "window"], how="left")
        return t.sort_values(["group", "rel_day", "test"], kind="stable").reset_index(drop=True)

    # ------------------------------------------------------------- analyses
    def cross_section(self, window: str | None = None, **kwargs: Any) -> Any:
        """Second-stage regression of the window's CARs on direction, category and market.

        Standard errors clustered by the clusters of dependent pairs (``car.csv``'s
        ``cluster``; see :func:`eventstudy.analysis.cross_section`, whose keywords it accepts).
        """
        from .analysis import cross_section

        return cross_section(self.car(), self.events, window=window or self.main_window, **kwargs)

    def event_dummies(self, window: str | None = None, cov_type: str = "hac") -> Any:
        """Karafiath (1988) event-dummy regressions per market for one CAR window.

        The market model uses the study's benchmark (interval-matched per
        market); the constant-mean model a constant only; market-adjusted
        returns are regressed on a constant. See
        :func:`eventstudy.analysis.event_dummy_regressions`.
        """
        from .analysis import event_dummy_regressions

        w = window or self.main_window
        t1, t2 = (int(v) for v in w.split(":"))
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
        """Notes on the alignment, e.g. a symbol read as an alias of a registry index."""
        return tuple(str(n) for n in (self.manifest.get("alignment") or {}).get("notes") or ())

    def summary(self) -> Summary:
        """A printable summary (renders as HTML in notebooks)."""
        return Summary(self)

    # ------------------------------------------------------------------- save
    def placebo(self, window: str | None = None) -> pd.DataFrame:
        """Placebo CAAR distribution per window (all pairs and per market)."""
        t = self.placebo_table
        if window is not None and len(t):
            t = t[t["window"] == window]
        return t.reset_index(drop=True).copy()

    @functools.cached_property
    def _second_stage(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        from .analysis import cross_section_tables, cross_sections

        return cross_section_tables(cross_sections(self.car(), self.events))

    @functools.cached_property
    def _dummies(self) -> pd.DataFrame:
        """Event-dummy CARs of the main window (empty when returns are not at hand)."""
        if not self.market_returns:
            return pd.DataFrame()
        d = self.event_dummies()
        cars = d.cars.copy()
        cars.insert(2, "window", self.main_window)
        return cars

    def tables(self) -> dict[str, pd.DataFrame]:
        """The CSV tables of the output folder, keyed by file name."""
        coefs, answers = self._second_stage
        return {
            "abnormal_returns.csv": _iso(self.abnormal_returns),
            "car.csv": _iso(self.car()),
            "tests.csv": self.tests(),
            "caar.csv": self.caar(),
            "headlines.csv": self.headlines(),
            "fits.csv": _iso(self.fits),
            "cross_section.csv": coefs.copy(),
            "direction.csv": answers.copy(),
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
            for name, df in self.tables().items():
                neutralise_frame(df).to_csv(
                    tmp / name, index=False, lineterminator="\n", float_format="%.10g"
                )
            (tmp / "study.json").write_text(
                json.dumps(self.manifest, indent=2, default=str) + "\n", encoding="utf-8"
            )
            neutralise_frame(self.events.table.loc[:, list(COLUMNS)]).to_csv(
                tmp / "events.csv", index=False, lineterminator="\n"
            )
            (tmp / "index.html").write_text(html, encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: str | Path) -> StudyResult:
        """Read a saved study folder back (see :func:`eventstudy.persist.load_result`)."""
        from .persist import load_result

        return load_result(path)


def _extension_lines(res: StudyResult) -> list[str]:
    """The summary's line on windows extended where the hour of the news is uncertain."""
    car = res.car()
    if car.empty or "extended_by" not in car.columns:
        return []
    per_pair = car.groupby(["event_id", "symbol"], sort=False)["extended_by"].max()
    n = int((per_pair > 0).sum())
    if n == 0:
        return []
    return [
        f"hour uncertain for {n} of {len(per_pair)} pairs: their windows ending on or after day 0 "
        "are extended (0:0 is day 0, and day +1 where the hour is uncertain)"
    ]


class Summary:
    """Printable summary of a :class:`StudyResult`."""

    def __init__(self, res: StudyResult) -> None:
        self.res = res

    def _head(self) -> list[str]:
        r = self.res
        cfg = r.config
        m = r.manifest["counts"]
        return [
            f"Event study '{cfg.study_name}': model {cfg.model}"
            + (f" (benchmark {cfg.benchmark})" if cfg.benchmark else ""),
            f"{len(r.events)} events × {len(r.symbols)} markets: {m['included']} pairs included, "
            f"{m['excluded']} excluded; estimation {r.manifest['parameters']['estimation']}, "
            f"{cfg.returns} returns",
        ] + _extension_lines(r)

    def headline_text(self) -> str:
        """The study's headline in one sentence (the dependence-robust test; see ``headline``)."""
        h = self.res.headline
        if not h:
            return "Headline: no CAR window."
        where = f"{h['n_pairs']} pairs in {h['n_clusters']} independent clusters"
        est = h.get("estimate")
        if h.get("p_value") is None or est is None:
            return f"Headline ({h['test']}, window {h['window']}): not available ({where}; needs 2 clusters)."
        ci = ""
        if h.get("ci_low") is not None and h.get("ci_high") is not None:
            ci = f", 95% interval {100 * h['ci_low']:+.2f}% to {100 * h['ci_high']:+.2f}%"
        mde = f"; detectable CAAR at 80% power: {100 * h['mde']:.2f}%" if h.get("mde") is not None else ""
        return (
            f"Headline ({h['test']}, window {h['window']}): CAAR {100 * est:+.2f}%{ci}, "
            f"t = {h['statistic']:.2f}, p = {h['p_value']:.4f}{stars(h['p_value'])}; {where}{mde}."
        )

    def __str__(self) -> str:
        df = self.res.summary_frame()
        with pd.option_context("display.width", 120, "display.max_rows", 200):
            body = df.to_string(index=False, float_format=lambda v: f"{v:.4f}")
        foot = (
            "Pairs are dependent (one piece of news moves every market; windows overlap): only the "
            "cluster_* tests (n = independent clusters) are valid; the others assume independent pairs."
        )
        return "\n".join([*self._head(), self.headline_text(), "", body, "", foot])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        head = "".join(f"<p>{html.escape(s)}</p>" for s in [*self._head(), self.headline_text()])
        return head + self.res.summary_frame().to_html(index=False, float_format=lambda v: f"{v:.4f}")

"""Read a :class:`~eventstudy.results.StudyResult` into display-ready values.

The report computes no statistics. Everything here selects, joins, orders and
formats values of the result's tables; the only arithmetic is presentation of
existing values, each named where it happens:

* headlines, their 95% interval and minimum detectable CAAR are read from
  ``headlines.csv`` (the dependence-robust ``cluster_t``; see
  :mod:`eventstudy.inference.headline`); where a result has no such table the
  cross-sectional interval ``caar ± t(0.975, n − 1) · sd / √n`` is shown
  instead;
* the CAAR path over the event window: per relative day, the mean across pairs
  of the ``car`` column of ``abnormal_returns`` (each pair's AR cumulated from
  the first day of the event window) with the same cross-sectional interval;
* the count of pair-level p-values below 0.05 that chance alone would give
  (0.05 × number of pairs);
* r̄, read from the ``note`` of ``kp_*`` test rows (``"r̄=0.412"``).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from markupsafe import Markup
from scipy import special

from ..config import format_window
from ..inference import CLUSTER_TESTS
from ..inference.headline import HEADLINE_TEST
from ..markets import market_name
from ..summary import stars as _stars
from . import fmt
from .eventview import day0_returns

if TYPE_CHECKING:
    from ..results import StudyResult

__all__ = [
    "PRIMARY_TESTS",
    "STANDARD_TABLES",
    "analysis_blocks",
    "EventInfo",
    "caar_path",
    "ci95",
    "event_info",
    "extra_tables",
    "Lookup",
    "pick_primary",
    "tests_with_adjusted",
]

#: Test whose p-value a headline quotes: the dependence-robust
#: ``cluster_t`` (see :mod:`eventstudy.inference.headline` for the rule).
#: Tests that assume independent pairs (``bmp_t``, ``csect_t``, ``patell_z`` …)
#: stay in the tables with a note, never in a headline, a sentence or a star.
PRIMARY_TESTS: tuple[str, ...] = (HEADLINE_TEST,)

#: Tables of :meth:`StudyResult.tables` that the report reads by name.
STANDARD_TABLES = frozenset({"abnormal_returns.csv", "car.csv", "tests.csv", "caar.csv", "fits.csv"})

#: Adjusted p-value columns (``eventstudy.analysis.multitest``) shown when present.
ADJUSTED_P = {"p_holm": "Holm", "p_bh": "BH"}

_STAR_NOTE = "*** p < 0.01, ** p < 0.05, * p < 0.10 (two-sided)"


def stars(p: Any) -> str:
    """Significance stars (delegates to :func:`eventstudy.results.stars`)."""
    return _stars(float(p)) if fmt.is_finite(p) else ""


#: Tests whose statistic is itself a CAAR (shown as a percentage).
CAAR_STATISTIC = frozenset({"placebo"})


def test_stars(test: str, p: Any) -> str:
    """Stars for a test row: only tests valid for dependent pairs (``cluster_*``) get them.

    Tests that assume independent pairs are shown for comparison, without
    stars, so that no star in the report rests on that assumption.
    """
    return stars(p) if test in CLUSTER_TESTS else ""


def stat_text(test: str, v: Any) -> str:
    """A test's statistic for display (a CAAR statistic as a percentage)."""
    return fmt.fmt_pct(v, 3) if test in CAAR_STATISTIC else fmt.fmt_stat(v)


def ci95(caar: Any, sd: Any, n: Any) -> tuple[float, float]:
    """95% interval ``caar ± t(0.975, n − 1) · sd / √n`` (NaN when n < 2)."""
    if not (fmt.is_finite(caar) and fmt.is_finite(sd) and fmt.is_finite(n)) or float(n) < 2:
        return float("nan"), float("nan")
    half = float(special.stdtrit(float(n) - 1, 0.975) * float(sd) / np.sqrt(float(n)))
    return float(caar) - half, float(caar) + half


# --------------------------------------------------------------------- events
@dataclass(frozen=True)
class EventInfo:
    """Per event the fields the report shows, keyed by ``event_id``.

    ``table`` is the events table (index ``event_id``) with ``announced``,
    ``direction_str`` and ``date`` added; lookups go through a dict.
    """

    table: pd.DataFrame
    records: dict[str, dict[str, Any]]

    def title(self, eid: str) -> str:
        r = self.records.get(eid)
        return str(r["title"]) if r is not None else eid

    def get(self, eid: str, col: str, default: Any = "") -> Any:
        v = self.records.get(eid, {}).get(col, default)
        return default if v is None or (isinstance(v, float) and np.isnan(v)) else v


def _announced(row: Mapping[str, Any]) -> str:
    ts = str(row.get("timestamp", "") or "")
    if row.get("timing") == "interval":
        return fmt.interval_phrase(row.get("start_utc"), row.get("end_utc"))
    if bool(row.get("date_only", False)):
        tz = str(row.get("tz", "") or "") or "UTC"
        return f"{ts} ({tz} date, hour unknown)"
    return ts.replace("T", " ").replace("Z", " UTC")


def event_info(res: StudyResult) -> EventInfo:
    """Event attributes (title, category, direction, source, notes, announced)."""
    t = res.events.table.copy()
    for c in ("title", "category", "source", "notes", "timestamp", "tz"):
        if c not in t.columns:
            t[c] = ""
        t[c] = t[c].fillna("").astype(str)
    if "direction" not in t.columns:
        t["direction"] = 0
    if "date_only" not in t.columns:
        t["date_only"] = False
    t["announced"] = [_announced(r) for r in t.to_dict("records")]
    t["direction_str"] = [fmt.direction_label(d) for d in t["direction"]]
    if "local_date" in t.columns:
        t["date"] = pd.to_datetime(t["local_date"]).dt.strftime("%Y-%m-%d")
    else:
        t["date"] = t["timestamp"].str.slice(0, 10)
    t.index = pd.Index(t["event_id"].astype(str).to_numpy(), name=None)
    return EventInfo(t, {str(r["event_id"]): r for r in t.to_dict("records")})


# ------------------------------------------------------------------ CAAR path
def caar_path(res: StudyResult, by: str = "market") -> pd.DataFrame:
    """Mean cumulative AR per relative day with a 95% cross-sectional interval.

    Parameters
    ----------
    res : StudyResult
    by : {"all", "market", "direction", "category"}

    Returns
    -------
    DataFrame ``group, rel_day, caar, lo, hi, n`` over the event window, in
    the order groups first appear. Presentation of the ``car`` column of
    ``abnormal_returns`` (see the module docstring); a result that carries a
    ``caar_path`` table (``group_by, group, rel_day, caar, ci_low, ci_high,
    n``) is used instead.
    """
    own = _result_table(res, "caar_path")
    if own is not None and {"group_by", "group", "rel_day", "caar"} <= set(own.columns):
        t = own[own["group_by"] == by].rename(columns={"ci_low": "lo", "ci_high": "hi"})
        for c in ("lo", "hi", "n"):
            if c not in t.columns:
                t[c] = np.nan
        return t.loc[:, ["group", "rel_day", "caar", "lo", "hi", "n"]].reset_index(drop=True)
    ar = res.abnormal_returns
    lo_d, hi_d = res.config.window
    ar = ar[(ar["rel_day"] >= lo_d) & (ar["rel_day"] <= hi_d)]
    if by == "all":
        ar = ar.assign(group="all")
    elif by == "market":
        ar = ar.assign(group=ar["symbol"].astype(str))
    else:
        ev = res.events.table.set_index("event_id")
        vals = ev.loc[ar["event_id"].to_numpy(), by].to_numpy()
        if by == "direction":
            vals = np.array([{1: "+1", -1: "-1", 0: "0"}.get(int(v), str(v)) for v in vals], dtype=object)
        ar = ar.assign(group=vals.astype(str))
    order = unique(ar["group"])
    g = ar.groupby(["group", "rel_day"], sort=False)["car"]
    out = g.agg(caar="mean", sd="std", n="count").reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        q = special.stdtrit(np.maximum(out["n"].to_numpy(dtype=float) - 1, 1), 0.975)
        half = q * out["sd"].to_numpy() / np.sqrt(out["n"].to_numpy(dtype=float))
    half = np.where(out["n"].to_numpy() >= 2, half, np.nan)
    out["lo"] = out["caar"] - half
    out["hi"] = out["caar"] + half
    out["_o"] = out["group"].map({k: i for i, k in enumerate(order)})
    out = out.sort_values(["_o", "rel_day"], kind="stable")
    return out.loc[:, ["group", "rel_day", "caar", "lo", "hi", "n"]].reset_index(drop=True)


def group_label(by: str, group: str) -> str:
    """Display name of a group of a grouping."""
    if by == "market":
        return market_name(group)
    if by == "direction":
        return fmt.direction_label(group)
    if by == "category":
        return fmt.category_words(group)
    if by == "all":
        return "all pairs"
    return group


# ------------------------------------------------------------- extra tables
def _result_table(res: StudyResult, name: str) -> pd.DataFrame | None:
    obj = getattr(res, name, None)
    if callable(obj):
        try:
            obj = obj()
        except TypeError:
            return None
    return obj if isinstance(obj, pd.DataFrame) else None


def extra_tables(res: StudyResult) -> dict[str, pd.DataFrame]:
    """Tables of ``res.tables()`` beyond the standard five (analysis, placebo…), by file name."""
    try:
        tabs = res.tables()
    except Exception:  # a result without extra tables must still render
        return {}
    return {k: v for k, v in tabs.items() if k not in STANDARD_TABLES and isinstance(v, pd.DataFrame)}


def placebo_table(extras: Mapping[str, pd.DataFrame]) -> pd.DataFrame | None:
    """The placebo distribution (columns ``window, caar`` at least), if the result has one."""
    for name, df in extras.items():
        if "placebo" in name.lower() and {"window", "caar"} <= set(df.columns):
            return df
    return None


# ----------------------------------------------------------------- headline
def tests_with_adjusted(res: StudyResult) -> pd.DataFrame:
    """The tests table, with adjusted p-value columns when the result carries them."""
    t = res.tests()
    extra = [c for c in ADJUSTED_P if c in res.tests_table.columns and c not in t.columns]
    if extra:
        t = t.join(res.tests_table.reset_index(drop=True)[extra])
    return t


#: Lookups by result (a result is immutable, so its lookup never goes stale).
_LOOKUPS: weakref.WeakKeyDictionary[StudyResult, Lookup] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Lookup:
    """The tests and CAAR tables indexed by ``(group_by, group, window)`` (read once)."""

    tests: pd.DataFrame
    caar: dict[tuple[str, str, str], tuple[float, float, int]]
    rows: dict[tuple[str, str, str], list[dict[str, Any]]]
    groups: dict[str, list[str]]
    robust: dict[tuple[str, str, str], dict[str, Any]]

    @classmethod
    def of(cls, res: StudyResult) -> Lookup:
        """The lookup of ``res`` (built once per result: the summary, the report and the reader share it)."""
        hit = _LOOKUPS.get(res)
        if hit is None:
            hit = _LOOKUPS[res] = cls._build(res)
        return hit

    @classmethod
    def _build(cls, res: StudyResult) -> Lookup:
        tests = tests_with_adjusted(res)
        caar: dict[tuple[str, str, str], tuple[float, float, int]] = {}
        groups: dict[str, list[str]] = {}
        for r in res.caar().to_dict("records"):
            key = (str(r["group_by"]), str(r["group"]), str(r["window"]))
            caar[key] = (float(r["caar"]), float(r["sd"]), int(r["n"]))
            groups.setdefault(key[0], [])
            if key[1] not in groups[key[0]]:
                groups[key[0]].append(key[1])
        rows: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for r in tests.to_dict("records"):
            rows.setdefault((str(r["group_by"]), str(r["group"]), str(r["window"])), []).append(r)
        robust = {
            (str(r["group_by"]), str(r["group"]), str(r["window"])): r
            for r in res.headlines().to_dict("records")
        }
        return cls(tests, caar, rows, groups, robust)


def pick_primary(rows: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The headline test row among ``rows`` (one group and window), see :data:`PRIMARY_TESTS`.

    None when no dependence-robust test applies: a naive test is never quoted instead.
    """
    by: dict[str, Mapping[str, Any]] = {}
    for r in rows:
        by.setdefault(str(r["test"]), r)
    for name in PRIMARY_TESTS:
        if name in by and fmt.is_finite(by[name]["p_value"]):
            return by[name]
    return None


def _clusters_text(n_clusters: int, n_pairs: int) -> str:
    unit = "cluster" if n_clusters == 1 else "clusters"
    return f"{n_pairs} pairs in {n_clusters} independent {unit}"


def _sentence_group(
    subject: str, caar: float, phrase: str, p: Any, test: str, n: str, mde: Any = float("nan")
) -> Markup:
    if not fmt.is_finite(caar):
        return Markup("{s}: no CAR available.").format(s=subject)
    verb = "rose" if caar > 0 else "fell"
    if not fmt.is_finite(p):
        tail = "; no test valid for dependent pairs applies (fewer than 2 independent clusters)"
        return Markup("{s} {verb} on average {x} more than normal {ph} ({n}{tail}).").format(
            s=subject, verb=verb, x=fmt.fmt_pct_abs(caar), ph=phrase, n=n, tail=tail
        )
    sig = ""
    if float(p) >= 0.05:
        sig = "; not distinguishable from zero at the 5% level"
        if fmt.is_finite(mde):
            sig += f"; the design could have detected a move of {fmt.fmt_pct_abs(mde)} or more"
    return Markup("{s} {verb} on average {x} more than normal {ph} ({pc}, {test}, {n}{sig}).").format(
        s=subject,
        verb=verb,
        x=fmt.fmt_pct_abs(caar),
        ph=phrase,
        pc=fmt.p_clause(p),
        test=test,
        n=n,
        sig=sig,
    )


@dataclass(frozen=True)
class Headline:
    """Display values of one group's headline (market card, overall line)."""

    key: str
    label: str
    caar: str
    ci: str
    p: str
    test: str
    stars: str
    n: int
    sentence: Markup
    others: list[dict[str, str]]
    caar_value: float
    p_value: float
    n_clusters: int = 0
    mde: str = ""
    ci_low: float = float("nan")
    ci_high: float = float("nan")


def headline(look: Lookup, by: str, group: str, window: tuple[int, int], subject: str = "") -> Headline:
    """CAAR of ``window`` for one group with its 95% interval and headline test.

    Estimate, interval, p-value and minimum detectable CAAR come from the
    dependence-robust row of ``headlines.csv``; without one (an older saved
    study) the CAAR and its cross-sectional interval are shown with no p-value.
    """
    key = (by, group, format_window(window))
    caar, sd, n = look.caar.get(key, (float("nan"), float("nan"), 0))
    rob = look.robust.get(key)
    rows = look.rows.get(key, [])
    if rob is not None:
        caar = float(rob["estimate"])
        lo, hi = float(rob["ci_low"]), float(rob["ci_high"])
        p = float(rob["p_value"])
        tname = str(rob["test"]) if fmt.is_finite(p) else ""
        n_cl, n_pairs = int(rob["n_clusters"]), int(rob["n_pairs"])
        mde = float(rob["mde"])
        n_text = _clusters_text(n_cl, n_pairs)
    else:
        lo, hi = ci95(caar, sd, n)
        prim = pick_primary(rows)
        p = float(prim["p_value"]) if prim is not None else float("nan")
        tname = str(prim["test"]) if prim is not None else ""
        n_cl, n_pairs, mde = 0, n, float("nan")
        n_text = f"n = {n} pairs"
    others = [
        {
            "test": str(r["test"]),
            "p": fmt.fmt_p(r["p_value"]),
            "stars": test_stars(str(r["test"]), r["p_value"]),
            "note": _test_note(r),
        }
        for r in rows
    ]
    return Headline(
        key=group,
        label=group_label(by, group),
        caar=fmt.fmt_pct(caar),
        ci=f"{fmt.fmt_pct(lo)} to {fmt.fmt_pct(hi)}" if fmt.is_finite(lo) else "",
        p=fmt.fmt_p(p),
        test=tname,
        stars=stars(p),
        n=n_pairs,
        sentence=_sentence_group(subject, caar, fmt.window_phrase(window), p, tname, n_text, mde),
        others=others,
        caar_value=caar,
        p_value=p,
        n_clusters=n_cl,
        mde=fmt.fmt_pct_abs(mde) if fmt.is_finite(mde) else "",
        ci_low=float(lo),
        ci_high=float(hi),
    )


def _test_note(r: Mapping[str, Any]) -> str:
    """A test row's note (``tests.csv`` says there what a test that is not cluster-robust assumes)."""
    note = r.get("note")
    return note if isinstance(note, str) else ""


def overall_headline(look: Lookup, window: tuple[int, int]) -> Headline:
    """Headline of the whole sample (grouping ``all``)."""
    return headline(look, "all", "all", window, "Across all event×market pairs, markets")


def market_headlines(res: StudyResult, look: Lookup, window: tuple[int, int]) -> list[Headline]:
    """One headline per studied market (in the study's order)."""
    present = set(look.groups.get("market", []))
    return [
        headline(look, "market", s, window, f"Across its events, the {market_name(s)}")
        for s in res.symbols
        if s in present
    ]


def group_sentences(look: Lookup, window: tuple[int, int], alpha: float = 0.05) -> list[Markup]:
    """Sentences for direction and category groups whose headline test stays below ``alpha``
    after the Benjamini–Hochberg adjustment over the groups of that grouping.

    The adjusted p-value is the headline test's ``p_bh`` in ``tests.csv``
    (per grouping, window and test), so picking the significant groups out
    of many does not by itself produce sentences; the raw p is quoted and the
    adjusted one beside it.
    """
    out: list[Markup] = []
    wl = format_window(window)
    for by in ("direction", "category"):
        groups = look.groups.get(by, [])
        tested = sum(
            1
            for g in groups
            for r in look.rows.get((by, g, wl), [])
            if str(r["test"]) == PRIMARY_TESTS[0] and fmt.is_finite(r["p_value"])
        )
        for g in groups:
            h = headline(look, by, g, window, f"After {group_label(by, g)} announcements, markets")
            row = next((r for r in look.rows.get((by, g, wl), []) if str(r["test"]) == h.test), None)
            p_adj = float(row["p_bh"]) if row is not None and "p_bh" in row else h.p_value
            if fmt.is_finite(p_adj) and p_adj < alpha and fmt.is_finite(h.caar_value):
                extra = Markup(" Benjamini–Hochberg adjusted over the {k} {by} groups: {pc}.").format(
                    k=tested, by=by, pc=fmt.p_clause(p_adj)
                )
                out.append(h.sentence + extra)
    return out


def notable_pairs(
    res: StudyResult, info: EventInfo, window: tuple[int, int], per_market: int = 3, alpha: float = 0.05
) -> tuple[list[Markup], dict[str, Any]]:
    """Sentences for the strongest single reactions, and how many chance alone explains.

    Per market, the pairs whose own CAR t-test (``car.csv``; one pair's
    time-series test, unaffected by dependence across pairs) stays below
    ``alpha`` after the Benjamini–Hochberg adjustment over all pairs of the
    window (``p_bh``; it controls the false discovery rate under the positive
    dependence of markets that react together, Benjamini and Yekutieli 2001),
    smallest p first, at most ``per_market`` each. Exact duplicates (events
    sharing one market and window, hence one CAR) are listed once with every
    title. Without ``p_bh`` (an older saved study) the raw p is used.
    """
    wl = format_window(window)
    car = res.car_table
    car = car[car["window"] == wl]
    pv = car["p_value"].to_numpy(dtype=float)
    n_pairs = int(np.isfinite(pv).sum())
    n_sig = int((pv < alpha).sum())
    sentences: list[Markup] = []
    has_bh = "p_bh" in car.columns
    sig = car[car["p_bh"].to_numpy(dtype=float) < alpha] if has_bh else car[pv < alpha]
    # one line per distinct CAR of a market (exact duplicates share it)
    dup_key = ["symbol", "day0", "car"]
    titles = sig.groupby(dup_key, sort=False)["event_id"].agg(list)
    sig = sig.drop_duplicates(dup_key)
    by_market = dict(tuple(sig.groupby("symbol", sort=False)))
    for s in res.symbols:
        if s not in by_market:
            continue
        g = by_market[s].sort_values(["p_value", "event_id"], kind="stable").head(per_market)
        for r in g.to_dict("records"):
            carv = float(r["car"])
            verb = "rose" if carv > 0 else "fell"
            ext = int(r.get("extended_by", 0) or 0)
            phrase = fmt.pair_phrase(window, ext)
            bh = f", BH-adjusted {fmt.p_clause(r['p_bh'])}" if has_bh and fmt.is_finite(r["p_bh"]) else ""
            sentences.append(
                Markup("The {m} {verb} {x} more than normal {ph} “{title}” ({date}; {pc}{bh}).").format(
                    m=market_name(s),
                    verb=verb,
                    x=fmt.fmt_pct_abs(carv),
                    ph=phrase,
                    title=" / ".join(info.title(str(e)) for e in titles[(r["symbol"], r["day0"], r["car"])]),
                    date=info.get(str(r["event_id"]), "date"),
                    pc=fmt.p_clause(r["p_value"]),
                    bh=bh,
                )
            )
    facts = {
        "n_pairs": n_pairs,
        "n_sig": n_sig,
        "expected": alpha * n_pairs,
        "alpha": alpha,
        "n_bh": int((sig["p_bh"] < alpha).sum()) if has_bh else None,
    }
    return sentences, facts


# -------------------------------------------------------------------- tables
def summary_table(look: Lookup, windows: Sequence[str]) -> dict[str, Any]:
    """All pairs: CAAR with its 95% interval per CAR window, then each test (``table-summary``).

    Returns ``{"windows": [...], "caar": [...], "n": [...], "tests": [{"test", "cells"}]}``,
    one cell per window.
    """
    caar, ns, clusters = [], [], []
    for w in windows:
        c, sd, n = look.caar.get(("all", "all", w), (float("nan"), float("nan"), 0))
        lo, hi = ci95(c, sd, n)
        rob = look.robust.get(("all", "all", w))
        if rob is not None:  # the dependence-robust estimate and interval
            c, lo, hi = float(rob["estimate"]), float(rob["ci_low"]), float(rob["ci_high"])
            clusters.append(int(rob["n_clusters"]))
        caar.append(
            {
                "caar": fmt.fmt_pct(c),
                "ci": f"{fmt.fmt_pct(lo)} to {fmt.fmt_pct(hi)}" if fmt.is_finite(lo) else "",
            }
        )
        ns.append(n)
    names: list[str] = []
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for w in windows:
        for r in look.rows.get(("all", "all", w), []):
            name = str(r["test"])
            if name not in names:
                names.append(name)
            cells[(name, w)] = {
                "stat": stat_text(name, r["statistic"]),
                "p": fmt.fmt_p(r["p_value"]),
                "stars": test_stars(name, r["p_value"]),
                "n": int(r["n"]) if fmt.is_finite(r["n"]) else "",
                "note": _test_note(r),
            }
    tests = [{"test": nm, "cells": [cells.get((nm, w)) for w in windows]} for nm in names]
    # the headline test first, then the other cluster tests, then those assuming independence
    rank = {t: i for i, t in enumerate(dict.fromkeys((*PRIMARY_TESTS, *CLUSTER_TESTS)))}
    tests.sort(key=lambda t: rank.get(str(t["test"]), len(rank)))
    return {"windows": list(windows), "caar": caar, "n": ns, "clusters": clusters, "tests": tests}


def tests_matrix(
    look: Lookup,
    by: str,
    info: EventInfo,
    windows: Sequence[str],
    name: str | None = None,
    order: Sequence[str] = (),
) -> dict[str, Any]:
    """One grouping's tests as a matrix: rows group × window (of ``windows``), columns tests.

    Rows are grouped by group (``order`` first, then the table's order), windows
    in the order of ``windows``.
    """
    t = look.tests[(look.tests["group_by"] == by) & look.tests["window"].isin(list(windows))]
    names = unique(t["test"].astype(str))
    rank = {nm: i for i, nm in enumerate(dict.fromkeys((*PRIMARY_TESTS, *CLUSTER_TESTS)))}
    names.sort(key=lambda nm: rank.get(nm, len(rank)))
    col = {nm: k for k, nm in enumerate(names)}
    caar = {(k[1], k[2]): (v[0], v[2]) for k, v in look.caar.items() if k[0] == by}
    adj = [k for k in ADJUSTED_P if k in t.columns]
    # a note shared by most cells of a test (e.g. "B=999 … draws") goes to the column header once
    notes = t["note"].where(t["note"].astype(str) != "", None) if "note" in t.columns else None
    common: dict[str, str] = {}
    if notes is not None:
        for nm, sub in notes.groupby(t["test"].astype(str), sort=False):
            vc = sub.dropna().astype(str).value_counts()
            if len(vc) and vc.iloc[0] * 2 > len(sub):
                common[str(nm)] = str(vc.index[0])
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for r in t.to_dict("records"):
        g, w = str(r["group"]), str(r["window"])
        row = rows.get((g, w))
        if row is None:
            cv, n = caar.get((g, w), (float("nan"), int(r["n"])))
            row = rows[(g, w)] = {
                "group": g,
                "label": info.title(g) if by == "event" else group_label(by, g),
                "date": info.get(g, "date") if by == "event" else "",
                "window": w,
                "caar": fmt.fmt_pct(cv),
                "caar_v": _num(cv),
                "n": n,
                "cells": [None] * len(names),
            }
        note = r.get("note")
        tip = [note] if isinstance(note, str) and note and note != common.get(str(r["test"])) else []
        tip += [f"{ADJUSTED_P[a]}-adjusted p = {fmt.fmt_p(r[a])}" for a in adj if fmt.is_finite(r[a])]
        row["cells"][col[str(r["test"])]] = {
            "stat": stat_text(str(r["test"]), r["statistic"]),
            "p": fmt.fmt_p(r["p_value"]),
            "stars": test_stars(str(r["test"]), r["p_value"]),
            "title": "; ".join(tip),
            "pv": _num(r["p_value"]),
        }
    gpos = {g: i for i, g in enumerate(unique([*order, *(k[0] for k in rows)]))}
    wpos = {w: i for i, w in enumerate(windows)}
    ordered = [rows[k] for k in sorted(rows, key=lambda k: (gpos[k[0]], wpos.get(k[1], 0)))]
    return {
        "by": by,
        "name": name or by,
        "tests": names,
        "test_notes": [common.get(nm, "") for nm in names],
        "rows": ordered,
        "adjusted": [ADJUSTED_P[a] for a in adj],
    }


def day_windows(look: Lookup, window: tuple[int, int]) -> list[tuple[int, str]]:
    """The single-day windows ``d:d`` of the event window that the tables carry (per-day AAR)."""
    have = {k[2] for k in look.caar if k[0] == "all"}
    out = []
    for d in range(window[0], window[1] + 1):
        lab = format_window((d, d))
        if lab in have:
            out.append((d, lab))
    return out


def rbar_rows(tests: pd.DataFrame, windows: Sequence[str]) -> list[dict[str, Any]]:
    """r̄ from the notes of ``kp_*`` rows, per grouping and group, one column per window."""
    kp = tests[tests["test"].astype(str).str.startswith("kp_")]
    if kp.empty:
        return []
    kp = kp.assign(rbar=[fmt.parse_rbar(n) for n in kp["note"]])
    kp = kp[np.isfinite(kp["rbar"].to_numpy(dtype=float))]
    if kp.empty:
        return []
    first = kp.drop_duplicates(["group_by", "group", "window"])
    rows = []
    for (gb, g), sub in first.groupby(["group_by", "group"], sort=False):
        if gb == "event":
            continue
        vals = dict(zip(sub["window"].astype(str), sub["rbar"], strict=True))
        rows.append(
            {
                "grouping": str(gb),
                "group": group_label(str(gb), str(g)),
                "values": [fmt.fmt_num(vals.get(w, np.nan), 3) for w in windows],
            }
        )
    return rows


#: Most rows of the report's pair table; a larger study lists the pairs with
#: the smallest main-window p (every pair is in ``car.csv``).
MAX_PAIR_ROWS = 5000


def pair_rows(res: StudyResult, info: EventInfo, windows: Sequence[str], main: str) -> list[dict[str, Any]]:
    """One row per included pair: event, market, CAR per window, main-window t, p (``table-pairs``).

    At most :data:`MAX_PAIR_ROWS` rows: beyond it, the pairs with the smallest
    p of the main window (ties in the table's order).
    """
    car = res.car_table
    m = car[car["window"] == main]
    if len(m) > MAX_PAIR_ROWS:
        order = np.argsort(m["p_value"].to_numpy(dtype=float), kind="stable")[:MAX_PAIR_ROWS]
        keep = m.iloc[np.sort(order)][["event_id", "symbol"]]
        car = car.merge(keep, on=["event_id", "symbol"], how="inner")
    cars: dict[tuple[str, str], dict[str, tuple[float, float]]] = {}
    for eid, sym, w, v, p in zip(
        car["event_id"], car["symbol"], car["window"], car["car"], car["p_value"], strict=True
    ):
        cars.setdefault((str(eid), str(sym)), {})[str(w)] = (v, p)
    d0 = day0_returns(res)
    m = car[car["window"] == main]
    has_bh = "p_bh" in m.columns
    rows = []
    for r in m.to_dict("records"):
        eid, sym = str(r["event_id"]), str(r["symbol"])
        day0 = r["day0"]
        ext = int(r["extended_by"]) if fmt.is_finite(r.get("extended_by")) else 0
        flags = []
        if bool(r.get("day0_uncertain", False)):
            latest = r.get("day0_latest")
            flags.append(
                "hour uncertain: day 0 may be as late as "
                + ("" if pd.isna(latest) else str(pd.Timestamp(latest).date()))
                + (f"; windows extended by {ext} session{'s' if ext > 1 else ''}" if ext else "")
            )
        ov = r.get("overlaps", "")
        vals = cars.get((eid, sym), {})
        ret, ar0 = d0.get((eid, sym), (np.nan, np.nan))
        rows.append(
            {
                "event_id": eid,
                "title": info.title(eid),
                "category": fmt.category_words(info.get(eid, "category")),
                "direction": info.get(eid, "direction_str"),
                "market": market_name(sym),
                "day0": "" if pd.isna(day0) else str(pd.Timestamp(day0).date()),
                "ret": fmt.fmt_pct(ret),
                "ret_v": _num(ret),
                "ar": fmt.fmt_pct(ar0),
                "ar_v": _num(ar0),
                "cars": [
                    {
                        "txt": fmt.fmt_pct(vals.get(w, (None, None))[0]),
                        "v": _num(vals.get(w, (None, None))[0]),
                        "stars": stars(vals.get(w, (None, None))[1]),
                    }
                    for w in windows
                ],
                "t": fmt.fmt_num(r["t_stat"]),
                "t_v": _num(r["t_stat"]),
                "p": fmt.fmt_p(r["p_value"]),
                "p_v": _num(r["p_value"]),
                "stars": stars(r["p_value"]),
                "bh": fmt.fmt_p(r["p_bh"]) if has_bh else None,
                "bh_v": _num(r["p_bh"]) if has_bh else None,
                "flags": "; ".join(flags),
                "overlaps": ov if isinstance(ov, str) else "",
                "n_overlaps": len(ov.split()) if isinstance(ov, str) else 0,
            }
        )
    return rows


def _num(v: Any) -> str:
    """Raw value for ``data-v`` sort keys (empty when missing)."""
    return f"{float(v):.6g}" if fmt.is_finite(v) else ""


def excluded_rows(res: StudyResult, info: EventInfo) -> list[dict[str, str]]:
    """Excluded pairs with their reasons."""
    return [
        {
            "event_id": str(r["event_id"]),
            "title": info.title(str(r["event_id"])),
            "market": market_name(str(r["symbol"])),
            "reason": str(r["reason"]),
        }
        for r in res.excluded.to_dict("records")
    ]


#: Plain words for the checks of ``manifest["data_quality"]`` (:mod:`eventstudy.quality`).
DQ_WORDS: dict[str, str] = {
    "multi_session_returns": "a session without a price, so the next return spans several sessions",
    "rows_off_calendar": "price rows dated on a day that is not a session of the exchange (set aside)",
    "stale_runs": "the same close repeated over several consecutive sessions (a frozen feed?)",
    "extreme_moves": "returns more than 10 robust standard deviations from the median (check the data)",
}


def data_quality_rows(dq: Any) -> list[dict[str, Any]]:
    """``manifest["data_quality"]`` per market: each check with its count, meaning and items."""
    if not isinstance(dq, Mapping):
        return []
    rows: list[dict[str, Any]] = []
    for sym, checks in dq.items():
        if not isinstance(checks, Mapping):
            rows.append(
                {
                    "market": market_name(str(sym)),
                    "check": "",
                    "meaning": "",
                    "count": "",
                    "items": [str(checks)],
                }
            )
            continue
        for check, items in checks.items():
            if isinstance(items, list) and not items:
                continue
            seq = items if isinstance(items, list) else [items]
            rows.append(
                {
                    "market": market_name(str(sym)),
                    "check": str(check).replace("_", " "),
                    "meaning": DQ_WORDS.get(str(check), ""),
                    "count": len(seq) if isinstance(items, list) else "",
                    "items": [_dq_item(x) for x in seq],
                }
            )
    return rows


def _dq_value(k: str, v: Any) -> str:
    if isinstance(v, float):
        return fmt.fmt_pct(v) if k == "return" else f"{v:.4g}".replace("-", "−")
    return str(v)


def _dq_item(x: Any) -> str:
    if isinstance(x, Mapping):
        if {"date", "from", "sessions"} <= set(x):
            return f"{x['date']} (return since {x['from']}, {x['sessions']} sessions)"
        if {"date", "return"} <= set(x):
            z = f", robust z {_dq_value('z', x['robust_z'])}" if "robust_z" in x else ""
            return f"{x['date']}: {_dq_value('return', x['return'])}{z}"
        if {"from", "to", "sessions"} <= set(x):
            return f"{x['from']} to {x['to']} ({x['sessions']} sessions" + (
                f" at {_dq_value('close', x['close'])})" if "close" in x else ")"
            )
        return ", ".join(f"{k}: {_dq_value(str(k), v)}" for k, v in x.items())
    return str(x)


def generic_table(df: pd.DataFrame, max_rows: int = 50) -> dict[str, Any]:
    """Any extra table as display strings (floats to 4 significant digits)."""
    cols = [str(c) for c in df.columns]
    body = []
    for rec in df.head(max_rows).itertuples(index=False):
        body.append([_cell(v) for v in rec])
    return {"columns": cols, "rows": body, "truncated": max(0, len(df) - max_rows)}


def _cell(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return "" if not np.isfinite(v) else f"{float(v):.4g}".replace("-", "−")
    if v is None or v is pd.NaT:
        return ""
    if isinstance(v, pd.Timestamp):
        return str(v.date()) if v == v.normalize() else str(v)
    return str(v)


_TERM_RE = re.compile(r"^(\w+)\[(.*)\]$")


def _term_label(term: str) -> str:
    m = _TERM_RE.match(term)
    if not m:
        return "intercept" if term == "const" else term
    by, level = m.group(1), m.group(2)
    return f"{by}: {group_label(by, level)}"


def _p_cell(p: Any) -> str:
    st = stars(p)
    return f"{fmt.fmt_p(p)} {st}".strip()


def _direction_block(df: pd.DataFrame, windows: Sequence[str]) -> dict[str, Any]:
    d = df.copy()
    d["_o"] = d["window"].astype(str).map({w: i for i, w in enumerate(windows)}).fillna(len(windows))
    rows = []
    for r in d.sort_values("_o", kind="stable").to_dict("records"):
        rows.append(
            [
                str(r["window"]),
                fmt.fmt_pct(r.get("difference")),
                fmt.fmt_pct(r.get("se")).lstrip("+"),
                fmt.fmt_num(r.get("t")),
                _p_cell(r.get("p")),
                str(r.get("n_escalation", "")),
                fmt.fmt_pct(r.get("mean_escalation")),
                str(r.get("n_deescalation", "")),
                fmt.fmt_pct(r.get("mean_deescalation")),
                str(r.get("terms", "")),
            ]
        )
    return {
        "id": "analysis-direction",
        "title": "Escalation versus de-escalation news",
        "intro": "Difference between the mean CAR of escalation (direction −1) and de-escalation (+1) "
        "pairs from a regression of CARs on direction with the other terms listed (market fixed "
        "effects), standard errors clustered by the independent clusters of dependent pairs (the "
        "markets of one event, and pairs whose windows overlap in calendar time).",
        "tables": [
            {
                "id": "table-direction",
                "label": "",
                "open": True,
                "caption": "Difference and its standard error in percentage points of CAR; "
                "n: events of each direction; mean: raw mean CAR of their pairs.",
                "columns": [
                    "Window",
                    "Difference",
                    "SE",
                    "t",
                    "p",
                    "n escalation",
                    "mean escalation",
                    "n de-escalation",
                    "mean de-escalation",
                    "Terms",
                ],
                "num": [False, True, True, True, True, True, True, True, True, False],
                "rows": rows,
            }
        ],
    }


def _coef_block(df: pd.DataFrame, windows: Sequence[str], main: str) -> dict[str, Any]:
    tables = []
    order = [w for w in windows if w in set(df["window"].astype(str))]
    order += [w for w in unique(df["window"].astype(str)) if w not in order]
    for k, w in enumerate(order):
        sub = df[df["window"].astype(str) == w]
        first = sub.iloc[0].to_dict() if len(sub) else {}
        rows = [
            [
                _term_label(str(r["term"])),
                fmt.fmt_pct(r.get("coef")),
                fmt.fmt_pct(r.get("se")).lstrip("+"),
                fmt.fmt_num(r.get("t")),
                _p_cell(r.get("p")),
                f"{fmt.fmt_pct(r.get('ci_low'))} to {fmt.fmt_pct(r.get('ci_high'))}"
                if fmt.is_finite(r.get("ci_low"))
                else "",
            ]
            for r in sub.to_dict("records")
        ]
        facts = []
        if "n" in first:
            facts.append(f"{first['n']} pairs")
        if "n_clusters" in first:
            facts.append(f"{first['n_clusters']} event clusters")
        if fmt.is_finite(first.get("r2")):
            facts.append(f"R² = {float(first['r2']):.3f}")
        note = first.get("note")
        tables.append(
            {
                "id": f"table-cross-section-{k + 1}",
                "label": f"window {w}",
                "open": w == main,
                "caption": "; ".join(facts) + (f". {note}" if isinstance(note, str) and note else ""),
                "columns": ["Term", "Coefficient", "SE", "t", "p", "95% interval"],
                "num": [False, True, True, True, True, True],
                "rows": rows,
            }
        )
    return {
        "id": "analysis-cross-section",
        "title": "Cross-sectional regression of CARs",
        "intro": "CAR of each pair regressed on dummies for the direction and category of the news and "
        "for the market (each against its reference level), OLS with standard errors clustered by "
        "the independent clusters of dependent pairs. Coefficients in percentage points of CAR.",
        "tables": tables,
    }


def _covariate_block(df: pd.DataFrame, windows: Sequence[str]) -> dict[str, Any]:
    """The user's covariates of the second stage (``covariates.csv``): one row per window and covariate."""
    order = {w: i for i, w in enumerate(windows)}
    sub = df.assign(_o=df["window"].astype(str).map(order).fillna(len(order))).sort_values(
        "_o", kind="stable"
    )
    rows = [
        [
            str(r["window"]),
            str(r["covariate"]),
            fmt.fmt_pct(r.get("coef")),
            fmt.fmt_pct(r.get("se")).lstrip("+"),
            fmt.fmt_num(r.get("t")),
            _p_cell(r.get("p")),
            str(r.get("n_events", "")),
            str(r.get("n_clusters", "")),
        ]
        for r in sub.to_dict("records")
    ]
    return {
        "id": "analysis-covariates",
        "title": "Covariates of the second stage",
        "intro": "Coefficient of each covariate (an extra column of the events file) in the regression "
        "of CARs above: percentage points of CAR per unit of the covariate, standard errors clustered by "
        "the independent clusters of dependent pairs, p from t(G − 1).",
        "tables": [
            {
                "id": "table-covariates",
                "label": "",
                "open": True,
                "caption": "",
                "columns": ["Window", "Covariate", "Coefficient", "SE", "t", "p", "Events", "Clusters"],
                "num": [False, False, True, True, True, True, True, True],
                "rows": rows,
            }
        ],
    }


def _generic_block(name: str, df: pd.DataFrame, k: int) -> dict[str, Any]:
    g = generic_table(df)
    return {
        "id": f"analysis-extra-{k}",
        "title": name,
        "intro": "",
        "tables": [
            {
                "id": f"table-extra-{k}",
                "label": "",
                "open": len(g["rows"]) <= 12,  # a raw table of many rows opens on request
                "caption": f"{g['truncated']} more rows in the saved table." if g["truncated"] else "",
                "columns": g["columns"],
                "num": [False] * len(g["columns"]),
                "rows": g["rows"],
            }
        ],
    }


def _volatility_block(df: pd.DataFrame, windows: Sequence[str], main: str) -> dict[str, Any]:
    """The volatility reaction (``volatility.csv``): one table per window, every grouping but events."""
    tables = []
    shown = df[df["group_by"].astype(str) != "event"]
    order = [w for w in windows if w in set(shown["window"].astype(str))]
    for k, w in enumerate(order):
        sub = shown[shown["window"].astype(str) == w]
        rows = [
            [
                f"{r['group_by']}: {r['group']}" if r["group_by"] != "all" else "all pairs",
                fmt.fmt_num(r.get("mean_ratio")),
                fmt.fmt_num(r.get("expected_ratio"), 3),
                fmt.fmt_num(r.get("statistic")),
                _p_cell(r.get("p_value")),
                f"{r['n_clusters']} / {r['n_pairs']}",
            ]
            for r in sub.to_dict("records")
        ]
        tables.append(
            {
                "id": f"table-volatility-{k + 1}",
                "label": f"window {w}",
                "open": w == main,
                "caption": "",
                "columns": ["Group", "Mean ratio", "Expected", "t (CR2)", "p", "G / N"],
                "num": [False, True, True, True, True, True],
                "rows": rows,
            }
        )
    return {
        "id": "analysis-volatility",
        "title": "Volatility reaction",
        "intro": "Per pair, the ratio of the window's squared standardized abnormal returns to their "
        "estimation-period expectation (about 1 without a reaction; per pair in car.csv's vol_ratio). "
        "The test is on the mean log ratio, centred by its value over the pair's own estimation "
        "period, with a cluster-robust (CR2) standard error over the clusters of dependent pairs "
        "(G clusters, N pairs); a positive t means higher volatility. Groups of one event are in "
        "volatility.csv.",
        "tables": tables,
    }


def analysis_blocks(
    extras: Mapping[str, pd.DataFrame], windows: Sequence[str], main: str, skip: object = None
) -> list[dict[str, Any]]:
    """Display blocks for the analysis tables of :meth:`StudyResult.tables` beyond the standard five.

    Recognised by their columns: the escalation answers (``window, difference,
    text``), cross-sectional coefficients (``window, term, coef, se, p``);
    anything else is shown as a plain table. ``skip`` (the placebo table) is
    left out.
    """
    out = []
    for k, (name, df) in enumerate(extras.items(), start=1):
        if df is skip or df.empty:
            continue
        cols = set(df.columns)
        if {"window", "difference", "text"} <= cols:
            out.append(_direction_block(df, windows))
        elif {"window", "term", "coef", "se", "p"} <= cols:
            out.append(_coef_block(df, windows, main))
        elif {"window", "covariate", "coef", "se", "p", "text"} <= cols:
            out.append(_covariate_block(df, windows))
        elif {"group_by", "window", "mean_ratio", "mean_log_ratio"} <= cols:
            out.append(_volatility_block(df, windows, main))
        else:
            out.append(_generic_block(name, df, k))
    seen: dict[str, int] = {}
    for b in out:  # element ids stay unique when two tables of one kind are present
        n = seen[b["id"]] = seen.get(b["id"], 0) + 1
        if n > 1:
            b["id"] = f"{b['id']}-{n}"
            for t in b["tables"]:
                t["id"] = f"{t['id']}-{n}"
    return out


def answer_sentences(extras: Mapping[str, pd.DataFrame], main: str) -> list[str]:
    """Plain-language answers of an analysis table with a ``text`` column (main window first)."""
    out: list[str] = []
    for df in extras.values():
        if "text" in df.columns and "window" in df.columns:
            sub = df[df["window"].astype(str) == main]
            out.extend(str(t) for t in sub["text"] if isinstance(t, str) and t)
    return out


def unique(seq: Iterable[str] | pd.Series) -> list[str]:
    """Order-preserving de-duplication (a Series in one vectorized pass, not element by element)."""
    if isinstance(seq, pd.Series):
        return list(pd.unique(seq.astype(str)).tolist())
    return list(dict.fromkeys(seq))


STAR_NOTE = _STAR_NOTE

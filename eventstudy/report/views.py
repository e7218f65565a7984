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

import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import special

from ..inference import CLUSTER_TESTS
from ..inference.headline import HEADLINE_TEST
from ..markets import market_name
from ..summary import stars as _stars
from . import fmt

if TYPE_CHECKING:
    from ..results import StudyResult

__all__ = [
    "PRIMARY_TESTS",
    "STANDARD_TABLES",
    "EventInfo",
    "caar_path",
    "ci95",
    "event_info",
    "extra_tables",
    "Lookup",
    "records",
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
    t["announced"] = [_announced(r) for r in records(t)]
    t["direction_str"] = [fmt.direction_label(d) for d in t["direction"]]
    if "local_date" in t.columns:
        t["date"] = pd.to_datetime(t["local_date"]).dt.strftime("%Y-%m-%d")
    else:
        t["date"] = t["timestamp"].str.slice(0, 10)
    t.index = pd.Index(t["event_id"].astype(str).to_numpy(), name=None)
    return EventInfo(t, {str(r["event_id"]): r for r in records(t)})


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
        pos = ev.index.get_indexer(ar["event_id"]) if ev.index.is_unique else np.array([-1])
        if len(pos) and (pos < 0).any():  # (an unknown or repeated id: .loc says which)
            vals = ev.loc[ar["event_id"].to_numpy(), by].to_numpy()
        else:  # each row's event by position, not by label
            vals = ev[by].to_numpy()[pos]
        if by == "direction":  # each distinct value spelled once, then by position
            codes, kinds = pd.factorize(vals, use_na_sentinel=False)
            spelled = [{1: "+1", -1: "-1", 0: "0"}.get(int(v), str(v)) for v in kinds]
            vals = np.array(spelled, dtype=object)[codes] if len(vals) else np.array([], dtype=object)
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
        for r in records(res.caar()):
            key = (str(r["group_by"]), str(r["group"]), str(r["window"]))
            caar[key] = (float(r["caar"]), float(r["sd"]), int(r["n"]))
            groups.setdefault(key[0], [])
            if key[1] not in groups[key[0]]:
                groups[key[0]].append(key[1])
        rows: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for r in records(tests):
            rows.setdefault((str(r["group_by"]), str(r["group"]), str(r["window"])), []).append(r)
        robust = {
            (str(r["group_by"]), str(r["group"]), str(r["window"])): r for r in records(res.headlines())
        }
        return cls(tests, caar, rows, groups, robust)


def _plain_dtype(dtype: Any) -> bool:
    """Whether ``Series.tolist`` gives a column's values as ``to_dict("records")`` does."""
    if isinstance(dtype, np.dtype):
        return dtype.kind in "biufM"  # (dates: Timestamps and NaT both ways)
    return isinstance(dtype, pd.StringDtype) and isinstance(dtype.na_value, float)  # NaN, not pd.NA


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame.to_dict("records")``: the same keys, values and types, column by column.

    pandas builds the records row by row (about 0.1 s for the default study's tests
    table); numeric, boolean, date and text columns are read whole with ``tolist``
    (which boxes to Python scalars and Timestamps the same way). Any other column, or repeated column names,
    take pandas' own route.
    """
    names = frame.columns.tolist()
    if not names or not frame.columns.is_unique or not all(_plain_dtype(d) for d in frame.dtypes):
        return frame.to_dict("records")
    columns = [frame.iloc[:, j].tolist() for j in range(len(names))]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def unique(seq: Iterable[str] | pd.Series) -> list[str]:
    """Order-preserving de-duplication (a Series in one vectorized pass, not element by element)."""
    if isinstance(seq, pd.Series):
        return list(pd.unique(seq.astype(str)).tolist())
    return list(dict.fromkeys(seq))


STAR_NOTE = _STAR_NOTE

"""Two groups of pairs compared: the difference of mean CARs and a rank test.

For one CAR window, the pairs of group A (say escalation news, or the Hang
Seng) are compared with those of group B (de-escalation news, or the DAX; by
default every other pair). Two answers:

1. **Difference of mean CARs, cluster-robust.** OLS of CAR on a constant and
   the dummy 1{pair in A} over the pairs of A ∪ B; the dummy's coefficient is
   exactly mean(A) − mean(B). Its standard error is CRV1 clustered by the
   clusters of dependent pairs (``car.csv``'s ``cluster``, formula sheet §7.1),
   with G/(G − 1)·(N − 1)/(N − K) and t(G − 1), as
   :mod:`eventstudy.analysis.crosssection` (Cameron, Gelbach and Miller 2008,
   J. Business & Economic Statistics 26(3)). A cluster that holds pairs of both
   groups is handled by the sandwich: its score Σ_g x_g u_g sums over both
   groups, so their covariance enters the variance of the difference.
2. **Rank test on cluster means.** Pairs within a cluster are dependent (one
   event's news, overlapping windows), so ranking pairs as if independent
   overstates the evidence. Each cluster contributes one value per group — the
   mean CAR of that group's pairs in the cluster — and the Wilcoxon–Mann–Whitney
   rank-sum (``scipy.stats.mannwhitneyu``, two-sided; Mann and Whitney 1947)
   compares the two sets of cluster means. This is valid when no cluster holds
   both groups (a grouping by event attributes, clusters of single events).
   When some clusters hold both groups their two means are dependent and the
   rank-sum's p-value does not account for it; ``n_shared`` counts them and the
   note says so. When *every* cluster holds both groups (markets compared over
   the same events) the paired Wilcoxon signed-rank test of the per-cluster
   differences (``scipy.stats.wilcoxon``; Wilcoxon 1945) is the honest rank
   test and is reported instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, show

__all__ = ["Comparison", "compare_groups"]

_FIXED = {"market": "symbol", "category": "category", "direction": "direction", "event": "event_id"}


@dataclass(frozen=True)
class Comparison:
    """Result of :func:`compare_groups` (immutable).

    Attributes
    ----------
    window, by : str
        CAR window and grouping.
    a, b : tuple of str
        Levels of each group (``b`` empty: every other pair).
    n_a, n_b : int
        Pairs with a CAR in each group.
    mean_a, mean_b : float
        Mean CAR of each group's pairs.
    difference, se, t, p, df : float
        mean_a − mean_b, its CRV1 clustered SE, t, two-sided p from t(G − 1)
        and G − 1 (NaN with fewer than 3 clusters).
    n_clusters, n_shared : int
        Clusters G of the pairs compared, and how many hold both groups.
    rank_test : str
        ``"rank-sum (cluster means)"`` or ``"signed-rank (paired cluster means)"``.
    rank_statistic, rank_p : float
        Mann–Whitney U (of A) or the signed-rank statistic, and its two-sided p.
    cluster : str
        What the clusters are (``dependence``, ``event``).
    note, text : str
        Caveats; the answer in words (claims significance only when p < alpha).
    """

    window: str
    by: str
    a: tuple[str, ...]
    b: tuple[str, ...]
    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    difference: float
    se: float
    t: float
    p: float
    df: float
    n_clusters: int
    n_shared: int
    rank_test: str
    rank_statistic: float
    rank_p: float
    cluster: str
    note: str
    text: str

    def to_frame(self) -> pd.DataFrame:
        """The comparison as a one-row DataFrame (levels joined by ``|``)."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["a"], d["b"] = "|".join(self.a), "|".join(self.b)
        return pd.DataFrame([d])


def _levels(value: Any, by: str, name: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, (str, int, np.integer)) else list(value or [])
    out = []
    for v in items:
        s = str(v).strip()
        if by == "direction":
            try:
                s = str(int(s))
            except ValueError:
                raise InputError(f"{name}: direction {show(v)} must be 1, -1 or 0") from None
        out.append(s)
    return tuple(dict.fromkeys(out))


def _group_column(data: pd.DataFrame, events: Any, by: str) -> pd.Series:
    """Each pair's level of grouping ``by`` as text."""
    if by in _FIXED:
        col = _FIXED[by]
        if col in data.columns:
            return data[col].astype(str)
    table = getattr(events, "table", events)
    if not isinstance(table, pd.DataFrame) or by not in table.columns or by in ("timestamp", "title"):
        extra = list(getattr(events, "extra_columns", []))
        raise InputError(
            f"by: {show(by)} is not a grouping; valid: {', '.join(_FIXED)}"
            + (f" or a column of the events ({', '.join(extra)})" if extra else "")
        )
    lv = table.set_index(table["event_id"].astype(str))[by]
    return data["event_id"].astype(str).map(lv).fillna("").astype(str).str.strip()


def _clustered_difference(y: np.ndarray, in_a: np.ndarray, groups: np.ndarray) -> tuple[float, ...]:
    """Difference of means, CRV1 SE, t, p, df (NaN SE with fewer than 3 clusters)."""
    from .linfit import cluster_cov, inference, ols

    X = np.column_stack([np.ones(len(y)), in_a.astype(float)])
    codes = pd.factorize(groups)[0]
    G = int(codes.max()) + 1 if len(codes) else 0
    res = ols(y, X)
    if G < 3 or len(y) <= 2:
        return float(res.params[1]), np.nan, np.nan, np.nan, np.nan
    cov = cluster_cov(res, X, codes)  # statsmodels' CRV1, t(G − 1)
    inf = inference(res.params[1:], cov[1, 1:], G - 1.0)
    return float(res.params[1]), float(inf.se[0]), float(inf.t[0]), float(inf.p[0]), G - 1.0


def _rank_test(data: pd.DataFrame) -> tuple[str, float, float, int, str]:
    """Rank test on cluster means (see the module docstring): name, statistic, p, shared, note."""
    from scipy import stats

    means = data.groupby(["cluster", "in_a"])["car"].mean().unstack("in_a")
    ma = means.get(True, pd.Series(dtype=float)).dropna()
    mb = means.get(False, pd.Series(dtype=float)).dropna()
    shared = len(ma.index.intersection(mb.index))
    if len(ma) == 0 or len(mb) == 0:
        return "rank-sum (cluster means)", np.nan, np.nan, shared, ""
    if shared == len(ma) == len(mb):
        d = (ma - mb.reindex(ma.index)).to_numpy()
        if np.all(d == 0):
            return "signed-rank (paired cluster means)", np.nan, np.nan, shared, "no paired difference"
        r = stats.wilcoxon(d)
        note = "every cluster holds both groups: paired signed-rank test of per-cluster differences"
        return "signed-rank (paired cluster means)", float(r.statistic), float(r.pvalue), shared, note
    r = stats.mannwhitneyu(ma.to_numpy(), mb.to_numpy(), alternative="two-sided")
    note = (
        f"{shared} cluster(s) hold both groups: their two means are dependent, which the rank-sum's "
        "p-value does not account for (the clustered difference does)"
        if shared
        else ""
    )
    return "rank-sum (cluster means)", float(r.statistic), float(r.pvalue), shared, note


def compare_groups(
    car: pd.DataFrame,
    events: Any,
    by: str,
    a: Any,
    b: Any = None,
    window: str | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
) -> Comparison:
    """Compare the CARs of two groups of pairs in one window (see the module docstring).

    Parameters
    ----------
    car : DataFrame
        The CAR table (``event_id, symbol, window, car`` and ``cluster``).
    events : Events or DataFrame
        Event attributes (``result.events``).
    by : str
        ``"market"``, ``"category"``, ``"direction"``, ``"event"`` or an extra
        column of the events (its text values are the levels).
    a : level or sequence of levels
        Group A (e.g. ``-1``, ``"^HSI"``, ``["tariff_escalation", "retaliation"]``).
    b : level or sequence of levels, optional
        Group B; default every other pair.
    window : str, optional
        CAR window label; may be omitted when ``car`` holds one window.
    cluster : {"dependence", "event"}, optional
        Clusters (default ``dependence`` when ``car`` has a ``cluster`` column).
    alpha : float
        Level of the verdict in ``text``.

    Returns
    -------
    Comparison

    Raises
    ------
    InputError
        Unknown grouping, window or level; groups that overlap or are empty.
    """
    if not 0 < alpha < 1:
        raise InputError("alpha: must lie strictly between 0 and 1")
    if cluster is None:
        cluster = "dependence" if "cluster" in car.columns else "event"
    if cluster not in ("dependence", "event"):
        raise InputError(f"cluster: {show(cluster)} is not 'dependence' or 'event'")
    if cluster == "dependence" and "cluster" not in car.columns:
        raise InputError("cluster: 'dependence' needs the CAR table's 'cluster' column (car.csv has it)")
    windows = list(dict.fromkeys(car["window"].astype(str)))
    if window is None and len(windows) == 1:
        window = windows[0]
    if window not in windows:
        raise InputError(f"window: {show(window)} is not one of {', '.join(windows)}")
    data = car.loc[car["window"].astype(str) == window].reset_index(drop=True)
    table = getattr(events, "table", events)
    if by in ("category", "direction"):
        attrs = table.loc[:, ["event_id", by]].astype({"event_id": str})
        data = data.merge(attrs, on="event_id", how="left", validate="many_to_one")
    level = _group_column(data, events, by)
    la, lb = _levels(a, by, "a"), _levels(b, by, "b")
    if not la:
        raise InputError("a: give the level(s) of group A")
    both = sorted(set(la) & set(lb))
    if both:
        raise InputError(f"b: level(s) {', '.join(both)} are in both groups")
    known = set(level)
    unknown = [v for v in la + lb if v not in known]
    if unknown:
        raise InputError(f"{by}: no pair has the level(s) {', '.join(map(show, unknown))} in window {window}")
    in_a = level.isin(la).to_numpy()
    in_b = level.isin(lb).to_numpy() if lb else ~in_a
    data["in_a"] = in_a
    data["cluster"] = data["cluster" if cluster == "dependence" else "event_id"].astype(str)
    keep = (in_a | in_b) & np.isfinite(data["car"].to_numpy(dtype=float))
    data = data.loc[keep].reset_index(drop=True)
    n_a, n_b = int(data["in_a"].sum()), int((~data["in_a"]).sum())
    if n_a == 0 or n_b == 0:
        raise InputError(f"{by}: group {'A' if n_a == 0 else 'B'} has no pair with a CAR in window {window}")
    y = data["car"].to_numpy(dtype=float)
    groups = pd.factorize(data["cluster"])[0]
    diff, se, t, p, df = _clustered_difference(y, data["in_a"].to_numpy(), groups)
    rank_name, rank_stat, rank_p, shared, rank_note = _rank_test(data)
    mean_a, mean_b = float(y[data["in_a"]].mean()), float(y[~data["in_a"]].mean())
    G = int(groups.max()) + 1
    name_a, name_b = "|".join(la), "|".join(lb) if lb else "all other pairs"
    head = (
        f"Window {window}, {by} {name_a} ({n_a} pairs, mean CAR {100 * mean_a:+.2f}%) vs "
        f"{'' if not lb else by + ' '}{name_b} ({n_b} pairs, mean CAR {100 * mean_b:+.2f}%): "
        f"difference {100 * diff:+.2f} percentage points"
    )
    level_txt = f"{100 * alpha:g}%"
    if np.isfinite(p):
        verdict = "significant" if p < alpha else "not significant"
        text = (
            f"{head} (SE {100 * se:.2f} pp clustered, G = {G}, t({df:.0f}) = {t:.2f}, p = {p:.3g}): "
            f"{verdict} at the {level_txt} level; {rank_name} p = {rank_p:.3g}."
        )
    else:
        text = f"{head} (no clustered standard error: {G} cluster(s), at least 3 needed)."
    notes = [rank_note] if rank_note else []
    return Comparison(
        window=str(window),
        by=by,
        a=la,
        b=lb,
        n_a=n_a,
        n_b=n_b,
        mean_a=mean_a,
        mean_b=mean_b,
        difference=diff,
        se=se,
        t=t,
        p=p,
        df=df,
        n_clusters=G,
        n_shared=shared,
        rank_test=rank_name,
        rank_statistic=rank_stat,
        rank_p=rank_p,
        cluster=cluster,
        note="; ".join(notes),
        text=text,
    )

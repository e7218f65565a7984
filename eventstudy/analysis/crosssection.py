"""Second-stage cross-sectional regression of CARs on event attributes.

For one CAR window, every included event×market pair i = (e, m) gives one
observation::

    CAR_em = α + Σ_d δ_d 1{direction_e = d} + Σ_c κ_c 1{category_e = c}
               + Σ_j μ_j 1{m = j} + u_em

estimated by OLS (:mod:`.linfit`: statsmodels' OLS and CRV1 in numpy) with standard errors clustered
(``cov_type="cluster"``) by default by the clusters of dependent pairs of
formula sheet §7.1 (``car.csv``'s ``cluster`` column): the markets' CARs of
one event share the same news, and events whose windows overlap in calendar
time share market-days, so only such clusters are independent.
``cluster="event"`` clusters by event alone (the note then says how many
events share a window), ``cluster="overlap"`` by groups of events linked
through the ``overlaps`` column.

Conventions (each written down because a reference implementation may differ)
-----------------------------------------------------------------------------
* **Direction** is categorical by default: dummies for −1 (escalation) and
  0 (unclear) against the reference level +1 (de-escalation), so the
  coefficient ``direction[-1]`` *is* the escalation − de-escalation
  difference. ``direction="numeric"`` instead enters the value −1/0/+1 as one
  regressor with slope β (assumes "unclear" lies halfway); the difference
  (−1) − (+1) is then −2β.
* **Category and market dummies** use as reference the level with the most
  observations (ties: alphabetical first); the table's ``reference``
  attribute names them.
* **Collinearity**: columns are added in the order constant, direction,
  category, market; a column that is (numerically) a linear combination of
  those already kept is dropped and named in ``dropped`` and ``note``. A
  term with a single level contributes no column (also noted).
* **Clustered covariance** is statsmodels' CRV1: V = c · (X'X)⁻¹
  (Σ_g X_g'û_g û_g'X_g) (X'X)⁻¹ with c = G/(G − 1) · (N − 1)/(N − K)
  (``use_correction=True``, as Stata's ``vce(cluster)``), and t-based
  inference with G − 1 degrees of freedom (``df_correction=True``,
  ``use_t=True``); confidence intervals use the same t(G − 1).
* Fewer than 3 event clusters, or no residual degrees of freedom: the
  coefficients are reported, their standard errors, t, p and intervals are
  NaN and ``note`` says why (no exception).
* **The escalation question.** In event lists like ours most categories
  carry a single direction (``tariff_escalation`` is always −1, ``truce``
  always +1), so in a model with both direction and category the direction
  coefficients are identified only from the few mixed categories. The
  plain-language answer (:class:`DirectionAnswer`) is therefore taken from
  the model *without* category dummies — direction plus the other requested
  terms (market fixed effects by default), same clustering — and says so;
  the full model's table is reported as requested.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import InputError
from .linfit import cluster_cov, inference, ols

__all__ = [
    "COEF_COLUMNS",
    "TERMS",
    "CrossSection",
    "DirectionAnswer",
    "cross_section",
    "cross_section_tables",
    "cross_sections",
]

#: Attributes a model may contain, in the order their columns are added.
TERMS: tuple[str, ...] = ("direction", "category", "market")

#: Most markets for which the ``market`` term adds one dummy per market; a
#: universe of more markets leaves the term out (said in the note) rather than
#: fit thousands of dummies.
MAX_MARKET_DUMMIES = 50
#: Prefix of a covariate's column in the regression data (no clash with the CAR table's).
_COV = "covariate:"
#: Columns of :attr:`CrossSection.coefficients`.
COEF_COLUMNS = ["term", "coef", "se", "t", "p", "ci_low", "ci_high"]
#: Columns of the answers table of :func:`cross_section_tables`.
ANSWER_COLUMNS = [
    "window",
    "difference",
    "se",
    "t",
    "p",
    "df",
    "n_escalation",
    "n_deescalation",
    "n_clusters",
    "mean_escalation",
    "mean_deescalation",
    "terms",
    "text",
]

DirectionCoding = Literal["categorical", "numeric"]
ClusterBy = Literal["dependence", "event", "overlap"]
#: Words for each kind of cluster in the answer's text.
_CLUSTER_WORDS = {
    "dependence": "independent cluster of pairs",
    "event": "event",
    "overlap": "group of overlapping events",
}


@dataclass(frozen=True)
class DirectionAnswer:
    """Did escalation news (direction −1) move markets differently from de-escalation (+1)?

    Attributes
    ----------
    difference : float
        Estimated mean CAR of escalation minus de-escalation pairs, holding
        the other terms (market fixed effects) fixed; NaN when not estimable.
    se, t, p, df : float
        Its clustered standard error, t statistic, two-sided p-value and the
        t degrees of freedom (G − 1).
    n_escalation, n_deescalation : int
        Number of events (clusters) of each direction in the sample.
    mean_escalation, mean_deescalation : float
        Raw mean CAR over the pairs of each direction.
    terms : tuple of str
        Terms of the model the answer comes from.
    text : str
        The answer in words.
    """

    difference: float
    se: float
    t: float
    p: float
    df: float
    n_escalation: int
    n_deescalation: int
    mean_escalation: float
    mean_deescalation: float
    terms: tuple[str, ...]
    text: str


@dataclass(frozen=True, eq=False)
class CrossSection:
    """Result of :func:`cross_section` for one CAR window (immutable).

    Attributes
    ----------
    window : str
        CAR window label (``"-1:+1"``).
    terms : tuple of str
        Requested terms.
    direction_coding : {"categorical", "numeric"}
    n : int
        Observations (pairs with a finite CAR).
    n_clusters : int
        Clusters G (events, or groups of overlapping events).
    r2 : float
        OLS R².
    df : float
        Degrees of freedom of the t inference (G − 1); NaN when not computed.
    reference : mapping term → reference level
    dropped : tuple of str
        Columns dropped for collinearity.
    answer : DirectionAnswer
    note : str
        Degenerate cases and modelling caveats, empty when none.
    cluster : {"event", "overlap"}
        What the clusters of the covariance are.
    covariates : tuple of str
        The user's covariates in the model (:mod:`.covariates`), after the terms.
        Their rows' standard errors, t, p and intervals are CR2 with
        Bell–McCaffrey degrees of freedom (:mod:`.cr2`), given in ``term_df``.
    n_events : int
        Events with a CAR in the regression (after pairs without a covariate's value left out).
    """

    window: str
    terms: tuple[str, ...]
    direction_coding: str
    coef_table: pd.DataFrame = field(repr=False)
    n: int
    n_clusters: int
    r2: float
    df: float
    reference: Mapping[str, str]
    dropped: tuple[str, ...]
    answer: DirectionAnswer
    note: str
    cluster: str = "event"
    covariates: tuple[str, ...] = ()
    n_events: int = 0
    term_df: Mapping[str, float] = field(default_factory=dict)

    @property
    def coefficients(self) -> pd.DataFrame:
        """Tidy coefficients: ``term, coef, se, t, p, ci_low, ci_high`` (a copy)."""
        return self.coef_table.loc[:, COEF_COLUMNS].copy()


# --------------------------------------------------------------------- design
def _reference(values: pd.Series) -> Any:
    """Most frequent level, ties broken by sort order."""
    counts = values.value_counts()
    top = counts[counts == counts.max()].index
    return sorted(top, key=str)[0]


def _columns(
    data: pd.DataFrame, term: str, coding: DirectionCoding, notes: list[str]
) -> tuple[list[str], list[np.ndarray], str | None]:
    """Candidate regressor columns of one term (names, arrays, reference level)."""
    if term == "direction":
        d = data["direction"].astype(np.int64)
        if coding == "numeric":
            return ["direction"], [d.to_numpy(dtype=float)], None
        levels = sorted(d.unique())
        ref = 1 if 1 in levels else _reference(d)
        if len(levels) == 1:
            notes.append(f"direction has a single level ({ref:+d}) in this sample: no direction term")
        others = [lv for lv in levels if lv != ref]
        return (
            [f"direction[{lv:+d}]" if lv else "direction[0]" for lv in others],
            [(d == lv).to_numpy(dtype=float) for lv in others],
            f"{ref:+d}" if ref else "0",
        )
    col = {"category": "category", "market": "symbol"}[term]
    v = data[col].astype(str)
    ref = _reference(v)
    levels = sorted(v.unique())
    if len(levels) == 1:
        notes.append(f"{term} has a single level ('{ref}') in this sample: no {term} dummies")
    others = [lv for lv in levels if lv != ref]
    return [f"{term}[{lv}]" for lv in others], [(v == lv).to_numpy(dtype=float) for lv in others], str(ref)


def _independent(X: np.ndarray) -> np.ndarray:
    """Which columns of ``X`` are not linear combinations of the columns before them.

    One Householder QR in the given column order: column j adds a direction
    exactly when |R_jj| is not negligible next to the column's own norm (the
    same answer as checking the rank after each column, in O(n k²) once).
    """
    if X.shape[1] == 0:
        return np.zeros(0, dtype=bool)
    r = np.linalg.qr(X, mode="r")
    diag = np.abs(np.diag(r))
    scale = np.linalg.norm(X, axis=0)
    tol = max(X.shape) * np.finfo(float).eps * max(float(scale.max()), 1.0)
    out = np.zeros(X.shape[1], dtype=bool)
    out[: len(diag)] = (diag > tol) & (diag > 1e-10 * scale[: len(diag)])
    # check the answer: kept columns of full rank, dropped ones inside their span
    q, r2 = np.linalg.qr(X[:, out])
    rest = X[:, ~out]
    inside = np.linalg.norm(rest - q @ (q.T @ rest), axis=0) <= 1e-8 * np.maximum(scale[~out], 1.0)
    if inside.all() and np.abs(np.diag(r2)).min(initial=np.inf) > tol:
        return out
    keep = np.zeros(X.shape[1], dtype=bool)  # rank after each column, in order
    for j in range(X.shape[1]):
        trial = np.append(np.flatnonzero(keep), j)
        keep[j] = np.linalg.matrix_rank(X[:, trial]) == len(trial)
    return keep


def _design(
    data: pd.DataFrame,
    terms: Sequence[str],
    coding: DirectionCoding,
    notes: list[str],
    covariates: Sequence[str] = (),
) -> tuple[np.ndarray, list[str], dict[str, str], list[str]]:
    """Design matrix with collinear columns dropped (constant, terms in order, then covariates)."""
    cand_names = ["const"]
    cand_cols = [np.ones(len(data))]
    reference: dict[str, str] = {}
    for term in terms:
        nms, cs, ref = _columns(data, term, coding, notes)
        if ref is not None:
            reference[term] = ref
        cand_names += nms
        cand_cols += cs
    cand_names += list(covariates)
    cand_cols += [data[_COV + c].to_numpy(dtype=float) for c in covariates]
    keep = _independent(np.column_stack(cand_cols))
    cols = [c for c, k in zip(cand_cols, keep, strict=True) if k]
    names = [nm for nm, k in zip(cand_names, keep, strict=True) if k]
    dropped = [nm for nm, k in zip(cand_names, keep, strict=True) if not k]
    if dropped:
        notes.append(f"dropped as collinear with earlier terms: {', '.join(dropped)}")
    return np.column_stack(cols), names, reference, dropped


# ------------------------------------------------------------------------ fit
@dataclass(frozen=True)
class _Fit:
    params: np.ndarray
    cov: np.ndarray | None
    df: float
    r2: float
    names: list[str]
    reference: dict[str, str]
    dropped: list[str]
    X: np.ndarray
    resid: np.ndarray


def _fit(
    data: pd.DataFrame,
    terms: Sequence[str],
    coding: DirectionCoding,
    notes: list[str],
    covariates: Sequence[str] = (),
) -> _Fit:
    """OLS with event-clustered CRV1 covariance, or coefficients only when degenerate."""
    X, names, reference, dropped = _design(data, terms, coding, notes, covariates)
    y = data["car"].to_numpy(dtype=float)
    groups = pd.factorize(data["cluster"])[0]
    G = int(groups.max()) + 1 if len(groups) else 0
    n, k = X.shape
    res = ols(y, X)  # statsmodels' OLS (pinv) in numpy (.linfit)
    if G < 3 or n <= k:
        why = (
            f"only {G} cluster(s); clustered standard errors need at least 3"
            if G < 3
            else f"{n} observations for {k} parameters: no residual degrees of freedom"
        )
        notes.append(why + " (standard errors not computed)")
        return _Fit(res.params, None, np.nan, res.rsquared, names, reference, dropped, X, res.resid)
    cov = cluster_cov(res, X, groups)  # statsmodels' CRV1, use_correction=True
    return _Fit(res.params, cov, float(G - 1), res.rsquared, names, reference, dropped, X, res.resid)


def _table(fit: _Fit, alpha: float) -> pd.DataFrame:
    if fit.cov is None:
        nan = np.full(len(fit.names), np.nan)
        return pd.DataFrame(
            {
                "term": fit.names,
                "coef": fit.params,
                "se": nan,
                "t": nan,
                "p": nan,
                "ci_low": nan,
                "ci_high": nan,
            }
        )
    inf = inference(fit.params, np.diag(fit.cov), fit.df, alpha)  # t(G − 1), df_correction=True
    return pd.DataFrame(
        {
            "term": fit.names,
            "coef": fit.params,
            "se": inf.se,
            "t": inf.t,
            "p": inf.p,
            "ci_low": inf.ci_low,
            "ci_high": inf.ci_high,
        }
    )


def _cr2_covariates(
    table: pd.DataFrame,
    fit: _Fit,
    data: pd.DataFrame,
    covariates: Sequence[str],
    alpha: float,
    notes: list[str],
) -> dict[str, float]:
    """Replace the covariates' rows of ``table`` by CR2 / Bell–McCaffrey inference (in place).

    CRV1 with t(G − 1) rejected a skewed covariate 9–10 % of the time at 5 %
    on placebo dates; CR2 with Bell and McCaffrey's degrees of freedom is the
    small-sample correction for regressors whose variation sits in a few
    clusters (:mod:`.cr2`). Returns each covariate's degrees of freedom.
    """
    fitted = [c for c in covariates if c in fit.names]
    if not fitted or fit.cov is None:
        return {}
    from .cr2 import cr2_bm

    cov, dof = cr2_bm(fit.X, fit.resid, data["cluster"].to_numpy())
    j = [fit.names.index(c) for c in fitted]
    inf = inference(np.asarray(fit.params)[j], np.diag(cov)[j], dof[j], alpha)
    cols = [table.columns.get_loc(c) for c in ("se", "t", "p", "ci_low", "ci_high")]
    table.iloc[j, cols] = np.column_stack([inf.se, inf.t, inf.p, inf.ci_low, inf.ci_high])  # rows = names
    notes.append("covariates: CR2 standard errors with Bell–McCaffrey degrees of freedom")
    return {c: float(dof[i]) for c, i in zip(fitted, j, strict=True)}


# --------------------------------------------------------------------- answer
def _pct(x: float) -> str:
    return f"{100 * x:+.2f}%"


def _answer(
    data: pd.DataFrame,
    fit: _Fit,
    terms: tuple[str, ...],
    coding: DirectionCoding,
    window: str,
    alpha: float,
    cluster: str = "event",
) -> DirectionAnswer:
    d = data["direction"].to_numpy()
    esc, dee = d == -1, d == 1
    n_esc = int(data.loc[esc, "event_id"].nunique())
    n_dee = int(data.loc[dee, "event_id"].nunique())
    m_esc = float(data.loc[esc, "car"].mean()) if esc.any() else np.nan
    m_dee = float(data.loc[dee, "car"].mean()) if dee.any() else np.nan
    base: dict[str, Any] = {
        "n_escalation": n_esc,
        "n_deescalation": n_dee,
        "mean_escalation": m_esc,
        "mean_deescalation": m_dee,
        "terms": terms,
    }

    def missing(reason: str) -> DirectionAnswer:
        return DirectionAnswer(
            np.nan, np.nan, np.nan, np.nan, np.nan, **base, text=f"Window {window}: {reason}."
        )

    if n_esc == 0 or n_dee == 0:
        return missing(
            "cannot compare escalation with de-escalation news: the sample has "
            f"{n_esc} escalation and {n_dee} de-escalation event(s)"
        )
    c = np.zeros(len(fit.names))
    if coding == "numeric":
        if "direction" not in fit.names:
            return missing(
                "the direction regressor was dropped (collinear), so the difference is not estimable"
            )
        c[fit.names.index("direction")] = -2.0
    else:
        if "direction[-1]" not in fit.names:
            return missing("the escalation dummy was dropped (collinear), so the difference is not estimable")
        c[fit.names.index("direction[-1]")] = 1.0
    diff = float(c @ fit.params)
    if fit.cov is None:
        se = t = p = df = np.nan
    else:
        one = inference(np.array([diff]), np.array([c @ fit.cov @ c]), fit.df)  # statsmodels' t_test
        se, t, p, df = float(one.se[0]), float(one.t[0]), float(one.p[0]), fit.df
    controls = " + ".join(t_ for t_ in terms if t_ != "direction")
    head = (
        f"Window {window}: escalation news (direction −1; {n_esc} events, mean CAR {_pct(m_esc)}) "
        f"vs de-escalation news (+1; {n_dee} events, mean CAR {_pct(m_dee)}): "
        f"difference {100 * diff:+.2f} percentage points" + (f" holding {controls} fixed" if controls else "")
    )
    if not np.isfinite(p):
        text = head + " (no standard error: too few event clusters)."
    else:
        by = _CLUSTER_WORDS.get(cluster, cluster)
        g = int(data["cluster"].nunique())
        stats = f" (SE {100 * se:.2f} pp clustered by {by}, G = {g}, t({df:.0f}) = {t:.2f}, p = {p:.3g})"
        level = f"{100 * alpha:g}%"
        if p < alpha:
            way = "lower" if diff < 0 else "higher"
            verdict = (
                f". Yes: at the {level} level, escalation news moved markets differently from "
                f"de-escalation news ({way} CARs after escalation)."
            )
        else:
            verdict = (
                f". No evidence at the {level} level that escalation news moved markets "
                "differently from de-escalation news."
            )
        text = head + stats + verdict
    return DirectionAnswer(diff, se, t, p, df, **base, text=text)


# ------------------------------------------------------------------------ API
def _overlap_components(car: pd.DataFrame, window: str, data: pd.DataFrame) -> pd.Series:
    """Event → representative of its group of events linked by overlapping windows (union–find)."""
    events = list(dict.fromkeys(data["event_id"].astype(str)))
    parent = {e: e for e in events}

    def find(e: str) -> str:
        while parent[e] != e:
            parent[e] = parent[parent[e]]
            e = parent[e]
        return e

    if "overlaps" in car.columns:
        rows = car.loc[car["window"].astype(str) == window, ["event_id", "overlaps"]]
        for eid, ov in zip(rows["event_id"].astype(str), rows["overlaps"], strict=True):
            if eid not in parent or not isinstance(ov, str):
                continue
            for other in ov.split():
                if other in parent:
                    a, b = find(eid), find(other)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
    return pd.Series({e: find(e) for e in events}, dtype=object)


def _events_frame(events: Any) -> pd.DataFrame:
    table = getattr(events, "table", events)
    if not isinstance(table, pd.DataFrame):
        raise InputError("events: pass an Events object or its .table DataFrame")
    missing = [c for c in ("event_id", "category", "direction") if c not in table.columns]
    if missing:
        raise InputError(f"events: missing column(s) {', '.join(missing)}")
    return table.loc[:, ["event_id", "category", "direction"]]


def cross_section(
    car: pd.DataFrame,
    events: Any,
    window: str | None = None,
    terms: Sequence[str] = TERMS,
    direction: DirectionCoding = "categorical",
    alpha: float = 0.05,
    cluster: ClusterBy | None = None,
    max_market_dummies: int | None = MAX_MARKET_DUMMIES,
    covariates: Sequence[str] = (),
) -> CrossSection:
    """Regress one window's CARs on event attributes, SEs clustered (dependent pairs by default).

    Parameters
    ----------
    car : DataFrame
        The CAR table (columns of ``car.csv``; uses ``event_id, symbol,
        window, car``).
    events : Events or DataFrame
        Event attributes (``event_id, category, direction``), e.g.
        ``result.events`` or ``result.events.table``.
    window : str, optional
        CAR window label; may be omitted when ``car`` holds a single window.
    terms : sequence of {"direction", "category", "market"}
        Regressors besides the constant (default all three).
    direction : {"categorical", "numeric"}
        Coding of the direction (module docstring).
    alpha : float
        Level of the confidence intervals and of the verdict in the answer.
    cluster : {"dependence", "event", "overlap"}, optional
        Clusters of the covariance. ``"dependence"`` (the default when ``car``
        has a ``cluster`` column, as ``car.csv`` does): the clusters of
        dependent pairs of formula sheet §7.1 — pairs of one event, and pairs
        whose windows overlap in calendar time, in one cluster
        (:mod:`eventstudy.inference.clusters`). ``"event"`` (the default
        otherwise): each event. ``"overlap"``: each group of events linked by
        the ``overlaps`` column (another event's day 0 inside the window).
    max_market_dummies : int, optional
        With more markets than this, the ``market`` term is left out and the
        note says so (default :data:`MAX_MARKET_DUMMIES`; ``None``: no limit).
    covariates : sequence of str, optional
        Extra numeric columns of the events entered as regressors after the
        terms (checked by :func:`.covariates.covariate_frame`: an unknown,
        non-numeric, mostly empty or constant column is an
        :class:`~eventstudy.errors.EventsFileError` naming it). Pairs of
        events without a value are left out (noted); the direction answer
        comes from the model without covariates on every pair.

    Returns
    -------
    CrossSection
        Coefficients (``term, coef, se, t, p, ci_low, ci_high``), n,
        n_clusters, r2, the escalation-vs-de-escalation answer and notes.

    Raises
    ------
    InputError
        Unknown window, term or coding; missing columns; CAR rows whose
        event is not in ``events``.
    """
    terms = tuple(dict.fromkeys(terms))
    bad = [t for t in terms if t not in TERMS]
    if bad:
        raise InputError(f"terms: unknown term(s) {', '.join(bad)}; valid: {', '.join(TERMS)}")
    if direction not in ("categorical", "numeric"):
        raise InputError(f"direction: '{direction}' is not 'categorical' or 'numeric'")
    if cluster is None:
        cluster = "dependence" if "cluster" in car.columns else "event"
    if cluster not in ("dependence", "event", "overlap"):
        raise InputError(f"cluster: '{cluster}' is not 'dependence', 'event' or 'overlap'")
    if cluster == "dependence" and "cluster" not in car.columns:
        raise InputError("cluster: 'dependence' needs the CAR table's 'cluster' column (car.csv has it)")
    if not 0 < alpha < 1:
        raise InputError("alpha: must lie strictly between 0 and 1")
    missing = [c for c in ("event_id", "symbol", "window", "car") if c not in car.columns]
    if missing:
        raise InputError(f"car: missing column(s) {', '.join(missing)}")
    windows = list(dict.fromkeys(car["window"].astype(str)))
    if window is None:
        if len(windows) != 1:
            raise InputError(f"window: choose one of {', '.join(windows)}")
        window = windows[0]
    if window not in windows:
        raise InputError(f"window: '{window}' is not one of {', '.join(windows)}")
    ev = _events_frame(events)
    covariates = tuple(dict.fromkeys(covariates))
    if covariates:
        from .covariates import covariate_frame

        cov = covariate_frame(events, covariates)
        ev = ev.merge(cov.rename(columns={c: _COV + c for c in covariates}), on="event_id", how="left")
    cols = ["event_id", "symbol", "car"] + (["cluster"] if cluster == "dependence" else [])
    rows = car.loc[car["window"].astype(str) == window, cols]
    if cluster == "dependence":
        rows = rows.rename(columns={"cluster": "dep_cluster"})
    unknown = sorted(set(rows["event_id"]) - set(ev["event_id"]))
    if unknown:
        raise InputError(f"events: no attributes for event(s) {', '.join(map(str, unknown[:5]))}")
    data = rows.merge(ev, on="event_id", how="left", validate="many_to_one")
    notes: list[str] = []
    n_markets = data["symbol"].nunique()
    if "market" in terms and max_market_dummies is not None and n_markets > max_market_dummies:
        terms = tuple(t for t in terms if t != "market")
        notes.append(
            f"market dummies left out: {n_markets} markets, more than {max_market_dummies} "
            "(pass max_market_dummies=None to fit them)"
        )
    finite = np.isfinite(data["car"].to_numpy(dtype=float))
    if not finite.all():
        notes.append(f"{int((~finite).sum())} pair(s) without a CAR left out")
    data = data.loc[finite].reset_index(drop=True)

    if len(data) == 0:
        notes.append("no pair has a CAR in this window: nothing to regress")
        empty = pd.DataFrame({c: pd.Series(dtype=object if c == "term" else float) for c in COEF_COLUMNS})
        ans = DirectionAnswer(
            np.nan,
            np.nan,
            np.nan,
            np.nan,
            np.nan,
            0,
            0,
            np.nan,
            np.nan,
            terms,
            f"Window {window}: no pair has a CAR; nothing to compare.",
        )
        return CrossSection(
            window,
            terms,
            direction,
            empty,
            0,
            0,
            np.nan,
            np.nan,
            {},
            (),
            ans,
            "; ".join(notes),
            cluster,
            covariates,
        )

    data["cluster"] = data["event_id"].astype(str)
    linked = _overlap_components(car, window, data)
    n_linked = int((linked.map(linked.value_counts()) > 1).sum()) if len(linked) else 0
    if cluster == "overlap":
        data["cluster"] = data["event_id"].map(linked).astype(str)
    elif cluster == "dependence":
        data["cluster"] = data["dep_cluster"].astype(str)
    elif n_linked:
        notes.append(
            f"{n_linked} event(s) share a window with another event (overlaps column); clustering by "
            "event treats them as independent — cluster='overlap' merges them"
        )

    full = data
    if covariates:
        have = np.isfinite(data[[_COV + c for c in covariates]].to_numpy(dtype=float)).all(axis=1)
        if not have.all():
            notes.append(
                f"{int((~have).sum())} pair(s) of {data.loc[~have, 'event_id'].nunique()} event(s) "
                f"without a value of {', '.join(covariates)} left out of this model"
            )
        data = data.loc[have].reset_index(drop=True)
        if len(data) == 0:  # every pair of this window lacks a value: regress on nothing
            raise InputError(f"covariates: no pair of window {window} has a value of {', '.join(covariates)}")
    fit = _fit(data, terms, direction, notes, covariates)
    table = _table(fit, alpha)
    term_df = _cr2_covariates(table, fit, data, covariates, alpha, notes)

    answer_terms = ("direction", *[t for t in terms if t not in ("direction", "category")])
    if answer_terms == terms and not covariates:
        answer_fit = fit
    else:
        answer_fit = _fit(full, answer_terms, direction, [])
        if "category" in terms and "direction" in terms:
            per_cat = data.groupby("category")["direction"].nunique()
            single = int((per_cat == 1).sum())
            if single:
                notes.append(
                    f"{single} of {len(per_cat)} categories carry a single direction, so this model's "
                    "direction coefficients are identified only within the mixed categories; the "
                    f"escalation answer comes from the model {' + '.join(answer_terms)}"
                )
    answer = _answer(full, answer_fit, answer_terms, direction, window, alpha, cluster)
    return CrossSection(
        window=window,
        terms=terms,
        direction_coding=direction,
        coef_table=table,
        n=len(data),
        n_clusters=int(data["cluster"].nunique()),
        r2=fit.r2,
        df=fit.df,
        reference=dict(fit.reference),
        dropped=tuple(fit.dropped),
        answer=answer,
        note="; ".join(dict.fromkeys(notes)),
        cluster=cluster,
        covariates=covariates,
        n_events=int(data["event_id"].nunique()),
        term_df=term_df,
    )


def cross_sections(
    car: pd.DataFrame,
    events: Any,
    windows: Sequence[str] | None = None,
    **kwargs: Any,
) -> dict[str, CrossSection]:
    """:func:`cross_section` for each window (default: every window of ``car``, in order)."""
    if windows is None:
        windows = list(dict.fromkeys(car["window"].astype(str)))
    return {w: cross_section(car, events, window=w, **kwargs) for w in windows}


def cross_section_tables(results: Mapping[str, CrossSection]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stack results of several windows into two tidy tables.

    Returns
    -------
    coefficients : DataFrame
        ``window, term, coef, se, t, p, ci_low, ci_high, n, n_clusters, r2, note``.
    answers : DataFrame
        ``window, difference, se, t, p, df, n_escalation, n_deescalation,
        mean_escalation, mean_deescalation, terms, text``.
    """
    coefs = []
    answers = []
    for w, r in results.items():
        t = r.coefficients
        t.insert(0, "window", w)
        t["n"] = r.n
        t["n_clusters"] = r.n_clusters
        t["r2"] = r.r2
        t["note"] = r.note
        coefs.append(t)
        a = r.answer
        answers.append(
            {
                "window": w,
                "difference": a.difference,
                "se": a.se,
                "t": a.t,
                "p": a.p,
                "df": a.df,
                "n_escalation": a.n_escalation,
                "n_deescalation": a.n_deescalation,
                "n_clusters": r.n_clusters,
                "mean_escalation": a.mean_escalation,
                "mean_deescalation": a.mean_deescalation,
                "terms": " + ".join(a.terms),
                "text": a.text,
            }
        )
    coef_cols = ["window", *COEF_COLUMNS, "n", "n_clusters", "r2", "note"]
    coef_df = pd.concat(coefs, ignore_index=True) if coefs else pd.DataFrame(columns=coef_cols)
    return coef_df.loc[:, coef_cols], pd.DataFrame(answers, columns=ANSWER_COLUMNS)

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
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .csanswer import ANSWER_COLUMNS, DirectionAnswer, direction_answer
from .csdata import assign_clusters, pairs_data
from .csfit import (
    COEF_COLUMNS,
    COV_PREFIX,
    MAX_MARKET_DUMMIES,
    TERMS,
    ClusterBy,
    DirectionCoding,
    coefficient_table,
    covariate_cr2,
    fit_terms,
)

__all__ = [
    "COEF_COLUMNS",
    "TERMS",
    "CrossSection",
    "DirectionAnswer",
    "cross_section",
    "cross_section_tables",
    "cross_sections",
]


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
    data, terms, window, cluster, covariates, notes = pairs_data(
        car, events, window, terms, direction, alpha, cluster, max_market_dummies, covariates
    )
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

    assign_clusters(car, window, data, cluster, notes)

    full = data
    if covariates:
        have = np.isfinite(data[[COV_PREFIX + c for c in covariates]].to_numpy(dtype=float)).all(axis=1)
        if not have.all():
            notes.append(
                f"{int((~have).sum())} pair(s) of {data.loc[~have, 'event_id'].nunique()} event(s) "
                f"without a value of {', '.join(covariates)} left out of this model"
            )
        data = data.loc[have].reset_index(drop=True)
        if len(data) == 0:  # every pair of this window lacks a value: regress on nothing
            raise InputError(f"covariates: no pair of window {window} has a value of {', '.join(covariates)}")
    fit = fit_terms(data, terms, direction, notes, covariates)
    table = coefficient_table(fit, alpha)
    term_df = covariate_cr2(table, fit, data, covariates, alpha, notes)

    answer_terms = ("direction", *[t for t in terms if t not in ("direction", "category")])
    if answer_terms == terms and not covariates:
        answer_fit = fit
    else:
        answer_fit = fit_terms(full, answer_terms, direction, [])
        if "category" in terms and "direction" in terms:
            per_cat = data.groupby("category")["direction"].nunique()
            single = int((per_cat == 1).sum())
            if single:
                notes.append(
                    f"{single} of {len(per_cat)} categories carry a single direction, so this model's "
                    "direction coefficients are identified only within the mixed categories; the "
                    f"escalation answer comes from the model {' + '.join(answer_terms)}"
                )
    answer = direction_answer(full, answer_fit, answer_terms, direction, window, alpha, cluster)
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

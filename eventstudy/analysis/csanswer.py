"""The plain-language answer to "did escalation news move markets differently from de-escalation?".

Taken from the cross-section model without category dummies (see
:mod:`.crosssection`, "The escalation question"), with the same clustering.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .csfit import DirectionCoding, Fit
from .linfit import inference

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

#: Words for each kind of cluster in the answer's text.
CLUSTER_WORDS = {
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


# --------------------------------------------------------------------- answer
def pct(x: float) -> str:
    return f"{100 * x:+.2f}%"


def direction_answer(
    data: pd.DataFrame,
    fit: Fit,
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
        f"Window {window}: escalation news (direction −1; {n_esc} events, mean CAR {pct(m_esc)}) "
        f"vs de-escalation news (+1; {n_dee} events, mean CAR {pct(m_dee)}): "
        f"difference {100 * diff:+.2f} percentage points" + (f" holding {controls} fixed" if controls else "")
    )
    if not np.isfinite(p):
        text = head + " (no standard error: too few event clusters)."
    else:
        by = CLUSTER_WORDS.get(cluster, cluster)
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

"""The user's own covariates of the second stage: extra numeric columns of the events file.

Any column of the events file beyond the standard ones (``tariff_change_pp``,
``surprise``; see :mod:`eventstudy.events`) can enter the cross-sectional
regression of CARs (:func:`eventstudy.analysis.cross_section`,
``covariates=[...]``) as one regressor whose value is the event's. This module
checks such columns and writes the plain-language rows of ``covariates.csv``.

Checks (each an :class:`~eventstudy.errors.EventsFileError` naming the file
and the column, so the command line exits 1 with one line):

* the column is an extra column of the events (not a standard one, not
  ``const``);
* every non-empty cell is a finite number (the first bad cell's line is named);
* at most half of the events lack a value (:data:`MAX_MISSING_SHARE`): a
  regression on the few events that have one would silently answer another
  question;
* the values vary (at least two distinct values).

Events without a value are left out of that window's regression (listwise;
the note says how many pairs). The direction answer (``direction.csv``) never
uses covariates, so it does not change when covariates are added.

A covariate's coefficient is in CAR units per unit of the covariate; its
standard error is CR2 clustered by the clusters of dependent pairs, with Bell
and McCaffrey's degrees of freedom (:mod:`eventstudy.analysis.cr2`; formula
sheet §7.1): CRV1 with t(G − 1), which the model's other terms use, rejected a
skewed covariate 9–10 % of the time at 5 % on placebo dates, because a few
events carry most of its variation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import EventsFileError, InputError, show

if TYPE_CHECKING:
    from .crosssection import CrossSection

__all__ = ["COVARIATE_COLUMNS", "MAX_MISSING_SHARE", "covariate_frame", "covariate_table"]

#: Largest share of events that may lack a covariate's value.
MAX_MISSING_SHARE = 0.5
#: Columns of ``covariates.csv`` (:func:`covariate_table`).
COVARIATE_COLUMNS = [
    "window",
    "covariate",
    "coef",
    "se",
    "t",
    "p",
    "df",
    "n",
    "n_events",
    "n_clusters",
    "text",
]
_CLUSTER_WORDS = {
    "dependence": "independent clusters of pairs",
    "event": "events",
    "overlap": "groups of overlapping events",
}


def _source(events: Any) -> tuple[pd.DataFrame, str, list[str]]:
    """The events table, its file name and its extra columns."""
    from ..events import COLUMNS, DERIVED_COLUMNS

    table = getattr(events, "table", events)
    if not isinstance(table, pd.DataFrame):
        raise InputError("events: pass an Events object or its .table DataFrame")
    path = str(getattr(events, "path", "events"))
    known = set(COLUMNS) | set(DERIVED_COLUMNS)
    return table, path, [str(c) for c in table.columns if c not in known]


def covariate_frame(events: Any, names: Sequence[str]) -> pd.DataFrame:
    """The covariates' values per event, checked (see the module docstring).

    Parameters
    ----------
    events : Events or DataFrame
        The events (``Events`` or its ``.table``) with the covariate columns.
    names : sequence of str
        Covariate column names, in the order they enter the regression.

    Returns
    -------
    DataFrame
        ``event_id`` and one float column per covariate (NaN where empty).

    Raises
    ------
    EventsFileError
        A column that is unknown, standard, non-numeric, mostly empty or
        constant; the message names the file and the column.
    """
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise InputError(f"covariates: {names!r} must be a list of column names")
    table, path, extra = _source(events)
    out = pd.DataFrame({"event_id": table["event_id"].astype(str).to_numpy()})
    in_file = "line" in table.columns and path not in ("<memory>", "events DataFrame", "events")
    lines = table["line"] if in_file else None
    for name in dict.fromkeys(names):
        if name not in extra or name == "const":
            have = ", ".join(extra) if extra else "none"
            why = (
                "is a standard column, not a covariate"
                if name in table.columns or name == "const"
                else "is not a column of the events"
            )
            raise EventsFileError(
                path,
                f"covariate {show(name)} {why}; extra numeric columns of this file: {have}",
                column=name,
            )
        raw = table[name]
        text = raw.astype(str).str.strip().where(raw.notna(), "")
        empty = text.eq("") | text.str.lower().isin(["nan", "na", "n/a", "null", "none"])
        values = pd.to_numeric(text.where(~empty), errors="coerce")
        bad = ~empty & (values.isna() | ~np.isfinite(values.to_numpy(dtype=float)))
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            line = None if lines is None else int(lines.iloc[i])
            raise EventsFileError(
                path,
                f"covariate {show(name)}: {show(text.iloc[i])} is not a finite number; a covariate "
                "column holds numbers (empty cells are missing)",
                line,
                name,
            )
        n_missing, n = int(empty.sum()), len(text)
        if n and n_missing > MAX_MISSING_SHARE * n:
            raise EventsFileError(
                path,
                f"covariate {show(name)} is empty for {n_missing} of {n} events (more than "
                f"{MAX_MISSING_SHARE:.0%}); fill it in or leave the covariate out",
                column=name,
            )
        v = values.to_numpy(dtype=float)
        if np.unique(v[np.isfinite(v)]).size < 2:
            raise EventsFileError(
                path,
                f"covariate {show(name)} has no variation (one value for every event); it cannot "
                "explain differences between CARs",
                column=name,
            )
        out[name] = v
    return out


def _fmt_p(p: float) -> str:
    return f"{p:.3g}" if p >= 0.001 else "< 0.001"


def _sentence(window: str, name: str, row: Mapping[str, Any], cs: CrossSection, alpha: float) -> str:
    """One plain-language sentence on one covariate's coefficient."""
    coef, se, t, p = (float(row[k]) for k in ("coef", "se", "t", "p"))
    others = " + ".join(cs.terms)
    held = f", holding {others} fixed" if others else ""
    head = (
        f"Window {window}: one unit more of {name} goes with a CAR change of {100 * coef:+.3g} "
        f"percentage points{held}"
    )
    if not np.isfinite(p):
        return head + " (no standard error: too few clusters or no residual degrees of freedom)."
    by = _CLUSTER_WORDS.get(cs.cluster, cs.cluster)
    stats = (
        f" (CR2 SE {100 * se:.3g} pp clustered by {by}, G = {cs.n_clusters}, "
        f"t({float(row.get('df', cs.df)):.1f}) = {t:.2f}, p = {_fmt_p(p)})"
    )
    level = f"{100 * alpha:g}%"
    if p < alpha:
        return head + stats + f": significant at the {level} level."
    return head + stats + f": not significant at the {level} level."


def covariate_table(results: Mapping[str, CrossSection], alpha: float = 0.05) -> pd.DataFrame:
    """The covariates' rows of several windows' regressions, with a sentence each.

    Columns :data:`COVARIATE_COLUMNS`; a covariate dropped as collinear has
    NaN statistics and a sentence that says so. Significance is claimed only
    when the clustered p-value is below ``alpha``.
    """
    rows: list[dict[str, Any]] = []
    for w, cs in results.items():
        coefs = cs.coefficients.set_index("term")
        for name in cs.covariates:
            base = {"window": w, "covariate": name, "n": cs.n, "n_clusters": cs.n_clusters}
            base["n_events"] = cs.n_events
            if name not in coefs.index:
                why = "dropped as collinear with the other terms" if name in cs.dropped else "not estimated"
                rows.append(
                    base
                    | dict.fromkeys(("coef", "se", "t", "p", "df"), np.nan)
                    | {"text": f"Window {w}: {name} {why}; no estimate."}
                )
                continue
            r = coefs.loc[name]
            rows.append(
                base
                | {k: float(r[k]) for k in ("coef", "se", "t", "p")}
                | {
                    "df": cs.term_df.get(name, cs.df),
                    "text": _sentence(w, name, r.to_dict() | {"df": cs.term_df.get(name, cs.df)}, cs, alpha),
                }
            )
    return pd.DataFrame(rows, columns=COVARIATE_COLUMNS)

"""Blocks of the report's analysis section: cross-section, direction, covariates, volatility."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import fmt

if TYPE_CHECKING:
    pass

from .tablerows import generic_table
from .views import group_label, records, stars, unique

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
    for r in records(d.sort_values("_o", kind="stable")):
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
            for r in records(sub)
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
        for r in records(sub)
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
            for r in records(sub)
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

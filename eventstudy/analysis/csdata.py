"""The pairs a cross-sectional regression fits: options checked, rows joined, clusters labelled."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .csfit import COV_PREFIX, TERMS, ClusterBy, DirectionCoding

__all__ = ["assign_clusters", "pairs_data"]


def _overlap_components(car: pd.DataFrame, window: str, data: pd.DataFrame) -> pd.Series:
    """Event → representative of its group of events linked by overlapping windows (union–find)."""
    events = list(pd.unique(data["event_id"].astype(str)))
    parent = {e: e for e in events}

    def find(e: str) -> str:
        while parent[e] != e:
            parent[e] = parent[parent[e]]
            e = parent[e]
        return e

    if "overlaps" in car.columns:
        rows = car.loc[car["window"].astype(str) == window, ["event_id", "overlaps"]]
        rows = rows.assign(event_id=rows["event_id"].astype(str)).drop_duplicates()  # each link once
        for eid, ov in zip(rows["event_id"], rows["overlaps"], strict=True):
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


def pairs_data(
    car: pd.DataFrame,
    events: Any,
    window: str | None,
    terms: Sequence[str],
    direction: DirectionCoding,
    alpha: float,
    cluster: ClusterBy | None,
    max_market_dummies: int | None,
    covariates: Sequence[str],
) -> tuple[pd.DataFrame, tuple[str, ...], str, ClusterBy, tuple[str, ...], list[str]]:
    """Check the options of :func:`~eventstudy.analysis.cross_section` and join one window's pairs.

    Returns the pairs with a finite CAR and their event attributes (and
    covariates), the terms kept, the window, the clustering, the covariates and
    the notes so far. Raises :class:`~eventstudy.errors.InputError` naming the
    argument for an unknown window, term, coding or clustering, missing
    columns and CAR rows of unknown events.
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
    windows = list(pd.unique(car["window"].astype(str)))
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
        ev = ev.merge(cov.rename(columns={c: COV_PREFIX + c for c in covariates}), on="event_id", how="left")
    cols = ["event_id", "symbol", "car"] + (["cluster"] if cluster == "dependence" else [])
    rows = car.loc[car["window"].astype(str) == window, cols]
    if cluster == "dependence":
        rows = rows.rename(columns={"cluster": "dep_cluster"})
    unknown = sorted(set(pd.unique(rows["event_id"])) - set(pd.unique(ev["event_id"])))
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

    return data, terms, window, cluster, covariates, notes


def assign_clusters(
    car: pd.DataFrame, window: str, data: pd.DataFrame, cluster: ClusterBy, notes: list[str]
) -> None:
    """Write the covariance clusters of the pairs to ``data["cluster"]`` (and a note on linked events)."""
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

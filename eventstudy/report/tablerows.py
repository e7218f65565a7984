"""Rows of the report's tables: summary, tests by group, pairs, exclusions, data quality."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..config import format_window
from ..inference import CLUSTER_TESTS
from ..markets import market_name
from . import fmt
from .eventview import day0_returns
from .headlines import test_note
from .views import (
    ADJUSTED_P,
    PRIMARY_TESTS,
    EventInfo,
    Lookup,
    ci95,
    group_label,
    records,
    stars,
    stat_text,
    test_stars,
    unique,
)

if TYPE_CHECKING:
    from ..results import StudyResult


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
                "note": test_note(r),
            }
    tests = [{"test": nm, "cells": [cells.get((nm, w)) for w in windows]} for nm in names]
    # the headline test first, then the other cluster tests, then those assuming independence
    rank = {t: i for i, t in enumerate(dict.fromkeys((*PRIMARY_TESTS, *CLUSTER_TESTS)))}
    tests.sort(key=lambda t: rank.get(str(t["test"]), len(rank)))
    return {"windows": list(windows), "caar": caar, "n": ns, "clusters": clusters, "tests": tests}


def common_notes(tests: pd.DataFrame) -> dict[str, str]:
    """Per test of ``tests``, the note of more than half its rows, if one is (blank notes count as none).

    A strict majority is one note or none, whatever the order of counting; counted in plain
    Python over the two columns (a pandas ``value_counts`` per test cost about a millisecond each).
    """
    cells: Counter[str] = Counter()
    found: dict[str, Counter[str]] = {}
    for test, note in zip(tests["test"].astype(str).tolist(), tests["note"].tolist(), strict=True):
        cells[test] += 1
        if isinstance(note, str) and note != "":
            found.setdefault(test, Counter())[note] += 1
    common: dict[str, str] = {}
    for test, counts in found.items():
        note, n = counts.most_common(1)[0]
        if n * 2 > cells[test]:
            common[test] = note
    return common


def tests_matrix(
    look: Lookup,
    by: str,
    info: EventInfo,
    windows: Sequence[str],
    name: str | None = None,
    order: Sequence[str] = (),
    only: bool = False,
) -> dict[str, Any]:
    """One grouping's tests as a matrix: rows group × window (of ``windows``), columns tests.

    Rows are grouped by group (``order`` first, then the table's order), windows
    in the order of ``windows``; with ``only``, the groups of ``order`` alone.
    """
    keep = (look.tests["group_by"] == by) & look.tests["window"].isin(list(windows))
    if only:
        keep &= look.tests["group"].astype(str).isin([str(g) for g in order])
    t = look.tests[keep]
    names = unique(t["test"].astype(str))
    rank = {nm: i for i, nm in enumerate(dict.fromkeys((*PRIMARY_TESTS, *CLUSTER_TESTS)))}
    names.sort(key=lambda nm: rank.get(nm, len(rank)))
    col = {nm: k for k, nm in enumerate(names)}
    caar = {(k[1], k[2]): (v[0], v[2]) for k, v in look.caar.items() if k[0] == by}
    adj = [k for k in ADJUSTED_P if k in t.columns]
    # a note shared by most cells of a test (e.g. "B=999 … draws") goes to the column header once
    common = common_notes(t) if "note" in t.columns else {}
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for r in records(t):
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
    notes = kp["note"]
    codes, distinct = pd.factorize(notes, use_na_sentinel=False)  # each distinct note parsed once
    rbar = np.array([fmt.parse_rbar(n) for n in distinct], dtype=float)[codes] if len(kp) else np.empty(0)
    kp = kp.assign(rbar=rbar)
    kp = kp[np.isfinite(kp["rbar"].to_numpy(dtype=float))]
    if kp.empty:
        return []
    first = kp.drop_duplicates(["group_by", "group", "window"])
    first = first[first["group_by"].notna() & first["group"].notna()]  # (as a groupby drops them)
    by_group: dict[tuple[Any, Any], dict[str, float]] = {}  # in order of first appearance
    for gb, g, w, r in zip(
        first["group_by"].tolist(),
        first["group"].tolist(),
        first["window"].astype(str).tolist(),
        first["rbar"].tolist(),
        strict=True,
    ):
        by_group.setdefault((gb, g), {})[w] = r
    return [
        {
            "grouping": str(gb),
            "group": group_label(str(gb), str(g)),
            "values": [fmt.fmt_num(vals.get(w, np.nan), 3) for w in windows],
        }
        for (gb, g), vals in by_group.items()
        if gb != "event"
    ]


#: Most rows of the report's pair table; a larger study lists the pairs with
#: the smallest main-window p (every pair is in ``car.csv``). About 0.75 kB a
#: row: 1,000 rows keep the table near 0.75 MB (5,000 made 3.7 MB of a
#: 14.7 MB report at 6,000 pairs; bench/README.md).
MAX_PAIR_ROWS = 1000


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
    for r in records(m):
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
        for r in records(res.excluded)
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

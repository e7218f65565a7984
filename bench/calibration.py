"""Size and power of every test on placebo dates of the bundled real data.

Usage (from the repository root)::

    PYTHONPATH=. python bench/calibration.py [--reps 500] [--power-reps 100] [--seed 20261206]
        [--deltas -0.005 -0.01] [--workers 2] [--draws 499] [--tests T ...] [--out DIR]
        [--layout uniform|bursts]

Method (formula sheet §7.6; issue #11, item 7)
-----------------------------------------------
**Placebo events.** Each replication is a new events file that mirrors the
curated one (the repository's ``events.csv``): the same number of events, each
curated event keeping its timestamp *form* and moved to a random date. An
event with a time of day keeps its time and offset (``2019-05-05T16:08Z`` →
``2021-09-14T16:08Z``); a date-only event stays date-only with its ``tz``
(``2018-03-23`` in ``Asia/Shanghai`` → ``2020-07-02`` in ``Asia/Shanghai``).
Every date in the timestamp is shifted by the same number of days, so an
interval ``START/END`` (``2018-04-04T00:00+08:00/2018-04-04T09:30-04:00``)
keeps its hours, offsets and length. ``symbols``, ``category`` and
``direction`` are kept (so groupings by them have the curated sizes). Dates
are drawn uniformly, independently and with replacement from the *eligible*
calendar days: 2018-01-01…2024-12-31 with no curated event within ±10
calendar days (``--gap``), counting every calendar date a curated event
touches (the dates written in its timestamp and the date the library files
it under, ``local_date``); a placebo event is placed only where every date it
touches is eligible. Weekends and holidays are eligible, as in the curated
file (such news moves markets at the next session). Replication ``r`` is drawn
from ``numpy.random.default_rng([seed, r])`` alone, so it is the same whatever
``--reps`` and the number of workers.

**Design.** The default study, unchanged: the five default markets (^HSI,
^STOXX50E, ^GDAXI, ^FTSE, ^FCHI) from the bundled snapshot, constant-mean
model, estimation −250…−11, event window −10…+10, CAR windows 0:0, 0:+1,
−1:+1, −5:+5, sessions −1…+1 around the other (placebo) events of a market
masked out of estimation, at least 100 estimation observations. Resampling
tests use ``--draws`` draws (default 499, against the library's 999: it halves
the cost of ``cluster_bootstrap``, and the Monte Carlo error of a bootstrap p
near 0.05 is then about ±0.01, which moves a rejection rate by a fraction of a
point) and the study seed ``seed + r``. Curated events are
not masked out of the placebo studies' estimation windows: like unlisted news
they are part of the data the design meets.

**Size.** For every replication, CAR window and test, the p-value of the
overall group (``group_by == "all"`` in ``res.tests()``), and the headline's
p-value (``res.headline``, when the library has it; its test and window are
the library's choice). The rejection rate at 5 % is the share of replications
with p < 0.05 among those where the test gave a p-value (a test that cannot
apply gives none; the count is reported), with a Clopper–Pearson 95 %
interval. A calibrated test rejects about 5 % (with 500 replications the
interval for an exact 5 % test is about 3.3–7.2 %).

**Power.** The first ``--power-reps`` replications again, with a known
abnormal return injected at day 0 of every event in every market: each
market's closes from the pair's day 0 onward are multiplied by (1 + δ), so
that day-0 return becomes (1 + δ)(1 + r) − 1 = r + δ(1 + r) and no other
return changes. Day 0 per pair is taken from the size run's ``car.csv``
(``day0``: the earliest day 0 of a date-only event, which every CAR window
ending at or after day 0 covers). Two events with the same day 0 in a market
inject δ once (the market-day moves once). Day 0 returns of one event are
masked out of the other events' estimation windows, so the fits do not change.
A CAR window that also contains another placebo event's day 0 in that market
carries that event's δ too, as it would in real data (on average −5:+5 then
holds about 1.5 δ).
Reported: the share of replications with p < 0.05 (two-sided, so a rejection
in either direction counts).

**Output.** A markdown table (printed and written to
``bench/results/calibration.md``): rejection rates per test × CAR window for
size, then for each δ; replications, seed, runtime, date, machine load. The
raw p-values (one row per replication × scenario × window × test) go to
``bench/results/calibration_pvalues.csv.gz``.

**Speed.** Replications run in a ``ProcessPoolExecutor`` (``--workers``,
default 2); each worker loads the prices once. Every size replication is one
study run (``EventStudy(...).run()``, all groupings and single days, as the
library does); the power runs follow, one per replication and δ, reusing the
size run's day 0. Measured CPU per study run (400 pairs, idle process): about
0.24 s for the run with one cheap test, +0.73 s for the Kolari–Pynnönen r̄
(shared by ``kp_bmp_t`` and ``kp_patell_z``), +0.85 s for
``cluster_bootstrap`` (999 draws), +0.24 s for ``wild_bootstrap``, and about
0.35 s for the other tests together; so ``wild_bootstrap`` is left out unless
named in ``--tests`` (it resamples pairs as independent, like ``csect_t``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import eventstudy as es

ROOT = Path(__file__).resolve().parents[1]
CURATED = ROOT / "events.csv"
RESULTS = ROOT / "bench" / "results"
START, END = pd.Timestamp("2018-01-01"), pd.Timestamp("2024-12-31")
GAP_DAYS = 10
CAR_WINDOWS = ("0:0", "0:+1", "-1:+1", "-5:+5")
# the tests of the report, in table order; any other registered test is added after them
REPORTED = (
    "headline",
    "bmp_t",
    "csect_t",
    "patell_z",
    "kp_bmp_t",
    "kp_patell_z",
    "cluster_t",
    "cluster_bootstrap",
    "cluster_cr2_t",
)
# left out by default (``--tests`` runs them): ``wild_bootstrap`` resamples pairs as independent,
# like ``csect_t`` (whose size it shares), and costs 0.24 s CPU per study run of ~2.2 s
SKIPPED_BY_DEFAULT = ("wild_bootstrap",)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


# ---------------------------------------------------------------- replication builder
@dataclass(frozen=True)
class Design:
    """What a replication mirrors: the curated events and the eligible dates.

    Attributes
    ----------
    records : list of dict
        The curated events as records with the file's columns.
    anchors : numpy.ndarray
        Per curated event, the calendar date written in its timestamp
        (``datetime64[D]``).
    eligible : numpy.ndarray
        The eligible placebo dates (``datetime64[D]``, ascending).
    spans : tuple of tuple of int
        Per curated event, the day offsets from its leading date of every
        calendar date it touches: the dates written in its timestamp (an
        interval's end) and the date the library files it under
        (``local_date``). A placebo date is used only if all of them, moved
        with it, are eligible.
    """

    records: list[dict[str, object]]
    anchors: np.ndarray
    eligible: np.ndarray
    spans: tuple[tuple[int, ...], ...] = ()


def timestamp_form(record: dict[str, object]) -> tuple[str, str]:
    """A timestamp's form: ``("date", tz)`` for a date-only event, else ``("time", rest)``.

    ``rest`` is the timestamp after its leading date with every other date
    blanked (``T16:30Z``; ``T01:00Z/…T09:00Z`` for an interval), so two events
    have the same form when they differ only in their dates.
    """
    raw = str(record["timestamp"])
    if _DATE_RE.fullmatch(raw):
        return ("date", str(record.get("tz") or ""))
    return ("time", _DATE_RE.sub("…", raw[10:]))


def leading_date(timestamp: str) -> np.datetime64:
    """The calendar date a timestamp starts with."""
    m = _DATE_RE.match(timestamp)
    if m is None:
        raise ValueError(f"timestamp {timestamp!r} does not start with YYYY-MM-DD")
    return np.datetime64(m.group(0), "D")


def shift_timestamp(timestamp: str, days: int) -> str:
    """Move every date written in ``timestamp`` by ``days`` (times and offsets unchanged)."""

    def move(m: re.Match[str]) -> str:
        return str(np.datetime64(m.group(0), "D") + np.timedelta64(days, "D"))

    return _DATE_RE.sub(move, timestamp)


def eligible_dates(
    anchors: np.ndarray, start: pd.Timestamp = START, end: pd.Timestamp = END, gap: int = GAP_DAYS
) -> np.ndarray:
    """Calendar days in ``[start, end]`` with no anchor within ±``gap`` days."""
    days = np.arange(np.datetime64(start.date(), "D"), np.datetime64(end.date(), "D") + 1)
    a = np.sort(anchors.astype("datetime64[D]"))
    # distance to the nearest anchor, from the anchors on either side
    i = np.searchsorted(a, days)
    left = np.where(i > 0, (days - a[np.maximum(i - 1, 0)]).astype(int), np.iinfo(np.int64).max)
    right = np.where(i < len(a), (a[np.minimum(i, len(a) - 1)] - days).astype(int), np.iinfo(np.int64).max)
    return days[np.minimum(np.abs(left), np.abs(right)) > gap]


def load_design(path: Path = CURATED, gap: int = GAP_DAYS) -> Design:
    """The curated events of ``path`` and the placebo dates eligible around them."""
    table = es.read_events(path).table
    cols = [c for c in es.events.COLUMNS if c in table.columns]
    records = [{c: row[c] for c in cols} for row in table.to_dict("records")]
    anchors = np.array([leading_date(str(r["timestamp"])) for r in records], dtype="datetime64[D]")
    local = table["local_date"].to_numpy(dtype="datetime64[D]")
    spans = []
    for rec, lead, loc in zip(records, anchors, local, strict=True):
        days = [np.datetime64(d, "D") for d in _DATE_RE.findall(str(rec["timestamp"]))] + [loc]
        spans.append(tuple(sorted({int((d - lead).astype(int)) for d in days})))
    touched = np.unique(
        np.concatenate([a + np.array(sp) for a, sp in zip(anchors, spans, strict=True)]).astype(
            "datetime64[D]"
        )
    )
    return Design(records, anchors, eligible_dates(touched, gap=gap), tuple(spans))


def _valid_starts(ok: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Day numbers d with ``ok[d + o]`` for every offset o (``ok``: eligible by day number)."""
    valid = ok.copy()
    for off in np.unique(offsets):
        if off > 0:
            valid[: len(ok) - off] &= ok[off:]
            valid[len(ok) - off :] = False
        elif off < 0:
            valid[-off:] &= ok[: len(ok) + off]
            valid[:-off] = False
    return np.flatnonzero(valid)


def bursts(anchors: np.ndarray, gap: int = GAP_DAYS) -> np.ndarray:
    """Burst number per event: events chained by at most ``gap`` days between neighbours share one."""
    order = np.argsort(anchors, kind="stable")
    new = np.r_[True, np.diff(anchors[order]).astype(int) > gap]
    out = np.empty(len(anchors), dtype=np.int64)
    out[order] = np.cumsum(new) - 1
    return out


def replication_dates(design: Design, rep: int, seed: int, layout: str = "uniform") -> np.ndarray:
    """The placebo date of each curated event in replication ``rep`` (``datetime64[D]``).

    ``uniform``: independent uniform draws from the eligible dates (among
    those at which every date the event touches, moved with it, is eligible).
    ``bursts``: the curated events chained by at most 10 days form bursts
    (38 in the curated file, up to 8 events over 22 days, e.g. April 2025);
    each burst keeps its internal day gaps and is moved as a whole to a random
    start at which every one of its dates is eligible. This keeps the curated
    file's clustering in time, which is what makes few clusters.
    Deterministic in ``(seed, rep)`` alone.
    """
    rng = np.random.default_rng([seed, rep])
    el = design.eligible
    first = el[0]
    ok = np.zeros((el[-1] - first).astype(int) + 1, dtype=bool)
    ok[(el - first).astype(int)] = True  # eligible, by day number from the first eligible day
    spans = design.spans or tuple((0,) for _ in design.records)
    out = np.empty(len(design.records), dtype="datetime64[D]")
    if layout == "uniform":
        starts: dict[tuple[int, ...], np.ndarray] = {}
        for i, sp in enumerate(spans):
            if sp not in starts:
                starts[sp] = _valid_starts(ok, np.array(sp))
            out[i] = first + int(starts[sp][rng.integers(0, len(starts[sp]))])
        return out
    if layout != "bursts":
        raise ValueError(f"layout: expected 'uniform' or 'bursts', got {layout!r}")
    ids = bursts(design.anchors)
    for b in range(ids.max() + 1):
        members = np.flatnonzero(ids == b)
        offsets = (design.anchors[members] - design.anchors[members].min()).astype(int)
        touched = np.concatenate([o + np.array(spans[m]) for o, m in zip(offsets, members, strict=True)])
        valid = _valid_starts(ok, touched)
        out[members] = first + (valid[rng.integers(0, len(valid))] + offsets)
    return out


def replication_records(
    design: Design, rep: int, seed: int, layout: str = "uniform"
) -> list[dict[str, object]]:
    """The placebo events of replication ``rep``: each curated event moved to a placebo date.

    The dates come from :func:`replication_dates`; everything else of the
    event but its id and title (and source, notes, confidence, emptied) is kept.
    """
    picks = replication_dates(design, rep, seed, layout)
    out = []
    for i, (rec, new, old) in enumerate(zip(design.records, picks, design.anchors, strict=True)):
        r = dict(rec)
        r["event_id"] = f"placebo-{rep:04d}-{i:03d}"
        r["timestamp"] = shift_timestamp(str(rec["timestamp"]), int((new - old).astype(int)))
        r["title"] = f"placebo for {rec['event_id']}"
        r["source"] = r["notes"] = r["confidence"] = ""
        out.append(r)
    return out


def replication_events(design: Design, rep: int, seed: int, layout: str = "uniform") -> es.Events:
    """:func:`replication_records` as validated :class:`eventstudy.Events`."""
    return es.events_from_records(replication_records(design, rep, seed, layout))


# ---------------------------------------------------------------- one replication
def inject(prices: es.Prices, day0: pd.DataFrame, delta: float) -> es.Prices:
    """Multiply each market's closes from each distinct day 0 onward by ``1 + delta``."""
    closes = {}
    for sym, ser in prices.closes.items():
        days = np.unique(day0.loc[day0["symbol"] == sym, "day0"].to_numpy(dtype="datetime64[ns]"))
        if len(days) == 0:
            closes[sym] = ser
            continue
        # number of distinct day 0s on or before each date
        k = np.searchsorted(days, ser.index.to_numpy(dtype="datetime64[ns]"), side="right")
        closes[sym] = ser * (1.0 + delta) ** k
    return es.Prices(closes, prices.source, prices.origin, prices.provenance)


_WORKER: dict[str, object] = {}


def _init_worker(symbols: Sequence[str], gap: int, model: dict | None = None) -> None:
    model = model or {}
    extra = [model["benchmark"]] if model.get("benchmark") else []
    extra += [f for f in model.get("factors") or () if f not in extra]
    _WORKER["prices"] = es.load_prices([*symbols, *[x for x in extra if x not in symbols]], source="snapshot")
    _WORKER["design"] = load_design(gap=gap)
    _WORKER["model"] = {"symbols": list(symbols), **model}


def _study(
    events: es.Events, prices: es.Prices, tests: Sequence[str], draws: int, seed: int
) -> es.StudyResult:
    """One study of the worker's model (``--model``; the constant-mean default model unless given)."""
    kw = dict(_WORKER.get("model") or {})  # type: ignore[call-overload]
    symbols = kw.pop("symbols", None)
    if not kw:  # the default study, exactly as before the model options
        return es.EventStudy(events, prices, tests=list(tests), draws=draws, seed=seed).run()
    return es.EventStudy(
        events, prices, symbols=symbols, tests=list(tests), draws=draws, seed=seed, **kw
    ).run()


def headline_of(res: es.StudyResult) -> dict | None:
    """``res.headline`` when the library has it and it holds a p-value, else None."""
    head = getattr(res, "headline", None)
    if callable(head):
        head = head()
    if isinstance(head, dict) and head.get("p_value") is not None:
        return head
    return None


def _rows(res: es.StudyResult, rep: int, delta: float) -> tuple[list[tuple], dict | None]:
    """The overall group's p-values per CAR window and test, then the headline's; its test, window, MDE."""
    t = res.tests()
    t = t[(t["group_by"] == "all") & t["window"].isin(CAR_WINDOWS)]
    rows = [
        (rep, delta, w, name, p, int(n) if pd.notna(n) else -1)
        for w, name, p, n in t[["window", "test", "p_value", "n"]].itertuples(index=False)
    ]
    head = headline_of(res)
    if head is None:
        return rows, None
    window = str(head.get("window"))
    rows.append((rep, delta, window, "headline", float(head["p_value"]), int(head.get("n_clusters") or 0)))
    return rows, {"test": str(head.get("test")), "window": window, "mde": float(head.get("mde", np.nan))}


def size_run(args: tuple[int, int, Sequence[str], int, str]) -> tuple[list[tuple], dict]:
    """The study of replication ``rep`` on the real prices.

    Returns the p-value rows ``(rep, 0.0, window, test, p_value, n)`` and
    ``{"pairs", "seconds", "day0"}`` (day 0 per pair, for the power runs).
    """
    rep, seed, tests, draws, layout = args
    prices: es.Prices = _WORKER["prices"]  # type: ignore[assignment]
    design: Design = _WORKER["design"]  # type: ignore[assignment]
    t0 = time.perf_counter()
    events = replication_events(design, rep, seed, layout)
    res = _study(events, prices, tests, draws, seed + rep)
    seconds = time.perf_counter() - t0
    car = res.car()
    day0 = car.loc[car["window"] == CAR_WINDOWS[0], ["symbol", "day0"]]
    day0 = day0.assign(day0=pd.to_datetime(day0["day0"])).drop_duplicates().reset_index(drop=True)
    rows, head = _rows(res, rep, 0.0)
    return rows, {"pairs": len(car) // len(CAR_WINDOWS), "seconds": seconds, "day0": day0, "headline": head}


def power_run(
    args: tuple[int, int, Sequence[str], int, str, float, pd.DataFrame],
) -> tuple[list[tuple], dict]:
    """The study of replication ``rep`` with ``delta`` injected at every pair's day 0."""
    rep, seed, tests, draws, layout, delta, day0 = args
    prices: es.Prices = _WORKER["prices"]  # type: ignore[assignment]
    design: Design = _WORKER["design"]  # type: ignore[assignment]
    t0 = time.perf_counter()
    events = replication_events(design, rep, seed, layout)
    shocked = inject(prices, day0, delta)
    res = _study(events, shocked, tests, draws, seed + rep)
    rows, _ = _rows(res, rep, delta)
    return rows, {"seconds": time.perf_counter() - t0}


# ---------------------------------------------------------------- summary
def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval for k successes in n trials."""
    from scipy.stats import beta

    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


def rates(p: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Rejection rate per (delta, test, window): k, n, rate and its 95 % interval."""
    p = p[p["p_value"].notna()]
    g = p.groupby(["delta", "test", "window"], sort=False)["p_value"]
    out = g.agg(n="size", k=lambda s: int((s < alpha).sum())).reset_index()
    ci = [clopper_pearson(int(k), int(n)) for k, n in zip(out["k"], out["n"], strict=True)]
    out["rate"] = out["k"] / out["n"]
    out["lo"] = [c[0] for c in ci]
    out["hi"] = [c[1] for c in ci]
    return out


def test_order(names: Sequence[str]) -> list[str]:
    names = list(dict.fromkeys(names))
    first = [t for t in REPORTED if t in names]
    return first + [t for t in names if t not in first]


def table(r: pd.DataFrame, delta: float, tests: Sequence[str]) -> str:
    """Markdown: one row per test, one column per CAR window, rate and interval in %."""
    sub = r[r["delta"] == delta]
    head = "| test | " + " | ".join(CAR_WINDOWS) + " | replications |"
    lines = [head, "| --- |" + " ---: |" * len(CAR_WINDOWS) + " ---: |"]
    for t in tests:
        cells = []
        ns = set()
        for w in CAR_WINDOWS:
            row = sub[(sub["test"] == t) & (sub["window"] == w)]
            if row.empty:
                cells.append("")
                continue
            x = row.iloc[0]
            ns.add(int(x["n"]))
            cells.append(f"{100 * x['rate']:.1f} ({100 * x['lo']:.1f}–{100 * x['hi']:.1f})")
        if not ns:
            continue
        lines.append(f"| `{t}` | " + " | ".join(cells) + f" | {'/'.join(map(str, sorted(ns)))} |")
    return "\n".join(lines)


LAYOUTS = {
    "uniform": "each date drawn independently",
    "bursts": "the curated file's bursts of events moved as wholes, keeping their day gaps",
}


def clusters_line(p: pd.DataFrame) -> list[str]:
    """Markdown line: the mean number of clusters (n of ``cluster_t``) per window under the null."""
    c = p[(p["test"] == "cluster_t") & (p["delta"] == 0.0) & (p["n"] > 0)]
    if c.empty:
        return []
    g = c.groupby("window")["n"]
    cells = [f"{w} {g.mean()[w]:.0f} ({g.min()[w]}–{g.max()[w]})" for w in CAR_WINDOWS if w in g.groups]
    return ["Clusters per replication (mean, range): " + "; ".join(cells) + ".", ""]


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500, help="placebo replications for size (default 500)")
    ap.add_argument(
        "--power-reps", type=int, default=100, help="replications with an injected CAR (default 100)"
    )
    ap.add_argument("--deltas", type=float, nargs="*", default=[-0.005, -0.01], help="injected day-0 ARs")
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--draws", type=int, default=499, help="draws of the resampling tests (default 499; library: 999)"
    )
    ap.add_argument(
        "--layout",
        choices=["uniform", "bursts"],
        default="uniform",
        help="placebo dates: independent uniform draws, or the curated file's bursts moved as wholes",
    )
    ap.add_argument("--gap", type=int, default=GAP_DAYS, help="calendar days kept clear of curated events")
    ap.add_argument(
        "--tests",
        nargs="*",
        default=None,
        help="tests to run (default: every registered one but wild_bootstrap)",
    )
    ap.add_argument("--out", type=Path, default=RESULTS, help="folder of calibration.md and the p-values")
    ap.add_argument(
        "--model",
        default=None,
        help="normal-return model (default: the library's, constant-mean); e.g. market, factor, garch",
    )
    ap.add_argument("--benchmark", default=None, help="benchmark symbol of the snapshot (e.g. ACWI)")
    ap.add_argument("--factors", default=None, help="factor symbols, comma-separated (with --model factor)")
    a = ap.parse_args(argv)
    model: dict = {}
    if a.model:
        model["model"] = a.model
    if a.benchmark:
        model["benchmark"] = a.benchmark
    if a.factors:
        model["factors"] = [f.strip() for f in a.factors.split(",") if f.strip()]
    model_desc = (
        ", ".join(f"{k} {v if isinstance(v, str) else ','.join(v)}" for k, v in model.items())
        if model
        else "constant-mean model"
    )
    model_flags = "".join(f" --{k} {v if isinstance(v, str) else ','.join(v)}" for k, v in model.items())
    power_reps = min(a.power_reps, a.reps)
    commit = _commit()
    registered = list(es.TESTS)
    wanted = a.tests if a.tests is not None else [t for t in registered if t not in SKIPPED_BY_DEFAULT]
    for t in REPORTED[1:]:
        if t not in registered:
            print(f"note: {t} is not registered in es.TESTS on this commit; skipped", file=sys.stderr)
    tests = [t for t in wanted if t in registered]
    design = load_design(gap=a.gap)
    print(
        f"{a.reps} replications ({power_reps} with δ = {a.deltas}), {len(design.records)} events each, "
        f"{len(design.eligible)} eligible dates, {len(tests)} tests, {a.workers} workers, "
        f"load {load_average()}",
        file=sys.stderr,
    )
    rows: list[tuple] = []
    size_info: list[dict] = []
    pow_info: list[dict] = []
    loads = [load_average()]
    with ProcessPoolExecutor(
        a.workers, initializer=_init_worker, initargs=(list(es.DEFAULT_SYMBOLS), a.gap, model)
    ) as ex:
        t0 = time.perf_counter()
        jobs = [(r, a.seed, tests, a.draws, a.layout) for r in range(a.reps)]
        for i, (r_rows, info) in enumerate(ex.map(size_run, jobs, chunksize=4)):
            rows += r_rows
            size_info.append(info)
            if (i + 1) % 50 == 0:
                loads.append(load_average())
                el = time.perf_counter() - t0
                print(f"  size {i + 1}/{a.reps}, {el:.0f} s, load {loads[-1]}", file=sys.stderr)
        size_wall = time.perf_counter() - t0
        size_load = load_average()
        t0 = time.perf_counter()
        pjobs = [
            (r, a.seed, tests, a.draws, a.layout, d, size_info[r]["day0"])
            for r in range(power_reps)
            for d in a.deltas
        ]
        for i, (r_rows, info) in enumerate(ex.map(power_run, pjobs, chunksize=4)):
            rows += r_rows
            pow_info.append(info)
            if (i + 1) % 50 == 0:
                loads.append(load_average())
                el = time.perf_counter() - t0
                print(f"  power {i + 1}/{len(pjobs)}, {el:.0f} s, load {loads[-1]}", file=sys.stderr)
        pow_wall = time.perf_counter() - t0
    loads.append(load_average())

    p = pd.DataFrame(rows, columns=["rep", "delta", "window", "test", "p_value", "n"])
    r = rates(p)
    order = test_order(["headline", *tests])
    size_t = np.array([i["seconds"] for i in size_info])
    pow_t = np.array([i["seconds"] for i in pow_info])
    pairs = np.array([i["pairs"] for i in size_info])
    heads = [i["headline"] for i in size_info if i["headline"] is not None]
    head_desc = ""
    if heads:
        counts = pd.Series([f"`{h['test']}` on {h['window']}" for h in heads]).value_counts()
        mdes = np.array([h["mde"] for h in heads])
        head_desc = (
            "Headline (the library's choice): "
            + "; ".join(f"{k} in {n} replications" for k, n in counts.items())
            + ". Its minimum detectable CAAR (two-sided 5 %, 80 % power) under the null: median "
            f"{100 * np.nanmedian(mdes):.2f} % "
            f"(range {100 * np.nanmin(mdes):.2f}–{100 * np.nanmax(mdes):.2f} %)."
        )
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    md = [
        "# Size and power on placebo dates",
        "",
        f"`python bench/calibration.py --reps {a.reps} --power-reps {power_reps} --seed {a.seed} "
        f"--layout {a.layout} "
        f"--draws {a.draws}{model_flags}` — {when}, commit `{commit}`.",
        "",
        f"Each replication: {len(design.records)} placebo events (the curated file's timestamp forms and "
        f"`symbols`, random dates in {START.date()}…{END.date()} at least {a.gap + 1} days from any curated "
        f"event; {len(design.eligible)} eligible days; {LAYOUTS[a.layout]}) × the 5 default markets, "
        f"{model_desc}, "
        f"default windows; {pairs.mean():.0f} pairs on average ({pairs.min()}–{pairs.max()}). "
        "Cells: % of replications with p < 0.05 (Clopper–Pearson 95 % interval); the last column is the "
        "number of replications in which the test gave a p-value.",
        "",
        *clusters_line(p),
        f"Runtime: size {size_wall:.0f} s wall for {len(size_t)} study runs"
        + (f", power {pow_wall:.0f} s for {len(pow_t)} runs" if len(pow_t) else "")
        + f", on {a.workers} worker processes; one study run takes {size_t.mean():.2f} s wall on average"
        + (f" (power: {pow_t.mean():.2f} s, price shift included)" if len(pow_t) else "")
        + f". Load average (1/5/15 min): {loads[0]} at the start, {size_load} after the size "
        f"runs, {loads[-1]} at the end "
        f"({os.cpu_count()} cores, shared).",
        "",
    ]
    if head_desc:
        md += [head_desc, ""]
    else:
        md += ["`StudyResult.headline` does not exist on this commit: no headline row.", ""]
    md += ["## Size: no abnormal return (target ≈ 5 %)", "", table(r, 0.0, order), ""]
    for d in a.deltas:
        if power_reps:
            md += [
                f"## Power: {100 * d:+.1f} % injected at day 0 in every market ({power_reps} replications)",
                "",
                table(r, d, order),
                "",
            ]
    text = "\n".join(md)
    print(text)
    a.out.mkdir(parents=True, exist_ok=True)
    stem = "calibration" if a.layout == "uniform" else f"calibration_{a.layout}"
    if model:
        stem += "_" + "_".join(
            str(v if isinstance(v, str) else "-".join(v)).lower().replace("^", "").replace("=", "")
            for v in model.values()
        )
    (a.out / f"{stem}.md").write_text(text)
    p = p.assign(p_value=p["p_value"].map(lambda x: float(f"{x:.4g}")))
    p.to_csv(a.out / f"{stem}_pvalues.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    print(f"wrote {a.out / stem}.md and {stem}_pvalues.csv.gz", file=sys.stderr)
    return 0


def _commit() -> str:
    import subprocess

    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())

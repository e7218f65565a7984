"""How fast a large events file is read and checked: ``read_events`` against a plain pandas read.

Writes an events file of ``--events`` rows (default 10,000) in the forms an
earnings or news study uses: instants in UTC (``2023-10-28T16:19Z``), with an
offset (``…+08:00``), dates whose day belongs to a ``tz``, and intervals
``START/PT8H`` in a ``tz``, a quarter each. Times, as CPU seconds (best of
``--reps``):

- ``read_events`` (the public API): every field checked row by row, each
  error naming line and column, each time in its zone;
- the baseline, measured in the same run: ``pandas.read_csv`` and one
  ``pandas.to_datetime(utc=True)`` per form on the rows of that form, with no
  check and no zone rule (an interval's start only). It is what a loader that
  trusts its file costs, not an equivalent of the checks.

Usage::

    python bench/bench_events.py [--events 10000] [--reps 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import eventstudy as es


def write_events(path: Path, n: int, seed: int = 0) -> None:
    """``n`` events in four timestamp forms (a quarter each), 2018–2024."""
    rng = np.random.default_rng(seed)
    day = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 2500, n), unit="D")
    at = day + pd.to_timedelta(rng.integers(0, 1440, n), unit="min")
    kind = np.arange(n) % 4
    stamp = np.where(
        kind == 0,
        at.strftime("%Y-%m-%dT%H:%MZ"),
        np.where(
            kind == 1,
            day.strftime("%Y-%m-%d"),
            np.where(
                kind == 2, at.strftime("%Y-%m-%dT%H:%M:%S+08:00"), at.strftime("%Y-%m-%dT%H:%M") + "/PT8H"
            ),
        ),
    )
    tz = np.where(kind == 1, "Asia/Shanghai", np.where(kind == 3, "America/New_York", ""))
    pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(n)],
            "timestamp": stamp,
            "title": [f"Event {i}" for i in range(n)],
            "category": "talks",
            "direction": rng.choice(["-1", "0", "1"], n),
            "tz": tz,
        }
    ).to_csv(path, index=False)


def plain_read(path: Path) -> pd.Series:
    """The baseline: the file read by pandas, each form's times parsed in one call (no checks)."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    ts = df["timestamp"].str.split("/").str[0]
    out = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    for fmt in ("%Y-%m-%dT%H:%MZ", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M"):
        todo = out.isna()
        out[todo] = pd.to_datetime(ts[todo], format=fmt, utc=True, errors="coerce")
    return out


def best(fn, reps: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(reps):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.csv"
        write_events(path, args.events)
        assert len(es.read_events(path)) == args.events and plain_read(path).notna().all()
        ours = best(lambda: es.read_events(path), args.reps)
        base = best(lambda: plain_read(path), args.reps)
    print(f"## Reading {args.events:,} events (CPU, best of {args.reps})\n")
    print("| measure | CPU | ours ÷ baseline |")
    print("| --- | ---: | ---: |")
    print(f"| baseline: `pandas.read_csv` + `to_datetime` per form, no checks | {base:.3f} s | 1 |")
    ratio = ours / base
    print(f"| `read_events` (every field checked, times in their zones) | {ours:.3f} s | {ratio:.1f}× |")
    print(f"\nper event: {1e6 * ours / args.events:.0f} µs")


if __name__ == "__main__":
    main()

"""Cost per pair of the GARCH(1,1) model, serial and on a process pool.

Usage (from the repository root)::

    python bench/bench_garch.py [--workers 2] [--repeat 2] [--benchmark ACWI]

On the bundled data (the curated events × the five default markets), times
``EventStudy(..., model="garch").run()`` with the default tests, serial and
with a ``ProcessPoolExecutor`` of ``--workers`` processes (pool start-up
included, as for ``eventstudy run --workers N``), and the same study with the
constant-mean model for scale. Per pair = wall time ÷ pairs fitted (excluded
ones included: each was fitted); CPU counts the pool's workers too, so the
GARCH CPU minus the constant-mean CPU, per pair, is the cost of one fit
whatever the load of the machine. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor

import eventstudy as es
from eventstudy.markets import DEFAULT_SYMBOLS


def _run(model: str, benchmark: str | None, workers: int) -> tuple[float, float, int, int]:
    prices = es.load_prices([*DEFAULT_SYMBOLS, "ACWI"])
    study = es.EventStudy(
        es.read_events(), prices, symbols=list(DEFAULT_SYMBOLS), model=model, benchmark=benchmark
    )
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    k0 = kids.ru_utime + kids.ru_stime
    t0, c0 = time.perf_counter(), time.process_time()
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            res = study.run(executor=pool)
    else:
        res = study.run()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0 + kids.ru_utime + kids.ru_stime - k0  # workers' CPU included
    fits = res.fits
    fitted = int((fits["reason"].fillna("").eq("") | fits["reason"].str.contains("GARCH", na=False)).sum())
    return wall, cpu, fitted, int(fits["excluded"].sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--benchmark", default=None)
    a = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
    print("| run | pairs | excluded | wall (best) | wall per pair | CPU (workers included) | CPU per pair |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for model, workers in (("constant-mean", 1), ("garch", 1), ("garch", a.workers)):
        best = min((_run(model, a.benchmark, workers) for _ in range(a.repeat)), key=lambda r: r[0])
        wall, cpu, n, excl = best
        label = f"{model}{'' if workers == 1 else f', --workers {workers}'}"
        print(
            f"| {label} | {n} | {excl} | {wall:.2f} s | {1e3 * wall / n:.1f} ms | {cpu:.2f} s "
            f"| {1e3 * cpu / n:.1f} ms |"
        )


if __name__ == "__main__":
    main()

"""The whole battery at universe scale: ``EventStudy.run(detail="pairs")``, every test.

Each measurement runs in a fresh process (``python bench/bench_battery.py
--one ...``) under an address-space cap, and reports wall and CPU time, the
stage times and the process's peak RSS (``ru_maxrss``, the synthetic data
included). ``--scheduler local:N`` runs the same study on an in-process Dask
``LocalCluster`` of N worker processes (one thread each; their peak RSS is
added from the workers' own ``ru_maxrss``); ``--scheduler ADDRESS`` on an
existing cluster.

    PYTHONPATH=. python bench/bench_battery.py --sizes 5000x20 50000x20
    PYTHONPATH=. python bench/bench_battery.py --sizes 50000x20 --scheduler local:2
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _worker_peak() -> float:
    import resource as r

    return r.getrusage(r.RUSAGE_SELF).ru_maxrss / 2**20


def _rss_gib() -> float:
    """The process's current resident set size (``/proc/self/statm``)."""
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**30


class _Sampler(threading.Thread):
    """Samples the current RSS every 20 ms and charges it to the innermost running stage."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stack: list[str] = []
        self.high: dict[str, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            if self.stack:
                label, rss = self.stack[-1], _rss_gib()
                self.high[label] = max(self.high.get(label, 0.0), rss)


def _worker_cpu() -> float:
    import time as t

    return t.process_time()


def _module(name: str, fallback: Any) -> Any:
    """``eventstudy.NAME``, or ``fallback`` in a checkout without it."""
    import importlib
    import importlib.util

    full = "eventstudy." + name
    return importlib.import_module(full) if importlib.util.find_spec(full) else fallback


def _stages() -> tuple[dict[str, list[float]], _Sampler]:
    """Wrap the study's stages (in this process only).

    Per stage: calls, wall and CPU seconds, the RSS when it (last) started,
    the highest RSS sampled while it was the innermost running stage, and the
    process peak RSS when it ended (GiB). CPU is the process's
    (``time.process_time``: every thread, so the tests' second thread counts too).
    """
    import eventstudy.assembly as assembly_mod
    import eventstudy.streamtests as streamtests
    import eventstudy.study as study_mod

    # the modules the study hands its stages to (the study itself in older checkouts)
    result_mod = _module("studyresult", study_mod)
    tests_mod = _module("studytests", study_mod)
    manifest_mod = _module("studymanifest", study_mod)

    stats: dict[str, list[float]] = {}
    sampler = _Sampler()
    sampler.start()

    def wrap(owner: Any, name: str, label: str) -> None:
        func = getattr(owner, name, None)
        if func is None:  # a stage another checkout does not have
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0, c0, r0 = time.perf_counter(), time.process_time(), _rss_gib()
            sampler.stack.append(label)
            try:
                return func(*args, **kwargs)
            finally:
                sampler.stack.pop()
                rec = stats.setdefault(label, [0, 0.0, 0.0, 0.0, 0.0, 0.0])
                rec[0] += 1
                rec[1] = round(rec[1] + time.perf_counter() - t0, 2)
                rec[2] = round(rec[2] + time.process_time() - c0, 2)
                rec[3] = round(r0, 3)
                rec[4] = round(sampler.high.get(label, 0.0), 3)
                rec[5] = round(_peak_gib(), 3)

        setattr(owner, name, timed)

    wrap(study_mod, "build_panel", "build_panel")
    wrap(study_mod, "compute_chunks", "engine (first pass)")
    wrap(study_mod.EventStudy, "_overlaps", "_overlaps")
    wrap(study_mod.EventStudy, "_clusters", "_clusters")
    wrap(study_mod, "adjust_car_table", "adjust_car_table")
    wrap(study_mod.EventStudy, "_fits", "_fits")
    wrap(result_mod, "fits_table", "_fits")
    wrap(study_mod.EventStudy, "_test_inputs", "_test_inputs")
    wrap(result_mod, "volatility_table", "volatility_table")
    wrap(streamtests, "streamed_specs", "streamed tests (second pass)")
    wrap(tests_mod, "run_tests", "run_tests")
    wrap(study_mod, "adjust_tests_table", "adjust_tests_table")
    wrap(study_mod.EventStudy, "_placebo_table", "_placebo_table")
    wrap(result_mod, "placebo_table", "_placebo_table")
    wrap(study_mod, "caar_table", "caar_table")
    wrap(study_mod, "robust_table", "robust_table")
    wrap(study_mod.EventStudy, "_data_quality", "_data_quality")
    wrap(manifest_mod, "data_quality", "_data_quality")
    wrap(result_mod, "overlap_ids", "overlap_ids")
    wrap(result_mod, "car_table", "car_table")
    wrap(assembly_mod, "pair_clusters", "pair_clusters")
    wrap(assembly_mod, "window_inputs", "window_inputs")
    wrap(result_mod, "pair_ratios", "pair_ratios (vol_ratio)")  # before pair_ratio
    wrap(result_mod, "pair_ratio", "pair_ratio (vol_ratio)")
    wrap(result_mod, "headline_of", "headline_of")
    wrap(study_mod.EventStudy, "_tests_table", "_tests_table")
    wrap(result_mod, "tests_table", "_tests_table")
    wrap(study_mod.EventStudy, "_raw_tests", "_raw_tests")
    wrap(result_mod, "raw_tests", "_raw_tests")
    wrap(tests_mod, "raw_tests", "_raw_tests")  # called by tests_table
    wrap(study_mod, "mark_independence", "mark_independence")
    wrap(study_mod.EventStudy, "_assemble", "_assemble (all tables and tests)")
    wrap(study_mod, "assemble_result", "_assemble (all tables and tests)")
    return stats, sampler


def measure(
    size: str,
    chunk: int,
    scheduler: str | None,
    tests: list[str] | None,
    draws: int,
    tree: str | None = None,
    detail: str = "pairs",
) -> dict[str, Any]:
    """Run one study in this process and return its measurements (``tree``: another checkout's package)."""
    sys.path.insert(0, str(ROOT))
    if tree:
        sys.path.insert(0, str(Path(tree).resolve()))
    import eventstudy as es
    from bench.synthetic import make_study

    n_sec, n_ev = (int(v) for v in size.split("x"))
    t0 = time.perf_counter()
    syn = make_study(n_sec, n_ev, seed=0)
    data_s = time.perf_counter() - t0
    data_peak = _peak_gib()
    study = es.EventStudy(syn.events, syn.prices, model="market", benchmark="MKT", tests=tests, draws=draws)
    client = cluster = None
    executor = None
    if scheduler:
        import distributed

        if scheduler.startswith("local:"):
            n = int(scheduler.split(":")[1])
            cluster = distributed.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0", memory_limit=0
            )
            client = distributed.Client(cluster)
        else:
            client = distributed.Client(scheduler)
        executor = client.get_executor()
    stages, sampler = _stages()
    wcpu0 = client.run(_worker_cpu) if client is not None else {}
    c0, w0 = time.process_time(), time.perf_counter()
    res = study.run(executor=executor, chunk_size=chunk, detail=detail)  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    sampler.done.set()
    tab = res.tests()
    out: dict[str, Any] = {
        "size": size,
        "pairs": n_sec * n_ev,
        "chunk_size": chunk,
        "scheduler": scheduler or "",
        "tree": str(Path(es.__file__).resolve().parents[1]),
        "detail": detail,
        "data_s": round(data_s, 2),
        "data_peak_gib": round(data_peak, 3),
        "run_s": round(wall, 1),
        "run_cpu_s": round(cpu, 1),
        "peak_rss_gib": round(_peak_gib(), 3),
        "test_rows": len(tab),
        "tests": sorted(set(tab["test"])),
        "finite_share": round(float(tab["statistic"].notna().mean()), 3),
        "stages [calls, wall s, cpu s, rss at start, highest rss inside, peak after (GiB)]": stages,
    }
    if client is not None:
        peaks = client.run(_worker_peak)
        out["worker_peak_rss_gib"] = sorted(round(v, 3) for v in peaks.values())
        wcpu = client.run(_worker_cpu)
        out["worker_cpu_s"] = round(sum(wcpu[w] - wcpu0.get(w, 0.0) for w in wcpu), 1)
        out["n_workers"] = len(wcpu)
        client.close()
        if cluster is not None:
            cluster.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["5000x20"], help="S×E, e.g. 50000x20 (1M pairs)")
    ap.add_argument("--chunk-size", type=int, default=20_000)
    ap.add_argument("--scheduler", default=None, help="local:N (LocalCluster) or a scheduler address")
    ap.add_argument("--tests", nargs="*", default=None, help="default: every registered test")
    ap.add_argument("--draws", type=int, default=999)
    ap.add_argument("--mem-limit-gib", type=float, default=12.0, help="address-space cap of the process")
    ap.add_argument("--timeout", type=int, default=3600)
    ap.add_argument("--json", default=None, help="append each measurement to this file (JSON lines)")
    ap.add_argument("--tree", default=None, help="measure another checkout's package (before/after)")
    ap.add_argument("--detail", default="pairs", choices=["pairs", "full"])
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.one:
        lim = int(a.mem_limit_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
        out = measure(a.sizes[0], a.chunk_size, a.scheduler, a.tests, a.draws, a.tree, a.detail)
        print(json.dumps(out))
        return 0
    for size in a.sizes:
        cmd = [sys.executable, __file__, "--one", "--sizes", size, "--chunk-size", str(a.chunk_size)]
        cmd += ["--draws", str(a.draws), "--mem-limit-gib", str(a.mem_limit_gib)]
        cmd += ["--detail", a.detail] + (["--tree", a.tree] if a.tree else [])
        if a.scheduler:
            cmd += ["--scheduler", a.scheduler]
        if a.tests is not None:
            cmd += ["--tests", *a.tests]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout, cwd=ROOT)
        if p.returncode != 0:
            print(f"{size}: failed (exit {p.returncode}): {p.stderr.strip().splitlines()[-1:]}")
            continue
        line = p.stdout.strip().splitlines()[-1]
        print(line, flush=True)
        if a.json:
            with open(a.json, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

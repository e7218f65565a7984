"""Universe-scale benchmark: AR+CAR+t from prices for S × E pairs, streamed with bounded memory.

Usage (from the repository root)::

    python bench/bench_stream.py                       # 1,000,000 pairs (50,000 × 20)
    python bench/bench_stream.py --sizes 1000x20 5000x20 50000x20 --mem-limit-gib 4

``python bench/bench_engine.py --full`` runs it too. Each size runs in a
fresh interpreter whose address space is capped (``--mem-limit-gib``), so a
run that needed more memory fails instead of swapping. The child process

1. draws the seeded synthetic panel (``bench/synthetic.py``);
2. times ``build_panel`` (prices → returns, day 0, masks, pairs) and
   ``eventstudy.engine.compute_chunks(..., detail="pairs")`` (chunks of
   ``--chunk-size`` pairs; each chunk's fit, AR, CARs of the 4 default CAR
   windows, Var(CAR) = γ'Vγ, t and p, keeping only the per-pair results):
   "AR+CAR+t from prices", by wall clock and CPU time;
3. reads the process's peak resident set size (``ru_maxrss``, the data
   generation included) right after, before anything else;
4. then times the per-pair statsmodels loop of ``bench_engine.baseline_loop``
   on a random subsample of pairs (fastest of three slices, extrapolated) and
   checks its CAR, se and t against ours.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

DEFAULT_SIZES = [(50_000, 20)]
GIB = 2**30


def _maxrss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB  # Linux: KiB


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Measure one size (see the module docstring)."""
    from bench.synthetic import make_study
    from eventstudy import EventStudy
    from eventstudy.engine import compute_chunks
    from eventstudy.panel import build_panel

    S, E = spec["S"], spec["E"]
    res: dict[str, Any] = {"S": S, "E": E, "pairs": S * E, "chunk_size": spec["chunk_size"]}
    t = time.perf_counter()
    syn = make_study(S, E, seed=spec["seed"])
    res["gen_s"] = time.perf_counter() - t
    res["rss_after_gen_gib"] = _maxrss_gib()
    st = EventStudy(syn.events, syn.prices, model="market", benchmark="MKT", tests=[])
    cfg = st.config
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    panel = build_panel(st.events, st.prices, st.symbols, cfg, st.mask_events, st.model.needs_benchmark)
    t1, c1 = time.perf_counter(), time.process_time()
    res["rss_after_panel_gib"] = _maxrss_gib()
    out = compute_chunks(panel, cfg, st.model, spec["chunk_size"], detail="pairs")
    t2, c2 = time.perf_counter(), time.process_time()
    res["rss_peak_gib"] = _maxrss_gib()
    res.update(
        panel_s=t1 - t0,
        panel_cpu_s=c1 - c0,
        engine_s=t2 - t1,
        engine_cpu_s=c2 - c1,
        total_s=t2 - t0,
        total_cpu_s=c2 - c0,
        long_positions=len(panel.R),
        included=len(out.keep),
    )
    # the loop on a subsample, checked against ours
    from bench.bench_engine import timed_baseline

    pick, base, walls, cpus = timed_baseline(syn, cfg, spec["baseline_pairs"], spec["seed"])
    wall, cpu = min(walls), min(cpus)
    res.update(baseline_pairs=len(pick), baseline_s_per_pair=wall, baseline_cpu_s_per_pair=cpu)
    rowpos = np.full(len(panel.pairs), -1)
    rowpos[out.keep] = np.arange(len(out.keep))
    # pairs rows are security-major, events in order, every event applies to every security
    assert np.array_equal(panel.pairs["mk"].to_numpy(), np.repeat(np.arange(S), E))
    rows = rowpos[pick]
    have = rows >= 0
    ours = np.stack([out.car, out.car_se, out.car_t], axis=-1)[rows[have]]
    diff = np.abs(ours - base[have])
    res["check_pairs"] = int(have.sum())
    res["check_max_abs_diff"] = {k: float(np.nanmax(diff[..., i])) for i, k in enumerate(("car", "se", "t"))}
    return res


def run_child(spec: dict[str, Any], timeout: float, mem_gib: float) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter with its address space capped at ``mem_gib``."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    cmd += ["--mem-limit-gib", str(mem_gib)]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"failed": f"not finished after {timeout:.0f} s (stopped)"}
    for line in p.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            r: dict[str, Any] = json.loads(line[len("BENCH_JSON ") :])
            return r
    tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
    return {"failed": f"exit {p.returncode}: {' | '.join(tail)}"}


def measure(
    S: int, E: int, seed: int, chunk_size: int, baseline_pairs: int, timeout: float, mem_gib: float
) -> dict[str, Any]:
    """One size in a fresh, capped process; adds the cap, the load average and the ratios."""
    load0 = os.getloadavg()[0]
    spec = {"S": S, "E": E, "seed": seed, "chunk_size": chunk_size, "baseline_pairs": baseline_pairs}
    r = run_child(spec, timeout, mem_gib)
    r.update(S=S, E=E, pairs=S * E, mem_limit_gib=mem_gib, load_before=load0, load_after=os.getloadavg()[0])
    if "failed" not in r:
        loop = 1.0 / r["baseline_s_per_pair"]
        loop_cpu = 1.0 / r["baseline_cpu_s_per_pair"]
        r["loop_pairs_s"] = loop
        r["pairs_s"] = r["pairs"] / r["total_s"]
        r["engine_pairs_s"] = r["pairs"] / r["engine_s"]
        r["ratio"] = r["pairs_s"] / loop
        r["ratio_cpu"] = (r["pairs"] / r["total_cpu_s"]) / loop_cpu
    return r


def report(results: list[dict[str, Any]]) -> str:
    """Printed summary: one line per size, then the issue's 1M-pair target."""
    L = [
        "AR+CAR+t from prices, streamed (build_panel + compute_chunks(detail='pairs'), 4 CAR windows),",
        "fresh process under an address-space cap; peak = ru_maxrss of the process (data generation",
        "included); ratio = our pairs/s ÷ the per-pair statsmodels loop's, by wall (and CPU) time:",
    ]
    h = (
        f"{'pairs':>9} {'S × E':>11} | {'total':>7} {'panel':>7} {'engine':>7} | {'pairs/s':>8} "
        f"{'ratio':>6} {'(cpu)':>7} | {'peak RSS':>9} {'cap':>6} | {'load':>9}"
    )
    L += [h, "-" * len(h)]
    for r in results:
        if "failed" in r:
            L.append(f"{r['pairs']:>9,} {r['S']:>6,} × {r['E']:<2} | failed: {r['failed']}")
            continue
        L.append(
            f"{r['pairs']:>9,} {r['S']:>6,} × {r['E']:<2} | {r['total_s']:>6.1f}s {r['panel_s']:>6.1f}s "
            f"{r['engine_s']:>6.1f}s | {r['pairs_s'] / 1e3:>7.1f}k {r['ratio']:>5.0f}× "
            f"{'(' + format(r['ratio_cpu'], '.0f') + '×)':>7} | {r['rss_peak_gib']:>6.2f} GiB "
            f"{r['mem_limit_gib']:>4.0f}G | {r['load_before']:.1f}→{r['load_after']:.1f}"
        )
        d = r["check_max_abs_diff"]
        L.append(
            f"{'':>9} panel {100 * r['panel_s'] / r['total_s']:.0f}% of the time; loop "
            f"{r['loop_pairs_s'] / 1e3:.1f}k pairs/s on {r['baseline_pairs']} pairs; max |Δ| vs loop: "
            f"CAR {d['car']:.1e}, se {d['se']:.1e}, t {d['t']:.1e}; RSS after data "
            f"{r['rss_after_gen_gib']:.2f} GiB, after panel {r['rss_after_panel_gib']:.2f} GiB"
        )
    for r in results:
        if r["pairs"] >= 1_000_000 and "failed" not in r:
            ok = r["total_s"] < 60 and r["rss_peak_gib"] < 4
            L.append(
                f"Target (issue 6): {r['pairs']:,} pairs AR+CAR+t from prices in {r['total_s']:.1f} s at "
                f"{r['rss_peak_gib']:.2f} GiB peak RSS (target < 60 s, < 4 GiB): {'met' if ok else 'MISSED'}"
            )
    return "\n".join(L)


def _parse_size(s: str) -> tuple[int, int]:
    a, b = s.lower().replace("×", "x").split("x")
    return int(a), int(b)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", metavar="SxE", help="sizes (default 50000x20)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunk-size", type=int, default=20_000)
    ap.add_argument("--baseline-pairs", type=int, default=400)
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per size")
    ap.add_argument("--mem-limit-gib", type=float, default=6.0, help="address-space cap of the child")
    ap.add_argument("--json", type=Path, help="also write every measurement to this file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        cap = int(a.mem_limit_gib * GIB)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        try:
            out = child(json.loads(a.child))
        except MemoryError:
            traceback.print_exc()
            return 1
        print("BENCH_JSON " + json.dumps(out), flush=True)
        return 0
    sizes = [_parse_size(s) for s in a.sizes] if a.sizes else DEFAULT_SIZES
    print(f"# streamed AR+CAR+t benchmark: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    results = [
        measure(S, E, a.seed, a.chunk_size, a.baseline_pairs, a.timeout, a.mem_limit_gib) for S, E in sizes
    ]
    print(report(results))
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

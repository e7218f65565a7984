"""The same study in one process and on a Dask ``LocalCluster``, and the ratio of the two.

Runs ``bench/bench_battery.py`` (``EventStudy.run(detail="pairs")`` on the
synthetic universe of ``bench/synthetic.py``, each measurement in a fresh
process under an address-space cap) for every size, first in one process and
then with ``--scheduler local:N`` (an in-process ``LocalCluster`` of N worker
processes, one thread each), and prints wall and CPU time, the ratio
``one process ÷ cluster`` (above 1: the cluster is faster) and the peak RSS
of the client and of each worker. CPU of the cluster run = the client's plus
the workers' (``time.process_time`` of each worker over the run).

    PYTHONPATH=. python bench/bench_scaleout.py --sizes 50000x20 --tests   # AR+CAR+t, 1M pairs
    PYTHONPATH=. python bench/bench_scaleout.py --sizes 10000x20           # every test, 200k pairs
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _one(size: str, a: argparse.Namespace, scheduler: str | None) -> dict[str, Any]:
    cmd = [sys.executable, str(ROOT / "bench" / "bench_battery.py"), "--sizes", size]
    cmd += ["--chunk-size", str(a.chunk_size), "--mem-limit-gib", str(a.mem_limit_gib)]
    cmd += ["--timeout", str(a.timeout)]
    if scheduler:
        cmd += ["--scheduler", scheduler]
    if a.tests is not None:
        cmd += ["--tests", *a.tests]
    load = os.getloadavg()[0]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {"size": size, "scheduler": scheduler or "", "failed": (p.stdout + p.stderr).strip()[-300:]}
    out: dict[str, Any] = json.loads(lines[-1])
    out["load_before"], out["load_after"] = load, os.getloadavg()[0]
    return out


def report(rows: list[dict[str, Any]]) -> str:
    """One line per run, then the ratio per size."""
    h = f"{'pairs':>9} {'where':>9} | {'wall':>8} {'CPU':>8} | {'client peak':>11} {'workers peak':>13}"
    h += " | load"
    lines = [h, "-" * len(h)]
    by: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        where = r.get("scheduler") or "1 process"
        if "failed" in r:
            lines.append(f"{r['size']:>9} {where:>9} | failed: {r['failed']}")
            continue
        cpu = r["run_cpu_s"] + r.get("worker_cpu_s", 0.0)
        r["total_cpu_s"] = cpu
        workers = " ".join(f"{v:.2f}" for v in r.get("worker_peak_rss_gib", [])) or "-"
        lines.append(
            f"{r['pairs']:>9,} {where:>9} | {r['run_s']:>7.1f}s {cpu:>7.1f}s | {r['peak_rss_gib']:>7.2f} GiB "
            f"{workers:>13} | {r['load_before']:.1f}→{r['load_after']:.1f}"
        )
        by.setdefault(r["size"], {})[where] = r
    for size, d in by.items():
        one = d.get("1 process")
        for where, r in d.items():
            if one is None or where == "1 process":
                continue
            lines.append(
                f"{size}: {where} ÷ 1 process: wall ratio {one['run_s'] / r['run_s']:.2f}× "
                f"(above 1 = faster on the cluster), CPU {r['total_cpu_s'] / one['total_cpu_s']:.2f}× as much"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["50000x20"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk-size", type=int, default=20_000)
    ap.add_argument("--tests", nargs="*", default=None, help="default every test; --tests alone: none")
    ap.add_argument("--mem-limit-gib", type=float, default=12.0)
    ap.add_argument("--timeout", type=int, default=7200)
    ap.add_argument("--json", type=Path, default=None, help="append the measurements (JSON lines)")
    a = ap.parse_args(argv)
    rows = []
    for size in a.sizes:
        for sched in (None, f"local:{a.workers}"):
            r = _one(size, a, sched)
            rows.append(r)
            if a.json:
                with open(a.json, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(r) + "\n")
    print(report(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

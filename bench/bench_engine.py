"""Engine benchmark: our vectorized event study against a per-pair statsmodels loop.

Usage (from the repository root)::

    python bench/bench_engine.py [--quick | --full] [--json PATH] [--profile SxE ...] [--stream SxE ...]

``--full`` (or ``--stream SxE ...``) also runs ``bench/bench_stream.py``:
AR+CAR+t from prices streamed with ``detail="pairs"`` at 1,000,000 pairs, in
a fresh address-space-capped process, with its peak RSS.

Sizes are S securities × E events (pairs = S × E); the curve is 1k, 10k and
100k pairs (``--quick``: 1k and 10k; ``--full`` adds 1M), and the issue's
target point, 20,000 pairs (1,000 × 20), is always measured. Each size is
measured in three fresh subprocesses, so every peak memory is that size's own:

``parts`` process
    draws the seeded synthetic panel (``bench/synthetic.py``), times
    ``build_panel`` and ``eventstudy.engine.compute`` on the built panel (fit,
    AR, SAR, CARs for the 4 default CAR windows, γ'Vγ variances, t and p:
    "AR+CAR+t"; best of 3 below 20k pairs), the peak of one ``compute`` under
    ``tracemalloc`` (numpy reports its buffers to it) and, when the engine has
    it, ``compute_chunks``; then the baseline, in the same process: a plain
    loop over a random subsample of pairs, each fitting ``statsmodels.OLS`` on
    its estimation window and computing AR, CARs, Var(CAR) = σ²(L + g'(X'X)⁻¹g),
    t and p one pair at a time, as most Python packages do (after an untimed
    warm-up; the fastest of three slices gives its per-pair cost, which is
    extrapolated to all pairs). The loop's answers are checked against ours.
``run`` process
    ``EventStudy(..., model="market", benchmark="MKT", tests=None).run()``
    (every registered test) as the first study work of a fresh process, with
    the wall and CPU time of each stage and of each test function.
``run_notests`` process
    the same with ``tests=[]``.
``run_pergroup`` process (sizes up to ``--pergroup-max`` pairs, default 20,000)
    the ``run`` study with every test called group by group through its
    per-group form (``run_tests(..., batched=False)``): the battery baseline.

Ratios are ours ÷ loop in pairs per second, by wall clock and by CPU time
(the CPU ratio is less sensitive to other load on the machine). The whole
battery is compared twice: with the loop doing AR+CAR+t only (a bar the
battery, which does far more work, is not expected to clear), and with the
loop doing the same work, i.e. the per-pair statsmodels fits plus every test
computed group by group (``run_pergroup``'s test time). That baseline is
generous: its per-group tests are vectorized within each group and share
study-wide work (one sort for the rank tests, one correlation block per pair
of overlapping windows) across groups and windows, which a per-group loop in
a peer package would redo.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import traceback
import tracemalloc
import warnings
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

TARGET_SIZE = (1000, 20)  # the 20,000-pair target point
CURVE_QUICK = [(50, 20), (500, 20)]
CURVE = [(50, 20), (500, 20), (5000, 20)]
CURVE_FULL = [*CURVE, (50000, 20)]
MIB = 2**20


# ---------------------------------------------------------------------- baseline
def baseline_loop(
    ret: np.ndarray,
    mret: np.ndarray,
    masked: np.ndarray,
    sec: np.ndarray,
    day0: np.ndarray,
    estimation: tuple[int, int],
    window: tuple[int, int],
    car_windows: list[tuple[int, int]],
) -> np.ndarray:
    """The per-pair loop: statsmodels OLS market model, AR, CAR, Var(CAR), t, p.

    Parameters
    ----------
    ret : ndarray (S, D)
        Security simple returns (NaN on the first date).
    mret : ndarray (D,)
        Benchmark returns.
    masked : ndarray (D,) bool
        Dates within −1…+1 of some event (dropped from estimation, as the
        study's default confounding mask does).
    sec, day0 : ndarray (n,)
        Security row and day-0 position of each pair to compute.

    Returns
    -------
    ndarray (n, C, 3)
        CAR, its standard error √(γ'Vγ) and t, per pair and CAR window
        (Campbell, Lo and MacKinlay 1997, §4.4; formula sheet §5.2).
    """
    import statsmodels.api as sm
    from scipy import stats

    e_lo, e_hi = estimation
    w_lo, w_hi = window
    rel = np.arange(w_lo, w_hi + 1)
    out = np.full((len(sec), len(car_windows), 4), np.nan)
    for j in range(len(sec)):
        r, d0 = ret[sec[j]], int(day0[j])
        y = r[d0 + e_lo : d0 + e_hi + 1]
        x = mret[d0 + e_lo : d0 + e_hi + 1]
        ok = np.isfinite(y) & np.isfinite(x) & ~masked[d0 + e_lo : d0 + e_hi + 1]
        res = sm.OLS(y[ok], sm.add_constant(x[ok], has_constant="add")).fit()
        s2 = res.scale  # SSR / (M - 2)
        xtx_inv = res.normalized_cov_params  # (X'X)^-1
        xe = sm.add_constant(mret[d0 + w_lo : d0 + w_hi + 1], has_constant="add")
        ar = r[d0 + w_lo : d0 + w_hi + 1] - xe @ res.params
        for c, (t1, t2) in enumerate(car_windows):
            sel = (rel >= t1) & (rel <= t2) & np.isfinite(ar)
            g = xe[sel].sum(axis=0)
            car = ar[sel].sum()
            se = np.sqrt(s2 * (sel.sum() + g @ xtx_inv @ g))
            t = car / se
            p = 2.0 * stats.t.sf(abs(t), res.df_resid)
            out[j, c] = (car, se, t, p)
    return out[..., :3]


# ---------------------------------------------------------------------- child
def _has_module(name: str) -> bool:
    """Whether ``eventstudy.NAME`` exists (another checkout may not have it)."""
    import importlib.util

    return importlib.util.find_spec("eventstudy." + name) is not None


class StageTimer:
    """Accumulate wall and CPU time of named callables during one study run.

    Wraps, in this process only, the stage functions that ``eventstudy.study``
    and the modules it hands its stages to call (module-level names in
    :data:`MODULES` and ``EventStudy`` methods, whichever exist) and every
    registered test function, so the breakdown comes from the real run rather
    than from re-calling private APIs.
    """

    #: The modules whose names in ``STUDY_FUNCS`` are wrapped where they are called.
    MODULES = ("study", "studyresult", "studytests", "studymanifest")
    STUDY_FUNCS = (
        "build_panel",
        "compute",
        "compute_chunks",
        "run_tests",
        "caar_table",
        "build_manifest",
        "assemble_result",
        "fits_table",
        "data_quality",
    )
    #: The stage label of a function, when not its name.
    LABELS: ClassVar[dict[str, str]] = {"assemble_result": "assemble", "fits_table": "fits"}
    METHODS = ("_assemble", "_overlaps", "_fits", "_test_inputs", "_data_quality")

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._undo: list[tuple[Any, str, Any]] = []

    def _wrap(self, label: str, fn: Any) -> Any:
        def timed(*args: Any, **kw: Any) -> Any:
            w, c = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kw)
            finally:
                self.wall[label] = self.wall.get(label, 0.0) + time.perf_counter() - w
                self.cpu[label] = self.cpu.get(label, 0.0) + time.process_time() - c
                self.calls[label] = self.calls.get(label, 0) + 1

        return timed

    def __enter__(self) -> StageTimer:
        import dataclasses
        import importlib

        import eventstudy.inference as inf
        import eventstudy.study as study

        for mod in [importlib.import_module("eventstudy." + m) for m in self.MODULES if _has_module(m)]:
            for name in self.STUDY_FUNCS:
                if hasattr(mod, name):
                    self._undo.append((mod, name, getattr(mod, name)))
                    setattr(mod, name, self._wrap(self.LABELS.get(name, name), getattr(mod, name)))
        for name in self.METHODS:
            if name in vars(study.EventStudy):
                orig = vars(study.EventStudy)[name]
                self._undo.append((study.EventStudy, name, orig))
                setattr(study.EventStudy, name, self._wrap(name.lstrip("_"), orig))
        for name, spec in list(inf.TESTS.items()):
            self._undo.append((inf.TESTS, name, spec))
            batch = spec.batch and self._wrap("test " + name, spec.batch)
            func = self._wrap("test " + name, spec.func)
            several = spec.batch_windows and self._wrap("test " + name, spec.batch_windows)
            inf.TESTS[name] = dataclasses.replace(spec, func=func, batch=batch, batch_windows=several)
        return self

    def __exit__(self, *exc: object) -> None:
        for obj, name, orig in reversed(self._undo):
            if isinstance(obj, dict):
                obj[name] = orig
            else:
                setattr(obj, name, orig)
        self._undo.clear()


def _maxrss_mib() -> float:
    # Linux reports ru_maxrss in KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _err(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    where = next((f"{Path(f.filename).name}:{f.lineno} ({f.name})" for f in reversed(tb)), "?")
    return f"{type(exc).__name__} at {where}: {exc}"[:400]


def timed_baseline(
    syn: Any, cfg: Any, n_sub: int, seed: int
) -> tuple[np.ndarray, np.ndarray, list[float], list[float]]:
    """The per-pair loop on ``n_sub`` random pairs of ``syn``, timed in three slices.

    Returns ``(pair codes, loop CAR/se/t, seconds per pair of each slice by
    wall clock, the same by CPU)``; the fastest slice stands for the loop (best
    of 3, like the engine's timing, to damp other load on the machine). An
    untimed warm-up pays statsmodels' and scipy's first-call costs.
    """
    S, E = len(syn.symbols), len(syn.day0)
    rng = np.random.default_rng(seed + 1)
    pick = np.sort(rng.choice(S * E, size=min(n_sub, S * E), replace=False))
    sec, ev = pick // E, pick % E
    closes = syn.closes[sec]  # only the sampled securities' rows
    ret = np.full(closes.shape, np.nan)
    ret[:, 1:] = closes[:, 1:] / closes[:, :-1] - 1.0
    mret = np.full(len(syn.dates), np.nan)
    mret[1:] = syn.market_close[1:] / syn.market_close[:-1] - 1.0
    masked = np.zeros(len(syn.dates), dtype=bool)
    m_lo, m_hi = cfg.mask
    for d in syn.day0:
        masked[max(d + m_lo, 0) : d + m_hi + 1] = True
    row = np.arange(len(pick))
    args = (cfg.estimation, cfg.window, list(cfg.car_windows))
    parts, walls, cpus = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        baseline_loop(ret, mret, masked, row[:3], syn.day0[ev[:3]], *args)  # warm-up
        for sl in np.array_split(row, 3 if len(row) >= 3 else 1):
            gc.collect()
            t, c = time.perf_counter(), time.process_time()
            parts.append(baseline_loop(ret, mret, masked, sl, syn.day0[ev[sl]], *args))
            walls.append((time.perf_counter() - t) / len(sl))
            cpus.append((time.process_time() - c) / len(sl))
    return pick, np.concatenate(parts), walls, cpus


def _fresh_tests(st: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """Every test group by group from scratch, as a loop over groups would run them.

    Each call gets only its group's pairs (every array cut to them) and an
    empty cache, so nothing (ranks, correlations, placebo CARs, flips) is
    shared between groups or windows. Timed on the first ``fresh_car`` CAR
    windows and ``fresh_day`` single days, scaled to all windows.
    """
    import dataclasses

    from eventstudy.config import format_window
    from eventstudy.engine import compute_chunks
    from eventstudy.inference import TESTS, TestInput
    from eventstudy.inference.runner import run_tests
    from eventstudy.panel import build_panel
    from eventstudy.study import DAILY_MARKETS

    cfg = st.config
    panel = build_panel(st.events, st.prices, st.symbols, cfg, st.mask_events, st.model.needs_benchmark)
    ecfg = dataclasses.replace(cfg, car_windows=st.engine_windows())
    out = compute_chunks(panel, ecfg, st.model, spec["chunk_size"], None, True)
    kept = panel.pairs.iloc[out.keep].reset_index(drop=True)
    inputs, labels = st._test_inputs(panel, out, kept)
    n_pairs = len(kept)
    fields = [f.name for f in dataclasses.fields(TestInput) if f.init and f.name != "cache"]

    def alone(func: Any) -> Any:
        def call(inp: Any, idx: Any) -> Any:
            kw = {}
            for name in fields:
                v = getattr(inp, name)
                kw[name] = v[idx] if isinstance(v, np.ndarray) and v.ndim and v.shape[0] == n_pairs else v
            return func(TestInput(**kw, cache={}), np.arange(len(idx)))

        return call

    specs = [
        dataclasses.replace(sp, func=alone(sp.func), batch=None, batch_windows=None) for sp in TESTS.values()
    ]
    car_names = [format_window(w) for w in cfg.car_windows]
    day_names = [k for k in inputs if k not in car_names]
    skip = {"event"} | ({"market"} if len(st.symbols) > DAILY_MARKETS else set())
    day_labels = {k: v for k, v in labels.items() if k not in skip}
    k_car, k_day = int(spec.get("fresh_car", 1)), int(spec.get("fresh_day", 2))
    t = time.perf_counter()
    run_tests({k: inputs[k] for k in car_names[:k_car]}, labels, specs, batched=False)
    t_car = time.perf_counter() - t
    t = time.perf_counter()
    run_tests({k: inputs[k] for k in day_names[:k_day]}, day_labels, specs, batched=False)
    t_day = time.perf_counter() - t
    return {
        "fresh_tests_s": t_car * len(car_names) / k_car + t_day * len(day_names) / k_day,
        "fresh_sample": f"{k_car} of {len(car_names)} CAR windows, {k_day} of {len(day_names)} single days",
    }


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Measure one panel size; see the module docstring for the steps."""
    from bench.synthetic import make_study
    from eventstudy import TESTS, EventStudy
    from eventstudy.engine import compute
    from eventstudy.panel import build_panel

    S, E = spec["S"], spec["E"]
    res: dict[str, Any] = {"S": S, "E": E, "pairs": S * E, "errors": {}, "stages": {}}
    t = time.perf_counter()
    syn = make_study(S, E, seed=spec["seed"])
    res["gen_s"] = time.perf_counter() - t
    res["days"] = len(syn.dates)
    res["rss_after_gen_mib"] = _maxrss_mib()
    res["tests"] = list(TESTS)

    def study(tests: list[str] | None) -> EventStudy:
        return EventStudy(syn.events, syn.prices, model="market", benchmark="MKT", tests=tests)

    if spec["mode"] == "fresh":
        res.update(_fresh_tests(study(None), spec))
        return res

    if spec["mode"] in ("run", "run_notests", "run_pergroup"):
        # the whole study as the first study work of this fresh process
        key = {"run": "run_all", "run_notests": "run_notests", "run_pergroup": "run_pergroup"}[spec["mode"]]
        if spec["mode"] == "run_pergroup":
            # the baseline's tests: every test called group by group (its per-group form)
            import functools
            import importlib

            # the module whose ``run_tests`` the study calls (the study itself in older checkouts)
            where = "studytests" if _has_module("studytests") else "study"
            tests_mod = importlib.import_module("eventstudy." + where)
            tests_mod.run_tests = functools.partial(tests_mod.run_tests, batched=False)
        try:
            gc.collect()
            with StageTimer() as timer:
                t, c = time.perf_counter(), time.process_time()
                r = study([] if spec["mode"] == "run_notests" else None).run()
                res[key + "_s"] = time.perf_counter() - t
                res[key + "_cpu_s"] = time.process_time() - c
            res["stages"] = {"wall": timer.wall, "cpu": timer.cpu, "calls": timer.calls}
            res["included"] = int(r.manifest["counts"]["included"])
            res["n_test_rows"] = len(r.tests())
            del r
        except Exception as exc:  # MemoryError included: report it
            res["errors"][key] = _err(exc)
        res["rss_after_run_mib"] = _maxrss_mib()
        return res

    # 2. the parts
    st = study(None)
    cfg = st.config
    try:
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        panel = build_panel(st.events, st.prices, st.symbols, cfg, st.mask_events, st.model.needs_benchmark)
        res["panel_s"] = time.perf_counter() - t
        res["panel_cpu_s"] = time.process_time() - c
    except Exception as exc:
        res["errors"]["panel"] = _err(exc)
        return res
    out = None
    # the chunked engine that EventStudy.run uses, when there is one (peak under tracemalloc)
    from eventstudy import engine as _engine

    if hasattr(_engine, "compute_chunks"):
        try:
            gc.collect()
            tracemalloc.start()
            base_cur, _ = tracemalloc.get_traced_memory()
            t, c = time.perf_counter(), time.process_time()
            out = _engine.compute_chunks(panel, cfg, st.model, spec["chunk_size"], need_resid=False)
            res["chunked_s"] = time.perf_counter() - t
            res["chunked_cpu_s"] = time.process_time() - c
            _, peak = tracemalloc.get_traced_memory()
            res["chunked_peak_mib"] = (peak - base_cur) / MIB
        except Exception as exc:
            res["errors"]["compute_chunks"] = _err(exc)
        finally:
            tracemalloc.stop()
    # engine.compute on all pairs at once: best of `reps`, then one run under tracemalloc
    times = []
    try:
        for _ in range(spec["reps"]):
            gc.collect()
            t, c = time.perf_counter(), time.process_time()
            o = compute(panel, cfg, st.model, need_resid=False)
            times.append((time.perf_counter() - t, time.process_time() - c))
            del o
        res["engine_s"] = min(w for w, _ in times)
        res["engine_cpu_s"] = min(c for _, c in times)
        res["engine_all_s"] = times
        gc.collect()
        tracemalloc.start()
        base_cur, _ = tracemalloc.get_traced_memory()
        o = compute(panel, cfg, st.model, need_resid=False)
        _, peak = tracemalloc.get_traced_memory()
        res["engine_peak_mib"] = (peak - base_cur) / MIB
        if out is None:
            out = o
        del o
    except Exception as exc:
        res["errors"]["compute"] = _err(exc)
    finally:
        tracemalloc.stop()
    res["rss_after_engine_mib"] = _maxrss_mib()

    # 3. baseline on a subsample, checked against ours
    pick, base, walls, cpus = timed_baseline(syn, cfg, spec["baseline_pairs"], spec["seed"])
    n_sub = len(pick)
    res["baseline_s"] = min(walls) * n_sub
    res["baseline_cpu_s"] = min(cpus) * n_sub
    res["baseline_per_pair_ms"] = [1e3 * w for w in walls]
    res["baseline_pairs"] = n_sub
    if out is not None:
        # pairs rows are security-major (one block of E events per security)
        rowpos = np.full(len(panel.pairs), -1)
        rowpos[out.keep] = np.arange(len(out.keep))
        key = panel.pairs.reset_index(drop=True)
        sym_idx = {s: i for i, s in enumerate(syn.symbols)}
        ev_idx = {f"E{e:05d}": e for e in range(E)}
        code = key["symbol"].map(sym_idx).to_numpy() * E + key["event_id"].map(ev_idx).to_numpy()
        lookup = np.full(S * E, -1)
        lookup[code] = rowpos
        rows = lookup[pick]
        have = rows >= 0
        ours = np.stack([out.car, out.car_se, out.car_t], axis=-1)[rows[have]]
        diff = np.abs(ours - base[have])
        res["check_pairs"] = int(have.sum())
        res["check_max_abs_diff"] = {
            "car": float(np.nanmax(diff[..., 0])),
            "se": float(np.nanmax(diff[..., 1])),
            "t": float(np.nanmax(diff[..., 2])),
        }
    res["rss_final_mib"] = _maxrss_mib()
    return res


# ---------------------------------------------------------------------- parent
def run_child(spec: dict[str, Any], timeout: float, mem_gib: float) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter (address space capped at ``mem_gib``)."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        json.dumps(spec),
        "--mem-limit-gib",
        str(mem_gib),
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"failed": f"not finished after {timeout:.0f} s (stopped)"}
    for line in p.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            r: dict[str, Any] = json.loads(line[len("BENCH_JSON ") :])
            r["wall_s"] = time.perf_counter() - t
            return r
    tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
    return {"failed": f"exit {p.returncode}: {' | '.join(tail)}"}


def measure(S: int, E: int, a: argparse.Namespace, nb: int, log: Any = print) -> dict[str, Any]:
    """All measurements of one size: parts, whole run, run without tests (three fresh processes)."""
    spec = {
        "S": S,
        "E": E,
        "seed": a.seed,
        "baseline_pairs": nb,
        "reps": 3 if S * E <= 20_000 else 1,
        "chunk_size": a.chunk_size,
    }
    log(f"  {S * E:>9,} pairs ({S:,} × {E}): AR+CAR+t and baseline ...", flush=True)
    r = run_child({**spec, "mode": "parts"}, a.timeout, a.mem_limit_gib)
    r.update(S=S, E=E, pairs=S * E, chunk_size=a.chunk_size)
    r.setdefault("errors", {})
    if "failed" in r:
        r["errors"]["parts"] = r.pop("failed")
    modes = ["run", "run_notests"] + (["run_pergroup", "fresh"] if a.pergroup_max >= S * E else [])
    for mode in modes:
        if a.no_run:
            break
        what = {
            "run": "every test",
            "run_notests": "no tests",
            "run_pergroup": "every test group by group",
            "fresh": "tests group by group from scratch (sampled windows)",
        }
        log(f"  {S * E:>9,} pairs: whole study, {what[mode]} ...", flush=True)
        q = run_child({**spec, "mode": mode}, a.run_timeout, a.mem_limit_gib)
        if mode == "fresh":
            if "failed" in q:
                r["errors"]["fresh"] = q["failed"]
            else:
                r["fresh_tests_s"], r["fresh_sample"] = q.get("fresh_tests_s"), q.get("fresh_sample")
            continue
        key = {"run": "run_all", "run_notests": "run_notests", "run_pergroup": "run_pergroup"}[mode]
        if "failed" in q:
            r["errors"][key] = q["failed"]
            continue
        r["errors"].update(q.get("errors", {}))
        keys = [key + "_s", key + "_cpu_s"] + (["n_test_rows", "tests"] if mode == "run" else [])
        if mode == "run_pergroup":
            stages = q.get("stages", {})
            r["pergroup_tests_s"] = stages.get("wall", {}).get("run_tests")
            r["pergroup_tests_cpu_s"] = stages.get("cpu", {}).get("run_tests")
        for k in keys:
            if k in q:
                r[k] = q[k]
        r[key + "_rss_mib"] = q.get("rss_after_run_mib")
        r[key + "_stages"] = q.get("stages", {})
    return r


def profile_child(spec: dict[str, Any], path: Path) -> None:
    """Write pyinstrument (else cProfile) reports of build_panel + compute and of the whole run."""
    from bench.synthetic import make_study
    from eventstudy import EventStudy
    from eventstudy.engine import compute
    from eventstudy.panel import build_panel

    syn = make_study(spec["S"], spec["E"], seed=spec["seed"])
    st = EventStudy(syn.events, syn.prices, model="market", benchmark="MKT")

    def parts() -> None:
        panel = build_panel(st.events, st.prices, st.symbols, st.config, st.mask_events, True)
        compute(panel, st.config, st.model)

    def whole() -> None:
        st.run()

    jobs = [("build_panel + engine.compute (4 CAR windows)", parts)]
    if spec.get("whole"):
        jobs.append(("whole run, every registered test", whole))
    texts = []
    for label, fn in jobs:
        try:
            from pyinstrument import Profiler
        except ImportError:  # fall back to cProfile
            import cProfile
            import io
            import pstats

            pr = cProfile.Profile()
            pr.runcall(fn)
            buf = io.StringIO()
            pstats.Stats(pr, stream=buf).sort_stats("cumulative").print_stats(40)
            texts.append(f"===== {label} (cProfile)\n{buf.getvalue()}")
            continue
        prof = Profiler(interval=0.002)
        prof.start()
        fn()
        prof.stop()
        texts.append(f"===== {label} (pyinstrument)\n" + prof.output_text(unicode=True, color=False))
    path.write_text("\n".join(texts))


def _fmt_rate(x: float | None) -> str:
    if x is None or not np.isfinite(x):
        return "-"
    for unit, div in (("M", 1e6), ("k", 1e3)):
        if x >= div:
            return f"{x / div:.1f}{unit}"
    return f"{x:.0f}"


def _rates(r: dict[str, Any]) -> dict[str, float | None]:
    """Pairs per second of each measurement, and ours ÷ baseline."""
    P = r["pairs"]

    def rate(*keys: str) -> float | None:
        return P / sum(r[k] for k in keys) if all(r.get(k) for k in keys) else None

    out: dict[str, float | None] = {}
    for sfx in ("", "_cpu"):
        b = r.get("baseline" + sfx + "_s")
        base = r["baseline_pairs"] / b if b else None
        out["baseline" + sfx] = base
        eng = "engine" if r.get("engine_s") else "chunked"  # compute, else compute_chunks
        out["engine" + sfx] = rate(eng + sfx + "_s")
        out["panel_engine" + sfx] = rate(eng + sfx + "_s", "panel" + sfx + "_s")
        out["run_all" + sfx] = rate("run_all" + sfx + "_s")
        out["run_notests" + sfx] = rate("run_notests" + sfx + "_s")
        for k in ("engine", "panel_engine", "run_all", "run_notests"):
            v = out[k + sfx]
            out["x_" + k + sfx] = v / base if v and base else None
    return out


def _x(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}×" if v >= 10 else f"{v:.2g}×"


def _mib(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f} MiB"


def report(results: list[dict[str, Any]], target: dict[str, Any] | None, cli_s: float | None) -> str:
    """The printed summary: scaling tables, time breakdown and the target lines.

    Ratios are ours ÷ loop in pairs per second, by wall clock and (in
    brackets) by process CPU time, which is robust to other load on the machine.
    """
    L: list[str] = []
    h1 = (
        f"{'pairs':>9} {'S × E':>10} | {'loop/s':>6} | {'ours/s':>7} {'ratio':>6} {'(cpu)':>7} | "
        f"{'+panel/s':>8} {'ratio':>6} {'(cpu)':>7} | {'panel':>6} {'engine':>7} | "
        f"{'engine peak':>11} {'proc peak':>10}"
    )
    L += [
        "AR+CAR+t (fit, AR, CAR, γ'Vγ, t, p; 4 CAR windows): eventstudy.engine.compute on a built panel",
        "vs the per-pair statsmodels loop, pairs per second in the same process; '+panel' adds build_panel",
        "(prices → returns, day 0, masks). Ratio by wall clock and (by CPU time). Peaks: tracemalloc of",
        "one compute; maxrss of the process (synthetic data + panel + engine + loop). '*': compute",
        "failed, compute_chunks timed instead.",
        h1,
        "-" * len(h1),
    ]
    for r in results:
        q = _rates(r)
        pan = f"{r['panel_s']:.2f}s" if r.get("panel_s") else "-"
        if r.get("engine_s"):
            eng = f"{r['engine_s']:.3f}s"
        else:
            eng = f"{r['chunked_s']:.1f}s*" if r.get("chunked_s") else "-"
        L.append(
            f"{r['pairs']:>9,} {r['S']:>5,} × {r['E']:<2} | {_fmt_rate(q['baseline']):>6} | "
            f"{_fmt_rate(q['engine']):>7} {_x(q['x_engine']):>6} {'(' + _x(q['x_engine_cpu']) + ')':>7} | "
            f"{_fmt_rate(q['panel_engine']):>8} {_x(q['x_panel_engine']):>6} "
            f"{'(' + _x(q['x_panel_engine_cpu']) + ')':>7} | {pan:>6} {eng:>7} | "
            f"{_mib(r.get('engine_peak_mib')):>11} {_mib(r.get('rss_final_mib')):>10}"
        )
    h2 = (
        f"{'pairs':>9} | {'all tests':>9} {'pairs/s':>8} {'ratio':>6} {'(cpu)':>7} {'peak':>10} | "
        f"{'no tests':>8} {'pairs/s':>8} {'ratio':>6} {'(cpu)':>7} {'peak':>10}"
    )
    L += [
        "",
        "Whole study, EventStudy(..., model='market', benchmark='MKT', tests=None or []).run(), each the",
        "first study work of a fresh process, vs the same loop's per-pair rate; peak = process maxrss:",
        h2,
        "-" * len(h2),
    ]
    for r in results:
        q = _rates(r)
        cells = []
        for key in ("run_all", "run_notests"):
            if r.get(key + "_s"):
                cells.append(
                    f"{r[key + '_s']:>8.1f}s {_fmt_rate(q[key]):>8} {_x(q['x_' + key]):>6} "
                    f"{'(' + _x(q['x_' + key + '_cpu']) + ')':>7} {_mib(r.get(key + '_rss_mib')):>10}"
                )
            else:
                cells.append(f"{'not done':>9} {'':>8} {'':>6} {'':>7} {'':>10}")
        L.append(f"{r['pairs']:>9,} | {cells[0]} | {cells[1]}")
    L += ["", "Where the time goes (wall seconds inside the whole run with every test, share of it):"]
    for r in results:
        run = r.get("run_all_s")
        st = r.get("run_all_stages", {}).get("wall", {})
        calls = r.get("run_all_stages", {}).get("calls", {})
        if run and st:
            tests = {k[5:]: v for k, v in st.items() if k.startswith("test ")}
            main = {k: v for k, v in st.items() if not k.startswith("test ")}
            txt = ", ".join(
                f"{k} {v:.2f}s ({100 * v / run:.0f}%)" for k, v in sorted(main.items(), key=lambda kv: -kv[1])
            )
            cpu = r.get("run_all_cpu_s", 0.0)
            L.append(f"  {r['pairs']:>9,} pairs, whole run {run:.1f}s (cpu {cpu:.1f}s): {txt}")
            if tests:
                n = sum(calls.get("test " + k, 0) for k in tests)
                top = sorted(tests.items(), key=lambda kv: -kv[1])
                L.append(
                    f"      {n:,} test calls ({r.get('n_test_rows', '?'):,} rows), by test: "
                    + ", ".join(f"{k} {v:.2f}s" for k, v in top)
                )
        else:
            L.append(f"  {r['pairs']:>9,} pairs: whole run not measured")
        if r.get("panel_s"):
            pan = r["panel_s"]
            eng = f"{r['engine_s']:.2f}s" if r.get("engine_s") else "failed"
            line = f"      AR+CAR+t parts: build_panel {pan:.2f}s, compute {eng}"
            if r.get("chunked_s"):
                line += (
                    f"; compute_chunks (chunks of {r.get('chunk_size', '?'):,}, under tracemalloc) "
                    f"{r['chunked_s']:.2f}s, peak {_mib(r.get('chunked_peak_mib'))}"
                    f" vs {_mib(r.get('engine_peak_mib'))} unchunked"
                )
            L.append(line)
        for k, v in r.get("errors", {}).items():
            L.append(f"      {k}: {v}")
        if "check_max_abs_diff" in r:
            d = r["check_max_abs_diff"]
            L.append(
                f"      check, loop vs ours on {r['check_pairs']} pairs: max |ΔCAR| {d['car']:.1e}, "
                f"|Δse| {d['se']:.1e}, |Δt| {d['t']:.1e}"
            )
    L += ["", "Targets (issue 6):"]
    if target:
        q = _rates(target)
        L.append(
            f"  AR+CAR+t at {target['pairs']:,} pairs ({target['S']:,} securities × {target['E']} events): "
            f"{_x(q['x_engine'])} faster than the per-pair loop (target ≥ 100×)"
        )
        L.append(
            f"      [by CPU time {_x(q['x_engine_cpu'])}; including build_panel {_x(q['x_panel_engine'])}"
            f" (CPU {_x(q['x_panel_engine_cpu'])})]"
        )
        if target.get("run_all_s"):
            L.append(
                f"  whole battery ({len(target.get('tests', []))} tests) at {target['pairs']:,} pairs, fresh "
                f"process: {_x(q['x_run_all'])} faster than the per-pair loop doing AR+CAR+t only"
                f" [CPU {_x(q['x_run_all_cpu'])}]"
            )
            # the loop's fits for all pairs, extrapolated from its subsample
            fits = (target.get("baseline_s") or np.nan) / target["baseline_pairs"] * target["pairs"]
            if target.get("pergroup_tests_s") and np.isfinite(fits):
                base = fits + target["pergroup_tests_s"]
                L.append(
                    "      vs the loop doing the same work (per-pair statsmodels fits "
                    f"{fits:.1f}s + every test group by group "
                    f"{target['pergroup_tests_s']:.1f}s = {base:.1f}s): "
                    f"{_x(base / target['run_all_s'])} (target ≥ 20×)"
                )
            if target.get("fresh_tests_s") and np.isfinite(fits):
                base = fits + target["fresh_tests_s"]
                L.append(
                    "      vs a loop over groups from scratch (each group's pairs alone, nothing shared "
                    f"between groups or windows; estimated from {target['fresh_sample']}): "
                    f"{fits:.1f}s + {target['fresh_tests_s']:.1f}s = {base:.1f}s: "
                    f"{_x(base / target['run_all_s'])} (target ≥ 20×)"
                )
        else:
            why = target["errors"].get("run_all", "not run")
            L.append(f"  whole battery at {target['pairs']:,} pairs: did not complete: {why} (target ≥ 20×)")
    big = [r for r in results if r["pairs"] >= 1_000_000]
    for r in big:
        if r.get("run_all_s"):
            q = _rates(r)
            L.append(
                f"  {r['pairs']:,} pairs whole run: {r['run_all_s']:.1f}s ({_x(q['x_run_all'])} the loop), "
                f"process peak {r['run_all_rss_mib'] / 1024:.2f} GiB (target < 60 s, < 4 GiB)"
            )
        else:
            errs = r.get("errors", {})
            why = "; ".join(f"{k}: {errs[k]}" for k in ("run_all", "run_notests") if k in errs) or "not run"
            L.append(f"  {r['pairs']:,} pairs whole run: {why} (target < 60 s, < 4 GiB)")
    if not big:
        L.append("  1,000,000 pairs: not run (use --full)")
    if cli_s is not None:
        L.append(
            f"  default `python -m eventstudy run` (report included), fresh process: {cli_s:.1f}s (< 5 s)"
        )
    return "\n".join(L)


def time_cli() -> float | None:
    """Wall time of the default ``python -m eventstudy run`` into a temporary folder."""
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        p = subprocess.run(
            [sys.executable, "-m", "eventstudy", "run", "--out", str(Path(d) / "study")],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=600,
        )
        el = time.perf_counter() - t
    return el if p.returncode == 0 else None


def _parse_size(s: str) -> tuple[int, int]:
    a, b = s.lower().replace("×", "x").split("x")
    return int(a), int(b)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="curve at 1k and 10k pairs (plus the 20k target)")
    g.add_argument("--full", action="store_true", help="add 1,000,000 pairs (50,000 × 20) to the curve")
    ap.add_argument("--sizes", nargs="+", metavar="SxE", help="curve sizes, e.g. 50x20 10000x100")
    ap.add_argument("--baseline-pairs", type=int, default=None, help="loop subsample (400; quick 150)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds for the AR+CAR+t part of a size")
    ap.add_argument("--run-timeout", type=float, default=300.0, help="seconds for each whole-study run")
    ap.add_argument("--chunk-size", type=int, default=20_000, help="chunk size of compute_chunks")
    ap.add_argument("--no-run", action="store_true", help="skip the whole-study runs")
    ap.add_argument(
        "--pergroup-max",
        type=int,
        default=20_000,
        help="largest size (pairs) at which the battery baseline (every test group by group) is run",
    )
    ap.add_argument("--mem-limit-gib", type=float, default=12.0, help="address-space cap of each child")
    ap.add_argument("--json", type=Path, help="also write every measurement to this file")
    ap.add_argument("--profile", nargs="*", metavar="SxE", help="pyinstrument reports to bench/results/")
    ap.add_argument("--no-cli", action="store_true", help="skip timing the default CLI run")
    ap.add_argument(
        "--stream",
        nargs="+",
        metavar="SxE",
        help="streamed AR+CAR+t from prices (bench/bench_stream.py) at these sizes; --full: 50000x20",
    )
    ap.add_argument("--stream-mem-limit-gib", type=float, default=6.0, help="address-space cap of --stream")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--profile-child", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.child or a.profile_child:
        cap = int(a.mem_limit_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        if a.child:
            print("BENCH_JSON " + json.dumps(child(json.loads(a.child))), flush=True)
        else:
            spec = json.loads(a.profile_child)
            profile_child(spec, Path(spec["path"]))
        return 0

    if a.sizes:
        sizes = [_parse_size(s) for s in a.sizes]
    else:
        sizes = CURVE_QUICK if a.quick else CURVE_FULL if a.full else CURVE
    nb = a.baseline_pairs or (150 if a.quick else 400)
    print(
        f"# eventstudy engine benchmark: Python {platform.python_version()}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; seed {a.seed}; "
        f"per-pair loop timed on {nb} random pairs per size, its rate extrapolated",
        flush=True,
    )
    results: list[dict[str, Any]] = []
    target: dict[str, Any] | None = None
    for S, E in sorted(set(sizes) | {TARGET_SIZE}, key=lambda x: x[0] * x[1]):
        r = measure(S, E, a, nb)
        if (S, E) in sizes:
            results.append(r)
        if (S, E) == TARGET_SIZE:
            target = r
    for size in a.profile or []:
        S, E = _parse_size(size)
        done = next((r for r in results + [target] if r and (r["S"], r["E"]) == (S, E)), None)
        whole = bool(done and done.get("run_all_s") and done["run_all_s"] < a.run_timeout)
        path = ROOT / "bench" / "results" / f"profile_{S}x{E}.txt"
        path.parent.mkdir(exist_ok=True)
        spec = {"S": S, "E": E, "seed": a.seed, "path": str(path), "whole": whole}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--profile-child", json.dumps(spec)]
        cmd += ["--mem-limit-gib", str(a.mem_limit_gib)]
        subprocess.run(cmd, cwd=ROOT, timeout=a.timeout + (a.run_timeout if whole else 0), check=False)
        print(f"  profile of {S}×{E} written to {path.relative_to(ROOT)}", flush=True)
    cli_s = None if a.no_cli else time_cli()
    stream = _stream(a)
    print(f"# load average at the end: {os.getloadavg()[0]:.1f}")
    print()
    print(report(results, target, cli_s))
    if stream:
        from bench import bench_stream

        print()
        print(bench_stream.report(stream))
    if a.json:
        a.json.write_text(
            json.dumps({"results": results, "target": target, "cli_s": cli_s, "stream": stream}, indent=1)
        )
    return 0


def _stream(a: argparse.Namespace) -> list[dict[str, Any]]:
    """The streamed 1M-pair measurements of ``bench/bench_stream.py`` (``--stream``, or ``--full``)."""
    from bench import bench_stream

    sizes = [_parse_size(s) for s in a.stream] if a.stream else ([(50_000, 20)] if a.full else [])
    out = []
    for S, E in sizes:
        print(f"  {S * E:>9,} pairs ({S:,} × {E}): AR+CAR+t from prices, streamed ...", flush=True)
        out.append(bench_stream.measure(S, E, a.seed, a.chunk_size, 400, a.timeout, a.stream_mem_limit_gib))
    return out


if __name__ == "__main__":
    sys.exit(main())

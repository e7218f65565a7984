"""The steps of ``eventstudy run``: options → study → folder (no printing here).

The command in :mod:`eventstudy.cli` calls these in order so that it can say
exactly what was written when a later step fails or is interrupted:
:func:`resolve_options` and :func:`study_kwargs` (usage errors, before any
file is read), :func:`output_target` (the folder is checked against the
ownership rule of :mod:`eventstudy.output` before anything is computed),
:func:`compute`, then :meth:`StudyResult.save` and :func:`refresh_listing`.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from .config import StudyConfig, parse_window
from .configfile import load_config_file
from .errors import EventStudyError, InputError, PricesError, show
from .markets import DEFAULT_SYMBOLS

__all__ = [
    "as_list",
    "compute",
    "direction",
    "executor",
    "changed_parameters",
    "output_target",
    "previous_parameters",
    "refresh_listing",
    "resolve_options",
    "split",
    "study_kwargs",
]


def split(values: list[str] | None) -> list[str]:
    """Symbols or values given comma-separated and/or repeated, as one flat list."""
    out: list[str] = []
    for v in values or []:
        out += [s for s in v.replace(",", " ").split() if s]
    return out


def as_list(v: Any) -> list[str]:
    """A config or option value as a list of strings."""
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v]
    return [str(v)]


def direction(d: str) -> int:
    """``"1"``, ``"-1"`` or ``"0"`` as an int (an :class:`InputError` otherwise)."""
    try:
        v = int(d)
    except ValueError:
        raise InputError(f"direction: {show(d)} must be 1, -1 or 0") from None
    return v


def resolve_options(cli: dict[str, Any]) -> dict[str, Any]:
    """Merge command-line options over the config file (validated, see :func:`load_config_file`)."""
    opts: dict[str, Any] = {}
    if cli.get("config") is not None:
        opts.update(load_config_file(cli["config"]))
    for k, v in cli.items():
        if k in ("config", "debug"):
            continue
        if v is not None and v != []:
            opts[k] = v
    return opts


def study_kwargs(o: dict[str, Any]) -> dict[str, Any]:
    """Study parameters from the options, validated (an error here is a usage error)."""
    kw: dict[str, Any] = {}
    for key in ("estimation", "window", "mask"):
        if o.get(key) is not None:
            kw[key] = parse_window(o[key], key)
    if o.get("car"):
        kw["car_windows"] = [parse_window(c, "car") for c in as_list(o["car"])]
    for key in (
        "model",
        "returns",
        "min_estimation",
        "seed",
        "name",
        "calendar",
        "benchmark",
        "gaps",
        "draws",
        "beta",
        "lags",
        "leads",
    ):
        if o.get(key) is not None:
            kw[key] = o[key]
    if o.get("covariate"):  # repeatable or comma-separated; a name may hold spaces
        kw["covariates"] = [c.strip() for v in as_list(o["covariate"]) for c in v.split(",") if c.strip()]
    if o.get("factors"):
        kw["factors"] = tuple(split(as_list(o["factors"])))
    StudyConfig(**kw)  # raises InputError on an invalid combination
    _check_filters(o)
    _check_detail(o.get("detail"))
    workers = o.get("workers")
    if workers is not None and not 1 <= workers <= 256:
        raise InputError(f"workers: {workers} is not a number of processes between 1 and 256")
    chunk = o.get("chunk_size")
    if chunk is not None and chunk < 1:
        raise InputError(f"chunk-size: {chunk} is not a positive number of pairs")
    return kw


def _check_detail(detail: object) -> None:
    from .engine import DETAILS

    if detail is not None and detail not in DETAILS:
        raise InputError(f"detail: {show(detail)} is not one of {', '.join(DETAILS)}")


def _check_filters(o: dict[str, Any]) -> None:
    from .events import CATEGORIES

    bad = [c for c in split(as_list(o.get("category"))) if c not in CATEGORIES]
    if bad:
        raise InputError(f"category: unknown value(s) {bad}; valid: {', '.join(CATEGORIES)}")
    for d in split(as_list(o.get("direction"))):
        if direction(d) not in (-1, 0, 1):
            raise InputError(f"direction: {show(d)} must be 1, -1 or 0")
    for key in ("start", "end"):
        if o.get(key) is not None:
            try:
                pd.Timestamp(str(o[key]))
            except (ValueError, OverflowError):
                raise InputError(f"{key}: {show(o[key])} is not a date; write YYYY-MM-DD") from None


def output_target(o: dict[str, Any], kw: dict[str, Any]) -> Path:
    """The study folder: ``--out``, else ``reports/<name>`` (a name never leaves ``reports/``)."""
    if o.get("out"):
        return Path(str(o["out"]))
    return Path("reports") / StudyConfig(**kw).study_name


def compute(o: dict[str, Any], kw: dict[str, Any]) -> Any:
    """Read the events and prices the options name and run the study."""
    from .events import read_events
    from .sources import load_prices
    from .study import EventStudy

    all_events = read_events(o.get("events"))
    ev = all_events.filter(
        categories=split(as_list(o.get("category"))) or None,
        directions=[direction(d) for d in split(as_list(o.get("direction")))] or None,
        start=o.get("start"),
        end=o.get("end"),
    )
    if len(ev) == 0:
        raise InputError("no event matches the filters (--category/--direction/--start/--end)")
    price_path = as_list(o.get("prices")) or None  # --prices repeated, or a list in study.toml
    source: Any = o.get("source") or ("csv" if price_path else "snapshot")
    benchmark = kw.get("benchmark")
    reference = list(dict.fromkeys(([benchmark] if benchmark else []) + list(kw.get("factors") or ())))
    syms = split(as_list(o.get("symbols")))
    if source == "csv":
        if price_path is None:
            raise InputError("--source csv needs --prices FILE")
        prices = load_prices(None, source="csv", path=price_path, lenient=bool(o.get("lenient")))
        if not syms:
            syms = [s for s in prices.symbols if s not in reference]
    else:
        syms = syms or list(DEFAULT_SYMBOLS)
        need = syms + [s for s in reference if s not in syms]
        if source == "yahoo":
            # enough history for the estimation window (sessions, so pad in calendar days)
            lo = ev.table["local_date"].min() - pd.Timedelta(
                days=int(abs(kw.get("estimation", (-250, -11))[0]) * 1.6) + 30
            )
            hi = ev.table["local_date"].max() + pd.Timedelta(days=45)
            prices = load_prices(need, source="yahoo", start=lo, end=min(hi, pd.Timestamp.now().normalize()))
        else:
            factors = [f for f in kw.get("factors") or () if f not in syms]
            if factors:  # an unknown factor: the error names the option
                try:
                    load_prices(factors, source=source)
                except PricesError as exc:
                    raise PricesError(f"factors: {exc}") from None
            prices = load_prices(need, source=source)
    study = EventStudy(ev, prices, symbols=syms, mask_events=all_events, **kw)
    with executor(o.get("workers"), o.get("scheduler")) as ex:
        return study.run(
            executor=ex, detail=o.get("detail") or "full", chunk_size=o.get("chunk_size") or 20_000
        )


def _worker_signals() -> None:  # pragma: no cover - runs in worker processes
    """Workers leave Ctrl-C to the parent and end quietly on SIGTERM/SIGHUP (no handler inherited)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, signal.SIG_DFL)


@contextlib.contextmanager
def executor(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """A process pool (``--workers``), a Dask cluster's executor (``--scheduler``) or nothing.

    Workers ignore Ctrl-C (the parent handles it and cancels what is queued),
    so an interrupt prints no traceback from the pool.
    """
    if scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise InputError("--scheduler needs Dask: pip install 'eventstudy[dask]'") from None
        try:
            client = Client(scheduler, timeout=10)
        except (OSError, ValueError, TypeError) as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"--scheduler: cannot reach the Dask scheduler at {scheduler} ({msg})") from None
        with client:
            yield client.get_executor()
    elif workers and workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_signals)
        try:
            yield pool
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    else:
        yield None


def refresh_listing(folder: Path) -> Path | None:
    """Rewrite ``folder/index.html`` (the list of studies) when the toolkit owns that folder.

    Returns the listing, or ``None`` when the folder also holds files the
    toolkit did not write (a working folder: no listing is created there), or
    an ``index.html`` it did not write (left as is).
    Errors propagate; the caller decides that they do not fail the study.
    """
    from .report.index import owns_reports_root, write_reports_index

    if not owns_reports_root(folder):
        return None
    return write_reports_index(folder)


def previous_parameters(target: Path) -> dict[str, Any] | None:
    """The parameters of the study already in ``target`` (``None`` when there is none or unreadable)."""
    import json

    from .output import is_study_folder
    from .safety import MAX_STUDY_BYTES, read_input_bytes

    if not is_study_folder(target):
        return None
    try:
        doc = json.loads(read_input_bytes(target / "study.json", "study.json", MAX_STUDY_BYTES))
    except (OSError, ValueError, EventStudyError):
        return None
    params = doc.get("parameters") if isinstance(doc, dict) else None
    return params if isinstance(params, dict) else None


def changed_parameters(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """Names of the parameters that differ between an earlier study and the new one."""
    if before is None:
        return []
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))

"""Command line: a thin layer over the library.

Every :class:`~eventstudy.errors.EventStudyError` becomes one line on stderr
and exit code 1 (bad input or data); usage errors exit 2; ``--debug`` shows
the traceback instead.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import pandas as pd
import typer

from .config import load_config_file, parse_window
from .errors import EventStudyError, InputError
from .markets import DEFAULT_SYMBOLS, market_name

app = typer.Typer(
    help="Event studies of how markets react to news (US–China trade events bundled).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
events_app = typer.Typer(help="List, validate and align events.", no_args_is_help=True)
prices_app = typer.Typer(help="Inspect price data.", no_args_is_help=True)
app.add_typer(events_app, name="events")
cache_app = typer.Typer(help="Inspect or clear the Yahoo price cache.", no_args_is_help=True)
app.add_typer(prices_app, name="prices")
app.add_typer(cache_app, name="cache")

F = TypeVar("F", bound=Callable[..., Any])
_DEBUG = {"on": False}


def _fail(exc: BaseException) -> NoReturn:
    if _DEBUG["on"]:
        raise exc
    typer.secho(f"error: {exc}", err=True, fg="red")
    raise typer.Exit(code=1)


T = TypeVar("T")


def _guarded(debug: bool, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``fn``; an EventStudyError becomes one line on stderr and exit code 1."""
    _DEBUG["on"] = debug
    try:
        return fn(*args, **kwargs)
    except EventStudyError as exc:
        _fail(exc)


def _window_opt(name: str) -> Callable[[str | None], str | None]:
    def cb(value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parse_window(value, name)
        except InputError as exc:
            raise typer.BadParameter(str(exc)) from None
        return value

    return cb


def _cars_cb(values: list[str] | None) -> list[str] | None:
    for v in values or []:
        try:
            parse_window(v, "car")
        except InputError as exc:
            raise typer.BadParameter(str(exc)) from None
    return values


def _model_cb(value: str | None) -> str | None:
    from .models import MODELS

    if value is not None and value not in MODELS:
        raise typer.BadParameter(f"'{value}' is not a model; valid: {', '.join(MODELS)}")
    return value


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [s for s in v.replace(",", " ").split() if s]
    return out


DebugOpt = Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")]


@app.command()
def run(
    events: Annotated[
        Path | None, typer.Option(help="Events CSV (default: ./events.csv, else the bundled list).")
    ] = None,
    symbols: Annotated[
        list[str] | None,
        typer.Option(
            "--symbols",
            "-s",
            help="Markets, comma-separated or repeated (default: ^HSI ^STOXX50E ^GDAXI ^FTSE ^FCHI).",
        ),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Price source: snapshot (bundled, default), yahoo (cached) or csv.")
    ] = None,
    prices: Annotated[
        list[Path] | None,
        typer.Option(
            help="Price file, wide (date,SYM1,…), long (date,symbol,close) or one series (Yahoo's "
            "Date,…,Close,Adj Close,Volume or Date,Close; symbol from the file name); repeatable; "
            "implies --source csv."
        ),
    ] = None,
    benchmark: Annotated[
        str | None,
        typer.Option(help="Benchmark symbol for the market and market-adjusted models (e.g. ACWI)."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(help="constant-mean (default), market-adjusted or market.", callback=_model_cb),
    ] = None,
    estimation: Annotated[
        str | None,
        typer.Option(
            help="Estimation window, sessions relative to day 0 (default -250:-11).",
            callback=_window_opt("estimation"),
        ),
    ] = None,
    window: Annotated[
        str | None, typer.Option(help="Event window (default -10:+10).", callback=_window_opt("window"))
    ] = None,
    car: Annotated[
        list[str] | None,
        typer.Option(help="CAR window, repeatable (default 0:0 0:+1 -1:+1 -5:+5).", callback=_cars_cb),
    ] = None,
    returns: Annotated[str | None, typer.Option(help="simple (default) or log returns.")] = None,
    mask: Annotated[
        str | None,
        typer.Option(
            help="Sessions around other events removed from estimation (default -1:+1).",
            callback=_window_opt("mask"),
        ),
    ] = None,
    min_estimation: Annotated[
        int | None, typer.Option(help="Minimum estimation observations per pair (default 100).")
    ] = None,
    category: Annotated[
        list[str] | None, typer.Option(help="Keep these event categories (repeatable or comma-separated).")
    ] = None,
    direction: Annotated[
        list[str] | None, typer.Option(help="Keep these directions: 1 (de-escalation), -1, 0.")
    ] = None,
    start: Annotated[str | None, typer.Option(help="Keep events on or after this date (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Keep events on or before this date.")] = None,
    name: Annotated[str | None, typer.Option(help="Study name (folder under reports/).")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder of the study (default reports/<name>).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="study.toml with any of these options (command-line values win).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the resampling tests.")] = None,
    draws: Annotated[int | None, typer.Option(help="Draws of the resampling tests (default 999).")] = None,
    calendar: Annotated[
        list[str] | None,
        typer.Option(
            help="Exchange calendar of symbols the registry does not know: SYMBOL=MIC for one "
            "(repeatable), a bare MIC for every other unknown symbol."
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Run the computation on a pool of N worker processes.")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Run on a Dask cluster at this scheduler address (pip install '.[dask]')."),
    ] = None,
    png: Annotated[
        bool, typer.Option("--png", help="Also export every chart as PNG (needs kaleido and chromium).")
    ] = False,
    lenient: Annotated[
        bool,
        typer.Option(
            "--lenient", help="Drop structurally bad price rows (listed in study.json) instead of failing."
        ),
    ] = False,
    gaps: Annotated[
        str | None,
        typer.Option(
            help="Returns spanning several sessions (a session without a price): keep (marked) or drop."
        ),
    ] = None,
    beta: Annotated[
        str | None,
        typer.Option(
            help="Betas of the market model: ols, dimson or scholes-williams (default: dimson with one "
            "lag where the benchmark closes after the market, else ols)."
        ),
    ] = None,
    lags: Annotated[int | None, typer.Option(help="Benchmark lags of Dimson betas (default 1).")] = None,
    leads: Annotated[int | None, typer.Option(help="Benchmark leads of Dimson betas (default 0).")] = None,
    detail: Annotated[
        str | None,
        typer.Option(
            help="full (default) or pairs: per-pair results only, for very many pairs (no "
            "abnormal_returns table; only the tests that need no estimation-window data)."
        ),
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Run an event study and write its folder (tables, study.json, index.html)."""
    _DEBUG["on"] = debug
    t0 = time.perf_counter()
    try:
        opts = _resolve(locals())
        kw = _study_kwargs(opts)
    except InputError as exc:
        if debug:
            raise
        typer.secho(f"usage error: {exc}", err=True, fg="red")
        raise typer.Exit(code=2) from None
    try:
        res, target = _run_study(opts, kw)
    except EventStudyError as exc:
        _fail(exc)
        return
    m = res.manifest["counts"]
    for note in res.notes:
        typer.secho(f"note: {note}", err=True)
    for warning in res.warnings:
        typer.secho(f"warning: {warning}", err=True, fg="yellow")
    typer.echo(str(res.summary()))
    typer.echo(
        f"\nwrote {target}/ ({m['included']} pairs, {m['excluded']} excluded) "
        f"in {time.perf_counter() - t0:.1f} s; open {target / 'index.html'}"
    )


def _resolve(cli: dict[str, Any]) -> dict[str, Any]:
    """Merge command-line options over the config file over defaults."""
    opts: dict[str, Any] = {}
    if cli.get("config") is not None:
        opts.update(load_config_file(cli["config"]))
    for k, v in cli.items():
        if k in ("config", "debug"):
            continue
        if v is not None and v != []:
            opts[k] = v
    return opts


def _study_kwargs(o: dict[str, Any]) -> dict[str, Any]:
    """Study parameters from the options, validated (an error here is a usage error)."""
    from .config import StudyConfig

    kw: dict[str, Any] = {}
    for key in ("estimation", "window", "mask"):
        if o.get(key) is not None:
            kw[key] = parse_window(o[key], key)
    if o.get("car"):
        kw["car_windows"] = [parse_window(c, "car") for c in _as_list(o["car"])]
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
    StudyConfig(**kw)  # raises InputError on an invalid combination
    _check_filters(o)
    _check_detail(o.get("detail"))
    return kw


def _check_detail(detail: object) -> None:
    """``--detail`` is ``full`` or ``pairs`` (a usage error otherwise)."""
    from .engine import DETAILS

    if detail is not None and detail not in DETAILS:
        raise InputError(f"detail: '{detail}' is not one of {', '.join(DETAILS)}")


def _check_filters(o: dict[str, Any]) -> None:
    """Validate the event filters before any file is read (usage errors)."""
    from .events import CATEGORIES

    bad = [c for c in _split(_as_list(o.get("category"))) if c not in CATEGORIES]
    if bad:
        raise InputError(f"category: unknown value(s) {bad}; valid: {', '.join(CATEGORIES)}")
    for d in _split(_as_list(o.get("direction"))):
        if _direction(d) not in (-1, 0, 1):
            raise InputError(f"direction: '{d}' must be 1, -1 or 0")
    for key in ("start", "end"):
        if o.get(key) is not None:
            try:
                pd.Timestamp(str(o[key]))
            except ValueError:
                raise InputError(f"{key}: '{o[key]}' is not a date; write YYYY-MM-DD") from None


def _run_study(o: dict[str, Any], kw: dict[str, Any]) -> tuple[Any, Path]:
    from .events import read_events
    from .sources import load_prices
    from .study import EventStudy

    all_events = read_events(o.get("events"))
    ev = all_events.filter(
        categories=_split(_as_list(o.get("category"))) or None,
        directions=[_direction(d) for d in _split(_as_list(o.get("direction")))] or None,
        start=o.get("start"),
        end=o.get("end"),
    )
    if len(ev) == 0:
        raise InputError("no event matches the filters (--category/--direction/--start/--end)")
    price_path = _as_list(o.get("prices")) or None  # --prices repeated, or a list in study.toml
    source: Any = o.get("source") or ("csv" if price_path else "snapshot")
    benchmark = kw.get("benchmark")
    syms = _split(_as_list(o.get("symbols")))
    if source == "csv":
        if price_path is None:
            raise InputError("--source csv needs --prices FILE")
        prices = load_prices(None, source="csv", path=price_path, lenient=bool(o.get("lenient")))
        if not syms:
            syms = [s for s in prices.symbols if s != benchmark]
    else:
        syms = syms or list(DEFAULT_SYMBOLS)
        need = syms + ([benchmark] if benchmark and benchmark not in syms else [])
        if source == "yahoo":
            # enough history for the estimation window (sessions, so pad in calendar days)
            lo = ev.table["local_date"].min() - pd.Timedelta(
                days=int(abs(kw.get("estimation", (-250, -11))[0]) * 1.6) + 30
            )
            hi = ev.table["local_date"].max() + pd.Timedelta(days=45)
            prices = load_prices(need, source="yahoo", start=lo, end=min(hi, pd.Timestamp.now().normalize()))
        else:
            prices = load_prices(need, source=source)
    study = EventStudy(ev, prices, symbols=syms, mask_events=all_events, **kw)
    with _executor(o.get("workers"), o.get("scheduler")) as ex:
        res = study.run(executor=ex, detail=o.get("detail") or "full")
    target = Path(o["out"]) if o.get("out") else Path("reports") / study.config.study_name
    res.save(target, png=bool(o.get("png")))
    _write_index(target.parent)
    return res, target


@contextlib.contextmanager
def _executor(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """A process pool (``--workers``), a Dask cluster's executor (``--scheduler``) or nothing."""
    if scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise InputError("--scheduler needs Dask: pip install 'eventstudy[dask]'") from None
        try:
            client = Client(scheduler, timeout=10)
        except OSError as exc:
            raise InputError(f"--scheduler: cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        with client:
            yield client.get_executor()
    elif workers and workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            yield pool
    else:
        yield None


def _write_index(folder: Path) -> None:
    """Refresh the listing of studies beside a saved study, when the report offers one."""
    try:
        from .report import write_reports_index
    except ImportError:
        return
    write_reports_index(folder)


def _as_list(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v]
    return [str(v)]


def _direction(d: str) -> int:
    try:
        v = int(d)
    except ValueError:
        raise InputError(f"direction: '{d}' must be 1, -1 or 0") from None
    return v


# ------------------------------------------------------------------ events
@events_app.command("list")
def events_list(
    events: Annotated[
        Path | None, typer.Argument(help="Events CSV (default: ./events.csv or the bundled list).")
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """List the events: id, timestamp, category, direction and title."""
    from .events import read_events

    ev = _guarded(debug, read_events, events)
    t = ev.table
    for r in t.itertuples():
        stamp = r.timestamp + (f" ({r.tz})" if r.tz else "")
        typer.echo(f"{r.event_id:<44} {stamp:<34} {r.category:<20} {r.direction:+d}  {r.title}")
    typer.echo(f"{len(t)} events from {ev.path}")


@events_app.command("validate")
def events_validate(
    events: Annotated[Path, typer.Argument(help="Events CSV to check.")],
    limit: Annotated[int, typer.Option(min=1, help="Most errors to list.")] = 20,
    debug: DebugOpt = False,
) -> None:
    """Check an events file: every error (up to --limit) with its line and column, and warnings."""
    from .events import validate_events

    ev, errors, warns = _guarded(debug, validate_events, events, limit)
    for w in warns:
        typer.secho(f"warning: {w}", err=True, fg="yellow")
    if errors:
        for e in errors:
            typer.secho(f"error: {e}", err=True, fg="red")
        if len(errors) > 1:  # a single error stays one line
            more = " (the first ones; raise --limit to see more)" if len(errors) >= limit else ""
            typer.secho(f"{events}: {len(errors)} errors{more}", err=True, fg="red")
        raise typer.Exit(code=1)
    assert ev is not None
    kinds = ev.table["timing"].value_counts()
    typer.echo(
        f"{events}: OK, {len(ev)} events ({int(kinds.get('instant', 0))} with a time, "
        f"{int(kinds.get('interval', 0))} within an interval, {int(kinds.get('date', 0))} date only)"
        + (f"; {len(warns)} warning(s)" if warns else "")
    )


@events_app.command("align")
def events_align(
    events: Annotated[
        Path | None, typer.Argument(help="Events CSV (default: ./events.csv or the bundled list).")
    ] = None,
    symbols: Annotated[
        list[str] | None, typer.Option("--symbols", "-s", help="Markets (default: the default markets).")
    ] = None,
    calendar: Annotated[
        list[str] | None,
        typer.Option(help="SYMBOL=MIC (repeatable) or a bare MIC for symbols the registry does not know."),
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Print each event's day 0 per market, the latest possible day 0 and the uncertainty flag."""
    from .align import align_table, calendar_notes
    from .events import read_events
    from .markets import parse_calendars

    _DEBUG["on"] = debug
    try:
        ev = read_events(events)
        syms = _split(symbols) or list(DEFAULT_SYMBOLS)
        spec = parse_calendars(calendar)
        tab = align_table(ev, syms, spec)
    except EventStudyError as exc:
        _fail(exc)
        return
    notes, warnings = calendar_notes(ev, syms, spec)
    for note in notes:
        typer.secho(f"note: {note}", err=True)
    for warning in warnings:
        typer.secho(f"warning: {warning}", err=True, fg="yellow")
    typer.echo(f"{'event_id':<44} {'symbol':<10} {'day0':<10} {'latest':<10} uncertain")
    for r in tab.itertuples():
        typer.echo(
            f"{r.event_id:<44} {r.symbol:<10} {r.day0:<10} {r.day0_latest:<10} "
            f"{'yes' if r.day0_uncertain else 'no'}"
        )


# ------------------------------------------------------------------ prices
@prices_app.command("show")
def prices_show(
    symbol: Annotated[str, typer.Argument(help="Symbol, e.g. ^HSI.")],
    prices: Annotated[Path | None, typer.Option(help="Price file (default: the bundled snapshot).")] = None,
    rows: Annotated[int, typer.Option(help="Rows to show at each end.")] = 5,
    debug: DebugOpt = False,
) -> None:
    """Show the first and last closes of one symbol and its date range."""
    from .sources import load_prices

    kw: dict[str, Any] = {"source": "csv", "path": prices} if prices else {}
    p = _guarded(debug, load_prices, [symbol], **kw)
    s = p[symbol]
    typer.echo(
        f"{symbol} ({market_name(symbol)}): {len(s)} rows, "
        f"{s.index[0].date()} … {s.index[-1].date()}, from {p.origin}"
    )
    for d, v in list(s.head(rows).items()) + [(None, None)] + list(s.tail(rows).items()):
        typer.echo("…" if d is None else f"{d.date()}  {v:,.4f}")


@app.command("report")
def report_cmd(
    folder: Annotated[Path, typer.Argument(help="A study folder (with study.json) or a folder of studies.")],
    debug: DebugOpt = False,
) -> None:
    """Render a saved study's index.html again, or list the studies of a folder in its index.html."""
    from .persist import rerender
    from .report import write_reports_index

    _DEBUG["on"] = debug
    try:
        if (folder / "study.json").is_file():
            out = rerender(folder)
        elif folder.is_dir():
            out = write_reports_index(folder)
        else:
            raise InputError(f"{folder}: no such folder")
    except EventStudyError as exc:
        _fail(exc)
        return
    typer.echo(f"wrote {out}")


@prices_app.command("fetch")
def prices_fetch(
    symbols: Annotated[
        list[str], typer.Option("--symbols", "-s", help="Symbols, comma-separated or repeated.")
    ],
    start: Annotated[str, typer.Option(help="First date (YYYY-MM-DD).")],
    end: Annotated[str | None, typer.Option(help="Last date (default: today).")] = None,
    debug: DebugOpt = False,
) -> None:
    """Fetch daily closes from Yahoo Finance into the local cache (only what is missing)."""
    from rich.progress import BarColumn, Progress, TextColumn

    from .sources import YahooSource

    _DEBUG["on"] = debug
    syms = _split(symbols)
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), transient=True) as bar:
            tasks: dict[str, Any] = {}

            def progress(sym: str, stage: str) -> None:
                if stage == "start":
                    tasks[sym] = bar.add_task(f"{sym}: fetching", total=1)
                else:
                    bar.update(tasks[sym], description=f"{sym}: {stage}", completed=1)

            p = YahooSource().fetch(syms, start, end, progress=progress)
    except EventStudyError as exc:
        _fail(exc)
        return
    msg = p.provenance.get("message")
    if msg:
        typer.echo(str(msg))
    series = p.provenance.get("series", {})
    for sym in syms:
        info = series.get(sym, {}) if isinstance(series, dict) else {}
        typer.echo(
            f"{sym}: {info.get('rows', len(p[sym]))} rows, {info.get('first', '')} … {info.get('last', '')}"
        )


@cache_app.command("info")
def cache_info_cmd(debug: DebugOpt = False) -> None:
    """Show what the Yahoo price cache holds."""
    from .sources import cache_info

    info = _guarded(debug, cache_info)
    typer.echo(f"cache folder: {info.directory} ({info.total_bytes / 1e6:.2f} MB)")
    for e in info.entries:
        state = "ok" if e.ok else f"PROBLEM: {e.problem}"
        typer.echo(f"{e.symbol:<12} {e.rows:>6} rows  {e.first} … {e.last}  {state}")
    if not info.entries:
        typer.echo("(empty)")


@cache_app.command("clear")
def cache_clear_cmd(
    symbols: Annotated[list[str] | None, typer.Option("--symbols", "-s", help="Only these symbols.")] = None,
    debug: DebugOpt = False,
) -> None:
    """Remove cached prices (all, or some symbols)."""
    from .sources import cache_clear

    n = _guarded(debug, cache_clear, symbols=_split(symbols) or None)
    typer.echo(f"removed {n} symbol(s) from the cache")


def main() -> None:  # pragma: no cover - console script
    """Console-script entry point (Ctrl-C exits 130 and leaves no partial output)."""
    # yfinance logs its own retries and failures; our one-line errors say what matters
    logging.getLogger("yfinance").setLevel(logging.CRITICAL)
    try:
        app()
    except KeyboardInterrupt:
        typer.secho("interrupted; nothing was written", err=True, fg="red")
        raise SystemExit(130) from None

"""Command line: a thin layer over the library.

Every :class:`~eventstudy.errors.EventStudyError` becomes one line on stderr
and exit code 1 (bad input or data); usage errors exit 2; ``--debug`` shows
the traceback instead.
"""

from __future__ import annotations

import gc
import json
import logging
import time
from pathlib import Path
from typing import Annotated

import typer

from .blasthreads import limit_blas_threads
from .cli_app import DebugOpt, app
from .cliguard import clean, fail_line, guard, os_message, say, warn
from .errors import ConfigError, EventStudyError, InputError
from .runcmd import (
    changed_parameters,
    compute,
    output_target,
    previous_parameters,
    refresh_listing,
    resolve_options,
    study_kwargs,
)


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
        typer.Option(
            help="constant-mean (default), market-adjusted, market, factor (--factors) or garch "
            "(GARCH(1,1); market mean with --benchmark)."
        ),
    ] = None,
    factors: Annotated[
        list[str] | None,
        typer.Option(
            help="Factor series of --model factor, comma-separated or repeated (e.g. ACWI,EURUSD=X); "
            "a --benchmark is the first factor."
        ),
    ] = None,
    estimation: Annotated[
        str | None,
        typer.Option(
            help="Estimation window, sessions relative to day 0 (default -250:-11).",
        ),
    ] = None,
    window: Annotated[str | None, typer.Option(help="Event window (default -10:+10).")] = None,
    car: Annotated[
        list[str] | None,
        typer.Option(help="CAR window, repeatable (default 0:0 0:+1 -1:+1 -5:+5)."),
    ] = None,
    returns: Annotated[str | None, typer.Option(help="simple (default) or log returns.")] = None,
    mask: Annotated[
        str | None,
        typer.Option(
            help="Sessions around other events removed from estimation (default -1:+1).",
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
        typer.Option(help="Run on a Dask cluster at this scheduler address (pip install '.\\[dask]')."),
    ] = None,
    chunk_size: Annotated[
        int | None,
        typer.Option(
            help="Pairs per chunk of work (default 20000): each worker holds one chunk's "
            "pairs × days arrays at a time; results do not depend on it."
        ),
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
            "lag where the benchmark closes after the market, else ols); factor: ols or dimson per factor."
        ),
    ] = None,
    lags: Annotated[int | None, typer.Option(help="Benchmark lags of Dimson betas (default 1).")] = None,
    leads: Annotated[int | None, typer.Option(help="Benchmark leads of Dimson betas (default 0).")] = None,
    covariate: Annotated[
        list[str] | None,
        typer.Option(
            help="Extra numeric column of the events file entered in the second-stage regression "
            "(repeatable): covariates.csv and rows of cross_section.csv."
        ),
    ] = None,
    detail: Annotated[
        str | None,
        typer.Option(
            help="full (default) or pairs: per-pair results only, for very many pairs (no "
            "abnormal_returns table; the estimation-window tests accumulated chunk by chunk, "
            "all but kp_bmp_t and kp_patell_z)."
        ),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print a machine-readable summary (JSON) on stdout instead.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print nothing but warnings and errors (and --json).")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Run an event study and write its folder (tables, study.json, index.html).

    The folder must be new, empty, or a study the toolkit wrote; anything
    else is refused before the computation (nothing is deleted). The listing
    ``<parent>/index.html`` is refreshed only in a folder of studies; when
    that fails the study stays written and a warning says why.
    """
    from .output import check_target

    t0 = time.perf_counter()
    try:
        opts = resolve_options(locals())
        kw = study_kwargs(opts)
    except ConfigError as exc:  # the study.toml file: bad input
        if debug:
            raise
        fail_line(str(exc), code=1)
    except InputError as exc:  # an option's value
        if debug:
            raise
        fail_line(str(exc), code=2, label="usage error")
    except OSError as exc:
        if debug:
            raise
        fail_line(os_message(exc), code=1)
    if not opts.get("name") and not opts.get("out"):  # a study with other parameters gets its own folder
        from .config import StudyConfig
        from .studyname import derived_name

        kw = {**kw, "name": derived_name(StudyConfig(**kw).study_name, opts)}
    with guard(debug) as outcome:
        target = output_target(opts, kw)
        check_target(target)
        res = compute(opts, kw)
        before = previous_parameters(target)
        res.save(target, png=bool(opts.get("png")))
        outcome.written = target
        changed = changed_parameters(before, res.manifest["parameters"])
        if changed:
            warn(f"replaced the earlier study in {target}, which had other {', '.join(changed)}")
        try:
            listing = refresh_listing(target.parent)
        except (OSError, EventStudyError) as exc:
            listing = None
            warn(f"the study was written, but the list of studies was not: {_reason(exc)}")
        else:
            index = target.parent / "index.html"
            if listing is None and (index.exists() or index.is_symlink()):
                warn(f"{index} not refreshed: eventstudy did not write that page (it was left as is)")
        unstudied = res.manifest.get("events_not_studied") or []
        if unstudied:
            more = ", …" if len(unstudied) > 5 else ""
            warn(
                f"{len(unstudied)} event(s) apply only to markets not studied "
                f"({', '.join(unstudied[:5])}{more}); they are in no table"
            )
        for note in res.notes if not (quiet or json_out) else ():
            typer.secho(f"note: {clean(note, newlines=False)}", err=True)
        for warning in res.warnings:
            warn(warning)
        m = res.manifest["counts"]
        from .cli_reader import json_summary, summary_lines

        if json_out:
            typer.echo(json.dumps(json_summary(res, target), indent=2))
            return
        if quiet:
            return
        say("\n".join(summary_lines(res)))
        say(
            f"\nwrote {target}/ ({m['included']} pairs, {m['excluded']} excluded) "
            f"in {time.perf_counter() - t0:.1f} s; open {target / 'index.html'}"
        )


def _reason(exc: BaseException) -> str:
    return os_message(exc) if isinstance(exc, OSError) else str(exc)


def main() -> None:  # pragma: no cover - console script
    """Console-script entry point (Ctrl-C exits 130 and leaves no partial output)."""
    # yfinance logs its own retries and failures; our one-line errors say what matters
    logging.getLogger("yfinance").setLevel(logging.CRITICAL)
    # The imported modules' objects are never garbage: freezing them keeps every collection
    # from walking them, and a larger first generation runs fewer collections while the
    # study allocates its many short-lived pandas objects (0.3 s → 0.1 s of a default run).
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    # the tests make many small products: OpenBLAS's idle threads spin between them (unless
    # the user set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS)
    limit_blas_threads(1)
    try:
        app()
    except KeyboardInterrupt:  # outside a command (the commands handle their own)
        typer.secho("interrupted; nothing was written", err=True, fg="red")
        raise SystemExit(130) from None


# registration order is the order of `--help`: run, report, then event
from . import cli_tools  # noqa: E402,F401,I001  (registers `events`, `prices`, `cache`, `report`)
from . import cli_reader  # noqa: E402, F401  (registers `event`, `--version`)

"""Command-line tools beside ``run``: ``events``, ``prices``, ``cache`` and ``report``.

Thin wrappers over the library; every failure is one line on stderr through
:func:`eventstudy.cliguard.guard` (exit 1 for bad input or data, 2 for usage).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .cli_app import DebugOpt, app, cache_app, events_app, guarded, prices_app
from .cliguard import clean, guard, say, warn
from .errors import InputError, OutputError
from .markets import DEFAULT_SYMBOLS, market_name
from .runcmd import split


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

    ev = guarded(debug, read_events, events)
    t = ev.table
    for r in t.itertuples():
        stamp = r.timestamp + (f" ({r.tz})" if r.tz else "")
        say(f"{r.event_id:<44} {stamp:<34} {r.category:<20} {r.direction:+d}  {r.title}")
    say(f"{len(t)} events from {ev.path}")


@events_app.command("validate")
def events_validate(
    events: Annotated[Path, typer.Argument(help="Events CSV to check.")],
    limit: Annotated[int, typer.Option(min=1, help="Most errors to list.")] = 20,
    debug: DebugOpt = False,
) -> None:
    """Check an events file: every error (up to --limit) with its line and column, and warnings."""
    from .events import validate_events

    ev, errors, warns = guarded(debug, validate_events, events, limit)
    for w in warns:
        warn(w)
    if errors:
        for e in errors:  # each error one line, control characters escaped (see cliguard)
            typer.secho(f"error: {clean(e, newlines=False)}", err=True, fg="red")
        if len(errors) > 1:  # a single error stays one line
            more = " (the first ones; raise --limit to see more)" if len(errors) >= limit else ""
            typer.secho(clean(f"{events}: {len(errors)} errors{more}", newlines=False), err=True, fg="red")
        raise typer.Exit(code=1)
    assert ev is not None
    kinds = ev.table["timing"].value_counts()
    say(
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

    with guard(debug):
        ev = read_events(events)
        syms = split(symbols) or list(DEFAULT_SYMBOLS)
        spec = parse_calendars(calendar)
        tab = align_table(ev, syms, spec)
        notes, warnings = calendar_notes(ev, syms, spec)
    for note in notes:
        typer.secho(f"note: {clean(note, newlines=False)}", err=True)
    for warning in warnings:
        warn(warning)
    say(f"{'event_id':<44} {'symbol':<10} {'day0':<10} {'latest':<10} uncertain")
    for r in tab.itertuples():
        say(
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
    p = guarded(debug, load_prices, [symbol], **kw)
    s = p[symbol]
    say(
        f"{symbol} ({market_name(symbol)}): {len(s)} rows, "
        f"{s.index[0].date()} … {s.index[-1].date()}, from {p.origin}"
    )
    for d, v in list(s.head(rows).items()) + [(None, None)] + list(s.tail(rows).items()):
        say("…" if d is None else f"{d.date()}  {v:,.4f}")


@app.command("report")
def report_cmd(
    folder: Annotated[Path, typer.Argument(help="A study folder (with study.json) or a folder of studies.")],
    debug: DebugOpt = False,
) -> None:
    """Render a saved study's index.html again, or list the studies of a folder in its index.html."""
    from .persist import rerender
    from .report import write_reports_index

    with guard(debug):
        if (folder / "study.json").is_file():
            out = rerender(folder)
        elif folder.is_dir():
            _check_listing_folder(folder)
            out = write_reports_index(folder)
        else:
            raise InputError(f"{folder}: no such folder")
    say(f"wrote {out}")


def _check_listing_folder(folder: Path) -> None:
    """A listing goes into a folder of studies, never into a folder of a user's other files."""
    from .output import is_study_folder
    from .report.index import owns_reports_root

    if owns_reports_root(folder) or any(is_study_folder(p) for p in folder.iterdir()):
        return
    raise OutputError(
        f"{folder}: holds no study folder, only other files; nothing was written "
        "(pass a folder of studies, e.g. reports)"
    )


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

    syms = split(symbols)
    with guard(debug), Progress(TextColumn("{task.description}"), BarColumn(), transient=True) as bar:
        tasks: dict[str, Any] = {}

        def progress(sym: str, stage: str) -> None:
            if stage == "start":
                tasks[sym] = bar.add_task(f"{sym}: fetching", total=1)
            else:
                bar.update(tasks[sym], description=f"{sym}: {stage}", completed=1)

        p = YahooSource().fetch(syms, start, end, progress=progress)
    msg = p.provenance.get("message")
    if msg:
        say(str(msg))
    series = p.provenance.get("series", {})
    for sym in syms:
        info = series.get(sym, {}) if isinstance(series, dict) else {}
        say(f"{sym}: {info.get('rows', len(p[sym]))} rows, {info.get('first', '')} … {info.get('last', '')}")


@cache_app.command("info")
def cache_info_cmd(debug: DebugOpt = False) -> None:
    """Show what the Yahoo price cache holds."""
    from .sources import cache_info

    info = guarded(debug, cache_info)
    say(f"cache folder: {info.directory} ({info.total_bytes / 1e6:.2f} MB)")
    for e in info.entries:
        state = "ok" if e.ok else f"PROBLEM: {e.problem}"
        say(f"{e.symbol:<12} {e.rows:>6} rows  {e.first} … {e.last}  {state}")
    if not info.entries:
        say("(empty)")


@cache_app.command("clear")
def cache_clear_cmd(
    symbols: Annotated[list[str] | None, typer.Option("--symbols", "-s", help="Only these symbols.")] = None,
    debug: DebugOpt = False,
) -> None:
    """Remove cached prices (all, or some symbols)."""
    from .sources import cache_clear

    n = guarded(debug, cache_clear, symbols=split(symbols) or None)
    say(f"removed {n} symbol(s) from the cache")

"""The terminal as a reader: the run's summary, ``--json``, ``--version`` and ``eventstudy event``.

The summary starts with the study's headline sentence (the dependence-robust
test, as in the report) and one line per market in percent; ``run --json``
prints :func:`json_summary` on stdout; ``eventstudy event ID`` shows one
event's reaction per market (:func:`~eventstudy.report.eventview.event_reaction`).
Everything here formats a finished result and computes nothing of its own.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .cli_app import app
from .cli_errors import model_cb
from .config import format_window
from .errors import EventStudyError
from .markets import market_name

if TYPE_CHECKING:
    from .results import StudyResult

__all__ = ["event_lines", "json_summary", "summary_lines"]


def _version() -> str:
    """The package's version (installed under the distribution name, else the source tree's)."""
    from .manifest import _own_version

    return _own_version()


def _version_cb(value: bool) -> None:
    if value:
        typer.echo(f"eventstudy {_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_version_cb, is_eager=True),
    ] = False,
) -> None:
    """Event studies of how markets react to news (US–China trade events bundled)."""


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _jsonable(v: Any) -> Any:
    """Numbers as JSON numbers (whole counts as integers, non-finite as null); other values as they are."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return v
    f = _num(v)
    return int(f) if f is not None and isinstance(v, int) else f


def _pct(v: Any) -> str:
    f = _num(v)
    return "n/a" if f is None else f"{100 * f:+.2f}%"


def _markets(res: StudyResult) -> list[Any]:
    from .report import headlines, views

    look = views.Lookup.of(res)
    return headlines.market_headlines(res, look, res.config.car_windows[0])


def summary_lines(res: StudyResult) -> list[str]:
    """The run's summary: headline sentence, one line per market (percent), the CAAR of every window."""
    from .report import headlines, views

    if not res.config.car_windows:
        return ["No CAR window."]
    look = views.Lookup.of(res)
    main = res.config.car_windows[0]
    overall = headlines.overall_headline(look, main)
    lines = [str(overall.sentence), ""]
    if res.config.model == "garch":
        from .models.garch import PLACEBO_NOTE

        lines[1:1] = [f"Note: {PLACEBO_NOTE}.", ""]
    lines.append(f"Per market, CAR {format_window(main)} (headline test; stars: p < .10 *, .05 **, .01 ***):")
    for h in headlines.market_headlines(res, look, main):
        ci = f"  95% {h.ci}" if h.ci else ""
        sig = f"  p {h.p}{h.stars}" if h.p else "  p n/a"
        who = f"{h.n_clusters} clusters of {h.n} pairs" if h.n_clusters else f"{h.n} pairs"
        lines.append(f"  {h.label:<18} {h.caar:>8}{ci}{sig}  ({h.test or 'no robust test'}, {who})")
    lines.append(res.summary().headline_text())
    lines.append("All pairs per window:")
    for w in res.config.car_windows:
        h = headlines.headline(look, "all", "all", w)
        lines.append(
            f"  {format_window(w):<6} CAAR {h.caar:>8}  95% {h.ci or 'n/a'}  p {h.p or 'n/a'}{h.stars}"
        )
    return lines


def json_summary(res: StudyResult, folder: Path | None) -> dict[str, Any]:
    """A machine-readable summary: headline, per-market results, counts and the output folder.

    Values are fractions (not percent); missing values are ``null``.
    """
    from .report import headlines, views

    look = views.Lookup.of(res)
    head = {k: _jsonable(v) for k, v in res.headline.items()}
    markets = []
    for sym in res.symbols:
        per = {}
        for w in res.config.car_windows:
            h = headlines.headline(look, "market", sym, w)
            per[format_window(w)] = {
                "caar": _num(h.caar_value),
                "ci_low": _num(h.ci_low),
                "ci_high": _num(h.ci_high),
                "p_value": _num(h.p_value),
                "test": h.test or None,
                "n_clusters": h.n_clusters or None,
                "n_pairs": h.n,
            }
        markets.append({"symbol": sym, "name": market_name(sym), "windows": per})
    return {
        "study": res.config.study_name,
        "headline": head,
        "sentence": str(headlines.overall_headline(look, res.config.car_windows[0]).sentence)
        if res.config.car_windows
        else "",
        "markets": markets,
        "counts": dict(res.manifest.get("counts") or {}),
        "folder": str(folder) if folder is not None else None,
        "report": str(folder / "index.html") if folder is not None else None,
        "warnings": list(res.warnings),
    }


def event_lines(res: StudyResult, event_id: str) -> list[str]:
    """One event's reaction per market as terminal lines (percent)."""
    from .report.eventview import event_facts, event_reaction, find_event

    eid = find_event(res, event_id)
    facts = event_facts(res, eid)
    t = event_reaction(res, eid)
    windows = [format_window(w) for w in res.config.car_windows]
    lines = [
        f"{facts.get('title', '')}",
        f"{eid} · {facts.get('timestamp', '')}{' (' + str(facts['tz']) + ')' if facts.get('tz') else ''}"
        f" · {facts.get('category', '')}",
    ]
    if t.empty:
        lines.append("No market of this study has this event (excluded: see fits.csv).")
        return lines
    head = f"{'market':<18} {'day 0':<23} {'return':>8} {'normal':>8} {'AR':>8} {'t':>6} {'p':>6}"
    head += "".join(f" {'CAR ' + w:>12}" for w in windows)
    lines += ["", head]
    for r in t.to_dict("records"):
        d0 = str(r["day0"])[:10]
        late = str(r["day0_latest"])[:10]
        day = d0 if late in ("", "NaT", d0) else f"{d0} to {late}"
        p = _num(r.get("ar_p"))
        t_ar = _num(r.get("ar_t"))
        row = (
            f"{r['market'][:18]:<18} {day:<23} {_pct(r.get('return')):>8} {_pct(r.get('normal_return')):>8} "
            f"{_pct(r.get('ar')):>8} {'n/a' if t_ar is None else f'{t_ar:.2f}':>6} "
            f"{'n/a' if p is None else f'{p:.3f}':>6}"
        )
        row += "".join(f" {_pct(r.get(f'car {w}')) + _stars(r.get(f'p {w}')):>12}" for w in windows)
        lines.append(row)
    ov = sorted({o for s in t["overlaps"] for o in str(s).split()})
    lines.append("")
    lines.append("Stars: the pair's own t test (*** p < 0.01, ** p < 0.05, * p < 0.10).")
    if ov:
        lines.append(f"Other events with day 0 inside window {windows[0]}: {', '.join(ov)}")
    return lines


def _stars(p: Any) -> str:
    from .report.views import stars

    return stars(p)


def _study_for_event(
    events: Path | None,
    symbols: list[str],
    model: str | None,
    benchmark: str | None,
    factors: list[str] | None = None,
) -> Any:
    """Run the study of the bundled snapshot for ``eventstudy event`` (in memory, nothing written).

    The view reads only the abnormal returns and the CAR table (each pair's own t
    test), so the study runs without the battery of group tests (``tests=[]``).
    """
    from .events import read_events
    from .markets import DEFAULT_SYMBOLS
    from .sources import load_prices
    from .study import EventStudy

    ev = read_events(events)
    syms = symbols or list(DEFAULT_SYMBOLS)
    extra = ([benchmark] if benchmark else []) + list(factors or [])
    need = syms + [s for s in dict.fromkeys(extra) if s not in syms]
    kw: dict[str, Any] = {"tests": []}
    if model:
        kw["model"] = model
    if benchmark:
        kw["benchmark"] = benchmark
    if factors:
        kw["factors"] = factors
    return EventStudy(ev, load_prices(need, source="snapshot"), symbols=syms, **kw).run()


@app.command("event")
def event_cmd(
    event: Annotated[str, typer.Argument(help="An event_id (or words of one event's title).")],
    events: Annotated[
        Path | None, typer.Option(help="Events CSV (default: ./events.csv, else the bundled list).")
    ] = None,
    symbols: Annotated[
        list[str] | None,
        typer.Option("--symbols", "-s", help="Markets, comma-separated (default: the five default indices)."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="constant-mean (default), market-adjusted, market, factor or garch.", callback=model_cb
        ),
    ] = None,
    benchmark: Annotated[str | None, typer.Option(help="Benchmark of the market models (e.g. ACWI).")] = None,
    factors: Annotated[
        list[str] | None,
        typer.Option(help="Factor series of --model factor, comma-separated (e.g. ACWI,EURUSD=X)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON records.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")] = False,
) -> None:
    """Show how each market reacted to one event: day 0, actual return, normal return, AR, CARs.

    Runs the default study on the bundled price snapshot (or with
    --events/--symbols/--model/--benchmark/--factors) in memory; nothing is written.
    """
    from .report.eventview import event_facts, event_reaction, find_event

    syms = [s for v in symbols or [] for s in v.replace(",", " ").split() if s]
    try:
        facs = [s for v in factors or [] for s in v.replace(",", " ").split() if s]
        res = _study_for_event(events, syms, model, benchmark, facs)
        if as_json:
            eid = find_event(res, event)
            t = event_reaction(res, eid)
            for c in ("day0", "day0_latest"):
                t[c] = t[c].astype(str).str.slice(0, 10)
            doc = {"event": event_facts(res, eid), "markets": json.loads(t.to_json(orient="records"))}
            typer.echo(json.dumps(doc, indent=2, default=str))
        else:
            typer.echo("\n".join(event_lines(res, event)))
    except EventStudyError as exc:
        if debug:
            raise
        typer.secho(f"error: {exc}", err=True, fg="red")
        raise typer.Exit(code=1) from None

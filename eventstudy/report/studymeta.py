"""The report's account of the study itself, read from its configuration and manifest.

:func:`header` gives the page's opening block (title, question, markets, the
normal-return model in words, windows); :func:`tests_info` the descriptions
and citations of the tests listed under Method; :func:`provenance` the
reproducibility section (parameters, versions, hashes and date ranges of the
data, price provenance per series, exchange calendars). Values are returned as
plain text for the autoescaping templates of :mod:`eventstudy.report.render`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config import format_window
from ..inference import TESTS
from ..markets import market_name
from ..models import MODELS
from . import fmt, views

if TYPE_CHECKING:
    from ..results import StudyResult

__all__ = ["header", "provenance", "tests_info"]

_MODEL_WORDS = {
    "constant-mean": "each index's own average daily return over the estimation window",
    "market-adjusted": "the same day's return of the benchmark {b}",
    "market": "α + β × the return of the benchmark {b}, fitted by OLS over the estimation window",
    "factor": "α + Σ b × the returns of the factors {b}, fitted by OLS over the estimation window",
}


def _sessions_words(w: tuple[int, int]) -> str:
    return f"sessions {w[0]:+d} to {w[1]:+d} ({w[1] - w[0] + 1} sessions)"


def header(res: StudyResult, info: views.EventInfo) -> dict[str, Any]:
    """The page's opening block: title, question, markets, data and event ranges, model, windows.

    ``extra["title"]`` and ``extra["question"]`` of the configuration replace
    the generated title and question.
    """
    cfg = res.config
    man = res.manifest
    ranges = (man.get("prices") or {}).get("ranges") or {}
    firsts = sorted(str(v[0]) for v in ranges.values() if v)
    lasts = sorted(str(v[1]) for v in ranges.values() if v)
    dates = sorted(info.table["date"].astype(str))
    markets = [market_name(s) for s in res.symbols]
    bench = f"{market_name(cfg.benchmark)} ({cfg.benchmark})" if cfg.benchmark else ""
    if cfg.model == "factor":
        used = (man.get("parameters") or {}).get("factors") or list(cfg.factors)
        bench = ", ".join(f"{market_name(f)} ({f})" for f in used)
    model_words = _MODEL_WORDS.get(
        cfg.model, MODELS[cfg.model].description if cfg.model in MODELS else cfg.model
    )
    if cfg.model == "garch":
        from ..models.garch import PLACEBO_NOTE

        mean = "the market mean on the benchmark {b}" if cfg.benchmark else "a constant mean"
        model_words = f"{mean} with GARCH(1,1) errors, fitted per pair by maximum likelihood ({PLACEBO_NOTE})"
    extra = cfg.extra if isinstance(cfg.extra, dict) else {}
    question = extra.get("question") or (
        f"How did {', '.join(markets[:-1]) + ' and ' + markets[-1] if len(markets) > 1 else markets[0]} "
        f"move, beyond their normal returns, around {len(res.events)} announcements"
        + (f" made between {dates[0]} and {dates[-1]}" if dates else "")
        + "?"
    )
    return {
        "title": extra.get("title") or f"Event study: {cfg.study_name}",
        "name": cfg.study_name,
        "question": question,
        "created": str(man.get("created", "")),
        "data_range": f"{firsts[0]} to {lasts[-1]}" if firsts and lasts else "",
        "events_range": f"{dates[0]} to {dates[-1]}" if dates else "",
        "markets": markets,
        "model": cfg.model,
        "model_words": model_words.format(b=bench),
        "estimation": _sessions_words(cfg.estimation),
        "window": _sessions_words(cfg.window),
        "car_windows": [{"label": format_window(w), "words": fmt.window_phrase(w)} for w in cfg.car_windows],
        "returns": cfg.returns,
        "counts": man.get("counts", {}),
    }


def tests_info(names: list[str]) -> list[dict[str, str]]:
    """Name, description, null distribution and citation of each test in ``names`` (blank if unknown)."""
    out = []
    for n in names:
        spec = TESTS.get(n)
        out.append(
            {
                "name": n,
                "description": spec.description if spec else "",
                "distribution": spec.distribution if spec else "",
                "citation": spec.citation if spec else "",
            }
        )
    return out


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def provenance(res: StudyResult) -> dict[str, Any]:
    """The reproducibility section: the manifest's parameters, versions, data and calendars as text.

    Empty provenance values are left out; nested values are flattened by
    ``_plain`` (lists joined by ``, ``, mappings by ``; ``, ``None`` as
    ``none``).
    """
    man = _dict(res.manifest)
    prices = _dict(man.get("prices"))
    prov = _dict(prices.get("provenance"))
    series = _dict(prov.get("series"))
    align = _dict(man.get("alignment"))
    return {
        "parameters": [(str(k), _plain(v)) for k, v in _dict(man.get("parameters")).items()],
        "versions": [(str(k), str(v)) for k, v in _dict(man.get("versions")).items()],
        "events": _dict(man.get("events")),
        "prices": {k: _plain(v) for k, v in prices.items() if k not in ("provenance", "ranges")},
        "ranges": [
            (market_name(str(k)), str(k), v[0], v[1])
            for k, v in _dict(prices.get("ranges")).items()
            if isinstance(v, (list, tuple)) and len(v) == 2
        ],
        "provenance": [
            (str(k), _plain(v)) for k, v in prov.items() if k != "series" and v not in (None, "", [], {})
        ],
        "series": [
            (str(k), {kk: _plain(vv) for kk, vv in v.items()})
            for k, v in series.items()
            if isinstance(v, dict)
        ],
        "calendars": [(market_name(str(s)), str(c)) for s, c in _dict(align.get("calendars")).items()],
        "calendar_version": str(align.get("exchange_calendars", "")),
        "extra_closures": [
            (str(k), ", ".join(map(str, v))) for k, v in _dict(align.get("extra_closures")).items()
        ],
    }


def _plain(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return ", ".join(_plain(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_plain(x)}" for k, x in v.items())
    return "none" if v is None else str(v)

"""The report's event cards: one event's reaction per market, formatted for the page.

The numbers come from :func:`~eventstudy.report.eventview.event_reactions`
(the result's ``car.csv`` and ``abnormal_returns.csv``); this module only
formats them. The picker on the page shows one card at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..config import format_window
from . import fmt
from .eventview import event_reactions
from .views import EventInfo, records, stars

if TYPE_CHECKING:
    from ..results import StudyResult

__all__ = ["event_cards"]


def _date(v: Any) -> str:
    return "" if v is None or pd.isna(v) else str(pd.Timestamp(v).date())


def _int(v: Any) -> int:
    return int(v) if fmt.is_finite(v) else 0


def _row(r: dict[str, Any], windows: list[str]) -> dict[str, Any]:
    d0, late = _date(r.get("day0")), _date(r.get("day0_latest"))
    return {
        "market": r["market"],
        "symbol": r["symbol"],
        "day0": d0 if not late or late == d0 else f"{d0} to {late}",
        "ret": fmt.fmt_pct(r.get("return")),
        "normal": fmt.fmt_pct(r.get("normal_return")),
        "ar": fmt.fmt_pct(r.get("ar")),
        "ar_t": fmt.fmt_num(r.get("ar_t")),
        "ar_p": fmt.fmt_p(r.get("ar_p")),
        "ar_stars": stars(r.get("ar_p")),
        "cars": [
            {
                "txt": fmt.fmt_pct(r.get(f"car {w}")),
                "t": fmt.fmt_num(r.get(f"t {w}")),
                "p": fmt.fmt_p(r.get(f"p {w}")),
                "stars": stars(r.get(f"p {w}")),
                "extended": int(r.get(f"extended_by {w}") or 0)
                if fmt.is_finite(r.get(f"extended_by {w}"))
                else 0,
            }
            for w in windows
        ],
    }


def _reactions_by_event(
    react: pd.DataFrame, keep: set[str] | None
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, int], dict[str, list[str]]]:
    """Per event: the records of its pairs in the markets ``keep`` (all without it), its number
    of pairs, and the events its pairs overlap (in order of first mention, read off every pair).

    Only the shown pairs become records; the overlaps are read from each distinct
    ``(event, overlaps)`` text once (a universe's events repeat them across markets).
    """
    if not len(react):
        return {}, {}, {}
    eids = [str(e) for e in react["event_id"].tolist()]
    pairs: dict[str, int] = {}
    for e in eids:
        pairs[e] = pairs.get(e, 0) + 1
    shown = react
    if keep is not None:
        symbols = react["symbol"]
        shown = react[symbols.isin([s for s in pd.unique(symbols) if str(s) in keep])]
    by_event: dict[str, list[dict[str, Any]]] = {}
    for r in records(shown):  # one conversion, not one per event
        by_event.setdefault(str(r["event_id"]), []).append(r)
    overlaps: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for e, text in zip(eids, map(str, react["overlaps"].tolist()), strict=True):
        if (e, text) not in seen:
            seen.add((e, text))
            ov = overlaps.setdefault(e, [])
            ov += [o for o in text.split() if o not in ov]
    return by_event, pairs, overlaps


def event_cards(
    res: StudyResult, info: EventInfo, markets: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """One card per event of the study (oldest first), with a row per studied market.

    With ``markets``, the rows of those markets only (a study of very many
    markets shows the markets its charts draw; every pair is in ``car.csv``);
    the other events it overlaps are still read off every market's pairs.

    Each card: ``event_id``, ``title``, ``date``, ``announced`` (the time and its
    uncertainty in words), ``category``, ``direction``, ``source``, ``notes``,
    ``rows`` (per market, formatted), ``excluded`` (markets left out, with the
    reason), ``more`` (its markets not in ``markets``), ``overlaps`` (other
    events whose day 0 lies in the main window of some market: ``(event_id,
    title)``) and ``search`` (lower-case text the
    picker matches) and ``shown`` (true for the one card open at first: the
    latest event with a studied market).
    """
    windows = [format_window(w) for w in res.config.car_windows]
    react = event_reactions(res)
    keep = None if markets is None else {str(m) for m in markets}
    by_event, pairs, overlaps = _reactions_by_event(react, keep)
    excl: dict[str, list[str]] = {}
    for r in records(res.excluded):
        excl.setdefault(str(r["event_id"]), []).append(f"{r['symbol']}: {r['reason']}")
    cards = []
    for eid in info.table.sort_values("date", kind="stable").index:
        eid = str(eid)
        rows = [_row(r, windows) for r in by_event.get(eid, [])]
        ov = overlaps.get(eid, [])
        title = info.title(eid)
        cards.append(
            {
                "event_id": eid,
                "title": title,
                "date": info.get(eid, "date"),
                "announced": info.get(eid, "announced"),
                "category": fmt.category_words(info.get(eid, "category")),
                "direction": info.get(eid, "direction_str"),
                "source": info.get(eid, "source"),
                "notes": info.get(eid, "notes"),
                "rows": rows,
                "more": pairs.get(eid, 0) - len(rows),  # markets of the event beyond ``markets``
                "excluded": excl.get(eid, []),
                "overlaps": [(o, info.title(o)) for o in ov],
                "search": f"{info.get(eid, 'date')} {title} {eid} {info.get(eid, 'category')}".lower(),
            }
        )
    with_rows = [c for c in cards if c["rows"]]
    first = (with_rows or cards)[-1:] if cards else []
    for c in cards:
        c["shown"] = bool(first) and c is first[0]
    return cards

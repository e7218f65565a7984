"""What a run records in its manifest (``study.json``) beyond the parameters and versions.

:func:`run_manifest` fills :func:`~eventstudy.manifest.build_manifest` with a
run's facts: the parameters as run, the events and prices read (hashes,
provenance, date ranges), each market's calendar, the pair counts, the
headline, the data-quality counts, the warnings, the calendar notes and how
each market is aligned with its benchmark (:func:`benchmark_alignment`) or
its factors. :func:`events_not_studied` lists the events that apply to no
market of the study.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .align import calendar_notes
from .manifest import build_manifest
from .quality import quality_reports
from .studytables import date_ranges

if TYPE_CHECKING:
    from .engine import EngineOutput
    from .events import Events
    from .panel import Panel
    from .study import EventStudy

__all__ = ["benchmark_alignment", "data_quality", "events_not_studied", "run_manifest"]


def run_manifest(
    study: EventStudy,
    panel: Panel,
    out: EngineOutput,
    headline: dict[str, Any],
    alignment: dict[str, Any],
) -> dict[str, Any]:
    """The manifest of ``study`` run on ``panel`` into ``out``.

    ``headline`` is the headline test of the first CAR window
    (:func:`~eventstudy.inference.headline.headline_of`), ``alignment`` the
    study's :func:`benchmark_alignment`.
    """
    cfg = study.config
    pairs = panel.pairs
    calendars = {m.symbol: (m.sessions.code or "own data dates") for m in panel.markets}
    cal_notes, cal_warnings = calendar_notes(study.events, study.symbols, cfg.calendar)
    manifest = build_manifest(
        parameters=cfg.to_dict() | {"symbols": study.symbols, "tests": [s.name for s in study.test_specs]},
        events_info={
            "file": study.events.path,
            "sha256": study.events.sha256,
            "n_events": len(study.events),
            "mask_events": len(study.mask_events),
        },
        prices_info={
            "source": study.prices.source,
            "origin": study.prices.origin,
            "sha256": study.prices.sha256(study.symbols + study._reference_series()),
            "provenance": study.prices.provenance,
            "ranges": date_ranges(panel),
        },
        calendars=calendars,
        counts={
            "pairs": len(pairs),
            "included": len(out.keep),
            "excluded": int(len(pairs) - len(out.keep)),
        },
        extra={
            "headline": headline,
            "data_quality": data_quality(study, panel),
            "warnings": list(study.events.warnings) + list(cal_warnings),
            "benchmark_alignment": alignment,
        }
        | ({"factor_alignment": own} if (own := study.model.alignment()) is not None else {}),
    )
    manifest["alignment"]["notes"] = cal_notes
    return manifest


def benchmark_alignment(study: EventStudy, panel: Panel) -> dict[str, Any]:
    """Per market: the benchmark's clock and which benchmark returns the model uses."""
    from .models import Dimson, ScholesWilliams

    m = study.model
    out: dict[str, Any] = {}
    for sy in panel.syncs:
        if isinstance(m, ScholesWilliams):
            beta, shifts = "scholes-williams", m.shifts
        elif isinstance(m, Dimson) and (not m.only_later or sy.later):
            beta, shifts = "dimson", m.shifts
        else:
            beta, shifts = "ols", (0,)
        out[sy.symbol] = sy.describe(study.config.model, beta, shifts)
    return out


def data_quality(study: EventStudy, panel: Panel) -> dict[str, Any]:
    """Per market the data-quality counts of its prices (:func:`~eventstudy.quality.quality_reports`),
    and the rows the price source dropped, if any."""
    dq: dict[str, Any] = quality_reports(panel.markets, [study.prices[m.symbol] for m in panel.markets])
    dropped = study.prices.provenance.get("dropped_rows")
    if dropped:
        dq["dropped_rows"] = dropped
    return dq


def events_not_studied(events: Events, symbols: Sequence[str]) -> list[str]:
    """The events restricted (``symbols`` column) to markets outside ``symbols``: counted, not silent."""
    applies = np.zeros(len(events), dtype=bool)
    for sym in symbols:
        applies |= events.applies_to(sym)
        if applies.all():  # every event is studied somewhere
            break
    return [e for e, a in zip(events.ids, applies, strict=True) if not a]

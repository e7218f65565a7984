"""Which benchmark return is synchronous with a market's return (formula sheet §6).

A market's close-to-close return of date t and its benchmark's return of the
same calendar date cover different clocks when the two exchanges close at
different hours: MSCI ACWI closes in New York 5.5–13 hours after the European
and Hong Kong markets, so part of its date-t return is earned after the
market has closed and is priced by the market only on the next session.

:func:`close_gap_hours` compares the closing times of the two calendars on the
dates they share. When the benchmark closes later:

* the ``market`` model uses Dimson (1979) betas with one lag by default (the
  benchmark returns of the same date and of the session before, summed betas);
* ``market-adjusted`` subtracts the benchmark's return over the sessions that
  closed before the market's close: the return lagged one benchmark session.

Otherwise (same close, benchmark closes earlier, or no closing times known)
the same-date return is used and the market model is plain OLS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .calendars import Sessions

__all__ = ["Sync", "close_gap_hours"]


def close_gap_hours(market: Sessions, bench: Sessions) -> float | None:
    """Median hours by which the benchmark's close follows the market's on shared dates.

    ``None`` when either calendar has no closing times (a series on its own
    data dates) or they share no date.
    """
    if market.closes_ns is None or bench.closes_ns is None:
        return None
    common, im, ib = np.intersect1d(market.dates_ns, bench.dates_ns, return_indices=True)
    if len(common) == 0:
        return None
    gap = (bench.closes_ns[ib] - market.closes_ns[im]) / 3.6e12
    return float(np.median(gap))


@dataclass(frozen=True)
class Sync:
    """The benchmark alignment of one market (recorded in the manifest).

    Attributes
    ----------
    symbol, benchmark : str
    calendar, benchmark_calendar : str or None
        Exchange calendar codes (``None``: the series' own data dates).
    gap_hours : float or None
        Median hours from the market's close to the benchmark's close.
    """

    symbol: str
    benchmark: str
    calendar: str | None
    benchmark_calendar: str | None
    gap_hours: float | None

    @property
    def later(self) -> bool:
        """The benchmark closes after the market (its same-date return is partly later)."""
        return self.gap_hours is not None and self.gap_hours > 0.0

    def describe(self, model: str, beta: str, shifts: tuple[int, ...]) -> dict[str, Any]:
        """A JSON-ready record: the clocks and which benchmark returns the model uses."""
        gap = None if self.gap_hours is None else round(self.gap_hours, 2)
        if self.gap_hours is None:
            clocks = "closing times unknown (a series without an exchange calendar): same-date returns"
        elif self.later:
            clocks = f"the benchmark closes {gap:g} h after the market"
        elif self.gap_hours < 0:
            clocks = f"the benchmark closes {-gap:g} h before the market"  # type: ignore[operator]
        else:
            clocks = "the benchmark closes with the market"
        if model == "market-adjusted":
            used = (
                "AR = R − R_m of the benchmark sessions that closed before the market's close "
                "(lagged one benchmark session)"
                if self.later
                else "AR = R − R_m of the same date"
            )
        elif model == "market":
            used = _beta_text(beta, shifts)
        elif model == "garch":
            used = (
                "GARCH mean μ + β R_m with R_m of the benchmark sessions that closed before the "
                "market's close (lagged one benchmark session)"
                if self.later
                else "GARCH mean μ + β R_m with R_m of the same date"
            )
        else:
            used = "no benchmark"
        out = {
            "benchmark": self.benchmark,
            "calendar": self.calendar,
            "benchmark_calendar": self.benchmark_calendar,
            "benchmark_close_after_hours": gap,
            "benchmark_closes_later": self.later,
            "clocks": clocks,
            "model_uses": used,
        }
        if model == "market":
            out["betas"] = beta if beta != "dimson" else "dimson " + ",".join(_short(s) for s in shifts)
        return out


def _beta_text(beta: str, shifts: tuple[int, ...]) -> str:
    if beta == "scholes-williams":
        return (
            "Scholes–Williams (1977) beta from the lag, same-date and lead slopes; "
            "AR uses the same-date return"
        )
    if beta == "dimson" and shifts:
        terms = ", ".join(_term(s) for s in shifts)
        return f"Dimson (1979) betas on the benchmark returns of {terms} (beta_sum); AR uses every term"
    return "OLS beta on the same-date benchmark return"


def _short(s: int) -> str:
    return "0" if s == 0 else (f"lag{s}" if s > 0 else f"lead{-s}")


def _term(s: int) -> str:
    if s == 0:
        return "the same date"
    if s > 0:
        return f"lag {s}"
    return f"lead {-s}"

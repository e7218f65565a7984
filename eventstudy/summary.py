"""The printable summary of a study, and the significance stars every table uses."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .results import StudyResult

__all__ = ["Summary", "headline_sentence", "stars"]


def stars(p: float) -> str:
    """Significance stars: *** p < 0.01, ** p < 0.05, * p < 0.10."""
    if not np.isfinite(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.10 else ""


def _extension_lines(res: StudyResult) -> list[str]:
    """The summary's line on windows extended where the hour of the news is uncertain."""
    car = res.car()
    if car.empty or "extended_by" not in car.columns:
        return []
    per_pair = car.groupby(["event_id", "symbol"], sort=False)["extended_by"].max()
    n = int((per_pair > 0).sum())
    if n == 0:
        return []
    return [
        f"hour uncertain for {n} of {len(per_pair)} pairs: their windows ending on or after day 0 "
        "are extended (0:0 is day 0, and day +1 where the hour is uncertain)"
    ]


def headline_sentence(h: dict[str, Any]) -> str:
    """One sentence for a headline record (``StudyResult.headline``): CAAR, interval, t, p, G, N, MDE."""
    if not h:
        return "Headline: no CAR window."
    where = f"{h['n_pairs']} pairs in {h['n_clusters']} independent clusters"
    est = h.get("estimate")
    if h.get("p_value") is None or est is None:
        return f"Headline ({h['test']}, window {h['window']}): not available ({where}; needs 2 clusters)."
    ci = ""
    if h.get("ci_low") is not None and h.get("ci_high") is not None:
        ci = f", 95% interval {100 * h['ci_low']:+.2f}% to {100 * h['ci_high']:+.2f}%"
    mde = f"; detectable CAAR at 80% power: {100 * h['mde']:.2f}%" if h.get("mde") is not None else ""
    return (
        f"Headline ({h['test']}, window {h['window']}): CAAR {100 * est:+.2f}%{ci}, "
        f"t = {h['statistic']:.2f}, p = {h['p_value']:.4f}{stars(h['p_value'])}; {where}{mde}."
    )


class Summary:
    """Printable summary of a :class:`StudyResult`."""

    def __init__(self, res: StudyResult) -> None:
        self.res = res

    def _head(self) -> list[str]:
        r = self.res
        cfg = r.config
        m = r.manifest["counts"]
        return [
            f"Event study '{cfg.study_name}': model {cfg.model}"
            + (f" (benchmark {cfg.benchmark})" if cfg.benchmark else ""),
            f"{len(r.events)} events × {len(r.symbols)} markets: {m['included']} pairs included, "
            f"{m['excluded']} excluded; estimation {r.manifest['parameters']['estimation']}, "
            f"{cfg.returns} returns",
        ] + _extension_lines(r)

    def headline_text(self) -> str:
        """The study's headline in one sentence (the dependence-robust test; see ``headline``)."""
        return headline_sentence(self.res.headline)

    def __str__(self) -> str:
        df = self.res.summary_frame()
        with pd.option_context("display.width", 120, "display.max_rows", 200):
            body = df.to_string(index=False, float_format=lambda v: f"{v:.4f}")
        foot = (
            "Pairs are dependent (one piece of news moves every market; windows overlap): only the "
            "cluster_* tests (n = independent clusters) are valid; the others assume independent pairs."
        )
        return "\n".join([*self._head(), self.headline_text(), "", body, "", foot])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = "".join(f"<p>{html.escape(s)}</p>" for s in [*self._head(), self.headline_text()])
        return head + self.res.summary_frame().to_html(index=False, float_format=lambda v: f"{v:.4f}")

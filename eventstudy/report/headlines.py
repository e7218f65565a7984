"""Headlines and plain-language sentences of the report, read from the result's tables.

Every p-value quoted is the dependence-robust headline test's (see
:data:`~eventstudy.report.views.PRIMARY_TESTS`); naive tests never reach a sentence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from markupsafe import Markup

from ..config import format_window
from ..markets import market_name
from . import fmt
from .views import PRIMARY_TESTS, EventInfo, Lookup, ci95, group_label, records, stars, test_stars

if TYPE_CHECKING:
    from ..results import StudyResult


def pick_primary(rows: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The headline test row among ``rows`` (one group and window), see :data:`PRIMARY_TESTS`.

    None when no dependence-robust test applies: a naive test is never quoted instead.
    """
    by: dict[str, Mapping[str, Any]] = {}
    for r in rows:
        by.setdefault(str(r["test"]), r)
    for name in PRIMARY_TESTS:
        if name in by and fmt.is_finite(by[name]["p_value"]):
            return by[name]
    return None


def _clusters_text(n_clusters: int, n_pairs: int) -> str:
    unit = "cluster" if n_clusters == 1 else "clusters"
    return f"{n_pairs} pairs in {n_clusters} independent {unit}"


def _sentence_group(
    subject: str, caar: float, phrase: str, p: Any, test: str, n: str, mde: Any = float("nan")
) -> Markup:
    if not fmt.is_finite(caar):
        return Markup("{s}: no CAR available.").format(s=subject)
    verb = "rose" if caar > 0 else "fell"
    if not fmt.is_finite(p):
        tail = "; no test valid for dependent pairs applies (fewer than 2 independent clusters)"
        return Markup("{s} {verb} on average {x} more than normal {ph} ({n}{tail}).").format(
            s=subject, verb=verb, x=fmt.fmt_pct_abs(caar), ph=phrase, n=n, tail=tail
        )
    sig = ""
    if float(p) >= 0.05:
        sig = "; not distinguishable from zero at the 5% level"
        if fmt.is_finite(mde):
            sig += f"; the design could have detected a move of {fmt.fmt_pct_abs(mde)} or more"
    return Markup("{s} {verb} on average {x} more than normal {ph} ({pc}, {test}, {n}{sig}).").format(
        s=subject,
        verb=verb,
        x=fmt.fmt_pct_abs(caar),
        ph=phrase,
        pc=fmt.p_clause(p),
        test=test,
        n=n,
        sig=sig,
    )


@dataclass(frozen=True)
class Headline:
    """Display values of one group's headline (market card, overall line)."""

    key: str
    label: str
    caar: str
    ci: str
    p: str
    test: str
    stars: str
    n: int
    sentence: Markup
    others: list[dict[str, str]]
    caar_value: float
    p_value: float
    n_clusters: int = 0
    mde: str = ""
    ci_low: float = float("nan")
    ci_high: float = float("nan")


def headline(
    look: Lookup, by: str, group: str, window: tuple[int, int], subject: str = "", *, brief: bool = False
) -> Headline:
    """CAAR of ``window`` for one group with its 95% interval and headline test.

    Estimate, interval, p-value and minimum detectable CAAR come from the
    dependence-robust row of ``headlines.csv``; without one (an older saved
    study) the CAAR and its cross-sectional interval are shown with no p-value.
    ``brief`` leaves out the sentence and the other tests (a chart's bars need
    neither: the AAR chart reads a headline per group and day).
    """
    key = (by, group, format_window(window))
    caar, sd, n = look.caar.get(key, (float("nan"), float("nan"), 0))
    rob = look.robust.get(key)
    rows = look.rows.get(key, [])
    if rob is not None:
        caar = float(rob["estimate"])
        lo, hi = float(rob["ci_low"]), float(rob["ci_high"])
        p = float(rob["p_value"])
        tname = str(rob["test"]) if fmt.is_finite(p) else ""
        n_cl, n_pairs = int(rob["n_clusters"]), int(rob["n_pairs"])
        mde = float(rob["mde"])
        n_text = _clusters_text(n_cl, n_pairs)
    else:
        lo, hi = ci95(caar, sd, n)
        prim = pick_primary(rows)
        p = float(prim["p_value"]) if prim is not None else float("nan")
        tname = str(prim["test"]) if prim is not None else ""
        n_cl, n_pairs, mde = 0, n, float("nan")
        n_text = f"n = {n} pairs"
    others = [
        {
            "test": str(r["test"]),
            "p": fmt.fmt_p(r["p_value"]),
            "stars": test_stars(str(r["test"]), r["p_value"]),
            "note": test_note(r),
        }
        for r in ([] if brief else rows)
    ]
    return Headline(
        key=group,
        label=group_label(by, group),
        caar=fmt.fmt_pct(caar),
        ci=f"{fmt.fmt_pct(lo)} to {fmt.fmt_pct(hi)}" if fmt.is_finite(lo) else "",
        p=fmt.fmt_p(p),
        test=tname,
        stars=stars(p),
        n=n_pairs,
        sentence=Markup("")
        if brief
        else _sentence_group(subject, caar, fmt.window_phrase(window), p, tname, n_text, mde),
        others=others,
        caar_value=caar,
        p_value=p,
        n_clusters=n_cl,
        mde=fmt.fmt_pct_abs(mde) if fmt.is_finite(mde) else "",
        ci_low=float(lo),
        ci_high=float(hi),
    )


def test_note(r: Mapping[str, Any]) -> str:
    """A test row's note (``tests.csv`` says there what a test that is not cluster-robust assumes)."""
    note = r.get("note")
    return note if isinstance(note, str) else ""


def overall_headline(look: Lookup, window: tuple[int, int]) -> Headline:
    """Headline of the whole sample (grouping ``all``)."""
    return headline(look, "all", "all", window, "Across all event×market pairs, markets")


def market_headlines(
    res: StudyResult, look: Lookup, window: tuple[int, int], symbols: Sequence[str] | None = None
) -> list[Headline]:
    """One headline per studied market (in the study's order), of ``symbols`` only when given."""
    present = set(look.groups.get("market", []))
    return [
        headline(look, "market", s, window, f"Across its events, the {market_name(s)}")
        for s in (res.symbols if symbols is None else symbols)
        if s in present
    ]


def group_sentences(look: Lookup, window: tuple[int, int], alpha: float = 0.05) -> list[Markup]:
    """Sentences for direction and category groups whose headline test stays below ``alpha``
    after the Benjamini–Hochberg adjustment over the groups of that grouping.

    The adjusted p-value is the headline test's ``p_bh`` in ``tests.csv``
    (per grouping, window and test), so picking the significant groups out
    of many does not by itself produce sentences; the raw p is quoted and the
    adjusted one beside it.
    """
    out: list[Markup] = []
    wl = format_window(window)
    for by in ("direction", "category"):
        groups = look.groups.get(by, [])
        tested = sum(
            1
            for g in groups
            for r in look.rows.get((by, g, wl), [])
            if str(r["test"]) == PRIMARY_TESTS[0] and fmt.is_finite(r["p_value"])
        )
        for g in groups:
            h = headline(look, by, g, window, f"After {group_label(by, g)} announcements, markets")
            row = next((r for r in look.rows.get((by, g, wl), []) if str(r["test"]) == h.test), None)
            p_adj = float(row["p_bh"]) if row is not None and "p_bh" in row else h.p_value
            if fmt.is_finite(p_adj) and p_adj < alpha and fmt.is_finite(h.caar_value):
                extra = Markup(" Benjamini–Hochberg adjusted over the {k} {by} groups: {pc}.").format(
                    k=tested, by=by, pc=fmt.p_clause(p_adj)
                )
                out.append(h.sentence + extra)
    return out


def notable_pairs(
    res: StudyResult, info: EventInfo, window: tuple[int, int], per_market: int = 3, alpha: float = 0.05
) -> tuple[list[Markup], dict[str, Any]]:
    """Sentences for the strongest single reactions, and how many chance alone explains.

    Per market, the pairs whose own CAR t-test (``car.csv``; one pair's
    time-series test, unaffected by dependence across pairs) stays below
    ``alpha`` after the Benjamini–Hochberg adjustment over all pairs of the
    window (``p_bh``; it controls the false discovery rate under the positive
    dependence of markets that react together, Benjamini and Yekutieli 2001),
    smallest p first, at most ``per_market`` each. Exact duplicates (events
    sharing one market and window, hence one CAR) are listed once with every
    title. Without ``p_bh`` (an older saved study) the raw p is used.
    """
    wl = format_window(window)
    car = res.car_table
    car = car[car["window"] == wl]
    pv = car["p_value"].to_numpy(dtype=float)
    n_pairs = int(np.isfinite(pv).sum())
    n_sig = int((pv < alpha).sum())
    sentences: list[Markup] = []
    has_bh = "p_bh" in car.columns
    sig = car[car["p_bh"].to_numpy(dtype=float) < alpha] if has_bh else car[pv < alpha]
    # one line per distinct CAR of a market (exact duplicates share it)
    dup_key = ["symbol", "day0", "car"]
    titles = sig.groupby(dup_key, sort=False)["event_id"].agg(list)
    sig = sig.drop_duplicates(dup_key)
    by_market = dict(tuple(sig.groupby("symbol", sort=False)))
    for s in res.symbols:
        if s not in by_market:
            continue
        g = by_market[s].sort_values(["p_value", "event_id"], kind="stable").head(per_market)
        for r in records(g):
            carv = float(r["car"])
            verb = "rose" if carv > 0 else "fell"
            ext = int(r.get("extended_by", 0) or 0)
            phrase = fmt.pair_phrase(window, ext)
            bh = f", BH-adjusted {fmt.p_clause(r['p_bh'])}" if has_bh and fmt.is_finite(r["p_bh"]) else ""
            sentences.append(
                Markup("The {m} {verb} {x} more than normal {ph} “{title}” ({date}; {pc}{bh}).").format(
                    m=market_name(s),
                    verb=verb,
                    x=fmt.fmt_pct_abs(carv),
                    ph=phrase,
                    title=" / ".join(info.title(str(e)) for e in titles[(r["symbol"], r["day0"], r["car"])]),
                    date=info.get(str(r["event_id"]), "date"),
                    pc=fmt.p_clause(r["p_value"]),
                    bh=bh,
                )
            )
    facts = {
        "n_pairs": n_pairs,
        "n_sig": n_sig,
        "expected": alpha * n_pairs,
        "alpha": alpha,
        "n_bh": int((sig["p_bh"] < alpha).sum()) if has_bh else None,
    }
    return sentences, facts

"""One event at a glance and the careful reader's fixes (no browser)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from eventstudy import EventStudy, StudyResult, events_from_records, load_prices
from eventstudy.errors import InputError
from eventstudy.markets import market_name
from eventstudy.report import render_report
from eventstudy.report.eventview import event_reaction, find_event
from eventstudy.report.render import figure_specs

EVENTS = [
    {
        "event_id": "libday",
        "timestamp": "2025-04-02T20:35Z",
        "title": "Liberation Day tariffs",
        "direction": "-1",
    },
    {
        "event_id": "geneva",
        "timestamp": "2025-05-12T07:00Z",
        "title": "Geneva joint statement",
        "direction": "1",
    },
    {"event_id": "london", "timestamp": "2025-06-10T22:55Z", "title": "London framework", "direction": "1"},
    {
        "event_id": "readout",
        "timestamp": "2025-06-11",
        "tz": "Asia/Shanghai",
        "title": "State media readout of the London talks " + "x" * 40,
        "direction": "1",
    },
]
SYMS = ["^GDAXI", "^HSI", "^FTSE"]  # deliberately not alphabetical


@pytest.fixture(scope="module")
def res() -> StudyResult:
    return EventStudy(events_from_records(EVENTS), load_prices(SYMS)).run()


def test_event_reaction_reads_the_result_tables(res: StudyResult) -> None:
    t = event_reaction(res, "london")
    assert t["symbol"].tolist() == SYMS  # the study's market order
    assert t["market"].tolist() == [market_name(s) for s in SYMS]
    closes = load_prices(SYMS)
    for r in t.to_dict("records"):
        day0 = pd.Timestamp(r["day0"])
        s = closes[r["symbol"]].dropna()
        prev = s.index[s.index.get_loc(day0) - 1]
        assert r["return"] == pytest.approx(s[day0] / s[prev] - 1)  # the actual close-to-close return
        assert r["ar"] == pytest.approx(r["return"] - r["normal_return"])
    car = res.car("0:0").set_index(["event_id", "symbol"])
    for r in t.to_dict("records"):
        c = car.loc[("london", r["symbol"])]
        assert r["car 0:0"] == pytest.approx(c["car"]) and r["p 0:0"] == pytest.approx(c["p_value"])
        if int(c["extended_by"]) == 0:  # 0:0 is day 0 alone: its t and p are the AR's
            assert r["ar"] == pytest.approx(c["car"]) and r["ar_t"] == pytest.approx(c["t_stat"])
            assert r["ar_p"] == pytest.approx(c["p_value"])


def test_uncertain_day0_has_no_single_day_p(res: StudyResult) -> None:
    t = event_reaction(res, "readout")
    ext = t["extended_by 0:0"] > 0
    assert ext.any()
    assert t.loc[ext, "ar_p"].isna().all()
    assert (pd.to_datetime(t.loc[ext, "day0_latest"]) > pd.to_datetime(t.loc[ext, "day0"])).all()


def test_find_event_by_id_or_words(res: StudyResult) -> None:
    assert find_event(res, "london") == "london"
    assert find_event(res, "liberation") == "libday"
    with pytest.raises(InputError, match="matches 2 events"):
        find_event(res, "London")
    with pytest.raises(InputError, match="no event matches"):
        find_event(res, "nothing like this")


@pytest.fixture(scope="module")
def html(res: StudyResult) -> str:
    return render_report(res)


def test_every_event_has_a_card_and_one_is_open(res: StudyResult, html: str) -> None:
    cards = re.findall(r'<article class="event-card"[^>]*data-event="([^"]+)"[^>]*>', html)
    assert sorted(cards) == sorted(e["event_id"] for e in EVENTS)
    opened = [a for a in re.findall(r"<article [^>]*>", html) if not a.endswith(" hidden>")]
    assert len(opened) == 1 and 'data-event="readout"' in opened[0]  # the latest event


def test_method_cites_papers_not_internal_documents(html: str) -> None:
    assert "formula sheet" not in html and "DESIGN.md" not in html
    method = html[html.index('<section id="method">') : html.index('<section id="provenance">')]
    assert "Wu (1986)" in method and "Bell and McCaffrey (2002)" in method


def test_no_empty_provenance_rows(html: str) -> None:
    table = html[html.index('<table id="table-source">') :]
    table = table[: table.index("</table>")]
    cells = re.findall(r"<th>([^<]*)</th><td[^>]*>([^<]*)</td>", table)
    assert cells and all(v.strip() not in ("", "none") for _, v in cells), cells


def test_markets_in_the_study_order_in_every_chart(res: StudyResult) -> None:
    names = [market_name(s) for s in SYMS]
    specs = {f["id"]: f["fig"] for f in figure_specs(res)}
    lines = [tr.name for tr in specs["fig-caar-market"].data if tr.name in names]
    assert list(dict.fromkeys(lines)) == names
    for tr in specs["fig-caar-windows"].data:
        assert list(tr.x) == names
    assert list(specs["fig-car-heatmap"].data[0].x) == names
    ticks = specs["fig-car-heatmap"].layout.yaxis.ticktext
    assert any(len(t) > 50 for t in ticks)  # titles are not cut at 35 characters


def test_pair_table_has_actual_return_and_stars_per_window(res: StudyResult, html: str) -> None:
    table = html[html.index('<table id="table-pairs"') :]
    head = re.findall(r"<button type=\"button\">([^<]+)</button>", table[: table.index("</thead>")])
    assert head[5:7] == ["Return day 0", "AR day 0"]
    assert [h for h in head if h.startswith("CAR ")] == [
        f"CAR {w}" for w in ["0:0", "0:+1", "-1:+1", "-5:+5"]
    ]
    ar0 = res.abnormal_returns
    ar0 = ar0[ar0["rel_day"] == 0]
    want = sorted(float(f"{v:.6g}") for v in ar0["return"] if np.isfinite(v))
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    rows = re.findall(r"<tr>(.*?)</tr>", body)
    got = sorted(
        float(re.findall(r'data-v="([^"]*)"', r)[0]) for r in rows if re.findall(r'data-v="([^"]+)"', r)
    )
    assert np.allclose(got, want)

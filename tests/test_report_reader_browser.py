"""The default study's report as a five-minute reader meets it, in headless Chromium.

The report (``default_report``) and the browser (``chromium``) come from conftest.py,
built once per session.

Weight and length (file size, page height at 1400 px, print pages), no sideways
scrolling at 400 px, no chart whose title, menu, legend or labels overlap (400 and
1400 px), the event picker (type "London", see that event's card with each market's
actual return), paged tables, no console errors and no requests beyond the page
itself; and the text first: the page answers before its charts are drawn, and
printing or the picker draw what they need at once.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from eventstudy import load_prices

pytestmark = pytest.mark.browser

MAX_BYTES = 3 * 2**20
MAX_HEIGHT = 25_000
MAX_PRINT_PAGES = 30


def _open(browser: Any, page_file: Path, width: int) -> tuple[Any, Any, dict[str, list[str]]]:
    url = page_file.resolve().as_uri()
    seen: dict[str, list[str]] = {"requests": [], "errors": []}
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.route("**/*", lambda r: r.continue_() if r.request.url == url else r.abort())
    page = context.new_page()
    page.on("request", lambda req: seen["requests"].append(req.url))
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.goto(url, wait_until="load")
    drawn = "() => [...document.querySelectorAll('.plotly-graph-div')].every(d => d.querySelector('svg'))"
    page.wait_for_function(drawn, timeout=30_000)
    return context, page, seen


_BOXES = """id => {
  const gd = document.getElementById(id);
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const all = sel => [...gd.querySelectorAll(sel)].filter(e => e.getBoundingClientRect().width > 0).map(box);
  return {
    width: gd.getBoundingClientRect().width, left: gd.getBoundingClientRect().left,
    top: gd.getBoundingClientRect().top,
    blocks: [...all('.g-gtitle'), ...all('.updatemenu-header'), ...all('.legend .bg')],
    labels: [...all('.xtick text'), ...all('.annotation')],
  };
}"""


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


CHART_IDS = [
    "fig-aar-day", "fig-caar-market", "fig-caar-group", "fig-caar-windows",
    "fig-car-heatmap", "fig-ar-event", "fig-levels", "fig-placebo",
]  # fmt: skip


def _assert_chart_parts_apart(page: Any) -> None:
    """Each chart's title, menu, legend, axis labels and subplot titles keep a place of their own,
    inside the chart (a pixel of rounding)."""
    for cid in CHART_IDS:
        b = page.evaluate(_BOXES, cid)
        assert b["blocks"] and b["labels"], cid
        for i, one in enumerate(b["blocks"]):
            for other in b["blocks"][i + 1 :] + b["labels"]:
                assert not _overlap(one, other), (cid, one, other)
        for part in b["blocks"]:
            assert b["left"] - 1 <= part[0] and part[2] <= b["left"] + b["width"] + 1, (cid, part)
            assert b["top"] - 1 <= part[1], (cid, part)


def test_default_report_file_is_under_3_mib(default_report: Path) -> None:
    size = default_report.stat().st_size
    assert size < MAX_BYTES, f"{size / 2**20:.2f} MiB"


@pytest.mark.slow  # a browser: layout at 1400 and 720 px, then printed to PDF
def test_default_report_height_chart_layout_print_and_requests(chromium: Any, default_report: Path) -> None:
    context, page, seen = _open(chromium, default_report, 1400)
    try:
        _assert_chart_parts_apart(page)
        tops = page.evaluate("[...document.querySelectorAll('#markets .card')].map(c => c.offsetTop)")
        assert len(tops) == 5 and len(set(tops)) == 1  # five market cards in one row
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < MAX_HEIGHT, height
        # the long pair table shows one page of rows; "Show all" brings every row
        shown = page.locator("#table-pairs tbody tr:not([hidden])").count()
        total = page.locator("#table-pairs tbody tr").count()
        assert shown == 20 < total
        page.get_by_role("button", name=re.compile(r"^Show all \d+")).click()
        assert page.locator("#table-pairs tbody tr:not([hidden])").count() == total
        page.get_by_role("button", name="Show pages").click()
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 720, "height": 1000})  # about an A4 page's width
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        page.wait_for_timeout(500)
        right = page.evaluate(
            "[...document.querySelectorAll('svg.main-svg')].map(s => s.getBoundingClientRect().right)"
        )
        assert right and max(right) <= 720 + 1, max(right)  # charts (colour scales, legends) fit the page
        pdf = page.pdf(format="A4")
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert 0 < pages < MAX_PRINT_PAGES, pages
    finally:
        context.close()
    assert seen["errors"] == [], seen["errors"]
    assert seen["requests"] == [default_report.resolve().as_uri()], seen["requests"]


@pytest.mark.slow  # a browser
def test_no_sideways_scrolling_and_chart_parts_apart_at_400px(chromium: Any, default_report: Path) -> None:
    context, page, seen = _open(chromium, default_report, 400)
    try:
        _assert_chart_parts_apart(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, width
        lefts = page.evaluate("[...document.querySelectorAll('#markets .card')].map(c => c.offsetLeft)")
        assert len(set(lefts)) == 1  # one column of market cards
    finally:
        context.close()
    assert seen["errors"] == []


@pytest.mark.slow  # a browser
def test_picker_finds_london_and_shows_its_card(chromium: Any, default_report: Path) -> None:
    context, page, seen = _open(chromium, default_report, 1400)
    try:
        page.fill("#event-search", "London framework negotiators")
        card = page.locator(".event-card:not([hidden])")
        assert card.count() == 1
        assert card.get_attribute("data-event") == "2025-06-10-london-framework"
        assert card.is_visible()
        rows = card.locator("tbody tr")
        assert rows.count() == 5
        text = {r.split("\t")[0]: r.split("\t") for r in (rows.nth(i).inner_text() for i in range(5))}
        hsi = load_prices(["^HSI"])["^HSI"]
        ret = float(hsi.loc["2025-06-11"] / hsi.loc["2025-06-10"] - 1)
        assert text["Hang Seng Index"][1] == "2025-06-11"
        assert text["Hang Seng Index"][2] == f"{100 * ret:+.2f}%".replace("-", "−")
        # the chart of one event's daily abnormal returns follows the picker
        chart_title = page.evaluate("document.getElementById('fig-ar-event').layout.title.text")
        assert chart_title.startswith("Abnormal returns: London negotiators agree framework")
        # the matches list offers every event with "London" in its title
        page.fill("#event-search", "London")
        assert page.locator("#event-matches button").count() >= 2
        page.locator("#event-matches button", has_text="framework to put Geneva").click()
        assert page.locator(".event-card:not([hidden])").get_attribute("data-event") == (
            "2025-06-10-london-framework"
        )
    finally:
        context.close()
    assert seen["errors"] == []
    assert len(seen["requests"]) == 1


def _open_waiting(browser: Any, page_file: Path, width: int) -> tuple[Any, Any]:
    """The page once the parser is done, with its timers stopped (Chromium's virtual time paused):
    its text is laid out and its script has run, and the charts wait in their queue."""
    url = page_file.resolve().as_uri()
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.route("**/*", lambda r: r.continue_() if r.request.url == url else r.abort())
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    page.goto(url, wait_until="domcontentloaded")
    cdp.send("Emulation.setVirtualTimePolicy", {"policy": "pause"})
    return context, page


_DRAWN = "[...document.querySelectorAll('.plotly-graph-div')].filter(d => d.querySelector('svg')).length"
_SHOW_ALL = "[...document.querySelectorAll('button')].find(b => b.textContent.startsWith('Show all')).click()"
_SHOWN = "document.querySelectorAll('#table-pairs tbody tr:not([hidden])').length"
_PRINT = f"() => {{ window.dispatchEvent(new Event('beforeprint')); return {_DRAWN}; }}"
_PICK = (
    "() => { const i = document.getElementById('event-search');"
    " i.value = 'London framework negotiators'; i.dispatchEvent(new Event('input')); }"
)


@pytest.mark.slow  # a browser
def test_text_answers_before_the_charts_and_printing_draws_them_all(
    chromium: Any, default_report: Path
) -> None:
    context, page = _open_waiting(chromium, default_report, 1400)
    try:
        charts = page.evaluate("document.querySelectorAll('.plotly-graph-div').length")
        # plotly.js and each chart come in tasks of their own, after the text
        assert charts == 8 and page.evaluate(_DRAWN) < charts
        assert page.locator("h1").is_visible()
        # the tables already answer: "Show all" shows every row of the pair table
        total = page.evaluate("document.querySelectorAll('#table-pairs tbody tr').length")
        page.evaluate(_SHOW_ALL)
        assert page.evaluate(_SHOWN) == total
        # printing cannot wait: every chart is drawn before the page is laid out for paper
        assert page.evaluate(_PRINT) == charts
    finally:
        context.close()


@pytest.mark.slow  # a browser
def test_picker_draws_the_event_chart_it_needs_before_its_turn(chromium: Any, default_report: Path) -> None:
    context, page = _open_waiting(chromium, default_report, 1400)
    try:
        assert page.evaluate("!document.querySelector('#fig-ar-event svg')")
        page.evaluate(_PICK)
        title = page.evaluate("document.getElementById('fig-ar-event').layout.title.text")
        assert title.startswith("Abnormal returns: London negotiators agree framework")
        assert page.evaluate("!!document.querySelector('#fig-ar-event svg')")
        assert page.evaluate(_DRAWN) < 8  # the others keep their turn
    finally:
        context.close()

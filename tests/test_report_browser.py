"""The HTML report: its structure (no browser) and how it behaves in headless Chromium.

A small study (two markets, a few events) is rendered; one event carries a
hostile title that must show up as text and never run. The browser test opens
the saved ``index.html`` from a ``file://`` URL with every other request
blocked and recorded.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from eventstudy import EventStudy, StudyResult, events_from_records, load_prices
from eventstudy.report.assets import plotly_js

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'

EVENTS = [
    {
        "event_id": "libday",
        "timestamp": "2025-04-02T20:35Z",
        "title": "Liberation Day tariffs",
        "category": "tariff_escalation",
        "direction": "-1",
    },
    {
        "event_id": "bj34",
        "timestamp": "2025-04-04",
        "tz": "Asia/Shanghai",
        "title": HOSTILE,
        "category": "retaliation",
        "direction": "-1",
    },
    {
        "event_id": "geneva",
        "timestamp": "2025-05-12T07:00Z",
        "title": "Geneva joint statement & 90-day truce",
        "category": "truce",
        "direction": "1",
    },
    {
        "event_id": "london",
        "timestamp": "2025-06-10T22:55Z",
        "title": "London framework",
        "category": "agreement",
        "direction": "1",
    },
]


def _study() -> StudyResult:
    ev = events_from_records(EVENTS)
    prices = load_prices(["^HSI", "^GDAXI"])
    return EventStudy(ev, prices, name="browser-test").run()


@pytest.fixture(scope="module")
def result() -> StudyResult:
    return _study()


@pytest.fixture(scope="module")
def report(result: StudyResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report") / "browser-test"
    result.save(folder)
    return folder / "index.html"


@pytest.fixture(scope="module")
def html(report: Path) -> str:
    return report.read_text("utf-8")


# ------------------------------------------------------------------ structure (no browser)
def test_report_is_a_complete_html_document(html: str) -> None:
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert re.search(r'<meta charset="utf-8"\s*/?>', html, re.IGNORECASE)
    assert html.rstrip().endswith("</html>")


def test_report_sections_present(html: str) -> None:
    ids = set(re.findall(r'<section[^>]*\bid="([^"]+)"', html))
    for required in ("summary", "markets", "charts", "pairs", "excluded", "method", "provenance"):
        assert required in ids, ids
    # the summary table, the charts and the provenance of the data are on the page
    assert re.search(r'<table[^>]*id="table-summary"', html)
    assert "plotly-graph-div" in html
    assert "sha256" in html


def test_plotly_js_included_exactly_once(html: str) -> None:
    js = plotly_js()
    assert html.count(js) == 1
    # a distinctive chunk from the middle of the bundle appears once only
    mid = js[len(js) // 2 : len(js) // 2 + 300]
    assert html.count(mid) == 1


def test_report_fetches_nothing(html: str) -> None:
    # plotly.js itself mentions its CDN (a default topojson URL that no chart here uses)
    rest = html.replace(plotly_js(), "")
    cdn = "cdn.plot.ly" in rest
    assert not cdn
    script_src = re.search(r"<script[^>]+\bsrc=", rest, re.IGNORECASE)
    assert script_src is None, script_src.group(0)
    stylesheet = re.search(r"<link[^>]+rel=\"?stylesheet", rest, re.IGNORECASE)
    assert stylesheet is None, stylesheet.group(0)
    remote = re.search(r"<(img|iframe|source|video|audio)[^>]+\bsrc=\"?(https?:)?//", rest, re.IGNORECASE)
    assert remote is None, remote.group(0)
    css_import = "@import" in rest
    assert not css_import


def test_every_chart_has_a_fixed_id(html: str) -> None:
    divs = re.findall(r'<div id="([^"]+)" class="plotly-graph-div"', html)
    assert len(divs) >= 2
    assert len(set(divs)) == len(divs)
    # plotly's random ids are uuid4 strings; ours are readable names
    assert not any(
        re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", d) for d in divs
    )


def test_hostile_title_is_escaped(html: str) -> None:
    raw_script = "<script>window.__pwned" in html
    raw_img = "<img src=x onerror" in html
    escaped = "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert not raw_script and not raw_img
    assert escaped


def test_embedded_manifest_is_valid_json(result: StudyResult, html: str) -> None:
    m = re.search(r'<script type="application/json" id="study-manifest">(.*?)</script>', html, re.DOTALL)
    assert m is not None
    doc = json.loads(m.group(1))
    assert doc["created"] == result.manifest["created"]
    assert doc["prices"]["sha256"] == result.manifest["prices"]["sha256"]
    assert doc["events"]["sha256"] == result.events.sha256


def _without_timestamp(res: StudyResult, text: str) -> str:
    created = str(res.manifest["created"])
    assert created and created in text
    return text.replace(created, "<created>")


def test_report_is_deterministic(result: StudyResult, html: str) -> None:
    same = result.to_html() == html
    assert same, "two renders of one result differ"
    other = _study()  # a second run of the same study: only the creation time may differ
    other = dataclasses.replace(other, manifest=dict(other.manifest, created="2030-01-01T00:00:00+00:00"))
    a, b = _without_timestamp(other, other.to_html()), _without_timestamp(result, html)
    if a != b:
        i = next(k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y)
        pytest.fail(f"reports of two runs differ beyond the timestamp near: {a[i - 80 : i + 80]!r}")


# ------------------------------------------------------------------ real browser
# (`chromium`: one headless browser per session, from conftest.py)
_CHARTS_DRAWN = """() => {
    const divs = [...document.querySelectorAll('.plotly-graph-div')];
    return divs.every(d => d.querySelector('svg.main-svg'));
}"""


def _inspect(browser: Any, page_file: Path) -> dict[str, Any]:
    """Open ``page_file`` from file://, block and record every other request, and look at the page."""
    url = page_file.resolve().as_uri()
    seen: dict[str, Any] = {"requests": [], "console_errors": [], "page_errors": []}

    def route(r: Any) -> None:
        if r.request.url == url:
            r.continue_()
        else:
            r.abort()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.on("request", lambda req: seen["requests"].append(req.url))
        page.on("console", lambda m: seen["console_errors"].append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: seen["page_errors"].append(str(e)))
        context.route("**/*", route)
        page.goto(url, wait_until="load")
        page.wait_for_function(_CHARTS_DRAWN, timeout=30_000)
        page.wait_for_timeout(200)  # let late errors and requests arrive
        seen["n_divs"] = page.eval_on_selector_all(".plotly-graph-div", "ds => ds.length")
        seen["n_svg"] = page.eval_on_selector_all(
            ".plotly-graph-div", "ds => ds.filter(d => d.querySelector('svg.main-svg')).length"
        )
        seen["n_traces"] = page.eval_on_selector_all(
            ".plotly-graph-div", "ds => ds.map(d => (d.data || []).length)"
        )
        seen["summary_rows"] = page.locator("#table-summary tbody tr").count()
        seen["pwned"] = page.evaluate("() => typeof window.__pwned")
        seen["body_text"] = page.inner_text("body")
        seen["hostile_visible"] = page.get_by_text(HOSTILE, exact=False).first.is_visible()
        seen["injected_img"] = page.evaluate(
            "() => [...document.querySelectorAll('img')].filter(i => i.getAttribute('src') === 'x').length"
        )
    finally:
        context.close()
    seen["network"] = [u for u in seen["requests"] if not u.startswith(("data:", "blob:", url))]
    seen["url"] = url
    return seen


@pytest.mark.slow  # a browser, on a page made to fail
@pytest.mark.browser
def test_browser_harness_detects_a_bad_page(chromium: Any, tmp_path: Path) -> None:
    """The checks below are not vacuous: a page that runs injected code, fetches and logs errors is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<script src='https://cdn.example.invalid/x.js'></script></head><body>"
        f"<p>{HOSTILE}</p><script>console.error('boom')</script></body></html>",
        encoding="utf-8",
    )
    seen = _inspect(chromium, bad)
    assert seen["pwned"] == "number"
    assert seen["injected_img"] == 1
    assert any("cdn.example.invalid" in u for u in seen["network"])
    assert seen["console_errors"]
    assert not seen["hostile_visible"]


@pytest.mark.browser
def test_report_in_headless_chromium(chromium: Any, report: Path) -> None:
    seen = _inspect(chromium, report)
    assert seen["network"] == [], seen["network"]
    assert seen["requests"][0] == seen["url"]
    assert seen["console_errors"] == [], seen["console_errors"]
    assert seen["page_errors"] == [], seen["page_errors"]
    assert seen["n_divs"] >= 2
    assert seen["n_svg"] == seen["n_divs"]  # an SVG in every chart
    assert all(n > 0 for n in seen["n_traces"]), seen["n_traces"]
    assert seen["summary_rows"] > 0
    assert seen["pwned"] == "undefined"
    assert seen["injected_img"] == 0
    assert HOSTILE in seen["body_text"]  # shown as text
    assert seen["hostile_visible"]

"""Structure of the HTML report and of ``reports/index.html`` (no browser).

Small synthetic studies (a few markets, a few events, one with hostile text
everywhere) are rendered and the page is parsed with :mod:`html.parser`: the
tests look at sections, charts, scripts and table cells, never at byte-exact
HTML. Numbers shown on the page are compared with values computed here from
the result's tables (plain loops, scipy), independently of the report code.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from scipy import stats

from eventstudy import EventStudy, StudyResult
from eventstudy.config import format_window
from eventstudy.markets import market_name
from eventstudy.report import export_png, png_unavailable_reason, render_report, write_reports_index
from eventstudy.report.assets import plotly_js
from eventstudy.report.eventfigs import index_levels
from eventstudy.report.render import script_json
from eventstudy.report.views import caar_path, event_info

HOSTILE = '<script>alert("pwn")</script><img src=x onerror=alert(1)>'
HOSTILE_BITS = ("<script>alert", "<img src=x", "onerror=alert(1)>", "</script><img")
HOSTILE_SYMBOL = "<b>ZZ</b>"
SECTIONS = ("summary", "markets", "charts", "pairs", "tests", "excluded", "method", "provenance")
CHARTS = ("fig-aar-day", "fig-caar-market", "fig-caar-group", "fig-caar-windows", "fig-car-heatmap")
CHARTS += ("fig-ar-event", "fig-levels", "fig-placebo")
SHOCK_DAY = 300


# --------------------------------------------------------------------- helpers
class Page(HTMLParser):
    """Elements with ids, script bodies, visible text and table cells of a page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: dict[str, tuple[str, dict[str, str]]] = {}
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self.text: list[str] = []
        self.tables: dict[str, list[list[tuple[str, dict[str, str]]]]] = {}
        self._script: dict[str, str] | None = None
        self._script_body: list[str] = []
        self._table: list[str] = []
        self._cell: list[str] | None = None
        self._cell_attrs: dict[str, str] = {}
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        self.tags.append((tag, a))
        if "id" in a:
            assert a["id"] not in self.ids, f"duplicate id {a['id']}"
            self.ids[a["id"]] = (tag, a)
        if tag == "script":
            self._script, self._script_body = a, []
        elif tag == "table":
            self._table.append(a.get("id", ""))
            self.tables.setdefault(a.get("id", ""), [])
        elif tag == "tr" and self._table:
            self.tables[self._table[-1]].append([])
        elif tag in ("td", "th") and self._table:
            self._cell, self._cell_attrs = [], a

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._script_body)))
            self._script = None
        elif tag == "table" and self._table:
            self._table.pop()
        elif tag in ("td", "th") and self._cell is not None and self._table:
            rows = self.tables[self._table[-1]]
            if rows:
                rows[-1].append((" ".join(" ".join(self._cell).split()), self._cell_attrs))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script_body.append(data)
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def body_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def _pct(v: float, nd: int = 2) -> str:
    return f"{100 * v:+.{nd}f}%".replace("-", "−")


def _records(n_days: int = 420) -> list[dict[str, object]]:
    dates = pd.bdate_range("2019-01-01", periods=n_days)
    days = [180, 230, 260, SHOCK_DAY, 340, 380]
    out: list[dict[str, object]] = []
    for i, d in enumerate(days):
        out.append(
            {
                "event_id": f"ev{i}",
                "timestamp": dates[d].strftime("%Y-%m-%d") if i % 2 else dates[d].strftime("%Y-%m-%dT12:00Z"),
                "tz": "",
                "title": f"Synthetic announcement {i}",
                "category": ["tariff_escalation", "truce", "talks"][i % 3],
                "direction": [-1, 1, 0][i % 3],
                "source": f"Wire {i} https://news.example.org/{i}",
                "notes": "",
            }
        )
    out[3]["title"] = "Shock announcement"
    out[1].update(title=HOSTILE, source=HOSTILE + " https://x.example/?q=<b>", notes=HOSTILE)
    return out


def _study(synthetic_panel: Callable[..., Any], **kw: Any) -> StudyResult:
    n_days = 420
    rng = np.random.default_rng(7)
    shocked = 3e-4 + 0.01 * rng.standard_normal(n_days)
    shocked[SHOCK_DAY] = -0.08
    syn = synthetic_panel(
        seed=3,
        symbols=("AAA", "BBB", HOSTILE_SYMBOL),
        n_days=n_days,
        records=_records(n_days),
        returns={"AAA": shocked},
    )
    kw.setdefault("name", "structure-test")
    return EventStudy(
        syn.events,
        syn.prices,
        symbols=list(syn.symbols),
        estimation=(-150, -11),
        min_estimation=60,
        **kw,
    ).run()


@pytest.fixture(scope="module")
def res(synthetic_panel: Callable[..., Any]) -> StudyResult:
    return _study(synthetic_panel)


@pytest.fixture(scope="module")
def html(res: StudyResult) -> str:
    return render_report(res)


@pytest.fixture(scope="module")
def page(html: str) -> Page:
    return Page(html)


# ------------------------------------------------------------------- structure
def test_sections_tables_and_charts_present(page: Page) -> None:
    for sid in SECTIONS:
        assert page.ids.get(sid, ("", {}))[0] == "section", sid
    for tid in ("table-summary", "table-markets", "table-pairs", "table-tests-market", "table-rbar"):
        assert page.ids.get(tid, ("", {}))[0] == "table", tid
        assert len(page.tables[tid]) > 1, tid
    for cid in CHARTS:
        tag, attrs = page.ids[cid]
        assert tag == "div" and "plotly-graph-div" in attrs.get("class", ""), cid
    divs = [a["id"] for t, a in page.tags if t == "div" and "plotly-graph-div" in a.get("class", "")]
    assert sorted(divs) == sorted(CHARTS)


def test_each_chart_is_drawn_by_one_script_with_its_fixed_id(page: Page) -> None:
    bodies = [s for a, s in page.scripts if "Plotly.newPlot" in s]
    assert len(bodies) == len(CHARTS)
    for cid in CHARTS:
        assert sum(f'document.getElementById("{cid}")' in s for s in bodies) == 1, cid


def test_plotly_js_inlined_exactly_once(html: str, page: Page) -> None:
    js = plotly_js()
    assert html.count(js) == 1
    banner = "plotly.js (cartesian - minified) v"
    assert html.count(banner) == js.count(banner) == 1
    assert not any(a.get("src") for t, a in page.tags if t in ("script", "img", "iframe", "link"))
    assert not any(t == "link" for t, _ in page.tags)
    # scripts: the charts' queue, one per chart, the manifest (JSON), plotly.js and the table sorter
    assert len(page.scripts) == 1 + len(CHARTS) + 3


def test_text_comes_first_and_plotly_js_waits_as_text_at_the_end(html: str, page: Page) -> None:
    """The head holds only a small queue for the charts; plotly.js is inert text after the content."""
    head = html[: html.index("</head>")]
    assert plotly_js() not in head and len(head) < 20_000
    kinds = [(a.get("type", ""), a.get("id", "")) for a, _ in page.scripts]
    queue = page.scripts[0][1]
    assert kinds[0] == ("text/javascript", "") and "eventstudyCharts" in queue and len(queue) < 300
    bundle = [k for k, (a, body) in enumerate(page.scripts) if body == plotly_js()]
    assert len(bundle) == 1 and kinds[bundle[0]] == ("text/plain", "plotly-js")  # not run by the parser
    charts = [k for k, (a, body) in enumerate(page.scripts) if "Plotly.newPlot" in body]
    assert max(charts) < bundle[0] < len(page.scripts) - 1  # after every chart, before the page's own script
    assert html.index("</main>") < html.index('id="plotly-js"')
    assert 'getElementById("plotly-js")' in page.scripts[-1][1]


def test_page_has_print_stylesheet_sorter_and_okabe_ito_palette(html: str, page: Page) -> None:
    styles = html[html.index("<style>") : html.index("</style>")]
    assert "@media print" in styles
    sorter = [s for a, s in page.scripts if "table.sortable" in s]
    assert len(sorter) == 1 and "fetch(" not in sorter[0] and "XMLHttpRequest" not in sorter[0]
    for colour in ("#0072B2", "#E69F00", "#009E73", "#D55E00"):
        assert colour in html
    assert html.count("<table") == html.count("</table>")


# -------------------------------------------------------------------- escaping
def test_hostile_event_text_is_never_unescaped(html: str, page: Page) -> None:
    rest = html.replace(plotly_js(), "")
    for bit in HOSTILE_BITS:
        assert bit not in rest, bit
    assert HOSTILE_SYMBOL not in rest
    # no element was injected: the only scripts and images are ours
    assert not [a for t, a in page.tags if t == "img"]
    assert len(page.scripts) == 1 + len(CHARTS) + 3
    # …and the hostile title is shown as text (decoded by the parser)
    assert HOSTILE in page.body_text()
    assert HOSTILE_SYMBOL in page.body_text()


def test_chart_json_cannot_close_its_script(res: StudyResult, page: Page) -> None:
    for _attrs, body in page.scripts:
        if "Plotly.newPlot" in body:
            assert "</" not in body
            assert "<script" not in body and "<img" not in body
    # hover texts carry the title escaped for plotly, so plotly shows it literally
    heat = next(s for a, s in page.scripts if '"fig-car-heatmap"' in s)
    assert "&lt;script&gt;alert" in heat


def test_script_json_escapes_closing_tags_and_round_trips() -> None:
    doc = {
        "a": "</script><script>alert(1)</script>",
        "b": ["<!--", "]]>", "&amp;", "\u2028x\u2029"],
        "c": 1.5,
    }
    s = script_json(doc)
    for ch in ("<", ">", "&", "\u2028", "\u2029"):
        assert ch not in s
    assert json.loads(s) == doc


def test_embedded_manifest_is_escaped_and_equals_the_manifest(res: StudyResult) -> None:
    man = json.loads(json.dumps(res.manifest, default=str))
    man["events"] = dict(man["events"], file="</script><script>alert(1)</script>.csv")
    other = dataclasses.replace(res, manifest=man)
    html = render_report(other)
    assert "</script><script>alert" not in html
    p = Page(html)
    body = next(s for a, s in p.scripts if a.get("id") == "study-manifest")
    assert json.loads(body) == man
    assert "</script><script>alert(1)</script>.csv" in p.body_text()  # shown as text in provenance


# ---------------------------------------------------------------- determinism
# Two renders of one result are identical, and a second run of the same study differs
# only in its creation time: tests/test_report_browser.py::test_report_is_deterministic.


# ------------------------------------------------------------ numbers on page
def test_summary_caar_and_interval_match_the_caar_table(res: StudyResult, page: Page) -> None:
    rows = page.tables["table-summary"]
    head = [c for c, _ in rows[0]]
    caar_row = next(r for r in rows if r[0][0] == "CAAR")
    # the dependence-robust estimate and interval of the headline test (headlines.csv)
    h = res.headlines("all").set_index("window")
    for w, (text, _) in zip(head[1:], caar_row[1:], strict=True):
        est, lo, hi = (float(h.at[w, k]) for k in ("estimate", "ci_low", "ci_high"))
        half = stats.t.ppf(0.975, h.at[w, "df"]) * h.at[w, "se"]
        assert lo == pytest.approx(est - half) and hi == pytest.approx(est + half)
        assert text == f"{_pct(est)} {_pct(lo)} to {_pct(hi)}", w
    g_row = next(r for r in rows if r[0][0] == "Independent clusters (G)")
    assert [int(v) for v, _ in g_row[1:]] == [int(h.at[w, "n_clusters"]) for w in head[1:]]
    # every test row of the overall group and the first window is on the page
    tests = res.tests("all")
    first = tests[tests["window"] == head[1]]
    shown = {r[0][0]: r[1][0] for r in rows if r[0][0] in set(first["test"])}
    assert set(shown) == set(first["test"])
    for t in first.itertuples():
        if np.isfinite(t.p_value) and t.p_value >= 0.001:
            assert f"({t.p_value:.3f})" in shown[t.test], t.test


def test_pairs_table_sort_keys_are_the_table_values(res: StudyResult, page: Page) -> None:
    rows = page.tables["table-pairs"]
    head = [c for c, _ in rows[0]]
    body = rows[1:]
    main = res.car(res.manifest["parameters"]["car_windows"][0])
    assert len(body) == len(main)
    p_col = head.index("p")
    t_col = head.index("t")
    got = sorted(float(r[p_col][1]["data-v"]) for r in body if r[p_col][1].get("data-v"))
    want = sorted(float(f"{v:.6g}") for v in main["p_value"] if np.isfinite(v))
    assert np.allclose(got, want)
    got_t = sorted(float(r[t_col][1]["data-v"]) for r in body if r[t_col][1].get("data-v"))
    assert np.allclose(got_t, sorted(main["t_stat"].dropna()), rtol=1e-5)


def test_caar_path_is_the_mean_of_cumulative_abnormal_returns(res: StudyResult) -> None:
    ar = res.abnormal_returns
    lo, hi = res.config.window
    path = caar_path(res, "market").set_index(["group", "rel_day"])
    for sym in res.symbols:
        for day in range(lo, hi + 1):
            vals = [
                r.car for r in ar.itertuples() if r.symbol == sym and r.rel_day == day and np.isfinite(r.car)
            ]
            if not vals:
                continue
            mean = sum(vals) / len(vals)
            sd = (
                math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else math.nan
            )
            row = path.loc[(sym, day)]
            assert row["caar"] == pytest.approx(mean, abs=1e-12)
            assert int(row["n"]) == len(vals)
            if len(vals) > 1:
                half = stats.t.ppf(0.975, len(vals) - 1) * sd / math.sqrt(len(vals))
                assert row["hi"] - row["caar"] == pytest.approx(half, rel=1e-9)


def test_notable_sentence_reports_the_shock(res: StudyResult, page: Page) -> None:
    car = res.car("0:0")
    shock = car[(car["symbol"] == "AAA") & (car["event_id"] == "ev3")].iloc[0]
    assert shock["p_value"] < 0.01  # the injected −8% return
    sentences = [s for s in page.body_text().split("The AAA ")[1:] if "Shock announcement" in s]
    assert sentences, "no sentence about the shock"
    s = sentences[0]
    assert s.startswith(f"fell {abs(100 * shock['car']):.1f}% more than normal")
    assert "p < 0.001" in s or f"p = {shock['p_value']:.3f}" in s


def test_rbar_table_reads_the_kp_notes(res: StudyResult, page: Page) -> None:
    tests = res.tests("all")
    kp = tests[tests["test"].str.startswith("kp_") & tests["note"].str.contains("r̄=", regex=False)]
    if kp.empty:
        pytest.skip("no kp_* test with an r̄ in this registry")
    rows = page.tables["table-rbar"]
    head = [c for c, _ in rows[0]]
    all_row = next(r for r in rows[1:] if r[0][0] == "all")
    for w, (text, _) in zip(head[2:], all_row[2:], strict=True):
        notes = kp[kp["window"] == w]["note"]
        m = re.search(r"r̄=([-0-9.]+)", notes.iloc[0])
        assert m is not None
        assert text == f"{float(m.group(1)):.3f}".replace("-", "−")


# -------------------------------------------------------- graceful degradation
def test_a_study_with_one_test_renders(synthetic_panel: Callable[..., Any]) -> None:
    one = _study(synthetic_panel, tests=["csect_t"])
    p = Page(render_report(one))
    assert "table-rbar" not in p.ids  # no kp_* test: r̄ not available
    assert "Not available" in p.body_text()
    tests_in_summary = {r[0][0] for r in p.tables["table-summary"][4:]}  # after head, CAAR, N, G
    assert tests_in_summary == {"csect_t"}
    cards = [t for t, a in p.tags if t == "div" and a.get("class") == "card"]
    assert len(cards) == len(one.symbols)
    # the headline stays the dependence-robust test, never the naive csect_t
    assert "csect_t, n =" not in p.body_text()
    assert "cluster_t" in p.body_text() or "no dependence-robust test" in p.body_text()


def test_analysis_tables_of_the_result_are_shown(res: StudyResult, page: Page) -> None:
    tables = res.tables()
    direction, coefs = tables.get("direction.csv"), tables.get("cross_section.csv")
    if direction is None or coefs is None:
        pytest.skip("this StudyResult carries no cross-sectional tables")
    rows = page.tables["table-direction"][1:]
    assert [r[0][0] for r in rows] == list(direction["window"])
    for r, d in zip(rows, direction.to_dict("records"), strict=True):
        assert r[1][0] == _pct(d["difference"])
        if d["p"] >= 0.001:
            assert r[4][0].startswith(f"{d['p']:.3f}")
    first = res.manifest["parameters"]["car_windows"][0]
    main = direction[direction["window"] == first]["text"].iloc[0]
    assert " ".join(main.split()) in page.body_text()  # the plain-language answer, in the summary
    n_terms = int((coefs["window"] == first).sum())
    assert len(page.tables["table-cross-section-1"]) == 1 + n_terms


def test_a_result_without_optional_parts_renders(res: StudyResult) -> None:
    """No per-day windows, no kp notes, no data-quality or alignment in the manifest: still a full page."""
    windows = res.manifest["parameters"]["car_windows"]
    keep = {k: v for k, v in res.manifest.items() if k not in ("data_quality", "alignment")}
    keep["prices"] = {k: v for k, v in res.manifest["prices"].items() if k != "ranges"}
    tests = res.tests_table[res.tests_table["window"].isin(windows)]
    tests = tests.assign(note=tests["note"].str.replace("r̄=", "rho=", regex=False))
    bare = dataclasses.replace(
        res,
        manifest=keep,
        tests_table=tests,
        caar_table=res.caar_table[res.caar_table["window"].isin(windows)],
    )
    p = Page(render_report(bare))
    for sid in SECTIONS:
        assert sid in p.ids
    assert "fig-aar-day" not in p.ids and "table-days-all" not in p.ids
    assert "table-rbar" not in p.ids and "table-data-quality" not in p.ids
    assert "No data-quality notes" in p.body_text()


@pytest.mark.skipif(png_unavailable_reason() is not None, reason=str(png_unavailable_reason()))
def test_png_export_writes_one_file_per_chart(res: StudyResult, tmp_path: Path) -> None:
    paths = export_png(res, tmp_path)
    assert sorted(p.name for p in paths) == sorted(f"{c}.png" for c in CHARTS)
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class _WithExtras(StudyResult):
    """A result whose tables carry what the analysis helpers add (placebo, answers, adjusted p)."""

    def tables(self) -> dict[str, pd.DataFrame]:
        rng = np.random.default_rng(0)
        windows = list(dict.fromkeys(self.car_table["window"]))
        placebo = pd.DataFrame(
            {"window": np.repeat(windows, 50), "caar": rng.normal(0, 0.004, 50 * len(windows))}
        )
        answers = pd.DataFrame(
            {
                "window": windows,
                "difference": 0.01,
                "text": [f"Escalation answer {w} <i>x</i>" for w in windows],
            }
        )
        generic = pd.DataFrame(
            {"term": ["const", "<b>market</b>"], "coef": [0.001, -0.0025], "p": [0.5, 0.01]}
        )
        return super().tables() | {
            "placebo.csv": placebo,
            "cross_section_answers.csv": answers,
            "coef.csv": generic,
        }


def test_extra_tables_and_adjusted_p_values_are_shown(res: StudyResult) -> None:
    car = res.car_table.assign(p_bh=np.minimum(1.0, res.car_table["p_value"] * 3))
    tests = res.tests_table.assign(p_holm=1.0, p_bh=0.5)
    rich = _WithExtras(**{f.name: getattr(res, f.name) for f in dataclasses.fields(res)})
    rich = dataclasses.replace(rich, car_table=car, tests_table=tests)
    html = render_report(rich)
    p = Page(html)
    assert "fig-placebo" in p.ids and "analysis" in p.ids
    text = p.body_text()
    first = res.manifest["parameters"]["car_windows"][0]
    assert f"Escalation answer {first} <i>x</i>" in text  # shown, escaped
    assert "<i>x</i>" not in html and "<b>market</b>" not in html
    assert "<b>market</b>" in text
    head = [c for c, _ in p.tables["table-pairs"][0]]
    assert "BH" in head
    assert any("Holm-adjusted p = 1.000" in a.get("title", "") for _, a in p.tags)


# ------------------------------------------------------------- default study
def test_default_study_report_stays_small(default_report: Path) -> None:
    """The default study's saved report (rendered once per session, conftest.py)."""
    html = default_report.read_text("utf-8")
    size = len(html.encode("utf-8"))
    assert size < 10_000_000, size
    assert set(CHARTS) <= set(Page(html).ids)


def test_index_levels_are_weekly(snapshot_study: StudyResult) -> None:
    fig = go.Figure(index_levels(snapshot_study, event_info(snapshot_study)))  # plain dicts → graph object
    lines = [t for t in fig.data if t.mode == "lines"]
    assert len(lines) == len(snapshot_study.symbols)
    for sym, line in zip(snapshot_study.symbols, lines, strict=True):
        closes = snapshot_study.prices.closes[sym]
        weeks = (closes.index[-1] - closes.index[0]).days / 7 + 2
        assert len(line.x) <= weeks
        # each point is the last close of its week
        last = closes.groupby(closes.index.to_period("W-FRI")).last()
        assert np.allclose(np.asarray(line.y, dtype=float), np.round(last.to_numpy(), 2))


# ---------------------------------------------------------------- reports index
def _save(res: StudyResult, folder: Path, created: str, name: str) -> None:
    man = dict(res.manifest, created=created)
    man["parameters"] = dict(man["parameters"], name=name)
    dataclasses.replace(res, manifest=man).save(folder)


def test_reports_index_lists_studies_newest_first_escaped(res: StudyResult, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    hostile_folder = '<img src=x onerror=alert(1)> "q"'
    _save(res, reports / "older", "2025-01-01T00:00:00+00:00", "older study")
    _save(res, reports / hostile_folder, "2025-06-01T12:00:00+00:00", HOSTILE)
    (reports / "not-a-study").mkdir()
    (reports / "broken").mkdir()
    (reports / "broken" / "study.json").write_text("{not json", encoding="utf-8")
    out = write_reports_index(reports)
    assert out == reports / "index.html"
    html = out.read_text("utf-8")
    p = Page(html)
    assert "<img" not in html and "<script" not in html and "plotly" not in html.lower()
    assert not [t for t, _ in p.tags if t in ("script", "img", "link", "iframe")]
    rows = p.tables["table-studies"][1:]
    texts = [r[0][0] for r in rows]  # decoded text of the first cell
    assert texts[0].startswith(hostile_folder) and texts[1].startswith("older")  # newest first
    assert any("unreadable" in c for r in rows for c, _ in r)  # broken study.json listed, last
    assert "broken" in texts[-1]
    assert not any("not-a-study" in t for t in texts)
    links = [a["href"] for t, a in p.tags if t == "a"]
    assert links[:2] == [
        "%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E%20%22q%22/index.html",
        "older/index.html",
    ]
    assert HOSTILE in p.body_text()  # the hostile study name, as text
    # the CAAR of the first window, read from caar.csv
    c = res.caar("all")
    first = c[c["window"] == res.manifest["parameters"]["car_windows"][0]]["caar"].iloc[0]
    assert _pct(first) in p.body_text()


def test_reports_index_of_an_empty_folder(tmp_path: Path) -> None:
    out = write_reports_index(tmp_path / "empty")
    assert "No study folder" in Page(out.read_text("utf-8")).body_text()


# -------------------------------------------------------------------- PNG export
def test_png_export_is_skipped_without_kaleido(res: StudyResult, tmp_path: Path) -> None:
    reason = png_unavailable_reason()
    if reason is None:
        pytest.skip("kaleido and a browser are installed here; export is exercised elsewhere")
    assert export_png(res, tmp_path / "png") == []
    assert not (tmp_path / "png").exists()


def test_every_figure_is_valid_plotly(monkeypatch: Any) -> None:
    """The figures skip plotly's validation at run time; here every one is validated."""
    import eventstudy as es
    from eventstudy.report import figstyle, render

    monkeypatch.setattr(figstyle, "VALIDATE", True)
    res = es.EventStudy(
        es.read_events().filter(start="2025-04-01", end="2025-06-30"),
        es.load_prices(["^HSI", "^GDAXI"]),
    ).run()
    specs = render.figure_specs(res)
    assert specs
    for spec in specs:
        assert spec["fig"].to_dict()["data"]


def test_universe_scale_report_caps_markets_and_pair_rows(snapshot_study: StudyResult, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Many markets or pairs: per-market charts draw the first markets, the pair table the smallest p."""
    from eventstudy.report import figures, tablerows
    from eventstudy.report.render import figure_specs

    monkeypatch.setattr(figures, "MAX_MARKETS", 2)
    monkeypatch.setattr(tablerows, "MAX_PAIR_ROWS", 50)
    specs = {f["id"]: f for f in figure_specs(snapshot_study)}
    heat = specs["fig-car-heatmap"]["fig"]
    assert len(heat.data[0].x) == 2
    assert "Only the first 2 of the 5 markets are drawn" in specs["fig-car-heatmap"]["caption"]
    assert "Only the first 2" in specs["fig-aar-day"]["caption"]  # its menu of markets
    menu = specs["fig-aar-day"]["fig"].layout.updatemenus[0].buttons
    names = [market_name(s) for s in snapshot_study.symbols]
    labels = [b.label for b in menu]
    assert all(n in labels for n in names[:2]) and not any(n in labels for n in names[2:])
    main = "0:0"
    info = event_info(snapshot_study)
    rows = tablerows.pair_rows(snapshot_study, info, [main], main)
    assert len(rows) == 50
    m = snapshot_study.car_table
    m = m[m["window"] == main]
    cutoff = np.sort(m["p_value"].to_numpy(dtype=float))[49]
    shown = np.array([float(r["p_v"]) for r in rows])
    assert (shown <= float(f"{cutoff:.6g}")).all()
    html = render_report(snapshot_study)
    assert 'id="pairs-capped"' in html and "every pair is in <code>car.csv</code>" in html


def _table_body(html: str, table_id: str) -> str:
    """The ``<tbody>`` of the table ``table_id`` on the page."""
    start = html.index(f'<table id="{table_id}"')
    return html[html.index("<tbody>", start) : html.index("</tbody>", start)]


def test_many_markets_show_the_charts_markets_everywhere_market_by_market(  # type: ignore[no-untyped-def]
    snapshot_study: StudyResult, monkeypatch
) -> None:
    """Beyond ``MAX_MARKETS``: market cards, the market table, the tests by market and the
    event cards hold the markets the charts draw (the first in the study's order), with notes
    that send the reader to the CSV files; below it nothing is left out and no note shows."""
    from eventstudy.report import figures

    res = snapshot_study
    names = [market_name(s) for s in res.symbols]
    assert len(names) == 5
    full = render_report(res)
    for note in ('id="markets-capped"', 'id="tests-markets-capped"', "event-more"):
        assert note not in full
    assert full.count('<div class="card" id="market-') == 5
    assert _table_body(full, "table-markets").count("<tr>") == 5
    monkeypatch.setattr(figures, "MAX_MARKETS", 2)
    html = render_report(res)
    shown, hidden = names[:2], names[2:]
    assert "The first 2 of the 5 markets" in html and "By market: the first 2 of the 5 markets" in html
    assert html.count('<div class="card" id="market-') == 2
    body = _table_body(html, "table-markets")
    assert body.count("<tr>") == 2 and all(n in body for n in shown)
    assert not any(n in body for n in hidden)
    tests = _table_body(html, "table-tests-market")
    assert all(n in tests for n in shown) and not any(n in tests for n in hidden)
    # every event card: rows of the shown markets only, and the count of the others
    car = res.car_table[res.car_table["window"] == format_window(res.config.car_windows[0])]
    per_event = car.groupby("event_id")["symbol"].agg(list)
    cards = re.findall(r'<article class="event-card"[^>]*data-event="([^"]+)"(.*?)</article>', html, re.S)
    assert len(cards) == len(event_info(res).table)
    more = 0
    for eid, body in cards:
        syms = per_event.get(eid, [])
        mine = [market_name(s) for s in syms if s in res.symbols[:2]]
        rows = re.findall(r"<tr><td>([^<]*)</td>", body)
        assert sorted(rows) == sorted(mine)
        n_more = len(syms) - len(mine)
        if n_more:
            more += 1
            assert f"And {n_more} more market" in body and "beyond the first 2 shown" in body
        else:
            assert "event-more" not in body
    assert more > 0


def test_event_card_of_markets_beyond_those_shown_says_so(snapshot_study: StudyResult) -> None:
    """An event whose markets are all beyond the ones shown: no table, the count and car.csv."""
    from eventstudy.report.cards import event_cards
    from eventstudy.report.render import ENV

    res = snapshot_study
    info = event_info(res)
    car = res.car_table[res.car_table["window"] == format_window(res.config.car_windows[0])]
    per_event = car.groupby("event_id")["symbol"].size()
    cards = event_cards(res, info, [])
    assert all(c["rows"] == [] for c in cards)
    assert {c["event_id"]: c["more"] for c in cards if c["more"]} == per_event.to_dict()
    card = next(c for c in cards if c["more"] > 1)
    page = ENV.get_template("event.html.j2").render(
        cards=[{**card, "shown": True}], markets=["a", "b"], windows=["0:0"]
    )
    assert f"{card['more']} markets have this event, none among the first 2 shown" in page
    assert "<table" not in page and "No market of this study has this event" not in page


def test_group_sentences_only_for_groups_significant_after_bh(snapshot_study: StudyResult) -> None:
    """A direction or category sentence appears exactly when the headline test's
    Benjamini–Hochberg adjusted p (tests.csv, within that grouping) is below 0.05."""
    from eventstudy.report.headlines import group_sentences
    from eventstudy.report.views import Lookup

    res = snapshot_study
    main = res.config.car_windows[0]
    t = res.tests_table
    rows = t[
        (t["test"] == "cluster_t")
        & (t["window"] == res.main_window)
        & t["group_by"].isin(["direction", "category"])
    ]
    expected = rows[rows["p_bh"] < 0.05]
    sentences = [str(s) for s in group_sentences(Lookup.of(res), main)]
    assert len(sentences) == len(expected)
    for s, p_bh in zip(sentences, expected["p_bh"], strict=True):
        assert "Benjamini–Hochberg adjusted" in s and "cluster_t" in s
        assert p_bh < 0.05
    # the raw p of a dropped group can be below 0.05: selection alone makes no sentence
    assert len(rows[rows["p_value"] < 0.05]) >= len(expected)

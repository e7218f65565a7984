"""The researcher's library: short views, DataFrame inputs, every window form."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import EVENTS_CSV, Synthetic, build_synthetic
from hypothesis import given
from hypothesis import strategies as st

import eventstudy as es
from eventstudy.frames import events_from_frame, prices_from_frame


@pytest.fixture(scope="module")
def syn() -> Synthetic:
    return build_synthetic(seed=7, n_events=8)


@pytest.fixture(scope="module")
def res(syn: Synthetic) -> es.StudyResult:
    return es.EventStudy(syn.events, syn.prices, model="market", benchmark=syn.benchmark, draws=99).run()


# ------------------------------------------------------------------ views
def test_result_repr_is_short_and_quotes_the_headline(res: es.StudyResult) -> None:
    text = repr(res)
    lines = text.splitlines()
    assert 3 <= len(lines) <= 6
    assert len(text) < 1200
    assert "cluster_t" in text and "window 0:0" in text
    h = res.headline
    assert f"{h['n_pairs']} pairs in {h['n_clusters']} independent clusters" in text
    assert "not saved" in text
    # no raw dumps: no DataFrame text, no dataclass field listing
    assert "abnormal_returns_table" not in text and "DataFrame" not in text and "event_id" not in text


def test_result_html_shows_headline_caar_table_and_outputs(res: es.StudyResult, tmp_path: Path) -> None:
    page = res._repr_html_()
    assert len(page) < 8000
    assert "cluster_t" in page and "<table" in page
    for w in res.car_windows:
        assert f"<td>{w}</td>" in page
    h = res.headlines("all", res.main_window).iloc[0]
    assert f"{100 * h['estimate']:+.2f}" in page
    assert f"<td>{int(h['n_clusters'])}</td>" in page
    assert "not saved" in page
    out = res.save(tmp_path / "study")
    assert str(out) in res._repr_html_() and str(out) in repr(res)
    loaded = es.StudyResult.load(out)
    assert str(out) in repr(loaded)


def test_events_and_prices_views_are_short(syn: Synthetic) -> None:
    ev = es.read_events(EVENTS_CSV)
    text = repr(ev)
    assert text.count("\n") <= 3 and len(text) < 700
    assert "80 from" in text and "tariff_escalation" in text
    page = ev._repr_html_()
    assert page.count("<tr>") <= 10  # header + a few first and last rows
    assert "more rows" in page
    snap = es.load_prices(source="snapshot")
    text = repr(snap)
    assert text.count("\n") <= 6 and len(text) < 700
    assert f"{len(snap.symbols)} symbols" in text and "more" in text
    assert "<table" in snap._repr_html_()
    assert "AAA" in repr(syn.prices)


# --------------------------------------------------------- DataFrame inputs
def _tables_equal(a: es.StudyResult, b: es.StudyResult) -> None:
    for name, ta in a.tables().items():
        tb = b.tables()[name]
        pd.testing.assert_frame_equal(ta, tb, check_exact=True, obj=name)


@pytest.fixture(scope="module")
def price_file(tmp_path_factory: pytest.TempPathFactory, syn: Synthetic) -> Path:
    p = tmp_path_factory.mktemp("prices") / "prices.csv"
    syn.prices.wide().to_csv(p, index_label="date", float_format="%.10g")
    return p


def test_dataframes_give_the_file_results_to_the_last_digit(syn: Synthetic, price_file: Path) -> None:
    ev_path = price_file.parent / "events.csv"
    ev_path.write_text(syn.events.to_csv(), encoding="utf-8")
    kw = dict(model="market", benchmark=syn.benchmark, draws=99)
    from_files = es.EventStudy(
        es.read_events(ev_path), es.load_prices(source="csv", path=price_file), **kw
    ).run()
    wide = pd.read_csv(price_file, index_col="date", parse_dates=True)
    long = wide.stack().rename("close").rename_axis(["date", "symbol"]).reset_index()
    for events_df, prices_df in (
        (pd.read_csv(ev_path), wide),
        (pd.read_csv(ev_path, dtype=str, keep_default_na=False), long),
    ):
        from_frames = es.EventStudy(events_df, prices_df, **kw).run()
        _tables_equal(from_files, from_frames)
        assert from_frames.headline == from_files.headline


def test_curated_events_frame_equals_the_file() -> None:
    ev = es.read_events(EVENTS_CSV)
    for df in (pd.read_csv(EVENTS_CSV), pd.read_csv(EVENTS_CSV, dtype=str, keep_default_na=False)):
        pd.testing.assert_frame_equal(events_from_frame(df).table, ev.table)
    by_id = pd.read_csv(EVENTS_CSV).set_index("event_id")
    assert events_from_frame(by_id).ids == ev.ids
    pd.testing.assert_frame_equal(events_from_frame(ev.table).table, ev.table)  # Events.table back in


def test_events_frame_errors_name_the_row_and_column() -> None:
    df = pd.read_csv(EVENTS_CSV).iloc[:5].set_axis(["a", "b", "c", "d", "e"])
    bad = df.assign(timestamp=df["timestamp"].where(df.index != "c", "2019"))
    with pytest.raises(es.EventsFileError, match=r"^events DataFrame, row c, column 'timestamp': '2019'"):
        events_from_frame(bad)
    with pytest.raises(es.EventsFileError, match=r"row e, column 'event_id': duplicate .*first in row a"):
        events_from_frame(df.assign(event_id=[*df["event_id"][:4], df["event_id"].iloc[0]]))
    with pytest.raises(es.EventsFileError, match=r"row a, column 'timestamp': .*has no time zone"):
        events_from_frame(df.assign(timestamp=pd.Timestamp("2020-01-01")))
    with pytest.raises(es.EventsFileError, match=r"unknown column 'catgory': did you mean 'category'"):
        events_from_frame(df.assign(catgory="talks"))  # a typo of a standard column
    assert events_from_frame(df.assign(colour="red")).extra_columns == ["colour"]  # an extra column is kept
    with pytest.raises(es.InputError, match=r"^events: pass an Events object"):
        es.EventStudy([1, 2], es.load_prices(["^HSI"]))  # type: ignore[arg-type]


def test_events_frame_typed_cells() -> None:
    recs = pd.DataFrame(
        {
            "event_id": ["a", "b", "c"],
            "timestamp": [
                dt.date(2020, 1, 6),
                pd.Timestamp("2020-01-07 03:00", tz="Asia/Shanghai"),
                "2020-01-08",
            ],
            "title": ["A", "B", "C"],
            "direction": [1.0, np.nan, -1.0],
        }
    )
    ev = events_from_frame(recs)
    assert list(ev.table["timing"]) == ["date", "instant", "date"]
    assert list(ev.table["direction"]) == [1, 0, -1]
    assert ev.table["start_utc"].iloc[1] == pd.Timestamp("2020-01-06 19:00", tz="UTC")


def test_prices_frame_errors_name_the_row_and_column(syn: Synthetic) -> None:
    wide = syn.prices.wide()
    bad = wide.copy()
    bad.iloc[5, 1] = -2.0
    day = wide.index[5].date()
    with pytest.raises(es.PricesError, match=rf"row {day}, column 'BBB': price -2.0 is not positive"):
        prices_from_frame(bad)
    with pytest.raises(es.PricesError, match="no dates"):
        prices_from_frame(wide.reset_index(drop=True))
    long = pd.DataFrame({"date": ["2020-01-02", "2020-01-02"], "symbol": ["X", "X"], "close": [1.0, 2.0]})
    with pytest.raises(es.PricesError, match=r"row 1, column 'close': duplicate date 2020-01-02 for X"):
        prices_from_frame(long)
    with pytest.raises(es.PricesError, match=r"row 0, column 'close': 'abc' is not a number"):
        prices_from_frame(long.assign(close=["abc", "1"]))


# ------------------------------------------------------------------ windows
WINDOW_FORMS = [(-1, 1), [-1, 1], "-1:1", "-1:+1", " -1 : +1 ", (np.int64(-1), np.int64(1))]


@pytest.mark.parametrize("form", WINDOW_FORMS, ids=repr)
def test_every_window_form_selects_the_same_rows(res: es.StudyResult, form: object) -> None:
    ref = res.car("-1:+1")
    assert set(ref["window"]) == {"-1:+1"}
    pd.testing.assert_frame_equal(res.car(form), ref)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(
        res.tests(window=form), res.tests()[lambda t: t["window"] == "-1:+1"].reset_index(drop=True)
    )  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(
        res.caar("all", form), res.caar("all")[lambda t: t["window"] == "-1:+1"].reset_index(drop=True)
    )  # type: ignore[arg-type]
    h = res.headlines("direction", form)  # type: ignore[arg-type]
    assert set(h["window"]) == {"-1:+1"} and set(h["group_by"]) == {"direction"}
    pd.testing.assert_frame_equal(res.cross_section(form), res.cross_section("-1:+1"))  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(res.placebo(form), res.placebo("-1:+1"))  # type: ignore[arg-type]


def test_single_day_windows_and_bad_windows(res: es.StudyResult) -> None:
    assert set(res.tests("all", (2, 2))["window"]) == {"+2:+2"}
    with pytest.raises(es.InputError, match=r"^window: '-3:\+3' is not a window of this study"):
        res.car("-3:3")
    with pytest.raises(es.InputError, match=r"^window: '\+2:\+2' is not a window"):
        res.car((2, 2))  # a day of the event window, but not a CAR window
    with pytest.raises(es.InputError, match="starts after it ends"):
        res.car("1:-1")
    with pytest.raises(es.InputError, match=r"^by: 'colour' is not a grouping"):
        res.caar("colour")


@given(a=st.integers(-10, 10), b=st.integers(-10, 10))
def test_window_text_and_pair_agree(a: int, b: int) -> None:
    lo, hi = min(a, b), max(a, b)
    text = f"{lo}:{'+' if hi > 0 else ''}{hi}"
    assert es.parse_window(text) == es.parse_window((lo, hi)) == es.parse_window(f"{lo}:{hi}") == (lo, hi)
    assert es.parse_window(es.format_window((lo, hi))) == (lo, hi)


def test_cross_section_is_a_dataframe_with_the_model_reachable(res: es.StudyResult) -> None:
    coefs = res.cross_section()
    assert isinstance(coefs, pd.DataFrame)
    assert list(coefs.columns) == ["term", "coef", "se", "t", "p", "ci_low", "ci_high"]
    model = res.cross_section_model()
    pd.testing.assert_frame_equal(coefs, model.coefficients)
    assert coefs.attrs["n_clusters"] == model.n_clusters and coefs.attrs["window"] == res.main_window
    assert model.answer.text


# ------------------------------------------------------- publication tables
def _hand_headlines() -> pd.DataFrame:
    rows = [
        # group_by, group, window, estimate, statistic, p_value, n_clusters, n_pairs
        ("direction", "+1", "0:0", 0.0123, 2.71, 0.008, 12, 40),
        ("direction", "-1", "0:0", -0.00456, -2.02, 0.049, 9, 30),
        ("direction", "0", "0:0", 0.001, np.nan, np.nan, 1, 5),
        ("direction", "+1", "-1:+1", 0.0005, 0.31, 0.76, 11, 40),
        ("direction", "-1", "-1:+1", -0.0201, -1.80, 0.081, 8, 30),
        ("direction", "0", "-1:+1", -0.004, np.nan, np.nan, 1, 5),
        ("direction", "+1", "0:+1", 0.9, 9.0, 0.0, 12, 40),  # a window not asked for
        ("all", "all", "0:0", 0.0123, 2.71, 0.008, 12, 40),
    ]
    cols = ["group_by", "group", "window", "estimate", "statistic", "p_value", "n_clusters", "n_pairs"]
    return pd.DataFrame(rows, columns=cols)


def test_caar_frame_against_a_hand_written_table() -> None:
    from eventstudy.tables import caar_frame

    got = caar_frame(_hand_headlines(), "direction", ["0:0", "-1:+1"])
    expected = pd.DataFrame(
        [
            ["1.23***", "-0.46**", "0.10"],
            ["(2.71)", "(-2.02)", "n/a"],
            ["12 / 40", "9 / 30", "1 / 5"],
            ["0.05", "-2.01*", "-0.40"],
            ["(0.31)", "(-1.80)", "n/a"],
            ["11 / 40", "8 / 30", "1 / 5"],
        ],
        index=pd.MultiIndex.from_tuples(
            [(w, s) for w in ("0:0", "-1:+1") for s in ("CAAR (%)", "t", "G / N")], names=["Window", ""]
        ),
        columns=["De-escalation (+1)", "Escalation (-1)", "Unclear (0)"],
    )
    pd.testing.assert_frame_equal(got, expected)


def test_markdown_and_latex_against_hand_written_text() -> None:
    from eventstudy.tables import caar_frame, frame_latex, frame_markdown

    frame = caar_frame(_hand_headlines(), "all", ["0:0"])
    md = frame_markdown(frame, "Table 1")
    expected_md = (
        "**Table 1**\n"
        "\n"
        "| Window   |          |   All pairs |\n"
        "|:---------|:---------|------------:|\n"
        "| 0:0      | CAAR (%) |     1.23*** |\n"
        "|          | t        |      (2.71) |\n"
        "|          | G / N    |     12 / 40 |\n"
        "\n"
        "CAAR in percent (average of the cluster mean CARs); t statistics in parentheses: cluster_t"
    )
    assert md.startswith(expected_md)
    assert r"\* p < 0.10, \*\* p < 0.05, \*\*\* p < 0.01" in md
    tex = frame_latex(caar_frame(_hand_headlines(), "direction", ["0:0"]), "Table 2", "tab:two")
    expected_tex = (
        "\\begin{table}[htbp]\n"
        "\\centering\n"
        "\\caption{Table 2}\n"
        "\\label{tab:two}\n"
        "\\begin{tabular}{llrrr}\n"
        "\\toprule\n"
        "Window &  & De-escalation (+1) & Escalation (-1) & Unclear (0) \\\\\n"
        "\\midrule\n"
        "0:0 & CAAR (\\%) & 1.23*** & $-$0.46** & 0.10 \\\\\n"
        " & t & (2.71) & ($-$2.02) & n/a \\\\\n"
        " & G / N & 12 / 40 & 9 / 30 & 1 / 5 \\\\\n"
        "\\bottomrule\n"
        "\\end{tabular}\n"
        "\\par\\smallskip\\footnotesize CAAR in percent (average of the cluster mean CARs); t statistics in "
        "parentheses: cluster\\_t"
    )
    assert tex.startswith(expected_tex)
    assert tex.rstrip().endswith("\\end{table}")


def test_result_tables_quote_the_dependence_robust_test(res: es.StudyResult, tmp_path: Path) -> None:
    md = res.to_markdown("direction", windows=[(-1, 1)])
    frame = res.publication_table("direction", ["-1:+1"])
    cr2 = res.tests("direction", "-1:+1").set_index("test").loc["cluster_t"].set_index("group")
    head = res.headlines("direction", "-1:+1").set_index("group")
    titles = {"+1": "De-escalation (+1)", "-1": "Escalation (-1)", "0": "Unclear (0)"}
    for g, title in titles.items():
        if g not in head.index:
            continue
        col = frame[title]
        t, p = cr2.loc[g, "statistic"], cr2.loc[g, "p_value"]
        if np.isfinite(t):
            assert col[("-1:+1", "t")] == f"({t:.2f})"
            assert col[("-1:+1", "CAAR (%)")] == f"{100 * head.loc[g, 'estimate']:.2f}" + es.results.stars(p)
        else:
            assert col[("-1:+1", "t")] == "n/a"
        assert col[("-1:+1", "G / N")] == f"{int(cr2.loc[g, 'n'])} / {int(head.loc[g, 'n_pairs'])}"
    assert "cluster_t" in md and "csect_t" not in md
    assert res.to_latex().count("\\begin{tabular}") == 1
    with pytest.raises(es.InputError, match=r"^by: 'size' is not a grouping"):
        res.to_latex(by="size")
    out = res.save(tmp_path / "s")
    tex, mdf = (out / "tables.tex").read_text("utf-8"), (out / "tables.md").read_text("utf-8")
    assert res.to_markdown() in mdf and res.to_markdown("direction") in mdf
    assert res.to_latex("market") in tex and tex.count("\\begin{table}") == 4


def test_package_is_typed_and_named_apart_from_the_other_eventstudy() -> None:
    import tomllib

    from eventstudy.manifest import DISTRIBUTION

    assert (Path(es.__file__).parent / "py.typed").is_file()
    meta = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text("utf-8"))
    assert meta["project"]["name"] == DISTRIBUTION == "eventstudy-toolkit"
    assert meta["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["eventstudy"]
    assert any(d.startswith("tabulate") for d in meta["project"]["dependencies"])


def test_tests_carry_the_caar(res: es.StudyResult) -> None:
    t = res.tests("direction", "0:0")
    c = res.caar("direction", "0:0").set_index("group")["caar"]
    assert len(t) and (t["caar"].to_numpy() == c.loc[t["group"]].to_numpy()).all()
    assert "caar" not in res.tables()["tests.csv"].columns  # the file keeps its columns


def test_event_dummies_is_a_dataframe(res: es.StudyResult) -> None:
    d = res.event_dummies((-1, 1))
    assert isinstance(d, pd.DataFrame) and len(d)
    pd.testing.assert_frame_equal(d, res.event_dummies_model("-1:+1").cars)
    pd.testing.assert_frame_equal(d, res.event_dummies("-1:1"))


@given(
    data=st.lists(
        st.lists(st.one_of(st.none(), st.floats(1e-3, 1e6)), min_size=3, max_size=3), min_size=1, max_size=30
    )
)
def test_wide_and_long_frames_give_the_same_prices(data: list[list[float | None]]) -> None:
    wide = pd.DataFrame(data, columns=["A", "B", "C"], dtype="float64")
    wide.index = pd.bdate_range("2020-01-01", periods=len(wide))
    if wide.isna().all().any():  # a symbol without any price is an error either way
        with pytest.raises(es.PricesError, match="no prices for"):
            prices_from_frame(wide)
        return
    a = prices_from_frame(wide)
    long = wide.rename_axis("date").stack().rename("close").rename_axis(["date", "symbol"]).reset_index()
    b = prices_from_frame(long.sample(frac=1.0, random_state=0))  # row order does not matter
    assert a.symbols == ["A", "B", "C"] and sorted(b.symbols) == a.symbols
    for s in a.symbols:
        pd.testing.assert_series_equal(a[s], b[s], check_exact=True, check_freq=False)
        assert a[s].index.is_monotonic_increasing and a[s].notna().all()
    assert a.sha256() == b.sha256()

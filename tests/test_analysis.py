"""Tests of eventstudy.analysis: multiple testing, cross-sectional regression, event dummies.

Every expected value is computed here independently of the code under test:
hand-derived Holm/BH numbers, statsmodels' ``multipletests`` per family, numpy
least squares with a hand-written cluster-robust (CRV1) sandwich, and for the
event-dummy regression the OLS fitted without the event days (Karafiath 1988)
plus a hand-written Newey–West sandwich.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from property_helpers import multipletests_p
from scipy import stats

from eventstudy.analysis import (
    adjust,
    adjust_car_table,
    adjust_tests_table,
    adjust_within,
    cross_section,
    cross_section_tables,
    cross_sections,
    event_dummy_regression,
    event_dummy_regressions,
    newey_west_maxlags,
)
from eventstudy.errors import InputError

# ======================================================================= multitest


def test_holm_bh_hand_computed():
    # sorted finite p: 0.005, 0.01, 0.03, 0.04 (m = 4; the NaN is not counted)
    # Holm: 4·0.005=0.02, 3·0.01=0.03, 2·0.03=0.06, 1·0.04=0.04 → running max 0.02, 0.03, 0.06, 0.06
    # BH:   0.005·4/1=0.02, 0.01·4/2=0.02, 0.03·4/3=0.04, 0.04·4/4=0.04 → running min from top: same
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    out = adjust(p)
    assert list(out.columns) == ["holm", "fdr_bh"]
    np.testing.assert_allclose(out["holm"], [0.03, 0.06, 0.06, 0.02, np.nan])
    np.testing.assert_allclose(out["fdr_bh"], [0.02, 0.04, 0.04, 0.02, np.nan])


def test_adjust_caps_at_one_and_keeps_series_index():
    s = pd.Series([0.5, 0.6, np.nan, 0.7], index=list("abcd"))
    out = adjust(s)
    assert list(out.index) == list("abcd")
    # Holm: 3·0.5=1.5→1, 2·0.6=1.2→1, 0.7 → running max → 1, 1, 1
    np.testing.assert_allclose(out["holm"], [1.0, 1.0, np.nan, 1.0])
    # BH: 0.5·3/1=1.5, 0.6·3/2=0.9, 0.7 → min from top: 0.7, 0.7, 0.7
    np.testing.assert_allclose(out["fdr_bh"], [0.7, 0.7, np.nan, 0.7])


def test_adjust_all_nan_and_empty():
    out = adjust([np.nan, np.nan])
    assert out.isna().all().all()
    assert len(adjust([])) == 0


def test_adjust_rejects_bad_input():
    with pytest.raises(InputError, match="p_values"):
        adjust([0.1, 1.2])
    with pytest.raises(InputError, match="p_values"):
        adjust([-0.1])
    with pytest.raises(InputError, match="methods"):
        adjust([0.1, 0.2], methods=["nope"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.just(np.nan), st.sampled_from([0.0, 0.02, 1.0]), st.floats(0, 1)), max_size=30))
def test_adjust_equals_multipletests_on_finite_values(p):
    p = np.asarray(p, dtype=float)
    out = adjust(p)
    ok = np.isfinite(p)
    assert out.isna().to_numpy()[~ok].all()
    if ok.any():
        np.testing.assert_allclose(
            out["holm"].to_numpy()[ok], multipletests_p(p[ok], "holm"), rtol=1e-12, atol=1e-300
        )  # subnormal p-values round differently
        np.testing.assert_allclose(
            out["fdr_bh"].to_numpy()[ok], multipletests_p(p[ok], "fdr_bh"), rtol=1e-12, atol=1e-300
        )


def _reference_within(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per-family multipletests on the finite values, written independently."""
    holm = np.full(len(df), np.nan)
    bh = np.full(len(df), np.nan)
    for _, g in df.groupby(by, sort=False):
        pos = df.index.get_indexer(g.index)
        p = g["p_value"].to_numpy()
        ok = np.isfinite(p)
        if ok.any():
            holm[pos[ok]] = multipletests_p(p[ok], "holm")
            bh[pos[ok]] = multipletests_p(p[ok], "fdr_bh")
    return pd.DataFrame({"p_holm": holm, "p_bh": bh}, index=df.index)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(["0:0", "-1:+1"]),
            st.one_of(st.just(np.nan), st.sampled_from([0.0, 0.01, 0.05, 1.0]), st.floats(0, 1)),
        ),
        min_size=0,
        max_size=40,
    )
)
def test_grouped_adjustment_equals_multipletests_per_family(rows):
    df = pd.DataFrame(rows, columns=["group", "window", "p_value"]).astype({"p_value": float})
    got = adjust_within(df, by=["group", "window"])
    ref = _reference_within(df, ["group", "window"])
    np.testing.assert_allclose(got["p_holm"], ref["p_holm"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got["p_bh"], ref["p_bh"], rtol=1e-12, atol=1e-15)
    p = df["p_value"].to_numpy()
    ok = np.isfinite(p)
    # invariants: raw ≤ BH ≤ Holm ≤ 1, NaN stays NaN
    assert np.all(got["p_bh"].to_numpy()[ok] >= p[ok] - 1e-15)
    assert np.all(got["p_holm"].to_numpy()[ok] >= got["p_bh"].to_numpy()[ok] - 1e-15)
    assert np.all(got["p_holm"].to_numpy()[ok] <= 1.0)
    assert got["p_holm"].isna().to_numpy()[~ok].all()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.randoms(use_true_random=False))
def test_adjustment_is_permutation_equivariant(p, rnd):
    perm = list(range(len(p)))
    rnd.shuffle(perm)
    a = adjust(p)
    b = adjust([p[i] for i in perm])
    np.testing.assert_allclose(b.to_numpy(), a.to_numpy()[perm])


def test_adjust_car_table_families_are_windows():
    car = pd.DataFrame(
        {
            "event_id": ["e1", "e1", "e2", "e2", "e3", "e3"],
            "symbol": "^HSI",
            "window": ["0:0", "-1:+1"] * 3,
            "p_value": [0.01, 0.2, 0.02, np.nan, 0.03, 0.04],
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    out = adjust_car_table(car)
    assert list(out.index) == list(car.index)
    assert list(out.columns) == [*car.columns, "p_holm", "p_bh"]
    # window 0:0: p = 0.01, 0.02, 0.03 → Holm 0.03, 0.04, 0.04 ; BH 0.03, 0.03, 0.03
    np.testing.assert_allclose(out.loc[[10, 12, 14], "p_holm"], [0.03, 0.04, 0.04])
    np.testing.assert_allclose(out.loc[[10, 12, 14], "p_bh"], [0.03, 0.03, 0.03])
    # window -1:+1: p = 0.2, NaN, 0.04 (m = 2) → Holm 0.2, NaN, 0.08 ; BH 0.2, NaN, 0.08
    np.testing.assert_allclose(out.loc[[11, 13, 15], "p_holm"], [0.2, np.nan, 0.08])
    np.testing.assert_allclose(out.loc[[11, 13, 15], "p_bh"], [0.2, np.nan, 0.08])
    assert "p_holm" not in car.columns  # input untouched


def test_adjust_tests_table_families():
    rng = np.random.default_rng(1)
    rows = []
    for gb, groups in [("all", ["all"]), ("event", ["e1", "e2", "e3", "e4"]), ("market", ["A", "B"])]:
        for w in ["0:0", "-1:+1"]:
            for test in ["csect_t", "bmp_t"]:
                for g in groups:
                    rows.append((gb, g, w, test, 1.0, rng.uniform(), 10, ""))
    tests = pd.DataFrame(
        rows, columns=["group_by", "group", "window", "test", "statistic", "p_value", "n", "note"]
    )
    out = adjust_tests_table(tests)
    ref = _reference_within(tests, ["group_by", "window", "test"])
    np.testing.assert_allclose(out["p_holm"], ref["p_holm"])
    np.testing.assert_allclose(out["p_bh"], ref["p_bh"])
    alls = out["group_by"] == "all"
    np.testing.assert_allclose(out.loc[alls, "p_holm"], out.loc[alls, "p_value"])


def test_adjust_within_other_method_and_errors():
    df = pd.DataFrame({"w": ["a", "a", "b"], "p_value": [0.01, 0.02, 0.3]})
    out = adjust_within(df, by=["w"], columns={"bonferroni": "p_bonf"})
    np.testing.assert_allclose(out["p_bonf"], [0.02, 0.04, 0.3])
    with pytest.raises(InputError, match="missing"):
        adjust_within(df, by=["nope"])
    with pytest.raises(InputError, match="p_value"):
        adjust_within(pd.DataFrame({"w": ["a"], "p_value": [2.0]}), by=["w"])


# ==================================================================== cross-section

CATS = {
    -1: ["tariff_escalation", "retaliation", "statement"],
    1: ["truce", "talks", "statement"],
    0: ["other"],
}
MARKETS = ["^HSI", "^GDAXI", "^FTSE"]


def _panel(n_events: int = 30, seed: int = 0, effect: float = -0.01):
    """Synthetic events and CARs with an event-level shock (clustered errors)."""
    rng = np.random.default_rng(seed)
    dirs = rng.choice([-1, 1, 1, -1, 0], size=n_events)
    dirs[:2] = [-1, 1]
    cats = [CATS[int(d)][rng.integers(len(CATS[int(d)]))] for d in dirs]
    ev = pd.DataFrame(
        {"event_id": [f"e{i:02d}" for i in range(n_events)], "category": cats, "direction": dirs}
    )
    rows = []
    for _, e in ev.iterrows():
        shock = rng.normal(0, 0.01)
        for j, m in enumerate(MARKETS):
            for w, scale in [("0:0", 1.0), ("-1:+1", 1.5)]:
                car = scale * (effect * (e["direction"] == -1) + 0.002 * j + shock + rng.normal(0, 0.005))
                rows.append((e["event_id"], m, w, car))
    car = pd.DataFrame(rows, columns=["event_id", "symbol", "window", "car"])
    return car, ev


def _hand_cluster(y, X, groups):
    """OLS by lstsq and the CRV1 sandwich written from the formula.

    V = G/(G−1) · (N−1)/(N−K) · (X'X)⁻¹ [Σ_g (X_g'u_g)(X_g'u_g)'] (X'X)⁻¹ — the
    small-sample factor statsmodels applies with use_correction=True (as Stata's
    vce(cluster)); inference t(G − 1).
    """
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    u = y - X @ b
    N, K = X.shape
    bread = np.linalg.inv(X.T @ X)
    meat = np.zeros((K, K))
    labels = sorted(set(groups))
    for g in labels:
        s = X[groups == g].T @ u[groups == g]
        meat += np.outer(s, s)
    G = len(labels)
    V = G / (G - 1) * (N - 1) / (N - K) * bread @ meat @ bread
    return b, V, G - 1, 1 - (u @ u) / np.sum((y - y.mean()) ** 2)


def _hand_design(data: pd.DataFrame, columns: list[tuple[str, str, object]]) -> np.ndarray:
    """Columns by hand: ('const',), ('direction', level), ('category', level), ('symbol', level)."""
    cols = []
    for kind, col, level in columns:
        if kind == "const":
            cols.append(np.ones(len(data)))
        elif kind == "numeric":
            cols.append(data[col].to_numpy(float))
        else:
            cols.append(np.array([1.0 if v == level else 0.0 for v in data[col]]))
    return np.column_stack(cols)


def test_cross_section_matches_hand_cluster_sandwich():
    car, ev = _panel()
    # drop the mixed category so that category is nested in direction only partly
    res = cross_section(car, ev, window="0:0", terms=("direction", "market"))
    data = car[car["window"] == "0:0"].merge(ev, on="event_id")
    # reference levels: direction +1; market with most obs, ties alphabetical → ^FTSE
    cols = [("const", "", None), ("dummy", "direction", -1), ("dummy", "direction", 0)]
    cols += [("dummy", "symbol", m) for m in ["^GDAXI", "^HSI"]]
    X = _hand_design(data, cols)
    b, V, df, r2 = _hand_cluster(data["car"].to_numpy(), X, data["event_id"].to_numpy())
    se = np.sqrt(np.diag(V))
    t = b / se
    p = 2 * stats.t.sf(np.abs(t), df)
    q = stats.t.ppf(0.975, df)
    tab = res.coefficients
    assert list(tab.columns) == ["term", "coef", "se", "t", "p", "ci_low", "ci_high"]
    assert list(tab["term"]) == ["const", "direction[-1]", "direction[0]", "market[^GDAXI]", "market[^HSI]"]
    np.testing.assert_allclose(tab["coef"], b, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(tab["se"], se, rtol=1e-10)
    np.testing.assert_allclose(tab["t"], t, rtol=1e-10)
    np.testing.assert_allclose(tab["p"], p, rtol=1e-8)
    np.testing.assert_allclose(tab["ci_low"], b - q * se, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(tab["ci_high"], b + q * se, rtol=1e-10, atol=1e-14)
    assert res.n == len(data) and res.n_clusters == ev.shape[0] and res.df == df
    assert res.r2 == pytest.approx(r2, rel=1e-10)
    assert res.reference == {"direction": "+1", "market": "^FTSE"}
    # the answer comes from this very model: escalation − de-escalation = direction[-1]
    a = res.answer
    assert a.difference == pytest.approx(b[1], rel=1e-10)
    assert a.se == pytest.approx(se[1], rel=1e-10)
    assert a.p == pytest.approx(p[1], rel=1e-8)
    assert a.df == df
    assert a.n_escalation == int((ev["direction"] == -1).sum())
    assert a.n_deescalation == int((ev["direction"] == 1).sum())
    assert a.mean_escalation == pytest.approx(data.loc[data["direction"] == -1, "car"].mean())
    assert "escalation news" in a.text and "p = " in a.text


def test_cross_section_full_model_and_answer_model():
    car, ev = _panel(seed=3)
    res = cross_section(car, ev, window="-1:+1")
    data = car[car["window"] == "-1:+1"].merge(ev, on="event_id")
    # full model: category reference is the most frequent category (ties alphabetical)
    counts = data["category"].value_counts()
    ref_cat = sorted(counts[counts == counts.max()].index)[0]
    assert res.reference["category"] == ref_cat
    cats = [c for c in sorted(data["category"].unique()) if c != ref_cat]
    cols = [("const", "", None), ("dummy", "direction", -1), ("dummy", "direction", 0)]
    cols += [("dummy", "category", c) for c in cats]
    cols += [("dummy", "symbol", m) for m in ["^GDAXI", "^HSI"]]
    names = ["const", "direction[-1]", "direction[0]", *[f"category[{c}]" for c in cats]]
    names += ["market[^GDAXI]", "market[^HSI]"]
    X = _hand_design(data, cols)
    # drop collinear columns the same way (greedy in order) by hand
    keep = []
    for j in range(X.shape[1]):
        if np.linalg.matrix_rank(X[:, [*keep, j]]) == len(keep) + 1:
            keep.append(j)
    dropped = [names[j] for j in range(len(names)) if j not in keep]
    assert list(res.dropped) == dropped and len(dropped) > 0  # "other" ≡ direction 0
    b, V, _, _ = _hand_cluster(data["car"].to_numpy(), X[:, keep], data["event_id"].to_numpy())
    np.testing.assert_allclose(res.coefficients["coef"], b, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(res.coefficients["se"], np.sqrt(np.diag(V)), rtol=1e-9)
    assert "single direction" in res.note and "dropped" in res.note
    # the answer is taken from direction + market
    a = res.answer
    assert a.terms == ("direction", "market")
    Xa = _hand_design(data, [cols[0], cols[1], cols[2], cols[-2], cols[-1]])
    ba, Va, _, _ = _hand_cluster(data["car"].to_numpy(), Xa, data["event_id"].to_numpy())
    assert a.difference == pytest.approx(ba[1], rel=1e-9)
    assert a.se == pytest.approx(np.sqrt(Va[1, 1]), rel=1e-9)


def test_cross_section_numeric_direction():
    car, ev = _panel(seed=5)
    res = cross_section(car, ev, window="0:0", terms=("direction",), direction="numeric")
    data = car[car["window"] == "0:0"].merge(ev, on="event_id")
    X = _hand_design(data, [("const", "", None), ("numeric", "direction", None)])
    b, V, df, _ = _hand_cluster(data["car"].to_numpy(), X, data["event_id"].to_numpy())
    assert list(res.coefficients["term"]) == ["const", "direction"]
    a = res.answer
    assert a.difference == pytest.approx(-2 * b[1], rel=1e-10)
    assert a.se == pytest.approx(2 * np.sqrt(V[1, 1]), rel=1e-10)
    assert a.p == pytest.approx(2 * stats.t.sf(abs(b[1] / np.sqrt(V[1, 1])), df), rel=1e-8)


def test_cross_section_detects_a_planted_difference():
    car, ev = _panel(n_events=60, seed=7, effect=-0.03)
    a = cross_section(car, ev, window="0:0", terms=("direction", "market")).answer
    assert a.difference < 0 and a.p < 0.05 and "Yes" in a.text and "lower" in a.text
    car0, ev0 = _panel(n_events=60, seed=7, effect=0.0)
    assert cross_section(car0, ev0, window="0:0").answer.difference > a.difference


def test_cross_section_row_order_invariant():
    car, ev = _panel(seed=11)
    a = cross_section(car, ev, window="0:0")
    b = cross_section(car.sample(frac=1.0, random_state=1), ev.sample(frac=1.0, random_state=2), window="0:0")
    pd.testing.assert_frame_equal(a.coefficients, b.coefficients, rtol=1e-9)
    assert a.answer.p == pytest.approx(b.answer.p, rel=1e-9)


def test_cross_section_degenerate_cases():
    car, ev = _panel(seed=2)
    # single category and single market: no dummies, a note each
    ev1 = ev.assign(category="statement")
    res = cross_section(car[car["symbol"] == "^HSI"], ev1, window="0:0")
    assert not any(t.startswith(("category", "market")) for t in res.coefficients["term"])
    assert "category has a single level" in res.note and "market has a single level" in res.note
    # fewer than 3 clusters: coefficients, NaN standard errors, a note
    two = car[car["event_id"].isin(["e00", "e01"])]
    res = cross_section(two, ev, window="0:0", terms=("direction", "market"))
    assert res.n_clusters == 2
    assert res.coefficients["se"].isna().all() and res.coefficients["coef"].notna().all()
    assert "at least 3" in res.note
    assert np.isnan(res.answer.p) and np.isfinite(res.answer.difference)
    # no de-escalation events: no answer, a clear text
    esc = ev[ev["direction"] == -1]["event_id"]
    res = cross_section(car[car["event_id"].isin(esc)], ev, window="0:0")
    assert np.isnan(res.answer.difference) and "0 de-escalation" in res.answer.text
    # CARs all missing: empty table and a note
    res = cross_section(car.assign(car=np.nan), ev, window="0:0")
    assert res.n == 0 and len(res.coefficients) == 0 and "nothing to regress" in res.note
    # some CARs missing: left out with a note
    c2 = car.copy()
    c2.loc[c2.index[0], "car"] = np.nan
    assert "1 pair(s) without a CAR" in cross_section(c2, ev, window="0:0").note


def test_cross_section_input_errors():
    car, ev = _panel()
    with pytest.raises(InputError, match="window"):
        cross_section(car, ev)  # two windows, none chosen
    with pytest.raises(InputError, match="window"):
        cross_section(car, ev, window="-9:+9")
    with pytest.raises(InputError, match="terms"):
        cross_section(car, ev, window="0:0", terms=("size",))
    with pytest.raises(InputError, match="direction"):
        cross_section(car, ev, window="0:0", direction="ordinal")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no attributes"):
        cross_section(car, ev.iloc[1:], window="0:0")
    with pytest.raises(InputError, match="events"):
        cross_section(car, ev.drop(columns="category"), window="0:0")


def test_cross_sections_and_tables():
    car, ev = _panel()
    res = cross_sections(car, ev)
    assert list(res) == ["0:0", "-1:+1"]
    coefs, answers = cross_section_tables(res)
    assert list(coefs.columns) == [
        "window",
        "term",
        "coef",
        "se",
        "t",
        "p",
        "ci_low",
        "ci_high",
        "n",
        "n_clusters",
        "r2",
        "note",
    ]
    assert list(answers.columns) == [
        "window",
        "difference",
        "se",
        "t",
        "p",
        "df",
        "n_escalation",
        "n_deescalation",
        "n_clusters",
        "mean_escalation",
        "mean_deescalation",
        "terms",
        "text",
    ]
    assert list(answers["window"]) == ["0:0", "-1:+1"]
    assert answers["difference"].iloc[0] == pytest.approx(res["0:0"].answer.difference)


def test_cross_section_accepts_events_object():
    from eventstudy.events import events_from_records

    car, ev = _panel(n_events=6)
    recs = [
        {
            "event_id": r.event_id,
            "timestamp": f"2024-01-{i + 2:02d}",
            "title": "t",
            "category": r.category,
            "direction": int(r.direction),
        }
        for i, r in enumerate(ev.itertuples())
    ]
    events = events_from_records(recs)
    a = cross_section(car, events, window="0:0")
    b = cross_section(car, ev, window="0:0")
    pd.testing.assert_frame_equal(a.coefficients, b.coefficients)


# ======================================================================= dummies


def _series(T: int = 160, seed: int = 0, rho: float = 0.0, bench: bool = True):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2021-01-04", periods=T)
    m = rng.normal(0.0003, 0.01, T)
    eps = np.empty(T)
    eps[0] = rng.normal(0, 0.01)
    for t in range(1, T):
        eps[t] = rho * eps[t - 1] + rng.normal(0, 0.01)
    r = 0.0002 + (0.8 * m if bench else 0.0) + eps
    return pd.Series(r, index=dates), (pd.Series(m, index=dates) if bench else None), dates


def _events(dates):
    return [
        ("a", list(dates[[40, 41, 42]])),
        ("b", list(dates[[42, 43, 44]])),  # shares 42 with a
        ("c", list(dates[[100, 101]])),
    ]


def _full_design(y, b, dates, events):
    """The literal Karafiath design: constant, benchmark, one dummy per distinct event date."""
    ev_dates = sorted({d for _, ds in events for d in ds})
    X = np.ones((len(dates), 1)) if b is None else np.column_stack([np.ones(len(dates)), b.to_numpy()])
    D = np.column_stack([(dates == d).astype(float) for d in ev_dates])
    return np.hstack([X, D]), ev_dates, X.shape[1]


@pytest.mark.parametrize("bench", [True, False])
def test_dummy_coefficients_equal_ar_from_fit_without_event_days(bench):
    y, b, dates = _series(bench=bench)
    events = _events(dates)
    res = event_dummy_regression(y, events, benchmark=b)
    # independent: OLS on the non-event days only (numpy), AR = y_d − x_d'θ
    ev_dates = sorted({d for _, ds in events for d in ds})
    is_ev = dates.isin(ev_dates)
    X = np.ones((len(dates), 1)) if b is None else np.column_stack([np.ones(len(dates)), b.to_numpy()])
    theta, *_ = np.linalg.lstsq(X[~is_ev], y.to_numpy()[~is_ev], rcond=None)
    ar = {d: y.loc[d] - X[dates.get_loc(d)] @ theta for d in ev_dates}
    days = res.days
    assert list(days.columns) == ["event_id", "date", "ar", "se", "t_stat", "p_value", "shared_with"]
    np.testing.assert_allclose(days["ar"], [ar[d] for d in days["date"]], rtol=1e-10, atol=1e-14)
    assert res.alpha == pytest.approx(theta[0], rel=1e-10)
    if bench:
        assert res.beta == pytest.approx(theta[1], rel=1e-10)
    else:
        assert np.isnan(res.beta) and res.alpha == pytest.approx(y[~is_ev].mean(), rel=1e-10)
    # and equals statsmodels OLS on the full dummy design
    Z, zd, k = _full_design(y, b, dates, events)
    full = sm.OLS(y.to_numpy(), Z).fit()
    np.testing.assert_allclose([full.params[k + zd.index(d)] for d in days["date"]], days["ar"], rtol=1e-9)
    # CAR = sum of the event's dummy coefficients (the shared day counted in both)
    cars = res.cars.set_index("event_id")
    for eid, ds in events:
        assert cars.loc[eid, "car"] == pytest.approx(sum(ar[d] for d in ds), rel=1e-10)
        assert cars.loc[eid, "days"] == len(ds)
    assert res.n_obs == len(dates) and res.n_dummies == 7 and res.n_estimation == len(dates) - 7
    assert res.df == len(dates) - 7 - k


def test_dummy_nonrobust_reproduces_classical_and_prediction_error_se():
    y, b, dates = _series(seed=4)
    events = _events(dates)
    res = event_dummy_regression(y, events, benchmark=b, cov_type="nonrobust")
    Z, zd, k = _full_design(y, b, dates, events)
    full = sm.OLS(y.to_numpy(), Z).fit()
    days = res.days
    np.testing.assert_allclose(days["se"], [full.bse[k + zd.index(d)] for d in days["date"]], rtol=1e-9)
    np.testing.assert_allclose(
        days["p_value"], [full.pvalues[k + zd.index(d)] for d in days["date"]], rtol=1e-7
    )
    # CAR se = √(s²(L + 1'X_E(X_N'X_N)⁻¹X_E'1)) (CLM 1997 §4.4; formula sheet 5.2), s² = SSR/(M − 2)
    is_ev = dates.isin(zd)
    X = np.column_stack([np.ones(len(dates)), b.to_numpy()])
    XN, yN = X[~is_ev], y.to_numpy()[~is_ev]
    theta = np.linalg.solve(XN.T @ XN, XN.T @ yN)
    s2 = np.sum((yN - XN @ theta) ** 2) / (len(yN) - 2)
    cars = res.cars.set_index("event_id")
    for eid, ds in events:
        xs = X[[dates.get_loc(d) for d in ds]].sum(axis=0)
        se = np.sqrt(s2 * (len(ds) + xs @ np.linalg.solve(XN.T @ XN, xs)))
        assert cars.loc[eid, "se"] == pytest.approx(se, rel=1e-9)
        t = cars.loc[eid, "car"] / se
        assert cars.loc[eid, "p_value"] == pytest.approx(2 * stats.t.sf(abs(t), len(yN) - 2), rel=1e-8)
    # the contrast through statsmodels' t_test on the full model agrees
    c = np.zeros(Z.shape[1])
    for d in events[0][1]:
        c[k + zd.index(d)] = 1.0
    tt = full.t_test(c[None, :])
    assert cars.loc["a", "se"] == pytest.approx(float(np.asarray(tt.sd).ravel()[0]), rel=1e-9)


def _hand_nw(y, X, is_ev, L):
    """Newey–West by hand on the sample with event rows removed from the scores.

    Returns θ̂, V̂_HAC(θ̂) (Bartlett, no small-sample factor) and the residual
    autocovariances γ̂(j) = Σ e_t e_{t−j}/(M − k), e = 0 on event days.
    """
    T = len(y)
    keep = ~is_ev
    XN, yN = X[keep], y[keep]
    bread = np.linalg.inv(XN.T @ XN)
    theta = bread @ XN.T @ yN
    e = np.where(keep, y - X @ theta, 0.0)
    S = X * e[:, None]
    meat = S.T @ S
    for j in range(1, L + 1):
        w = 1 - j / (L + 1)
        G = S[j:].T @ S[:-j]
        meat += w * (G + G.T)
    V = bread @ meat @ bread
    M, k = keep.sum(), X.shape[1]
    gamma = np.array([sum(e[t] * e[t - j] for t in range(j, T)) for j in range(L + 1)]) / (M - k)
    return theta, V, gamma


def test_dummy_hac_covariance_by_hand_and_plain_sandwich_shortfall():
    y, b, dates = _series(T=200, seed=8, rho=0.4)
    events = _events(dates)
    L = 3
    res = event_dummy_regression(y, events, benchmark=b, maxlags=L)
    assert res.maxlags == L and res.cov_type == "hac"
    ev_dates = sorted({d for _, ds in events for d in ds})
    is_ev = dates.isin(ev_dates)
    X = np.column_stack([np.ones(len(dates)), b.to_numpy()])
    _, Vt, gamma = _hand_nw(y.to_numpy(), X, is_ev, L)
    assert res.alpha_se == pytest.approx(np.sqrt(Vt[0, 0]), rel=1e-9)
    assert res.beta_se == pytest.approx(np.sqrt(Vt[1, 1]), rel=1e-9)
    assert res.sigma == pytest.approx(np.sqrt(gamma[0]), rel=1e-10)

    pos = {d: dates.get_loc(d) for d in ev_dates}

    def cov(d1, d2):
        lag = abs(pos[d1] - pos[d2])
        omega = (1 - lag / (L + 1)) * gamma[lag] if lag <= L else 0.0
        return X[pos[d1]] @ Vt @ X[pos[d2]] + omega

    days = res.days
    np.testing.assert_allclose(days["se"], [np.sqrt(cov(d, d)) for d in days["date"]], rtol=1e-9)
    cars = res.cars.set_index("event_id")
    for eid, ds in events:
        var = sum(cov(d1, d2) for d1 in ds for d2 in ds)
        assert cars.loc[eid, "se"] == pytest.approx(np.sqrt(var), rel=1e-9)
        t = cars.loc[eid, "car"] / np.sqrt(var)
        assert cars.loc[eid, "p_value"] == pytest.approx(2 * stats.t.sf(abs(t), res.df), rel=1e-8)

    # statsmodels' HAC on the literal dummy design: same θ covariance, and its dummy block is only
    # X_E V(θ) X_E' — Var(ε_d) is missing because each dummy's residual is 0 (why we add Ω̂_E)
    Z, zd, k = _full_design(y, b, dates, events)
    full = sm.OLS(y.to_numpy(), Z).fit(cov_type="HAC", cov_kwds={"maxlags": L, "use_correction": False})
    Vf = np.asarray(full.cov_params())
    np.testing.assert_allclose(Vf[:k, :k], Vt, rtol=1e-8)
    XE = X[[pos[d] for d in zd]]
    np.testing.assert_allclose(Vf[k:, k:], XE @ Vt @ XE.T, rtol=1e-7, atol=1e-16)
    assert np.all(np.sqrt(np.diag(Vf[k:, k:])) < 0.5 * res.sigma)  # the plain sandwich understates
    assert np.all(days["se"] > res.sigma)


def test_dummy_shared_days_and_missing_dates():
    y, b, dates = _series(seed=9)
    holiday = pd.Timestamp("2030-01-01")  # not in the sample
    events = [*_events(dates), ("d", [holiday]), ("e", [dates[100], holiday])]
    res = event_dummy_regression(y, events, benchmark=b)
    days = res.days
    row = days[(days["event_id"] == "a") & (days["date"] == dates[42])].iloc[0]
    assert row["shared_with"] == "b"
    row = days[(days["event_id"] == "c") & (days["date"] == dates[100])].iloc[0]
    assert row["shared_with"] == "e"
    cars = res.cars.set_index("event_id")
    assert list(res.cars.columns) == [
        "event_id",
        "car",
        "se",
        "t_stat",
        "p_value",
        "days",
        "missing_days",
        "note",
    ]
    assert "shares 1 day(s) with b" in cars.loc["a", "note"]
    assert (
        np.isnan(cars.loc["d", "car"]) and cars.loc["d", "days"] == 0 and cars.loc["d", "missing_days"] == 1
    )
    assert "no event-window date" in cars.loc["d", "note"]
    assert cars.loc["e", "days"] == 1 and "1 date(s) not in the return sample" in cars.loc["e", "note"]
    assert res.n_dummies == 7 and "2 date(s) fall in the windows of several events" in res.note
    # shared day: a single dummy, identical coefficient in both events' rows
    shared = days[days["date"] == dates[42]]
    assert shared["ar"].nunique() == 1 and len(shared) == 2


def test_dummy_order_of_events_and_nan_returns():
    y, b, dates = _series(seed=10)
    events = _events(dates)
    a = event_dummy_regression(y, events, benchmark=b).cars.set_index("event_id").sort_index()
    # order of the series and of the events does not matter
    r = event_dummy_regression(y.iloc[::-1], events[::-1], benchmark=b)
    pd.testing.assert_frame_equal(r.cars.set_index("event_id").sort_index(), a, rtol=1e-10)
    # a NaN return (or benchmark) leaves the sample, exactly as if the row were absent
    y2 = y.copy()
    y2.iloc[5] = np.nan
    b2 = b.copy()
    b2.iloc[7] = np.nan
    r2 = event_dummy_regression(y2, events, benchmark=b2)
    r3 = event_dummy_regression(y.drop(dates[[5, 7]]), events, benchmark=b.drop(dates[[5, 7]]))
    assert r2.n_obs == len(y) - 2
    pd.testing.assert_frame_equal(r2.cars, r3.cars)


def test_newey_west_rule():
    # ⌊4 (n/100)^{2/9}⌋: n=100 → 4; n=250 → ⌊4·1.2257⌋ = 4; n=1000 → ⌊4·1.6681⌋ = 6; n=2300 → ⌊4·2.0066⌋ = 8
    assert [newey_west_maxlags(n) for n in (100, 250, 1000, 2300)] == [4, 4, 6, 8]
    y, b, dates = _series(T=250)
    assert event_dummy_regression(y, _events(dates), benchmark=b).maxlags == 4
    assert event_dummy_regression(y, _events(dates), cov_type="nonrobust").maxlags == 0


def test_dummy_input_errors():
    y, b, dates = _series(T=12)
    with pytest.raises(InputError, match="non-event"):
        event_dummy_regression(y, [("a", list(dates[:10]))], benchmark=b)
    with pytest.raises(InputError, match="Series"):
        event_dummy_regression(y.to_numpy(), [])  # type: ignore[arg-type]
    with pytest.raises(InputError, match="duplicate"):
        event_dummy_regression(y, [("a", [dates[1]]), ("a", [dates[2]])])
    with pytest.raises(InputError, match="cov_type"):
        event_dummy_regression(y, [], cov_type="HC0")  # type: ignore[arg-type]
    flat = pd.Series(0.01, index=dates)
    with pytest.raises(InputError, match="variation"):
        event_dummy_regression(y, [("a", [dates[1]])], benchmark=flat)


def test_event_dummy_regressions_stacks_markets():
    y1, b, dates = _series(seed=1)
    y2, _, _ = _series(seed=2)
    windows = pd.DataFrame(
        [("a", "X", d) for d in dates[[40, 41, 42]]]
        + [("b", "X", d) for d in dates[[42, 43]]]
        + [("a", "Y", d) for d in dates[[40, 41]]],
        columns=["event_id", "symbol", "date"],
    )
    out = event_dummy_regressions({"X": y1, "Y": y2}, windows, benchmark=b)
    one = event_dummy_regression(y1, [("a", list(dates[[40, 41, 42]])), ("b", list(dates[[42, 43]]))], b)
    got = out.cars[out.cars["symbol"] == "X"].drop(columns="symbol").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, one.cars)
    assert list(out.markets["symbol"]) == ["X", "Y"]
    assert list(out.markets.columns) == [
        "symbol",
        "alpha",
        "beta",
        "n_obs",
        "n_estimation",
        "n_dummies",
        "maxlags",
        "df",
        "sigma",
        "cov_type",
        "note",
    ]
    assert list(out.days.columns) == [
        "symbol",
        "event_id",
        "date",
        "ar",
        "se",
        "t_stat",
        "p_value",
        "shared_with",
    ]
    with pytest.raises(InputError, match="no series"):
        event_dummy_regressions({"X": y1}, windows)


@pytest.mark.parametrize("cov_type", ["hac", "nonrobust"])
@pytest.mark.parametrize("per_market_benchmark", [False, True])
def test_event_dummy_panel_equals_each_market_regression_stacked(cov_type, per_market_benchmark):
    """The stacked tables are each market's own regression with its symbol, concatenated:
    the same values and column types, with shared days, dates outside the sample and NaNs."""
    y1, b, dates = _series(seed=3)
    y2, b2, _ = _series(seed=4)
    y3, _, _ = _series(seed=5)
    y2 = y2.copy()
    y2.iloc[50] = np.nan
    holiday = pd.Timestamp("2030-01-01")
    events = {
        "X": [("a", list(dates[[40, 41, 42]])), ("b", list(dates[[42, 43]])), ("c", [holiday])],
        "Y": [("a", list(dates[[40, 41]])), ("d", [dates[100], holiday])],
        "Z": [("b", list(dates[[42, 43, 44]]))],
    }
    returns = {"X": y1, "Y": y2, "Z": y3}
    bench = {"X": b, "Y": b2, "Z": b} if per_market_benchmark else b
    windows = pd.DataFrame(
        [(eid, sym, d) for sym, evs in events.items() for eid, ds in evs for d in ds],
        columns=["event_id", "symbol", "date"],
    )
    out = event_dummy_regressions(returns, windows, benchmark=bench, cov_type=cov_type)
    days, cars, rows = [], [], []
    for sym, evs in events.items():
        one = event_dummy_regression(
            returns[sym], evs, bench[sym] if isinstance(bench, dict) else bench, cov_type=cov_type
        )
        d, c = one.days, one.cars
        d.insert(0, "symbol", sym)
        c.insert(0, "symbol", sym)
        days.append(d)
        cars.append(c)
        rows.append([sym, one.alpha, one.beta, one.n_obs, one.n_estimation, one.n_dummies])
        rows[-1] += [one.maxlags, one.df, one.sigma, one.cov_type, one.note]
    pd.testing.assert_frame_equal(out.days, pd.concat(days, ignore_index=True), check_exact=True)
    pd.testing.assert_frame_equal(out.cars, pd.concat(cars, ignore_index=True), check_exact=True)
    markets = pd.DataFrame(rows, columns=list(out.markets.columns))
    pd.testing.assert_frame_equal(out.markets, markets, check_exact=True)
    assert (out.days["shared_with"] != "").any() and (out.cars["missing_days"] > 0).any()


def test_cross_section_overlap_clusters():
    car, ev = _panel(n_events=12, seed=13)
    # e01 overlaps e02 in one market, e02 overlaps e03 in another: {e01, e02, e03} is one cluster
    car["overlaps"] = ""
    car.loc[(car["event_id"] == "e01") & (car["symbol"] == "^HSI"), "overlaps"] = "e02"
    car.loc[(car["event_id"] == "e03") & (car["symbol"] == "^FTSE"), "overlaps"] = "e02 e99"
    by_event = cross_section(car, ev, window="0:0", terms=("direction", "market"))
    assert by_event.n_clusters == 12 and by_event.cluster == "event"
    assert "3 event(s) share a window" in by_event.note
    res = cross_section(car, ev, window="0:0", terms=("direction", "market"), cluster="overlap")
    assert res.n_clusters == 10 and res.cluster == "overlap" and res.df == 9
    data = car[car["window"] == "0:0"].merge(ev, on="event_id")
    groups = data["event_id"].replace({"e02": "e01", "e03": "e01"}).to_numpy()
    cols = [("const", "", None), ("dummy", "direction", -1), ("dummy", "direction", 0)]
    cols += [("dummy", "symbol", m) for m in ["^GDAXI", "^HSI"]]
    present = [c for c in cols if c[0] == "const" or (data[c[1]] == c[2]).any()]
    X = _hand_design(data, present)
    b, V, _, _ = _hand_cluster(data["car"].to_numpy(), X, groups)
    np.testing.assert_allclose(res.coefficients["coef"], b, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(res.coefficients["se"], np.sqrt(np.diag(V)), rtol=1e-10)
    with pytest.raises(InputError, match="cluster"):
        cross_section(car, ev, window="0:0", cluster="date")  # type: ignore[arg-type]


def test_collinear_columns_found_in_one_pass_match_the_rank_after_each_column() -> None:
    """_independent keeps exactly the columns that raise the rank, in order (plain loop reference)."""
    from eventstudy.analysis.csfit import independent_columns as _independent

    rng = np.random.default_rng(3)
    n = 60
    a = rng.integers(0, 4, n)
    b = rng.integers(0, 3, n)
    cols = (
        [np.ones(n)] + [(a == k).astype(float) for k in range(4)] + [(b == k).astype(float) for k in range(3)]
    )
    cols.append(cols[1] + 2 * cols[5])  # a combination of earlier columns
    cols.append(rng.standard_normal(n))
    X = np.column_stack(cols)
    expected = []
    kept: list[int] = []
    for j in range(X.shape[1]):
        ok = np.linalg.matrix_rank(X[:, [*kept, j]]) == len(kept) + 1
        expected.append(ok)
        if ok:
            kept.append(j)
    assert _independent(X).tolist() == expected
    assert not all(expected)


def test_cross_section_leaves_market_dummies_out_above_the_limit():
    """More markets than max_market_dummies: the market term is dropped and the note says so."""
    car, ev = _panel()
    n_markets = car["symbol"].nunique()
    capped = cross_section(car, ev, window="0:0", max_market_dummies=n_markets - 1)
    assert "market dummies left out" in capped.note
    assert not capped.coefficients["term"].str.startswith("market[").any()
    plain = cross_section(car, ev, window="0:0", terms=("direction", "category"))
    np.testing.assert_allclose(capped.coefficients["coef"], plain.coefficients["coef"])
    full = cross_section(car, ev, window="0:0", max_market_dummies=None)
    assert full.coefficients["term"].str.startswith("market[").any()


def test_second_stage_clusters_by_dependent_pairs_by_default(snapshot_study) -> None:  # type: ignore[no-untyped-def]
    """direction.csv clusters by car.csv's clusters (§7.1), not by event, and says how many."""
    import statsmodels.api as sm

    res = snapshot_study
    car = res.car("0:0")
    ok = car[np.isfinite(car["car"])]
    g = ok["cluster"].nunique()
    dep = cross_section(car, res.events, window="0:0", terms=("direction",))
    by_event = cross_section(car, res.events, window="0:0", terms=("direction",), cluster="event")
    assert dep.cluster == "dependence" and dep.n_clusters == g
    assert by_event.n_clusters == ok["event_id"].nunique() > g
    assert dep.answer.df == g - 1
    assert f"G = {g}" in dep.answer.text
    # the same regression in plain statsmodels with the clusters as groups
    d = ok.merge(res.events.table[["event_id", "direction"]], on="event_id")
    x = np.column_stack([np.ones(len(d)), d["direction"] == -1, d["direction"] == 0]).astype(float)
    fit = sm.OLS(d["car"].to_numpy(), x).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(d["cluster"])[0]}, use_t=True
    )
    assert dep.answer.difference == pytest.approx(fit.params[1], rel=1e-10)
    assert dep.answer.se == pytest.approx(fit.bse[1], rel=1e-8)

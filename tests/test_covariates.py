"""The user's covariates in the second stage, and the two-group comparison.

Every number is checked against an independent computation: statsmodels OLS
with ``cov_type="cluster"`` on a design built here by hand (same clusters),
the CRV1 sandwich written from the formula, and scipy's rank tests on cluster
means computed here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
import scipy.stats
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from typer.testing import CliRunner

import eventstudy as es
from eventstudy.analysis import compare_groups, covariate_frame, cross_section
from eventstudy.cli import app
from eventstudy.errors import EventsFileError, InputError

MARKETS = ["^HSI", "^GDAXI", "^FTSE"]


def _panel(n_events: int = 30, seed: int = 0, gamma: float = 0.002):
    """Events with a covariate and CARs with an event shock, clusters linking some events."""
    rng = np.random.default_rng(seed)
    dirs = rng.choice([-1, 1, 0], size=n_events)
    dirs[:2] = [-1, 1]
    cats = rng.choice(["talks", "truce", "tariff_escalation"], size=n_events)
    x = rng.lognormal(1.0, 0.7, n_events)
    ev = pd.DataFrame(
        {
            "event_id": [f"e{i:02d}" for i in range(n_events)],
            "category": cats,
            "direction": dirs,
            "surprise": [repr(float(v)) for v in x],  # as text, like a file's cell
        }
    )
    # dependence clusters: consecutive pairs of events share a cluster (overlapping windows)
    cluster = {f"e{i:02d}": f"c{i // 2}" for i in range(n_events)}
    rows = []
    for i, e in ev.iterrows():
        shock = rng.normal(0, 0.01)
        for j, m in enumerate(MARKETS):
            for w in ("0:0", "-1:+1"):
                car = gamma * x[i] + 0.002 * j + shock + rng.normal(0, 0.005)
                rows.append((e["event_id"], m, w, car, cluster[e["event_id"]]))
    car = pd.DataFrame(rows, columns=["event_id", "symbol", "window", "car", "cluster"])
    return car, ev


def _statsmodels(y: np.ndarray, X: np.ndarray, groups: np.ndarray):  # type: ignore[no-untyped-def]
    g = pd.factorize(groups)[0]
    return sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)


def _hand_crv1(y: np.ndarray, X: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    u = y - X @ b
    N, K = X.shape
    bread = np.linalg.inv(X.T @ X)
    meat = np.zeros((K, K))
    labels = sorted(set(groups))
    for lab in labels:
        s = X[groups == lab].T @ u[groups == lab]
        meat += np.outer(s, s)
    G = len(labels)
    return b, G / (G - 1) * (N - 1) / (N - K) * bread @ meat @ bread


def _hand_cr2(y: np.ndarray, X: np.ndarray, groups: np.ndarray, j: int) -> tuple[float, float]:
    """CR2 SE and Bell–McCaffrey dof of coefficient j, written out cluster by cluster with sqrtm."""
    n = len(y)
    M = np.linalg.inv(X.T @ X)
    e = y - X @ (M @ X.T @ y)
    IH = np.eye(n) - X @ M @ X.T
    meat = np.zeros((X.shape[1],) * 2)
    cols = []
    for lab in sorted(set(groups)):
        idx = np.flatnonzero(groups == lab)
        A = np.linalg.pinv(np.real(scipy.linalg.sqrtm(IH[np.ix_(idx, idx)])))
        s = X[idx].T @ A @ e[idx]
        meat += np.outer(s, s)
        cols.append(IH[:, idx] @ A @ X[idx] @ M[:, j])
    Gm = np.column_stack(cols)
    B = Gm.T @ Gm
    return float(np.sqrt((M @ meat @ M)[j, j])), float(np.trace(B) ** 2 / np.sum(B * B))


def test_covariate_regression_matches_statsmodels_cluster() -> None:
    car, ev = _panel()
    res = cross_section(car, ev, window="0:0", terms=("direction", "market"), covariates=["surprise"])
    data = car[car["window"] == "0:0"].merge(ev, on="event_id")
    d = data["direction"].to_numpy()
    X = np.column_stack(
        [
            np.ones(len(data)),
            d == -1,
            d == 0,
            data["symbol"] == "^GDAXI",
            data["symbol"] == "^HSI",
            data["surprise"].astype(float),
        ]
    ).astype(float)
    y = data["car"].to_numpy()
    ref = _statsmodels(y, X, data["cluster"].to_numpy())
    tab = res.coefficients
    assert list(tab["term"]) == [
        "const",
        "direction[-1]",
        "direction[0]",
        "market[^GDAXI]",
        "market[^HSI]",
        "surprise",
    ]
    np.testing.assert_allclose(tab["coef"], ref.params, rtol=1e-10, atol=1e-14)
    # the dummies keep CRV1 with t(G − 1); the covariate gets CR2 with Bell–McCaffrey dof
    np.testing.assert_allclose(tab["se"][:-1], ref.bse[:-1], rtol=1e-10)
    np.testing.assert_allclose(tab["p"][:-1], ref.pvalues[:-1], rtol=1e-8)
    ci = np.asarray(ref.conf_int())
    np.testing.assert_allclose(tab[["ci_low", "ci_high"]].to_numpy()[:-1], ci[:-1], rtol=1e-10, atol=1e-14)
    b, V = _hand_crv1(y, X, data["cluster"].to_numpy())
    np.testing.assert_allclose(tab["coef"], b, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(tab["se"][:-1], np.sqrt(np.diag(V))[:-1], rtol=1e-10)
    se2, nu = _hand_cr2(y, X, data["cluster"].to_numpy(), X.shape[1] - 1)
    last = tab.iloc[-1]
    assert last["se"] == pytest.approx(se2, rel=1e-9)
    assert res.term_df["surprise"] == pytest.approx(nu, rel=1e-9)
    assert last["p"] == pytest.approx(2 * scipy.stats.t.sf(abs(last["coef"] / se2), nu), rel=1e-8)
    q = scipy.stats.t.ppf(0.975, nu)
    assert last["ci_high"] == pytest.approx(last["coef"] + q * se2, rel=1e-9)
    G = data["cluster"].nunique()
    assert res.n_clusters == G and res.df == G - 1 and res.covariates == ("surprise",)
    # the planted slope (0.002 per unit) is found
    assert abs(tab.set_index("term").loc["surprise", "coef"] - 0.002) < 3 * tab["se"].iloc[-1]


def test_missing_values_left_out_and_answer_unchanged() -> None:
    car, ev = _panel(seed=1)
    ev.loc[[3, 4, 7], "surprise"] = ""
    res = cross_section(car, ev, window="-1:+1", covariates=["surprise"])
    plain = cross_section(car, ev, window="-1:+1")
    assert res.n == len(car[car["window"] == "-1:+1"]) - 3 * len(MARKETS)
    assert res.n_events == len(ev) - 3
    assert "9 pair(s) of 3 event(s) without a value of surprise left out" in res.note
    assert res.answer == plain.answer  # direction.csv does not depend on covariates
    data = car[car["window"] == "-1:+1"].merge(ev, on="event_id")
    data = data[data["surprise"] != ""]
    X = pd.get_dummies(data[["category"]].astype(str), drop_first=False).astype(float)
    ref_level = data["category"].value_counts().sort_index().idxmax()
    X = X.drop(columns=f"category_{ref_level}")
    design = np.column_stack(
        [
            np.ones(len(data)),
            data["direction"] == -1,
            data["direction"] == 0,
            X.to_numpy(),
            data["symbol"] == "^GDAXI",
            data["symbol"] == "^HSI",
            data["surprise"].astype(float),
        ]
    ).astype(float)
    ref = _statsmodels(data["car"].to_numpy(), design, data["cluster"].to_numpy())
    row = res.coefficients.set_index("term").loc["surprise"]
    assert row["coef"] == pytest.approx(ref.params[-1], rel=1e-10)
    se2, _ = _hand_cr2(data["car"].to_numpy(), design, data["cluster"].to_numpy(), design.shape[1] - 1)
    assert row["se"] == pytest.approx(se2, rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(
    scale=st.floats(1e-3, 1e3).flatmap(lambda v: st.sampled_from([v, -v])),
    shift=st.floats(-10, 10),
    seed=st.integers(0, 50),
)
def test_rescaling_a_covariate_rescales_its_coefficient_inversely(
    scale: float, shift: float, seed: int
) -> None:
    car, ev = _panel(n_events=16, seed=seed)
    base = cross_section(car, ev, window="0:0", covariates=["surprise"]).coefficients.set_index("term")
    # a shift in units of the scale keeps the design's conditioning (the slope ignores a shift)
    ev2 = ev.assign(surprise=[repr(scale * (float(v) + shift)) for v in ev["surprise"]])
    moved = cross_section(car, ev2, window="0:0", covariates=["surprise"]).coefficients.set_index("term")
    assert moved.loc["surprise", "coef"] == pytest.approx(base.loc["surprise", "coef"] / scale, rel=1e-6)
    assert moved.loc["surprise", "t"] == pytest.approx(np.sign(scale) * base.loc["surprise", "t"], rel=1e-6)
    assert moved.loc["surprise", "p"] == pytest.approx(base.loc["surprise", "p"], rel=1e-5, abs=1e-12)
    assert moved.loc["direction[-1]", "coef"] == pytest.approx(base.loc["direction[-1]", "coef"], rel=1e-6)


def _ev_file(tmp_path: Path, column: str, values: list[str]) -> Path:
    lines = ["event_id,timestamp,title," + column]
    for i, v in enumerate(values):
        lines.append(f"e{i},2024-0{1 + i % 9}-1{i % 9},Event {i},{v}")
    p = tmp_path / "ev.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["1", "2", "big", "4"], r"line 4, column 'x': covariate 'x': 'big' is not a finite number"),
        (["1", "", "", ""], r"column 'x': covariate 'x' is empty for 3 of 4 events \(more than 50%\)"),
        (["2", "2", "", "2"], r"column 'x': covariate 'x' has no variation"),
        (["1", "inf", "2", "3"], r"'inf' is not a finite number"),
    ],
)
def test_bad_covariate_column_is_one_error_naming_it(tmp_path: Path, values: list[str], message: str) -> None:
    ev = es.read_events(_ev_file(tmp_path, "x", values))
    with pytest.raises(EventsFileError, match=message) as ei:
        covariate_frame(ev, ["x"])
    assert ei.value.column == "x" and str(tmp_path) in str(ei.value)


def test_half_empty_is_accepted_and_unknown_or_standard_columns_refused(tmp_path: Path) -> None:
    ev = es.read_events(_ev_file(tmp_path, "x", ["1", "", "3", ""]))
    out = covariate_frame(ev, ["x"])
    np.testing.assert_array_equal(out["x"].to_numpy(), [1.0, np.nan, 3.0, np.nan])
    with pytest.raises(EventsFileError, match=r"covariate 'surprise' is not a column .*: x$"):
        covariate_frame(ev, ["surprise"])
    with pytest.raises(EventsFileError, match=r"covariate 'title' is a standard column"):
        covariate_frame(ev, ["title"])
    assert isinstance(EventsFileError("f", "m"), InputError)


# ------------------------------------------------------------------ comparison
def _cluster_means(data: pd.DataFrame, mask: np.ndarray) -> pd.Series:
    return data[mask].groupby("cluster")["car"].mean()


def test_compare_difference_matches_statsmodels_and_ranksum_scipy() -> None:
    car, ev = _panel(seed=2)
    c = compare_groups(car, ev, "direction", a=-1, b="+1", window="0:0")
    data = car[car["window"] == "0:0"].merge(ev, on="event_id")
    data = data[data["direction"].isin([-1, 1])]
    in_a = (data["direction"] == -1).to_numpy()
    X = np.column_stack([np.ones(len(data)), in_a]).astype(float)
    ref = _statsmodels(data["car"].to_numpy(), X, data["cluster"].to_numpy())
    assert c.difference == pytest.approx(ref.params[1], rel=1e-10)
    assert c.difference == pytest.approx(data["car"][in_a].mean() - data["car"][~in_a].mean(), rel=1e-10)
    assert c.se == pytest.approx(ref.bse[1], rel=1e-10)
    assert c.p == pytest.approx(ref.pvalues[1], rel=1e-8)
    assert c.df == data["cluster"].nunique() - 1
    ma, mb = _cluster_means(data, in_a), _cluster_means(data, ~in_a)
    u = stats.mannwhitneyu(ma, mb, alternative="two-sided")
    assert c.rank_test == "rank-sum (cluster means)"
    assert c.rank_statistic == pytest.approx(u.statistic) and c.rank_p == pytest.approx(u.pvalue)
    assert c.n_shared == len(ma.index.intersection(mb.index))
    # clusters of two events hold both directions here: the note says the rank-sum ignores it
    assert c.n_shared > 0 and "does not account" in c.note
    assert ("not significant" in c.text) == (c.p >= 0.05)


def test_compare_markets_paired_in_every_cluster() -> None:
    car, ev = _panel(seed=3)
    c = compare_groups(car, ev, "market", a="^HSI", b="^FTSE", window="-1:+1")
    data = car[(car["window"] == "-1:+1") & car["symbol"].isin(["^HSI", "^FTSE"])]
    in_a = (data["symbol"] == "^HSI").to_numpy()
    X = np.column_stack([np.ones(len(data)), in_a]).astype(float)
    ref = _statsmodels(data["car"].to_numpy(), X, data["cluster"].to_numpy())
    assert c.se == pytest.approx(ref.bse[1], rel=1e-10) and c.t == pytest.approx(ref.tvalues[1], rel=1e-10)
    d = _cluster_means(data, in_a) - _cluster_means(data, ~in_a)
    w = stats.wilcoxon(d.to_numpy())
    assert c.rank_test == "signed-rank (paired cluster means)"
    assert c.rank_p == pytest.approx(w.pvalue) and c.n_shared == c.n_clusters
    # the default group B is every other pair
    rest = compare_groups(car, ev, "market", a="^HSI", window="-1:+1")
    assert rest.n_b == 2 * rest.n_a and rest.b == ()


def test_compare_errors() -> None:
    car, ev = _panel()
    with pytest.raises(InputError, match=r"by: 'colour' is not a grouping"):
        compare_groups(car, ev, "colour", a="x", window="0:0")
    with pytest.raises(InputError, match=r"market: no pair has the level\(s\) '\^N225'"):
        compare_groups(car, ev, "market", a="^N225", window="0:0")
    with pytest.raises(InputError, match=r"b: level\(s\) \^HSI are in both groups"):
        compare_groups(car, ev, "market", a="^HSI", b=["^HSI", "^FTSE"], window="0:0")


# ------------------------------------------------------------ study and CLI
def test_study_with_covariate_writes_and_reloads(synthetic_panel, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    syn = synthetic_panel(seed=5, n_events=14)
    df = pd.DataFrame(syn.records)
    df["tariff_change_pp"] = np.random.default_rng(0).normal(10, 5, len(df))
    res = es.EventStudy(df, syn.prices, symbols=list(syn.symbols), covariates=["tariff_change_pp"]).run()
    tables = res.tables()
    cs = tables["cross_section.csv"]
    rows = cs[cs["term"] == "tariff_change_pp"]
    assert list(rows["window"]) == res.car_windows
    cov = tables["covariates.csv"]
    for r in cov.to_dict("records"):
        ref = res.cross_section(r["window"]).set_index("term").loc["tariff_change_pp"]
        assert r["coef"] == ref["coef"] and r["p"] == ref["p"]
        assert ("significant at the 5% level" in r["text"]) and (
            ("not significant" in r["text"]) == (r["p"] >= 0.05)
        )
    assert "tariff_change_pp" not in set(res.cross_section("0:0", covariates=[])["term"])
    html = res.to_html()
    main = cov[cov["window"] == res.main_window]["text"].iloc[0]
    assert "Covariates of the second stage" in html and main.split(" (SE")[0] in html
    folder = res.save(tmp_path / "study")
    manifest = json.loads((folder / "study.json").read_text("utf-8"))
    assert manifest["parameters"]["covariates"] == ["tariff_change_pp"]
    assert "tariff_change_pp" in pd.read_csv(folder / "events.csv").columns
    back = es.StudyResult.load(folder)
    pd.testing.assert_frame_equal(back.covariates(), res.covariates(), rtol=1e-9)
    with pytest.raises(EventsFileError, match=r"covariate 'nope' is not a column"):
        es.EventStudy(df, syn.prices, symbols=list(syn.symbols), covariates=["nope"])


def test_cli_bad_covariate_is_one_line_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = Path(__file__).resolve().parents[1] / "events.csv"
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    df["tariff_change_pp"] = ["n/a" if i % 3 else "" for i in range(len(df))]
    df.loc[5, "tariff_change_pp"] = "ten"
    path = tmp_path / "ev.csv"
    df.to_csv(path, index=False)
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["run", "--events", str(path), "--covariate", "tariff_change_pp"])
    assert r.exit_code == 1
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    line = int(es.read_events(path).table.loc[5, "line"])
    assert f"{path}, line {line}, column 'tariff_change_pp'" in err and "'ten' is not a finite number" in err
    r = CliRunner().invoke(app, ["run", "--events", str(path), "--covariate", "surprise"])
    assert r.exit_code == 1 and "covariate 'surprise' is not a column" in r.stderr
    assert not (tmp_path / "reports").exists()


def test_cli_covariate_run_writes_its_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = Path(__file__).resolve().parents[1] / "events.csv"
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    df["surprise"] = [str((7 * i) % 11 - 5) for i in range(len(df))]  # a synthetic covariate column
    path = tmp_path / "ev.csv"
    df.to_csv(path, index=False)
    (tmp_path / "study.toml").write_text('[study]\ncovariate = ["surprise"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    args = ["run", "--events", str(path), "--config", "study.toml", "--symbols", "^HSI,^GDAXI"]
    r = CliRunner().invoke(app, [*args, "--start", "2024-06-01", "--out", "out", "--quiet"])
    assert r.exit_code == 0, r.stderr
    cov = pd.read_csv(tmp_path / "out" / "covariates.csv")
    cs = pd.read_csv(tmp_path / "out" / "cross_section.csv")
    rows = cs[cs["term"] == "surprise"].reset_index(drop=True)
    np.testing.assert_allclose(cov["coef"], rows["coef"], rtol=1e-9)
    np.testing.assert_allclose(cov["p"], rows["p"], rtol=1e-9)
    manifest = json.loads((tmp_path / "out" / "study.json").read_text("utf-8"))
    assert manifest["parameters"]["covariates"] == ["surprise"]
    saved = es.read_events(tmp_path / "out" / "events.csv")
    assert saved.extra_columns == ["surprise"]


def test_compare_by_an_extra_column_of_the_events() -> None:
    car, ev = _panel(seed=4)
    ev = ev.assign(region=np.where(np.arange(len(ev)) % 3 == 0, "asia", "europe"))
    c = compare_groups(car, ev, "region", a="asia", b="europe", window="0:0")
    asia = set(ev.loc[ev["region"] == "asia", "event_id"])
    data = car[car["window"] == "0:0"]
    in_a = data["event_id"].isin(asia).to_numpy()
    X = np.column_stack([np.ones(len(data)), in_a]).astype(float)
    ref = _statsmodels(data["car"].to_numpy(), X, data["cluster"].to_numpy())
    assert c.difference == pytest.approx(ref.params[1], rel=1e-10)
    assert c.se == pytest.approx(ref.bse[1], rel=1e-10)
    assert (c.n_a, c.n_b) == (int(in_a.sum()), int((~in_a).sum()))

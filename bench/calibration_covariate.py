"""Size and power of a user covariate's clustered test in the second stage, on placebo dates.

Usage (from the repository root)::

    PYTHONPATH=. python bench/calibration_covariate.py [REPS] [DRAWS] [OUT.csv]

The p-values are appended to OUT.csv replication by replication (a stopped
run keeps what it finished; ``summary(pd.read_csv(OUT))`` gives the rates).

Each of REPS replications per layout (``uniform``, ``bursts``) is a placebo
events file of :mod:`calibration` (the curated events, their timestamp forms,
categories and directions kept, moved to random dates of 2018–2024 away from
any curated event), studied with the default design. Its CARs are then
regressed (:func:`eventstudy.analysis.cross_section`, default terms direction
+ category + market, CRV1 clustered by the clusters of dependent pairs, t(G − 1))
with one covariate of DRAWS random draws per replication, drawn independently
of the CARs:

* ``normal``: a standard normal value per event;
* ``skewed``: a fixed tariff-like column (half the events 0, the others a
  log-normal size around 10 percentage points), shuffled across events — a few
  large values give those events high leverage, the hard case for a
  cluster-robust standard error.

**Size**: share of p < 0.05 (DRAWS draws share one replication's CARs, so the
binomial sd of a rate is somewhat above √(0.05·0.95/(REPS·DRAWS))).
**Power**: the same draws with an effect γ·x_e added to every pair's CAR of
event e (the second stage sees only CARs, so adding to the CAR is what an
effect proportional to the covariate is there), γ such that one standard
deviation of the covariate moves the CAR by EFFECT (0.25 and 0.5 percentage
points).
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import calibration as cb

import eventstudy as es
from eventstudy.analysis import cross_section
from eventstudy.markets import DEFAULT_SYMBOLS

SEED = 20261207
EFFECTS = (0.0, 0.0025, 0.005)


def skewed_column(n: int) -> np.ndarray:
    """The fixed tariff-like covariate: half zeros, half log-normal sizes around 10."""
    rng = np.random.default_rng(SEED)
    x = np.where(rng.random(n) < 0.5, 0.0, rng.lognormal(np.log(10.0), 0.6, n))
    x[0], x[1] = 0.0, 10.0  # never constant
    return x


def one(args: tuple[int, str, int]) -> list[tuple[str, str, str, float, float]]:
    """p-values of every window, covariate kind and effect for one placebo replication."""
    rep, layout, draws = args
    prices = es.load_prices(list(DEFAULT_SYMBOLS), source="snapshot")
    events = cb.replication_events(cb.load_design(), rep, SEED, layout)
    res = es.EventStudy(events, prices, tests=["cluster_t"], seed=rep).run()
    car = res.car()
    table = events.table.copy()
    n = len(table)
    base = skewed_column(n)
    rng = np.random.default_rng([SEED, rep])
    out = []
    for _ in range(draws):
        for kind, x in (("normal", rng.standard_normal(n)), ("skewed", rng.permutation(base))):
            table["x"] = x
            xe = car["event_id"].map(pd.Series(x, index=table["event_id"])).to_numpy(dtype=float)
            for effect in EFFECTS:
                shifted = car.assign(car=car["car"] + effect / x.std() * xe)
                for w in res.car_windows:
                    cs = cross_section(shifted, table, window=w, covariates=["x"])
                    row = cs.coefficients.set_index("term").loc["x"]
                    out.append((layout, kind, w, effect, float(row["p"])))
    return out


def summary(p: pd.DataFrame) -> pd.DataFrame:
    """Rejection rates at 5 % per layout, covariate kind, effect and window."""
    p = p.dropna()
    g = p.groupby(["layout", "kind", "effect", "window"], sort=False)["p"]
    return pd.DataFrame({"n": g.size(), "reject_5pct": g.apply(lambda v: (v < 0.05).mean())})


def main(reps: int, draws: int, out: Path) -> pd.DataFrame:
    """Run the replications (layouts interleaved), appending each one's p-values to ``out``."""
    jobs = [(r, layout, draws) for r in range(reps) for layout in ("uniform", "bursts")]
    cols = ["layout", "kind", "window", "effect", "p"]
    pd.DataFrame(columns=cols).to_csv(out, index=False)
    with ProcessPoolExecutor(2) as ex:
        for part in ex.map(one, jobs):  # in order: a stopped run keeps whole replications
            pd.DataFrame(part, columns=cols).to_csv(out, mode="a", header=False, index=False)
    return summary(pd.read_csv(out))


if __name__ == "__main__":
    pd.set_option("display.max_rows", 200)
    args = [int(a) for a in sys.argv[1:3]]
    reps, draws = args + [60, 10][len(args) :]
    dest = Path(sys.argv[3]) if len(sys.argv) > 3 else Path("calibration_covariate_pvalues.csv")
    print(main(reps, draws, dest).unstack("window").to_string())

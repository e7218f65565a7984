"""Registry of cross-sectional tests.

``TESTS`` maps a test's name (the ``test`` column of ``tests.csv``) to its
:class:`TestSpec`. Every test takes a :class:`TestInput` (one CAR window, all
pairs) and an index array (the pairs of one group) and returns a
:class:`TestResult`. Every registered test also has a batch form
(``TestSpec.batch``) that computes it for all groups of a grouping at once
(:mod:`~eventstudy.inference.grouped`); the runner uses the batch forms, and
the tests check that both forms give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import InputError
from .base import DEFAULT_DRAWS, TestInput, TestResult, TestSpec, not_applicable
from .bootstrap import wild_bootstrap, wild_bootstrap_batch, wild_bootstrap_windows
from .clustered import (
    cluster_bootstrap,
    cluster_bootstrap_batch,
    cluster_cr2_batch,
    cluster_cr2_t,
    cluster_t,
    cluster_t_batch,
)
from .clusterwindows import cluster_bootstrap_windows
from .crosscorr import average_correlation, group_rbar
from .grouped import BatchResult, Groups
from .parametric import bmp_batch, bmp_t, cda_batch, cda_t, csect_batch, csect_t
from .placebo import placebo, placebo_batch
from .ranks import corrado_batch, corrado_rank, grank_batch, grank_t, grank_windows
from .signs import gen_sign_batch, gen_sign_z, sign_batch, sign_z, wilcoxon_batch, wilcoxon_z
from .skew import skew_adj_batch, skew_adj_t
from .standardized import kp_bmp_batch, kp_bmp_t, kp_patell_batch, kp_patell_z, patell_batch, patell_z

__all__ = [
    "BatchResult",
    "CLUSTER_TESTS",
    "DEFAULT_DRAWS",
    "Groups",
    "TESTS",
    "TestFunc",
    "TestInput",
    "TestResult",
    "TestSpec",
    "average_correlation",
    "get_tests",
    "group_rbar",
    "not_applicable",
    "register_test",
]

TESTS: dict[str, TestSpec] = {}


#: Signature of a test: ``func(inp, idx) -> TestResult`` with ``idx`` the pairs of one group.
TestFunc = Callable[[TestInput, np.ndarray], TestResult]
#: Signature of a test's batch form: ``batch(inp, groups) -> BatchResult``.
BatchFunc = Callable[[TestInput, Groups], BatchResult]


def register_test(
    name: str,
    distribution: str,
    citation: str,
    description: str,
    uses_estimation: bool = True,
    batch: BatchFunc | None = None,
    batch_windows: Callable[..., Any] | None = None,
    stacks: bool = False,
) -> Callable[[TestFunc], TestFunc]:
    """Decorator adding a test function to :data:`TESTS` under ``name``.

    ``uses_estimation=False`` declares that the test needs only per-pair
    quantities (CARs, their standard errors, degrees of freedom, window ARs),
    so a study running only such tests does not build the P×T
    estimation-window arrays. ``batch`` is the optional group-vectorized form,
    ``batch(inp, groups) -> BatchResult``, giving the same numbers as ``func``
    on every group at once; ``batch_windows(inputs, groups) -> list[BatchResult]``
    does the same for several windows at once. ``stacks=True`` declares that
    ``batch`` reads only the per-pair arrays and the seed
    (:attr:`TestSpec.stacks`), so the runner may hand it several windows side by
    side (:mod:`~eventstudy.inference.sidebyside`).
    """

    def deco(func: TestFunc) -> TestFunc:
        TESTS[name] = TestSpec(
            name, func, distribution, citation, description, uses_estimation, batch, batch_windows, stacks
        )
        return func

    return deco


#: The standard battery (DESIGN.md's ``tests.csv`` vocabulary), in report order:
#: name, function, null distribution, citation, description.
_BATTERY: tuple[tuple[str, TestFunc, str, str, str], ...] = (
    (
        "csect_t",
        csect_t,
        "t(N-1)",
        "Brown and Warner (1985)",
        "cross-sectional t on CARs",
    ),
    (
        "patell_z",
        patell_z,
        "N(0,1)",
        "Patell (1976)",
        "standardized-residual Z on the exact SCAR",
    ),
    (
        "bmp_t",
        bmp_t,
        "t(N-1)",
        "Boehmer, Musumeci and Poulsen (1991)",
        "standardized cross-sectional t (robust to event-induced variance)",
    ),
    (
        "kp_bmp_t",
        kp_bmp_t,
        "t(N-1)",
        "Kolari and Pynnönen (2010)",
        "BMP t adjusted for cross-correlation (r̄ on calendar dates)",
    ),
    (
        "kp_patell_z",
        kp_patell_z,
        "N(0,1)",
        "Kolari and Pynnönen (2010)",
        "Patell Z adjusted for cross-correlation, Z/√(1+(N−1)r̄)",
    ),
    (
        "cda_t",
        cda_t,
        "t(L1-1)",
        "Brown and Warner (1980, 1985)",
        "crude dependence adjustment: time-series variance of estimation AARs",
    ),
    (
        "corrado_rank",
        corrado_rank,
        "N(0,1)",
        "Corrado (1989); Cowan (1992)",
        "rank test over estimation and event days",
    ),
    (
        "grank_t",
        grank_t,
        "t(T-2)",
        "Kolari and Pynnönen (2011)",
        "generalized rank t (Z in the note)",
    ),
    (
        "gen_sign_z",
        gen_sign_z,
        "N(0,1)",
        "Cowan (1992)",
        "generalized sign test, p̂ from the estimation window",
    ),
    (
        "sign_z",
        sign_z,
        "N(0,1)",
        "Brown and Warner (1980)",
        "sign test on CARs (exact binomial p for small N)",
    ),
    (
        "wilcoxon_z",
        wilcoxon_z,
        "N(0,1)",
        "Wilcoxon (1945)",
        "signed-rank test on CARs (exact p for small N)",
    ),
    (
        "skew_adj_t",
        skew_adj_t,
        "t(N-1)",
        "Hall (1992); Lyon, Barber and Tsai (1999)",
        "skewness-adjusted t on CARs",
    ),
    (
        "wild_bootstrap",
        wild_bootstrap,
        "bootstrap",
        "Wu (1986); Mammen (1993)",
        "Rademacher sign-flip bootstrap of the cross-sectional t",
    ),
    (
        "placebo",
        placebo,
        "placebo",
        "pseudo-event dates as in Brown and Warner (1980, 1985)",
        "observed CAAR ranked among estimation-window placebo CAARs",
    ),
    (
        "cluster_t",
        cluster_t,
        "t(G-1)",
        "Ibragimov and Müller (2010)",
        "t on cluster mean CARs (clusters of dependent pairs; n = clusters)",
    ),
    (
        "cluster_cr2_t",
        cluster_cr2_t,
        "t(BM df)",
        "Bell and McCaffrey (2002); Imbens and Kolesár (2016)",
        "CAAR t with CR2 cluster-robust SE, Bell–McCaffrey df (n = clusters)",
    ),
    (
        "cluster_bootstrap",
        cluster_bootstrap,
        "bootstrap",
        "Cameron, Gelbach and Miller (2008); Webb (2023)",
        "wild cluster bootstrap of the CAAR t, null imposed (n = clusters)",
    ),
)

#: Tests valid when pairs are dependent within clusters (formula sheet §7); the
#: others assume independent pairs (``kp_*`` and ``cda_t`` adjust for an
#: average correlation only).
CLUSTER_TESTS: tuple[str, ...] = ("cluster_t", "cluster_cr2_t", "cluster_bootstrap")

#: Tests that read only per-pair quantities (no estimation-window arrays).
_PER_PAIR = {
    *CLUSTER_TESTS,
    "csect_t",
    "patell_z",
    "bmp_t",
    "sign_z",
    "wilcoxon_z",
    "skew_adj_t",
    "wild_bootstrap",
}

#: Tests whose batch forms read only the per-pair arrays and the seed: the runner hands them
#: several windows side by side (the two bootstraps take their windows together themselves:
#: the wild cluster bootstrap's weights depend on each window's number of clusters).
_STACKS = {"csect_t", "patell_z", "bmp_t", "sign_z", "wilcoxon_z", "skew_adj_t", "cluster_t", "cluster_cr2_t"}

#: Group-vectorized forms of the battery's tests.
_BATCH: dict[str, BatchFunc] = {
    "csect_t": csect_batch,
    "patell_z": patell_batch,
    "bmp_t": bmp_batch,
    "kp_bmp_t": kp_bmp_batch,
    "kp_patell_z": kp_patell_batch,
    "cda_t": cda_batch,
    "corrado_rank": corrado_batch,
    "grank_t": grank_batch,
    "gen_sign_z": gen_sign_batch,
    "sign_z": sign_batch,
    "wilcoxon_z": wilcoxon_batch,
    "skew_adj_t": skew_adj_batch,
    "wild_bootstrap": wild_bootstrap_batch,
    "placebo": placebo_batch,
    "cluster_t": cluster_t_batch,
    "cluster_cr2_t": cluster_cr2_batch,
    "cluster_bootstrap": cluster_bootstrap_batch,
}

#: Forms of the tests whose windows share work, computed several windows at a time.
_WINDOWS: dict[str, Callable[..., Any]] = {
    "wild_bootstrap": wild_bootstrap_windows,
    "grank_t": grank_windows,
    "cluster_bootstrap": cluster_bootstrap_windows,
}

for _name, _func, _dist, _cite, _desc in _BATTERY:
    register_test(
        _name,
        _dist,
        _cite,
        _desc,
        uses_estimation=_name not in _PER_PAIR,
        batch=_BATCH[_name],
        batch_windows=_WINDOWS.get(_name),
        stacks=_name in _STACKS,
    )(_func)


def get_tests(names: list[str] | None = None) -> list[TestSpec]:
    """The registered tests named in ``names`` (all when ``None``)."""
    if names is None:
        return list(TESTS.values())
    bad = [n for n in names if n not in TESTS]
    if bad:
        raise InputError(f"tests: unknown test(s) {bad}; valid: {', '.join(TESTS)}")
    return [TESTS[n] for n in names]

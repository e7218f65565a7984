"""The wild cluster bootstrap of several windows and groupings at once (the runner's ``batch_windows``).

On a small study most of the bootstrap's time is the Python of a call, not
its arithmetic: the default study has 24 windows and five groupings, 120
calls of a few groups each. Here every window and every announced grouping
is one (input, grouping) set of
:func:`~eventstudy.inference.clustered.bootstrap_sets`, whose draws are
counted in one pass for all the sets that share their weights; each group's
count reads only its own cells and weights, so the p-values are those of
:func:`~eventstudy.inference.clustered.cluster_bootstrap_batch` called set by set.
"""

from __future__ import annotations

from collections.abc import Sequence

from .base import TestInput
from .clustered import bootstrap_sets
from .grouped import BatchResult, Groups, windows_together

__all__ = ["cluster_bootstrap_windows"]


def cluster_bootstrap_windows(inputs: Sequence[TestInput], groups: Groups) -> list[BatchResult]:
    """:func:`~eventstudy.inference.clustered.cluster_bootstrap_batch` for every window of ``inputs``.

    When the runner has announced its groupings
    (:data:`~eventstudy.inference.grouped.GROUPINGS_KEY` in the first input's
    memo), every announced grouping of every window is counted in the same
    pass, and the other groupings' results are kept in that memo for their calls.
    """
    if not inputs:
        return []

    def compute(together: list[Groups]) -> list[list[BatchResult]]:
        flat = bootstrap_sets([(inp, g) for inp in inputs for g in together])
        k = len(together)
        return [[flat[w * k + j] for w in range(len(inputs))] for j in range(k)]

    return windows_together("cluster_bootstrap", inputs, groups, compute)

"""Consecutive runs of items within a bound on their total size (work done a run at a time)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["bounded_runs"]


def bounded_runs(sizes: Sequence[int], bound: int) -> list[list[int]]:
    """Positions of ``sizes`` cut into consecutive runs of at most ``bound`` in total.

    A run holds one item at least, whatever its size; items keep their order.
    """
    runs: list[list[int]] = []
    held = 0
    for k, size in enumerate(sizes):
        if runs and held + size <= bound:
            runs[-1].append(k)
            held += size
        else:
            runs.append([k])
            held = size
    return runs

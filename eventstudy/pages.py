"""Small memory pages while a study runs: numpy's transparent-huge-page advice off, then restored.

numpy asks Linux to back each array of 4 MiB or more with transparent huge
pages (``madvise(MADV_HUGEPAGE)``; ``NUMPY_MADVISE_HUGEPAGE``, see numpy's
"global state" notes). A study allocates many such arrays (pairs × days
panels, bootstrap sums) and touches each one once or twice before freeing
it; with the kernel's usual ``defrag=madvise`` a first touch of advised
memory may wait for the kernel to compact memory into 2 MiB pages. At
20,000 pairs the whole battery spent 0.34–0.75 s (mean 0.59 s) of system
time in a fresh process with the advice and 0.28–0.33 s (mean 0.31 s)
without it, at the same user time (five processes each; bench/README.md).

:func:`small_pages` switches the advice off for the duration of
:meth:`EventStudy.run <eventstudy.study.EventStudy.run>` and restores what it
found, unless the user set ``NUMPY_MADVISE_HUGEPAGE`` (then the user's choice
stands). Only speed depends on it, never a number.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

import numpy as np

__all__ = ["ENV_VAR", "small_pages"]

#: numpy's own switch; when set, the advice is left as the user chose.
ENV_VAR = "NUMPY_MADVISE_HUGEPAGE"

_LOCK = threading.Lock()
_STATE = {"depth": 0, "before": True}


def _setter() -> object:
    """numpy's ``_set_madvise_hugepage`` (returns the previous setting), or None where absent."""
    return getattr(getattr(getattr(np, "_core", None), "multiarray", None), "_set_madvise_hugepage", None)


@contextlib.contextmanager
def small_pages() -> Iterator[None]:
    """Run the block with numpy's huge-page advice off; the setting found is restored after.

    Nested or concurrent blocks (studies run in threads) share one switch:
    the first to enter turns the advice off, the last to leave restores it.
    """
    setter = _setter()
    if not callable(setter) or os.environ.get(ENV_VAR) is not None:
        yield
        return
    with _LOCK:
        if _STATE["depth"] == 0:
            _STATE["before"] = bool(setter(False))
        _STATE["depth"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _STATE["depth"] -= 1
            if _STATE["depth"] == 0:
                setter(_STATE["before"])

"""The command line's BLAS thread limit: set on the loaded OpenBLAS, a user's variable wins."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from eventstudy.blasthreads import ENV_VARS, _loaded_blas

_PROBE = """
import ctypes, sys
import numpy
from eventstudy.blasthreads import _loaded_blas, limit_blas_threads
lib = ctypes.CDLL(_loaded_blas()[0])
get = next(getattr(lib, n) for n in ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
           "openblas_get_num_threads64_", "openblas_get_num_threads") if hasattr(lib, n))
before = get()
done = limit_blas_threads(1)
print(before, done, get())
"""


def _probe(env: dict[str, str]) -> list[int]:
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True)
    return [int(x) for x in out.stdout.split()]


@pytest.mark.slow  # two more interpreters
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_limit_sets_loaded_openblas_and_respects_the_user() -> None:
    import numpy  # noqa: F401  (loads numpy's OpenBLAS in this process for _loaded_blas)

    if not _loaded_blas():
        pytest.skip("numpy is not linked to a shared OpenBLAS here")
    base = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    before, done, after = _probe(base | {"OPENBLAS_NUM_THREADS": "2"})
    assert (before, done, after) == (2, 0, 2)  # the user's setting decides
    before, done, after = _probe(base)
    assert done >= 1 and after == 1

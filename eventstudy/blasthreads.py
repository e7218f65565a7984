"""One BLAS thread for the command line (the tests make many small products).

The study's tests call numpy's BLAS on matrices of a few hundred rows, many
times per window. OpenBLAS's own threads gain nothing on products that small,
and its idle threads spin between the calls: on the default study they added
about 0.1 s of CPU to the tests at the same wall time (earlier, with the
windows on two threads of their own, about 1 s of 2 s).

:func:`limit_blas_threads` sets the thread count of the BLAS libraries already
loaded in the process (OpenBLAS builds bundled by numpy and scipy, and MKL)
through their C entry points, and the environment variables the ones loaded
later read. The command line calls it once at start-up unless the user set
one of those variables; the library never does (a program importing
eventstudy keeps its own BLAS settings).
"""

from __future__ import annotations

import contextlib
import ctypes
import os

__all__ = ["ENV_VARS", "limit_blas_threads"]

#: Environment variables that set BLAS thread counts; a user's setting wins.
ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
    "MKL_Set_Num_Threads",
)


def _loaded_blas() -> list[str]:
    """Paths of the loaded shared libraries that look like a BLAS (Linux: /proc/self/maps)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            paths = {line.split(maxsplit=5)[-1].strip() for line in fh if ".so" in line}
    except OSError:  # not Linux: nothing found, nothing changed
        return []
    return sorted(p for p in paths if "openblas" in p.lower() or "libmkl_rt" in p.lower())


def limit_blas_threads(n: int = 1) -> int:
    """Use ``n`` BLAS threads from now on, unless the user set a BLAS thread variable.

    Parameters
    ----------
    n : int, default 1
        Threads per BLAS call.

    Returns
    -------
    int
        How many loaded libraries were set (0 when the user's environment
        decides or no known BLAS is loaded).
    """
    if any(v in os.environ for v in ENV_VARS):
        return 0
    os.environ["OPENBLAS_NUM_THREADS"] = str(n)  # libraries loaded later (e.g. scipy.linalg's)
    done = 0
    for path in _loaded_blas():
        with contextlib.suppress(OSError):
            lib = ctypes.CDLL(path)
            for name in _SETTERS:
                fn = getattr(lib, name, None)
                if fn is not None:
                    fn(ctypes.c_int(n))
                    done += 1
                    break
    return done

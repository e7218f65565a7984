"""Handing the C heap's freed memory back to the system (universe-scale runs)."""

from __future__ import annotations

import ctypes
import sys

__all__ = ["trim_heap"]


def trim_heap() -> None:
    """Return the C heap's free memory to the system (glibc ``malloc_trim``; elsewhere nothing).

    numpy arrays below glibc's mmap threshold (which rises to 32 MB once a
    large array is freed) live on the heap; freed, their pages stay resident
    until trimmed, so a long run's resident size creeps up by its transients.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl…): nothing to trim
        return

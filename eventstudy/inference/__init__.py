"""Registry of cross-sectional tests.

``TESTS`` maps a test's name (the ``test`` column of ``tests.csv``) to its
:class:`TestSpec`. Every test takes a :class:`TestInput` (one CAR window, all
pairs) and an index array (the pairs of one group) and returns a
:class:`TestResult`.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import InputError
from .base import TestInput, TestResult, TestSpec, not_applicable
from .parametric import bmp_t, csect_t

__all__ = [
    "TESTS",
    "TestInput",
    "TestResult",
    "TestSpec",
    "register_test",
    "get_tests",
    "not_applicable",
]

TESTS: dict[str, TestSpec] = {}


def register_test(
    name: str, distribution: str, citation: str, description: str
) -> Callable[[Callable[[TestInput, object], TestResult]], Callable[[TestInput, object], TestResult]]:
    """Decorator adding a test function to :data:`TESTS` under ``name``."""

    def deco(func):  # type: ignore[no-untyped-def]
        TESTS[name] = TestSpec(name, func, distribution, citation, description)
        return func

    return deco


register_test(
    "csect_t", "t(N-1)", "Brown and Warner (1985); formula sheet §5.9",
    "cross-sectional t on CARs",
)(csect_t)
register_test(
    "bmp_t", "t(N-1)", "Boehmer, Musumeci and Poulsen (1991)",
    "standardized cross-sectional t (robust to event-induced variance)",
)(bmp_t)


def get_tests(names: list[str] | None = None) -> list[TestSpec]:
    """The registered tests named in ``names`` (all when ``None``)."""
    if names is None:
        return list(TESTS.values())
    bad = [n for n in names if n not in TESTS]
    if bad:
        raise InputError(f"tests: unknown test(s) {bad}; valid: {', '.join(TESTS)}")
    return [TESTS[n] for n in names]

"""The study manifest (``study.json``): parameters, versions, hashes."""

from __future__ import annotations

import functools
import platform
import re
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, distribution
from typing import Any

from .calendars import EXTRA_CLOSURES

__all__ = ["DAY0_RULE", "build_manifest", "package_versions"]

DAY0_RULE = (
    "Day 0 is the first session of the market's exchange calendar whose close is strictly "
    "after the announcement instant. When the instant is uncertain (a date only: anywhere in "
    "the local day; an interval START/END: anywhere in it), day 0 is the earliest possible "
    "session (the rule applied to the start) and the latest possible session is recorded "
    "(the first close strictly after END, or at or after the next local midnight of a date); "
    "CAR windows ending at or after day 0 are extended to cover it, so a 0:0 window is day 0, "
    "and day +1 where the hour is uncertain. Markets without a calendar use their own data "
    "dates: day 0 is the first date on or after the event's date."
)

_DEPS = (
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "exchange_calendars",
    "plotly",
    "jinja2",
    "typer",
    "rich",
    "pyarrow",
    "yfinance",
)


#: The name the package is installed under (the import name stays ``eventstudy``;
#: ``eventstudy`` on the package index is another project).
DISTRIBUTION = "eventstudy-toolkit"


_VERSION_LINE = re.compile(r"^Version:[ \t]*(.*?)\s*$", re.MULTILINE)


def version(name: str) -> str:
    """The installed version of distribution ``name`` (as :func:`importlib.metadata.version`).

    Read from the ``Version:`` header line of the distribution's metadata
    file, without parsing the whole file as an e-mail message (which is most
    of the cost of ``importlib.metadata.version``, and the first call imports
    the ``email`` package). Raises ``PackageNotFoundError`` likewise.
    """
    dist = distribution(name)
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    found = _VERSION_LINE.search(text.split("\n\n", 1)[0])
    return found.group(1) if found else str(dist.version)


def _own_version() -> str:
    """The installed version of this package, or ``"X (source checkout)"`` when not installed.

    An install made before the distribution was renamed is still named
    ``eventstudy``; the version must match, since that name on the package
    index belongs to another project.
    """
    from . import __version__

    for dist in (DISTRIBUTION, "eventstudy"):
        try:
            found = version(dist)
        except PackageNotFoundError:
            continue
        if found == __version__:
            return found
    return f"{__version__} (source checkout)"


@functools.lru_cache(maxsize=1)
def _versions() -> tuple[tuple[str, str], ...]:
    out = [("python", platform.python_version()), ("eventstudy", _own_version())]
    for name in _DEPS:
        try:
            out.append((name, version(name)))
        except PackageNotFoundError:
            out.append((name, "missing"))
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _calendar_version() -> str:
    """The installed ``exchange_calendars`` version (:func:`~eventstudy.calendars.calendar_version`), once."""
    return version("exchange_calendars")


def package_versions() -> dict[str, str]:
    """Versions of the package and of its dependencies (``missing`` if absent)."""
    return dict(_versions())


def build_manifest(
    parameters: dict[str, Any],
    events_info: dict[str, Any],
    prices_info: dict[str, Any],
    calendars: dict[str, str],
    counts: dict[str, int],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the manifest dictionary written as ``study.json``."""
    doc: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "parameters": parameters,
        "events": events_info,
        "prices": prices_info,
        "alignment": {
            "rule": DAY0_RULE,
            "calendars": calendars,
            "exchange_calendars": _calendar_version(),
            "extra_closures": {k: list(v) for k, v in EXTRA_CLOSURES.items()},
        },
        "counts": counts,
        "versions": package_versions(),
    }
    if extra:
        doc.update(extra)
    return doc

"""The folder name of a command-line study, derived from its parameters.

``eventstudy run`` with no option writes ``reports/<model>`` (e.g.
``reports/constant-mean``). A run that sets any other option (markets,
filters, windows, …) gets a name that says so — the base name, then each
option and its value, e.g. ``constant-mean_symbols=HSI,GSPC`` — so that a
run with other parameters never replaces an earlier study without ``--name``
or ``--out``. Long names are cut and end in a short hash of the options.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

__all__ = ["derived_name"]

#: The run options that change a study beyond its base name (model, benchmark
#: and betas are in the base name; output, display and executor options change
#: nothing), in the order they appear in a derived name.
_ORDER = (
    "symbols",
    "category",
    "direction",
    "start",
    "end",
    "car",
    "estimation",
    "window",
    "mask",
    "returns",
    "min_estimation",
    "events",
    "source",
    "prices",
    "calendar",
    "gaps",
    "lags",
    "leads",
    "covariate",
    "seed",
    "draws",
    "detail",
    "lenient",
)
_MAX = 96


def _values(v: Any) -> list[str]:
    items = v if isinstance(v, (list, tuple)) else [v]
    out: list[str] = []
    for x in items:
        out += [s for s in str(x).replace(",", " ").split() if s]
    return out


def _slug(text: str) -> str:
    """A value as letters, digits and ``._+-`` (``:`` of a window as ``..``)."""
    return re.sub(r"[^A-Za-z0-9.+_-]+", "-", text.replace(":", "..")).strip(".") or "x"


def derived_name(base: str, options: Mapping[str, Any]) -> str:
    """``base`` followed by the options that were set (see the module docstring).

    Parameters
    ----------
    base : str
        The study's own name (``StudyConfig.study_name``: model, benchmark, betas).
    options : mapping
        The resolved options of the run (command line over ``study.toml``);
        ``None``, ``False`` and empty values count as not set, and keys that
        are not study options (see ``_ORDER``) are ignored.

    Returns
    -------
    str
        A folder name of letters, digits and ``._+-,=`` only (no path separator).
    """
    given = {
        k: v
        for k, v in options.items()
        if k in _ORDER and v is not None and v is not False and v != [] and v != ""
    }
    if not given:
        return base
    keys = [k for k in _ORDER if k in given]
    parts = []
    for k in keys:
        vals = _values(given[k]) if given[k] is not True else []
        if k in ("events", "prices", "config"):  # a file: its name only
            vals = [PurePath(str(given[k])).name]
        tail = ",".join(_slug(s.lstrip("^")) for s in vals)
        parts.append(f"{k.replace('_', '-')}={tail}" if tail else k.replace("_", "-"))
    name = f"{base}_{'_'.join(parts)}"
    if len(name) <= _MAX:
        return name
    digest = hashlib.sha256(json.dumps({k: _values(given[k]) for k in keys}).encode()).hexdigest()[:8]
    return f"{name[: _MAX - 9].rstrip('-_.')}-{digest}"

"""The study's TOML file (``--config study.toml``): keys, their types, and one error line per mistake.

Every key is a :class:`~eventstudy.config.StudyConfig` parameter or a command-line
option; a wrong type or unknown key raises :class:`~eventstudy.errors.ConfigError`
naming the file and the key.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from .errors import ConfigError, show

__all__ = ["load_config_file"]


_TEXT = "text"
_INT = "a whole number"
_TEXTS = "text or a list of texts"
_WINDOW = 'a window like "-1:+1"'
_TOML_TYPES: dict[str, str] = {
    "detail": _TEXT,
    "name": _TEXT,
    "events": _TEXT,
    "symbols": _TEXTS,
    "source": _TEXT,
    "prices": _TEXTS,
    "benchmark": _TEXT,
    "model": _TEXT,
    "estimation": _WINDOW,
    "window": _WINDOW,
    "car": _TEXTS,
    "returns": _TEXT,
    "mask": _WINDOW,
    "min_estimation": _INT,
    "seed": _INT,
    "draws": _INT,
    "gaps": _TEXT,
    "category": _TEXTS,
    "direction": "1, -1, 0 or a list of them",
    "start": "a date",
    "end": "a date",
    "out": _TEXT,
    "calendar": "a MIC, SYMBOL=MIC, a list of them, or a table SYMBOL = MIC",
    "beta": _TEXT,
    "lags": _INT,
    "leads": _INT,
    "covariate": _TEXTS,
    "factors": _TEXTS,
}
_TOML_KEYS = set(_TOML_TYPES)


def _type_ok(kind: str, v: Any) -> bool:
    if kind == _TEXT:
        return isinstance(v, str)
    if kind == _INT:
        return isinstance(v, int) and not isinstance(v, bool)
    if kind == _TEXTS:
        return isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
    if kind == _WINDOW:
        return isinstance(v, str) or (
            isinstance(v, list)
            and len(v) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
        )
    if kind == "a date":
        return isinstance(v, (str, date))
    if kind.startswith("a MIC"):  # calendar
        if isinstance(v, dict):
            return all(isinstance(k, str) and isinstance(x, str) for k, x in v.items())
        return isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
    items = v if isinstance(v, list) else [v]  # direction
    return all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in items)


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a ``study.toml`` (TOML only; nothing is evaluated), checked before any computation.

    Keys match the long CLI options (``car`` may be a list). An unknown key
    or a value of the wrong type is a :class:`ConfigError` naming the file
    and the key; the values themselves are checked with the command line's
    (see :class:`StudyConfig`).
    """
    from .safety import MAX_CONFIG_BYTES, read_input_bytes

    p = Path(path)
    data = read_input_bytes(p, "config", MAX_CONFIG_BYTES, error=lambda f, m: ConfigError(f"{f}: {m}"))
    try:
        doc = tomllib.loads(data.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not valid TOML: {str(exc).splitlines()[0]}") from exc
    table = doc.get("study", doc)
    if not isinstance(table, dict):
        raise ConfigError(f"{p}: [study] must be a table")
    unknown = sorted(set(table) - _TOML_KEYS)
    if unknown:
        raise ConfigError(f"{p}: unknown key {show(unknown[0])}; valid keys: {', '.join(sorted(_TOML_KEYS))}")
    out: dict[str, Any] = {}
    for key, value in table.items():
        kind = _TOML_TYPES[key]
        if not _type_ok(kind, value):
            raise ConfigError(f"{p}: key '{key}' must be {kind}, not {type(value).__name__} {value!r:.60}")
        out[key] = value.isoformat() if isinstance(value, date) else value
    return out

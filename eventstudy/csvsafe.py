"""Text cells that a spreadsheet would run as formulas are neutralised in every CSV written.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read by Excel, LibreOffice and Google Sheets as a formula (a
"CSV injection", e.g. a hostile event title ``=HYPERLINK(...)``). Every CSV
file the toolkit writes prefixes such text cells with an apostrophe ``'``,
which spreadsheets show as text. Numbers are never touched (they are written
from numeric columns), and neither are text cells that are plain numbers or
windows such as ``-1:+1``. A cell that already starts with ``'`` followed by
such a cell gets one more ``'``, so :func:`restore` gives back exactly the
original text when a saved study is read again.
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["neutralise", "neutralise_frame", "restore", "restore_frame"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_HARMLESS = re.compile(r"^[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|\d+:[+-]?\d+)$")


def _needs(text: str) -> bool:
    if not text:
        return False
    if text[0] == "'":
        return _needs(text[1:])
    if text[0] in "+-" and _HARMLESS.match(text):
        return False
    return text[0] in _TRIGGERS


def neutralise(value: object) -> object:
    """``value`` with a leading ``'`` when a spreadsheet would evaluate it; other values as they are."""
    return "'" + value if isinstance(value, str) and _needs(value) else value


def restore(value: object) -> object:
    """The inverse of :func:`neutralise`."""
    if isinstance(value, str) and value.startswith("'") and _needs(value[1:]):
        return value[1:]
    return value


def _map_text(df: pd.DataFrame, fn: object) -> pd.DataFrame:
    out = df
    for col in df.columns:
        s = df[col]
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        uniq = pd.unique(s.dropna())
        change = {u: fn(u) for u in uniq if isinstance(u, str)}  # type: ignore[operator]
        change = {k: v for k, v in change.items() if v != k}
        if change:
            if out is df:
                out = df.copy()
            out[col] = s.map(lambda v, c=change: c.get(v, v) if isinstance(v, str) else v)
    if any(isinstance(c, str) and _needs(c) for c in df.columns):
        out = out.rename(columns={c: neutralise(c) for c in df.columns})
    return out


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and headers) are neutralised (``df`` itself when none is)."""
    return _map_text(df, neutralise)


def restore_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The inverse of :func:`neutralise_frame` for a table read back from a saved CSV."""
    out = _map_text(df, restore)
    if any(isinstance(c, str) and c != restore(c) for c in df.columns):
        out = out.rename(columns={c: restore(c) for c in df.columns})
    return out

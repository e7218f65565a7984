"""Read and validate event files (``events.csv``) into an immutable :class:`Events`.

The format (see README): one row per event; required columns ``event_id``,
``timestamp``, ``title``; optional ``category``, ``direction``, ``source``,
``confidence``, ``tz``, ``symbols``, ``notes``; any other column (say
``tariff_change_pp``) is kept as text in :attr:`Events.table`, for the
second stage's covariates (:mod:`eventstudy.analysis.covariates`), unless its
name is a near-miss of a standard column (``catgory``: an error, so a typo is
never silently ignored) or one of the derived names. ``timestamp`` is strict ISO
8601 (:mod:`eventstudy.timestamps`): an instant with an offset
(``2025-06-10T22:55Z``); an interval ``START/END`` or ``START/PT8H`` within
which the news came out; or a date only (``2025-06-11``) whose calendar day
belongs to ``tz`` (an IANA zone, default UTC). A date and time without an
offset is read as local time in ``tz`` (default UTC) — stated here because it
is an assumption.

Every problem is an :class:`~eventstudy.errors.EventsFileError` naming the
file, the line and the column.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from .errors import EventsFileError, InputError, show
from .safety import MAX_EVENTS_BYTES, read_input_bytes

__all__ = ["CATEGORIES", "COLUMNS", "Events", "bundled_events_path", "read_events", "validate_events"]

CATEGORIES: tuple[str, ...] = (
    "talks",
    "agreement",
    "truce",
    "tariff_escalation",
    "tariff_deescalation",
    "export_control",
    "retaliation",
    "statement",
    "other",
)
REQUIRED: tuple[str, ...] = ("event_id", "timestamp", "title")
OPTIONAL: tuple[str, ...] = (
    "category",
    "direction",
    "source",
    "confidence",
    "tz",
    "symbols",
    "notes",
)
COLUMNS: tuple[str, ...] = REQUIRED + OPTIONAL
#: Columns :class:`Events` derives from the file's; a file may not use these names.
DERIVED_COLUMNS: tuple[str, ...] = (
    "start_utc",
    "end_utc",
    "local_date",
    "local_end",
    "timing",
    "date_only",
    "line",
)

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]*$")
_DIRECTIONS = {"1": 1, "+1": 1, "-1": -1, "0": 0, "": 0}


@dataclass(frozen=True, eq=False)
class Events:
    """An immutable, validated list of events.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per event with the columns of :data:`COLUMNS` (strings;
        ``direction`` as int) plus the derived columns ``timing``
        (``instant``, ``interval`` or ``date``), ``start_utc`` and ``end_utc``
        (the instant; the interval's ends, both included; or the UTC bounds
        ``[start, end)`` of a date-only event's local day), ``local_date`` and
        ``local_end`` (calendar dates of the earliest and latest possible
        instant, see :class:`~eventstudy.timestamps.Timing`), ``date_only``
        and ``line`` (of the file, for messages). Extra columns of the file
        (:attr:`extra_columns`) follow the file's columns, as text.
    path : str
        Where the events came from (``"<memory>"`` when built in code).
    sha256 : str
        Hash of the file's bytes (of the CSV text when built in code).
    warnings : tuple of str
        Assumptions the reading made, e.g. a time without an offset in a row
        without ``tz``, read as UTC (each names the line and the column).
    """

    table: pd.DataFrame
    path: str = "<memory>"
    sha256: str = ""
    warnings: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        from .reprs import events_repr

        return events_repr(self)

    def _repr_html_(self) -> str:
        from .reprs import events_html

        return events_html(self)

    @property
    def extra_columns(self) -> list[str]:
        """The file's columns beyond the standard ones (e.g. a covariate), in file order."""
        known = set(COLUMNS) | set(DERIVED_COLUMNS)
        return [str(c) for c in self.table.columns if c not in known]

    @property
    def ids(self) -> list[str]:
        """Event ids, in file order."""
        return list(self.table["event_id"])

    @functools.cached_property
    def _restrictions(self) -> tuple[np.ndarray, list[frozenset[str]]]:
        """Rows with a ``symbols`` restriction and the symbols each names (parsed once)."""
        syms = self.table["symbols"].to_numpy(dtype=object)
        rows = np.flatnonzero([bool(s) for s in syms])
        return rows, [frozenset(str(syms[i]).split()) for i in rows]

    def applies_to(self, symbol: str) -> np.ndarray:
        """Boolean mask: which events apply to ``symbol`` (empty ``symbols`` = all)."""
        rows, names = self._restrictions
        out = np.ones(len(self.table), dtype=bool)
        if len(rows):
            out[rows] = [symbol in n for n in names]
        return out

    def check_symbols(self, known: Collection[str]) -> None:
        """Check that every symbol named in the ``symbols`` column is in ``known``.

        An unknown symbol (a typo, a market neither in the registry nor in
        the prices) would silently drop the event from every table, so it is
        an :class:`EventsFileError` naming the file, the line and the column.
        """
        ok = set(known)
        # events built in code or from a DataFrame have no file lines: the event is named instead
        in_file = "line" in self.table and self.path not in ("<memory>", "events DataFrame")
        lines = self.table["line"] if in_file else pd.Series([None] * len(self.table))
        for eid, cell, line in zip(self.table["event_id"], self.table["symbols"], lines, strict=True):
            for sym in str(cell).split():
                if sym not in ok:
                    which = "" if in_file else f"event {show(eid)}: "
                    raise EventsFileError(
                        self.path,
                        f"{which}symbol {show(sym)} is not a known market nor a column of the prices; "
                        "fix the symbol or leave the cell empty for every market",
                        None if line is None else int(line),
                        "symbols",
                    )

    def filter(
        self,
        categories: Sequence[str] | None = None,
        directions: Sequence[int] | None = None,
        start: str | pd.Timestamp | None = None,
        end: str | pd.Timestamp | None = None,
        ids: Sequence[str] | None = None,
    ) -> Events:
        """Return the events matching every given criterion.

        Parameters
        ----------
        categories : sequence of str, optional
            Keep these categories.
        directions : sequence of int, optional
            Keep these directions (-1, 0, 1).
        start, end : date-like, optional
            Keep events whose calendar date lies within ``[start, end]``.
        ids : sequence of str, optional
            Keep these event ids.
        """
        t = self.table
        keep = np.ones(len(t), dtype=bool)
        if categories:
            bad = sorted(set(categories) - set(CATEGORIES))
            if bad:
                raise InputError(f"category: unknown value(s) {bad}; valid: {', '.join(CATEGORIES)}")
            keep &= t["category"].isin(list(categories)).to_numpy()
        if directions:
            bad_d = sorted(set(directions) - {-1, 0, 1})
            if bad_d:
                raise InputError(f"direction: unknown value(s) {bad_d}; valid: -1, 0, 1")
            keep &= t["direction"].isin(list(directions)).to_numpy()
        if start is not None:
            keep &= (t["local_date"] >= _as_date(start, "start")).to_numpy()
        if end is not None:
            keep &= (t["local_date"] <= _as_date(end, "end")).to_numpy()
        if ids:
            unknown = sorted(set(ids) - set(t["event_id"]))
            if unknown:
                raise InputError(f"event id(s) not in the events file: {unknown}")
            keep &= t["event_id"].isin(list(ids)).to_numpy()
        return Events(t.loc[keep].reset_index(drop=True), self.path, self.sha256, self.warnings)

    def to_csv(self) -> str:
        """The events as CSV text in the file format (the file's columns, extra ones included)."""
        buf = io.StringIO()
        self.table.loc[:, list(COLUMNS) + self.extra_columns].to_csv(buf, index=False, lineterminator="\n")
        return buf.getvalue()


def _as_date(value: str | pd.Timestamp, name: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(value).normalize().tz_localize(None)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{name}: {show(value)} is not a date; write YYYY-MM-DD") from exc


def bundled_events_path() -> Path:
    """Path of the curated ``events.csv`` shipped inside the package.

    The wheel carries the repository's ``events.csv`` as package data (one
    source, included by the build configuration); in a source checkout the
    repository file itself is used.
    """
    packaged = Path(str(resources.files("eventstudy").joinpath("data/events.csv")))
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[1] / "events.csv"


def _read_text(path: Path) -> tuple[str, bytes]:
    name = str(path)
    data = read_input_bytes(path, "events", MAX_EVENTS_BYTES, error=EventsFileError)
    if b"\x00" in data[:4096]:
        raise EventsFileError(name, "looks like a binary file, not a CSV text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise EventsFileError(name, "is not UTF-8 text; save it as UTF-8", line) from exc
    return text, data


def read_events(path: str | Path | None = None) -> Events:
    """Read and validate an events file.

    Parameters
    ----------
    path : str or Path, optional
        The CSV file. By default ``./events.csv`` when the working folder has
        one, else the curated list bundled with the package.

    Returns
    -------
    Events

    Raises
    ------
    EventsFileError
        When the file is missing, unreadable, or a row is invalid; the message
        names the file, the line and the column.
    """
    if path is None:
        local = Path("events.csv")
        path = local if local.is_file() else bundled_events_path()
    p = Path(path)
    text, data = _read_text(p)
    return _parse(text, str(p), hashlib.sha256(data).hexdigest())


def validate_events(
    path: str | Path, limit: int = 20
) -> tuple[Events | None, list[EventsFileError], list[str]]:
    """Check an events file, listing every error (up to ``limit``) instead of the first.

    Returns
    -------
    events : Events or None
        The events when the file has no error.
    errors : list of EventsFileError
        Each names the file, the line and the column.
    warnings : list of str
        E.g. times without an offset in rows without ``tz`` (read as UTC).
    """
    from .eventrows import scan_events

    p = Path(path)
    try:
        text, data = _read_text(p)
    except EventsFileError as exc:
        return None, [exc], []
    return scan_events(text, str(p), hashlib.sha256(data).hexdigest(), limit)


def events_from_records(records: Iterable[dict[str, object]]) -> Events:
    """Build :class:`Events` from dicts with the file's column names (for code and tests)."""
    rows = list(records)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    w.writeheader()
    for r in rows:
        unknown = set(r) - set(COLUMNS)
        if unknown:
            raise InputError(f"unknown event field(s) {sorted(unknown)}; valid: {list(COLUMNS)}")
        w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    text = buf.getvalue()
    return _parse(text, "<memory>", hashlib.sha256(text.encode()).hexdigest())


def _parse(text: str, name: str, sha: str) -> Events:
    """Parse and validate events text; the first error is raised."""
    from .eventrows import scan_events

    events, errors, _ = scan_events(text, name, sha, limit=1)
    if errors:
        raise errors[0]
    assert events is not None
    return events


Direction = Literal[-1, 0, 1]

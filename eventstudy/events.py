"""Read and validate event files (``events.csv``) into an immutable :class:`Events`.

The format (see README): one row per event; required columns ``event_id``,
``timestamp``, ``title``; optional ``category``, ``direction``, ``source``,
``confidence``, ``tz``, ``symbols``, ``notes``. ``timestamp`` is strict ISO
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
import hashlib
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from .errors import EventsFileError, InputError, show
from .timestamps import parse_timestamp

__all__ = ["CATEGORIES", "COLUMNS", "Events", "bundled_events_path", "read_events"]

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
        instant, see :class:`~eventstudy.timestamps.Timing`) and ``date_only``.
    path : str
        Where the events came from (``"<memory>"`` when built in code).
    sha256 : str
        Hash of the file's bytes (of the CSV text when built in code).
    """

    table: pd.DataFrame
    path: str = "<memory>"
    sha256: str = ""

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        from .reprs import events_repr

        return events_repr(self)

    def _repr_html_(self) -> str:
        from .reprs import events_html

        return events_html(self)

    @property
    def ids(self) -> list[str]:
        """Event ids, in file order."""
        return list(self.table["event_id"])

    def applies_to(self, symbol: str) -> np.ndarray:
        """Boolean mask: which events apply to ``symbol`` (empty ``symbols`` = all)."""
        syms = self.table["symbols"]
        return np.array([not s or symbol in s.split() for s in syms], dtype=bool)

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
        return Events(t.loc[keep].reset_index(drop=True), self.path, self.sha256)

    def to_csv(self) -> str:
        """The events as CSV text in the file format (original columns only)."""
        buf = io.StringIO()
        self.table.loc[:, list(COLUMNS)].to_csv(buf, index=False, lineterminator="\n")
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
    if not path.exists():
        raise EventsFileError(name, "file not found; check the path or pass --events FILE")
    if path.is_dir():
        raise EventsFileError(name, "is a folder, not an events CSV file")
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise EventsFileError(name, "looks like a binary file, not a CSV text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise EventsFileError(name, "is not UTF-8 text; save it as UTF-8", line) from exc
    return text, data


def _sniff_delimiter(header: str) -> str:
    if "," not in header and ";" in header:
        return ";"
    if "," not in header and "\t" in header:
        return "\t"
    return ","


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
    if not text.strip():
        raise EventsFileError(name, "the file is empty; it needs a header and one row per event")
    first = text.splitlines()[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first))
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        raise EventsFileError(name, f"cannot parse the header: {exc}", 1) from exc
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise EventsFileError(
            name,
            f"missing required column(s) {', '.join(missing)}; the header must include {', '.join(REQUIRED)}",
            1,
        )
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise EventsFileError(
            name,
            f"unknown column {show(unknown[0])}; valid columns: {', '.join(COLUMNS)}",
            1,
            unknown[0],
        )
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise EventsFileError(name, f"column {show(dup)} appears twice in the header", 1, dup)
    rows: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    try:
        for rec in reader:
            line = reader.line_num
            if not rec or all(not c.strip() for c in rec):
                continue
            if len(rec) != len(header):
                raise EventsFileError(
                    name,
                    f"has {len(rec)} fields but the header has {len(header)}; "
                    "quote fields that contain commas",
                    line,
                )
            row = {h: v.strip() for h, v in zip(header, rec, strict=True)}
            rows.append(_validate_row(row, name, line, seen))
    except csv.Error as exc:
        raise EventsFileError(name, f"malformed CSV: {exc}", reader.line_num) from exc
    if not rows:
        raise EventsFileError(name, "has a header but no events; add one row per event")
    table = pd.DataFrame(rows)
    for col in ("start_utc", "end_utc"):
        table[col] = pd.DatetimeIndex(table[col]).as_unit("ns")
    for col in ("local_date", "local_end"):
        table[col] = pd.DatetimeIndex(table[col]).as_unit("ns")
    table["direction"] = table["direction"].astype("int64")
    table["date_only"] = table["date_only"].astype(bool)
    return Events(table, name, sha)


def _validate_row(row: dict[str, str], name: str, line: int, seen: dict[str, int]) -> dict[str, object]:
    eid = row.get("event_id", "")
    if not eid:
        raise EventsFileError(name, "event_id is empty; give every event a unique id", line, "event_id")
    if not _ID_RE.match(eid):
        raise EventsFileError(
            name,
            f"event_id {show(eid)} may contain only letters, digits and . _ : + -",
            line,
            "event_id",
        )
    if eid in seen:
        raise EventsFileError(
            name,
            f"duplicate event_id {show(eid)} (first on line {seen[eid]}); ids must be unique",
            line,
            "event_id",
        )
    seen[eid] = line
    if not row.get("title"):
        raise EventsFileError(name, "title is empty; describe the event", line, "title")
    tzname = row.get("tz", "")
    if tzname:
        try:
            ZoneInfo(tzname)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise EventsFileError(
                name,
                f"unknown time zone {show(tzname)}; use an IANA name such as Asia/Shanghai",
                line,
                "tz",
            ) from exc
    raw = row.get("timestamp", "")
    if not raw:
        raise EventsFileError(
            name, "timestamp is empty; write 2025-06-10T22:55Z or 2025-06-10", line, "timestamp"
        )
    try:
        timing = parse_timestamp(raw, tzname)
    except InputError as exc:
        raise EventsFileError(name, str(exc), line, "timestamp") from exc
    category = row.get("category", "") or "other"
    if category not in CATEGORIES:
        raise EventsFileError(
            name,
            f"unknown category {show(category)}; valid: {', '.join(CATEGORIES)}",
            line,
            "category",
        )
    d = row.get("direction", "")
    if d not in _DIRECTIONS:
        raise EventsFileError(
            name,
            f"direction {show(d)} must be 1 (de-escalation), -1 (escalation) or 0 (unclear)",
            line,
            "direction",
        )
    out: dict[str, object] = {c: row.get(c, "") for c in COLUMNS}
    out["category"] = category
    out["direction"] = _DIRECTIONS[d]
    out["symbols"] = " ".join(row.get("symbols", "").replace(",", " ").split())
    out.update(
        start_utc=timing.start,
        end_utc=timing.end,
        local_date=timing.local_date,
        local_end=timing.local_end,
        timing=timing.kind,
        date_only=timing.kind == "date",
    )
    return out


Direction = Literal[-1, 0, 1]

"""Row-by-row validation of events text, collecting every error (see :mod:`eventstudy.events`).

:func:`scan_events` checks each row field by field and goes on after a bad
row, so a file with several problems is reported in one pass (up to a
limit), each error naming the file, the line and the column. It also
collects warnings on assumptions, such as a time without an offset in a row
without ``tz`` (read as UTC). A file is first read a column at a time
(:func:`_columns_at_once`: each check over all rows, the times by
:func:`~eventstudy.timecolumns.timing_columns`), which gives the same events
and warnings; at the first sign of a problem the row-by-row scan takes over
and words every error.
"""

from __future__ import annotations

import csv
import difflib
import io
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from .errors import EventsFileError, InputError, show
from .events import _DIRECTIONS, _ID_RE, CATEGORIES, COLUMNS, DERIVED_COLUMNS, REQUIRED, Events
from .timecolumns import timing_columns
from .timestamps import has_naive_time, parse_timestamp

__all__ = ["scan_events"]


def _sniff_delimiter(header: str) -> str:
    if "," not in header and ";" in header:
        return ";"
    if "," not in header and "\t" in header:
        return "\t"
    return ","


def scan_events(
    text: str, name: str, sha: str = "", limit: int = 20
) -> tuple[Events | None, list[EventsFileError], list[str]]:
    """Validate events text, collecting up to ``limit`` errors instead of stopping at the first.

    Returns
    -------
    events : Events or None
        The events when there is no error.
    errors : list of EventsFileError
        Every problem found (at most ``limit``; a broken header stops the scan),
        each naming the line and the column.
    warnings : list of str
        Assumptions worth a word, e.g. a time without an offset in a row
        without ``tz``, read as UTC.
    """
    if not text.strip():
        return None, [EventsFileError(name, "the file is empty; it needs a header and one row per event")], []
    delimiter = _sniff_delimiter(text.splitlines()[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        return None, [EventsFileError(name, f"cannot parse the header: {exc}", 1)], []
    problem = _header_problem(header, name)
    if problem is not None:
        return None, [problem], []
    fast = _columns_at_once(text, header, delimiter, name, sha)
    if fast is not None:
        return fast, [], list(fast.warnings)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader)
    rows: list[dict[str, object]] = []
    errors: list[EventsFileError] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    try:
        for rec in reader:
            line = reader.line_num
            if not rec or all(not c.strip() for c in rec):
                continue
            if len(rec) != len(header):
                errors.append(
                    EventsFileError(
                        name,
                        f"has {len(rec)} fields but the header has {len(header)}; "
                        "quote fields that contain commas",
                        line,
                    )
                )
            else:
                row = {h: v.strip() for h, v in zip(header, rec, strict=True)}
                out, errs = _validate_row(row, name, line, seen)
                errors.extend(errs)
                if out is not None:
                    rows.append(out)
                    if not row.get("tz") and has_naive_time(row.get("timestamp", "")):
                        warnings.append(_naive_warning(name, line, row["timestamp"]))
            if len(errors) >= limit:
                break
    except csv.Error as exc:
        errors.append(EventsFileError(name, f"malformed CSV: {exc}", reader.line_num))
    if errors:
        return None, errors[:limit], warnings
    if not rows:
        return None, [EventsFileError(name, "has a header but no events; add one row per event")], warnings
    table = pd.DataFrame(rows)
    for col in ("start_utc", "end_utc", "local_date", "local_end"):
        table[col] = pd.DatetimeIndex(table[col]).as_unit("ns")
    table["direction"] = table["direction"].astype("int64")
    table["date_only"] = table["date_only"].astype(bool)
    return Events(table, name, sha, tuple(warnings)), [], warnings


def _columns_at_once(text: str, header: list[str], delimiter: str, name: str, sha: str) -> Events | None:
    """The events of a file without an error, checked a column at a time; ``None`` at the first
    sign of a problem (the row-by-row scan then finds and words every error).

    The same table and warnings as the row-by-row scan: the cells stripped,
    each column's checks over all rows at once, and the times converted by
    :func:`~eventstudy.timecolumns.timing_columns`.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    recs: list[list[str]] = []
    lines: list[int] = []
    try:
        next(reader)
        for rec in reader:
            if not rec or all(not c.strip() for c in rec):
                continue
            if len(rec) != len(header):
                return None
            recs.append(rec)
            lines.append(reader.line_num)
    except csv.Error:
        return None
    if not recs:
        return None
    cols = {h: [v.strip() for v in col] for h, col in zip(header, zip(*recs, strict=True), strict=True)}
    n = len(recs)
    blank = [""] * n
    ids, titles = cols["event_id"], cols["title"]
    tz = cols.get("tz", blank)
    category = [c or "other" for c in cols.get("category", blank)]
    direction = cols.get("direction", blank)
    if (
        len(set(ids)) != n
        or not all(i and _ID_RE.match(i) for i in ids)
        or not all(titles)
        or not set(category) <= set(CATEGORIES)
        or not set(direction) <= set(_DIRECTIONS)
        or not all(_known_zone(z) for z in set(tz) - {""})
    ):
        return None
    try:
        timing = timing_columns(cols["timestamp"], tz)
    except InputError:
        return None
    table: dict[str, object] = {c: cols.get(c, blank) for c in COLUMNS}
    table.update({h: v for h, v in cols.items() if h not in table})  # extra columns, as text
    table["category"] = category
    table["direction"] = np.array([_DIRECTIONS[d] for d in direction], dtype=np.int64)
    table["symbols"] = [_symbols(s) for s in cols.get("symbols", blank)]
    table.update(
        start_utc=timing.start,
        end_utc=timing.end,
        local_date=timing.local_date,
        local_end=timing.local_end,
        timing=timing.kind,
        date_only=np.array([k == "date" for k in timing.kind], dtype=bool),
        line=np.array(lines, dtype=np.int64),
    )
    warnings = [
        _naive_warning(name, line, raw)
        for line, raw, zone in zip(lines, cols["timestamp"], tz, strict=True)
        if not zone and has_naive_time(raw)
    ]
    return Events(pd.DataFrame(table), name, sha, tuple(warnings))


def _naive_warning(name: str, line: int, raw: str) -> str:
    """The warning on a time without an offset in a row without ``tz`` (read as UTC)."""
    return (
        f"{name}, line {line}, column 'timestamp': {show(raw)} has no "
        "offset and the row no tz: read as UTC; add an offset (Z, +08:00) or a tz"
    )


def _symbols(text: str) -> str:
    """A ``symbols`` cell as symbols separated by single spaces (commas read as spaces)."""
    return " ".join(text.replace(",", " ").split())


def _known_zone(tzname: str) -> bool:
    """Whether ``tzname`` is an IANA time zone :mod:`zoneinfo` knows."""
    try:
        ZoneInfo(tzname)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a folder
        return False
    return True


def _header_problem(header: list[str], name: str) -> EventsFileError | None:
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return EventsFileError(
            name,
            f"missing required column(s) {', '.join(missing)}; the header must include {', '.join(REQUIRED)}",
            1,
        )
    for h in header:  # extra columns are kept (covariates), but not a typo of a standard one
        if h in COLUMNS:
            continue
        near = difflib.get_close_matches(h.lower(), COLUMNS, n=1, cutoff=0.8)
        if not h:
            why = "a column has no name; name every column of the header"
        elif h in DERIVED_COLUMNS:
            why = f"{show(h)} is a name the toolkit derives; rename the column"
        elif near:
            why = f"unknown column {show(h)}: did you mean {show(near[0])}? (standard: {', '.join(COLUMNS)})"
        else:
            continue
        return EventsFileError(name, why, 1, h)
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        return EventsFileError(name, f"column {show(dup)} appears twice in the header", 1, dup)
    return None


def _validate_row(
    row: dict[str, str], name: str, line: int, seen: dict[str, int]
) -> tuple[dict[str, object] | None, list[EventsFileError]]:
    """One row checked field by field: the validated row (None if any field is bad) and every error."""
    errs: list[EventsFileError] = []

    def bad(message: str, column: str) -> None:
        errs.append(EventsFileError(name, message, line, column))

    eid = row.get("event_id", "")
    if not eid:
        bad("event_id is empty; give every event a unique id", "event_id")
    elif not _ID_RE.match(eid):
        bad(f"event_id {show(eid)} may contain only letters, digits and . _ : + -", "event_id")
    elif eid in seen:
        bad(f"duplicate event_id {show(eid)} (first on line {seen[eid]}); ids must be unique", "event_id")
    else:
        seen[eid] = line
    if not row.get("title"):
        bad("title is empty; describe the event", "title")
    tzname = row.get("tz", "")
    if tzname and not _known_zone(tzname):
        bad(f"unknown time zone {show(tzname)}; use an IANA name such as Asia/Shanghai", "tz")
        tzname = ""
    raw = row.get("timestamp", "")
    timing = None
    if not raw:
        bad("timestamp is empty; write 2025-06-10T22:55Z or 2025-06-10", "timestamp")
    else:
        try:
            timing = parse_timestamp(raw, tzname)
        except InputError as exc:
            bad(str(exc), "timestamp")
    category = row.get("category", "") or "other"
    if category not in CATEGORIES:
        bad(f"unknown category {show(category)}; valid: {', '.join(CATEGORIES)}", "category")
    d = row.get("direction", "")
    if d not in _DIRECTIONS:
        bad(f"direction {show(d)} must be 1 (de-escalation), -1 (escalation) or 0 (unclear)", "direction")
    if errs or timing is None:
        return None, errs
    out: dict[str, object] = {c: row.get(c, "") for c in COLUMNS}
    out.update({c: v for c, v in row.items() if c not in out})  # extra columns, as text
    out["category"] = category
    out["direction"] = _DIRECTIONS[d]
    out["symbols"] = _symbols(row.get("symbols", ""))
    out.update(
        start_utc=timing.start,
        end_utc=timing.end,
        local_date=timing.local_date,
        local_end=timing.local_end,
        timing=timing.kind,
        date_only=timing.kind == "date",
        line=line,
    )
    return out, []

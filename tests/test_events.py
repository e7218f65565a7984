"""Reading and validating events files (``events.csv``) and ``Events.filter``.

Expected values for the curated file are computed here with the standard
library's ``csv`` and ``zoneinfo`` modules, independently of
:mod:`eventstudy.events`.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from eventstudy import Events, EventsFileError, EventStudyError, InputError, events_from_records, read_events

REPO = Path(__file__).resolve().parents[1]
EVENTS_CSV = REPO / "events.csv"
CATEGORIES = {
    "talks",
    "agreement",
    "truce",
    "tariff_escalation",
    "tariff_deescalation",
    "export_control",
    "retaliation",
    "statement",
    "other",
}


# ------------------------------------------------------------ independent reading
def _raw_rows() -> list[dict[str, str]]:
    with EVENTS_CSV.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _raw_local_date(r: dict[str, str]) -> date:
    """Calendar date of an event: the date of a date-only row, the date of an interval's
    start in the event's zone, else the UTC date of the instant."""
    ts = r["timestamp"]
    if "/" in ts:
        start = datetime.fromisoformat(ts.split("/")[0])
        return start.astimezone(ZoneInfo(r["tz"] or "UTC")).date()
    if "T" not in ts:
        return date.fromisoformat(ts)
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(UTC).date()


@pytest.fixture(scope="module")
def curated() -> Events:
    return read_events(EVENTS_CSV)


# ------------------------------------------------------------------ valid file
def test_curated_file_has_80_unique_events(curated: Events) -> None:
    raw = _raw_rows()
    assert len(raw) == 80
    assert len(curated) == 80
    assert curated.ids == [r["event_id"] for r in raw]
    assert len(set(curated.ids)) == 80
    assert curated.table["event_id"].is_unique


def test_curated_file_counts_of_date_only_and_instants(curated: Events) -> None:
    raw = _raw_rows()
    n_intervals = sum("/" in r["timestamp"] for r in raw)
    n_instants = sum("T" in r["timestamp"] and "/" not in r["timestamp"] for r in raw)
    n_dates = sum(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["timestamp"]) is not None for r in raw)
    assert (n_instants, n_intervals, n_dates) == (23, 46, 11)
    t = curated.table
    assert int(t["date_only"].sum()) == n_dates
    assert int((t["timing"] == "interval").sum()) == n_intervals
    assert int((t["timing"] == "instant").sum()) == n_instants


def test_curated_file_values(curated: Events) -> None:
    raw = _raw_rows()
    t = curated.table
    assert list(t["category"]) == [r["category"] or "other" for r in raw]
    assert set(t["category"]) <= CATEGORIES
    assert list(t["direction"]) == [int(r["direction"] or 0) for r in raw]
    assert Counter(t["direction"]) == Counter(int(r["direction"]) for r in raw)
    assert list(t["title"]) == [r["title"] for r in raw]
    assert curated.sha256 == hashlib.sha256(EVENTS_CSV.read_bytes()).hexdigest()
    assert str(EVENTS_CSV) in curated.path or curated.path.endswith("events.csv")


def test_curated_file_instants_and_local_days(curated: Events) -> None:
    """start_utc/end_utc: the instant, or the UTC bounds of the local day (zoneinfo, not pandas)."""
    t = curated.table.set_index("event_id")
    for r in _raw_rows():
        row = t.loc[r["event_id"]]
        ts = r["timestamp"]
        if "/" in ts:
            a, b = ts.split("/")
            lo = datetime.fromisoformat(a).astimezone(UTC)
            hi = datetime.fromisoformat(b).astimezone(UTC)
            assert lo < hi, r["event_id"]
        elif "T" in ts:
            inst = datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(UTC)
            lo = hi = inst
        else:
            zone = ZoneInfo(r["tz"] or "UTC")
            d = datetime.fromisoformat(ts)
            lo = d.replace(tzinfo=zone).astimezone(UTC)
            hi = (d + timedelta(days=1)).replace(tzinfo=zone).astimezone(UTC)
        assert pd.Timestamp(row["start_utc"]) == pd.Timestamp(lo), r["event_id"]
        assert pd.Timestamp(row["end_utc"]) == pd.Timestamp(hi), r["event_id"]
        assert pd.Timestamp(row["local_date"]).date() == _raw_local_date(r), r["event_id"]


def test_specific_curated_events(curated: Events) -> None:
    t = curated.table.set_index("event_id")
    lib = t.loc["2025-04-02-liberation-day"]
    assert not lib["date_only"]
    assert pd.Timestamp(lib["start_utc"]) == pd.Timestamp("2025-04-02 20:35", tz="UTC")
    bj = t.loc["2025-04-04-china-34pct-and-rare-earths"]
    assert not bj["date_only"] and bj["timing"] == "interval"
    assert bj["tz"] == "Asia/Shanghai"
    # from the start of Friday in Beijing to noon CEST
    assert pd.Timestamp(bj["start_utc"]) == pd.Timestamp("2025-04-03 16:00", tz="UTC")
    assert pd.Timestamp(bj["end_utc"]) == pd.Timestamp("2025-04-04 10:00", tz="UTC")
    assert pd.Timestamp(bj["local_date"]) == pd.Timestamp("2025-04-04")
    wb = t.loc["2025-06-10-world-bank-forecast-cut"]
    assert wb["date_only"] and wb["timing"] == "date"
    assert pd.Timestamp(wb["start_utc"]) == pd.Timestamp("2025-06-10 04:00", tz="UTC")
    assert pd.Timestamp(wb["end_utc"]) == pd.Timestamp("2025-06-11 04:00", tz="UTC")


def test_events_are_immutable(curated: Events) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        curated.path = "x"  # type: ignore[misc]


# ------------------------------------------------------------------ errors
HEADER = "event_id,timestamp,tz,title,category,direction\n"
GOOD1 = "a,2025-06-10T22:55Z,,London framework,agreement,1\n"
GOOD2 = "b,2025-04-04,Asia/Shanghai,Beijing 34%,retaliation,-1\n"


def _write(tmp_path: Path, content: str | bytes, name: str = "my events.csv") -> Path:
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8", newline="")
    return p


def _check_message(exc: BaseException, path: Path, line: int | None, column: str | None) -> str:
    assert isinstance(exc, EventsFileError)
    assert isinstance(exc, ValueError)
    assert isinstance(exc, EventStudyError)
    msg = str(exc)
    assert "\n" not in msg and "\r" not in msg, msg
    assert str(path) in msg, msg
    if line is not None:
        assert re.search(rf"\bline {line}\b", msg), msg
    if column is not None:
        assert column in msg, msg
    return msg


# (case id, file content, line named, column named, a fragment of the explanation)
ROW_ERRORS: list[tuple[str, str, int, str, str]] = [
    ("duplicate-id", HEADER + GOOD1 + GOOD2 + "a,2025-05-12T07:00Z,,Geneva,truce,1\n", 4, "event_id", "a"),
    ("empty-id", HEADER + GOOD1 + ",2025-05-12T07:00Z,,Geneva,truce,1\n", 3, "event_id", ""),
    ("bad-timestamp-words", HEADER + GOOD1 + "c,tomorrow,,Geneva,truce,1\n", 3, "timestamp", "tomorrow"),
    (
        "bad-timestamp-month",
        HEADER + GOOD1 + GOOD2 + "c,2025-13-45T10:00Z,,X,truce,1\n",
        4,
        "timestamp",
        "2025-13-45",
    ),
    ("bad-date-only", HEADER + "c,2025-02-30,,X,truce,1\n", 2, "timestamp", "2025-02-30"),
    ("empty-timestamp", HEADER + GOOD1 + "c,,,X,truce,1\n", 3, "timestamp", ""),
    ("unknown-tz", HEADER + GOOD1 + "c,2025-05-12,Mars/Olympus,X,truce,1\n", 3, "tz", "Mars/Olympus"),
    ("bad-category", HEADER + GOOD1 + GOOD2 + "c,2025-05-12,,X,war,1\n", 4, "category", "war"),
    ("bad-direction", HEADER + GOOD1 + "c,2025-05-12,,X,truce,2\n", 3, "direction", "2"),
    ("bad-direction-word", HEADER + "c,2025-05-12,,X,truce,up\n", 2, "direction", "up"),
    ("empty-title", HEADER + GOOD1 + "c,2025-05-12,,,truce,1\n", 3, "title", ""),
]


@pytest.mark.parametrize(
    ("content", "line", "column", "fragment"), [pytest.param(*c[1:], id=c[0]) for c in ROW_ERRORS]
)
def test_row_errors_name_file_line_column(
    tmp_path: Path, content: str, line: int, column: str, fragment: str
) -> None:
    p = _write(tmp_path, content)
    with pytest.raises(EventsFileError) as ei:
        read_events(p)
    msg = _check_message(ei.value, p, line, column)
    assert fragment in msg


def test_row_error_after_quoted_multiline_field_counts_physical_lines(tmp_path: Path) -> None:
    content = HEADER + 'a,2025-06-10T22:55Z,,"two\nline title",agreement,1\n' + "b,2025-05-12,,X,war,1\n"
    p = _write(tmp_path, content)
    with pytest.raises(EventsFileError) as ei:
        read_events(p)
    _check_message(ei.value, p, 4, "category")


def test_extra_column_kept_typo_refused(tmp_path: Path) -> None:
    p = _write(tmp_path, "event_id,timestamp,title,sentiment\na,2025-05-12,X,0.3\n")
    ev = read_events(p)  # an extra column (a covariate of the second stage) is kept as text
    assert ev.extra_columns == ["sentiment"] and ev.table["sentiment"].tolist() == ["0.3"]
    assert "sentiment" in ev.to_csv().splitlines()[0].split(",")
    p = _write(tmp_path, "event_id,timestamp,title,diretion\na,2025-05-12,X,1\n")
    with pytest.raises(EventsFileError, match="did you mean 'direction'") as ei:
        read_events(p)
    _check_message(ei.value, p, 1, "diretion")


def test_missing_required_column(tmp_path: Path) -> None:
    p = _write(tmp_path, "event_id,timestamp,category\na,2025-05-12,talks\n")
    with pytest.raises(EventsFileError) as ei:
        read_events(p)
    _check_message(ei.value, p, 1, "title")


def test_duplicate_header_column(tmp_path: Path) -> None:
    p = _write(tmp_path, "event_id,timestamp,title,title\na,2025-05-12,X,Y\n")
    with pytest.raises(EventsFileError) as ei:
        read_events(p)
    _check_message(ei.value, p, 1, "title")


def test_blank_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    p = _write(tmp_path, HEADER + "\n" + GOOD1 + "\n\n" + "c,2025-05-12,,X,war,1\n")
    with pytest.raises(EventsFileError) as ei:
        read_events(p)
    _check_message(ei.value, p, 6, "category")
    ok = _write(tmp_path, HEADER + "\n" + GOOD1 + "\n\n" + GOOD2, "ok.csv")
    assert read_events(ok).ids == ["a", "b"]


# Date-only events on daylight-saving change days: the local day is 23 or 25 hours long.
DST_DAYS = [
    # New York springs forward 02:00 → 03:00: 00:00 EST = 05:00Z, next midnight EDT = 04:00Z
    ("2025-03-09", "America/New_York", "2025-03-09 05:00", "2025-03-10 04:00"),
    # New York falls back 02:00 → 01:00: 00:00 EDT = 04:00Z, next midnight EST = 05:00Z
    ("2025-11-02", "America/New_York", "2025-11-02 04:00", "2025-11-03 05:00"),
    # Berlin springs forward 02:00 → 03:00 CEST: 00:00 CET = 23:00Z the day before
    ("2025-03-30", "Europe/Berlin", "2025-03-29 23:00", "2025-03-30 22:00"),
    # Santiago skips midnight (00:00 -04 → 01:00 -03): the day starts at 01:00 -03 = 04:00Z
    ("2025-09-07", "America/Santiago", "2025-09-07 04:00", "2025-09-08 03:00"),
]


@pytest.mark.parametrize(("day", "tz", "start", "end"), DST_DAYS)
def test_date_only_bounds_on_dst_days(day: str, tz: str, start: str, end: str) -> None:
    ev = events_from_records([{"event_id": "d", "timestamp": day, "tz": tz, "title": "t"}])
    row = ev.table.iloc[0]
    assert pd.Timestamp(row["start_utc"]) == pd.Timestamp(start, tz="UTC")
    assert pd.Timestamp(row["end_utc"]) == pd.Timestamp(end, tz="UTC")
    assert bool(row["date_only"])
    assert str(pd.Timestamp(row["local_date"]).date()) == day


def test_wrong_number_of_fields(tmp_path: Path) -> None:
    p = _write(tmp_path, HEADER + GOOD1 + "c,2025-05-12,,X,truce,1,extra,fields\n")
    with pytest.raises(EventsFileError) as ei:
        read_events(p)
    _check_message(ei.value, p, 3, None)


def test_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "nope" / "events.csv"
    with pytest.raises(EventsFileError) as ei:
        read_events(p)
    msg = _check_message(ei.value, p, None, None)
    assert "not found" in msg


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(EventsFileError) as ei:
        read_events(tmp_path)
    _check_message(ei.value, tmp_path, None, None)


@pytest.mark.parametrize("content", ["", "\n\n", "   \n"], ids=["zero-bytes", "blank-lines", "spaces"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    p = _write(tmp_path, content)
    with pytest.raises(EventsFileError) as ei:
        read_events(p)
    msg = _check_message(ei.value, p, None, None)
    assert "empty" in msg


def test_header_only(tmp_path: Path) -> None:
    p = _write(tmp_path, HEADER)
    with pytest.raises(EventsFileError) as ei:
        read_events(p)
    msg = _check_message(ei.value, p, None, None)
    assert "no events" in msg or "no rows" in msg


def test_non_utf8_bytes(tmp_path: Path) -> None:
    content = (HEADER + GOOD1 + GOOD2).encode() + "c,2025-05-12,,Caf\xe9 talks,talks,1\n".encode("latin-1")
    p = _write(tmp_path, content)
    with pytest.raises(EventsFileError) as ei:
        read_events(p)
    msg = _check_message(ei.value, p, 4, None)
    assert "UTF-8" in msg


def test_binary_file(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256))
    p = _write(tmp_path, png, "events.csv")
    with pytest.raises(EventsFileError) as ei:
        read_events(p)
    msg = _check_message(ei.value, p, None, None)
    assert "binary" in msg


def test_errors_are_catchable_as_value_error(tmp_path: Path) -> None:
    p = _write(tmp_path, HEADER + "c,2025-05-12,,X,war,1\n")
    with pytest.raises(ValueError, match=r"category"):
        read_events(p)


# ------------------------------------------------------------ accepted variants
VARIANT_ROWS = [
    ["event_id", "timestamp", "tz", "title", "category", "direction", "notes"],
    ["geneva", "2025-05-12T09:00+02:00", "", "Geneva joint statement, 90-day truce", "truce", "+1", ""],
    ["bj34", "2025-04-04", "Asia/Shanghai", "Beijing 34% retaliation", "retaliation", "-1", "date only"],
    ["london", "2025-06-10T22:55Z", "", "London framework", "agreement", "1", 'says "deal"'],
]


def _csv_text(delimiter: str = ",", lineterminator: str = "\n") -> str:
    import io

    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=lineterminator)
    w.writerows(VARIANT_ROWS)
    return buf.getvalue()


def _comparable(ev: Events) -> pd.DataFrame:
    return ev.table.reset_index(drop=True)


@pytest.fixture
def plain(tmp_path: Path) -> Events:
    return read_events(_write(tmp_path, _csv_text(), "plain.csv"))


def test_plain_variant_values(plain: Events) -> None:
    t = plain.table.set_index("event_id")
    assert pd.Timestamp(t.loc["geneva", "start_utc"]) == pd.Timestamp("2025-05-12 07:00", tz="UTC")
    assert t.loc["geneva", "title"] == "Geneva joint statement, 90-day truce"
    assert t.loc["geneva", "direction"] == 1
    assert t.loc["bj34", "direction"] == -1
    assert t.loc["london", "notes"] == 'says "deal"'


@pytest.mark.parametrize(
    ("variant", "data"),
    [
        ("bom", b"\xef\xbb\xbf" + _csv_text().encode()),
        ("crlf", _csv_text(lineterminator="\r\n").encode()),
        ("semicolon", _csv_text(delimiter=";").encode()),
        ("semicolon-crlf-bom", b"\xef\xbb\xbf" + _csv_text(";", "\r\n").encode()),
    ],
)
def test_accepted_variants_parse_identically(
    tmp_path: Path, plain: Events, variant: str, data: bytes
) -> None:
    p = tmp_path / f"{variant}.csv"
    p.write_bytes(data)
    ev = read_events(p)
    pd.testing.assert_frame_equal(_comparable(ev), _comparable(plain))
    assert ev.sha256 == hashlib.sha256(data).hexdigest()


def test_crlf_error_line_numbers(tmp_path: Path) -> None:
    text = (HEADER + GOOD1 + GOOD2 + "c,2025-05-12,,X,war,1\n").replace("\n", "\r\n")
    p = _write(tmp_path, text)
    with pytest.raises(EventsFileError) as ei:
        read_events(p)
    _check_message(ei.value, p, 4, "category")


def test_events_from_records_matches_file(plain: Events) -> None:
    header, *rows = VARIANT_ROWS
    ev = events_from_records([dict(zip(header, r, strict=True)) for r in rows])
    pd.testing.assert_frame_equal(_comparable(ev), _comparable(plain))


def test_events_from_records_rejects_unknown_field() -> None:
    with pytest.raises(InputError, match="sentiment"):
        events_from_records([{"event_id": "a", "timestamp": "2025-05-12", "title": "x", "sentiment": 1}])


def test_events_from_records_validates_rows() -> None:
    with pytest.raises(EventsFileError, match="category"):
        events_from_records([{"event_id": "a", "timestamp": "2025-05-12", "title": "x", "category": "war"}])


# ------------------------------------------------------------------ filter
def test_filter_by_category(curated: Events) -> None:
    raw = _raw_rows()
    got = curated.filter(categories=["talks", "truce"])
    assert got.ids == [r["event_id"] for r in raw if r["category"] in ("talks", "truce")]
    assert len(got) == 15


def test_filter_by_direction(curated: Events) -> None:
    raw = _raw_rows()
    got = curated.filter(directions=[1])
    assert got.ids == [r["event_id"] for r in raw if int(r["direction"]) == 1]
    got2 = curated.filter(directions=[-1, 0])
    assert got2.ids == [r["event_id"] for r in raw if int(r["direction"]) in (-1, 0)]


def test_filter_by_dates(curated: Events) -> None:
    raw = _raw_rows()
    lo, hi = date(2025, 4, 1), date(2025, 6, 30)
    got = curated.filter(start="2025-04-01", end="2025-06-30")
    assert got.ids == [r["event_id"] for r in raw if lo <= _raw_local_date(r) <= hi]
    assert len(got) > 10
    only_start = curated.filter(start="2025-10-10")
    assert only_start.ids == [r["event_id"] for r in raw if _raw_local_date(r) >= date(2025, 10, 10)]


def test_filter_combined_and_ids(curated: Events) -> None:
    raw = _raw_rows()
    got = curated.filter(categories=["tariff_escalation"], directions=[-1], start="2025-01-01")
    exp = [
        r["event_id"]
        for r in raw
        if r["category"] == "tariff_escalation"
        and r["direction"] == "-1"
        and _raw_local_date(r) >= date(2025, 1, 1)
    ]
    assert got.ids == exp
    ids = ["2025-04-02-liberation-day", "2025-05-12-geneva-joint-statement"]
    assert curated.filter(ids=ids).ids == ids


def test_filter_keeps_original_and_provenance(curated: Events) -> None:
    got = curated.filter(categories=["truce"])
    assert len(curated) == 80
    assert got.sha256 == curated.sha256
    assert got.path == curated.path
    assert isinstance(got, Events)


def test_filter_none_keeps_all(curated: Events) -> None:
    assert curated.filter().ids == curated.ids


def test_filter_nothing_matches(curated: Events) -> None:
    assert len(curated.filter(start="2030-01-01")) == 0


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"categories": ["war"]}, "war"),
        ({"directions": [2]}, "2"),
        ({"start": "not-a-date"}, "not-a-date"),
        ({"ids": ["no-such-event"]}, "no-such-event"),
    ],
)
def test_filter_rejects_bad_values(curated: Events, kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(InputError) as ei:
        curated.filter(**kwargs)  # type: ignore[arg-type]
    assert isinstance(ei.value, ValueError)
    assert fragment in str(ei.value)

"""Read a saved study folder back into a :class:`~eventstudy.results.StudyResult`.

A saved folder holds every table, the manifest and a copy of the studied
events, so its report can be rendered again (``eventstudy report DIR``) with
a newer template, without recomputing anything. The prices are reloaded from
the source the manifest names (the bundled snapshot, the CSV file, the Yahoo
cache); when they cannot be found the report simply omits the index-level
chart. Per-market return series are not saved, so ``event_dummies()`` needs
a fresh run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from .config import StudyConfig
from .csvsafe import restore_frame
from .errors import EventStudyError, InputError, OutputError
from .events import Events, read_events
from .output import is_study_folder
from .safety import MAX_STUDY_BYTES, check_input, read_input_bytes
from .sources.base import Prices

__all__ = ["load_result", "rerender"]

_DATE_COLS = {
    "abnormal_returns.csv": ["date"],
    "car.csv": ["day0", "day0_latest"],
    "fits.csv": ["est_start", "est_end", "day0", "day0_latest"],
}


_REQUIRED = {
    "abnormal_returns.csv": ("event_id", "symbol", "rel_day", "date", "ar", "car"),
    "car.csv": ("event_id", "symbol", "window", "car", "se", "t_stat", "p_value"),
    "tests.csv": ("group_by", "group", "window", "test", "statistic", "p_value", "n"),
    "caar.csv": ("group_by", "group", "window"),
    "fits.csv": ("event_id", "symbol", "excluded", "reason"),
}


def _read(folder: Path, name: str) -> pd.DataFrame:
    p = folder / name
    if not p.is_file():
        return pd.DataFrame()
    check_input(p, name, MAX_STUDY_BYTES)
    try:
        df = pd.read_csv(p, keep_default_na=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{p}: not a readable table ({str(exc).splitlines()[0]}); save the study again"
        ) from exc
    missing = [c for c in _REQUIRED.get(name, ()) if c not in df.columns]
    if missing:
        raise InputError(f"{p}: lacks column(s) {', '.join(missing)}; save the study again")
    df = restore_frame(df)
    for c in _DATE_COLS.get(name, []):
        if c in df.columns:
            df[c] = pd.to_datetime(df[c], errors="coerce").astype("datetime64[ns]")
    for c in ("note", "overlaps", "reason"):
        if c in df.columns:
            df[c] = df[c].astype(object).where(df[c].notna(), "").astype(str)
    return df


def _prices(manifest: dict[str, Any], symbols: list[str]) -> Prices:
    from .sources import load_prices

    info = manifest.get("prices", {})
    source = info.get("source", "snapshot")
    try:
        if source == "csv":
            return load_prices(symbols, source="csv", path=info.get("origin"))
        if source == "yahoo":
            ranges = info.get("ranges", {})
            start = min(v[0] for v in ranges.values()) if ranges else None
            return load_prices(symbols, source="yahoo", start=start)
        return load_prices(symbols, source="snapshot")
    except EventStudyError:
        return Prices({}, source, "prices unavailable when the report was re-rendered")


def load_result(path: str | Path) -> Any:
    """Load the study saved in ``path`` (a folder with ``study.json``)."""
    from .results import StudyResult

    folder = Path(path)
    man_path = folder / "study.json"
    if not man_path.is_file():
        raise InputError(f"{folder}: not a study folder (no study.json)")
    try:
        manifest = json.loads(read_input_bytes(man_path, "study.json", MAX_STUDY_BYTES).decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(f"{man_path}: not valid JSON ({exc}); save the study again") from exc
    params = manifest.get("parameters") if isinstance(manifest, dict) else None
    if not isinstance(params, dict):
        raise InputError(f"{man_path}: has no 'parameters' table; save the study again")
    try:
        cfg = StudyConfig.from_dict(params)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise InputError(f"{man_path}: {exc}") from exc
        raise InputError(f"{man_path}: malformed parameters ({exc!r}); save the study again") from exc
    symbols = params.get("symbols", [])
    if not isinstance(symbols, list) or not all(isinstance(x, str) for x in symbols):
        raise InputError(f"{man_path}: 'symbols' must be a list of symbols; save the study again")
    saved = read_events(folder / "events.csv")
    events = Events(restore_frame(saved.table), saved.path, saved.sha256)
    need = symbols + ([cfg.benchmark] if cfg.benchmark else [])
    return StudyResult(
        config=cfg,
        events=events,
        prices=_prices(manifest, need),
        symbols=tuple(symbols),
        abnormal_returns_table=_read(folder, "abnormal_returns.csv"),
        car_table=_read(folder, "car.csv"),
        tests_table=_read(folder, "tests.csv"),
        caar_table=_read(folder, "caar.csv"),
        fits_table=_read(folder, "fits.csv"),
        manifest=manifest,
        placebo_table=_read(folder, "placebo.csv"),
        headline_table=_read(folder, "headlines.csv"),
        volatility_table=_read(folder, "volatility.csv"),
    )


def rerender(path: str | Path) -> Path:
    """Render ``index.html`` of a saved study again (written atomically)."""
    import os
    import tempfile

    folder = Path(path)
    if not is_study_folder(folder):
        raise OutputError(f"{folder}: not a study folder written by eventstudy; its index.html is left as is")
    res = load_result(path)
    try:
        html = res.to_html()
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        if isinstance(exc, EventStudyError):
            raise
        raise InputError(
            f"{folder}: the saved tables are inconsistent ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}); run the study again"
        ) from exc
    fd, tmp = tempfile.mkstemp(prefix=".index.html.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.replace(tmp, folder / "index.html")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return folder / "index.html"

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
from .errors import EventStudyError, InputError
from .events import read_events
from .sources.base import Prices

__all__ = ["load_result", "rerender"]

_DATE_COLS = {
    "abnormal_returns.csv": ["date"],
    "car.csv": ["day0", "day0_latest"],
    "fits.csv": ["est_start", "est_end", "day0", "day0_latest"],
}


def _read(folder: Path, name: str) -> pd.DataFrame:
    p = folder / name
    if not p.is_file():
        return pd.DataFrame()
    df = pd.read_csv(p, keep_default_na=True)
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
        manifest = json.loads(man_path.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{man_path}: not valid JSON ({exc})") from exc
    params = manifest.get("parameters", {})
    cfg = StudyConfig.from_dict(params)
    symbols = list(params.get("symbols", []))
    events = read_events(folder / "events.csv")
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
    )


def rerender(path: str | Path) -> Path:
    """Render ``index.html`` of a saved study again (written atomically)."""
    import os
    import tempfile

    res = load_result(path)
    html = res.to_html()
    folder = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".index.html.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.replace(tmp, folder / "index.html")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return folder / "index.html"

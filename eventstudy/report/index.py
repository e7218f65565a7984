"""``reports/index.html``: the list of every study folder in a reports directory.

The page reads only each folder's ``study.json`` (and, when present, the
overall CAAR of the main window from its ``caar.csv``); it is self-contained
(no plotly, no script, no external resource), newest study first, and every
value read from the folders is escaped by Jinja2's autoescaping.
"""

from __future__ import annotations

import csv
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..markets import market_name
from . import fmt
from .render import ENV

__all__ = ["read_study_entry", "write_reports_index"]

_OLDEST = datetime.min.replace(tzinfo=UTC)


def _created(text: Any) -> datetime:
    try:
        d = datetime.fromisoformat(str(text))
    except ValueError:
        return _OLDEST
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _headline_caar(folder: Path, window: str) -> str:
    path = folder / "caar.csv"
    if not window or not path.is_file():
        return ""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row.get("group_by") == "all" and row.get("group") == "all" and row.get("window") == window:
                    return fmt.fmt_pct(row.get("caar"))
    except (OSError, csv.Error, UnicodeDecodeError):
        return ""
    return ""


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def read_study_entry(folder: Path) -> dict[str, Any] | None:
    """One study folder as a row of the index (``None`` when it has no ``study.json``).

    A ``study.json`` that cannot be read still gives a row, whose ``problem``
    says why.
    """
    path = folder / "study.json"
    if not path.is_file():
        return None
    entry: dict[str, Any] = {
        "folder": folder.name,
        "href": quote(folder.name, safe="") + "/index.html",
        "has_report": (folder / "index.html").is_file(),
        "problem": "",
        "created": "",
        "sort_key": _OLDEST,
        "name": folder.name,
    }
    try:
        man = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(man, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        entry["problem"] = f"study.json unreadable: {exc}"
        return entry
    params = _dict(man.get("parameters"))
    counts = _dict(man.get("counts"))
    events = _dict(man.get("events"))
    prices = _dict(man.get("prices"))
    windows = params.get("car_windows") or []
    windows = [str(w) for w in windows] if isinstance(windows, list) else [str(windows)]
    symbols = params.get("symbols") or []
    symbols = [str(s) for s in symbols] if isinstance(symbols, list) else [str(symbols)]
    entry.update(
        {
            "created": str(man.get("created", "")),
            "sort_key": _created(man.get("created")),
            "name": str(params.get("name", folder.name)),
            "model": str(params.get("model", "")),
            "benchmark": str(params.get("benchmark") or ""),
            "estimation": str(params.get("estimation", "")),
            "windows": windows,
            "markets": [market_name(s) for s in symbols],
            "n_events": events.get("n_events", ""),
            "events_file": str(events.get("file", "")),
            "source": str(prices.get("origin") or prices.get("source") or ""),
            "included": counts.get("included", ""),
            "excluded": counts.get("excluded", ""),
            "caar": _headline_caar(folder, windows[0] if windows else ""),
        }
    )
    return entry


def write_reports_index(reports_dir: Path) -> Path:
    """Write ``reports_dir/index.html`` listing every study folder, newest first.

    Parameters
    ----------
    reports_dir : Path
        A folder of study folders (each with a ``study.json``, as written by
        :meth:`StudyResult.save`). Other folders and files are ignored.

    Returns
    -------
    Path
        The index file. It is written to a temporary name and renamed into
        place, so a reader never sees half a page.
    """
    root = Path(reports_dir)
    root.mkdir(parents=True, exist_ok=True)
    entries = [e for d in sorted(p for p in root.iterdir() if p.is_dir()) if (e := read_study_entry(d))]
    entries.sort(key=lambda e: (e["sort_key"], e["folder"]), reverse=True)
    html = ENV.get_template("index.html.j2").render(studies=entries, folder=root.name)
    target = root / "index.html"
    tmp = root / f".index.html.{os.getpid()}.tmp"
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, target)
    return target

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
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..errors import OutputError
from ..markets import market_name
from ..safety import MAX_STUDY_BYTES, read_input_bytes
from . import fmt
from .render import ENV

__all__ = ["listing_is_ours", "owns_reports_root", "read_study_entry", "write_reports_index"]

_LISTING_MARK = '<meta name="eventstudy-listing"'
_OLD_MARK = ('<meta name="generator" content="eventstudy">', "<title>Event studies in ")

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
        man = json.loads(read_input_bytes(path, "study.json", MAX_STUDY_BYTES).decode("utf-8"))
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


def listing_is_ours(path: Path) -> bool:
    """Whether ``path`` is absent or a listing of studies that the toolkit wrote.

    A listing carries the ``eventstudy-listing`` meta tag (earlier versions:
    the generator tag and the listing's title); a hand-written page, a link
    or anything but a regular file is not the toolkit's to replace.
    """
    p = Path(path)
    if not p.exists() and not p.is_symlink():
        return True
    if p.is_symlink() or not p.is_file():
        return False
    try:
        with p.open("rb") as fh:
            head = fh.read(4096).decode("utf-8", "replace")
    except OSError:
        return False
    return _LISTING_MARK in head or all(m in head for m in _OLD_MARK)


def owns_reports_root(root: Path) -> bool:
    """Whether ``root`` is a folder of studies whose listing the toolkit may refresh unasked.

    True when its ``index.html`` is a listing the toolkit wrote, or when there
    is none yet and every visible entry is a study folder the toolkit wrote
    (a folder that also holds a user's files gets no listing).
    """
    from ..output import is_study_folder

    r = Path(root)
    index = r / "index.html"
    if index.exists() or index.is_symlink():
        return listing_is_ours(index)
    try:
        entries = [p for p in r.iterdir() if not p.name.startswith(".")]
    except OSError:
        return False
    return all(is_study_folder(p) for p in entries)


def write_reports_index(reports_dir: Path) -> Path:
    """Write ``reports_dir/index.html`` listing every study folder, newest first.

    Parameters
    ----------
    reports_dir : Path
        A folder of study folders (each with a ``study.json``, as written by
        :meth:`StudyResult.save`). Other folders and files, links and hidden
        (temporary) folders are ignored.

    Returns
    -------
    Path
        The index file. It is written to a temporary name and renamed into
        place, so a reader never sees half a page.

    Raises
    ------
    OutputError
        When ``index.html`` exists and is not a listing the toolkit wrote.
    """
    root = Path(reports_dir)
    root.mkdir(parents=True, exist_ok=True)
    target = root / "index.html"
    if not listing_is_ours(target):
        raise OutputError(
            f"{target}: exists and is not a listing written by eventstudy; "
            "it was left as it is (move it away to get a listing of the studies)"
        )
    folders = sorted(
        p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
    )
    entries = [e for d in folders if (e := read_study_entry(d))]
    entries.sort(key=lambda e: (e["sort_key"], e["folder"]), reverse=True)
    html = ENV.get_template("index.html.j2").render(studies=entries, folder=root.name)
    fd, name = tempfile.mkstemp(prefix=".index.html.", suffix=".tmp", dir=root)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target

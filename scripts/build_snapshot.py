"""Rebuild the bundled offline price snapshot from the provenance-checked CSVs.

Usage: ``python scripts/build_snapshot.py ../shared/data/prices``

Reads each ``<FILE>.csv`` (columns date,open,high,low,close,volume), keeps the
closing level, and writes ``eventstudy/data/snapshot/closes.csv.gz`` (long
layout ``symbol,date,close``, gzip with a fixed timestamp so the bytes are
reproducible) plus ``manifest.json`` (per symbol: source file and its sha256,
rows, first and last date) and a copy of ``PROVENANCE.md``.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import shutil
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "eventstudy" / "data" / "snapshot"


def symbol_of(name: str) -> str:
    stem = name[: -len(".csv")]
    if stem.endswith("_X"):
        return stem[:-2] + "=X"
    if stem[0].isalpha() and stem.isupper() and stem not in {"ACWI", "URTH"}:
        return "^" + stem
    return stem


def main(src: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["symbol", "date", "close"])
    manifest: dict[str, dict[str, object]] = {}
    for f in sorted(src.glob("*.csv")):
        sym = symbol_of(f.name)
        raw = f.read_bytes()
        rows = list(csv.DictReader(io.StringIO(raw.decode())))
        for r in rows:
            w.writerow([sym, r["date"], r["close"]])
        manifest[sym] = {
            "source_file": f.name,
            "source_sha256": hashlib.sha256(raw).hexdigest(),
            "rows": len(rows),
            "first": rows[0]["date"],
            "last": rows[-1]["date"],
        }
    data = gzip.compress(buf.getvalue().encode(), compresslevel=9, mtime=0)
    (OUT / "closes.csv.gz").write_bytes(data)
    doc = {
        "file": "closes.csv.gz",
        "sha256": hashlib.sha256(data).hexdigest(),
        "layout": "long: symbol,date,close",
        "symbols": manifest,
    }
    (OUT / "manifest.json").write_text(json.dumps(doc, indent=2) + "\n")
    shutil.copy(src / "PROVENANCE.md", OUT / "PROVENANCE.md")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

"""The bundled offline snapshot of daily index levels (2017–2025).

Shipped inside the package (``eventstudy/data/snapshot``) and read through
:mod:`importlib.resources`, so it works from an installed wheel. Its origin,
transformations and checks are documented in the bundled ``PROVENANCE.md``;
``manifest.json`` lists every series with the sha256 of its source file, and
the packaged file's own sha256 is verified on load. FX series are moved to
the business day they close (see :mod:`eventstudy.sources.fx`).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import json
from collections.abc import Sequence
from importlib import resources

import pandas as pd

from ..errors import PricesError
from .base import Prices, clip
from .fx import fx_correct_dates, is_fx

__all__ = ["SnapshotSource", "snapshot_manifest"]

_PKG = "eventstudy"
_DIR = "data/snapshot"


def snapshot_manifest() -> dict[str, object]:
    """The snapshot's manifest (file checksum and per-symbol provenance)."""
    text = resources.files(_PKG).joinpath(f"{_DIR}/manifest.json").read_text("utf-8")
    out: dict[str, object] = json.loads(text)
    return out


@functools.lru_cache(maxsize=1)
def _load_all() -> dict[str, pd.Series]:
    manifest = snapshot_manifest()
    data = resources.files(_PKG).joinpath(f"{_DIR}/{manifest['file']}").read_bytes()
    if hashlib.sha256(data).hexdigest() != manifest["sha256"]:
        raise PricesError("the bundled price snapshot fails its checksum; reinstall the package")
    df = pd.read_csv(
        io.BytesIO(gzip.decompress(data)),
        dtype={"symbol": "str", "close": "float64"},
        parse_dates=["date"],
    )
    out: dict[str, pd.Series] = {}
    for sym, g in df.groupby("symbol", sort=False):
        s = pd.Series(
            g["close"].to_numpy(),
            index=pd.DatetimeIndex(g["date"]).as_unit("ns"),
            name=str(sym),
        )
        s.index.name = "date"
        out[str(sym)] = s
    return out


class SnapshotSource:
    """Price source over the bundled snapshot (no network, always available)."""

    name = "snapshot"

    def load(
        self,
        symbols: Sequence[str] | None = None,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> Prices:
        allc = _load_all()
        syms = list(symbols) if symbols is not None else list(allc)
        unknown = [s for s in syms if s not in allc]
        if unknown:
            raise PricesError(
                f"symbol(s) {', '.join(unknown)} not in the bundled snapshot; available: "
                f"{', '.join(sorted(allc))} (use --prices FILE for other data)"
            )
        manifest = snapshot_manifest()
        per = manifest["symbols"]
        assert isinstance(per, dict)
        shifted = [s for s in syms if is_fx(s)]
        prov: dict[str, object] = {
            "file": manifest["file"],
            "fx_date_shift": (
                f"{', '.join(shifted)}: Yahoo's FX dates moved back one business day "
                "(a bar dated d holds the previous business day's close)"
                if shifted
                else ""
            ),
            "file_sha256": manifest["sha256"],
            "series": {s: per[s] for s in syms},
            "provenance": "eventstudy/data/snapshot/PROVENANCE.md",
        }
        closes = {s: fx_correct_dates(allc[s]) if is_fx(s) else allc[s] for s in syms}
        prices = Prices(closes, "snapshot", "bundled snapshot", prov)
        return clip(prices, start, end)

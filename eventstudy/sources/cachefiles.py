"""The cache's file primitives: atomic writes, guarded reads, closes to and from parquet bytes."""

from __future__ import annotations

import contextlib
import io
import os
import stat
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["atomic_write", "closes_from_parquet", "parquet_bytes", "read_regular"]


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file, never through a symbolic link and never more than ``limit``."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise ValueError("not a regular file")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit} bytes")
    return data


def parquet_bytes(closes: pd.Series) -> bytes:
    """The parquet bytes of ``closes`` (a ``close`` column indexed by ``date``, nanosecond dates)."""
    idx = pd.DatetimeIndex(closes.index).as_unit("ns")
    df = pd.DataFrame({"close": np.asarray(closes.to_numpy(), dtype="float64")}, index=idx)
    df.index.name = "date"
    buf = io.BytesIO()
    df.to_parquet(buf, engine="pyarrow", index=True)
    return buf.getvalue()


def closes_from_parquet(data: bytes, symbol: str) -> pd.Series:
    """The closes in parquet ``data``.

    ``ValueError`` unless they are finite and positive, on ascending unique tz-naive dates.
    """
    df = pd.read_parquet(io.BytesIO(data), engine="pyarrow")
    if "close" not in df.columns:
        raise ValueError("no 'close' column")
    idx = pd.DatetimeIndex(df.index)
    if idx.tz is not None:
        raise ValueError("dates carry a timezone")
    vals = df["close"].to_numpy(dtype="float64")
    if not (np.isfinite(vals).all() and (vals > 0).all()):
        raise ValueError("non-finite or non-positive closes")
    idx = idx.as_unit("ns")
    if not (idx.is_monotonic_increasing and idx.is_unique):
        raise ValueError("dates not ascending and unique")
    s = pd.Series(vals, index=idx, name=symbol)
    s.index.name = "date"
    return s

"""On-disk cache of daily closes fetched from a network source.

One parquet file per symbol holds the closes (a ``close`` column indexed by
tz-naive dates); a JSON sidecar beside it records the date ranges the file
covers (every row Yahoo had inside a covered range is stored, so a date inside
a covered range without a row had no session), the sha256 of the parquet bytes
and a few facts about the fetch. A file whose bytes do not match the recorded
checksum, or that cannot be read back as valid closes, is reported as
:class:`CacheCorruptError` and is then discarded and fetched again by the
caller.

Writes are atomic (a temporary file in the same directory, ``fsync``, then
:func:`os.replace`), and writers of one symbol serialise on an exclusive
``fcntl.flock`` of a per-symbol lock file; readers take a shared lock, so they
never see the parquet file of one write with the sidecar of another. On
platforms without :mod:`fcntl` the lock is a no-op (atomic replacement still
prevents torn files, but concurrent writers may then lose each other's rows).

Location: ``$EVENTSTUDY_CACHE`` if set, else the user's cache directory from
:mod:`platformdirs` (``~/.cache/eventstudy`` on Linux); each source keeps its
files in a sub-directory named after it (``…/yahoo``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import hashlib
import json
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import numpy as np
import pandas as pd

from ..errors import PricesError, show
from .cachefiles import atomic_write, closes_from_parquet, parquet_bytes, read_regular
from .spans import Span, as_midnight, merge_spans, missing_spans

try:  # POSIX
    import fcntl as _fcntl
except ImportError:  # pragma: no cover - Windows
    _fcntl = None  # type: ignore[assignment]

__all__ = [
    "CACHE_ENV",
    "FORMAT",
    "CacheCorruptError",
    "CacheEntry",
    "EntryInfo",
    "PriceCache",
    "Span",
    "default_cache_dir",
    "merge_spans",
    "missing_spans",
]

#: Environment variable that overrides the cache location.
CACHE_ENV = "EVENTSTUDY_CACHE"
#: Version of the on-disk layout (sidecar ``format`` field).
FORMAT = 1


class CacheCorruptError(PricesError):
    """A cached file fails its checksum or cannot be read back."""


def default_cache_dir() -> Path:
    """The cache root: ``$EVENTSTUDY_CACHE`` or the platform's user cache dir.

    Returns
    -------
    pathlib.Path
        ``$EVENTSTUDY_CACHE`` when set and not empty, else
        ``platformdirs.user_cache_path("eventstudy")``.
    """
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_path("eventstudy"))


@dataclass(frozen=True, eq=False)
class CacheEntry:
    """The cached closes of one symbol.

    Parameters
    ----------
    symbol : str
    closes : pandas.Series
        Float closes indexed by tz-naive dates (unit ``ns``), ascending, unique.
    covered : tuple of (Timestamp, Timestamp)
        Inclusive date ranges the closes are complete for.
    meta : dict
        Free-form facts stored in the sidecar (currency, timezone, versions).
    sha256 : str
        Checksum of the parquet file's bytes.
    """

    symbol: str
    closes: pd.Series
    covered: tuple[Span, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""

    def covers(self, request: Span) -> bool:
        """Whether every date of ``request`` lies inside a covered range."""
        return not missing_spans(request, self.covered)


@dataclass(frozen=True)
class EntryInfo:
    """Summary of one cached symbol (for ``eventstudy cache info``).

    Attributes
    ----------
    symbol : str
    rows : int
        Number of stored closes (0 when the entry is unreadable).
    first, last : str or None
        First and last stored date (ISO), if any.
    covered : list of (str, str)
        Covered inclusive date ranges (ISO).
    size_bytes : int
        Bytes on disk (parquet + sidecar).
    ok : bool
        Whether the entry passes its checksum and reads back.
    problem : str
        Why it is not ok (empty when ok).
    written_at : str
        UTC time of the last write (ISO), if recorded.
    """

    symbol: str
    rows: int
    first: str | None
    last: str | None
    covered: list[tuple[str, str]]
    size_bytes: int
    ok: bool
    problem: str = ""
    written_at: str = ""


class PriceCache:
    """Per-symbol parquet files with checksummed JSON sidecars.

    Parameters
    ----------
    root : str or Path, optional
        Cache root (default :func:`default_cache_dir`).
    namespace : str
        Sub-directory of the root for this source (default ``"yahoo"``).
    """

    def __init__(self, root: str | Path | None = None, namespace: str = "yahoo") -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()
        self.namespace = namespace

    @property
    def directory(self) -> Path:
        """Directory holding this source's files."""
        return self.root / self.namespace

    # -- paths ---------------------------------------------------------------
    def _stem(self, symbol: str) -> str:
        if not symbol or symbol != symbol.strip():
            raise PricesError(f"symbol '{symbol}' is not a valid symbol name")
        return quote(symbol, safe="^=.-_")

    def data_path(self, symbol: str) -> Path:
        """Parquet file of ``symbol``."""
        return self.directory / f"{self._stem(symbol)}.parquet"

    def meta_path(self, symbol: str) -> Path:
        """JSON sidecar of ``symbol``."""
        return self.directory / f"{self._stem(symbol)}.json"

    def lock_path(self, symbol: str) -> Path:
        """Lock file of ``symbol``."""
        return self.directory / f"{self._stem(symbol)}.lock"

    # -- locking -------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self, symbol: str, exclusive: bool = True) -> Iterator[None]:
        """Hold the per-symbol lock (exclusive for writers, shared for readers).

        Uses ``fcntl.flock`` on ``<symbol>.lock``; it is released when the
        block exits or the process dies. Blocks until the lock is free.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.lock_path(symbol)
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(path, flags, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise PricesError(
                    f"{path}: the cache's lock file is a symbolic link; remove it (links are never followed)"
                ) from None
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise PricesError(f"{path}: the cache's lock file is not a regular file; remove it")
        with os.fdopen(fd, "a+b") as fh:
            if _fcntl is not None:
                _fcntl.flock(fh.fileno(), _fcntl.LOCK_EX if exclusive else _fcntl.LOCK_SH)
            try:
                yield
            finally:
                if _fcntl is not None:
                    _fcntl.flock(fh.fileno(), _fcntl.LOCK_UN)

    # -- read / write --------------------------------------------------------
    def read(self, symbol: str) -> CacheEntry | None:
        """The cached entry of ``symbol``, or ``None`` when nothing is cached.

        Call inside :meth:`locked`. Raises :class:`CacheCorruptError` when the
        parquet bytes do not match the sidecar's sha256, the sidecar is
        unreadable, or the closes are invalid.
        """
        dpath, mpath = self.data_path(symbol), self.meta_path(symbol)
        if not dpath.exists() and not mpath.exists():
            return None
        where = f"cache file {dpath}"
        try:
            meta = json.loads(read_regular(mpath, 64 << 20).decode("utf-8"))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise ValueError("unknown sidecar format")
            if meta.get("symbol") != symbol:
                raise CacheCorruptError(
                    f"{where}: the entry belongs to {show(meta.get('symbol'))}, not {show(symbol)}"
                )
            data = read_regular(dpath, 2 << 30)
            digest = hashlib.sha256(data).hexdigest()
            if digest != meta.get("sha256"):
                raise CacheCorruptError(f"{where}: checksum mismatch (the file is corrupt)")
            covered = merge_spans((as_midnight(a), as_midnight(b)) for a, b in meta["covered"])
            closes = closes_from_parquet(data, symbol)
        except CacheCorruptError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CacheCorruptError(f"{where}: unreadable ({str(exc).splitlines()[0]})") from exc
        except Exception as exc:  # pyarrow raises its own error types
            raise CacheCorruptError(f"{where}: unreadable ({type(exc).__name__})") from exc
        extra = {k: v for k, v in meta.items() if k not in {"format", "sha256", "covered"}}
        return CacheEntry(symbol, closes, covered, extra, digest)

    def write(
        self,
        symbol: str,
        closes: pd.Series,
        covered: Iterable[Span],
        meta: dict[str, Any] | None = None,
    ) -> CacheEntry:
        """Store ``closes`` as the whole entry of ``symbol`` (call inside :meth:`locked`).

        The parquet file is replaced first and the sidecar second; a crash in
        between leaves a checksum mismatch, which the next read reports as
        corrupt (and the caller fetches again).
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        idx = pd.DatetimeIndex(closes.index)
        s = pd.Series(np.asarray(closes.to_numpy(), dtype="float64"), index=idx.as_unit("ns"))
        s = s[~s.index.duplicated(keep="last")].sort_index()
        spans = merge_spans(covered)
        data = parquet_bytes(s)
        digest = hashlib.sha256(data).hexdigest()
        side: dict[str, Any] = dict(meta or {})
        side.update(
            {
                "format": FORMAT,
                "symbol": symbol,
                "sha256": digest,
                "rows": len(s),
                "first": s.index[0].date().isoformat() if len(s) else None,
                "last": s.index[-1].date().isoformat() if len(s) else None,
                "covered": [[a.date().isoformat(), b.date().isoformat()] for a, b in spans],
                "written_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            }
        )
        atomic_write(self.data_path(symbol), data)
        atomic_write(self.meta_path(symbol), json.dumps(side, indent=1).encode("utf-8"))
        s.name = symbol
        s.index.name = "date"
        return CacheEntry(symbol, s, spans, side, digest)

    def discard(self, symbol: str) -> None:
        """Delete the files of ``symbol`` (call inside :meth:`locked`)."""
        for p in (self.data_path(symbol), self.meta_path(symbol)):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    # -- listing -------------------------------------------------------------
    def symbols(self) -> list[str]:
        """Symbols with files in the cache, sorted."""
        if not self.directory.is_dir():
            return []
        stems = {p.stem for p in self.directory.glob("*.json")}
        stems |= {p.stem for p in self.directory.glob("*.parquet")}
        return sorted(unquote(s) for s in stems)

    def info(self) -> list[EntryInfo]:
        """One :class:`EntryInfo` per cached symbol (checksums verified)."""
        out: list[EntryInfo] = []
        for sym in self.symbols():
            size = sum(p.stat().st_size for p in (self.data_path(sym), self.meta_path(sym)) if p.exists())
            with self.locked(sym, exclusive=False):
                try:
                    e = self.read(sym)
                except CacheCorruptError as exc:
                    out.append(EntryInfo(sym, 0, None, None, [], size, False, str(exc)))
                    continue
            if e is None:
                continue
            idx = e.closes.index
            out.append(
                EntryInfo(
                    sym,
                    len(e.closes),
                    idx[0].date().isoformat() if len(idx) else None,
                    idx[-1].date().isoformat() if len(idx) else None,
                    [(a.date().isoformat(), b.date().isoformat()) for a, b in e.covered],
                    size,
                    True,
                    "",
                    str(e.meta.get("written_at", "")),
                )
            )
        return out

    def clear(self, symbols: Sequence[str] | None = None) -> int:
        """Delete the entries of ``symbols`` (all when ``None``); return how many."""
        present = self.symbols()
        targets = present if symbols is None else [s for s in symbols if s in set(present)]
        for sym in targets:
            with self.locked(sym):
                self.discard(sym)
        # Lock files are kept: unlinking one while another process waits on it
        # would let two writers lock different inodes.
        return len(targets)

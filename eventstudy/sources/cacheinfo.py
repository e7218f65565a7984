"""``eventstudy cache info`` and ``eventstudy cache clear``: the Yahoo price cache as a user sees it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .cache import EntryInfo, PriceCache

__all__ = ["CacheInfo", "cache_clear", "cache_info"]


@dataclass(frozen=True)
class CacheInfo:
    """What ``eventstudy cache info`` shows.

    Attributes
    ----------
    directory : Path
        Where the Yahoo price files live.
    entries : list of EntryInfo
        One per cached symbol (checksum verified).
    total_bytes : int
    """

    directory: Path
    entries: list[EntryInfo]
    total_bytes: int


def cache_info(cache_dir: str | Path | None = None) -> CacheInfo:
    """Describe the Yahoo price cache (``$EVENTSTUDY_CACHE`` or the user cache dir)."""
    cache = PriceCache(cache_dir, namespace="yahoo")
    entries = cache.info()
    return CacheInfo(cache.directory, entries, sum(e.size_bytes for e in entries))


def cache_clear(cache_dir: str | Path | None = None, symbols: Sequence[str] | None = None) -> int:
    """Delete cached Yahoo prices (of ``symbols``, or all); return how many symbols."""
    return PriceCache(cache_dir, namespace="yahoo").clear(symbols)

"""The report templates' compiled code kept on disk between runs (Jinja2's bytecode cache).

Compiling ``report.html.j2`` is 0.1–0.2 s of every report, the same work in
each process. Jinja2 can keep the compiled code (:class:`jinja2.BytecodeCache`):
each template's entry holds its source's checksum and Jinja2's and Python's
versions, and an entry that does not match, or that cannot be read, is compiled
again from the template. :class:`TemplateCache` keeps the entries in the
``templates`` folder of the toolkit's disk cache (``$EVENTSTUDY_CACHE`` or the
user's cache folder, beside the calendars;
:func:`~eventstudy.sources.cache.default_cache_dir`, read at each use), written
under a per-process name and renamed into place, as the other entries are. It
is a speed cache only: any failure to read or write it (a read-only or missing
folder, a damaged file) leaves the template compiled in memory, with the same
page.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

from ..sources.cache import default_cache_dir

__all__ = ["FOLDER", "TemplateCache"]

#: The cache's sub-folder of the toolkit's disk cache.
FOLDER = "templates"


class TemplateCache(jinja2.BytecodeCache):
    """Compiled templates in ``<cache>/templates/<key>.jinja`` (see the module docstring)."""

    def _path(self, bucket: Bucket) -> Path:
        return default_cache_dir() / FOLDER / f"{bucket.key}.jinja"

    def load_bytecode(self, bucket: Bucket) -> None:
        """Read the entry of ``bucket`` (nothing when it is missing, stale or unreadable)."""
        try:
            with open(self._path(bucket), "rb") as f:
                bucket.load_bytecode(f)
        except Exception:  # a speed cache: whatever went wrong, the template is compiled again
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Write the entry of ``bucket`` (under a per-process name, then renamed into place)."""
        path = self._path(bucket)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                bucket.write_bytecode(f)
            os.replace(tmp, path)
        except OSError:  # read-only or full: the compiled template stays in memory only
            with contextlib.suppress(OSError):
                tmp.unlink()

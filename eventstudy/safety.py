"""Input files are checked before they are read: regular files of bounded size.

A path that names a FIFO, a device (``/dev/zero``, also through a symbolic
link), a socket, or a file larger than the limit of its kind is refused at
once with an :class:`~eventstudy.errors.InputError` naming the path and the
fix, instead of blocking forever or reading until memory runs out. Parquet
price data may also be a folder of parquet files (each checked the same way).

The limits are generous for the toolkit's data (an events file of a million
rows is about 200 MB) and can be raised with the environment variable
``EVENTSTUDY_MAX_INPUT_MB`` (megabytes, for every kind).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from .errors import EventStudyError, InputError

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_EVENTS_BYTES",
    "MAX_PRICE_BYTES",
    "MAX_STUDY_BYTES",
    "check_input",
    "read_input_bytes",
]

MB = 1 << 20
MAX_EVENTS_BYTES = 256 * MB
MAX_PRICE_BYTES = 2048 * MB
MAX_CONFIG_BYTES = 1 * MB
MAX_STUDY_BYTES = 256 * MB

ErrorFactory = Callable[[str, str], EventStudyError]


def _default_error(path: str, message: str) -> EventStudyError:
    return InputError(f"{path}: {message}")


def _limit(default: int) -> int:
    raw = os.environ.get("EVENTSTUDY_MAX_INPUT_MB", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw) * MB
    return default


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_input(
    path: str | Path,
    what: str,
    limit: int,
    allow_parquet_dir: bool = False,
    error: ErrorFactory = _default_error,
) -> int:
    """Check that ``path`` is a regular file (or a parquet folder) of at most ``limit`` bytes.

    Parameters
    ----------
    path : str or Path
        The input; symbolic links are followed (a link to a regular file is fine).
    what : str
        Kind of input for the message (``"events"``, ``"prices"``, …).
    limit : int
        Largest size accepted, in bytes (see ``EVENTSTUDY_MAX_INPUT_MB``).
    allow_parquet_dir : bool
        Accept a folder whose files are all regular ``.parquet`` files.
    error : callable, optional
        Builds the exception from the path and the message (the caller's
        error class, e.g. ``EventsFileError``).

    Returns
    -------
    int
        The size in bytes.

    Raises
    ------
    EventStudyError
        ``error(path, message)``: missing, not a regular file, or too large.
    """
    p = Path(path)
    limit = _limit(limit)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise error(str(p), f"file not found; check the {what} path") from None
    except OSError as exc:
        raise error(str(p), f"cannot be read ({exc.strerror}); check the {what} path") from None
    if stat.S_ISDIR(st.st_mode):
        if not allow_parquet_dir:
            raise error(str(p), f"is a folder, not a {what} file; pass the file itself")
        files = [f for f in p.rglob("*") if not f.is_dir()]
        if not files or any(f.suffix.lower() not in (".parquet", ".pq") for f in files):
            raise error(str(p), f"a {what} folder must hold only .parquet files")
        return sum(check_input(f, what, limit, False, error) for f in files)
    if not stat.S_ISREG(st.st_mode):
        raise error(str(p), f"is {_kind(st.st_mode)}, not a regular file; pass a regular {what} file")
    if st.st_size > limit:
        raise error(
            str(p),
            f"is {st.st_size / MB:,.0f} MB, more than the {limit / MB:,.0f} MB allowed for {what} "
            "files; split it, or raise EVENTSTUDY_MAX_INPUT_MB",
        )
    return int(st.st_size)


def read_input_bytes(path: str | Path, what: str, limit: int, error: ErrorFactory = _default_error) -> bytes:
    """The bytes of a checked input file (see :func:`check_input`), never more than ``limit``.

    The file is opened non-blocking, so a path swapped for a FIFO after the
    check cannot block the read either.
    """
    p = Path(path)
    check_input(p, what, limit, error=error)
    limit = _limit(limit)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise error(str(p), f"cannot be opened ({exc.strerror}); check the {what} path") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise error(str(p), f"is not a regular file; pass a regular {what} file")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise error(str(p), f"is larger than the {limit / MB:,.0f} MB allowed for {what} files")
    return data

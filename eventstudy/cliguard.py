"""How the command line ends: one clean line per failure, safe terminal text.

Every :class:`~eventstudy.errors.EventStudyError`, every ``OSError`` (disk
full, permissions, a path under a file…) and ``MemoryError`` becomes one line
on stderr naming the path or argument and the fix, exit code 1; an interrupt
(Ctrl-C, ``SIGTERM``, ``SIGHUP``) exits 130 after the library's cleanup has
run (temporary folders removed, an earlier study left in place). With
``--debug`` the exception propagates with its traceback instead. This is the
only module besides :mod:`eventstudy.cli` that writes to the terminal.
"""

from __future__ import annotations

import contextlib
import errno
import re
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import typer

from .errors import EventStudyError

__all__ = ["Interrupted", "Outcome", "clean", "fail_line", "guard", "say", "warn"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class Interrupted(KeyboardInterrupt):
    """Raised by the CLI's handlers of ``SIGTERM`` and ``SIGHUP`` (cleanup runs as for Ctrl-C)."""


def clean(text: object, newlines: bool = True) -> str:
    """Text safe for a terminal: control and bidi characters shown escaped, never raw.

    With ``newlines`` false, line breaks are escaped too (for one-line messages).
    """
    s = str(text)
    if not newlines:
        s = s.replace("\r", "\\r").replace("\n", "\\n").replace("\t", " ")
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), s)


def say(text: object) -> None:
    """Print ``text`` on stdout with control characters escaped."""
    typer.echo(clean(text))


def warn(text: object) -> None:
    """Print one warning line on stderr."""
    typer.secho(f"warning: {clean(text, newlines=False)}", err=True, fg="yellow")


_FIXES = {
    errno.ENOSPC: "the disk is full; free some space or write elsewhere with --out",
    errno.EDQUOT: "the disk quota is exceeded; free some space or write elsewhere with --out",
    errno.EACCES: "permission denied; pick a folder you can write to (--out) or fix its permissions",
    errno.EPERM: "operation not permitted; pick a folder you can write to (--out)",
    errno.EROFS: "the file system is read-only; write elsewhere with --out",
    errno.ENOTDIR: "a part of the path is a file, not a folder; fix the path",
    errno.EISDIR: "is a folder where a file was expected; fix the path",
    errno.ENOENT: "no such file or folder; check the path",
    errno.ENAMETOOLONG: "the path is too long; use a shorter one",
    errno.ELOOP: "too many symbolic links; use the real path",
}


def os_message(exc: OSError) -> str:
    """One line for an ``OSError``: the path, what happened, and the fix."""
    where = exc.filename if exc.filename is not None else "(no path)"
    fix = _FIXES.get(exc.errno or -1, "check the path and try again")
    what = exc.strerror or type(exc).__name__
    return clean(f"{where}: {what}; {fix}", newlines=False)


def fail_line(message: str, code: int = 1, label: str = "error") -> NoReturn:
    """Print ``LABEL: MESSAGE`` (one line, safe text) on stderr and exit with ``code``."""
    typer.secho(f"{label}: {clean(message, newlines=False)}", err=True, fg="red")
    raise typer.Exit(code=code)


@dataclass
class Outcome:
    """What a command has written so far (for the interrupt message)."""

    written: Path | None = None


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signal.Signals(signum).name)


@contextmanager
def guard(debug: bool) -> Iterator[Outcome]:
    """Run a command body; turn every failure into one line on stderr (see module doc)."""
    outcome = Outcome()
    previous: dict[int, Any] = {}
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            with contextlib.suppress(ValueError):  # not the main thread (a test runner's worker)
                previous[sig] = signal.signal(sig, _raise_interrupt)
    try:
        yield outcome
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        if debug:
            raise
        if outcome.written is None:
            typer.secho("interrupted; nothing was written", err=True, fg="red")
        else:
            typer.secho(
                clean(f"interrupted after writing {outcome.written}; the listing was not refreshed", False),
                err=True,
                fg="red",
            )
        raise typer.Exit(code=130) from None
    except EventStudyError as exc:
        if debug:
            raise
        fail_line(str(exc))
    except OSError as exc:
        if debug:
            raise
        fail_line(os_message(exc))
    except MemoryError:
        if debug:
            raise
        fail_line("out of memory; study fewer events or markets, or use --detail pairs")
    except RecursionError:  # pragma: no cover - defensive
        if debug:
            raise
        fail_line("input too deeply nested; check the files")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sys.stdout.flush()

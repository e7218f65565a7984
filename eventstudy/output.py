"""Output folders the toolkit owns, written atomically.

Ownership rule
--------------
The toolkit replaces only a folder that it wrote as a study (it holds the
marker file :data:`MARKER`, which lists the names written, or a
``study.json`` manifest written by the toolkit) and that holds nothing else,
or an empty folder. A study folder into which a user has put their own
files is refused too, so those files are never lost. Anything else named as an output (a folder of
other files, a file, a symbolic link) is refused with an
:class:`~eventstudy.errors.OutputError`; nothing is deleted.

Atomic replacement
------------------
A study is written into ``.NAME.tmp-PID-XXXX`` beside the target and renamed
into place only when complete, under an exclusive lock on the parent folder
(so concurrent saves to one folder serialise instead of failing). An earlier
study is first renamed to ``.NAME.old-PID-XXXX`` and removed once the new one
is in place. On every exception (``KeyboardInterrupt`` and the CLI's signal
handlers included) the temporary folder is removed and the earlier study is
left exactly as it was. Leftovers of a process that was killed outright
(``kill -9``) are hidden (dot) folders, never listed as studies, and swept
by the next save into the same parent folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError, show

try:  # pragma: no cover - platform dependent
    import fcntl as _fcntl
except ImportError:  # pragma: no cover
    _fcntl = None  # type: ignore[assignment]

__all__ = ["MARKER", "atomic_folder", "check_target", "is_study_folder", "safe_folder_name", "sweep"]

MARKER = ".eventstudy-study"
_MARKER_TEXT = "This folder was written by eventstudy as a study; eventstudy may replace it as a whole.\n"
_LEFTOVER = re.compile(r"^\..+\.(tmp|old)-(\d+)-[0-9a-f]+$")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def safe_folder_name(name: str, what: str = "name") -> str:
    """Check that ``name`` is one plain folder name (it can never leave its parent).

    Raises
    ------
    OutputError
        For an empty name, ``.``/``..``, a name starting with a dot (reserved
        for temporary folders), path separators, control characters, or more
        than 120 characters.
    """
    text = str(name)
    if (
        not text.strip()
        or text.startswith(".")
        or _UNSAFE.search(text)
        or len(text) > 120
        or text != text.strip()
    ):
        raise OutputError(
            f"{what}: {show(text)} is not a plain folder name; use letters, digits, '-', '_' "
            "(no '/', '\\', leading '.', or control characters); use --out DIR for another place"
        )
    return text


def _foreign_entries(folder: Path) -> list[str]:
    """Entries of a study folder that the toolkit did not write there (a user's notes…).

    The marker lists every name the toolkit wrote; a study saved before the
    marker existed is judged by the kinds of file a study holds.
    """
    names = {p.name for p in folder.iterdir()}
    marker = folder / MARKER
    listed: set[str] | None = None
    if marker.is_file() and not marker.is_symlink():
        try:
            lines = marker.read_text(encoding="utf-8").splitlines()[1:]
        except (OSError, UnicodeDecodeError):
            lines = []
        listed = {ln for ln in lines if ln} or None
    if listed is not None:
        return sorted(names - listed - {MARKER})
    own = {".csv", ".json", ".html", ".tex", ".md"}
    return sorted(
        n
        for n in names
        if n not in (MARKER, "png")
        and not (Path(n).suffix in own and (folder / n).is_file())
        and not n.startswith(".index.html.")
    )


def is_study_folder(path: Path) -> bool:
    """Whether ``path`` is a real folder (not a link) that the toolkit wrote as a study."""
    p = Path(path)
    if p.is_symlink() or not p.is_dir():
        return False
    if (p / MARKER).is_file():
        return True
    man = p / "study.json"
    if man.is_symlink() or not man.is_file():
        return False
    try:
        doc = json.loads(man.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and {"created", "parameters", "versions"} <= set(doc)


def check_target(target: Path) -> None:
    """Raise :class:`OutputError` unless ``target`` may be written as a study folder.

    Allowed: a path that does not exist, an empty folder, or a folder the
    toolkit wrote as a study. Refused: a symbolic link (even to a study), a
    file or any other non-folder, a folder holding anything else.
    """
    t = Path(target)
    if t.is_symlink():
        raise OutputError(
            f"{t}: is a symbolic link; the toolkit does not write through links; pick another --out"
        )
    if not t.exists():
        return
    if not t.is_dir():
        raise OutputError(f"{t}: exists and is not a folder; pick another --out (the file is left as it is)")
    try:
        empty = next(t.iterdir(), None) is None
    except OSError as exc:
        raise OutputError(f"{t}: cannot read the folder ({exc.strerror}); pick another --out") from exc
    if not empty and not is_study_folder(t):
        raise OutputError(
            f"{t}: folder exists and was not written by eventstudy as a study; "
            "nothing was changed; pick a new or empty folder with --out"
        )
    if not empty:
        extra = _foreign_entries(t)
        if extra:
            shown = ", ".join(show(n) for n in extra[:3]) + (", …" if len(extra) > 3 else "")
            raise OutputError(
                f"{t}: the study folder also holds files eventstudy did not write ({shown}); "
                "nothing was changed; move them out, or pick another --out"
            )


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else
        return True
    return True


def sweep(parent: Path) -> list[Path]:
    """Remove the temporary and old folders left in ``parent`` by dead processes.

    An old study whose replacement never arrived (the process was killed
    between the two renames) is put back in place instead of being removed.
    Returns the paths swept.
    """
    swept: list[Path] = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return swept
    for p in entries:
        m = _LEFTOVER.match(p.name)
        if not m or p.is_symlink() or not p.is_dir() or _alive(int(m.group(2))):
            continue
        if m.group(1) == "old":
            original = p.with_name(p.name[1 : p.name.rindex(".old-")])
            if not original.exists() and not original.is_symlink():
                with contextlib.suppress(OSError):
                    os.rename(p, original)
                    continue
        shutil.rmtree(p, ignore_errors=True)
        swept.append(p)
    return swept


@contextmanager
def _parent_lock(parent: Path) -> Iterator[None]:
    """Exclusive ``flock`` on the parent folder itself (no lock file to leave behind)."""
    if _fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        with contextlib.suppress(OSError):  # a file system without locks: renames stay atomic
            _fcntl.flock(fd, _fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _leftover_name(target: Path, kind: str) -> Path:
    return target.with_name(f".{target.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}")


@contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``target`` only if the block succeeds.

    ``target`` must satisfy :func:`check_target` (checked before and again
    under the lock, just before the swap). On any exception
    (``KeyboardInterrupt`` included) the temporary folder is removed and
    ``target`` is left exactly as it was.

    Raises
    ------
    OutputError
        When ``target`` is not the toolkit's to replace.
    OSError
        When the folder cannot be written (disk full, permissions).
    """
    target = Path(target)
    check_target(target)
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    sweep(parent)
    tmp = _leftover_name(target, "tmp")
    try:
        tmp.mkdir(mode=0o700)
        yield tmp
        names = sorted(p.name for p in tmp.iterdir() if p.name != MARKER)
        (tmp / MARKER).write_text(_MARKER_TEXT + "".join(f"{n}\n" for n in names), encoding="utf-8")
        os.chmod(tmp, 0o755)
        with _parent_lock(parent):
            check_target(target)
            if target.exists():
                old = _leftover_name(target, "old")
                os.rename(target, old)
                try:
                    os.rename(tmp, target)
                except BaseException:
                    os.rename(old, target)
                    raise
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

"""Exception hierarchy of the toolkit.

Every error the library raises on purpose derives from :class:`EventStudyError`.
Errors caused by bad input (a file, an option, a price series) also derive from
:class:`ValueError`, so generic callers can catch them the usual way. Messages
are one line, name the offending file, line, column or argument, and say how to
fix the problem; the command line prints them as they are.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "EventStudyError",
    "EventsFileError",
    "InputError",
    "NetworkError",
    "OutputError",
    "PricesError",
]


class EventStudyError(Exception):
    """Base class of every error raised by :mod:`eventstudy`."""


class InputError(EventStudyError, ValueError):
    """An argument or option has a value the toolkit cannot use."""


class EventsFileError(InputError):
    """An events file is missing, unreadable or has an invalid row.

    Parameters
    ----------
    path : str
        The file.
    message : str
        What is wrong and how to fix it.
    line : int, optional
        1-based line number in the file (the header is line 1).
    column : str, optional
        The column (field) at fault.
    row : object, optional
        For events given as a DataFrame: the index label of the row at fault
        (then ``path`` names the DataFrame and ``line`` is None).
    """

    def __init__(
        self,
        path: str,
        message: str,
        line: int | None = None,
        column: str | None = None,
        row: object = None,
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.row = row
        self.message = message
        where = path
        if line is not None:
            where += f", line {line}"
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {show(column)}"
        super().__init__(f"{where}: {message}")


class PricesError(InputError):
    """A price file or series is missing, malformed or unusable."""


class ConfigError(InputError):
    """A study configuration file or option is invalid."""


class DataError(EventStudyError, ValueError):
    """The data cannot support the requested study (e.g. every pair excluded)."""


class OutputError(EventStudyError):
    """An output path is not the toolkit's to write (see :mod:`eventstudy.output`)."""


class NetworkError(EventStudyError):
    """A network price source could not be reached."""


def show(value: object, limit: int = 40) -> str:
    """A value quoted for a one-line message: control characters escaped, long text cut."""
    text = str(value)
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return "'" + (text if len(text) <= limit else text[: limit - 1] + "…") + "'"

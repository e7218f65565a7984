"""The command line's Typer applications and the shared ``--debug`` guard.

:mod:`eventstudy.cli` (``run``), :mod:`eventstudy.cli_tools` (``events``,
``prices``, ``cache``, ``report``) and :mod:`eventstudy.cli_reader` (``event``,
``--version``) register their commands on :data:`app`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from .cli_errors import OneLineGroup
from .cliguard import guard

app = typer.Typer(
    cls=OneLineGroup,
    help="Event studies of how markets react to news (US–China trade events bundled).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
events_app = typer.Typer(help="List, validate and align events.", no_args_is_help=True)
prices_app = typer.Typer(help="Inspect price data.", no_args_is_help=True)
app.add_typer(events_app, name="events")
cache_app = typer.Typer(help="Inspect or clear the Yahoo price cache.", no_args_is_help=True)
app.add_typer(prices_app, name="prices")
app.add_typer(cache_app, name="cache")

T = TypeVar("T")


def guarded(debug: bool, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``fn``; every failure becomes one line on stderr (see :mod:`eventstudy.cliguard`)."""
    with guard(debug):
        return fn(*args, **kwargs)
    raise AssertionError("unreachable")  # pragma: no cover - guard exits or re-raises


DebugOpt = Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")]

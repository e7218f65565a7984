"""Usage errors of the command line as one line on stderr (exit code 2).

Click (vendored by typer) prints a usage error as the usage, a hint and a
boxed panel. :class:`OneLineGroup` runs the command line in Click's
non-standalone mode and prints ``usage error: <message> (see '<command>
--help')`` instead, like the one-line data errors of :mod:`eventstudy.cli`.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

__all__ = ["OneLineGroup", "model_cb", "one_line"]


def one_line(exc: BaseException) -> str:
    """The message of a usage error on one line, with the command's help hint."""
    fmt = getattr(exc, "format_message", None)
    msg = " ".join(str(fmt() if callable(fmt) else exc).split())
    ctx = getattr(exc, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return f"usage error: {msg}{hint}"


class OneLineGroup(TyperGroup):
    """The top-level command group: usage errors become one line on stderr, exit 2."""

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; see :class:`OneLineGroup`."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.Abort:
            typer.secho("aborted", err=True, fg="red")
            sys.exit(1)
        except Exception as exc:  # Click's UsageError / BadParameter / NoSuchOption, …
            if type(exc).__name__ == "NoArgsIsHelpError":  # no arguments: the help, as usual
                return super().main(args, prog_name, complete_var, standalone_mode=True, **extra)
            code = getattr(exc, "exit_code", None)
            if not isinstance(code, int) or not hasattr(exc, "format_message"):
                raise
            typer.secho(one_line(exc), err=True, fg="red")
            sys.exit(code)
        sys.exit(rv if isinstance(rv, int) else 0)


def model_cb(value: str | None) -> str | None:
    """``--model`` must name a registered model (a usage error otherwise)."""
    from .models import MODELS

    if value is not None and value not in MODELS:
        raise typer.BadParameter(f"model: '{value}' is not a known model; valid: {', '.join(MODELS)}")
    return value

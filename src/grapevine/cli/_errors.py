"""The command line's error boundary: one line on stderr, never a traceback, for what users do.

Every :class:`~grapevine.errors.GrapevineError` and every operating-system or encoding error
met while a command runs (a missing file, a folder where a file was expected, a file that is
not UTF-8, an output path that is in the way) becomes ``error: WHAT: WHAT TO DO`` on stderr
and exit status 1. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from grapevine.errors import GrapevineError

__all__ = ["ErrorBoundary", "fail", "failure", "os_error_message", "print_error"]

_ADVICE = {
    errno.ENOENT: "no such file or folder; check the path",
    errno.EISDIR: "is a folder; give a file",
    errno.ENOTDIR: "a part of this path is a file, not a folder; check the path",
    errno.EEXIST: "already exists and is in the way; give another path or remove it",
    errno.EACCES: "permission denied; check the file's permissions",
    errno.EPERM: "operation not permitted; check the file's permissions",
    errno.ENOSPC: "no space left on the device; free some space and run it again",
    errno.EROFS: "on a read-only file system; give a path you can write to",
}


def os_error_message(exc: OSError) -> str:
    """``PATH: what happened; what to do`` for an operating-system error."""
    what = _ADVICE.get(exc.errno or 0) or (exc.strerror or str(exc)).lower()
    if exc.filename is None:
        return what
    where = os.fsdecode(exc.filename)
    if exc.filename2 is not None:
        where += f" -> {os.fsdecode(exc.filename2)}"
    return f"{where}: {what}"


def _decode_message(exc: UnicodeError, args: list[str]) -> str:
    files = [
        a
        for before, a in zip(["", *args], args, strict=False)
        if before != "--db" and not a.startswith("-") and Path(a).is_file()
    ]
    where = ", ".join(files) if files else "a file given"
    reason = f"byte {exc.start}" if isinstance(exc, UnicodeDecodeError) else str(exc)
    return f"{where}: not valid UTF-8 text ({reason}); save it as UTF-8 and run it again"


def print_error(message: str) -> None:
    """Print ``error: message`` on stderr as one line (long lines are not wrapped)."""
    from rich.markup import escape

    from grapevine.cli._render import errors

    one_line = " ".join(message.split())  # a driver's message may span lines (psycopg's)
    errors.print(f"[bold red]error:[/] {escape(one_line)}", highlight=False, soft_wrap=True)


def failure(exc: GrapevineError) -> typer.Exit:
    """Print ``exc`` as ``error: ...`` on stderr; the exit (status 1) for the caller to raise."""
    print_error(str(exc))
    return typer.Exit(code=1)


def fail(message: str) -> NoReturn:
    """Print ``error: message`` on stderr and exit with status 1."""
    print_error(message)
    raise typer.Exit(code=1)


class ErrorBoundary(TyperGroup):
    """The root command group: turns what users run into (see the module) into one line."""

    def invoke(self, ctx: Any) -> Any:
        args = [*getattr(ctx, "_protected_args", []), *ctx.args]
        try:
            return super().invoke(ctx)
        except GrapevineError as exc:
            fail(str(exc))
        except BrokenPipeError:  # `grapevine ... | head`: the reader is gone, stop quietly
            with contextlib.suppress(OSError, ValueError):  # not a real file: a test's capture
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(code=1) from None
        except OSError as exc:
            fail(os_error_message(exc))
        except UnicodeError as exc:
            fail(_decode_message(exc, args))

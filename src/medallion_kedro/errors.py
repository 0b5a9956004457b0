"""Errors a user causes and can fix, and how the project's commands print them.

An expected error (a landing file with the wrong header, a lake that cannot be reached,
inputs that do not belong together, a lake lock held by another run, a gate refusing a
run) is printed by ``kedro run`` as its one message, which says what to do; its traceback
is noise to the user. ``MEDALLION_TRACEBACK=1`` prints the traceback as well. Any other
error is a bug and keeps its traceback.
"""

from __future__ import annotations

import os

#: Set to 1 to see the traceback of an expected error too.
TRACEBACK_VARIABLE = "MEDALLION_TRACEBACK"


class UserError(Exception):
    """An error the user causes and can fix; the message says how (and which command)."""


def expected_error(exc: BaseException) -> BaseException | None:
    """``exc``, or the error it was raised from, when a user caused it; else ``None``."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, UserError):
            return seen
        seen = seen.__cause__
    return None


def show_traceback() -> bool:
    """Whether ``MEDALLION_TRACEBACK`` asks for the traceback of expected errors."""
    return os.environ.get(TRACEBACK_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def one_message(exc: BaseException) -> str:
    """The text printed for an expected error: its message and how to see more."""
    return f"{exc}\n(the traceback: {TRACEBACK_VARIABLE}=1 kedro run ...)"

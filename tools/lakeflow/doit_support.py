"""Glue between doit and the engine: engine errors become one clear line, not a traceback."""

from __future__ import annotations

import functools
import sys

from doit.exceptions import TaskFailed

from tools.lakeflow.errors import LakeflowError


def action(fn, *args, **kwargs):
    """A doit python-action calling `fn(*args, **kwargs)`; its return value is ignored.

    doit reads a `False` return as failure, and engine functions return booleans such as
    "written", so the wrapper returns None on success and TaskFailed on bad input.
    """

    @functools.wraps(fn)
    def run():
        try:
            fn(*args, **kwargs)
        except LakeflowError as error:
            print(f"error: {error}", file=sys.stderr)
            return TaskFailed(str(error))
        except FileNotFoundError as error:
            print(f"error: {error}", file=sys.stderr)
            return TaskFailed(str(error))
        return None

    return (run, [], {})

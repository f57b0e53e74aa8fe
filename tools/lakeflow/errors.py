"""The one error type the engine raises for bad input.

Every message names the file and the field it is about, so a user can go straight to the fix;
a failure the user cannot place by file and field (the workspace is unreachable, refuses the
credentials) carries a hint instead. Either way it prints as one line.
"""

from __future__ import annotations

from pathlib import Path


class LakeflowError(Exception):
    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        field: str | None = None,
        hint: str | None = None,
    ):
        self.message = message
        self.file = str(file) if file is not None else None
        self.field = field
        self.hint = hint
        super().__init__(self.describe())

    def describe(self) -> str:
        where = ""
        if self.file and self.field:
            where = f"{self.file}: {self.field}: "
        elif self.file:
            where = f"{self.file}: "
        elif self.field:
            where = f"{self.field}: "
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{where}{self.message}{hint}"

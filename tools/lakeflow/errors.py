"""The one error type the engine raises for bad input.

Every message names the file and the field it is about, so a user can go straight to the fix.
"""

from __future__ import annotations

from pathlib import Path


class LakeflowError(Exception):
    def __init__(self, message: str, *, file: str | Path | None = None, field: str | None = None):
        self.message = message
        self.file = str(file) if file is not None else None
        self.field = field
        super().__init__(self.describe())

    def describe(self) -> str:
        where = ""
        if self.file and self.field:
            where = f"{self.file}: {self.field}: "
        elif self.file:
            where = f"{self.file}: "
        elif self.field:
            where = f"{self.field}: "
        return f"{where}{self.message}"

"""The one error type users see. The CLI turns it into one line and exit code 2."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional


class DriftGuardError(Exception):
    """Bad input: a file that cannot be read or parsed, no environment, a bad option.

    `str()` gives the one line the user reads: ``path:line: what is wrong (what to do)``, or
    ``path: key.path: what is wrong`` for structured files.
    """

    def __init__(
        self,
        message: str,
        path: Optional[str] = None,
        line: Optional[int] = None,
        key: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.key = key

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path if self.line is None else f"{self.path}:{self.line}"
            where += ": "
        if self.key is not None:
            where += f"{self.key}: "
        return where + self.message

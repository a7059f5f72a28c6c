"""Regular expressions compiled when first used.

Compiling a pattern costs from a tenth of a millisecond to more than one (`re`'s compiler is
written in Python), and a module holds patterns for every case it handles, while a clean
check meets few of them. `lazy()` stands for the compiled pattern and compiles it on first
use; flags are written inline ("(?i)", "(?m)").
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from re import Pattern
    from typing import Any


class _Lazy:
    __slots__ = ("pattern", "_compiled")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._compiled: Pattern[str] | None = None

    def compiled(self) -> Pattern[str]:
        found = self._compiled
        if found is None:
            import re

            found = self._compiled = re.compile(self.pattern)
        return found

    def match(self, *args: Any) -> Any:
        return self.compiled().match(*args)

    def fullmatch(self, *args: Any) -> Any:
        return self.compiled().fullmatch(*args)

    def search(self, *args: Any) -> Any:
        return self.compiled().search(*args)

    def sub(self, *args: Any) -> Any:
        return self.compiled().sub(*args)

    def subn(self, *args: Any) -> Any:
        return self.compiled().subn(*args)

    def split(self, *args: Any) -> Any:
        return self.compiled().split(*args)

    def findall(self, *args: Any) -> Any:
        return self.compiled().findall(*args)

    def finditer(self, *args: Any) -> Any:
        return self.compiled().finditer(*args)

    def __getattr__(self, name: str) -> Any:  # groups, groupindex, flags
        return getattr(self.compiled(), name)


def lazy(pattern: str) -> Pattern[str]:
    """`re.compile(pattern)`, done when the pattern is first used."""
    return _Lazy(pattern)  # type: ignore[return-value]

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
    """Stands for the compiled pattern. The first call compiles it and puts the compiled
    pattern's own methods on the instance, so later calls cost what the pattern's do."""

    _METHODS = ("match", "fullmatch", "search", "sub", "subn", "split", "findall", "finditer")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def compiled(self) -> Pattern[str]:
        import re

        found = re.compile(self.pattern)
        for method in self._METHODS:
            setattr(self, method, getattr(found, method))
        self.compiled = lambda: found  # type: ignore[method-assign]
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

"""Which exclude pattern removes a file from the package, matched the way Zappa applies them.

Zappa copies site-packages with `shutil.ignore_patterns(*exclude)`: a name pattern drops every
file or directory of that name at any depth (so `test*` strips `werkzeug/test.py`). It then
removes `exclude_glob` patterns with `Path.glob` from the package root, where `**` spans
directories.

The matchers here never backtrack exponentially: a pattern is cut into tokens once, and a
name is matched by the classic one-star-remembered scan (time O(len(name) x len(pattern))),
and a path by a table over its segments.
"""

from __future__ import annotations

from functools import lru_cache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union
else:
    from drift_guard._record import NamedTuple

if TYPE_CHECKING:
    from re import Pattern

    Token = Union[str, Tuple[str, "Pattern[str]"]]
    """A literal character, "*", "?" (as one-char strings "\\0*" and "\\0?") or a class
    ("class", its compiled one-character expression)."""

_STAR = "\0*"
_ANY = "\0?"


class Exclude(NamedTuple):
    pattern: str
    label: str
    """How the user finds it: "Zappa's built-in exclude 'docutils*'", "the \"exclude\" setting
    'tests'"."""
    glob: bool = False
    """An `exclude_glob` (a path glob from the package root) rather than a name pattern."""
    user: bool = True


def _tokens(pattern: str) -> List[Token]:
    out: List[Token] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            if not out or out[-1] != _STAR:  # "***" is "*": fewer stars, same language
                out.append(_STAR)
        elif c == "?":
            out.append(_ANY)
        elif c == "[":
            j = i + 1
            if j < len(pattern) and pattern[j] in "!":
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                j += 1
            end = pattern.find("]", j)
            if end < 0:
                out.append("[")
            else:
                # One character class: its meaning (negation, reversed ranges dropped, an
                # empty class) exactly as fnmatch gives it; a class matches one character,
                # so its regular expression cannot backtrack.
                import fnmatch
                import re

                out.append(("class", re.compile(fnmatch.translate(pattern[i:end + 1]))))
                i = end
        else:
            out.append(c)
        i += 1
    return out


def _one(token: Token, ch: str) -> bool:
    if isinstance(token, tuple):
        return token[1].match(ch) is not None
    return token == _ANY or token == ch


_CACHE: Dict[str, List[Token]] = {}


@lru_cache(maxsize=1 << 16)
def match_name(name: str, pattern: str) -> bool:
    """fnmatch.fnmatchcase(name, pattern), in O(len(name) x len(pattern)) at worst."""
    tokens = _CACHE.get(pattern)
    if tokens is None:
        tokens = _CACHE[pattern] = _tokens(pattern)
    n, p = 0, 0
    star, mark = -1, 0
    while n < len(name):
        if p < len(tokens) and tokens[p] != _STAR and _one(tokens[p], name[n]):
            n += 1
            p += 1
        elif p < len(tokens) and tokens[p] == _STAR:
            star, mark = p, n
            p += 1
        elif star >= 0:
            mark += 1
            n, p = mark, star + 1
        else:
            return False
    while p < len(tokens) and tokens[p] == _STAR:
        p += 1
    return p == len(tokens)


def match_path(path: str, pattern: str) -> bool:
    """Whether `path` (posix, from the package root) is matched by the glob `pattern` as
    `Path.glob` does: segments by name patterns, `**` any number of directories."""
    segments = [s for s in path.split("/") if s]
    parts = [s for s in pattern.replace("\\", "/").split("/") if s and s != "."]
    # reach[i][j]: the first i pattern parts can match the first j path segments.
    prev = [True] + [False] * len(segments)
    for part in parts:
        cur = [False] * (len(segments) + 1)
        if part == "**":
            seen = False
            for j in range(len(segments) + 1):
                seen = seen or prev[j]
                cur[j] = seen
        else:
            for j in range(1, len(segments) + 1):
                cur[j] = prev[j - 1] and match_name(segments[j - 1], part)
        prev = cur
    return prev[len(segments)]


def stripping_exclude(path: str, excludes: Sequence[Exclude]) -> Optional[Exclude]:
    """The exclude that removes `path` (a file or directory, from the package root), if any."""
    parts = path.split("/")
    for ex in excludes:
        if ex.glob:
            if ex.pattern.startswith("/"):
                continue  # Zappa skips absolute globs with a warning
            if any(match_path("/".join(parts[: i + 1]), ex.pattern) for i in range(len(parts))):
                return ex
        elif any(match_name(part, ex.pattern) for part in parts):
            return ex
    return None

"""`json.dumps(value, indent=2, ensure_ascii=True)` for the report's plain values, without
importing `json` (whose decoder and encoder compile regular expressions, and import `re`, on
every start). Strings are escaped by CPython's own C encoder (`_json`); any other value, or an
interpreter without that encoder, goes to `json` itself."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, List, Optional

try:
    from _json import encode_basestring_ascii as _string
except ImportError:  # pragma: no cover - not CPython
    _string: Optional[Callable[[str], str]] = None  # type: ignore[no-redef]


def dumps(value: Any) -> str:
    """The document, exactly as `json.dumps(value, indent=2, ensure_ascii=True)` writes it."""
    parts: List[str] = []
    if _string is None or not _write(value, parts, "\n"):
        import json

        return json.dumps(value, indent=2, ensure_ascii=True)
    return "".join(parts)


def _write(value: Any, parts: List[str], newline: str) -> bool:
    """Append `value` written at the indent `newline` ends with; False for a value this does
    not write (then json writes the whole document)."""
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif type(value) is str:
        parts.append(_string(value))
    elif type(value) is int:
        parts.append(int.__repr__(value))
    elif type(value) in (list, tuple):
        if not value:
            parts.append("[]")
            return True
        inner = newline + "  "
        parts.append("[")
        for i, item in enumerate(value):
            parts.append(inner if i == 0 else "," + inner)
            if not _write(item, parts, inner):
                return False
        parts.append(newline + "]")
    elif type(value) is dict:
        if not value:
            parts.append("{}")
            return True
        inner = newline + "  "
        parts.append("{")
        for i, (key, item) in enumerate(value.items()):
            if type(key) is not str:
                return False
            parts.append((inner if i == 0 else "," + inner) + _string(key) + ": ")
            if not _write(item, parts, inner):
                return False
        parts.append(newline + "}")
    else:
        return False
    return True

"""A fast reader for the TOML that lock tools write, or None: then the caller parses with
`tomllib`, which gives the same answer (or the error) for every document.

tomllib reads a character at a time in Python: a 5,000-package uv.lock takes it most of a
second. Lock files use a small, regular part of TOML: one `key = value` or `[table]` /
`[[array of tables]]` header per line, keys without dots, basic strings, integers, booleans,
inline tables on one line, and arrays with one element per line. This reads that part
a section at a time: the text is cut at its header lines, each section's pairs are found by
one regular expression when every line has a usual shape (else a line at a time), each array
of one-line tables by one pattern made for its layout; the tables are built with tomllib's
own rules for headers.

Anything else -- literal or multi-line strings, floats, dates, dotted keys, quoted keys in
headers, a key defined twice, a line of an array's elements that starts with `[`, a stray
character -- returns None. The property tests compare
this with tomllib on every lock fixture, on generated locks and on random changes to them.
"""

from __future__ import annotations

import gc
import re
from sys import intern

from drift_guard._patterns import lazy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Set, Tuple

    Keep = Mapping[Tuple[Tuple[str, ...], str], FrozenSet[str]]

# A basic string: no control characters (except tab) or DEL. The escapes TOML and JSON read
# alike are decoded by `json` (not \U, not \/, and no \u for a surrogate, which JSON pairs up).
_CHAR = r'[^"\\\x00-\x08\x0a-\x1f\x7f]'
_ESCAPE = r'\\(?:["\\bfnrt]|u(?![dD][89a-fA-F])[0-9A-Fa-f]{4})'
_PLAIN = rf'"{_CHAR}*"'
_STRING = rf'"{_CHAR}*(?:{_ESCAPE}{_CHAR}*)*"'
_INT = r"-?(?:0|[1-9][0-9]*)"
_BARE = r"[A-Za-z0-9_-]+"
_S = r"[ \t]*"

_PLAIN_STRING = re.compile(_PLAIN)
_ESCAPED_STRING = re.compile(_STRING)
_TRAIL = r"[ \t]*(?:#[^\x00-\x08\x0a-\x1f\x7f]*)?"
# A `key = ` line; group 3: the value when it is a plain string (the commonest line), group 4:
# `[` when a multi-line array opens.
_KEY_LINE = re.compile(
    rf'(?:({_BARE})|"({_CHAR}*)"){_S}={_S}(?:"({_CHAR}*)"{_TRAIL}\Z|(\[)\Z)?')
_SCALAR = re.compile(rf"{_INT}|true|false")
# An inline table of plain strings, integers and booleans; each pair found by _FLAT_PAIR.
_FLAT_VALUE = rf"(?:{_PLAIN}|{_INT}|true|false)"
_FLAT = rf"\{{{_S}(?:{_BARE}{_S}={_S}{_FLAT_VALUE}{_S}(?:,{_S}(?!\}})|(?=\}})))*\}}"
_FLAT_TABLE = re.compile(_FLAT)
_FLAT_PAIR = re.compile(rf'({_BARE}){_S}={_S}(?:"({_CHAR}*)"|({_INT}|true|false))')
# The same with strings that have escapes (`markers = "python_version >= \\"3.9\\""`).
_ESCAPED_VALUE = rf"(?:{_STRING}|{_INT}|true|false)"
_ESCAPED_TABLE = re.compile(
    rf"\{{{_S}(?:{_BARE}{_S}={_S}{_ESCAPED_VALUE}{_S}(?:,{_S}(?!\}})|(?=\}})))*\}}")
_ESCAPED_PAIR = re.compile(rf'({_BARE}){_S}={_S}(?:({_STRING})|({_INT}|true|false))')
# A one-line array of plain strings, and its elements.
_FLAT_ARRAY = re.compile(rf"\[{_S}(?:{_PLAIN}{_S}(?:,{_S}|(?=\])))*\]")
_PLAIN_BODY = re.compile(rf'"({_CHAR}*)"')
# An element line of a multi-line array of such tables, or of plain strings (a comma after
# each): findall over the block finds one per line when every line is one. (One match of a
# repeated group over the whole block would be slower: re keeps state for every repeat.)
_TABLE_LINE = re.compile(rf"^[ \t]*({_FLAT})[ \t]*,{_TRAIL}$", re.MULTILINE)
_STRING_LINE = re.compile(rf'^[ \t]*"({_CHAR}*)"[ \t]*,{_TRAIL}$', re.MULTILINE)
_HEADER = re.compile(rf"(\[\[?){_S}({_BARE}(?:{_S}\.{_S}{_BARE})*){_S}(\]\]?){_TRAIL}\Z")
_DOT = re.compile(rf"{_S}\.{_S}")
_COMMENT = re.compile(_TRAIL)
_TRAILER = re.compile(rf"{_TRAIL}\Z")
_ELEMENT_END = re.compile(rf"[ \t]*,{_TRAIL}\Z")
# A whole `key = value` line of the usual shapes: a plain string, a scalar, a one-line array
# or inline table, or an array whose element lines are indented, up to the `]` line (group
# 7 is its `[` and line end, group 8 its element lines). Each value group holds the value's
# whole text (none is empty); arrays and tables are only delimited here, and read (and
# checked) by `_value` and `_array`. No group holds the whole line: findall would copy it.
_BODY_LINE = re.compile(
    rf'^(?:({_BARE})|"({_CHAR}*)"){_S}={_S}(?:("{_CHAR}*")|({_INT}|true|false)'
    rf"|(\[[^\n]*\])|(\{{[^\n]*\}})|(\[\n)((?:[ \t][^\n]*\n)*)\]){_S}$",
    re.MULTILINE)

# The general value (nested inline tables and arrays on one line), read as JSON: strings
# taken out, the rest checked against the grammar and rewritten, the strings put back.
_STRINGS = lazy(rf"({_STRING})")
_W = r"[ \t]*"


def _grammar(depth: int) -> str:
    if depth == 0:
        return rf"(?:\x01|{_INT}|true|false)"
    inner = _grammar(depth - 1)
    array = rf"\[{_W}(?:{inner}{_W}(?:,{_W}|(?=\])))*\]"
    table = rf"\{{{_S}(?:(?:{_BARE}|\x01){_S}={_S}{inner}{_S}(?:,{_S}(?!\}})|(?=\}})))*\}}"
    return rf"(?:\x01|{_INT}|true|false|{array}|{table})"


_VALUE = lazy(_grammar(4))  # 6 ms to compile: only for a value met off the usual shapes
_VALUE_KEY = lazy(rf"({_BARE}){_S}=")
_VALUE_STRING_KEY = lazy(rf"\x01{_S}=")
_VALUE_TRAILING_COMMA = lazy(r",([ \t]*\])")


class _Invalid(Exception):
    """Not the part of TOML read here (or not TOML at all): tomllib decides."""


def loads(text: str, keep: Optional[Keep] = None) -> Optional[Dict[str, Any]]:
    """`tomllib.loads(text)`, for a document in the part of TOML this reads; else None.

    `keep` names values the caller reads only a few fields of (the hashes of a lock's files:
    most of the file), by (header, key): `{(("package",), "wheels"): {"hash"}}` is `wheels`
    under `[[package]]`. Where such a value is an inline table, or an array of inline tables,
    of plain values, each keeps only those fields (all of it is still checked). Every other
    value is read whole."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    if "\x01" in text:
        return None
    # Reading makes many containers and frees next to none: the cyclic collector would walk
    # them again and again for nothing (a tenth of a large lock's time). Paused meanwhile
    # (the console script runs without it anyway).
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        return _assemble(_sections(text, keep or {}))
    except (_Invalid, ValueError, RecursionError):
        return None
    finally:
        _SHARED.clear()
        if collecting:
            gc.enable()


def _sections(text: str, keep: Keep) -> List[Any]:
    """[root pairs, (kind, path), pairs, (kind, path), pairs, ...]; kind 1 is `[table]`, 2 is
    `[[array of tables]]`. The text is cut at its header lines (each line that starts with
    `[`: a line of an array's elements never starts so in a lock), each header read once --
    a lock repeats `[[package]]` for every package -- and each section's body read whole
    (`_body`)."""
    items: List[Any] = []
    paths: Dict[str, Tuple[str, ...]] = {}
    headers: Dict[str, Tuple[int, Tuple[str, ...]]] = {}
    path: Tuple[str, ...] = ()
    find = text.find
    size = len(text)
    start = 0
    pos = -1 if text.startswith("[") else 0
    while True:
        mark = find("\n[", pos) if pos >= 0 else -1
        if pos < 0 or mark >= 0:
            items.append(_body(text[start:mark + 1], path, keep) if mark > start else {})
        else:
            items.append(_body(text[start:], path, keep))
            return items
        end = find("\n", mark + 1)
        if end < 0:
            end = size
        line = text[mark + 1:end]
        header = headers.get(line)
        if header is None:
            h = _HEADER.match(line)
            if h is None or (h.group(1) == "[[") != (h.group(3) == "]]"):
                raise _Invalid
            raw = h.group(2)
            known = paths.get(raw)
            if known is None:
                known = paths[raw] = tuple(_DOT.split(raw)) if "." in raw else (raw,)
            header = headers[line] = (len(h.group(1)), known)
        path = header[1]
        items.append(header)
        start = end + 1
        pos = end


def _body(body: str, path: Tuple[str, ...], keep: Keep) -> Dict[str, Any]:
    """The pairs of one section's body. Where every line is a pair of one of the usual shapes
    (`_BODY_LINE`), one findall finds them all; otherwise, or where a value found so is not
    one whole value, the body is read a line at a time."""
    found = _BODY_LINE.findall(body)
    if not found:
        return _body_by_line(body, path, keep)
    # Each pair found is whole lines (one, or an array's); together they must be every line
    # of the body but the blank ones at its end.
    covered = len(found)
    table: Dict[str, Any] = {}
    for key, quoted, plain, scalar, one_line, inline, opened, lines in found:
        key = intern(key or quoted)
        if plain:
            value: Any = plain[1:-1]
        elif scalar:
            value = _scalar(scalar)
        elif opened:
            count = lines.count("\n")
            covered += count + 1
            fields = keep.get((path, key)) if keep else None
            value = _elements(lines, fields, count) if count else []
            if value is None:
                text = "\n" + lines + "]\n"
                value, stop = _array(text, 1, fields)
                if stop != len(text):
                    return _body_by_line(body, path, keep)
        else:
            text = one_line or inline
            fields = keep.get((path, key)) if keep else None
            # a short table read before in this document (`source = { registry = ... }`)
            value = _SHARED.get((text, fields)) if inline and len(text) <= _SHORT else None
            if value is None:
                value, stop = _value(text, 0, fields)
                if stop != len(text):
                    return _body_by_line(body, path, keep)
        if key in table:
            raise _Invalid
        table[key] = value
    end = len(body)
    while end and body[end - 1] == "\n":
        end -= 1
    if covered != body.count("\n", 0, end) + 1:
        return _body_by_line(body, path, keep)
    return table


def _body_by_line(text: str, path: Tuple[str, ...], keep: Keep) -> Dict[str, Any]:
    """The pairs of a section's body, a line at a time (any layout the part of TOML read
    here allows)."""
    body: Dict[str, Any] = {}
    key_line = _KEY_LINE.match
    find = text.find
    size = len(text)
    pos = 0
    while pos < size:
        end = find("\n", pos)
        if end < 0:
            end = size
        line = text[pos:end]
        pos = end + 1
        if not line:
            continue
        m = key_line(line)
        if m is not None:
            key, quoted, plain, array = m.groups()
            key = intern(quoted if key is None else key)
            if plain is not None:
                value: Any = plain
            elif array is not None:
                value, pos = _array(text, pos, keep.get((path, key)) if keep else None)
            else:
                value, stop = _value(line, m.end(), keep.get((path, key)) if keep else None)
                if stop != len(line) and not _TRAILER.match(line, stop):
                    raise _Invalid
            if key in body:
                raise _Invalid
            body[key] = value
            continue
        if _COMMENT.fullmatch(line):
            continue
        raise _Invalid
    return body


def _array(text: str, pos: int, fields: Optional[FrozenSet[str]] = None
           ) -> Tuple[List[Any], int]:
    """A multi-line array that opened at the end of the line before text[pos]; the array and
    where the line after its closing `]` starts."""
    # The elements up to the first line that is `]` alone, when they are all of one plain
    # shape: checked and found in one findall each.
    close = text.find("\n]\n", pos - 1)
    if close < 0 and text.endswith("\n]"):
        close = len(text) - 2
    if close == pos - 1:
        return [], close + 3
    if close >= pos:
        elements = _elements(text[pos:close], fields)
        if elements is not None:
            return elements, close + 3
    # One element per line (with a comma, but for the last), `]` on a line of its own.
    result: List[Any] = []
    size = len(text)
    last = False
    while pos < size:
        end = text.find("\n", pos)
        if end < 0:
            end = size
        line = text[pos:end]
        pos = end + 1
        stripped = line.lstrip(" \t")
        if not stripped or stripped[0] == "#":
            if _COMMENT.fullmatch(line):
                continue
            raise _Invalid
        if stripped[0] == "]":
            if not _TRAILER.match(stripped, 1):
                raise _Invalid
            return result, pos
        if last:
            raise _Invalid
        value, stop = _value(stripped, 0)
        if not _ELEMENT_END.match(stripped, stop):
            if not _TRAILER.match(stripped, stop):
                raise _Invalid
            last = True
        result.append(value)
    raise _Invalid


def _elements(block: str, fields: Optional[FrozenSet[str]], count: int = 0
              ) -> Optional[List[Any]]:
    """The elements of an array's lines (between its `[` and `]` lines; `count` of them when
    known, each line ending in "\n"), when every line is one element of one plain shape, with
    a comma: each shape checked and found by one findall. None otherwise."""
    if not count:
        count = block.count("\n") + 1
    kept = _same_layout(block, count, fields)
    if kept is not None:
        return kept
    found = _TABLE_LINE.findall(block)
    if len(found) == count:
        return [_flat(t, fields) for t in found]
    found = _STRING_LINE.findall(block)
    if len(found) == count:
        return found
    return None


def _same_layout(block: str, count: int, fields: Optional[FrozenSet[str]]
                 ) -> Optional[List[Any]]:
    """The kept `fields` (all without) of each element of a block of one-line inline tables
    (a lock's files, a package's dependencies), when every line has the first line's keys, in
    its order, with values of the same kinds: then one pattern made for that layout checks
    each line and takes the kept values (no table is read pair by pair). None otherwise."""
    last = _LAST_LAYOUT.get(fields)
    if last is not None:  # the layout of the block before (a lock writes one for all)
        found = last[0].findall(block)
        if len(found) == count:
            return _kept(found, last[2])
    end = block.find("\n")
    first = _TABLE_LINE.match(block if end < 0 else block[:end])
    if first is None:
        return None
    known = _layout(first.group(1), fields)
    if known is None:
        return None
    pattern, taken = known[0], known[2]
    found = pattern.findall(block)
    if len(found) != count:
        return None
    _LAST_LAYOUT[fields] = known
    return _kept(found, taken)


def _layout(table: str, fields: Optional[FrozenSet[str]]) -> Optional[List[Any]]:
    """[pattern of a line holding a table of this one's layout, followed by a comma; pattern
    of such a table alone (made when first needed); (key, is a string) of each kept field]."""
    pairs = _FLAT_PAIR.findall(table)
    layout = (tuple((key, not other) for key, _, other in pairs), fields)
    known = _LAYOUTS.get(layout)
    if known is None:
        keys = [key for key, _, _ in pairs]
        if len(set(keys)) != len(keys) or len(_LAYOUTS) >= 32:
            return None
        parts = []
        taken = []
        for key, string in layout[0]:
            value = f'"({_CHAR}*)"' if string else f"({_INT}|true|false)"
            if fields is not None and key not in fields:
                value = value.replace("(", "(?:", 1)
            else:
                taken.append((intern(key), string))
            parts.append(f"{re.escape(key)}{_S}={_S}{value}")
        alone = rf"\{{{_S}{f'{_S},{_S}'.join(parts)}{_S}\}}"
        known = _LAYOUTS[layout] = [
            re.compile(rf"^[ \t]*{alone}[ \t]*,{_TRAIL}$", re.MULTILINE), alone, tuple(taken)]
    return known


def _layout_value(line: str, start: int, fields: FrozenSet[str]) -> Optional[Tuple[Any, int]]:
    """`_value(line, start, fields)` for an inline table of the layout of the one before (a
    lock's sdist), by one pattern; None otherwise."""
    last = _LAST_VALUE_LAYOUT.get(fields)
    if last is not None:
        m = last[1].match(line, start)
        if m is not None:
            return _kept([m.group(1) if len(last[2]) == 1 else m.groups()], last[2])[0], m.end()
    m = _FLAT_TABLE.match(line, start)
    if m is None:
        return None
    known = _layout(m.group(), fields)
    if known is None:
        return None
    if isinstance(known[1], str):
        known[1] = re.compile(known[1])
    _LAST_VALUE_LAYOUT[fields] = known
    m = known[1].match(line, start)
    if m is None:
        return None
    return _kept([m.group(1) if len(known[2]) == 1 else m.groups()], known[2])[0], m.end()


def _kept(found: List[Any], taken: Tuple[Tuple[str, bool], ...]) -> List[Dict[str, Any]]:
    if len(taken) == 1:
        key, string = taken[0]
        return [{key: v if string else _scalar(v)} for v in found]
    if not taken:
        return [{} for _ in found]
    return [{key: v if string else _scalar(v) for (key, string), v in zip(taken, values)}
            for values in found]


# Patterns for the layouts of files tables met (a lock has one or two), by keys and kinds;
# and the one last used, by the fields kept.
_LAYOUTS: Dict[Tuple[Any, ...], List[Any]] = {}
_LAST_LAYOUT: Dict[Optional[FrozenSet[str]], List[Any]] = {}
_LAST_VALUE_LAYOUT: Dict[FrozenSet[str], List[Any]] = {}


# Short inline tables read in this document, by their text: a lock repeats many
# (`source = { registry = "https://pypi.org/simple" }` on every package, the same edge in many
# packages), and one table for all of them is one to hold. Nothing here changes a table once
# read; the cache lives for one loads().
_SHARED: Dict[Tuple[str, Optional[FrozenSet[str]]], Dict[str, Any]] = {}
_SHORT = 100


def _flat(text: str, fields: Optional[FrozenSet[str]] = None) -> Dict[str, Any]:
    if len(text) <= _SHORT:
        known = _SHARED.get((text, fields))
        if known is None:
            known = _SHARED[(text, fields)] = _read_flat(text, fields)
        return known
    return _read_flat(text, fields)


def _read_flat(text: str, fields: Optional[FrozenSet[str]]) -> Dict[str, Any]:
    # Keys are interned: thousands of tables name the same few, one string each is enough.
    pairs = _FLAT_PAIR.findall(text)
    if fields is not None:
        if len({key for key, _, _ in pairs}) != len(pairs):
            raise _Invalid
        return {intern(key): _scalar(other) if other else plain for key, plain, other in pairs
                if key in fields}
    table = {intern(key): _scalar(other) if other else plain for key, plain, other in pairs}
    if len(table) != len(pairs):
        raise _Invalid
    return table


def _value(line: str, start: int, fields: Optional[FrozenSet[str]] = None
           ) -> Tuple[Any, int]:
    """The value that starts at line[start], and where it ends."""
    first = line[start:start + 1]
    if first == '"':
        m = _PLAIN_STRING.match(line, start)
        if m is not None:
            return line[start + 1:m.end() - 1], m.end()
        m = _ESCAPED_STRING.match(line, start)
        if m is None:
            raise _Invalid
        return _decoder().decode(m.group()), m.end()
    if first == "{":
        if fields is not None:
            hit = _layout_value(line, start, fields)
            if hit is not None:
                return hit
        m = _FLAT_TABLE.match(line, start)
        if m is not None:
            return _flat(m.group(), fields), m.end()
        m = _ESCAPED_TABLE.match(line, start)
        if m is not None:
            pairs = _ESCAPED_PAIR.findall(m.group())
            table = {intern(key): _scalar(other) if other else (
                _decoder().decode(string) if "\\" in string else string[1:-1])
                for key, string, other in pairs}
            if len(table) != len(pairs):
                raise _Invalid
            return table, m.end()
        return _general(line, start)
    if first == "[":
        m = _FLAT_ARRAY.match(line, start)
        if m is not None:
            return _PLAIN_BODY.findall(m.group()), m.end()
        return _general(line, start)
    m = _SCALAR.match(line, start)
    if m is None:
        raise _Invalid
    return _scalar(m.group()), m.end()


def _scalar(text: str) -> Any:
    if text == "true":
        return True
    if text == "false":
        return False
    return int(text)


def _general(line: str, start: int) -> Tuple[Any, int]:
    """Nested inline tables and arrays on one line, through JSON."""
    text = line[start:]
    parts = _STRINGS.split(text)
    strings = parts[1::2]
    skeleton = "\x01".join(parts[0::2])
    if '"' in skeleton:
        raise _Invalid
    m = _VALUE.match(skeleton)
    if m is None:
        raise _Invalid
    end = m.end()
    rest = skeleton[end:]
    used = skeleton.count("\x01", 0, end)
    s = _VALUE_KEY.sub(r'"\1":', skeleton[:end])
    s = _VALUE_STRING_KEY.sub("\x01:", s)
    s = _VALUE_TRAILING_COMMA.sub(r"\1", s)
    pieces = s.split("\x01")
    out: List[str] = [""] * (2 * len(pieces) - 1)
    out[0::2] = pieces
    out[1::2] = strings[:used]
    value = _decoder().decode("".join(out))
    # where the value ends in `line`: the length of what follows it, strings included
    tail = len(rest) - rest.count("\x01") + sum(len(s) for s in strings[used:])
    return value, len(line) - tail


_DECODERS: List[Any] = []


def _decoder() -> Any:
    if not _DECODERS:
        import json

        _DECODERS.append(json.JSONDecoder(strict=False, object_pairs_hook=_unique))
    return _DECODERS[0]


def _unique(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Invalid
    return result


def _assemble(items: List[Any]) -> Dict[str, Any]:
    """The document, with tomllib's rules for headers."""
    root: Dict[str, Any] = {}
    flags = _Flags()
    # Only where a header goes into a value does the value's path matter (`[a.b]` after
    # `b = {...}` in `[a]` is an error): only such values are flagged.
    under: Dict[Tuple[str, ...], Set[str]] = {}
    for path in {items[i][1] for i in range(1, len(items), 2)}:  # each header path once
        for n in range(len(path)):
            under.setdefault(path[:n], set()).add(path[n])
    _pairs(root, flags, (), items[0], under, root)
    nodes = flags.nodes
    last_array = ""  # the name of the latest top-level `[[name]]` (none: no name is "")
    for i in range(1, len(items), 2):
        kind, header = items[i]
        if kind == 1 and len(header) == 2 and last_array and header[0] == last_array:
            # `[package.dependencies]` below it: the steps below, where it names a new table
            node = nodes[last_array]
            key = header[1]
            child = node[2].get(key)
            table = root[last_array][-1]
            if not node[1] and key not in table and (
                    child is None or not (child[0] | child[1]) & (_EXPLICIT | _FROZEN)):
                if child is None:
                    node[2][key] = [_EXPLICIT, 0, {}]
                else:
                    child[0] |= _EXPLICIT
                body = table[key] = items[i + 1]
                below = under.get(header)
                if below and body:
                    for sub in below.intersection(body):
                        if isinstance(body[sub], (dict, list)):
                            flags.set((*header, sub), _FROZEN, recursive=True)
                continue
        if kind == 2 and len(header) == 1:
            # `[[package]]`, what a lock repeats: the steps below, for a top-level name
            name = header[0]
            known_node = nodes.get(name)
            if known_node is not None and (known_node[0] | known_node[1]) & _FROZEN:
                raise _Invalid
            nodes[name] = [_EXPLICIT, 0, {}]  # unset_all, then set EXPLICIT
            last_array = name
            body = items[i + 1]  # a table of its own: the new element itself
            known = root.get(name)
            if known is None:
                root[name] = [body]
            elif type(known) is list:
                known.append(body)
            else:
                raise _Invalid
            below = under.get(header)
            if below and body:
                for key in below.intersection(body):
                    if isinstance(body[key], (dict, list)):
                        flags.set((name, key), _FROZEN, recursive=True)
            continue
        if kind == 2:
            if flags.is_(header, _FROZEN):
                raise _Invalid
            flags.unset_all(header)
            flags.set(header, _EXPLICIT, recursive=False)
            nest = _append_to_list(root, header)
        else:
            if flags.is_(header, _EXPLICIT) or flags.is_(header, _FROZEN):
                raise _Invalid
            flags.set(header, _EXPLICIT, recursive=False)
            nest = _nest(root, header)
        _pairs(root, flags, header, items[i + 1], under, nest)
    return root


def _pairs(root: Dict[str, Any], flags: _Flags, header: Tuple[str, ...],
           body: Dict[str, Any], under: Dict[Tuple[str, ...], Set[str]],
           nest: Dict[str, Any]) -> None:
    """Add a section's pairs to `nest`, the table its header named (tomllib checks the
    header's path, and finds the same table, for each pair)."""
    if not body:
        return
    if flags.is_(header, _FROZEN):
        raise _Invalid
    if nest and not nest.keys().isdisjoint(body):
        raise _Invalid
    nest.update(body)
    below = under.get(header)
    if below:
        for key in below.intersection(body):
            if isinstance(body[key], (dict, list)):
                flags.set(header + (key,), _FROZEN, recursive=True)


def _nest(root: Dict[str, Any], key: Tuple[str, ...]) -> Dict[str, Any]:
    cont: Any = root
    for k in key:
        if k not in cont:
            cont[k] = {}
        cont = cont[k]
        if isinstance(cont, list):
            cont = cont[-1]
        if not isinstance(cont, dict):
            raise _Invalid
    return cont  # type: ignore[no-any-return]


def _append_to_list(root: Dict[str, Any], key: Tuple[str, ...]) -> Dict[str, Any]:
    cont = _nest(root, key[:-1])
    last = key[-1]
    table: Dict[str, Any] = {}
    if last in cont:
        if not isinstance(cont[last], list):
            raise _Invalid
        cont[last].append(table)
    else:
        cont[last] = [table]
    return table


# Bits of a key path's flags.
_FROZEN = 1
_EXPLICIT = 2


class _Flags:
    """tomllib's flags by key path: FROZEN (an inline table or array) and EXPLICIT (a table
    declared by a header, which may not be declared again). Each path's node is
    [flags, recursive flags, nested nodes by key]."""

    def __init__(self) -> None:
        self._flags: Dict[str, List[Any]] = {}
        self.nodes = self._flags  # the top level's nodes, by key

    def unset_all(self, key: Tuple[str, ...]) -> None:
        cont = self._flags
        for k in key[:-1]:
            node = cont.get(k)
            if node is None:
                return
            cont = node[2]
        cont.pop(key[-1], None)

    def set(self, key: Tuple[str, ...], flag: int, *, recursive: bool) -> None:
        cont = self._flags
        for k in key[:-1]:
            node = cont.get(k)
            if node is None:
                node = cont[k] = [0, 0, {}]
            cont = node[2]
        node = cont.get(key[-1])
        if node is None:
            node = cont[key[-1]] = [0, 0, {}]
        node[1 if recursive else 0] |= flag

    def is_(self, key: Tuple[str, ...], flag: int) -> bool:
        if not key:
            return False
        cont = self._flags
        for k in key[:-1]:
            node = cont.get(k)
            if node is None:
                return False
            if node[1] & flag:
                return True
            cont = node[2]
        node = cont.get(key[-1])
        return node is not None and bool((node[0] | node[1]) & flag)

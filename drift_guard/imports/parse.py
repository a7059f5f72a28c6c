"""The imports of one Python source file, read with `ast` (nothing is run).

Parsing a whole file with `ast` costs about 0.3 ms per KB here, too much for a hook that reads
a thousand files. Imports are a small part of a file, so the file is cut at its top-level
statements (lines that start in column 0 outside a string) and only the pieces that hold the
word `import` are parsed, each with its own `ast.parse`. A piece that does not parse on its own
(the cut was not a statement boundary after all: a bracket or a backslash continued onto
column 0) makes the whole file parse instead, so the answer is always the one a full parse gives.

What is recorded (`Import`):
- `import a.b`, `from a.b import c` (then `a.b.c` is tried first when naming the provider:
  `c` may be a submodule of a namespace package), `importlib.import_module("a.b")` and
  `__import__("a.b")` with a literal name;
- relative imports (`from . import x`) are the project's own and not recorded;
- `optional`: under `if TYPE_CHECKING:` or inside a `try` whose handlers catch ImportError (or
  anything broader), where the code runs without the module;
- `if sys.version_info >= (3, 11):` is decided for the target's Python: only the branch the
  target takes is read, so `import tomllib` / `import tomli` pairs come out right.
"""

from __future__ import annotations

from bisect import bisect_right

from drift_guard._patterns import lazy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, NamedTuple, Optional, Pattern, Sequence, Tuple
else:
    from drift_guard._record import NamedTuple

if TYPE_CHECKING:
    import ast


class Import(NamedTuple):
    module: str
    """The absolute dotted name imported ("yaml", "google.cloud")."""
    line: int
    optional: bool = False
    names: Tuple[str, ...] = ()
    """For `from module import a, b`: a and b (each may be a submodule)."""


class Parsed(NamedTuple):
    imports: Tuple[Import, ...]
    error: Optional[str] = None
    """A syntax error ("line 3: invalid syntax"); then `imports` is empty."""


# A string literal (any quoting, any prefix) or a comment: leftmost match wins, so a `#` in a
# string and a quote in a comment are both read right.
# (String prefixes are left out: they are outside the span that matters.)
# Unrolled loops ("x[^"]*(?:\\.[^"]*)*"): linear even on an unterminated string.
_STRING_OR_COMMENT = lazy(
    r"""(?s)#[^\n]*"""
    r'''|"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*(?:"""|\Z)'''
    r"""|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*(?:'''|\Z)"""
    r'''|"[^"\\\n]*(?:\\.[^"\\\n]*)*"'''
    r"""|'[^'\\\n]*(?:\\.[^'\\\n]*)*'"""
)
_TRIPLE_BODY = {
    '"': lazy(r'''(?s)"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*(?:"""|\Z)'''),
    "'": lazy(r"""(?s)'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*(?:'''|\Z)"""),
}
# Where a top-level statement may start: column 0, not a clause that continues the previous
# statement (else/elif/except/finally) and not a comment, bracket or string.
# (A literal "\n" first, not "^" with MULTILINE: re then skips ahead with a fast search.)
_TOP = lazy(r"\n(?!(?:else|elif|except|finally)\b)(?=[A-Za-z_@])")
_DYNAMIC = ("import_module", "__import__")
_IMPORT_ERRORS = frozenset(
    {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
)


def parse(source: str, version: Tuple[int, ...] = (3, 12)) -> Parsed:
    """The imports in `source`, for a target Python `version` (e.g. (3, 11, 4))."""
    if "import" not in source:
        return Parsed(())
    try:
        pieces = _Cutter(source).pieces()
    except (ValueError, RecursionError):
        pieces = None
    if pieces is not None:
        imports: List[Import] = []
        try:
            for start, end, wrapped in pieces:
                text = source[start:end]
                offset = source.count("\n", 0, start)
                if wrapped:
                    # An indented block parses as the body of `if 1:` (one line more).
                    text, offset = "if 1:\n" + text, offset - 1
                imports.extend(_imports(text, version, offset))
            return Parsed(tuple(imports))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass  # not cut at statement boundaries after all: read the whole file instead
    try:
        return Parsed(tuple(_imports(source, version, 0)))
    except SyntaxError as exc:
        return Parsed((), f"line {exc.lineno}: {exc.msg}" if exc.lineno else exc.msg)
    except (ValueError, RecursionError, MemoryError) as exc:
        # ValueError: a NUL byte in the source; RecursionError: absurdly deep nesting.
        return Parsed((), type(exc).__name__)


_SPLIT_OVER = 1200
"""A function or class piece larger than this is cut again at its body's statements."""
_DEFINITION = lazy(r"(?:@|def\b|async[ \t]+def\b|class\b)")
_NESTED: Dict[str, Pattern[str]] = {}


class _Cutter:
    """Cuts a source into the pieces worth parsing: (start, end, indented)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.valid: Dict[int, bool] = {}
        # Strings that span lines can only be triple-quoted (a backslash-continued one-line
        # string is left to the whole-file fallback). Each triple quote is checked against
        # the comments and one-line strings of its own line: far fewer matches than
        # tokenizing every string and comment of the file.
        ml_starts: List[int] = []
        ml_ends: List[int] = []
        pos = 0
        # The next `"""` and `'''` at or after `pos` (str.find: far faster than a regex
        # alternation; each is searched again only once passed).
        next_double = source.find('"""')
        next_single = source.find("'''")
        while True:
            if -1 < next_double < pos:
                next_double = source.find('"""', pos)
            if -1 < next_single < pos:
                next_single = source.find("'''", pos)
            if next_double == -1 and next_single == -1:
                break
            if next_single == -1 or (next_double != -1 and next_double < next_single):
                q = next_double
            else:
                q = next_single
            covering = self._covering(max(source.rfind("\n", 0, q) + 1, pos), q)
            if covering is not None:
                pos = covering  # in a comment or a one-line string: not a string start
                continue
            body = _TRIPLE_BODY[source[q]].match(source, q)
            end = body.end() if body is not None else len(source)
            ml_starts.append(q)
            ml_ends.append(end)
            pos = max(end, q + 3)
        self.multiline = (ml_starts, ml_ends)
        # Every "import" not followed by a letter or digit (which would make it "imports" or
        # "importlib"): the statements, import_module and __import__. A few extra hits cost
        # a little parsing, never a wrong answer.
        candidates = []
        pos = source.find("import")
        while pos != -1:
            after = source[pos + 6 : pos + 7]
            if not (after.isalnum() or self._hidden(pos)):
                candidates.append(pos)
            pos = source.find("import", pos + 6)
        self.candidates = candidates

    def _covering(self, start: int, pos: int) -> Optional[int]:
        """The end of the comment or string that covers `pos`, tokenizing its line from
        `start`; None when `pos` is code or starts the token itself."""
        source = self.source
        line_end = source.find("\n", pos)
        if line_end == -1:
            line_end = len(source)
        for m in _STRING_OR_COMMENT.finditer(source, start, line_end):
            s, e = m.span()
            if s >= pos:
                return None
            if e > pos:
                return e
        return None

    def _hidden(self, pos: int) -> bool:
        """`pos` lies in a string or a comment."""
        source = self.source
        ml_starts, ml_ends = self.multiline
        i = bisect_right(ml_starts, pos) - 1
        line_start = source.rfind("\n", 0, pos) + 1
        if i >= 0:
            if pos < ml_ends[i]:
                return True
            line_start = max(line_start, ml_ends[i])
        if source.find("#", line_start, pos) == -1 and source.find('"', line_start, pos) == -1 \
                and source.find("'", line_start, pos) == -1:
            return False
        return self._covering(line_start, pos) is not None

    def pieces(self) -> List[Tuple[int, int, bool]]:
        if not self.candidates:
            return []
        return self.select(_TOP, 0, len(self.source), self.candidates, False, 0)

    def _cut_ok(self, pos: int) -> bool:
        """A line start the cut pattern matched is a statement start: not inside a string,
        and not just after a decorator (which belongs to what follows it)."""
        known = self.valid.get(pos)
        if known is None:
            source = self.source
            ml_starts, ml_ends = self.multiline
            prev = source.rfind("\n", 0, pos - 1) + 1
            known = not _inside(pos - 1, ml_starts, ml_ends) and not source[prev:pos].lstrip(
                " \t").startswith("@")
            self.valid[pos] = known
        return known

    def select(self, pattern: Pattern[str], start: int, end: int, candidates: List[int],
               indented: bool, depth: int) -> List[Tuple[int, int, bool]]:
        """The pieces of [start, end) -- cut where `pattern` matches a statement start --
        that hold a candidate; adjacent ones are joined, and a large function or class is
        cut again at its own statements. Only the cuts next to a candidate are checked."""
        raw = [m.start() + 1 for m in pattern.finditer(self.source, max(start - 1, 0), end)]
        groups: Dict[Tuple[int, int], List[int]] = {}
        for c in candidates:
            i = bisect_right(raw, c) - 1
            while i >= 0 and raw[i] > start and not self._cut_ok(raw[i]):
                i -= 1
            lo = raw[i] if i >= 0 else start
            j = i + 1
            while j < len(raw) and (raw[j] <= c or not self._cut_ok(raw[j])):
                j += 1
            hi = raw[j] if j < len(raw) else end
            groups.setdefault((lo, hi), []).append(c)
        pieces: List[Tuple[int, int, bool]] = []
        for (lo, hi) in sorted(groups):
            if depth < 3 and hi - lo > _SPLIT_OVER:
                inner = self.split(lo, hi, groups[(lo, hi)], depth)
                if inner is not None:
                    pieces.extend(inner)
                    continue
            if pieces and pieces[-1][1] == lo and pieces[-1][2] == indented:
                pieces[-1] = (pieces[-1][0], hi, indented)
            else:
                pieces.append((lo, hi, indented))
        return pieces

    def split(self, start: int, end: int, candidates: List[int],
              depth: int) -> Optional[List[Tuple[int, int, bool]]]:
        """The pieces of a `def`/`class` statement's body, or None when it is not one (an
        `if`, `try` or `with` decides what its body's imports mean: it is read whole)."""
        source = self.source
        first_line_end = source.find("\n", start, end)
        head = source[start : end if first_line_end == -1 else first_line_end]
        stripped_head = head.lstrip(" \t")
        if not _DEFINITION.match(stripped_head):
            return None
        # The body's indentation: that of the first statement line indented deeper than
        # the header.
        header_indent = len(head) - len(stripped_head)
        ml_starts, ml_ends = self.multiline
        body = None
        pos = source.find("\n", start, end)
        while pos != -1 and pos < end:
            line_start = pos + 1
            line_end = source.find("\n", line_start, end)
            line = source[line_start : end if line_end == -1 else line_end]
            stripped = line.lstrip(" \t")
            indent = len(line) - len(stripped)
            if (
                (stripped[:1].isidentifier() or stripped[:1] == "@")
                and indent > header_indent
                and not _inside(line_start, ml_starts, ml_ends)
            ):
                body = line[:indent]
                break
            pos = line_end
        if body is None or body.strip(" \t"):
            return None
        pattern = _NESTED.get(body)
        if pattern is None:
            import re

            pattern = re.compile(
                "\n" + re.escape(body) + r"(?![ \t])(?!(?:else|elif|except|finally)\b)"
                r"(?=[A-Za-z_@])"
            )
            _NESTED[body] = pattern
        # A candidate in the header piece (the signature and decorators: a default value
        # calling import_module, say) makes a piece that does not parse alone: then the
        # whole file is read.
        pieces = self.select(pattern, start, end, candidates, True, depth + 1)
        return None if [p[:2] for p in pieces] == [(start, end)] else pieces


def _inside(pos: int, starts: Sequence[int], ends: Sequence[int]) -> bool:
    i = bisect_right(starts, pos) - 1
    return i >= 0 and pos < ends[i]


def _imports(text: str, version: Tuple[int, ...], offset: int) -> List[Import]:
    import ast

    tree = ast.parse(text)
    out: List[Import] = []
    dynamic = any(d in text for d in _DYNAMIC)
    _Walker(out, version, offset, dynamic).body(tree.body, False)
    return out


class _Walker:
    def __init__(self, out: List[Import], version: Tuple[int, ...], offset: int,
                 dynamic: bool) -> None:
        import ast

        self.ast = ast
        self.out = out
        self.version = version
        self.offset = offset
        self.dynamic = dynamic
        try_star = getattr(ast, "TryStar", None)
        self.tries = (ast.Try,) if try_star is None else (ast.Try, try_star)

    def body(self, stmts: Sequence[ast.stmt], optional: bool) -> None:
        ast = self.ast
        for node in stmts:
            kind = type(node)
            if kind is ast.Import:
                for alias in node.names:  # type: ignore[attr-defined]
                    self.out.append(Import(alias.name, node.lineno + self.offset, optional))
            elif kind is ast.ImportFrom:
                if node.level or not node.module:  # type: ignore[attr-defined]
                    continue  # relative: the project's own code
                names = tuple(a.name for a in node.names if a.name != "*")  # type: ignore[attr-defined]
                self.out.append(
                    Import(node.module, node.lineno + self.offset, optional, names)  # type: ignore[attr-defined]
                )
            elif kind is ast.If:
                self.branch(node, optional)  # type: ignore[arg-type]
            elif kind in self.tries:
                guarded = optional or any(
                    _catches_import_error(h.type) for h in node.handlers  # type: ignore[attr-defined]
                )
                self.body(node.body, guarded)  # type: ignore[attr-defined]
                for handler in node.handlers:  # type: ignore[attr-defined]
                    self.body(handler.body, guarded)
                self.body(node.orelse, optional)  # type: ignore[attr-defined]
                self.body(node.finalbody, optional)  # type: ignore[attr-defined]
            else:
                if self.dynamic:
                    self.calls(node, optional)
                for field in ("body", "orelse", "finalbody"):
                    sub = getattr(node, field, None)
                    if sub:
                        self.body(sub, optional)
                for handler in getattr(node, "handlers", ()):
                    self.body(handler.body, optional)
                for case in getattr(node, "cases", ()):
                    self.body(case.body, optional)

    def branch(self, node: ast.If, optional: bool) -> None:
        if self.dynamic:
            self.calls(node.test, optional)
        decided = _decide(node.test, self.version)
        if decided == "typing":
            self.body(node.body, True)
            self.body(node.orelse, optional)
        elif decided == "not typing":
            self.body(node.body, optional)
            self.body(node.orelse, True)
        elif decided is True:
            self.body(node.body, optional)
        elif decided is False:
            self.body(node.orelse, optional)
        else:
            self.body(node.body, optional)
            self.body(node.orelse, optional)

    def calls(self, node: ast.AST, optional: bool) -> None:
        """`importlib.import_module("x")` / `__import__("x")` in `node`, outside nested
        statement bodies (those are visited as statements)."""
        ast = self.ast
        stack: List[ast.AST] = [node]
        while stack:
            current = stack.pop()
            for field, value in ast.iter_fields(current):
                if field in ("body", "orelse", "finalbody", "handlers", "cases") and isinstance(
                    current, ast.stmt
                ):
                    continue
                if isinstance(value, list):
                    stack.extend(v for v in value if isinstance(v, ast.AST))
                elif isinstance(value, ast.AST):
                    stack.append(value)
            if isinstance(current, ast.Call):
                name = _dynamic_import(current, ast)
                if name:
                    self.out.append(Import(name, current.lineno + self.offset, optional))


def _dynamic_import(call: ast.Call, ast: object) -> Optional[str]:
    func = call.func
    callee = getattr(func, "attr", None) or getattr(func, "id", None)
    if callee not in _DYNAMIC or not call.args:
        return None
    arg = call.args[0]
    value = getattr(arg, "value", None)
    if type(arg).__name__ != "Constant" or not isinstance(value, str):
        return None
    if not value or value.startswith(".") or not all(p.isidentifier() for p in value.split(".")):
        return None  # relative (needs package=) or not a module name
    return value


def _catches_import_error(node: Optional[ast.expr]) -> bool:
    if node is None:
        return True  # a bare `except:`
    elts = getattr(node, "elts", None)
    if elts is not None:
        return any(_catches_import_error(e) for e in elts)
    name = getattr(node, "id", None) or getattr(node, "attr", None)
    return name in _IMPORT_ERRORS


def _decide(test: ast.expr, version: Tuple[int, ...]) -> object:
    """True/False when `test` is a `sys.version_info` comparison decided for `version`;
    "typing" for `TYPE_CHECKING`, "not typing" for `not TYPE_CHECKING`; None otherwise."""
    kind = type(test).__name__
    if kind in ("Name", "Attribute"):
        name = getattr(test, "id", None) or getattr(test, "attr", None)
        return "typing" if name == "TYPE_CHECKING" else None
    if kind == "UnaryOp" and type(test.op).__name__ == "Not":  # type: ignore[attr-defined]
        inner = _decide(test.operand, version)  # type: ignore[attr-defined]
        if inner == "typing":
            return "not typing"
        return (not inner) if isinstance(inner, bool) else None
    if kind == "BoolOp":
        values = [_decide(v, version) for v in test.values]  # type: ignore[attr-defined]
        if type(test.op).__name__ == "And":  # type: ignore[attr-defined]
            if any(v is False for v in values):
                return False
            return True if all(v is True for v in values) else None
        if any(v is True for v in values):
            return True
        return False if all(v is False for v in values) else None
    if kind == "Compare" and len(test.ops) == 1:  # type: ignore[attr-defined]
        left = _version_value(test.left, version)  # type: ignore[attr-defined]
        right = _literal(test.comparators[0])  # type: ignore[attr-defined]
        op = type(test.ops[0]).__name__  # type: ignore[attr-defined]
        if left is None:
            # `(3, 8) <= sys.version_info`
            left, right = _version_value(test.comparators[0], version), _literal(test.left)  # type: ignore[attr-defined]
            op = {"Lt": "Gt", "Gt": "Lt", "LtE": "GtE", "GtE": "LtE"}.get(op, op)
        if left is None or right is None or type(left) is not type(right):
            return None
        try:
            return {
                "Lt": left < right, "LtE": left <= right, "Gt": left > right,
                "GtE": left >= right, "Eq": left == right, "NotEq": left != right,
            }.get(op)
        except TypeError:
            return None
    return None


def _is_version_info(node: ast.expr) -> bool:
    kind = type(node).__name__
    if kind == "Attribute":
        return node.attr == "version_info" and getattr(node.value, "id", None) == "sys"  # type: ignore[attr-defined]
    return kind == "Name" and node.id == "version_info"  # type: ignore[attr-defined]


def _version_value(node: ast.expr, version: Tuple[int, ...]) -> object:
    """The value of `sys.version_info`, `sys.version_info[:2]`, `sys.version_info[0]` or
    `sys.version_info.major`/`.minor` for the target; None for anything else."""
    kind = type(node).__name__
    if _is_version_info(node):
        return tuple(version)
    if kind == "Attribute" and _is_version_info(node.value):  # type: ignore[attr-defined]
        index = {"major": 0, "minor": 1, "micro": 2}.get(node.attr)  # type: ignore[attr-defined]
        return version[index] if index is not None and index < len(version) else None
    if kind == "Subscript" and _is_version_info(node.value):  # type: ignore[attr-defined]
        sub = node.slice  # type: ignore[attr-defined]
        if type(sub).__name__ == "Index":  # Python 3.8's wrapper
            sub = sub.value
        if type(sub).__name__ == "Slice":
            lower, upper = _literal(sub.lower), _literal(sub.upper)
            if sub.step is None and lower in (None, 0) and isinstance(upper, int):
                return tuple(version[:upper])
            return None
        index = _literal(sub)
        if isinstance(index, int) and 0 <= index < len(version):
            return version[index]
    return None


def _literal(node: Optional[ast.expr]) -> object:
    if node is None:
        return None
    kind = type(node).__name__
    if kind == "Constant":
        value = node.value  # type: ignore[attr-defined]
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if kind == "Tuple":
        items = [_literal(e) for e in node.elts]  # type: ignore[attr-defined]
        return tuple(items) if all(isinstance(i, int) for i in items) else None
    return None

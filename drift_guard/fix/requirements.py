"""--fix and --diff for requirements files: the environment is the truth.

Only the lines a finding is about change. Everything else -- comments, blank lines, order,
options, includes, encoding, BOM, line endings, a missing final newline, the file mode -- is
written back byte for byte: the document from `readers.requirements.parse` keeps each physical
line with its own ending, and the rewrite works on column positions inside those lines, so a
`\\` continuation layout survives a version change.

- undeclared: `Name==version` (or what `pip freeze` writes for a direct-URL install) is added
  to the first file named, at its sorted place when its requirements are sorted, else at the
  end.
- mismatch: the version is replaced in place (`==old` -> `==new`); a range that excludes the
  installed version becomes `==installed`.
- missing: the requirement's lines go, with a pip-compile `# via` block right under it.
- unpinned (--require-pins): the specifier becomes `==installed`.

A `--hash` requirement whose version must change is left alone with a message (the new hashes
need the archive), as is anything in a file outside the project root.
"""

from __future__ import annotations

import contextlib
import os
import re

from drift_guard._io import read_bytes
from drift_guard._names import canonical, pin
from drift_guard._paths import display_path
from drift_guard.errors import DriftGuardError
from drift_guard.models import Finding, Installed, Source
from drift_guard.readers.requirements import (
    COMMENT,
    SEPARATORS,
    Entry,
    Line,
    RequirementsDocument,
    continues,
    joined_positions,
    parse,
    split_options,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import (
        Any,
        Dict,
        Iterator,
        List,
        Mapping,
        NamedTuple,
        Optional,
        Sequence,
        Set,
        Tuple,
    )
else:
    from drift_guard._record import NamedTuple

_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")
_PIN = re.compile(r"\s*(===|==)\s*")
# pip-compile / uv annotations: "    # via x", or "    # via" followed by "    #   x" lines.
_VIA = re.compile(r"^[ \t]+#[ \t]*via\b")
_VIA_MORE = re.compile(r"^[ \t]+#[ \t]{2,}\S")
# pip freeze writes this just above the `-e` line it explains.
_FREEZE_NOTE = re.compile(r"^# Editable (Git )?install ")

_REGENERATE = ("regenerate the file with `pip-compile --generate-hashes` or "
               "`uv pip compile --generate-hashes`, or write the pin and its hashes by hand "
               "(`pip hash <archive>`)")


class FileEdit(NamedTuple):
    """What --fix would do to one file."""

    path: str
    """The file as shown to the user (relative to the current directory when under it)."""
    old: bytes
    """Its bytes when it was read; `apply` writes nothing if the file no longer has them."""
    new: bytes
    messages: List[str]
    """What could not be fixed, one line each (`path:line: name: why; what to do`)."""
    encoding: str = "utf-8"
    bom: bytes = b""
    diff_path: str = ""
    """The path in diff headers, relative to the project root."""
    absolute: str = ""

    @property
    def changed(self) -> bool:
        return self.new != self.old


class _Insert(NamedTuple):
    key: str
    text: str


class _Plan:
    """The edits to one document, all expressed on its original line indexes."""

    def __init__(self, doc: RequirementsDocument, root: str) -> None:
        self.doc = doc
        self.root = root
        self.replace: Dict[int, str] = {}
        self.delete: Set[int] = set()
        self.insert: Dict[int, List[_Insert]] = {}
        self.sorted_insert = False
        self.messages: List[str] = []

    def render(self) -> bytes:
        doc = self.doc
        lines = doc.lines
        nl = doc.newline
        out: List[Line] = []
        for i in range(len(lines) + 1):
            adds = self.insert.get(i, [])
            if self.sorted_insert:
                adds = sorted(adds, key=lambda a: a.key)
            for add in adds:
                if out and continues(out[-1].text):
                    out.append(Line("", nl))  # a dangling `\` must not swallow the new line
                out.append(Line(add.text, nl))
            if i == len(lines):
                break
            if i in self.delete:
                continue
            line = lines[i]
            out.append(Line(self.replace[i], line.ending) if i in self.replace else line)
        # Only the last line may lack an ending; keep the file's own choice for that one --
        # unless the new last line is blank: taking its ending would remove it.
        for j in range(len(out) - 1):
            if not out[j].ending:
                out[j] = Line(out[j].text, nl)
        if out and lines and not lines[-1].ending and out[-1].text:
            out[-1] = Line(out[-1].text, "")
        # A deletion can bring a lone-CR line next to a blank LF line: "\r" + "\n" would read
        # back as one CRLF ending and the blank line would vanish. The blank line takes the
        # CR ending of its new neighbour instead.
        for j in range(len(out) - 1):
            if out[j].ending == "\r" and not out[j + 1].text and out[j + 1].ending == "\n":
                out[j + 1] = Line("", "\r")
        text = "".join(ln.text + ln.ending for ln in out)
        return doc.bom + text.encode(doc.encoding)


def _under(path: str, root: str) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(root)
    try:
        return os.path.commonpath([real, top]) == top
    except ValueError:  # different drives
        return False


def _relative_to(path: str, root: str) -> str:
    if _under(path, root):
        return os.path.relpath(os.path.realpath(path), os.path.realpath(root)).replace(os.sep, "/")
    return os.path.abspath(path).replace(os.sep, "/")


# ------------------------------------------------------------- locating text


class _Span(NamedTuple):
    start: int
    end: int
    """A half-open range of characters in the requirement text (options removed)."""


def _requirement_text(doc: RequirementsDocument, entry: Entry
                      ) -> Tuple[str, List[Optional[Tuple[int, int]]]]:
    """The requirement part of an entry as written (variables not expanded), with the
    physical (line, column) of each character."""
    joined, where = joined_positions(doc.lines, entry.start, entry.end)
    without = COMMENT.sub("", joined)
    lead = len(without) - len(without.lstrip())
    args, _ = split_options(without.strip())
    return args, where[lead:lead + len(args)]


def _specifier_span(args: str, name: str) -> Tuple[Optional[_Span], Optional[_Span], str]:
    """(span of the whole specifier, span of the version of a lone ==/=== pin, problem).

    An empty whole-span marks where a specifier would go (right after the name or extras)."""
    found = _NAME.match(args)
    if not found or canonical(found.group(1)) != name:
        return None, None, "the line does not start with the name"
    i = found.end()
    after_name = i
    j = i
    while j < len(args) and args[j] in " \t":
        j += 1
    if args[j:j + 1] == "[":
        close = args.find("]", j)
        if close < 0:
            return None, None, "its extras are not closed"
        after_name = j = close + 1
        while j < len(args) and args[j] in " \t":
            j += 1
    if args[j:j + 1] == "@":
        return None, None, "it is a direct reference (name @ url)"
    semi = args.find(";", j)
    end = semi if semi >= 0 else len(args)
    while end > j and args[end - 1] in " \t":
        end -= 1
    start = j
    if start < end and args[start] == "(" and args[end - 1] == ")":
        start, end = start + 1, end - 1
        while start < end and args[start] in " \t":
            start += 1
        while end > start and args[end - 1] in " \t":
            end -= 1
    if start >= end:
        return _Span(after_name, after_name), None, ""
    inner = args[start:end]
    if "${" in inner:
        return None, None, "its specifier uses an environment variable"
    if "," not in inner:
        op = _PIN.match(inner)
        if op:
            return _Span(start, end), _Span(start + op.end(), end), ""
    return _Span(start, end), None, ""


def _edit_span(plan: _Plan, where: Sequence[Optional[Tuple[int, int]]], span: _Span,
               text: str) -> bool:
    """Replace the characters of `span` by `text`: in place on the first physical line they
    touch; the rest of them are removed from the lines that hold them."""
    lines = plan.doc.lines
    if span.start == span.end:
        if span.start == 0 or where[span.start - 1] is None:
            return False
        line, col = where[span.start - 1]  # type: ignore[misc]
        current = plan.replace.get(line, lines[line].text)
        plan.replace[line] = current[:col + 1] + text + current[col + 1:]
        return True
    cells = where[span.start:span.end]
    if any(c is None for c in cells):
        return False
    per_line: Dict[int, List[int]] = {}
    for line, col in cells:  # type: ignore[misc]
        per_line.setdefault(line, []).append(col)
    first = min(per_line)
    for line in sorted(per_line, reverse=True):
        cols = per_line[line]
        lo, hi = min(cols), max(cols) + 1
        current = plan.replace.get(line, lines[line].text)
        plan.replace[line] = current[:lo] + (text if line == first else "") + current[hi:]
    return True


# ------------------------------------------------------------------ rules


def _message(plan: _Plan, entry: Optional[Entry], name: str, why: str) -> None:
    where = plan.doc.display if entry is None else f"{plan.doc.display}:{entry.line}"
    plan.messages.append(f"{where}: {name}: {why}")


def _pin(plan: _Plan, entry: Entry, name: str, version: str, kind: str) -> None:
    req = entry.requirement
    assert req is not None
    if req.editable or not entry.args:
        _message(plan, entry, name, f"installed {version} does not match this editable "
                 "requirement; reinstall it or edit the line by hand")
        return
    if req.hashes:
        _message(plan, entry, name, f"installed {version}, but the line carries --hash "
                 f"options that would have to change with it; left as it is: {_REGENERATE}")
        return
    args, where = _requirement_text(plan.doc, entry)
    whole, pinned, problem = _specifier_span(args, name)
    if whole is None:
        _message(plan, entry, name, f"installed {version}, but {problem}, so drift-guard "
                 "cannot rewrite its version; edit the line by hand")
        return
    exact = pin("", version)  # "===version" for a version PEP 440 cannot parse
    if kind == "mismatch" and pinned is not None and not exact.startswith("==="):
        ok = _edit_span(plan, where, pinned, version)
    else:
        ok = _edit_span(plan, where, whole, exact)
    if not ok:
        _message(plan, entry, name, f"installed {version}; drift-guard cannot place the new "
                 "version in this line's layout; edit it by hand")


def _via_block_end(doc: RequirementsDocument, entry: Entry) -> int:
    """The last line index of the entry plus a pip-compile `# via` block right under it."""
    lines = doc.lines
    k = entry.end + 1
    if k < len(lines) and _VIA.match(lines[k].text):
        k += 1
        while k < len(lines) and _VIA_MORE.match(lines[k].text):
            k += 1
    return k - 1


def _remove(plan: _Plan, entry: Entry) -> None:
    doc = plan.doc
    first = entry.start
    req = entry.requirement
    if (req is not None and req.editable and first > 0
            and _FREEZE_NOTE.match(doc.lines[first - 1].text)):
        first -= 1
    plan.delete.update(range(first, _via_block_end(doc, entry) + 1))


def _direct_url(inst: Installed) -> Optional[Dict[str, Any]]:
    path = os.path.join(inst.path, "direct_url.json")
    if not os.path.isfile(path):
        return {"url": inst.url} if inst.url else None
    import json

    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {"url": inst.url} if inst.url else None
    return data if isinstance(data, dict) and isinstance(data.get("url"), str) else None


def _file_path(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    return unquote(parts.path) if os.name != "nt" else unquote(parts.path).lstrip("/")


def freeze_line(inst: Installed, root: str) -> str:
    """What to add for an installed distribution: `Name==version`, or what `pip freeze`
    writes for a direct-URL install -- with a relative path for anything inside the project,
    so the file never names this machine's directories for the project's own code."""
    info = _direct_url(inst)
    if info is None:
        return pin(inst.raw_name, inst.version)
    url: str = info["url"]
    dir_info = info.get("dir_info")
    editable = inst.editable or (isinstance(dir_info, dict) and dir_info.get("editable") is True)
    vcs = info.get("vcs_info")
    if not isinstance(vcs, dict):
        vcs = None
    subdirectory = info.get("subdirectory")
    if url.startswith("file:") and vcs is None:
        path = _file_path(url)
        if _under(path, root):
            rel = _relative_to(path, root)
            rel = "." if rel == "." else "./" + rel
            return f"-e {rel}" if editable else rel
        if editable:
            return f"-e {path}"
    if vcs is not None and vcs.get("vcs") and vcs.get("commit_id"):
        url = f"{vcs['vcs']}+{url}@{vcs['commit_id']}"
    fragments = []
    archive = info.get("archive_info")
    if isinstance(archive, dict) and isinstance(archive.get("hash"), str):
        fragments.append(archive["hash"])
    if isinstance(subdirectory, str) and subdirectory:
        fragments.append(f"subdirectory={subdirectory}")
    if fragments:
        url += "#" + "&".join(fragments)
    return f"{inst.raw_name} @ {url}"


def _uses_hashes(doc: RequirementsDocument) -> bool:
    for entry in doc.entries:
        if entry.requirement is not None and entry.requirement.hashes:
            return True
        if entry.kind == "option" and any(o == "--require-hashes" for o, _ in entry.options):
            return True
    return False


def _sorted_position(doc: RequirementsDocument, key: str) -> Optional[int]:
    """Where `key` goes if the file's named requirements are sorted case-insensitively;
    None if they are not (or there are none)."""
    named: List[Tuple[str, Entry]] = []
    for entry in doc.entries:
        req = entry.requirement
        if req is None or req.editable or not req.name:
            continue
        found = _NAME.match(entry.args)
        if found and canonical(found.group(1)) == req.name:
            named.append((found.group(1).lower(), entry))
    if not named or any(a[0] > b[0] for a, b in zip(named, named[1:])):
        return None
    before = [e for k, e in named if k <= key]
    if before:
        return _via_block_end(doc, before[-1]) + 1
    return named[0][1].start


def _add(plan: _Plan, finding: Finding, inst: Installed) -> None:
    doc = plan.doc
    text = freeze_line(inst, plan.root)
    if _uses_hashes(doc):
        _message(plan, None, finding.name, f"installed {inst.version} but not declared; this "
                 f"file uses --hash, so a line without hashes would break `pip install`: add "
                 f"{text} with its hashes -- {_REGENERATE}")
        return
    key = inst.raw_name.lower()
    position = None
    if not text.startswith(("-e ", ".")):
        position = _sorted_position(doc, key)
    if position is None:
        position = len(doc.lines)
    else:
        plan.sorted_insert = True
    plan.insert.setdefault(position, []).append(_Insert(key, text))


# -------------------------------------------------------------------- API


def plan_fix(sources: Sequence[Source], findings: Sequence[Finding],
             installed: Mapping[str, Installed], *, root: str) -> List[FileEdit]:
    """The edits that make the requirements files in `sources` agree with `installed`.

    Findings name the file and line that declare them (`Finding.source`, relative to the
    current directory); undeclared packages go to the first requirements file of `sources`.
    Nothing is written; messages say what was left for the user."""
    # Plans are keyed by the physical file (device, inode): a file reached by two names (a
    # symlinked include, a path spelled twice) is planned, and written, once.
    plans: Dict[Tuple[int, int], _Plan] = {}
    paths: Dict[Tuple[int, int], str] = {}
    orphans: Dict[str, List[str]] = {}
    recorded: Dict[Tuple[int, int], bytes] = {}
    for source in sources:
        for path, raw in source.contents:
            with contextlib.suppress(OSError):
                recorded.setdefault(_identity(path), raw)

    def plan_for(path: str) -> _Plan:
        absolute = os.path.abspath(path)
        try:
            ident = _identity(absolute)
        except OSError as exc:
            raise DriftGuardError(f"cannot read it again to fix it: {exc.strerror or exc}; "
                                  "nothing was written", path=display_path(absolute)) from None
        if ident not in plans:
            doc = parse(absolute, display=display_path(absolute))
            checked = recorded.get(ident)
            if checked is not None and doc.raw != checked:
                raise DriftGuardError("changed on disk since drift-guard checked it; nothing "
                                      "was written: run drift-guard again", path=doc.display)
            plans[ident] = _Plan(doc, root)
            paths[ident] = absolute
        return plans[ident]

    def identity_of(path: str) -> Tuple[int, int]:
        with contextlib.suppress(OSError):
            return _identity(os.path.abspath(path))
        return (-1, hash(os.path.abspath(path)))

    first = next((s for s in sources if s.format == "requirements.txt"), None)
    seen: Set[Tuple[str, str, Tuple[int, int], Optional[int]]] = set()
    for finding in findings:
        # A file named twice (or by two names) gives each finding twice; a span must be
        # edited once.
        once = (finding.kind, finding.name,
                identity_of(finding.source or (first.path if first else "")), finding.line)
        if once in seen:
            continue
        seen.add(once)
        if finding.kind == "undeclared":
            if first is None:
                continue
            inst = installed.get(finding.name) or _fallback(finding)
            if inst is None:
                continue
            if not _under(first.path, root):
                orphans.setdefault(first.path, []).append(
                    f"{first.path}: {finding.name}: installed {inst.version} but not declared; "
                    f"the file is outside the project ({root}), so drift-guard leaves it "
                    "alone: add it by hand")
                continue
            _add(plan_for(first.path), finding, inst)
            continue
        if finding.kind not in ("mismatch", "missing", "unpinned") or not finding.source:
            continue
        if finding.line is None:
            continue
        if not _under(finding.source, root):
            orphans.setdefault(finding.source, []).append(
                f"{finding.source}:{finding.line}: {finding.name}: {finding.kind}, declared in "
                f"a file outside the project ({root}); drift-guard leaves it alone: fix it "
                "there by hand")
            continue
        plan = plan_for(finding.source)
        entry = plan.doc.entry_at(finding.line)
        req = entry.requirement if entry is not None else None
        if entry is None or req is None or req.name not in (finding.name, ""):
            _message(plan, None, finding.name, f"not found on line {finding.line} any more; "
                     "the file changed since it was checked: run drift-guard again")
            continue
        if finding.kind == "missing":
            _remove(plan, entry)
            continue
        inst = installed.get(finding.name) or _fallback(finding)
        if inst is None:
            continue
        _pin(plan, entry, finding.name, inst.version, finding.kind)

    order: Dict[str, int] = {}
    for source in sources:
        for path in (source.path, *source.files):
            order.setdefault(os.path.abspath(path), len(order))
    edits: List[FileEdit] = []
    for ident, plan in sorted(plans.items(),
                              key=lambda p: order.get(paths[p[0]], len(order))):
        absolute = paths[ident]
        doc = plan.doc
        new = doc.raw
        messages = list(plan.messages)
        if plan.replace or plan.delete or plan.insert:
            if doc.dumps() != doc.raw:
                messages.append(f"{doc.display}: its {doc.encoding} text does not encode back "
                                "to the same bytes, so drift-guard will not rewrite it; save it "
                                "as UTF-8 and run --fix again")
            else:
                try:
                    new = plan.render()
                except UnicodeEncodeError as exc:
                    messages.append(f"{doc.display}: the change needs characters "
                                    f"{doc.encoding} cannot hold ({exc.reason}); edit it by hand")
        edits.append(FileEdit(doc.display, doc.raw, new, messages, doc.encoding, doc.bom,
                              _relative_to(absolute, root), absolute))
    edits.extend(FileEdit(path, b"", b"", messages) for path, messages in orphans.items())
    return edits


def _fallback(finding: Finding) -> Optional[Installed]:
    if not finding.installed:
        return None
    return Installed(finding.name, finding.name, finding.installed, (), "")


def unified_diff(edits: Sequence[FileEdit]) -> str:
    """A unified diff of the edits, with `a/` and `b/` paths relative to the project root."""
    import difflib

    chunks: List[str] = []
    for edit in edits:
        if not edit.changed:
            continue
        name = edit.diff_path or edit.path.replace(os.sep, "/")
        old = _decoded(edit, edit.old).splitlines(True)
        new = _decoded(edit, edit.new).splitlines(True)
        for line in difflib.unified_diff(old, new, f"a/{name}", f"b/{name}", lineterm="\n"):
            if line[-1:] in SEPARATORS:
                chunks.append(line)
            else:
                chunks.append(line + "\n\\ No newline at end of file\n")
    return "".join(chunks)


def _decoded(edit: FileEdit, data: bytes) -> str:
    if edit.bom and data.startswith(edit.bom):
        data = data[len(edit.bom):]
    return data.decode(edit.encoding)


def _identity(path: str) -> Tuple[int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


def _before_swap(path: str) -> None:
    """Called right before a file is compared and replaced (tests inject faults here)."""


def apply(edits: Sequence[FileEdit]) -> None:
    """Write the edits, each atomically (a temporary file in the same directory, then
    `os.replace`), keeping each file's mode, owner and extended attributes.

    Each file is written only if it still holds the bytes it was planned from (checked for
    all files first, and again for each right before its rename), at most once per physical
    file. A hard-linked file is refused: replacing it would split the link. SIGTERM, SIGHUP
    and SIGINT during the write remove the temporary file before they take effect.
    If any file fails the first checks, nothing at all is written."""
    changed: List[FileEdit] = []
    done: Dict[Tuple[int, int], FileEdit] = {}
    for edit in edits:
        if not edit.changed:
            continue
        try:
            ident = _identity(edit.absolute or edit.path)
        except OSError as exc:
            raise DriftGuardError(f"cannot read it again before writing: "
                                  f"{exc.strerror or exc}; nothing was written",
                                  path=edit.path) from None
        if ident in done:
            if done[ident].new != edit.new:
                raise DriftGuardError(f"is the same file as {done[ident].path} with other "
                                      "changes; nothing was written", path=edit.path)
            continue
        done[ident] = edit
        changed.append(edit)
    for edit in changed:
        _check_unchanged(edit)
        _check_links(edit)
    written: List[str] = []
    with _signals_raise() as pending:
        try:
            for edit in changed:
                _write(edit)
                written.append(edit.path)
        except _Signalled:
            pass
        except DriftGuardError as exc:
            if written:  # each file is whole, but the set is not: say which ones changed
                exc.message = exc.message.replace("nothing was written", "it was not written")
                exc.message += f" (already rewritten: {', '.join(written)})"
            raise
    if pending:
        _redeliver(pending[0])


def _check_links(edit: FileEdit) -> None:
    st = os.stat(edit.absolute or edit.path)
    if st.st_nlink > 1:
        raise DriftGuardError(
            f"has {st.st_nlink} hard links; replacing it would split them, so drift-guard "
            "writes nothing: apply the change by hand (drift-guard --diff shows it)",
            path=edit.path)


class _Signalled(BaseException):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_SIGNALS = ("SIGTERM", "SIGHUP", "SIGINT")


@contextlib.contextmanager
def _signals_raise() -> Iterator[List[int]]:
    """Turn SIGTERM/SIGHUP/SIGINT into an exception while files are written, so the
    temporary file is removed; the signal's own effect follows (see `_redeliver`)."""
    import signal
    import threading

    pending: List[int] = []
    saved: Dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def handler(signum: int, frame: Any) -> None:
            if not pending:
                pending.append(signum)
                raise _Signalled(signum)

        for name in _SIGNALS:
            signum = getattr(signal, name, None)
            if signum is None:
                continue
            current = signal.getsignal(signum)
            if current is signal.SIG_IGN:  # e.g. nohup: the user chose to ignore it
                continue
            saved[signum] = current
            signal.signal(signum, handler)
    try:
        yield pending
    finally:
        for signum, previous in saved.items():
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """Hold SIGTERM/SIGHUP/SIGINT back for a few statements (they arrive right after)."""
    import signal

    mask = {getattr(signal, n) for n in _SIGNALS if hasattr(signal, n)}
    block = getattr(signal, "pthread_sigmask", None)
    if block is None:
        yield
        return
    old = block(signal.SIG_BLOCK, mask)
    try:
        yield
    finally:
        block(signal.SIG_SETMASK, old)


def _redeliver(signum: int) -> None:
    """Let a signal caught during the write do what it would have done."""
    import signal

    # The default action ends the process right here; a Python handler (SIGINT's
    # KeyboardInterrupt) runs at the next bytecode, and one that returns lets the run go on.
    unblock = getattr(signal, "pthread_sigmask", None)
    if unblock is not None:
        unblock(signal.SIG_UNBLOCK, {signum})
    os.kill(os.getpid(), signum)


def _check_unchanged(edit: FileEdit) -> None:
    try:
        current = read_bytes(edit.absolute or edit.path, what="requirements file",
                             shown=edit.path)
    except DriftGuardError as exc:
        raise DriftGuardError(f"cannot read it again before writing: {exc.message}; "
                              "nothing was written", path=edit.path) from None
    if current != edit.old:
        raise DriftGuardError("changed on disk since drift-guard read it; nothing was "
                              "written: run drift-guard --fix again", path=edit.path)


def _copy_xattrs(source: str, dest: str, shown: str) -> None:
    """Carry the extended attributes of `source` over to `dest`, or refuse."""
    listxattr = getattr(os, "listxattr", None)
    if listxattr is None:
        return
    try:
        names = listxattr(source)
    except OSError:
        return  # a file system without extended attributes: nothing to keep
    for name in names:
        try:
            os.setxattr(dest, name, os.getxattr(source, name))
        except OSError as exc:
            raise DriftGuardError(
                f"has the extended attribute {name!r}, which drift-guard cannot carry over "
                f"to the rewritten file ({exc.strerror or exc}); nothing of it was changed: "
                "apply the change by hand (drift-guard --diff shows it)", path=shown) from None


def _write(edit: FileEdit) -> None:
    import stat
    import tempfile

    target = os.path.realpath(edit.absolute or edit.path)  # write through a symlink
    tmp = ""
    try:
        try:
            st = os.stat(target)
            with _signals_blocked():  # no signal between creating the file and knowing it
                fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target),
                                           prefix=f".{os.path.basename(target)}.",
                                           suffix=".tmp")
        except OSError as exc:
            raise DriftGuardError(f"cannot write next to it: {exc.strerror or exc}; fix the "
                                  "directory's permissions", path=edit.path) from None
        with os.fdopen(fd, "wb") as f:
            f.write(edit.new)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        if hasattr(os, "chown") and (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
            with contextlib.suppress(OSError):  # only root may give a file away
                os.chown(tmp, st.st_uid, st.st_gid)
        _copy_xattrs(target, tmp, edit.path)
        _before_swap(target)
        _check_unchanged(edit)  # compare-and-swap: the bytes planned from, right before
        _check_links(edit)
        with _signals_blocked():
            os.replace(tmp, target)
            tmp = ""
    except BaseException as exc:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            raise DriftGuardError(f"cannot write it: {exc.strerror or exc}; nothing of it was "
                                  "changed", path=edit.path) from None
        raise

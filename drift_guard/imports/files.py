"""The project's code: which Python files, what they contain (the staged version under a
commit hook), and a cache of what each imports.

Which files: those git tracks under the project root (`git ls-files`), else a walk of the
directory; then `code` (where the application lives, when configured) and the `exclude`
globs (tests, docs, virtualenvs by default). git runs with a timeout, no pager, no
fsmonitor hook and no optional locks, in an environment stripped of everything but what
locates the repository: nothing the repository's configuration names is run.

What they contain: under a pre-commit hook the commit is the index, so a file whose working
copy differs from the index (`git ls-files --modified`) is read from the index (`git cat-file
blob :path`); every other file is read from disk. A file that is not a regular file, is
larger than `SOURCE_LIMIT` or is not UTF-8 is skipped with a note; nothing is run.

The cache (`$XDG_CACHE_HOME/drift-guard/`, outside the project and the environment) maps a
path with its size, mtime and inode to the imports found there; it is written atomically,
and a cache that cannot be read or makes no sense is ignored.
"""

from __future__ import annotations

import os
import stat

from drift_guard.imports.parse import Import, Parsed, parse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Set, Tuple
else:
    from drift_guard._record import NamedTuple

SOURCE_LIMIT = 4 * 1024 * 1024
GIT_TIMEOUT = 10.0
WALK_LIMIT = 50_000
CACHE_VERSION = 1

DEFAULT_EXCLUDE = (
    ".*",  # .venv, .tox, .git, .github, ...
    "venv",
    "env",
    "node_modules",
    "site-packages",
    "__pycache__",
    "build",
    "dist",
    "tests",
    "test",
    "testing",
    "docs",
    "doc",
    "examples",
    "benchmarks",
    "conftest.py",
    "test_*.py",
    "*_test.py",
    "setup.py",
    "noxfile.py",
)
"""Left out of the scan: a name without "/" matches any file or directory of that name;
a pattern with "/" matches the whole relative path (a directory: and everything in it)."""

# What git may see of our environment: where the repository and its index are, and what it
# needs to run at all. Everything else (GIT_CONFIG_*, GIT_EXTERNAL_DIFF, pagers, ...) goes.
_GIT_KEEP = (
    "PATH", "HOME", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP", "LANG", "LC_ALL", "LC_CTYPE",
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CEILING_DIRECTORIES",
)
_GIT_ARGS = (
    "-c", "core.fsmonitor=false", "-c", "core.untrackedCache=false",
    "-c", "core.quotepath=false", "--no-pager",
)


class Source(NamedTuple):
    path: str
    """Relative to the project root, with "/"."""
    imports: Tuple[Import, ...]


class Scan(NamedTuple):
    sources: Tuple[Source, ...]
    notes: Tuple[str, ...] = ()
    from_git: bool = False
    read: int = 0
    """How many files were read and parsed (the rest came from the cache)."""


# --- which files -------------------------------------------------------------------------


class _Excluder:
    """`excluded()` with its patterns compiled once: a name pattern is one regex tried on
    each path component (directories are decided once for all their files)."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = patterns
        self.dirs: Dict[str, bool] = {}

    def _compile(self) -> None:
        # On the first path: a project without Python files costs no compiling (nor `re`).
        import re
        from fnmatch import translate

        names = []
        self.paths: List[str] = []
        for pattern in self.patterns:
            pattern = pattern.strip()
            if not pattern:
                continue
            if "/" not in pattern.rstrip("/"):
                names.append(translate(pattern.rstrip("/")))
                continue
            pattern = pattern.lstrip("/")
            if pattern.endswith("/**"):
                pattern = pattern[:-3]
            self.paths.append(pattern.rstrip("/"))
        self.name = re.compile("|".join(names)) if names else None

    def __call__(self, path: str) -> bool:
        if not hasattr(self, "name"):
            self._compile()
        from fnmatch import fnmatchcase

        directory, _, base = path.rpartition("/")
        if directory:
            hit = self.dirs.get(directory)
            if hit is None:
                hit = self.name is not None and any(
                    self.name.match(part) for part in directory.split("/"))
                self.dirs[directory] = hit
            if hit:
                return True
        if self.name is not None and self.name.match(base):
            return True
        for pattern in self.paths:
            if fnmatchcase(path, pattern) or fnmatchcase(path, pattern + "/*"):
                return True
            if pattern.startswith("**/") and (
                fnmatchcase(path, pattern[3:]) or fnmatchcase(path, pattern[3:] + "/*")
            ):
                return True
        return False


def excluded(path: str, patterns: Sequence[str]) -> bool:
    """`path` ("pkg/tests/test_x.py") matches one of `patterns` (see DEFAULT_EXCLUDE)."""
    return _Excluder(patterns)(path)


def in_code(path: str, code: Sequence[str]) -> bool:
    """`path` lies in one of the `code` entries (directories, files or globs)."""
    if not code:
        return True
    from fnmatch import fnmatchcase

    for entry in code:
        entry = entry.strip().strip("/")
        if entry in ("", "."):
            return True
        if path == entry or path.startswith(entry + "/") or fnmatchcase(path, entry):
            return True
    return False


def git_env() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _GIT_KEEP}
    if "GIT_INDEX_FILE" in env and not os.path.isabs(env["GIT_INDEX_FILE"]):
        env["GIT_INDEX_FILE"] = os.path.abspath(env["GIT_INDEX_FILE"])
    env.update(GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0", LC_ALL="C")
    return env


def git(root: str, *args: str, stdin: Optional[bytes] = None) -> Optional[bytes]:
    """The output of `git ARGS` run in `root`, or None when git is missing, fails or hangs."""
    from drift_guard import _spawn

    done = _spawn.run(["git", "-C", root, *_GIT_ARGS, *args], env=git_env(), stdin=stdin,
                      timeout=GIT_TIMEOUT)
    return done[1] if done is not None and done[0] == 0 else None


def list_files(
    root: str, code: Sequence[str] = (), exclude: Sequence[str] = DEFAULT_EXCLUDE,
    staged: bool = False,
) -> Tuple[List[str], bool, Set[str]]:
    """(the project's Python files relative to `root`, whether git listed them, and -- when
    `staged` -- those whose working copy differs from the index). One git process: with
    `-t -m`, a changed file is listed twice, tagged "H" (in the index) and "C" (changed)."""
    args = ["ls-files", "-z", "--cached"]
    if staged:
        args += ["-t", "--modified"]
    out = git(root, *args, "--", "*.py")
    from_git = out is not None
    differs: Set[str] = set()
    if out is not None:
        paths = []
        for entry in out.decode("utf-8", "surrogateescape").split("\0"):
            if not entry:
                continue
            if staged:
                tag, _, entry = entry.partition(" ")
                if tag == "C":
                    differs.add(entry)
                    continue
            paths.append(entry)
    else:
        paths = _walk(root)
    skip = _Excluder(exclude)
    result = [p for p in paths if p.endswith(".py") and in_code(p, code) and not skip(p)]
    return sorted(set(result)), from_git, differs


def _walk(root: str) -> List[str]:
    """Python files under `root` when git cannot list them: virtualenvs (a pyvenv.cfg) and
    hidden directories are not entered, and links are not followed."""
    found: List[str] = []
    stack = [""]
    while stack and len(found) < WALK_LIMIT:
        rel = stack.pop()
        directory = os.path.join(root, rel) if rel else root
        try:
            with os.scandir(directory) as it:
                entries = list(it)
        except OSError:
            continue
        if rel and any(e.name == "pyvenv.cfg" for e in entries):
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            child = f"{rel}/{entry.name}" if rel else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(child)
                elif entry.name.endswith(".py"):
                    found.append(child)
            except OSError:
                continue
    return found


def in_commit_hook() -> bool:
    """Under a commit hook the code that counts is the index: pre-commit's PRE_COMMIT (not a
    pre-push run, which names refs) or git's own GIT_INDEX_FILE."""
    env = os.environ
    if env.get("PRE_COMMIT_FROM_REF") or env.get("PRE_COMMIT_TO_REF"):
        return False
    return bool(env.get("PRE_COMMIT") or env.get("GIT_INDEX_FILE"))


# --- contents and cache --------------------------------------------------------------------


def _read_source(full: str, rel: str, st: os.stat_result) -> Tuple[Optional[str], Optional[str]]:
    """(text, None) or (None, why it was skipped)."""
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        return None, f"{rel}: skipped, not a regular file"
    if st.st_size > SOURCE_LIMIT:
        return None, f"{rel}: skipped, {st.st_size} bytes is over the {SOURCE_LIMIT} byte limit"
    from drift_guard.errors import DriftGuardError
    from drift_guard.imports._read import read_small

    try:
        data = read_small(full, limit=SOURCE_LIMIT, what="Python file", shown=rel)
    except DriftGuardError as exc:
        return None, f"{exc}; skipped"
    if data is None:
        return None, None
    return _decode(data, rel)


def _decode(data: bytes, rel: str) -> Tuple[Optional[str], Optional[str]]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"{rel}: skipped, not UTF-8 (byte {exc.start})"


class Cache:
    """Imports per file, keyed by path, size, mtime and inode."""

    def __init__(self, key: str) -> None:
        self.path: Optional[str] = None
        self.entries: Dict[str, Any] = {}
        self.changed = False
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        if not os.path.isabs(base):
            return
        # A file name per project and target (not a secret, nor a security boundary: every
        # entry is checked against the file's size, mtime and inode). crc32 twice, not
        # hashlib: importing hashlib costs more than the whole warm scan of a small project.
        from binascii import crc32

        raw = key.encode("utf-8", "surrogateescape")
        digest = f"{crc32(raw):08x}{crc32(raw[::-1]):08x}"
        self.path = os.path.join(base, "drift-guard", f"imports-{digest}.json")
        self._load()

    def _load(self) -> None:
        assert self.path is not None
        try:
            from drift_guard._io import read_bytes

            raw = read_bytes(self.path, limit=64 * 1024 * 1024, what="cache")
            import json

            data = json.loads(raw)
            if isinstance(data, dict) and data.get("version") == CACHE_VERSION:
                files = data.get("files")
                if isinstance(files, dict):
                    self.entries = files
        except Exception:  # a cache is only ever a shortcut: anything wrong with it = no cache
            self.entries = {}

    def get(self, rel: str, st: os.stat_result) -> Optional[Parsed]:
        entry = self.entries.get(rel)
        try:
            if (
                entry is not None
                and entry[0] == st.st_size
                and entry[1] == st.st_mtime_ns
                and entry[2] == st.st_ino
            ):
                imports = tuple(
                    Import(m, line, opt, tuple(names)) for m, line, opt, names in entry[3]
                )
                if not all(type(i.module) is str and type(i.line) is int for i in imports):
                    return None
                return Parsed(imports, entry[4] if isinstance(entry[4], str) else None)
        except (TypeError, ValueError, IndexError):
            pass
        return None

    def put(self, rel: str, st: os.stat_result, parsed: Parsed) -> None:
        self.entries[rel] = [
            st.st_size, st.st_mtime_ns, st.st_ino,
            [[i.module, i.line, i.optional, list(i.names)] for i in parsed.imports],
            parsed.error,
        ]
        self.changed = True

    def keep_only(self, paths: Iterable[str]) -> None:
        wanted = set(paths)
        for rel in [r for r in self.entries if r not in wanted]:
            del self.entries[rel]
            self.changed = True

    def save(self) -> None:
        if not self.changed or self.path is None:
            return
        import json

        directory = os.path.dirname(self.path)
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            # A private temporary file beside the cache, then one rename: readers see the old
            # cache or the new one, never half of one. (tempfile's import costs milliseconds.)
            tmp = os.path.join(directory, f".imports-{os.getpid()}-{os.urandom(6).hex()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                         0o600)
            try:
                # dumps, not dump: dump streams through json's pure-Python encoder, ten
                # times slower than the C one dumps uses.
                data = json.dumps({"version": CACHE_VERSION, "files": self.entries},
                                  separators=(",", ":"))
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(data)
                os.replace(tmp, self.path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError:
            pass  # no cache next time; nothing else depends on it


def scan(
    root: str,
    version: Tuple[int, ...],
    *,
    code: Sequence[str] = (),
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
    staged: Optional[bool] = None,
    use_cache: bool = True,
) -> Scan:
    """The imports of the project's code under `root`, for a target Python `version`.

    `staged`: read changed files from the index (default: when under a commit hook).
    """
    root = os.path.abspath(root)
    if staged is None:
        staged = in_commit_hook()
    paths, from_git, differs = list_files(root, code, exclude, staged)

    from drift_guard import __version__

    cache = None
    if use_cache:
        import sys

        cache = Cache(
            f"{root}\0{version[:2]}\0{sys.version_info[:2]}\0{__version__}\0{CACHE_VERSION}"
        )
    notes: List[str] = []
    sources: List[Source] = []
    read = 0
    for rel in paths:
        full = os.path.join(root, rel)
        if rel in differs:
            # ":./path": the index entry of a path relative to `root` (":path" alone is
            # relative to the top of the repository, which `root` need not be).
            blob = git(root, "cat-file", "blob", f":./{rel}")
            if blob is None:
                continue  # deleted from the index since it was listed
            if len(blob) > SOURCE_LIMIT:
                notes.append(f"{rel}: skipped, over the {SOURCE_LIMIT} byte limit")
                continue
            text, why = _decode(blob, rel)
            read += 1
            parsed = parse(text, version) if text is not None else None
        else:
            try:
                st = os.lstat(full)
            except OSError:
                continue  # listed by git, deleted from the working tree
            parsed = cache.get(rel, st) if cache is not None else None
            why = None
            if parsed is None:
                text, why = _read_source(full, rel, st)
                read += 1
                if text is not None:
                    parsed = parse(text, version)
                    if cache is not None:
                        cache.put(rel, st, parsed)
        if parsed is None:
            if why:
                notes.append(why)
            continue
        if parsed.error:
            notes.append(f"{rel}: {parsed.error}; its imports were not read")
        sources.append(Source(rel, parsed.imports))
    if cache is not None:
        cache.keep_only(paths)
        cache.save()
    return Scan(tuple(sources), tuple(notes), from_git, read)

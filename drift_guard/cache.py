"""A result cache for the check: replay the last answer when nothing it read has changed.

The hook runs on every commit, and between two commits the environment and the declaration
files rarely change. A check that finished with exit 0 or 1 is stored together with the
signature of everything it looked at: every file it opened, every path it stat()ed (present
or absent), every directory it listed. The next run with the same arguments, working
directory, environment variables and terminal replays the stored output only if every one of
those signatures is still the same; otherwise it checks afresh.

Why that is safe:
- A signature is (inode, device, mode, size, mtime, ctime) in nanoseconds. ctime cannot be set
  from user space: any write, rename, chmod or replacement of a file changes it. Installing or
  removing a distribution adds or removes entries in a listed directory, which changes that
  directory's mtime and ctime.
- An absent path is recorded as absent, together with its parent directory's signature:
  creating it changes the parent.
- A run that started a subprocess (a tool probe) is never stored: its answer depends on state
  no signature covers. The one exception is the import scan's `git ls-files` / `git cat-file`,
  whose answer is a function of the repository's index, HEAD and config: those files are
  watched instead.
- "Racy" entries are never stored: if anything recorded changed within the last two seconds,
  a later change within the same clock tick could go unseen, so the run is not cached.
- The cache lives outside the project and the environment (`$DRIFT_GUARD_CACHE_DIR`, else
  `$XDG_CACHE_HOME/drift-guard`, else `~/.cache/drift-guard`), in a directory owned by the user
  and closed to others; anything else, and any unreadable entry, is ignored.

`DRIFT_GUARD_NO_CACHE=1` or `--no-cache` turns it off. --fix, --diff and the subcommands never
use it.
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False  # typing costs milliseconds on the path that replays an answer
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple

    Signature = Optional[Tuple[int, ...]]  # six fields (signature) or three (passage)

FORMAT = 3
_MAX_ENTRIES = 64
_RACY_NS = 2_000_000_000

# Options after which the run changes something, or is not a check: never cached.
_NEVER = frozenset({"--fix", "--diff", "--help", "-h", "--version", "--no-cache", "lambda"})

# Variables that differ between otherwise identical runs and change nothing drift-guard does.
_VOLATILE = frozenset({"_", "PWD", "OLDPWD", "SHLVL", "TERM_SESSION_ID", "WINDOWID", "PS1",
                       "COLORTERM_PID", "SSH_AUTH_SOCK", "SSH_AGENT_PID"})

# The real functions, kept before a Recorder wraps them: signatures are taken with these.
_stat = os.stat
_lstat = os.lstat
_realpath = os.path.realpath


def _directory() -> Optional[str]:
    root = os.environ.get("DRIFT_GUARD_CACHE_DIR")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
            os.path.expanduser("~"), ".cache"
        )
        root = os.path.join(base, "drift-guard")
    return root if os.path.isabs(root) else None


def _private(directory: str) -> bool:
    """The cache directory is ours alone: owned by this user, not writable by others."""
    try:
        st = os.stat(directory)
    except OSError:
        return False
    getuid = getattr(os, "getuid", None)
    if getuid is not None and st.st_uid != getuid():
        return False
    return not st.st_mode & 0o022


def enabled(argv: Sequence[str]) -> bool:
    if os.environ.get("DRIFT_GUARD_NO_CACHE"):
        return False
    return not any(arg in _NEVER or arg.startswith("--fix") for arg in argv)


def _key(argv: Sequence[str]) -> str:
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = ""
    from drift_guard import __version__

    try:
        tty = sys.stdout.isatty()
    except (AttributeError, ValueError):
        tty = False
    env = sorted((k, v) for k, v in os.environ.items() if k not in _VOLATILE)
    return repr((FORMAT, __version__, sys.executable, cwd, tuple(argv), tty, env))


def _entry_path(directory: str, key: str) -> str:
    import zlib

    data = key.encode("utf-8", "surrogateescape")
    return os.path.join(directory, f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}.v{FORMAT}")


def signature(path: str) -> Signature:
    try:
        st = _stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_ino, st.st_dev, st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def passage(path: str) -> Signature:
    """What resolving a path through `path` depends on: the object itself (inode, device) and
    its type -- a directory stays the same passage whatever is added to it, and a symlink
    cannot be retargeted in place. Three fields, where a full signature has six."""
    try:
        st = _lstat(path)
    except (OSError, ValueError):
        return None
    return (st.st_ino, st.st_dev, st.st_mode)


def _current(name: str, sig: Signature) -> Signature:
    """`name`'s signature now, of the kind `sig` is."""
    return passage(name) if sig is not None and len(sig) == 3 else signature(name)


def replay(argv: Sequence[str]) -> Optional[int]:
    """Print the stored answer and return its exit code, if one is stored and still true."""
    directory = _directory()
    if directory is None or not enabled(argv):
        return None
    if not _private(directory):
        return None  # a directory others may write to is never read
    key = _key(argv)
    path = _entry_path(directory, key)
    try:
        import marshal

        with open(path, "rb") as f:
            entry = marshal.loads(f.read())
        stored_key, code, out, err, watched = entry
        if stored_key != key:
            return None
        for name, sig in watched:
            if _current(name, sig) != (tuple(sig) if sig is not None else None):
                return None
    except Exception:  # a missing, torn or foreign entry is a miss, never an error
        return None
    if out:
        sys.stdout.write(out)
        sys.stdout.flush()
    if err:
        sys.stderr.write(err)
    return int(code)


# The Recorder of the run in progress, if any (see `recording`).
_recording: Optional[Recorder] = None


def recording() -> Optional[Recorder]:
    """The Recorder watching this run, or None: drift_guard._background forks with it (its
    child records too, and the record comes back)."""
    return _recording


class Recorder:
    """Watches what one run looks at, by wrapping the os functions it uses for that."""

    def __init__(self) -> None:
        self.watched: Dict[str, Signature] = {}
        self.tainted = False
        self._saved: List[Tuple[Any, str, Any]] = []
        # Inside os.path.realpath, what a path is looked up through is a passage (see
        # `passage`); inside drift_guard._spawn (git, already accounted for), nothing is noted.
        self._resolving = 0
        self._paused = 0
        self._fork: Any = None  # os.fork before it is wrapped
        # drift-guard's own caches (this one, the import scan's) are memos of what is
        # watched anyway; their writes during the run are no change of an input.
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        own = [os.path.join(base, "drift-guard"), _directory() or ""]
        self._own = tuple(os.path.abspath(d) for d in own if d)

    def _note(self, path: Any) -> None:
        if isinstance(path, int) or path is None or self._paused:
            return
        try:
            name = os.path.abspath(os.fsdecode(path))
        except (TypeError, ValueError):
            self.tainted = True
            return
        if name in self.watched:
            known = self.watched[name]
            if self._resolving or known is None or len(known) == 6:
                return  # noted already, at least as closely as now
        if any(name == d or name.startswith(d + os.sep) for d in self._own):
            return
        sig = passage(name) if self._resolving else signature(name)
        self.watched[name] = sig
        parent = os.path.dirname(name)
        if sig is None and parent != name:
            # An absent path appears by a change to its parent (noted as a passage only, the
            # parent is noted again in full). A present one is replaced or changed only by a
            # change of its own signature (inode, ctime).
            known = self.watched.get(parent)
            if parent not in self.watched or (known is not None and len(known) == 3):
                self.watched[parent] = signature(parent)

    def _git(self, argv: Any, cwd: Any) -> bool:
        """A `git` command that only reads the index and objects (ls-files, cat-file, as the
        import scan runs them) answers the same while the index, HEAD and config do; those
        are watched instead of giving up on the run. Any other program taints it."""
        if not isinstance(argv, (list, tuple)) or not argv:
            return False
        if os.path.basename(str(argv[0])) != "git":
            return False
        if not {"ls-files", "cat-file"} & {str(a) for a in argv}:
            return False
        if len(argv) > 2 and argv[1] == "-C":  # `git -C DIR` runs as if started in DIR
            cwd = os.path.join(os.fsdecode(cwd) if cwd is not None else ".", os.fsdecode(argv[2]))
        directory = os.path.abspath(os.fsdecode(cwd) if cwd is not None else ".")
        while True:
            dot_git = os.path.join(directory, ".git")
            if os.path.isdir(dot_git):
                for name in ("index", "HEAD", "config"):
                    self._note(os.path.join(dot_git, name))
                return True
            if os.path.exists(dot_git):  # a worktree or submodule: its gitdir is elsewhere
                return False
            parent = os.path.dirname(directory)
            if parent == directory:
                return False
            directory = parent

    def _wrap(self, module: Any, attr: str) -> None:
        original = getattr(module, attr)
        note = self._note

        def wrapper(path: Any = None, *args: Any, **kwargs: Any) -> Any:
            note("." if path is None else path)
            return original(*args, **kwargs) if path is None else original(path, *args, **kwargs)

        self._saved.append((module, attr, original))
        setattr(module, attr, wrapper)

    def fork(self) -> int:
        """os.fork for a child that records what it looks at and sends that back (`state`,
        then `merge`): not a program started, so the run stays storable."""
        return int(self._fork())

    def state(self) -> Tuple[Dict[str, Signature], bool]:
        """What the child of `fork` has recorded, for its parent's `merge`."""
        return self.watched, self.tainted

    def merge(self, state: Tuple[Dict[str, Signature], bool]) -> None:
        """Add what a child recorded: each path noted as closely as either noted it."""
        watched, tainted = state
        self.tainted = self.tainted or bool(tainted)
        mine = self.watched
        for name, sig in watched.items():
            known = mine.get(name, ())
            if known == () or (known is not None and len(known) == 3 and sig is not None):
                mine[name] = sig

    def __enter__(self) -> Recorder:
        global _recording
        import builtins
        import subprocess

        self._fork = getattr(os, "fork", None)
        for attr in ("stat", "lstat", "listdir", "scandir", "open", "access", "readlink"):
            if hasattr(os, attr):
                self._wrap(os, attr)
        self._wrap(builtins, "open")
        recorder = self

        class _Popen(subprocess.Popen):  # type: ignore[type-arg]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                argv = args[0] if args else kwargs.get("args")
                if not recorder._git(argv, kwargs.get("cwd")):
                    recorder.tainted = True
                super().__init__(*args, **kwargs)

        self._saved.append((subprocess, "Popen", subprocess.Popen))
        subprocess.Popen = _Popen  # type: ignore[misc]

        from drift_guard import _spawn

        spawn = _spawn.run

        def spawned(args: Any, **kwargs: Any) -> Any:
            if not recorder._git(args, None):
                recorder.tainted = True
            recorder._paused += 1  # its PATH lookup and /dev/null are no input of the check
            try:
                return spawn(args, **kwargs)
            finally:
                recorder._paused -= 1

        def resolved(path: Any, *args: Any, **kwargs: Any) -> Any:
            recorder._resolving += 1
            try:
                return _realpath(path, *args, **kwargs)
            finally:
                recorder._resolving -= 1

        self._saved.append((os.path, "realpath", os.path.realpath))
        os.path.realpath = resolved  # type: ignore[assignment]

        self._saved.append((_spawn, "run", spawn))
        _spawn.run = spawned
        for attr in ("posix_spawn", "posix_spawnp", "fork", "forkpty", "system", "popen",
                     "execv", "execve", "execvp", "execvpe", "spawnv", "spawnve"):
            if hasattr(os, attr):  # anything else that starts a program gives the run up
                self._taint_on(os, attr)
        _recording = self
        return self

    def _taint_on(self, module: Any, attr: str) -> None:
        original = getattr(module, attr)
        recorder = self

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            recorder.tainted = True
            return original(*args, **kwargs)

        self._saved.append((module, attr, original))
        setattr(module, attr, wrapper)

    def __exit__(self, *exc: object) -> None:
        global _recording
        _recording = None
        for module, attr, original in reversed(self._saved):
            setattr(module, attr, original)
        self._saved.clear()


class _Tee:
    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.parts: List[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return int(self.stream.write(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def run_recorded(argv: Sequence[str], run: Any) -> int:
    """`run()` (returning an exit code) with what it looks at recorded, and its answer stored
    when it may be replayed later."""
    directory = _directory()
    if directory is None or not enabled(argv):
        return int(run())
    key = _key(argv)
    start = time.time_ns()
    out, err = _Tee(sys.stdout), _Tee(sys.stderr)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
    try:
        with Recorder() as recorder:
            code = int(run())
    finally:
        sys.stdout, sys.stderr = saved
    if code in (0, 1) and not recorder.tainted:
        _store(directory, key, code, "".join(out.parts), "".join(err.parts), recorder, start)
    return code


def _debug(message: str, path: str) -> None:
    if os.environ.get("DRIFT_GUARD_DEBUG"):
        sys.stderr.write(f"drift-guard: cache: {message}: {path!r}\n")


def _store(directory: str, key: str, code: int, out: str, err: str, recorder: Recorder,
           start: int) -> None:
    watched = []
    for name, sig in recorder.watched.items():
        if sig is not None and len(sig) == 6 and max(sig[4], sig[5]) > start - _RACY_NS:
            _debug("not stored: changed too recently", name)
            return  # changed too recently to trust the clock's resolution
        if _current(name, sig) != sig:
            _debug("not stored: changed while the check ran", name)
            return
        watched.append((name, sig))
    try:
        import marshal
        import tempfile

        os.makedirs(directory, mode=0o700, exist_ok=True)
        if not _private(directory):
            return
        entries = [n for n in os.listdir(directory) if n.endswith(f".v{FORMAT}")]
        if len(entries) >= _MAX_ENTRIES:
            entries.sort(key=lambda n: os.stat(os.path.join(directory, n)).st_mtime_ns)
            for name in entries[: len(entries) - _MAX_ENTRIES + 1]:
                os.unlink(os.path.join(directory, name))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".entry.")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(marshal.dumps((key, code, out, err, watched)))
            os.replace(tmp, _entry_path(directory, key))
        except BaseException:
            os.unlink(tmp)
            raise
    except Exception:  # the cache is an optimisation; failing to write it changes nothing
        return

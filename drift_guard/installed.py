"""What is installed in an environment: exactly the set `pip list --format=freeze` prints.

Mirrors pip's discovery (src/pip/_internal/metadata/importlib/_envs.py and _compat.py,
metadata/base.py `iter_installed_distributions`, commands/list.py) without running pip,
importlib.metadata or email: each directory of `Environment.paths` is scanned in order, the
first distribution of a name wins, and only the metadata headers are read.

pip's rules reproduced here:
- In each directory: `*.dist-info` / `*.egg-info` entries in directory order, then, when the
  directory is itself an `.egg`, its `EGG-INFO`, then the targets of `*.egg-link` files
  (legacy `setup.py develop`).
- The name that decides duplicates is taken from the entry's name (`foo-1.0.dist-info`,
  `foo-1.0-py3.9.egg-info`), falling back to the metadata's `Name`; a distribution whose
  name is no valid PEP 508 name (a leftover `~oo-1.0.dist-info`) or is in pip's stdlib set
  is not listed.
- The version is the one in the `.dist-info` name, else the metadata's `Version`, printed
  normalised (`01.0` -> `1.0`); a version that is not PEP 440 is printed as written (pip's
  `name===version`).
- The printed name is the metadata's `Name`, or the normalised name when there is none.
- For Python < 3.11 (or pip < 22.3) pip uses its pkg_resources backend, which walks a
  directory in sorted order -- highest version first before pip 23.1 -- and also takes
  `*.egg` directories; that decides which of two copies of a name in one directory wins.
  The pip that counts is the environment's own (the first on its path); without one, a
  current pip is assumed.

Every file is read as a bounded regular file, without blocking: a METADATA, direct_url.json,
requires.txt or .egg-link that is a FIFO, a device, a file of /proc, /sys or /dev, or too
large, a directory that cannot be listed, a symlink loop, an egg-link cycle, a `Name` that is
no valid PEP 508 name: each is a warning naming the path (`list_installed(..., warnings)`),
that one distribution is skipped, and its neighbours are still listed.
"""

from __future__ import annotations

import os
import stat
from itertools import repeat

from drift_guard._names import canonical, valid_name
from drift_guard._patterns import lazy
from drift_guard.models import Environment, Installed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Dict, List, NamedTuple, Optional, Set, Tuple
else:
    from drift_guard._record import NamedTuple

# pip's `stdlib_pkgs`: never listed (metadata/base.py).
_SKIP = frozenset({"python", "wsgiref", "argparse"})

# Versions whose normal form (str(packaging.version.Version(v))) is the string itself; any
# other version takes the exact path through packaging.
_NORMAL_VERSION = lazy(
    r"^(?:[1-9][0-9]*!)?(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*"
    r"(?:(?:a|b|rc)(?:0|[1-9][0-9]*))?(?:\.post(?:0|[1-9][0-9]*))?(?:\.dev(?:0|[1-9][0-9]*))?"
    r"(?:\+(?:[a-z0-9]*[a-z][a-z0-9]*|0|[1-9][0-9]*)(?:\.(?:[a-z0-9]*[a-z][a-z0-9]*|0|[1-9][0-9]*))*)?$"
)

# The headers read, with folded continuation lines, in headers that start with a "\n" (a
# literal start is much faster for `re` than `^` in MULTILINE mode). email (compat32) strips
# the blanks after the colon and the line end, nothing else; field names are case-insensitive.
_WANTED = lazy(r"\n(?i:(name|version|requires-dist)):[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)")
# A line that is neither a header nor a continuation: email.feedparser ends the headers there.
_NOT_A_HEADER = lazy(r"\n(?![ \t]|[\041-\071\073-\176]*:)")

_CHUNK = 8192
_SEP = os.sep
# Non-blocking: opening a FIFO for reading must not wait for a writer.
_O_RDONLY = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
_O_RDONLY |= getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
_METADATA_LIMIT = 16 * 1024 * 1024
_SMALL_LIMIT = 1024 * 1024
# Absent: pip takes the distribution without that file.
_ABSENT = (FileNotFoundError, NotADirectoryError, IsADirectoryError)
_SPECIAL_ROOTS = ("/proc", "/sys", "/dev")
_special_devices: Optional[Set[int]] = None
_FORMAT = stat.S_IFMT(0o177777)
_REGULAR = stat.S_IFREG


class _Unreadable(Exception):
    """A file or directory of the environment that cannot be read: the message names it."""


def _shown(path: str) -> str:
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")


def _special_set() -> Set[int]:
    """The devices of /proc, /sys and /dev (found once)."""
    global _special_devices
    if _special_devices is None:
        devices = set()
        for root in _SPECIAL_ROOTS:
            try:
                devices.add(os.stat(root).st_dev)
            except OSError:
                pass
        _special_devices = devices
    return _special_devices


def _read_file(path: str, limit: int, *, head: bool = False,
               at: Optional[Tuple[int, str]] = None) -> Optional[bytes]:
    """The bytes of the regular file `path` (with `head`: at least up to its first blank
    line), at most `limit` of them; None when it does not exist. Raises `_Unreadable` for
    anything else: a FIFO, a device, a file of /proc, /sys or /dev, a file over `limit`, a
    permission error, a symlink loop.

    os.open/os.read: half the cost of open() on the hot path, which reads one file per
    distribution. `at`: (directory fd, path relative to it) naming the same file, opened
    without walking the directories above it again.
    """
    try:
        fd = os.open(path, _O_RDONLY) if at is None else os.open(at[1], _O_RDONLY, dir_fd=at[0])
    except _ABSENT:
        return None
    except OSError as e:
        raise _Unreadable(f"{_shown(path)}: cannot read it ({e.strerror})") from None
    try:
        st = os.fstat(fd)
        mode = st.st_mode
        if mode & _FORMAT != _REGULAR:
            if stat.S_ISDIR(mode):
                return None
            kind = "a FIFO" if stat.S_ISFIFO(mode) else (
                "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file"
            )
            raise _Unreadable(f"{_shown(path)}: is {kind}, not a regular file")
        if st.st_dev in (_special_devices if _special_devices is not None else _special_set()):
            raise _Unreadable(f"{_shown(path)}: resolves to a special file (/proc, /sys, /dev)")
        if st.st_size > limit and not head:
            raise _Unreadable(f"{_shown(path)}: is {st.st_size} bytes, over the {limit} byte limit")
        data = os.read(fd, _CHUNK if head else limit + 1)
        if head and len(data) == _CHUNK and b"\n\n" not in data and b"\n\r\n" not in data:
            chunks = [data]
            size = len(data)
            while size <= limit:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            data = b"".join(chunks)
        if len(data) > limit:
            raise _Unreadable(f"{_shown(path)}: is over the {limit} byte limit")
        return data
    except OSError as e:
        raise _Unreadable(f"{_shown(path)}: cannot read it ({e.strerror})") from None
    finally:
        os.close(fd)


class _Headers(NamedTuple):
    name: Optional[str]
    version: Optional[str]
    requires: List[str]


def list_installed(env: Environment, warnings: Optional[List[str]] = None) -> Dict[str, Installed]:
    """The distributions `pip list --format=freeze` prints for `env`, by normalised name.

    Reads `env.paths` only; nothing of the environment is imported or run. What could not
    be read is appended to `warnings` (each message names the path); pass a list wherever
    the result decides anything -- a listing with warnings is incomplete.
    """
    warn: Callable[[str], None] = (warnings.append if warnings is not None else _ignore)
    listings = {location: _listing(location, warn, top=True) for location in env.paths}
    state = _State(_mode(env.python_version, _pip_version(listings)), warn)
    # The egg-links of the path's directories (those its scan reads), known before any
    # distribution is taken: whether one is editable is decided as it is read.
    for location in env.paths:
        if not (state.mode.legacy and location.lower().endswith(".egg")):
            state.egg_links.update(child for child, _ in listings[location] or ()
                                   if child.endswith(".egg-link"))
    for location in env.paths:
        _scan(location, listings[location], state)

    # By name (a stable sort: of one name, the first found on the path wins).
    found = state.found
    found.sort(key=_by_name)
    result: Dict[str, Installed] = {}
    for dist in found:
        if dist.name not in result:
            result[dist.name] = dist
    return result


class Listing:
    """`list_installed(env, warnings)`, begun by `start_listing` before it is needed."""

    def __init__(self, env: Environment) -> None:
        from drift_guard import _background

        self._env = env
        self._child = _background.start(_plain_listing, env)

    def result(self, warnings: List[str]) -> Dict[str, Installed]:
        """What `list_installed(env, warnings)` returns (and appends), from the child when it
        listed the environment, else listed here."""
        child, self._child = self._child, None
        value = child.result() if child is not None else None
        if value is None:
            return list_installed(self._env, warnings)
        dists, messages = value
        warnings.extend(messages)
        new = tuple.__new__  # Installed._make without its length check: the child made them
        return {dist[0]: new(Installed, dist) for dist in dists}

    def cancel(self) -> None:
        """The listing is no longer wanted (the check ended before it)."""
        child, self._child = self._child, None
        if child is not None:
            child.cancel()


def start_listing(env: Environment) -> Listing:
    """Begin listing `env` in a child process, where one helps (drift_guard._background): the
    caller reads the declarations meanwhile, then takes `result`."""
    return Listing(env)


def _plain_listing(env: Environment) -> Tuple[List[Tuple[object, ...]], List[str]]:
    """list_installed's answer as plain tuples and strings (what marshal carries), in order."""
    warnings: List[str] = []
    return [tuple(dist) for dist in list_installed(env, warnings).values()], warnings


def _by_name(dist: Installed) -> str:
    return dist.name


def _ignore(message: str) -> None:
    pass


class _State:
    """What one listing has seen so far."""

    __slots__ = ("egg_links", "followed", "found", "mode", "seen", "warn")

    def __init__(self, mode: _Mode, warn: Callable[[str], None]) -> None:
        self.mode = mode
        self.warn = warn
        self.seen: Set[str] = set()
        self.found: List[Installed] = []
        self.egg_links: Set[str] = set()
        self.followed: Set[str] = set()


class _Mode(NamedTuple):
    legacy: bool
    """pip's pkg_resources backend: its default below Python 3.11 (and before pip 22.3)."""
    descending: bool
    """pip < 23.1 vendored a pkg_resources that walked a directory highest version first;
    later ones walk it in plain sorted order."""


def _mode(python_version: str, pip: Optional[Tuple[int, ...]]) -> _Mode:
    try:
        major, minor = (int(p) for p in python_version.split(".")[:2])
        old_python = (major, minor) < (3, 11)
    except ValueError:
        old_python = False
    legacy = old_python or (pip is not None and pip < (22, 3))
    return _Mode(legacy, legacy and pip is not None and pip < (23, 1))


def _pip_version(
    listings: Dict[str, Optional[List[Tuple[str, Optional[bool]]]]],
) -> Optional[Tuple[int, ...]]:
    """The version of the pip that `pip list` in this environment runs: the first on the
    path. None when the environment has no pip (then an outside, current pip is assumed)."""
    for entries in listings.values():
        for child, _ in entries or ():
            if child.startswith("pip-") and child.endswith(".dist-info"):
                version = child[4:-10]
                parts = []
                for part in version.split("."):
                    if not part.isdigit():
                        break
                    parts.append(int(part))
                return tuple(parts) or None
    return None


def _listing(
    location: str, warn: Callable[[str], None], top: bool = False
) -> Optional[List[Tuple[str, Optional[bool]]]]:
    """(name, is a directory) of each entry, in directory order; None when not a directory.

    A directory of the environment's path that cannot be listed (permissions, a symlink
    loop) is a warning; a file (a zipped egg) is not. `top`: a directory of `env.paths`,
    which existed when the environment was read -- its disappearance is a warning too.
    """
    try:
        with os.scandir(location) as it:
            return [(e.name, _is_dir(e)) for e in it]
    except NotADirectoryError:
        return None  # a file (e.g. a zipped egg)
    except FileNotFoundError:
        if top:
            warn(f"{_shown(location)}: no such directory; nothing installed there was read")
        return None
    except OSError as e:
        warn(f"{_shown(location)}: cannot list it ({e.strerror}); nothing installed there "
             "was read")
        return None


def _is_dir(entry: os.DirEntry) -> Optional[bool]:  # type: ignore[type-arg]
    # A symlink loop or an entry that cannot be stat'ed raises here: it is that one entry's
    # problem (reported when it is read), never the whole directory's. None: unknown.
    try:
        return entry.is_dir()
    except OSError:
        return None


def _scan(
    location: str,
    entries: Optional[List[Tuple[str, Optional[bool]]]],
    state: _State,
    follow: bool = True,
) -> None:
    """Add the distributions in one sys.path directory, as pip visits them. `follow`: also
    the targets of its .egg-link files."""
    mode = state.mode
    legacy = mode.legacy
    if legacy and location.lower().endswith(".egg"):
        # pkg_resources: an unpacked egg on sys.path is that one distribution.
        egg_info = os.path.join(location, "EGG-INFO")
        if os.path.isfile(os.path.join(egg_info, "PKG-INFO")):
            _take(egg_info, None, None, state)
        return
    if entries is None:
        return
    if legacy:
        entries = sorted(entries)
        if mode.descending:
            entries = _highest_version_first(entries)
    links: List[str] = []
    egg = None
    prefix = os.path.join(location, "")
    dir_fd = _open_directory(location)
    try:
        for child, is_dir in entries:
            low = child.lower()
            if low.endswith((".dist-info", ".egg-info")):
                info = prefix + child
                if legacy and not is_dir and low.endswith(".dist-info"):
                    if is_dir is None or (os.path.islink(info) and not os.path.exists(info)):
                        # pkg_resources passes over it too, but a dangling or looping link is a
                        # damaged environment, not a distribution that is absent.
                        state.warn(f"skipped: {_shown(info)}: a link that cannot be followed")
                    continue
                if child.endswith(".dist-info") and len(child) > 10 and child[0] != ".":
                    # _name_from_info_dir's answer, without splitext
                    stem, sep, tail = child[:-10].partition("-")
                    name, version = (stem, tail) if sep else (None, None)
                else:
                    name, version = _name_from_info_dir(child)
                if legacy and name is None:
                    # pkg_resources names it after the directory even without a "-".
                    name = os.path.splitext(child)[0].partition("-")[0] or None
                _take(info, name, version or None, state,
                      None if dir_fd is None else (dir_fd, child))
            elif child.endswith(".egg-link"):
                if follow:
                    if legacy:
                        _follow_egg_link(location, child, state)
                    else:
                        links.append(child)
            elif low == "egg-info" and location.lower().endswith(".egg"):
                egg = child
            elif legacy and low.endswith(".egg") and is_dir:
                egg_info = os.path.join(location, child, "EGG-INFO")
                if os.path.isfile(os.path.join(egg_info, "PKG-INFO")):
                    _take(egg_info, child.partition("-")[0], None, state)
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
    if egg is not None:
        _take(os.path.join(location, egg), None, None, state)
    for child in links:
        _follow_egg_link(location, child, state)


_DIRECTORY_FDS = os.open in os.supports_dir_fd and os.access in os.supports_dir_fd
_O_DIRECTORY = _O_RDONLY | getattr(os, "O_DIRECTORY", 0)


def _open_directory(location: str) -> Optional[int]:
    """A descriptor of the directory, to open the files in it by relative path (fewer
    directories walked per file); None where that is not available -- then paths are used."""
    if not _DIRECTORY_FDS:
        return None
    try:
        return os.open(location, _O_DIRECTORY)
    except OSError:
        return None


def _highest_version_first(
    entries: List[Tuple[str, Optional[bool]]],
) -> List[Tuple[str, Optional[bool]]]:
    """Reorder copies of one project so the highest version comes first, as the old
    pkg_resources did; only the order among copies decides anything (the first one wins)."""
    groups: Dict[str, List[int]] = {}
    for index, (child, _) in enumerate(entries):
        groups.setdefault(canonical(child.partition("-")[0]), []).append(index)
    duplicated = [indexes for indexes in groups.values() if len(indexes) > 1]
    if not duplicated:
        return entries
    from packaging.version import Version

    def key(index: int) -> Tuple[int, Version]:
        version = os.path.splitext(entries[index][0])[0].split("-")[1:2]
        try:
            return 1, Version(version[0]) if version else Version("0")
        except ValueError:  # InvalidVersion, or more digits than int() takes
            return 0, Version("0")  # the old LegacyVersion sorted below every real version

    result = list(entries)
    for indexes in duplicated:
        for slot, index in zip(indexes, sorted(indexes, key=key, reverse=True)):
            result[slot] = entries[index]
    return result


def _follow_egg_link(location: str, child: str, state: _State) -> None:
    """Distributions in the directory an .egg-link names (its first non-empty line)."""
    link = os.path.join(location, child)
    try:
        data = _read_file(link, _SMALL_LIMIT)
    except _Unreadable as e:
        state.warn(f"skipped: {e}")
        return
    if data is None:
        return
    text = data.decode("utf-8", "replace")
    target = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not target:
        return
    path = os.path.join(location, target)
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):
        state.warn(f"skipped: {_shown(link)}: names a path that cannot be resolved")
        return
    if real in state.followed:
        # Egg-links that lead back to a directory already read (a cycle, or two links to
        # one project): read once.
        if state.mode.legacy:
            state.warn(f"skipped: {_shown(link)}: leads back to {_shown(path)}, already read "
                       "(an egg-link cycle)")
        return
    state.followed.add(real)
    # Only the distributions there: pip's current backend reads no egg-link of a linked
    # directory (pkg_resources did), and those never mark anything editable (pip looks for
    # them on sys.path only).
    _scan(path, _listing(path, state.warn), state, follow=state.mode.legacy)


def _name_from_info_dir(child: str) -> Tuple[Optional[str], Optional[str]]:
    """(name, version) from a metadata directory's name, as pip reads them."""
    stem, suffix = os.path.splitext(child)
    if suffix == ".dist-info":
        name, sep, version = stem.partition("-")
        if sep:
            return name, version
    elif suffix == ".egg-info":
        return stem.split("-", 1)[0] or None, None
    return None, None


def _take(info: str, name: Optional[str], version: Optional[str], state: _State,
          at: Optional[Tuple[int, str]] = None) -> None:
    """Record the distribution whose metadata is at `info` unless its name was seen. `at`:
    (directory fd, name in it) naming `info` too."""
    seen = state.seen
    try:
        if name:
            key = canonical(name)
            if key in seen:
                return  # a copy further down sys.path (or later in the directory): pip skips it
            headers = _read_headers(info, at)
        else:
            headers = _read_headers(info, at)
            if headers.name is None:
                return  # pip: "invalid metadata entry 'name'", skipped
            key = canonical(headers.name)
            if key in seen:
                return
        seen.add(key)
        if key in _SKIP or not valid_name(key):
            return
        # The name from the directory is valid (key is); the metadata's spelling, which pip
        # prints, must be too -- checked only where it differs (rarely).
        raw = headers.name
        if raw is not None and raw != name and not valid_name(raw.strip()):
            shown = raw.strip()
            shown = repr(shown if len(shown) <= 60 else shown[:57] + "...")
            state.warn(f"skipped: {_shown(info)}: its Name {shown} is not a valid package name")
            return
        raw_version = version or headers.version
        if raw_version is None:
            return  # pip cannot print it either (it fails on such a distribution)
        printed = _normalise_version(raw_version, headers.version)
    except _Unreadable as e:
        if name:
            seen.add(canonical(name))
        state.warn(f"skipped: {e}")
        return
    # The distribution itself is known; a bad file beside its metadata is reported, and only
    # what that file would have said is left out.
    try:
        requires = headers.requires or _egg_info_requires(info, at)
    except _Unreadable as e:
        state.warn(f"{e}; its requirements are unknown")
        requires = []
    try:
        editable, url = _direct_url(info, at)
    except _Unreadable as e:
        state.warn(f"{e}; whether it is editable is unknown")
        editable, url = None, None
    if not raw:
        raw = key
    if editable is None:
        # No (valid) direct_url.json: pip looks for a legacy develop install's egg-link.
        egg_links = state.egg_links
        editable = bool(egg_links) and (
            raw + ".egg-link" in egg_links or _egg_link_name(raw) in egg_links)
        if editable:
            # The project directory, the way PEP 610 would have recorded it.
            from pathlib import Path

            url = Path(os.path.dirname(info)).as_uri()
    stripped = raw.strip()
    state.found.append(Installed(
        key if stripped == name else canonical(stripped), raw, printed, tuple(requires), info,
        editable, url,
    ))


def _normalise_version(version: str, metadata_version: Optional[str]) -> str:
    """The version as pip prints it: PEP 440 normal form, or the metadata's own string when
    the version is not PEP 440."""
    if _plain_release(version) or _NORMAL_VERSION.match(version):
        return version
    from packaging.version import Version

    try:
        return str(Version(version))
    except ValueError:  # InvalidVersion, or more digits than int() takes
        return metadata_version if metadata_version is not None else version


def _plain_release(version: str) -> bool:
    """Whether `version` is a release segment in normal form (`1.2.3`, no leading zeros): a
    subset of _NORMAL_VERSION, decided without compiling it."""
    if not version.isascii():
        return False
    for part in version.split("."):
        if not part.isdigit() or (part[0] == "0" and len(part) > 1):
            return False
    return True


def _read_headers(info: str, at: Optional[Tuple[int, str]] = None) -> _Headers:
    """Name, Version and Requires-Dist from METADATA (or PKG-INFO, or `info` itself when it
    is a file), read up to the first blank line -- where the headers end."""
    for tail in (_SEP + "METADATA", _SEP + "PKG-INFO", ""):
        data = _read_file(info + tail, _METADATA_LIMIT, head=True,
                          at=None if at is None else (at[0], at[1] + tail))
        if data:
            return _parse_headers(data)
    return _Headers(None, None, [])


def _parse_headers(data: bytes) -> _Headers:
    return _fast_headers(data) or _parse_headers_in_general(data)


# What a header line starts with: a continuation's blank, or a header name (with its colon)
# seen to be well-formed (the common ones to begin with, the others as they are met).
_STARTS: Tuple[bytes, ...] = (
    b"Name:", b"Version:", b"Requires-Dist:", b"Metadata-Version:", b"Classifier:",
    b"Summary:", b"Provides-Extra:", b"Project-URL:", b" ", b"\t",
)
# The bytes a header name may have ([\041-\071\073-\176], as email.feedparser's headerRE).
_KEY_BYTES = bytes(range(0x21, 0x3A)) + bytes(range(0x3B, 0x7F))

def _fast_headers(data: bytes) -> Optional[_Headers]:
    """`_parse_headers_in_general(data)` for the common METADATA (LF or CRLF line ends), without
    a regular expression: the three fields found with bytes.find in the lowered header part,
    the header lines checked once per distinct header name. None: take the general path."""
    end = data.find(b"\n\n")
    head = data if end == -1 else data[:end]
    if b"\r" in head:
        # CRLF files (pip's own METADATA, as ensurepip bundles it, is one): the headers end at
        # the first empty line of either kind, and each line end is one LF, as email reads it.
        crlf = data.find(b"\n\r\n")
        if crlf != -1 and crlf < len(head):
            head = data[:crlf]
        head = head.replace(b"\r\n", b"\n")
        if head.endswith(b"\r"):
            head = head[:-1] + b"\n"
        if b"\r" in head:
            return None  # a lone CR ends a line too: the general path
    if head.endswith(b"\n"):
        head = head[:-1]  # no body: the empty line after the headers ends them
    lines = head.split(b"\n")
    global _STARTS
    if not all(map(bytes.startswith, lines, repeat(_STARTS))):
        # A header name not seen before, or a line that is no header (email ends the headers
        # there): each line checked.
        at = 0
        for line in lines:
            if not line.startswith(_STARTS):
                key = line[:line.find(b":") + 1]
                if key[-1:] != b":" or key[:-1].translate(None, _KEY_BYTES):
                    head = head[:max(at - 1, 0)]
                    break
                _STARTS += (key,)
            at += len(line) + 1
    low = b"\n" + head.lower()
    pos = low.find(b"\nname:")
    name = None if pos == -1 else _header_value(head, pos + 5)
    pos = low.find(b"\nversion:")
    version = None if pos == -1 else _header_value(head, pos + 8)
    requires: List[str] = []
    pos = low.find(b"\nrequires-dist:")
    while pos != -1:
        requires.append(_header_value(head, pos + 14).strip())
        pos = low.find(b"\nrequires-dist:", pos + 14)
    return _Headers(name, version, requires)


def _header_value(head: bytes, start: int) -> str:
    """The value of the header whose colon is at head[start - 1], as email (compat32) gives
    it: blanks after the colon left out, continuation lines folded."""
    stop = head.find(b"\n", start)
    if stop == -1:
        return head[start:].lstrip(b" \t").decode("utf-8", "replace")
    if head[stop + 1:stop + 2] not in (b" ", b"\t"):
        return head[start:stop].lstrip(b" \t").decode("utf-8", "replace")
    while head[stop + 1:stop + 2] in (b" ", b"\t"):
        stop = head.find(b"\n", stop + 1)
        if stop == -1:
            stop = len(head)
    value = head[start:stop].lstrip(b" \t").decode("utf-8", "replace")
    return " ".join(part.strip() for part in value.split("\n"))


def _parse_headers_in_general(data: bytes) -> _Headers:
    end = data.find(b"\n\n")
    if end == -1:
        end = len(data)
    if b"\r" in data[:end]:
        crlf = data.find(b"\n\r\n")
        if crlf != -1 and crlf < end:
            end = crlf
    text = "\n" + data[:end].decode("utf-8", "replace")
    if "\r" in text:
        # Only CR, LF and CRLF end a line for email (not \f and the rest of str.splitlines).
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    bad = _NOT_A_HEADER.search(text)
    if bad is not None:
        text = text[: bad.start()]  # email takes the rest as the body
    name: Optional[str] = None
    version: Optional[str] = None
    requires: List[str] = []
    for field, value in _WANTED.findall(text):
        if "\n" in value:
            value = " ".join(part.strip() for part in value.split("\n"))
        first = field[0]
        if first in "rR":
            requires.append(value.strip())
        elif first in "nN":
            if name is None:
                name = value
        elif version is None:
            version = value
    return _Headers(name, version, requires)


def _egg_info_requires(info: str, at: Optional[Tuple[int, str]] = None) -> List[str]:
    """requires.txt of an egg-info, in Requires-Dist form (as pip translates it)."""
    path = info + _SEP + "requires.txt"
    if not (os.access(path, os.F_OK) if at is None
            else os.access(at[1] + _SEP + "requires.txt", os.F_OK, dir_fd=at[0])):
        return []  # cheaper than a failed open: most distributions have no such file
    data = _read_file(path, _METADATA_LIMIT)
    if data is None:
        return []
    text = data.decode("utf-8", "replace")
    result = []
    extra = marker = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            extra, _, marker = line.strip("[]").partition(":")
            extra = canonical(extra)
            continue
        if extra and marker:
            result.append(f'{line} ; ({marker}) and extra == "{extra}"')
        elif extra:
            result.append(f'{line} ; extra == "{extra}"')
        elif marker:
            result.append(f"{line} ; {marker}")
        else:
            result.append(line)
    return result


def _direct_url(info: str, at: Optional[Tuple[int, str]] = None
                ) -> Tuple[Optional[bool], Optional[str]]:
    """(editable, url) from PEP 610 direct_url.json; (None, None) without a valid one."""
    path = info + _SEP + "direct_url.json"
    if not (os.access(path, os.F_OK) if at is None
            else os.access(at[1] + _SEP + "direct_url.json", os.F_OK, dir_fd=at[0])):
        return None, None  # cheaper than a failed open: most distributions have none
    data = _read_file(path, _SMALL_LIMIT)
    if data is None:
        return None, None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, None
    import json

    try:
        data = json.loads(text)
    except ValueError:
        return None, None
    # pip ignores a direct_url.json it cannot validate (models/direct_url.py).
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        return None, None
    infos = [data[k] for k in ("archive_info", "dir_info", "vcs_info") if k in data]
    if len(infos) != 1 or not isinstance(infos[0], dict):
        return None, None
    dir_info = data.get("dir_info")
    editable = False
    if isinstance(dir_info, dict):
        flag = dir_info.get("editable", False)
        if not isinstance(flag, bool):
            return None, None
        editable = flag
    return editable, data["url"]


def _egg_link_name(raw_name: str) -> str:
    """The .egg-link file name setuptools writes for a project (pkg_resources.safe_name)."""
    return _NOT_SAFE.sub("-", raw_name) + ".egg-link"


_NOT_SAFE = lazy(r"[^A-Za-z0-9.]+")

"""Reading a built Lambda package without unpacking it: a `.zip`, Zappa's slim `.tar.gz`, or
a `pip install -t` directory (what SAM, the Serverless Framework, CDK and hand-made builds
zip up), and a layer zip (its packages under `python/`).

Only the listing is read in full (sizes as the archive declares them, nothing inflated); the
few members the checks need (METADATA, RECORD, WHEEL, shared objects) are read one at a time,
each under a cap: a member that claims or turns out to be larger is refused, so a zip bomb
costs nothing. Files of a directory are read through `drift_guard._io`.
"""

from __future__ import annotations

import os
import re
import stat

from drift_guard._io import METADATA_LIMIT, is_special, read_bytes
from drift_guard._names import canonical
from drift_guard.errors import DriftGuardError
from drift_guard.models import Installed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, Iterator, List, Mapping, NamedTuple, Optional, Tuple
else:
    from drift_guard._record import NamedTuple

MB = 1024 * 1024
SHARED_OBJECT_LIMIT = 256 * MB
"""No shared object Lambda could load is larger: its whole package is 250 MB unzipped."""
LISTING_LIMIT = 4 * 1024 * MB
"""A tarball is read as a stream; past this many bytes unpacked it is refused."""

_EGG_INFO_PY = re.compile(r"-py\d+(?:\.\d+)*$")
_SITE = re.compile(r"^python/lib/python\d+\.\d+/site-packages/")


class Metadata(NamedTuple):
    name: str
    version: str
    requires: Tuple[str, ...]
    requires_python: Optional[str]


def parse_metadata(data: bytes) -> Metadata:
    """The headers drift-guard uses from a METADATA / PKG-INFO file (RFC 822 style)."""
    text = data.decode("utf-8", "replace")
    name = version = ""
    requires: List[str] = []
    requires_python = None
    last = None
    for line in text.splitlines():
        if not line.strip():
            break
        if line[0] in " \t" and last == "requires-dist" and requires:
            requires[-1] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        last = key.strip().lower()
        value = value.strip()
        if last == "name":
            name = value
        elif last == "version":
            version = value
        elif last == "requires-dist":
            requires.append(value)
        elif last == "requires-python":
            requires_python = value
    return Metadata(name, version, tuple(requires), requires_python)


def info_dir_name(directory: str) -> Optional[Tuple[str, str]]:
    """(canonical name, version) of a `.dist-info` / `.egg-info` directory name."""
    for suffix in (".dist-info", ".egg-info"):
        if directory.endswith(suffix):
            stem = directory[: -len(suffix)]
            if suffix == ".egg-info":
                stem = _EGG_INFO_PY.sub("", stem)
            name, sep, version = stem.rpartition("-")
            if not sep or not name:
                return None
            return canonical(name), version
    return None


def _clean(name: str) -> Optional[str]:
    name = name.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    name = name.lstrip("/")
    parts = name.split("/")
    if not name or ".." in parts:
        return None
    return name


class Artifact:
    """A package's files (path from its root -> size in bytes) and bounded member reads."""

    def __init__(self, path: str, files: Mapping[str, int], kind: str,
                 handle: object = None) -> None:
        self.path = path
        self.files: Mapping[str, int] = files
        self.kind = kind
        """"zip", "tar" or "directory"."""
        self._handle = handle
        self._tops: Optional[set] = None  # type: ignore[type-arg]

    @property
    def unzipped_size(self) -> int:
        return sum(self.files.values())

    @property
    def name(self) -> str:
        return os.path.basename(self.path.rstrip("/")) or self.path

    def close(self) -> None:
        close = getattr(self._handle, "close", None)
        if close is not None:
            close()
        self._handle = None

    def __enter__(self) -> Artifact:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def has(self, member: str) -> bool:
        """A file, or a directory with files below it."""
        if member in self.files:
            return True
        if self._tops is None:
            tops = set()
            for name in self.files:
                parts = name.split("/")
                for i in range(1, len(parts)):
                    tops.add("/".join(parts[:i]))
            self._tops = tops
        return member in self._tops

    def read(self, member: str, limit: int = METADATA_LIMIT, what: str = "member") -> bytes:
        """The bytes of `member`, refused (a DriftGuardError) beyond `limit`."""
        shown = f"{self.name}:{member}"
        size = self.files.get(member)
        if size is None:
            raise DriftGuardError(f"{what} not in the package", path=shown)
        if size > limit:
            raise DriftGuardError(
                f"{what} unpacks to {size} bytes, over the {limit} byte limit; refusing to "
                "inflate it (a damaged package or a zip bomb)", path=shown)
        if self.kind == "directory":
            return read_bytes(os.path.join(self.path, member), limit=limit, what=what,
                              shown=shown)
        try:
            if self.kind == "zip":
                with self._handle.open(member) as fh:  # type: ignore[attr-defined]
                    data = fh.read(limit + 1)
            else:
                fh = self._handle.extractfile(member)  # type: ignore[attr-defined]
                data = fh.read(limit + 1) if fh is not None else b""
        except DriftGuardError:
            raise
        except Exception as exc:
            raise DriftGuardError(f"cannot read {what}: {exc}", path=shown) from None
        if len(data) > limit:
            raise DriftGuardError(f"{what} is over the {limit} byte limit; refusing it",
                                  path=shown)
        return data


def open_artifact(path: str) -> Artifact:
    """A `.zip`, `.tar.gz` / `.tgz`, or a directory (a `pip install -t` tree)."""
    if is_special(path):
        raise DriftGuardError("the package resolves to a special file; name a .zip or a "
                              "directory", path=path)
    try:
        st = os.stat(path)
    except OSError:
        raise DriftGuardError("the package is not there (name a .zip or a pip install -t "
                              "directory)", path=path) from None
    if stat.S_ISDIR(st.st_mode):
        return Artifact(path, _walk(path), "directory")
    if not stat.S_ISREG(st.st_mode):
        raise DriftGuardError("the package is not a regular file or a directory", path=path)
    try:
        if path.endswith((".tar.gz", ".tgz")):
            return _open_tar(path)
        import zipfile

        archive = zipfile.ZipFile(path)
    except DriftGuardError:
        raise
    except Exception as exc:
        raise DriftGuardError(f"cannot read the package: {type(exc).__name__}: {exc}",
                              path=path) from None
    files: Dict[str, int] = {}
    for info in archive.infolist():
        if info.is_dir():
            continue
        name = _clean(info.filename)
        if name is not None:
            files[name] = info.file_size
    return Artifact(path, files, "zip", archive)


def _open_tar(path: str) -> Artifact:
    import tarfile

    tar = tarfile.open(path, "r:gz")
    files: Dict[str, int] = {}
    members = {}
    total = 0
    for member in tar:
        total += member.size
        if total > LISTING_LIMIT:
            tar.close()
            raise DriftGuardError(f"the package unpacks to more than {LISTING_LIMIT // MB} MB; "
                                  "refusing to read further", path=path)
        if not member.isfile():
            continue
        name = _clean(member.name)
        if name is not None:
            files[name] = member.size
            members[name] = member

    class _Tar:
        def extractfile(self, name: str) -> object:
            return tar.extractfile(members[name])

        def close(self) -> None:
            tar.close()

    return Artifact(path, files, "tar", _Tar())


def _walk(root: str) -> Dict[str, int]:
    files: Dict[str, int] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
        for name in filenames:
            full = os.path.join(dirpath, name)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue  # symlinks and special files are not package content
            files[name if rel == "." else f"{rel}/{name}"] = st.st_size
    return files


# --- distributions in the package ---------------------------------------------------------


def site_root(artifact: Artifact) -> str:
    """Where the packages sit: "" for a function package, "python/" or
    "python/lib/pythonX.Y/site-packages/" for a layer."""
    roots = {""}
    for name in artifact.files:
        m = _SITE.match(name)
        if m:
            roots.add(m.group(0))
        elif name.startswith("python/"):
            roots.add("python/")
    if len(roots) == 1:
        return ""
    roots.discard("")
    return sorted(roots, key=len)[-1]


def distributions(artifact: Artifact, root: str = "") -> Dict[str, Installed]:
    """Every `*.dist-info` / `*.egg-info` directory at `root`, as Installed records whose
    `path` is the info directory inside the package."""
    found: Dict[str, Installed] = {}
    dirs = set()
    for name in artifact.files:
        if not name.startswith(root):
            continue
        first = name[len(root):].split("/", 1)[0]
        if first.endswith((".dist-info", ".egg-info")) and "/" in name[len(root):]:
            dirs.add(first)
    for directory in sorted(dirs):
        parsed = info_dir_name(directory)
        if parsed is None:
            continue
        meta_name = f"{root}{directory}/" + (
            "METADATA" if directory.endswith(".dist-info") else "PKG-INFO")
        if meta_name in artifact.files:
            meta = parse_metadata(artifact.read(meta_name, what="METADATA"))
        else:
            meta = Metadata(parsed[0], parsed[1], (), None)
        name = canonical(meta.name or parsed[0])
        editable = False
        url = None
        direct = f"{root}{directory}/direct_url.json"
        if direct in artifact.files:
            import json

            try:
                doc = json.loads(artifact.read(direct, what="direct_url.json"))
                editable = bool((doc.get("dir_info") or {}).get("editable"))
                url = doc.get("url")
            except (ValueError, AttributeError):
                pass
        found[name] = Installed(name, meta.name or parsed[0], meta.version or parsed[1],
                                meta.requires, f"{root}{directory}", editable, url)
    return found


def record_paths(data: bytes, info_dir: str) -> List[str]:
    """The files a RECORD lists, relative to site-packages (posix)."""
    import csv
    import io

    rows = csv.reader(io.StringIO(data.decode("utf-8", "replace")))
    return [row[0].replace("\\", "/") for row in rows if row and row[0]]


def iter_shared_objects(artifact: Artifact) -> Iterator[str]:
    for name in sorted(artifact.files):
        base = name.rsplit("/", 1)[-1]
        if base.endswith(".so") or ".so." in base:
            yield name

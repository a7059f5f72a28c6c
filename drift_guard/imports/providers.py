"""Which installed distribution provides an import name, from the environment's metadata.

The top-level names of a distribution are those `importlib.metadata.packages_distributions()`
gives: `top_level.txt` where the distribution has one, else the first part of each path in
RECORD (`yaml/__init__.py` -> yaml, `six.py` -> six, `_cffi_backend.cpython-312-x86_64-linux-
gnu.so` -> _cffi_backend), names with a dot left out. Beyond that:

- editable installs (and distributions without top_level.txt): a `.pth` file the
  distribution installed adds a source directory (its
  modules are the distribution's), and a PEP 660 finder module (setuptools'
  `__editable___*_finder.py` MAPPING, the `editables` library's `map_module(...)`) names
  them -- read with `ast`, never imported; a legacy `setup.py develop` (egg-link) has its
  `.egg-info` in the project directory, next to the modules;
- namespace packages (`google`, `zope`): several distributions share a top-level name, so
  the deepest dotted prefix of the import that one of them ships decides (`google.protobuf`
  -> protobuf, `google.cloud.storage` -> google-cloud-storage).

Nothing of the environment is imported or run; every file is read through `_io`.
"""

from __future__ import annotations

import os

from drift_guard._patterns import lazy
from drift_guard.errors import DriftGuardError
from drift_guard.imports._read import read_small
from drift_guard.models import Installed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, FrozenSet, List, Mapping, Optional, Set, Tuple

# The first path component of each RECORD row, and whether a "/" follows it (a directory).
_RECORD_TOP = lazy(r'(?m)^"?([^/,\n"]+)(/?)')
_DEPTH = 4


def module_name(path_part: str) -> Optional[str]:
    """The module a top-level file in site-packages is, as `inspect.getmodulename` reads
    it ("six.py" -> "six", "_x.cpython-312-x86_64-linux-gnu.so" -> "_x"); None otherwise."""
    for suffix in (".py", ".pyc", ".pyw", ".pyd", ".so"):
        if path_part.endswith(suffix):
            stem = path_part[: -len(suffix)]
            if suffix in (".so", ".pyd"):
                stem = stem.split(".", 1)[0]  # the ABI tag: name.cpython-312-x86_64-linux-gnu
            return stem if stem and "." not in stem else None
    return None


class Providers:
    """import name -> the installed distributions (normalised names) that provide it."""

    def __init__(self, installed: Mapping[str, Installed]) -> None:
        self.installed = installed
        self.top: Dict[str, Set[str]] = {}
        self.files: Dict[str, List[str]] = {}
        """The RECORD paths of a distribution, kept for namespace lookups."""
        self.warnings: List[str] = []
        for dist in installed.values():
            for name in self._top_names(dist):
                self.top.setdefault(name, set()).add(dist.name)

    # --- top-level names of one distribution -------------------------------------------------

    def _top_names(self, dist: Installed) -> Set[str]:
        names: Set[str] = set()
        declared = self._read(dist.path, "top_level.txt")
        if declared is not None:
            names.update(n for n in declared.split() if "." not in n and "/" not in n)
        # RECORD only where top_level.txt does not answer, or an editable install may add a
        # path (.pth) or a finder: big environments have megabytes of RECORD.
        record = (
            self._read(dist.path, "RECORD") if declared is None or dist.editable else None
        )
        tops: Set[Tuple[str, bool]] = set()
        if record is not None:
            tops = {(top, bool(slash)) for top, slash in _RECORD_TOP.findall(record)}
        elif declared is None:
            # egg-info: installed-files.txt, relative to the .egg-info directory.
            for path in self.paths(dist.name):
                top, slash, _ = path.partition("/")
                tops.add((top, bool(slash)))
        if declared is None:
            for top, is_dir in tops:
                name = top if is_dir else module_name(top) or top
                if name and "." not in name:
                    names.add(name)
        pth = [t for t, is_dir in tops if not is_dir and t.endswith(".pth")]
        finders = [
            t for t, is_dir in tops
            if not is_dir and t.endswith(".py") and "editable" in t
        ]
        if pth or finders:
            names.update(self._editable_names(dist, pth, finders))
        if dist.path.endswith(".egg-info") and not tops and declared is None:
            # A develop install with no file list: the modules beside its .egg-info.
            names.update(directory_modules(os.path.dirname(dist.path)))
        names.discard("__pycache__")
        return names

    def paths(self, name: str) -> List[str]:
        """The files a distribution installed (RECORD, or an egg-info's installed-files.txt),
        relative to its site-packages directory; read on first use."""
        cached = self.files.get(name)
        if cached is not None:
            return cached
        dist = self.installed[name]
        paths: List[str] = []
        record = self._read(dist.path, "RECORD")
        if record is not None:
            paths = _record_paths(record)
        else:
            listed = self._read(dist.path, "installed-files.txt")
            base = os.path.dirname(dist.path)
            for line in (listed or "").splitlines():
                line = line.strip()
                if line:
                    rel = os.path.relpath(os.path.join(dist.path, line), base)
                    if not rel.startswith(".."):
                        paths.append(rel.replace(os.sep, "/"))
        self.files[name] = paths
        return paths

    def _editable_names(self, dist: Installed, pth: List[str], finders: List[str]) -> Set[str]:
        """Names a distribution provides through a .pth path (an editable install's source
        directory) or an editable finder module."""
        names: Set[str] = set()
        site = os.path.dirname(dist.path)
        for path in pth:
            text = self._read_file(os.path.join(site, path))
            for line in (text or "").splitlines():
                line = line.strip()
                if not line or line.startswith(("#", "import ", "import\t")):
                    continue
                directory = line if os.path.isabs(line) else os.path.join(site, line)
                names.update(directory_modules(directory))
        for path in finders:
            text = self._read_file(os.path.join(site, path))
            if text:
                names.update(_finder_names(text))
        return names

    def _read(self, info: str, member: str) -> Optional[str]:
        return self._read_file(info + os.sep + member)

    def _read_file(self, path: str) -> Optional[str]:
        try:
            data = read_small(path)
        except DriftGuardError as exc:
            self.warnings.append(str(exc))
            return None
        return None if data is None else data.decode("utf-8", "replace")

    # --- lookups -------------------------------------------------------------------------------

    def providers(self, module: str, names: Tuple[str, ...] = ()) -> FrozenSet[str]:
        """The distributions that provide `module` (or `module.name` for a `from module
        import name`); empty when none does."""
        top = module.partition(".")[0]
        found = self.top.get(top)
        if not found:
            return frozenset()
        if len(found) == 1:
            return frozenset(found)
        # Shared top-level name: the deepest prefix some of them ship decides.
        wanted = [f"{module}.{n}" for n in names] or [module]
        best: Set[str] = set()
        best_depth = 0
        for dotted in wanted:
            parts = dotted.split(".")[:_DEPTH]
            for depth in range(len(parts), 0, -1):
                prefix = "/".join(parts[:depth])
                having = {
                    d for d in found if any(_under(p, prefix) for p in self.paths(d))
                }
                if having:
                    if depth > best_depth:
                        best, best_depth = having, depth
                    elif depth == best_depth:
                        best |= having
                    break
        return frozenset(best or found)


def _under(path: str, prefix: str) -> bool:
    """`path` (a RECORD path) is the module or package `prefix` ("google/protobuf"), or in it."""
    if path.startswith(prefix):
        rest = path[len(prefix) :]
        return rest.startswith("/") or module_name("x" + rest) == "x"
    return False


def _record_paths(record: str) -> List[str]:
    """The paths of a RECORD (first CSV field), dist-info and parent-relative ones left out."""
    import csv

    paths = []
    for row in csv.reader(record.splitlines()):
        if not row:
            continue
        path = row[0].replace("\\", "/")
        if path.startswith(("../", "/")) or path.split("/", 1)[0].endswith(".dist-info"):
            continue
        paths.append(path)
    return paths


def directory_modules(directory: str) -> Set[str]:
    """Top-level module names importable from `directory` (packages, namespace packages,
    modules, extension modules); nothing is read but the listing."""
    names: Set[str] = set()
    try:
        with os.scandir(directory) as it:
            for entry in it:
                name = entry.name
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    continue
                if is_dir:
                    if name.isidentifier() and name != "__pycache__":
                        names.add(name)
                else:
                    module = module_name(name)
                    if module and module.isidentifier():
                        names.add(module)
    except OSError:
        pass
    return names


def _finder_names(text: str) -> Set[str]:
    """Top-level names an editable finder module maps: setuptools' `MAPPING = {...}` and
    `NAMESPACES = {...}`, the editables library's `map_module("name", ...)`."""
    import ast

    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return set()
    names: Set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(getattr(t, "id", None) in ("MAPPING", "NAMESPACES") for t in targets):
                value = node.value
                if isinstance(value, ast.Dict):
                    for key in value.keys:
                        if isinstance(key, ast.Constant) and isinstance(key.value, str):
                            names.add(key.value.partition(".")[0])
        elif isinstance(node, ast.Call):
            func = node.func
            callee = getattr(func, "attr", None) or getattr(func, "id", None)
            if callee == "map_module" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    names.add(arg.value.partition(".")[0])
    return {n for n in names if n.isidentifier()}

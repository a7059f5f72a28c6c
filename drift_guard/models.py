"""The records that flow through drift-guard: environment -> installed -> declared -> findings.

Records are NamedTuples rather than dataclasses: they are immutable, compare by value, and
cost nothing to import -- `dataclasses` pulls in `inspect`, several milliseconds on the path
of a hook that runs on every commit.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Mapping, NamedTuple, Optional, Tuple
else:
    from drift_guard._record import NamedTuple


class Environment(NamedTuple):
    """The environment being checked: the project's, never drift-guard's own."""

    prefix: str
    """The environment's root directory (a venv, a conda env, or a base interpreter's prefix)."""
    python: Optional[str]
    """Its interpreter, where one was found (it is not run in the default mode)."""
    python_version: str
    """The full version of its Python, e.g. "3.12.4" (from pyvenv.cfg where possible)."""
    found_by: str
    """How it was found: "--python", "--venv", "DRIFT_GUARD_PYTHON", "VIRTUAL_ENV", "PATH",
    "CONDA_PREFIX", "./.venv", "./venv", "poetry", "pipenv", "zappa"."""
    paths: Tuple[str, ...]
    """The directories pip would scan, in its order (site-packages first, then .pth paths,
    then system site-packages where the venv includes them)."""
    implementation: str = "cpython"
    """sys.implementation.name of the target."""
    markers: Optional[Mapping[str, str]] = None
    """A complete marker environment, when it came from the interpreter itself; otherwise
    `drift_guard.markers.target_environment()` derives it from the fields above."""
    notes: Tuple[str, ...] = ()
    """What the user should know about the choice (e.g. a project-local .venv not checked)."""
    warnings: Tuple[str, ...] = ()
    """Parts of the environment that could not be read (each names the path)."""


class Installed(NamedTuple):
    """One distribution as `pip list --format=freeze` sees it."""

    name: str
    """PEP 503 normalised name."""
    raw_name: str
    """The name as its metadata spells it (what pip prints)."""
    version: str
    requires: Tuple[str, ...]
    """Raw `Requires-Dist` strings (egg-info `requires.txt` translated to the same form)."""
    path: str
    """The `.dist-info` / `.egg-info` directory (or PKG-INFO file's directory)."""
    editable: bool = False
    url: Optional[str] = None
    """The PEP 610 direct URL (`direct_url.json`), e.g. file:///src/proj for an editable."""


class Requirement(NamedTuple):
    """One declared requirement, from whichever format declared it."""

    name: str
    """PEP 503 normalised name."""
    specifier: str = ""
    """The version specifier as declared (e.g. "==2.32.3", ">=1,<2"); "" when there is none."""
    source: str = ""
    """The file that declares it, as shown to the user."""
    line: Optional[int] = None
    """1-based first physical line, where the format has lines."""
    end_line: Optional[int] = None
    """1-based last physical line (continuations), where the format has lines."""
    key: Optional[str] = None
    """Key path inside a structured file, e.g. "package[3]" or "default.requests"."""
    marker: Optional[str] = None
    """The environment marker, evaluated for the target by compare()."""
    extras: Tuple[str, ...] = ()
    url: Optional[str] = None
    """A direct reference: URL, VCS URL or local path."""
    editable: bool = False
    hashes: bool = False
    """The requirement carries `--hash` options (or the lock has hashes for it)."""
    expected: bool = True
    """Must be installed (when its marker holds). False for declared-but-not-selected groups:
    such a package is never missing, and never undeclared either."""
    group: Optional[str] = None
    """The dependency group / category / extra that declares it, where the format has them."""
    text: str = ""
    """The requirement as written, without options (for messages)."""


class Source(NamedTuple):
    """What one declaration file (with its includes) declares."""

    path: str
    format: str
    """"requirements.txt", "Pipfile.lock", "poetry.lock", "uv.lock", "pylock.toml" or
    "pyproject.toml"."""
    requirements: Tuple[Requirement, ...]
    frozen: bool
    """True for lock files and for requirements files where everything is pinned: then every
    installed package must be listed. False: dependencies of declared packages are covered."""
    constraints: Tuple[Requirement, ...] = ()
    """`-c` constraints: they limit versions of packages installed, they declare nothing."""
    project: Optional[str] = None
    """The project's own distribution, where the file names it (never missing/undeclared)."""
    groups: Tuple[str, ...] = ()
    """The groups / categories expected installed, for the report."""
    files: Tuple[str, ...] = ()
    """Every file read for this source (the file itself first, then includes)."""
    contents: Tuple[Tuple[str, bytes], ...] = ()
    """(absolute path, the bytes read) for every file read, where the reader records them:
    --fix rewrites a file only from exactly these bytes."""


class ReadContext(NamedTuple):
    """What a reader may need to know about the target and the user's selection."""

    markers: Mapping[str, str]
    """The target's marker environment (for formats whose structure depends on markers)."""
    project_dir: str = "."
    with_groups: Tuple[str, ...] = ()
    without_groups: Tuple[str, ...] = ()
    only_groups: Tuple[str, ...] = ()
    extras: Tuple[str, ...] = ()


class Finding(NamedTuple):
    """One difference between what is installed and what is declared."""

    kind: str
    """"missing", "mismatch", "undeclared", "unpinned", "broken" or "unresolved"."""
    name: str
    installed: Optional[str]
    declared: Optional[str]
    source: Optional[str] = None
    line: Optional[int] = None
    dependencies: Tuple[str, ...] = ()
    """For undeclared: the undeclared packages installed only because this one needs them."""
    required_by: Tuple[str, ...] = ()
    """For undeclared: the installed packages that need this one; for broken: the packages
    whose requirement of it is unmet."""
    key: Optional[str] = None
    hashes: bool = False
    end_line: Optional[int] = None
    imported_by: Tuple[str, ...] = ()
    """Where the project's code imports this package ("app.py:3"), for undeclared and
    unresolved findings."""
    reason: Optional[str] = None
    """A short explanation that is not drift itself: "the marker excludes it here",
    "did you mean requests?", "needed by flask"."""
    tolerated: bool = False
    """Reported, but does not fail the run (`fail-on` leaves its kind out, or
    `undeclared = "imported"` and nothing imports it)."""
    uninstall: Tuple[str, ...] = ()
    """For undeclared: what `pip uninstall` removes to undo it -- the package and what only it
    needed. Empty when something that stays needs it, or when it goes with another finding's
    uninstall."""
    suggested: Optional[str] = None
    """For broken: the requirement whose install satisfies every requirer (the declared pin
    when it does)."""


class Report(NamedTuple):
    environment: Environment
    sources: Tuple[Source, ...]
    findings: Tuple[Finding, ...]
    notes: Tuple[str, ...] = ()
    """Things the user should know that are not drift (e.g. a skipped unnamed requirement)."""
    warnings: Tuple[str, ...] = ()
    """Parts of the environment that could not be read (each names the path). A report with
    warnings is incomplete: --fix and --diff refuse to act on it."""

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def fails(self) -> bool:
        """Whether the run fails: some finding is not tolerated by the configuration."""
        return any(not f.tolerated for f in self.findings)

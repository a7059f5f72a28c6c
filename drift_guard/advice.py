"""What to do about a finding: the command that puts it right, in the owning tool's terms.

Every hint is safe to paste into a POSIX shell: each argument of a command is quoted with
`shlex.quote`, so a `'`, `$(...)` or a backtick in a URL or a version is an argument, never
shell syntax; a package name that is not a valid PEP 508 name gets no command at all. Hints
never suggest uninstalling a package that something installed needs, uninstall a root
together with what only it needed (one command, so a re-check is clean), and never offer to
install a name that looks like a typo of an installed package.
"""

from __future__ import annotations

# A name `valid_name` accepts (PEP 508) never starts with "-" and holds nothing a shell or a
# tool's option parser could read as anything but a name: hints may name it.
from drift_guard._names import pin, valid_name
from drift_guard._patterns import lazy
from drift_guard.models import Finding

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple, Optional, Sequence, Tuple
else:
    from drift_guard._record import NamedTuple

# Per lock format: (the command that makes the environment match the lock,
#                   the command that records an installed package in the lock).
# The same commands --fix runs (drift_guard/fix/locks.py says why these and not the exact
# syncs). "{requirement}" is one argument ("name==version"); "--" before it ends the tool's
# options (uv: clap, poetry: cleo, pipenv: argparse all honour it), so no package argument
# can ever be read as an option.
LOCK_TOOLS = {
    "poetry.lock": (("poetry", "install"), ("poetry", "add", "--", "{requirement}")),
    "Pipfile.lock": (("pipenv", "sync", "--dev"), ("pipenv", "install", "--", "{requirement}")),
    "uv.lock": (("uv", "sync", "--inexact"), ("uv", "add", "--", "{requirement}")),
    "pylock.toml": (("uv", "pip", "install", "--python", "{python}", "-r", "{path}"), None),
}

_DID_YOU_MEAN = lazy(r"(?i)did you mean ([A-Za-z0-9][A-Za-z0-9._-]*)")
_NEEDED_BY = lazy(r"(?i)\bneeded by\b|\brequired by\b")
_MARKER = lazy(r"(?i)\bmarker\b")


class Pip(NamedTuple):
    """How to run the target environment's pip: `command VERB *options ARGS`."""

    command: Tuple[str, ...] = ("pip",)
    options: Tuple[str, ...] = ()
    """Options after the verb (`uv pip install --python PREFIX`)."""
    uv: bool = False
    """`uv pip`: no confirmation prompt on uninstall (pip needs `-y`)."""

    def argv(self, verb: str, *args: str) -> Tuple[str, ...]:
        extra = ("-y",) if verb == "uninstall" and not self.uv else ()
        return (*self.command, verb, *extra, *self.options, *args)


# What shlex.quote leaves unquoted: ASCII letters, digits and "_@%+=:,./-".
_SHELL_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                        "_@%+=:,./-")


def shell(argv: Sequence[str]) -> str:
    """`argv` as one POSIX shell command line, every argument quoted where it needs it (as
    `shlex.quote` quotes it; shlex would import `re` for this on the hook's path)."""
    return " ".join(_quote(a) for a in argv)


def _quote(arg: str) -> str:
    if not arg:
        return "''"
    if _SHELL_SAFE.issuperset(arg):
        return arg
    return "'" + arg.replace("'", "'\"'\"'") + "'"


def _may_say(text: str, words: str) -> bool:
    """False only when `text` cannot match a case-insensitive pattern of the ASCII `words`
    (outside ASCII, case folding has surprises: the Kelvin sign is a "k")."""
    return not text.isascii() or words in text.lower()


def near_name(finding: Finding) -> Optional[str]:
    """The installed name a "did you mean" reason points at, if any."""
    reason = finding.reason or ""
    m = _DID_YOU_MEAN.search(reason) if _may_say(reason, "did you mean") else None
    if m is None or not valid_name(m.group(1)):
        return None
    return m.group(1)


def needed(finding: Finding) -> bool:
    """True when something installed needs this package: never suggest uninstalling it."""
    reason = finding.reason or ""
    return bool(finding.required_by) or (
        (_may_say(reason, "needed by") or _may_say(reason, "required by"))
        and _NEEDED_BY.search(reason) is not None)


_PIP = Pip()


def hint(
    finding: Finding,
    fmt: Optional[str],
    path: Optional[str] = None,
    pip: Pip = _PIP,
    python: str = "python",
) -> str:
    """One short instruction for `finding`, declared in a file of format `fmt`; `pip` is how
    to run the target environment's pip (see `pip_for`), `python` its interpreter or prefix
    as shown to the user (for `uv pip --python`). A hint names at most one command that acts
    on the environment; running those of a report, in order, leaves nothing to report (or
    `drift-guard --fix` records the rest)."""
    name, installed, declared = finding.name, finding.installed, finding.declared
    if finding.kind == "unresolved":
        return (f"install the package that provides {name} into this environment and declare "
                "it, or make it part of the project")
    where = path or finding.source or "the requirements file"
    if not valid_name(name):
        return f"not a valid package name: check {where} (no command is suggested for it)"
    if finding.kind == "broken":
        return _broken(finding, fmt, where, pip, python)
    if finding.kind == "missing" and near_name(finding):
        return (
            f"correct the name in {where} to {near_name(finding)} if that is what was meant "
            f"(nothing named {name} is installed: {name} is unverified, installing it would "
            "fetch an unchecked project), or drop the line (drift-guard --fix)"
        )
    if fmt in LOCK_TOOLS:
        sync, record = LOCK_TOOLS[fmt]
        if finding.kind == "undeclared":
            if record is None:
                recorded = (
                    f"add {name} where the project declares its dependencies, then "
                    f"regenerate {where}"
                )
            else:
                req = pin(name, installed or "")
                recorded = shell([a.format(requirement=req) for a in record])
            return _undeclared(finding, recorded, pip)
        if finding.kind == "unpinned":
            return f"pin it: {pin(name, installed)}" if installed else "pin it with =="
        return shell([a.format(path=where, python=python) for a in sync])
    if fmt == "pyproject.toml":
        if finding.kind == "undeclared":
            return _undeclared(finding, f"add {name} to the project's dependencies", pip)
        if finding.kind == "unpinned":
            return f"pin it: {pin(name, installed)}" if installed else "pin it with =="
        return shell(pip.argv("install", spelled(name, declared)))
    if finding.kind == "missing":
        install = shell(pip.argv("install", spelled(name, declared)))
        return f"{install}, or drop the line (drift-guard --fix)"
    if finding.kind == "mismatch":
        install = shell(pip.argv("install", spelled(name, declared)))
        if finding.hashes:
            return (
                f"{install}, or regenerate the file with its hashes "
                "(pip-compile --generate-hashes)"
            )
        return f"{install}, or record {installed} (drift-guard --fix)"
    if finding.kind == "unpinned":
        return f"pin it: {pin(name, installed)}" if installed else "pin it with =="
    record = f"record it (drift-guard --fix adds {pin(name, installed or '')})"
    return _undeclared(finding, record, pip)


def _undeclared(finding: Finding, record: str, pip: Pip) -> str:
    """`record`, or the uninstall that removes the package with what only it needed -- never
    the uninstall of a package something that stays needs."""
    meant = near_name(finding)
    if meant is not None:
        # Most likely the declaration misspells it: uninstalling it would be the wrong fix.
        return f"if the declared {meant} is a misspelling of it, correct that name; else {record}"
    names = [n for n in finding.uninstall if valid_name(n)]
    if names:
        before = ""
        if finding.required_by:
            needers = ", ".join(finding.required_by)
            verb = "is" if len(finding.required_by) == 1 else "are"
            before = f"once {needers} {verb} gone or as declared: "
        uninstall = shell(pip.argv("uninstall", *names))
        reason = finding.reason or ""
        if _may_say(reason, "marker") and _MARKER.search(reason) and not finding.required_by:
            # Declared, but for other targets: a fresh install leaves it out here.
            return f"{uninstall}, or change the marker that excludes it"
        return f"{record}, or {before}{uninstall}"
    reason = finding.reason or ""
    if "goes with " in reason:
        root = reason.split("goes with ", 1)[1].split(";", 1)[0]
        return f"{record}, or uninstall it together with {root} (see {root})"
    needers = ", ".join(finding.required_by) or "another installed package"
    return f"{record}; {needers} {'needs' if len(finding.required_by) <= 1 else 'need'} it"


def _broken(finding: Finding, fmt: Optional[str], where: str, pip: Pip, python: str) -> str:
    if finding.suggested is None:
        names = ", ".join(finding.required_by)
        return f"uninstalling {names} as suggested for it ends this"
    if fmt in LOCK_TOOLS and finding.source:
        return shell([a.format(path=where, python=python) for a in LOCK_TOOLS[fmt][0]])
    return shell(pip.argv("install", finding.suggested))


def spelled(name: str, declared: Optional[str]) -> str:
    """A declaration as a requirement line spells it: "flask==3.0.0", "pkg @ https://...",
    or the name alone."""
    declared = declared or ""
    return f"{name} {declared}" if declared.startswith("@") else name + declared


def pip_for(prefix: str, found_by: str) -> Pip:
    """How a user runs the checked environment's pip from here: plain `pip` when that
    environment is the active one and has pip, its own pip by path when it has one, else
    `uv pip` (a venv made by uv has no pip) or any pip with `--python`."""
    import os

    from drift_guard._paths import display_path

    own = os.path.join(prefix, "Scripts" if os.name == "nt" else "bin", "pip")
    has_pip = os.path.exists(own)
    if has_pip:
        # The active environment: its pip is the `pip` on PATH (Zappa packages $VIRTUAL_ENV).
        if found_by in ("VIRTUAL_ENV", "PATH", "CONDA_PREFIX", "zappa"):
            return Pip()
        return Pip((display_path(own),))
    shown = display_path(prefix)
    if not os.path.isabs(shown):
        # pip looks a bare name up on PATH ("Could not locate Python interpreter .venv").
        shown = os.curdir + os.sep + shown
    target = ("--python", shown)
    if _made_by_uv(prefix):
        return Pip(("uv", "pip"), target, uv=True)  # uv: after the verb
    return Pip(("pip", *target))  # pip: before the verb, or pip refuses it


def _made_by_uv(prefix: str) -> bool:
    """pyvenv.cfg of a venv made by uv has a `uv = <version>` line."""
    import os

    from drift_guard._io import SMALL_LIMIT, read_text
    from drift_guard.errors import DriftGuardError

    try:
        cfg = read_text(
            os.path.join(prefix, "pyvenv.cfg"), limit=SMALL_LIMIT, what="pyvenv.cfg",
            errors="replace",
        )
    except DriftGuardError:
        return False
    return any(line.partition("=")[0].strip() == "uv" for line in cfg.splitlines())

"""--fix and --diff: make the declarations agree with the environment.

Requirements files are rewritten line by line (fix/requirements.py); lock files are put right
by their owning tool (fix/locks.py).

A fix never makes things worse: it refuses (exit 2, nothing written) to record an environment
that could not be read whole (`Report.warnings`) or that does not satisfy itself (`broken`
findings, unless `allow_broken`), and a requirements file is written only from the bytes the
check read, and only if it still holds them.
"""

from __future__ import annotations

import os

from drift_guard.errors import DriftGuardError
from drift_guard.readers import LOCK_FORMATS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Mapping, Sequence, Tuple

if TYPE_CHECKING:
    from drift_guard.models import Environment, Finding, Installed, Report


def one_line(text: str) -> str:
    """`text` with control characters shown as escapes, so it stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def refuse_incomplete(report: Report, *, write: bool) -> None:
    """Raise when the environment behind `report` could not be read whole."""
    if not report.warnings:
        return
    option = "--fix" if write else "--diff"
    more = len(report.warnings) - 1
    first = one_line(report.warnings[0])
    raise DriftGuardError(
        f"{option}: the environment could not be read whole ({first}"
        f"{f'; and {more} more' if more else ''}), so what it would record is a guess; "
        "nothing was written: make that readable, then run it again"
    )


def _uses_uv(env: Environment, installed: Mapping[str, Installed]) -> bool:
    """A venv made by uv (no pip inside): its packages are managed with `uv pip`."""
    if "pip" in installed:
        return False
    try:
        from drift_guard._io import SMALL_LIMIT, read_text

        cfg = read_text(os.path.join(env.prefix, "pyvenv.cfg"), limit=SMALL_LIMIT,
                        what="pyvenv.cfg", errors="replace")
    except DriftGuardError:
        return False
    return any(line.split("=", 1)[0].strip() == "uv" for line in cfg.splitlines())


def install_command(env: Environment, installed: Mapping[str, Installed],
                    requirements: Sequence[str], verb: str = "install") -> str:
    """The command that installs (`verb`: or uninstalls) `requirements` in `env`, as its
    users run it: `uv pip` for a uv venv (which has no pip), else the environment's own pip."""
    import shlex

    from drift_guard._paths import display_path

    python = env.python or os.path.join(env.prefix, "bin", "python")
    args = " ".join(shlex.quote(r) for r in requirements)
    if _uses_uv(env, installed):
        return f"uv pip {verb} --python {shlex.quote(display_path(python))} {args}"
    return f"{shlex.quote(display_path(python))} -m pip {verb} {args}"


def _broken_lines(report: Report) -> Tuple[List[str], List[str], List[str]]:
    """(one line per conflict, the requirements that resolve them, the packages whose
    removal resolves the rest).

    Where the check says what to install (`suggested`: a declared pin that satisfies every
    requirer, else the name with every specifier) that is used; a conflict the check leaves
    without one is one that only undeclared packages cause: removing them ends it."""
    lines: List[str] = []
    wanted: Dict[str, List[str]] = {}
    remove: List[str] = []
    for f in report.findings:
        if f.kind != "broken":
            continue
        who = ", ".join(f.required_by) or "another package"
        spec = f.declared or ""
        have = f"{f.name} {f.installed} is installed" if f.installed else f"{f.name} is missing"
        lines.append(one_line(f"{have}, but {who} requires {f.name}{spec}"))
        if "suggested" in type(f)._fields and getattr(f, "suggested", None) is None:
            remove.extend(r for r in f.required_by if r not in remove)
            continue
        suggested = getattr(f, "suggested", None)
        if suggested:
            wanted.setdefault(suggested, [])
            continue
        specs = wanted.setdefault(f.name, [])
        for part in spec.split(","):
            if part and part not in specs:
                specs.append(part)
    return lines, [name + ",".join(specs) for name, specs in wanted.items()], remove


def _expand_missing(report: Report, findings: Sequence[Finding]) -> List[Finding]:
    """Every line that declares a missing package, not only the first the check names: a
    package declared twice is removed in one run."""
    from drift_guard.markers import evaluate, target_environment
    from drift_guard.models import Finding as FindingRecord

    missing = {f.name for f in findings if f.kind == "missing"}
    if not missing:
        return list(findings)
    markers = target_environment(report.environment)
    extra: List[Finding] = []
    for source in report.sources:
        if source.format != "requirements.txt":
            continue
        for req in source.requirements:
            if (req.name in missing and req.expected and req.line is not None
                    and evaluate(req.marker, markers)):
                extra.append(FindingRecord(
                    "missing", req.name, None, req.specifier, req.source or None, req.line,
                    hashes=req.hashes, end_line=req.end_line))
    return [*findings, *extra]


def _would_freeze(report: Report, installed: Mapping[str, Installed], findings: Sequence[Finding],
                  top_level: Sequence[str], ignore: Sequence[str]) -> List[str]:
    """Requirements files that --require-pins --fix would turn from top-level into frozen
    while the environment holds packages they do not list: the next check would fail."""
    from drift_guard._names import canonical
    from drift_guard.compare import ALWAYS_ALLOWED, is_pinned

    declared_top = {os.path.realpath(p) for p in top_level}
    unpinned = {(f.source, f.line) for f in findings if f.kind == "unpinned"}
    if not unpinned:
        return []
    skipped = {canonical(n) for n in ignore} | ALWAYS_ALLOWED
    skipped |= {s.project for s in report.sources if s.project}
    declared = {r.name for s in report.sources for r in s.requirements}
    adds = {f.name for f in findings if f.kind == "undeclared"}
    gone = {f.name for f in findings if f.kind == "missing"}
    unlisted = sorted(n for n in installed if n not in declared | adds | skipped)
    out: List[str] = []
    for source in report.sources:
        if source.format != "requirements.txt" or source.frozen:
            continue
        if os.path.realpath(source.path) in declared_top:
            continue
        if not any((r.source, r.line) in unpinned for r in source.requirements):
            continue
        stays_loose = [r for r in source.requirements
                       if r.name not in gone and not is_pinned(r)
                       and (r.source, r.line) not in unpinned]
        if stays_loose or not unlisted:
            continue
        shown = ", ".join(unlisted[:3]) + (", ..." if len(unlisted) > 3 else "")
        out.append(
            f"{source.path}: --require-pins --fix would pin every requirement, and a fully "
            f"pinned file is read as frozen: it would then have to list every installed "
            f"package ({len(unlisted)} more: {shown}); nothing was written: pass --top-level "
            f"{source.path} (or top-level = [...] in [tool.drift-guard]) to keep it top-level"
        )
    return out


def run_fix(
    report: Report,
    installed: Mapping[str, Installed],
    *,
    write: bool,
    root: str,
    allow_broken: bool = False,
    top_level: Sequence[str] = (),
    ignore: Sequence[str] = (),
) -> Tuple[int, str, str]:
    """Fix (`write`) or preview the fix of `report`. Returns (exit code, stdout, stderr).

    Raises DriftGuardError (exit 2, nothing written) when the environment could not be read
    whole, when a file changed since the check read it, or when it cannot be written."""
    refuse_incomplete(report, write=write)
    out: List[str] = []
    err: List[str] = []
    conflicts, resolve, remove = _broken_lines(report)
    if conflicts:
        option = "--fix" if write else "--diff"
        if not allow_broken:
            mend: List[str] = []
            if resolve:
                mend.append(install_command(report.environment, installed, resolve))
            if remove:
                mend.append(install_command(report.environment, installed, remove,
                                            verb="uninstall"))
            lines = [
                f"drift-guard: error: {option}: the environment does not satisfy itself, and "
                "drift-guard does not record a state that cannot be installed; nothing was "
                "written:\n",
                *(f"  {c}\n" for c in conflicts),
                f"  resolve it with: {' && '.join(mend)}\n",
                f"  then run {option} again (or pass --allow-broken to record it as it is)\n",
            ]
            return 2, "", "".join(lines)
        out.append(
            "drift-guard: --allow-broken: recording an environment that does not satisfy "
            f"itself ({'; '.join(conflicts)})\n"
        )
    fixable = [f for f in report.findings if f.kind != "broken"]
    if not fixable:
        if conflicts:
            return 1, "".join(out) + "drift-guard: nothing else to change\n", ""
        return 0, "drift-guard: no drift, nothing to fix\n", ""
    changed = False
    first = report.sources[0] if report.sources else None
    # Undeclared packages have no file of their own: they go to the first file named.
    undeclared = [f for f in fixable if f.kind == "undeclared"]
    # unpinned findings exist only under --require-pins: fixing them pins what is installed.
    placed = [f for f in fixable if f.kind in ("missing", "mismatch", "unpinned")]

    req_sources = [s for s in report.sources if s.format == "requirements.txt"]
    if req_sources:
        from drift_guard.fix import requirements as req_fix

        req_files = {p for s in req_sources for p in s.files} | {s.path for s in req_sources}
        findings = [f for f in _expand_missing(report, placed) if f.source in req_files]
        if first is not None and first.format == "requirements.txt":
            findings += undeclared
        flips = _would_freeze(report, installed, findings, top_level, ignore)
        if flips:
            raise DriftGuardError(flips[0])
        edits = req_fix.plan_fix(req_sources, findings, installed, root=root)
        err.extend(m + "\n" for e in edits for m in e.messages)
        real = [e for e in edits if e.new != e.old]
        if real:
            changed = True
            # The diff either way: after --fix it is what the user reviews before staging.
            out.append(req_fix.unified_diff(real))
            if write:
                req_fix.apply(real)
                out.extend(f"drift-guard: rewrote {e.path}\n" for e in real)

    for source in report.sources:
        if source.format in LOCK_FORMATS:
            from drift_guard.fix import locks

            files = {source.path, *source.files}
            mine = [f for f in placed if f.source in files and f.kind != "unpinned"]
            adds = undeclared if first is source else []
            commands, notes = locks.plan(source, mine, report.environment, adds, installed)
            err.extend(n + "\n" for n in notes)
            if not commands:
                continue
            changed = True
            if write:
                ok, messages = locks.run(commands, root)
                out.extend(m + "\n" for m in messages)
                if not ok:
                    return 1, "".join(out), "".join(err)
            else:
                out.append(f"# {source.path}: drift-guard --fix would run:\n")
                out.extend(f"{c.shell(root)}\n" for c in commands)
        elif source.format == "pyproject.toml" and any(f.source == source.path for f in placed):
            err.append(
                f"{source.path}: pyproject.toml is edited by you, not by drift-guard; "
                "install what it declares (pip install -e .) or change it by hand\n"
            )
    if not changed and not err and not conflicts:
        return 0, "drift-guard: nothing to change\n", ""
    return 1, "".join(out), "".join(err)

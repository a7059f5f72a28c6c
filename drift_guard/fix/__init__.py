"""--fix and --diff: make the declarations agree with the environment.

Requirements files are rewritten line by line (fix/requirements.py); lock files are put right
by their owning tool (fix/locks.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Mapping, Tuple

from drift_guard.readers import LOCK_FORMATS

if TYPE_CHECKING:
    from drift_guard.models import Installed, Report


def run_fix(
    report: Report, installed: Mapping[str, Installed], *, write: bool, root: str
) -> Tuple[int, str, str]:
    """Fix (`write`) or preview the fix of `report`. Returns (exit code, stdout, stderr)."""
    if report.ok:
        return 0, "drift-guard: no drift, nothing to fix\n", ""
    out: List[str] = []
    err: List[str] = []
    changed = False
    first = report.sources[0] if report.sources else None
    # Undeclared packages have no file of their own: they go to the first file named.
    undeclared = [f for f in report.findings if f.kind == "undeclared"]
    # unpinned findings exist only under --require-pins: fixing them pins what is installed.
    placed = [f for f in report.findings if f.kind in ("missing", "mismatch", "unpinned")]

    req_sources = [s for s in report.sources if s.format == "requirements.txt"]
    if req_sources:
        from drift_guard.fix import requirements as req_fix

        req_files = {p for s in req_sources for p in s.files} | {s.path for s in req_sources}
        findings = [f for f in placed if f.source in req_files]
        if first is not None and first.format == "requirements.txt":
            findings += undeclared
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
    if not changed and not err:
        return 0, "drift-guard: nothing to change\n", ""
    return 1, "".join(out), "".join(err)

"""The report a person reads in two seconds: which environment, what drifted, what to do."""

from __future__ import annotations

from typing import List, Sequence

from drift_guard._paths import display_path
from drift_guard.models import Finding, Report
from drift_guard.render import fix_hint, spelled, where

_HEADINGS = {
    "missing": "missing: declared, not installed",
    "mismatch": "mismatch: installed version differs from the declaration",
    "undeclared": "undeclared: installed, not declared",
    "unpinned": "unpinned: declared without an exact pin",
    "imported": "undeclared, and the code imports it: the deploy fails without it",
    "unresolved": "unresolved: imported, but no installed package, project module or "
    "standard library module provides it",
}
_COLOURS = {"missing": "31", "mismatch": "33", "undeclared": "35", "unpinned": "36",
            "imported": "1;31", "unresolved": "33"}


def _group(findings: Sequence[Finding], kind: str) -> List[Finding]:
    """The findings shown under `kind`; "imported" is the undeclared the code imports."""
    if kind == "imported":
        return [f for f in findings if f.kind == "undeclared" and f.imported_by]
    if kind == "undeclared":
        return [f for f in findings if f.kind == "undeclared" and not f.imported_by]
    return [f for f in findings if f.kind == kind]


def environment_line(report: Report) -> str:
    env = report.environment
    prefix = display_path(env.prefix)
    return f"{prefix} (Python {env.python_version}, found by {env.found_by})"


def sources_line(report: Report) -> str:
    parts = []
    for s in report.sources:
        detail = f"{len(s.requirements)} declared"
        if s.groups:
            detail += f"; groups: {', '.join(s.groups)}"
        parts.append(f"{display_path(s.path)} ({detail})")
    return ", ".join(parts) or "nothing"


def render(report: Report, *, color: bool = False, short: bool = False) -> str:
    """The text report. `short` is for hooks: findings and fixes only."""
    paint = (lambda text, code: f"\033[{code}m{text}\033[0m") if color else (lambda text, _c: text)
    lines: List[str] = []
    env_line = environment_line(report)
    if report.ok:
        lines.append(f"drift-guard: no drift: {env_line} matches {sources_line(report)}")
        lines.extend(f"note: {n}" for n in report.notes)
        return "\n".join(lines) + "\n"
    count = len(report.findings)
    lines.append(
        f"drift-guard: {count} finding{'s' if count != 1 else ''} in {env_line}"
        f" against {sources_line(report)}"
    )
    for kind in ("imported", "missing", "mismatch", "undeclared", "unpinned", "unresolved"):
        group = _group(report.findings, kind)
        if not group:
            continue
        heading = "undeclared, imported: the deploy fails without it" if kind == "imported" \
            else f"{kind}:"
        lines.append(paint(_HEADINGS[kind], _COLOURS[kind]) if not short else heading)
        for f in group:
            lines.append("  " + _describe(f))
            lines.append(f"      -> {fix_hint(report, f)}")
    lines.extend(f"note: {n}" for n in report.notes)
    if any(s.format == "requirements.txt" for s in report.sources):
        lines.append(
            "To make the requirements match this environment: drift-guard --fix"
            " (preview: drift-guard --diff)"
        )
    return "\n".join(lines) + "\n"


def _describe(f: Finding) -> str:
    text = _describe_kind(f)
    if f.imported_by:
        shown = ", ".join(f.imported_by[:5])
        more = len(f.imported_by) - 5
        text += f"  (imported by {shown}{f', and {more} more' if more > 0 else ''})"
    if f.tolerated:
        text += "  [reported only: does not fail the run]"
    return text


def _describe_kind(f: Finding) -> str:
    place = where(f)
    at = f"  ({place})" if place else ""
    if f.kind == "missing":
        return spelled(f) + at
    if f.kind == "mismatch":
        return f"{f.name}: installed {f.installed}, declared {f.declared}{at}"
    if f.kind == "unpinned":
        inst = f", installed {f.installed}" if f.installed else ""
        return f"{spelled(f) if f.declared else f.name + ' (no version)'}{inst}{at}"
    if f.kind == "unresolved":
        return f.name
    text = f"{f.name} {f.installed}"
    if f.dependencies:
        text += f", with its dependencies {', '.join(f.dependencies)}"
    if f.required_by:
        text += f" (needed by {', '.join(f.required_by)})"
    return text

"""The report a person reads in two seconds: which environment, what drifted, what to do.

Every line is passed through `_escape.text` before colour is added: a name, a path or a note
from a checked file shows its control characters as `\\x1b`-style escapes and can never end
a line, move the cursor or recolour the terminal.
"""

from __future__ import annotations

from drift_guard._paths import display_path
from drift_guard.models import Finding, Report
from drift_guard.render import fix_hint, notes, spelled, where
from drift_guard.render._escape import text as _escape

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional, Sequence, Tuple

# "imported" is the undeclared findings the code imports: shown first, they break a deploy.
_KINDS = ("broken", "imported", "missing", "mismatch", "undeclared", "unpinned", "unresolved")
_HEADINGS = {
    "broken": "broken: the environment does not satisfy itself (pip check)",
    "missing": "missing: declared, not installed",
    "mismatch": "mismatch: installed version differs from the declaration",
    "undeclared": "undeclared: installed, not declared",
    "unpinned": "unpinned: declared without an exact pin",
    "imported": "undeclared, and the code imports it: the deploy fails without it",
    "unresolved": "unresolved: imported, but no installed package, project module or "
    "standard library module provides it",
}
_COLOURS = {
    "imported": "1;31",
    "broken": "31",
    "missing": "31",
    "mismatch": "33",
    "undeclared": "35",
    "unpinned": "36",
    "unresolved": "33",
}
_SHORT = {"imported": "undeclared, imported: the deploy fails without it"}
_WARNING_COLOUR = "1;33"


def _group(findings: Sequence[Finding], kind: str) -> List[Finding]:
    """The findings shown under `kind`; "imported" is the undeclared the code imports."""
    if kind == "imported":
        return [f for f in findings if f.kind == "undeclared" and f.imported_by]
    if kind == "undeclared":
        return [f for f in findings if f.kind == "undeclared" and not f.imported_by]
    return [f for f in findings if f.kind == kind]


def environment_line(report: Report) -> str:
    """Unescaped: callers escape it for their format."""
    env = report.environment
    prefix = display_path(env.prefix)
    return f"{prefix} (Python {env.python_version}, found by {env.found_by})"


def sources_line(report: Report) -> str:
    """Unescaped: callers escape it for their format."""
    parts = []
    for s in report.sources:
        detail = f"{len(s.requirements)} declared"
        if s.groups:
            detail += f"; groups: {', '.join(s.groups)}"
        parts.append(f"{display_path(s.path)} ({detail})")
    return ", ".join(parts) or "nothing"


def render(report: Report, *, color: bool = False, short: bool = False) -> str:
    """The text report. `short` is for hooks: findings and fixes only."""
    # (line, colour): every line is escaped as a whole, then painted.
    lines: List[Tuple[str, Optional[str]]] = []
    env_line = environment_line(report)
    warnings = [(f"warning: {w}", _WARNING_COLOUR) for w in report.warnings]
    if report.ok:
        lines.append((f"drift-guard: no drift: {env_line} matches {sources_line(report)}", None))
        lines.extend(warnings)
        if warnings:
            lines.append(("The check is incomplete: what could not be read was not compared.",
                          None))
        lines.extend((f"note: {n}", None) for n in notes(report))
        return _join(lines, color)
    count = len(report.findings)
    lines.append(
        (
            f"drift-guard: {count} finding{'s' if count != 1 else ''} in {env_line}"
            f" against {sources_line(report)}",
            None,
        )
    )
    lines.extend(warnings)
    kinds = [*_KINDS, *sorted({f.kind for f in report.findings} - set(_KINDS))]
    for kind in kinds:
        group = _group(report.findings, kind)
        if not group:
            continue
        if short:
            lines.append((_SHORT.get(kind, f"{kind}:"), None))
        else:
            lines.append((_HEADINGS.get(kind, f"{kind}:"), _COLOURS.get(kind)))
        for f in group:
            lines.append(("  " + _describe(f), None))
            lines.append((f"      -> {fix_hint(report, f)}", None))
    lines.extend((f"note: {n}", None) for n in notes(report))
    if any(s.format == "requirements.txt" for s in report.sources):
        lines.append(
            (
                "To make the requirements match this environment: drift-guard --fix"
                " (preview: drift-guard --diff)",
                None,
            )
        )
    return _join(lines, color)


def _join(lines: List[Tuple[str, Optional[str]]], color: bool) -> str:
    out = []
    for line, code in lines:
        shown = _escape(line)
        out.append(f"\033[{code}m{shown}\033[0m" if color and code else shown)
    return "\n".join(out) + "\n"


def _describe(f: Finding) -> str:
    text = _what(f)
    if f.reason and f.kind != "broken":
        text += f" -- {f.reason}"
    if f.imported_by:
        shown = ", ".join(f.imported_by[:5])
        more = len(f.imported_by) - 5
        text += f"  (imported by {shown}{f', and {more} more' if more > 0 else ''})"
    if f.tolerated:
        text += "  [reported only: does not fail the run]"
    return text


def _what(f: Finding) -> str:
    place = where(f)
    at = f"  ({place})" if place else ""
    if f.kind == "broken":
        return f"{f.name}: {f.reason}" if f.reason else f.name
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

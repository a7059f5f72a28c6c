"""One renderer per output format; each returns a string, only the CLI prints.

Every renderer escapes what came from a file or the environment with `_escape` (one module
for all formats): nothing a checked repository contains can start a GitHub workflow
command, inject HTML or Markdown, or reach a terminal as an escape sequence.
"""

from __future__ import annotations

import os

from drift_guard import advice
from drift_guard.advice import hint
from drift_guard.models import Finding, Report

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, Mapping, Optional, Tuple

FORMATS = ("text", "json", "github", "markdown")


def render(
    report: Report,
    fmt: str,
    *,
    quiet: bool = False,
    color: Optional[bool] = None,
    short: Optional[bool] = None,
) -> str:
    """The report in `fmt` ("text", "json", "github", "markdown").

    `quiet`: nothing at all when there is no drift, in every format but json (whose stdout
    is always one JSON document). `color` / `short` for text default to what the terminal
    and the environment say (NO_COLOR, TERM=dumb, PRE_COMMIT).
    """
    if fmt == "json":
        from drift_guard.render import json as renderer

        return renderer.render(report)
    if quiet and report.ok:
        return ""
    if fmt == "github":
        from drift_guard.render import github

        return github.render(report)
    if fmt == "markdown":
        from drift_guard.render import markdown

        return markdown.render(report)
    from drift_guard.render import text

    if color is None:
        import sys

        color = use_color(sys.stdout.isatty(), os.environ)
    if short is None:
        short = bool(os.environ.get("PRE_COMMIT"))
    return text.render(report, color=color, short=short)


def use_color(isatty: bool, environ: Mapping[str, str]) -> bool:
    """Colour on a terminal, unless NO_COLOR is set to a non-empty value (no-color.org: an
    empty NO_COLOR does not count) or the terminal is dumb."""
    return isatty and not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"


def notes(report: Report) -> Tuple[str, ...]:
    """The report's notes, plus one for each declaration file that declares nothing (every
    installed package is then undeclared: the likelier mistake is the file)."""
    from drift_guard._paths import display_path

    extra = []
    for s in report.sources:
        if not s.requirements and not s.constraints:
            note = f"{display_path(s.path)} declares nothing"
            if not any(note in n for n in report.notes):
                extra.append(note)
    return (*report.notes, *extra)


def fix_hint(report: Report, finding: Finding) -> str:
    """The instruction for `finding`, in the terms of the file that declares it (undeclared
    packages belong to the first file named). Not escaped: each renderer escapes it."""
    from drift_guard._paths import display_path

    formats: Dict[str, str] = {}
    for s in report.sources:
        formats.setdefault(s.path, s.format)
        for path in s.files:
            formats.setdefault(path, s.format)
    first: Optional[str] = report.sources[0].path if report.sources else None
    source = finding.source or first
    env = report.environment
    pip = advice.pip_for(env.prefix, env.found_by)
    return hint(finding, formats.get(source or ""), source, pip, display_path(env.prefix))


def where(f: Finding) -> str:
    """Where `f` is declared: "file:line", "file (key.path)" for lock files, or ""."""
    if not f.source:
        return ""
    if f.line is not None:
        return f"{f.source}:{f.line}"
    return f"{f.source} ({f.key})" if f.key else f.source


def spelled(f: Finding) -> str:
    """The declaration of `f` as a requirement line spells it: "flask==3.0.0",
    "pkg @ https://...", or the name alone."""
    return advice.spelled(f.name, f.declared)


def describe(f: Finding) -> str:
    """One sentence saying what `f` is, for formats that write prose (github, markdown
    notes); unescaped."""
    if f.kind == "mismatch":
        what = f"{f.name} {f.installed} is installed but {spelled(f)} is declared"
    elif f.kind == "missing":
        what = f"{spelled(f)} is declared but not installed"
    elif f.kind == "unpinned":
        what = f"{spelled(f)} is not pinned with =="
        if f.installed:
            what += f" (installed: {f.installed})"
    elif f.kind == "broken":
        if f.reason:
            what = f"{f.name}: {f.reason}"
        else:
            needers = ", ".join(f.required_by) or "an installed package"
            have = f"installed {f.installed}" if f.installed else "not installed"
            what = f"{needers} requires {spelled(f)}, {have}"
    elif f.kind == "unresolved":
        what = (
            f"{f.name} is imported ({', '.join(f.imported_by[:5])}) but no installed "
            "package, project module or standard library module provides it"
        )
    else:
        what = f"{f.name} {f.installed} is installed but not declared"
        if f.dependencies:
            what += f" (with {', '.join(f.dependencies)})"
        if f.required_by:
            what += f" (needed by {', '.join(f.required_by)})"
        if f.imported_by:
            what += (
                f", and the code imports it ({', '.join(f.imported_by[:5])}): "
                "the deploy fails without it"
            )
    return what

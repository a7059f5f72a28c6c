"""One renderer per output format; each returns a string, only the CLI prints."""

from __future__ import annotations

from typing import Dict, Optional

from drift_guard import advice
from drift_guard.advice import hint
from drift_guard.models import Finding, Report


def fix_hint(report: Report, finding: Finding) -> str:
    """The instruction for `finding`, in the terms of the file that declares it (undeclared
    packages belong to the first file named)."""
    formats: Dict[str, str] = {}
    for s in report.sources:
        formats.setdefault(s.path, s.format)
        for path in s.files:
            formats.setdefault(path, s.format)
    first: Optional[str] = report.sources[0].path if report.sources else None
    source = finding.source or first
    env = report.environment
    pip = advice.pip_command(env.prefix, env.found_by)
    return hint(finding, formats.get(source or ""), source, pip)


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

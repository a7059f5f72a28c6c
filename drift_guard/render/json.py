"""The JSON report of CONTRACT.md (schema 1). Keys may be added, never changed in meaning.

With --quiet the document is still written (stdout is always one JSON document)."""

from __future__ import annotations

from drift_guard.models import Finding, Report
from drift_guard.render import fix_hint, notes
from drift_guard.render._json import dumps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict


def _finding(report: Report, f: Finding) -> Dict[str, Any]:
    data: Dict[str, Any] = {
        "kind": f.kind,
        "name": f.name,
        "installed": f.installed,
        "declared": f.declared,
        "source": f.source,
        "line": f.line,
    }
    if f.kind == "undeclared":
        data["dependencies"] = list(f.dependencies)
    if f.required_by:
        data["required_by"] = list(f.required_by)
    if f.uninstall:
        data["uninstall"] = list(f.uninstall)
    if f.kind in ("undeclared", "unresolved") or f.imported_by:
        data["imported_by"] = list(f.imported_by)
    if f.reason:
        data["reason"] = f.reason
    if f.tolerated:
        data["fails"] = False
    if f.key is not None:
        data["key"] = f.key
    data["hint"] = fix_hint(report, f)
    return data


def render(report: Report) -> str:
    env = report.environment
    doc = {
        "schema": 1,
        "ok": report.ok,
        "fails": report.fails,
        "environment": {
            "prefix": env.prefix,
            "python_version": env.python_version,
            "found_by": env.found_by,
            "python": env.python,
        },
        "sources": [
            {
                "path": s.path,
                "format": s.format,
                "declared": len(s.requirements),
                "frozen": s.frozen,
                "groups": list(s.groups),
                "files": list(s.files),
            }
            for s in report.sources
        ],
        "findings": [_finding(report, f) for f in report.findings],
        "notes": list(notes(report)),
        "warnings": list(report.warnings),
    }
    # ensure_ascii: every control, escape and non-ASCII character is written as \uXXXX, so
    # the document is plain ASCII whatever a checked file held.
    return dumps(doc) + "\n"

"""The check pipeline every front end shares (CLI, Zappa callback, Lambda command, hooks):
find the environment, list what is installed, read the declarations, compare, render.

Nothing here prints or exits; front ends decide what to show and which exit code it means.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

from drift_guard.errors import DriftGuardError

if TYPE_CHECKING:
    from drift_guard.config import Config
    from drift_guard.models import Environment, Finding, Installed, Report, Source


def check(
    cfg: Config, *, cwd: str, environment: Optional[Environment] = None, allow: Sequence[str] = ()
) -> Tuple[Report, dict[str, Installed]]:
    """Find the environment (unless given), read the declarations, compare. No printing."""
    from drift_guard.compare import compare, name_direct_references
    from drift_guard.environment import find_environment
    from drift_guard.installed import list_installed
    from drift_guard.markers import target_environment
    from drift_guard.models import ReadContext, Report
    from drift_guard.readers import detect, read_source

    files = cfg.sources
    if not files:
        found = detect(cwd)
        if found is None:
            raise DriftGuardError(
                f"no declaration file in {cwd} (looked for poetry.lock, Pipfile.lock, uv.lock, "
                "pylock.toml, requirements.txt); name one: drift-guard requirements.txt"
            )
        files = (found,)

    env = environment or find_environment(cfg.python, cfg.venv, cwd=cwd)
    markers = target_environment(env)
    ctx = ReadContext(
        markers=markers,
        project_dir=cwd,
        with_groups=cfg.with_groups,
        without_groups=cfg.without_groups,
        only_groups=cfg.only_groups,
        extras=cfg.extras,
    )
    sources: List[Source] = [read_source(path, ctx) for path in dict.fromkeys(files)]
    installed = list_installed(env)
    sources, notes = name_direct_references(sources, installed, cwd)

    def run(projects: Tuple[str, ...]) -> List[Finding]:
        return compare(
            installed,
            sources,
            markers,
            ignore=cfg.ignore,
            allow=(*cfg.allow, *allow),
            projects=projects,
            require_pins=cfg.require_pins,
        )

    findings = run(())
    if findings:
        # The project's own distribution is never drift; reading pyproject.toml for its name
        # (a TOML parse) is needed only when there is something it could explain.
        projects = project_names(cwd)
        if projects:
            findings = run(projects)
    return Report(env, tuple(sources), tuple(findings), tuple(notes)), installed


def project_names(cwd: str) -> Tuple[str, ...]:
    path = os.path.join(cwd, "pyproject.toml")
    if not os.path.isfile(path):
        return ()
    from drift_guard.readers.pyproject import project_name

    name = project_name(path)
    return (name,) if name else ()


def render(report: Report, fmt: str, *, quiet: bool = False) -> str:
    """The report in `fmt` ("text", "json", "github", "markdown"); see drift_guard.render."""
    from drift_guard.render import render as render_report

    return render_report(report, fmt, quiet=quiet)

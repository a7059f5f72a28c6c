"""The check pipeline every front end shares (CLI, Zappa callback, Lambda command, hooks):
find the environment, list what is installed, read the declarations, compare, render.

Nothing here prints or exits; front ends decide what to show and which exit code it means.
"""

from __future__ import annotations

import os

from drift_guard.errors import DriftGuardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import AbstractSet, List, Mapping, Optional, Sequence, Tuple

if TYPE_CHECKING:
    from drift_guard.config import Config
    from drift_guard.models import Environment, Finding, Installed, Report, Source


def check(
    cfg: Config,
    *,
    cwd: str,
    environment: Optional[Environment] = None,
    allow: Sequence[str] = (),
    python: Optional[str] = None,
    venv: Optional[str] = None,
    environ: Optional[Mapping[str, str]] = None,
    installed: Optional[Mapping[str, Installed]] = None,
    overlap: bool = False,
) -> Tuple[Report, dict[str, Installed]]:
    """Find the environment (unless given), read the declarations, compare. No printing.

    `python` / `venv` are the user's own choice (--python / --venv); `cfg.python` /
    `cfg.venv` come from the checked repository and are only ever read, never run.
    `environ`: the variables discovery sees (default: os.environ). `installed` replaces the
    environment's listing (the Lambda command compares a built package, whose distributions
    it read itself); markers come from `environment`. `overlap`: the environment may be
    listed in a child process while large declaration files are read (the CLI's choice: a
    front end running in another program's process keeps to one).
    """
    from drift_guard.compare import compare, name_direct_references
    from drift_guard.environment import find_environment
    from drift_guard.installed import list_installed, start_listing
    from drift_guard.markers import target_environment
    from drift_guard.models import ReadContext, Report
    from drift_guard.readers import detect, read_source

    files = tuple(cfg.sources)
    top_level = _top_level_files(cfg.top_level)
    if not files:
        found = detect(cwd)
        if found is None and not top_level:
            raise DriftGuardError(
                f"no declaration file in {cwd} (looked for poetry.lock, Pipfile.lock, uv.lock, "
                "pylock.toml, requirements.txt); name one: drift-guard requirements.txt"
            )
        if found is not None:
            path = os.path.join(cwd, found)
            here = os.getcwd()
            if os.path.abspath(cwd).startswith(here + os.sep) or os.path.abspath(cwd) == here:
                path = os.path.relpath(path, here)
            files = (path,)
    # A file named top-level is a declaration file of its own, read with the others.
    known = {os.path.abspath(f) for f in files}
    files += tuple(f for f in top_level if os.path.abspath(f) not in known)

    if environment is not None:
        env = environment
    elif python or venv:
        env = find_environment(python, venv, cwd=cwd, environ=environ)
    elif (cfg.python or cfg.venv) and not (environ or os.environ).get("DRIFT_GUARD_PYTHON"):
        # The repository's choice, below the user's own (--python, DRIFT_GUARD_PYTHON).
        env = find_environment(cfg.python, cfg.venv, cwd=cwd, environ=environ, configured=True)
    else:
        env = find_environment(cwd=cwd, environ=environ)
    markers = target_environment(env)
    ctx = ReadContext(
        markers=markers,
        project_dir=cwd,
        with_groups=cfg.with_groups,
        without_groups=cfg.without_groups,
        only_groups=cfg.only_groups,
        extras=cfg.extras,
    )
    listing = (start_listing(env) if overlap and installed is None and _large(files)
               else None)
    try:
        sources: List[Source] = [read_source(path, ctx) for path in dict.fromkeys(files)]
        sources, guesses = _frozen_or_top_level(sources, top_level)
        warnings: List[str] = list(env.warnings)
        if installed is not None:
            installed = dict(installed)
        elif listing is not None:
            installed = listing.result(warnings)
        else:
            installed = list_installed(env, warnings)
    finally:
        if listing is not None:
            listing.cancel()
    sources, notes = name_direct_references(sources, installed, cwd)
    tools = deploy_tools(cwd)

    def run(projects: Tuple[str, ...]) -> List[Finding]:
        return compare(
            installed,
            sources,
            markers,
            ignore=cfg.ignore,
            allow=(*cfg.allow, *tools, *allow),
            projects=projects,
            require_pins=cfg.require_pins,
        )

    findings = run(())
    if findings:
        # The project's own distribution is never drift; reading pyproject.toml for its name
        # (a TOML parse) is needed only when there is something it could explain.
        projects = project_names(cwd, {f.name for f in findings})
        if projects:
            findings = run(projects)
    findings, import_notes = rank_by_imports(cfg, findings, env, installed, cwd)
    notes = [*notes, *import_notes]
    notes.extend(_explain(sources, findings, guesses))
    if cfg.fail_on is not None or cfg.undeclared != "all":
        from drift_guard.imports.resolve import tolerate

        findings = tolerate(findings, cfg.fail_on, cfg.undeclared)
    report = Report(
        env, tuple(sources), tuple(findings), (*env.notes, *notes), tuple(warnings)
    )
    return report, installed


# Declaration files this large (together) take long enough to read that listing the
# environment meanwhile, in a child process, saves more than the child costs (about a
# millisecond): a lock of a few hundred packages.
OVERLAP_BYTES = 256 * 1024


def _large(files: Sequence[str]) -> bool:
    total = 0
    for path in files:
        try:
            total += os.stat(path).st_size
        except (OSError, ValueError):
            pass
    return total >= OVERLAP_BYTES


def rank_by_imports(
    cfg: Config, findings: List[Finding], env: Environment, installed: dict[str, Installed],
    cwd: str,
) -> Tuple[List[Finding], List[str]]:
    """Undeclared findings the code imports gain `imported_by` and come first; `unresolved`
    findings are added when configured.

    The code is read only when it can change the verdict: there is an undeclared finding to
    rank, or unresolved imports are looked for. A clean environment costs no scan.
    """
    want_unresolved = cfg.unresolved or "unresolved" in (cfg.fail_on or ())
    if not cfg.imports or not (
        want_unresolved or any(f.kind == "undeclared" for f in findings)
    ):
        return findings, []
    from drift_guard.imports.resolve import rank, resolve

    resolution = resolve(cwd, env, installed, code=cfg.code, exclude=cfg.code_exclude)
    ranked = rank(findings, resolution, unresolved=want_unresolved, ignore=cfg.ignore)
    return ranked, list(resolution.notes)


# --- frozen or top-level --------------------------------------------------------------------


def _top_level_files(paths: Sequence[str]) -> Tuple[str, ...]:
    from drift_guard.readers import LOCK_FORMATS, format_of

    for path in paths:
        if format_of(path) in LOCK_FORMATS:
            raise DriftGuardError(
                "a lock file lists everything installed and cannot be top-level; --top-level "
                "(top-level = [...]) names requirements files",
                path=path,
            )
    return tuple(dict.fromkeys(paths))


def _frozen_or_top_level(
    sources: List[Source], top_level: Sequence[str]
) -> Tuple[List[Source], dict[str, str]]:
    """Sources with `frozen` as the user set it, else as guessed; and how each requirements
    file's mode was decided ("set", "in", "pins", "unpinned"), by path."""
    named = {os.path.abspath(p) for p in top_level}
    result = []
    how: dict[str, str] = {}
    for source in sources:
        if source.format == "requirements.txt":
            if os.path.abspath(source.path) in named:
                source = source._replace(frozen=False)
                how[source.path] = "set"
            elif source.path.endswith(".in"):
                # pip-tools' convention: the .in file lists what was chosen, the .txt is
                # compiled from it. It stays top-level after its lines are pinned.
                source = source._replace(frozen=False)
                how[source.path] = "in"
            else:
                how[source.path] = "pins" if source.frozen else "unpinned"
        result.append(source)
    return result, how


def _explain(sources: Sequence[Source], findings: Sequence[Finding],
             how: Mapping[str, str]) -> List[str]:
    """Notes that say how each requirements file was read, where it matters: when it declares
    nothing, or when there are undeclared packages (what counts as undeclared depends on it)."""
    notes = []
    undeclared = any(f.kind == "undeclared" for f in findings)
    for source in sources:
        if source.format == "requirements.txt" and not source.requirements:
            notes.append(
                f"{source.path} declares nothing, so every installed package is undeclared; "
                "is it the right file?"
            )
            continue
        mode = how.get(source.path)
        if not undeclared or mode in (None, "set"):
            continue
        if mode == "pins":
            notes.append(
                f"{source.path} is read as frozen: every requirement is pinned, so it must list "
                f"everything installed; say --top-level {source.path} if it lists only what "
                "you chose"
            )
        elif mode == "in":
            notes.append(
                f"{source.path} is read as top-level (a .in file lists what you chose): what "
                "its packages need is covered"
            )
        else:
            notes.append(
                f"{source.path} is read as top-level (not every requirement is pinned): what "
                "its packages need is covered"
            )
    return notes


# --- deploy tooling -------------------------------------------------------------------------

DEPLOY_TOOLS = {
    "zappa": ("zappa_settings.json", "zappa_settings.yaml", "zappa_settings.yml",
              "zappa_settings.toml"),
}
"""Tools that must be installed in the project's environment to deploy it, and the files that
say a project uses them. Where such a file exists, the tool and what only it needs are allowed
-- in the CLI, the hooks and the Zappa callback alike."""


def deploy_tools(cwd: str) -> Tuple[str, ...]:
    """The deploy tools the project at `cwd` uses (their settings file is there)."""
    return tuple(
        tool
        for tool, files in DEPLOY_TOOLS.items()
        if any(os.path.isfile(os.path.join(cwd, f)) for f in files)
    )


def project_names(cwd: str, candidates: Optional[AbstractSet[str]] = None) -> Tuple[str, ...]:
    """The name of the project at `cwd` (from pyproject.toml's [project]); with `candidates`
    (canonical names), only when it may be one of them."""
    path = os.path.join(cwd, "pyproject.toml")
    if not os.path.isfile(path):
        return ()
    if candidates is not None:
        # Cheap and exact: the name is spelled in the file, in any case and with any of
        # "-_." between its parts, unless a \u escape writes it; no candidate there, no parse.
        from drift_guard import _io

        text = _io.read_bytes(path, what="pyproject.toml").decode("utf-8", "replace").lower()
        spelled = text.replace("_", "-").replace(".", "-")
        while "--" in spelled:
            spelled = spelled.replace("--", "-")
        if "\\u" not in text and not any(name in spelled for name in candidates):
            return ()
    from drift_guard.readers.pyproject import project_name

    name = project_name(path)
    return (name,) if name else ()


def render(report: Report, fmt: str, *, quiet: bool = False) -> str:
    """The report in `fmt` ("text", "json", "github", "markdown"); see drift_guard.render."""
    from drift_guard.render import render as render_report

    return render_report(report, fmt, quiet=quiet)

"""The lock readers (Pipfile.lock, poetry.lock, uv.lock, pylock.toml) on files the real tools
wrote (fixtures/locks/, made by fixtures/locks/regenerate.sh).

Each fixture directory also records what the owning tool itself installed from the lock
(installed-<lock>-py<X.Y>.txt): the reader must expect exactly that for the same target. The
end-to-end tests rebuild those environments offline from stand-in wheels and run the real
comparison (and the CLI) against them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional, Tuple

import pytest

from drift_guard._names import canonical
from drift_guard.errors import DriftGuardError
from drift_guard.markers import evaluate, target_environment
from drift_guard.models import Environment, ReadContext, Source
from drift_guard.readers import _toml, pipfile_lock, poetry_lock, pylock, uv_lock
from drift_guard.readers._toml import decide_set_tests
from tests.helpers import ROOT, make_venv, run_cli, write_wheel

LOCKS = ROOT / "fixtures" / "locks"


def markers(python: str = "3.11.7", **overrides: str) -> Dict[str, str]:
    env = target_environment(Environment("/venv", None, python, "--venv", ()))
    # The fixtures were locked and installed on Linux: the same platform values everywhere.
    env.update(os_name="posix", sys_platform="linux", platform_system="Linux")
    env.update(overrides)
    return env


def ctx(python: str = "3.11.7", *, env: Optional[Dict[str, str]] = None,
        **kw: Tuple[str, ...]) -> ReadContext:
    return ReadContext(markers=env or markers(python), **kw)  # type: ignore[arg-type]


def expected(source: Source, env: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """{name: specifier} of what must be installed for the target."""
    env = env or markers()
    return {r.name: r.specifier for r in source.requirements
            if r.expected and evaluate(r.marker, env)}


def declared(source: Source) -> set[str]:
    return {r.name for r in source.requirements}


def tool_installed(path: Path) -> Dict[str, str]:
    """What the owning tool installed (the recorded `pip list --format=freeze`)."""
    result = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            result[canonical(name)] = version
    return result


def as_pins(source: Source, env: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The expected set as {name: version}; entries without a version (git, paths) as ""."""
    return {name: spec[2:] if spec.startswith("==") else spec
            for name, spec in expected(source, env).items()}


def locked_names(path: Path, table: str) -> set[str]:
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib

    return {canonical(p["name"]) for p in tomllib.loads(path.read_text())[table]}


def minor(python: str) -> str:
    return ".".join(python.split(".")[:2])


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def error_of(read, path: str, context: Optional[ReadContext] = None) -> DriftGuardError:  # type: ignore[no-untyped-def]
    with pytest.raises(DriftGuardError) as info:
        read(path, context or ctx())
    return info.value


# The version a path or git dependency has in the fixture projects (the lock files of pipenv
# and pip name none).
SOURCE_VERSIONS = {"localpkg": "0.3.0", "gitpkg": "0.1.0"}


def agrees_with_tool(source: Source, installed: Dict[str, str], env: Dict[str, str]) -> None:
    pins = as_pins(source, env)
    tool = {n: v for n, v in installed.items() if n != source.project}
    assert set(pins) == set(tool)
    for name, version in pins.items():
        assert version in (tool[name], ""), name
        if version == "":
            assert name in SOURCE_VERSIONS


# ---------------------------------------------------------------------------- poetry.lock

POETRY = [
    ("poetry-demo", "3.11.7"),  # Poetry 2.5.1, lock-version 2.1 (groups, markers)
    ("poetry18-demo", "3.11.7"),  # Poetry 1.8.5, lock-version 2.0 (no category)
    ("poetry11-demo", "3.9.18"),  # Poetry 1.1.15, lock-version 1.1 (category)
]


@pytest.mark.parametrize(("scenario", "python"), POETRY)
def test_poetry_lock_expects_what_poetry_install_installed(scenario: str, python: str) -> None:
    path = LOCKS / scenario / "poetry.lock"
    source = poetry_lock.read(str(path), ctx(python))
    installed = tool_installed(LOCKS / scenario / f"installed-poetry.lock-py{minor(python)}.txt")
    agrees_with_tool(source, installed, markers(python))
    assert source.frozen
    assert source.project == scenario
    assert source.groups == ("main", "dev")


@pytest.mark.parametrize(("scenario", "python"), POETRY)
def test_poetry_lock_declares_every_locked_package(scenario: str, python: str) -> None:
    path = LOCKS / scenario / "poetry.lock"
    source = poetry_lock.read(str(path), ctx(python))
    assert declared(source) == locked_names(path, "package")
    # Marker-false packages are declared, never expected, and carry their pin.
    pywin32 = next(r for r in source.requirements if r.name == "pywin32")
    assert (pywin32.expected, pywin32.specifier, pywin32.group) == (False, "==312", "main")


def test_poetry_lock_2_0_walks_the_graph_for_an_older_python() -> None:
    source = poetry_lock.read(str(LOCKS / "poetry18-demo" / "poetry.lock"), ctx("3.9.18"))
    pins = as_pins(source, markers("3.9.18"))
    # tomli (root marker python < 3.11, and pytest's), exceptiongroup (pytest, < 3.11) and
    # typing-extensions (exceptiongroup's, < 3.13) only exist for 3.9 in this lock.
    assert {"tomli", "exceptiongroup", "typing-extensions"} <= set(pins)
    assert pins["typing-extensions"] == "4.16.0"


@pytest.mark.parametrize("scenario", ["poetry-demo", "poetry18-demo"])
def test_poetry_optional_group_is_declared_and_expected_only_with_it(scenario: str) -> None:
    path = str(LOCKS / scenario / "poetry.lock")
    plain = poetry_lock.read(path, ctx())
    docs = next(r for r in plain.requirements if r.name == "docutils")
    assert (docs.expected, docs.group, docs.specifier) == (False, "docs", "==0.23")
    with_docs = poetry_lock.read(path, ctx(with_groups=("docs",)))
    assert expected(with_docs)["docutils"] == "==0.23"
    assert with_docs.groups == ("main", "dev", "docs")


@pytest.mark.parametrize(("scenario", "python"), POETRY)
def test_poetry_without_and_only_change_the_expected_groups(scenario: str, python: str) -> None:
    path = str(LOCKS / scenario / "poetry.lock")
    env = markers(python)
    without_dev = poetry_lock.read(path, ctx(python, without_groups=("dev",)))
    assert "pytest" not in expected(without_dev, env)
    assert "requests" in expected(without_dev, env)
    assert "pytest" in declared(without_dev)
    assert without_dev.groups == ("main",)
    only_dev = poetry_lock.read(path, ctx(python, only_groups=("dev",)))
    assert set(expected(only_dev, env)) >= {"pytest", "pluggy", "iniconfig"}
    assert "requests" not in expected(only_dev, env)
    # packaging is needed by both localpkg (main) and pytest (dev)
    assert "packaging" in expected(only_dev, env)


@pytest.mark.parametrize(("scenario", "python"), POETRY)
def test_poetry_root_extra_selects_the_optional_package(scenario: str, python: str) -> None:
    path = str(LOCKS / scenario / "poetry.lock")
    assert "pyyaml" not in expected(poetry_lock.read(path, ctx(python)), markers(python))
    with_yaml = poetry_lock.read(path, ctx(python, extras=("yaml",)))
    assert expected(with_yaml, markers(python))["pyyaml"] == "==6.0.3"


def test_poetry_2_1_per_group_markers_are_evaluated_for_the_selected_groups() -> None:
    # colorama: markers = {main = 'os_name == "nt"', dev = 'sys_platform == "win32"'}
    path = str(LOCKS / "poetry-demo" / "poetry.lock")
    nt = markers(os_name="nt")
    assert "colorama" in expected(poetry_lock.read(path, ctx(env=nt)), nt)
    win = markers(sys_platform="win32")
    assert "colorama" in expected(poetry_lock.read(path, ctx(env=win)), win)
    without_dev = poetry_lock.read(path, ctx(env=win, without_groups=("dev",)))
    assert "colorama" not in expected(without_dev, win)


def test_poetry_lock_sources_give_urls_and_editable() -> None:
    source = poetry_lock.read(str(LOCKS / "poetry-demo" / "poetry.lock"), ctx())
    by_name = {r.name: r for r in source.requirements}
    git = by_name["gitpkg"]
    # Poetry writes `file://None/tmp/...` for a file:// repository: read as the path it means.
    assert git.url == ("git+file:///tmp/drift-guard-fixtures/gitpkg"
                       "@af26f82d9f524cd960727780d14e7efba9cc369c")
    assert git.specifier == "==0.1.0"
    local = by_name["localpkg"]
    assert local.editable
    assert local.url == (LOCKS / "localpkg").as_uri()
    assert by_name["requests"].url is None
    assert by_name["requests"].hashes
    assert not git.hashes


def test_poetry_lock_requirements_point_at_the_name_line() -> None:
    path = LOCKS / "poetry-demo" / "poetry.lock"
    lines = path.read_text().splitlines()
    for req in poetry_lock.read(str(path), ctx()).requirements:
        assert req.line is not None
        assert lines[req.line - 1] == f'name = "{req.name}"'
        assert req.key is not None
        assert req.key.startswith("package[")
        assert req.source == str(path)


def test_poetry_lock_2_1_reads_without_pyproject(tmp_path: Path) -> None:
    lock = tmp_path / "poetry.lock"
    shutil.copy(LOCKS / "poetry-demo" / "poetry.lock", lock)
    source = poetry_lock.read(str(lock), ctx())
    # Without pyproject.toml no group is known to be optional: docs is expected too.
    assert {"docutils", "pytest", "requests"} <= set(expected(source))
    assert source.project is None


def test_poetry_lock_2_0_without_pyproject_says_what_is_missing(tmp_path: Path) -> None:
    lock = tmp_path / "poetry.lock"
    shutil.copy(LOCKS / "poetry18-demo" / "poetry.lock", lock)
    err = error_of(poetry_lock.read, str(lock))
    assert err.key == "metadata.lock-version"
    assert "pyproject.toml" in err.message
    assert str(lock) in str(err)


POETRY_PACKAGE = """
[[package]]
name = "six"
version = "1.17.0"
optional = false
python-versions = "*"
groups = ["main"]
"""


def poetry_file(tmp_path: Path, body: str, lock_version: str = "2.1") -> str:
    return write(tmp_path, "poetry.lock",
                 body + f'\n[metadata]\nlock-version = "{lock_version}"\n'
                        'python-versions = "*"\ncontent-hash = "x"\n')


def test_poetry_lock_malformed_toml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "poetry.lock", '[[package]]\nname = "six"\nversion = 1.17.0\n')
    err = error_of(poetry_lock.read, path)
    assert err.path == path
    assert err.line == 3
    assert "invalid TOML" in err.message
    assert "poetry lock" in err.message


def test_poetry_lock_wrong_type_names_the_key_path(tmp_path: Path) -> None:
    body = POETRY_PACKAGE * 3 + POETRY_PACKAGE.replace('version = "1.17.0"', "version = 117")
    err = error_of(poetry_lock.read, poetry_file(tmp_path, body))
    assert err.key == "package[3].version"
    assert "expected a string, found an integer" in err.message
    assert str(err).startswith(f"{tmp_path / 'poetry.lock'}: package[3].version: ")
    assert "`poetry lock`" in str(err)


@pytest.mark.parametrize(("change", "key"), [
    (('groups = ["main"]', 'groups = "main"'), "package[0].groups"),
    (('groups = ["main"]', 'groups = ["main"]\nmarkers = 3'), "package[0].markers"),
    (('groups = ["main"]', 'groups = ["main"]\nmarkers = "python_version >>> 3"'),
     "package[0].markers"),
    (('groups = ["main"]', 'groups = ["main"]\nmarkers = {main = 1}'), "package[0].markers.main"),
    (('name = "six"', "name = []"), "package[0].name"),
    (('groups = ["main"]', ""), "package[0].groups"),
    (('groups = ["main"]', 'groups = ["main"]\n[package.dependencies]\nx = 1'),
     "package[0].dependencies.x"),
    (('groups = ["main"]', 'groups = ["main"]\n[package.dependencies]\nx = "^^1"'),
     "package[0].dependencies.x"),
])
def test_poetry_lock_bad_fields_name_their_key(tmp_path: Path, change: Tuple[str, str],
                                               key: str) -> None:
    err = error_of(poetry_lock.read, poetry_file(tmp_path, POETRY_PACKAGE.replace(*change)))
    assert err.key == key


def test_poetry_lock_unknown_lock_version_is_an_error(tmp_path: Path) -> None:
    err = error_of(poetry_lock.read, poetry_file(tmp_path, POETRY_PACKAGE, "3.0"))
    assert err.key == "metadata.lock-version"
    assert "3.0" in err.message
    err = error_of(poetry_lock.read, poetry_file(tmp_path, POETRY_PACKAGE, "two"))
    assert err.key == "metadata.lock-version"


def test_poetry_lock_2_1_groups_are_canonical_and_markers_per_group_default_to_any(
        tmp_path: Path) -> None:
    body = POETRY_PACKAGE.replace('groups = ["main"]', 'groups = ["main", "Lint_Tools"]\n'
                                  'markers = {main = "sys_platform == \'win32\'"}')
    path = poetry_file(tmp_path, body)
    assert "six" in expected(poetry_lock.read(path, ctx()))  # lint-tools: no marker
    only_main = poetry_lock.read(path, ctx(only_groups=("main",)))
    assert "six" not in expected(only_main)
    assert poetry_lock.read(path, ctx(only_groups=("lint-tools",))).groups == ("lint-tools",)


# ---------------------------------------------------------------------------- Pipfile.lock

def test_pipfile_lock_expects_what_pipenv_sync_dev_installed() -> None:
    source = pipfile_lock.read(str(LOCKS / "pipenv-demo" / "Pipfile.lock"), ctx())
    installed = tool_installed(LOCKS / "pipenv-demo" / "installed-Pipfile.lock-py3.11.txt")
    agrees_with_tool(source, installed, markers())
    assert source.groups == ("default", "develop")
    assert source.frozen


def test_pipfile_lock_declares_every_category_and_expects_custom_ones_only_when_asked() -> None:
    path = str(LOCKS / "pipenv-demo" / "Pipfile.lock")
    data = json.loads(Path(path).read_text())
    source = pipfile_lock.read(path, ctx())
    assert declared(source) == {canonical(n) for c in ("default", "develop", "lint")
                                for n in data[c]}
    pyflakes = next(r for r in source.requirements if r.name == "pyflakes")
    assert (pyflakes.expected, pyflakes.group, pyflakes.key) == (False, "lint", "lint.pyflakes")
    with_lint = pipfile_lock.read(path, ctx(with_groups=("lint",)))
    assert expected(with_lint)["pyflakes"] == "==4.1.0"
    assert with_lint.groups == ("default", "develop", "lint")


def test_pipfile_lock_dev_and_main_are_aliases_of_its_categories() -> None:
    path = str(LOCKS / "pipenv-demo" / "Pipfile.lock")
    without_dev = pipfile_lock.read(path, ctx(without_groups=("dev",)))
    assert without_dev.groups == ("default",)
    assert "pytest" not in expected(without_dev)
    only_main = pipfile_lock.read(path, ctx(only_groups=("main",)))
    assert only_main.groups == ("default",)


def test_pipfile_lock_package_in_two_categories_is_declared_once() -> None:
    path = str(LOCKS / "pipenv-demo" / "Pipfile.lock")
    packaging = [r for r in pipfile_lock.read(path, ctx()).requirements if r.name == "packaging"]
    assert [(r.key, r.expected) for r in packaging] == [("default.packaging", True)]
    only_dev = pipfile_lock.read(path, ctx(only_groups=("develop",)))
    packaging = [r for r in only_dev.requirements if r.name == "packaging"]
    assert [(r.key, r.expected) for r in packaging] == [("develop.packaging", True)]


def test_pipfile_lock_keeps_markers_for_compare_to_evaluate() -> None:
    source = pipfile_lock.read(str(LOCKS / "pipenv-demo" / "Pipfile.lock"), ctx())
    by_key = {r.key: r for r in source.requirements}
    assert by_key["default.requests"].marker == "python_version >= '3.10'"
    assert by_key["default.requests"].extras == ("socks",)
    # Marker false on Linux: pipenv writes "*" (no pin), the marker says when it applies.
    pywin32 = by_key["default.pywin32"]
    assert (pywin32.specifier, pywin32.marker, pywin32.expected) == (
        "", "sys_platform == 'win32'", True)
    assert "pywin32" not in expected(source)
    assert "pywin32" in expected(source, markers(sys_platform="win32"))


def test_pipfile_lock_git_and_editable_path_entries() -> None:
    path = LOCKS / "pipenv-demo" / "Pipfile.lock"
    by_name = {r.name: r for r in pipfile_lock.read(str(path), ctx()).requirements}
    assert by_name["gitpkg"].url == ("git+file:///tmp/drift-guard-fixtures/gitpkg"
                                     "@af26f82d9f524cd960727780d14e7efba9cc369c")
    assert by_name["gitpkg"].specifier == ""
    assert by_name["localpkg"].editable
    assert by_name["localpkg"].url == (LOCKS / "localpkg").as_uri()
    lines = path.read_text().splitlines()
    assert lines[by_name["six"].line - 1].strip() == '"six": {'  # type: ignore[operator]


def test_pipfile_lock_quirks_of_pipenv_are_read_as_meant() -> None:
    source = pipfile_lock.read(str(LOCKS / "pipenv-quirk" / "Pipfile.lock"), ctx())
    by_name = {r.name: r for r in source.requirements}
    # "==>=2.0": the range pipenv could not pin
    assert by_name["tomli"].specifier == ">=2.0"
    assert by_name["tomli"].marker == "python_version < '3.11'"
    # "*" with no marker and no hashes: pipenv dropped the marker; declared, not expected
    assert (by_name["pywin32"].specifier, by_name["pywin32"].expected) == ("", False)
    assert expected(source, markers("3.9.18")) == {
        "six": "==1.17.0", "tomli": ">=2.0"}


def test_pipfile_lock_arbitrary_equality_and_string_entries(tmp_path: Path) -> None:
    path = write(tmp_path, "Pipfile.lock", json.dumps({
        "_meta": {"pipfile-spec": 6},
        "default": {"Weird_Pkg": {"version": "===1.0-weird"}, "six": "==1.17.0",
                    "myproj": {"path": ".", "editable": True}},
        "develop": {},
    }, indent=4))
    source = pipfile_lock.read(path, ctx())
    assert expected(source) == {"weird-pkg": "===1.0-weird", "six": "==1.17.0"}
    assert source.project == "myproj"


@pytest.mark.parametrize(("data", "key"), [
    ({"default": {"six": {"version": 1}}}, "default.six.version"),
    ({"default": {"six": {"version": "==1", "hashes": "sha256:x"}}}, "default.six.hashes"),
    ({"default": {"six": {"version": "==1", "markers": "python_version >>"}}},
     "default.six.markers"),
    ({"default": {"six": {"version": "~~1"}}}, "default.six.version"),
    ({"default": []}, "default"),
    ({"default": {"zope.interface": 3}}, 'default."zope.interface"'),
    ({"_meta": {"pipfile-spec": 7}, "default": {}}, "_meta.pipfile-spec"),
    ({"_meta": []}, "_meta"),
])
def test_pipfile_lock_bad_fields_name_their_key(tmp_path: Path, data: dict, key: str) -> None:
    path = write(tmp_path, "Pipfile.lock", json.dumps(data))
    err = error_of(pipfile_lock.read, path)
    assert err.key == key
    assert "`pipenv lock`" in err.message or "upgrade drift-guard" in err.message


def test_pipfile_lock_malformed_json_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "Pipfile.lock", '{\n  "default": {\n    "six": {,}\n  }\n}\n')
    err = error_of(pipfile_lock.read, path)
    assert (err.path, err.line) == (path, 3)
    assert "invalid JSON" in err.message
    assert error_of(pipfile_lock.read, write(tmp_path, "Pipfile.lock", "[]")).message.startswith(
        "expected an object, found an array")


# ---------------------------------------------------------------------------------- uv.lock

@pytest.mark.parametrize("python", ["3.11.7", "3.9.18"])
def test_uv_lock_expects_what_uv_sync_installed(python: str) -> None:
    source = uv_lock.read(str(LOCKS / "uv-demo" / "uv.lock"), ctx(python))
    installed = tool_installed(LOCKS / "uv-demo" / f"installed-uv.lock-py{minor(python)}.txt")
    agrees_with_tool(source, installed, markers(python))
    assert source.project == "uv-demo"
    assert "uv-demo" not in declared(source)
    assert source.groups == ("main", "dev")


def test_uv_lock_declares_every_locked_package_once_per_unselected_name() -> None:
    path = LOCKS / "uv-demo" / "uv.lock"
    source = uv_lock.read(str(path), ctx())
    assert declared(source) == locked_names(path, "package") - {"uv-demo"}
    # A forked name is expected in the fork for the target only: no second requirement
    # pinned to the other fork's version.
    requests = [r for r in source.requirements if r.name == "requests"]
    assert [(r.specifier, r.expected) for r in requests] == [("==2.34.2", True)]


def test_uv_lock_groups_and_extras_follow_the_selection() -> None:
    path = str(LOCKS / "uv-demo" / "uv.lock")
    plain = uv_lock.read(path, ctx())
    docutils = next(r for r in plain.requirements if r.name == "docutils")
    assert (docutils.expected, docutils.group) == (False, "docs")
    assert "docutils" in expected(uv_lock.read(path, ctx(with_groups=("docs",))))
    no_dev = uv_lock.read(path, ctx(without_groups=("dev",)))
    assert "pytest" not in expected(no_dev)
    assert "pytest" in declared(no_dev)
    only_dev = uv_lock.read(path, ctx(only_groups=("dev",)))
    assert "requests" not in expected(only_dev)
    assert "pytest" in expected(only_dev)
    assert expected(uv_lock.read(path, ctx(extras=("yaml",))))["pyyaml"] == "==6.0.3"
    assert "pyyaml" not in expected(plain)


def test_uv_lock_edge_markers_are_evaluated_for_the_target() -> None:
    path = str(LOCKS / "uv-demo" / "uv.lock")
    win = markers(sys_platform="win32")
    on_windows = expected(uv_lock.read(path, ctx(env=win)), win)
    assert {"pywin32", "colorama"} <= set(on_windows)
    assert not {"pywin32", "colorama"} & set(expected(uv_lock.read(path, ctx())))


def test_uv_lock_workspace_with_a_virtual_root_and_custom_default_groups() -> None:
    path = LOCKS / "uv-workspace" / "uv.lock"
    source = uv_lock.read(str(path), ctx())
    installed = tool_installed(LOCKS / "uv-workspace" / "installed-uv.lock-py3.11.txt")
    agrees_with_tool(source, installed, markers())
    assert source.project == "uv-workspace"
    assert source.groups == ("main", "lint")  # [tool.uv] default-groups = ["lint"]
    member = next(r for r in source.requirements if r.name == "member")
    assert member.editable
    assert member.url == (LOCKS / "uv-workspace/packages/member").as_uri()
    # click: only in the member's `cli` extra, two forks, neither reached: declared, unpinned
    click = next(r for r in source.requirements if r.name == "click")
    assert (click.expected, click.specifier) == (False, "")


# A group whose package needs the project itself (pydantic's `docs` group: pydantic-settings
# needs pydantic). `uv export --frozen --only-group docs` on this lock lists `-e .`,
# alpha==1.0 and plugin==2.0: the project, reached through the group, brings its own
# dependencies even where the selection leaves them out.
GROUP_NEEDS_PROJECT = '''\
version = 1
revision = 3
requires-python = ">=3.9"

[[package]]
name = "alpha"
version = "1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "app"
version = "1.0"
source = { editable = "." }
dependencies = [
    { name = "alpha" },
]

[package.dev-dependencies]
docs = [
    { name = "plugin" },
]

[package.metadata]
requires-dist = [{ name = "alpha" }]

[package.metadata.requires-dev]
docs = [{ name = "plugin" }]

[[package]]
name = "plugin"
version = "2.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "app" },
]
'''


def test_uv_lock_group_that_needs_the_project_brings_its_dependencies(tmp_path: Path) -> None:
    path = write(tmp_path, "uv.lock", GROUP_NEEDS_PROJECT)
    only_docs = uv_lock.read(path, ctx(only_groups=("docs",)))
    assert as_pins(only_docs) == {"alpha": "1.0", "plugin": "2.0"}
    no_group = uv_lock.read(path, ctx(without_groups=("docs",)))
    assert as_pins(no_group) == {"alpha": "1.0"}


def test_uv_lock_git_source_is_a_git_url_at_the_commit() -> None:
    source = uv_lock.read(str(LOCKS / "uv-demo" / "uv.lock"), ctx())
    git = next(r for r in source.requirements if r.name == "gitpkg")
    assert git.url == ("git+file:///tmp/drift-guard-fixtures/gitpkg"
                       "@af26f82d9f524cd960727780d14e7efba9cc369c")


UV_PACKAGE = """
[[package]]
name = "six"
version = "1.17.0"
source = { registry = "https://pypi.org/simple" }
"""
UV_ROOT = """
[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [{ name = "six" }]
"""


@pytest.mark.parametrize(("text", "key", "words"), [
    ("version = 2\n" + UV_ROOT, "version", "uv.lock schema version 2"),
    ("version = '1'\n" + UV_ROOT, "version", "expected an integer, found a string"),
    (UV_ROOT, "version", "missing"),
    ("version = 1\n" + UV_ROOT + UV_PACKAGE * 2 + UV_PACKAGE.replace('"1.17.0"', "1.17"),
     "package[3].version", "expected a string, found a number"),
    ("version = 1\n" + UV_ROOT.replace('{ name = "six" }', '{ version = "1" }'),
     "package[0].dependencies[0].name", "missing"),
    ("version = 1\n" + UV_ROOT.replace('{ name = "six" }', '{ name = "six", marker = "x y" }'),
     "package[0].dependencies[0].marker", "invalid marker"),
    ("version = 1\npackage = 3\n", "package", "expected an array"),
])
def test_uv_lock_bad_input_names_the_key(tmp_path: Path, text: str, key: str, words: str) -> None:
    err = error_of(uv_lock.read, write(tmp_path, "uv.lock", text))
    assert err.key == key
    assert words in err.message
    assert "`uv lock`" in err.message or "upgrade drift-guard" in err.message


def test_uv_lock_malformed_toml(tmp_path: Path) -> None:
    err = error_of(uv_lock.read, write(tmp_path, "uv.lock", "version = 1\n[[package]\n"))
    assert err.line == 2
    assert "invalid TOML" in err.message


# ------------------------------------------------------------------------------ pylock.toml

@pytest.mark.parametrize(("scenario", "tool"), [
    ("uv-demo", "uv export"),  # single-use: no groups, the project as directory "."
    ("pip-demo", "pip lock"),  # no markers, no project
    ("pipenv-demo", "pipenv"),  # 'dev' in dependency_groups markers, default-groups
])
def test_pylock_expects_what_its_installer_installed(scenario: str, tool: str) -> None:
    path = LOCKS / scenario / "pylock.toml"
    source = pylock.read(str(path), ctx())
    installed = tool_installed(LOCKS / scenario / "installed-pylock.toml-py3.11.txt")
    agrees_with_tool(source, installed, markers())
    assert declared(source) == locked_names(path, "packages") - {source.project}
    assert source.frozen


def test_pylock_project_directory_is_the_project() -> None:
    source = pylock.read(str(LOCKS / "uv-demo" / "pylock.toml"), ctx())
    assert source.project == "uv-demo"
    local = next(r for r in source.requirements if r.name == "localpkg")
    assert local.editable
    assert local.url == (LOCKS / "localpkg").as_uri()


def test_pylock_dependency_groups_select_marked_packages() -> None:
    path = str(LOCKS / "pipenv-demo" / "pylock.toml")
    plain = pylock.read(path, ctx())
    assert plain.groups == ("default",)
    pytest_req = next(r for r in plain.requirements if r.name == "pytest")
    assert (pytest_req.expected, pytest_req.group) == (False, "dev")
    with_dev = pylock.read(path, ctx(with_groups=("dev",)))
    assert with_dev.groups == ("default", "dev")
    assert expected(with_dev)["pytest"] == "==9.2.0"


def test_pylock_entry_without_version_or_source_is_never_expected() -> None:
    # pipenv leaves such an entry for a package whose marker was false when locking.
    source = pylock.read(str(LOCKS / "pipenv-demo" / "pylock.toml"), ctx())
    tomli = next(r for r in source.requirements if r.name == "tomli")
    assert (tomli.expected, tomli.specifier) == (False, "")
    # Where its marker would hold (Python < 3.11) the lock's requires-python (>=3.11)
    # excludes the target: pipenv refuses to install from it there, and so does drift-guard.
    err = error_of(pylock.read, str(LOCKS / "pipenv-demo" / "pylock.toml"), ctx("3.9.18"))
    assert "requires-python" in str(err)


PYLOCK_HEAD = 'lock-version = "1.0"\ncreated-by = "hand"\nextras = ["yaml"]\n'
PYLOCK_SIX = '[[packages]]\nname = "six"\nversion = "1.17.0"\n'


def test_pylock_extras_markers(tmp_path: Path) -> None:
    yaml = '[[packages]]\nname = "pyyaml"\nversion = "6.0.3"\nmarker = "\'yaml\' in extras"\n'
    path = write(tmp_path, "pylock.toml", PYLOCK_HEAD + PYLOCK_SIX + yaml)
    assert "pyyaml" not in expected(pylock.read(path, ctx()))
    assert expected(pylock.read(path, ctx(extras=("yaml",))))["pyyaml"] == "==6.0.3"


def test_pylock_markers_without_lock_file_support_in_packaging(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # packaging < 25 cannot evaluate `'dev' in dependency_groups`: decided by the reader.
    monkeypatch.setattr(_toml, "_LOCK_SUPPORT", [False])
    path = str(LOCKS / "pipenv-demo" / "pylock.toml")
    assert "pytest" not in expected(pylock.read(path, ctx()))
    assert expected(pylock.read(path, ctx(with_groups=("dev",))))["pytest"] == "==9.2.0"


def test_pylock_set_tests_are_decided_without_packaging_support() -> None:
    text = "('dev' in dependency_groups) and (python_version >= '3.10') or 'x' not in extras"
    assert decide_set_tests(text, {"x"}, {"dev"}) == (
        "(python_version >= '0') and (python_version >= '3.10') or python_version < '0'")


@pytest.mark.parametrize(("text", "key", "words"), [
    ('lock-version = "2.0"\n' + PYLOCK_SIX, "lock-version", "lock-version 2.0"),
    ('lock-version = "one"\n' + PYLOCK_SIX, "lock-version", "not a lock version"),
    (PYLOCK_SIX, "lock-version", "missing"),
    ('lock-version = 1.0\n' + PYLOCK_SIX, "lock-version", "expected a string, found a number"),
    (PYLOCK_HEAD + "".join(PYLOCK_SIX.replace("six", n) for n in "abc")
     + PYLOCK_SIX.replace('"1.17.0"', "1"), "packages[3].version",
     "expected a string, found an integer"),
    (PYLOCK_HEAD + PYLOCK_SIX + PYLOCK_SIX.replace('"1.17.0"', '"1.16.0"'), "packages[1]",
     "both apply"),
    (PYLOCK_HEAD + PYLOCK_SIX + 'marker = "extra == \'x\'"\n', "packages[0].marker",
     "marker"),
    (PYLOCK_HEAD + 'default-groups = "dev"\n' + PYLOCK_SIX, "default-groups",
     "expected an array"),
])
def test_pylock_bad_input_names_the_key(tmp_path: Path, text: str, key: str, words: str) -> None:
    err = error_of(pylock.read, write(tmp_path, "pylock.toml", text))
    assert err.key == key
    assert words in err.message


def test_pylock_error_hint_names_the_tool_that_wrote_it(tmp_path: Path) -> None:
    text = 'lock-version = "1.0"\ncreated-by = "uv"\n' + PYLOCK_SIX.replace('"1.17.0"', "1")
    err = error_of(pylock.read, write(tmp_path, "pylock.toml", text))
    assert "uv export --format pylock.toml" in err.message


# ------------------------------------------------------------------ end to end, real venvs

def find_python(version: str) -> Optional[str]:
    """An interpreter of `version` (X.Y) on this machine, or None."""
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        return sys.executable
    candidates = [shutil.which(f"python{version}")]
    pyenv = Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}")
    candidates += sorted(str(p) for p in pyenv)
    for candidate in candidates:
        if candidate and subprocess.run([candidate, "-c", ""], capture_output=True).returncode == 0:
            return candidate
    return None


def venv_pip(python: Path, *args: str) -> None:
    """The venv's own pip, offline (pip 26 no longer runs against Python 3.9 from outside)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    cmd = [str(python), "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)


E2E = [
    ("poetry-demo", "poetry.lock", "3.11"),
    ("poetry11-demo", "poetry.lock", "3.9"),
    ("pipenv-demo", "Pipfile.lock", "3.11"),
    ("uv-demo", "uv.lock", "3.9"),
    ("uv-demo", "pylock.toml", "3.11"),
]


@pytest.mark.e2e
@pytest.mark.parametrize(("scenario", "lock", "version"), E2E)
def test_env_installed_from_the_lock_checks_clean_and_drift_is_found(
        tmp_path: Path, scenario: str, lock: str, version: str) -> None:
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} here")
    from drift_guard.compare import compare
    from drift_guard.environment import environment_at
    from drift_guard.installed import list_installed

    # The project, as a user has it: the lock (and pyproject.toml) with ../localpkg beside.
    project = tmp_path / scenario
    shutil.copytree(LOCKS / scenario, project,
                    ignore=shutil.ignore_patterns("installed-*", "pylock.toml", "uv.lock")
                    if lock == "pylock.toml" else shutil.ignore_patterns("installed-*"))
    if lock == "pylock.toml":
        shutil.copy(LOCKS / scenario / lock, project / lock)
    shutil.copytree(LOCKS / "localpkg", tmp_path / "localpkg")

    # What the tool installed, rebuilt offline from stand-in wheels.
    tool = tool_installed(LOCKS / scenario / f"installed-{lock}-py{version}.txt")
    wheels = tmp_path / "wheels"
    for name, v in tool.items():
        write_wheel(wheels, name, v)
    write_wheel(wheels, "handmade", "1.0")
    venv = make_venv(project / ".venv", python=python)
    venv_pip(venv.python, "install", "--no-index", "--no-deps", "--find-links", str(wheels),
             *(f"{n}=={v}" for n, v in tool.items()))

    path = str(project / lock)
    env = environment_at(str(venv.path), "--venv")
    target = target_environment(env)
    read = {"poetry.lock": poetry_lock.read, "Pipfile.lock": pipfile_lock.read,
            "uv.lock": uv_lock.read, "pylock.toml": pylock.read}[lock]
    source = read(path, ReadContext(markers=target, project_dir=str(project)))
    assert compare(list_installed(env), [source], target) == []
    bare = run_cli([], cwd=project)  # finds the lock and ./.venv by itself
    assert bare.returncode == 0, bare.stdout + bare.stderr

    # Drift: a package installed by hand, an edited version, a locked package uninstalled.
    pinned = sorted(n for n, v in as_pins(source, target).items()
                    if v and n != source.project)
    edited, removed = pinned[0], pinned[-1]
    write_wheel(wheels, edited, "0.0.1")
    venv_pip(venv.python, "install", "--no-index", "--no-deps", "--find-links", str(wheels),
             "handmade==1.0", f"{edited}==0.0.1")
    venv_pip(venv.python, "uninstall", "-y", removed)
    findings = compare(list_installed(env), [source], target)
    assert sorted((f.kind, f.name) for f in findings) == sorted(
        [("undeclared", "handmade"), ("mismatch", edited), ("missing", removed)])
    mismatch = next(f for f in findings if f.kind == "mismatch")
    assert (mismatch.installed, mismatch.declared) == ("0.0.1", f"=={tool[edited]}")

    report = run_cli(["--format", "json"], cwd=project)
    assert report.returncode == 1, report.stderr
    data = json.loads(report.stdout)
    assert sorted((f["kind"], f["name"]) for f in data["findings"]) == sorted(
        (f.kind, f.name) for f in findings)
    assert data["sources"][0]["format"] == lock


# ------------------------------------------------------- cases the tools locked offline
# fixtures/locks/cases/<case>/: a project, the lock its tool wrote from a local index of
# stand-in wheels, and what that tool installed from the lock for each selection and target
# Python (fixtures/locks/cases/make.py). The reader must expect exactly that.

CASES = LOCKS / "cases"
FULL_VERSIONS = {"3.9": "3.9.18", "3.10": "3.10.13", "3.11": "3.11.7", "3.13": "3.13.0"}
# What `pip list`, and so drift-guard's view of an environment, never shows.
PIP_LIST_HIDES = {"python", "wsgiref", "argparse"}


def _case_runs() -> list:  # type: ignore[type-arg]
    runs = []
    for case in sorted(p for p in CASES.iterdir() if (p / "selections.json").is_file()):
        selections = json.loads((case / "selections.json").read_text())
        for label in selections:
            for python in FULL_VERSIONS:
                if (case / f"expected-{label}-py{python}.txt").is_file():
                    runs.append(pytest.param(case.name, label, python,
                                             id=f"{case.name}-{label}-py{python}"))
    return runs


def case_lock(case: str) -> Path:
    return next(CASES / case / name for name in ("uv.lock", "poetry.lock", "pylock.toml",
                                                  "Pipfile.lock")
                if (CASES / case / name).is_file())


def case_read(case: str, label: str, python: str) -> Tuple[Source, Dict[str, str]]:
    selection = json.loads((CASES / case / "selections.json").read_text())[label]["drift-guard"]
    env = markers(FULL_VERSIONS[python])
    context = ReadContext(markers=env, with_groups=tuple(selection.get("with", ())),
                          without_groups=tuple(selection.get("without", ())),
                          only_groups=tuple(selection.get("only", ())),
                          extras=tuple(selection.get("extras", ())))
    from drift_guard.readers import read_source

    return read_source(str(case_lock(case)), context), env


@pytest.mark.parametrize(("case", "label", "python"), _case_runs())
def test_reader_expects_what_the_tool_installed(case: str, label: str, python: str) -> None:
    source, env = case_read(case, label, python)
    got: Dict[str, list] = {}  # type: ignore[type-arg]
    for r in source.requirements:
        if r.expected and evaluate(r.marker, env):
            got.setdefault(r.name, []).append(r.specifier)
    installed = tool_installed(CASES / case / f"expected-{label}-py{python}.txt")
    want = {name: [f"=={version}"] for name, version in installed.items()
            if name != source.project and name not in PIP_LIST_HIDES}
    assert got == want


def test_cases_cover_every_target_python_and_differ_between_selections() -> None:
    # The oracle files must be able to tell a wrong fork from a right one.
    assert len(_case_runs()) >= 3 * 8
    conflicts = CASES / "uv-conflicts"
    cpu = tool_installed(conflicts / "expected-extra-cpu-py3.11.txt")
    gpu = tool_installed(conflicts / "expected-extra-gpu-py3.11.txt")
    assert (cpu["beta"], gpu["beta"]) == ("1.0", "2.0")
    old = tool_installed(conflicts / "expected-default-py3.9.txt")
    assert (old["omega"], cpu["omega"]) == ("1.0", "2.0")


def test_uv_conflict_markers_follow_the_selected_extra_and_group() -> None:
    path = str(case_lock("uv-conflicts"))
    cpu = uv_lock.read(path, ctx(extras=("cpu",)))
    assert expected(cpu)["beta"] == "==1.0"
    # one pin for the name: the fork of the other extra does not apply
    assert [r.specifier for r in cpu.requirements if r.name == "beta"] == ["==1.0"]
    legacy = uv_lock.read(path, ctx(without_groups=("dev",), with_groups=("legacy",)))
    assert expected(legacy)["gamma"] == "==2.0"
    assert {"epsilon", "zeta"} <= set(expected(legacy))


def test_uv_distribution_form_of_uv_0_2_is_read_as_package() -> None:
    path = case_lock("uv-distribution")
    assert "[[distribution]]" in path.read_text()
    source = uv_lock.read(str(path), ctx())
    assert {"alpha", "beta", "omega", "gamma"} <= set(expected(source))
    assert source.requirements[0].key.startswith("distribution[")


def test_uv_virtual_workspace_root_groups_come_from_the_manifest() -> None:
    path = str(case_lock("uv-virtual-root"))
    source = uv_lock.read(path, ctx())
    assert source.groups == ("main", "dev", "lint")
    # a virtual member (no build system) is never installed: not declared as a package
    assert "member" not in declared(source)
    docs = uv_lock.read(path, ctx(with_groups=("docs",)))
    assert "docsy" in expected(docs)


def test_poetry_installs_every_non_optional_pep_735_group() -> None:
    source = poetry_lock.read(str(case_lock("poetry-pep735")), ctx())
    assert source.groups == ("main", "dev", "lint")
    assert "docsy" in declared(source) and "docsy" not in expected(source)


def test_pipfile_lock_later_category_wins() -> None:
    path = str(case_lock("pipenv-categories"))
    # beta: ==2.0 in develop, ==1.0 in lint (pipenv constrains each category by default only)
    source = pipfile_lock.read(path, ctx())
    assert expected(source)["beta"] == "==2.0"
    with_lint = pipfile_lock.read(path, ctx(with_groups=("lint",)))
    assert expected(with_lint)["beta"] == "==1.0"
    # the pin that lost is declared, not expected: no mismatch against it
    assert [(r.specifier, r.expected) for r in with_lint.requirements if r.name == "beta"] == [
        ("==2.0", False), ("==1.0", True)]


def test_locked_argparse_is_declared_but_never_expected() -> None:
    source = pipfile_lock.read(str(case_lock("pipenv-categories")), ctx())
    assert "argparse" in declared(source) and "argparse" not in expected(source)


def test_pipfile_lock_dependency_groups_tests_are_dropped_as_pipenv_does(tmp_path: Path) -> None:
    path = write(tmp_path, "Pipfile.lock", json.dumps({
        "_meta": {"pipfile-spec": 6},
        "default": {"a": {"version": "==1", "markers": "'dev' in dependency_groups"}},
        "develop": {"b": {"version": "==2", "markers":
                          "('dev' in dependency_groups) and (python_version >= '3.10')"}},
    }))
    source = pipfile_lock.read(path, ctx("3.11.7"))
    assert expected(source, markers("3.11.7")) == {"a": "==1", "b": "==2"}
    assert "b" not in expected(pipfile_lock.read(path, ctx("3.9.18")), markers("3.9.18"))


@pytest.mark.parametrize(("name", "text", "key", "words"), [
    ("uv.lock", "version = 2\n", "version", "`uv lock`"),
    ("uv.lock", "version = 1\nrevision = 99\n", "revision", "revision 99"),
    ("poetry.lock", '[metadata]\nlock-version = "3.0"\n', "metadata.lock-version",
     "`poetry lock`"),
    ("poetry.lock", '[metadata]\nlock-version = "2.2"\n', "metadata.lock-version",
     "lock-version 2.2"),
    ("poetry.lock", '[metadata]\ncontent-hash = "x"\n', "metadata.lock-version",
     "`poetry lock`"),
    ("poetry.lock", '[[package]]\nname = "a"\nversion = "1"\n', "metadata", "`poetry lock`"),
    ("Pipfile.lock", '{"_meta": {"pipfile-spec": 7}, "default": {}}', "_meta.pipfile-spec",
     "`pipenv lock`"),
    ("pylock.toml", 'lock-version = "2.0"\n', "lock-version", "lock-version 2.0"),
])
def test_an_unknown_format_version_is_one_line_naming_it(
        tmp_path: Path, name: str, text: str, key: str, words: str) -> None:
    from drift_guard.readers import read_source

    with pytest.raises(DriftGuardError) as info:
        read_source(write(tmp_path, name, text), ctx())
    assert info.value.key == key
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_a_uv_0_2_lock_that_uv_refuses_is_one_line_saying_so() -> None:
    # uv 0.2.25 wrote `extra = "fast"`; uv 0.13.9 stops with "invalid type: string "fast",
    # expected a sequence".
    err = error_of(uv_lock.read, str(CASES / "uv-refused" / "uv.lock"))
    assert err.key == "distribution[6].optional-dependencies.fast[1].extra"
    assert "`uv lock`" in err.message and "\n" not in str(err)


def test_uv_sources_as_strings_of_early_uv_0_2_are_one_line(tmp_path: Path) -> None:
    # what uv 0.2.15 writes; uv 0.13.9: "data did not match any variant of untagged enum"
    path = write(tmp_path, "uv.lock", 'version = 1\nrequires-python = ">=3.9"\n\n'
                 '[[distribution]]\nname = "dd"\nversion = "0.1.0"\nsource = "editable+."\n'
                 'sdist = { path = "." }\n')
    err = error_of(uv_lock.read, path)
    assert err.key == "distribution[0].source" and "`uv lock`" in err.message


def test_pipenv_dependency_groups_markers_are_drift_not_a_crash(tmp_path: Path) -> None:
    # Such a marker made the check fail with exit 3; pipenv installs the entry.
    (tmp_path / "Pipfile.lock").write_text(json.dumps({
        "_meta": {"pipfile-spec": 6},
        "default": {},
        "develop": {"gamma": {"version": "==1.0", "markers":
                              "('dev' in dependency_groups) and (python_version >= '3.9')"}},
    }))
    venv = make_venv(tmp_path / "venv", with_pip=False)
    result = run_cli([str(tmp_path / "Pipfile.lock"), "--venv", str(venv.path),
                      "--format", "json"], cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [(f["kind"], f["name"]) for f in findings] == [("missing", "gamma")]


# What `uv pip compile --universal --format pylock.toml` writes for a tool needing 3.13.
PYLOCK_FOR_313 = """\
lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.13"

[[packages]]
name = "six"
version = "1.17.0"
index = "https://pypi.org/simple"
"""


def test_pylock_whose_requires_python_excludes_the_target_is_refused(tmp_path: Path) -> None:
    # uv pip install -r on Python 3.12: "incompatible with the `pylock.toml`'s Python
    # requirement: `>=3.13`"; pip and pipenv refuse it as well.
    path = write(tmp_path, "pylock.toml", PYLOCK_FOR_313)
    assert as_pins(pylock.read(path, ctx("3.13.0")), markers("3.13.0")) == {"six": "1.17.0"}
    err = error_of(pylock.read, path, ctx("3.12.1"))
    assert "requires-python" in str(err) and ">=3.13" in str(err) and "3.12.1" in str(err)


def test_pylock_whose_environments_exclude_the_target_is_refused(tmp_path: Path) -> None:
    text = PYLOCK_FOR_313.replace('requires-python = ">=3.13"\n',
                                  "environments = [\"sys_platform == 'win32'\"]\n")
    path = write(tmp_path, "pylock.toml", text)
    assert "environments" in str(error_of(pylock.read, path, ctx()))
    env = markers(sys_platform="win32")
    assert as_pins(pylock.read(path, ctx(env=env)), env) == {"six": "1.17.0"}


# A lock for a project whose `python` is ">=3.10" (like Poetry's own): `poetry install`
# into a Python 3.9 environment refuses ("The currently activated Python version 3.9.18 is
# not supported by the project").
POETRY_FOR_310 = """\
[[package]]
name = "six"
version = "1.17.0"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
files = []

[metadata]
lock-version = "2.1"
python-versions = "%s"
content-hash = "0"
"""


@pytest.mark.parametrize("constraint", [">=3.10,<4.0", "^3.10", ">=3.10 || 3.8.*"])
def test_poetry_lock_whose_python_excludes_the_target_is_refused(tmp_path: Path,
                                                                 constraint: str) -> None:
    path = write(tmp_path, "poetry.lock", POETRY_FOR_310 % constraint)
    assert as_pins(poetry_lock.read(path, ctx("3.10.13")), markers("3.10.13")) == {
        "six": "1.17.0"}
    err = error_of(poetry_lock.read, path, ctx("3.9.18"))
    assert "python-versions" in str(err) and "3.9.18" in str(err)

"""The pyproject.toml reader: PEP 621, PEP 735, Poetry and uv tables, top-level semantics."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Dict, Optional

import pytest

from drift_guard.errors import DriftGuardError
from drift_guard.markers import evaluate, target_environment
from drift_guard.models import Environment, ReadContext, Source
from drift_guard.readers import pyproject
from tests.helpers import ROOT, make_venv, pip, write_wheel

LOCKS = ROOT / "fixtures" / "locks"
MARKERS = target_environment(Environment("/venv", None, "3.11.7", "--venv", ()))
MARKERS.update(os_name="posix", sys_platform="linux", platform_system="Linux")


def ctx(**kw: tuple) -> ReadContext:
    return ReadContext(markers=MARKERS, **kw)


def read_text(tmp_path: Path, text: str, **kw: tuple) -> Source:
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    return pyproject.read(str(path), ctx(**kw))


def expected(source: Source, env: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    return {r.name: r.specifier for r in source.requirements
            if r.expected and evaluate(r.marker, env or MARKERS)}


def by_name(source: Source) -> dict:
    return {r.name: r for r in source.requirements}


def error(tmp_path: Path, text: str) -> DriftGuardError:
    with pytest.raises(DriftGuardError) as info:
        read_text(tmp_path, text)
    return info.value


# -------------------------------------------------------------------------- the fixtures

def test_pep621_with_poetry_groups_and_sources() -> None:
    path = str(LOCKS / "poetry-demo" / "pyproject.toml")
    source = pyproject.read(path, ctx())
    assert (source.format, source.frozen, source.project) == ("pyproject.toml", False,
                                                              "poetry-demo")
    assert source.groups == ("main", "dev")
    assert expected(source) == {"requests": ">=2.31", "six": ">=1.16", "localpkg": "",
                                "gitpkg": "", "pytest": ">=8"}
    reqs = by_name(source)
    assert reqs["requests"].extras == ("socks",)
    assert reqs["tomli"].marker == 'python_version < "3.11"'
    assert (reqs["docutils"].expected, reqs["docutils"].group) == (False, "docs")
    assert (reqs["pyyaml"].expected, reqs["pyyaml"].group) == (False, "yaml")
    # [tool.poetry.dependencies] only says where these come from ([project] has them)
    assert reqs["localpkg"].editable
    assert reqs["localpkg"].url == (LOCKS / "localpkg").as_uri()
    assert reqs["gitpkg"].url == "git+file:///tmp/drift-guard-fixtures/gitpkg@v0.1.0"
    assert reqs["six"].key == "project.dependencies[1]"
    assert reqs["six"].source == path


def test_poetry_tables_translate_constraints_and_python() -> None:
    source = pyproject.read(str(LOCKS / "poetry18-demo" / "pyproject.toml"), ctx())
    reqs = by_name(source)
    assert "python" not in reqs
    assert reqs["tomli"].marker == 'python_version < "3.11"'
    assert reqs["pywin32"].marker == "sys_platform == 'win32'"
    assert reqs["six"].key == "tool.poetry.dependencies.six"
    # optional = true: only through [tool.poetry.extras]
    assert not reqs["pyyaml"].expected
    with_yaml = pyproject.read(str(LOCKS / "poetry18-demo" / "pyproject.toml"),
                               ctx(extras=("yaml",)))
    assert by_name(with_yaml)["pyyaml"].expected


def test_poetry_1_dev_dependencies_are_the_dev_group() -> None:
    source = pyproject.read(str(LOCKS / "poetry11-demo" / "pyproject.toml"), ctx())
    pytest_req = by_name(source)["pytest"]
    assert (pytest_req.group, pytest_req.expected, pytest_req.specifier) == ("dev", True, ">=7")
    assert pytest_req.key == "tool.poetry.dev-dependencies.pytest"


def test_pep735_groups_with_include_and_uv_default_groups() -> None:
    source = pyproject.read(str(LOCKS / "uv-workspace" / "pyproject.toml"), ctx())
    assert source.groups == ("main", "lint")  # [tool.uv] default-groups = ["lint"]
    assert expected(source) == {"six": ">=1.16", "member": "", "pyflakes": ">=3",
                                "iniconfig": ">=2"}
    release = by_name(source)["packaging"]
    assert (release.expected, release.group) == (False, "release")
    # iniconfig: in dev, and in lint through include-group: one declaration, lint's
    iniconfig = [r for r in source.requirements if r.name == "iniconfig"]
    assert [(r.group, r.expected) for r in iniconfig] == [("lint", True)]


def test_uv_default_group_is_dev() -> None:
    source = pyproject.read(str(LOCKS / "uv-demo" / "pyproject.toml"), ctx())
    assert source.groups == ("main", "dev")
    assert "pytest" in expected(source)
    assert "docutils" not in expected(source)
    only_docs = pyproject.read(str(LOCKS / "uv-demo" / "pyproject.toml"),
                               ctx(only_groups=("docs",)))
    assert expected(only_docs) == {"docutils": ">=0.20"}


# ------------------------------------------------------------------------ written here

def test_optional_dependencies_are_expected_only_when_the_extra_is_selected(tmp_path: Path) -> None:
    text = """
[project]
name = "App"
dependencies = ["alpha>=1"]
[project.optional-dependencies]
Fast = ["beta==2"]
all = ["app[fast,slow]"]
slow = ["gamma"]
"""
    assert expected(read_text(tmp_path, text)) == {"alpha": ">=1"}
    assert expected(read_text(tmp_path, text, extras=("fast",))) == {"alpha": ">=1", "beta": "==2"}
    # `all` names the project itself: its extras are selected, the project is no requirement
    source = read_text(tmp_path, text, extras=("all",))
    assert expected(source) == {"alpha": ">=1", "beta": "==2", "gamma": ""}
    assert "app" not in by_name(source)
    assert source.project == "app"


def test_include_group_cycle_is_an_error(tmp_path: Path) -> None:
    err = error(tmp_path, """
[dependency-groups]
a = ["x", {include-group = "b"}]
b = [{include-group = "A"}]
""")
    assert err.key == "dependency-groups.b[0].include-group"
    assert "include cycle a -> b -> a" in err.message


@pytest.mark.parametrize(("text", "key", "words"), [
    ('[dependency-groups]\na = [{include-group = "nope"}]\n',
     "dependency-groups.a[0].include-group", "no dependency group"),
    ('[dependency-groups]\na = [{include = "b"}]\n', "dependency-groups.a[0]", "include-group"),
    ('[dependency-groups]\na = [3]\n', "dependency-groups.a[0]", "expected a string or a table"),
    ('[dependency-groups]\na = ["x"]\nA = ["y"]\n', "dependency-groups.A", "declared twice"),
    ('[project]\ndependencies = ["ok", "not a requirement!"]\n', "project.dependencies[1]",
     "invalid requirement"),
    ('[project]\ndependencies = "alpha"\n', "project.dependencies", "expected an array"),
    ('[project]\nname = 3\n', "project.name", "expected a string, found an integer"),
    ('[tool.poetry.dependencies]\nalpha = "^^1"\n', "tool.poetry.dependencies.alpha",
     "invalid version constraint"),
    ('[tool.poetry.dependencies]\nalpha = 1\n', "tool.poetry.dependencies.alpha",
     "expected a string or a table"),
    ('[tool.poetry.dependencies]\nalpha = { version = "1", python = "3.x.y.z!" }\n',
     "tool.poetry.dependencies.alpha.python", "invalid Python constraint"),
    ('[tool.poetry.group.dev]\noptional = "yes"\n', "tool.poetry.group.dev.optional",
     "expected true or false"),
    ('[tool.uv]\ndefault-groups = "some"\n', "tool.uv.default-groups", "all"),
])
def test_bad_input_names_the_key(tmp_path: Path, text: str, key: str, words: str) -> None:
    err = error(tmp_path, text)
    assert err.key == key
    assert words in err.message
    assert err.path == str(tmp_path / "pyproject.toml")


def test_malformed_toml_names_the_line(tmp_path: Path) -> None:
    err = error(tmp_path, '[project]\nname = "x"\ndependencies = [\n  "a",\n  oops\n]\n')
    assert err.line == 5
    assert "invalid TOML" in err.message


def test_poetry_multiple_constraints_and_groups(tmp_path: Path) -> None:
    source = read_text(tmp_path, """
[tool.poetry]
name = "app"
[tool.poetry.dependencies]
python = "^3.9"
alpha = [
    { version = "^1.2", python = "<3.10" },
    { version = "~2.1", python = ">=3.10" },
]
beta = { version = "*", platform = "linux" }
[tool.poetry.group.test.dependencies]
gamma = "1.0.*"
[tool.poetry.group.docs]
optional = true
[tool.poetry.group.docs.dependencies]
delta = ">=1 || <0.5"
""")
    alphas = [r for r in source.requirements if r.name == "alpha"]
    assert [(r.specifier, r.marker, r.key) for r in alphas] == [
        (">=1.2,<2", 'python_version < "3.10"', "tool.poetry.dependencies.alpha[0]"),
        (">=2.1,<2.2", 'python_version >= "3.10"', "tool.poetry.dependencies.alpha[1]"),
    ]
    assert expected(source) == {"alpha": ">=2.1,<2.2", "beta": "", "gamma": "==1.0.*"}
    assert source.groups == ("main", "test")
    docs = read_text(tmp_path, (tmp_path / "pyproject.toml").read_text(),
                     with_groups=("docs",), without_groups=("test",))
    assert docs.groups == ("main", "docs")
    assert expected(docs)["delta"] == ""  # a union PEP 440 cannot say: any version


@pytest.mark.parametrize(("poetry", "pep440"), [
    ("^1.2.3", ">=1.2.3,<2"), ("^0.2.3", ">=0.2.3,<0.3"), ("^0.0.3", ">=0.0.3,<0.0.4"),
    ("^0", ">=0,<1"), ("~1.2.3", ">=1.2.3,<1.3"), ("~1", ">=1,<2"), ("1.2.*", "==1.2.*"),
    ("1.2", "==1.2"), ("=1.2", "==1.2"), (">= 1.2, < 2", ">=1.2,<2"), (">=1.2 <2", ">=1.2,<2"),
    ("*", ""), ("", ""), ("!=1.5", "!=1.5"), ("~=1.4", "~=1.4"), ("^2.0.0b1", ">=2.0.0b1,<3"),
    (">=1 || <0.5", None),
])
def test_poetry_constraints_become_pep440(poetry: str, pep440: Optional[str]) -> None:
    assert pyproject.poetry_specifier(poetry) == pep440


@pytest.mark.parametrize(("poetry", "marker"), [
    ("^3.9", 'python_version >= "3.9" and python_version < "4"'),
    ("<3.11", 'python_version < "3.11"'),
    (">=3.6.2", 'python_full_version >= "3.6.2"'),
    ("~3.9", 'python_version >= "3.9" and python_version < "3.10"'),
    ("2.7 || >=3.5", '(python_version == "2.7") or (python_version >= "3.5")'),
    ("*", None),
])
def test_poetry_python_constraints_become_markers(poetry: str, marker: Optional[str]) -> None:
    assert pyproject.poetry_python_marker(poetry) == marker


def test_legacy_uv_dev_dependencies_and_sources(tmp_path: Path) -> None:
    source = read_text(tmp_path, """
[project]
name = "app"
dependencies = ["lib", "tool"]
[tool.uv]
dev-dependencies = ["pytest>=8"]
[tool.uv.sources]
lib = { path = "../lib", editable = true }
tool = { git = "https://example.invalid/tool", tag = "v1" }
""")
    reqs = by_name(source)
    assert (reqs["pytest"].group, reqs["pytest"].expected) == ("dev", True)
    assert reqs["pytest"].key == "tool.uv.dev-dependencies[0]"
    assert reqs["lib"].editable
    assert reqs["lib"].url == (tmp_path.parent / "lib").as_uri()
    assert reqs["tool"].url == "git+https://example.invalid/tool@v1"


def test_project_name(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    assert pyproject.project_name(str(path)) is None
    path.write_text('[project]\nname = "My_App"\n')
    assert pyproject.project_name(str(path)) == "my-app"
    path.write_text('[tool.poetry]\nname = "Poetry.App"\n')
    assert pyproject.project_name(str(path)) == "poetry-app"
    path.write_text('[build-system]\nrequires = []\n')
    assert pyproject.project_name(str(path)) is None


def test_read_tool_config(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    assert pyproject.read_tool_config(str(path)) == {}
    path.write_text('[project]\nname = "x"\n')
    assert pyproject.read_tool_config(str(path)) == {}
    path.write_text('[tool.drift-guard]\nignore = ["boto3"]\n[tool.drift-guard.lambda]\n'
                    "max_unzipped_mb = 250\n")
    assert pyproject.read_tool_config(str(path)) == {"ignore": ["boto3"],
                                                     "lambda": {"max_unzipped_mb": 250}}
    path.write_text('[tool.drift_guard]\nrequire-pins = true\n')
    assert pyproject.read_tool_config(str(path)) == {"require-pins": True}
    path.write_text('[tool]\ndrift-guard = "yes"\n')
    with pytest.raises(DriftGuardError) as info:
        pyproject.read_tool_config(str(path))
    assert info.value.key == "tool.drift-guard"


# ----------------------------------------------------------------------------- end to end

@pytest.mark.e2e
def test_top_level_pyproject_against_a_real_venv(tmp_path: Path) -> None:
    from drift_guard.compare import compare
    from drift_guard.environment import environment_at
    from drift_guard.installed import list_installed

    wheels = tmp_path / "wheels"
    write_wheel(wheels, "alpha", "1.4", requires=["delta>=1"])
    write_wheel(wheels, "alpha", "0.5")
    write_wheel(wheels, "delta", "1.0")
    write_wheel(wheels, "gamma", "3.0")
    write_wheel(wheels, "handmade", "1.0")
    venv = make_venv(tmp_path / ".venv")
    pip(venv, "install", "alpha==1.4", "gamma==3.0", find_links=wheels)
    path = tmp_path / "pyproject.toml"
    path.write_text("""
[project]
name = "app"
dependencies = ["alpha>=1", "win-only; sys_platform == 'win32'"]
[dependency-groups]
dev = ["gamma"]
docs = ["sphinx-stand-in"]
""")
    env = environment_at(str(venv.path), "--venv")
    markers = target_environment(env)
    source = pyproject.read(str(path), ReadContext(markers=markers))
    assert compare(list_installed(env), [source], markers) == []  # delta: alpha's

    pip(venv, "install", "handmade==1.0", "alpha==0.5", find_links=wheels)
    subprocess.run([str(venv.python), "-m", "pip", "uninstall", "-y", "gamma"], check=True,
                   capture_output=True)
    findings = compare(list_installed(env), [source], markers)
    # alpha 0.5 no longer needs delta: it is undeclared now, like handmade
    assert sorted((f.kind, f.name) for f in findings) == [
        ("mismatch", "alpha"), ("missing", "gamma"), ("undeclared", "delta"),
        ("undeclared", "handmade")]


# ------------------------------------------------------------------------- bad input

LONG = "1" * 5000


@pytest.mark.parametrize(("text", "key"), [
    ('[project]\nname = "bad name"\n', "project.name"),
    ('[tool.poetry]\nname = "-x"\n', "tool.poetry.name"),
    ('[project.optional-dependencies]\n"a b" = []\n', 'project.optional-dependencies."a b"'),
    ('[dependency-groups]\n"dev!" = []\n', 'dependency-groups."dev!"'),
    ('[tool.poetry.dependencies]\n"--index-url=x" = "*"\n',
     'tool.poetry.dependencies."--index-url=x"'),
    ('[tool.poetry.dependencies]\n"a\\nb" = "*"\n', 'tool.poetry.dependencies."a\\\\nb"'),
    ('[tool.poetry.group."x y".dependencies]\n', 'tool.poetry.group."x y"'),
    ('[tool.poetry.extras]\nall = ["ok", "not ok"]\n', "tool.poetry.extras.all[1]"),
    ('[tool.poetry.dependencies]\nx = {version = "*", extras = ["a;b"]}\n',
     "tool.poetry.dependencies.x.extras[0]"),
    ('[tool.uv.sources]\n"::error::x" = {path = "."}\n', 'tool.uv.sources."::error::x"'),
    ('[project]\ndependencies = ["::error ::x"]\n', "project.dependencies[0]"),
])
def test_names_that_are_not_pep508_names_are_bad_input_naming_the_key(
        tmp_path: Path, text: str, key: str) -> None:
    err = error(tmp_path, text)
    assert err.key == key
    assert "\n" not in str(err)


@pytest.mark.parametrize(("text", "key"), [
    (f'[project]\ndependencies = ["six=={LONG}"]\n', "project.dependencies[0]"),
    (f'[project]\ndependencies = ["six; python_version < \'{LONG}\'"]\n',
     "project.dependencies[0]"),
    (f'[tool.poetry.dependencies]\nsix = "^{LONG}"\n', "tool.poetry.dependencies.six"),
    (f'[tool.poetry.dependencies]\nsix = {{version = "*", python = ">={LONG}"}}\n',
     "tool.poetry.dependencies.six.python"),
    ('[project]\ndependencies = ["six; python_version ~= \'3\'"]\n', "project.dependencies[0]"),
    ('[tool.poetry.dependencies]\nsix = {version = "*", markers = "python_version ~= \'3\'"}\n',
     "tool.poetry.dependencies.six"),
    ('[project]\ndependencies = ["six; ' + "(" * 2000 + "os_name == 'x'" + ")" * 2000 + '"]\n',
     "project.dependencies[0]"),
])
def test_versions_and_markers_packaging_cannot_handle_are_bad_input(
        tmp_path: Path, text: str, key: str) -> None:
    err = error(tmp_path, text)
    assert err.key == key
    assert len(str(err)) < 400 and "\n" not in str(err)


@pytest.mark.parametrize("text", ["a = " + "[" * 5000 + "]" * 5000, "a = " + "{b = " * 3000
                                  + "1" + "}" * 3000])
def test_deeply_nested_toml_is_bad_input(tmp_path: Path, text: str) -> None:
    err = error(tmp_path, text + "\n")
    assert err.path is not None and "TOML" in err.message


def test_special_and_undecodable_pyproject_files_are_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(b'[project]\nname = "\xff"\n')
    for call in (lambda: pyproject.read(str(path), ctx()), lambda: pyproject.project_name(str(path)),
                 lambda: pyproject.read_tool_config(str(path))):
        with pytest.raises(DriftGuardError, match="not UTF-8"):
            call()
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(DriftGuardError, match="FIFO"):
        pyproject.read_tool_config(str(path))
    path.unlink()
    path.symlink_to("/proc/self/environ")
    with pytest.raises(DriftGuardError, match="special file") as info:
        pyproject.project_name(str(path))
    assert "=" not in info.value.message
    path.unlink()
    path.mkdir()
    with pytest.raises(DriftGuardError, match="directory"):
        pyproject.read(str(path), ctx())

"""compare() is pure: these tests feed it records and read its findings."""

from __future__ import annotations

import sys

import pytest

from drift_guard.compare import compare, is_pinned, name_direct_references, satisfies
from drift_guard.markers import target_environment
from drift_guard.models import Environment, Installed, Requirement, Source

ENV39 = Environment("/venv", None, "3.9.18", "--venv", ())
ENV311 = Environment("/venv", None, "3.11.7", "--venv", ())
MARKERS = target_environment(ENV311)


def dist(name: str, version: str, *requires: str, url: str | None = None) -> Installed:
    return Installed(name.lower(), name, version, tuple(requires), f"/sp/{name}.dist-info", url=url)


def installed(*dists: Installed) -> dict[str, Installed]:
    return {d.name: d for d in dists}


def req(name: str, spec: str = "", line: int | None = None, **kw: object) -> Requirement:
    return Requirement(name, spec, "requirements.txt", line, line, **kw)  # type: ignore[arg-type]


def source(*reqs: Requirement, frozen: bool | None = None, **kw: object) -> Source:
    if frozen is None:
        frozen = all(is_pinned(r) for r in reqs)
    return Source("requirements.txt", "requirements.txt", reqs, frozen, **kw)  # type: ignore[arg-type]


def kinds(findings: list) -> list[tuple[str, str]]:
    return [(f.kind, f.name) for f in findings]


def test_clean_frozen_environment_has_no_findings() -> None:
    inst = installed(dist("flask", "3.0.3", "werkzeug>=3"), dist("werkzeug", "3.0.1"))
    src = source(req("flask", "==3.0.3", 1), req("werkzeug", "==3.0.1", 2))
    assert compare(inst, [src], MARKERS) == []


def test_one_of_each_kind() -> None:
    inst = installed(dist("flask", "3.0.3"), dist("rich", "13.7.1"))
    src = source(req("flask", "==3.0.0", 2), req("requests", "==2.32.3", 7))
    findings = compare(inst, [src], MARKERS)
    assert kinds(findings) == [
        ("missing", "requests"),
        ("mismatch", "flask"),
        ("undeclared", "rich"),
    ]
    missing, mismatch, undeclared = findings
    assert (missing.declared, missing.installed, missing.line) == ("==2.32.3", None, 7)
    assert (mismatch.declared, mismatch.installed, mismatch.line) == ("==3.0.0", "3.0.3", 2)
    assert (undeclared.installed, undeclared.source, undeclared.line) == ("13.7.1", None, None)


def test_hand_installed_package_against_frozen_file_lists_each_dependency() -> None:
    inst = installed(
        dist("flask", "3.0.3"),
        dist("rich", "13.7.1", "markdown-it-py>=2.2", "pygments<3,>=2.13"),
        dist("markdown-it-py", "3.0.0", "mdurl~=0.1"),
        dist("mdurl", "0.1.2"),
        dist("pygments", "2.18.0"),
    )
    findings = compare(inst, [source(req("flask", "==3.0.3", 1))], MARKERS)
    assert kinds(findings) == [
        ("undeclared", "markdown-it-py"),
        ("undeclared", "mdurl"),
        ("undeclared", "pygments"),
        ("undeclared", "rich"),
    ]
    rich = findings[-1]
    assert rich.dependencies == ("markdown-it-py", "mdurl", "pygments")
    assert findings[1].required_by == ("markdown-it-py",)


def test_hand_installed_package_against_top_level_file_is_one_finding() -> None:
    inst = installed(
        dist("flask", "3.0.3", "werkzeug>=3"),
        dist("werkzeug", "3.0.1"),
        dist("rich", "13.7.1", "markdown-it-py>=2.2"),
        dist("markdown-it-py", "3.0.0", "mdurl~=0.1"),
        dist("mdurl", "0.1.2"),
    )
    findings = compare(inst, [source(req("flask", ">=3", 1))], MARKERS)
    assert kinds(findings) == [("undeclared", "rich")]
    assert findings[0].dependencies == ("markdown-it-py", "mdurl")


def test_dependency_shared_with_a_declared_package_is_not_listed_under_the_root() -> None:
    inst = installed(
        dist("flask", "3.0.3", "click>=8"),
        dist("click", "8.1.7"),
        dist("typer", "0.12.0", "click>=8", "shellingham"),
        dist("shellingham", "1.5.4"),
    )
    findings = compare(inst, [source(req("flask", ">=3", 1))], MARKERS)
    assert kinds(findings) == [("undeclared", "typer")]
    assert findings[0].dependencies == ("shellingham",)


def test_extras_of_a_declared_package_are_covered() -> None:
    inst = installed(
        dist("requests", "2.32.3", 'pysocks!=1.5.7,>=1.5.6; extra == "socks"'),
        dist("pysocks", "1.7.1"),
    )
    assert compare(inst, [source(req("requests", ">=2", extras=("socks",)))], MARKERS) == []
    assert kinds(compare(inst, [source(req("requests", ">=2"))], MARKERS)) == [
        ("undeclared", "pysocks")
    ]


def test_false_marker_is_not_missing() -> None:
    src = source(
        req("pywin32", "==306", 1, marker="sys_platform == 'win32'"),
        req("tomli", "==2.0.1", 2, marker="python_version < '3.11'"),
    )
    assert compare({}, [src], MARKERS) == []


def test_markers_are_judged_for_the_target_python_not_drift_guards() -> None:
    src = source(req("tomli", "==2.0.1", 2, marker="python_version < '3.11'"))
    on_39 = compare({}, [src], target_environment(ENV39))
    assert kinds(on_39) == [("missing", "tomli")]
    assert compare({}, [src], target_environment(ENV311)) == []


def test_dependency_markers_are_judged_for_the_target() -> None:
    inst = installed(
        dist("black", "24.1.0", "tomli>=1.1.0; python_version < '3.11'"), dist("tomli", "2.0.1")
    )
    top = source(req("black", ">=24"))
    assert compare(inst, [top], target_environment(ENV39)) == []
    assert kinds(compare(inst, [top], target_environment(ENV311))) == [("undeclared", "tomli")]


def test_installers_and_drift_guard_and_its_dependencies_are_never_undeclared() -> None:
    inst = installed(
        dist("pip", "24.0"),
        dist("setuptools", "69.0"),
        dist("wheel", "0.43"),
        dist("drift-guard", "0.1.0", "packaging>=24"),
        dist("packaging", "24.1"),
    )
    assert kinds(compare(inst, [source(req("flask", "==3.0.3"))], MARKERS)) == [
        ("missing", "flask")
    ]


def test_project_itself_is_neither_missing_nor_undeclared() -> None:
    inst = installed(dist("myapp", "0.1.0", "six"), dist("six", "1.16.0"))
    src = source(req("six", "==1.16.0"))
    assert compare(inst, [src], MARKERS, projects=["MyApp"]) == []
    assert compare(inst, [src._replace(project="myapp")], MARKERS) == []
    assert kinds(compare(inst, [src], MARKERS)) == [("undeclared", "myapp")]


def test_ignore_leaves_a_package_out_entirely() -> None:
    inst = installed(dist("boto3", "1.0"), dist("flask", "2.0"))
    src = source(req("flask", "==3.0"), req("requests", "==2.0"))
    found = compare(inst, [src], MARKERS, ignore=["Boto3", "flask", "requests"])
    assert found == []


def test_allow_covers_a_tool_and_what_it_needs() -> None:
    inst = installed(dist("zappa", "0.63.0", "boto3"), dist("boto3", "1.0"))
    src = source(req("flask", "==3.0"))
    assert kinds(compare(inst, [src], MARKERS, allow=["zappa"])) == [("missing", "flask")]
    assert kinds(compare(inst, [src], MARKERS)) == [
        ("missing", "flask"),
        ("undeclared", "boto3"),
        ("undeclared", "zappa"),
    ]


def test_several_sources_form_one_declared_set() -> None:
    inst = installed(
        dist("flask", "3.0.3"), dist("pytest", "8.0.0", "pluggy"), dist("pluggy", "1.5.0")
    )
    prod = source(req("flask", "==3.0.3"))
    dev = Source(
        "requirements-dev.txt",
        "requirements.txt",
        (Requirement("pytest", "", "requirements-dev.txt", 1),),
        frozen=False,
    )
    assert compare(inst, [prod, dev], MARKERS) == []


def test_constraints_constrain_and_declare_nothing() -> None:
    inst = installed(dist("flask", "3.0.3"), dist("six", "1.16.0"))
    src = source(
        req("flask", ">=3"),
        frozen=False,
        constraints=(
            Requirement("six", "<1.16", "constraints.txt", 3),
            Requirement("idna", "==3.0", "constraints.txt", 4),
        ),
    )
    findings = compare(inst, [src], MARKERS)
    assert kinds(findings) == [("mismatch", "six"), ("undeclared", "six")]
    assert findings[0].source == "constraints.txt"


def test_lock_packages_not_expected_are_neither_missing_nor_undeclared() -> None:
    inst = installed(dist("pytest", "8.0.0"))
    lock = Source(
        "poetry.lock",
        "poetry.lock",
        (
            Requirement("pytest", "==8.0.0", "poetry.lock", expected=False),
            Requirement("sphinx", "==7.0.0", "poetry.lock", expected=False),
        ),
        frozen=True,
    )
    assert compare(inst, [lock], MARKERS) == []


def test_require_pins_reports_each_unpinned_requirement() -> None:
    inst = installed(dist("flask", "3.0.3"), dist("six", "1.16.0"))
    src = source(req("flask", ">=3", 1), req("six", "==1.16.0", 2), req("idna", "==3.*", 3))
    findings = compare(inst, [src], MARKERS, require_pins=True)
    unpinned = [(f.name, f.installed) for f in findings if f.kind == "unpinned"]
    assert unpinned == [("flask", "3.0.3"), ("idna", None)]


def test_undeclared_dependency_cycle_still_gets_a_root() -> None:
    inst = installed(dist("a", "1", "b"), dist("b", "1", "a"))
    findings = compare(inst, [source(req("flask", ">=1"))], MARKERS)
    assert kinds(findings) == [("missing", "flask"), ("undeclared", "a")]
    assert findings[1].dependencies == ("b",)


@pytest.mark.parametrize(
    ("version", "spec", "expected"),
    [
        ("26.1.0", "==26.1", True),
        ("2.9.0.post0", "==2.9.0-post0", True),
        ("1.0+local", "==1.0", True),
        ("1.0", "==1.0+local", False),
        ("2.0rc1", ">=1.0", True),
        ("3.0.3", "==3.0.0", False),
        ("1.0.weird", "===1.0.weird", True),
        ("1.0.weird", "==1.0", False),
        ("2.0", "", True),
        ("1.5", ">=1,<2", True),
        ("1.5", "~=1.6", False),
    ],
)
def test_satisfies_follows_pep_440(version: str, spec: str, expected: bool) -> None:
    assert satisfies(version, spec) is expected


def test_plain_pin_check_needs_no_packaging_import() -> None:
    import subprocess

    code = (
        "import sys; from drift_guard.compare import satisfies; "
        "assert satisfies('2.32.3', '==2.32.3'); "
        "print(any(m.startswith('packaging') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unnamed_path_requirement_is_named_after_the_installed_dist_from_there() -> None:
    inst = installed(dist("localpkg", "0.1", url="file:///src/proj/localpkg"))
    src = source(
        Requirement("", "", "requirements.txt", 3, url="./localpkg", editable=True),
        Requirement("", "", "requirements.txt", 4, url="./elsewhere"),
    )
    named, notes = name_direct_references([src], inst, "/src/proj")
    assert [r.name for r in named[0].requirements] == ["localpkg"]
    assert len(notes) == 1
    assert notes[0].startswith("requirements.txt:4: ./elsewhere")


def test_extra_requested_on_a_later_visit_is_still_walked() -> None:
    # httpie needs requests[socks]; requests is reached first without extras (via the
    # toolbelt), and the socks extra must still bring pysocks in.
    inst = installed(
        dist("httpie", "3.2.4", "requests-toolbelt>=0.9", "requests[socks]>=2.22"),
        dist("requests-toolbelt", "1.0.0", "requests<3,>=2.0.1"),
        dist("requests", "2.32.3", 'PySocks!=1.5.7,>=1.5.6; extra == "socks"'),
        dist("pysocks", "1.7.1"),
    )
    findings = compare(inst, [source(req("requests", ">=2"))], MARKERS)
    assert kinds(findings) == [("undeclared", "httpie")]
    assert findings[0].dependencies == ("pysocks", "requests-toolbelt")

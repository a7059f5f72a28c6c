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


# --- broken: the environment does not satisfy itself ---------------------------------------


def test_unmet_version_of_a_dependency_is_broken_naming_the_dependency() -> None:
    inst = installed(
        dist("Flask", "3.1.3", "blinker>=1.9.0", "Werkzeug>=3.1"),
        dist("blinker", "1.8.2"),
        dist("werkzeug", "3.1.3"),
    )
    src = source(
        req("flask", "==3.1.3", 1), req("blinker", "==1.8.2", 2), req("werkzeug", "==3.1.3", 3)
    )
    (finding,) = compare(inst, [src], MARKERS)
    assert (finding.kind, finding.name, finding.installed, finding.declared) == (
        "broken", "blinker", "1.8.2", ">=1.9.0"
    )
    assert finding.required_by == ("flask",)
    assert finding.reason == "Flask 3.1.3 requires blinker>=1.9.0; installed 1.8.2"
    # Nothing declared satisfies flask: the hint installs what does.
    assert finding.suggested == "blinker>=1.9.0"


def test_uninstalled_dependency_is_broken_and_missing() -> None:
    inst = installed(dist("flask", "3.1.3", "blinker>=1.9.0"))
    src = source(req("flask", "==3.1.3", 1), req("blinker", "==1.9.0", 2))
    findings = compare(inst, [src], MARKERS)
    assert kinds(findings) == [("broken", "blinker"), ("missing", "blinker")]
    broken = findings[0]
    assert broken.installed is None
    assert broken.reason == "flask 3.1.3 requires blinker>=1.9.0, which is not installed"
    # The declared pin satisfies flask: installing it mends both findings at once.
    assert broken.suggested == "blinker==1.9.0"
    assert (broken.source, broken.line) == ("requirements.txt", 2)


def test_broken_is_judged_with_the_targets_markers_and_requested_extras() -> None:
    inst = installed(
        dist("black", "24.1.0", "tomli>=1.1.0; python_version < '3.11'"),
        dist("requests", "2.32.3", 'PySocks!=1.5.7,>=1.5.6; extra == "socks"'),
    )
    plain = source(req("black", ">=24"), req("requests", ">=2"))
    assert compare(inst, [plain], target_environment(ENV311)) == []
    assert kinds(compare(inst, [plain], target_environment(ENV39))) == [("broken", "tomli")]
    socks = source(req("black", ">=24"), req("requests", ">=2", extras=("socks",)))
    (finding,) = compare(inst, [socks], MARKERS)
    assert (finding.kind, finding.name) == ("broken", "pysocks")
    assert finding.declared == "!=1.5.7,>=1.5.6"


def test_ignored_packages_are_not_judged_broken() -> None:
    inst = installed(dist("boto3", "1.0", "botocore>=1"))
    assert compare(inst, [source(req("boto3", ">=1"))], MARKERS, ignore=["boto3"]) == []
    assert kinds(compare(inst, [source(req("boto3", ">=1"))], MARKERS)) == [("broken", "botocore")]


def test_broken_requirement_of_an_undeclared_package_goes_with_its_uninstall() -> None:
    inst = installed(dist("flask", "3.0.3"), dist("httpie", "3.2.4", "requests>=2.22"))
    findings = compare(inst, [source(req("flask", "==3.0.3"))], MARKERS)
    assert kinds(findings) == [("broken", "requests"), ("undeclared", "httpie")]
    assert findings[0].suggested is None
    assert findings[1].uninstall == ("httpie",)


# --- declared for this target ---------------------------------------------------------------


def test_requirement_whose_marker_is_false_does_not_declare_the_installed_package() -> None:
    inst = installed(dist("tomli", "2.0.1"), dist("flask", "3.0.3"))
    tomli = req("tomli", "==2.0.1", 2, marker='python_version < "3.11"')
    src = source(req("flask", "==3.0.3", 1), tomli)
    (finding,) = compare(inst, [src], target_environment(ENV311))
    assert (finding.kind, finding.name) == ("undeclared", "tomli")
    assert finding.reason == (
        'requirements.txt:2 declares it only where python_version < "3.11"; the marker '
        "excludes it here"
    )
    assert compare(inst, [src], target_environment(ENV39)) == []


def test_marker_excluded_package_is_reported_itself_against_a_top_level_file() -> None:
    inst = installed(
        dist("flask", "3.0.3"), dist("tomli-w", "1.0.0", "tomli>=2"), dist("tomli", "2.0.1")
    )
    src = source(req("flask", ">=3", 1), req("tomli-w", ">=1", 2, marker='python_version < "3.11"'))
    (finding,) = compare(inst, [src], target_environment(ENV311))
    assert (finding.kind, finding.name) == ("undeclared", "tomli-w")
    assert finding.dependencies == ("tomli",)
    assert "the marker excludes it here" in (finding.reason or "")


# --- frozen or top-level: what is needed, what can go ---------------------------------------


def test_undeclared_package_a_declared_package_needs_is_never_offered_for_uninstall() -> None:
    # flask==... and requests==... written by hand: read as frozen, their dependencies are
    # undeclared -- and needed.
    inst = installed(
        dist("flask", "3.1.3", "blinker>=1.9", "werkzeug>=3.1"),
        dist("blinker", "1.9.0"),
        dist("werkzeug", "3.1.3", "markupsafe>=2.1.1"),
        dist("markupsafe", "3.0.2"),
    )
    findings = compare(inst, [source(req("flask", "==3.1.3", 1))], MARKERS)
    assert kinds(findings) == [
        ("undeclared", "blinker"), ("undeclared", "markupsafe"), ("undeclared", "werkzeug")
    ]
    assert [f.required_by for f in findings] == [("flask",), ("werkzeug",), ("flask",)]
    assert all(f.uninstall == () for f in findings)


def test_uninstall_takes_what_only_the_root_needed_and_leaves_what_others_need() -> None:
    inst = installed(
        dist("flask", "3.0.3", "click>=8"),
        dist("click", "8.1.7"),
        dist("typer", "0.12.0", "click>=8", "shellingham", "rich"),
        dist("shellingham", "1.5.4"),
        dist("rich", "13.7.1", "pygments"),
        dist("pygments", "2.18.0"),
        dist("ipython", "8.0", "pygments"),
    )
    src = source(req("flask", "==3.0.3"), req("click", "==8.1.7"))
    findings = {f.name: f for f in compare(inst, [src], MARKERS)}
    assert findings["typer"].uninstall == ("typer", "rich", "shellingham")
    assert findings["ipython"].uninstall == ("ipython",)
    # pygments is needed by both roots: it goes once they are both uninstalled.
    shared = findings["pygments"]
    assert shared.required_by == ("ipython", "rich")
    assert shared.uninstall == ("pygments",)
    assert "needed only by ipython, rich" in (shared.reason or "")


def test_dependency_of_a_declared_package_at_another_version_goes_once_it_is_as_declared() -> None:
    inst = installed(dist("flask", "3.2.0", "blinker>=1.9", "newdep"), dist("blinker", "1.9.0"),
                     dist("newdep", "1.0"))
    src = source(req("flask", "==3.1.3"), req("blinker", "==1.9.0"))
    findings = {f.name: f for f in compare(inst, [src], MARKERS)}
    assert findings["newdep"].uninstall == ("newdep",)
    assert findings["newdep"].required_by == ("flask",)


def test_allow_and_ignore_never_cover_what_a_declared_package_needs() -> None:
    inst = installed(
        dist("zappa", "0.63.0", "boto3", "urllib3<2"),
        dist("boto3", "1.0"),
        dist("requests", "2.32.3", "urllib3<3,>=1.21.1"),
        dist("urllib3", "1.26.20"),
    )
    src = source(req("requests", "==2.32.3"))
    for options in ({"allow": ["zappa"]}, {"ignore": ["zappa"]}):
        findings = compare(inst, [src], MARKERS, **options)  # type: ignore[arg-type]
        assert kinds(findings) == [("undeclared", "urllib3")], options
        assert findings[0].required_by == ("requests", "zappa")
    # A top-level file covers it through requests, with or without the tool.
    top = source(req("requests", ">=2"))
    assert compare(inst, [top], MARKERS, allow=["zappa"]) == []


def test_top_level_source_reports_only_roots_with_what_only_they_need() -> None:
    inst = installed(
        dist("flask", "3.0.3"),
        dist("a", "1", "shared", "a-only"), dist("a-only", "1"),
        dist("b", "1", "shared"), dist("shared", "1"),
    )
    findings = compare(inst, [source(req("flask", ">=3"))], MARKERS)
    assert kinds(findings) == [("undeclared", "a"), ("undeclared", "b"), ("undeclared", "shared")]
    assert findings[0].uninstall == ("a", "a-only")
    assert findings[1].uninstall == ("b",)
    assert findings[2].uninstall == ("shared",) and findings[2].required_by == ("a", "b")


# --- did you mean ---------------------------------------------------------------------------


def test_near_miss_between_missing_and_undeclared_is_said_on_both() -> None:
    inst = installed(dist("requests", "2.34.2"))
    src = source(req("reqeusts", "==2.34.2", 3))
    missing, undeclared = compare(inst, [src], MARKERS)
    assert missing.reason == "did you mean requests? requests 2.34.2 is installed and not declared"
    assert undeclared.reason == (
        "did you mean reqeusts? requirements.txt:3 declares reqeusts, not installed"
    )


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("reqeusts", "requests", True),
        ("djangorestframework", "djangorestframwork", True),
        ("flask", "flask-cors", False),
        ("six", "sit", False),
        ("numpy", "scipy", False),
        ("pyyaml", "pyaml", True),
    ],
)
def test_near_miss(a: str, b: str, expected: bool) -> None:
    from drift_guard.compare import near_miss

    assert near_miss(a, b) is expected


# --- the fast path agrees with packaging ---------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_releases = st.lists(st.integers(0, 12), min_size=1, max_size=4).map(
    lambda parts: ".".join(map(str, parts))
)
_installed_versions = st.one_of(
    _releases, st.tuples(_releases, st.integers(0, 3)).map(lambda v: f"{v[0]}.post{v[1]}")
)
_suffixes = st.sampled_from(["", "", "", "a0", "b1", "rc2", ".dev0", "a.0", "RC1", "1a1.dev3"])
_clauses = st.tuples(
    st.sampled_from(["==", "!=", ">=", "<=", ">", "<", "~="]), _releases, st.booleans(), _suffixes
).map(
    lambda c: f"{c[0]}{c[1]}.*" if c[2] and c[0] in ("==", "!=") else
    (f"{c[0]}{c[1]}.0" if c[0] == "~=" and "." not in c[1] else f"{c[0]}{c[1]}{c[3]}")
)


@settings(max_examples=600, deadline=None)
@given(_installed_versions, st.lists(_clauses, min_size=1, max_size=3))
def test_fast_specifier_check_agrees_with_packaging(version: str, clauses: list[str]) -> None:
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    from drift_guard import requires

    spec = ",".join(clauses)
    try:
        SpecifierSet(spec)
    except ValueError:
        return
    expected = SpecifierSet(spec).contains(Version(version), prereleases=True)
    assert requires.satisfies(version, spec) is expected


_marker_clauses = st.one_of(
    st.tuples(st.sampled_from(["python_version", "python_full_version"]),
              st.sampled_from(["==", "!=", ">=", "<=", ">", "<"]),
              st.sampled_from(["3", "3.8", "3.9", "3.10", "3.11", "3.11.7", "3.12", "4.0"])),
    st.tuples(st.sampled_from(["sys_platform", "os_name", "platform_system",
                               "implementation_name", "platform_python_implementation"]),
              st.sampled_from(["==", "!="]),
              st.sampled_from(["linux", "win32", "darwin", "posix", "nt", "Linux", "Windows",
                               "cpython", "CPython", "PyPy"])),
    st.tuples(st.just("extra"), st.just("=="), st.sampled_from(["socks", "Dev_Tools", "test"])),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_marker_clauses, min_size=1, max_size=3), st.booleans(),
       st.sets(st.sampled_from(["socks", "dev-tools", "other"])))
def test_fast_marker_check_agrees_with_packaging(clauses: list, parens: bool, extras: set) -> None:
    from packaging.markers import Marker

    from drift_guard import requires

    parts = [f'{v} {op} "{value}"' for v, op, value in clauses]
    if parens:
        parts = [f"({p})" for p in parts]
    text = " and ".join(parts)
    if len(parts) > 2:
        text = f"({parts[0]} or {parts[1]}) and {parts[2]}" if parens else \
            f"{parts[0]} or {parts[1]} and {parts[2]}"
    try:
        marker = Marker(text)
    except Exception:
        return
    expected = any(marker.evaluate({**MARKERS, "extra": e}) for e in ("", *extras))
    assert requires.marker_holds(text, MARKERS, frozenset(extras)) is expected


@pytest.mark.parametrize(
    "line",
    [
        "blinker>=1.9.0",
        "Werkzeug (>=3.1)",
        "idna<4,>=2.5",
        'PySocks!=1.5.7,>=1.5.6; extra == "socks"',
        "requests[socks,security] >=2.0 ; python_version >= '3.8'",
        "zope.interface",
        "pkg @ https://example.com/pkg-1.0.tar.gz",
        "name>=1.0rc1",
        "botocore (<2.0a.0,>=1.37.4)",
        "black>=20.8b0 ; extra == 'cli'",
        "gmpy2 (>=2.1.0a4) ; (platform_python_implementation != \"PyPy\") and extra == 'gmpy'",
        "not a requirement !!",
    ],
)
def test_requires_dist_parse_agrees_with_packaging(line: str) -> None:
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as PReq

    from drift_guard import requires

    dep = requires.parse(line)
    try:
        expected = PReq(line)
    except InvalidRequirement:
        assert dep is None
        return
    assert dep is not None
    assert dep.name == expected.name.lower().replace("_", "-").replace(".", "-")
    assert dep.extras == frozenset(expected.extras)
    assert dep.specifier == str(expected.specifier)


def test_clean_environment_with_ranges_and_markers_needs_no_packaging_import() -> None:
    import subprocess

    code = (
        "import sys\n"
        "from drift_guard.compare import compare\n"
        "from drift_guard.markers import target_environment\n"
        "from drift_guard.models import Environment, Installed, Requirement, Source\n"
        "env = Environment('/v', None, '3.11.7', '--venv', ())\n"
        "inst = {\n"
        " 'flask': Installed('flask', 'Flask', '3.1.3', ('blinker>=1.9', 'Werkzeug (>=3.1)',\n"
        "   'importlib-metadata>=3.6; python_version < \"3.10\"',\n"
        "   'asgiref>=3.2; extra == \"async\"'),\n"
        "   '/x'),\n"
        " 'blinker': Installed('blinker', 'blinker', '1.9.0', (), '/x'),\n"
        " 'werkzeug': Installed('werkzeug', 'Werkzeug', '3.1.3', ('MarkupSafe>=2.1.1',), '/x'),\n"
        " 'markupsafe': Installed('markupsafe', 'MarkupSafe', '3.0.2', (), '/x'),\n"
        "}\n"
        "pins = tuple(Requirement(n, '==' + d.version) for n, d in inst.items())\n"
        "src = Source('r.txt', 'requirements.txt', pins, True)\n"
        "assert compare(inst, [src], target_environment(env)) == []\n"
        "print(any(m.startswith('packaging') for m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

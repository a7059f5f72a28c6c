"""list_installed() must print the set `pip list --format=freeze` prints.

Most tests lay out real `.dist-info` / `.egg-info` folders in tmp_path; the e2e tests build
real virtualenvs, install into them with the real pip (offline, wheels from write_wheel,
setuptools' own develop/install for the legacy layouts) and compare with pip's own answer.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Optional, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drift_guard._names import canonical
from drift_guard.environment import environment_at, find_environment
from drift_guard.installed import _parse_headers, list_installed
from drift_guard.models import Environment, Installed
from tests.helpers import ROOT, Venv, make_venv, pip, pip_list_freeze, write_wheel

PY39 = os.path.expanduser("~/.pyenv/versions/3.9.18/bin/python3.9")
DEBIAN_PYTHON = "/usr/bin/python3"


def env_of(*paths: Path, version: str = "3.11.7") -> Environment:
    return Environment(str(paths[0].parent), None, version, "--venv", tuple(str(p) for p in paths))


def dist_info(site: Path, dirname: str, metadata: Optional[str], **files: str) -> Path:
    path = site / dirname
    path.mkdir(parents=True)
    if metadata is not None:
        (path / "METADATA").write_text(metadata)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def simple(site: Path, name: str, version: str, dirname: Optional[str] = None) -> Path:
    return dist_info(
        site, dirname or f"{name.replace('-', '_')}-{version}.dist-info",
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    )


def freeze(installed: Dict[str, Installed]) -> Dict[str, str]:
    return {name: d.version for name, d in installed.items()}


def pip_says(venv: Venv) -> Dict[str, str]:
    """pip's answer with names normalised; `name===v` (a non-PEP 440 version) kept as v."""
    return {canonical(raw): v.lstrip("=") for raw, v in pip_list_freeze(venv).items()}


def assert_same_as_pip(venv: Venv, env: Optional[Environment] = None) -> Dict[str, Installed]:
    env = env or environment_at(str(venv.path), "--venv")
    ours = list_installed(env)
    assert freeze(ours) == pip_says(venv)
    # The printed spelling too (pip prints the metadata's Name).
    assert {d.raw_name for d in ours.values()} == set(pip_list_freeze(venv))
    return ours


# --- metadata headers --------------------------------------------------------------------


def test_reads_name_version_and_requires_from_the_headers_only(tmp_path: Path) -> None:
    dist_info(
        tmp_path, "Foo_Bar-1.2.dist-info",
        "Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.2\nRequires-Dist: six>=1\n"
        'Requires-Dist: rich ; extra == "cli"\nDescription-Content-Type: text/markdown\n\n'
        "# Foo\nRequires-Dist: not-a-header\nName: also-body\n",
    )
    (d,) = list_installed(env_of(tmp_path)).values()
    assert (d.name, d.raw_name, d.version) == ("foo-bar", "Foo_Bar", "1.2")
    assert d.requires == ("six>=1", 'rich ; extra == "cli"')
    assert d.path == str(tmp_path / "Foo_Bar-1.2.dist-info")
    assert (d.editable, d.url) == (False, None)


def test_header_quirks_of_email_are_followed(tmp_path: Path) -> None:
    # CRLF line ends, a folded header, lower-case field names, a line that ends the headers.
    dist_info(tmp_path, "crlf-1.0.dist-info", None)
    (tmp_path / "crlf-1.0.dist-info" / "METADATA").write_bytes(
        b"Name: CrLf\r\nVersion: 1.0\r\nRequires-Dist: a\r\n\r\nRequires-Dist: body"
    )
    dist_info(tmp_path, "folded-1.0.dist-info",
              "name: folded\nversion: 1.0\nrequires-dist: b;\n  python_version > '3'\n")
    dist_info(tmp_path, "broken-1.0.dist-info",
              "Name: broken\nVersion: 1.0\nthis line is no header\nRequires-Dist: c\n")
    found = list_installed(env_of(tmp_path))
    assert found["crlf"].requires == ("a",)
    assert found["folded"].requires == ("b; python_version > '3'",)
    assert found["broken"].requires == ()


_FIELDS = st.sampled_from([
    "Name", "Version", "Requires-Dist", "Summary", "Classifier", "name", "VERSION", "requires-dist",
    "Not a field",  # a line email does not take as a header: the headers end there
])
_VALUES = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20)


@settings(max_examples=300, deadline=None)
@given(
    headers=st.lists(
        st.tuples(_FIELDS, _VALUES, st.lists(_VALUES.map(lambda v: "  " + v), max_size=2)),
        max_size=8,
    ),
    newline=st.sampled_from(["\n", "\r\n"]),
    body=_VALUES,
)
def test_headers_read_as_email_reads_them(headers: list, newline: str, body: str) -> None:  # type: ignore[type-arg]
    """What importlib.metadata (and so pip) gets from the email parser, whitespace of folded
    lines aside."""
    import email

    lines = []
    for field, value, folded in headers:
        lines.append(f"{field}: {value}")
        lines.extend(folded)
    text = newline.join([*lines, "", f"Requires-Dist: {body}"])
    message = email.message_from_string(text)
    ours = _parse_headers(text.encode())

    def same(value: Optional[str]) -> Optional[str]:
        return None if value is None else " ".join(value.split())

    assert same(ours.name) == same(message.get("Name"))
    assert same(ours.version) == same(message.get("Version"))
    expected = message.get_all("Requires-Dist", [])
    assert [same(r) for r in ours.requires] == [same(r) for r in expected]


def test_long_headers_are_read_past_the_first_chunk(tmp_path: Path) -> None:
    classifiers = "".join(f"Classifier: Topic :: Thing {i} :: {'x' * 60}\n" for i in range(300))
    dist_info(tmp_path, "big-1.0.dist-info",
              f"Name: big\nVersion: 1.0\n{classifiers}Requires-Dist: last\n\nbody")
    assert list_installed(env_of(tmp_path))["big"].requires == ("last",)


# --- names and versions as pip prints them -------------------------------------------------


def test_printed_name_is_the_metadata_spelling_keyed_by_pep503(tmp_path: Path) -> None:
    simple(tmp_path, "zope.interface", "5.4.0", "zope.interface-5.4.0.dist-info")
    simple(tmp_path, "PyYAML", "6.0.1")
    simple(tmp_path, "typing_extensions", "4.12.2")
    found = list_installed(env_of(tmp_path))
    assert {k: d.raw_name for k, d in found.items()} == {
        "pyyaml": "PyYAML",
        "typing-extensions": "typing_extensions",
        "zope-interface": "zope.interface",
    }


def test_version_is_printed_in_pep440_normal_form(tmp_path: Path) -> None:
    dist_info(tmp_path, "qux-01.0.dist-info", "Name: qux\nVersion: 01.0\n")
    dist_info(tmp_path, "Up.Case-1.0.0-beta.dist-info", "Name: Up.Case\nVersion: 1.0.0-beta\n")
    dist_info(tmp_path, "local-1.0+Ubuntu.01.dist-info", "Name: local\nVersion: 1.0+Ubuntu.01\n")
    found = freeze(list_installed(env_of(tmp_path)))
    assert found == {"qux": "1.0", "up-case": "1.0.0b0", "local": "1.0+ubuntu.1"}


def test_version_comes_from_the_dist_info_name_before_the_metadata(tmp_path: Path) -> None:
    # pip >= 24 reads the version from the directory name (it is cheaper); so do we.
    dist_info(tmp_path, "pkg-1.0.0.dist-info", "Name: pkg\nVersion: 9.9\n")
    dist_info(tmp_path, "egg-2.0-py3.11.egg-info", None)
    (tmp_path / "egg-2.0-py3.11.egg-info" / "PKG-INFO").write_text("Name: egg\nVersion: 2.0.post1")
    assert freeze(list_installed(env_of(tmp_path))) == {"pkg": "1.0.0", "egg": "2.0.post1"}


def test_a_version_that_is_not_pep440_is_printed_as_the_metadata_says(tmp_path: Path) -> None:
    dist_info(tmp_path, "weird-abc.dist-info", "Name: weird\nVersion: abc\n")  # pip: weird===abc
    assert freeze(list_installed(env_of(tmp_path))) == {"weird": "abc"}


def test_what_pip_skips_is_skipped(tmp_path: Path) -> None:
    simple(tmp_path, "oo", "1.0", "~oo-1.0.dist-info")  # leftover of an interrupted install
    simple(tmp_path, "wsgiref", "0.1")  # pip's stdlib_pkgs
    simple(tmp_path, "argparse", "1.4.0")
    dist_info(tmp_path, "noname.dist-info", "Version: 1.0\n")  # no name anywhere
    dist_info(tmp_path, "nover.dist-info", "Name: nover\n")  # no version anywhere
    simple(tmp_path, "kept", "1.0")
    assert freeze(list_installed(env_of(tmp_path))) == {"kept": "1.0"}


def test_dist_info_without_metadata_is_named_after_its_directory(tmp_path: Path) -> None:
    dist_info(tmp_path, "baz-1.0.dist-info", None, RECORD="")
    dist_info(tmp_path, "named.dist-info", "Name: named\nVersion: 3.0\n")
    found = list_installed(env_of(tmp_path))
    assert freeze(found) == {"baz": "1.0", "named": "3.0"}
    assert found["baz"].raw_name == "baz"


# --- duplicates ---------------------------------------------------------------------------


def test_first_directory_on_the_path_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "site", tmp_path / "extra"
    simple(first, "dup", "1.0")
    simple(second, "dup", "2.0")
    simple(second, "only-extra", "1.0")
    assert freeze(list_installed(env_of(first, second))) == {"dup": "1.0", "only-extra": "1.0"}
    assert freeze(list_installed(env_of(second, first))) == {"dup": "2.0", "only-extra": "1.0"}


def test_two_copies_in_one_directory_resolve_in_directory_order(tmp_path: Path) -> None:
    simple(tmp_path, "dup", "1.0")
    simple(tmp_path, "dup", "2.0")
    first = next(n for n in os.listdir(tmp_path) if n.startswith("dup"))
    assert freeze(list_installed(env_of(tmp_path)))["dup"] == first.split("-")[1].rsplit(".", 1)[0]


def test_before_python_311_pip_walks_a_directory_in_sorted_order(tmp_path: Path) -> None:
    # pip's pkg_resources backend (its default below 3.11) sorts; "dup-1.0" < "dup-2.0".
    simple(tmp_path, "dup", "2.0")
    simple(tmp_path, "dup", "1.0")
    dist_info(tmp_path, "nodash.dist-info", "Version: 1.0\n")  # named after its directory
    found = freeze(list_installed(env_of(tmp_path, version="3.9.18")))
    assert found == {"dup": "1.0", "nodash": "1.0"}
    simple(tmp_path, "pip", "23.1")
    assert freeze(list_installed(env_of(tmp_path, version="3.9.18")))["dup"] == "1.0"


def test_pip_before_23_1_took_the_highest_version_in_a_directory(tmp_path: Path) -> None:
    simple(tmp_path, "dup", "1.0")
    simple(tmp_path, "dup", "10.0")
    simple(tmp_path, "dup", "9.0")
    simple(tmp_path, "pip", "23.0.1")
    assert freeze(list_installed(env_of(tmp_path, version="3.9.18")))["dup"] == "10.0"


# --- egg-info and editable installs ------------------------------------------------------


def test_egg_info_directory_and_requires_txt(tmp_path: Path) -> None:
    info = tmp_path / "Old_Pkg-1.0-py3.11.egg-info"
    info.mkdir()
    (info / "PKG-INFO").write_text(
        "Metadata-Version: 1.1\nName: Old-Pkg\nVersion: 1.0\nDescription: long\n        | more\n\n"
    )
    (info / "requires.txt").write_text(
        "six\n\n# comment\n[test]\npytest\n[:python_version < '3.12']\ntomli\n"
        "[Fancy_Extra:sys_platform == 'linux']\nrich\n"
    )
    (d,) = list_installed(env_of(tmp_path)).values()
    assert (d.name, d.raw_name, d.version, d.path) == ("old-pkg", "Old-Pkg", "1.0", str(info))
    assert d.requires == (
        "six",
        'pytest ; extra == "test"',
        "tomli ; python_version < '3.12'",
        "rich ; (sys_platform == 'linux') and extra == \"fancy-extra\"",
    )


def test_egg_info_file_from_distutils(tmp_path: Path) -> None:
    (tmp_path / "distpkg-2.0-py3.11.egg-info").write_text(
        "Metadata-Version: 1.0\nName: distpkg\nVersion: 2.0\n"
    )
    (d,) = list_installed(env_of(tmp_path)).values()
    assert (d.raw_name, d.version, d.requires) == ("distpkg", "2.0", ())


def test_pep610_editable_and_url(tmp_path: Path) -> None:
    edit = simple(tmp_path, "edit", "0.2")
    (edit / "direct_url.json").write_text(
        json.dumps({"url": "file:///src/edit", "dir_info": {"editable": True}})
    )
    wheel = simple(tmp_path, "fromwheel", "1.0")
    (wheel / "direct_url.json").write_text(
        json.dumps({"url": "file:///w/fromwheel-1.0-py3-none-any.whl", "archive_info": {}})
    )
    bad = simple(tmp_path, "bad", "1.0")  # invalid: two kinds of info -> pip ignores the file
    both = {"url": "x", "dir_info": {}, "archive_info": {}}
    (bad / "direct_url.json").write_text(json.dumps(both))
    found = list_installed(env_of(tmp_path))
    assert (found["edit"].editable, found["edit"].url) == (True, "file:///src/edit")
    assert (found["fromwheel"].editable, found["fromwheel"].url) == (
        False, "file:///w/fromwheel-1.0-py3-none-any.whl",
    )
    assert (found["bad"].editable, found["bad"].url) == (False, None)


def test_legacy_develop_install_via_egg_link(tmp_path: Path) -> None:
    site, src = tmp_path / "site", tmp_path / "src" / "devpkg"
    site.mkdir()
    (src / "Dev_Pkg.egg-info").mkdir(parents=True)
    (src / "Dev_Pkg.egg-info" / "PKG-INFO").write_text("Name: Dev-Pkg\nVersion: 0.1.dev0\n")
    (site / "Dev-Pkg.egg-link").write_text(f"{src}\n.")
    # Found through the egg-link alone, even without easy-install.pth putting src on the path.
    (d,) = list_installed(env_of(site)).values()
    assert (d.raw_name, d.version, d.editable) == ("Dev-Pkg", "0.1.dev0", True)
    assert d.path == str(src / "Dev_Pkg.egg-info")
    assert d.url == src.as_uri()
    # Through easy-install.pth (src on the path) it is the same distribution, still editable.
    assert list_installed(env_of(site, src)) == {"dev-pkg": d}


def test_egg_directory_on_the_path(tmp_path: Path) -> None:
    egg = tmp_path / "Eggy-1.0-py3.11.egg"
    (egg / "EGG-INFO").mkdir(parents=True)
    (egg / "EGG-INFO" / "PKG-INFO").write_text("Name: Eggy\nVersion: 1.0\n")
    assert freeze(list_installed(env_of(egg))) == {"eggy": "1.0"}


# --- speed -------------------------------------------------------------------------------


def _many(site: Path, count: int) -> None:
    classifiers = "".join(f"Classifier: Programming Language :: Python :: 3.{i}\n"
                          for i in range(30))
    for i in range(count):
        dist_info(site, f"pkg_{i}-1.{i}.0.dist-info",
                  f"Metadata-Version: 2.1\nName: pkg-{i}\nVersion: 1.{i}.0\n{classifiers}"
                  f"Requires-Dist: pkg-{i + 1}>=1\n\n" + "Long description.\n" * 200,
                  RECORD="", INSTALLER="pip\n")


def test_two_hundred_distributions_with_long_metadata_are_all_listed(tmp_path: Path) -> None:
    # How fast is measured by benchmarks/bench.py, never by a timed test.
    _many(tmp_path, 200)
    listed = list_installed(env_of(tmp_path))
    assert {d.name: d.version for d in listed.values()} == {
        f"pkg-{i}": f"1.{i}.0" for i in range(200)
    }




def test_listing_imports_nothing_heavy(tmp_path: Path) -> None:
    _many(tmp_path, 5)
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from drift_guard.installed import _parse_headers, list_installed
        from drift_guard.models import Environment
        found = list_installed(Environment("/x", None, "3.11.7", "t", ({str(tmp_path)!r},)))
        assert len(found) == 5, found
        heavy = ("packaging", "email", "importlib.metadata", "json", "subprocess", "pathlib")
        print(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m in heavy))
    """)
    out = subprocess.run([sys.executable, "-S", "-c", code],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- end to end: real venvs, the real pip ------------------------------------------------


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("wheels")
    write_wheel(d, "alpha", "1.0", requires=["beta>=2"])
    write_wheel(d, "beta", "2.0")
    write_wheel(d, "gamma", "1.0", extras={"fast": ["beta>=1"]})
    write_wheel(d, "zope.interface", "5.4.0")
    write_wheel(d, "PyYAML", "6.0.1")
    write_wheel(d, "typing_extensions", "4.12.2")
    write_wheel(d, "dup", "1.0")
    write_wheel(d, "dup", "2.0")
    write_wheel(d, "only-extra", "1.0")
    return d


# An in-tree PEP 517/660 build backend with no build requirements: `pip install -e` of the
# project below is a real PEP 660 editable install that works offline.
_BACKEND = '''
import os, sys
sys.path.insert(0, {root!r})
from tests.helpers import write_wheel
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))

def get_requires_for_build_wheel(config_settings=None):
    return []

get_requires_for_build_editable = get_requires_for_build_wheel

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return write_wheel(Path(wheel_directory), "Edit_Me", "0.1", requires=["beta>=1"]).name

def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    pth = {{"__editable__.edit_me-0.1.pth": os.path.join(HERE, "src") + "\\n"}}
    return write_wheel(Path(wheel_directory), "Edit_Me", "0.1", requires=["beta>=1"],
                       modules=[], files=pth).name
'''


def _pep660_project(path: Path) -> Path:
    (path / "src" / "edit_me").mkdir(parents=True)
    (path / "src" / "edit_me" / "__init__.py").write_text("")
    (path / "backend.py").write_text(_BACKEND.format(root=str(ROOT)))
    (path / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    return path


@pytest.fixture(scope="session")
def main_venv(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Venv:
    root = tmp_path_factory.mktemp("main")
    venv = make_venv(root / "venv", with_pip=False)
    pip(venv, "install", "alpha", "gamma[fast]", "zope.interface", "PyYAML", "typing_extensions",
        "dup==1.0", find_links=wheelhouse)
    pip(venv, "install", "-e", str(_pep660_project(root / "proj")))
    # A leftover second copy of `dup` in the same directory: which one wins depends on the
    # directory order, for pip and for us alike -- and, for a venv without pip of its own on
    # Python < 3.11, on the version of the outside pip that lists it (before 23.1 the highest
    # version won), which drift-guard cannot know. Such a run leaves the copy out.
    # Not `import pip`: that sets off setuptools' distutils shim, which later breaks Zappa's
    # import in this same test process.
    from importlib.metadata import version

    outside_pip = tuple(int(p) for p in version("pip").split(".")[:2])
    if sys.version_info >= (3, 11) or outside_pip >= (23, 1):
        site = venv.site_packages()
        (site / "dup-2.0.dist-info").mkdir()
        (site / "dup-2.0.dist-info" / "METADATA").write_text("Name: dup\nVersion: 2.0\n")
    return venv


@pytest.mark.e2e
def test_e2e_plain_extras_odd_names_and_pep660_editable(main_venv: Venv) -> None:
    ours = assert_same_as_pip(main_venv)
    expected = {"alpha", "beta", "gamma", "zope-interface", "pyyaml", "typing-extensions"}
    assert expected | {"edit-me"} <= set(ours)
    assert ours["alpha"].requires == ("beta>=2",)
    assert ours["edit-me"].editable is True
    assert (ours["edit-me"].url or "").startswith("file://")
    assert not ours["alpha"].editable


def _bundled_setuptools() -> Optional[Path]:
    import ensurepip

    bundled = Path(ensurepip.__file__).parent / "_bundled"
    return bundled if any(bundled.glob("setuptools-*.whl")) else None


_SETUP_PY = '''
from setuptools import setup
setup(name={name!r}, version="0.3", packages=[{module!r}], install_requires=["beta>=1"],
      extras_require={{"Fancy": ["gamma"], ":python_version < '4'": ["alpha"]}})
'''


def _setup_py_project(path: Path, name: str) -> Path:
    module = re.sub(r"[^a-z0-9]+", "_", name.lower())
    (path / module).mkdir(parents=True)
    (path / module / "__init__.py").write_text("")
    (path / "setup.py").write_text(_SETUP_PY.format(name=name, module=module))
    return path


@pytest.fixture(scope="session")
def setuptools_venv(tmp_path_factory: pytest.TempPathFactory) -> Tuple[Venv, Path]:
    """Legacy layouts made by setuptools itself: `setup.py develop` (egg-link +
    easy-install.pth + egg-info in the source tree) and `setup.py install
    --single-version-externally-managed` (an .egg-info directory in site-packages)."""
    bundled = _bundled_setuptools()
    if bundled is None:
        pytest.skip("no setuptools wheel bundled with this Python's ensurepip (offline)")
    root = tmp_path_factory.mktemp("legacy")
    venv = make_venv(root / "venv", with_pip=False)
    pip(venv, "install", "setuptools", find_links=bundled)
    develop = _setup_py_project(root / "devsrc", "Legacy_Dev")
    subprocess.run([str(venv.python), "setup.py", "-q", "develop", "--no-deps"], cwd=develop,
                   check=True, capture_output=True)
    egg = _setup_py_project(root / "eggsrc", "Egg.Info-Pkg")
    subprocess.run([str(venv.python), "setup.py", "-q", "install",
                    "--single-version-externally-managed", "--record", str(root / "record.txt")],
                   cwd=egg, check=True, capture_output=True)
    return venv, develop


@pytest.mark.e2e
def test_e2e_legacy_develop_and_egg_info_install(setuptools_venv: Tuple[Venv, Path]) -> None:
    venv, develop = setuptools_venv
    ours = assert_same_as_pip(venv)
    dev, egg = ours["legacy-dev"], ours["egg-info-pkg"]
    assert (dev.editable, dev.url) == (True, develop.as_uri())
    assert dev.path == str(develop / "Legacy_Dev.egg-info")
    assert not egg.editable
    assert egg.path.startswith(str(venv.site_packages() / "Egg.Info_Pkg-0.3-py"))
    assert egg.path.endswith(".egg-info")
    assert egg.requires == ("beta>=1", "alpha ; python_version < '4'", 'gamma ; extra == "fancy"')


@pytest.mark.e2e
def test_e2e_duplicate_in_a_later_path_directory_is_shadowed(
    tmp_path: Path, wheelhouse: Path
) -> None:
    venv = make_venv(tmp_path / "venv", with_pip=False)
    pip(venv, "install", "dup==1.0", find_links=wheelhouse)
    extra = tmp_path / "extra"
    pip(venv, "install", "--target", str(extra), "--no-deps", "dup==2.0", "only-extra",
        find_links=wheelhouse)
    (venv.site_packages() / "extra.pth").write_text(f"{extra}\n")
    ours = assert_same_as_pip(venv)
    assert freeze(ours) == {"dup": "1.0", "only-extra": "1.0"}


@pytest.mark.e2e
def test_e2e_system_site_packages_are_listed_after_the_venv_own(
    tmp_path: Path, wheelhouse: Path
) -> None:
    venv = make_venv(tmp_path / "venv", with_pip=False, system_site_packages=True)
    base_names = set(pip_says(venv))
    # Shadow one distribution of the base interpreter with another version in the venv.
    shadow = "setuptools" if "setuptools" in base_names else "beta"
    write_wheel(tmp_path / "wheels", shadow, "0.0.1", modules=[])
    pip(venv, "install", "--no-deps", f"{shadow}==0.0.1", find_links=tmp_path / "wheels")
    ours = assert_same_as_pip(venv)
    assert ours[shadow].version == "0.0.1"
    assert ours[shadow].path.startswith(str(venv.path))
    assert len(ours) >= len(base_names)


@pytest.mark.e2e
@pytest.mark.skipif(
    not (os.path.isfile(DEBIAN_PYTHON) and os.path.isdir("/usr/lib/python3/dist-packages")),
    reason="needs a Debian-style system Python",
)
def test_e2e_debian_system_python_with_dist_packages_and_egg_info(tmp_path: Path) -> None:
    try:
        venv = make_venv(tmp_path / "venv", python=DEBIAN_PYTHON, with_pip=False,
                         system_site_packages=True)
    except subprocess.CalledProcessError:
        pytest.skip("the system Python has no venv module")
    ours = assert_same_as_pip(venv)
    assert any("dist-packages" in d.path for d in ours.values())


def _bundled_pip39() -> Path:
    bundled = sorted(Path(PY39).parent.parent.glob("lib/python3.9/ensurepip/_bundled/pip-*.whl"))
    if not bundled:
        pytest.skip("no pip wheel bundled with Python 3.9")
    return bundled[-1]


@pytest.mark.e2e
@pytest.mark.skipif(not os.path.isfile(PY39), reason="needs ~/.pyenv/versions/3.9.18")
def test_e2e_python39_venv_is_read_without_running_it(
    tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The venv's own pip (the one `python3.9 -m venv` bundles) lists it: the pip of the test
    # session may no longer support 3.9.
    wheel = _bundled_pip39()
    venv = make_venv(tmp_path / "venv", python=PY39, with_pip=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull

    def venv_pip(*args: str) -> str:
        cmd = [str(venv.python), "-m", "pip", *args, "--disable-pip-version-check"]
        return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout

    subprocess.run([str(venv.python), str(wheel / "pip"), "install", "-q", "--no-index",
                    "--find-links", str(wheel.parent), "pip"], env=env, check=True)
    venv_pip("install", "--no-index", "--find-links", str(wheelhouse), "alpha",
             "zope.interface", "PyYAML", "typing_extensions", "dup==1.0")
    # A leftover second copy: the pip 23.0 of Python 3.9 takes the highest version.
    leftover = venv.site_packages() / "dup-2.0.dist-info"
    leftover.mkdir()
    (leftover / "METADATA").write_text("Name: dup\nVersion: 2.0\n")
    lines = venv_pip("list", "--format=freeze").splitlines()
    expected = {canonical(line.partition("==")[0]): line.partition("==")[2] for line in lines}

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"started a process: {args}")

    monkeypatch.setattr(subprocess, "Popen", no_subprocess)
    env39 = find_environment(venv=str(venv.path), environ={})
    assert (env39.python_version, env39.implementation) == ("3.9.18", "cpython")
    ours = list_installed(env39)
    assert freeze(ours) == expected
    assert ours["dup"].version == "2.0"
    assert {"alpha", "beta", "zope-interface", "pyyaml", "typing-extensions", "pip"} <= set(ours)


# --- what cannot be read: a warning naming it, never a hang, never a silent gap ----------


@pytest.fixture
def deadline() -> object:
    """Fail instead of hanging: a FIFO opened for reading blocks until a writer comes."""
    import signal

    def expired(signum: int, frame: object) -> None:
        raise AssertionError("listing did not finish within 10 s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(10)
    yield None
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def listed(env: Environment) -> Tuple[Dict[str, str], list]:  # type: ignore[type-arg]
    warnings: list = []  # type: ignore[type-arg]
    return freeze(list_installed(env, warnings)), warnings


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "proc-environ", "loop", "directory"])
def test_a_bad_metadata_file_skips_that_distribution_with_a_warning(
    tmp_path: Path, kind: str, deadline: None
) -> None:
    site = tmp_path / "site-packages"
    simple(site, "alpha", "1.0")
    simple(site, "omega", "2.0")
    bad = dist_info(site, "bad-3.0.dist-info", None)
    metadata = bad / "METADATA"
    if kind == "fifo":
        os.mkfifo(metadata)
    elif kind == "dev-zero":
        metadata.symlink_to("/dev/zero")
    elif kind == "proc-environ":
        metadata.symlink_to("/proc/self/environ")
    elif kind == "loop":
        metadata.symlink_to(metadata)
    else:
        metadata.mkdir()  # a directory is no METADATA: named after its directory, as pip does
    found, warnings = listed(env_of(site))
    if kind == "directory":
        assert found == {"alpha": "1.0", "bad": "3.0", "omega": "2.0"}
        assert warnings == []
        return
    assert found == {"alpha": "1.0", "omega": "2.0"}
    assert len(warnings) == 1
    assert str(metadata) in warnings[0]
    assert "\n" not in warnings[0]


def test_a_symlink_loop_in_site_packages_hides_nothing_else(tmp_path: Path, deadline: None) -> None:
    site = tmp_path / "site-packages"
    simple(site, "alpha", "1.0")
    (site / "loop-1.0.dist-info").symlink_to(site / "loop-1.0.dist-info")
    (site / "cycle").symlink_to(site / "cycle2")
    (site / "cycle2").symlink_to(site / "cycle")
    simple(site, "omega", "2.0")
    found, warnings = listed(env_of(site))
    assert found == {"alpha": "1.0", "omega": "2.0"}
    assert len(warnings) == 1 and "loop-1.0.dist-info" in warnings[0], warnings


@pytest.mark.parametrize("name", ["direct_url.json", "requires.txt"])
def test_a_fifo_beside_the_metadata_is_a_warning(
    tmp_path: Path, name: str, deadline: None
) -> None:
    site = tmp_path / "site-packages"
    info = dist_info(site, "alpha-1.0.egg-info", "Metadata-Version: 2.1\nName: alpha\n"
                     "Version: 1.0\n")
    os.mkfifo(info / name)
    simple(site, "omega", "2.0")
    found, warnings = listed(env_of(site))
    assert found == {"alpha": "1.0", "omega": "2.0"}  # alpha itself is known, and listed
    assert len(warnings) == 1 and str(info / name) in warnings[0]


def test_a_path_directory_that_vanished_or_cannot_be_listed_is_a_warning(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    simple(site, "alpha", "1.0")
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    found, warnings = listed(env_of(site, tmp_path / "gone", loop))
    assert found == {"alpha": "1.0"}
    assert [w.split(":")[0] for w in warnings] == [str(tmp_path / "gone"), str(loop)]


@pytest.mark.parametrize(
    "bad_name", ["--index-url=https://evil.example/simple", "x::error::pwned", "-e", "a b"]
)
def test_an_installed_name_that_is_no_pep508_name_is_skipped_with_a_warning(
    tmp_path: Path, bad_name: str
) -> None:
    site = tmp_path / "site-packages"
    dist_info(site, "evil-1.0.dist-info", f"Metadata-Version: 2.1\nName: {bad_name}\n"
              "Version: 1.0\n")
    simple(site, "omega", "2.0")
    found, warnings = listed(env_of(site))
    assert found == {"omega": "2.0"}
    assert len(warnings) == 1
    assert "evil-1.0.dist-info" in warnings[0] and "not a valid package name" in warnings[0]
    assert "\n" not in warnings[0]


def test_an_egg_link_cycle_is_read_once_with_a_warning(tmp_path: Path, deadline: None) -> None:
    # pip's pkg_resources backend (Python < 3.11) follows egg-links inside linked directories.
    site = tmp_path / "site-packages"
    simple(site, "alpha", "1.0")
    a, b = tmp_path / "a", tmp_path / "b"
    simple(a, "proj-a", "0.1", "proj_a.egg-info")
    simple(b, "proj-b", "0.2", "proj_b.egg-info")
    (site / "proj-a.egg-link").write_text(f"{a}\n.")
    (a / "to-b.egg-link").write_text(f"{b}\n.")
    (b / "to-a.egg-link").write_text(f"{a}\n.")
    (b / "fifo.egg-link").parent.mkdir(exist_ok=True)
    os.mkfifo(b / "fifo.egg-link")
    found, warnings = listed(env_of(site, version="3.9.18"))
    assert found == {"alpha": "1.0", "proj-a": "0.1", "proj-b": "0.2"}
    assert any("egg-link cycle" in w for w in warnings), warnings
    assert any(str(b / "fifo.egg-link") in w for w in warnings), warnings
    # The current backend does not follow egg-links found in linked directories at all.
    found, _ = listed(env_of(site))
    assert found == {"alpha": "1.0", "proj-a": "0.1"}


def test_a_name_that_is_not_utf8_is_skipped_and_warnings_stay_printable(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    simple(site, "alpha", "1.0")
    raw = os.fsencode(str(site)) + b"/caf\xe9-1.0.dist-info"
    os.mkdir(raw)
    os.mkfifo(raw + b"/METADATA")
    unlistable = os.fsencode(str(site)) + b"/b\xff-1.0.dist-info"
    os.mkdir(unlistable)
    found, warnings = listed(env_of(site))
    assert found == {"alpha": "1.0"}
    for warning in warnings:
        warning.encode("utf-8")  # no lone surrogate: printable on any stdout


def test_a_version_of_thousands_of_digits_is_listed_not_a_crash(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    long = "0" + "1" * 5000
    dist_info(site, "huge.dist-info", f"Metadata-Version: 2.1\nName: huge\nVersion: {long}\n")
    simple(site, "omega", "2.0")
    found, _ = listed(env_of(site))
    assert found["omega"] == "2.0" and found["huge"] == long

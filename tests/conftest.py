"""Test-wide settings."""

from __future__ import annotations

import pytest

# The suite runs on pytest-xdist workers (`-n auto --dist loadgroup`, pyproject.toml). Tests
# are spread one by one, except these modules, each kept whole on one worker:
_WHOLE_MODULES = {
    # Its quiet directories under build/cache-tests must see no other writer while a check
    # runs (a check whose directories changed meanwhile is not stored, by design).
    "test_cache.py",
    # Module fixtures that cost seconds to tens of seconds, built once rather than per
    # worker: a locked project per tool and a local index (fix_locks), pre-commit's hook env
    # (precommit, and readme's own copy of those fixtures), the Zappa app venv and moto
    # server, which the tests also install into and uninstall from (zappa), a venv per
    # scenario (imports_e2e).
    "test_fix_locks.py",
    "test_precommit.py",
    "test_readme.py",
    "test_zappa.py",
    "test_imports_e2e.py",
}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in _WHOLE_MODULES:
            item.add_marker(pytest.mark.xdist_group(item.path.stem))
    if getattr(config.option, "loadgroup", False):  # on a worker, under --dist loadgroup
        for item in items:
            _name_the_group(item)


def _name_the_group(item: pytest.Item) -> None:
    """xdist's loadgroup schedules by node id: `<id>@<group>`. It renames the items itself
    through `item._nodeid`, which pytest 9 no longer has (the id is a structured NodeId):
    there, name the group here, as xdist would."""
    names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                    for m in item.iter_markers("xdist_group")})
    if not names:
        return
    suffixed = f"{item.nodeid}@{'_'.join(names)}"
    if item.nodeid.endswith(suffixed[len(item.nodeid):]):
        return  # xdist did it
    if hasattr(item, "_id"):
        from _pytest.nodeid import NodeId

        item._id = NodeId.parse(suffixed)
    else:
        item._nodeid = suffixed


def pytest_configure(config: pytest.Config) -> None:
    # Directories the run writes to, made before any test runs (and before any worker
    # starts): a directory made in the project root while a test_cache check runs would
    # keep that check from being stored.
    root = config.rootpath
    for rel in (".hypothesis", "build/cache-tests"):
        (root / rel).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _no_result_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each test checks a state it has just made; replaying an earlier answer is the business
    # of tests/test_cache.py alone, which turns the cache back on in a directory of its own.
    monkeypatch.setenv("DRIFT_GUARD_NO_CACHE", "1")

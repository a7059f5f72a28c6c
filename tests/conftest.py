"""Test-wide settings."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_result_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each test checks a state it has just made; replaying an earlier answer is the business
    # of tests/test_cache.py alone, which turns the cache back on in a directory of its own.
    monkeypatch.setenv("DRIFT_GUARD_NO_CACHE", "1")

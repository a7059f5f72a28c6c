"""[tool.drift-guard] settings: validated, with `-` and `_` spellings alike."""

from __future__ import annotations

import pytest

from drift_guard.config import Config, from_mapping, merge
from drift_guard.errors import DriftGuardError


def test_both_spellings_are_accepted() -> None:
    cfg = from_mapping({"require-pins": True, "ignore": ["boto3"], "without": "docs"}, "[t]")
    assert cfg.require_pins is True
    assert cfg.ignore == ("boto3",)
    assert cfg.without_groups == ("docs",)
    assert from_mapping({"require_pins": True}, "[t]").require_pins is True


def test_relative_paths_are_relative_to_the_config_file(tmp_path) -> None:
    cfg = from_mapping(
        {"sources": ["reqs/base.txt"], "venv": ".venv"}, "[t]", base_dir=str(tmp_path)
    )
    assert cfg.sources == (str(tmp_path / "reqs/base.txt"),)
    assert cfg.venv == str(tmp_path / ".venv")


def test_lambda_options_are_kept_as_a_table() -> None:
    cfg = from_mapping({"lambda": {"max_unzipped_mb": 200}}, "[t]")
    assert cfg.lambda_ == {"max_unzipped_mb": 200}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"ignore": [1]}, "[tool.drift-guard].ignore must be a list of strings"),
        ({"require-pins": "yes"}, "[tool.drift-guard].require-pins must be true or false"),
        ({"python": 3}, "[tool.drift-guard].python must be a string"),
        ({"lambda": 250}, "[tool.drift-guard].lambda must be a table"),
        ({"sauces": []}, "unknown setting '[tool.drift-guard].sauces'; known settings: allow,"),
    ],
)
def test_bad_settings_name_the_key(table: dict, message: str) -> None:
    with pytest.raises(DriftGuardError) as info:
        from_mapping(table, "[tool.drift-guard]", path="pyproject.toml")
    assert str(info.value).startswith(f"pyproject.toml: {message}")


def test_merge_prefers_what_is_set() -> None:
    base = Config(ignore=("a",), python="/usr/bin/python3")
    merged = merge(base, ignore=("b",), python=None, require_pins=False)
    assert merged.ignore == ("b",)
    assert merged.python == "/usr/bin/python3"


def test_overlay_replaces_only_the_keys_given() -> None:
    from drift_guard.config import overlay

    base = Config(ignore=("a",), require_pins=True, with_groups=("docs",))
    cfg = overlay(base, {"ignore": ["b"], "with": []}, "[stage]")
    assert (cfg.ignore, cfg.require_pins, cfg.with_groups) == (("b",), True, ())

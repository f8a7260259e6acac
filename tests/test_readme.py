"""The README documents every declared setting (flag and environment variable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmkg.config import setting_fields

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [f.name for f in setting_fields()])
def test_every_setting_is_documented(name: str) -> None:
    assert f"--{name.replace('_', '-')}" in README
    assert f"MMKG_{name.upper()}" in README


def test_readme_gives_the_two_set_up_commands() -> None:
    assert "mmkg serve" in README
    assert "bash .ci/run" in README

"""The exit codes are defined once (infra/cli/status_codes.py) and said the same everywhere people read them."""

from __future__ import annotations

import re

import pytest

import infra.cli
from infra.cli import main, status_codes
from tests.conftest import PROJECT_ROOT


def _words(text: str) -> str:
    return " ".join(text.split())


def readme_exit_codes() -> dict[int, str]:
    """The "- `N` meaning" list of README.md's "## Commands" section."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    return {int(code): meaning.strip() for code, meaning in re.findall(r"^- `(\d+)` (.+)$", section, re.MULTILINE)}


def test_the_codes_are_distinct_and_each_has_a_meaning():
    codes = [status_codes.OK, status_codes.PROBLEMS, status_codes.CANNOT_RUN, status_codes.REMOVAL_GUARD,
             status_codes.INTERRUPTED]
    assert len(set(codes)) == len(codes)
    assert list(status_codes.MEANINGS) == codes
    assert all(meaning.strip() for meaning in status_codes.MEANINGS.values())


def test_help_lists_every_code_with_its_meaning(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == status_codes.OK
    epilog = _words(capsys.readouterr().out.split("exit codes:", 1)[1])
    for code, meaning in status_codes.MEANINGS.items():
        assert f"{code} {_words(meaning)}" in epilog


def test_the_cli_docstring_lists_every_code_with_its_meaning():
    doc = _words(infra.cli.__doc__ or "")
    for code, meaning in status_codes.MEANINGS.items():
        assert f"{code} {_words(meaning)}" in doc


def test_the_readme_commands_section_lists_the_same_codes():
    assert readme_exit_codes() == status_codes.MEANINGS

"""Shared by the operations-command tests: run the command in-process, as the console script would."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from infra.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture, *argv: str) -> Result:
    """Run `saas-domains ARGV` in this process, as the console script would, and capture its output."""
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


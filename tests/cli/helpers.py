"""Shared by the operations-command tests: run the command in-process, as the console script would."""

from __future__ import annotations

import re
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



def with_customers_file(stack_file: str, path: str = "customers.yaml") -> str:
    """A stack file's text (`Pulumi.<stack>.yaml`) made to read the customers file `path` beside it."""
    return re.sub(r"(?m)^(\s*saas-domains:customersFile:).*$", rf"\g<1> {path}", stack_file)

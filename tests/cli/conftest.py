"""The command-line tests run with the defaults they test, whatever the shell or CI job sets."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _defaults_not_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No PULUMI_STACK (which would choose the stack) and no GITHUB_BASE_REF (validate's base in a pull request's
    job); a test that wants either sets it."""
    monkeypatch.delenv("PULUMI_STACK", raising=False)
    monkeypatch.delenv("GITHUB_BASE_REF", raising=False)

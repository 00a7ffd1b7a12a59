"""What every fault test of tests/network asks of a command: the faults, where they strike, and the outcome.

A command under a fault must end with exit code 2, within the lowered deadlines plus a margin, with a
message that names the service, what was being done and what to try, without a traceback, and without
touching a file. Under a transient fault that strikes once, it must end as if nothing happened.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.clients.network_limits import COMMAND_TIMEOUT_VARIABLE, REQUEST_TIMEOUT_VARIABLE
from tests.cli.helpers import Result, run_cli

REQUEST = 0.25  # SAAS_DOMAINS_REQUEST_TIMEOUT in these tests
COMMAND = 1.5  # SAAS_DOMAINS_COMMAND_TIMEOUT: shorter than the first backoff (2 s), so nothing is retried
MARGIN = 3.0  # what a loaded two-core machine may add to a run (the requests before the fault included)
WAITS_FOR_THE_DEADLINE = ("trickle", "endless")
# Faults that can strike any request; the address faults (tls, dns) strike the first, since the address is
# the same for every request of a command.
ANY_REQUEST = ("trickle", "endless", "huge", "maintenance", "html-error", "not-object", "truncated", "reset",
               "refused")
FIRST_ONLY = ("tls", "dns")
TRANSIENT = ("429", "503", "html-error", "maintenance", "truncated", "reset", "trickle")
POSITIONS = ("first", "middle", "last")
ADVICE = ("try again", "check ", "raise SAAS_DOMAINS_", "run the same pulumi command again")


def failures() -> list:
    """(kind, position) for every fault that ends a command, at every request where it can strike."""
    cases = [pytest.param(kind, where, id=f"{kind}-{where}") for kind in ANY_REQUEST for where in POSITIONS]
    return cases + [pytest.param(kind, "first", id=f"{kind}-first") for kind in FIRST_ONLY]


def transients() -> list:
    return [pytest.param(kind, where, id=f"{kind}-{where}") for kind in TRANSIENT for where in POSITIONS]


def lowered(monkeypatch: pytest.MonkeyPatch, request: float = REQUEST, command: float = COMMAND) -> None:
    monkeypatch.setenv(REQUEST_TIMEOUT_VARIABLE, str(request))
    monkeypatch.setenv(COMMAND_TIMEOUT_VARIABLE, str(command))


Snapshot = dict[Path, tuple[bytes, int] | None]


def snapshot(*paths: Path) -> Snapshot:
    """Each file's bytes and modification time (None: no such file)."""
    return {path: (path.read_bytes(), path.stat().st_mtime_ns) if path.exists() else None for path in paths}


@dataclass
class Files:
    """Files a failed run must leave as they were, and the folder it must leave nothing new in (a temporary
    file, a half-written report)."""

    directory: Path
    before: Snapshot
    listing: set[str]

    @classmethod
    def of(cls, directory: Path, *names: str) -> Files:
        return cls(directory, snapshot(*(directory / name for name in names)), {p.name for p in directory.iterdir()})

    def untouched(self) -> bool:
        return snapshot(*self.before) == self.before and {p.name for p in self.directory.iterdir()} == self.listing


@dataclass
class Run:
    result: Result
    elapsed: float


def timed(capsys: pytest.CaptureFixture, *argv: str) -> Run:
    started = time.monotonic()
    result = run_cli(capsys, *argv)
    return Run(result, time.monotonic() - started)


def assert_failed_cleanly(run: Run, kind: str, *, service: str, doing: str, files: Files,
                          bound: float = REQUEST + MARGIN) -> str:
    """Exit 2, in time, one message naming the service, what was being done and what to try; files untouched."""
    result = run.result
    assert result.code == 2, (result.code, result.out, result.err)
    assert "Traceback" not in result.err + result.out
    message = result.err.strip().splitlines()[-1]
    assert service in message and doing in message, message
    assert any(advice in message for advice in ADVICE), message
    assert run.elapsed < bound, f"{run.elapsed:.2f} s: {message}"
    if kind in WAITS_FOR_THE_DEADLINE:
        assert run.elapsed >= REQUEST * 0.9, run.elapsed  # it did wait for the deadline, no longer
    assert files.untouched()
    return message

"""The Pulumi CLI as `reshard --execute` runs it: its version, the backend's stacks, new stacks, state moves.

Every subprocess call to `pulumi` is here; a failure is a PulumiCliError that quotes the command's
own words, so the person at the terminal sees what Pulumi said.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence

from infra.errors import ClientError
from infra.model.names import bare_stack

MIN_STATE_MOVE_VERSION = (3, 127, 0)  # the first release with `pulumi state move`


class PulumiCliError(ClientError):
    """The Pulumi CLI is missing, too old, or a command of it failed."""


def parse_pulumi_version(text: str) -> tuple[int, int, int] | None:
    """`v3.130.0` (or `3.130.0-alpha.x`) as a tuple; None when it is not a version."""
    core = text.strip().lstrip("v").split("-", 1)[0].split("+", 1)[0]
    parts = core.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


class PulumiCli:
    def __init__(self, executable: str = "pulumi") -> None:
        self.executable = executable

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        try:
            return subprocess.run([self.executable, *args], check=False, capture_output=True, text=True)
        except OSError as err:
            raise PulumiCliError(f"cannot run the Pulumi CLI {self.executable!r}: {err}") from None

    def require_version(self, minimum: tuple[int, int, int], needed_for: str) -> None:
        done = self._run("version")
        version = parse_pulumi_version(done.stdout) if done.returncode == 0 else None
        if version is None or version < minimum:
            found = done.stdout.strip() or done.stderr.strip() or "unknown"
            raise PulumiCliError(f"{needed_for} needs the Pulumi CLI {'.'.join(map(str, minimum[:2]))} or later; "
                                 f"{self.executable} version says {found!r}")

    def stack_names(self) -> set[str]:
        """The bare names of every stack of the backend (`pulumi stack ls --all --json`)."""
        listed = self._run("stack", "ls", "--all", "--json")
        if listed.returncode != 0:
            raise PulumiCliError(f"`pulumi stack ls` failed (exit {listed.returncode}): {said(listed)}")
        try:
            return {bare_stack(entry["name"]) for entry in json.loads(listed.stdout or "[]")}
        except (ValueError, TypeError, KeyError) as err:
            raise PulumiCliError(
                f"`pulumi stack ls --json` printed something that is not a stack list: {err}"
            ) from None

    def init_stack(self, stack: str) -> None:
        """A new stack, with the project's secrets manager; the selected stack stays selected (`--no-select`)."""
        made = self._run("stack", "init", "--no-select", stack)
        if made.returncode != 0:
            raise PulumiCliError(f"`pulumi stack init {stack}` failed (exit {made.returncode}): {said(made)}")

    def run(self, argv: Sequence[str]) -> subprocess.CompletedProcess:
        """One command given as argv (argv[0] the CLI itself, as the plan spells it); the caller judges the exit."""
        try:
            return subprocess.run(list(argv), check=False, capture_output=True, text=True)
        except OSError as err:
            raise PulumiCliError(f"cannot run the Pulumi CLI {argv[0]!r}: {err}") from None


def said(done: subprocess.CompletedProcess) -> str:
    """What a command printed, stderr first."""
    return (done.stderr or done.stdout or "").strip()




"""Finding the project, the stack a command reads and its settings from the command line, without Pulumi.

Which stack: `--stack` when given, else the PULUMI_STACK environment variable (the repository
variable CI's workflows pass as --stack), else `dev`. Every command that reads a stack says which one
and why (`StackChoice.describe`, and `stack`/`stack_from` in JSON), so a local run of the default
stack is never mistaken for CI's. Pulumi's own selection (`pulumi stack select`) is not read: Pulumi
keeps it under ~/.pulumi/workspaces, in a file named by a hash of the project's path, which is
Pulumi's internal and no promise.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.cli.errors import SetupError
from infra.model.settings import SettingsError, StackSettings
from infra.stack_files import read_stack_file, stack_settings

STACK_VARIABLE = "PULUMI_STACK"
DEFAULT_STACK = "dev"
FROM_OPTION, FROM_ENVIRONMENT, FROM_DEFAULT = "--stack", STACK_VARIABLE, "default"
_WHY = {FROM_OPTION: "given with --stack", FROM_ENVIRONMENT: f"from {STACK_VARIABLE}",
        FROM_DEFAULT: f"the default; set --stack or {STACK_VARIABLE}"}


@dataclass(frozen=True)
class StackChoice:
    """The stack a command reads and where its name came from (FROM_OPTION, FROM_ENVIRONMENT, FROM_DEFAULT)."""

    name: str
    source: str

    @property
    def why(self) -> str:
        return _WHY[self.source]

    def describe(self) -> str:
        """For people: "stack dev (the default; set --stack or PULUMI_STACK)"."""
        return f"stack {self.name} ({self.why})"

    def to_json(self) -> dict[str, str]:
        return {"stack": self.name, "stack_from": self.source}


def choose_stack(given: str | None, environ: Mapping[str, str] | None = None) -> StackChoice:
    if given:
        return StackChoice(given, FROM_OPTION)
    variable = ((os.environ if environ is None else environ).get(STACK_VARIABLE) or "").strip()
    if variable:
        return StackChoice(variable, FROM_ENVIRONMENT)
    return StackChoice(DEFAULT_STACK, FROM_DEFAULT)


def stack_choice(args: argparse.Namespace) -> StackChoice:
    """The command's stack, chosen once: afterwards `args.stack` holds its name."""
    choice = getattr(args, "stack_choice", None)
    if choice is None:
        choice = choose_stack(args.stack)
        args.stack, args.stack_choice = choice.name, choice
    return choice


def add_stack_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", default=None,
                        help=f"stack whose Pulumi.<stack>.yaml to read (default: ${STACK_VARIABLE} when set, else "
                             f"{DEFAULT_STACK}; the output says which)")


def add_project_dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project-dir", type=Path, default=None,
                        help="folder holding Pulumi.yaml (default: the nearest one above the current folder)")


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_argument(parser)
    add_project_dir_argument(parser)


def find_project_dir(start: Path | None) -> Path:
    if start is not None:
        if not (start / "Pulumi.yaml").is_file():
            raise SetupError(f"{start}: no Pulumi.yaml there")
        return start.resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise SetupError("no Pulumi.yaml in this folder or above it; run inside the project or pass --project-dir")


def chosen_stack_settings(project_dir: Path, choice: StackChoice) -> StackSettings:
    """The chosen stack's settings; an error names the choice when the name was not given."""
    try:
        return stack_settings(project_dir, choice.name)
    except SettingsError as err:
        raise _naming(err, choice) from None


def read_stack(project_dir: Path, choice: StackChoice) -> dict[str, Any]:
    """The chosen stack file's `config:` as written; no such file or no YAML is a SettingsError."""
    try:
        return read_stack_file(project_dir, choice.name)
    except SettingsError as err:
        raise _naming(err, choice) from None


def _naming(err: SettingsError, choice: StackChoice) -> SettingsError:
    """The error, with how the stack was chosen when the user did not name it (only the CLI knows that)."""
    if choice.source == FROM_OPTION:
        return err
    return SettingsError(f"{err}; {choice.describe()}")

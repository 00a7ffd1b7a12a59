"""Finding the project and a stack's settings from the command line, without Pulumi."""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.cli.errors import SetupError
from infra.model.settings import SettingsError, StackSettings, read_stack_file, settings_from_stack_config


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", default="dev", help="stack whose Pulumi.<stack>.yaml to read (default: dev)")
    parser.add_argument("--project-dir", type=Path, default=None,
                        help="folder holding Pulumi.yaml (default: the nearest one above the current folder)")


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


def stack_settings(project_dir: Path, stack: str) -> StackSettings:
    try:
        return settings_from_stack_config(read_stack_file(project_dir, stack))
    except SettingsError as err:
        raise SetupError(str(err)) from None

"""Reading a file as it was at a git revision, for comparing the customers file across a pull request."""

from __future__ import annotations

import subprocess
from pathlib import Path

from infra.cli.errors import SetupError


def read_at_revision(revision: str, path: Path, project_dir: Path) -> bytes | None:
    """The file's bytes at `revision`, or None when the file does not exist there."""
    relative = path.resolve().relative_to(project_dir.resolve()) if path.is_absolute() else path
    run = _git(project_dir, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    if run.returncode != 0:
        raise SetupError(f"git revision {revision!r} not found (in CI, fetch it first, e.g. "
                         f"`git fetch origin {revision}` or checkout with fetch-depth: 0)")
    shown = _git(project_dir, "show", f"{revision}:./{relative.as_posix()}", text=False)
    if shown.returncode != 0:
        return None
    return shown.stdout


def _git(cwd: Path, *args: str, text: bool = True) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=text, check=False)
    except FileNotFoundError:
        raise SetupError("git is not installed; `diff` reads the customers file at git revisions") from None

"""Reading a file as it was at a git revision, for comparing the customers file across a pull request.

git is a local program, not a service, but it is the one outside source of the base revision: every
call to it is here, and its failures are GitErrors that say what to fetch.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from infra.errors import ClientError


class GitError(ClientError):
    """No git, or a revision this clone does not have."""


def read_at_revision(revision: str, path: Path, project_dir: Path) -> bytes | None:
    """The file's bytes at `revision`, or None when the file does not exist there."""
    relative = path.resolve().relative_to(project_dir.resolve()) if path.is_absolute() else path
    if not revision_exists(revision, project_dir):
        raise GitError(f"git revision {revision!r} not found (in CI, fetch it first, e.g. "
                         f"`git fetch origin {revision}` or checkout with fetch-depth: 0)")
    shown = _git(project_dir, "show", f"{revision}:./{relative.as_posix()}", text=False)
    if shown.returncode != 0:
        return None
    return shown.stdout


def revision_exists(revision: str, project_dir: Path) -> bool:
    return _git(project_dir, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").returncode == 0


def ci_base_branch(environ: Mapping[str, str] | None = None) -> str:
    """The branch the pull-request workflow compares with: GITHUB_BASE_REF in a pull request's job, else main."""
    return ((os.environ if environ is None else environ).get("GITHUB_BASE_REF") or "").strip() or "main"


def ci_base(project_dir: Path, environ: Mapping[str, str] | None = None) -> str | None:
    """`origin/<that branch>`, the revision CI compares with, when this repository has it (None without git)."""
    revision = f"origin/{ci_base_branch(environ)}"
    try:
        return revision if revision_exists(revision, project_dir) else None
    except GitError:  # no git at all: nothing to compare with
        return None


def _git(cwd: Path, *args: str, text: bool = True) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=text, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed; `diff` and `validate` read the customers file at git "
                         "revisions") from None

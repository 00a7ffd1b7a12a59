"""`saas-domains validate`: the customers file's checks, as the program applies them, then the removal guard.

The guard compares the file with the same file at the base revision, as the pull request's `diff` and
the deploy do: the given base, else the base the pull-request workflow uses (origin/<GITHUB_BASE_REF>,
or origin/main) when this repository has it. The problems of an invalid file are the result, not an
error: `validate_file` returns them in the report.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.clients.git import ci_base, ci_base_branch, read_at_revision
from infra.model.customers import CustomersFile, CustomersFileError, Problem, load_customers, parse_customers
from infra.model.examples import refuse_examples
from infra.model.removal_guard import RemovalGuard
from infra.model.settings import StackSettings
from infra.operations.diff import CONFIRM_REMOVALS, Pricing, review_change


@dataclass(frozen=True)
class GuardCheck:
    """The removal guard's verdict on the change since `base`, or why it was not run (`note`)."""

    guard: RemovalGuard
    base: str | None = None
    removed: int | None = None  # None: not compared
    refusal: str | None = None
    note: str | None = None

    def summary(self) -> str:
        if self.removed is None:
            return f"not run: {self.note}"
        allowed = max(self.guard.max_removals, self.guard.allow_removals)
        verdict = "stopped" if self.refusal else "passes"
        hostnames = f"{self.removed:,} hostname{'' if self.removed == 1 else 's'}"
        return (f"{verdict}: {hostnames} removed since {self.base} "
                f"(up to {allowed:,} without confirmation)")

    def to_json(self) -> dict[str, Any]:
        return {"base": self.base, "compared": self.removed is not None, "removed": self.removed,
                "max_removals": self.guard.max_removals, "allow_removals": self.guard.allow_removals,
                "refused": self.refusal is not None, "message": self.refusal, "note": self.note}


@dataclass(frozen=True)
class ValidationReport:
    """The file's verdict: its problems (none: valid), and for a valid file its counts and the guard's check."""

    file: str
    settings: StackSettings
    problems: tuple[Problem, ...] = ()
    customers: CustomersFile | None = None
    guard: GuardCheck | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        if not self.valid:
            return {"valid": False, "file": self.file,
                    "problems": [{"line": p.line, "entry": p.entry, "message": p.message} for p in self.problems]}
        return {"valid": True, "file": self.file, "customers": len(self.customers.customers),
                "hostnames": len(self.customers.hostnames), "maxHostnames": self.settings.max_hostnames,
                "problems": [], "removal_guard": self.guard.to_json()}


def validate_file(project_dir: Path, stack: str, settings: StackSettings, path: Path, guard: RemovalGuard, *,
                  base: str | None, run_guard: bool = True) -> ValidationReport:
    """Check `path` with the stack's rules (and the examples rule the program applies), then the guard."""
    try:
        customers = load_customers(path, settings.validation_rules())
        refuse_examples(customers, stack)  # what the program refuses, said before the pull request
    except CustomersFileError as err:
        return ValidationReport(str(path), settings, problems=err.problems)
    check = (guard_check(project_dir, settings, path, customers, guard, base) if run_guard
             else GuardCheck(guard, note="--no-base"))
    return ValidationReport(str(path), settings, customers=customers, guard=check)


def guard_check(project_dir: Path, settings: StackSettings, path: Path, customers: CustomersFile,
                guard: RemovalGuard, base: str | None) -> GuardCheck:
    """The change since the base revision of the stack's customers file, through the guard `diff` runs."""
    stack_file = settings.customers_path(project_dir)
    if base is None and path.resolve() != stack_file.resolve():
        return GuardCheck(guard, note=f"{path} is not the stack's customers file ({os.path.relpath(stack_file)}); "
                                      "pass --base REF to compare it with that file at REF")
    base = base or ci_base(project_dir)
    if base is None:
        branch = ci_base_branch()
        return GuardCheck(guard, note=f"no origin/{branch} here to compare with (`git fetch origin {branch}`, or "
                                      "pass --base REF); the pull request's diff and the deploy run it")
    relative = Path(os.path.relpath(stack_file, project_dir))
    before = read_at_revision(base, relative, project_dir)  # a --base that does not exist: a GitError
    if before is None:
        return GuardCheck(guard, base, removed=0, note=f"{relative} does not exist at {base}: nothing removed")
    try:
        previous = parse_customers(before, settings.validation_rules(), path=f"{base}:{relative}")
    except CustomersFileError:
        return GuardCheck(guard, base, note=f"{relative} at {base} does not pass validation, so nothing can be "
                                            "compared with it (the deploy compares with the last deployment)")
    review = review_change(previous, customers, max_hostnames=settings.max_hostnames, pricing=Pricing(),
                           guard=guard, how_to_confirm=CONFIRM_REMOVALS)
    return GuardCheck(guard, base, removed=len(review.diff.removed), refusal=review.refusal)

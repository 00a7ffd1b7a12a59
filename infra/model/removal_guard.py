"""The removal guard: how many custom hostnames one change may delete without an explicit confirmation.

Deleting a custom hostname deletes its certificate and takes the customer's domain offline, and a
mangled customers file can look like a mass removal. Shared by `saas-domains diff` (pull requests)
and the Pulumi program (`pulumi preview`/`up`, against what the stack last deployed). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_MAX_REMOVALS = 5


@dataclass(frozen=True)
class RemovalGuard:
    max_removals: int = DEFAULT_MAX_REMOVALS  # removed without confirmation
    allow_removals: int = 0  # a one-off confirmation: up to this many, for the change under review

    def allows(self, removed: int) -> bool:
        return removed <= max(self.max_removals, self.allow_removals)

    def refusal(self, removed: Sequence[str], *, how_to_confirm: str) -> str | None:
        """None when the removal may go ahead, else the message that stops it."""
        if self.allows(len(removed)):
            return None
        shown = ", ".join(removed[:10]) + (f" and {len(removed) - 10} more" if len(removed) > 10 else "")
        noun = "custom hostname" if len(removed) == 1 else "custom hostnames"
        return (f"removal guard: this change deletes {len(removed)} {noun} ({shown}), more than "
                f"the {self.max_removals} allowed without confirmation. Deleting a custom hostname deletes "
                f"its certificate and takes the customer's domain offline. If that is intended, "
                f"{how_to_confirm.format(count=len(removed))}.")

"""What changed in the zone between two status reports, by hostname: the news the status issue tells."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.operations.status import LIVE, PROBLEM

MISSING, NOT_IN_FILE = "missing in Cloudflare", "not in the customers file"
FAILING = {PROBLEM, MISSING, NOT_IN_FILE}


def hostname_states(report: Mapping[str, Any]) -> dict[str, str]:
    """Every hostname of the report with where it stands: live, waiting, problem, or one of the drifts."""
    states = {row["hostname"]: row["level"] for row in report["hostnames"]}
    states.update({row["hostname"]: MISSING for row in report["missing_in_cloudflare"]})
    states.update({row["hostname"]: NOT_IN_FILE for row in report["not_in_customers_file"]})
    return states


@dataclass(frozen=True)
class StatusChanges:
    """What changed between two reports, by hostname (sorted lists)."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    became_active: list[str] = field(default_factory=list)
    started_failing: list[str] = field(default_factory=list)
    no_longer_failing: list[str] = field(default_factory=list)
    fallback_stopped: bool = False  # the fallback origin was live and is not now
    fallback_recovered: bool = False

    def counts(self) -> dict[str, int | bool]:
        return {"added": len(self.added), "removed": len(self.removed), "became_active": len(self.became_active),
                "started_failing": len(self.started_failing), "no_longer_failing": len(self.no_longer_failing),
                "fallback_stopped": self.fallback_stopped, "fallback_recovered": self.fallback_recovered}

    @property
    def alarming(self) -> bool:
        """The news worth a notification: something started failing."""
        return bool(self.started_failing) or self.fallback_stopped

    @property
    def empty(self) -> bool:
        return not any(self.counts().values())


def changes_between(previous: Mapping[str, Any], current: Mapping[str, Any]) -> StatusChanges:
    """What changed, keyed by hostname. A hostname absent before counts as not failing and not live."""
    before, now = hostname_states(previous), hostname_states(current)
    was_failing = {name for name, state in before.items() if state in FAILING}
    failing = {name for name, state in now.items() if state in FAILING}
    origin_before, origin_now = previous["fallback_origin"]["level"], current["fallback_origin"]["level"]
    return StatusChanges(
        added=sorted(now.keys() - before.keys()),
        removed=sorted(before.keys() - now.keys()),
        became_active=sorted(n for n in before.keys() & now.keys() if before[n] != LIVE and now[n] == LIVE),
        started_failing=sorted(failing - was_failing),
        no_longer_failing=sorted(n for n in was_failing & now.keys() if n not in failing),
        fallback_stopped=origin_before == LIVE and origin_now != LIVE,
        fallback_recovered=origin_before != LIVE and origin_now == LIVE,
    )

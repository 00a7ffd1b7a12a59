"""`saas-domains reshard`, planned: which custom hostnames change stacks when the shard count changes, and how.

Pure: from the hostnames of the (one, zone-wide) customers file, where each lives now (one `all`
stack, or shard i of the current N) and where it lives at the new count, this computes the moves,
groups them by (source, destination) into batches, and spells out the `pulumi state move` commands
as argv lists. Reading the stack files and running the commands is infra/operations/reshard.py's.

What `pulumi state move` does to a moved resource (pkg/cmd/pulumi/state/state_move.go), which this
module relies on: the URN's stack (and project) become the destination's; a resource whose parent is
not moved along gets the destination's root stack as its `parent`; its provider is copied (or matched
to an identical one already there); its dependencies on resources left in the source are dropped, with
a warning; the destination stack must exist already (it is loaded, never created). Since Pulumi 3.224.0
(pulumi/pulumi#21953) the URN is also rebuilt from the new parent, so a custom hostname arrives at the
destination's root, `urn:pulumi:<dest>::saas-domains::cloudflare:index/customHostname:CustomHostname::
<hostname>`; from 3.127 to 3.223 it kept its old type chain, which is exactly the URN a shard declares
(`...::saas-domains:index:CustomerHostnames$cloudflare:...`). A shard covers both: the one by its
`Alias(parent=ROOT_STACK_RESOURCE)`, the other by its declared URN, so its next `up` renames the
hostname into its `customers` component and never replaces it. We move the custom hostnames only,
never their `customers` component (the source keeps it for the hostnames it keeps, and a destination
shard has its own). tests/engine/test_real_engine.py runs a real move; tests/components/
test_reshard_urns.py proves both shapes against the program under the mock engine. The URNs
themselves are infra/model/names.py's (custom_hostname_urn, moved_urn).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from infra.model import names
from infra.model.sharding import shard_of

DEFAULT_ORGANIZATION = "organization"  # what a DIY (self-managed) backend calls every stack's organization


def fully_qualified(stack: str, organization: str = DEFAULT_ORGANIZATION) -> str:
    """organization/project/stack; a name that already has slashes is taken as it is."""
    return stack if "/" in stack else f"{organization}/{names.PROJECT}/{stack}"


@dataclass(frozen=True)
class Layout:
    """Where a zone's custom hostnames live: one `all` stack, or `shards` shard stacks by index."""

    stacks: tuple[str, ...]  # one stack (role all), or the shard stacks in index order
    sharded: bool

    @classmethod
    def single(cls, stack: str) -> Layout:
        return cls((stack,), sharded=False)

    @classmethod
    def shards(cls, stacks: Sequence[str]) -> Layout:
        if not stacks:
            raise ValueError("a sharded layout needs at least one shard stack")
        if len(set(stacks)) != len(stacks):
            raise ValueError(f"a stack cannot hold two shards: {', '.join(stacks)}")
        return cls(tuple(stacks), sharded=True)

    @property
    def count(self) -> int:
        return len(self.stacks)

    def stack_of(self, hostname: str) -> str:
        return self.stacks[shard_of(hostname, self.count)] if self.sharded else self.stacks[0]

    def describe(self) -> str:
        return (f"{self.count} shard stack(s) {', '.join(self.stacks)}" if self.sharded
                else f"one stack of role all, {self.stacks[0]}")


@dataclass(frozen=True)
class Move:
    hostname: str
    source: str
    dest: str

    @property
    def urn(self) -> str:
        return names.custom_hostname_urn(self.source, self.hostname)


@dataclass(frozen=True)
class Batch:
    source: str
    dest: str
    hostnames: tuple[str, ...]

    def urns(self) -> list[str]:
        return [names.custom_hostname_urn(self.source, h) for h in self.hostnames]

    def argv(self, organization: str = DEFAULT_ORGANIZATION, pulumi: str = "pulumi") -> list[str]:
        """`pulumi state move --source <org/project/stack> --dest <org/project/stack> --yes <urn> ...`."""
        return [pulumi, "state", "move", "--source", fully_qualified(self.source, organization),
                "--dest", fully_qualified(self.dest, organization), "--yes", *self.urns()]


@dataclass
class ReshardPlan:
    current: Layout
    target: Layout
    core: str | None  # the core stack (for a move from `all`: the same stack, which becomes the core)
    total: int  # hostnames in the customers file
    moves: list[Move] = field(default_factory=list)

    @property
    def moved_fraction(self) -> float:
        return len(self.moves) / self.total if self.total else 0.0

    def counts(self) -> dict[tuple[str, str], int]:
        """Moves per (source, destination), in a stable order."""
        return dict(sorted(Counter((m.source, m.dest) for m in self.moves).items()))

    def moved_out(self) -> dict[str, int]:
        return dict(sorted(Counter(m.source for m in self.moves).items()))

    def moved_in(self) -> dict[str, int]:
        return dict(sorted(Counter(m.dest for m in self.moves).items()))

    def per_target_stack(self, hostnames: Iterable[str]) -> dict[str, int]:
        found = Counter(self.target.stack_of(h) for h in hostnames)
        return {stack: found.get(stack, 0) for stack in self.target.stacks}

    def batches(self, size: int) -> list[Batch]:
        if size < 1:
            raise ValueError(f"a batch holds at least one hostname, got {size}")
        grouped: dict[tuple[str, str], list[str]] = {}
        for move in self.moves:
            grouped.setdefault((move.source, move.dest), []).append(move.hostname)
        found: list[Batch] = []
        for (source, dest), hostnames in sorted(grouped.items()):
            hostnames.sort()
            found += [Batch(source, dest, tuple(hostnames[i:i + size])) for i in range(0, len(hostnames), size)]
        return found

    def up_order(self) -> list[str]:
        """The stacks to `up`, in order: the core, then the destinations, then the stacks hostnames left.

        A shard that only lost hostnames goes last: by then every moved hostname is declared and
        deployed in its new stack, and a mistake in the stack files shows in a destination's preview
        (a create instead of nothing) before any source acts.
        """
        order: list[str] = [self.core] if self.core else []
        dests = [s for s in self.target.stacks if s in self.moved_in()]
        rest = [s for s in self.target.stacks if s not in dests]
        for stack in dests + rest + [s for s in self.moved_out() if s not in self.target.stacks]:
            if stack not in order:
                order.append(stack)
        return order


def plan_reshard(hostnames: Iterable[str], current: Layout, target: Layout, core: str | None = None) -> ReshardPlan:
    """Every hostname whose stack differs between the two layouts, in file (sorted) order."""
    listed = list(hostnames)
    plan = ReshardPlan(current, target, core, total=len(listed))
    for hostname in listed:
        source, dest = current.stack_of(hostname), target.stack_of(hostname)
        if source != dest:
            plan.moves.append(Move(hostname, source, dest))
    return plan

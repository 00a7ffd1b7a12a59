"""`saas-domains reshard`: move custom hostnames between stacks when the shard count changes, without
replacing or deleting a single one.

It reads the stack files (where each hostname lives now: one `all` stack, or shard i of the current N)
and the one customers file, and returns the plan as a report: the `pulumi state move` commands in
batches, what to change in the stack files, and which stacks to `up`, in which order. `execute_moves`
runs the batches through the Pulumi CLI client. The move arithmetic is reshard_plan.py's (pure).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.clients.pulumi_cli import MIN_STATE_MOVE_VERSION, PulumiCli, PulumiCliError, said
from infra.errors import OperationError
from infra.model.customers import load_customers
from infra.model.names import PROJECT, bare_stack
from infra.model.settings import ALL_ROLE, CORE_ROLE, SHARD_ROLE, StackSettings
from infra.operations.reshard_plan import DEFAULT_ORGANIZATION, Layout, ReshardPlan, fully_qualified, plan_reshard
from infra.stack_files import shard_settings, stack_names, stack_settings

MIN_VERSION_TEXT = ".".join(map(str, MIN_STATE_MOVE_VERSION[:2]))
# Each `pulumi state move` rewrites both stacks' whole state on a file backend, so fewer, larger batches
# are faster: 5,000 hostnames into 3 shards took 149 s in batches of 100 and 48 s in batches of 500
# (benchmarks/state_move.py, Pulumi 3.274.1). A failed batch is resumed with --from-batch.
BATCH = 500
BACKEND_NOTE = (f"Needs the Pulumi CLI {MIN_VERSION_TEXT} or later (`pulumi state move`), logged in to the one "
                "backend that holds both stacks of every move (state move cannot cross backends), run from the "
                "project folder (a new destination stack gets its secrets manager there).")
MOVE_NOTE = ("`pulumi state move` copies the Cloudflare provider into the destination and refuses one that is "
             "already there with other inputs (keep one provider version in all stacks). A custom hostname "
             "depends on no other resource, so the move breaks no dependency.")
PAUSE_NOTE = ("Between the first move and the stack file changes, run no `pulumi up` on these stacks (pause the "
              "deploy workflows): a stack deployed with its old settings would delete hostnames it now holds "
              "but does not declare, or try to create again ones that moved away.")


class ReshardRefused(OperationError):
    """The stack files do not describe a layout to move from, or the target cannot be named."""


class MoveFailed(OperationError):
    """A `pulumi state move` batch failed; the batches before it are done."""


@dataclass(frozen=True)
class ReshardRequest:
    """What `reshard` was asked: the new count and how to name and find the stacks."""

    to: int
    from_all: str | None = None  # the first move: this stack of role all becomes the core
    stack_prefix: str | None = None
    shard_stacks: tuple[str, ...] | None = None
    organization: str | None = None
    batch: int = BATCH
    execute: bool = False
    pulumi: str = "pulumi"


def reshard(project_dir: Path, request: ReshardRequest) -> dict[str, Any]:
    """The plan, as a report (the batches with their argv, the stack file changes, the `up` order)."""
    current, core, settings, organization = current_layout(project_dir, request)
    target = Layout.shards(target_names(request, current))
    if core in target.stacks:
        raise ReshardRefused(f"the core stack {core} cannot also be a shard stack")
    customers = load_customers(settings.customers_path(project_dir), settings.validation_rules())
    hostnames = [h.hostname for h in customers.hostnames]
    plan = plan_reshard(hostnames, current, target, core=core)
    return _report(project_dir, plan, hostnames, settings, organization, request)


def current_layout(project_dir: Path, request: ReshardRequest) -> tuple[Layout, str, StackSettings, str]:
    """The current layout, the core stack, the settings that name the customers file, the organization."""
    if request.from_all:
        settings = stack_settings(project_dir, request.from_all)
        if settings.role != ALL_ROLE:
            raise ReshardRefused(f"--from-all {request.from_all}: its {PROJECT}:role is {settings.role}, not "
                                 f"{ALL_ROLE}; the first move starts from the one stack that declares every hostname")
        return Layout.single(request.from_all), request.from_all, settings, request.organization or DEFAULT_ORGANIZATION

    def wanted(name: str, _settings: StackSettings) -> bool:
        return ((not request.stack_prefix or name.startswith(request.stack_prefix))
                and (not request.shard_stacks or name in request.shard_stacks))

    shards = shard_settings(project_dir, wanted)
    if not shards:
        raise ReshardRefused("no stack file of role shard here (use --from-all STACK for the first move from a "
                             "stack of role all)")
    counts = {s.shards for s in shards.values()}
    cores = {s.core_stack for s in shards.values()}
    files = {s.customers_file for s in shards.values()}
    listing = ", ".join(f"{name} (shard {s.shard} of {s.shards})" for name, s in shards.items())
    if len(counts) > 1 or len(cores) > 1 or len(files) > 1:
        raise ReshardRefused(f"the shard stack files do not describe one layout (one {PROJECT}:shards, coreStack "
                             f"and customersFile): {listing}. Run reshard before changing the stack files, or name "
                             "the shards with --stack-prefix or --shard-stacks")
    count = counts.pop()
    by_index: dict[int, list[str]] = {}
    for name, s in shards.items():
        by_index.setdefault(s.shard, []).append(name)
    if sorted(by_index) != list(range(count)) or any(len(v) > 1 for v in by_index.values()):
        raise ReshardRefused(f"{count} shards need one stack file for each index 0 to {count - 1}; found {listing}")
    core_stack = cores.pop() or ""
    organization = request.organization or (core_stack.split("/")[0] if core_stack.count("/") == 2
                                            else DEFAULT_ORGANIZATION)
    first = next(iter(shards.values()))
    return Layout.shards([by_index[i][0] for i in range(count)]), bare_stack(core_stack), first, organization


def target_names(request: ReshardRequest, current: Layout) -> list[str]:
    if request.shard_stacks:
        return list(request.shard_stacks)
    prefix = request.stack_prefix
    if prefix is None and current.sharded:
        found = {re.sub(r"\d+$", "", s) for s in current.stacks}
        if len(found) == 1 and all(s == f"{p}{i}" for p in found for i, s in enumerate(current.stacks)):
            prefix = found.pop()
    if prefix is None:
        raise ReshardRefused("name the shard stacks: --stack-prefix PREFIX (PREFIX0 .. PREFIX<N-1>) or "
                             "--shard-stacks")
    return [f"{prefix}{i}" for i in range(request.to)]


def _sharding_settings(project_dir: Path, stack: str) -> dict[str, str]:
    """The stack's sharding settings as it has them now, as strings (to list only what must change)."""
    settings = stack_settings(project_dir, stack)
    return {"role": settings.role, "coreStack": settings.core_stack or "", "shard": str(settings.shard),
            "shards": str(settings.shards)}


def _report(project_dir: Path, plan: ReshardPlan, hostnames: list[str], settings: StackSettings,
            organization: str, request: ReshardRequest) -> dict[str, Any]:
    batches = plan.batches(request.batch)
    existing = set(stack_names(project_dir))
    core = plan.core
    new_stacks = [s for s in plan.target.stacks if s not in existing]
    config: list[str] = []
    if not plan.current.sharded and core:
        config.append(f"pulumi config set --stack {core} {PROJECT}:role {CORE_ROLE}")
    for index, stack in enumerate(plan.target.stacks):
        values = {"role": SHARD_ROLE, "coreStack": fully_qualified(core, organization) if core else None,
                  "shard": str(index), "shards": str(plan.target.count)}
        now = _sharding_settings(project_dir, stack) if stack in existing else {}
        config += [f"pulumi config set --stack {stack} {PROJECT}:{key} {shlex.quote(value)}"
                   for key, value in values.items() if value is not None and now.get(key) != value]
    retired = [s for s in plan.current.stacks if plan.current.sharded and s not in plan.target.stacks]
    confirmations = []
    for stack, count in plan.moved_out().items():
        max_removals = (stack_settings(project_dir, stack).max_removals if stack in existing
                        else settings.max_removals)
        confirmations.append({"stack": stack, "moved_out": count, "max_removals": max_removals,
                              "needs_confirmation": count > max_removals and stack not in retired})
    return {
        "zone": settings.zone,
        "from": {"layout": plan.current.describe(), "stacks": list(plan.current.stacks),
                 "sharded": plan.current.sharded},
        "to": {"shards": plan.target.count, "stacks": list(plan.target.stacks)},
        "core": core,
        "organization": organization,
        "execute": request.execute,
        "hostnames": plan.total,
        "moves": len(plan.moves),
        "stay": plan.total - len(plan.moves),
        "moved_fraction": round(plan.moved_fraction, 4),
        "per_move": [{"source": s, "dest": d, "hostnames": n} for (s, d), n in plan.counts().items()],
        "per_shard_after": plan.per_target_stack(hostnames),
        "batches": [{"number": i, "source": b.source, "dest": b.dest, "hostnames": list(b.hostnames),
                     "argv": b.argv(organization, request.pulumi)} for i, b in enumerate(batches, 1)],
        "new_stacks": [fully_qualified(s, organization) for s in new_stacks],
        "config": config,
        "up_order": plan.up_order(),
        "removal_confirmations": confirmations,
        "retired_stacks": retired,
        "notes": [BACKEND_NOTE, MOVE_NOTE, PAUSE_NOTE],
    }


def execute_moves(report: dict[str, Any], pulumi: PulumiCli, from_batch: int = 1,
                  on_progress: Callable[[str], None] = lambda line: None) -> None:
    """Create the missing destination stacks, then run the batches from `from_batch` (1-based) on."""
    batches = report["batches"]
    if not 1 <= from_batch <= len(batches):
        raise ReshardRefused(f"--from-batch must be 1 to {len(batches)}, got {from_batch}")
    pulumi.require_version(MIN_STATE_MOVE_VERSION, "reshard --execute (`pulumi state move`)")
    create_missing_stacks(report["new_stacks"], pulumi, on_progress)
    for batch in batches[from_batch - 1:]:
        on_progress(f"batch {batch['number']}/{len(batches)}: {len(batch['hostnames'])} from {batch['source']} "
                    f"to {batch['dest']}")
        done = pulumi.run(batch["argv"])
        if done.returncode != 0:
            raise MoveFailed(
                f"`pulumi state move` failed on batch {batch['number']} of {len(batches)} "
                f"(exit {done.returncode}): {said(done)}\n"
                f"Batches 1 to {batch['number'] - 1} are moved. Fix the cause, then resume with the same "
                f"arguments and --execute --from-batch {batch['number']} (change no stack file before).")


def create_missing_stacks(stacks: list[str], pulumi: PulumiCli, on_progress: Callable[[str], None]) -> None:
    """`pulumi state move` loads its destination and never creates it (RequireStack with LoadOnly in
    pkg/cmd/pulumi/state/state_move.go): the new shard stacks are made first, with the project's
    secrets manager, and the stack the user has selected stays selected (`--no-select`)."""
    if not stacks:
        return
    existing = pulumi.stack_names()
    for stack in stacks:
        if bare_stack(stack) in existing:
            continue
        on_progress(f"creating stack {stack}")
        try:
            pulumi.init_stack(stack)
        except PulumiCliError as err:
            raise PulumiCliError(f"{err}\nNothing is moved yet.") from None

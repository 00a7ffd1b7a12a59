"""`saas-domains stacks`: the zone's stacks as CI deploys and previews them, from the repository's stack files.

For a single stack (role all) that stack; for a core, its shard stacks as a job matrix with each
shard's `--parallel` and the matrix's `max-parallel`, so that all shards together stay within
Cloudflare's rate. For a pull request, the shards the change touches (from its `diff`) and the changed
paths decide what is previewed: a change to any other file than the customers file changes the
program or a stack's settings, so the core and every shard are previewed (`preview_core`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from infra.model.settings import CORE_ROLE
from infra.stack_files import StackFilesError, shard_layout, stack_settings

# Cloudflare allows 1,200 API requests per 5 minutes per token: 4 a second. Each Pulumi operation in flight
# makes about one request a second (a create is a POST, then reads while the certificate is pending), so
# the operations in flight across all stacks deploying at once must stay at 4 or below.
REQUESTS_PER_SECOND = 1200 // 300


def deploy_plan(project_dir: Path, stack: str) -> dict[str, Any]:
    """What the deploy and preview workflows run for `stack` (the repository's PULUMI_STACK): its role, and
    for a core, its shard stacks as a job matrix with each shard's `--parallel` and the matrix's
    `max-parallel`, so that parallel × max-parallel ≤ 4 operations in flight (1,200 requests / 300 s)."""
    settings = stack_settings(project_dir, stack)
    layout = shard_layout(project_dir, stack) if settings.role == CORE_ROLE else None
    if layout is None:
        return {"role": settings.role, "core": stack, "parallel": REQUESTS_PER_SECOND, "shards": [],
                "shard_count": 0, "max_parallel": 1, "shard_parallel": 0}
    if sorted(layout.stacks) != list(range(layout.shards)):
        missing = sorted(set(range(layout.shards)) - set(layout.stacks))
        raise StackFilesError(f"{stack} has {layout.shards:,} shard{'' if layout.shards == 1 else 's'} but no "
                              f"stack file for {'shard' if len(missing) == 1 else 'shards'} "
                              + ", ".join(map(str, missing)))
    parallel = max(1, REQUESTS_PER_SECOND // layout.shards)
    max_parallel = max(1, min(layout.shards, REQUESTS_PER_SECOND // parallel))
    return {"role": settings.role, "core": stack, "parallel": REQUESTS_PER_SECOND,
            "shards": [{"shard": i, "stack": layout.stacks[i]} for i in range(layout.shards)],
            "shard_count": layout.shards, "shard_parallel": parallel, "max_parallel": max_parallel}


def stacks_to_run(project_dir: Path, stack: str, customers_file: str, *, changed_files: Iterable[str] | None = None,
                  touched_shards: Iterable[int] | None = None) -> dict[str, Any]:
    """The deploy plan, narrowed for a pull request: `changed_files` (None: everything changed) and the
    shards the change touches (None: all). `customers_file` is the stack's, relative to the project."""
    plan = deploy_plan(project_dir, stack)
    everything = True
    if changed_files is not None:
        everything = bool(set(changed_files) - {customers_file})
    if touched_shards is not None and not everything:
        touched = set(touched_shards)
        plan["shards"] = [s for s in plan["shards"] if s["shard"] in touched]
    plan["preview_core"] = everything or plan["role"] != CORE_ROLE
    return plan

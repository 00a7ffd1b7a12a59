"""The URN proof of `saas-domains reshard`: a moved custom hostname is neither replaced nor deleted.

Both sides are the real program under the mock engine: the source stack as it declares the hostname
before the move (one `all` stack, or shard i of 3), the destination shard as it declares it after the
stack files change (shard j of 3 or of 4). For every hostname `reshard` moves:

1. the URN `reshard` hands to `pulumi state move` is the one the source declares (else the move
   would find nothing, or the wrong resource);
2. the URN the move gives it in the destination is one the destination accepts as its own. The real
   CLI (tests/engine/test_real_engine.py runs it; pkg/cmd/pulumi/state/state_move.go) re-parents the
   hostname to the destination's root stack, because the `customers` component is not moved, and
   since 3.224.0 rebuilds the URN from that parent:
   `urn:pulumi:<dest>::saas-domains::cloudflare:index/customHostname:CustomHostname::<hostname>`,
   which the destination's `Alias(parent=ROOT_STACK_RESOURCE)` resolves to; 3.127 to 3.223 kept the
   old type chain, which is the destination's declared URN. Either way the engine matches the moved
   state to the declared resource: no create, no delete;
3. the inputs the destination declares equal those the source declared, so the provider's diff has
   nothing to replace (nor update);
4. the source's custom hostnames depend on no other resource, so the move breaks no dependency.

What cannot be proven here (no Cloudflare resource plugin, so no preview after the move): that the
engine resolves the alias as resolved here and makes the rename a "same" step; the provider copied
into the destination (`pulumi state move` refuses one already there with other inputs, e.g. another
provider version); and the provider's read/refresh of the moved hostname against Cloudflare, whose
outputs (status, ownership token) the mock invents.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.model import names
from infra.model.names import custom_hostname_urn, moved_urn
from infra.model.sharding import shard_of
from infra.offline import DeclaredResource, Rendering, render
from infra.operations.reshard_plan import Layout, plan_reshard
from tests.conftest import PROJECT_ROOT, dev_config

CORE = "dev"  # the `all` stack that becomes the core


def write_customers(folder: Path, customers: int = 30, per_customer: int = 3) -> Path:
    lines = ["defaults:", "  ssl: {method: http, min_tls_version: \"1.2\"}", "customers:"]
    for c in range(customers):
        hostnames = ", ".join(f"h{n}.customer{c:03}.example.org" for n in range(per_customer))
        lines.append(f"  - id: c{c:03}\n    hostnames: [{hostnames}]")
        if c % 5 == 0:  # some with their own settings, so the inputs compared are not all alike
            lines.append("    ssl: {min_tls_version: \"1.3\"}")
            lines.append("    metadata: {plan: gold}")
    path = folder / "customers.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def render_all(customers: Path) -> Rendering:
    return render(PROJECT_ROOT, CORE, config=dev_config(customersFile=str(customers)))


def render_shard(customers: Path, index: int, shards: int) -> Rendering:
    return render(PROJECT_ROOT, f"shard-{index}", config=dev_config(
        customersFile=str(customers), role="shard", coreStack=f"organization/{names.PROJECT}/{CORE}",
        shard=index, shards=shards))


def hostname_resources(rendering: Rendering) -> dict[str, DeclaredResource]:
    return {r.name: r for r in rendering.of_type(names.CUSTOM_HOSTNAME_RESOURCE)}


def prove(moves: list[Any], sources: dict[str, Rendering], dests: dict[str, Rendering]) -> None:
    source_resources = {stack: hostname_resources(r) for stack, r in sources.items()}
    dest_resources = {stack: hostname_resources(r) for stack, r in dests.items()}
    assert moves
    for move in moves:
        before = source_resources[move.source][move.hostname]
        after = dest_resources[move.dest][move.hostname]
        # 1. the URN reshard moves is the one the source declares
        assert move.urn == before.urn == custom_hostname_urn(move.source, move.hostname)
        # 2. what the move makes of it is an alias of what the destination declares (Pulumi 3.224.0 on), or
        #    the declared URN itself (3.127 to 3.223)
        assert moved_urn(before.urn, move.dest) in after.alias_urns()
        assert moved_urn(before.urn, move.dest, keep_parent_type=True) == after.urn
        assert after.urn not in after.alias_urns()  # the alias adds a URN, it does not restate the declared one
        # 3. the same inputs: nothing for the provider to replace or update
        assert after.inputs == before.inputs
        assert after.secret_inputs == before.secret_inputs
        # 4. nothing to break: a custom hostname depends on no resource (its zone id is a plain value)
        assert before.dependencies == [] and after.dependencies == []


def test_all_to_core_and_three_shards_moves_each_hostname_onto_the_urn_its_shard_declares(tmp_path):
    customers = write_customers(tmp_path)
    source = render_all(customers)
    dests = {f"shard-{i}": render_shard(customers, i, 3) for i in range(3)}
    hostnames = sorted(hostname_resources(source))
    assert len(hostnames) == 90
    plan = plan_reshard(hostnames, Layout.single(CORE), Layout.shards(list(dests)), core=CORE)
    assert len(plan.moves) == 90  # everything leaves the all stack
    prove(plan.moves, {CORE: source}, dests)
    # each shard declares exactly the hostnames moved to it, and the core (same stack, role core) none
    for stack, rendering in dests.items():
        assert sorted(hostname_resources(rendering)) == sorted(m.hostname for m in plan.moves if m.dest == stack)
    core = render(PROJECT_ROOT, CORE, config=dev_config(customersFile=str(customers), role="core"))
    assert hostname_resources(core) == {}


def test_three_to_four_shards_moves_each_hostname_onto_the_urn_its_new_shard_declares(tmp_path):
    customers = write_customers(tmp_path, customers=60)
    sources = {f"shard-{i}": render_shard(customers, i, 3) for i in range(3)}
    dests = {f"shard-{i}": render_shard(customers, i, 4) for i in range(4)}
    hostnames = sorted(h for r in sources.values() for h in hostname_resources(r))
    assert len(hostnames) == 180 and len(set(hostnames)) == 180  # each declared by exactly one shard
    plan = plan_reshard(hostnames, Layout.shards(list(sources)), Layout.shards(list(dests)), core=CORE)
    assert {m.dest for m in plan.moves} == {"shard-3"}
    assert 0.15 <= plan.moved_fraction <= 0.35  # about 1/4 (180 hostnames: a loose bound)
    prove(plan.moves, sources, dests)
    # a hostname that stays keeps the very URN it had: nothing to move, nothing to re-parent
    for hostname in hostnames:
        if shard_of(hostname, 3) == shard_of(hostname, 4):
            stack = f"shard-{shard_of(hostname, 3)}"
            assert hostname_resources(sources[stack])[hostname].urn == hostname_resources(dests[stack])[hostname].urn


def test_only_the_custom_hostnames_move_never_their_component():
    # The component stays in the source (it still has hostnames) and every shard has its own: moving
    # it would leave the source without one or collide with the destination's ("already exists").
    urn = custom_hostname_urn("dev", "a.example.org")
    assert urn == ("urn:pulumi:dev::saas-domains::saas-domains:index:CustomerHostnames$"
                   "cloudflare:index/customHostname:CustomHostname::a.example.org")
    assert moved_urn(urn, "shard-1", keep_parent_type=True) == urn.replace("urn:pulumi:dev::", "urn:pulumi:shard-1::")
    assert moved_urn(urn, "shard-1") == (
        "urn:pulumi:shard-1::saas-domains::cloudflare:index/customHostname:CustomHostname::a.example.org")
    with pytest.raises(ValueError, match="not a Pulumi URN"):
        moved_urn("dev::saas-domains::t::n", "shard-1")

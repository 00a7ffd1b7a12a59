"""Issue 11, the program: a core (origin, edge, zone-wide settings) and shards (their share of the hostnames).

Every hostname is declared by exactly one shard, the same ones the single `all` stack declares; the core
declares everything else and no hostname; a shard takes the zone id from the core's outputs through a
stack reference and stops, declaring nothing, when the core has not been deployed. A shard's custom
hostnames carry an alias to the stack's root, and a hostname moved by `pulumi state move` arrives with
the URN the destination declares.
"""

from __future__ import annotations

import json

import pytest

from infra.components.customer_hostnames import shard_aliases
from infra.model import names
from infra.model.names import moved_urn
from infra.model.sharding import shard_of
from infra.offline import ProgramError, Rendering
from tests.cli.helpers import run_cli
from tests.conftest import PROJECT_ROOT, run_program, run_stack
from tests.fakes.cloud import FakeCloud

SHARDS = 3
SHARD_STACKS = [f"shard-example-{i}" for i in range(SHARDS)]
CORE_STACK = "shard-example-core"
CORE_FULL_NAME = f"organization/{names.PROJECT}/{CORE_STACK}"
EXAMPLE_STACKS = [CORE_STACK, *SHARD_STACKS]
ALIAS_TO_ROOT = {"name": "", "type": "", "stack": "", "project": "", "noParent": True}


def hostnames_of(rendering: Rendering) -> list[str]:
    return [r.name for r in rendering.of_type(names.CUSTOM_HOSTNAME_RESOURCE)]


@pytest.fixture(scope="module")
def generated_file(tmp_path_factory):
    """300 hostnames: 150 customers of two each."""
    path = tmp_path_factory.mktemp("sharding") / "customers.yaml"
    lines = ["customers:\n"]
    for number in range(150):
        lines.append(f"  - id: customer-{number:04d}\n")
        lines.append(f"    hostnames: [app.customer-{number:04d}.example, mail.customer-{number:04d}.example]\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("which", ["repository", "generated"])
def test_every_hostname_is_declared_by_exactly_one_shard_and_the_union_is_the_all_stacks(which, generated_file):
    customers = None if which == "repository" else generated_file
    everything = hostnames_of(run_program(customers))
    assert len(everything) == (4 if which == "repository" else 300)

    declared_by: dict[str, list[int]] = {}
    for index, stack in enumerate(SHARD_STACKS):
        rendering = run_stack(stack, customers)
        for hostname in hostnames_of(rendering):
            declared_by.setdefault(hostname, []).append(index)
        assert set(rendering.outputs["customerHostnames"]) == set(hostnames_of(rendering))

    assert sorted(declared_by) == sorted(everything)
    assert all(len(shards) == 1 for shards in declared_by.values()), declared_by
    assert all(shards == [shard_of(hostname, SHARDS)] for hostname, shards in declared_by.items())
    if which == "generated":  # each shard has a fair share (jump hash: ~100 each)
        sizes = [sum(1 for s in declared_by.values() if s == [i]) for i in range(SHARDS)]
        assert all(60 <= size <= 140 for size in sizes), sizes


def signature(rendering: Rendering) -> dict[tuple[str, str, str], dict]:
    """Resources by (type, name, parent type), URN-free, so two stacks compare."""
    by_key = {}
    for r in rendering.resources:
        parent_type = r.parent.split("::")[2] if r.parent else ""
        by_key[(r.type, r.name, parent_type)] = {k: v for k, v in r.inputs.items() if k != "__provider"}
    return by_key


def test_the_core_declares_everything_but_the_customer_hostnames():
    everything = run_program()
    core = run_program(role="core")
    expected = {key: inputs for key, inputs in signature(everything).items()
                if names.CUSTOMER_HOSTNAMES_TYPE not in key}
    assert signature(core) == expected
    assert not core.of_type(names.CUSTOM_HOSTNAME_RESOURCE)
    assert not core.of_type(names.CUSTOMER_HOSTNAMES_TYPE)
    assert "customerHostnames" not in core.outputs
    # What the shards read, besides the origin's outputs of an `all` stack.
    assert core.outputs["zoneId"] == FakeCloud.zone_id
    assert core.outputs["zone"] == "mailito.com"
    assert core.outputs["cnameDomain"] == "cname.mailito.com"
    assert core.outputs["fallbackOrigin"] == "proxy-fallback.mailito.com"
    assert {k: v for k, v in everything.outputs.items() if k != "customerHostnames"}.items() <= core.outputs.items()


def test_the_core_with_the_cloud_run_origin_declares_no_hostname_either():
    core = run_stack("gcp-example", role="core")
    assert not core.of_type(names.CUSTOM_HOSTNAME_RESOURCE)
    assert core.of_type(names.CLOUD_RUN_ORIGIN_TYPE) and core.of_type(names.EDGE_TYPE)
    assert core.outputs["zoneId"] == FakeCloud.zone_id and "customerHostnames" not in core.outputs


def test_the_example_core_stack_is_a_core():
    core = run_stack(CORE_STACK)
    assert not core.of_type(names.CUSTOM_HOSTNAME_RESOURCE)
    assert core.of_type(names.ORIGIN_TYPE) and core.of_type(names.EDGE_TYPE)
    assert core.of_type(names.ORIGIN_AUTH_TYPE)


def test_a_shard_declares_no_origin_or_edge_and_takes_the_zone_id_from_the_core():
    core_zone_id = "feedfacefeedfacefeedfacefeedface"
    cloud = FakeCloud(core_outputs={"zoneId": core_zone_id, "zone": "mailito.com"})
    rendering = run_stack("shard-example-1", cloud=cloud)
    assert {r.type for r in rendering.resources} == {names.CUSTOMER_HOSTNAMES_TYPE, names.CUSTOM_HOSTNAME_RESOURCE}
    assert hostnames_of(rendering)
    assert {r.inputs["zoneId"] for r in rendering.of_type(names.CUSTOM_HOSTNAME_RESOURCE)} == {core_zone_id}
    assert rendering.invokes == []  # no zone lookup, no IP ranges, no VPC
    assert set(rendering.outputs) == {"customerHostnames"}
    assert cloud.created.count("pulumi:pulumi:StackReference") == 2  # its core and its own last deployment


def test_a_shard_uses_the_core_reference_even_when_it_names_a_zone_id():
    cloud = FakeCloud(core_outputs={"zoneId": "feedfacefeedfacefeedfacefeedface"})
    rendering = run_stack("shard-example-1", cloud=cloud, zoneId="00000000000000000000000000000000")
    assert {r.inputs["zoneId"] for r in rendering.of_type(names.CUSTOM_HOSTNAME_RESOURCE)} == {
        "feedfacefeedfacefeedfacefeedface"}


@pytest.mark.parametrize("core_outputs", [{}, {"zone": "mailito.com", "fallbackOrigin": "x"}, {"zoneId": ""}])
def test_a_shard_whose_core_is_not_deployed_stops_naming_the_core_and_declares_nothing(core_outputs):
    cloud = FakeCloud(core_outputs=core_outputs)
    with pytest.raises(ProgramError) as raised:
        run_stack("shard-example-0", cloud=cloud)
    message = str(raised.value)
    assert CORE_FULL_NAME in message and "deploy the core first" in message and "zoneId" in message
    assert set(cloud.created) == {"pulumi:pulumi:StackReference"}, "declared resources without a core"


def test_a_shard_of_another_zones_core_stops():
    cloud = FakeCloud(core_outputs={"zoneId": FakeCloud.zone_id, "zone": "other.example"})
    with pytest.raises(ProgramError, match="other.example"):
        run_stack("shard-example-0", cloud=cloud)
    assert set(cloud.created) == {"pulumi:pulumi:StackReference"}


def test_a_shards_removal_guard_compares_with_its_own_last_deployment(generated_file):
    def deployed(hostnames: list[str]) -> FakeCloud:
        return FakeCloud(deployed_outputs={"customerHostnames": {h: {"customer": "old"} for h in hostnames}})

    mine = hostnames_of(run_stack("shard-example-2", generated_file))
    # Every hostname of the file is in the zone, but only this shard's are in its own output: no refusal.
    assert sorted(hostnames_of(run_stack("shard-example-2", generated_file, cloud=deployed(mine)))) == sorted(mine)
    cloud = deployed(mine + [f"gone-{n}.customer.example" for n in range(6)])
    with pytest.raises(ProgramError, match="allowRemovals"):
        run_stack("shard-example-2", generated_file, cloud=cloud)
    assert set(cloud.created) == {"pulumi:pulumi:StackReference"}


def test_only_a_shards_custom_hostnames_carry_the_alias_to_the_stack_root():
    assert len(shard_aliases()) == 1 and shard_aliases()[0].parent is None  # pulumi.ROOT_STACK_RESOURCE
    for stack in SHARD_STACKS:
        rendering = run_stack(stack)
        for resource in rendering.resources:
            if resource.type == names.CUSTOM_HOSTNAME_RESOURCE:
                assert resource.aliases == [ALIAS_TO_ROOT]
                assert resource.alias_urns() == [names.custom_hostname_urn(stack, resource.name, parented=False)]
            else:
                assert resource.aliases == []
    everything = run_program()
    assert everything.of_type(names.CUSTOM_HOSTNAME_RESOURCE)
    assert all(r.aliases == [] for r in everything.of_type(names.CUSTOM_HOSTNAME_RESOURCE))
    assert all(r.aliases == [] for r in everything.of_type(names.CUSTOMER_HOSTNAMES_TYPE))
    # The provider SDKs' own type aliases (e.g. cloudflare:index/record:Record) are recorded as they are sent.
    wildcard = next(r for r in everything.resources if r.name == names.child(names.EDGE, names.WILDCARD_RECORD))
    assert wildcard.aliases == [{"name": "", "type": "cloudflare:index/record:Record", "stack": "", "project": "",
                                 "parentUrn": ""}]
    assert wildcard.alias_urns() == [wildcard.urn.replace(names.DNS_RECORD_RESOURCE, "cloudflare:index/record:Record")]


def test_a_hostname_moved_by_state_move_has_the_urn_its_destination_declares(generated_file):
    """`pulumi state move` re-parents to the destination's root: the URN it gives (3.224.0 on) is the alias
    of the hostname the destination declares, and the one 3.127 to 3.223 gave (old type chain kept) is the
    declared URN itself. From the `all` stack to core + 3 shards, and from 3 shards to 4.
    """
    everything = run_program(generated_file)
    shards = {stack: run_stack(stack, generated_file).by_urn() for stack in SHARD_STACKS}
    for resource in everything.of_type(names.CUSTOM_HOSTNAME_RESOURCE):
        assert resource.urn == names.custom_hostname_urn("dev", resource.name)
        destination = SHARD_STACKS[shard_of(resource.name, SHARDS)]
        moved_by_old_cli = moved_urn(resource.urn, destination, keep_parent_type=True)
        assert moved_by_old_cli in shards[destination], moved_by_old_cli
        declared = shards[destination][moved_by_old_cli]
        assert declared.alias_urns() == [names.custom_hostname_urn(destination, resource.name, parented=False)]
        assert moved_urn(resource.urn, destination) in declared.alias_urns()

    four = {i: {r.name: r for r in run_stack(f"shard-example-{min(i, 2)}", generated_file, shard=i, shards=4)
                .of_type(names.CUSTOM_HOSTNAME_RESOURCE)} for i in range(4)}
    moved_count = 0
    for stack, declared in shards.items():
        for urn, resource in declared.items():
            if resource.type != names.CUSTOM_HOSTNAME_RESOURCE:
                continue
            target = shard_of(resource.name, 4)
            if target == SHARD_STACKS.index(stack):
                continue
            moved_count += 1
            target_stack = f"shard-example-{min(target, 2)}"
            assert moved_urn(urn, target_stack, keep_parent_type=True) == four[target][resource.name].urn
            assert moved_urn(urn, target_stack) in four[target][resource.name].alias_urns()
    assert moved_count == len(four[3])  # jump hash: 3 → 4 moves only what the new shard takes


def test_moved_urn_is_at_the_destination_root_or_keeps_the_old_type_chain():
    urn = names.custom_hostname_urn("prod", "mail.mkdev.me")
    at_the_root = names.custom_hostname_urn("prod-shard-1", "mail.mkdev.me", parented=False)
    assert moved_urn(urn, "prod-shard-1") == at_the_root
    assert moved_urn(urn, "prod-shard-1", keep_parent_type=True) == names.custom_hostname_urn(
        "prod-shard-1", "mail.mkdev.me")
    with pytest.raises(ValueError):
        moved_urn("not-a-urn", "x")


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_plan_renders_each_example_stack(stack, capsys, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    result = run_cli(capsys, "plan", "--stack", stack, "--json")
    assert result.code == 0, result.err
    plan = json.loads(result.out)
    assert plan["stack"] == stack
    titles = [c["title"] for c in plan["components"]]
    if stack == CORE_STACK:
        assert plan["role"] == {"name": "core"}
        assert titles == ["Origin authentication", "Origin (AWS)", "Edge (Cloudflare)"]
        assert plan["counts"]["customHostnames"] == 0
        assert plan["outputs"]["zoneId"] == FakeCloud.zone_id
    else:
        assert titles == ["Customer hostnames (Cloudflare)"]
        index = int(stack.rsplit("-", 1)[1])
        assert plan["role"] == {"name": "shard", "shard": index, "shards": SHARDS, "coreStack": CORE_FULL_NAME}
        hosts = [h["hostname"] for c in plan["customers"] for h in c["hostnames"]]
        assert hosts and all(shard_of(h, SHARDS) == index for h in hosts)
        assert plan["counts"]["providerLookups"] == 0


def test_plan_text_of_a_shard(capsys, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    result = run_cli(capsys, "plan", "--stack", "shard-example-1")
    assert result.code == 0, result.err
    assert "Customer hostnames (Cloudflare)" in result.out and "Edge" not in result.out
    assert "Role shard 1 of 3 (0-based)" in result.out and CORE_FULL_NAME in result.out

"""The program and the commands under the real Pulumi CLI and language host, on a local file backend.

What these show is what the engine does with the program, which the mock engine cannot: that a
refusal of the program stops a real `pulumi up` with nothing changed, what a real `pulumi state
move` does to the URNs of the custom hostnames `saas-domains reshard --execute` moves, and that a
plain `pulumi destroy` runs the fallback-origin waiter (a dynamic provider, through
pulumi-resource-pulumi-python) against the Cloudflare API emulator. The Cloudflare, random and tls
resource plugins cannot be built here (tools/engine/build says why), so no case needs one: each
stops, or works on state alone or on the dynamic provider, before a bridged provider is asked anything.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import cloudflare
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from infra.components.fallback_origin_waiter import FallbackOriginWaiterProvider
from infra.model.names import (
    CUSTOM_HOSTNAME_RESOURCE,
    CUSTOMER_HOSTNAMES_TYPE,
    DYNAMIC_RESOURCE,
    EDGE_TYPE,
    PROJECT,
    custom_hostname_urn,
    moved_urn,
)
from infra.model.sharding import shard_of
from infra.offline import render
from tests.conftest import PROJECT_ROOT, stack_config
from tests.emulator import cloudflare as emulated
from tests.engine.real_pulumi import deployed_state

pytest_plugins = ["tests.emulator.fixtures"]

ZONE = "example.net"
NO_CUSTOMERS = str(PROJECT_ROOT / "customers.yaml")  # the project's own, empty: the edge is what these tests use


def edge_config(zone_id: str, **settings) -> dict[str, str]:
    """The example stack's settings in the emulator's zone, with no customers (these tests take the edge)."""
    return stack_config("dev", zone=emulated.ZONE_NAME, zoneId=zone_id, customersFile=NO_CUSTOMERS, **settings)
ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"


def customers_yaml(hostnames: list[str]) -> str:
    entries = "\n".join(f"  - id: c{i}\n    hostnames: [{h}]" for i, h in enumerate(hostnames))
    return f"customers:\n{entries}\n"


def deploy_state_of(real_pulumi, stack, customers_path, plugin_versions, **settings):
    """Seed `stack` with what an `up` of these customers would have left: their custom hostnames, outputs."""
    config = stack_config("dev", zone=ZONE, zoneId=ZONE_ID, customersFile=str(customers_path), **settings)
    rendering = render(PROJECT_ROOT, stack, config=config)
    hostnames = [r for r in rendering.resources
                 if r.type in (CUSTOMER_HOSTNAMES_TYPE, CUSTOM_HOSTNAME_RESOURCE)]
    state = deployed_state(stack, hostnames, {"customerHostnames": rendering.outputs["customerHostnames"]},
                           plugin_versions)
    real_pulumi.seed(stack, state)
    return state


def comparable(resources):
    """A state's resources without what every checkpoint rewrites (timestamps)."""
    return [{k: v for k, v in r.items() if k not in ("created", "modified")} for r in resources]


def test_the_cli_is_at_least_the_locked_python_sdk(real_pulumi):
    from importlib.metadata import version

    cli = real_pulumi.run("version").stdout.strip().lstrip("v")
    as_tuple = lambda text: tuple(int(part) for part in text.split(".")[:3])  # noqa: E731
    assert as_tuple(cli) >= as_tuple(version("pulumi")), (cli, version("pulumi"))


def test_the_removal_guard_stops_a_real_up_and_changes_nothing(real_pulumi, tmp_path, plugin_versions):
    deployed = [f"host{i}.example.org" for i in range(8)]
    customers = tmp_path / "customers.yaml"
    customers.write_text(customers_yaml(deployed))
    stack = real_pulumi.new_stack({"zone": ZONE, "zoneId": ZONE_ID, "customersFile": str(customers)})
    deploy_state_of(real_pulumi, stack, customers, plugin_versions)
    before = comparable(real_pulumi.resources(stack))

    customers.write_text(customers_yaml(deployed[:1]))  # seven removed, five allowed
    answer = real_pulumi.run("up", "--yes", "--stack", stack, check=False)

    assert answer.returncode != 0
    output = answer.stdout + answer.stderr
    assert "removal guard: this change deletes 7 custom hostnames" in output
    assert f"pulumi config set {PROJECT}:allowRemovals 7" in output
    assert comparable(real_pulumi.resources(stack)) == before
    assert "deleted" not in answer.stdout.lower()


def test_a_broken_customers_file_stops_a_real_up_and_deletes_nothing(real_pulumi, tmp_path, plugin_versions):
    customers = tmp_path / "customers.yaml"
    customers.write_text(customers_yaml(["mail.example.org", "news.example.org"]))
    stack = real_pulumi.new_stack({"zone": ZONE, "zoneId": ZONE_ID, "customersFile": str(customers)})
    deploy_state_of(real_pulumi, stack, customers, plugin_versions)
    before = comparable(real_pulumi.resources(stack))

    customers.write_text(textwrap.dedent("""\
        customers:
          - id: c0
            hostnames: [mail.example.org
    """))
    for command in (["preview"], ["up", "--yes"]):
        answer = real_pulumi.run(*command, "--stack", stack, check=False)
        assert answer.returncode != 0, command
        assert f"{customers}:" in answer.stdout + answer.stderr, answer.stdout
        assert comparable(real_pulumi.resources(stack)) == before


def test_reshard_execute_moves_hostnames_with_the_real_state_move(real_pulumi, tmp_path, plugin_versions):
    """From one `all` stack to 3 shards: each hostname lands in its shard, same Cloudflare id, and with a
    URN the shard program accepts as its own (declared, or one of its aliases): no replacement at `up`."""
    hostnames = [f"site{i}.example.org" for i in range(12)]
    customers = tmp_path / "customers.yaml"
    customers.write_text(customers_yaml(hostnames))
    source = real_pulumi.new_stack({"zone": ZONE, "zoneId": ZONE_ID, "customersFile": str(customers)})
    seeded = {r["urn"]: r for r in deploy_state_of(real_pulumi, source, customers, plugin_versions)}
    prefix = f"{source}-shard-"

    answer = subprocess.run(
        [sys.executable, "-m", "infra", "reshard", "--to", "3", "--from-all", source, "--stack-prefix", prefix,
         "--execute", "--batch", "5"],
        cwd=PROJECT_ROOT, env=real_pulumi.env, capture_output=True, text=True, timeout=300, check=False)
    real_pulumi.stacks += [f"{prefix}{i}" for i in range(3)]  # state move made them; remove their files too
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "All moves done" in answer.stdout

    assert [r for r in real_pulumi.resources(source) if r["type"] == CUSTOM_HOSTNAME_RESOURCE] == []
    for index in range(3):
        shard = f"{prefix}{index}"
        moved = {r["urn"].rsplit("::", 1)[1]: r for r in real_pulumi.resources(shard)
                 if r["type"] == CUSTOM_HOSTNAME_RESOURCE}
        assert sorted(moved) == sorted(h for h in hostnames if shard_of(h, 3) == index)
        config = stack_config("dev", zone=ZONE, zoneId=ZONE_ID, customersFile=str(customers), role="shard",
                              coreStack=f"organization/{PROJECT}/{source}", shard=index, shards=3)
        declared = {r.name: r for r in render(PROJECT_ROOT, shard, config=config).of_type(CUSTOM_HOSTNAME_RESOURCE)}
        for hostname, resource in moved.items():
            # What the real CLI does: re-parented to the destination's root stack, its URN rebuilt from that
            # parent (pkg/cmd/pulumi/state/state_move.go at v3.274.1): the `customers` type is gone.
            assert resource["urn"] == custom_hostname_urn(shard, hostname, parented=False) == moved_urn(
                custom_hostname_urn(source, hostname), shard)
            assert resource["parent"].endswith(f"::pulumi:pulumi:Stack::{PROJECT}-{shard}")
            original = seeded[custom_hostname_urn(source, hostname)]
            assert resource["id"] == original["id"] and resource["inputs"] == original["inputs"]
            program = declared[hostname]
            assert program.urn == custom_hostname_urn(shard, hostname)
            assert resource["urn"] in program.alias_urns(), "the shard would replace the hostname at its next up"


def test_destroy_waits_for_cloudflares_asynchronous_deletion_in_one_run(real_pulumi, cloudflare_emulator):
    """A plain `pulumi destroy` (the program does not run) loads the waiter's pickled provider through
    pulumi-resource-pulumi-python, which polls the emulated fallback origin while Cloudflare reports it
    `pending_deletion`, and ends once it is gone: the record can then be deleted (error 1039 before)."""
    cf, zone = cloudflare_emulator, emulated.ZONE_ID
    real_pulumi.env.update(CLOUDFLARE_API_TOKEN=cf.token, CLOUDFLARE_BASE_URL=cf.base_url)  # the waiter reads them
    stack = real_pulumi.new_stack({"zone": emulated.ZONE_NAME, "zoneId": zone})
    rendering = render(PROJECT_ROOT, stack, config=edge_config(zone))
    edge = [r for r in rendering.resources if r.type in (EDGE_TYPE, DYNAMIC_RESOURCE)]
    quick = serialize_provider(FallbackOriginWaiterProvider(deadline=60, interval=0.2))  # the test's deadline
    for resource in edge:
        if resource.type == DYNAMIC_RESOURCE:
            resource.inputs["__provider"] = resource.state["__provider"] = quick
    real_pulumi.seed(stack, deployed_state(stack, edge, {}, {"pulumi-python": "0.1.0"}))

    client = cloudflare.Cloudflare(api_token=cf.token, base_url=cf.base_url, max_retries=0)
    client.api_key = client.api_email = client.user_service_key = None
    record = client.dns.records.create(zone_id=zone, type="CNAME", name="proxy-fallback.mailito.com",
                                       content="origin.example.net", proxied=True, ttl=1)
    client.custom_hostnames.fallback_origin.update(zone_id=zone, origin="proxy-fallback.mailito.com")
    client.custom_hostnames.fallback_origin.delete(zone_id=zone)  # what the fallback origin's delete sends
    with pytest.raises(cloudflare.APIStatusError, match="1039"):
        client.dns.records.delete(record.id, zone_id=zone)  # Cloudflare is still deleting it
    before = len(cf.calls(path_contains="fallback_origin"))

    answer = real_pulumi.run("destroy", "--yes", "--stack", stack, check=False)

    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "is gone after" in answer.stdout
    polls = [(e.method, e.status) for e in cf.calls(path_contains="fallback_origin")[before:]]
    assert polls[-1] == ("GET", 404) and all(p == ("GET", 200) for p in polls[:-1]) and len(polls) >= 2
    assert real_pulumi.resources(stack) == []
    client.dns.records.delete(record.id, zone_id=zone)  # now it can go


def test_destroy_takes_only_our_rule_out_of_the_zones_transform_rules(real_pulumi, cloudflare_emulator):
    """`transformRules: shared`: a plain `pulumi destroy` runs the rule's dynamic provider, which removes our
    one rule from the zone's dashboard-made entrypoint and leaves the zone's own rules as they were."""
    from infra.components.shared_transform_rule import PHASE, RULE_REF, SharedTransformRuleProvider

    cf, zone = cloudflare_emulator, emulated.ZONE_ID
    real_pulumi.env.update(CLOUDFLARE_API_TOKEN=cf.token, CLOUDFLARE_BASE_URL=cf.base_url)
    cf.seed({"rulesets": [{"name": "default", "kind": "zone", "phase": PHASE, "rules": [
        {"action": "rewrite", "expression": 'http.host eq "www.mailito.com"',
         "action_parameters": {"headers": {"X-Team": {"operation": "set", "value": "web"}}}}]}]})
    stack = real_pulumi.new_stack({"zone": emulated.ZONE_NAME, "zoneId": zone, "transformRules": "shared"})
    rendering = render(PROJECT_ROOT, stack, config=edge_config(zone, transformRules="shared"))
    [rule] = [r for r in rendering.resources if r.name == "origin-auth-header-rule"]
    [component] = [r for r in rendering.resources if r.urn == rule.parent]
    created = SharedTransformRuleProvider().create(rule.inputs)  # what `up` did: our rule beside theirs
    rule.state = {**created.outs, "__provider": rule.inputs["__provider"]}
    rule.id = created.id
    before = next(r for r in cf.rulesets() if r["phase"] == PHASE)
    assert [r["ref"] == RULE_REF for r in before["rules"]] == [False, True]
    real_pulumi.seed(stack, deployed_state(stack, [component, rule], {}, {"pulumi-python": "0.1.0"}))

    answer = real_pulumi.run("destroy", "--yes", "--stack", stack, check=False)

    assert answer.returncode == 0, answer.stdout + answer.stderr
    after = next(r for r in cf.rulesets() if r["phase"] == PHASE)
    assert after["id"] == before["id"] and after["rules"] == before["rules"][:1]
    assert real_pulumi.resources(stack) == []


def test_destroy_switches_authenticated_origin_pulls_off(real_pulumi, cloudflare_emulator):
    """The provider's delete of the pulls settings calls nothing: the program's switch, run by a plain
    `pulumi destroy` through pulumi-resource-pulumi-python, turns zone-level pulls off in the emulator."""
    cf, zone = cloudflare_emulator, emulated.ZONE_ID
    real_pulumi.env.update(CLOUDFLARE_API_TOKEN=cf.token, CLOUDFLARE_BASE_URL=cf.base_url)
    client = cloudflare.Cloudflare(api_token=cf.token, base_url=cf.base_url, max_retries=0)
    client.api_key = client.api_email = client.user_service_key = None
    client.origin_tls_client_auth.settings.update(zone_id=zone, enabled=True)  # what `up` left
    stack = real_pulumi.new_stack({"zone": emulated.ZONE_NAME, "zoneId": zone, "originAuth": "mtls"})
    rendering = render(PROJECT_ROOT, stack, config=edge_config(zone, originAuth="mtls"))
    [switch] = [r for r in rendering.resources if r.name == "origin-auth-zone-pulls-off"]
    [component] = [r for r in rendering.resources if r.urn == switch.parent]
    real_pulumi.seed(stack, deployed_state(stack, [component, switch], {}, {"pulumi-python": "0.1.0"}))

    answer = real_pulumi.run("destroy", "--yes", "--stack", stack, check=False)

    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert client.origin_tls_client_auth.settings.get(zone_id=zone).enabled is False
    assert real_pulumi.resources(stack) == []


def test_a_failing_waiter_says_why_on_a_line_of_its_own(real_pulumi):
    """The engine's dynamic-provider host wraps every provider error in a Python traceback; the waiter
    prints its message first, so the person reads what to do before the stack frames."""
    zone = emulated.ZONE_ID
    for variable in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_BASE_URL"):
        real_pulumi.env.pop(variable, None)
    stack = real_pulumi.new_stack({"zone": emulated.ZONE_NAME, "zoneId": zone})
    rendering = render(PROJECT_ROOT, stack, config=edge_config(zone))
    edge = [r for r in rendering.resources if r.type in (EDGE_TYPE, DYNAMIC_RESOURCE)]
    real_pulumi.seed(stack, deployed_state(stack, edge, {}, {"pulumi-python": "0.1.0"}))

    answer = real_pulumi.run("destroy", "--yes", "--stack", stack, check=False)

    assert answer.returncode != 0
    lines = [line.strip() for line in answer.stdout.splitlines()]
    assert any(line.startswith("error: CLOUDFLARE_API_TOKEN is not set (nor cloudflare:apiToken): deleting the "
                               "fallback-origin waiter") for line in lines), answer.stdout
    assert len(real_pulumi.resources(stack)) == len(edge) + 2  # nothing deleted: the record stays protected

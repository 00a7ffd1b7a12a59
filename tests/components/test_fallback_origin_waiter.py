"""The fallback-origin waiter (infra/components/fallback_origin_waiter.py): one `pulumi destroy` completes.

Two halves. Under the mock engine, the real program declares record -> waiter -> fallback origin as
input (property) dependencies, with the options that make Pulumi delete them in the order Cloudflare
needs, both on destroy and when the record is replaced; the engine's rules are modelled from its
source (named below). Against the fake Cloudflare API on loopback, deleting the waiter polls the
fallback origin until it is gone, bounded, through the official SDK, including as the engine runs
it: the pickled provider in a fresh `python -m pulumi.dynamic` process, without the program.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from dataclasses import dataclass

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from infra import offline
from infra.clients.cloudflare import BASE_URL_VARIABLE, TOKEN_VARIABLE, CloudflareApiError
from infra.components import fallback_origin_waiter as waiter_module
from infra.components.fallback_origin_waiter import (
    DEADLINE_SECONDS,
    POLL_SECONDS,
    PROVIDER_KEY,
    FallbackOriginWaiterProvider,
    FallbackOriginWaitError,
    wait_until_released,
)
from infra.model.names import DYNAMIC_RESOURCE as WAITER_TYPE
from infra.model.settings import ORIGIN_AUTH_MODES
from tests.conftest import PROJECT_ROOT, run_program
from tests.fakes.cloudflare import TOKEN, ZONE_ID, FakeCloudflare, fallback_origin, serve

DNS = "cloudflare:index/dnsRecord:DnsRecord"
FALLBACK_ORIGIN = "cloudflare:index/customHostnameFallbackOrigin:CustomHostnameFallbackOrigin"
HOSTNAME = "proxy-fallback.mailito.com"
FALLBACK_PATH = r"/custom_hostnames/fallback_origin$"
PENDING = fallback_origin(HOSTNAME, "pending_deletion")
PROPS = {"zone_id": ZONE_ID, "hostname": HOSTNAME}


# -- the dependency graph, under the mock engine ----------------------------------------------------------


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict
    state: dict
    dependencies: set[str]
    property_dependencies: dict[str, set[str]]
    delete_before_replace: bool
    replace_on_changes: list[str]


def render_graph(monkeypatch: pytest.MonkeyPatch, **overrides) -> dict[str, Registration]:
    """Run the real program; keep what the engine gets: property dependencies and options too."""
    extra: dict[str, dict] = {}

    class Monitor(offline._RecordingMonitor):
        def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
            response = super().RegisterResource(request)
            extra[response.urn] = {
                "property_dependencies": {k: set(v.urns) for k, v in request.propertyDependencies.items()},
                "delete_before_replace": request.deleteBeforeReplace,
                "replace_on_changes": list(request.replaceOnChanges)}
            return response

    monkeypatch.setattr(offline, "_RecordingMonitor", Monitor)
    rendering = run_program(**overrides)
    return {r.urn: Registration(r.urn, r.type, r.name, r.custom, r.inputs, r.state, set(r.dependencies),
                                **extra[r.urn]) for r in rendering.resources}


def one(graph: dict[str, Registration], type_: str, name: str | None = None) -> Registration:
    found = [r for r in graph.values() if r.type == type_ and name in (None, r.name)]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def edge(graph):
    return (one(graph, DNS, "edge-fallback"), one(graph, WAITER_TYPE, "edge-fallback-origin-waiter"),
            one(graph, FALLBACK_ORIGIN))


def delete_order(graph: dict[str, Registration], urns: set[str]) -> list[str]:
    """The order the engine deletes these in: each only after every resource that depends on it.

    `pulumi destroy` and the deletions of a delete-before-replace both walk the dependency graph
    (dependencies = depends_on plus property dependencies) in reverse (pulumi/pulumi
    pkg/resource/graph/dependency_graph.go, pkg/resource/deploy/deployment_executor.go).
    """
    dependents = {u: {o for o in urns if u in graph[o].dependencies} for u in urns}
    order: list[str] = []
    while len(order) < len(urns):
        ready = sorted(u for u in urns if u not in order and dependents[u] <= set(order))
        assert ready, "dependency cycle"
        order.extend(ready)
    return order


def cloudflare_diff_replaces(resource: Registration, unknown: set[str]) -> bool:
    """The Cloudflare provider's Diff with these inputs unknown: replace when zone_id is.

    terraform-provider-cloudflare (v5, which pulumi-cloudflare 6 bridges) gives zone_id
    `stringplanmodifier.RequiresReplace()` on every zone resource, custom_hostname_fallback_origin
    included (internal/services/custom_hostname_fallback_origin/schema.go); `origin` is updated in place.
    """
    return "zoneId" in unknown


def waiter_diff_replaces(resource: Registration, unknown: set[str]) -> bool:
    news = {k: (rpc.UNKNOWN if k in unknown else v) for k, v in resource.inputs.items()}
    diff = FallbackOriginWaiterProvider().diff("id", dict(resource.state), news)
    assert diff.delete_before_replace is True
    return bool(diff.replaces)


def dependent_replacements(graph: dict[str, Registration], root: str) -> list[str]:
    """The resources the engine deletes before a delete-before-replace of `root`, as it decides them.

    pulumi/pulumi pkg/resource/deploy/step_generator.go, calculateDependentReplacements: walk the
    root's transitive dependents in order; one joins the replace set when its inputs that have a
    property dependency on a member of the set, made unknown, make its provider's Diff replace it.
    A depends_on edge alone never does.
    """
    replace_set = [root]
    for urn, resource in graph.items():  # registration order is a topological order
        if urn == root or not resource.custom:
            continue
        unknown = {k for k, deps in resource.property_dependencies.items() if deps & set(replace_set)}
        if not unknown:
            continue
        diff = waiter_diff_replaces if resource.type == WAITER_TYPE else cloudflare_diff_replaces
        if diff(resource, unknown):
            replace_set.append(urn)
    return replace_set[1:]


@pytest.fixture(scope="module", params=ORIGIN_AUTH_MODES)
def graph(request) -> dict[str, Registration]:
    """The program in each originAuth mode, rendered once per mode for this module."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        return render_graph(monkeypatch, originAuth=request.param)


def test_fallback_origin_depends_on_the_waiter_which_depends_on_the_record(graph):
    record, waiter, origin = edge(graph)
    # Through inputs, not only depends_on: the zone id flows record -> waiter -> fallback origin.
    assert waiter.property_dependencies["zone_id"] == {record.urn}
    assert waiter.dependencies == {record.urn}
    assert origin.property_dependencies["zoneId"] == {waiter.urn}
    assert origin.dependencies == {waiter.urn}
    assert waiter.inputs["zone_id"] == origin.inputs["zoneId"] == record.inputs["zoneId"]
    assert waiter.inputs["hostname"] == origin.inputs["origin"] == record.inputs["name"] == HOSTNAME


def test_destroy_deletes_the_fallback_origin_then_waits_then_deletes_the_record(graph):
    record, waiter, origin = edge(graph)
    order = delete_order(graph, {urn for urn, r in graph.items() if r.custom})
    assert order.index(origin.urn) < order.index(waiter.urn) < order.index(record.urn)


def test_replacing_the_record_deletes_origin_then_waiter_then_record_first(graph):
    record, waiter, origin = edge(graph)
    # Same name twice is refused by Cloudflare, so the record is deleted before it is replaced, and
    # a new name is a replacement too (replace_on_changes) rather than a rename under the origin.
    assert record.delete_before_replace is True and record.replace_on_changes == ["name"]
    dependents = dependent_replacements(graph, record.urn)
    assert dependents == [waiter.urn, origin.urn]
    # Deleted in reverse dependency order, then created again in dependency order.
    assert delete_order(graph, {record.urn, *dependents}) == [origin.urn, waiter.urn, record.urn]
    # Replaced on their own (`pulumi up --replace`), they also go first: a zone has one fallback
    # origin, and the waiter takes the fallback origin with it.
    assert waiter.delete_before_replace is True and origin.delete_before_replace is True
    assert dependent_replacements(graph, waiter.urn) == [origin.urn]


def test_the_waiter_keeps_only_plain_strings_and_no_token(monkeypatch):
    monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
    [waiter] = run_program().of_type(WAITER_TYPE)
    assert set(waiter.inputs) == {"zone_id", "hostname", PROVIDER_KEY} and waiter.secret_inputs == []
    assert all(isinstance(v, str) for v in waiter.inputs.values())
    pickled = base64.b64decode(waiter.inputs[PROVIDER_KEY])
    assert TOKEN.encode() not in pickled and len(pickled) < 400
    assert b"infra.components.fallback_origin_waiter" in pickled  # by reference: the class is imported, not copied


# -- the provider's create, update and diff ----------------------------------------------------------------


def test_create_and_update_call_nothing_and_keep_zone_and_hostname():
    fake = FakeCloudflare()
    with serve(fake):
        provider = FallbackOriginWaiterProvider()
        created = provider.create(dict(PROPS))
        updated = provider.update(created.id, dict(PROPS), dict(PROPS))
    assert created.id == f"{ZONE_ID}/{HOSTNAME}"
    assert created.outs == updated.outs == PROPS
    assert fake.requests == []


def test_diff_replaces_on_a_new_zone_or_name_and_updates_on_a_new_provider():
    provider = FallbackOriginWaiterProvider()
    olds = {**PROPS, PROVIDER_KEY: "p1"}
    assert provider.diff("id", olds, dict(olds)).changes is False
    renamed = provider.diff("id", olds, {**olds, "hostname": "origin.mailito.com"})
    assert renamed.changes is True and renamed.replaces == ["hostname"] and renamed.delete_before_replace
    assert provider.diff("id", olds, {**olds, "zone_id": rpc.UNKNOWN}).replaces == ["zone_id"]
    reconfigured = provider.diff("id", olds, {**olds, PROVIDER_KEY: "p2"})
    assert reconfigured.changes is True and reconfigured.replaces == []


def test_defaults_are_ten_minutes_polling_every_ten_seconds():
    provider = FallbackOriginWaiterProvider()
    assert (provider.deadline, provider.interval) == (DEADLINE_SECONDS, POLL_SECONDS) == (600.0, 10.0)


# -- the waiting, against the fake API on loopback -----------------------------------------------------------


@pytest.fixture
def cloudflare(monkeypatch):
    fake = FakeCloudflare()
    with serve(fake):
        monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
        monkeypatch.setenv(BASE_URL_VARIABLE, fake.base_url)
        yield fake


def quick(deadline: float = 5.0) -> FallbackOriginWaiterProvider:
    return FallbackOriginWaiterProvider(deadline=deadline, interval=0.01)


def test_delete_polls_while_pending_deletion_and_returns_once_404(cloudflare, monkeypatch):
    logged: list[str] = []
    monkeypatch.setattr(waiter_module, "_log", logged.append)
    cloudflare.fallback_states = [PENDING, PENDING, PENDING, None]
    quick().delete(f"{ZONE_ID}/{HOSTNAME}", dict(PROPS))
    assert cloudflare.count(FALLBACK_PATH) == 4
    assert {method for method, _, _ in cloudflare.requests} == {"GET"}  # it only reads
    assert [m.split(" after ")[0] for m in logged] == [f"the fallback origin {HOSTNAME} is pending_deletion"] * 3 + [
        f"the fallback origin of zone {ZONE_ID} is gone"]
    assert "checking again in 0 s (giving up after 5 s)" in logged[0]


@pytest.mark.parametrize("last", [
    fallback_origin(HOSTNAME, "deleted"),
    fallback_origin("origin.mailito.com", "pending_deployment"),  # moved to another record: ours is free
], ids=["deleted", "moved"])
def test_delete_also_ends_when_deleted_or_no_longer_using_the_record(cloudflare, last):
    cloudflare.fallback_states = [PENDING, last]
    quick().delete("id", dict(PROPS))
    assert cloudflare.count(FALLBACK_PATH) == 2


def test_delete_returns_at_once_when_there_is_no_fallback_origin(cloudflare):
    quick().delete("id", dict(PROPS))
    assert cloudflare.count(FALLBACK_PATH) == 1


def test_delete_waits_out_rate_limits_and_server_errors_within_bounds(cloudflare):
    cloudflare.answer_first(FALLBACK_PATH, 429, times=2, retry_after="0")
    cloudflare.fallback_states = [PENDING, None]
    quick().delete("id", dict(PROPS))
    cloudflare.answer_first(FALLBACK_PATH, 503, times=1, retry_after="0")
    quick().delete("id", dict(PROPS))
    assert cloudflare.count(FALLBACK_PATH) == 2 + 2 + 1 + 1


def test_delete_gives_up_on_a_rate_limit_that_does_not_end(cloudflare):
    cloudflare.answer_first(FALLBACK_PATH, 429, times=100, retry_after="0")
    with pytest.raises(CloudflareApiError, match="still limited after 5 attempts"):
        quick().delete("id", dict(PROPS))
    assert cloudflare.count(FALLBACK_PATH) == 5


def test_delete_times_out_naming_the_state_it_saw(cloudflare):
    cloudflare.fallback_states = [PENDING]  # for ever
    with pytest.raises(FallbackOriginWaitError) as failure:
        quick(deadline=0.05).delete("id", dict(PROPS))
    message = str(failure.value)
    assert f"waiting for Cloudflare to delete the fallback origin {HOSTNAME} of zone {ZONE_ID}" in message
    assert "its status is still pending_deletion" in message and "Run the same pulumi command again" in message


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class StillThere:
    """CloudflareApi's fallback_origin, answering one state for ever (the HTTP path is tested above)."""

    def __init__(self, state: dict) -> None:
        self.state, self.calls = state, 0

    def fallback_origin(self, zone_id: str) -> dict:
        self.calls += 1
        return dict(self.state)


def test_the_default_deadline_is_ten_minutes_of_polls_every_ten_seconds():
    api = StillThere(fallback_origin(HOSTNAME, "active"))  # never deleted at all
    clock = FakeClock()
    with pytest.raises(FallbackOriginWaitError, match=r"after 600 s .* still active\. It was never deleted"):
        wait_until_released(api, ZONE_ID, HOSTNAME, clock=clock, sleep=clock.sleep, log=lambda m: None)
    assert clock.sleeps == [10.0] * 60
    assert api.calls == 61  # at 0, 10, ..., 600 s


def test_the_last_poll_is_at_the_deadline():
    api, clock = StillThere(PENDING), FakeClock()
    with pytest.raises(FallbackOriginWaitError, match="after 25 s"):
        wait_until_released(api, ZONE_ID, HOSTNAME, deadline=25, interval=10, clock=clock, sleep=clock.sleep,
                            log=lambda m: None)
    assert clock.sleeps == [10.0, 10.0, 5.0] and api.calls == 4


def test_a_failed_deletion_is_reported_at_once(cloudflare):
    cloudflare.fallback_states = [fallback_origin(HOSTNAME, "deletion_timed_out")]
    with pytest.raises(FallbackOriginWaitError, match="as deletion_timed_out: its deletion failed"):
        quick().delete("id", dict(PROPS))
    assert cloudflare.count(FALLBACK_PATH) == 1


def test_delete_without_a_token_says_what_to_set(cloudflare, monkeypatch):
    monkeypatch.delenv(TOKEN_VARIABLE)
    with pytest.raises(FallbackOriginWaitError,
                       match=f"^{TOKEN_VARIABLE} is not set \\(nor cloudflare:apiToken\\): deleting the fallback"):
        quick().delete("id", dict(PROPS))
    assert cloudflare.requests == []


def test_the_token_can_come_from_the_stack_config_and_is_never_pickled(cloudflare, monkeypatch):
    monkeypatch.delenv(TOKEN_VARIABLE)
    provider = quick()
    provider.configure(ConfigureRequest(Config({"cloudflare:apiToken": TOKEN}, "saas-domains")))
    cloudflare.fallback_states = [PENDING, None]
    provider.delete("id", dict(PROPS))
    assert cloudflare.count(FALLBACK_PATH) == 2
    assert TOKEN.encode() not in base64.b64decode(serialize_provider(provider))


# -- as the engine runs it on `pulumi destroy`: the pickled provider, in its own process ---------------------


@pytest.fixture
def dynamic_provider_process(cloudflare, request):
    """`python -m pulumi.dynamic` with the project's venv, from the project directory, as the
    pulumi-resource-pulumi-python plugin starts it: it prints its port and serves the provider protocol.
    `infra` comes from the venv (the project is installed in it, editable) and from the directory."""
    env = {**os.environ, TOKEN_VARIABLE: TOKEN, BASE_URL_VARIABLE: cloudflare.base_url}
    if getattr(request, "param", None) == "token in config only":
        del env[TOKEN_VARIABLE]
    process = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.dynamic"], cwd=PROJECT_ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield ProviderProcess(provider_pb2_grpc.ResourceProviderStub(channel), process)
    finally:
        process.kill()
        process.communicate(timeout=10)


@dataclass
class ProviderProcess:
    stub: provider_pb2_grpc.ResourceProviderStub
    process: subprocess.Popen

    def stderr(self) -> str:
        """What it printed (the CLI shows a provider's stderr as diagnostics); stops the process."""
        self.process.kill()
        return self.process.communicate(timeout=10)[1].decode()


def delete_request(provider: FallbackOriginWaiterProvider) -> provider_pb2.DeleteRequest:
    properties = struct_pb2.Struct()
    properties.update({**PROPS, PROVIDER_KEY: serialize_provider(provider)})
    return provider_pb2.DeleteRequest(id=f"{ZONE_ID}/{HOSTNAME}", urn="urn:pulumi:dev::saas-domains::waiter",
                                      properties=properties)


def test_the_pickled_provider_waits_in_a_fresh_provider_process(cloudflare, dynamic_provider_process):
    cloudflare.fallback_states = [PENDING, PENDING, None]
    dynamic_provider_process.stub.Delete(delete_request(quick()), timeout=30)
    assert cloudflare.count(FALLBACK_PATH) == 3
    progress = dynamic_provider_process.stderr()
    assert progress.count(f"info: fallback-origin waiter: the fallback origin {HOSTNAME} is pending_deletion") == 2
    assert f"info: fallback-origin waiter: the fallback origin of zone {ZONE_ID} is gone" in progress


def test_a_timeout_in_the_provider_process_fails_the_delete_with_the_message(cloudflare,
                                                                              dynamic_provider_process):
    cloudflare.fallback_states = [PENDING]
    with pytest.raises(grpc.RpcError) as failure:
        dynamic_provider_process.stub.Delete(delete_request(quick(deadline=0.05)), timeout=30)
    assert re.search(r"FallbackOriginWaitError: timed out after 0 s waiting for Cloudflare to delete the "
                     rf"fallback origin {re.escape(HOSTNAME)}", failure.value.details())


@pytest.mark.parametrize("dynamic_provider_process", ["token in config only"], indirect=True)
def test_the_provider_process_takes_the_token_from_the_stack_config(cloudflare, dynamic_provider_process):
    """The engine sends the dynamic provider the stack's config (Configure) before any Delete."""
    config = struct_pb2.Struct()
    config.update({"cloudflare:apiToken": TOKEN, "saas-domains:zone": "mailito.com"})
    dynamic_provider_process.stub.Configure(provider_pb2.ConfigureRequest(args=config), timeout=30)
    cloudflare.fallback_states = [PENDING, None]
    dynamic_provider_process.stub.Delete(delete_request(quick()), timeout=30)
    assert cloudflare.count(FALLBACK_PATH) == 2

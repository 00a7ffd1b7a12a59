"""The fallback-origin waiter's delete (what `pulumi destroy` runs) against a Cloudflare API that misbehaves on
the first, a middle and the last poll: it fails in bounded time with the API client's message and what that
means for the destroy; a transient fault that strikes once is waited out."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from infra.clients import cloudflare as cloudflare_api
from infra.clients.cloudflare import BASE_URL_VARIABLE, TOKEN_VARIABLE, CloudflareApiError
from infra.clients.network_limits import REQUEST_TIMEOUT_VARIABLE
from infra.components.fallback_origin_waiter import (
    PROVIDER_KEY,
    FallbackOriginApiError,
    FallbackOriginWaiterProvider,
    FallbackOriginWaitError,
)
from tests.conftest import PROJECT_ROOT
from tests.fakes.cloudflare import ZONE_ID, FakeCloudflare, fallback_origin
from tests.fakes.faults import Fault, faulty_cloudflare
from tests.network.matrix import ADVICE, MARGIN, REQUEST, TRANSIENT, WAITS_FOR_THE_DEADLINE, failures, lowered

HOSTNAME = "proxy-fallback.mailito.com"
PENDING = fallback_origin(HOSTNAME, "pending_deletion")
PROPS = {"zone_id": ZONE_ID, "hostname": HOSTNAME}
AT = {"first": 1, "middle": 2, "last": 3}  # three polls: pending, pending, gone
DEADLINE = 1.0  # the waiter's own; with one request it is its whole time, below the first backoff (2 s)


def zone() -> FakeCloudflare:
    fake = FakeCloudflare()
    fake.fallback_states = [PENDING, PENDING, None]
    return fake


def provider(deadline: float = DEADLINE) -> FallbackOriginWaiterProvider:
    return FallbackOriginWaiterProvider(deadline=deadline, interval=0.01)


@pytest.fixture
def environment(monkeypatch):
    for variable in ("CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_USER_SERVICE_KEY"):
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


@pytest.mark.parametrize("kind, where", failures())
def test_a_fault_fails_the_delete_in_time_saying_what_to_do(kind, where, environment):
    lowered(environment)
    fake = zone()
    with faulty_cloudflare(fake, Fault(kind, at=AT[where])) as faults:
        environment.setenv(TOKEN_VARIABLE, fake.token)
        environment.setenv(BASE_URL_VARIABLE, fake.base_url)
        started = time.monotonic()
        with pytest.raises(FallbackOriginApiError) as failure:
            provider().delete(f"{ZONE_ID}/{HOSTNAME}", dict(PROPS))
        elapsed = time.monotonic() - started
    message = str(failure.value)
    assert isinstance(failure.value, CloudflareApiError)
    assert "Cloudflare API" in message and "reading the fallback origin" in message, message
    assert message.endswith("so its DNS record is left in place: run the same pulumi command again (it waits again)")
    assert any(advice in message.split(". The fallback-origin waiter")[0] for advice in ADVICE), message
    assert elapsed < DEADLINE + REQUEST + MARGIN, elapsed
    if kind in WAITS_FOR_THE_DEADLINE:
        assert elapsed >= REQUEST * 0.9
    if kind not in ("refused", "tls", "dns"):
        assert faults.spoiled[0] == (AT[where], kind)


@pytest.mark.parametrize("kind", TRANSIENT)
@pytest.mark.parametrize("where", ["middle"])
def test_a_transient_fault_that_strikes_once_is_waited_out(kind, where, environment):
    lowered(environment)
    waits: list[float] = []
    environment.setattr(cloudflare_api, "wait", waits.append)
    fake = zone()
    with faulty_cloudflare(fake, Fault(kind, at=AT[where], times=1)) as faults:
        environment.setenv(TOKEN_VARIABLE, fake.token)
        environment.setenv(BASE_URL_VARIABLE, fake.base_url)
        provider(deadline=5).delete("id", dict(PROPS))  # returns: it saw the fallback origin go
    assert faults.spoiled == [(AT[where], kind)] and len(waits) == 1
    assert fake.fallback_states == [] and fake.fallback is None


def test_slow_answers_end_at_the_waiters_deadline_plus_one_request(environment):
    """Each answer takes 0.3 s, under the request timeout: the waiter's own deadline ends the delete."""
    lowered(environment, request=0.4)
    fake = zone()
    fake.fallback_states = [PENDING]  # for ever
    with faulty_cloudflare(fake, Fault("slow", interval=0.3)):
        environment.setenv(TOKEN_VARIABLE, fake.token)
        environment.setenv(BASE_URL_VARIABLE, fake.base_url)
        started = time.monotonic()
        with pytest.raises(FallbackOriginWaitError, match="its status is still pending_deletion"):
            provider(deadline=0.5).delete("id", dict(PROPS))
        elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 0.5 + 0.4 + MARGIN


def test_the_provider_process_keeps_the_request_deadline_from_the_environment(environment):
    """As `pulumi destroy` runs it: the pickled provider in `python -m pulumi.dynamic`, whose environment (the
    pulumi command's) lowers the request timeout; a trickling answer fails the Delete call in time."""
    fake = zone()
    with faulty_cloudflare(fake, Fault("trickle", at=2)):
        env = {**os.environ, TOKEN_VARIABLE: fake.token, BASE_URL_VARIABLE: fake.base_url,
               REQUEST_TIMEOUT_VARIABLE: str(REQUEST)}
        process = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.dynamic"], cwd=PROJECT_ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            port = int(process.stdout.readline())
            properties = struct_pb2.Struct()
            properties.update({**PROPS, PROVIDER_KEY: serialize_provider(provider())})
            request = provider_pb2.DeleteRequest(id=f"{ZONE_ID}/{HOSTNAME}", urn="urn:pulumi:dev::saas-domains::w",
                                                 properties=properties)
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                started = time.monotonic()
                with pytest.raises(grpc.RpcError) as failure:
                    provider_pb2_grpc.ResourceProviderStub(channel).Delete(request, timeout=30)
                elapsed = time.monotonic() - started
        finally:
            process.kill()
            process.communicate(timeout=10)
    details = failure.value.details()
    assert f"no complete answer within {REQUEST:g} s (SAAS_DOMAINS_REQUEST_TIMEOUT)" in details
    assert "run the same pulumi command again" in details
    assert elapsed < REQUEST + MARGIN

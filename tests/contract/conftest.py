"""Fixtures of the contract tests: the spec-generated Cloudflare mock, started once per session.

The test modules load tests.fakes.ops_fixtures (`project`, `fresh_dns`) with `pytest_plugins`, as the other
command tests do. `contract_network` starts every Prism process of every scenario together (mock_api.py), once, and
stops them at the end of the session; `contract_api` is parametrised over SCENARIOS; `cli` points the
operations commands at one scenario (CLOUDFLARE_BASE_URL, any bearer token) in a copy of the project,
and `reads` checks every field they read from an answer against the spec.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.model.customers import load_customers
from infra.stack_files import stack_settings
from tests.conftest import PROJECT_ROOT
from tests.contract.mock_api import MockApi, Scenario, Steering, contract_network
from tests.contract.spec import Reads, Spec

# Prism's own examples as they are and thinned; random schema-valid answers under several seeds, as
# Prism generates them (every optional field filled) and thinned (optional fields dropped, nullable
# ones nulled) — and one dynamic scenario left unsteered, where nothing matches the stack.
SCENARIOS = (
    Scenario("static", dynamic=False, seed=0, thin=False),
    Scenario("static-thinned", dynamic=False, seed=11, thin=True),
    Scenario("dynamic-seed-1", dynamic=True, seed=1, thin=False),
    Scenario("dynamic-seed-2-thinned", dynamic=True, seed=2, thin=True),
    Scenario("dynamic-seed-3-thinned", dynamic=True, seed=3, thin=True),
    Scenario("dynamic-seed-4-unsteered", dynamic=True, seed=4, thin=True, steer=False),
)
# Not a command scenario: the harness's own test that a spec-breaking answer is caught.
CORRUPT = Scenario("corrupt-on-purpose", dynamic=False, seed=0, thin=False, corrupt=True)
_OTHER_CREDENTIALS = ("CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_USER_SERVICE_KEY")


def _steering() -> Steering:
    settings = stack_settings(PROJECT_ROOT, "dev")
    customers = load_customers(settings.customers_path(PROJECT_ROOT), settings.validation_rules())
    return Steering(settings.zone, [h.hostname for h in customers.hostnames], settings.fallback_hostname)


@pytest.fixture(scope="session", name="contract_network")
def contract_network_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, MockApi]]:
    with contract_network((*SCENARIOS, CORRUPT), _steering(), tmp_path_factory.mktemp("prism-logs")) as views:
        yield views


@pytest.fixture(scope="session", params=SCENARIOS, ids=str)
def contract_api(request: pytest.FixtureRequest, contract_network: dict[str, MockApi]) -> MockApi:
    return contract_network[request.param.name]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    """Every dict the API client hands the commands is watched: reading a field the spec does not
    define at that place is recorded in reads.undefined."""
    from infra.clients.cloudflare import CloudflareApi

    spec = Spec.load()
    watcher = Reads(spec)
    listing = spec.item_schema("/zones/{zone_id}/custom_hostnames")
    origin = spec.item_schema("/zones/{zone_id}/custom_hostnames/fallback_origin")
    record = spec.item_schema("/zones/{zone_id}/dns_records")
    originals = {name: getattr(CloudflareApi, name) for name in ("custom_hostnames", "fallback_origin", "dns_records")}

    def custom_hostnames(self, *args, **kwargs):
        found = originals["custom_hostnames"](self, *args, **kwargs)
        return [watcher.watch(item, listing, "custom_hostname") for item in found]

    def fallback_origin(self, *args, **kwargs):
        found = originals["fallback_origin"](self, *args, **kwargs)
        return None if found is None else watcher.watch(found, origin, "fallback_origin")

    def dns_records(self, *args, **kwargs):
        return [watcher.watch(r, record, "dns_record") for r in originals["dns_records"](self, *args, **kwargs)]

    monkeypatch.setattr(CloudflareApi, "custom_hostnames", custom_hostnames)
    monkeypatch.setattr(CloudflareApi, "fallback_origin", fallback_origin)
    monkeypatch.setattr(CloudflareApi, "dns_records", dns_records)
    return watcher


@pytest.fixture
def cli(contract_api: MockApi, project: Path, reads: Reads, monkeypatch: pytest.MonkeyPatch) -> MockApi:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "contract-test-token")
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", contract_api.base_url)
    for variable in _OTHER_CREDENTIALS:
        monkeypatch.delenv(variable, raising=False)
    return contract_api

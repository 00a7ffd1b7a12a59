"""Fixtures of the operations-command tests (loaded with `pytest_plugins = ["tests.fakes.ops_fixtures"]`).

`cloudflare_api`: the local Cloudflare API, with the environment pointing the commands at it.
`fresh_dns`: the local DNS server (one per test module), emptied for each test.
`project`: a copy of the project (stack dev, the example customers file) as the current folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import copy_example_project
from tests.fakes.cloudflare import FakeCloudflare, serve
from tests.fakes.dns import FakeDns, serve_dns

_OTHER_CREDENTIALS = ("CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_USER_SERVICE_KEY")


@pytest.fixture
def cloudflare_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCloudflare]:
    with serve(FakeCloudflare()) as fake:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", fake.token)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", fake.base_url)
        for variable in _OTHER_CREDENTIALS:
            monkeypatch.delenv(variable, raising=False)
        yield fake


@pytest.fixture(scope="module")
def dns_server() -> Iterator[FakeDns]:
    with serve_dns() as fake:
        yield fake


@pytest.fixture
def fresh_dns(dns_server: FakeDns) -> Iterator[FakeDns]:
    dns_server.zone.clear()
    yield dns_server
    dns_server.zone.clear()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy_example_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path

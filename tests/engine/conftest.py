"""Fixtures for the tests that run the real Pulumi CLI and language host (tests/engine/real_pulumi.py)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from tests.conftest import PROJECT_ROOT
from tests.engine.real_pulumi import RealPulumi, toolchain_bin


@pytest.fixture(scope="session")
def engine_bin():
    found = toolchain_bin(PROJECT_ROOT)
    if found is None:
        pytest.skip("the real Pulumi toolchain is not built here: run tools/engine/build (cold: about 7 minutes "
                    "on 2 cores; .ci/run builds it or reuses its cache)")
    return found


@pytest.fixture
def real_pulumi(engine_bin, tmp_path):
    pulumi = RealPulumi(PROJECT_ROOT, engine_bin, tmp_path)
    yield pulumi
    pulumi.close()


@pytest.fixture(scope="session")
def plugin_versions() -> dict[str, str]:
    """The resource plugin version each installed provider SDK asks the engine for (its pulumi-plugin.json)."""
    found = {}
    for package in ("cloudflare", "random", "tls"):
        plugin = json.loads(resources.files(f"pulumi_{package}").joinpath("pulumi-plugin.json").read_text())
        found[plugin["name"]] = plugin["version"]
    return found

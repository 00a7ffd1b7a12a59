"""Shared helpers: run the real __main__.py under Pulumi's mock engine with chosen settings."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from infra.offline import Rendering, config_value, render
from infra.stack_files import read_stack_file
from tests.fakes.cloud import FakeCloud

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The example customers the example stacks read (customers.yaml itself starts empty).
EXAMPLE_CUSTOMERS = PROJECT_ROOT / "examples" / "customers.yaml"
PROJECT_FILES = ("Pulumi.yaml", "__main__.py")


def copy_example_project(dest: Path, *stacks: str) -> Path:
    """A copy of the project for a test to change: Pulumi.yaml, __main__.py, the example stack files
    (dev unless named), each reading `customers.yaml` there, which holds the example customers (and
    examples/customers.yaml, for example stack files the test copies as they are)."""
    for name in PROJECT_FILES:
        shutil.copy(PROJECT_ROOT / name, dest / name)
    for stack in stacks or ("dev",):
        text = (PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text()
        (dest / f"Pulumi.{stack}.yaml").write_text(text.replace(
            "saas-domains:customersFile: examples/customers.yaml", "saas-domains:customersFile: customers.yaml"))
    shutil.copy(EXAMPLE_CUSTOMERS, dest / "customers.yaml")
    (dest / "examples").mkdir(exist_ok=True)  # for other example stack files a test copies as they are
    shutil.copy(EXAMPLE_CUSTOMERS, dest / "examples" / "customers.yaml")
    return dest


def dev_config(**overrides: object) -> dict[str, str]:
    """The example stack's config with some `saas-domains:` keys replaced (None removes a key)."""
    return stack_config("dev", **overrides)


def stack_config(stack: str, **overrides: object) -> dict[str, str]:
    """A stack file's config (e.g. `gcp-example`) with some `saas-domains:` keys replaced (None removes)."""
    config = {k: config_value(v) for k, v in read_stack_file(PROJECT_ROOT, stack).items()}
    for key, value in overrides.items():
        full = f"saas-domains:{key}"
        if value is None:
            config.pop(full, None)
        else:
            config[full] = config_value(value)
    return config


def run_program(customers_file: Path | None = None, cloud: FakeCloud | None = None,
                **overrides: object) -> Rendering:
    if customers_file is not None:
        overrides["customersFile"] = str(customers_file)
    return render(PROJECT_ROOT, "dev", config=dev_config(**overrides), cloud=cloud)


def run_gcp_program(customers_file: Path | None = None, cloud: FakeCloud | None = None,
                    **overrides: object) -> Rendering:
    """Like run_program, for the Cloud Run example stack (Pulumi.gcp-example.yaml)."""
    if customers_file is not None:
        overrides["customersFile"] = str(customers_file)
    return render(PROJECT_ROOT, "gcp-example", config=stack_config("gcp-example", **overrides), cloud=cloud)


def run_stack(stack: str, customers_file: Path | None = None, cloud: FakeCloud | None = None,
              **overrides: object) -> Rendering:
    """Like run_program, for any stack file of the project (e.g. `shard-example-0`)."""
    if customers_file is not None:
        overrides["customersFile"] = str(customers_file)
    return render(PROJECT_ROOT, stack, config=stack_config(stack, **overrides), cloud=cloud)


@pytest.fixture
def customers_file(tmp_path):
    """Write a customers file (dedented) and return its path."""

    def write(text: str, name: str = "customers.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write

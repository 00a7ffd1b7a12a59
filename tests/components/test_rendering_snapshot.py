"""The rendered stack, pinned: URNs, inputs, dependencies, lookups and outputs of `dev` and of a large file.

A URN that changes is a resource Pulumi deletes and creates again: for a custom hostname, a new
certificate and new verification tokens for the customer. Moving code between modules and packages
must not change a single one. The snapshots under tests/fixtures/rendering/ were taken from the
program before the layout of issue 9; regenerate them only for a deliberate change of the stack
(`SNAPSHOT_UPDATE=1 .uv/bin/uv run --locked pytest tests/components/test_rendering_snapshot.py`) and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from infra.offline import Rendering, render
from tests.conftest import PROJECT_ROOT, run_program

SNAPSHOTS = Path(__file__).resolve().parents[1] / "fixtures" / "rendering"
# The dynamic provider's input is its pickled provider, which names the module the provider class
# lives in: a move of that module changes the blob (an in-place update of a resource that calls
# nothing), never the URN. It is compared separately, by what it must contain.
PICKLED_PROVIDER = "__provider"
LARGE_CUSTOMERS = 150
SSL_VARIANTS = (
    "",
    '    ssl: {min_tls_version: "1.3", certificate_authority: google}\n',
    "    ssl: {method: txt, bundle_method: optimal}\n    metadata: {plan: pro}\n",
    "    origin: eu.mailito.com\n",
)


def large_customers_file() -> str:
    lines = ["customers:\n"]
    for number in range(LARGE_CUSTOMERS):
        lines.append(f"  - id: customer-{number:04d}\n")
        lines.append(f"    hostnames: [app.customer-{number:04d}.example, mail.customer-{number:04d}.example]\n")
        lines.append(SSL_VARIANTS[number % len(SSL_VARIANTS)])
    return "".join(lines)


def snapshot_of(rendering: Rendering) -> dict:
    resources = []
    for resource in sorted(rendering.resources, key=lambda r: r.urn):
        inputs = {k: v for k, v in resource.inputs.items() if k != PICKLED_PROVIDER}
        resources.append({"urn": resource.urn, "parent": resource.parent, "custom": resource.custom,
                          "inputs": inputs, "dependencies": resource.dependencies,
                          "secretInputs": resource.secret_inputs})
    return {"resources": resources,
            "lookups": [{"token": i.token, "args": i.args} for i in rendering.invokes],
            "outputs": rendering.outputs}


def compare(name: str, rendering: Rendering) -> None:
    path = SNAPSHOTS / f"{name}.json"
    current = json.loads(json.dumps(snapshot_of(rendering), sort_keys=True))
    if os.environ.get("SNAPSHOT_UPDATE") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    pinned = json.loads(path.read_text(encoding="utf-8"))
    assert [r["urn"] for r in current["resources"]] == [r["urn"] for r in pinned["resources"]]
    assert current == pinned


def test_the_example_stack_renders_exactly_as_pinned():
    compare("dev", render(PROJECT_ROOT, "dev"))


@pytest.mark.parametrize("auth", ["mtls", "none"])
def test_the_example_stack_in_each_origin_auth_mode_renders_exactly_as_pinned(auth):
    compare(f"dev-{auth}", run_program(originAuth=auth, manageZoneSslMode=False, targetType="lambda"))


def test_a_large_customers_file_renders_exactly_as_pinned(tmp_path):
    customers = tmp_path / "customers.yaml"
    customers.write_text(large_customers_file(), encoding="utf-8")
    rendering = run_program(customers, vpcId="vpc-0123456789abcdef0", subnetIds=["subnet-0aaa1111", "subnet-0bbb2222"],
                            zoneId="fedcba9876543210fedcba9876543210")
    assert len(rendering.outputs["customerHostnames"]) == 2 * LARGE_CUSTOMERS
    compare("large", rendering)

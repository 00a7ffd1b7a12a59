"""Each stack imports the cloud SDK of the origin it chooses, never the other one.

pulumi_aws and pulumi_gcp each cost seconds and hundreds of MB to import (infra/program.py). Each
stack is rendered in a fresh interpreter, so what the test process already imported does not count.
The ALB stack's rendering itself is pinned by tests/components/test_rendering_snapshot.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import PROJECT_ROOT

RENDER_AND_LIST_SDKS = textwrap.dedent("""\
    import json, sys
    from pathlib import Path

    from infra.offline import render

    rendering = render(Path(sys.argv[1]), sys.argv[2])
    print(json.dumps({
        "sdks": sorted({name.split(".")[0] for name in sys.modules} & {"pulumi_aws", "pulumi_gcp"}),
        "types": sorted({resource.type for resource in rendering.resources}),
    }))
""")


def render_in_a_fresh_interpreter(stack: str) -> dict:
    done = subprocess.run([sys.executable, "-c", RENDER_AND_LIST_SDKS, str(PROJECT_ROOT), stack],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("stack", "imported", "not_imported", "origin"), [
    ("dev", "pulumi_aws", "pulumi_gcp", "saas-domains:index:Origin"),
    ("gcp-example", "pulumi_gcp", "pulumi_aws", "saas-domains:index:CloudRunOrigin"),
])
def test_a_stack_imports_only_the_sdk_of_its_origin(stack, imported, not_imported, origin):
    result = render_in_a_fresh_interpreter(stack)
    assert result["sdks"] == [imported]
    assert origin in result["types"]
    clouds = {sdk: sdk.removeprefix("pulumi_") + ":" for sdk in (imported, not_imported)}
    assert any(t.startswith(clouds[imported]) for t in result["types"])
    assert not [t for t in result["types"] if t.startswith(clouds[not_imported])]


def test_an_external_origin_stack_imports_no_cloud_sdk():
    result = render_in_a_fresh_interpreter("external-example")
    assert result["sdks"] == []
    assert not [t for t in result["types"] if t.startswith(("aws:", "gcp:")) or t.endswith(("Origin", "CloudRunOrigin"))
                and t.startswith("saas-domains:")]
    assert {t.split(":")[0] for t in result["types"]} == {"saas-domains", "cloudflare", "random", "pulumi-python"}

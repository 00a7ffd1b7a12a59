"""The package's layers import one way: cli → operations / components → model.

- `infra/model/` is pure: it imports only itself and plain libraries, never Pulumi, a provider SDK or
  the network, so `saas-domains validate` and the diff stay fast and testable without a cloud.
- `infra/operations/` (what each command does) builds on the model only.
- `infra/components/` (the Pulumi resources) build on the model; their dynamic providers (the
  fallback-origin waiter, the shared Transform Rule, the Origin Pulls switch) call Cloudflare from
  the engine's provider process, through the one door `infra/components/provider_api.py`.
- `infra/cli/` is the top: nothing below imports it.
Every import counts, including those inside functions (the CLI defers heavy ones).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

INFRA = PROJECT_ROOT / "infra"
PURE_FORBIDDEN = ("pulumi", "pulumi_aws", "pulumi_cloudflare", "pulumi_random", "pulumi_tls", "cloudflare",
                  "dns", "httpx", "requests", "socket", "urllib.request", "http.client")

# layer → the infra packages it may import (besides itself)
ALLOWED = {
    "model": {"infra.model"},
    "operations": {"infra.model", "infra.operations"},
    "components": {"infra.model", "infra.components"},
    "program": {"infra.model", "infra.components"},
    "offline": {"infra.model"},
    "cli": {"infra.model", "infra.operations", "infra.offline", "infra.cli"},
    "__main__": {"infra.cli"},
}
STATED_EXCEPTIONS = {
    # The dynamic providers call Cloudflare through the one API client (provider_api's docstring says why).
    ("infra.components.provider_api", "infra.operations.cloudflare_api"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules() -> list[Path]:
    return sorted(p for p in INFRA.rglob("*.py") if "__pycache__" not in p.parts)


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_layers_are_the_folders():
    layers = {layer_of(module_name(p)) for p in modules()}
    assert layers == set(ALLOWED) | {"__init__"}, "a new top-level module or package needs a place in ALLOWED"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_each_module_imports_only_the_layers_below_it(path):
    module = module_name(path)
    layer = layer_of(module)
    allowed = ALLOWED.get(layer, set())
    wrong = sorted(
        name for name in imports_of(path)
        if within(name, "infra") and name != "infra"
        and not any(within(name, package) for package in allowed)
        and not any(module == source and within(name, target) for source, target in STATED_EXCEPTIONS)
    )
    assert not wrong, f"{module} ({layer}) imports {wrong}; allowed: {sorted(allowed)}"


@pytest.mark.parametrize("path", [p for p in modules() if layer_of(module_name(p)) == "model"],
                         ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_the_model_is_pure(path):
    bad = sorted(n for n in imports_of(path) if any(within(n, f) for f in PURE_FORBIDDEN))
    assert not bad, f"{module_name(path)} imports {bad}: the model has no Pulumi, SDK or network"


def test_importing_the_whole_model_loads_no_pulumi_and_no_sdk():
    """What the AST check says, confirmed by the interpreter (transitive imports included)."""
    names = [module_name(p) for p in modules() if layer_of(module_name(p)) == "model"]
    code = (f"import sys; import {', '.join(names)}; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'cloudflare', 'dns')))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"


def test_the_checker_sees_a_wrong_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def later():\n    from infra.cli.terminal import style\n", encoding="utf-8")
    assert "infra.cli.terminal" in imports_of(sample)

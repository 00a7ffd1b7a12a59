"""The package's layers import one way: cli → operations / components → clients → model.

- `infra/errors.py` holds the roots of every error of ours and imports nothing; every layer may use it.
- `infra/stack_files.py` reads the project's `Pulumi.<stack>.yaml` files into the model's settings (the
  model takes values, never files); the runner, the operations and the CLI read stack files through it.

- `infra/model/` is pure: it imports only itself and plain libraries, never Pulumi, a provider SDK or
  the network, so `saas-domains validate` and the diff stay fast and testable without a cloud.
- `infra/clients/` holds every call to another service (Cloudflare, GitHub, DNS) with one deadline and
  retry policy; it builds on the model only.
- `infra/operations/` (what each command does) and `infra/components/` (the Pulumi resources, whose
  dynamic providers call Cloudflare from the engine's provider process) build on the clients and the
  model; neither imports the other.
- `infra/offline.py` runs the program under Pulumi's mock engine for `plan` and the tests, against
  `infra/offline_cloud.py`'s answers; the knobs only tests turn are in tests/fakes/cloud.py.
- `infra/cli/` is the top: nothing below imports it.
Every import counts, including those inside functions (the CLI defers heavy ones). No exceptions.
"""

from __future__ import annotations

import ast
import re
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
    "errors": set(),
    "model": {"infra.errors", "infra.model"},
    "stack_files": {"infra.errors", "infra.model"},
    "clients": {"infra.errors", "infra.model", "infra.clients"},
    "operations": {"infra.errors", "infra.model", "infra.stack_files", "infra.clients", "infra.operations"},
    "components": {"infra.errors", "infra.model", "infra.clients", "infra.components"},
    "program": {"infra.errors", "infra.model", "infra.components"},
    "offline_cloud": {"infra.errors", "infra.model"},
    "offline": {"infra.errors", "infra.model", "infra.stack_files", "infra.offline_cloud"},
    "cli": {"infra.errors", "infra.model", "infra.stack_files", "infra.clients", "infra.operations", "infra.offline",
            "infra.cli"},
    "__main__": {"infra.cli"},
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


def modules_imported(path: Path, known: dict[str, Path]) -> set[str]:
    """The infra modules `path` imports; `from infra.cli import status_codes` names the module status_codes,
    not the package that holds it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & set(known)
            found.update(submodules or {node.module})
            if len(submodules) < len(node.names):
                found.add(node.module)
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


def test_no_two_modules_import_each_other():
    """No cycle, even inside one layer (as cli/errors.py and cli/terminal.py once were): a cycle means one
    module does two jobs, and the import that breaks it hides inside a function."""
    names = {module_name(p): p for p in modules()}
    graph = {name: {other for other in names if other != name and other in modules_imported(path, names)}
             for name, path in names.items()}

    def reachable(start: str) -> set[str]:
        seen, todo = set(), list(graph[start])
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(graph[current])
        return seen

    cycles = sorted(name for name in graph if name in reachable(name))
    assert not cycles, f"these modules import themselves through others: {cycles}"


def test_the_checker_sees_a_wrong_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def later():\n    from infra.cli.terminal import style\n", encoding="utf-8")
    assert "infra.cli.terminal" in imports_of(sample)


ENVIRONMENT_READERS = {"CloudflareApi", "GitHubApi", "Budget", "Limits"}


def test_the_clients_read_the_environment_in_one_place():
    """Tokens, addresses and network limits come from the environment through infra/clients/ alone
    (environment.py's Clients, for the commands and the dynamic providers alike)."""
    elsewhere = []
    for path in modules():
        if within(module_name(path), "infra.clients"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr == "from_environment"
                    and isinstance(node.value, ast.Name) and node.value.id in ENVIRONMENT_READERS):
                elsewhere.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.value.id}.from_environment")
    assert elsewhere == []


TEST_PATH = re.compile(r"\btests/[A-Za-z0-9_/.-]+\.py\b")


def test_every_test_file_the_code_names_exists():
    """Comments that send a maintainer to a test ("tests/model/test_names.py holds it equal") stay true."""
    named = [PROJECT_ROOT / "Pulumi.yaml", PROJECT_ROOT / "pyproject.toml", *modules(),
             *sorted((PROJECT_ROOT / "policy").rglob("*.py"))]
    missing = [f"{path.relative_to(PROJECT_ROOT)}: {test}" for path in named
               for test in TEST_PATH.findall(path.read_text(encoding="utf-8"))
               if not (PROJECT_ROOT / test).is_file()]
    assert missing == []

"""The real Pulumi CLI and Python language host (built by tools/engine/build), driven on a local backend.

Each `RealPulumi` has its own file backend and PULUMI_HOME in a temporary folder and creates stacks
named `engine-<random>` in the project folder (their stack files are removed again, and ignored by
git meanwhile): the program that runs is the project's own `__main__.py`, exactly what `pulumi up`
runs, never a copy. Automatic plugin downloads are off, so a missing plugin fails at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

from infra.model.names import PROJECT
from infra.offline import DeclaredResource

ORGANIZATION = "organization"  # what a file backend calls every stack's organization
PASSPHRASE = "engine-tests"


def toolchain_bin(project_dir: Path) -> Path | None:
    """The cached toolchain's bin folder, or None if tools/engine/build has not built it."""
    answer = subprocess.run([str(project_dir / "tools/engine/build"), "--print-bin"], capture_output=True,
                            text=True, check=False)
    return Path(answer.stdout.strip()) if answer.returncode == 0 else None


def uv_dir(project_dir: Path) -> str:
    """Where `uv` is: Pulumi.yaml's `toolchain: uv` makes the language host run it."""
    uv = os.environ.get("UV")  # set by `uv run`
    return str(Path(uv).parent) if uv else str(project_dir / ".uv" / "bin")


class PulumiFailed(AssertionError):
    pass


class RealPulumi:
    def __init__(self, project_dir: Path, bin_dir: Path, workdir: Path, extra_env: dict[str, str] | None = None):
        self.project_dir = project_dir
        self.bin_dir = bin_dir
        self.backend = workdir / "backend"
        self.backend.mkdir(parents=True, exist_ok=True)
        (workdir / "home").mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            "PATH": os.pathsep.join([str(bin_dir), uv_dir(project_dir), os.environ.get("PATH", "")]),
            "PULUMI_HOME": str(workdir / "home"),
            "PULUMI_BACKEND_URL": self.backend.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "NO_COLOR": "1",
            **(extra_env or {}),
        }
        self.stacks: list[str] = []

    # -- commands ---------------------------------------------------------------------------------------

    def run(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        answer = subprocess.run(["pulumi", *args, "--non-interactive"], cwd=self.project_dir, env=self.env,
                                capture_output=True, text=True, timeout=timeout, check=False)
        if check and answer.returncode != 0:
            raise PulumiFailed(f"pulumi {' '.join(args)} exited {answer.returncode}:\n{answer.stdout}\n{answer.stderr}")
        return answer

    def new_stack(self, config: dict[str, str], name: str | None = None) -> str:
        """A stack with these `saas-domains:` settings (keys without the prefix), its file in the project."""
        stack = name or f"engine-{uuid.uuid4().hex[:8]}"
        self.stacks.append(stack)
        self.run("stack", "init", f"{ORGANIZATION}/{PROJECT}/{stack}")
        for key, value in config.items():
            self.run("config", "set", "--stack", stack, f"{PROJECT}:{key}", value)
        return stack

    def export(self, stack: str) -> dict[str, Any]:
        return json.loads(self.run("stack", "export", "--stack", stack).stdout)

    def resources(self, stack: str) -> list[dict[str, Any]]:
        return self.export(stack)["deployment"].get("resources") or []

    def seed(self, stack: str, resources: list[dict[str, Any]]) -> None:
        """Give the stack this state, as if an earlier `up` had left it (stack import)."""
        deployment = self.export(stack)
        deployment["deployment"]["resources"] = resources
        path = self.backend.parent / f"{stack}-seed.json"
        path.write_text(json.dumps(deployment))
        self.run("stack", "import", "--stack", stack, "--file", str(path))

    def close(self) -> None:
        for stack in self.stacks:
            (self.project_dir / f"Pulumi.{stack}.yaml").unlink(missing_ok=True)


# -- states as an earlier deployment of the program would have left them ---------------------------------

def stack_urn(stack: str) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{stack}"


def default_provider_urn(stack: str, package: str, version: str) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::pulumi:providers:{package}::default_{version.replace('.', '_')}"


def deployed_state(stack: str, declared: list[DeclaredResource], outputs: dict[str, Any],
                   provider_versions: dict[str, str]) -> list[dict[str, Any]]:
    """The state resources for what the program declared (rendered under the mock engine), as `up` records them.

    Custom resources reference their package's default provider; inputs are what was declared and outputs
    what the fake cloud answered. Enough for the engine to plan against, and for `state move` to carry.
    """
    root = stack_urn(stack)
    state: list[dict[str, Any]] = [{"urn": root, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": outputs}]
    providers: dict[str, str] = {}
    for resource in declared:
        if resource.custom:
            package = resource.type.split(":")[0]
            if package not in providers:
                urn = default_provider_urn(stack, package, provider_versions[package])
                provider_id = str(uuid.uuid4())
                state.append({"urn": urn, "custom": True, "id": provider_id, "type": f"pulumi:providers:{package}",
                              "inputs": {"version": provider_versions[package]},
                              "outputs": {"version": provider_versions[package]}, "parent": root})
                providers[package] = f"{urn}::{provider_id}"
        entry: dict[str, Any] = {"urn": resource.urn, "custom": resource.custom, "type": resource.type,
                                 "parent": resource.parent or root}
        if resource.custom:
            entry |= {"id": resource.id, "inputs": resource.inputs, "outputs": resource.state,
                      "provider": providers[resource.type.split(":")[0]]}
        state.append(entry)
    return state

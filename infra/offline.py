"""Run the real `__main__.py` under Pulumi's mock engine, with a stack's config, and record it all.

This is how the program is exercised without the Pulumi CLI, provider plugins or credentials: the
same entry point `pulumi up` runs, driven the way Pulumi's own language host drives it
(`run_in_stack` on a fresh event loop), with the offline cloud (infra/offline_cloud.py) answering resource
registrations and provider lookups. What comes back is what the program declares, not what is deployed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import runpy
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.settings import set_root_resource
from pulumi.runtime.stack import run_in_stack

from infra.errors import ProgramError
from infra.model.names import PROJECT
from infra.model.settings import SETTINGS, SettingsError, is_encrypted
from infra.offline_cloud import Invoke, OfflineCloud, unwrap_secrets
from infra.stack_files import read_stack_file

SECRET_PLACEHOLDER = "[secret]"


@dataclass
class DeclaredResource:
    urn: str
    id: str | None
    type: str
    name: str
    parent: str  # the parent's URN ("" for the stack itself)
    custom: bool
    inputs: dict[str, Any]  # secrets unwrapped; their paths are in `secret_inputs`
    state: dict[str, Any]
    dependencies: list[str]  # URNs from depends_on and from inputs
    secret_inputs: list[str] = field(default_factory=list)  # e.g. "conditions[0].httpHeader.values[0]"
    # The aliases sent with the registration: {"urn": ...} or a spec {"name", "type", "stack", "project",
    # "parentUrn" | "noParent": True}, empty strings meaning "the resource's own" as the engine reads them.
    aliases: list[dict[str, Any]] = field(default_factory=list)

    def alias_urns(self) -> list[str]:
        """The URNs the engine would accept as this resource's old ones, as it resolves alias specs.

        Unset parts of a spec are the resource's own (name, type, stack, project, parent); `noParent`
        means none; a child of the root stack carries no parent type (the engine's resource.CreateURN).
        """
        stack, project = self.urn.split("::")[0].removeprefix("urn:pulumi:"), self.urn.split("::")[1]
        found = []
        for alias in self.aliases:
            if "urn" in alias:
                found.append(alias["urn"])
                continue
            parent = "" if alias.get("noParent") else alias.get("parentUrn") or self.parent
            parent_type = parent.split("::")[2] if parent else ""
            own_type = alias["type"] or self.type
            qualified = (own_type if not parent_type or parent_type == "pulumi:pulumi:Stack"
                         else f"{parent_type}${own_type}")
            found.append(f"urn:pulumi:{alias['stack'] or stack}::{alias['project'] or project}::"
                         f"{qualified}::{alias['name'] or self.name}")
        return found


@dataclass
class Rendering:
    stack: str
    config: dict[str, str]
    resources: list[DeclaredResource] = field(default_factory=list)
    invokes: list[Invoke] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)  # secrets unwrapped; their paths are in `secret_outputs`
    secret_outputs: list[str] = field(default_factory=list)  # e.g. "alertWebhookSecret"

    def of_type(self, type_: str) -> list[DeclaredResource]:
        return [r for r in self.resources if r.type == type_]

    def by_urn(self) -> dict[str, DeclaredResource]:
        return {r.urn: r for r in self.resources}


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, keeping each registration's parent and dependencies and the stack outputs."""

    def __init__(self, mocks: OfflineCloud):
        super().__init__(mocks)
        self.registrations: dict[str, dict[str, Any]] = {}
        self.stack_outputs: dict[str, Any] | None = None

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine leaves the root stack's type out of its children's URNs; the mock would not.
        if parent and parent.split("::")[2] == "pulumi:pulumi:Stack":
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            deps = set(request.dependencies)
            for prop_deps in request.propertyDependencies.values():
                deps.update(prop_deps.urns)
            secrets: list[str] = []
            inputs = unwrap_secrets(rpc.deserialize_properties(request.object), "", secrets)
            self.registrations[response.urn] = {
                "type": request.type, "name": request.name, "parent": request.parent,
                "custom": request.custom, "inputs": inputs, "dependencies": sorted(deps),
                "secret_inputs": secrets, "aliases": _aliases(request),
            }
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            self.stack_outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)


def _aliases(request: Any) -> list[dict[str, Any]]:
    """The registration's aliases, specs (what an SDK sends to an engine that supports them) or URNs."""
    found: list[dict[str, Any]] = [{"urn": urn} for urn in request.aliasURNs]
    for alias in request.aliases:
        if alias.WhichOneof("alias") == "urn":
            found.append({"urn": alias.urn})
            continue
        spec = alias.spec
        entry: dict[str, Any] = {"name": spec.name, "type": spec.type, "stack": spec.stack, "project": spec.project}
        if spec.WhichOneof("parent") == "noParent":
            entry["noParent"] = spec.noParent
        elif spec.WhichOneof("parent") == "parentUrn":
            entry["parentUrn"] = spec.parentUrn
        found.append(entry)
    return found


# What the program gets offline for a secret setting the stack file holds encrypted (e.g. an https URL
# where the setting's rules want one): the real value is decrypted only by Pulumi.
OFFLINE_PLACEHOLDERS = {f"{PROJECT}:{s.key}": s.offline_placeholder for s in SETTINGS if s.offline_placeholder}


def config_value(value: Any, key: str | None = None) -> str:
    """A stack-file value as Pulumi hands it to the program: a string (JSON for lists and maps)."""
    if is_encrypted(value):
        # Not decryptable offline, and never printed: a placeholder the setting's rules accept, if it has one.
        return OFFLINE_PLACEHOLDERS.get(key or "", SECRET_PLACEHOLDER)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def render(project_dir: Path, stack: str = "dev", *, config: Mapping[str, str] | None = None,
           cloud: OfflineCloud | None = None) -> Rendering:
    """Run `<project_dir>/__main__.py` once under mocks with the stack's config (or `config`)."""
    project_dir = Path(project_dir).resolve()
    secret_keys: list[str] = []
    if config is None:
        try:
            stack_file = read_stack_file(project_dir, stack)
        except SettingsError as err:
            raise ProgramError(str(err)) from None
        config = {key: config_value(value, key) for key, value in stack_file.items()}
        secret_keys = [key for key, value in stack_file.items() if is_encrypted(value)]  # as Pulumi marks them
    config = dict(config)
    cloud = cloud or OfflineCloud()
    monitor = _RecordingMonitor(cloud)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # Pulumi calls the monitor from executor threads, each of which makes itself an event loop;
    # own those loops so they are closed here rather than half-finalised at interpreter exit.
    thread_loops: list[asyncio.AbstractEventLoop] = []

    def give_thread_a_loop() -> None:
        thread_loops.append(asyncio.new_event_loop())
        asyncio.set_event_loop(thread_loops[-1])

    executor = ThreadPoolExecutor(initializer=give_thread_a_loop)
    loop.set_default_executor(executor)
    sys.path.insert(0, str(project_dir))
    try:
        pulumi.runtime.set_mocks(cloud, project=PROJECT, stack=stack, preview=False, monitor=monitor,
                                 organization="organization")  # what a DIY backend reports
        set_root_resource(None)  # run_in_stack makes the stack resource, as under `pulumi up`
        pulumi.runtime.set_all_config(config, secret_keys)
        main = str(project_dir / "__main__.py")
        try:
            loop.run_until_complete(run_in_stack(lambda: runpy.run_path(main, run_name="__main__")))
        except pulumi.RunError as err:
            raise ProgramError(str(err)) from None
    finally:
        sys.path.remove(str(project_dir))
        for task in asyncio.all_tasks(loop):
            task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(task)
        loop.close()
        asyncio.set_event_loop(None)
        executor.shutdown(wait=True)
        for thread_loop in thread_loops:
            thread_loop.close()

    secret_outputs: list[str] = []
    rendering = Rendering(stack=stack, config=config, invokes=cloud.invokes,
                          outputs=unwrap_secrets(monitor.stack_outputs or {}, "", secret_outputs),
                          secret_outputs=secret_outputs)
    for urn, reg in monitor.registrations.items():
        registered = monitor.resources.get(urn)
        rendering.resources.append(DeclaredResource(
            urn=urn, id=registered.id if registered else None, type=reg["type"], name=reg["name"],
            parent=reg["parent"], custom=reg["custom"], inputs=reg["inputs"],
            state=dict(registered.state) if registered else {},
            dependencies=reg["dependencies"], secret_inputs=reg["secret_inputs"], aliases=reg["aliases"]))
    return rendering

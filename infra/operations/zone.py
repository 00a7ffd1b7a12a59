"""The zone a command reads: a stack's settings with the whole customers file, and the zone's custom hostnames.

The commands that talk to Cloudflare (`status`, `instructions`, `check`, `import`) read the zone, and
the zone is whole: they take the whole customers file from any stack, whatever its role (`all`, `core`
or a `shard`), never the share of the hostnames a shard stack declares. A shard's stack file only says
where the file and the zone are; the drift they report is the zone's, not one stack's.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.model.customers import CustomerHostname, CustomersFile, load_customers
from infra.model.names import PROJECT, bare_stack
from infra.model.settings import SHARD_ROLE, SettingsError, StackSettings
from infra.stack_files import stack_settings

if TYPE_CHECKING:
    from infra.clients.cloudflare import CloudflareApi


@dataclass(frozen=True)
class ZoneStack:
    """A stack's settings and its validated customers file, as the program reads them."""

    name: str
    project_dir: Path
    settings: StackSettings
    customers_path: Path
    customers: CustomersFile

    def declared(self, hostname: str) -> CustomerHostname | None:
        return next((h for h in self.customers.hostnames if h.hostname == hostname), None)

    def shown_path(self) -> str:
        return os.path.relpath(self.customers_path)


def load_zone_stack(project_dir: Path, stack: str, settings: StackSettings | None = None) -> ZoneStack:
    """The stack's settings and validated customers file (a CustomersFileError when the file is invalid).

    Zone-wide from any role: the whole file, every hostname of every shard (see the module's note).
    For a shard whose core's stack file is in the project, both must name the same zone and file.
    """
    settings = settings or stack_settings(project_dir, stack)
    if settings.role == SHARD_ROLE:
        _same_zone_as_the_core(project_dir, stack, settings)
    path = settings.customers_path(project_dir)
    return ZoneStack(stack, project_dir, settings, path, load_customers(path, settings.validation_rules()))


def _same_zone_as_the_core(project_dir: Path, stack: str, settings: StackSettings) -> None:
    core = bare_stack(settings.core_stack or "")
    if not core or not (project_dir / f"Pulumi.{core}.yaml").is_file():
        return  # the core lives elsewhere (another project folder): nothing to compare here
    core_settings = stack_settings(project_dir, core)
    for key, mine, theirs in (("zone", settings.zone, core_settings.zone),
                              ("customersFile", settings.customers_file, core_settings.customers_file)):
        if mine != theirs:
            raise SettingsError(f"stack {stack} is a shard of {core}, but its {PROJECT}:{key} is {mine!r} and the "
                                f"core's {theirs!r}: a zone's stacks share one zone and one customers file")


def zone_id(api: CloudflareApi, settings: StackSettings) -> str:
    """The zone's id: the configured one, or one lookup by name."""
    return api.zone_id(settings.zone, settings.zone_id)


def zone_hostnames(api: CloudflareApi, zone: str, settings: StackSettings,
                   on_page: Callable[[int, int | None], None] | None = None) -> list[dict[str, Any]]:
    """Every custom hostname of the zone: one request per 1,000 (`on_page` hears of each).

    Bounded by what a zone can hold (50,000, or the stack's maxHostnames when an Enterprise
    contract allows more), whatever the API's answers claim.
    """
    from infra.clients.cloudflare import ZONE_HOSTNAME_LIMIT

    return api.custom_hostnames(zone, on_page=on_page, limit=max(ZONE_HOSTNAME_LIMIT, settings.max_hostnames))

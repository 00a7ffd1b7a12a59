"""What the commands that talk to Cloudflare share: stack + customers loading, the API, the listing.

Their errors (an invalid customers file, no token, a failed API call) go up to `main()`, which
prints them and exits with the code infra/cli/status_codes.py gives them.

These commands read the zone, and the zone is whole: `status`, `instructions`, `check` and `import`
take the whole customers file from any stack, whatever its role (`all`, `core` or a `shard`), never
the share of the hostnames a shard stack declares. A shard's stack file only says where the file
and the zone are; the drift they report is the zone's, not one stack's.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from infra.cli import status_codes
from infra.cli.errors import SetupError
from infra.cli.project import StackChoice, chosen_stack_settings, find_project_dir, stack_choice, stack_settings
from infra.cli.terminal import style
from infra.model.customers import CustomerHostname, CustomersFile, load_customers
from infra.model.names import PROJECT
from infra.model.settings import SHARD_ROLE, StackSettings
from infra.operations import network_limits

if TYPE_CHECKING:
    from infra.operations.cloudflare_api import CloudflareApi

EXIT_CODES_HELP = (f"Exit codes: {status_codes.OK} fine; {status_codes.PROBLEMS} something needs attention; "
                   f"{status_codes.CANNOT_RUN} cannot run (usage, stack settings, no CLOUDFLARE_API_TOKEN, or the "
                   "Cloudflare API failed). The token comes from CLOUDFLARE_API_TOKEN; CLOUDFLARE_BASE_URL "
                   f"overrides the API address. {network_limits.short_help()}")


@dataclass(frozen=True)
class Stack:
    """The stack's settings and its validated customers file, as the program reads them."""

    name: str
    project_dir: Path
    settings: StackSettings
    customers_path: Path
    customers: CustomersFile
    choice: StackChoice  # the name again, and why this stack (said in every output)

    def declared(self, hostname: str) -> CustomerHostname | None:
        return next((h for h in self.customers.hostnames if h.hostname == hostname), None)

    def shown_path(self) -> str:
        return os.path.relpath(self.customers_path)


def load_stack(args: argparse.Namespace) -> Stack:
    """The stack's settings and validated customers file (a CustomersFileError goes up to main(): exit 1).

    Zone-wide from any role: the whole file, every hostname of every shard (see the module's note).
    For a shard whose core's stack file is in the project, both must name the same zone and file.
    """
    choice = stack_choice(args)
    project_dir = find_project_dir(args.project_dir)
    settings = chosen_stack_settings(project_dir, choice)
    if settings.role == SHARD_ROLE:
        _same_zone_as_the_core(project_dir, choice.name, settings)
    path = settings.customers_path(project_dir)
    return Stack(choice.name, project_dir, settings, path, load_customers(path, settings.validation_rules()), choice)


def _same_zone_as_the_core(project_dir: Path, stack: str, settings: StackSettings) -> None:
    core = (settings.core_stack or "").rsplit("/", 1)[-1]
    if not core or not (project_dir / f"Pulumi.{core}.yaml").is_file():
        return  # the core lives elsewhere (another project folder): nothing to compare here
    core_settings = stack_settings(project_dir, core)
    for key, mine, theirs in (("zone", settings.zone, core_settings.zone),
                              ("customersFile", settings.customers_file, core_settings.customers_file)):
        if mine != theirs:
            raise SetupError(f"stack {stack} is a shard of {core}, but its {PROJECT}:{key} is {mine!r} and the "
                             f"core's {theirs!r}: a zone's stacks share one zone and one customers file")


def connect(settings: StackSettings) -> tuple[CloudflareApi, str]:
    """The API client and the zone id (configured, or one lookup by name)."""
    from infra.operations.cloudflare_api import CloudflareApi  # the SDK loads for API commands only

    api = CloudflareApi.from_environment()
    return api, api.zone_id(settings.zone, settings.zone_id)


class PageProgress:
    """A one-line progress bar on a terminal (stderr); silent in pipes and CI logs."""

    WIDTH = 24

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.active = self.stream.isatty()
        self.drawn = False

    def __call__(self, page: int, total: int | None) -> None:
        if not self.active:
            return
        if total:
            filled = round(self.WIDTH * page / total)
            bar = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] page {page}/{total}"
        else:
            bar = f"page {page}"
        self.stream.write(f"\r{style(self.label, 'dim', self.stream)} {bar}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()


def list_zone_hostnames(api: CloudflareApi, zone_id: str, settings: StackSettings) -> list[dict[str, Any]]:
    """Every custom hostname of the zone: one request per 1,000, with a progress bar on a terminal.

    Bounded by what a zone can hold (50,000, or the stack's maxHostnames when an Enterprise
    contract allows more), whatever the API's answers claim.
    """
    from infra.operations.cloudflare_api import ZONE_HOSTNAME_LIMIT

    limit = max(ZONE_HOSTNAME_LIMIT, settings.max_hostnames)
    progress = PageProgress("Listing custom hostnames")
    try:
        return api.custom_hostnames(zone_id, on_page=progress, limit=limit)
    finally:
        progress.close()

"""What the commands that talk to Cloudflare share: stack + customers loading, the API, the listing.

Their errors (an invalid customers file, no token, a failed API call) go up to `main()`, which
prints them and exits with the code infra/cli/status_codes.py gives them.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from infra.cli import status_codes
from infra.cli.project import find_project_dir, stack_settings
from infra.cli.terminal import style
from infra.model.customers import CustomerHostname, CustomersFile, load_customers
from infra.model.settings import StackSettings

if TYPE_CHECKING:
    from infra.operations.cloudflare_api import CloudflareApi

EXIT_CODES_HELP = (f"Exit codes: {status_codes.OK} fine; {status_codes.PROBLEMS} something needs attention; "
                   f"{status_codes.CANNOT_RUN} cannot run (usage, stack settings, no CLOUDFLARE_API_TOKEN, or the "
                   "Cloudflare API failed). The token comes from CLOUDFLARE_API_TOKEN; CLOUDFLARE_BASE_URL "
                   "overrides the API address.")


@dataclass(frozen=True)
class Stack:
    """The stack's settings and its validated customers file, as the program reads them."""

    name: str
    project_dir: Path
    settings: StackSettings
    customers_path: Path
    customers: CustomersFile

    def declared(self, hostname: str) -> CustomerHostname | None:
        return next((h for h in self.customers.hostnames if h.hostname == hostname), None)

    def shown_path(self) -> str:
        return os.path.relpath(self.customers_path)


def load_stack(args: argparse.Namespace) -> Stack:
    """The stack's settings and validated customers file (a CustomersFileError goes up to main(): exit 1)."""
    project_dir = find_project_dir(args.project_dir)
    settings = stack_settings(project_dir, args.stack)
    path = settings.customers_path(project_dir)
    return Stack(args.stack, project_dir, settings, path, load_customers(path, settings.validation_rules()))


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

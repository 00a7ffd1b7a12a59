"""What the commands that talk to Cloudflare share: stack + customers loading, the API, errors.

Exit codes for these commands: 0 fine, 1 something needs attention (or the customers file is
invalid), 2 the command cannot run (usage, stack settings, missing token, the API failed).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from infra.cli.project import EXIT_PROBLEMS, EXIT_USAGE, SetupError, find_project_dir, stack_settings
from infra.cli.terminal import style
from infra.model.customers import CustomerHostname, CustomersFile, CustomersFileError, load_customers
from infra.model.hostnames import normalise_hostname
from infra.model.settings import StackSettings

if TYPE_CHECKING:
    from infra.operations.cloudflare_api import CloudflareApi

T = TypeVar("T")
EXIT_CODES_HELP = ("Exit codes: 0 fine; 1 something needs attention; 2 cannot run (usage, stack settings, "
                   "no CLOUDFLARE_API_TOKEN, or the Cloudflare API failed). The token comes from "
                   "CLOUDFLARE_API_TOKEN; CLOUDFLARE_BASE_URL overrides the API address.")


class CommandError(Exception):
    """Stops a command with a message for the user and an exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


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


def run_guarded(command: str, body: Callable[[], int]) -> int:
    """Turn CommandError into its message on stderr and its exit code."""
    try:
        return body()
    except CommandError as err:
        print(f"saas-domains {command}: {err}", file=sys.stderr)
        return err.code


def load_stack(args: argparse.Namespace) -> Stack:
    try:
        project_dir = find_project_dir(args.project_dir)
        settings = stack_settings(project_dir, args.stack)
    except SetupError as err:
        raise CommandError(str(err)) from None
    path = settings.customers_path(project_dir)
    try:
        customers = load_customers(path, settings.validation_rules())
    except CustomersFileError as err:
        raise CommandError(f"the customers file is invalid; fix it first (`saas-domains validate`):\n{err}",
                           EXIT_PROBLEMS) from None
    return Stack(args.stack, project_dir, settings, path, customers)


def connect(settings: StackSettings) -> tuple[CloudflareApi, str]:
    """The API client and the zone id (configured, or one lookup by name)."""
    from infra.operations.cloudflare_api import CloudflareApi, CloudflareApiError  # the SDK loads for API commands only

    try:
        api = CloudflareApi.from_environment()
        return api, api.zone_id(settings.zone, settings.zone_id)
    except CloudflareApiError as err:
        raise CommandError(str(err)) from None


def api_call(action: Callable[[], T]) -> T:
    """Run API work, turning a final API failure into a CommandError (exit 2)."""
    from infra.operations.cloudflare_api import CloudflareApiError

    try:
        return action()
    except CloudflareApiError as err:
        raise CommandError(str(err)) from None


def api_hostname(item: dict[str, Any]) -> str:
    """The API's hostname in the customers file's canonical form, so both sides compare."""
    raw = str(item.get("hostname", ""))
    try:
        return normalise_hostname(raw, allow_wildcard=True)
    except ValueError:
        return raw.strip().lower().rstrip(".")


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
        return api_call(lambda: api.custom_hostnames(zone_id, on_page=progress, limit=limit))
    finally:
        progress.close()

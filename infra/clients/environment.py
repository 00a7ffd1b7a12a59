"""The clients a command or a dynamic provider uses, built in one place from the environment.

Tokens (CLOUDFLARE_API_TOKEN, GITHUB_TOKEN), addresses (CLOUDFLARE_BASE_URL, GITHUB_API_URL) and the
network limits (SAAS_DOMAINS_*) are read here (through each client's `from_environment`) and nowhere
else; every client of one command shares the command's Budget, so its deadline covers all of them.
Each client is made on first use: a command that never reaches GitHub never needs its token, the
Cloudflare SDK and dnspython load only for commands that call them, and a limit set wrong in the
environment stops only a command that goes on the network.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from infra.clients.network_limits import Budget, Limits

if TYPE_CHECKING:
    from infra.clients.cloudflare import CloudflareApi
    from infra.clients.github import GitHubApi
    from infra.clients.resolver import Lookup


class Clients:
    """Made once per command (by the CLI's `main()`) or per provider call, and handed down."""

    def __init__(self, environ: Mapping[str, str] | None = None, budget: Budget | None = None, *,
                 budget_for: Callable[[Limits], Budget] = Budget) -> None:
        """`budget_for` turns the environment's limits into the deadline (a dynamic provider's is its own)."""
        self.environ = dict(os.environ if environ is None else environ)
        self._budget = budget
        self._budget_for = budget_for
        self._cloudflare: CloudflareApi | None = None

    @property
    def budget(self) -> Budget:
        """The command's deadline, started on the first client made (LimitsError for a bad SAAS_DOMAINS_*)."""
        if self._budget is None:
            self._budget = self._budget_for(Limits.from_environment(self.environ))
        return self._budget

    def cloudflare(self, **options: Any) -> CloudflareApi:
        """The Cloudflare API client (MissingTokenError without CLOUDFLARE_API_TOKEN), made once."""
        if self._cloudflare is None:
            from infra.clients.cloudflare import CloudflareApi

            options.setdefault("budget", self.budget)
            self._cloudflare = CloudflareApi.from_environment(self.environ, **options)
        return self._cloudflare

    def github(self, repo: str, notify: Callable[[str], None] | None = None, **options: Any) -> GitHubApi:
        """The GitHub API client of one repository (MissingGitHubTokenError without GITHUB_TOKEN)."""
        from infra.clients.github import GitHubApi

        if notify is not None:
            options["notify"] = notify
        return GitHubApi.from_environment(repo, environ=self.environ, budget=self.budget, **options)

    def resolver(self, address: str | None, port: int = 53, timeout: float = 3.0) -> Lookup:
        """DNS questions to one resolver (None: the system's), within the command's deadline."""
        from infra.clients.resolver import Lookup, make_resolver

        return Lookup(make_resolver(address, port, timeout), self.budget, address)

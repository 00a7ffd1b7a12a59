"""The Cloudflare API as the project's dynamic providers reach it, inside the engine's provider process.

The engine runs a dynamic provider by itself (a plain `pulumi destroy` runs no program), with the
stack's config but not the program's state of mind: the API token comes from CLOUDFLARE_API_TOKEN,
or from the stack's `cloudflare:apiToken` (a secret), which the engine hands the provider's
`configure`. Never from the provider's own state: nothing here is pickled.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import pulumi
import pulumi.dynamic as dynamic

# The one door from the components to the API client (tests/test_layout.py states it): what the
# dynamic providers use of it is re-exported here.
from infra.clients.cloudflare import (
    BASE_URL_VARIABLE,
    TOKEN_VARIABLE,
    Budget,
    CloudflareApi,
    CloudflareApiError,
    MissingTokenError,
)
from infra.clients.environment import Clients
from infra.clients.network_limits import Limits

__all__ = ["BASE_URL_VARIABLE", "Budget", "CloudflareApi", "CloudflareApiError", "CloudflareCallingProvider",
           "Limits", "config_token"]
CONFIG_TOKEN_KEY = "cloudflare:apiToken"


def config_token(config: Any) -> str | None:
    """The stack's `cloudflare:apiToken`, from a dynamic provider's ConfigureRequest.config."""
    token = config.get(CONFIG_TOKEN_KEY)
    return token if isinstance(token, str) and token.strip() else None


class CloudflareCallingProvider(dynamic.ResourceProvider):
    """A dynamic provider that calls Cloudflare: the token from `configure` (the stack's
    `cloudflare:apiToken`) or the environment, held in the provider process and never pickled.

    A subclass with state of its own extends __init__ (keyword arguments) and __getstate__.
    """

    def __init__(self) -> None:
        super().__init__()
        self._config_token: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {}  # never a token in state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)

    def configure(self, req: dynamic.ConfigureRequest) -> None:
        # Called in the provider process only, with the stack's config: a token may be given as
        # `cloudflare:apiToken` (a secret) instead of the environment variable.
        self._config_token = config_token(req.config)

    def api(self, *, needs: str, permission: str, refused: type[Exception],
            budget_for: Callable[[Limits], Budget] = Budget, **options: Any) -> CloudflareApi:
        """An API client made by infra/clients/environment.py like every other; without a token,
        `refused` names what `needs` it and the `permission`. `budget_for` turns the environment's
        network limits into the call's deadline (the default: the limits' own)."""
        environ = dict(os.environ)
        if not (environ.get(TOKEN_VARIABLE) or "").strip() and self._config_token:
            environ[TOKEN_VARIABLE] = self._config_token
        options.setdefault("notify", lambda message: pulumi.log.info(message))
        try:
            return Clients(environ, budget_for=budget_for).cloudflare(**options)
        except MissingTokenError:
            raise refused(
                f"{TOKEN_VARIABLE} is not set (nor {CONFIG_TOKEN_KEY}): {needs}. Export an API token scoped to the "
                f"SaaS zone with {permission}, then run the command again.") from None


F = TypeVar("F", bound=Callable[..., Any])


def said_plainly(*expected: type[Exception]) -> Callable[[F], F]:
    """Print an expected error's message as a line of its own (`error: ...`) before it propagates.

    The engine's dynamic-provider host (pulumi/dynamic/__main__.py, `_abort_with_traceback`) turns every
    exception of a provider into a Python traceback in the `pulumi` output, with our message at its end;
    the line above it is what a person reads first.
    """

    def wrap(method: F) -> F:
        @functools.wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except expected as err:
                pulumi.log.error(str(err))
                raise

        return wrapper  # type: ignore[return-value]

    return wrap

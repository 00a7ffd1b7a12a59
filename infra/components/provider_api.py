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

__all__ = ["BASE_URL_VARIABLE", "Budget", "CloudflareApi", "CloudflareApiError", "Limits", "MissingProviderToken",
           "config_token", "provider_api"]
CONFIG_TOKEN_KEY = "cloudflare:apiToken"


class MissingProviderToken(Exception):
    """No token in the provider process; the message says what needs it and with which permission."""


def config_token(config: Any) -> str | None:
    """The stack's `cloudflare:apiToken`, from a dynamic provider's ConfigureRequest.config."""
    token = config.get(CONFIG_TOKEN_KEY)
    return token if isinstance(token, str) and token.strip() else None


def provider_api(token_from_config: str | None, *, needs: str, permission: str,
                 budget_for: Callable[[Limits], Budget] | None = None, **options: Any) -> CloudflareApi:
    """An API client for a dynamic provider, made by infra/clients/environment.py like every other.

    `budget_for` turns the environment's network limits into the call's deadline (the default: the
    limits' own); MissingProviderToken names what `needs` the token and the `permission`.
    """
    environ = dict(os.environ)
    if not (environ.get(TOKEN_VARIABLE) or "").strip() and token_from_config:
        environ[TOKEN_VARIABLE] = token_from_config
    options.setdefault("notify", lambda message: pulumi.log.info(message))
    try:
        return Clients(environ, budget_for=budget_for or Budget).cloudflare(**options)
    except MissingTokenError:
        raise MissingProviderToken(
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

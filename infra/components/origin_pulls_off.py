"""Switches zone-level Authenticated Origin Pulls off when the stack stops using it.

In terraform-provider-cloudflare v5.22.0 (what pulumi-cloudflare 6.23.1 bridges) deleting an
`authenticated_origin_pulls_settings` resource does nothing at Cloudflare
(internal/services/authenticated_origin_pulls_settings/resource.go: its Delete calls no API), so a
`pulumi destroy`, or a switch of `originAuth` away from `mtls`, left the zone sending client certificates
(its own deleted, so Cloudflare's shared one) to every origin with no one asking for them. This dynamic
resource sits between the zone's certificate and the settings: created before the settings enable pulls
(create calls nothing), deleted after the settings and before the certificate, and its delete PUTs
`enabled: false` to /zones/{zone_id}/origin_tls_client_auth/settings. So after either, zone-level
Authenticated Origin Pulls is off (docs/operators.md, "What the zone looks like afterwards").
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from infra.components.provider_api import (
    CloudflareApiError,
    MissingProviderToken,
    config_token,
    provider_api,
    said_plainly,
)


class OriginPullsOffError(Exception):
    """Authenticated Origin Pulls could not be switched off; the message says what to do."""


class OriginPullsOffProvider(dynamic.ResourceProvider):
    """Create and update call nothing; delete switches zone-level Authenticated Origin Pulls off."""

    serialize_as_secret_always = False  # holds no secret

    def __init__(self) -> None:
        super().__init__()
        self._config_token: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {}  # never a token in state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()

    def configure(self, req: dynamic.ConfigureRequest) -> None:
        self._config_token = config_token(req.config)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(f"{props['zone_id']}/origin-pulls", {"zone_id": props["zone_id"]})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        moved = olds.get("zone_id") != news.get("zone_id")
        return dynamic.DiffResult(changes=moved, replaces=["zone_id"] if moved else [], delete_before_replace=True)

    @said_plainly(OriginPullsOffError)
    def delete(self, _id: str, props: dict[str, Any]) -> None:
        zone_id = props["zone_id"]
        try:
            api = provider_api(self._config_token, permission="Zone · SSL and Certificates edit",
                               needs="switching the zone's Authenticated Origin Pulls off")
            api.call(lambda: api.client.origin_tls_client_auth.settings.update(zone_id=zone_id, enabled=False),
                     "switching zone-level Authenticated Origin Pulls off")
        except MissingProviderToken as err:
            raise OriginPullsOffError(str(err)) from None
        except CloudflareApiError as err:
            raise OriginPullsOffError(f"{err}; the zone still sends client certificates to its origins: run the "
                                      "same pulumi command again") from None


class OriginPullsOff(dynamic.Resource):
    """Registers as `pulumi-python:dynamic:Resource` with the input zone_id (and __provider)."""

    zone_id: pulumi.Output[str]

    def __init__(self, name: str, zone_id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None):
        super().__init__(OriginPullsOffProvider(), name, {"zone_id": zone_id}, opts)

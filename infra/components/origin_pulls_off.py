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
    CloudflareCallingProvider,
    said_plainly,
)


class OriginPullsOffError(Exception):
    """Authenticated Origin Pulls could not be switched off; the message says what to do."""


class OriginPullsOffProvider(CloudflareCallingProvider):
    """Create and update call nothing; delete switches zone-level Authenticated Origin Pulls off."""

    serialize_as_secret_always = False  # holds no secret

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(f"{props['zone_id']}/origin-pulls", {"zone_id": props["zone_id"]})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        moved = olds.get("zone_id") != news.get("zone_id")
        return dynamic.DiffResult(changes=moved, replaces=["zone_id"] if moved else [], delete_before_replace=True)

    @said_plainly(OriginPullsOffError)
    def delete(self, _id: str, props: dict[str, Any]) -> None:
        zone_id = props["zone_id"]
        api = self.api(permission="Zone · SSL and Certificates edit", refused=OriginPullsOffError,
                       needs="switching the zone's Authenticated Origin Pulls off")
        try:
            api.call(lambda: api.client.origin_tls_client_auth.settings.update(zone_id=zone_id, enabled=False),
                     "switching zone-level Authenticated Origin Pulls off")
        except CloudflareApiError as err:
            raise OriginPullsOffError(f"{err}; the zone still sends client certificates to its origins: run the "
                                      "same pulumi command again") from None


class OriginPullsOff(dynamic.Resource):
    """Registers as `pulumi-python:dynamic:Resource` with the input zone_id (and __provider)."""

    zone_id: pulumi.Output[str]

    def __init__(self, name: str, zone_id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None):
        super().__init__(OriginPullsOffProvider(), name, {"zone_id": zone_id}, opts)

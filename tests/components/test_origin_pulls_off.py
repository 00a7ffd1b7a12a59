"""Leaving `originAuth: mtls` (a destroy, or a switch to another mode) switches Authenticated Origin Pulls off.

The provider's delete of `authenticated_origin_pulls_settings` calls nothing, so the program puts a
dynamic resource between the zone's certificate and the settings: the engine deletes the settings
(nothing), then it (enabled: false, against the emulator here), then the certificate.
"""

from __future__ import annotations

import pytest

from infra.components.origin_pulls_off import OriginPullsOffError, OriginPullsOffProvider
from tests.conftest import EXAMPLE_CUSTOMERS, run_program
from tests.emulator import cloudflare as emulated

pytest_plugins = ["tests.emulator.fixtures"]

SETTINGS = "cloudflare:index/authenticatedOriginPullsSettings:AuthenticatedOriginPullsSettings"
CERTIFICATE = "cloudflare:index/authenticatedOriginPullsCertificate:AuthenticatedOriginPullsCertificate"


def test_the_switch_sits_between_the_certificate_and_the_settings_so_it_is_deleted_between_them():
    rendering = run_program(EXAMPLE_CUSTOMERS, originAuth="mtls")
    [settings] = rendering.of_type(SETTINGS)
    [certificate] = rendering.of_type(CERTIFICATE)
    [switch] = [r for r in rendering.resources if r.name == "origin-auth-zone-pulls-off"]
    assert switch.dependencies == [certificate.urn]  # created after it, deleted before it
    assert set(settings.dependencies) == {certificate.urn, switch.urn}  # deleted before the switch
    assert switch.inputs["zone_id"] == settings.inputs["zoneId"]
    header = run_program(EXAMPLE_CUSTOMERS, originAuth="header")
    assert not [r for r in header.resources if r.name == "origin-auth-zone-pulls-off"]  # gone with mtls


def test_its_delete_switches_zone_level_pulls_off(cloudflare_emulator, cloudflare_client):
    zone = emulated.ZONE_ID
    cloudflare_client.origin_tls_client_auth.settings.update(zone_id=zone, enabled=True)  # as the settings left it
    provider = OriginPullsOffProvider()
    created = provider.create({"zone_id": zone})
    assert cloudflare_client.origin_tls_client_auth.settings.get(zone_id=zone).enabled is True  # create: nothing
    before = len(cloudflare_emulator.calls(path_contains="origin_tls_client_auth"))
    provider.delete(created.id, created.outs)
    sent = cloudflare_emulator.calls(path_contains="origin_tls_client_auth")[before:]
    assert [(e.method, e.body, e.status) for e in sent] == [("PUT", {"enabled": False}, 200)]
    assert cloudflare_client.origin_tls_client_auth.settings.get(zone_id=zone).enabled is False


def test_without_a_token_it_says_what_the_delete_needs(monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    with pytest.raises(OriginPullsOffError, match="Zone · SSL and Certificates edit"):
        OriginPullsOffProvider().delete("z/origin-pulls", {"zone_id": "z"})

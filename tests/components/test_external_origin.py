"""`origin: external`: an origin of the team's own, of which the stack declares only the Cloudflare side.

The fallback record is a proxied CNAME to originHostname, and the stack's outputs hand the origin what
it must check (Cloudflare's ranges, the secret header or the CA of the client certificate). The ALB and
Cloud Run renderings are pinned elsewhere (tests/components/test_rendering_snapshot.py).
"""

from __future__ import annotations

import pytest

from infra.components.origin_auth import HEADER_NAME
from infra.model import names
from infra.model.settings import SettingsError, settings_from
from infra.offline_cloud import CLOUDFLARE_IPV4, CLOUDFLARE_IPV6
from tests.conftest import run_stack

ORIGIN_HOSTNAME = "ingress.mailito-apps.net"  # Pulumi.external-example.yaml
CLOUDFLARE_ONLY = {"cloudflare", "random", "pulumi-python", "saas-domains"}  # package of every resource type


def external(**overrides):
    return run_stack("external-example", **overrides)


def only(rendering, type_):
    found = rendering.of_type(type_)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def test_the_fallback_record_is_a_proxied_cname_to_the_origin_and_the_edge_is_complete():
    rendering = external()
    records = {r.name: r for r in rendering.of_type(names.DNS_RECORD_RESOURCE)}
    assert set(records) == {"edge-fallback", "edge-customer-wildcard"}
    fallback = records["edge-fallback"].inputs
    assert (fallback["name"], fallback["type"], fallback["content"], fallback["proxied"], fallback["ttl"]) == (
        "proxy-fallback.mailito.com", "CNAME", ORIGIN_HOSTNAME, True, 1)
    assert fallback["comment"] == "Custom-hostname fallback origin: the origin (managed by saas-domains)"
    assert records["edge-customer-wildcard"].inputs["content"] == "proxy-fallback.mailito.com"
    assert only(rendering, names.FALLBACK_ORIGIN_RESOURCE).inputs["origin"] == "proxy-fallback.mailito.com"
    assert only(rendering, "cloudflare:index/zoneSetting:ZoneSetting").inputs["value"] == "full"
    assert len(rendering.of_type(names.CUSTOM_HOSTNAME_RESOURCE)) == 4
    assert {r.type.split(":")[0] for r in rendering.resources} == CLOUDFLARE_ONLY


def test_header_authentication_hands_the_origin_its_header_and_cloudflares_ranges():
    rendering = external()
    ruleset = only(rendering, "cloudflare:index/ruleset:Ruleset").inputs
    assert ruleset["phase"] == "http_request_late_transform"
    assert ruleset["description"] == "Adds the secret header the origin requires (managed by saas-domains)"
    [rule] = ruleset["rules"]
    sent = rule["actionParameters"]["headers"][HEADER_NAME]
    outputs = rendering.outputs
    assert outputs["originAuthHeaderName"] == HEADER_NAME
    assert outputs["originAuthHeaderValue"] == sent["value"]
    assert "originAuthHeaderValue" in rendering.secret_outputs
    assert outputs["originHostname"] == ORIGIN_HOSTNAME
    assert outputs["cloudflareIpv4Cidrs"] == list(CLOUDFLARE_IPV4)
    assert outputs["cloudflareIpv6Cidrs"] == list(CLOUDFLARE_IPV6)
    assert "originPullCaCertificate" not in outputs


def test_mutual_tls_sends_our_own_client_certificate_and_outputs_its_ca():
    rendering = external(originAuth="mtls")
    assert only(rendering, "cloudflare:index/authenticatedOriginPullsSettings:AuthenticatedOriginPullsSettings"
                ).inputs["enabled"] is True
    certificate = only(rendering, "cloudflare:index/authenticatedOriginPullsCertificate:"
                                  "AuthenticatedOriginPullsCertificate")
    ca = only(rendering, "tls:index/selfSignedCert:SelfSignedCert")
    assert rendering.outputs["originPullCaCertificate"] == ca.state["certPem"]
    assert certificate.inputs["certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert not rendering.of_type("cloudflare:index/ruleset:Ruleset")
    assert "originAuthHeaderValue" not in rendering.outputs
    assert {r.type.split(":")[0] for r in rendering.resources} == (CLOUDFLARE_ONLY - {"random"}) | {"tls"}


def test_no_origin_authentication_outputs_only_the_ranges():
    rendering = external(originAuth="none")
    assert not [k for k in rendering.outputs if k.startswith(("originAuth", "originPull"))]
    assert rendering.outputs["cloudflareIpv4Cidrs"] == list(CLOUDFLARE_IPV4)
    assert {r.type.split(":")[0] for r in rendering.resources} == CLOUDFLARE_ONLY - {"random"}


SETTINGS = {"zone": "mailito.com", "origin": "external", "originHostname": ORIGIN_HOSTNAME}


def settings(**values):
    merged = {**SETTINGS, **values}
    return settings_from(lambda key: merged.get(key))


def test_the_origin_hostname_is_normalised():
    assert settings(originHostname=" Ingress.Mailito-Apps.NET. ").origin_hostname == ORIGIN_HOSTNAME


@pytest.mark.parametrize(("values", "message"), [
    ({"originHostname": None}, "saas-domains:origin external needs saas-domains:originHostname"),
    ({"originHostname": "https://app.example.com"}, "saas-domains:originHostname must be a hostname"),
    ({"originHostname": "203.0.113.7"}, "an IP address, not a hostname"),
    ({"originHostname": "proxy-fallback.mailito.com"}, "is the fallback record, which points at the origin"),
    ({"originHostname": "acme.cname.mailito.com"}, "under the customers' CNAME domain cname.mailito.com"),
    ({"origin": "aws-alb"}, "saas-domains:originHostname is read only with saas-domains:origin external"),
])
def test_origin_settings_that_cannot_work_are_refused(values, message):
    with pytest.raises(SettingsError, match=message.replace(".", r"\.").replace("(", r"\(")):
        settings(**values)

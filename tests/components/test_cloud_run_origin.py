"""The Cloud Run origin (infra/components/cloud_run_origin.py) as the real program declares it.

The stack is Pulumi.gcp-example.yaml, rendered under Pulumi's mock engine with each origin
authentication mode; every resource and property the origin needs is asserted here.
"""

from __future__ import annotations

import ipaddress
import json
import re

import pytest

from infra.components.cloud_run_origin import MAX_RANGES_PER_RULE, MAX_SUBEXPRESSIONS
from infra.offline_cloud import CLOUDFLARE_IPV4, CLOUDFLARE_IPV6
from tests.conftest import run_gcp_program
from tests.fakes.cloud import FakeCloud

COMPONENT = "saas-domains:index:CloudRunOrigin"
ADDRESS = "gcp:compute/globalAddress:GlobalAddress"
NEG = "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup"
ARMOR = "gcp:compute/securityPolicy:SecurityPolicy"
BACKEND = "gcp:compute/backendService:BackendService"
URL_MAP = "gcp:compute/uRLMap:URLMap"
SSL_POLICY = "gcp:compute/sSLPolicy:SSLPolicy"
HTTPS_PROXY = "gcp:compute/targetHttpsProxy:TargetHttpsProxy"
HTTP_PROXY = "gcp:compute/targetHttpProxy:TargetHttpProxy"
FORWARDING_RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule"
DNS_AUTH = "gcp:certificatemanager/dnsAuthorization:DnsAuthorization"
CERT = "gcp:certificatemanager/certificate:Certificate"
CERT_MAP = "gcp:certificatemanager/certificateMap:CertificateMap"
CERT_MAP_ENTRY = "gcp:certificatemanager/certificateMapEntry:CertificateMapEntry"
TRUST_CONFIG = "gcp:certificatemanager/trustConfig:TrustConfig"
SERVER_TLS_POLICY = "gcp:networksecurity/serverTlsPolicy:ServerTlsPolicy"
DNS = "cloudflare:index/dnsRecord:DnsRecord"
PASSWORD = "random:index/randomPassword:RandomPassword"
RULESET = "cloudflare:index/ruleset:Ruleset"
CA = "tls:index/selfSignedCert:SelfSignedCert"
AOP_CERT = "cloudflare:index/authenticatedOriginPullsCertificate:AuthenticatedOriginPullsCertificate"
AOP_SETTINGS = "cloudflare:index/authenticatedOriginPullsSettings:AuthenticatedOriginPullsSettings"
ZONE_ID = FakeCloud.zone_id
FALLBACK = "proxy-fallback.mailito.com"
DEFAULT_PRIORITY = 2147483647
CLOUDFLARE_RANGES = set(CLOUDFLARE_IPV4) | set(CLOUDFLARE_IPV6)
HEADER_KEY = "x-saas-domains-origin-auth"
IN_IP_RANGE = re.compile(r"inIpRange\(origin\.ip, '([^']+)'\)")

GCP_TYPES_EVERY_MODE = {
    ADDRESS: 2, NEG: 1, ARMOR: 1, BACKEND: 1, URL_MAP: 2, SSL_POLICY: 1, HTTPS_PROXY: 1, HTTP_PROXY: 1,
    FORWARDING_RULE: 4, DNS_AUTH: 1, CERT: 1, CERT_MAP: 1, CERT_MAP_ENTRY: 1,
}


@pytest.fixture(scope="module")
def header():
    return run_gcp_program()  # the example stack: originAuth header


@pytest.fixture(scope="module")
def mtls():
    return run_gcp_program(originAuth="mtls")


@pytest.fixture(scope="module")
def no_auth():
    return run_gcp_program(originAuth="none")


@pytest.fixture(scope="module", params=["header", "mtls", "none"])
def any_mode(request, header, mtls, no_auth):
    return {"header": header, "mtls": mtls, "none": no_auth}[request.param]


def only(rendering, type_, name=None):
    found = [r for r in rendering.of_type(type_) if name is None or r.name == name]
    assert len(found) == 1, f"expected one {type_} {name or ''}, found {[r.name for r in found]}"
    return found[0]


def gcp_counts(rendering) -> dict[str, int]:
    counts: dict[str, int] = {}
    for resource in rendering.resources:
        if resource.type.startswith("gcp:"):
            counts[resource.type] = counts.get(resource.type, 0) + 1
    return counts


def allow_rules(rendering) -> list[dict]:
    return [rule for rule in only(rendering, ARMOR).inputs["rules"] if rule["action"] == "allow"]


def rule_ranges(rule: dict) -> list[str]:
    match = rule["match"]
    if "expr" in match:
        return IN_IP_RANGE.findall(match["expr"]["expression"])
    return match["config"]["srcIpRanges"]


def header_secret(rendering) -> str:
    return only(rendering, PASSWORD).state["result"]


# --- what is declared, and where ------------------------------------------------------------------


def test_declares_the_load_balancer_resources_and_nothing_of_aws(header, mtls, no_auth):
    assert gcp_counts(header) == GCP_TYPES_EVERY_MODE
    assert gcp_counts(no_auth) == GCP_TYPES_EVERY_MODE
    assert gcp_counts(mtls) == {**GCP_TYPES_EVERY_MODE, TRUST_CONFIG: 1, SERVER_TLS_POLICY: 1}
    for rendering in (header, mtls, no_auth):
        assert not [r.type for r in rendering.resources if r.type.startswith("aws:")]
        assert not [i.token for i in rendering.invokes if not i.token.startswith("cloudflare:")]
        assert [r.type for r in rendering.resources if r.type.startswith("saas-domains:")].count(COMPONENT) == 1


def test_every_origin_resource_is_parented_to_the_component(any_mode):
    component = only(any_mode, COMPONENT)
    assert component.parent.split("::")[2] == "pulumi:pulumi:Stack"
    children = [r for r in any_mode.resources if r.parent == component.urn]
    assert {r.type for r in any_mode.resources if r.type.startswith("gcp:")} <= {r.type for r in children}
    for resource in any_mode.resources:
        if resource.type.startswith("gcp:") or resource.name == "origin-cert-validation":
            assert resource.parent == component.urn, resource.name
            assert resource.name.startswith("origin-"), resource.name


def test_gcp_resources_are_autonamed(any_mode):
    # Pulumi autonaming (name + random suffix) everywhere: no provider requires an explicit name here.
    assert [r.name for r in any_mode.resources if r.type.startswith("gcp:") and "name" in r.inputs] == []


# --- addresses, NEG, backend service ----------------------------------------------------------------


def test_global_static_ipv4_and_ipv6_addresses(header):
    addresses = {r.name: r.inputs for r in header.of_type(ADDRESS)}
    assert addresses == {"origin-ipv4": {"ipVersion": "IPV4", "addressType": "EXTERNAL"},
                         "origin-ipv6": {"ipVersion": "IPV6", "addressType": "EXTERNAL"}}


def test_serverless_neg_for_the_cloud_run_service_in_its_region(header):
    neg = only(header, NEG, "origin-neg")
    assert neg.inputs == {"region": "europe-west1", "networkEndpointType": "SERVERLESS",
                          "cloudRun": {"service": "mailito-app"}}


def test_backend_service_is_external_managed_with_the_neg_and_the_security_policy(header):
    backend = only(header, BACKEND, "origin-backend")
    assert backend.inputs == {
        "loadBalancingScheme": "EXTERNAL_MANAGED", "protocol": "HTTPS",
        "backends": [{"group": only(header, NEG).id}],
        "securityPolicy": only(header, ARMOR).state["selfLink"],
    }


# --- Cloud Armor --------------------------------------------------------------------------------------


def test_security_policy_admits_every_cloudflare_range_and_nothing_else(any_mode):
    policy = only(any_mode, ARMOR)
    assert policy.inputs["type"] == "CLOUD_ARMOR"
    allowed = allow_rules(any_mode)
    covered = [cidr for rule in allowed for cidr in rule_ranges(rule)]
    assert sorted(covered) == sorted(CLOUDFLARE_RANGES)  # each range once, none missing, none added
    for cidr in covered:
        assert ipaddress.ip_network(cidr).prefixlen >= 8, cidr  # nothing like 0.0.0.0/0 or ::/0
    for rule in allowed:
        assert 1 <= len(rule_ranges(rule)) <= MAX_RANGES_PER_RULE
        assert "*" not in json.dumps(rule["match"])
    rules = policy.inputs["rules"]
    assert len({rule["priority"] for rule in rules}) == len(rules)
    assert [rule["action"] for rule in rules] == ["allow"] * len(allowed) + ["deny(403)"]


def test_the_default_rule_denies_everything_else_with_403(any_mode):
    rules = only(any_mode, ARMOR).inputs["rules"]
    default = max(rules, key=lambda rule: rule["priority"])
    assert default["priority"] == DEFAULT_PRIORITY
    assert default["action"] == "deny(403)"
    assert default["match"] == {"versionedExpr": "SRC_IPS_V1", "config": {"srcIpRanges": ["*"]}}
    assert all(rule["priority"] < DEFAULT_PRIORITY for rule in rules if rule is not default)


def test_with_the_secret_header_every_allow_rule_requires_it_within_cloud_armor_limits(header):
    secret = header_secret(header)
    condition = f"request.headers['{HEADER_KEY}'] == '{secret}'"
    for rule in allow_rules(header):
        expression = rule["match"]["expr"]["expression"]
        assert set(rule["match"]) == {"expr"}  # no src_ip_ranges that would admit without the header
        assert expression.startswith(f"{condition} && (") and expression.endswith(")")
        ranges = rule_ranges(rule)
        in_ranges = " || ".join(f"inIpRange(origin.ip, '{cidr}')" for cidr in ranges)
        assert expression == f"{condition} && ({in_ranges})"
        subexpressions = 1 + len(ranges)
        assert subexpressions <= MAX_SUBEXPRESSIONS, expression
        assert len(expression) <= 2048


def test_the_secret_header_stays_a_pulumi_secret(header):
    secret = header_secret(header)
    policy = only(header, ARMOR)
    assert policy.secret_inputs == ["rules"]  # the whole rule list is stored as a secret
    assert secret not in json.dumps(header.outputs)
    for resource in header.resources:
        if secret in json.dumps(resource.inputs):
            assert resource.secret_inputs, f"{resource.name} holds the secret in plain inputs"
    holders = {r.name for r in header.resources if secret in json.dumps(r.inputs)}
    assert holders == {"origin-armor", "origin-auth-header"}
    assert only(header, RULESET).secret_inputs == ["rules"]  # the zone adds the same header on the way


def test_without_the_header_rules_are_plain_ip_rules(mtls, no_auth):
    for rendering in (mtls, no_auth):
        assert only(rendering, ARMOR).secret_inputs == []
        for rule in allow_rules(rendering):
            assert rule["match"]["versionedExpr"] == "SRC_IPS_V1" and "expr" not in rule["match"]
        assert rendering.of_type(PASSWORD) == [] and rendering.of_type(RULESET) == []


# --- certificate -----------------------------------------------------------------------------------------


def test_dns_authorization_record_is_written_unproxied_in_the_zone(header):
    authorization = only(header, DNS_AUTH, "origin-cert-dns-auth")
    assert authorization.inputs["domain"] == FALLBACK
    published = authorization.state["dnsResourceRecords"][0]
    record = only(header, DNS, "origin-cert-validation")
    assert record.inputs["zoneId"] == ZONE_ID
    assert record.inputs["name"] == published["name"].rstrip(".") == f"_acme-challenge.{FALLBACK}"
    assert record.inputs["type"] == published["type"] == "CNAME"
    assert record.inputs["content"] == published["data"].rstrip(".")
    assert not record.inputs["content"].endswith(".")
    assert record.inputs["proxied"] is False and record.inputs["ttl"] == 60


def test_managed_certificate_for_the_fallback_hostname_after_its_authorization_record(header):
    certificate = only(header, CERT, "origin-cert")
    assert certificate.inputs["managed"] == {"domains": [FALLBACK],
                                             "dnsAuthorizations": [only(header, DNS_AUTH).id]}
    assert only(header, DNS, "origin-cert-validation").urn in certificate.dependencies


def test_certificate_map_primary_entry_serves_every_sni(header):
    entry = only(header, CERT_MAP_ENTRY, "origin-cert-primary")
    assert entry.inputs == {"map": only(header, CERT_MAP).state["name"], "matcher": "PRIMARY",
                            "certificates": [only(header, CERT).id]}
    assert "hostname" not in entry.inputs


# --- HTTPS and HTTP ----------------------------------------------------------------------------------------


def test_https_proxy_uses_the_certificate_map_and_a_tls12_policy(header):
    proxy = only(header, HTTPS_PROXY, "origin-https")
    ssl_policy = only(header, SSL_POLICY)
    assert ssl_policy.inputs["minTlsVersion"] == "TLS_1_2"
    assert ssl_policy.inputs["profile"] in ("MODERN", "RESTRICTED")
    url_map = only(header, URL_MAP, "origin-https")
    assert url_map.inputs == {"defaultService": only(header, BACKEND).id}
    assert proxy.inputs == {
        "urlMap": url_map.id,
        "certificateMap": f"//certificatemanager.googleapis.com/{only(header, CERT_MAP).id}",
        "sslPolicy": ssl_policy.id,
    }
    assert only(header, CERT_MAP_ENTRY).urn in proxy.dependencies  # served once the entry exists


def test_forwarding_rules_on_443_and_80_for_both_addresses(header):
    addresses = {r.name: r.id for r in header.of_type(ADDRESS)}
    https, http = only(header, HTTPS_PROXY).id, only(header, HTTP_PROXY).id
    rules = {r.name: r.inputs for r in header.of_type(FORWARDING_RULE)}
    expected = {}
    for listener, port, target in (("https", "443", https), ("http", "80", http)):
        for family in ("ipv4", "ipv6"):
            expected[f"origin-{listener}-{family}"] = {
                "target": target, "ipAddress": addresses[f"origin-{family}"], "portRange": port,
                "ipProtocol": "TCP", "loadBalancingScheme": "EXTERNAL_MANAGED"}
    assert rules == expected


def test_http_only_redirects_to_https(header):
    redirect = only(header, URL_MAP, "origin-http")
    assert redirect.inputs == {"defaultUrlRedirect": {
        "httpsRedirect": True, "redirectResponseCode": "MOVED_PERMANENTLY_DEFAULT", "stripQuery": False}}
    assert only(header, HTTP_PROXY, "origin-http").inputs == {"urlMap": redirect.id}
    # Port 80 never reaches the backend: the only URL map with a service is the HTTPS one.
    assert [m.name for m in header.of_type(URL_MAP) if "defaultService" in m.inputs] == ["origin-https"]


# --- mTLS ----------------------------------------------------------------------------------------------------


def test_mtls_trusts_our_own_ca_and_rejects_invalid_client_certificates(mtls):
    ca = only(mtls, CA, "origin-auth-ca")
    trust_config = only(mtls, TRUST_CONFIG, "origin-trust-config")
    assert trust_config.inputs["location"] == "global"
    assert trust_config.inputs["trustStores"] == [{"trustAnchors": [{"pemCertificate": ca.state["certPem"]}]}]
    policy = only(mtls, SERVER_TLS_POLICY, "origin-mtls")
    assert policy.inputs["location"] == "global" and policy.inputs["allowOpen"] is False
    assert policy.inputs["mtlsPolicy"] == {"clientValidationMode": "REJECT_INVALID",
                                           "clientValidationTrustConfig": trust_config.id}
    assert only(mtls, HTTPS_PROXY).inputs["serverTlsPolicy"] == policy.id
    assert only(mtls, AOP_CERT).inputs["zoneId"] == ZONE_ID  # the zone presents our client certificate
    assert only(mtls, AOP_SETTINGS).inputs == {"zoneId": ZONE_ID, "enabled": True}


def test_without_mtls_the_proxy_asks_for_no_client_certificate(header, no_auth):
    for rendering in (header, no_auth):
        assert "serverTlsPolicy" not in only(rendering, HTTPS_PROXY).inputs
        assert rendering.of_type(TRUST_CONFIG) == [] and rendering.of_type(SERVER_TLS_POLICY) == []
    assert no_auth.of_type(AOP_CERT) == []


# --- the edge and the outputs -----------------------------------------------------------------------------


def test_fallback_records_are_proxied_a_and_aaaa_to_the_addresses(any_mode):
    ipv4 = only(any_mode, ADDRESS, "origin-ipv4").state["address"]
    ipv6 = only(any_mode, ADDRESS, "origin-ipv6").state["address"]
    comment = "Custom-hostname fallback origin: the load balancer (managed by saas-domains)"
    assert only(any_mode, DNS, "edge-fallback").inputs == {
        "zoneId": ZONE_ID, "name": FALLBACK, "type": "A", "content": ipv4, "proxied": True, "ttl": 1.0,
        "comment": comment}
    assert only(any_mode, DNS, "edge-fallback-ipv6").inputs == {
        "zoneId": ZONE_ID, "name": FALLBACK, "type": "AAAA", "content": ipv6, "proxied": True, "ttl": 1.0,
        "comment": comment}
    assert ipaddress.ip_address(ipv4).version == 4 and ipaddress.ip_address(ipv6).version == 6
    assert sorted(r.inputs["type"] for r in any_mode.of_type(DNS) if r.inputs["name"] == FALLBACK) == ["A", "AAAA"]


def test_outputs_name_the_load_balancer_and_the_fallback_origin(any_mode):
    outputs = any_mode.outputs
    assert outputs["loadBalancerIpv4"] == only(any_mode, ADDRESS, "origin-ipv4").state["address"]
    assert outputs["loadBalancerIpv6"] == only(any_mode, ADDRESS, "origin-ipv6").state["address"]
    assert outputs["backendService"] == only(any_mode, BACKEND).state["name"]
    assert outputs["fallbackOrigin"] == FALLBACK
    assert outputs["zoneId"] == ZONE_ID
    assert set(outputs) == {"loadBalancerIpv4", "loadBalancerIpv6", "backendService", "fallbackOrigin", "zoneId",
                            "customerHostnames"}  # no ALB outputs


# --- the rule builder on its own -----------------------------------------------------------------------


def test_rules_split_any_number_of_ranges_within_the_limits():
    from infra.components.cloud_run_origin import allow_rules as build

    ipv4 = [f"10.{n}.0.0/16" for n in range(23)]
    ipv6 = [f"2001:db8:{n:x}::/48" for n in range(11)]
    for secret, per_rule in ((None, MAX_RANGES_PER_RULE), ("s3cr3t", MAX_SUBEXPRESSIONS - 1)):
        rules = build(ipv4, ipv6, secret)
        *allows, default = rules
        covered = []
        for rule in allows:
            ranges = (IN_IP_RANGE.findall(rule.match.expr.expression) if secret
                      else list(rule.match.config.src_ip_ranges))
            assert 1 <= len(ranges) <= per_rule and rule.action == "allow"
            covered += ranges
        assert sorted(covered) == sorted(ipv4 + ipv6)
        assert default.priority == DEFAULT_PRIORITY and default.action == "deny(403)"


def test_the_header_value_is_quoted_as_a_cel_string():
    from infra.components.cloud_run_origin import header_condition

    assert header_condition("a'b\\c") == f"request.headers['{HEADER_KEY}'] == 'a\\'b\\\\c'"

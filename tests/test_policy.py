"""The policy pack (policy/): each policy with passing and failing resources, and the pack as Pulumi runs it.

Policies are called the way pulumi-policy calls them: `policy.validate(args, report_violation)` with
its own `ResourceValidationArgs`/`StackValidationArgs`, properties wrapped in its unknown-checking
proxy (so a value unknown during a preview behaves as it does under `pulumi preview`). The last tests
start the pack's real `__main__.py` as the Pulumi CLI does and talk to it over gRPC, and check that
the stack the program declares today passes every mandatory policy.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib

import pytest
import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from infra.offline import config_value, render
from infra.offline_cloud import CLOUDFLARE_IPV4, CLOUDFLARE_IPV6
from infra.stack_files import read_stack_file
from tests.conftest import EXAMPLE_CUSTOMERS, PROJECT_ROOT, run_program, run_stack

POLICY_DIR = PROJECT_ROOT / "policy"


def _load_policies():
    """The pack's package as Pulumi runs it: `__main__.py` in policy/ imports `saas_policies` beside it."""
    if str(POLICY_DIR) not in sys.path:
        sys.path.insert(0, str(POLICY_DIR))
    return importlib.import_module("saas_policies")


P = _load_policies()

CUSTOM_HOSTNAME = "cloudflare:index/customHostname:CustomHostname"
DNS = "cloudflare:index/dnsRecord:DnsRecord"
FALLBACK_ORIGIN = "cloudflare:index/customHostnameFallbackOrigin:CustomHostnameFallbackOrigin"
RULESET = "cloudflare:index/ruleset:Ruleset"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LISTENER = "aws:lb/listener:Listener"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
UNKNOWN = UNKNOWN_STRING_VALUE  # what the engine sends for a value computed during the deployment
SECRET = "4f1c0e9a7d2b8c3e5f6a1b2c3d4e5f60"


def _opts(parent: str | None = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent)


def _urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::saas-domains::{type_}::{name}"


def check(policy, type_: str, props: dict, name: str = "subject", config: dict | None = None) -> list[str]:
    """Violation messages of a resource policy for one resource."""
    assert isinstance(policy, ResourceValidationPolicy)
    found: list[str] = []
    args = ResourceValidationArgs(type_, unknown_checking_proxy(props), _urn(type_, name), name, _opts(), None,
                                  config)
    assert policy.validate(args, lambda message, urn=None: found.append(message)) is None
    return found


def resource(type_: str, name: str, props: dict, **property_dependencies: list[PolicyResource]) -> PolicyResource:
    return PolicyResource(type_, unknown_checking_proxy(props), _urn(type_, name), name, _opts(), None, None, [],
                          dict(property_dependencies))


def check_stack(policy, resources: list[PolicyResource], config: dict | None = None) -> list[tuple[str, str | None]]:
    """(message, urn) of each violation of a stack policy."""
    assert isinstance(policy, StackValidationPolicy)
    found: list[tuple[str, str | None]] = []
    assert policy.validate(StackValidationArgs(resources, config),
                           lambda message, urn=None: found.append((message, urn))) is None
    return found


# --------------------------------------------------------------------------
# The pack: policies, enforcement levels, files
# --------------------------------------------------------------------------


def test_each_policy_has_its_enforcement_level():
    assert {policy.name: policy.enforcement_level for policy in P.POLICIES} == {
        "custom-hostname-min-tls": EnforcementLevel.MANDATORY,
        "custom-hostname-explicit-ssl": EnforcementLevel.MANDATORY,
        "edge-records-proxied": EnforcementLevel.MANDATORY,
        "alb-ingress-cloudflare-only": EnforcementLevel.MANDATORY,
        "https-listener-modern-tls": EnforcementLevel.MANDATORY,
        "http-listener-redirects-to-https": EnforcementLevel.MANDATORY,
        "cloud-armor-cloudflare-only": EnforcementLevel.MANDATORY,
        "gcp-https-proxy-modern-tls": EnforcementLevel.MANDATORY,
        "gcp-http-proxy-redirects-to-https": EnforcementLevel.MANDATORY,
        "origin-auth-https-listener": EnforcementLevel.ADVISORY,
        "origin-auth-complete": EnforcementLevel.MANDATORY,
        "no-custom-hostname-in-saas-zone": EnforcementLevel.MANDATORY,
        "alert-webhook-https": EnforcementLevel.MANDATORY,
    }


def test_pack_files_pin_the_locked_versions_and_use_their_own_virtualenv():
    project = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"virtualenv": "venv"}}
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"])
    locked = {package["name"]: package["version"]
              for package in tomllib.loads((PROJECT_ROOT / "uv.lock").read_text())["package"]}
    pins = dict(line.split("==") for line in (POLICY_DIR / "requirements.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    assert pins == {"pulumi-policy": locked["pulumi-policy"], "pulumi": locked["pulumi"]}
    assert "venv/" in (POLICY_DIR / ".gitignore").read_text().split()


def test_the_packs_google_cloud_types_are_the_ones_the_locked_sdk_registers():
    """A misspelt type (`gcp:compute/sslPolicy:SslPolicy`) would make a policy silently check nothing."""
    from tests.conformance.sdk_schema import resource_schema

    types = [value for name, value in vars(P).items() if name.startswith("GCP_") and isinstance(value, str)
             and value.startswith("gcp:")]
    assert len(types) == 9
    for type_ in types:
        assert resource_schema(type_).properties, type_


def test_built_in_cloudflare_ranges_match_the_ones_the_program_is_tested_with():
    assert P.CLOUDFLARE_IPV4 == CLOUDFLARE_IPV4 and P.CLOUDFLARE_IPV6 == CLOUDFLARE_IPV6


@pytest.mark.parametrize(("name", "zone"), [
    ("mailito.com", "mailito.com"), ("a.mailito.com", "mailito.com"), ("a.b.mailito.com", "mailito.com"),
    ("notmailito.com", "mailito.com"), ("mailito.com.evil.io", "mailito.com"), ("com", "mailito.com"),
    ("mailito.co", "mailito.com"), ("x.cname.mailito.com", "cname.mailito.com"),
])
def test_the_packs_inside_the_zone_rule_is_the_programs(name, zone):
    """The pack runs in its own virtualenv without `infra`, so it keeps a copy; this keeps it equal."""
    from saas_policies.props import _in_zone

    from infra.model.hostnames import in_zone

    assert _in_zone(name, zone) == in_zone(name, zone)


# --------------------------------------------------------------------------
# Custom hostnames
# --------------------------------------------------------------------------


def hostname_props(hostname: str = "mail.mkdev.me", **settings) -> dict:
    return {"zoneId": "z", "hostname": hostname, "ssl": {
        "type": "dv", "method": "http", "wildcard": False, "bundleMethod": "ubiquitous",
        "settings": {"minTlsVersion": "1.2", "http2": "on", "tls13": "on", "earlyHints": "off", **settings}}}


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_min_tls_accepts_1_2_and_1_3(version):
    assert check(P.custom_hostname_min_tls, CUSTOM_HOSTNAME, hostname_props(minTlsVersion=version)) == []


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_min_tls_refuses_older_versions(version):
    [message] = check(P.custom_hostname_min_tls, CUSTOM_HOSTNAME, hostname_props(minTlsVersion=version),
                      name="mail.mkdev.me")
    assert f"'mail.mkdev.me' accepts TLS {version}" in message


def test_min_tls_refuses_an_unset_version_and_a_missing_ssl_block():
    props = hostname_props()
    del props["ssl"]["settings"]["minTlsVersion"]
    assert "sets no ssl.settings.minTlsVersion" in check(P.custom_hostname_min_tls, CUSTOM_HOSTNAME, props)[0]
    assert len(check(P.custom_hostname_min_tls, CUSTOM_HOSTNAME, {"hostname": "a.example"})) == 1


def test_min_tls_ignores_other_types_and_unknown_values():
    assert check(P.custom_hostname_min_tls, DNS, {"name": "x"}) == []
    assert check(P.custom_hostname_min_tls, CUSTOM_HOSTNAME, hostname_props(minTlsVersion=UNKNOWN)) == []
    assert check(P.custom_hostname_min_tls, CUSTOM_HOSTNAME, {"hostname": "a.example", "ssl": UNKNOWN}) == []


def test_explicit_ssl_accepts_every_field_set():
    assert check(P.custom_hostname_explicit_ssl, CUSTOM_HOSTNAME, hostname_props()) == []


def test_explicit_ssl_names_every_unset_field():
    props = hostname_props()
    del props["ssl"]["bundleMethod"], props["ssl"]["wildcard"], props["ssl"]["settings"]["earlyHints"]
    [message] = check(P.custom_hostname_explicit_ssl, CUSTOM_HOSTNAME, props, name="mail.mkdev.me")
    assert "leaves ssl.wildcard, ssl.bundleMethod, ssl.settings.earlyHints unset" in message
    assert "#5521" in message


def test_explicit_ssl_refuses_a_missing_ssl_block():
    [message] = check(P.custom_hostname_explicit_ssl, CUSTOM_HOSTNAME, {"hostname": "a.example", "zoneId": "z"})
    assert "has no ssl block" in message


# --------------------------------------------------------------------------
# Edge records and the SaaS zone
# --------------------------------------------------------------------------


def edge_specs(fallback_proxied=True, wildcard_proxied=True, wildcard_content="proxy-fallback.mailito.com",
               hostnames=("mail.mkdev.me",), fallback_origin="proxy-fallback.mailito.com") -> list[tuple]:
    """(type, name, props) of the edge the program declares, with the choices to break it."""
    specs = [
        (DNS, "edge-fallback", {"name": "proxy-fallback.mailito.com", "type": "CNAME", "content": UNKNOWN,
                                "proxied": fallback_proxied, "ttl": 1}),
        (DNS, "edge-customer-wildcard", {"name": "*.cname.mailito.com", "type": "CNAME", "content": wildcard_content,
                                         "proxied": wildcard_proxied, "ttl": 1}),
        (DNS, "origin-cert-validation", {"name": "_abc.proxy-fallback.mailito.com", "type": "CNAME",
                                         "content": "_def.acm-validations.aws", "proxied": False, "ttl": 60}),
        *((CUSTOM_HOSTNAME, name, hostname_props(name)) for name in hostnames),
    ]
    if fallback_origin is not None:
        specs.append((FALLBACK_ORIGIN, "edge-fallback-origin", {"zoneId": "z", "origin": fallback_origin}))
    return specs


def edge(**choices) -> list[PolicyResource]:
    return [resource(*spec) for spec in edge_specs(**choices)]


def test_edge_records_pass_when_fallback_and_wildcard_are_proxied():
    assert check_stack(P.edge_records_proxied, edge()) == []


def test_edge_records_refuse_an_unproxied_fallback_record():
    [(message, urn)] = check_stack(P.edge_records_proxied, edge(fallback_proxied=False))
    assert "fallback origin record 'proxy-fallback.mailito.com' (edge-fallback) is not proxied" in message
    assert urn == _urn(DNS, "edge-fallback")


def test_edge_records_refuse_an_unproxied_wildcard():
    found = check_stack(P.edge_records_proxied, edge(wildcard_proxied=False))
    assert [urn for _, urn in found] == [_urn(DNS, "edge-customer-wildcard")]
    assert "wildcard record '*.cname.mailito.com' (edge-customer-wildcard) is not proxied" in found[0][0]


def test_edge_records_require_the_wildcard_to_point_at_the_fallback_origin():
    [(message, _)] = check_stack(P.edge_records_proxied, edge(wildcard_content="elsewhere.mailito.com"))
    assert "no wildcard record points at the fallback origin 'proxy-fallback.mailito.com'" in message
    assert check_stack(P.edge_records_proxied, edge(wildcard_content=UNKNOWN)) == []  # decided at `up`


def test_edge_records_require_a_record_for_the_fallback_origin_and_a_fallback_origin():
    resources = [r for r in edge() if r.name != "edge-fallback"]
    assert "has no DNS record in this stack" in check_stack(P.edge_records_proxied, resources)[0][0]
    [(message, _)] = check_stack(P.edge_records_proxied, edge(fallback_origin=None))
    assert "no custom-hostname fallback origin" in message
    assert check_stack(P.edge_records_proxied, edge(fallback_origin=None, hostnames=())) == []


def test_zone_is_derived_from_the_fallback_origin_or_configured():
    assert P.saas_zone(StackValidationArgs(edge(), None)) == "mailito.com"
    assert P.saas_zone(StackValidationArgs(edge(), {"zone": "Other.Example."})) == "other.example"
    assert P.saas_zone(StackValidationArgs(edge(fallback_origin=None), None)) is None


def test_custom_hostnames_outside_the_zone_pass():
    resources = edge(hostnames=("mail.mkdev.me", "mailito.com.evil.example", "notmailito.com"))
    assert check_stack(P.no_custom_hostname_in_saas_zone, resources) == []


@pytest.mark.parametrize("hostname, relation", [
    ("mailito.com", "is the SaaS zone itself"),
    ("MAILITO.COM.", "is the SaaS zone itself"),
    ("proxy-fallback.mailito.com", "is inside the SaaS zone 'mailito.com'"),
    ("acme.cname.mailito.com", "is inside the SaaS zone 'mailito.com'"),
    ("*.mailito.com", "is a wildcard over the SaaS zone 'mailito.com'"),
    ("*.cname.mailito.com", "is inside the SaaS zone 'mailito.com'"),
])
def test_custom_hostnames_in_the_zone_are_refused(hostname, relation):
    [(message, urn)] = check_stack(P.no_custom_hostname_in_saas_zone, edge(hostnames=("ok.example", hostname)))
    assert relation in message and urn == _urn(CUSTOM_HOSTNAME, hostname)


def test_zone_check_uses_the_configured_zone_and_says_when_it_cannot_tell():
    resources = edge(hostnames=("app.customer.example",))
    assert len(check_stack(P.no_custom_hostname_in_saas_zone, resources, {"zone": "customer.example"})) == 1
    [(message, _)] = check_stack(P.no_custom_hostname_in_saas_zone, edge(fallback_origin=None))
    assert "cannot tell the SaaS zone" in message
    assert check_stack(P.no_custom_hostname_in_saas_zone, edge(hostnames=("x.example",)) + [
        resource(CUSTOM_HOSTNAME, "later", {"hostname": UNKNOWN})]) == []


# --------------------------------------------------------------------------
# ALB ingress
# --------------------------------------------------------------------------


def sg(*ingress: dict) -> dict:
    return {"vpcId": "vpc-1", "ingress": list(ingress), "egress": [
        {"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": ["0.0.0.0/0"]}]}  # egress is not checked


def rule(cidrs=CLOUDFLARE_IPV4, ipv6=CLOUDFLARE_IPV6, **extra) -> dict:
    return {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": list(cidrs),
            "ipv6CidrBlocks": list(ipv6), **extra}


def test_ingress_from_cloudflare_ranges_or_parts_of_them_passes():
    assert check(P.alb_ingress_cloudflare_only, SG, sg(rule(), rule(["104.16.1.0/24"], ["2606:4700:10::/48"]))) == []


@pytest.mark.parametrize("ingress, shown", [
    (rule(["0.0.0.0/0"], []), "0.0.0.0/0"),
    (rule([], ["::/0"]), "::/0"),
    (rule([*CLOUDFLARE_IPV4, "10.0.0.0/8"]), "10.0.0.0/8"),
    (rule(["104.16.0.0/12"], []), "104.16.0.0/12"),  # wider than Cloudflare's 104.16.0.0/13
    (rule(["not-a-cidr"], []), "not-a-cidr (not a CIDR)"),
])
def test_ingress_from_other_addresses_is_refused(ingress, shown):
    [message] = check(P.alb_ingress_cloudflare_only, SG, sg(rule(), ingress), name="origin-alb")
    assert f"'origin-alb' ingress[1] admits addresses outside Cloudflare's ranges: {shown};" in message


@pytest.mark.parametrize("extra, shown", [
    ({"securityGroups": ["sg-123"]}, "securityGroups"),
    ({"prefixListIds": ["pl-123"]}, "prefixListIds"),
    ({"self": True}, "self = true"),
])
def test_ingress_from_non_cidr_sources_is_refused(extra, shown):
    [message] = check(P.alb_ingress_cloudflare_only, SG, sg(rule(**extra)))
    assert shown in message


def test_separate_rule_resources_are_checked_too():
    open_rule = {"type": "ingress", "securityGroupId": "sg-1", "protocol": "tcp", "fromPort": 443, "toPort": 443,
                 "cidrBlocks": ["0.0.0.0/0"]}
    assert len(check(P.alb_ingress_cloudflare_only, SG_RULE, open_rule)) == 1
    assert check(P.alb_ingress_cloudflare_only, SG_RULE, {**open_rule, "type": "egress"}) == []
    assert len(check(P.alb_ingress_cloudflare_only, VPC_INGRESS, {"cidrIpv6": "::/0", "ipProtocol": "-1"})) == 1
    assert check(P.alb_ingress_cloudflare_only, VPC_INGRESS, {"cidrIpv4": "173.245.48.0/20"}) == []


def test_ingress_ranges_can_be_configured_and_unknown_ones_wait():
    config = {"cloudflareIpv4Cidrs": ["10.0.0.0/8"], "cloudflareIpv6Cidrs": ["fd00::/8"]}
    assert check(P.alb_ingress_cloudflare_only, SG, sg(rule(["10.1.0.0/16"], ["fd00:1::/32"])), config=config) == []
    assert len(check(P.alb_ingress_cloudflare_only, SG, sg(rule()), config=config)) == 1
    unknown = {**rule(), "cidrBlocks": UNKNOWN, "ipv6CidrBlocks": UNKNOWN}
    assert check(P.alb_ingress_cloudflare_only, SG, sg(unknown)) == []
    assert check(P.alb_ingress_cloudflare_only, SG, sg(rule([UNKNOWN], [UNKNOWN]))) == []
    assert check(P.alb_ingress_cloudflare_only, SG, {"ingress": UNKNOWN}) == []


# --------------------------------------------------------------------------
# Listeners
# --------------------------------------------------------------------------


def https_listener(policy="ELBSecurityPolicy-TLS13-1-2-2021-06", actions=None) -> dict:
    props = {"port": 443, "protocol": "HTTPS", "certificateArn": UNKNOWN, "loadBalancerArn": UNKNOWN,
             "defaultActions": actions if actions is not None else [
                 {"type": "fixed-response", "fixedResponse": {"contentType": "text/plain", "statusCode": "403"}}]}
    if policy is not None:
        props["sslPolicy"] = policy
    return props


@pytest.mark.parametrize("policy", [
    "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06", "ELBSecurityPolicy-FS-1-2-Res-2020-10",
])
def test_https_listener_with_a_tls12_policy_passes(policy):
    assert check(P.https_listener_modern_tls, LISTENER, https_listener(policy)) == []


@pytest.mark.parametrize("policy", [
    "ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS-1-1-2017-01", "ELBSecurityPolicy-TLS13-1-0-2021-06",
    "ELBSecurityPolicy-TLS13-1-1-2021-06", "ELBSecurityPolicy-FS-1-1-2019-08", "ELBSecurityPolicy-FS-2018-06",
])
def test_https_listener_with_an_older_policy_is_refused(policy):
    [message] = check(P.https_listener_modern_tls, LISTENER, https_listener(policy), name="origin-https")
    assert f"'origin-https' uses {policy}, which is not a TLS 1.2+ policy" in message


def test_https_listener_without_a_policy_gets_the_aws_default_and_is_refused():
    assert "ELBSecurityPolicy-2016-08" in check(P.https_listener_modern_tls, LISTENER, https_listener(None))[0]


def test_accepted_tls_policies_can_be_configured():
    config = {"allowedSslPolicies": ["ELBSecurityPolicy-TLS13-1-3-2021-06"]}
    assert check(P.https_listener_modern_tls, LISTENER, https_listener("ELBSecurityPolicy-TLS13-1-3-2021-06"),
                 config=config) == []
    assert len(check(P.https_listener_modern_tls, LISTENER, https_listener(), config=config)) == 1
    assert check(P.https_listener_modern_tls, LISTENER, {"protocol": "HTTP", "port": 80}) == []


REDIRECT = {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}


def test_http_listener_that_redirects_to_https_passes():
    assert check(P.http_listener_redirects_to_https, LISTENER,
                 {"port": 80, "protocol": "HTTP", "defaultActions": [REDIRECT]}) == []
    assert check(P.http_listener_redirects_to_https, LISTENER, https_listener(actions=[{"type": "forward"}])) == []


@pytest.mark.parametrize("action, shown", [
    ({"type": "forward", "targetGroupArn": UNKNOWN}, "is 'forward'"),
    ({"type": "redirect", "redirect": {"port": "8080", "statusCode": "HTTP_302"}}, "redirects to #{protocol}"),
    ({"type": "redirect", "redirect": {"protocol": "HTTP", "statusCode": "HTTP_302"}}, "redirects to HTTP"),
])
def test_http_listener_that_serves_or_loops_is_refused(action, shown):
    [message] = check(P.http_listener_redirects_to_https, LISTENER,
                      {"port": 80, "protocol": "HTTP", "defaultActions": [action]}, name="origin-http")
    assert "HTTP listener 'origin-http' defaultActions[0]" in message and shown in message
    # A listener without a protocol or certificate is plain HTTP for AWS.
    assert len(check(P.http_listener_redirects_to_https, LISTENER, {"port": 80, "defaultActions": [action]})) == 1


# --------------------------------------------------------------------------
# Origin authentication
# --------------------------------------------------------------------------

FORWARD = {"type": "forward", "targetGroupArn": UNKNOWN}


MTLS = {"mode": "verify", "trustStoreArn": UNKNOWN}


def test_listener_that_denies_by_default_or_verifies_client_certificates_passes():
    assert check(P.origin_auth_https_listener, LISTENER, https_listener()) == []
    assert check(P.origin_auth_https_listener, LISTENER,
                 {**https_listener(actions=[FORWARD]), "mutualAuthentication": MTLS}) == []
    assert check(P.origin_auth_https_listener, LISTENER, {"protocol": "HTTP", "defaultActions": [FORWARD]}) == []


def test_listener_that_forwards_without_verifying_is_flagged():
    [message] = check(P.origin_auth_https_listener, LISTENER, https_listener(actions=[FORWARD]), name="origin-https")
    assert "'origin-https' forwards every request by default and verifies no client certificate" in message
    forward_block = {"type": "forward", "forward": {"targetGroups": [{"arn": UNKNOWN}]}}
    assert len(check(P.origin_auth_https_listener, LISTENER, https_listener(actions=[forward_block]))) == 1
    passthrough = {**https_listener(actions=[FORWARD]), "mutualAuthentication": {"mode": "passthrough"}}
    assert len(check(P.origin_auth_https_listener, LISTENER, passthrough)) == 1


def origin_auth(listener_actions=None, header="X-Origin-Auth", rule_header="x-origin-auth", sent=SECRET,
                expected=(SECRET,), ruleset=True, rule=True, enabled=True) -> list[PolicyResource]:
    listener = resource(LISTENER, "origin-https", https_listener(actions=listener_actions))
    resources = [listener, resource(LISTENER, "origin-http", {"protocol": "HTTP", "defaultActions": [REDIRECT]})]
    if rule:
        resources.append(resource(LISTENER_RULE, "origin-auth", {
            "listenerArn": UNKNOWN, "priority": 1,
            "conditions": [{"httpHeader": {"httpHeaderName": rule_header, "values": list(expected)}}],
            "actions": [FORWARD]}, listenerArn=[listener]))
    if ruleset:
        resources.append(resource(RULESET, "edge-origin-auth", {
            "zoneId": "z", "kind": "zone", "phase": "http_request_late_transform", "name": "origin auth",
            "rules": [{"action": "rewrite", "expression": "true", "enabled": enabled, "actionParameters": {
                "headers": {header: {"operation": "set", "value": sent}}}}]}))
    return resources


def test_complete_origin_authentication_passes():
    assert check_stack(P.origin_auth_complete, origin_auth()) == []
    assert check_stack(P.origin_auth_complete, origin_auth(), {"required": True}) == []


def test_no_origin_authentication_passes_unless_required():
    resources = origin_auth(listener_actions=[FORWARD], ruleset=False, rule=False)
    assert check_stack(P.origin_auth_complete, resources) == []
    [(message, _)] = check_stack(P.origin_auth_complete, resources, {"required": True})
    assert message.startswith("origin authentication is off")


def test_a_listener_that_forwards_by_default_defeats_the_header():
    [(message, urn)] = check_stack(P.origin_auth_complete, origin_auth(listener_actions=[FORWARD]))
    assert ("'origin-https' forwards by default and verifies no client certificate although origin "
            "authentication is configured") in message
    assert urn == _urn(LISTENER, "origin-https")


def test_a_denying_listener_needs_a_header_rule_and_a_ruleset():
    [(message, _)] = check_stack(P.origin_auth_complete, origin_auth(rule=False))
    assert "no listener rule on it forwards requests carrying the secret header" in message
    [(message, _)] = check_stack(P.origin_auth_complete, origin_auth(ruleset=False))
    assert "no Cloudflare ruleset in phase http_request_late_transform sets a request header" in message
    assert len(check_stack(P.origin_auth_complete, origin_auth(enabled=False))) == 1  # a disabled rule sets nothing


def test_the_rule_must_check_the_header_the_ruleset_sets_with_its_value():
    [(message, urn)] = check_stack(P.origin_auth_complete, origin_auth(rule_header="X-Other"))
    assert "checks header 'X-Other', which no Cloudflare ruleset sets (they set: x-origin-auth)" in message
    assert urn == _urn(LISTENER_RULE, "origin-auth")
    [(message, _)] = check_stack(P.origin_auth_complete, origin_auth(expected=("something-else",)))
    assert "expects other values" in message and SECRET not in message and "something-else" not in message
    assert len(check_stack(P.origin_auth_complete, origin_auth(expected=()))) == 1


def test_values_unknown_during_a_preview_are_not_judged():
    assert check_stack(P.origin_auth_complete, origin_auth(sent=UNKNOWN)) == []
    assert check_stack(P.origin_auth_complete, origin_auth(expected=(UNKNOWN,))) == []


def test_a_rule_on_another_listener_does_not_count():
    resources = origin_auth()
    other = resource(LISTENER, "other", https_listener())
    rule_resource = next(r for r in resources if r.resource_type == LISTENER_RULE)
    rule_resource.property_dependencies["listenerArn"] = [other]
    messages = [m for m, _ in check_stack(P.origin_auth_complete, [*resources, other])]
    assert messages == ["HTTPS listener 'origin-https' denies by default but no listener rule on it forwards "
                        "requests carrying the secret header: every request would be refused."]


AOP_SETTINGS = "cloudflare:index/authenticatedOriginPullsSettings:AuthenticatedOriginPullsSettings"
AOP_CERTIFICATE = "cloudflare:index/authenticatedOriginPullsCertificate:AuthenticatedOriginPullsCertificate"


def mutual_tls(verify=True, enabled=True, certificate=True) -> list[PolicyResource]:
    listener = https_listener(actions=[FORWARD])
    if verify:
        listener["mutualAuthentication"] = MTLS
    resources = [resource(LISTENER, "origin-https", listener),
                 resource(AOP_SETTINGS, "origin-auth-zone", {"zoneId": "z", "enabled": enabled})]
    if certificate:
        resources.append(resource(AOP_CERTIFICATE, "origin-auth-zone-cert", {
            "zoneId": "z", "certificate": UNKNOWN, "privateKey": UNKNOWN}))
    return resources


def test_complete_mutual_tls_passes():
    assert check_stack(P.origin_auth_complete, mutual_tls(), {"required": True}) == []
    assert check_stack(P.origin_auth_complete, mutual_tls(enabled=UNKNOWN)) == []  # decided at `up`


def test_mutual_tls_needs_both_sides_and_the_zones_own_certificate():
    [(message, urn)] = check_stack(P.origin_auth_complete, mutual_tls(enabled=False))
    assert "the zone does not enable Authenticated Origin Pulls" in message and urn == _urn(LISTENER, "origin-https")
    messages = [m for m, _ in check_stack(P.origin_auth_complete, mutual_tls(verify=False))]
    assert len(messages) == 2 and "no HTTPS listener verifies them" in messages[1]
    [(message, _)] = check_stack(P.origin_auth_complete, mutual_tls(certificate=False))
    assert "Cloudflare then presents its shared certificate" in message


def test_with_the_origin_outside_the_stack_only_the_zones_side_of_mutual_tls_is_judged():
    zone_side = [r for r in mutual_tls() if r.resource_type != LISTENER]
    assert check_stack(P.origin_auth_complete, zone_side) == []  # origin: external; the origin verifies
    [(message, _)] = check_stack(P.origin_auth_complete, [r for r in mutual_tls(certificate=False)
                                                          if r.resource_type != LISTENER])
    assert "Cloudflare then presents its shared certificate" in message
    # an ALB in the stack is an origin in the stack: its listeners must verify
    alb = resource("aws:lb/loadBalancer:LoadBalancer", "origin", {"loadBalancerType": "application"})
    [(message, _)] = check_stack(P.origin_auth_complete, [*zone_side, alb])
    assert "no HTTPS listener verifies them" in message


# --------------------------------------------------------------------------
# The pack as Pulumi runs it, and the stack the program declares today
# --------------------------------------------------------------------------


def _as_policy_resources(rendering, props: str) -> list[PolicyResource]:
    """The rendering's resources as the engine hands them to policies (inputs, or state for stack policies)."""
    by_urn = {}
    for declared in rendering.resources:
        by_urn[declared.urn] = PolicyResource(
            declared.type, unknown_checking_proxy(dict(getattr(declared, props))), declared.urn, declared.name,
            _opts(declared.parent or None), None, None, [], {})
    for declared in rendering.resources:
        by_urn[declared.urn].dependencies = [by_urn[d] for d in declared.dependencies if d in by_urn]
    return list(by_urn.values())


def _violations(rendering) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for policy in P.POLICIES:
        def report(message, urn=None, name=policy.name):
            found.setdefault(name, []).append(message)
        if isinstance(policy, StackValidationPolicy):
            policy.validate(StackValidationArgs(_as_policy_resources(rendering, "state"), None), report)
            continue
        for subject in _as_policy_resources(rendering, "inputs"):
            policy.validate(ResourceValidationArgs(subject.resource_type, subject.props, subject.urn, subject.name,
                                                   subject.opts, None, None), report)
    return found


@pytest.mark.parametrize("mode", ["header", "mtls", "none"])
def test_the_stack_the_program_declares_passes_every_mandatory_policy(mode):
    found = _violations(run_program(EXAMPLE_CUSTOMERS, originAuth=mode))
    if mode == "none":  # the supported opt-out: an advisory reminder on the HTTPS listener, nothing blocks
        assert list(found) == ["origin-auth-https-listener"] and len(found["origin-auth-https-listener"]) == 1
    else:
        assert found == {}


def test_a_stack_sharing_the_zones_transform_rules_passes_every_mandatory_policy():
    """transformRules shared: the header rule is a dynamic resource, which the pack takes for the ruleset."""
    found = _violations(run_program(EXAMPLE_CUSTOMERS, transformRules="shared"))
    assert found == {}
    without = run_program(EXAMPLE_CUSTOMERS, transformRules="shared")
    without.resources = [r for r in without.resources if r.name != "origin-auth-header-rule"]
    assert "no Cloudflare ruleset in phase http_request_late_transform sets a request header" in " ".join(
        _violations(without)["origin-auth-complete"])


@pytest.mark.parametrize("mode", ["header", "mtls", "none"])
def test_an_external_origin_stack_passes_every_mandatory_policy(mode):
    """The origin is outside the stack: the pack judges the zone's side (the ruleset, the zone's own client
    certificate), which is all the stack declares; what the origin checks is the team's (docs/operators.md)."""
    found = _violations(run_stack("external-example", EXAMPLE_CUSTOMERS, originAuth=mode))
    assert found == {}


@pytest.fixture(scope="module")
def running_pack():
    """The pack's real __main__.py, started the way Pulumi's analyzer shim starts it; yields a gRPC stub."""
    import grpc
    from pulumi.runtime.proto import analyzer_pb2_grpc

    process = subprocess.Popen([sys.executable, str(POLICY_DIR)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        port = process.stdout.readline().strip()
        assert port.isdigit(), process.stderr.read()
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=20)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.kill()
        process.wait(timeout=10)


def _struct(props: dict):
    from google.protobuf import struct_pb2

    message = struct_pb2.Struct()
    message.update(props)
    return message


def test_the_running_pack_describes_its_policies(running_pack):
    from google.protobuf import empty_pb2
    from pulumi.runtime.proto import analyzer_pb2

    info = running_pack.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "saas-domains" and info.supportsConfig
    levels = {p.name: analyzer_pb2.EnforcementLevel.Name(p.enforcementLevel) for p in info.policies}
    assert levels == {p.name: p.enforcement_level.value.upper() for p in P.POLICIES}


def test_the_running_pack_reports_violations_over_grpc(running_pack):
    from pulumi.runtime.proto import analyzer_pb2

    bad = hostname_props("mail.mkdev.me", minTlsVersion="1.0")
    response = running_pack.Analyze(analyzer_pb2.AnalyzeRequest(
        type=CUSTOM_HOSTNAME, properties=_struct(bad), urn=_urn(CUSTOM_HOSTNAME, "mail.mkdev.me"),
        name="mail.mkdev.me"))
    assert [(d.policyName, analyzer_pb2.EnforcementLevel.Name(d.enforcementLevel)) for d in response.diagnostics] == [
        ("custom-hostname-min-tls", "MANDATORY")]
    preview = running_pack.Analyze(analyzer_pb2.AnalyzeRequest(  # unknown during a preview: no verdict, no error
        type=LISTENER, properties=_struct(https_listener(policy=UNKNOWN)), urn=_urn(LISTENER, "l"), name="l"))
    assert list(preview.diagnostics) == []

    stack = running_pack.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[
        analyzer_pb2.AnalyzerResource(type=type_, properties=_struct(props), urn=_urn(type_, name), name=name)
        for type_, name, props in edge_specs(hostnames=("proxy-fallback.mailito.com",))]))
    assert [(d.policyName, d.urn) for d in stack.diagnostics] == [
        ("no-custom-hostname-in-saas-zone", _urn(CUSTOM_HOSTNAME, "proxy-fallback.mailito.com"))]



# --------------------------------------------------------------------------
# Certificate alerts: the webhook destination is https
# --------------------------------------------------------------------------

WEBHOOK = "cloudflare:index/notificationPolicyWebhooks:NotificationPolicyWebhooks"
ALERT_ACCOUNT = "0123456789abcdef0123456789abcdef"


def webhook_props(url) -> dict:
    return {"accountId": ALERT_ACCOUNT, "name": "saas-domains mailito.com: certificate alerts", "url": url,
            "secret": SECRET}


@pytest.mark.parametrize("url", ["https://hooks.example.com/cloudflare?token=x", "HTTPS://hooks.example.com:8443/"])
def test_an_https_alert_webhook_passes(url):
    assert check(P.alert_webhook_https, WEBHOOK, webhook_props(url)) == []


@pytest.mark.parametrize("url", ["http://hooks.example.com/do-not-print-me", "ftp://hooks.example.com/do-not-print-me",
                                 "hooks.example.com/do-not-print-me", "https:///do-not-print-me",
                                 "https://[do-not-print-me", 42])
def test_an_alert_webhook_that_is_not_https_is_refused_without_showing_the_url(url):
    [message] = check(P.alert_webhook_https, WEBHOOK, webhook_props(url), name="certificate-alerts-webhook")
    assert "notification webhook 'certificate-alerts-webhook' does not send to an https:// URL" in message
    assert "do-not-print-me" not in message and "hooks.example.com" not in message


def test_an_alert_webhook_url_unknown_in_a_preview_waits_and_other_types_are_ignored():
    assert check(P.alert_webhook_https, WEBHOOK, webhook_props(UNKNOWN)) == []
    assert check(P.alert_webhook_https, DNS, {"name": "x", "url": "http://x.example"}) == []


def test_the_running_pack_sees_a_secret_webhook_url_decrypted(running_pack):
    """The engine sends secret inputs to policies (KeepSecrets) and pulumi-policy unwraps them before a policy runs."""
    from pulumi.runtime.proto import analyzer_pb2
    from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY

    def analyze(url: str) -> list[tuple[str, str]]:
        props = webhook_props({SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": url})  # a secret, as the engine sends it
        response = running_pack.Analyze(analyzer_pb2.AnalyzeRequest(
            type=WEBHOOK, properties=_struct(props), urn=_urn(WEBHOOK, "w"), name="w"))
        return [(d.policyName, d.message + d.description) for d in response.diagnostics]

    assert analyze("https://hooks.example.com/do-not-print-me") == []
    [(policy, text)] = analyze("http://hooks.example.com/do-not-print-me")
    assert policy == "alert-webhook-https" and "do-not-print-me" not in text


def test_the_stack_with_certificate_alerts_passes_every_mandatory_policy():
    rendering = run_program(EXAMPLE_CUSTOMERS, accountId=ALERT_ACCOUNT,
                            alertWebhookUrl="https://hooks.example.com/cloudflare", alertEmails=["ops@mailito.com"])
    assert rendering.of_type(WEBHOOK)
    assert _violations(rendering) == {}


# --------------------------------------------------------------------------
# Google Cloud origin: Cloud Armor, TLS, the HTTP redirect, origin authentication
# --------------------------------------------------------------------------

ARMOR = "gcp:compute/securityPolicy:SecurityPolicy"
ARMOR_RULE = "gcp:compute/securityPolicyRule:SecurityPolicyRule"
BACKEND = "gcp:compute/backendService:BackendService"
SSL_POLICY = "gcp:compute/sSLPolicy:SSLPolicy"
HTTPS_PROXY = "gcp:compute/targetHttpsProxy:TargetHttpsProxy"
HTTP_PROXY = "gcp:compute/targetHttpProxy:TargetHttpProxy"
URL_MAP = "gcp:compute/uRLMap:URLMap"
SERVER_TLS = "gcp:networksecurity/serverTlsPolicy:ServerTlsPolicy"
TRUST_CONFIG = "gcp:certificatemanager/trustConfig:TrustConfig"
HEADER = "x-saas-domains-origin-auth"
DEFAULT_DENY = {"action": "deny(403)", "priority": 2147483647,
                "match": {"versionedExpr": "SRC_IPS_V1", "config": {"srcIpRanges": ["*"]}}}


def ip_rule(ranges, priority=1000, action="allow") -> dict:
    return {"action": action, "priority": priority,
            "match": {"versionedExpr": "SRC_IPS_V1", "config": {"srcIpRanges": list(ranges)}}}


def expr_rule(expression: str, priority=1000, action="allow") -> dict:
    return {"action": action, "priority": priority, "match": {"expr": {"expression": expression}}}


def header_rule(ranges, priority=1000, header=HEADER, value=SECRET) -> dict:
    in_ranges = " || ".join(f"inIpRange(origin.ip, '{cidr}')" for cidr in ranges)
    return expr_rule(f"request.headers['{header}'] == '{value}' && ({in_ranges})", priority)


def armor(*rules: dict, default=DEFAULT_DENY) -> dict:
    """A Cloud Armor policy the way the program builds one: Cloudflare's ranges in chunks of 10, default deny."""
    if not rules:
        rules = tuple(ip_rule(CLOUDFLARE_IPV4[i:i + 10], 1000 + i) for i in range(0, len(CLOUDFLARE_IPV4), 10)) + (
            ip_rule(CLOUDFLARE_IPV6, 1100),)
    return {"type": "CLOUD_ARMOR", "rules": [*rules, *([default] if default else [])]}


def test_cloud_armor_admitting_only_cloudflare_passes():
    assert check(P.cloud_armor_cloudflare_only, ARMOR, armor()) == []
    assert check(P.cloud_armor_cloudflare_only, ARMOR, armor(header_rule(CLOUDFLARE_IPV4[:4]),
                                                               header_rule(["2606:4700::/32"], 1001))) == []
    assert check(P.cloud_armor_cloudflare_only, ARMOR, armor(ip_rule(["104.16.1.0/24"]),
                                                               ip_rule(["10.0.0.0/8"], 1001, "deny(403)"))) == []


@pytest.mark.parametrize("rule, shown", [
    (ip_rule(["0.0.0.0/0"]), "addresses outside Cloudflare's ranges: 0.0.0.0/0"),
    (ip_rule(["::/0"]), "addresses outside Cloudflare's ranges: ::/0"),
    (ip_rule(["*"]), "every address (\"*\")"),
    (ip_rule([*CLOUDFLARE_IPV4[:9], "104.16.0.0/12"]), "addresses outside Cloudflare's ranges: 104.16.0.0/12"),
    (header_rule(["173.245.48.0/20", "10.0.0.0/8"]), "addresses outside Cloudflare's ranges: 10.0.0.0/8"),
    (expr_rule(f"request.headers['{HEADER}'] == 'x'"), "requests from any address"),
    ({**ip_rule(["0.0.0.0/0"]), "action": "throttle"}, "0.0.0.0/0"),
])
def test_cloud_armor_admitting_other_addresses_is_refused(rule, shown):
    [message] = check(P.cloud_armor_cloudflare_only, ARMOR, armor(ip_rule(CLOUDFLARE_IPV6, 999), rule),
                      name="origin-armor")
    assert message.startswith("Cloud Armor policy 'origin-armor' rules[1] (priority 1000) allows ") and shown in message


@pytest.mark.parametrize("default, shown", [
    (None, "has no default rule (priority 2147483647)"),
    ({**DEFAULT_DENY, "action": "allow"}, "has a default rule that does not deny (action 'allow')"),
    ({**DEFAULT_DENY, "preview": True}, "has its default deny rule in preview mode"),
])
def test_cloud_armor_default_rule_must_deny(default, shown):
    found = check(P.cloud_armor_cloudflare_only, ARMOR, armor(default=default), name="origin-armor")
    assert found[0] == f"Cloud Armor policy 'origin-armor' {shown}" + found[0].split(shown, 1)[1]
    assert found[1:] == ([] if default is None or default["action"] != "allow" else [
        "Cloud Armor policy 'origin-armor' rules[3] (priority 2147483647) allows every address (\"*\"); the load "
        "balancer must be reachable only through Cloudflare."])


def test_cloud_armor_without_rules_is_open_and_unknown_values_wait():
    [message] = check(P.cloud_armor_cloudflare_only, ARMOR, {"type": "CLOUD_ARMOR"}, name="origin-armor")
    assert "has no rules: Google adds a default rule that allows every request" in message
    assert check(P.cloud_armor_cloudflare_only, ARMOR, {"rules": UNKNOWN}) == []
    assert check(P.cloud_armor_cloudflare_only, ARMOR, armor(ip_rule([UNKNOWN]), expr_rule(UNKNOWN, 1001))) == []
    config = {"cloudflareIpv4Cidrs": ["10.0.0.0/8"], "cloudflareIpv6Cidrs": ["fd00::/8"]}
    assert check(P.cloud_armor_cloudflare_only, ARMOR, armor(ip_rule(["10.1.0.0/16"])), config=config) == []


def test_separate_cloud_armor_rules_and_backend_services_are_checked():
    assert len(check(P.cloud_armor_cloudflare_only, ARMOR_RULE, {**ip_rule(["0.0.0.0/0"]), "securityPolicy": "p"})) == 1
    assert check(P.cloud_armor_cloudflare_only, ARMOR_RULE, {**ip_rule(CLOUDFLARE_IPV4[:10]),
                                                             "securityPolicy": "p"}) == []
    assert "is the default rule and allows" in check(P.cloud_armor_cloudflare_only, ARMOR_RULE,
                                                     {**ip_rule(["*"], 2147483647), "securityPolicy": "p"})[-1]
    backend = {"loadBalancingScheme": "EXTERNAL_MANAGED", "protocol": "HTTPS", "backends": [{"group": UNKNOWN}]}
    [message] = check(P.cloud_armor_cloudflare_only, BACKEND, backend, name="origin-backend")
    assert "backend service 'origin-backend' has no Cloud Armor security policy" in message
    assert len(check(P.cloud_armor_cloudflare_only, BACKEND, {"protocol": "HTTPS"})) == 1  # the default scheme
    assert check(P.cloud_armor_cloudflare_only, BACKEND, {**backend, "securityPolicy": UNKNOWN}) == []
    assert check(P.cloud_armor_cloudflare_only, BACKEND, {**backend, "loadBalancingScheme": "INTERNAL_MANAGED"}) == []


@pytest.mark.parametrize("version", ["TLS_1_2", "TLS_1_3"])
def test_gcp_ssl_policy_with_tls_1_2_or_better_passes(version):
    assert check(P.gcp_https_proxy_modern_tls, SSL_POLICY, {"minTlsVersion": version, "profile": "RESTRICTED"}) == []


@pytest.mark.parametrize("props, shown", [
    ({"minTlsVersion": "TLS_1_0", "profile": "MODERN"}, "accepts TLS_1_0; the minimum is TLS 1.2"),
    ({"minTlsVersion": "TLS_1_1"}, "accepts TLS_1_1"),
    ({"profile": "MODERN"}, "sets no minTlsVersion; Google's default is TLS_1_0"),
])
def test_gcp_ssl_policy_below_tls_1_2_is_refused(props, shown):
    [message] = check(P.gcp_https_proxy_modern_tls, SSL_POLICY, props, name="origin-tls")
    assert f"SSL policy 'origin-tls' {shown}" in message


def test_gcp_https_proxy_needs_an_ssl_policy():
    proxy = {"urlMap": UNKNOWN, "certificateMap": UNKNOWN, "sslPolicy": UNKNOWN}
    assert check(P.gcp_https_proxy_modern_tls, HTTPS_PROXY, proxy) == []
    assert check(P.gcp_https_proxy_modern_tls, SSL_POLICY, {"minTlsVersion": UNKNOWN}) == []
    [message] = check(P.gcp_https_proxy_modern_tls, HTTPS_PROXY, {"urlMap": UNKNOWN}, name="origin-https")
    assert "HTTPS proxy 'origin-https' names no sslPolicy; Google's default SSL policy accepts TLS 1.0" in message


REDIRECT_MAP = {"defaultUrlRedirect": {"httpsRedirect": True, "redirectResponseCode": "MOVED_PERMANENTLY_DEFAULT",
                                       "stripQuery": False}}


def http_front(url_map: dict, link: str = "property") -> list[PolicyResource]:
    redirect_map = resource(URL_MAP, "origin-http", url_map)
    serving_map = resource(URL_MAP, "origin-https", {"defaultService": UNKNOWN})
    if link == "property":
        proxy = resource(HTTP_PROXY, "origin-http", {"urlMap": UNKNOWN}, urlMap=[redirect_map])
    else:  # as the engine hands state to stack policies: the known reference (a path ending in the name)
        redirect_map.props["name"] = "origin-http-1a2b3c4"
        proxy = resource(HTTP_PROXY, "origin-http", {"urlMap": "projects/p/global/urlMaps/origin-http-1a2b3c4"})
    return [redirect_map, serving_map, proxy]


def test_http_proxy_behind_a_redirect_only_url_map_passes():
    assert check_stack(P.gcp_http_proxy_redirects_to_https, http_front(REDIRECT_MAP)) == []
    assert check_stack(P.gcp_http_proxy_redirects_to_https, http_front(REDIRECT_MAP, link="value")) == []


@pytest.mark.parametrize("url_map, shown", [
    ({"defaultService": UNKNOWN}, "sets defaultService"),
    ({**REDIRECT_MAP, "pathMatchers": [{"name": "all", "defaultService": UNKNOWN}]}, "sets pathMatchers"),
    ({"defaultUrlRedirect": {"stripQuery": False, "hostRedirect": "example.com"}}, "without httpsRedirect = true"),
])
def test_http_proxy_serving_or_redirecting_to_http_is_refused(url_map, shown):
    for link in ("property", "value"):
        [(message, urn)] = check_stack(P.gcp_http_proxy_redirects_to_https, http_front(url_map, link))
        assert message.startswith("URL map 'origin-http' behind the plain-HTTP proxy 'origin-http' ")
        assert shown in message
        assert urn == _urn(URL_MAP, "origin-http")


def gcp_front(auth="header", rules=None, ruleset_header=HEADER, sent=SECRET, validation="REJECT_INVALID",
              pulls=True, anchors=True, server_tls=True) -> list[PolicyResource]:
    """The Cloud Run origin's load balancer as the program declares it, with the choices to break it."""
    if rules is None:
        rules = ([header_rule(CLOUDFLARE_IPV4[i:i + 4], 1000 + i) for i in range(0, 15, 4)] if auth == "header"
                 else [ip_rule(CLOUDFLARE_IPV4[:10]), ip_rule(CLOUDFLARE_IPV4[10:], 1001)])
    policy = resource(ARMOR, "origin-armor", armor(*rules))
    resources = [policy, resource(BACKEND, "origin-backend", {"loadBalancingScheme": "EXTERNAL_MANAGED",
                                                             "securityPolicy": UNKNOWN}, securityPolicy=[policy])]
    proxy = {"urlMap": UNKNOWN, "sslPolicy": UNKNOWN, "certificateMap": UNKNOWN}
    if auth == "header":
        resources.append(resource(RULESET, "origin-auth-header", {
            "zoneId": "z", "kind": "zone", "phase": "http_request_late_transform", "name": "origin auth",
            "rules": [{"action": "rewrite", "expression": "true", "enabled": True, "actionParameters": {
                "headers": {ruleset_header: {"operation": "set", "value": sent}}}}]}))
        resources.append(resource(HTTPS_PROXY, "origin-https", proxy))
    elif auth == "mtls":
        trust = resource(TRUST_CONFIG, "origin-trust-config", {"location": "global", "trustStores": [
            {"trustAnchors": [{"pemCertificate": UNKNOWN}] if anchors else []}]})
        policy_tls = resource(SERVER_TLS, "origin-mtls", {"location": "global", "allowOpen": False, "mtlsPolicy": {
            "clientValidationMode": validation, "clientValidationTrustConfig": UNKNOWN}}, mtlsPolicy=[trust])
        resources += [trust, policy_tls]
        if server_tls:
            resources.append(resource(HTTPS_PROXY, "origin-https", {**proxy, "serverTlsPolicy": UNKNOWN},
                                      serverTlsPolicy=[policy_tls]))
        else:
            resources.append(resource(HTTPS_PROXY, "origin-https", proxy))
        resources += [resource(AOP_SETTINGS, "origin-auth-zone", {"zoneId": "z", "enabled": pulls}),
                      resource(AOP_CERTIFICATE, "origin-auth-zone-cert", {"zoneId": "z", "certificate": UNKNOWN,
                                                                          "privateKey": UNKNOWN})]
    else:
        resources.append(resource(HTTPS_PROXY, "origin-https", proxy))
    return resources


@pytest.mark.parametrize("auth", ["header", "mtls"])
def test_complete_gcp_origin_authentication_passes(auth):
    assert check_stack(P.origin_auth_complete, gcp_front(auth), {"required": True}) == []


def test_gcp_without_origin_authentication_passes_unless_required():
    assert check_stack(P.origin_auth_complete, gcp_front("none")) == []
    [(message, _)] = check_stack(P.origin_auth_complete, gcp_front("none"), {"required": True})
    assert message.startswith("origin authentication is off")


def test_a_header_gate_before_the_ip_rules_also_enforces_the_header():
    gate = expr_rule(f"request.headers['{HEADER}'] != '{SECRET}'", 10, "deny(403)")
    rules = [gate, ip_rule(CLOUDFLARE_IPV4[:10]), ip_rule(CLOUDFLARE_IPV4[10:], 1001)]
    assert check_stack(P.origin_auth_complete, gcp_front("header", rules=rules)) == []


@pytest.mark.parametrize("choices, shown", [
    ({"rules": [ip_rule(CLOUDFLARE_IPV4[:10]), ip_rule(CLOUDFLARE_IPV4[10:], 1001)]},
     "Cloud Armor policy 'origin-armor' does not require the secret header 'x-saas-domains-origin-auth'"),
    ({"rules": [ip_rule(CLOUDFLARE_IPV4[:10], 5), header_rule(CLOUDFLARE_IPV4[:4], 1000)]},
     "rule (priority 5) allows requests before any rule checks the secret header"),
    ({"rules": [expr_rule(f"request.headers['{HEADER}'] != '{SECRET}'", 2000, "deny(403)"),
                ip_rule(CLOUDFLARE_IPV4[:10])]}, "rule (priority 1000) allows requests before any rule checks"),
    ({"ruleset_header": "X-Other"}, "checks header 'x-saas-domains-origin-auth', which no Cloudflare ruleset sets"),
    ({"sent": "another-secret"}, "expects another value of header 'x-saas-domains-origin-auth'"),
])
def test_a_cloud_armor_policy_that_does_not_require_the_header_is_refused(choices, shown):
    found = [message for message, _ in check_stack(P.origin_auth_complete, gcp_front("header", **choices))]
    assert any(shown in message for message in found), found
    assert not any(SECRET in message or "another-secret" in message for message in found)


def test_a_cloud_armor_header_check_needs_a_ruleset_and_values_unknown_in_a_preview_wait():
    resources = [r for r in gcp_front("header") if r.resource_type != RULESET]
    [(message, _)] = check_stack(P.origin_auth_complete, resources)
    assert "no Cloudflare ruleset in phase http_request_late_transform sets a request header" in message
    assert "the load balancer's Cloud Armor policy would refuse every request" in message
    assert check_stack(P.origin_auth_complete, gcp_front("header", sent=UNKNOWN)) == []


@pytest.mark.parametrize("choices, shown", [
    ({"validation": "ALLOW_INVALID_OR_MISSING_CLIENT_CERT"},
     "server TLS policy 'origin-mtls' has clientValidationMode 'ALLOW_INVALID_OR_MISSING_CLIENT_CERT'"),
    ({"anchors": False}, "trust config 'origin-trust-config' holds no trust anchor"),
    ({"server_tls": False}, "no HTTPS proxy verifies them (a server TLS policy with mtlsPolicy.clientValidationMode "
                            "REJECT_INVALID"),
    ({"pulls": False}, "the load balancer verifies client certificates but the zone does not enable "
                       "Authenticated Origin Pulls"),
])
def test_gcp_mutual_tls_needs_a_rejecting_server_tls_policy_and_the_zones_pulls(choices, shown):
    found = [message for message, _ in check_stack(P.origin_auth_complete, gcp_front("mtls", **choices))]
    assert any(shown in message for message in found), found


def _gcp_config(**overrides) -> dict[str, str]:
    config = {k: config_value(v) for k, v in read_stack_file(PROJECT_ROOT, "gcp-example").items()}
    config.update({f"saas-domains:{key}": config_value(value) for key, value in overrides.items()})
    return config


def render_gcp(**overrides):
    return render(PROJECT_ROOT, "gcp-example", config=_gcp_config(
        customersFile=str(EXAMPLE_CUSTOMERS), **overrides))


@pytest.mark.parametrize("mode", ["header", "mtls", "none"])
def test_the_gcp_stack_the_program_declares_passes_every_policy(mode):
    rendering = render_gcp(originAuth=mode)
    assert {"gcp:compute/securityPolicy:SecurityPolicy", HTTPS_PROXY, HTTP_PROXY, URL_MAP, SSL_POLICY} <= {
        r.type for r in rendering.resources}
    assert _violations(rendering) == {}


def _broken(rendering, type_: str, change):
    for declared in rendering.resources:
        if declared.type == type_:
            change(declared.inputs)
            change(declared.state)
    return rendering


@pytest.mark.parametrize("mode, type_, change, policy", [
    ("header", ARMOR, lambda p: p["rules"].insert(0, ip_rule(["0.0.0.0/0"], 1)), "cloud-armor-cloudflare-only"),
    ("header", ARMOR, lambda p: p["rules"].pop(), "cloud-armor-cloudflare-only"),
    ("header", BACKEND, lambda p: p.pop("securityPolicy"), "cloud-armor-cloudflare-only"),
    ("header", SSL_POLICY, lambda p: p.update(minTlsVersion="TLS_1_0"), "gcp-https-proxy-modern-tls"),
    ("header", HTTPS_PROXY, lambda p: p.pop("sslPolicy"), "gcp-https-proxy-modern-tls"),
    ("header", ARMOR, lambda p: p.update(rules=[ip_rule(CLOUDFLARE_IPV4[:10]), DEFAULT_DENY]), "origin-auth-complete"),
    ("mtls", SERVER_TLS, lambda p: p["mtlsPolicy"].update(clientValidationMode="ALLOW_INVALID_OR_MISSING_CLIENT_CERT"),
     "origin-auth-complete"),
    ("mtls", HTTPS_PROXY, lambda p: p.pop("serverTlsPolicy"), "origin-auth-complete"),
])
def test_the_gcp_stack_broken_on_purpose_is_caught(mode, type_, change, policy):
    rendering = _broken(render_gcp(originAuth=mode), type_, change)
    assert policy in _violations(rendering)


def test_the_http_redirect_of_the_gcp_stack_is_checked_through_its_url_map():
    rendering = render_gcp(originAuth="header")
    redirect_map = next(r for r in rendering.resources if r.type == URL_MAP and "defaultUrlRedirect" in r.inputs)
    redirect_map.state["defaultUrlRedirect"] = {"httpsRedirect": False, "stripQuery": False}
    assert list(_violations(rendering)) == ["gcp-http-proxy-redirects-to-https"]

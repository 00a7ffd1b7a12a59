"""The program against the providers: every configuration of both origins, checked against the locked SDKs' schemas.

Mocks accept anything, so a green rendering proves only what we declare. Here each rendering of the
real `__main__.py` is checked against the schema of the provider versions `uv.lock` pins (read from
the installed SDKs, tests/conformance/sdk_schema.py) and against the API rules no schema encodes
(tests/conformance/api_rules.py, each with its source). The checker is itself tested on resources
that are wrong on purpose, so a pass means something.
"""

from __future__ import annotations

import fnmatch
import itertools

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from infra.components.fallback_origin_waiter import FallbackOriginWaiterProvider
from infra.model import customers as model
from infra.model import names
from infra.offline import DeclaredResource, Rendering, config_value, render
from infra.offline_cloud import Invoke
from infra.stack_files import read_stack_file
from tests.conformance import api_rules
from tests.conformance.checker import check_invoke, check_rendering, check_resource
from tests.conformance.sdk_schema import SchemaError, available_values, function_schema, resource_schema
from tests.conftest import PROJECT_ROOT, run_program, run_stack
from tests.fakes.cloud import FakeCloud

# Every optional key the customers file accepts, in defaults and in customers, with values that
# exercise each allowed choice somewhere.
EVERY_FIELD = """\
defaults:
  ssl:
    method: http
    type: dv
    min_tls_version: "1.2"
    certificate_authority: google
    bundle_method: ubiquitous
    wildcard: false
    ciphers: [ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-RSA-AES128-GCM-SHA256]
    http2: "on"
    tls13: "on"
    early_hints: "off"
  metadata: {tier: standard}
  origin: app.mailito.com
customers:
  - id: mkdev
    hostnames: [mail.mkdev.me]
  - id: acme
    hostnames: [mail.acme-corp.com, newsletter.acme-corp.com]
    ssl: {min_tls_version: "1.3", certificate_authority: lets_encrypt, bundle_method: optimal,
          http2: "off", tls13: "off", early_hints: "on", ciphers: null}
    metadata: {tier: business, region: eu}
    origin: eu.mailito.com
  - id: globex
    hostnames: ["*.globex.io", "bücher.globex.io"]
    ssl: {method: txt, wildcard: true, certificate_authority: ssl_com, bundle_method: force}
  - id: initech
    hostnames: [post.initech.example]
    ssl: {certificate_authority: null}
"""

ORIGIN_AUTH = ("header", "mtls", "none")
TARGET_TYPES = ("ip", "instance", "lambda")
NETWORKS = {
    "default-vpc": {"vpcId": "", "subnetIds": []},
    "explicit-vpc": {"vpcId": "vpc-0123456789abcdef0", "subnetIds": ["subnet-0aaa1111", "subnet-0bbb2222"]},
}
ZONE_IDS = {"looked-up": "", "pinned": "fedcba9876543210fedcba9876543210"}

CONFIGURATIONS = [
    pytest.param(auth, ssl_mode, network, zone_id, target, id=f"{auth}-ssl{ssl_mode}-{network}-{zone_id}-{target}")
    for auth, ssl_mode, network, zone_id, target in itertools.product(
        ORIGIN_AUTH, (True, False), NETWORKS, ZONE_IDS, TARGET_TYPES)
]


@pytest.fixture(scope="module")
def every_field_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("conformance") / "customers.yaml"
    path.write_text(EVERY_FIELD, encoding="utf-8")
    return path


def render_configuration(customers_path, auth, ssl_mode, network, zone_id, target) -> Rendering:
    return run_program(customers_path, originAuth=auth, manageZoneSslMode=ssl_mode, zoneId=ZONE_IDS[zone_id],
                       targetType=target, allowWildcards=True, **NETWORKS[network])


# The Cloud Run origin: the ALB-only settings (network, target type) do not apply to it.
GCP_CONFIGURATIONS = [
    pytest.param(auth, ssl_mode, zone_id, id=f"gcp-{auth}-ssl{ssl_mode}-{zone_id}")
    for auth, ssl_mode, zone_id in itertools.product(ORIGIN_AUTH, (True, False), ZONE_IDS)
]
GCP_TYPES = {api_rules.GCP_ADDRESS, api_rules.GCP_NEG_TYPE, api_rules.GCP_ARMOR, api_rules.GCP_BACKEND_SERVICE,
             api_rules.GCP_URL_MAP_TYPE, api_rules.GCP_SSL_POLICY_TYPE, api_rules.GCP_HTTPS_PROXY_TYPE,
             api_rules.GCP_HTTP_PROXY, api_rules.GCP_FORWARDING_RULE, api_rules.GCP_DNS_AUTHORIZATION,
             api_rules.GCP_CERTIFICATE, api_rules.GCP_CERTIFICATE_MAP, api_rules.GCP_MAP_ENTRY,
             api_rules.GCP_TRUST_CONFIG, api_rules.GCP_SERVER_TLS_POLICY}


def render_gcp_configuration(customers_path, auth, ssl_mode, zone_id) -> Rendering:
    """The example Cloud Run stack (Pulumi.gcp-example.yaml) with the chosen settings."""
    config = {key: config_value(value) for key, value in read_stack_file(PROJECT_ROOT, "gcp-example").items()}
    config.update({f"saas-domains:{key}": config_value(value) for key, value in {
        "customersFile": str(customers_path), "originAuth": auth, "manageZoneSslMode": ssl_mode,
        "zoneId": ZONE_IDS[zone_id], "allowWildcards": True}.items()})
    return render(PROJECT_ROOT, "gcp-example", config=config)


# An origin of the team's own: only the Cloudflare side is declared.
EXTERNAL_CONFIGURATIONS = [
    pytest.param(auth, ssl_mode, zone_id, id=f"external-{auth}-ssl{ssl_mode}-{zone_id}")
    for auth, ssl_mode, zone_id in itertools.product(ORIGIN_AUTH, (True, False), ZONE_IDS)
]


def render_external_configuration(customers_path, auth, ssl_mode, zone_id) -> Rendering:
    """The example external-origin stack (Pulumi.external-example.yaml) with the chosen settings."""
    return run_stack("external-example", customers_path, originAuth=auth, manageZoneSslMode=ssl_mode,
                     zoneId=ZONE_IDS[zone_id], allowWildcards=True)


# -- the program ------------------------------------------------------------------------------------


def test_the_fixture_uses_every_optional_field_the_customers_file_accepts(every_field_file):
    parsed = model.parse_customers(EVERY_FIELD, model.ValidationRules("mailito.com", allow_wildcards=True))
    for key in (*model.DEFAULTS_KEYS, *model.CUSTOMER_KEYS):
        assert f"  {key}:" in EVERY_FIELD or f"- {key}:" in EVERY_FIELD, key
    for key in model.SSL_KEYS:
        assert f"{key}:" in EVERY_FIELD, f"ssl.{key} is accepted by the file but not exercised here"
    used = {h.ssl.certificate_authority for h in parsed.hostnames}
    assert used == {*model.ALLOWED_CERTIFICATE_AUTHORITIES, None}
    assert {h.ssl.bundle_method for h in parsed.hostnames} == set(model.ALLOWED_BUNDLE_METHODS)
    assert {h.ssl.method for h in parsed.hostnames} == set(model.ALLOWED_SSL_METHODS)


@pytest.mark.parametrize(("auth", "ssl_mode", "network", "zone_id", "target"), CONFIGURATIONS)
def test_every_configuration_conforms_to_the_provider_schemas_and_api_rules(
        every_field_file, auth, ssl_mode, network, zone_id, target):
    rendering = render_configuration(every_field_file, auth, ssl_mode, network, zone_id, target)
    assert len(rendering.of_type(api_rules.HOSTNAME)) == 6
    findings = check_rendering(rendering)
    assert not findings, "\n".join(map(str, findings))


@pytest.mark.parametrize(("auth", "ssl_mode", "zone_id"), GCP_CONFIGURATIONS)
def test_every_cloud_run_configuration_conforms_to_the_provider_schemas_and_api_rules(
        every_field_file, auth, ssl_mode, zone_id):
    rendering = render_gcp_configuration(every_field_file, auth, ssl_mode, zone_id)
    assert len(rendering.of_type(api_rules.HOSTNAME)) == 6
    assert rendering.of_type(api_rules.GCP_HTTPS_PROXY_TYPE) and not rendering.of_type(api_rules.LB)
    findings = check_rendering(rendering)
    assert not findings, "\n".join(map(str, findings))


@pytest.mark.parametrize(("auth", "ssl_mode", "zone_id"), EXTERNAL_CONFIGURATIONS)
def test_every_external_origin_configuration_conforms_to_the_provider_schemas_and_api_rules(
        every_field_file, auth, ssl_mode, zone_id):
    rendering = render_external_configuration(every_field_file, auth, ssl_mode, zone_id)
    assert len(rendering.of_type(api_rules.HOSTNAME)) == 6
    assert not [r for r in rendering.resources if r.type.startswith(("aws:", "gcp:"))]
    findings = check_rendering(rendering)
    assert not findings, "\n".join(map(str, findings))


@pytest.mark.parametrize("stack", ["dev", "gcp-example", "external-example"])
def test_sharing_the_zones_transform_rules_conforms_too(every_field_file, stack):
    rendering = run_stack(stack, every_field_file, transformRules="shared", allowWildcards=True)
    assert [r.name for r in rendering.resources if r.name == "origin-auth-header-rule"]
    findings = check_rendering(rendering)
    assert not findings, "\n".join(map(str, findings))


def test_the_matrix_reaches_every_resource_type_and_lookup_the_program_can_declare(every_field_file):
    """So no resource type escapes the check because no configuration declared it."""
    types: set[str] = set()
    tokens: set[str] = set()
    for auth, ssl_mode, network, zone_id in itertools.product(ORIGIN_AUTH, (True, False), NETWORKS, ZONE_IDS):
        rendering = render_configuration(every_field_file, auth, ssl_mode, network, zone_id, "ip")
        types |= {r.type for r in rendering.resources if r.custom}
        tokens |= {i.token for i in rendering.invokes}
    assert {"cloudflare:index/zoneSetting:ZoneSetting", "cloudflare:index/ruleset:Ruleset",
            "aws:lb/trustStore:TrustStore", "aws:lb/listenerRule:ListenerRule", api_rules.FALLBACK} <= types
    assert tokens == {"cloudflare:index/getZone:getZone", "cloudflare:index/getIpRanges:getIpRanges",
                      "aws:ec2/getVpc:getVpc", "aws:ec2/getSubnets:getSubnets"}
    gcp_types: set[str] = set()
    for auth, ssl_mode, zone_id in itertools.product(ORIGIN_AUTH, (True, False), ZONE_IDS):
        rendering = render_gcp_configuration(every_field_file, auth, ssl_mode, zone_id)
        gcp_types |= {r.type for r in rendering.resources if r.custom}
        tokens |= {i.token for i in rendering.invokes}
    assert {t for t in gcp_types if t.startswith("gcp:")} == GCP_TYPES
    assert not {t for t in gcp_types if t.startswith("aws:")}
    types |= gcp_types
    for type_ in types - set(api_rules.OWN_PROVIDER_RESOURCES) - {"pulumi:pulumi:StackReference"}:
        assert resource_schema(type_).properties, type_


# Certificate alerts (issue 12): account-wide, declared by role all and core stacks when configured. A small
# matrix: what varies is which destinations the policy has and which stack declares it.
ALERT_ACCOUNT = "0123456789abcdef0123456789abcdef"
ALERT_CONFIGURATIONS = [
    pytest.param("dev", {"alertWebhookUrl": "https://hooks.example.com/cloudflare", "alertEmails": ["ops@mailito.com"]},
                 id="all-webhook-and-emails"),
    pytest.param("dev", {"alertWebhookUrl": "https://hooks.example.com:8443/cf"}, id="all-webhook"),
    pytest.param("shard-example-core", {"alertEmails": ["ops@mailito.com", "oncall@mailito.com"]}, id="core-emails"),
]


@pytest.mark.parametrize(("stack", "alerts"), ALERT_CONFIGURATIONS)
def test_every_alert_configuration_conforms_to_the_provider_schemas_and_api_rules(every_field_file, stack, alerts):
    rendering = run_stack(stack, every_field_file, allowWildcards=True, accountId=ALERT_ACCOUNT, **alerts)
    assert len(rendering.of_type(api_rules.NOTIFICATION_POLICY)) == 1
    assert len(rendering.of_type(api_rules.NOTIFICATION_WEBHOOK)) == ("alertWebhookUrl" in alerts)
    findings = check_rendering(rendering)
    assert not findings, "\n".join(map(str, findings))


def test_the_alert_type_is_one_the_locked_sdk_allows():
    """names.py holds the one copy; the provider's "Available values" are the Terraform validator's list."""
    allowed = resource_schema(api_rules.NOTIFICATION_POLICY).properties["alertType"].shape.enum
    assert names.CUSTOM_HOSTNAME_CERTIFICATE_ALERT in allowed
    assert api_rules.NOTIFICATION_POLICY == names.NOTIFICATION_POLICY_RESOURCE
    assert api_rules.NOTIFICATION_WEBHOOK == names.NOTIFICATION_WEBHOOK_RESOURCE
    webhook = resource_schema(api_rules.NOTIFICATION_WEBHOOK).properties
    assert {name for name, p in webhook.items() if p.required} == {"accountId", "name", "url"}


GOOD_POLICY = {"accountId": ALERT_ACCOUNT, "alertType": names.CUSTOM_HOSTNAME_CERTIFICATE_ALERT, "name": "n",
               "enabled": True, "mechanisms": {"emails": [{"id": "ops@mailito.com"}]}}
GOOD_WEBHOOK = {"accountId": ALERT_ACCOUNT, "name": "n", "url": "https://hooks.example.com/x", "secret": "s"}


@pytest.mark.parametrize(
    ("type_", "change", "expected"),
    [
        (api_rules.NOTIFICATION_POLICY, {}, None),
        (api_rules.NOTIFICATION_WEBHOOK, {}, None),
        (api_rules.NOTIFICATION_POLICY, {"alertType": "ssl_for_saas_custom_hostnames"},
         "alertType: 'ssl_for_saas_custom_hostnames' is not one of the allowed values"),
        (api_rules.NOTIFICATION_POLICY, {"mechanisms": {}}, "mechanisms: no destination"),
        (api_rules.NOTIFICATION_POLICY, {"mechanisms": {"webhooks": [{}]}}, "mechanisms: a destination without an id"),
        (api_rules.NOTIFICATION_POLICY, {"mechanisms": {"email": [{"id": "a@b.c"}]}}, "mechanisms.email: unknown"),
        (api_rules.NOTIFICATION_POLICY, {"mechanisms": {"emails": [{"id": "ops"}]}},
         "mechanisms.emails[0].id: 'ops' is not an e-mail address"),
        (api_rules.NOTIFICATION_POLICY, {"accountId": "mailito"}, "accountId: 'mailito' is not 32 hexadecimal"),
        (api_rules.NOTIFICATION_POLICY, {"name": None}, "name: required input is missing"),
        (api_rules.NOTIFICATION_WEBHOOK, {"url": "http://hooks.example.com/do-not-print-me"},
         "url: the webhook URL is not https:// with a host (the value is secret and not shown)"),
        (api_rules.NOTIFICATION_WEBHOOK, {"url": "https://[do-not-print-me"}, "url: the webhook URL is not a URL"),
        (api_rules.NOTIFICATION_WEBHOOK, {"url": None}, "url: required input is missing"),
    ],
)
def test_the_alert_rules_catch_what_the_schemas_allow(type_, change, expected):
    good = GOOD_POLICY if type_ == api_rules.NOTIFICATION_POLICY else GOOD_WEBHOOK
    found = problems(type_, {**good, **change})
    if expected is None:
        assert found == []
    else:
        assert any(p.startswith(expected) for p in found), found
        assert not any("do-not-print-me" in p for p in found)


def test_a_lambda_target_group_sends_no_port_protocol_vpc_or_health_check_protocol(every_field_file):
    rendering = render_configuration(every_field_file, "header", True, "explicit-vpc", "pinned", "lambda")
    (group,) = rendering.of_type(api_rules.TG)
    assert group.inputs["targetType"] == "lambda"
    assert not {"port", "protocol", "vpcId"} & set(group.inputs)
    assert "protocol" not in group.inputs["healthCheck"]
    (security_group,) = rendering.of_type(api_rules.SG)
    assert security_group.inputs.get("egress") == []  # Lambda is invoked through the AWS API


# -- the checker can fail ---------------------------------------------------------------------------

CONTEXT = api_rules.Context(zone="mailito.com")


WAITER = serialize_provider(FallbackOriginWaiterProvider())  # a dynamic resource's pickled provider


def resource(type_: str, inputs: dict, name: str = "r") -> DeclaredResource:
    return DeclaredResource(urn=f"urn:{name}", id="id", type=type_, name=name, parent="", custom=True,
                            inputs=inputs, state={}, dependencies=[])


def problems(type_: str, inputs: dict, name: str = "r") -> list[str]:
    return [f"{f.path}: {f.problem}" for f in check_resource(resource(type_, inputs, name), CONTEXT)]


GOOD_HOSTNAME = {"zoneId": FakeCloud.zone_id, "hostname": "mail.mkdev.me",
                 "ssl": {"method": "http", "type": "dv", "settings": {"minTlsVersion": "1.2"}}}


def test_a_well_formed_resource_has_no_findings():
    assert problems(api_rules.HOSTNAME, GOOD_HOSTNAME) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"hostnme": "x"}, "hostnme: unknown property"),
        ({"hostname": None}, "hostname: required input is missing"),
        ({"hostname": 42}, "hostname: expected a string, got number"),
        ({"ssl": "http"}, "ssl: expected an object (CustomHostnameSslArgs), got string"),
        ({"ssl": {"method": "http", "settings": {"minTlsVersion": 1.2}}},
         "ssl.settings.minTlsVersion: expected a string, got number"),
        ({"ssl": {"method": "http", "settings": {"http2": True}}}, "ssl.settings.http2: expected a string"),
        ({"ssl": {"method": "http", "type": "ov"}}, "ssl.type: 'ov' is not one of the allowed values 'dv'"),
        ({"ssl": {"method": "http", "certificateAuthority": "letsencrypt"}},
         "ssl.certificateAuthority: 'letsencrypt' is not one of the allowed values"),
        ({"ssl": {"method": "http", "bogus": 1}}, "ssl.bogus: unknown property"),
        ({"customMetadata": ["a"]}, "customMetadata: expected a map, got array"),
        ({"customMetadata": {"plan": 3}}, "customMetadata.plan: expected a string, got number"),
        ({"ssl": {"method": "email"}}, "ssl: ssl.method 'email': only http and txt DCV remain"),
        ({"ssl": {"method": "http", "wildcard": True}}, "ssl: a wildcard certificate needs ssl.method txt"),
        ({"customOriginServer": "mailito.com"}, "customOriginServer: custom origin 'mailito.com' is the zone apex"),
        ({"customOriginServer": "eu.example.com"}, "customOriginServer: custom origin 'eu.example.com' is outside"),
    ],
)
def test_the_checker_reports_each_kind_of_mistake(change, expected):
    found = problems(api_rules.HOSTNAME, {**GOOD_HOSTNAME, **change})
    assert any(p.startswith(expected) for p in found), found


def test_the_checker_refuses_the_apostrophe_that_broke_the_first_release():
    found = problems(api_rules.SG, {
        "description": "ALB origin: HTTP/HTTPS from Cloudflare's published ranges only",
        "ingress": [{"description": "ok", "protocol": "tcp", "fromPort": 443, "toPort": 443}],
        "egress": [{"description": "to the app's targets", "protocol": "tcp", "fromPort": 80, "toPort": 80}],
    })
    assert [p.split(" [")[0] for p in found] == [
        "description: EC2 refuses the character(s) \"'\"",
        "egress[0].description: EC2 refuses the character(s) \"'\"",
    ]


@pytest.mark.parametrize(
    ("type_", "inputs", "name", "expected"),
    [
        (api_rules.SG, {"description": "x" * 256}, "sg", "description: 256 characters, EC2 allows 255"),
        (api_rules.LB, {}, "a-load-balancer-with-a-long-name", "(resource name): load balancer name"),
        (api_rules.TG, {"targetType": "lambda", "port": 80, "protocol": "HTTP", "healthCheck": {"protocol": "HTTP"}},
         "tg", ": a lambda target group must not send port, protocol, healthCheck.protocol"),
        (api_rules.TG, {"targetType": "ip", "port": 80}, "tg", ": a ip target group needs protocol, vpcId"),
        (api_rules.RULE, {"listenerArn": "arn", "priority": 0, "actions": [{"type": "forward"}],
                          "conditions": [{"httpHeader": {"httpHeaderName": "X-A", "values": ["a*b"]}}]},
         "rule", "conditions[0].httpHeader.values[0]: the ALB reads * and ? in a header value as wildcards"),
        (api_rules.RULE, {"listenerArn": "arn", "priority": 0, "actions": [{"type": "forward"}],
                          "conditions": []}, "rule", "priority: 0 is outside 1-50000"),
        (api_rules.LISTENER, {"loadBalancerArn": "arn", "protocol": "HTTPS", "port": 443,
                              "defaultActions": [{"type": "fixed-response", "fixedResponse": {
                                  "contentType": "text/plain", "statusCode": "302"}}]},
         "l", ": an HTTPS listener needs certificateArn and sslPolicy"),
        (api_rules.LISTENER, {"loadBalancerArn": "arn", "protocol": "HTTP", "port": 80,
                              "defaultActions": [{"type": "fixed-response", "fixedResponse": {
                                  "contentType": "text/plain", "statusCode": "302"}}]},
         "l", "defaultActions[0].fixedResponse.statusCode: '302' is not a 2XX, 4XX or 5XX code"),
        (api_rules.DNS, {"zoneId": "z", "name": "x.mailito.com", "type": "CNAME", "ttl": 60, "proxied": True},
         "d", ": a proxied record must use ttl 1 (automatic), got 60"),
        (api_rules.DNS, {"zoneId": "z", "name": "x.mailito.com", "type": "TXT", "ttl": 10}, "d",
         ": ttl 10 must be 1 (automatic) or 60-86400"),
        (api_rules.DNS, {"zoneId": "z", "name": "proxy-fallback", "type": "CNAME", "ttl": 1}, "d",
         "name: record name 'proxy-fallback' is not a full name inside the zone"),
        (api_rules.DNS, {"zoneId": "z", "name": "x.mailito.com", "type": "CNAMES", "ttl": 1}, "d",
         "type: 'CNAMES' is not one of the allowed values"),
        (api_rules.DNS, {"zoneId": "z", "name": "x.mailito.com", "type": "TXT", "ttl": 1, "comment": "c" * 101},
         "d", "comment: comment is 101 characters, the API allows 100"),
        ("aws:acm/certificate:Certificate", {"domainName": "p." + "a" * 63, "validationMethod": "DNS"}, "c",
         "domainName: domain name is 65 characters, the API allows 64"),
        ("cloudflare:index/zoneSetting:ZoneSetting", {"zoneId": "z", "settingId": "ssl", "value": "full_strict"},
         "s", ": ssl value 'full_strict' is not off, flexible, full or strict"),
        ("aws:s3/bucket:Bucket", {}, "Trust-Store", "(resource name): bucket name 'Trust-Store' has characters"),
        ("cloudflare:index/noSuchThing:NoSuchThing", {}, "n", ": 'cloudflare:index/noSuchThing:NoSuchThing'"),
        ("pulumi-python:dynamic:Resource", {"__provider": WAITER, "zone_id": "z", "hostname": "h", "token": "t"},
         "w", "token: unknown property (FallbackOriginWaiterProvider does not read it)"),
        ("pulumi-python:dynamic:Resource", {"__provider": WAITER, "zone_id": "z"}, "w",
         "hostname: required string input is missing"),
        ("pulumi-python:dynamic:Resource", {"__provider": "p", "zone_id": "z"}, "w",
         "__provider: not a pickled provider"),
    ],
)
def test_the_api_rules_catch_what_the_schemas_allow(type_, inputs, name, expected):
    found = problems(type_, inputs, name)
    assert any(p.startswith(expected) for p in found), found


CF_V4 = ["173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18",
         "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17",
         "162.158.0.0/15"]
ARMOR_DEFAULT = {"action": "deny(403)", "priority": 2147483647,
                 "match": {"versionedExpr": "SRC_IPS_V1", "config": {"srcIpRanges": ["*"]}}}


def armor_rule(ranges=CF_V4[:10], priority=1000, **extra) -> dict:
    return {"action": "allow", "priority": priority,
            "match": {"versionedExpr": "SRC_IPS_V1", "config": {"srcIpRanges": list(ranges)}}, **extra}


@pytest.mark.parametrize(
    ("type_", "inputs", "name", "expected"),
    [
        (api_rules.GCP_ARMOR, {"rules": [armor_rule(), ARMOR_DEFAULT]}, "armor", None),
        (api_rules.GCP_ARMOR, {"rules": [armor_rule(CF_V4), ARMOR_DEFAULT]}, "armor",
         "rules[0].match.config.srcIpRanges: 11 source ranges, the API allows 10"),
        (api_rules.GCP_ARMOR, {"rules": [armor_rule()]}, "armor", "rules: no default rule (priority 2147483647"),
        (api_rules.GCP_ARMOR, {"rules": [armor_rule(), armor_rule(priority=1000), ARMOR_DEFAULT]}, "armor",
         "rules: priorities [1000] are used by more than one rule"),
        (api_rules.GCP_ARMOR, {"rules": [armor_rule(priority=-1), ARMOR_DEFAULT]}, "armor",
         "rules[0].priority: -1 is outside 0-2147483647"),
        (api_rules.GCP_ARMOR, {"rules": [armor_rule(action="deny(401)"), ARMOR_DEFAULT]}, "armor",
         "rules[0].action: 'deny(401)' is not allow, deny(403|404|502)"),
        (api_rules.GCP_ARMOR, {"rules": [armor_rule(description="d" * 65), ARMOR_DEFAULT]}, "armor",
         "rules[0].description: rule description is 65 characters, the API allows 64"),
        (api_rules.GCP_ARMOR, {"rules": [{"action": "allow", "priority": 1, "match": {"expr": {
            "expression": "request.headers['X-Origin-Auth'] == 's'"}}}, ARMOR_DEFAULT]}, "armor",
         "rules[0].match.expr.expression: request.headers keys are lower case in Cloud Armor: 'X-Origin-Auth'"),
        (api_rules.GCP_ARMOR, {"rules": [{"action": "allow", "priority": 1, "match": {"expr": {
            "expression": " || ".join(f"inIpRange(origin.ip, '{c}')" for c in CF_V4[:6])}}}, ARMOR_DEFAULT]},
         "armor", "rules[0].match.expr.expression: 6 subexpressions, Cloud Armor allows 5"),
        (api_rules.GCP_ARMOR, {"rules": [{"action": "allow", "priority": 1,
                                          "match": {"versionedExpr": "SRC_IPS_V1"}}, ARMOR_DEFAULT]}, "armor",
         "rules[0].match: versionedExpr and config go together"),
        (api_rules.GCP_ARMOR_RULE, {"securityPolicy": "p", **armor_rule(CF_V4)}, "rule",
         "match.config.srcIpRanges: 11 source ranges, the API allows 10"),
        (api_rules.GCP_SSL_POLICY, {"minTlsVersion": "TLS_1_3", "profile": "MODERN"}, "tls",
         ": minTlsVersion TLS_1_3 needs profile RESTRICTED, got 'MODERN'"),
        (api_rules.GCP_SSL_POLICY, {"minTlsVersion": "TLS_1_0", "profile": "FIPS_202205"}, "tls",
         ": profile FIPS_202205 needs minTlsVersion TLS_1_2, got 'TLS_1_0'"),
        (api_rules.GCP_SSL_POLICY, {"minTlsVersion": "TLS1_2", "profile": "MODERN"}, "tls",
         "minTlsVersion: 'TLS1_2' is not one of the allowed values 'TLS_1_0', 'TLS_1_1', 'TLS_1_2', 'TLS_1_3'"),
        (api_rules.GCP_SSL_POLICY, {"profile": "CUSTOM"}, "tls", ": customFeatures go with profile CUSTOM"),
        (api_rules.GCP_SSL_POLICY, {}, "Origin-TLS",
         "(resource name): Compute Engine name 'Origin-TLS' has characters"),
        (api_rules.GCP_SSL_POLICY, {}, "o" * 56, "(resource name): Compute Engine name 'ooo"),
        (api_rules.GCP_FORWARDING_RULE, {"target": "projects/p/global/targetHttpsProxies/x", "portRange": "443-444",
                                         "loadBalancingScheme": "EXTERNAL_MANAGED"}, "fr",
         ": portRange '443-444': an Application Load Balancer's forwarding rule takes one port"),
        (api_rules.GCP_FORWARDING_RULE, {"target": "projects/p/global/targetHttpsProxies/x", "portRange": "443",
                                         "ipProtocol": "UDP"}, "fr", ": ipProtocol 'UDP'"),
        (api_rules.GCP_MAP_ENTRY, {"map": "m", "certificates": ["c"], "matcher": "DEFAULT"}, "e",
         "matcher: 'DEFAULT' is not one of 'PRIMARY'"),
        (api_rules.GCP_MAP_ENTRY, {"map": "m", "certificates": ["c"]}, "e",
         ": a certificate map entry has exactly one of hostname or matcher"),
        (api_rules.GCP_HTTPS_PROXY, {"urlMap": "u", "certificateMap": "projects/p/locations/global/certificateMaps/m"},
         "p", ": certificateMap 'projects/p/locations/global/certificateMaps/m' is not //certificatemanager"),
        (api_rules.GCP_HTTPS_PROXY, {"urlMap": "u"}, "p", ": an HTTPS proxy needs a certificate"),
        (api_rules.GCP_URL_MAP_TYPE, {"defaultService": "b", "defaultUrlRedirect": {"httpsRedirect": True,
                                                                                   "stripQuery": False}}, "u",
         ": defaultUrlRedirect excludes defaultService"),
        (api_rules.GCP_NEG_TYPE, {"region": "europe-west1", "networkEndpointType": "SERVERLESS",
                                  "cloudRun": {"service": "Mailito_App"}}, "neg", ": Cloud Run service name"),
        (api_rules.GCP_SERVER_TLS_POLICY, {"allowOpen": True, "mtlsPolicy": {
            "clientValidationMode": "REJECT_INVALID"}}, "mtls", ": allowOpen must be false"),
        (api_rules.GCP_SERVER_TLS_POLICY, {"location": "europe-west1", "mtlsPolicy": {
            "clientValidationMode": "REJECT_INVALID", "clientValidationTrustConfig": "t"}}, "mtls",
         "location: location 'europe-west1': the load balancer is global"),
    ],
)
def test_the_gcp_api_rules_catch_what_the_schemas_allow(type_, inputs, name, expected):
    found = problems(type_, inputs, name)
    if expected is None:
        assert found == []
    else:
        assert any(p.startswith(expected) for p in found), found


def gcp_certificate_stack(record: dict | None, domain: str = "proxy-fallback.mailito.com") -> Rendering:
    """A DNS authorization, its certificate and the zone's record, as the offline engine renders them."""
    authorization = DeclaredResource(
        urn="urn:auth", id="projects/p/locations/global/dnsAuthorizations/auth-1234567",
        type=api_rules.GCP_DNS_AUTHORIZATION, name="auth", parent="", custom=True, inputs={"domain": domain},
        state={"name": "auth-1234567", "domain": domain, "dnsResourceRecords": [{
            "name": f"_acme-challenge.{domain}.", "type": "CNAME",
            "data": "abc.4.authorize.certificatemanager.goog."}]},
        dependencies=[])
    resources = [authorization, resource(api_rules.GCP_CERTIFICATE, {"managed": {
        "domains": ["proxy-fallback.mailito.com"], "dnsAuthorizations": [authorization.id]}}, "cert")]
    if record is not None:
        resources.append(resource(api_rules.DNS, {"zoneId": "z", "name": f"_acme-challenge.{domain}", "type": "CNAME",
                                                  "content": "abc.4.authorize.certificatemanager.goog", "ttl": 60,
                                                  "proxied": False, **record}, "validation"))
    return Rendering(stack="gcp", config={"saas-domains:zone": "mailito.com"}, resources=resources)


@pytest.mark.parametrize(
    ("record", "domain", "expected"),
    [
        ({}, "proxy-fallback.mailito.com", []),
        ({"proxied": True, "ttl": 1}, "proxy-fallback.mailito.com",
         ["the zone's '_acme-challenge.proxy-fallback.mailito.com' record is proxied"]),
        (None, "proxy-fallback.mailito.com",
         ["its CNAME record '_acme-challenge.proxy-fallback.mailito.com' is not in the zone"]),
        ({"content": "abc.4.authorize.certificatemanager.goog."}, "proxy-fallback.mailito.com",
         ["the zone's '_acme-challenge.proxy-fallback.mailito.com' record holds"]),
        ({}, "mailito.com", ["domain 'proxy-fallback.mailito.com' is covered by none of its DNS authorizations "
                             "(mailito.com)"]),
    ],
)
def test_the_certificate_manager_stack_rules(record, domain, expected):
    found = [f.problem.split(" [")[0] for f in check_rendering(gcp_certificate_stack(record, domain))]
    assert len(found) == len(expected) and all(p.startswith(e) for p, e in zip(found, expected, strict=True)), found


def test_the_gcp_load_balancer_stack_rules():
    url_map = DeclaredResource(urn="urn:m", id="projects/p/global/urlMaps/http-1234567",
                               type=api_rules.GCP_URL_MAP_TYPE, name="http", parent="", custom=True,
                               state={"name": "http-1234567"}, dependencies=[],
                               inputs={"defaultUrlRedirect": {"httpsRedirect": True, "stripQuery": False}})
    rules = [resource(api_rules.GCP_FORWARDING_RULE, {"target": "t", "ipAddress": "a", "ipProtocol": "TCP",
                                                      "portRange": "443", "loadBalancingScheme": scheme}, name)
             for name, scheme in (("https-ipv4", "EXTERNAL_MANAGED"), ("again-ipv4", "EXTERNAL"))]
    rendering = Rendering(stack="gcp", config={"saas-domains:zone": "mailito.com"}, resources=[
        url_map, resource(api_rules.GCP_HTTPS_PROXY, {"urlMap": url_map.id, "certificateMap": "x"}, "https"), *rules])
    found = [f.problem.split(" [")[0] for f in check_rendering(rendering) if not f.path and "Proxies" not in f.problem
             and "certificateMap" not in f.problem]
    assert found == ["same address, protocol and ports as https-ipv4",
                     "httpsRedirect is set but the HTTPS proxy https uses this URL map",
                     "its backend services and forwarding rules mix schemes EXTERNAL, EXTERNAL_MANAGED"]


def test_every_api_rule_names_its_source_and_a_property_the_schema_has():
    """A rule on a misspelt type or property would never fire: each must point at the real schema."""
    for rule in api_rules.RESOURCE_RULES + api_rules.STACK_RULES:
        assert rule.source and rule.rule, rule
    for rule in api_rules.RESOURCE_RULES:
        if "*" in rule.resource_type or rule.path.startswith("$"):
            continue
        shape = resource_schema(rule.resource_type)
        for part in rule.path.replace("[*]", "").split("."):
            names = [name for name in shape.properties if fnmatch.fnmatchcase(name, part)]
            assert names, f"{rule.resource_type} has no property {part!r} (rule: {rule.rule})"
            shape = shape.properties[names[0]].shape
            shape = shape.items if shape.kind == "array" else shape


def test_a_fallback_origin_without_a_proxied_record_in_the_stack_is_reported():
    rendering = Rendering(stack="dev", config={"saas-domains:zone": "mailito.com"}, resources=[
        resource(api_rules.DNS, {"zoneId": "z", "name": "proxy-fallback.mailito.com", "type": "CNAME", "ttl": 60,
                                 "content": "alb", "proxied": False}),
        resource(api_rules.FALLBACK, {"zoneId": "z", "origin": "proxy-fallback.mailito.com"}, "fo"),
    ])
    assert [f.problem.split(" [")[0] for f in check_rendering(rendering)] == [
        "origin 'proxy-fallback.mailito.com' is not a proxied record this stack declares"]


@pytest.mark.parametrize(
    ("invoke", "expected"),
    [
        (Invoke("cloudflare:index/getZone:getZone", {"filter": {"name": "mailito.com", "match": "every"}}),
         "filter.match: 'every' is not one of the allowed values 'any', 'all'"),
        (Invoke("cloudflare:index/getZone:getZone", {"name": "mailito.com"}), "name: unknown property"),
        (Invoke("aws:ec2/getSubnets:getSubnets", {"filters": [{"name": "vpc-id"}]}),
         "filters[0].values: required input is missing"),
        (Invoke("aws:ec2/getVpc:getVpc", {"default": "yes"}), "default: expected a boolean, got string"),
        (Invoke("aws:ec2/getNothing:getNothing", {}), ": 'aws:ec2/getNothing:getNothing'"),
    ],
)
def test_lookups_are_checked_against_the_function_schemas(invoke, expected):
    found = [f"{f.path}: {f.problem}" for f in check_invoke(invoke, CONTEXT)]
    assert any(p.startswith(expected) for p in found), found


# -- the schema reader ------------------------------------------------------------------------------


def test_available_values_are_read_back_with_underscores():
    described = 'The Certificate Authority.\nAvailable values: "digicert", "google", "lets*encrypt", "ssl*com".'
    assert available_values(described) == ("digicert", "google", "lets_encrypt", "ssl_com")
    assert available_values("no list here") is None


def test_gcp_possible_values_are_read_as_enums():
    described = "Default value is `TLS_1_0`.\n    Possible values are: `TLS_1_0`, `TLS_1_1`, `TLS_1_2`, `TLS_1_3`.\n"
    assert available_values(described) == ("TLS_1_0", "TLS_1_1", "TLS_1_2", "TLS_1_3")
    assert available_values("Possible values are HTTP, HTTPS or GRPC.") is None  # prose, not the generated list


def test_the_gcp_schema_comes_from_the_locked_sdk():
    """pulumi-gcp's tokens (`compute/uRLMap:URLMap`), required inputs and prose enums, read like the others."""
    ssl_policy = resource_schema(api_rules.GCP_SSL_POLICY).properties
    assert ssl_policy["minTlsVersion"].shape.enum == ("TLS_1_0", "TLS_1_1", "TLS_1_2", "TLS_1_3")
    assert "RESTRICTED" in ssl_policy["profile"].shape.enum
    entry = resource_schema(api_rules.GCP_MAP_ENTRY).properties
    assert {name for name, p in entry.items() if p.required} == {"map", "certificates"}
    assert entry["matcher"].shape.enum is None  # no list in the SDK: api_rules holds it
    armor = resource_schema(api_rules.GCP_ARMOR).properties["rules"].shape.items
    assert {name for name, p in armor.properties.items() if p.required} == {"action", "match", "priority"}
    assert armor.properties["match"].shape.properties["versionedExpr"].shape.enum == ("SRC_IPS_V1",)
    assert resource_schema(api_rules.GCP_HTTPS_PROXY).properties["urlMap"].required
    with pytest.raises(SchemaError):
        resource_schema("gcp:compute/urlMap:UrlMap")  # the SDK registers compute/uRLMap:URLMap


def test_the_schema_comes_from_the_locked_sdk():
    hostname = resource_schema(api_rules.HOSTNAME)
    assert {name for name, p in hostname.properties.items() if p.required} == {"zoneId", "hostname"}
    assert hostname.properties["ssl"].shape.properties["method"].shape.enum == ("http", "txt", "email")
    assert function_schema("cloudflare:index/getZone:getZone").arguments["filter"].shape.kind == "object"
    with pytest.raises(SchemaError):
        resource_schema("cloudflare:index/customHostnames:CustomHostname")


def test_the_example_stack_as_shipped_conforms():
    """`Pulumi.dev.yaml` and the repository's customers.yaml, exactly as `pulumi up` would read them."""
    findings = check_rendering(render(PROJECT_ROOT, "dev"))
    assert not findings, "\n".join(map(str, findings))


def test_the_gcp_example_stack_as_shipped_conforms():
    """`Pulumi.gcp-example.yaml` and the repository's customers.yaml, exactly as `pulumi up` would read them."""
    rendering = render(PROJECT_ROOT, "gcp-example")
    assert rendering.of_type(api_rules.GCP_ARMOR)
    findings = check_rendering(rendering)
    assert not findings, "\n".join(map(str, findings))


def _first(rendering: Rendering, type_: str, **match) -> DeclaredResource:
    return next(r for r in rendering.of_type(type_) if all(r.inputs.get(k) == v for k, v in match.items()))


@pytest.mark.parametrize(
    ("auth", "break_it", "expected"),
    [
        ("mtls", lambda r: _first(r, api_rules.GCP_ARMOR).inputs["rules"][0]["match"]["config"]["srcIpRanges"].append(
            "131.0.72.0/22"), "rules[0].match.config.srcIpRanges: 11 source ranges, the API allows 10"),
        ("header", lambda r: _first(r, api_rules.GCP_ARMOR).inputs["rules"][0]["match"]["expr"].update(
            expression="request.headers['X-Saas-Domains-Origin-Auth'] == 's'"),
         "rules[0].match.expr.expression: request.headers keys are lower case"),
        ("header", lambda r: _first(r, api_rules.GCP_ARMOR).inputs["rules"].pop(), "rules: no default rule"),
        ("none", lambda r: _first(r, api_rules.GCP_SSL_POLICY).inputs.update(minTlsVersion="TLS_1_3"),
         ": minTlsVersion TLS_1_3 needs profile RESTRICTED"),
        ("none", lambda r: _first(r, api_rules.GCP_MAP_ENTRY).inputs.update(hostname="proxy-fallback.mailito.com"),
         ": a certificate map entry has exactly one of hostname or matcher"),
        ("none", lambda r: _first(r, api_rules.DNS, type="CNAME", proxied=False).inputs.update(proxied=True, ttl=1),
         ": the zone's '_acme-challenge.proxy-fallback.mailito.com' record is proxied"),
        ("mtls", lambda r: _first(r, api_rules.GCP_SERVER_TLS_POLICY).inputs.update(allowOpen=True),
         ": allowOpen must be false"),
        ("none", lambda r: _first(r, api_rules.GCP_FORWARDING_RULE, portRange="443").inputs.update(portRange="80"),
         ": same address, protocol and ports as"),
    ],
)
def test_the_program_s_own_gcp_resources_broken_on_purpose_are_caught(every_field_file, auth, break_it, expected):
    """The rules read the paths the program really sends: each break of the real rendering is found."""
    rendering = render_gcp_configuration(every_field_file, auth, True, "pinned")
    assert check_rendering(rendering) == []
    break_it(rendering)
    found = [f"{f.path}: {f.problem}" for f in check_rendering(rendering)]
    assert any(p.startswith(expected) for p in found), found

"""The real __main__.py under Pulumi's mock engine: every resource, property and output it declares."""

from __future__ import annotations

import ipaddress

import pytest

from infra.offline import ProgramError
from infra.offline_cloud import CLOUDFLARE_IPV4, CLOUDFLARE_IPV6
from tests.conftest import run_program
from tests.fakes.cloud import FakeCloud

SG = "aws:ec2/securityGroup:SecurityGroup"
ALB = "aws:lb/loadBalancer:LoadBalancer"
TG = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
CERT = "aws:acm/certificate:Certificate"
CERT_VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
DNS = "cloudflare:index/dnsRecord:DnsRecord"
FALLBACK_ORIGIN = "cloudflare:index/customHostnameFallbackOrigin:CustomHostnameFallbackOrigin"
WAITER = "pulumi-python:dynamic:Resource"  # infra/components/fallback_origin_waiter.py
ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
HOSTNAME = "cloudflare:index/customHostname:CustomHostname"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
RULESET = "cloudflare:index/ruleset:Ruleset"
PASSWORD = "random:index/randomPassword:RandomPassword"
TRUST_STORE = "aws:lb/trustStore:TrustStore"
AOP_CERT = "cloudflare:index/authenticatedOriginPullsCertificate:AuthenticatedOriginPullsCertificate"
AOP_SETTINGS = "cloudflare:index/authenticatedOriginPullsSettings:AuthenticatedOriginPullsSettings"
GET_ZONE = "cloudflare:index/getZone:getZone"
ZONE_ID = FakeCloud.zone_id

EXAMPLE = """\
defaults:
  ssl: {method: http, min_tls_version: "1.2"}
customers:
  - id: mkdev
    hostnames: [mail.mkdev.me]
  - id: acme
    hostnames: [mail.acme-corp.com, Newsletter.Acme-Corp.com.]
    metadata: {plan: business}
    ssl: {min_tls_version: "1.3", certificate_authority: google}
  - id: globex
    hostnames: [post.globex.io]
    origin: eu.mailito.com
"""


class TokenCloud(FakeCloud):
    """Hands out a distinct ownership token per hostname, as Cloudflare does."""

    def ownership_txt_value(self, hostname: str) -> str:
        return f"token-for-{hostname}"


@pytest.fixture
def example(customers_file):
    return run_program(customers_file(EXAMPLE), cloud=TokenCloud())


def only(rendering, type_, name=None):
    found = [r for r in rendering.of_type(type_) if name is None or r.name == name]
    assert len(found) == 1, f"expected one {type_} {name or ''}, found {[r.name for r in found]}"
    return found[0]


def test_declares_the_origin_the_edge_and_one_custom_hostname_per_hostname(example):
    counts = {}
    for resource in example.resources:
        counts[resource.type] = counts.get(resource.type, 0) + 1
    assert counts == {
        "saas-domains:index:Origin": 1, "saas-domains:index:Edge": 1,
        "saas-domains:index:CustomerHostnames": 1, "saas-domains:index:OriginAuth": 1,
        SG: 1, ALB: 1, TG: 1, LISTENER: 2, LISTENER_RULE: 1, CERT: 1, CERT_VALIDATION: 1, DNS: 3,
        FALLBACK_ORIGIN: 1, WAITER: 1, ZONE_SETTING: 1, HOSTNAME: 4, PASSWORD: 1, RULESET: 1,
    }


def test_every_resource_is_parented_to_its_component(example):
    by_urn = example.by_urn()
    for resource in example.resources:
        if not resource.custom:
            assert resource.parent.split("::")[2] == "pulumi:pulumi:Stack"
            continue
        parent_type = by_urn[resource.parent].type
        expected = {HOSTNAME: "saas-domains:index:CustomerHostnames",
                    FALLBACK_ORIGIN: "saas-domains:index:Edge", ZONE_SETTING: "saas-domains:index:Edge",
                    WAITER: "saas-domains:index:Edge",
                    PASSWORD: "saas-domains:index:OriginAuth", RULESET: "saas-domains:index:OriginAuth"}
        if resource.type in expected:
            assert parent_type == expected[resource.type]
        elif resource.type == DNS:
            assert parent_type == ("saas-domains:index:Origin" if resource.name == "origin-cert-validation"
                                   else "saas-domains:index:Edge")
        else:
            assert parent_type == "saas-domains:index:Origin", resource.type


def test_security_group_admits_only_cloudflare_ranges_on_80_and_443(example):
    sg = only(example, SG)
    ingress = sg.inputs["ingress"]
    assert sorted(int(rule["fromPort"]) for rule in ingress) == [80, 443]
    for rule in ingress:
        assert rule["fromPort"] == rule["toPort"] and rule["protocol"] == "tcp"
        assert rule["cidrBlocks"] == list(CLOUDFLARE_IPV4)
        assert rule["ipv6CidrBlocks"] == list(CLOUDFLARE_IPV6)
        for cidr in rule["cidrBlocks"] + rule["ipv6CidrBlocks"]:
            assert ipaddress.ip_network(cidr).prefixlen > 0, "an ingress rule admits the whole internet"
    # Out only to the application, inside the VPC.
    assert sg.inputs["egress"] == [{
        "cidrBlocks": [FakeCloud.vpc["cidrBlock"]], "fromPort": 8080.0, "toPort": 8080.0, "protocol": "tcp",
        "description": "ALB to the application targets inside the VPC"}]
    assert sg.inputs["vpcId"] == FakeCloud.vpc["id"]


def test_alb_is_internet_facing_drops_invalid_headers_and_uses_the_security_group(example):
    alb = only(example, ALB)
    assert alb.inputs["loadBalancerType"] == "application"
    assert alb.inputs["internal"] is False
    assert alb.inputs["dropInvalidHeaderFields"] is True
    assert alb.inputs["securityGroups"] == [only(example, SG).id]
    assert alb.inputs["subnets"] == FakeCloud.subnets
    assert alb.inputs["enableDeletionProtection"] is False  # Pulumi.dev.yaml sets false


def test_deletion_protection_defaults_on(customers_file):
    rendering = run_program(customers_file(EXAMPLE), deletionProtection=None)
    assert only(rendering, ALB).inputs["enableDeletionProtection"] is True


def test_certificate_is_validated_through_an_unproxied_record_in_cloudflare(example):
    cert = only(example, CERT)
    assert cert.inputs == {"domainName": "proxy-fallback.mailito.com", "validationMethod": "DNS"}
    option = cert.state["domainValidationOptions"][0]
    record = only(example, DNS, "origin-cert-validation")
    assert record.inputs["zoneId"] == ZONE_ID
    assert record.inputs["proxied"] is False
    assert record.inputs["type"] == option["resourceRecordType"]
    assert record.inputs["name"] == option["resourceRecordName"].rstrip(".")
    assert record.inputs["content"] == option["resourceRecordValue"].rstrip(".")
    validation = only(example, CERT_VALIDATION)
    assert validation.inputs["certificateArn"] == cert.state["arn"]
    assert record.urn in validation.dependencies


def test_https_listener_uses_tls12_plus_policy_and_the_validated_certificate(example):
    https = only(example, LISTENER, "origin-https")
    assert https.inputs["port"] == 443 and https.inputs["protocol"] == "HTTPS"
    assert https.inputs["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https.inputs["certificateArn"] == only(example, CERT).state["arn"]
    assert only(example, CERT_VALIDATION).urn in https.dependencies  # served only once issued
    assert https.inputs["loadBalancerArn"] == only(example, ALB).state["arn"]


def forwarding_actions(rendering):
    """Every listener action or rule of the ALB that forwards a request to the application."""
    found = []
    for listener in rendering.of_type(LISTENER):
        found += [(listener.name, None, a) for a in listener.inputs["defaultActions"] if a["type"] == "forward"]
    for rule in rendering.of_type(LISTENER_RULE):
        found += [(rule.name, rule.inputs["conditions"], a) for a in rule.inputs["actions"] if a["type"] == "forward"]
    return found


def test_secret_header_mode_forwards_nothing_without_the_secret(example):
    https = only(example, LISTENER, "origin-https")
    assert https.inputs["defaultActions"] == [{"type": "fixed-response", "fixedResponse": {
        "statusCode": "403", "contentType": "text/plain", "messageBody": "Forbidden"}}]
    secret = only(example, PASSWORD)
    assert secret.inputs["length"] == 48 and secret.inputs["special"] is False  # no ALB wildcards (* ?)
    value = secret.state["result"]
    # The only way to the target group: a rule on the HTTPS listener requiring the secret header.
    (name, conditions, action), = forwarding_actions(example)
    assert name == "origin-authenticated"
    assert action["targetGroupArn"] == only(example, TG).state["arn"]
    assert conditions == [{"httpHeader": {"httpHeaderName": "X-Saas-Domains-Origin-Auth", "values": [value]}}]
    rule = only(example, LISTENER_RULE)
    assert rule.inputs["listenerArn"] == https.state["arn"]
    assert rule.secret_inputs == ["conditions"]  # Pulumi keeps the whole property secret in its state


def test_secret_header_is_added_by_a_zone_transform_rule_and_kept_secret(example):
    ruleset = only(example, RULESET)
    value = only(example, PASSWORD).state["result"]
    assert ruleset.inputs["zoneId"] == ZONE_ID
    assert (ruleset.inputs["kind"], ruleset.inputs["phase"]) == ("zone", "http_request_late_transform")
    (rule,) = ruleset.inputs["rules"]
    assert rule["action"] == "rewrite" and rule["enabled"] is True
    assert rule["actionParameters"] == {
        "headers": {"X-Saas-Domains-Origin-Auth": {"operation": "set", "value": value}}}
    assert rule["expression"] == ('http.host eq "proxy-fallback.mailito.com" or '
                                  'not (http.host eq "mailito.com" or ends_with(http.host, ".mailito.com"))')
    assert ruleset.secret_inputs == ["rules"]


def test_mtls_mode_verifies_a_client_certificate_of_our_own_ca(customers_file):
    rendering = run_program(customers_file(EXAMPLE), originAuth="mtls")
    https = only(rendering, LISTENER, "origin-https")
    trust_store = only(rendering, TRUST_STORE)
    assert https.inputs["mutualAuthentication"] == {"mode": "verify", "trustStoreArn": trust_store.state["arn"]}
    assert rendering.of_type(LISTENER_RULE) == [] and rendering.of_type(RULESET) == []
    ca = only(rendering, "tls:index/selfSignedCert:SelfSignedCert", "origin-auth-ca")
    assert ca.inputs["isCaCertificate"] is True
    bundle = only(rendering, "aws:s3/bucketObjectv2:BucketObjectv2")
    assert bundle.inputs["content"] == ca.state["certPem"]
    assert trust_store.inputs["caCertificatesBundleS3Key"] == bundle.inputs["key"]
    public_access = only(rendering, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(public_access[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                   "restrictPublicBuckets"))
    client = only(rendering, "tls:index/locallySignedCert:LocallySignedCert")
    assert client.inputs["caCertPem"] == ca.state["certPem"] and "client_auth" in client.inputs["allowedUses"]
    zone_cert = only(rendering, AOP_CERT)
    assert zone_cert.inputs["certificate"] == client.state["certPem"] and zone_cert.inputs["zoneId"] == ZONE_ID
    assert only(rendering, AOP_SETTINGS).inputs == {"zoneId": ZONE_ID, "enabled": True}


def test_origin_auth_can_be_turned_off_explicitly(customers_file):
    rendering = run_program(customers_file(EXAMPLE), originAuth="none")
    https = only(rendering, LISTENER, "origin-https")
    assert https.inputs["defaultActions"] == [{"type": "forward", "targetGroupArn": only(rendering, TG).state["arn"]}]
    assert "mutualAuthentication" not in https.inputs
    assert [r.type for r in rendering.resources if r.parent.endswith("::origin-auth")] == []


def test_http_listener_redirects_to_https(example):
    http = only(example, LISTENER, "origin-http")
    assert http.inputs["port"] == 80 and http.inputs["protocol"] == "HTTP"
    assert http.inputs["defaultActions"] == [{"type": "redirect", "redirect": {
        "protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]


def test_target_group_follows_the_stack_settings(example):
    tg = only(example, TG)
    assert tg.inputs["port"] == 8080 and tg.inputs["protocol"] == "HTTP"
    assert tg.inputs["targetType"] == "ip"
    assert tg.inputs["vpcId"] == FakeCloud.vpc["id"]
    assert tg.inputs["healthCheck"]["path"] == "/healthz"


def test_fallback_record_points_at_the_alb_proxied_with_full_name_and_automatic_ttl(example):
    record = only(example, DNS, "edge-fallback")
    assert record.inputs == {
        "zoneId": ZONE_ID, "name": "proxy-fallback.mailito.com", "type": "CNAME",
        "content": only(example, ALB).state["dnsName"], "proxied": True, "ttl": 1.0,
        "comment": "Custom-hostname fallback origin: the ALB (managed by saas-domains)"}


def test_customer_wildcard_points_at_the_fallback_record(example):
    record = only(example, DNS, "edge-customer-wildcard")
    assert record.inputs["name"] == "*.cname.mailito.com"
    assert record.inputs["content"] == "proxy-fallback.mailito.com"
    assert record.inputs["type"] == "CNAME"
    assert record.inputs["proxied"] is True and record.inputs["ttl"] == 1.0


def test_fallback_origin_is_the_fallback_record_and_depends_on_it_through_the_waiter(example):
    origin = only(example, FALLBACK_ORIGIN)
    assert origin.inputs == {"zoneId": ZONE_ID, "origin": "proxy-fallback.mailito.com"}
    waiter = only(example, WAITER)  # tests/components/test_fallback_origin_waiter.py covers it in full
    assert origin.dependencies == [waiter.urn]
    assert waiter.dependencies == [only(example, DNS, "edge-fallback").urn]


def test_zone_ssl_mode_is_full_and_can_be_left_alone(example, customers_file):
    assert only(example, ZONE_SETTING).inputs == {"zoneId": ZONE_ID, "settingId": "ssl", "value": "full"}
    unmanaged = run_program(customers_file(EXAMPLE), manageZoneSslMode=False)
    assert unmanaged.of_type(ZONE_SETTING) == []


def test_subdomains_come_from_the_settings(customers_file):
    rendering = run_program(customers_file(EXAMPLE), fallbackSubdomain="origin", cnameSubdomain="domains")
    assert only(rendering, DNS, "edge-fallback").inputs["name"] == "origin.mailito.com"
    assert only(rendering, DNS, "edge-customer-wildcard").inputs["name"] == "*.domains.mailito.com"
    assert only(rendering, DNS, "edge-customer-wildcard").inputs["content"] == "origin.mailito.com"
    assert only(rendering, CERT).inputs["domainName"] == "origin.mailito.com"
    assert rendering.outputs["customerHostnames"]["mail.mkdev.me"]["cname"]["target"] == "mkdev.domains.mailito.com"


def test_zone_is_looked_up_once_by_name_unless_its_id_is_configured(example, customers_file):
    lookups = [i for i in example.invokes if i.token == GET_ZONE]
    assert len(lookups) == 1 and lookups[0].args["filter"]["name"] == "mailito.com"

    pinned = run_program(customers_file(EXAMPLE), zoneId="feedfacefeedfacefeedfacefeedface")
    assert [i for i in pinned.invokes if i.token == GET_ZONE] == []
    zone_ids = {r.inputs["zoneId"] for r in pinned.resources if "zoneId" in r.inputs}
    assert zone_ids == {"feedfacefeedfacefeedfacefeedface"}


def test_configured_vpc_and_subnets_replace_the_default_vpc(customers_file):
    rendering = run_program(customers_file(EXAMPLE), vpcId="vpc-123", subnetIds=["subnet-1", "subnet-2"])
    assert only(rendering, ALB).inputs["subnets"] == ["subnet-1", "subnet-2"]
    assert only(rendering, TG).inputs["vpcId"] == "vpc-123"
    tokens = [i.token for i in rendering.invokes]
    assert "aws:ec2/getSubnets:getSubnets" not in tokens
    assert [i.args for i in rendering.invokes if i.token == "aws:ec2/getVpc:getVpc"] == [{"id": "vpc-123"}]


def test_custom_hostnames_carry_explicit_ssl_metadata_and_origin(example):
    hostnames = {r.name: r for r in example.of_type(HOSTNAME)}
    assert sorted(hostnames) == ["mail.acme-corp.com", "mail.mkdev.me", "newsletter.acme-corp.com",
                                 "post.globex.io"]
    for name, resource in hostnames.items():
        assert resource.inputs["hostname"] == name
        assert resource.inputs["zoneId"] == ZONE_ID
        ssl = resource.inputs["ssl"]
        # Set explicitly: the provider drifts on unset ssl fields.
        assert ssl["type"] == "dv" and ssl["method"] == "http" and ssl["wildcard"] is False
        assert ssl["bundleMethod"] == "ubiquitous"
        assert set(ssl["settings"]) >= {"minTlsVersion", "http2", "tls13", "earlyHints"}
    assert hostnames["mail.mkdev.me"].inputs["ssl"]["settings"]["minTlsVersion"] == "1.2"
    assert "customMetadata" not in hostnames["mail.mkdev.me"].inputs
    assert "customOriginServer" not in hostnames["mail.mkdev.me"].inputs
    acme = hostnames["newsletter.acme-corp.com"].inputs
    assert acme["ssl"]["settings"]["minTlsVersion"] == "1.3"
    assert acme["ssl"]["certificateAuthority"] == "google"
    assert acme["customMetadata"] == {"plan": "business"}
    assert hostnames["post.globex.io"].inputs["customOriginServer"] == "eu.mailito.com"


def test_wildcard_hostnames_are_declared_only_when_the_stack_allows_them(customers_file):
    path = customers_file("""\
        customers:
          - id: mkdev
            hostnames: ["*.mkdev.me"]
            ssl: {method: txt, wildcard: true}
        """)
    with pytest.raises(ProgramError, match="saas-domains:allowWildcards"):
        run_program(path)
    rendering = run_program(path, allowWildcards=True)
    wildcard = only(rendering, HOSTNAME)
    assert wildcard.name == "*.mkdev.me"
    assert wildcard.inputs["ssl"]["method"] == "txt" and wildcard.inputs["ssl"]["wildcard"] is True


def test_outputs_tell_each_customer_what_to_put_in_dns(example):
    outputs = example.outputs
    assert outputs["albDnsName"] == only(example, ALB).state["dnsName"]
    assert outputs["targetGroupArn"] == only(example, TG).state["arn"]
    assert outputs["fallbackOrigin"] == "proxy-fallback.mailito.com"
    assert outputs["zoneId"] == ZONE_ID
    assert outputs["customerHostnames"]["newsletter.acme-corp.com"] == {
        "customer": "acme",
        "cname": {"name": "newsletter.acme-corp.com", "target": "acme.cname.mailito.com"},
        "ownershipTxt": {"name": "_cf-custom-hostname.newsletter.acme-corp.com",
                         "value": "token-for-newsletter.acme-corp.com"},
        "status": "pending",
    }
    assert {h: v["customer"] for h, v in outputs["customerHostnames"].items()} == {
        "mail.mkdev.me": "mkdev", "mail.acme-corp.com": "acme", "newsletter.acme-corp.com": "acme",
        "post.globex.io": "globex"}


@pytest.mark.parametrize("broken", [
    "customers:\n  - id: mkdev\n    hostname: [mail.mkdev.me]\n",      # misspelt key
    "customers:\n  - id: mkdev\n    hostnames: [mail.mkdev.me\n",       # YAML syntax
    "customers:\n  - id: a\n    hostnames: [x.example.com]\n  - id: b\n    hostnames: [X.example.com.]\n",
    "",                                                                    # empty file
])
def test_a_broken_customers_file_declares_nothing(customers_file, broken):
    cloud = FakeCloud()
    with pytest.raises(ProgramError) as err:
        run_program(customers_file(broken), cloud=cloud)
    assert "customers.yaml" in str(err.value)
    assert cloud.created == [], "resources were declared although the customers file is broken"
    assert cloud.invokes == []


def test_the_error_names_file_line_entry_and_fix(customers_file):
    path = customers_file("customers:\n  - id: mkdev\n    hostname: [mail.mkdev.me]\n")
    with pytest.raises(ProgramError) as err:
        run_program(path)
    message = str(err.value)
    assert f"{path}:3" in message and "mkdev" in message and "'hostnames'" in message


def test_a_missing_customers_file_declares_nothing(tmp_path):
    cloud = FakeCloud()
    with pytest.raises(ProgramError, match="nowhere.yaml"):
        run_program(tmp_path / "nowhere.yaml", cloud=cloud)
    assert cloud.created == []


def test_missing_zone_setting_stops_the_program(customers_file):
    cloud = FakeCloud()
    with pytest.raises(ProgramError, match="saas-domains:zone is required"):
        run_program(customers_file(EXAMPLE), cloud=cloud, zone=None)
    assert cloud.created == []


def test_hostname_cap_comes_from_the_stack(customers_file):
    with pytest.raises(ProgramError, match="saas-domains:maxHostnames"):
        run_program(customers_file(EXAMPLE), maxHostnames=3)


def _hostname_resources(rendering):
    return {r.urn: r.inputs for r in rendering.of_type(HOSTNAME)}


def test_reordering_regrouping_and_renaming_customers_keeps_every_hostname_urn(customers_file):
    before = run_program(customers_file("""\
        customers:
          - id: mkdev
            hostnames: [mail.mkdev.me, app.mkdev.me]
          - id: acme
            hostnames: [mail.acme-corp.com]
        """, "before.yaml"))
    after = run_program(customers_file("""\
        customers:
          - id: acme-corp            # renamed customer
            hostnames: [mail.acme-corp.com]
          - id: mkdev
            hostnames: [mail.mkdev.me]
          - id: mkdev-apps           # hostname moved to a new customer entry
            hostnames: [app.mkdev.me]
        """, "after.yaml"))
    assert _hostname_resources(before) == _hostname_resources(after)  # same URNs, same inputs
    urns = sorted(_hostname_resources(after))
    assert urns[0] == ("urn:pulumi:dev::saas-domains::saas-domains:index:CustomerHostnames"
                       "$cloudflare:index/customHostname:CustomHostname::app.mkdev.me")
    # Only what the customer is told changes.
    assert after.outputs["customerHostnames"]["app.mkdev.me"]["cname"]["target"] == "mkdev-apps.cname.mailito.com"


def test_provider_lookups_do_not_grow_with_customers(customers_file):
    few = run_program(customers_file(EXAMPLE, "few.yaml"))
    many_text = "customers:\n" + "".join(
        f"  - id: c{i}\n    hostnames: [www.c{i}.example, shop.c{i}.example]\n" for i in range(150))
    many = run_program(customers_file(many_text, "many.yaml"))
    assert len(many.of_type(HOSTNAME)) == 300
    assert sorted(i.token for i in many.invokes) == sorted(i.token for i in few.invokes)
    assert len(many.invokes) == 4



class DeployedCloud(FakeCloud):
    """A stack whose last deployment exported these hostnames; records which stack it was asked for."""

    def __init__(self, hostnames):
        super().__init__({"customerHostnames": {h: {"customer": "old"} for h in hostnames}})
        self.referenced = []

    def new_resource(self, args):
        if args.typ == "pulumi:pulumi:StackReference":
            self.referenced.append(args.inputs["name"])
        return super().new_resource(args)


DEPLOYED = ["mail.mkdev.me", "mail.acme-corp.com", "newsletter.acme-corp.com", "post.globex.io",
            "a.gone.example", "b.gone.example", "c.gone.example", "d.gone.example", "e.gone.example",
            "f.gone.example"]


def test_removal_guard_refuses_a_deploy_deleting_more_than_allowed(customers_file):
    cloud = DeployedCloud(DEPLOYED)  # the example file keeps 4 of these 10: 6 removals
    with pytest.raises(ProgramError) as err:
        run_program(customers_file(EXAMPLE), cloud=cloud)
    message = str(err.value)
    assert "removal guard: this change deletes 6 custom hostnames" in message
    assert "a.gone.example" in message and "more than the 5 allowed" in message
    assert "pulumi config set saas-domains:allowRemovals 6" in message
    assert cloud.referenced == ["organization/saas-domains/dev"]  # its own last deployment
    assert cloud.created == ["pulumi:pulumi:StackReference"], "declared resources despite the guard"


def test_removal_guard_lets_a_confirmed_or_small_removal_through(customers_file):
    confirmed = run_program(customers_file(EXAMPLE), cloud=DeployedCloud(DEPLOYED), allowRemovals=6)
    assert sorted(r.name for r in confirmed.of_type(HOSTNAME)) == sorted(DEPLOYED[:4])
    five = run_program(customers_file(EXAMPLE), cloud=DeployedCloud(DEPLOYED[:9]))
    assert len(five.of_type(HOSTNAME)) == 4
    first_deploy = run_program(customers_file(EXAMPLE), cloud=FakeCloud())
    assert len(first_deploy.of_type(HOSTNAME)) == 4


def test_removal_guard_threshold_is_a_stack_setting(customers_file):
    with pytest.raises(ProgramError, match="deletes 1 custom hostname "):
        run_program(customers_file(EXAMPLE), cloud=DeployedCloud(DEPLOYED[:5]), maxRemovals=0)


def test_urns_are_the_engines_top_level_components_without_the_stack_type(example):
    urns = {r.urn for r in example.resources if not r.custom}
    assert "urn:pulumi:dev::saas-domains::saas-domains:index:Origin::origin" in urns
    assert "urn:pulumi:dev::saas-domains::saas-domains:index:CustomerHostnames::customers" in urns

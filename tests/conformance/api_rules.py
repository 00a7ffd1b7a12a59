"""The rules the providers' APIs enforce that no provider schema encodes, each with its source.

A schema says `description` is a string; EC2 refuses an apostrophe in it at `pulumi up`. Every row
here is such a rule, quoted from the API reference or the provider's validator it comes from, and
enforced by tests/components/test_conformance.py on every rendering of the program. Add a row whenever a real
deployment finds a rule the mock engine could not: that is how this table grows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from infra.components import fallback_origin_waiter
from infra.model.names import DYNAMIC_RESOURCE
from infra.offline import DeclaredResource, Rendering

# ---------------------------------------------------------------------------------------------------
# Sources, each quoted once.
EC2_SG = ("EC2 API CreateSecurityGroup GroupDescription / IpRange Description: up to 255 characters, "
          "a-z A-Z 0-9 space and ._-:/()#,@[]+=&;{}!$*; terraform-provider-aws validSecurityGroupRuleDescription")
EC2_PROTOCOL = ("EC2 API IpPermission IpProtocol: tcp, udp, icmp, icmpv6, a protocol number, or -1 for all "
                "(terraform-provider-aws also takes 'all')")
ELB_TYPES = ("ELBv2 API: CreateLoadBalancer Type application | network | gateway; CreateTargetGroup Protocol "
             "HTTP | HTTPS for an ALB; MutualAuthenticationAttributes Mode off | passthrough | verify")
ELB_NAME = ("ELBv2 API CreateLoadBalancer/CreateTargetGroup/CreateTrustStore Name: at most 32 characters, "
            "alphanumerics and hyphens, not beginning or ending with a hyphen (load balancers: not 'internal-'); "
            "Pulumi autonaming appends '-' and 7 random characters")
ELB_HEADER = ("ELBv2 API HttpHeaderConditionConfig: HttpHeaderName at most 40 characters; each value at most "
              "128 characters, where * and ? are wildcards")
ELB_PRIORITY = "ELBv2 API CreateRule Priority: 1 to 50000"
ELB_FIXED = ("ELBv2 API FixedResponseActionConfig: StatusCode ^(2|4|5)\\d\\d$, ContentType text/plain, text/css, "
             "text/html, application/javascript or application/json, MessageBody at most 1024 characters")
ELB_REDIRECT = "ELBv2 API RedirectActionConfig: StatusCode HTTP_301 or HTTP_302; Protocol HTTP, HTTPS or #{protocol}"
ELB_LISTENER = ("ELBv2 API CreateListener: Port 1-65535; Protocol HTTP or HTTPS for an ALB; HTTPS needs a "
                "certificate and an SslPolicy")
ELB_TARGET_GROUP = ("pulumi-aws TargetGroup schema: port, protocol and vpc_id are 'Required when target_type is "
                    "instance, ip or alb. Does not apply when target_type is lambda'; health_check.protocol "
                    "'Cannot be specified when the target_type is lambda'; ELBv2 API CreateTargetGroup TargetType "
                    "instance | ip | lambda | alb")
ELB_HEALTH = ("ELBv2 API CreateTargetGroup: HealthCheckPath 1-1024 characters starting with /; Matcher HttpCode "
              "200-499 for an ALB")
ACM_DOMAIN = ("ACM API RequestCertificate DomainName: 'The first domain name you enter cannot exceed 64 octets, "
              "including periods'; ValidationMethod DNS or EMAIL")
S3_BUCKET = ("S3 bucket naming rules: 3-63 characters, lowercase letters, digits, dots and hyphens; Pulumi "
             "autonaming appends '-' and 7 random characters")
X509_CN = "RFC 5280 appendix A: ub-common-name INTEGER ::= 64"
CF_TTL = ("Cloudflare API DNS record ttl (OpenAPI dns-records_ttl): 1 means automatic, else 60-86400 (30 on "
          "Enterprise); proxied records always have automatic TTL")
CF_COMMENT = "Cloudflare DNS record attributes: comments hold at most 100 characters on Free and Pro zones"
CF_NAME = ("Cloudflare API DNS records: name is the full record name inside the zone, at most 255 characters "
           "(a bare label comes back as the FQDN and shows a diff: pulumi-cloudflare v6 notes)")
CF_HOSTNAME = ("Cloudflare API custom hostnames (OpenAPI tls-certificates-and-hostnames_hostname): at most "
               "255 characters")
CF_DCV = ("Cloudflare SSL docs, DigiCert offboarding for custom hostnames: 'CNAME and Email DCV will be deprecated. "
          "Customers will be required to use HTTP or TXT DCV'; wildcard hostnames need TXT DCV")
CF_CUSTOM_ORIGIN = ("Cloudflare for SaaS custom origin server: 'a valid hostname that has been added to your DNS "
                    "zone as an A, AAAA, or CNAME record' (OpenAPI custom_origin_server), proxied; Enterprise only")
CF_FALLBACK = ("Cloudflare API fallback origin: 'Origin should be a proxied A/AAAA/CNAME dns record' of the zone "
               "(OpenAPI tls-certificates-and-hostnames_errors)")
CF_ZONE_SSL = "Cloudflare API zone setting ssl: value off, flexible, full or strict"
CF_EXPRESSION = "Cloudflare Rules language: an expression holds at most 4,096 characters"
CF_HEADER_NAME = ("Cloudflare Transform Rules, request header modification: header names consist of "
                  "alphanumerics, - and _ ; operation set, add or remove")
CF_ACCOUNT_ID = ("Cloudflare API account identifier (OpenAPI account_id: maxLength 32), the 32 hexadecimal characters "
                 "the dashboard shows")
CF_WEBHOOK_URL = ("Cloudflare Notifications, configure webhooks: 'Cloudflare will send your secret in the "
                  "cf-webhook-auth header of every request made'; generic webhooks go 'only ... to a publicly "
                  "resolvable IP address on "
                  "port 80 or 443'. Cloudflare would take plain http; https is this project's rule so that the secret "
                  "never travels in clear text (README Alerts; the policy pack's alert-webhook-https)")
CF_POLICY_MECHANISMS = ("Cloudflare API create a notification policy (POST /accounts/{account_id}/alerting/v3/"
                        "policies): mechanisms is required, 'List of IDs that will be used when dispatching a "
                        "notification. IDs for email type will be the email address'; webhook and PagerDuty ids are "
                        "destination UUIDs")
# Google Cloud (pulumi-gcp: the schema descriptions quoted are the locked SDK's own).
GCP_NAME = ("Compute Engine API resource names (pulumi-gcp e.g. SSLPolicy.name): 'must be 1-63 characters long, and "
            "comply with RFC1035 ... match the regular expression [a-z]([-a-z0-9]*[a-z0-9])?'; Pulumi autonaming "
            "appends '-' and 7 random characters to the logical name")
GCP_RESOURCE_ID = ("Google API resource IDs (AIP-122) for Certificate Manager and Network Security resources: "
                   "1-63 characters, lowercase letters, digits and hyphens, starting with a letter (a conservative "
                   "reading: DnsAuthorization's own description allows 1-64 of [a-zA-Z][a-zA-Z0-9_-]*); Pulumi "
                   "autonaming appends '-' and 7 random characters")
ARMOR_LIMITS = ("pulumi-gcp SecurityPolicy schema: 'Maximum number of srcIpRanges allowed is 10'; 'There must "
                "always be a default rule (rule with priority 2147483647 and match \"*\")'; rule description 'Max "
                "size is 64', policy description 'Max size is 2048'; config 'must be specified if versionedExpr is "
                "specified and cannot be specified if versionedExpr is not'; Compute API SecurityPolicyRule.priority "
                "'between 0 and 2147483647', unique in a policy; action allow, deny(403|404|502), redirect, "
                "rate_based_ban, throttle")
ARMOR_CEL = ("Cloud Armor custom rules language reference: request.headers is a map whose keys are all lowercase; "
                 "an expression holds at most 5 subexpressions (atoms joined by && or ||)")
GCP_SSL_RULES = ("pulumi-gcp SSLPolicy schema: minTlsVersion 'When set to TLS_1_3, the profile field must be set to "
                  "RESTRICTED'; profile 'If set to FIPS_202205, minTlsVersion must also be set to TLS_1_2'; "
                  "customFeatures 'must be present when using the CUSTOM profile ... must not be present when using "
                  "any other profile'")
GCP_FORWARDING = ("Cloud Load Balancing forwarding rule concepts, port specifications: a global external Application "
                  "Load Balancer's forwarding rule (EXTERNAL_MANAGED, a target HTTP(S) proxy) takes exactly one port, "
                  "1-65535, over TCP; pulumi-gcp GlobalForwardingRule.portRange '@pattern: \\d+(?:-\\d+)?' and 'two or "
                  "more forwarding rules cannot use the same [IPAddress, IPProtocol] pair, and cannot have overlapping "
                  "portRanges'")
GCP_BACKEND = ("pulumi-gcp BackendService schema: 'A backend service created for one type of load balancing cannot be "
               "used with the other' (its loadBalancingScheme is its forwarding rules'); serverless NEG overview: "
               "backend services with serverless NEG backends cannot have health checks")
GCP_NEG = ("pulumi-gcp RegionNetworkEndpointGroup schema: 'Only one of cloud_run, app_engine, cloud_function or "
           "serverless_deployment may be set' (SERVERLESS); cloudRun.service 'must be 1-63 characters long, and comply "
           "with RFC1035'")
GCP_URL_MAP = ("pulumi-gcp URLMap schema: 'If defaultUrlRedirect is specified, defaultService or "
               "defaultRouteAction must not be set'; httpsRedirect 'must only be set for UrlMaps used in "
               "TargetHttpProxys. Setting this true for TargetHttpsProxy is not permitted'; redirectResponseCode "
               "MOVED_PERMANENTLY_DEFAULT, FOUND, SEE_OTHER, TEMPORARY_REDIRECT or PERMANENT_REDIRECT")
GCP_PROXY_CERT = ("pulumi-gcp TargetHttpsProxy schema: certificateMap 'Accepted format is //certificatemanager."
                   "googleapis.com/projects/{project}/locations/{location}/certificateMaps/{resourceName}'; a proxy "
                   "serves sslCertificates, certificateManagerCertificates or a certificateMap")
GCP_CERT_MAP = ("Certificate Manager API CertificateMapEntry: exactly one of hostname or matcher (union field "
                "'match'); Matcher enum PRIMARY ('served when no other entry matches the SNI'); pulumi-gcp: 'up to "
                "fifteen certificates in each Certificate Map Entry'")
GCP_DNS_AUTH = ("pulumi-gcp DnsAuthorization.domain: 'A DnsAuthorization resource covers a single domain and its "
                "wildcard'; Certificate.managed.dnsAuthorizations: 'Either issuanceConfig or dnsAuthorizations should "
                "be specified, but not both'; Certificate Manager docs: the authorization's CNAME must be resolvable "
                "by Google (in Cloudflare: DNS only, not proxied, which would answer with Cloudflare's addresses)")
GCP_MTLS = ("pulumi-gcp ServerTlsPolicy schema: allowOpen 'must be set to false for external HTTPS load balancer "
            "policies'; mtlsPolicy 'required if the policy is used with external HTTPS load balancers'; "
            "clientValidationMode 'Required if the policy is to be used with the external HTTPS load balancing'; "
            "clientValidationCas 'For external HTTPS load balancers it must be empty'; a global target proxy takes "
            "a global ServerTlsPolicy, whose trust config is global too (Certificate Manager mTLS docs)")

EC2_DESCRIPTION = re.compile(r"^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*$")
ELB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$")
AUTONAME_SUFFIX = 8  # "-" + 7 random characters


@dataclass(frozen=True)
class Context:
    """What a rule needs to know about the stack besides the resource itself."""

    zone: str

    @classmethod
    def of(cls, rendering: Rendering) -> Context:
        return cls(zone=rendering.config.get("saas-domains:zone", "").lower().rstrip("."))

    def in_zone(self, name: str) -> bool:
        return name == self.zone or name.endswith("." + self.zone)


Check = Callable[[Any, Context], str | None]


@dataclass(frozen=True)
class ResourceRule:
    resource_type: str  # a type token, fnmatch patterns allowed
    path: str  # "a.b[*].c", "$name" (the logical name) or "$" (all inputs)
    rule: str  # what the API demands, in a few words
    check: Check  # None when the value complies, else the problem
    source: str


@dataclass(frozen=True)
class StackRule:
    rule: str
    check: Callable[[Rendering, Context], Iterable[tuple[str, str]]]
    source: str


# ---------------------------------------------------------------------------------------------------
# Small checks


def ec2_description(value: Any, _: Context) -> str | None:
    if len(value) > 255:
        return f"{len(value)} characters, EC2 allows 255"
    bad = sorted({c for c in value if not EC2_DESCRIPTION.match(c)})
    return f"EC2 refuses the character(s) {' '.join(map(repr, bad))}" if bad else None


def autonamed(max_length: int, pattern: re.Pattern, what: str, *, lowercase: bool = False) -> Check:
    """The name Pulumi will generate from the logical name must fit the API's name rule."""

    def check(name: Any, _: Context) -> str | None:
        generated = len(name) + AUTONAME_SUFFIX
        if generated > max_length:
            return f"{what} name {name!r} plus Pulumi's suffix is {generated} characters, the API allows {max_length}"
        if not pattern.match(name) or (lowercase and name != name.lower()):
            return f"{what} name {name!r} has characters the API refuses"
        if name.startswith("internal-"):
            return f"{what} name must not begin with 'internal-'"
        return None

    return check


def explicit_name(max_length: int, pattern: re.Pattern, what: str) -> Check:
    def check(name: Any, _: Context) -> str | None:
        if len(name) > max_length or not pattern.match(name):
            return f"{what} name {name!r} breaks the API's name rule"
        return None

    return check


def at_most(limit: int, what: str = "value") -> Check:
    def check(value: Any, _: Context) -> str | None:
        return f"{what} is {len(value)} characters, the API allows {limit}" if len(value) > limit else None

    return check


def one_of(*allowed: Any) -> Check:
    def check(value: Any, _: Context) -> str | None:
        return None if value in allowed else f"{value!r} is not one of {', '.join(map(repr, allowed))}"

    return check


def in_range(low: int, high: int) -> Check:
    def check(value: Any, _: Context) -> str | None:
        return None if low <= value <= high else f"{value!r} is outside {low}-{high}"

    return check


def matches(pattern: str, what: str) -> Check:
    compiled = re.compile(pattern)

    def check(value: Any, _: Context) -> str | None:
        return None if compiled.match(str(value)) else f"{value!r} is not {what}"

    return check


def no_alb_wildcards(value: Any, _: Context) -> str | None:
    if len(value) > 128:
        return f"header value is {len(value)} characters, the ALB allows 128"
    return "the ALB reads * and ? in a header value as wildcards" if ("*" in value or "?" in value) else None


def dns_ttl(inputs: Any, _: Context) -> str | None:
    ttl = inputs.get("ttl")
    if ttl is None:
        return None
    if inputs.get("proxied") and ttl != 1:
        return f"a proxied record must use ttl 1 (automatic), got {ttl!r}"
    if ttl != 1 and not 60 <= ttl <= 86400:
        return f"ttl {ttl!r} must be 1 (automatic) or 60-86400"
    return None


def dns_name_in_zone(name: Any, context: Context) -> str | None:
    if len(name) > 255:
        return f"record name is {len(name)} characters, the API allows 255"
    bare = name.lstrip("*.") if name.startswith("*.") else name
    if not context.in_zone(bare):
        return f"record name {name!r} is not a full name inside the zone {context.zone!r}"
    return None


def target_group_shape(inputs: Any, _: Context) -> str | None:
    target_type = inputs.get("targetType", "instance")
    if target_type not in ("instance", "ip", "lambda", "alb"):
        return f"targetType {target_type!r} is not instance, ip, lambda or alb"
    present = [key for key in ("port", "protocol", "vpcId") if inputs.get(key) is not None]
    health_protocol = (inputs.get("healthCheck") or {}).get("protocol")
    if target_type == "lambda":
        sent = present + (["healthCheck.protocol"] if health_protocol is not None else [])
        return f"a lambda target group must not send {', '.join(sent)}" if sent else None
    missing = [key for key in ("port", "protocol", "vpcId") if key not in present]
    return f"a {target_type} target group needs {', '.join(missing)}" if missing else None


def https_listener(inputs: Any, _: Context) -> str | None:
    protocol = inputs.get("protocol")
    if protocol not in ("HTTP", "HTTPS"):
        return f"an ALB listener's protocol is HTTP or HTTPS, got {protocol!r}"
    if protocol == "HTTPS" and not (inputs.get("certificateArn") and inputs.get("sslPolicy")):
        return "an HTTPS listener needs certificateArn and sslPolicy"
    return None


def ssl_method(ssl: Any, _: Context) -> str | None:
    method = ssl.get("method")
    if method not in ("http", "txt"):
        return f"ssl.method {method!r}: only http and txt DCV remain"
    if ssl.get("wildcard") and method != "txt":
        return "a wildcard certificate needs ssl.method txt"
    return None


def custom_origin(value: Any, context: Context) -> str | None:
    if value == context.zone:
        return f"custom origin {value!r} is the zone apex; it must be a record inside the zone"
    if not context.in_zone(value):
        return f"custom origin {value!r} is outside the zone {context.zone!r}"
    return None


def https_webhook_url(url: Any, _: Context) -> str | None:
    """The value is a secret: the problem never shows it."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "the webhook URL is not a URL (the value is secret and not shown)"
    if parts.scheme.lower() != "https" or not host:
        return "the webhook URL is not https:// with a host (the value is secret and not shown)"
    return None


def notification_mechanisms(mechanisms: Any, _: Context) -> str | None:
    destinations = [entry for kind in ("emails", "webhooks", "pagerduties") for entry in mechanisms.get(kind) or []]
    if not destinations:
        return "no destination (emails, webhooks or pagerduties): the policy would notify nobody"
    if any(not isinstance(entry, dict) or not entry.get("id") for entry in destinations):
        return "a destination without an id"
    return None


def zone_ssl_value(inputs: Any, _: Context) -> str | None:
    if inputs.get("settingId") == "ssl" and inputs.get("value") not in ("off", "flexible", "full", "strict"):
        return f"ssl value {inputs.get('value')!r} is not off, flexible, full or strict"
    return None


def header_names(headers: Any, _: Context) -> str | None:
    for name, header in headers.items():
        if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
            return f"header name {name!r} has characters Cloudflare refuses"
        if (header or {}).get("operation") not in ("set", "add", "remove"):
            return f"header {name!r}: operation {header.get('operation')!r} is not set, add or remove"
    return None


# ---------------------------------------------------------------------------------------------------
# Google Cloud checks

GCP_NAME_PATTERN = re.compile(r"^[a-z](?:[-a-z0-9]*[a-z0-9])?$")  # RFC 1035 label, lower case
ARMOR_DEFAULT_PRIORITY = 2147483647
ARMOR_ACTION = re.compile(r"^(allow|deny\((403|404|502)\)|redirect|rate_based_ban|throttle)$")
CEL_HEADER_KEY = re.compile(r"request\.headers\[\s*['\"]([^'\"]*)['\"]\s*\]")
CERTIFICATE_MAP_URI = re.compile(
    r"^//certificatemanager\.googleapis\.com/projects/[^/]+/locations/[^/]+/certificateMaps/[^/]+$")
SERVERLESS_TARGETS = ("cloudRun", "appEngine", "cloudFunction", "serverlessDeployment")


def at_most_items(limit: int, what: str) -> Check:
    def check(value: Any, _: Context) -> str | None:
        return f"{len(value)} {what}, the API allows {limit}" if len(value) > limit else None

    return check


def armor_match(match: Any, _: Context) -> str | None:
    versioned, config, expression = match.get("versionedExpr"), match.get("config"), match.get("expr")
    if (versioned is None) != (config is None):
        return "versionedExpr and config go together: each needs the other"
    if (versioned is None) == (expression is None):
        return "a match needs exactly one of versionedExpr (with config) or expr"
    return None


def armor_rules(rules: Any, _: Context) -> str | None:
    """A policy with rules needs the default rule (priority 2147483647, match "*"); priorities are unique."""
    priorities = [rule.get("priority") for rule in rules]
    repeated = sorted({p for p in priorities if priorities.count(p) > 1})
    if repeated:
        return f"priorities {repeated} are used by more than one rule"
    defaults = [rule for rule in rules if rule.get("priority") == ARMOR_DEFAULT_PRIORITY]
    if not defaults:
        return f"no default rule (priority {ARMOR_DEFAULT_PRIORITY}, match \"*\")"
    ranges = ((defaults[0].get("match") or {}).get("config") or {}).get("srcIpRanges")
    if ranges != ["*"]:
        return f"the default rule must match \"*\" (srcIpRanges [\"*\"]), got {ranges!r}"
    return None


def cel_expression(expression: Any, _: Context) -> str | None:
    keys = [key for key in CEL_HEADER_KEY.findall(expression) if key != key.lower()]
    if keys:
        return f"request.headers keys are lower case in Cloud Armor: {', '.join(map(repr, keys))} never matches"
    atoms = len(re.split(r"&&|\|\|", expression))
    return f"{atoms} subexpressions, Cloud Armor allows 5" if atoms > 5 else None


def ssl_policy_shape(inputs: Any, _: Context) -> str | None:
    version, profile, features = inputs.get("minTlsVersion"), inputs.get("profile"), inputs.get("customFeatures")
    if version == "TLS_1_3" and profile != "RESTRICTED":
        return f"minTlsVersion TLS_1_3 needs profile RESTRICTED, got {profile!r}"
    if profile == "FIPS_202205" and version != "TLS_1_2":
        return f"profile FIPS_202205 needs minTlsVersion TLS_1_2, got {version!r}"
    if (profile == "CUSTOM") != bool(features):
        return "customFeatures go with profile CUSTOM, and only with it"
    return None


def proxy_forwarding_rule(inputs: Any, _: Context) -> str | None:
    target = str(inputs.get("target") or "")
    if inputs.get("loadBalancingScheme") != "EXTERNAL_MANAGED" and "Proxies/" not in target:
        return None
    port_range = str(inputs.get("portRange") or "")
    match = re.fullmatch(r"(\d+)(?:-(\d+))?", port_range)
    if not match or (match.group(2) and match.group(2) != match.group(1)) or not 1 <= int(match.group(1)) <= 65535:
        return f"portRange {port_range or None!r}: an Application Load Balancer's forwarding rule takes one port"
    if inputs.get("ipProtocol") not in (None, "TCP"):
        return f"ipProtocol {inputs.get('ipProtocol')!r}: an Application Load Balancer takes TCP"
    return None


def serverless_neg(inputs: Any, _: Context) -> str | None:
    if inputs.get("networkEndpointType", "SERVERLESS") != "SERVERLESS":
        return None
    targets = [key for key in SERVERLESS_TARGETS if inputs.get(key) is not None]
    if len(targets) != 1:
        return f"a serverless NEG names exactly one of {', '.join(SERVERLESS_TARGETS)}, got {targets or 'none'}"
    service = (inputs.get("cloudRun") or {}).get("service")
    if service is not None and not (len(service) <= 63 and GCP_NAME_PATTERN.match(service)):
        return f"Cloud Run service name {service!r} is not an RFC 1035 name of at most 63 characters"
    return None


def url_map_shape(inputs: Any, _: Context) -> str | None:
    if inputs.get("defaultUrlRedirect") is not None:
        clash = [key for key in ("defaultService", "defaultRouteAction") if inputs.get(key) is not None]
        if clash:
            return f"defaultUrlRedirect excludes {', '.join(clash)}"
    return None


def https_proxy_shape(inputs: Any, _: Context) -> str | None:
    if not any(inputs.get(key) for key in ("certificateMap", "sslCertificates", "certificateManagerCertificates")):
        return "an HTTPS proxy needs a certificate: certificateMap, sslCertificates or certificateManagerCertificates"
    certificate_map = inputs.get("certificateMap")
    if certificate_map is not None and not CERTIFICATE_MAP_URI.match(certificate_map):
        return (f"certificateMap {certificate_map!r} is not //certificatemanager.googleapis.com/projects/.../"
                "locations/.../certificateMaps/...")
    return None


def map_entry_shape(inputs: Any, _: Context) -> str | None:
    if (inputs.get("hostname") is None) == (inputs.get("matcher") is None):
        return "a certificate map entry has exactly one of hostname or matcher"
    return None


def managed_certificate(managed: Any, _: Context) -> str | None:
    if managed.get("dnsAuthorizations") and managed.get("issuanceConfig"):
        return "dnsAuthorizations and issuanceConfig exclude each other"
    return None


def external_server_tls_policy(inputs: Any, _: Context) -> str | None:
    mtls = inputs.get("mtlsPolicy")
    if inputs.get("allowOpen"):
        return "allowOpen must be false for an external HTTPS load balancer"
    if not mtls or not mtls.get("clientValidationMode"):
        return "an external HTTPS load balancer's policy needs mtlsPolicy.clientValidationMode"
    if mtls.get("clientValidationCas"):
        return "mtlsPolicy.clientValidationCas must be empty for an external HTTPS load balancer (use a trust config)"
    if inputs.get("serverCertificate") is not None:
        return "serverCertificate is for Traffic Director, not an external HTTPS load balancer"
    return None


def global_location(value: Any, _: Context) -> str | None:
    return None if value == "global" else f"location {value!r}: the load balancer is global, so this must be global"


# ---------------------------------------------------------------------------------------------------
# The table

SG = "aws:ec2/securityGroup:SecurityGroup"
LB = "aws:lb/loadBalancer:LoadBalancer"
TG = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
TRUST_STORE = "aws:lb/trustStore:TrustStore"
DNS = "cloudflare:index/dnsRecord:DnsRecord"
HOSTNAME = "cloudflare:index/customHostname:CustomHostname"
FALLBACK = "cloudflare:index/customHostnameFallbackOrigin:CustomHostnameFallbackOrigin"
NOTIFICATION_POLICY = "cloudflare:index/notificationPolicy:NotificationPolicy"
NOTIFICATION_WEBHOOK = "cloudflare:index/notificationPolicyWebhooks:NotificationPolicyWebhooks"

RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule(SG, "description", "EC2 description character set and length", ec2_description, EC2_SG),
    ResourceRule(SG, "ingress[*].description", "EC2 rule description character set and length",
                 ec2_description, EC2_SG),
    ResourceRule(SG, "egress[*].description", "EC2 rule description character set and length",
                 ec2_description, EC2_SG),
    ResourceRule(SG, "ingress[*].fromPort", "port range", in_range(0, 65535), EC2_SG),
    ResourceRule(SG, "egress[*].fromPort", "port range", in_range(0, 65535), EC2_SG),
    ResourceRule(SG, "*gress[*].protocol", "rule protocol", matches(r"^(tcp|udp|icmp|icmpv6|-1|\d{1,3})$",
                                                                  "tcp, udp, icmp, icmpv6, -1 or a protocol number"),
                 EC2_PROTOCOL),
    ResourceRule(LB, "loadBalancerType", "load balancer type", one_of("application", "network", "gateway"),
                 ELB_TYPES),
    ResourceRule(TG, "protocol", "ALB target group protocol", one_of("HTTP", "HTTPS"), ELB_TYPES),
    ResourceRule(LISTENER, "mutualAuthentication.mode", "mutual TLS mode", one_of("off", "passthrough", "verify"),
                 ELB_TYPES),
    ResourceRule(LB, "$name", "ALB name length and characters",
                 autonamed(32, ELB_NAME_PATTERN, "load balancer"), ELB_NAME),
    ResourceRule(LB, "name", "ALB name length and characters", explicit_name(32, ELB_NAME_PATTERN, "load balancer"),
                 ELB_NAME),
    ResourceRule(TG, "$name", "target group name length and characters",
                 autonamed(32, ELB_NAME_PATTERN, "target group"), ELB_NAME),
    ResourceRule(TG, "$", "target type and the fields it needs or forbids", target_group_shape, ELB_TARGET_GROUP),
    ResourceRule(TG, "port", "port range", in_range(1, 65535), ELB_TARGET_GROUP),
    ResourceRule(TG, "healthCheck.path", "health check path", matches(r"^/.{0,1023}$", "a path of 1-1024 characters"),
                 ELB_HEALTH),
    ResourceRule(TG, "healthCheck.matcher", "ALB matcher codes",
                 matches(r"^(?:[2-4]\d\d(?:-[2-4]\d\d)?)(?:,[2-4]\d\d(?:-[2-4]\d\d)?)*$", "200-499 codes"), ELB_HEALTH),
    ResourceRule(TRUST_STORE, "$name", "trust store name length and characters",
                 autonamed(32, ELB_NAME_PATTERN, "trust store"), ELB_NAME),
    ResourceRule(LISTENER, "$", "listener protocol and TLS fields", https_listener, ELB_LISTENER),
    ResourceRule(LISTENER, "port", "port range", in_range(1, 65535), ELB_LISTENER),
    ResourceRule("aws:lb/listener*", "*Actions[*].fixedResponse.statusCode", "fixed response status",
                 matches(r"^[245]\d\d$", "a 2XX, 4XX or 5XX code"), ELB_FIXED),
    ResourceRule("aws:lb/listener*", "*Actions[*].fixedResponse.contentType", "fixed response content type",
                 one_of("text/plain", "text/css", "text/html", "application/javascript", "application/json"),
                 ELB_FIXED),
    ResourceRule("aws:lb/listener*", "*Actions[*].fixedResponse.messageBody", "fixed response body length",
                 at_most(1024, "message body"), ELB_FIXED),
    ResourceRule("aws:lb/listener*", "*Actions[*].redirect.statusCode", "redirect status",
                 one_of("HTTP_301", "HTTP_302"), ELB_REDIRECT),
    ResourceRule("aws:lb/listener*", "*Actions[*].redirect.protocol", "redirect protocol",
                 one_of("HTTP", "HTTPS", "#{protocol}"), ELB_REDIRECT),
    ResourceRule(RULE, "priority", "rule priority", in_range(1, 50000), ELB_PRIORITY),
    ResourceRule(RULE, "conditions[*].httpHeader.httpHeaderName", "header name length", at_most(40, "header name"),
                 ELB_HEADER),
    ResourceRule(RULE, "conditions[*].httpHeader.values[*]", "header value length and wildcards", no_alb_wildcards,
                 ELB_HEADER),
    ResourceRule("aws:acm/certificate:Certificate", "domainName", "first domain name length",
                 at_most(64, "domain name"), ACM_DOMAIN),
    ResourceRule("aws:acm/certificate:Certificate", "validationMethod", "validation method", one_of("DNS", "EMAIL"),
                 ACM_DOMAIN),
    ResourceRule("aws:s3/bucket:Bucket", "$name", "bucket name",
                 autonamed(63, re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$"), "bucket", lowercase=True), S3_BUCKET),
    ResourceRule("tls:index/*", "subject.commonName", "X.509 common name length", at_most(64, "common name"),
                 X509_CN),
    ResourceRule(DNS, "$", "TTL: automatic or 60-86400, automatic when proxied", dns_ttl, CF_TTL),
    ResourceRule(DNS, "comment", "comment length", at_most(100, "comment"), CF_COMMENT),
    ResourceRule(DNS, "name", "full record name inside the zone", dns_name_in_zone, CF_NAME),
    ResourceRule(HOSTNAME, "hostname", "hostname length", at_most(255, "hostname"), CF_HOSTNAME),
    ResourceRule(HOSTNAME, "ssl", "DCV method: http or txt, txt for wildcards", ssl_method, CF_DCV),
    ResourceRule(HOSTNAME, "customOriginServer", "custom origin inside the zone, not its apex", custom_origin,
                 CF_CUSTOM_ORIGIN),
    ResourceRule(FALLBACK, "origin", "fallback origin length", at_most(255, "origin"), CF_FALLBACK),
    ResourceRule("cloudflare:index/zoneSetting:ZoneSetting", "$", "ssl mode value", zone_ssl_value, CF_ZONE_SSL),
    ResourceRule("cloudflare:index/ruleset:Ruleset", "rules[*].expression", "expression length",
                 at_most(4096, "expression"), CF_EXPRESSION),
    ResourceRule("cloudflare:index/ruleset:Ruleset", "rules[*].actionParameters.headers", "header names and operations",
                 header_names, CF_HEADER_NAME),
    *(ResourceRule(resource_type, "accountId", "a Cloudflare account id",
                   matches(r"^[0-9a-f]{32}$", "32 hexadecimal characters"), CF_ACCOUNT_ID)
      for resource_type in (NOTIFICATION_POLICY, NOTIFICATION_WEBHOOK)),
    ResourceRule(NOTIFICATION_WEBHOOK, "url", "an https URL with a host", https_webhook_url, CF_WEBHOOK_URL),
    ResourceRule(NOTIFICATION_POLICY, "mechanisms", "at least one destination, each with an id",
                 notification_mechanisms, CF_POLICY_MECHANISMS),
    ResourceRule(NOTIFICATION_POLICY, "mechanisms.emails[*].id", "an e-mail address",
                 matches(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "an e-mail address"), CF_POLICY_MECHANISMS),
)

GCP_ADDRESS = "gcp:compute/globalAddress:GlobalAddress"
GCP_NEG_TYPE = "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup"
GCP_ARMOR = "gcp:compute/securityPolicy:SecurityPolicy"
GCP_ARMOR_RULE = "gcp:compute/securityPolicyRule:SecurityPolicyRule"
GCP_BACKEND_SERVICE = "gcp:compute/backendService:BackendService"
GCP_URL_MAP_TYPE = "gcp:compute/uRLMap:URLMap"
GCP_SSL_POLICY_TYPE = "gcp:compute/sSLPolicy:SSLPolicy"
GCP_HTTPS_PROXY_TYPE = "gcp:compute/targetHttpsProxy:TargetHttpsProxy"
GCP_HTTP_PROXY = "gcp:compute/targetHttpProxy:TargetHttpProxy"
GCP_FORWARDING_RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule"
GCP_DNS_AUTHORIZATION = "gcp:certificatemanager/dnsAuthorization:DnsAuthorization"
GCP_CERTIFICATE = "gcp:certificatemanager/certificate:Certificate"
GCP_CERTIFICATE_MAP = "gcp:certificatemanager/certificateMap:CertificateMap"
GCP_MAP_ENTRY = "gcp:certificatemanager/certificateMapEntry:CertificateMapEntry"
GCP_TRUST_CONFIG = "gcp:certificatemanager/trustConfig:TrustConfig"
GCP_SERVER_TLS_POLICY = "gcp:networksecurity/serverTlsPolicy:ServerTlsPolicy"
# Shorter names the tests use.
GCP_SSL_POLICY = GCP_SSL_POLICY_TYPE
GCP_HTTPS_PROXY = GCP_HTTPS_PROXY_TYPE

GCP_RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule("gcp:compute/*", "$name", "Compute Engine name: RFC 1035, lower case, at most 63 with the suffix",
                 autonamed(63, GCP_NAME_PATTERN, "Compute Engine", lowercase=True), GCP_NAME),
    ResourceRule("gcp:compute/*", "name", "explicit Compute Engine name",
                 explicit_name(63, GCP_NAME_PATTERN, "Compute Engine"), GCP_NAME),
    ResourceRule("gcp:certificatemanager/*", "$name", "Certificate Manager resource id",
                 autonamed(63, GCP_NAME_PATTERN, "Certificate Manager", lowercase=True), GCP_RESOURCE_ID),
    ResourceRule("gcp:networksecurity/*", "$name", "Network Security resource id",
                 autonamed(63, GCP_NAME_PATTERN, "Network Security", lowercase=True), GCP_RESOURCE_ID),
    ResourceRule(GCP_ARMOR, "description", "policy description length", at_most(2048, "description"), ARMOR_LIMITS),
    ResourceRule(GCP_ARMOR, "rules", "a default rule matching \"*\"; unique priorities", armor_rules, ARMOR_LIMITS),
    ResourceRule(GCP_ARMOR, "rules[*].description", "rule description length", at_most(64, "rule description"),
                 ARMOR_LIMITS),
    # The same rules hold for a policy's inline rules and for separate SecurityPolicyRule resources.
    *(ResourceRule(resource_type, prefix + path, rule, check, source)
      for resource_type, prefix in ((GCP_ARMOR, "rules[*]."), (GCP_ARMOR_RULE, ""))
      for path, rule, check, source in (
          ("priority", "rule priority", in_range(0, ARMOR_DEFAULT_PRIORITY), ARMOR_LIMITS),
          ("action", "rule action",
           matches(ARMOR_ACTION.pattern, "allow, deny(403|404|502), redirect, rate_based_ban or throttle"),
           ARMOR_LIMITS),
          ("match", "versionedExpr with config, or expr", armor_match, ARMOR_LIMITS),
          ("match.config.srcIpRanges", "at most 10 ranges per rule", at_most_items(10, "source ranges"),
           ARMOR_LIMITS),
          ("match.expr.expression", "lower-case header keys, at most 5 subexpressions", cel_expression, ARMOR_CEL),
      )),
    ResourceRule(GCP_SSL_POLICY_TYPE, "$", "TLS 1.3 with RESTRICTED, FIPS with TLS 1.2, customFeatures with CUSTOM",
                 ssl_policy_shape, GCP_SSL_RULES),
    ResourceRule(GCP_FORWARDING_RULE, "$", "one TCP port for an Application Load Balancer", proxy_forwarding_rule,
                 GCP_FORWARDING),
    ResourceRule(GCP_NEG_TYPE, "$", "one serverless target; Cloud Run service name", serverless_neg, GCP_NEG),
    ResourceRule(GCP_URL_MAP_TYPE, "$", "a redirect excludes a default service or route action", url_map_shape,
                 GCP_URL_MAP),
    ResourceRule(GCP_URL_MAP_TYPE, "defaultUrlRedirect.redirectResponseCode", "redirect status",
                 one_of("MOVED_PERMANENTLY_DEFAULT", "FOUND", "SEE_OTHER", "TEMPORARY_REDIRECT", "PERMANENT_REDIRECT"),
                 GCP_URL_MAP),
    ResourceRule(GCP_HTTPS_PROXY_TYPE, "$", "a certificate; the certificate map's full URI", https_proxy_shape,
                 GCP_PROXY_CERT),
    ResourceRule(GCP_MAP_ENTRY, "$", "hostname or matcher", map_entry_shape, GCP_CERT_MAP),
    ResourceRule(GCP_MAP_ENTRY, "matcher", "matcher value", one_of("PRIMARY"), GCP_CERT_MAP),
    ResourceRule(GCP_MAP_ENTRY, "certificates", "at most 15 certificates", at_most_items(15, "certificates"),
                 GCP_CERT_MAP),
    ResourceRule(GCP_CERTIFICATE, "managed", "DNS authorizations or an issuance config", managed_certificate,
                 GCP_DNS_AUTH),
    ResourceRule(GCP_SERVER_TLS_POLICY, "$", "what an external HTTPS load balancer accepts",
                 external_server_tls_policy, GCP_MTLS),
    ResourceRule(GCP_SERVER_TLS_POLICY, "location", "global, like the proxy", global_location, GCP_MTLS),
    ResourceRule(GCP_TRUST_CONFIG, "location", "global, like the proxy", global_location, GCP_MTLS),
)


def _refers_to(reference: Any, resource: DeclaredResource) -> bool:
    """A reference (an id, a self link, a name) that names `resource` once deployed."""
    if not isinstance(reference, str) or not reference:
        return False
    known = [resource.id, resource.state.get("selfLink"), resource.state.get("name")]
    return any(isinstance(k, str) and k and (reference == k or reference.endswith("/" + k)) for k in known)


def certificates_are_authorized(rendering: Rendering, _: Context) -> Iterable[tuple[str, str]]:
    authorizations = rendering.of_type(GCP_DNS_AUTHORIZATION)
    for certificate in rendering.of_type(GCP_CERTIFICATE):
        managed = certificate.inputs.get("managed") or {}
        references = managed.get("dnsAuthorizations") or []
        if not references:
            continue
        used = [a for a in authorizations if any(_refers_to(ref, a) for ref in references)]
        covered = {d for a in used for d in (a.inputs.get("domain"), f"*.{a.inputs.get('domain')}")}
        for domain in managed.get("domains") or []:
            if domain not in covered:
                yield (f"{GCP_CERTIFICATE} {certificate.name}",
                       f"domain {domain!r} is covered by none of its DNS authorizations "
                       f"({', '.join(sorted(a.inputs.get('domain') for a in used)) or 'none in this stack'})")


def authorization_records_are_dns_only(rendering: Rendering, _: Context) -> Iterable[tuple[str, str]]:
    records = rendering.of_type(DNS)
    for authorization in rendering.of_type(GCP_DNS_AUTHORIZATION):
        for wanted in authorization.state.get("dnsResourceRecords") or []:
            name, type_, data = (str(wanted.get(k) or "").rstrip(".") for k in ("name", "type", "data"))
            found = [r for r in records if r.inputs.get("name") == name and r.inputs.get("type") == type_]
            subject = f"{GCP_DNS_AUTHORIZATION} {authorization.name}"
            if not found:
                yield subject, f"its {type_} record {name!r} is not in the zone: the certificate is never issued"
            for record in found:
                if record.inputs.get("content") != data:
                    yield subject, f"the zone's {name!r} record holds {record.inputs.get('content')!r}, not {data!r}"
                if record.inputs.get("proxied"):
                    yield subject, f"the zone's {name!r} record is proxied: Google would see Cloudflare's answer"


def forwarding_rules_do_not_overlap(rendering: Rendering, _: Context) -> Iterable[tuple[str, str]]:
    taken: dict[tuple[Any, Any, str], str] = {}
    for rule in rendering.of_type(GCP_FORWARDING_RULE):
        key = (rule.inputs.get("ipAddress"), rule.inputs.get("ipProtocol", "TCP"), str(rule.inputs.get("portRange")))
        if key[0] is None:
            continue  # an ephemeral address of its own
        if key in taken:
            yield f"{GCP_FORWARDING_RULE} {rule.name}", f"same address, protocol and ports as {taken[key]}"
        taken[key] = rule.name


def https_redirect_only_behind_http_proxies(rendering: Rendering, _: Context) -> Iterable[tuple[str, str]]:
    for url_map in rendering.of_type(GCP_URL_MAP_TYPE):
        if not (url_map.inputs.get("defaultUrlRedirect") or {}).get("httpsRedirect"):
            continue
        for proxy in rendering.of_type(GCP_HTTPS_PROXY_TYPE):
            if _refers_to(proxy.inputs.get("urlMap"), url_map):
                yield (f"{GCP_URL_MAP_TYPE} {url_map.name}",
                       f"httpsRedirect is set but the HTTPS proxy {proxy.name} uses this URL map")


def one_load_balancing_scheme(rendering: Rendering, _: Context) -> Iterable[tuple[str, str]]:
    parts = [*rendering.of_type(GCP_BACKEND_SERVICE), *rendering.of_type(GCP_FORWARDING_RULE)]
    schemes = {r.inputs.get("loadBalancingScheme") for r in parts if r.inputs.get("loadBalancingScheme")}
    if len(schemes) > 1:
        yield "the load balancer", f"its backend services and forwarding rules mix schemes {', '.join(sorted(schemes))}"


def serverless_backends_have_no_health_checks(rendering: Rendering, _: Context) -> Iterable[tuple[str, str]]:
    serverless = [n for n in rendering.of_type(GCP_NEG_TYPE)
                  if n.inputs.get("networkEndpointType", "SERVERLESS") == "SERVERLESS"]
    for service in rendering.of_type(GCP_BACKEND_SERVICE):
        groups = [b.get("group") for b in service.inputs.get("backends") or []]
        if service.inputs.get("healthChecks") and any(_refers_to(g, n) for g in groups for n in serverless):
            yield (f"{GCP_BACKEND_SERVICE} {service.name}",
                   "a backend service with a serverless NEG takes no health check")


GCP_STACK_RULES: tuple[StackRule, ...] = (
    StackRule("each managed domain is covered by one of its certificate's DNS authorizations",
              certificates_are_authorized, GCP_DNS_AUTH),
    StackRule("each DNS authorization's record is in the zone, DNS only", authorization_records_are_dns_only,
              GCP_DNS_AUTH),
    StackRule("no two forwarding rules share address, protocol and ports", forwarding_rules_do_not_overlap,
              GCP_FORWARDING),
    StackRule("httpsRedirect only in URL maps of plain-HTTP proxies", https_redirect_only_behind_http_proxies,
              GCP_URL_MAP),
    StackRule("one load-balancing scheme across the load balancer", one_load_balancing_scheme, GCP_BACKEND),
    StackRule("no health check on a serverless NEG's backend service", serverless_backends_have_no_health_checks,
              GCP_BACKEND),
)



def fallback_origin_is_a_proxied_record(rendering: Rendering, _: Context) -> Iterable[tuple[str, str]]:
    proxied = {r.inputs.get("name") for r in rendering.of_type(DNS) if r.inputs.get("proxied")}
    for origin in rendering.of_type(FALLBACK):
        if origin.inputs.get("origin") not in proxied:
            yield (f"{FALLBACK} {origin.name}",
                   f"origin {origin.inputs.get('origin')!r} is not a proxied record this stack declares")


STACK_RULES: tuple[StackRule, ...] = (
    StackRule("the fallback origin is a proxied record of the zone", fallback_origin_is_a_proxied_record,
              CF_FALLBACK),
    *GCP_STACK_RULES,
)
RESOURCE_RULES += GCP_RESOURCE_RULES



def _dynamic_inputs() -> dict[type, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Per dynamic provider class: (the string inputs its provider reads, the outputs declared as None)."""
    from infra.components import origin_pulls_off, shared_transform_rule

    return {
        fallback_origin_waiter.FallbackOriginWaiterProvider: (fallback_origin_waiter.INPUTS, ()),
        shared_transform_rule.SharedTransformRuleProvider: (shared_transform_rule.INPUTS, ("ruleset_id", "rule_id")),
        origin_pulls_off.OriginPullsOffProvider: (("zone_id",), ()),
    }


def dynamic_resource_inputs(resource: DeclaredResource) -> Iterable[tuple[str, str]]:
    """A dynamic resource's inputs against what its provider reads (the provider is named by its pickle)."""
    import base64

    import dill

    pickled = resource.inputs.get(fallback_origin_waiter.PROVIDER_KEY)
    if not isinstance(pickled, str) or not pickled:
        yield fallback_origin_waiter.PROVIDER_KEY, "the pickled provider is missing"
        return
    try:
        provider = type(dill.loads(base64.b64decode(pickled)))
    except Exception:  # noqa: BLE001 (anything that is not a pickle of ours)
        yield fallback_origin_waiter.PROVIDER_KEY, "not a pickled provider"
        return
    known = _dynamic_inputs()
    if provider not in known:
        yield fallback_origin_waiter.PROVIDER_KEY, f"a provider this table does not know: {provider.__qualname__}"
        return
    required, outputs = known[provider]
    for key in sorted(set(resource.inputs) - {fallback_origin_waiter.PROVIDER_KEY, *required, *outputs}):
        yield key, f"unknown property ({provider.__qualname__} does not read it)"
    for key in sorted(required):
        value = resource.inputs.get(key)
        if not isinstance(value, str) or not value:
            yield key, f"required string input is missing or not a string: {value!r}"
    for key in outputs:
        if resource.inputs.get(key) is not None:
            yield key, "an output of the provider, declared with a value"


# Resources served by this project's own dynamic providers: no provider schema exists, so each
# declares what its provider accepts (resource → (path, problem) pairs).
OWN_PROVIDER_RESOURCES: dict[str, Callable[[DeclaredResource], Iterable[tuple[str, str]]]] = {
    DYNAMIC_RESOURCE: dynamic_resource_inputs,
}
